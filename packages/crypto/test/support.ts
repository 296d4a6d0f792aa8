/**
 * Helpers shared by the crypto package's tests: typed-failure capture and canonical base64url
 * mutations. Not shipped (outside `src/`).
 */
import { E2eeError } from "@domvia/e2ee-envelope";

/** The base64url alphabet, in value order. */
export const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Empty bytes, e.g. HPKE additional data. */
export const EMPTY = new Uint8Array(0);

/** Throws unless `run` throws an E2eeError; returns it. Fails with the data if it returns. */
export function catchE2eeError(run: () => unknown): E2eeError {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    if (E2eeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`expected an E2eeError, got a result: ${String(result)}`);
}

/** `text` with the character at `index` replaced. */
export function replaceAt(text: string, index: number, replacement: string): string {
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

/**
 * Another alphabet character at `index` of unpadded base64url `text`; for the last character the
 * step keeps its unused low bits zero, so the result is still canonical and only the bytes change.
 */
export function changedAt(text: string, index: number): string {
  const byteLength = Math.floor((text.length * 3) / 4);
  const lastStep = { 0: 1, 1: 16, 2: 4 }[byteLength % 3] ?? 1;
  const step = index === text.length - 1 ? lastStep : 1;
  return replaceAt(text, index, ALPHABET[(ALPHABET.indexOf(text.charAt(index)) + step) % 64]!);
}
