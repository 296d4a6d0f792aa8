/**
 * The trust store (SPEC.md §20.4): pins each device's keys the first time this device meets them
 * (trust on first use) and refuses, with `IDENTITY_CHANGED`, a later bundle that names the same
 * user and device with other keys, until the app accepts the change after its user compared
 * fingerprints out of band.
 *
 * A malicious directory server substituting a bundle is the attack it stops, in both directions:
 * a substituted *sender* bundle would let a member forge messages and key shares under another
 * device's name; a substituted *recipient* bundle would hand the room key to the server.
 *
 * @module
 */
import {
  E2eeError,
  assertId,
  parseTrustStoreState,
  safeParseRoomKeyShare,
  TRUST_STORE_LIMITS,
  type PinnedDeviceV1,
  type RoomKeyShareV1,
  type TrustStoreStateV1,
} from "@domvia/e2ee-envelope";
import {
  base64urlDecode,
  deviceKeysFingerprint,
  verifyDeviceBundle,
  verifyDeviceBundleAsync,
  type SenderBundleResolver,
  type VerifiedDeviceBundle,
} from "@domvia/e2ee-crypto";
import type { KeyStore } from "./key-store";
import { RoomKeyring } from "./keyring";
import {
  acceptRoomKeyShare,
  mapInOrder,
  sealSharesAsync,
  shareRoomKey,
  type AcceptRoomKeyShareOptions,
  type AcceptedRoomKeyShare,
  type ShareRoomKeyOptions,
} from "./sharing";

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Reported: a known device presented other keys than the pinned ones. */
export interface IdentityChangedEvent {
  readonly type: "identity-changed";
  readonly userId: string;
  readonly deviceId: string;
  /** Fingerprint of the pinned keys (what the user may have verified). */
  readonly pinnedFingerprint: string;
  /** Fingerprint of the keys presented now. */
  readonly presentedFingerprint: string;
  /** `true` when the user had verified the pinned keys: warn more loudly. */
  readonly pinnedVerified: boolean;
}

/** Reported: keys were pinned (a first sight, an accepted change, or a verification). Save the store. */
export interface IdentityPinnedEvent {
  readonly type: "identity-pinned";
  readonly userId: string;
  readonly deviceId: string;
  /** `first-use` (never seen before), `accepted` ({@link TrustStore.acceptChangedIdentity}) or `verified` ({@link TrustStore.markVerified}). */
  readonly reason: "first-use" | "accepted" | "verified";
  readonly verified: boolean;
}

/** What {@link TrustStore.subscribe} listeners receive. */
export type TrustStoreEvent = IdentityChangedEvent | IdentityPinnedEvent;

/** What the trust store knows about one device. Public values. */
export interface PinnedIdentity {
  readonly userId: string;
  readonly deviceId: string;
  /** Fingerprint of the pinned keys (SPEC.md §20.1). */
  readonly fingerprint: string;
  /** Whether the user verified these keys out of band. */
  readonly verified: boolean;
  /** When these keys were pinned, Unix milliseconds. */
  readonly pinnedAt: number;
}

/**
 * Thrown with code `IDENTITY_CHANGED` when a bundle names a pinned device with other keys. Both
 * fingerprints are public; show them, and trust the new keys only after the user compared them.
 *
 * @example
 * ```ts
 * try {
 *   trustStore.check(bundle);
 * } catch (error) {
 *   if (error instanceof IdentityChangedError) showChangedSafetyNumber(error.userId, error.presentedFingerprint);
 *   else throw error;
 * }
 * ```
 */
export class IdentityChangedError extends E2eeError {
  readonly userId: string;
  readonly deviceId: string;
  readonly pinnedFingerprint: string;
  readonly presentedFingerprint: string;
  constructor(details: Omit<IdentityChangedEvent, "type" | "pinnedVerified">) {
    super("IDENTITY_CHANGED", `device "${details.userId}/${details.deviceId}" presents other keys than the ones pinned for it`);
    this.name = "IdentityChangedError";
    this.userId = details.userId;
    this.deviceId = details.deviceId;
    this.pinnedFingerprint = details.pinnedFingerprint;
    this.presentedFingerprint = details.presentedFingerprint;
  }
}

/** A device the store refused to share with, and why. */
export interface RefusedRecipient {
  readonly userId: string;
  readonly deviceId: string;
  readonly error: IdentityChangedError;
}

/** What {@link shareRoomKeyWithTrust} produced. */
export interface TrustedRoomKeyShares {
  /** One share per accepted recipient, in the order given. */
  readonly shares: RoomKeyShareV1[];
  /** Recipients whose keys changed: no share was made for them. */
  readonly refused: RefusedRecipient[];
}

/** Options of {@link shareRoomKeyWithTrust}. */
export interface ShareRoomKeyWithTrustOptions extends ShareRoomKeyOptions {
  readonly trustStore: TrustStore;
}

/** Options of {@link acceptRoomKeyShareWithTrust}. */
export interface AcceptRoomKeyShareWithTrustOptions extends AcceptRoomKeyShareOptions {
  readonly trustStore: TrustStore;
}

interface Pin {
  readonly userId: string;
  readonly deviceId: string;
  readonly agreementKey: string;
  readonly signingKey: string;
  readonly verified: boolean;
  readonly pinnedAt: number;
}

/** The outcome of checking bundles against the pins, before anything is changed. */
interface Plan {
  readonly accepted: VerifiedDeviceBundle[];
  readonly changed: { readonly presented: VerifiedDeviceBundle; readonly pinned: Pin }[];
  readonly newPins: Map<string, Pin>;
}

interface TrustInternals {
  plan(store: TrustStore, bundles: readonly VerifiedDeviceBundle[]): Plan;
  refuse(store: TrustStore, presented: VerifiedDeviceBundle, pinned: Pin): IdentityChangedError;
  commit(store: TrustStore, plan: Plan): void;
}

let trustInternals: TrustInternals;

const address = (userId: string, deviceId: string): string => `${userId}/${deviceId}`;
/** Keys compared as canonical base64url text: equal text is equal bytes. Public, so `===` is fine. */
const sameKeys = (pin: Pin, bundle: VerifiedDeviceBundle["bundle"]): boolean =>
  pin.agreementKey === bundle.agreementKey && pin.signingKey === bundle.signingKey;

/** Changes already reported, so each fires its event once per store. Oldest entries leave first. */
const REPORTED_LIMIT = 10_000;

const pinOf = (bundle: VerifiedDeviceBundle["bundle"], verified: boolean, pinnedAt: number): Pin => ({
  userId: bundle.userId,
  deviceId: bundle.deviceId,
  agreementKey: bundle.agreementKey,
  signingKey: bundle.signingKey,
  verified,
  pinnedAt,
});

const storeFull = (): E2eeError => new E2eeError("PAYLOAD_TOO_LARGE", `a trust store pins at most ${TRUST_STORE_LIMITS.maxDevices} devices`);

function fingerprintOfPin(pin: Pin): string {
  const agreementKey = base64urlDecode(pin.agreementKey);
  const signingKey = base64urlDecode(pin.signingKey);
  // Unreachable: pins come from verified bundles or a state whose keys the schema checked.
  if (agreementKey === undefined || signingKey === undefined) throw new E2eeError("INVALID_ENVELOPE", "invalid pinned key");
  return deviceKeysFingerprint({ userId: pin.userId, deviceId: pin.deviceId, agreementKey, signingKey });
}

function rethrowLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}

/**
 * Device keys pinned on first use. One per app install (not per room): a device's keys are the
 * same in every room. Persist it with {@link saveTrustStore} after every `identity-pinned` event.
 *
 * Checks compare public keys with ordinary equality; fingerprints are computed only to report a
 * change. Revocation is the keyring's business: a revoked device keeps its pin (its old messages
 * still verify, and nobody can re-key it silently), and the keyring keeps refusing it.
 *
 * @example
 * ```ts
 * const trustStore = (await loadTrustStore(store)) ?? TrustStore.create();
 * trustStore.subscribe((event) => {
 *   if (event.type === "identity-changed") warnUser(event.userId, event.presentedFingerprint);
 *   else void saveTrustStore(store, trustStore);
 * });
 * const resolveSender = trustStore.resolver(({ userId, deviceId }) => directory.get(userId, deviceId));
 * ```
 */
export class TrustStore {
  readonly #pins: Map<string, Pin>;
  readonly #listeners = new Set<(event: TrustStoreEvent) => void>();
  readonly #reported = new Set<string>();

  private constructor(pins: Map<string, Pin>) {
    this.#pins = pins;
  }

  /**
   * An empty trust store.
   *
   * @example
   * ```ts
   * const trustStore = TrustStore.create();
   * ```
   */
  static create(): TrustStore {
    return new TrustStore(new Map());
  }

  /**
   * Restores a trust store from {@link TrustStore.exportState} output.
   *
   * @example
   * ```ts
   * const trustStore = TrustStore.importState(await storage.get("trust"));
   * ```
   * @throws E2eeError `INVALID_ENVELOPE` (malformed, or two pins for one device),
   *   `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`.
   */
  static importState(state: unknown): TrustStore {
    const parsed = parseTrustStoreState(state);
    const pins = new Map<string, Pin>();
    for (const device of parsed.devices) pins.set(address(device.userId, device.deviceId), { ...device });
    return new TrustStore(pins);
  }

  /**
   * The store's state, pins ordered by user id then device id (SPEC.md §20.5). Public keys only,
   * but keep it where nobody else can write: a changed pin silences the warning.
   *
   * @example
   * ```ts
   * await storage.set("trust", trustStore.exportState());
   * ```
   */
  exportState(): TrustStoreStateV1 {
    const devices: PinnedDeviceV1[] = [...this.#pins.values()]
      .sort((a, b) => (a.userId !== b.userId ? (a.userId < b.userId ? -1 : 1) : a.deviceId < b.deviceId ? -1 : 1))
      .map((pin) => ({ ...pin }));
    return { v: 1, type: "trust-store", devices };
  }

  /** How many devices are pinned. */
  get size(): number {
    return this.#pins.size;
  }

  /**
   * What is pinned for a device, or `undefined` when it was never seen. The fingerprint is
   * computed on the first call for given keys (5,200 SHA-512 calls), then remembered.
   *
   * @example
   * ```ts
   * const bob = trustStore.pinned("bob", "laptop");
   * if (bob !== undefined && !bob.verified) offerVerification(bob.fingerprint);
   * ```
   * @throws TypeError when an id is invalid.
   */
  pinned(userId: string, deviceId: string): PinnedIdentity | undefined {
    assertId(userId, "userId");
    assertId(deviceId, "deviceId");
    const pin = this.#pins.get(address(userId, deviceId));
    if (pin === undefined) return undefined;
    return Object.freeze({ userId, deviceId, fingerprint: fingerprintOfPin(pin), verified: pin.verified, pinnedAt: pin.pinnedAt });
  }

  /**
   * Checks a bundle before its keys are used: verifies its self-signature, pins it when its
   * device was never seen, passes it when it matches the pin, and otherwise reports
   * `identity-changed` (once per presented keys) and throws. Nothing changes on failure.
   *
   * @example
   * ```ts
   * const { bundle } = trustStore.check(await directory.get("bob", "laptop"));
   * ```
   * @throws E2eeError `IDENTITY_CHANGED` (an {@link IdentityChangedError}); `INVALID_ENVELOPE`,
   *   `UNSUPPORTED_VERSION` or `BAD_SIGNATURE` for a bundle that does not verify;
   *   `PAYLOAD_TOO_LARGE` when 100,000 devices are already pinned or the bundle is JSON text over
   *   4,096 characters.
   */
  check(bundle: unknown): VerifiedDeviceBundle {
    return this.#checkVerified(verifyDeviceBundle(bundle));
  }

  /** {@link TrustStore.check} of a bundle that already verified; a known device with its pinned keys passes at once. */
  #checkVerified(verified: VerifiedDeviceBundle): VerifiedDeviceBundle {
    const pin = this.#pins.get(address(verified.bundle.userId, verified.bundle.deviceId));
    if (pin !== undefined && sameKeys(pin, verified.bundle)) return verified;
    const plan = this.#plan([verified]);
    const [changed] = plan.changed;
    if (changed !== undefined) throw this.#refuse(changed.presented, changed.pinned);
    this.#commit(plan);
    return verified;
  }

  /**
   * Pins a bundle's keys in place of the pinned ones, unverified: the app calls it when its user
   * chose to trust a device's new keys (a reinstalled app), ideally after comparing fingerprints
   * (then use {@link TrustStore.markVerified}). Pins a device never seen, too. Never call it on
   * the server's word alone: that is exactly what a substituting server would want.
   *
   * @example
   * ```ts
   * if (await askUser(`Trust ${error.userId}'s new keys?`)) trustStore.acceptChangedIdentity(newBundle);
   * ```
   * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `BAD_SIGNATURE` for a bundle
   *   that does not verify; `PAYLOAD_TOO_LARGE` when the store is full or the bundle is JSON text
   *   over 4,096 characters.
   */
  acceptChangedIdentity(bundle: unknown): VerifiedDeviceBundle {
    return this.#replace(verifyDeviceBundle(bundle), false);
  }

  /**
   * Pins a bundle's keys as verified: the user compared its fingerprint (or the safety number)
   * with the other person's. Replaces any other pinned keys for the device.
   *
   * @example
   * ```ts
   * if (safetyNumbersMatch(deviceFingerprint(bundle), scanned)) trustStore.markVerified(bundle);
   * ```
   * @throws The same errors as {@link TrustStore.acceptChangedIdentity}.
   */
  markVerified(bundle: unknown): VerifiedDeviceBundle {
    return this.#replace(verifyDeviceBundle(bundle), true);
  }

  /**
   * Removes a device's pin, so that the next bundle for its ids is pinned on first use. Only for
   * the user's own decision (a device they removed and will re-add with new keys): a device id
   * re-added by the server alone must go through {@link TrustStore.acceptChangedIdentity}.
   *
   * @example
   * ```ts
   * trustStore.forgetDevice("alice", "old-phone");
   * ```
   * @returns `true` when a pin was removed.
   * @throws TypeError when an id is invalid.
   */
  forgetDevice(userId: string, deviceId: string): boolean {
    assertId(userId, "userId");
    assertId(deviceId, "deviceId");
    this.#forgetReported(address(userId, deviceId));
    return this.#pins.delete(address(userId, deviceId));
  }

  /**
   * Calls `listener` with every {@link TrustStoreEvent}, synchronously, after the store changed
   * (`identity-pinned`) or before a change is refused (`identity-changed`). An error thrown by a
   * listener is rethrown in a new task and never affects the check.
   *
   * @example
   * ```ts
   * const unsubscribe = trustStore.subscribe((event) => console.log(event.type));
   * ```
   * @returns The function that unsubscribes.
   * @throws TypeError when `listener` is not a function.
   */
  subscribe(listener: (event: TrustStoreEvent) => void): () => void {
    if (typeof listener !== "function") throw new TypeError(`"listener" expected a function, got ${typeof listener}`);
    const own = (event: TrustStoreEvent): void => listener(event);
    this.#listeners.add(own);
    return () => {
      this.#listeners.delete(own);
    };
  }

  /**
   * Wraps your device directory as a {@link SenderBundleResolver} for `decryptChatMessage`,
   * keyrings and `createEncryptedChannel`: each bundle it returns passed {@link TrustStore.check}.
   * A bundle for other ids than the ones asked for is treated as none (`UNKNOWN_SENDER`) and
   * pinned for nothing.
   *
   * @example
   * ```ts
   * await keyring.decryptChatMessage(envelope, { roomId, messageId, resolveSender: trustStore.resolver(lookup) });
   * ```
   * @throws TypeError when `lookup` is not a function. The resolver throws what `lookup` throws
   *   and what {@link TrustStore.check} throws (`IDENTITY_CHANGED`, `BAD_SIGNATURE`, …).
   */
  resolver(lookup: SenderBundleResolver): SenderBundleResolver {
    if (typeof lookup !== "function") throw new TypeError(`"lookup" expected a function, got ${typeof lookup}`);
    return async (sender) => {
      const found: unknown = await lookup(sender);
      if (found === undefined || found === null) return undefined;
      const verified = verifyDeviceBundle(found);
      if (verified.bundle.userId !== sender.userId || verified.bundle.deviceId !== sender.deviceId) return undefined;
      return this.#checkVerified(verified).bundle;
    };
  }

  /** Counts only. */
  toString(): string {
    return `TrustStore(${this.#pins.size} devices)`;
  }

  /** Counts only; use {@link TrustStore.exportState} to persist. */
  toJSON(): { devices: number } {
    return { devices: this.#pins.size };
  }

  #plan(bundles: readonly VerifiedDeviceBundle[]): Plan {
    const accepted: VerifiedDeviceBundle[] = [];
    const changed: Plan["changed"][number][] = [];
    const newPins = new Map<string, Pin>();
    const now = Date.now();
    for (const verified of bundles) {
      const { bundle } = verified;
      const key = address(bundle.userId, bundle.deviceId);
      // A device listed twice in one batch with other keys is refused like any change.
      const pin = this.#pins.get(key) ?? newPins.get(key);
      if (pin === undefined) {
        newPins.set(key, pinOf(bundle, false, now));
        accepted.push(verified);
      } else if (sameKeys(pin, bundle)) {
        accepted.push(verified);
      } else {
        changed.push({ presented: verified, pinned: pin });
      }
    }
    if (this.#pins.size + newPins.size > TRUST_STORE_LIMITS.maxDevices) throw storeFull();
    return { accepted, changed, newPins };
  }

  #commit(plan: Plan): void {
    for (const [key, pin] of plan.newPins) this.#pins.set(key, pin);
    for (const pin of plan.newPins.values()) {
      this.#emit({ type: "identity-pinned", userId: pin.userId, deviceId: pin.deviceId, reason: "first-use", verified: false });
    }
  }

  /** Builds the error for a changed identity and reports it, once per presented keys. */
  #refuse(presented: VerifiedDeviceBundle, pinned: Pin): IdentityChangedError {
    const { userId, deviceId } = presented.bundle;
    const details = {
      userId,
      deviceId,
      pinnedFingerprint: fingerprintOfPin(pinned),
      presentedFingerprint: deviceKeysFingerprint({ userId, deviceId, agreementKey: presented.agreementKey, signingKey: presented.signingKey }),
    };
    const reportKey = `${address(userId, deviceId)}\n${presented.bundle.agreementKey}\n${presented.bundle.signingKey}`;
    if (!this.#reported.has(reportKey)) {
      if (this.#reported.size >= REPORTED_LIMIT) this.#reported.delete(this.#reported.values().next().value!);
      this.#reported.add(reportKey);
      this.#emit(Object.freeze({ type: "identity-changed", ...details, pinnedVerified: pinned.verified }));
    }
    return new IdentityChangedError(details);
  }

  #replace(verified: VerifiedDeviceBundle, markVerified: boolean): VerifiedDeviceBundle {
    const { bundle } = verified;
    const key = address(bundle.userId, bundle.deviceId);
    const current = this.#pins.get(key);
    if (current === undefined && this.#pins.size >= TRUST_STORE_LIMITS.maxDevices) throw storeFull();
    const same = current !== undefined && sameKeys(current, bundle);
    if (same && (current.verified || !markVerified)) return verified;
    this.#pins.set(key, pinOf(bundle, markVerified, same ? current.pinnedAt : Date.now()));
    this.#forgetReported(key);
    this.#emit({ type: "identity-pinned", userId: bundle.userId, deviceId: bundle.deviceId, reason: markVerified ? "verified" : "accepted", verified: markVerified });
    return verified;
  }

  #forgetReported(key: string): void {
    for (const reported of this.#reported) if (reported.startsWith(`${key}\n`)) this.#reported.delete(reported);
  }

  #emit(event: TrustStoreEvent): void {
    const frozen = Object.freeze(event);
    for (const listener of [...this.#listeners]) {
      try {
        listener(frozen);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }

  static {
    trustInternals = {
      plan: (store, bundles) => store.#plan(bundles),
      refuse: (store, presented, pinned) => store.#refuse(presented, pinned),
      commit: (store, plan) => store.#commit(plan),
    };
  }
}

Object.defineProperty(TrustStore.prototype, INSPECT, {
  value(this: TrustStore): string {
    return this.toString();
  },
});

function checkTrustStore(value: unknown): TrustStore {
  if (!(value instanceof TrustStore)) throw new TypeError('"trustStore" expected a TrustStore');
  return value;
}

/**
 * {@link shareRoomKey} through a trust store: recipients whose keys changed since they were
 * pinned get no share and are reported in `refused` (with `identity-changed` events); new
 * recipients are pinned, but only once every share was produced. Any other failure throws as
 * `shareRoomKey` does, with nothing shared and nothing pinned.
 *
 * @example
 * ```ts
 * const { shares, refused } = shareRoomKeyWithTrust({ keyring, from: myDevice, to: bundles, trustStore });
 * await server.postShares(shares);
 * for (const { userId, deviceId } of refused) showChangedIdentity(userId, deviceId);
 * ```
 * @throws TypeError when `trustStore` is not a {@link TrustStore} or `to` not an array. E2eeError:
 *   `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION`, `BAD_SIGNATURE` (a recipient bundle),
 *   `PAYLOAD_TOO_LARGE` (the store is full), and every error of {@link shareRoomKey}.
 */
export function shareRoomKeyWithTrust(options: ShareRoomKeyWithTrustOptions): TrustedRoomKeyShares {
  const trustStore = checkTrustStore(options.trustStore);
  if (!Array.isArray(options.to)) throw new TypeError('"to" expected an array of device bundles');
  const verified = options.to.map((bundle: unknown) => verifyDeviceBundle(bundle));
  const plan = trustInternals.plan(trustStore, verified);
  const refused = refuseChanged(trustStore, plan);
  const shares = shareRoomKey({
    keyring: options.keyring,
    keyVersion: options.keyVersion,
    keyId: options.keyId,
    from: options.from,
    to: plan.accepted.map(({ bundle }) => bundle),
  });
  trustInternals.commit(trustStore, plan);
  return { shares, refused };
}

/**
 * {@link shareRoomKeyWithTrust}, asynchronous: the shares are made as {@link shareRoomKeyAsync}
 * makes them, on WebCrypto's curves in browsers, of the version current when the call started
 * (unless `keyVersion` names one). Changed identities are reported (`identity-changed`) before
 * sharing, as the synchronous call does; the store and the keyring's rules are read again, and new
 * devices pinned, in one synchronous step once the shares exist. Should the store have changed for
 * one of the recipients meanwhile (only your own code changes it), the call seals the shares again
 * for the store as it now is; after three such attempts it does the whole share with
 * `shareRoomKeyWithTrust` (synchronous, and in a browser on noble), so it always ends. The shares,
 * `refused` and pins are then what the synchronous call gives on the store as it is at the end;
 * the events are not always: each attempt reports the changed identities it sees, so a device
 * whose identity changed and was then accepted while the call ran was reported, though shared with.
 *
 * @example
 * ```ts
 * const { shares, refused } = await shareRoomKeyWithTrustAsync({ keyring, from: myDevice, to: bundles, trustStore });
 * ```
 * @throws as {@link shareRoomKeyWithTrust}, as a rejection.
 */
export async function shareRoomKeyWithTrustAsync(options: ShareRoomKeyWithTrustOptions): Promise<TrustedRoomKeyShares> {
  const trustStore = checkTrustStore(options.trustStore);
  if (!Array.isArray(options.to)) throw new TypeError('"to" expected an array of device bundles');
  // What the call was asked at its start: the recipients, and the version then current.
  const keyring: unknown = options.keyring;
  const keyVersion = options.keyVersion ?? (keyring instanceof RoomKeyring ? (keyring.currentVersion ?? undefined) : undefined);
  const asked: ShareRoomKeyWithTrustOptions = { ...options, keyVersion, to: [...options.to] };
  const verified = await mapInOrder(asked.to, (bundle: unknown) => verifyDeviceBundleAsync(bundle));
  for (let attempt = 0; attempt < TRUSTED_SHARE_ATTEMPTS; attempt++) {
    const before = trustInternals.plan(trustStore, verified);
    // Changed identities are reported before sharing, as the synchronous call does (once each).
    refuseChanged(trustStore, before);
    const { shares, recheck } = await sealSharesAsync({ ...asked, to: before.accepted.map(({ bundle }) => bundle) });
    // From here to the return, nothing waits: neither the store nor the keyring can change under
    // this step, so the rules read here are the ones the shares and pins go out under.
    const plan = trustInternals.plan(trustStore, verified);
    if (sameAccepted(plan, before)) {
      // In the synchronous call's order: refusals reported, then the rules, then the pins.
      const refused = refuseChanged(trustStore, plan);
      recheck();
      trustInternals.commit(trustStore, plan);
      return { shares, refused };
    }
    // The store changed for a recipient while the shares were sealed: these shares are dropped.
  }
  return shareRoomKeyWithTrust(asked);
}

/**
 * How many times {@link shareRoomKeyWithTrustAsync} seals the shares asynchronously when the
 * trust store keeps changing under it, before it shares synchronously, where nothing can.
 */
const TRUSTED_SHARE_ATTEMPTS = 3;

/** Whether two plans share with the same recipients, as the same entries in the same order. */
function sameAccepted(a: Plan, b: Plan): boolean {
  return a.accepted.length === b.accepted.length && a.accepted.every((entry, index) => entry === b.accepted[index]);
}

/** The plan's changed identities, each refused (reported once per presented keys). */
function refuseChanged(trustStore: TrustStore, plan: Plan): RefusedRecipient[] {
  return plan.changed.map(({ presented, pinned }) => {
    const error = trustInternals.refuse(trustStore, presented, pinned);
    return Object.freeze({ userId: error.userId, deviceId: error.deviceId, error });
  });
}

/**
 * {@link acceptRoomKeyShare} through a trust store: a share whose sender bundle names a pinned
 * device with other keys is refused with `IDENTITY_CHANGED` before it is opened; a sender seen
 * for the first time is pinned once the share was accepted. On any failure the keyring and the
 * store are unchanged.
 *
 * @example
 * ```ts
 * acceptRoomKeyShareWithTrust({ share, device, senderBundle, keyring, isRoomMember, trustStore });
 * ```
 * @throws TypeError when `trustStore` is not a {@link TrustStore}. E2eeError `IDENTITY_CHANGED`
 *   (an {@link IdentityChangedError}), `PAYLOAD_TOO_LARGE` (the store is full), and every error
 *   of {@link acceptRoomKeyShare}.
 */
export function acceptRoomKeyShareWithTrust(options: AcceptRoomKeyShareWithTrustOptions): AcceptedRoomKeyShare {
  const trustStore = checkTrustStore(options.trustStore);
  const { share, senderBundle } = options;
  let plan: Plan | undefined;
  const parsed = safeParseRoomKeyShare(share);
  if (parsed.success) {
    let sender: VerifiedDeviceBundle | undefined;
    try {
      sender = verifyDeviceBundle(senderBundle);
    } catch {
      // acceptRoomKeyShare reports it below, in its own order of checks.
    }
    if (sender !== undefined && sender.bundle.userId === parsed.data.senderUserId && sender.bundle.deviceId === parsed.data.senderDeviceId) {
      plan = trustInternals.plan(trustStore, [sender]);
      const [changed] = plan.changed;
      if (changed !== undefined) throw trustInternals.refuse(trustStore, changed.presented, changed.pinned);
    }
  }
  // Without a plan, the share is malformed or its bundle does not verify or is not its sender's:
  // acceptRoomKeyShare fails on exactly those (SPEC.md §10.7 steps 1, 3, 4), so nothing is
  // accepted unchecked.
  const accepted = acceptRoomKeyShare({ share, device: options.device, senderBundle, keyring: options.keyring, isRoomMember: options.isRoomMember });
  if (plan !== undefined) trustInternals.commit(trustStore, plan);
  return accepted;
}

const TRUST_STORE_KEY = "domvia-e2ee/trust-store";

/**
 * Saves a trust store's state in a {@link KeyStore}.
 *
 * @example
 * ```ts
 * trustStore.subscribe((event) => { if (event.type === "identity-pinned") void saveTrustStore(store, trustStore); });
 * ```
 */
export async function saveTrustStore(store: KeyStore, trustStore: TrustStore): Promise<void> {
  await store.set(TRUST_STORE_KEY, checkTrustStore(trustStore).exportState());
}

/**
 * Loads the saved trust store, or `undefined` when none is saved.
 *
 * @example
 * ```ts
 * const trustStore = (await loadTrustStore(store)) ?? TrustStore.create();
 * ```
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE` for a
 *   corrupt stored state.
 */
export async function loadTrustStore(store: KeyStore): Promise<TrustStore | undefined> {
  const state = await store.get(TRUST_STORE_KEY);
  return state === undefined ? undefined : TrustStore.importState(state);
}
