/**
 * Sharing room key versions between devices with signed HPKE key shares.
 *
 * @module
 */
import { E2eeError, UnknownKeyError, parseRoomKeyShare, type RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import {
  openRoomKeyShare,
  sealRoomKeyShare,
  sealRoomKeyShareAsync,
  verifyDeviceBundle,
  verifyDeviceBundleAsync,
  type DeviceIdentity,
  type VerifiedDeviceBundle,
} from "@domvia/e2ee-crypto";
import { RoomKeyring, keyringInternals } from "./keyring";

/** Options of {@link shareRoomKey}. */
export interface ShareRoomKeyOptions {
  /** The keyring holding the version to share. */
  readonly keyring: RoomKeyring;
  /** The version to share; default the current one. */
  readonly keyVersion?: number | undefined;
  /** Which key id of that version, when concurrent rotations produced more than one. */
  readonly keyId?: string | undefined;
  /** The sending device; signs every share. */
  readonly from: DeviceIdentity;
  /** The recipient devices' public bundles. */
  readonly to: readonly unknown[];
}

/**
 * Encrypts one key version to each recipient device: one signed share per bundle, in the order
 * given. All-or-nothing: every bundle and rule is checked before any share is produced.
 *
 * The current version is always shareable with room members. An older version is shared only
 * when it was created as shareable with members who join later.
 *
 * @example
 * ```ts
 * const version = keyring.rotate({ reason: "member-removed" });
 * const shares = shareRoomKey({ keyring, from: myDevice, to: remainingBundles });
 * await server.postShares(shares); // the server routes each by recipientDeviceId
 * ```
 * @throws E2eeError `ROTATION_REQUIRED` (sharing the current version after a member was removed
 *   or a device revoked, before this keyring rotated), `UNKNOWN_KEY` (no such version), `KEY_WITHHELD` (an older version that is
 *   not shareable, or one only restored from a backup), `DEVICE_REVOKED` (a recipient or the
 *   sender is revoked or removed), `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` / `BAD_SIGNATURE` (a
 *   malformed or forged bundle), `PAYLOAD_TOO_LARGE` (a bundle's JSON text over 4,096 characters), `INVALID_KEY` (a
 *   low-order recipient key).
 */
export function shareRoomKey(options: ShareRoomKeyOptions): RoomKeyShareV1[] {
  const plan = planShare(options);
  const recipients = options.to.map((bundle) => verifyDeviceBundle(bundle));
  checkRecipients(options.keyring, recipients);
  return recipients.map(({ bundle }) => sealRoomKeyShare(shareInput(options, plan, bundle)));
}

/**
 * {@link shareRoomKey}, asynchronous: in browsers it runs X25519 and Ed25519 on WebCrypto (after
 * a one-time self-test), several times faster than noble's pure JS (bench/results/latest.md has
 * the figures). Elsewhere it does the same work as `shareRoomKey`. The same rules, checks and
 * errors, and the same all-or-nothing result: every bundle and rule is checked before any share is
 * produced, it rejects without shares when one recipient fails (with the error of the first such
 * recipient in `to`), and the keyring's rules are read again before it returns, so a member
 * removed or a device revoked while it ran rejects it. The shares come in the order of `to`.
 *
 * @example
 * ```ts
 * const version = keyring.rotate({ reason: "member-removed" });
 * const shares = await shareRoomKeyAsync({ keyring, from: myDevice, to: remainingBundles });
 * await server.postShares(shares);
 * ```
 * @throws E2eeError as {@link shareRoomKey}, as a rejection.
 */
export async function shareRoomKeyAsync(options: ShareRoomKeyOptions): Promise<RoomKeyShareV1[]> {
  const { shares, recheck } = await sealSharesAsync(options);
  recheck();
  return shares;
}

/**
 * @internal {@link shareRoomKeyAsync} up to its last check: the shares, and `recheck`, which reads
 * the keyring's rules and the sender again and throws what `shareRoomKeyAsync` would. A caller
 * must call it in the same synchronous step as whatever it does with the shares, because any
 * await in between lets the keyring change unseen.
 */
export async function sealSharesAsync(options: ShareRoomKeyOptions): Promise<{ shares: RoomKeyShareV1[]; recheck: () => void }> {
  // Read once: what follows the awaits uses this copy, not the caller's object.
  const { keyring, keyVersion, keyId, from } = options;
  const to: readonly unknown[] = Array.isArray(options.to) ? [...options.to] : options.to;
  const asked: ShareRoomKeyOptions = { keyring, keyVersion, keyId, from, to };
  const plan = planShare(asked);
  if (!Array.isArray(to)) throw new TypeError('"to" expected an array of device bundles');
  const recipients = await mapInOrder(to, (bundle) => verifyDeviceBundleAsync(bundle));
  // The keyring may change while this call waits: its rules are read again for the version chosen
  // at the call (a rotation meanwhile does not switch versions), before sealing and before returning.
  const recheckRules = (): void => {
    planShare({ ...asked, keyVersion: plan.entry.keyVersion, keyId: plan.entry.keyId });
    checkRecipients(keyring, recipients);
  };
  recheckRules();
  const shares = await mapInOrder(recipients, ({ bundle }) => sealRoomKeyShareAsync(shareInput(asked, plan, bundle)));
  const recheck = (): void => {
    recheckRules();
    if (from.destroyed) throw new E2eeError("INVALID_KEY", '"from" was destroyed');
  };
  return { shares, recheck };
}

/**
 * How many shares (or bundle checks) {@link shareRoomKeyAsync} keeps in flight at once. In a
 * one-off comparison (sharing with 1,000 devices in Chromium 150, not kept in bench/), 8, 32 and 64
 * were equally fast within the machine's noise, 1 about a third slower, and 256 no faster.
 */
const SHARES_IN_FLIGHT = 32;

/**
 * @internal `run` on every item, at most {@link SHARES_IN_FLIGHT} at a time, in order. The results
 * in order; when some reject, no further item starts, and the call rejects with the rejection of
 * the first in order (what the synchronous call, working in order, would have thrown).
 */
export async function mapInOrder<T, R>(items: readonly T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const settled: PromiseSettledResult<R>[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        settled[index] = { status: "fulfilled", value: await run(items[index]!) };
      } catch (reason) {
        settled[index] = { status: "rejected", reason };
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SHARES_IN_FLIGHT, items.length) }, worker));
  const firstFailure = settled.find((result): result is PromiseRejectedResult => result?.status === "rejected");
  if (firstFailure !== undefined) throw firstFailure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<R>).value);
}

interface SharePlan {
  readonly entry: NonNullable<ReturnType<typeof keyringInternals.entry>>;
}

/** The version to share, after the keyring's and the sender's rules. */
function planShare(options: ShareRoomKeyOptions): SharePlan {
  const { keyring, from } = options;
  if (!(keyring instanceof RoomKeyring)) throw new TypeError('"keyring" expected a RoomKeyring');
  const keyVersion = options.keyVersion ?? keyring.currentVersion;
  const entry = keyVersion === null ? undefined : keyringInternals.entry(keyring, keyVersion, options.keyId);
  if (entry === undefined) {
    throw new UnknownKeyError(keyring.roomId, options.keyId ?? "", keyVersion ?? 0);
  }
  // Every key id of the current version counts as current (concurrent rotations).
  const isCurrent = entry.keyVersion === keyring.currentVersion;
  if (entry.origin === "backup") {
    throw new E2eeError("KEY_WITHHELD", `version ${entry.keyVersion} was restored from a backup and is not shared on`);
  }
  if (!isCurrent && !entry.shareable) {
    throw new E2eeError("KEY_WITHHELD", `version ${entry.keyVersion} is not shareable with members who joined later`);
  }
  if (keyring.isRevoked(from.userId, from.deviceId)) {
    throw new E2eeError("DEVICE_REVOKED", `sending device "${from.userId}/${from.deviceId}" is revoked in this room`);
  }
  const pending = keyring.needsRotation();
  if (isCurrent && (pending === "member-removed" || pending === "device-revoked" || pending === "manual")) {
    // The current version predates the membership change: whoever receives it could send under
    // a key the removed member holds. Rotate first, then share the new version. (Older shareable
    // versions are history and may still be shared.)
    throw new E2eeError("ROTATION_REQUIRED", `room "${keyring.roomId}" must rotate before sharing (${pending})`);
  }
  return { entry };
}

/** Refuses recipients revoked in the room (all checked before any share is sealed). */
function checkRecipients(keyring: RoomKeyring, recipients: readonly VerifiedDeviceBundle[]): void {
  for (const { bundle } of recipients) {
    if (keyring.isRevoked(bundle.userId, bundle.deviceId)) {
      throw new E2eeError("DEVICE_REVOKED", `device "${bundle.userId}/${bundle.deviceId}" is revoked or its user removed`);
    }
  }
}

function shareInput({ keyring, from }: ShareRoomKeyOptions, { entry }: SharePlan, to: VerifiedDeviceBundle["bundle"]) {
  return { roomId: keyring.roomId, keyId: entry.keyId, keyVersion: entry.keyVersion, key: entry.key, shareable: entry.shareable, from, to };
}

/** Options of {@link acceptRoomKeyShare}. */
export interface AcceptRoomKeyShareOptions {
  /** The share, as received (object or JSON text). */
  readonly share: unknown;
  /** This device: the share must be addressed to it. */
  readonly device: DeviceIdentity;
  /** The public bundle of the device that sent the share. */
  readonly senderBundle: unknown;
  /** The room's keyring to add the version to. */
  readonly keyring: RoomKeyring;
  /**
   * Whether the device that sent the share is a current member device of this room, by your
   * server's membership. Required: a valid signature only proves which device sent a share, and
   * any device on the platform can sign one, so without this check a stranger's key could become
   * the room's current key. Called before the share is opened.
   */
  readonly isRoomMember: (sender: { readonly userId: string; readonly deviceId: string }) => boolean;
}

/** What an accepted share added. */
export interface AcceptedRoomKeyShare {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly shareable: boolean;
  /** `true` when the version is now the keyring's current one. */
  readonly becameCurrent: boolean;
  /** The device that sent it (its signature verified). */
  readonly sender: { readonly userId: string; readonly deviceId: string };
}

/**
 * Verifies a key share addressed to this device and adds its version to the room's keyring.
 * Accepting the same share twice is harmless. On any failure the keyring is unchanged.
 *
 * @example
 * ```ts
 * for (const share of await server.fetchMailbox(device.deviceId)) {
 *   const senderBundle = await server.fetchBundle(share.senderUserId, share.senderDeviceId);
 *   acceptRoomKeyShare({
 *     share, device, senderBundle, keyring: keyrings.get(share.roomId),
 *     isRoomMember: (sender) => server.isMember(share.roomId, sender),
 *   });
 * }
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` (malformed),
 *   `SHARE_MISADDRESSED` (another device or room), `DEVICE_REVOKED` (a revoked or removed
 *   sender), `UNKNOWN_SENDER` (not a member device of the room, or the bundle is not the sender's), `BAD_SIGNATURE` (any
 *   tampering), `DECRYPTION_FAILED`, `KEY_CONFLICT` (a different key for that version exists),
 *   `PAYLOAD_TOO_LARGE` (share or sender bundle JSON text over 4,096 characters, or the keyring
 *   already holds 100,000 versions).
 */
export function acceptRoomKeyShare(options: AcceptRoomKeyShareOptions): AcceptedRoomKeyShare {
  const { device, keyring } = options;
  if (!(keyring instanceof RoomKeyring)) throw new TypeError('"keyring" expected a RoomKeyring');
  const share = parseRoomKeyShare(options.share);
  if (share.roomId !== keyring.roomId) {
    throw new E2eeError("SHARE_MISADDRESSED", "key share is for another room than this keyring's");
  }
  if (typeof options.isRoomMember !== "function") {
    throw new TypeError('"isRoomMember" expected a function that checks the sender against the room\'s members');
  }
  if (keyring.isRevoked(share.senderUserId, share.senderDeviceId)) {
    throw new E2eeError("DEVICE_REVOKED", `sender "${share.senderUserId}/${share.senderDeviceId}" is revoked or removed`);
  }
  if (options.isRoomMember({ userId: share.senderUserId, deviceId: share.senderDeviceId }) !== true) {
    throw new E2eeError("UNKNOWN_SENDER", `sender "${share.senderUserId}/${share.senderDeviceId}" is not a member device of room "${keyring.roomId}"`);
  }
  const opened = openRoomKeyShare({ share, device, senderBundle: options.senderBundle });
  const { becameCurrent } = keyringInternals.addVersion(keyring, {
    keyId: opened.keyId,
    keyVersion: opened.keyVersion,
    key: opened.key,
    shareable: opened.shareable,
    origin: "share",
    createdAt: Date.now(),
    messageCount: 0,
  });
  return {
    keyId: opened.keyId,
    keyVersion: opened.keyVersion,
    shareable: opened.shareable,
    becameCurrent,
    sender: { userId: opened.senderUserId, deviceId: opened.senderDeviceId },
  };
}
