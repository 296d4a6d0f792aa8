/**
 * Fingerprints and safety numbers (SPEC.md §20): short decimal strings that two people compare
 * out of band (read aloud, or one scans the other's QR code) to check that the device keys their
 * apps use are the ones the other person's devices really hold.
 *
 * A self-signed bundle proves only that its keys belong together (§9.5); a server that hands out
 * a bundle of its own for someone's device receives what is encrypted to it. Comparing these
 * numbers is how users detect that. The construction follows Signal's safety numbers: an
 * iterated SHA-512 over a domain-separated encoding, 30 bytes of it shown as six groups of five
 * decimal digits, and the pair number made of both sides' numbers in a fixed order so that both
 * people see the same sixty digits.
 *
 * ```
 * device: input = text("domvia-e2ee/device-fingerprint") || u8(1) || text(userId) || text(deviceId)
 *              || bytes(agreementKey) || bytes(signingKey)
 * user:   input = text("domvia-e2ee/user-fingerprint") || u8(1) || text(userId) || u16(n)
 *              || for each device, by ascending deviceId: text(deviceId) || bytes(agreementKey) || bytes(signingKey)
 * H_1 = SHA-512(input);  H_k = SHA-512(H_{k-1}) for k = 2 … 5200;  F = H_5200
 * group j (0 ≤ j < 6) = u40be(F[5j : 5j + 5]) mod 100000, as five digits with leading zeros
 * fingerprint = the six groups separated by one space (35 characters)
 * safety number = the two fingerprints, the lower one (as a digit string) first (71 characters)
 * ```
 *
 * Everything here is public: keys, fingerprints and safety numbers are compared with ordinary
 * string equality, since no secret is involved and timing reveals nothing an attacker lacks.
 *
 * @module
 */
import { sha512 } from "@noble/hashes/sha2.js";
import {
  E2eeError,
  InvalidEnvelopeError,
  assertId,
  canonicalBytes,
  type CanonicalField,
} from "@domvia/e2ee-envelope";
import { base64urlEncode } from "./bytes";
import { verifyDeviceBundle, type VerifiedDeviceBundle } from "./device-identity";
import { describeValue } from "./room-key";

/** Label that starts a device fingerprint's input (SPEC.md §20.1). */
export const DEVICE_FINGERPRINT_LABEL = "domvia-e2ee/device-fingerprint";

/** Label that starts a user fingerprint's input (SPEC.md §20.2). */
export const USER_FINGERPRINT_LABEL = "domvia-e2ee/user-fingerprint";

/** The parameters of fingerprint format 1. Part of the format: changing one is a new version. */
export interface FingerprintFormat {
  /** The version byte after the label. */
  readonly version: number;
  /** SHA-512 invocations from the input to the digest that is shown. */
  readonly iterations: number;
  /** Groups of digits in one fingerprint. */
  readonly groups: number;
  /** Decimal digits per group. */
  readonly digitsPerGroup: number;
  /** Most devices one user fingerprint covers (`u16(n)`, and a bound on hostile lists). */
  readonly maxDevicesPerUser: number;
}

/**
 * Fingerprint format 1. Sources: Signal's safety numbers (libsignal `NumericFingerprintGenerator`,
 * version 2) use 5200 SHA-512 iterations and 30 digits per side; so do these. The iterations
 * multiply an attacker's cost per candidate key by 5200 (about 2^12.3) when users compare only
 * part of the number; 30 digits carry about 99.7 bits when they compare all of it.
 */
export const FINGERPRINT_FORMAT: FingerprintFormat = Object.freeze({
  version: 1,
  iterations: 5200,
  groups: 6,
  digitsPerGroup: 5,
  maxDevicesPerUser: 1000,
});

/** A device's ids and raw public keys: what a device fingerprint covers. */
export interface DeviceKeys {
  readonly userId: string;
  readonly deviceId: string;
  /** X25519 public key, 32 bytes. */
  readonly agreementKey: Uint8Array;
  /** Ed25519 public key, 32 bytes. */
  readonly signingKey: Uint8Array;
}

const PUBLIC_KEY_BYTES = 32;
/** Longest text {@link safetyNumbersMatch} looks at: a scanned or typed value is input. */
const MAX_PRESENTED_LENGTH = 1024;

/**
 * Fingerprints already computed, keyed by their input (public). One costs 5200 SHA-512 calls in
 * pure JS, and a trust store asks again for every message from a device whose keys changed.
 * Oldest entries leave first.
 */
const computed = new Map<string, string>();
const COMPUTED_CACHE_SIZE = 1000;

function checkPublicKey(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== PUBLIC_KEY_BYTES) {
    throw new TypeError(`"${name}" expected Uint8Array of length ${PUBLIC_KEY_BYTES}, got ${describeValue(value)}`);
  }
  return value;
}

/** SPEC.md §20.3: iterate SHA-512, then render 30 bytes as six groups of five digits. */
function fingerprintOf(input: Uint8Array): string {
  const cacheKey = base64urlEncode(input);
  const cached = computed.get(cacheKey);
  if (cached !== undefined) return cached;
  let digest = sha512(input);
  for (let k = 2; k <= FINGERPRINT_FORMAT.iterations; k++) digest = sha512(digest);
  const groups: string[] = [];
  for (let j = 0; j < FINGERPRINT_FORMAT.groups; j++) {
    const at = j * 5;
    // A 40-bit big-endian integer: below 2^53, so exact as a double.
    const value =
      digest[at]! * 2 ** 32 + ((digest[at + 1]! << 24) >>> 0) + (digest[at + 2]! << 16) + (digest[at + 3]! << 8) + digest[at + 4]!;
    groups.push(String(value % 100_000).padStart(FINGERPRINT_FORMAT.digitsPerGroup, "0"));
  }
  const fingerprint = groups.join(" ");
  if (computed.size >= COMPUTED_CACHE_SIZE) computed.delete(computed.keys().next().value!);
  computed.set(cacheKey, fingerprint);
  return fingerprint;
}

/**
 * The fingerprint of one device's ids and public keys, without a bundle (for keys a trust store
 * pinned). Prefer {@link deviceFingerprint}, which verifies the bundle first.
 *
 * @example
 * ```ts
 * const { agreementKey, signingKey } = verifyDeviceBundle(bundle);
 * deviceKeysFingerprint({ userId: "bob", deviceId: "laptop", agreementKey, signingKey }); // "05127 …"
 * ```
 * @throws TypeError when an id is not a valid identifier or a key is not 32 bytes.
 */
export function deviceKeysFingerprint(keys: DeviceKeys): string {
  if (typeof keys !== "object" || keys === null) throw new TypeError(`"keys" expected an object, got ${describeValue(keys)}`);
  assertId(keys.userId, "userId");
  assertId(keys.deviceId, "deviceId");
  return fingerprintOf(
    canonicalBytes([
      { text: DEVICE_FINGERPRINT_LABEL },
      { u8: FINGERPRINT_FORMAT.version },
      { text: keys.userId },
      { text: keys.deviceId },
      { bytes: checkPublicKey(keys.agreementKey, "agreementKey") },
      { bytes: checkPublicKey(keys.signingKey, "signingKey") },
    ]),
  );
}

/**
 * The fingerprint of one device: 30 digits in six groups (`"05127 88315 …"`), from its verified
 * bundle's ids and both public keys. Any change of key or id changes it.
 *
 * @example
 * ```ts
 * showOnVerificationScreen(deviceFingerprint(await server.fetchBundle("bob", "laptop")));
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` / `PAYLOAD_TOO_LARGE` for a
 *   malformed bundle, `BAD_SIGNATURE` when its self-signature does not verify.
 */
export function deviceFingerprint(bundle: unknown): string {
  const { bundle: parsed, agreementKey, signingKey } = verifyDeviceBundle(bundle);
  return deviceKeysFingerprint({ userId: parsed.userId, deviceId: parsed.deviceId, agreementKey, signingKey });
}

/**
 * The fingerprint of a user: one number for all of the user's devices, from their verified
 * bundles in order of device id (so the order given does not matter). Adding, removing or
 * re-keying any device changes it; compare device fingerprints to find which one.
 *
 * @example
 * ```ts
 * const bob = userFingerprint("bob", await server.fetchBundles("bob"));
 * ```
 * @throws TypeError when `userId` is invalid or `bundles` is not an array; RangeError when it is
 *   empty. E2eeError `PAYLOAD_TOO_LARGE` for more than 1,000 bundles or a bundle's JSON text
 *   over 4,096 characters; `INVALID_ENVELOPE`,
 *   `UNSUPPORTED_VERSION` or `BAD_SIGNATURE` for a bundle that does not verify;
 *   `INVALID_ENVELOPE` for a bundle of another user or two bundles with one device id.
 */
export function userFingerprint(userId: string, bundles: readonly unknown[]): string {
  assertId(userId, "userId");
  if (!Array.isArray(bundles)) throw new TypeError(`"bundles" expected an array, got ${describeValue(bundles)}`);
  if (bundles.length === 0) throw new RangeError('"bundles" expected at least one device bundle');
  if (bundles.length > FINGERPRINT_FORMAT.maxDevicesPerUser) {
    throw new E2eeError("PAYLOAD_TOO_LARGE", `a user fingerprint covers at most ${FINGERPRINT_FORMAT.maxDevicesPerUser} devices`);
  }
  const devices: VerifiedDeviceBundle[] = [];
  const seen = new Set<string>();
  bundles.forEach((input, index) => {
    const verified = verifyDeviceBundle(input);
    if (verified.bundle.userId !== userId) {
      throw new InvalidEnvelopeError("INVALID_ENVELOPE", `device bundle ${index} is another user's`, [{ path: `${index}.userId`, problem: "another user" }]);
    }
    if (seen.has(verified.bundle.deviceId)) {
      throw new InvalidEnvelopeError("INVALID_ENVELOPE", `device bundle ${index} repeats a device id`, [{ path: `${index}.deviceId`, problem: "duplicate device" }]);
    }
    seen.add(verified.bundle.deviceId);
    devices.push(verified);
  });
  // Identifiers are ASCII, so UTF-16 code unit order is byte order.
  devices.sort((a, b) => (a.bundle.deviceId < b.bundle.deviceId ? -1 : 1));
  const fields: CanonicalField[] = [
    { text: USER_FINGERPRINT_LABEL },
    { u8: FINGERPRINT_FORMAT.version },
    { text: userId },
    { u16: devices.length },
  ];
  for (const device of devices) {
    fields.push({ text: device.bundle.deviceId }, { bytes: device.agreementKey }, { bytes: device.signingKey });
  }
  return fingerprintOf(canonicalBytes(fields));
}

/** A fingerprint: six groups of five digits. */
const FINGERPRINT_TEXT = /^\d{5}( \d{5}){5}$/;
/** A fingerprint, or a safety number (two fingerprints). */
const FINGERPRINT_OR_SAFETY_NUMBER_TEXT = /^\d{5}( \d{5}){5}(( \d{5}){6})?$/;

function digitsOf(fingerprint: unknown, name: string): string {
  if (typeof fingerprint !== "string" || !FINGERPRINT_TEXT.test(fingerprint)) {
    throw new TypeError(`"${name}" expected a fingerprint of six groups of five digits, got ${describeValue(fingerprint)}`);
  }
  return fingerprint.replaceAll(" ", "");
}

/**
 * The safety number of two fingerprints (two users, or two devices): sixty digits in twelve
 * groups, the lower fingerprint first, so both people compute the same string whichever side
 * they are on. Show it, or encode it in a QR code for the other device to scan and check with
 * {@link safetyNumbersMatch}.
 *
 * @example
 * ```ts
 * const number = safetyNumber(userFingerprint("alice", aliceBundles), userFingerprint("bob", bobBundles));
 * ```
 * @throws TypeError when either argument is not a fingerprint (six groups of five digits).
 */
export function safetyNumber(first: string, second: string): string {
  const a = digitsOf(first, "first");
  const b = digitsOf(second, "second");
  return a <= b ? `${first} ${second}` : `${second} ${first}`;
}

/**
 * Whether a presented number (typed, read aloud, or scanned from the other device's QR code)
 * equals the expected safety number or fingerprint. Whitespace in `presented` is ignored;
 * anything else that is not the same digits is a mismatch. Plain equality: both are public.
 *
 * @example
 * ```ts
 * if (safetyNumbersMatch(number, scannedText)) trustStore.markVerified(bobBundle);
 * ```
 * @throws TypeError when `expected` is not a fingerprint or a safety number.
 */
export function safetyNumbersMatch(expected: string, presented: unknown): boolean {
  if (typeof expected !== "string" || !FINGERPRINT_OR_SAFETY_NUMBER_TEXT.test(expected)) {
    throw new TypeError(`"expected" expected a fingerprint or a safety number, got ${describeValue(expected)}`);
  }
  if (typeof presented !== "string" || presented.length > MAX_PRESENTED_LENGTH) return false;
  const digits = presented.replaceAll(/\s/g, "");
  return digits === expected.replaceAll(" ", "");
}
