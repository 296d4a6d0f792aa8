/**
 * HPKE (RFC 9180, https://www.rfc-editor.org/rfc/rfc9180) base mode, single-shot, for one suite
 * family, composed from noble's audited primitives so it runs without WebCrypto (React Native):
 *
 * | part | RFC 9180 id | primitive |
 * | --- | --- | --- |
 * | KEM  | 0x0020 DHKEM(X25519, HKDF-SHA256) | `x25519` from `@noble/curves/ed25519.js` |
 * | KDF  | 0x0001 HKDF-SHA256 | `extract` / `expand` from `@noble/hashes/hkdf.js`, `sha256` |
 * | AEAD | 0x0002 AES-256-GCM (default), 0x0001 AES-128-GCM | `gcm` from `@noble/ciphers/aes.js` |
 *
 * AES-128-GCM exists only so the RFC's Appendix A.1 vectors can be checked; the SDK seals with
 * AES-256-GCM. Nothing here is a primitive of its own: this module only wires RFC 9180 §4, §5
 * and §6 together. Not exported from the package entry; room-key sharing wraps it.
 *
 * Single-shot base mode (§6.1):
 *
 * ```
 * Seal(pkR, info, aad, pt):  enc, ctx = SetupBaseS(pkR, info); ct = ctx.Seal(aad, pt)
 * Open(enc, skR, info, aad, ct): ctx = SetupBaseR(enc, skR, info); pt = ctx.Open(aad, ct)
 * ```
 *
 * Each context seals exactly one message, so the sequence number is always 0 and the AEAD nonce
 * is `base_nonce` itself (§5.2). The sender's ephemeral key is fresh per call, so `key` and
 * `base_nonce` are never reused.
 *
 * Errors: caller bugs (a non-`Uint8Array`, a wrong length, an unknown AEAD name) throw
 * `TypeError` / `RangeError` whose message names the parameter and the length, never the bytes.
 * Failures that data can cause throw {@link HpkeError} with a fixed message per `reason`:
 * `INVALID_PUBLIC_KEY` (RFC 9180 §7.1.4 ValidationError: a low-order X25519 point, i.e. an
 * all-zero DH output) and `OPEN_FAILED` (§8.2 OpenError: wrong key, tampered input).
 *
 * Limits: RFC 9180 §7.2.1 bounds `info` and `exporter_context` near 2^61 bytes, far beyond any
 * `Uint8Array`, so they are not checked here; §7.2.1 RECOMMENDS at most 64 bytes for
 * interoperability. AES-GCM's per-message limit (2^36 − 31 bytes) is likewise out of reach.
 *
 * @module
 */
import { gcm } from "@noble/ciphers/aes.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { randomBytes } from "./bytes";
import { nativeNodeCrypto, nodeAesGcmOpen, nodeAesGcmSeal, nodeHmacSha256 } from "./native";
import { x25519Exchange, x25519ExchangeAsync, x25519PublicKey, x25519SharedSecret } from "./x25519";
import { describeValue } from "./room-key";

/** The AEADs this module speaks (RFC 9180 §7.3). `"aes-256-gcm"` is the SDK's choice. */
export type HpkeAead = "aes-256-gcm" | "aes-128-gcm";

/** The AEAD used when none is named. */
export const HPKE_DEFAULT_AEAD: HpkeAead = "aes-256-gcm";

/** Npk and Nsk of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1): X25519 keys are 32 bytes. */
export const X25519_KEY_BYTES = 32;

/** Nenc of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1): `enc` is the ephemeral public key. */
export const HPKE_ENC_BYTES = 32;

/** Nt of AES-GCM (RFC 9180 §7.3): a ciphertext is the plaintext length plus 16 bytes. */
export const HPKE_TAG_BYTES = 16;

/** Why an {@link HpkeError} was thrown. */
export type HpkeErrorReason =
  /** RFC 9180 §7.1.4 ValidationError: an X25519 public key of low order (all-zero DH output). */
  | "INVALID_PUBLIC_KEY"
  /** RFC 9180 §8.2 OpenError: authentication failed (wrong key, wrong info or aad, tampering). */
  | "OPEN_FAILED";

const HPKE_ERROR_MESSAGES: Readonly<Record<HpkeErrorReason, string>> = Object.freeze({
  INVALID_PUBLIC_KEY: "hpke: invalid X25519 public key (low order, all-zero shared secret)",
  OPEN_FAILED: "hpke: open failed",
});

/**
 * A failure that input data (not a programming mistake) can cause. The message is fixed per
 * `reason` and never holds key bytes, plaintext or a hint of which check failed inside the AEAD.
 * Internal: the room-key layer maps it to an `E2eeError` code.
 */
export class HpkeError extends Error {
  /** Which check failed. */
  readonly reason: HpkeErrorReason;

  /** @param reason - The failed check; selects the fixed message. */
  constructor(reason: HpkeErrorReason) {
    super(HPKE_ERROR_MESSAGES[reason]);
    this.reason = reason;
    this.name = "HpkeError";
  }
}

/** An X25519 key pair in RFC 9180 serialized form (§7.1.1, §7.1.2): 32 bytes each. */
export interface X25519KeyPair {
  /** skXm: the private key. Secret: the owner wipes it (`fill(0)`) when done. */
  readonly secretKey: Uint8Array;
  /** pkXm: the public key. */
  readonly publicKey: Uint8Array;
}

/** What {@link hpkeSeal} needs. */
export interface HpkeSealInput {
  /** pkR: the recipient's X25519 public key, 32 bytes. */
  readonly recipientPublicKey: Uint8Array;
  /** Setup `info`, bound into the key schedule (§5.1); both sides must pass the same bytes. */
  readonly info: Uint8Array;
  /** The AEAD's additional data (§5.2); both sides must pass the same bytes. */
  readonly aad: Uint8Array;
  /** The message. */
  readonly plaintext: Uint8Array;
  /** Default {@link HPKE_DEFAULT_AEAD}. */
  readonly aead?: HpkeAead | undefined;
  /**
   * TESTING ONLY (RFC 9180 Appendix A vectors and interop tests): a fixed ephemeral secret key
   * skE instead of a fresh random one. Reusing an ephemeral key for two messages to the same
   * recipient reuses the AEAD key and nonce and destroys confidentiality. Not wiped.
   */
  readonly ephemeralSecretKey?: Uint8Array | undefined;
}

/** What {@link hpkeSeal} returns; send both. */
export interface HpkeSealed {
  /** The encapsulated key: the ephemeral public key pkE, 32 bytes (§4.1). */
  readonly enc: Uint8Array;
  /** AEAD ciphertext || 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

/** What {@link hpkeOpen} needs. */
export interface HpkeOpenInput {
  /** skR: the recipient's X25519 secret key, 32 bytes. Not wiped. */
  readonly recipientSecretKey: Uint8Array;
  /** pkR, when the caller already holds it; computed from skR otherwise. */
  readonly recipientPublicKey?: Uint8Array | undefined;
  /** `enc` from {@link hpkeSeal}, 32 bytes. */
  readonly enc: Uint8Array;
  /** The same `info` the sender used. */
  readonly info: Uint8Array;
  /** The same `aad` the sender used. */
  readonly aad: Uint8Array;
  /** `ciphertext` from {@link hpkeSeal}. */
  readonly ciphertext: Uint8Array;
  /** Default {@link HPKE_DEFAULT_AEAD}; must match the sender's. */
  readonly aead?: HpkeAead | undefined;
}

/** What {@link hpkeSendExport} needs (RFC 9180 §6.2 SendExport). */
export interface HpkeSendExportInput {
  /** pkR: the recipient's X25519 public key, 32 bytes. */
  readonly recipientPublicKey: Uint8Array;
  /** Setup `info` (§5.1). */
  readonly info: Uint8Array;
  /** `exporter_context` (§5.3). */
  readonly exporterContext: Uint8Array;
  /** L: the secret's length in bytes, 1 to 255 × 32 = 8160 (§5.3, RFC 5869 §2.3). */
  readonly length: number;
  /** Part of the suite id, so it changes the exported secret. Default {@link HPKE_DEFAULT_AEAD}. */
  readonly aead?: HpkeAead | undefined;
  /** TESTING ONLY: see {@link HpkeSealInput.ephemeralSecretKey}. */
  readonly ephemeralSecretKey?: Uint8Array | undefined;
}

/** What {@link hpkeReceiveExport} needs (RFC 9180 §6.2 ReceiveExport). */
export interface HpkeReceiveExportInput {
  /** skR: the recipient's X25519 secret key, 32 bytes. Not wiped. */
  readonly recipientSecretKey: Uint8Array;
  /** `enc` from {@link hpkeSendExport}, 32 bytes. */
  readonly enc: Uint8Array;
  /** The same `info` the sender used. */
  readonly info: Uint8Array;
  /** The same `exporter_context` the sender used. */
  readonly exporterContext: Uint8Array;
  /** L, as the sender used it. */
  readonly length: number;
  /** Default {@link HPKE_DEFAULT_AEAD}; must match the sender's. */
  readonly aead?: HpkeAead | undefined;
}

/**
 * The key schedule's output for one base-mode context (RFC 9180 §5.1). All three are secret;
 * the caller wipes them.
 * @internal Exported for the RFC 9180 Appendix A vector tests.
 */
export interface HpkeBaseContext {
  /** Nk bytes: 16 for AES-128-GCM, 32 for AES-256-GCM. */
  readonly key: Uint8Array;
  /** Nn = 12 bytes. */
  readonly baseNonce: Uint8Array;
  /** Nh = 32 bytes. */
  readonly exporterSecret: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Constants (RFC 9180 §4, §5, §7)
// ---------------------------------------------------------------------------------------------

/** Nh of HKDF-SHA256 (§7.2), also Nsecret of DHKEM(X25519, HKDF-SHA256) (§7.1). */
const HASH_BYTES = 32;
/** Nn of both AES-GCM variants (§7.3). */
const NONCE_BYTES = 12;
/** RFC 5869 §2.3: HKDF-Expand yields at most 255 × HashLen bytes. */
const MAX_EXPORT_BYTES = 255 * HASH_BYTES;

/** AEAD ids and Nk (§7.3). Frozen: a table from the RFC, not a policy. */
const AEADS: Readonly<Record<HpkeAead, { readonly id: number; readonly keyBytes: number }>> = Object.freeze({
  "aes-128-gcm": Object.freeze({ id: 0x0001, keyBytes: 16 }),
  "aes-256-gcm": Object.freeze({ id: 0x0002, keyBytes: 32 }),
});

const KEM_ID = 0x0020; // DHKEM(X25519, HKDF-SHA256), §7.1
const KDF_ID = 0x0001; // HKDF-SHA256, §7.2
const MODE_BASE = 0x00; // §5

const EMPTY = new Uint8Array(0);
const VERSION_LABEL = ascii("HPKE-v1"); // §4: "HPKE-v1"

/** §4.1: suite_id = concat("KEM", I2OSP(kem_id, 2)) for every LabeledExtract/Expand in the KEM. */
const KEM_SUITE_ID = concatBytes(ascii("KEM"), i2osp2(KEM_ID));

/** §5.1: suite_id = concat("HPKE", I2OSP(kem_id, 2), I2OSP(kdf_id, 2), I2OSP(aead_id, 2)). */
const HPKE_SUITE_IDS: Readonly<Record<HpkeAead, Uint8Array>> = Object.freeze({
  "aes-128-gcm": hpkeSuiteId(AEADS["aes-128-gcm"].id),
  "aes-256-gcm": hpkeSuiteId(AEADS["aes-256-gcm"].id),
});

/** Base mode's psk_id_hash per AEAD, once computed (RFC 9180 §5.1 with psk_id = ""). */
const PSK_ID_HASHES: Partial<Record<HpkeAead, Uint8Array>> = {};

const LABEL_EAE_PRK = ascii("eae_prk");
const LABEL_SHARED_SECRET = ascii("shared_secret");
const LABEL_DKP_PRK = ascii("dkp_prk");
const LABEL_SK = ascii("sk");
const LABEL_PSK_ID_HASH = ascii("psk_id_hash");
const LABEL_INFO_HASH = ascii("info_hash");
const LABEL_SECRET = ascii("secret");
const LABEL_KEY = ascii("key");
const LABEL_BASE_NONCE = ascii("base_nonce");
const LABEL_EXP = ascii("exp");
const LABEL_SEC = ascii("sec");

// ---------------------------------------------------------------------------------------------
// Key pairs (RFC 9180 §4 GenerateKeyPair, §7.1.3 DeriveKeyPair)
// ---------------------------------------------------------------------------------------------

/**
 * Generates an X25519 key pair from the platform CSPRNG (RFC 9180 §4 GenerateKeyPair; the 32
 * random bytes are the serialized private key, clamped at use per RFC 7748 §5).
 *
 * @example
 * ```ts
 * const recipient = generateX25519KeyPair();
 * const { enc, ciphertext } = hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext });
 * ```
 * @throws Error when the platform has no `crypto.getRandomValues`.
 */
export function generateX25519KeyPair(): X25519KeyPair {
  const secretKey = randomBytes(X25519_KEY_BYTES);
  return { secretKey, publicKey: x25519PublicKey(secretKey) };
}

/**
 * Derives an X25519 key pair from input keying material (RFC 9180 §7.1.3 DeriveKeyPair):
 *
 * ```
 * dkp_prk = LabeledExtract("", "dkp_prk", ikm)
 * sk      = LabeledExpand(dkp_prk, "sk", "", Nsk)
 * ```
 *
 * The key has only as much entropy as `ikm`; §7.1.3 says ikm SHOULD be at least Nsk = 32 bytes
 * with 32 bytes of entropy, and this function requires at least 32 bytes. `sk` is returned as
 * derived, unclamped, as in the RFC's Appendix A (X25519 clamps at use).
 *
 * @example
 * ```ts
 * const pair = deriveX25519KeyPair(seed32);
 * ```
 * @throws TypeError when `ikm` is not a Uint8Array.
 * @throws RangeError when `ikm` is shorter than 32 bytes.
 */
export function deriveX25519KeyPair(ikm: Uint8Array): X25519KeyPair {
  checkBytes("ikm", ikm);
  if (ikm.length < X25519_KEY_BYTES) {
    throw new RangeError(`"ikm" expected at least ${X25519_KEY_BYTES} bytes, got ${ikm.length}`);
  }
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, LABEL_DKP_PRK, ikm);
  const secretKey = labeledExpand(KEM_SUITE_ID, dkpPrk, LABEL_SK, EMPTY, X25519_KEY_BYTES);
  dkpPrk.fill(0);
  return { secretKey, publicKey: x25519PublicKey(secretKey) };
}

// ---------------------------------------------------------------------------------------------
// Single-shot API (RFC 9180 §6)
// ---------------------------------------------------------------------------------------------

/**
 * Encrypts `plaintext` to the holder of `recipientPublicKey`: RFC 9180 §6.1 Seal in base mode,
 * `enc, ctx = SetupBaseS(pkR, info); ct = ctx.Seal(aad, pt)` with a fresh ephemeral key.
 *
 * @example
 * ```ts
 * const { enc, ciphertext } = hpkeSeal({ recipientPublicKey, info, aad, plaintext });
 * ```
 * @throws HpkeError `INVALID_PUBLIC_KEY` when `recipientPublicKey` is a low-order X25519 point.
 * @throws TypeError when an input is not a Uint8Array or `aead` is unknown.
 * @throws RangeError when `recipientPublicKey` (or `ephemeralSecretKey`) is not 32 bytes.
 * @throws Error when the platform has no `crypto.getRandomValues`.
 */
export function hpkeSeal(input: HpkeSealInput): HpkeSealed {
  const aead = checkSealInput(input);
  return sealOnce(input, aead, encapsulate(input.recipientPublicKey, input.ephemeralSecretKey));
}

/**
 * {@link hpkeSeal} with the X25519 exchange on WebCrypto where `node:crypto` is absent (browsers);
 * the same computation and bytes otherwise. Rejects as `hpkeSeal` throws.
 *
 * @internal For sealRoomKeyShareAsync.
 */
export async function hpkeSealAsync(input: HpkeSealInput): Promise<HpkeSealed> {
  const aead = checkSealInput(input);
  return sealOnce(input, aead, await encapsulateAsync(input.recipientPublicKey, input.ephemeralSecretKey));
}

function checkSealInput(input: HpkeSealInput): HpkeAead {
  const aead = checkAead(input.aead);
  checkBytes("aad", input.aad);
  checkBytes("plaintext", input.plaintext);
  checkBytes("info", input.info);
  return aead;
}

/** §5.1.1 SetupBaseS after Encap, then §5.2 ContextS.Seal once. Wipes the shared secret. */
function sealOnce(input: HpkeSealInput, aead: HpkeAead, encapsulated: { sharedSecret: Uint8Array; enc: Uint8Array }): HpkeSealed {
  const context = keyScheduleBase(encapsulated.sharedSecret, input.info, aead, false);
  encapsulated.sharedSecret.fill(0);
  try {
    // §5.2 ContextS.Seal with seq = 0: nonce = base_nonce XOR I2OSP(0, Nn) = base_nonce.
    const ciphertext = aeadSeal(context.key, computeNonce(context.baseNonce, 0), input.aad, input.plaintext);
    return { enc: encapsulated.enc, ciphertext };
  } finally {
    wipeContext(context);
  }
}

/**
 * Decrypts what {@link hpkeSeal} produced: RFC 9180 §6.1 Open in base mode,
 * `ctx = SetupBaseR(enc, skR, info); pt = ctx.Open(aad, ct)`.
 *
 * `enc` has a fixed length (32 bytes), so a wire parser checks it before calling; a wrong
 * length here is a caller bug.
 *
 * @example
 * ```ts
 * const plaintext = hpkeOpen({ recipientSecretKey, enc, info, aad, ciphertext });
 * ```
 * @throws HpkeError `OPEN_FAILED` when authentication fails (wrong key, other info or aad,
 *   tampered enc or ciphertext, ciphertext shorter than the tag), and `INVALID_PUBLIC_KEY`
 *   when `enc` is a low-order X25519 point. Callers report both as one opaque failure.
 * @throws TypeError when an input is not a Uint8Array or `aead` is unknown.
 * @throws RangeError when `recipientSecretKey` or `enc` is not 32 bytes.
 */
export function hpkeOpen(input: HpkeOpenInput): Uint8Array {
  const aead = checkAead(input.aead);
  checkBytes("aad", input.aad);
  checkBytes("ciphertext", input.ciphertext);
  const context = setupBaseR(input, aead, false);
  try {
    // §5.2 ContextR.Open with seq = 0. Every AEAD failure is one OpenError, no detail.
    return aeadOpen(context.key, computeNonce(context.baseNonce, 0), input.aad, input.ciphertext);
  } catch {
    throw new HpkeError("OPEN_FAILED");
  } finally {
    wipeContext(context);
  }
}

/**
 * Derives a secret shared with the holder of `recipientPublicKey` without encrypting anything:
 * RFC 9180 §6.2 SendExport, `enc, ctx = SetupBaseS(pkR, info); ctx.Export(exporter_context, L)`.
 *
 * @example
 * ```ts
 * const { enc, exportedSecret } = hpkeSendExport({ recipientPublicKey, info, exporterContext, length: 32 });
 * ```
 * @throws HpkeError `INVALID_PUBLIC_KEY` when `recipientPublicKey` is a low-order X25519 point.
 * @throws TypeError when an input is not a Uint8Array or `aead` is unknown.
 * @throws RangeError when a key is not 32 bytes or `length` is not an integer from 1 to 8160.
 */
export function hpkeSendExport(input: HpkeSendExportInput): { enc: Uint8Array; exportedSecret: Uint8Array } {
  const aead = checkAead(input.aead);
  checkBytes("exporterContext", input.exporterContext);
  checkExportLength(input.length);
  const { enc, context } = setupBaseS(input, aead, true);
  try {
    return { enc, exportedSecret: exportSecret(context, aead, input.exporterContext, input.length) };
  } finally {
    wipeContext(context);
  }
}

/**
 * The recipient's side of {@link hpkeSendExport}: RFC 9180 §6.2 ReceiveExport. A wrong key,
 * `info` or `enc` does not fail; it yields an unrelated secret.
 *
 * @example
 * ```ts
 * const exportedSecret = hpkeReceiveExport({ recipientSecretKey, enc, info, exporterContext, length: 32 });
 * ```
 * @throws HpkeError `INVALID_PUBLIC_KEY` when `enc` is a low-order X25519 point.
 * @throws TypeError when an input is not a Uint8Array or `aead` is unknown.
 * @throws RangeError when a key or `enc` is not 32 bytes or `length` is not an integer from 1 to 8160.
 */
export function hpkeReceiveExport(input: HpkeReceiveExportInput): Uint8Array {
  const aead = checkAead(input.aead);
  checkBytes("exporterContext", input.exporterContext);
  checkExportLength(input.length);
  const context = setupBaseR(input, aead, true);
  try {
    return exportSecret(context, aead, input.exporterContext, input.length);
  } finally {
    wipeContext(context);
  }
}

/**
 * §5.1.1 SetupBaseS(pkR, info): `shared_secret, enc = Encap(pkR)`, then the key schedule. The
 * caller wipes the context.
 */
function setupBaseS(
  input: { readonly recipientPublicKey: Uint8Array; readonly info: Uint8Array; readonly ephemeralSecretKey?: Uint8Array | undefined },
  aead: HpkeAead,
  withExporterSecret: boolean,
): { enc: Uint8Array; context: HpkeBaseContext } {
  checkBytes("info", input.info);
  const { sharedSecret, enc } = encapsulate(input.recipientPublicKey, input.ephemeralSecretKey);
  const context = keyScheduleBase(sharedSecret, input.info, aead, withExporterSecret);
  sharedSecret.fill(0);
  return { enc, context };
}

/**
 * §5.1.1 SetupBaseR(enc, skR, info): `shared_secret = Decap(enc, skR)`, then the key schedule.
 * The caller wipes the context.
 */
function setupBaseR(
  input: {
    readonly enc: Uint8Array;
    readonly recipientSecretKey: Uint8Array;
    readonly recipientPublicKey?: Uint8Array | undefined;
    readonly info: Uint8Array;
  },
  aead: HpkeAead,
  withExporterSecret: boolean,
): HpkeBaseContext {
  checkBytes("info", input.info);
  const sharedSecret = decapsulate(input.enc, input.recipientSecretKey, input.recipientPublicKey);
  const context = keyScheduleBase(sharedSecret, input.info, aead, withExporterSecret);
  sharedSecret.fill(0);
  return context;
}

// ---------------------------------------------------------------------------------------------
// DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1)
// ---------------------------------------------------------------------------------------------

/**
 * §4.1 Encap(pkR): a fresh ephemeral pair (skE, pkE), `dh = DH(skE, pkR)`, `enc = pkE`,
 * `shared_secret = ExtractAndExpand(dh, concat(enc, pkRm))`. The caller wipes `sharedSecret`.
 *
 * @internal Exported for the RFC 9180 Appendix A vector tests.
 * @param ephemeralSecretKey - TESTING ONLY: a fixed skE (see {@link HpkeSealInput}).
 * @throws HpkeError `INVALID_PUBLIC_KEY` for a low-order `recipientPublicKey`.
 * @throws TypeError / RangeError when a key is not a 32-byte Uint8Array.
 */
export function encapsulate(
  recipientPublicKey: Uint8Array,
  ephemeralSecretKey?: Uint8Array,
): { sharedSecret: Uint8Array; enc: Uint8Array } {
  const secretKeyE = ephemeralKey(recipientPublicKey, ephemeralSecretKey);
  try {
    // §7.1.4: the sender MUST validate pkR: the exchange refuses low-order points, and
    // encapsulated() any all-zero output. enc = SerializePublicKey(pkE) (§7.1.1: the identity),
    // computed with the DH.
    return encapsulated(refusingLowOrder(() => x25519Exchange(secretKeyE, recipientPublicKey)), recipientPublicKey);
  } finally {
    if (ephemeralSecretKey === undefined) secretKeyE.fill(0);
  }
}

/** {@link encapsulate}, with the exchange on WebCrypto where `node:crypto` is absent. */
async function encapsulateAsync(
  recipientPublicKey: Uint8Array,
  ephemeralSecretKey?: Uint8Array,
): Promise<{ sharedSecret: Uint8Array; enc: Uint8Array }> {
  const secretKeyE = ephemeralKey(recipientPublicKey, ephemeralSecretKey);
  try {
    return encapsulated(await x25519ExchangeAsync(secretKeyE, recipientPublicKey).catch(refuseLowOrder), recipientPublicKey);
  } finally {
    if (ephemeralSecretKey === undefined) secretKeyE.fill(0);
  }
}

/** Checks Encap's keys; skE is the caller's (tests) or §4 GenerateKeyPair's 32 random bytes (RFC 7748 §6.1). */
function ephemeralKey(recipientPublicKey: Uint8Array, ephemeralSecretKey: Uint8Array | undefined): Uint8Array {
  checkKey("recipientPublicKey", recipientPublicKey);
  if (ephemeralSecretKey !== undefined) checkKey("ephemeralSecretKey", ephemeralSecretKey);
  return ephemeralSecretKey ?? randomBytes(X25519_KEY_BYTES);
}

/** The rest of Encap once DH(skE, pkR) is known: the zero check, then ExtractAndExpand. */
function encapsulated(exchange: { shared: Uint8Array; ownPublicKey: Uint8Array }, recipientPublicKey: Uint8Array): { sharedSecret: Uint8Array; enc: Uint8Array } {
  const dhValue = nonZero(exchange.shared);
  const enc = exchange.ownPublicKey;
  const sharedSecret = extractAndExpand(dhValue, concatBytes(enc, recipientPublicKey));
  dhValue.fill(0);
  return { sharedSecret, enc };
}

/**
 * §4.1 Decap(enc, skR): `pkE = enc`, `dh = DH(skR, pkE)`, `pkRm = pk(skR)` (or the caller's cached copy),
 * `shared_secret = ExtractAndExpand(dh, concat(enc, pkRm))`. The caller wipes the result.
 *
 * @internal Exported for the RFC 9180 Appendix A vector tests.
 * @throws HpkeError `INVALID_PUBLIC_KEY` for a low-order `enc`.
 * @throws TypeError / RangeError when `enc` or the key is not a 32-byte Uint8Array.
 */
export function decapsulate(enc: Uint8Array, recipientSecretKey: Uint8Array, recipientPublicKey?: Uint8Array): Uint8Array {
  checkKey("recipientSecretKey", recipientSecretKey);
  checkKey("enc", enc);
  if (recipientPublicKey !== undefined) checkKey("recipientPublicKey", recipientPublicKey);
  // §7.1.4: the recipient MUST validate pkE and MUST abort on an all-zero DH output.
  const dhValue = dh(recipientSecretKey, enc);
  // pkRm: a caller that keeps it (a device identity) saves a scalar multiplication per open. A
  // wrong one only changes kem_context, so the AEAD then fails: it cannot weaken anything.
  const kemContext = concatBytes(enc, recipientPublicKey ?? x25519PublicKey(recipientSecretKey));
  const sharedSecret = extractAndExpand(dhValue, kemContext);
  dhValue.fill(0);
  return sharedSecret;
}

/**
 * X25519 with the checks of RFC 7748 §6.1 and RFC 9180 §7.1.4. noble rejects the low-order
 * u-coordinates (0, 1, p − 1 and the two of order 8, also in non-canonical encodings) before
 * running the ladder; any output that is still all zero is rejected here as well, so the check
 * does not depend on one library's choice.
 */
function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return nonZero(refusingLowOrder(() => x25519SharedSecret(secretKey, publicKey)));
}

/** `run()`, its failure reported as a low-order point: lengths were checked before, so that is the only one left. */
function refusingLowOrder<T>(run: () => T): T {
  try {
    return run();
  } catch {
    return refuseLowOrder();
  }
}

function refuseLowOrder(): never {
  throw new HpkeError("INVALID_PUBLIC_KEY");
}

/** `shared`, unless it is all zero (§7.1.4). */
function nonZero(shared: Uint8Array): Uint8Array {
  let accumulated = 0;
  for (let i = 0; i < shared.length; i++) accumulated |= shared[i]!; // no early exit
  if (accumulated === 0) throw new HpkeError("INVALID_PUBLIC_KEY");
  return shared;
}

/**
 * §4.1 ExtractAndExpand(dh, kem_context):
 * `eae_prk = LabeledExtract("", "eae_prk", dh)`,
 * `shared_secret = LabeledExpand(eae_prk, "shared_secret", kem_context, Nsecret)`.
 */
function extractAndExpand(dhValue: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, LABEL_EAE_PRK, dhValue);
  const sharedSecret = labeledExpand(KEM_SUITE_ID, eaePrk, LABEL_SHARED_SECRET, kemContext, HASH_BYTES);
  eaePrk.fill(0);
  return sharedSecret;
}

// ---------------------------------------------------------------------------------------------
// Key schedule (RFC 9180 §5.1), nonces (§5.2), export (§5.3)
// ---------------------------------------------------------------------------------------------

/**
 * §5.1 KeySchedule for mode_base (psk = psk_id = ""):
 *
 * ```
 * psk_id_hash  = LabeledExtract("", "psk_id_hash", psk_id)
 * info_hash    = LabeledExtract("", "info_hash", info)
 * ks_context   = concat(mode, psk_id_hash, info_hash)
 * secret       = LabeledExtract(shared_secret, "secret", psk)
 * key          = LabeledExpand(secret, "key", ks_context, Nk)
 * base_nonce   = LabeledExpand(secret, "base_nonce", ks_context, Nn)
 * exporter_secret = LabeledExpand(secret, "exp", ks_context, Nh)
 * ```
 *
 * (VerifyPSKInputs of §5.1 holds trivially: base mode, no PSK.) The caller wipes the result.
 *
 * @internal Exported for the RFC 9180 Appendix A vector tests.
 */
export function keyScheduleBase(sharedSecret: Uint8Array, info: Uint8Array, aead: HpkeAead, withExporterSecret = true): HpkeBaseContext {
  const suiteId = HPKE_SUITE_IDS[aead];
  // psk_id_hash of base mode is a constant of the suite (public, not secret): computed once.
  const pskIdHash = (PSK_ID_HASHES[aead] ??= labeledExtract(suiteId, EMPTY, LABEL_PSK_ID_HASH, EMPTY));
  const infoHash = labeledExtract(suiteId, EMPTY, LABEL_INFO_HASH, info);
  const keyScheduleContext = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash);
  const secret = labeledExtract(suiteId, sharedSecret, LABEL_SECRET, EMPTY);
  const context: HpkeBaseContext = {
    key: labeledExpand(suiteId, secret, LABEL_KEY, keyScheduleContext, AEADS[aead].keyBytes),
    baseNonce: labeledExpand(suiteId, secret, LABEL_BASE_NONCE, keyScheduleContext, NONCE_BYTES),
    // Single-shot Seal and Open never export: they skip this derivation (an empty array).
    exporterSecret: withExporterSecret ? labeledExpand(suiteId, secret, LABEL_EXP, keyScheduleContext, HASH_BYTES) : new Uint8Array(0),
  };
  secret.fill(0);
  return context;
}

/**
 * §5.2 ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn). Single-shot contexts use seq = 0;
 * any safe integer is accepted so the RFC's later sequence numbers can be checked too.
 *
 * @internal Exported for the RFC 9180 Appendix A vector tests.
 */
export function computeNonce(baseNonce: Uint8Array, sequenceNumber: number): Uint8Array {
  if (!Number.isSafeInteger(sequenceNumber) || sequenceNumber < 0) {
    throw new RangeError(`"sequenceNumber" expected a non-negative safe integer, got ${describeNumber(sequenceNumber)}`);
  }
  const nonce = baseNonce.slice();
  let rest = sequenceNumber;
  // I2OSP big-endian: the lowest byte of seq meets the last byte of the nonce.
  for (let i = nonce.length - 1; i >= 0 && rest > 0; i--) {
    nonce[i]! ^= rest % 256;
    rest = Math.floor(rest / 256);
  }
  return nonce;
}

/** §5.3 Context.Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L). */
function exportSecret(context: HpkeBaseContext, aead: HpkeAead, exporterContext: Uint8Array, length: number): Uint8Array {
  return labeledExpand(HPKE_SUITE_IDS[aead], context.exporterSecret, LABEL_SEC, exporterContext, length);
}

function wipeContext(context: HpkeBaseContext): void {
  context.key.fill(0);
  context.baseNonce.fill(0);
  context.exporterSecret.fill(0);
}

// ---------------------------------------------------------------------------------------------
// Labeled KDF (RFC 9180 §4)
// ---------------------------------------------------------------------------------------------

/**
 * §4 LabeledExtract(salt, label, ikm):
 * `labeled_ikm = concat("HPKE-v1", suite_id, label, ikm)`; `return Extract(salt, labeled_ikm)`.
 * Extract is HKDF-Extract (RFC 5869 §2.2); noble takes (ikm, salt) in that order.
 */
function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array): Uint8Array {
  const labeledIkm = concatBytes(VERSION_LABEL, suiteId, label, ikm);
  try {
    // HKDF-Extract(salt, ikm) = HMAC(salt, ikm) (RFC 5869 §2.2); an empty salt is HashLen zero
    // bytes, which HMAC's key padding makes the same key.
    const node = nativeNodeCrypto();
    return node === undefined ? extract(sha256, labeledIkm, salt) : nodeHmacSha256(node, salt, labeledIkm);
  } finally {
    labeledIkm.fill(0); // it holds ikm, which may be a DH output or a shared secret
  }
}

/**
 * §4 LabeledExpand(prk, label, info, L):
 * `labeled_info = concat(I2OSP(L, 2), "HPKE-v1", suite_id, label, info)`;
 * `return Expand(prk, labeled_info, L)` (HKDF-Expand, RFC 5869 §2.3).
 */
function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  // Up to one hash length, HKDF-Expand is its first block: T(1) = HMAC(prk, info || 0x01) (RFC
  // 5869 §2.3). Longer outputs (exports) take noble's expand.
  const labeledInfo = [i2osp2(length), VERSION_LABEL, suiteId, label, info];
  const node = nativeNodeCrypto();
  if (node === undefined || length > HASH_BYTES) return expand(sha256, prk, concatBytes(...labeledInfo), length);
  const block = nodeHmacSha256(node, prk, concatBytes(...labeledInfo, ONE_BYTE));
  const out = block.slice(0, length);
  block.fill(0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const ONE_BYTE = Uint8Array.of(1);

function hpkeSuiteId(aeadId: number): Uint8Array {
  return concatBytes(ascii("HPKE"), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(aeadId));
}

/** I2OSP(n, 2) (RFC 8017 §4.1): two bytes, big-endian. */
function i2osp2(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function isUint8Array(value: unknown): value is Uint8Array {
  // `instanceof` fails across realms; noble's own check accepts this too.
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === "Uint8Array");
}

function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!isUint8Array(value)) throw new TypeError(`"${name}" expected a Uint8Array, got ${describeValue(value)}`);
}

function checkKey(name: string, value: unknown): asserts value is Uint8Array {
  checkBytes(name, value);
  if (value.length !== X25519_KEY_BYTES) {
    throw new RangeError(`"${name}" expected ${X25519_KEY_BYTES} bytes, got ${value.length}`);
  }
}

/** A number is not secret: show it; anything else by type only. */
function describeNumber(value: unknown): string {
  return typeof value === "number" ? String(value) : describeValue(value);
}

/** The context's AEAD (AES-128/256-GCM by key length): node:crypto where available, else noble. */
function aeadSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const node = nativeNodeCrypto();
  return node === undefined ? gcm(key, nonce, aad).encrypt(plaintext) : nodeAesGcmSeal(node, key, nonce, plaintext, aad);
}

function aeadOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const node = nativeNodeCrypto();
  return node === undefined ? gcm(key, nonce, aad).decrypt(ciphertext) : nodeAesGcmOpen(node, key, nonce, ciphertext, aad);
}

function checkAead(value: unknown): HpkeAead {
  if (value === undefined) return HPKE_DEFAULT_AEAD;
  if (value === "aes-256-gcm" || value === "aes-128-gcm") return value;
  throw new TypeError(`"aead" expected "aes-256-gcm" or "aes-128-gcm", got ${describeValue(value)}`);
}

function checkExportLength(length: unknown): void {
  if (typeof length !== "number" || !Number.isInteger(length) || length < 1 || length > MAX_EXPORT_BYTES) {
    throw new RangeError(`"length" expected an integer from 1 to ${MAX_EXPORT_BYTES}, got ${describeNumber(length)}`);
  }
}
