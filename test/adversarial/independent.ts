/**
 * Cryptography the suites need from outside the SDK, on node:crypto (OpenSSL) only: Ed25519
 * signing to re-sign a mutated object (so the mutation reaches the steps after the signature
 * check), X25519 and Ed25519 public keys to predict a device bundle, and an RFC 9180 base-mode
 * seal to put malformed payloads into backup chunks (the SDK refuses to seal those).
 */
import { createHmac, createCipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { deviceBundleSignatureInput, type DeviceBundle, type DeviceIdentityStateV1 } from "@domvia/e2ee-envelope";

// DER prefixes of PKCS #8 private keys and SPKI public keys for the raw 32-byte keys (RFC 8410).
const ED25519_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");

function privateKey(prefix: Buffer, secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([prefix, secret]), format: "der", type: "pkcs8" });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32));
}

/** RFC 8032 Ed25519 signature with a 32-byte seed. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey(ED25519_PKCS8, seed)));
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return rawPublicKey(privateKey(ED25519_PKCS8, seed));
}

/** RFC 7748 X25519 public key of a (clamped at use) secret. */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  return rawPublicKey(privateKey(X25519_PKCS8, secret));
}

export function fromBase64url(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64url"));
}

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** The bundle SPEC.md §9.3 says a device identity state gives, computed with OpenSSL. */
export function bundleOfState(state: DeviceIdentityStateV1): DeviceBundle {
  const agreementKey = x25519PublicKey(fromBase64url(state.agreementSecretKey));
  const seed = fromBase64url(state.signingSecretKey);
  const signingKey = ed25519PublicKey(seed);
  const signature = ed25519Sign(seed, deviceBundleSignatureInput(state.userId, state.deviceId, agreementKey, signingKey));
  return {
    v: 1,
    type: "device-bundle",
    userId: state.userId,
    deviceId: state.deviceId,
    agreementKey: toBase64url(agreementKey),
    signingKey: toBase64url(signingKey),
    signature: toBase64url(signature),
  };
}

// RFC 9180 base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM (SPEC.md §10.2).
const KEM_SUITE = Buffer.concat([Buffer.from("KEM"), Buffer.from([0x00, 0x20])]);
const HPKE_SUITE = Buffer.concat([Buffer.from("HPKE"), Buffer.from([0x00, 0x20, 0x00, 0x01, 0x00, 0x02])]);
const LABEL = Buffer.from("HPKE-v1");

function labeledExtract(suite: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return createHmac("sha256", salt).update(Buffer.concat([LABEL, suite, Buffer.from(label), ikm])).digest();
}

/** HKDF-Expand for at most one block (L ≤ 32), which is all HPKE's X25519 suite needs. */
function labeledExpand(suite: Buffer, prk: Uint8Array, label: string, info: Uint8Array, length: number): Buffer {
  const labeledInfo = Buffer.concat([Buffer.from([length >> 8, length & 0xff]), LABEL, suite, Buffer.from(label), info]);
  return createHmac("sha256", prk).update(Buffer.concat([labeledInfo, Buffer.from([1])])).digest().subarray(0, length);
}

/** RFC 9180 SealBase(pkR, info, aad = "", plaintext) with a fresh ephemeral key. */
export function hpkeSealBase(recipientPublicKey: Uint8Array, info: Uint8Array, plaintext: Uint8Array): { enc: Uint8Array; ciphertext: Uint8Array } {
  const ephemeral = generateKeyPairSync("x25519");
  const enc = rawPublicKey(ephemeral.privateKey);
  const recipient = createPublicKey({ key: Buffer.concat([X25519_SPKI, recipientPublicKey]), format: "der", type: "spki" });
  const dh = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const empty = new Uint8Array(0);
  const eaePrk = labeledExtract(KEM_SUITE, empty, "eae_prk", dh);
  const sharedSecret = labeledExpand(KEM_SUITE, eaePrk, "shared_secret", Buffer.concat([enc, recipientPublicKey]), 32);
  const context = Buffer.concat([
    Buffer.from([0x00]),
    labeledExtract(HPKE_SUITE, empty, "psk_id_hash", empty),
    labeledExtract(HPKE_SUITE, empty, "info_hash", info),
  ]);
  const secret = labeledExtract(HPKE_SUITE, sharedSecret, "secret", empty);
  const key = labeledExpand(HPKE_SUITE, secret, "key", context, 32);
  const nonce = labeledExpand(HPKE_SUITE, secret, "base_nonce", context, 12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { enc, ciphertext: new Uint8Array(ciphertext) };
}
