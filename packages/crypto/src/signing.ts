/**
 * Ed25519 (RFC 8032) signatures over canonical byte strings, from noble's audited curves.
 * Verification is strict (`zip215: false`): non-canonical encodings and malleable signatures are
 * refused, so one message has one valid signature per key (SUF-CMA).
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { randomBytes } from "./bytes";

/** Ed25519 secret key (seed) size. */
export const SIGNING_SECRET_KEY_BYTES = 32;
/** Ed25519 signature size. */
export const SIGNATURE_BYTES = 64;

/** A fresh Ed25519 seed from the platform CSPRNG. */
export function generateSigningSecretKey(): Uint8Array {
  return randomBytes(SIGNING_SECRET_KEY_BYTES);
}

/** The public key of an Ed25519 seed. */
export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/** Signs `message` (RFC 8032 §5.1.6; deterministic). */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/**
 * `true` only for a valid signature by `publicKey` over `message` under noble's strict RFC 8032
 * §5.1.7 mode (`zip215: false`): canonical encodings of `R`, `S` and the key, `S` < L, and
 * small-order public keys refused (Wycheproof `ed25519_test.json` passes in full). Never throws
 * for malformed input: a wrong length, a non-byte argument or an invalid point is `false`.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || !(message instanceof Uint8Array)) return false;
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
