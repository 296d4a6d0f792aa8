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
  const unpadded = message.length + 1;
  const padded = new Uint8Array(mode === "padme" ? padmeLength(unpadded) : unpadded);
  padded.set(message);
  padded[message.length] = 0x80;
  return padded;
}

/** The message inside a padded buffer (a view), or `undefined` when the padding is malformed. */
export function unpad(padded: Uint8Array): Uint8Array | undefined {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined;
}
