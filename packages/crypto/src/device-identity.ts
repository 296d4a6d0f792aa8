/**
 * Device identities: one X25519 key-agreement pair (key shares are encrypted to it) and one
 * Ed25519 signing pair (shares, messages and the bundle are signed with it) per device.
 *
 * @module
 */
import {
  E2eeError,
  assertId,
  deviceBundleSignatureInput,
  parseDeviceBundle,
  parseDeviceIdentityState,
  type DeviceBundle,
  type DeviceIdentityStateV1,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { generateX25519KeyPair } from "./hpke";
import { describeValue } from "./room-key";
import { x25519PublicKey } from "./x25519";
import { forgetSigningKey, generateSigningSecretKey, sign, signingPublicKey, verify, verifyAsync } from "./signing";

interface IdentityKeys {
  readonly agreementSecretKey: Uint8Array;
  readonly signingSecretKey: Uint8Array;
}

/** The secret keys and, computed once, their public keys (each costs a scalar multiplication). */
interface IdentitySecrets extends IdentityKeys {
  readonly agreementPublicKey: Uint8Array;
  readonly signingPublicKey: Uint8Array;
}

const secrets = new WeakMap<DeviceIdentity, IdentitySecrets>();
/** Identities whose secret keys {@link DeviceIdentity.destroy} zeroed. */
const destroyedIdentities = new WeakSet<DeviceIdentity>();
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Options of {@link createDeviceIdentity}. */
export interface CreateDeviceIdentityOptions {
  /** The user who owns the device. */
  readonly userId: string;
  /** The device, unique for its user. */
  readonly deviceId: string;
}

/**
 * One device's keys. Secret keys are not properties; they leave only through
 * {@link DeviceIdentity.exportState}. `publicBundle` is the public, self-signed record to
 * publish. `JSON.stringify`, `String()` and `util.inspect` show only the ids.
 */
export class DeviceIdentity {
  /** The user who owns the device. */
  readonly userId: string;
  /** The device id. */
  readonly deviceId: string;
  /** The self-signed public bundle: store it on the server, hand it to other devices. */
  readonly publicBundle: DeviceBundle;

  /** @internal Use {@link createDeviceIdentity} or {@link DeviceIdentity.importState}. */
  constructor(userId: string, deviceId: string, keys: IdentityKeys) {
    this.userId = userId;
    this.deviceId = deviceId;
    const agreementKey = x25519PublicKey(keys.agreementSecretKey);
    const signingKey = signingPublicKey(keys.signingSecretKey);
    const signature = sign(keys.signingSecretKey, deviceBundleSignatureInput(userId, deviceId, agreementKey, signingKey));
    this.publicBundle = Object.freeze({
      v: 1,
      type: "device-bundle",
      userId,
      deviceId,
      agreementKey: base64urlEncode(agreementKey),
      signingKey: base64urlEncode(signingKey),
      signature: base64urlEncode(signature),
    });
    secrets.set(this, { ...keys, agreementPublicKey: agreementKey, signingPublicKey: signingKey });
    Object.freeze(this);
  }

  /**
   * Restores an identity from {@link DeviceIdentity.exportState} output.
   *
   * @example
   * ```ts
   * const device = DeviceIdentity.importState(JSON.parse(stored));
   * ```
   * @throws E2eeError `INVALID_ENVELOPE` or `UNSUPPORTED_VERSION` for a malformed state,
   *   `PAYLOAD_TOO_LARGE` for state JSON text over 4,096 characters.
   */
  static importState(state: unknown): DeviceIdentity {
    const parsed = parseDeviceIdentityState(state);
    const agreementSecretKey = base64urlDecode(parsed.agreementSecretKey);
    const signingSecretKey = base64urlDecode(parsed.signingSecretKey);
    if (agreementSecretKey === undefined || signingSecretKey === undefined) {
      throw new E2eeError("INVALID_ENVELOPE", "invalid device identity state: bad base64url");
    }
    return new DeviceIdentity(parsed.userId, parsed.deviceId, { agreementSecretKey, signingSecretKey });
  }

  /**
   * The identity's complete secret state, to persist in the device's own secure storage.
   * This is the only way its secret keys leave the object.
   *
   * @example
   * ```ts
   * await store.set("device", device.exportState());
   * ```
   * @throws E2eeError `INVALID_KEY` after {@link DeviceIdentity.destroy}.
   */
  exportState(): DeviceIdentityStateV1 {
    const keys = identitySecrets(this);
    return {
      v: 1,
      type: "device-identity",
      userId: this.userId,
      deviceId: this.deviceId,
      agreementSecretKey: base64urlEncode(keys.agreementSecretKey),
      signingSecretKey: base64urlEncode(keys.signingSecretKey),
    };
  }

  /**
   * Zeroes both secret keys. Every later use that needs them (exporting the state, signing a
   * message, sealing or opening a key share) throws `E2eeError` `INVALID_KEY`; the ids and the
   * public bundle stay readable. Idempotent. JavaScript cannot promise that no engine-made copy
   * survives; see the package README, "Secret hygiene".
   *
   * @example
   * ```ts
   * device.destroy(); // signing out: the stored state is the only copy left
   * ```
   */
  destroy(): void {
    const keys = secrets.get(this);
    if (keys === undefined || destroyedIdentities.has(this)) return;
    destroyedIdentities.add(this);
    forgetSigningKey(keys.signingSecretKey); // the node:crypto key object cached for signing
    keys.agreementSecretKey.fill(0);
    keys.signingSecretKey.fill(0);
  }

  /** `true` once {@link DeviceIdentity.destroy} has run. */
  get destroyed(): boolean {
    return destroyedIdentities.has(this);
  }

  /** Ids only. */
  toString(): string {
    return `DeviceIdentity(${this.userId}/${this.deviceId})`;
  }

  /** Ids and the public bundle; never a secret key. */
  toJSON(): { userId: string; deviceId: string; publicBundle: DeviceBundle } {
    return { userId: this.userId, deviceId: this.deviceId, publicBundle: this.publicBundle };
  }
}

Object.defineProperty(DeviceIdentity.prototype, INSPECT, {
  value(this: DeviceIdentity): string {
    return this.toString();
  },
});

/**
 * @internal The secret keys of an identity, a TypeError for anything else, or E2eeError
 * `INVALID_KEY` once the identity was destroyed.
 */
export function identitySecrets(device: unknown, name = "device"): IdentitySecrets {
  const keys = typeof device === "object" && device !== null ? secrets.get(device as DeviceIdentity) : undefined;
  if (keys === undefined) throw new TypeError(`"${name}" expected a DeviceIdentity, got ${describeValue(device)}`);
  if (destroyedIdentities.has(device as DeviceIdentity)) throw new E2eeError("INVALID_KEY", `"${name}" was destroyed`);
  return keys;
}

/**
 * Creates a device identity with fresh X25519 and Ed25519 key pairs.
 *
 * @example
 * ```ts
 * const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
 * await fetch("/devices", { method: "POST", body: JSON.stringify(device.publicBundle) });
 * ```
 * @throws TypeError when `userId` or `deviceId` is not a valid identifier.
 */
export async function createDeviceIdentity(options: CreateDeviceIdentityOptions): Promise<DeviceIdentity> {
  assertId(options.userId, "userId");
  assertId(options.deviceId, "deviceId");
  const agreement = generateX25519KeyPair();
  return new DeviceIdentity(options.userId, options.deviceId, {
    agreementSecretKey: agreement.secretKey,
    signingSecretKey: generateSigningSecretKey(),
  });
}

/** A device bundle whose self-signature verified, with its keys decoded. */
export interface VerifiedDeviceBundle {
  readonly bundle: DeviceBundle;
  readonly agreementKey: Uint8Array;
  readonly signingKey: Uint8Array;
}

/**
 * Parses a device bundle and verifies its self-signature.
 *
 * A valid self-signature proves the bundle is internally consistent, not that it belongs to the
 * user it names: compare fingerprints out of band or pin bundles to detect a substituted one.
 *
 * @example
 * ```ts
 * const { bundle } = verifyDeviceBundle(await (await fetch("/devices/user-2/phone")).json());
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a malformed bundle,
 *   `PAYLOAD_TOO_LARGE` for bundle JSON text over 4,096 characters, `BAD_SIGNATURE` when the
 *   self-signature does not verify.
 */
export function verifyDeviceBundle(input: unknown): VerifiedDeviceBundle {
  const pending = lookUpBundle(input);
  if (!("signed" in pending)) return pending;
  return rememberBundle(pending, verify(pending.signature, pending.signed, pending.signingKey));
}

/**
 * {@link verifyDeviceBundle}, verifying with WebCrypto's Ed25519 where `node:crypto` is absent
 * (browsers); the same checks, cache and verdicts. Rejects where `verifyDeviceBundle` throws.
 *
 * @example
 * ```ts
 * const { bundle } = await verifyDeviceBundleAsync(await (await fetch("/devices/user-2/phone")).json());
 * ```
 */
export async function verifyDeviceBundleAsync(input: unknown): Promise<VerifiedDeviceBundle> {
  const pending = lookUpBundle(input);
  if (!("signed" in pending)) return pending;
  return rememberBundle(pending, await verifyAsync(pending.signature, pending.signed, pending.signingKey));
}

/** A parsed bundle whose signature is still to be checked. */
interface PendingBundle {
  readonly bundle: DeviceBundle;
  readonly cacheKey: string;
  readonly agreementKey: Uint8Array;
  readonly signingKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly signed: Uint8Array;
}

/** Parses `input`: a copy of the cached result when it verified before, else what to verify. */
function lookUpBundle(input: unknown): VerifiedDeviceBundle | PendingBundle {
  // A bundle object this function returned before (frozen, made by the parser) needs no reparse.
  const known = typeof input === "object" && input !== null ? verifiedBundleObjects.get(input) : undefined;
  if (known !== undefined) return copyVerified(known);
  const bundle = parseDeviceBundle(input);
  const cacheKey = `${bundle.userId}\n${bundle.deviceId}\n${bundle.agreementKey}\n${bundle.signingKey}\n${bundle.signature}`;
  const cached = verifiedBundles.get(cacheKey);
  // Copies: the cache is process-wide, so no caller may change the bytes another one reads.
  if (cached !== undefined) return copyVerified(cached);
  const agreementKey = base64urlDecode(bundle.agreementKey);
  const signingKey = base64urlDecode(bundle.signingKey);
  const signature = base64urlDecode(bundle.signature);
  if (agreementKey === undefined || signingKey === undefined || signature === undefined) {
    throw new E2eeError("INVALID_ENVELOPE", "invalid device bundle: bad base64url");
  }
  const signed = deviceBundleSignatureInput(bundle.userId, bundle.deviceId, agreementKey, signingKey);
  return { bundle, cacheKey, agreementKey, signingKey, signature, signed };
}

/** Caches a bundle whose signature verified and returns a copy; throws `BAD_SIGNATURE` otherwise. */
function rememberBundle(pending: PendingBundle, valid: boolean): VerifiedDeviceBundle {
  if (!valid) throw new E2eeError("BAD_SIGNATURE", "device bundle signature does not verify");
  const { bundle, agreementKey, signingKey } = pending;
  const verified: VerifiedDeviceBundle = Object.freeze({ bundle, agreementKey, signingKey });
  if (verifiedBundles.size >= VERIFIED_BUNDLE_CACHE_SIZE) {
    verifiedBundles.delete(verifiedBundles.keys().next().value!);
  }
  verifiedBundles.set(pending.cacheKey, verified);
  verifiedBundleObjects.set(bundle, verified);
  return copyVerified(verified);
}

function copyVerified(verified: VerifiedDeviceBundle): VerifiedDeviceBundle {
  return Object.freeze({
    bundle: verified.bundle,
    agreementKey: verified.agreementKey.slice(),
    signingKey: verified.signingKey.slice(),
  });
}

/**
 * Bundles whose signature already verified, keyed by their complete content (so a changed byte
 * is a cache miss). Verifying costs about 3 ms in pure JS; sharing a key with a large room
 * re-reads the same bundles at every rotation. Oldest entries leave first.
 */
const verifiedBundles = new Map<string, VerifiedDeviceBundle>();
/** The frozen bundle objects handed out in a `VerifiedDeviceBundle`, by identity. */
const verifiedBundleObjects = new WeakMap<object, VerifiedDeviceBundle>();
const VERIFIED_BUNDLE_CACHE_SIZE = 10_000;
