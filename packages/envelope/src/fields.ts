/**
 * Field rules shared by every wire object: identifiers and unpadded base64url.
 * SPEC.md §2 is the normative text.
 *
 * @module
 */
import { ENVELOPE_LIMITS } from "./limits";

/**
 * Identifiers (room, message, key id) are 1 to 128 characters of `A–Z a–z 0–9 . _ : @ -`.
 * ASCII only, so an identifier's bytes are its characters and need no Unicode normalisation.
 */
export const ID_PATTERN: RegExp = /^[A-Za-z0-9._:@-]{1,128}$/;

/** `true` when `value` is a valid identifier (see {@link ID_PATTERN}). */
export function isValidId(value: unknown): value is string {
  return typeof value === "string" && value.length <= ENVELOPE_LIMITS.maxIdLength && ID_PATTERN.test(value);
}

/**
 * Throws a `TypeError` naming the argument when `value` is not a valid identifier. For
 * arguments a program passes (a caller bug), not for network input.
 *
 * @throws TypeError when `value` is not 1–128 characters of `A–Z a–z 0–9 . _ : @ -`.
 */
export function assertId(value: unknown, name: string): asserts value is string {
  if (!isValidId(value)) {
    const shown = typeof value === "string" ? `a string of length ${value.length}` : typeof value;
    throw new TypeError(`"${name}" expected 1-128 characters of A-Z a-z 0-9 . _ : @ -, got ${shown}`);
  }
}

/**
 * Throws a `TypeError` when `value` is not a key version: an integer from 1 to 2^31 − 1.
 *
 * @throws TypeError when `value` is not an integer from 1 to 2147483647.
 */
export function assertKeyVersion(value: unknown, name = "keyVersion"): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > ENVELOPE_LIMITS.maxKeyVersion) {
    throw new TypeError(`"${name}" expected an integer from 1 to 2147483647, got ${String(value)}`);
  }
}

// Searching for one character outside the alphabet is about a third faster in V8 than matching
// the whole text against the alphabet, which matters for a 64 KiB ciphertext.
const NOT_BASE64URL = /[^A-Za-z0-9_-]/;
const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * `true` when `value` is canonical unpadded base64url (RFC 4648 §5, no `=`): only alphabet
 * characters, a length that is not 1 modulo 4, and zero bits in the unused low bits of the last
 * character. Exactly one string encodes each byte sequence, so two encodings of one envelope
 * cannot exist.
 */
export function isCanonicalBase64url(value: string): boolean {
  const remainder = value.length % 4;
  if (remainder === 1 || NOT_BASE64URL.test(value)) return false;
  if (remainder === 0) return true;
  const last = BASE64URL_ALPHABET.indexOf(value.charAt(value.length - 1));
  // 2 leftover characters carry 1 byte (4 unused bits); 3 carry 2 bytes (2 unused bits).
  return remainder === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/** `true` for canonical unpadded base64url text of `minChars` to `maxChars` characters. */
export function isBase64urlText(value: unknown, minChars: number, maxChars: number): value is string {
  return typeof value === "string" && value.length >= minChars && value.length <= maxChars && isCanonicalBase64url(value);
}
