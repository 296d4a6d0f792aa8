/**
 * Ed25519 (RFC 8032) signatures over canonical byte strings, from noble's audited curves, or
 * `node:crypto` where the runtime has it (native.ts). Signatures are deterministic, so both paths
 * give the same bytes. Verification is strict (`zip215: false` in noble): non-canonical
 * encodings and malleable signatures are refused, so one message has one valid signature per
 * key (SUF-CMA). On the native path the public key must first have a canonical y and not be of
 * small order ({@link isStrictPublicKey}); OpenSSL then decodes it while verifying, and a
 * signature OpenSSL refuses is checked again by noble, so both paths give noble's verdict on every
 * input (native.test.ts).
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { isBelowFieldPrime, randomBytes } from "./bytes";
import {
  WEB_ED25519,
  cachedImport,
  nativeCurves,
  nativeNodeCrypto,
  nodeEd25519PrivateKey,
  nodeEd25519PublicKey,
  nodeRawPublicKey,
  webEd25519PrivateKey,
  webEd25519PublicKey,
  type NodeKeyObject,
} from "./native";

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

/** WebCrypto signing keys (not extractable), as {@link nativeSigningKeys}; a failed import is not kept. */
const webSigningKeys = new WeakMap<Uint8Array, Promise<unknown>>();

/** Drops the native key objects cached for `secretKey` (called when an identity is destroyed). */
export function forgetSigningKey(secretKey: Uint8Array): void {
  nativeSigningKeys.delete(secretKey);
  webSigningKeys.delete(secretKey);
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
 * {@link sign} on WebCrypto's Ed25519 where `node:crypto` is absent and WebCrypto passed its
 * self-test; the synchronous call otherwise (also when WebCrypto refuses). The same bytes either
 * way (RFC 8032 signatures are deterministic).
 */
export async function signAsync(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const curves = await nativeCurves();
  if (curves === undefined) return sign(secretKey, message);
  const key = cachedImport(webSigningKeys, secretKey, () => webEd25519PrivateKey(curves, secretKey));
  try {
    return new Uint8Array(await curves.sign(WEB_ED25519, await key, message));
  } catch {
    return sign(secretKey, message); // WebCrypto refused a key noble signs with: noble's signature
  }
}

/**
 * {@link verify} on WebCrypto's Ed25519 where `node:crypto` is absent and WebCrypto passed its
 * self-test. WebCrypto only sees canonical input (a strict key, an R with a canonical encoding,
 * S < L), on which any RFC 8032 verifier's "yes", cofactored or not, is also noble's; noble
 * decides a WebCrypto "no" and everything else. Never rejects.
 */
export async function verifyAsync(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || !(message instanceof Uint8Array)) return false;
  if (signature.length !== SIGNATURE_BYTES || !isStrictPublicKey(publicKey)) return false;
  const curves = isCanonicalSignature(signature) ? await nativeCurves() : undefined;
  if (curves === undefined) return verify(signature, message, publicKey);
  try {
    if (await curves.verify(WEB_ED25519, await webEd25519PublicKey(curves, publicKey), signature, message)) return true;
  } catch {
    // A key WebCrypto cannot decode: noble's verdict below.
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
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

/** The two encodings of a point with x = 0 whose sign bit is set: (0, 1) and (0, −1), never canonical. */
const ZERO_X_WITH_SIGN_BIT = [
  "0100000000000000000000000000000000000000000000000000000000000080",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
] as const;

/**
 * The encodings of the eight points of small order (the 8-torsion subgroup), plus the two
 * encodings of its points with x = 0 whose sign bit is set (non-canonical): every encoding of a
 * small-order point that has a canonical y. signing.test.ts checks this list against noble.
 */
const SMALL_ORDER_ENCODINGS: ReadonlySet<string> = new Set([
  "0100000000000000000000000000000000000000000000000000000000000000", // (0, 1): the neutral point
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // (0, −1): order 2
  "0000000000000000000000000000000000000000000000000000000000000000", // (±√−1, 0): order 4
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  ...ZERO_X_WITH_SIGN_BIT,
]);

/** L, the order of the base point (RFC 8032 §5.1), little-endian. */
const GROUP_ORDER = [
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
] as const;

/**
 * @internal A signature whose encodings strict verification accepts: R with a canonical y, and not
 * one of the two encodings of a point with x = 0 and the sign bit set; S < L. Byte comparisons.
 */
export function isCanonicalSignature(signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || !isBelowFieldPrime(signature)) return false;
  if ((ZERO_X_WITH_SIGN_BIT as readonly string[]).includes(hex32(signature))) return false;
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    if (s !== GROUP_ORDER[i]) return s < GROUP_ORDER[i]!;
  }
  return false; // S = L
}

/**
 * @internal On the native path, the part of noble's strict key decoding OpenSSL does not do: the
 * encoded y is canonical (below p = 2^255 − 19) and the key is not a point of small order. That
 * the key is a point at all, OpenSSL checks when it verifies (and a refusal goes to noble). Byte
 * comparisons only: noble's point decompression, a square root, cost more than the verification.
 * native.test.ts checks that this gives noble's verdict on every key noble can decode.
 */
export function isStrictPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || !isBelowFieldPrime(publicKey)) return false;
  return !SMALL_ORDER_ENCODINGS.has(hex32(publicKey));
}

/** The first 32 bytes as lowercase hex (a point's encoding, as the lists above write it). */
function hex32(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < 32; i++) hex += (bytes[i]! | 0x100).toString(16).slice(1);
  return hex;
}
