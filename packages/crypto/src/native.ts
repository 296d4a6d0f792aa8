/**
 * Native acceleration. noble is the reference and the default everywhere; where the runtime has
 * a faster native implementation of the same primitive, the SDK uses it automatically:
 *
 * | primitive | native path | where | otherwise |
 * | --- | --- | --- | --- |
 * | AES-256 (XAES subkeys) and AES-256-GCM | `node:crypto` | Node, Bun, Deno | noble |
 * | AES-256-GCM of large messages | WebCrypto (`crypto.subtle`) | browsers, React Native with WebCrypto | noble |
 * | X25519, Ed25519 signing and verification | `node:crypto` | Node, Bun, Deno | noble |
 * | X25519, Ed25519 in async key sharing (`sealRoomKeyShareAsync`) | WebCrypto (`crypto.subtle`) | browsers without `node:crypto` | noble |
 * | HMAC-SHA-256 in HPKE's key schedule | `node:crypto` | Node, Bun, Deno | noble |
 * | base64url of long texts (bytes.ts) | `Buffer` (`node:buffer`) | Node, Bun, Deno | JS |
 * | base64url of long texts (bytes.ts) | `Uint8Array.prototype.toBase64`, `Uint8Array.fromBase64` | browsers that have them | JS |
 *
 * Every native path produces the same bytes as noble (tests cross-check each one on random
 * inputs and on the vectors), and `setNativeCrypto("off")` forces noble everywhere. The WebCrypto
 * curves are cross-checked against noble on Node's WebCrypto (OpenSSL) and in Chromium, all of
 * Wycheproof's x25519 and ed25519 cases in both (`pnpm test:browser`); in other browsers their
 * known-answer self-test, and handing them only canonical input, are what guards them.
 *
 * `node:crypto` is never imported statically: bundles for browsers and React Native contain no
 * reference to it. It is looked up at run time through `process.getBuiltinModule` (Node 20.16+,
 * Bun, Deno), and used only after a known-answer self-test passes.
 *
 * @module
 */

import { base64urlDecode, base64urlEncode } from "./bytes";
import { builtinModule, nativeMode, setNativeMode, type NativeCryptoMode } from "./native-mode";

export type { NativeCryptoMode } from "./native-mode";

/** Which implementation each primitive uses now. */
export interface NativeCryptoInfo {
  /** The mode set by {@link setNativeCrypto}. */
  readonly mode: NativeCryptoMode;
  /** AES-256-GCM of chat messages (and the XAES-256-GCM subkey derivation). */
  readonly aesGcm: "node:crypto" | "noble";
  /** AES-256-GCM of messages of at least {@link WEBCRYPTO_MIN_BYTES} (async calls only). */
  readonly largeAesGcm: "node:crypto" | "webcrypto" | "noble";
  /** X25519 key agreement (key shares and backups). */
  readonly x25519: "node:crypto" | "noble";
  /** Ed25519 signing and verification. */
  readonly ed25519: "node:crypto" | "noble";
  /**
   * X25519 and Ed25519 in the asynchronous key-sharing calls (`sealRoomKeyShareAsync`,
   * `verifyDeviceBundleAsync` and the room-keys `shareRoomKeyAsync`). `"webcrypto"` once
   * WebCrypto's curves passed their known-answer self-test, which the first such call runs;
   * `"untested"` before that, where `crypto.subtle` exists and `node:crypto` does not.
   */
  readonly asyncCurves: "node:crypto" | "webcrypto" | "noble" | "untested";
}

/**
 * Padded plaintexts from this size use WebCrypto AES-GCM when `node:crypto` is not available.
 * In a one-off comparison of the SDK's round trips in Chromium 150 (this threshold at 0 and at
 * 4 KiB), WebCrypto took less time than noble at every size: about 0.85× at 64 B, 0.75× at 200 B,
 * 0.7× at 1 KiB and a third at 3 KiB. Other engines (Firefox, Safari, workers, React Native with a
 * WebCrypto polyfill) are not measured here at any size; their per-call cost (two promises, a key
 * import) matters most for short messages, where the gain was smaller, so those stay on noble.
 */
export const WEBCRYPTO_MIN_BYTES = 1024;

// The parts of node:crypto the SDK uses, typed structurally: packages compile without Node types.
/** @internal */
export interface NodeCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  setAAD(data: Uint8Array): unknown;
  getAuthTag(): Uint8Array;
  setAutoPadding(enabled: boolean): unknown;
}
/** @internal */
export interface NodeDecipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  setAAD(data: Uint8Array): unknown;
  setAuthTag(tag: Uint8Array): unknown;
}
/** @internal A node:crypto KeyObject, opaque here. */
export interface NodeKeyObject {
  export(options: { format: "jwk" }): { x?: string };
}
/** @internal An RFC 8037 key as node:crypto imports it. */
export interface NodeOkpJwk {
  readonly kty: "OKP";
  readonly crv: "X25519" | "Ed25519";
  readonly x: string;
  readonly d?: string;
}
/** @internal */
export interface NodeCrypto {
  createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array | null, options?: { authTagLength: number }): NodeCipher;
  createDecipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array | null, options?: { authTagLength: number }): NodeDecipher;
  createPrivateKey(options: { key: NodeOkpJwk; format: "jwk" }): NodeKeyObject;
  createPublicKey(options: NodeKeyObject | { key: NodeOkpJwk; format: "jwk" }): NodeKeyObject;
  diffieHellman(options: { privateKey: NodeKeyObject; publicKey: NodeKeyObject }): Uint8Array;
  createHmac(algorithm: "sha256", key: Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } };
  sign(algorithm: null, data: Uint8Array, key: NodeKeyObject): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: NodeKeyObject, signature: Uint8Array): boolean;
}

/** @internal The WebCrypto subset used for large messages. */
export interface WebCryptoSubtle {
  importKey(format: "raw", key: Uint8Array, algorithm: "AES-GCM", extractable: false, usages: string[]): Promise<unknown>;
  encrypt(algorithm: { name: "AES-GCM"; iv: Uint8Array; additionalData: Uint8Array; tagLength: 128 }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: { name: "AES-GCM"; iv: Uint8Array; additionalData: Uint8Array; tagLength: 128 }, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

/** @internal The WebCrypto subset used for X25519 and Ed25519 (algorithm objects as WebCrypto names them). */
export interface WebCryptoCurves {
  importKey(format: "pkcs8" | "raw", key: Uint8Array, algorithm: WebCurve, extractable: boolean, usages: string[]): Promise<unknown>;
  deriveBits(algorithm: { name: "X25519"; public: unknown }, key: unknown, length: 256): Promise<ArrayBuffer>;
  sign(algorithm: WebCurve, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  verify(algorithm: WebCurve, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}
/** @internal */
export type WebCurve = { readonly name: "X25519" } | { readonly name: "Ed25519" };

let nodeCrypto: NodeCrypto | undefined | null = null; // null: not looked up yet
let subtle: WebCryptoSubtle | undefined | null = null;
// null: not looked up yet; a promise: the self-test running or done.
let curves: Promise<WebCryptoCurves | undefined> | undefined | null = null;
let curvesVerdict: "webcrypto" | "noble" | "untested" = "untested";
let curvesOverride: WebCryptoCurves | undefined | null = null; // tests only; null: the runtime's

/**
 * Chooses whether native implementations may be used. `"off"` forces the noble path everywhere:
 * for reproducing an issue, for measuring what browsers without WebCrypto run, or for a platform
 * whose native crypto you do not trust. Output is the same bytes either way.
 *
 * @example
 * ```ts
 * setNativeCrypto("off");
 * setNativeCrypto("auto");
 * ```
 * @throws TypeError for another value.
 */
export function setNativeCrypto(newMode: NativeCryptoMode): void {
  if (newMode !== "auto" && newMode !== "off") {
    throw new TypeError(`"mode" expected "auto" or "off", got ${typeof newMode === "string" ? JSON.stringify(newMode) : typeof newMode}`);
  }
  setNativeMode(newMode);
}

/**
 * Reports the mode and which implementation each primitive uses in this runtime.
 *
 * @example
 * ```ts
 * const { aesGcm } = getNativeCrypto(); // "node:crypto" in Node, "noble" in browsers
 * ```
 */
export function getNativeCrypto(): NativeCryptoInfo {
  const node = nativeNodeCrypto() !== undefined ? "node:crypto" : "noble";
  const web = nativeSubtle() !== undefined ? "webcrypto" : "noble";
  return Object.freeze({ mode: nativeMode(), aesGcm: node, largeAesGcm: node === "node:crypto" ? node : web, x25519: node, ed25519: node, asyncCurves: asyncCurvesPath() });
}

function asyncCurvesPath(): NativeCryptoInfo["asyncCurves"] {
  if (nativeNodeCrypto() !== undefined) return "node:crypto";
  if (nativeMode() === "off") return "noble";
  if (curves === null) return lookUpCurves() === undefined ? "noble" : "untested"; // not looked up yet
  return curves === undefined ? "noble" : curvesVerdict;
}

/** @internal node:crypto when it may be used, else `undefined`. */
export function nativeNodeCrypto(): NodeCrypto | undefined {
  if (nativeMode() === "off") return undefined;
  if (nodeCrypto === null) nodeCrypto = lookUpNodeCrypto();
  return nodeCrypto;
}

/** @internal WebCrypto's `subtle` when it may be used for large messages, else `undefined`. */
export function nativeSubtle(): WebCryptoSubtle | undefined {
  if (nativeMode() === "off") return undefined;
  if (subtle === null) subtle = lookUpSubtle();
  return subtle;
}

/**
 * @internal WebCrypto's X25519 and Ed25519 for the asynchronous key-sharing calls, where
 * `node:crypto` is absent (browsers): resolves to `undefined` when `node:crypto` is there (its
 * synchronous calls are faster), in mode `"off"` (also when it was set while the self-test ran),
 * or when WebCrypto lacks the curves or fails its known-answer self-test. The self-test runs once,
 * for the first call. A pass or a failure is kept for the life of the page or process; a self-test
 * that has not answered within {@link CURVES_SELF_TEST_MS} counts as failed until it passes, which
 * switches the operations started after that to WebCrypto.
 */
export async function nativeCurves(): Promise<WebCryptoCurves | undefined> {
  if (!curvesAllowed()) return undefined;
  if (curves === null) {
    const candidate = lookUpCurves();
    curves = candidate === undefined ? undefined : acceptCurves(candidate);
  }
  const accepted = await curves;
  return curvesAllowed() ? accepted : undefined;
}

function curvesAllowed(): boolean {
  return nativeMode() !== "off" && nativeNodeCrypto() === undefined;
}

/** How long the curves' self-test may take before calls stop waiting for it and use noble. */
export const CURVES_SELF_TEST_MS = 5000;

/**
 * @internal For tests: replace what the runtime offers (`undefined` simulates a runtime without
 * it; `null` looks it up again).
 */
export function setNativeBackendsForTesting(backends: {
  node?: NodeCrypto | undefined | null;
  subtle?: WebCryptoSubtle | undefined | null;
  curves?: WebCryptoCurves | undefined | null;
}): void {
  if ("node" in backends) nodeCrypto = backends.node;
  if ("subtle" in backends) subtle = backends.subtle;
  if ("curves" in backends) {
    curvesOverride = backends.curves;
    curves = null; // the next asynchronous call runs the self-test on it
    curvesVerdict = "untested";
  }
}

function lookUpNodeCrypto(): NodeCrypto | undefined {
  return acceptNodeCrypto(builtinModule("node:crypto"));
}

/**
 * @internal `candidate` when it has every function the SDK uses and passes the known-answer
 * tests of AES-256-GCM, X25519 and Ed25519; otherwise `undefined` (then noble is used).
 */
export function acceptNodeCrypto(candidate: unknown): NodeCrypto | undefined {
  const needed = ["createCipheriv", "createDecipheriv", "createHmac", "createPrivateKey", "createPublicKey", "diffieHellman", "sign", "verify"] as const;
  if (typeof candidate !== "object" || candidate === null) return undefined;
  if (needed.some((name) => typeof (candidate as Partial<NodeCrypto>)[name] !== "function")) return undefined;
  try {
    return selfTest(candidate as NodeCrypto) ? (candidate as NodeCrypto) : undefined;
  } catch {
    return undefined;
  }
}

function lookUpSubtle(): WebCryptoSubtle | undefined {
  const candidate = (globalThis as { crypto?: { subtle?: Partial<WebCryptoSubtle> } }).crypto?.subtle;
  if (candidate === undefined || candidate === null) return undefined;
  return typeof candidate.importKey === "function" && typeof candidate.encrypt === "function" && typeof candidate.decrypt === "function"
    ? (candidate as WebCryptoSubtle)
    : undefined;
}

function lookUpCurves(): WebCryptoCurves | undefined {
  if (curvesOverride !== null) return curvesOverride;
  const candidate = (globalThis as { crypto?: { subtle?: Partial<WebCryptoCurves> } }).crypto?.subtle;
  if (candidate === undefined || candidate === null) return undefined;
  const needed = ["importKey", "deriveBits", "sign", "verify"] as const;
  return needed.every((name) => typeof candidate[name] === "function") ? (candidate as WebCryptoCurves) : undefined;
}

/** `candidate`, once it passes the X25519 and Ed25519 known-answer tests in time; else `undefined`. */
function acceptCurves(candidate: WebCryptoCurves): Promise<WebCryptoCurves | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CURVES_SELF_TEST_MS);
  });
  // A browser without the curves rejects (NotSupportedError): that is a failed test too.
  const test = curvesSelfTest(candidate).catch(() => false);
  const passed = Promise.race([test, timeout]).finally(() => clearTimeout(timer));
  const accepted: Promise<WebCryptoCurves | undefined> = passed.then((ok) => {
    if (curves === accepted) curvesVerdict = ok ? "webcrypto" : "noble"; // not a replaced candidate's
    return ok ? candidate : undefined;
  });
  // A self-test that passes after its time ran out (a page busy at its first share) still counts:
  // the calls already made stay on noble, later ones use WebCrypto. One that fails never does.
  void test.then(async (ok) => {
    await accepted;
    if (ok && curves === accepted && curvesVerdict === "noble") {
      curves = Promise.resolve(candidate);
      curvesVerdict = "webcrypto";
    }
  });
  return accepted;
}

// NIST SP 800-38D test case 16 (AES-256, 96-bit IV, AAD): a known answer the runtime must
// reproduce before the SDK trusts its AES-GCM. X25519, Ed25519 and HMAC-SHA-256 are checked by
// the same lookup through RFC 7748 §6.1, RFC 8032 §7.1 test 1 and RFC 4231 test case 2.
const KAT = {
  key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
  iv: "cafebabefacedbaddecaf888",
  aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
  plaintext:
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
  sealed:
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
    "76fc6ece0f4e1768cddf8853bb2d551b",
  aliceSecret: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  bobPublic: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
  edSecret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  hmacKey: "4a656665", // RFC 4231 test case 2: "Jefe", "what do ya want for nothing?"
  hmacData: "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
  hmac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  edSignature:
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
} as const;

// WebCrypto's curves get the X25519 and Ed25519 answers above, and these: the public keys of
// aliceSecret (RFC 7748 §6.1) and edSecret (RFC 8032 §7.1 test 1), the first computed as
// X25519(aliceSecret, 9) as the SDK computes an ephemeral key's, and the test signature with
// S + L in place of S, which strict verification refuses (malleability). Apart from KAT, so that bundles without the asynchronous
// key-sharing calls leave them out.
const CURVES_KAT = {
  alicePublic: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  edPublic: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  edMalleated:
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901554c8c7872aa064e049dbb3013fbf29380d25bf5f0595bbe24655141438e7a101b",
} as const;

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!, (pair) => Number.parseInt(pair, 16));
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i]);

async function curvesSelfTest(candidate: WebCryptoCurves): Promise<boolean> {
  const alice = await webX25519PrivateKey(candidate, hexBytes(KAT.aliceSecret));
  if (!sameBytes(await webX25519PublicKeyOf(candidate, alice), hexBytes(CURVES_KAT.alicePublic))) return false;
  const shared = await candidate.deriveBits({ name: "X25519", public: await webX25519PublicKey(candidate, hexBytes(KAT.bobPublic)) }, alice, 256);
  if (!sameBytes(new Uint8Array(shared), hexBytes(KAT.shared))) return false;
  const signature = await candidate.sign(WEB_ED25519, await webEd25519PrivateKey(candidate, hexBytes(KAT.edSecret)), new Uint8Array(0));
  if (!sameBytes(new Uint8Array(signature), hexBytes(KAT.edSignature))) return false;
  const publicKey = await webEd25519PublicKey(candidate, hexBytes(CURVES_KAT.edPublic));
  return (
    (await candidate.verify(WEB_ED25519, publicKey, hexBytes(KAT.edSignature), new Uint8Array(0))) &&
    !(await candidate.verify(WEB_ED25519, publicKey, hexBytes(CURVES_KAT.edMalleated), new Uint8Array(0)))
  );
}

function selfTest(candidate: NodeCrypto): boolean {
  const cipher = candidate.createCipheriv("aes-256-gcm", hexBytes(KAT.key), hexBytes(KAT.iv), { authTagLength: 16 });
  cipher.setAAD(hexBytes(KAT.aad));
  const body = cipher.update(hexBytes(KAT.plaintext));
  const rest = cipher.final();
  const sealed = new Uint8Array([...body, ...rest, ...cipher.getAuthTag()]);
  if (!sameBytes(sealed, hexBytes(KAT.sealed))) return false;
  const shared = candidate.diffieHellman({
    privateKey: nodeX25519PrivateKey(candidate, hexBytes(KAT.aliceSecret)),
    publicKey: nodeX25519PublicKey(candidate, hexBytes(KAT.bobPublic)),
  });
  if (!sameBytes(shared, hexBytes(KAT.shared))) return false;
  const signature = candidate.sign(null, new Uint8Array(0), nodeEd25519PrivateKey(candidate, hexBytes(KAT.edSecret)));
  if (!sameBytes(signature, hexBytes(KAT.edSignature))) return false;
  return sameBytes(nodeHmacSha256(candidate, hexBytes(KAT.hmacKey), hexBytes(KAT.hmacData)), hexBytes(KAT.hmac));
}

// Raw keys enter node:crypto as JWKs (RFC 8037): OpenSSL builds them straight from the raw
// bytes, about ten times faster than parsing a PKCS #8 or SPKI encoding. For a private key Node
// reads only `d` (it checks that `x` is a string); the self-test would catch any other reading.
// The base64url text of a secret is a string the SDK cannot wipe, as the key object itself.
type OkpCurve = "X25519" | "Ed25519";

function privateKey(node: NodeCrypto, crv: OkpCurve, secretKey: Uint8Array): NodeKeyObject {
  return node.createPrivateKey({ key: { kty: "OKP", crv, d: base64urlEncode(secretKey), x: "" }, format: "jwk" });
}

function publicKey(node: NodeCrypto, crv: OkpCurve, key: Uint8Array): NodeKeyObject {
  return node.createPublicKey({ key: { kty: "OKP", crv, x: base64urlEncode(key) }, format: "jwk" });
}

/** @internal A node:crypto X25519 private key from 32 raw bytes (clamped by OpenSSL at use, as RFC 7748 says). */
export function nodeX25519PrivateKey(node: NodeCrypto, secretKey: Uint8Array): NodeKeyObject {
  return privateKey(node, "X25519", secretKey);
}

/** @internal A node:crypto X25519 public key from its 32-byte u-coordinate. */
export function nodeX25519PublicKey(node: NodeCrypto, key: Uint8Array): NodeKeyObject {
  return publicKey(node, "X25519", key);
}

/** @internal A node:crypto Ed25519 private key from its 32-byte seed. */
export function nodeEd25519PrivateKey(node: NodeCrypto, seed: Uint8Array): NodeKeyObject {
  return privateKey(node, "Ed25519", seed);
}

/** @internal A node:crypto Ed25519 public key from its 32-byte encoding. */
export function nodeEd25519PublicKey(node: NodeCrypto, key: Uint8Array): NodeKeyObject {
  return publicKey(node, "Ed25519", key);
}

/** @internal The raw 32-byte public key of a node:crypto X25519 or Ed25519 private key object. */
export function nodeRawPublicKey(node: NodeCrypto, key: NodeKeyObject): Uint8Array {
  // Through a public key object: a private key's own JWK export would hold `d`, one more copy of
  // the secret as a string nobody can wipe.
  const raw = base64urlDecode(node.createPublicKey(key).export({ format: "jwk" }).x ?? "");
  if (raw === undefined || raw.length !== 32) throw new Error("node:crypto returned a malformed public key");
  return raw;
}

// Literals only at the top level here (no calls), so that bundles without the asynchronous
// key-sharing calls drop all of this.
/** @internal WebCrypto's algorithm objects. */
export const WEB_X25519: WebCurve = { name: "X25519" };
/** @internal */
export const WEB_ED25519: WebCurve = { name: "Ed25519" };

// WebCrypto imports raw private keys only as PKCS #8 (RFC 8410): a fixed 16-byte header (the
// version, the algorithm's OID 1.3.101.110 or .112, an OCTET STRING) and the 32 bytes.
const PKCS8_X25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20] as const;
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20] as const;

/** A private key imported through its PKCS #8 encoding, which is wiped at once. */
function webPrivateKey(curves: WebCryptoCurves, header: readonly number[], algorithm: WebCurve, secretKey: Uint8Array, extractable: boolean, usage: string): Promise<unknown> {
  if (secretKey.length !== 32) throw new RangeError(`secret key expected 32 bytes, got ${secretKey.length}`);
  const der = new Uint8Array(48);
  der.set(header);
  der.set(secretKey, 16);
  let imported: Promise<unknown>;
  try {
    imported = curves.importKey("pkcs8", der, algorithm, extractable, [usage]); // copies `der` before it returns
  } finally {
    der.fill(0);
  }
  return imported;
}

/** @internal A WebCrypto X25519 private key from 32 raw bytes, not extractable. */
export function webX25519PrivateKey(curves: WebCryptoCurves, secretKey: Uint8Array): Promise<unknown> {
  return webPrivateKey(curves, PKCS8_X25519, WEB_X25519, secretKey, false, "deriveBits");
}

/** @internal A WebCrypto X25519 public key from its 32-byte u-coordinate. */
export function webX25519PublicKey(curves: WebCryptoCurves, key: Uint8Array): Promise<unknown> {
  return curves.importKey("raw", key, WEB_X25519, true, []);
}

/** @internal A WebCrypto Ed25519 signing key from its 32-byte seed, not extractable. */
export function webEd25519PrivateKey(curves: WebCryptoCurves, seed: Uint8Array): Promise<unknown> {
  return webPrivateKey(curves, PKCS8_ED25519, WEB_ED25519, seed, false, "sign");
}

/** @internal A WebCrypto Ed25519 verification key from its 32-byte encoding. */
export function webEd25519PublicKey(curves: WebCryptoCurves, key: Uint8Array): Promise<unknown> {
  return curves.importKey("raw", key, WEB_ED25519, false, ["verify"]);
}

/**
 * @internal `cache`'s import for `owner`, made by `load` on first use; one that fails is dropped,
 * so the next use imports again. For WebCrypto keys, whose imports are promises.
 */
export function cachedImport<K extends object>(cache: WeakMap<K, Promise<unknown>>, owner: K, load: () => Promise<unknown>): Promise<unknown> {
  let imported = cache.get(owner);
  if (imported === undefined) {
    const loading = load();
    cache.set(owner, loading);
    loading.catch(() => {
      if (cache.get(owner) === loading) cache.delete(owner);
    });
    imported = loading;
  }
  return imported;
}

/** The u-coordinate 9 (RFC 7748 §4.1), imported once per WebCrypto. */
const basePoints = new WeakMap<WebCryptoCurves, Promise<unknown>>();

/**
 * @internal The public key of a WebCrypto X25519 private key: X25519(secret, 9). WebCrypto has no
 * other way to it but the key's JWK export, which would hold the secret as a string nobody can
 * wipe; this costs one more scalar multiplication instead.
 */
export async function webX25519PublicKeyOf(curves: WebCryptoCurves, privateKey: unknown): Promise<Uint8Array> {
  const base = cachedImport(basePoints, curves, () => {
    const nine = new Uint8Array(32);
    nine[0] = 9;
    return webX25519PublicKey(curves, nine);
  });
  return new Uint8Array(await curves.deriveBits({ name: "X25519", public: await base }, privateKey, 256));
}

const GCM_OPTIONS = Object.freeze({ authTagLength: 16 });

function gcmName(key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES-GCM key expected 16 or 32 bytes, got ${key.length}`);
  return `aes-${key.length * 8}-gcm`;
}

/** @internal AES-GCM (128 or 256 by key length) with node:crypto: ciphertext || 16-byte tag, as noble's `gcm`. */
export function nodeAesGcmSeal(node: NodeCrypto, key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, additionalData: Uint8Array): Uint8Array {
  const cipher = node.createCipheriv(gcmName(key), key, iv, GCM_OPTIONS);
  cipher.setAAD(additionalData);
  const body = cipher.update(plaintext);
  const rest = cipher.final(); // empty for GCM
  const out = new Uint8Array(body.length + rest.length + 16);
  out.set(body);
  out.set(rest, body.length);
  out.set(cipher.getAuthTag(), body.length + rest.length);
  return out;
}

/**
 * @internal AES-GCM decryption of ciphertext || tag with node:crypto. Throws when the tag
 * does not verify, and then returns nothing: the bytes decrypted before the check are wiped.
 */
export function nodeAesGcmOpen(node: NodeCrypto, key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, additionalData: Uint8Array): Uint8Array {
  if (sealed.length < 16) throw new Error("sealed message shorter than its tag");
  const split = sealed.length - 16;
  const decipher = node.createDecipheriv(gcmName(key), key, iv, GCM_OPTIONS);
  decipher.setAAD(additionalData);
  decipher.setAuthTag(sealed.subarray(split));
  const plaintext = decipher.update(sealed.subarray(0, split));
  try {
    decipher.final();
  } catch (error) {
    plaintext.fill(0);
    throw error;
  }
  return plainBytes(plaintext);
}

/** @internal A plain Uint8Array view of a node:crypto Buffer (whose `slice()` would share memory). */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** @internal HMAC-SHA-256 (RFC 2104) with node:crypto. */
export function nodeHmacSha256(node: NodeCrypto, key: Uint8Array, data: Uint8Array): Uint8Array {
  return plainBytes(node.createHmac("sha256", key).update(data).digest());
}
