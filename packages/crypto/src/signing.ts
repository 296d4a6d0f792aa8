/**
 * Ed25519 (RFC 8032) signatures over canonical byte strings, from noble's audited curves, or
 * `node:crypto` where the runtime has it (native.ts). Signatures are deterministic, so both paths
 * give the same bytes. Verification is strict (`zip215: false` in noble): non-canonical
 * encodings and malleable signatures are refused, so one message has one valid signature per
 * key (SUF-CMA). On the native path the public key first passes noble's strict decoding and
 * small-order check (cached per key), and a signature OpenSSL refuses is checked again by noble,
 * so both paths give noble's verdict on every input (native.test.ts).
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { randomBytes } from "./bytes";
import { nativeNodeCrypto, nodeEd25519PrivateKey, nodeEd25519PublicKey, nodeRawPublicKey, type NodeKeyObject } from "./native";

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
  const node = nativeNodeCrypto();
  if (node === undefined) return ed25519.getPublicKey(secretKey);
  return nodeRawPublicKey(node, nodeEd25519PrivateKey(node, secretKey));
}

/**
 * node:crypto key objects of seeds that signed, keyed by the seed array itself: a device signs
 * every share of a rotation with one seed. Weak, so an identity's entry goes with it; a destroyed
 * identity drops its entry at once ({@link forgetSigningKey}).
 */
const nativeSigningKeys = new WeakMap<Uint8Array, NodeKeyObject>();

/** Drops the native key object cached for `secretKey` (called when an identity is destroyed). */
export function forgetSigningKey(secretKey: Uint8Array): void {
  nativeSigningKeys.delete(secretKey);
}

/** Signs `message` (RFC 8032 §5.1.6; deterministic). */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  const node = nativeNodeCrypto();
  if (node === undefined) return ed25519.sign(message, secretKey);
  let key = nativeSigningKeys.get(secretKey);
  if (key === undefined) {
    key = nodeEd25519PrivateKey(node, secretKey);
    nativeSigningKeys.set(secretKey, key);
  }
  const signature = node.sign(null, message, key);
  return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
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
    const node = nativeNodeCrypto();
    if (node === undefined) return ed25519.verify(signature, message, publicKey, { zip215: false });
    if (!isStrictPublicKey(publicKey)) return false;
    // OpenSSL checks the cofactorless equation, noble the cofactored one (SPEC.md §7.4). Every
    // signature OpenSSL accepts, noble accepts; a few crafted ones (a small-order component in
    // R) only noble accepts. A native "no" is rare outside attacks, so noble decides it.
    return (
      node.verify(null, message, nodeEd25519PublicKey(node, publicKey), signature) ||
      ed25519.verify(signature, message, publicKey, { zip215: false })
    );
  } catch {
    return false;
  }
}

/** Public keys that passed {@link isStrictPublicKey}, as hex; bounded, oldest out first. */
const strictPublicKeys = new Set<string>();
const STRICT_PUBLIC_KEY_CACHE_SIZE = 10_000;

/** noble's strict decoding (canonical y, on the curve) and no small-order point. */
function isStrictPublicKey(publicKey: Uint8Array): boolean {
  let id = "";
  for (let i = 0; i < publicKey.length; i++) id += (publicKey[i]! | 0x100).toString(16).slice(1);
  if (strictPublicKeys.has(id)) return true;
  let valid: boolean;
  try {
    valid = !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    valid = false;
  }
  if (!valid) return false;
  if (strictPublicKeys.size >= STRICT_PUBLIC_KEY_CACHE_SIZE) strictPublicKeys.delete(strictPublicKeys.values().next().value!);
  strictPublicKeys.add(id);
  return true;
}
