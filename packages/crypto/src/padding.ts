/**
 * Length-hiding padding inside the AEAD (SPEC.md §5.2).
 *
 * `padded = message || 0x80 || 0x00 * k` (ISO/IEC 7816-4 bit padding), where the total length
 * is the Padmé length of `len(message) + 1` by default, or exactly `len(message) + 1` with
 * padding `"none"`. The receiver strips it the same way whatever the sender chose, so padding
 * policy can change without a format change.
 *
 * @module
 */
import { padmeLength } from "@domvia/e2ee-envelope";

/** How much a sender pads: `"padme"` (default) hides all but O(log log n) bits of the length. */
export type PaddingMode = "padme" | "none";

/** Copies `message` into a new padded buffer. */
export function pad(message: Uint8Array, mode: PaddingMode): Uint8Array {
  const padded = new Uint8Array(paddedLength(message.length, mode));
  padded.set(message);
  padded[message.length] = 0x80;
  return padded;
}

const utf8Encoder = new TextEncoder();

/**
 * The UTF-8 bytes of `text`, padded: {@link pad} of its encoding, without the intermediate copy
 * when the text is ASCII (most chat JSON). Returns `undefined` when the encoding is longer than
 * `maxBytes`; nothing unpadded is left behind.
 */
export function padText(text: string, mode: PaddingMode, maxBytes: number): Uint8Array | undefined {
  if (text.length > maxBytes) return undefined; // a UTF-16 code unit is at least one UTF-8 byte
  const padded = new Uint8Array(paddedLength(text.length, mode));
  const { read, written } = utf8Encoder.encodeInto(text, padded);
  if (read === text.length && written === text.length) {
    padded[written] = 0x80;
    return padded;
  }
  // Not ASCII: the encoding is longer than the text, so the padded length is another one.
  padded.fill(0);
  const message = utf8Encoder.encode(text);
  const result = message.length > maxBytes ? undefined : pad(message, mode);
  message.fill(0);
  return result;
}

function paddedLength(messageLength: number, mode: PaddingMode): number {
  return mode === "padme" ? padmeLength(messageLength + 1) : messageLength + 1;
}

/** The message inside a padded buffer (a view), or `undefined` when the padding is malformed. */
export function unpad(padded: Uint8Array): Uint8Array | undefined {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined;
}
