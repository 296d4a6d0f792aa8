/**
 * Room keyrings: every key version of one room that this device holds, the current one for
 * sending, and the room's rotation state.
 *
 * @module
 */
import {
  ContextMismatchError,
  E2eeError,
  ENVELOPE_LIMITS,
  assertId,
  parseKeyringState,
  type Envelope,
  type KeyOrigin,
  type KeyringStateV1,
  type RotationReason,
} from "@domvia/e2ee-envelope";
import {
  base64urlDecode,
  base64urlEncode,
  decryptChatMessage,
  encryptChatJson,
  exportRoomKeyBytes,
  generateRoomKeySync,
  importRoomKeyBytes,
  randomBytes,
  roomKeysEqual,
  type DecryptedChatMessage,
  type DeviceIdentity,
  type JsonValue,
  type PaddingMode,
  type RoomKey,
  type RoomKeyReference,
  type SenderBundleResolver,
} from "@domvia/e2ee-crypto";
import { resolvePolicy, type RotationPolicy } from "./policy";
import { ReplayGuard } from "./replay-guard";

/** Public facts about one key version; never the key. */
export interface KeyVersionInfo {
  readonly keyId: string;
  readonly keyVersion: number;
  /** Whether it may be shared with members who join later. */
  readonly shareable: boolean;
  /** Where this device got it. */
  readonly origin: KeyOrigin;
  /** When it was created (Unix ms). */
  readonly createdAt: number;
  /** Messages this device encrypted with it. */
  readonly messageCount: number;
}

/** @internal One key version held by a keyring. */
export interface KeyEntry {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly key: RoomKey;
  readonly shareable: boolean;
  readonly origin: KeyOrigin;
  readonly createdAt: number;
  messageCount: number;
}

/** Options of {@link RoomKeyring.create} and {@link RoomKeyring.empty}. */
export interface RoomKeyringOptions {
  /** The room (private channel) this keyring encrypts for. */
  readonly roomId: string;
  /** Overrides of {@link DEFAULT_ROTATION_POLICY}. */
  readonly policy?: Partial<RotationPolicy> | undefined;
  /** For `create`: whether version 1 may be shared with members who join later. Default `false`. */
  readonly shareable?: boolean | undefined;
}

/** Options of {@link RoomKeyring.encryptChatJson}. */
export interface KeyringEncryptOptions {
  /** The message id, unique within the room. */
  readonly messageId: string;
  /** Sign as this device (envelope v2), so receivers can verify the sender. */
  readonly sender?: DeviceIdentity | undefined;
  /** Length-hiding padding; default `"padme"`. */
  readonly padding?: PaddingMode | undefined;
}

/** Options of {@link RoomKeyring.decryptChatJson}. */
export interface KeyringDecryptOptions {
  /** The room the event arrived on; must be this keyring's room. */
  readonly roomId: string;
  /** The id of the event that carried it. */
  readonly messageId: string;
  /** Finds sender bundles to verify signed envelopes. */
  readonly resolveSender?: SenderBundleResolver | undefined;
  /** Refuse unsigned envelopes. */
  readonly requireSignature?: boolean | undefined;
  /**
   * Record the opened message in this guard, and refuse one it has already recorded with
   * `REPLAYED_MESSAGE` (SPEC.md §21). Leave it out to read history again.
   */
  readonly replayGuard?: ReplayGuard | undefined;
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * How far past the highest version it holds a keyring accepts a shared version. A legitimate
 * room moves one version per rotation; a huge jump would let one share exhaust the version space
 * (2^31 − 1) and stop the room from ever rotating again.
 */
const MAX_VERSION_JUMP = 1000;

/** The most versions a keyring holds: what a stored keyring state may list (SPEC.md §14.1). */
const MAX_KEYRING_VERSIONS = 100_000;

/** Module-private access for share acceptance and backups; not part of the package's API. */
export interface KeyringInternals {
  addVersion(keyring: RoomKeyring, entry: KeyEntry): { readonly becameCurrent: boolean };
  entry(keyring: RoomKeyring, keyVersion: number, keyId?: string): KeyEntry | undefined;
  entries(keyring: RoomKeyring): readonly KeyEntry[];
}

/** @internal Set by {@link RoomKeyring}'s static initialiser; imported by sharing and backups only. */
export let keyringInternals: KeyringInternals;
const entryKey = (keyVersion: number, keyId: string): string => `${keyVersion}\n${keyId}`;
const deviceKey = (userId: string, deviceId: string): string => `${userId}\n${deviceId}`;

/** Whether `a` should be current rather than `b`: the higher version, then the higher key id. */
function newer(a: KeyEntry, b: KeyEntry | null): boolean {
  if (b === null) return true;
  return a.keyVersion !== b.keyVersion ? a.keyVersion > b.keyVersion : a.keyId > b.keyId;
}

/** A fresh key id: version plus 48 random bits, so concurrent rotations never collide. */
function newKeyId(keyVersion: number): string {
  return `v${keyVersion}-${base64urlEncode(randomBytes(6))}`;
}

/**
 * Every key version of one room that this device holds.
 *
 * Keys never leave except through {@link RoomKeyring.exportState}, shares and backups;
 * `JSON.stringify`, `String()` and `util.inspect` show the room and versions only.
 *
 * @example
 * ```ts
 * const keyring = RoomKeyring.create({ roomId: "room-42" });
 * const envelope = await keyring.encryptChatJson({ body: "hi" }, { messageId: "msg-1" });
 * const message = await keyring.decryptChatJson(envelope, { roomId: "room-42", messageId: "msg-1" });
 * ```
 */
export class RoomKeyring {
  /** The room this keyring belongs to. */
  readonly roomId: string;
  /** The frozen rotation and retention policy. */
  readonly policy: RotationPolicy;
  readonly #entries = new Map<string, KeyEntry>();
  #current: KeyEntry | null = null;
  #rotationRequired: RotationReason | null = null;
  readonly #removedUsers = new Set<string>();
  readonly #revokedDevices = new Map<string, { userId: string; deviceId: string }>();
  #destroyed = false;

  private constructor(roomId: string, policy: RotationPolicy) {
    this.roomId = roomId;
    this.policy = policy;
  }

  /**
   * A keyring for a new room, holding a fresh version 1 (for the room's creator).
   *
   * @example
   * ```ts
   * const keyring = RoomKeyring.create({ roomId: "room-42", policy: { retainVersions: 50 } });
   * ```
   * @throws TypeError for an invalid room id; RangeError for an invalid policy.
   */
  static create(options: RoomKeyringOptions): RoomKeyring {
    const keyring = RoomKeyring.empty(options);
    keyring.#createVersion(1, options.shareable ?? false);
    return keyring;
  }

  /**
   * A keyring with no key yet, for a member who joins: filled by accepted shares or a backup.
   *
   * @throws TypeError for an invalid room id; RangeError for an invalid policy.
   */
  static empty(options: RoomKeyringOptions): RoomKeyring {
    assertId(options.roomId, "roomId");
    return new RoomKeyring(options.roomId, resolvePolicy(options.policy));
  }

  /**
   * Restores a keyring from {@link RoomKeyring.exportState} output.
   *
   * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a malformed state,
   *   `PAYLOAD_TOO_LARGE` for one over its size limits (JSON text over 32 MiB, more than 100,000
   *   versions).
   */
  static importState(state: unknown): RoomKeyring {
    const parsed = parseKeyringState(state);
    const keyring = new RoomKeyring(parsed.roomId, resolvePolicy(parsed.policy));
    // Two copies of one version would leave it to the order which key is used: refused. The keys
    // imported so far are wiped before the error leaves.
    const refuse = (problem: string): never => {
      keyring.destroy();
      throw new E2eeError("INVALID_ENVELOPE", `invalid keyring state: ${problem}`);
    };
    for (const version of parsed.versions) {
      const id = entryKey(version.keyVersion, version.keyId);
      if (keyring.#entries.has(id)) refuse(`version ${version.keyVersion} ("${version.keyId}") appears twice`);
      const bytes = base64urlDecode(version.key)!;
      keyring.#entries.set(id, {
        keyId: version.keyId,
        keyVersion: version.keyVersion,
        key: importRoomKeyBytes(bytes),
        shareable: version.shareable,
        origin: version.origin,
        createdAt: version.createdAt,
        messageCount: version.messageCount,
      });
      bytes.fill(0);
    }
    if (parsed.currentVersion !== null) {
      const current = keyring.#entries.get(entryKey(parsed.currentVersion, parsed.currentKeyId ?? ""));
      if (current === undefined) return refuse("the current version is not among its versions");
      keyring.#current = current;
    }
    keyring.#rotationRequired = parsed.rotationRequired;
    for (const userId of parsed.removedUsers) keyring.#removedUsers.add(userId);
    for (const device of parsed.revokedDevices) keyring.#revokedDevices.set(deviceKey(device.userId, device.deviceId), { ...device });
    return keyring;
  }

  /** The version new messages use, or `null` before the first key arrives. */
  get currentVersion(): number | null {
    return this.#current?.keyVersion ?? null;
  }

  /** The key id of the current version, or `null`. */
  get currentKeyId(): string | null {
    return this.#current?.keyId ?? null;
  }

  /** Every version held, oldest first. */
  get versions(): readonly KeyVersionInfo[] {
    return [...this.#entries.values()]
      .sort((a, b) => a.keyVersion - b.keyVersion || (a.keyId < b.keyId ? -1 : 1))
      .map((entry) =>
        Object.freeze({
          keyId: entry.keyId,
          keyVersion: entry.keyVersion,
          shareable: entry.shareable,
          origin: entry.origin,
          createdAt: entry.createdAt,
          messageCount: entry.messageCount,
        }),
      );
  }

  /**
   * Creates the next version and makes it current. Older versions stay (within the retention
   * policy), so history remains readable. Share the new version with the room's devices next.
   *
   * @example
   * ```ts
   * const version = keyring.rotate({ reason: "member-removed" });
   * ```
   * @returns The new version number.
   * @throws E2eeError `ROTATION_REQUIRED` when version 2^31 − 1 is taken (no version is left),
   *   `PAYLOAD_TOO_LARGE` when the keyring already holds 100,000 versions (set a retention policy).
   */
  rotate(options: { readonly reason: RotationReason; readonly shareable?: boolean }): number {
    // Versions only restored from a backup count, so a restored device rotates past the history
    // it holds, unless one sits at the very top of the version space: anyone holding the backup's
    // public key could have planted 2^31 - 1 there to stop the room from rotating.
    let highestOfAll = 0;
    for (const entry of this.#entries.values()) highestOfAll = Math.max(highestOfAll, entry.keyVersion);
    const next = highestOfAll < ENVELOPE_LIMITS.maxKeyVersion ? highestOfAll + 1 : this.#highestVersion() + 1;
    if (next > ENVELOPE_LIMITS.maxKeyVersion) {
      throw new E2eeError("ROTATION_REQUIRED", `room "${this.roomId}" has used every key version: move to a new room`);
    }
    this.#createVersion(next, options.shareable ?? false);
    return next;
  }

  /**
   * Why this keyring should rotate now, or `null`. `member-removed`, `device-revoked`, `manual`
   * and `restored` are required (encryption refuses until then); `max-messages` and `max-age`
   * are the policy's advice.
   */
  needsRotation(now: number = Date.now()): RotationReason | null {
    if (this.#rotationRequired !== null) return this.#rotationRequired;
    const current = this.#current;
    if (current === null) return null;
    if (current.origin === "backup") return "restored";
    if (current.messageCount >= this.policy.maxMessagesPerVersion) return "max-messages";
    if (now - current.createdAt >= this.policy.maxVersionAgeMs) return "max-age";
    return null;
  }

  /** Requires a rotation before the next encryption. */
  requireRotation(reason: "member-removed" | "device-revoked" | "manual"): void {
    this.#rotationRequired = reason;
  }

  /**
   * Records that a user left or was removed: shares to and from their devices are refused and
   * this device must rotate before it encrypts again, even if another member's newer version
   * arrives first (it may predate the removal). As with Megolm, every device that sends after a
   * membership change rotates once; devices that only read never need to. The removed user's
   * devices keep the versions they already had, and open nothing encrypted after the rotations.
   */
  removeMember(options: { readonly userId: string }): void {
    assertId(options.userId, "userId");
    this.#removedUsers.add(options.userId);
    this.#rotationRequired = "member-removed";
  }

  /** Lets a removed user be added again (their devices then need the current version shared). */
  readmitMember(options: { readonly userId: string }): void {
    this.#removedUsers.delete(options.userId);
  }

  /**
   * Records that a device is lost or revoked: shares to and from it are refused for good and
   * this device must rotate before it encrypts again (as for {@link RoomKeyring.removeMember}).
   */
  revokeDevice(options: { readonly userId: string; readonly deviceId: string }): void {
    assertId(options.userId, "userId");
    assertId(options.deviceId, "deviceId");
    this.#revokedDevices.set(deviceKey(options.userId, options.deviceId), {
      userId: options.userId,
      deviceId: options.deviceId,
    });
    this.#rotationRequired = "device-revoked";
  }

  /** `true` when shares to or from this device are refused. */
  isRevoked(userId: string, deviceId: string): boolean {
    return this.#removedUsers.has(userId) || this.#revokedDevices.has(deviceKey(userId, deviceId));
  }

  /**
   * Encrypts with the current version (key id and version filled in).
   *
   * @example
   * ```ts
   * const envelope = await keyring.encryptChatJson({ body: "hi" }, { messageId: "msg-2", sender: device });
   * ```
   * @throws E2eeError `ROTATION_REQUIRED` when there is no key yet, a rotation is required, or the
   *   current version was only restored from a backup; otherwise as `encryptChatJson`.
   */
  async encryptChatJson(value: unknown, options: KeyringEncryptOptions): Promise<Envelope> {
    const current = this.#current;
    if (current === null) {
      throw new E2eeError("ROTATION_REQUIRED", `room "${this.roomId}" has no key yet: accept a key share or rotate`);
    }
    const reason = this.needsRotation();
    if (reason === "member-removed" || reason === "device-revoked" || reason === "manual" || reason === "restored") {
      throw new E2eeError("ROTATION_REQUIRED", `room "${this.roomId}" must rotate before sending (${reason})`);
    }
    const envelope = await encryptChatJson(value, current.key, {
      roomId: this.roomId,
      messageId: options.messageId,
      keyId: current.keyId,
      keyVersion: current.keyVersion,
      sender: options.sender,
      padding: options.padding,
    });
    current.messageCount++;
    return envelope;
  }

  /**
   * Opens an envelope with the version it names.
   *
   * @throws E2eeError `UNKNOWN_KEY` (an `UnknownKeyError` with roomId, keyId, keyVersion, so the
   *   app can request that version), `CONTEXT_MISMATCH` when `roomId` is not this keyring's
   *   room, otherwise as `decryptChatJson`.
   */
  async decryptChatJson(envelope: unknown, options: KeyringDecryptOptions): Promise<JsonValue> {
    return (await this.decryptChatMessage(envelope, options)).value;
  }

  /**
   * {@link RoomKeyring.decryptChatJson} with the key version and the verified sender.
   *
   * @throws E2eeError `REPLAYED_MESSAGE` (a `ReplayedMessageError`) when `replayGuard` has already
   *   recorded the message; otherwise as `decryptChatJson`.
   */
  async decryptChatMessage(envelope: unknown, options: KeyringDecryptOptions): Promise<DecryptedChatMessage> {
    if (options.roomId !== this.roomId) throw new ContextMismatchError("roomId");
    const { replayGuard } = options;
    if (replayGuard !== undefined && !(replayGuard instanceof ReplayGuard)) throw new TypeError('"replayGuard" expected a ReplayGuard');
    const message = await decryptChatMessage(envelope, ({ keyId, keyVersion }: RoomKeyReference) => this.#entries.get(entryKey(keyVersion, keyId))?.key, options);
    // Only after the message opened: a forgery never reaches the guard.
    replayGuard?.accept({ roomId: this.roomId, keyVersion: message.keyVersion, messageId: options.messageId });
    return message;
  }

  /** `true` when the keyring holds that version. */
  has(keyVersion: number, keyId?: string): boolean {
    if (keyId !== undefined) return this.#entries.has(entryKey(keyVersion, keyId));
    for (const entry of this.#entries.values()) if (entry.keyVersion === keyVersion) return true;
    return false;
  }

  /**
   * The keyring's complete state, keys included, for the device's own secure storage. This and
   * shares and backups are the only ways keys leave the keyring.
   */
  exportState(): KeyringStateV1 {
    return {
      v: 1,
      type: "room-keyring",
      roomId: this.roomId,
      policy: { ...this.policy },
      rotationRequired: this.#rotationRequired,
      currentVersion: this.#current?.keyVersion ?? null,
      currentKeyId: this.#current?.keyId ?? null,
      removedUsers: [...this.#removedUsers],
      revokedDevices: [...this.#revokedDevices.values()].map((device) => ({ ...device })),
      versions: this.versions.map((info) => {
        const bytes = exportRoomKeyBytes(this.#entries.get(entryKey(info.keyVersion, info.keyId))!.key);
        const key = base64urlEncode(bytes);
        bytes.fill(0);
        return { ...info, key };
      }),
    };
  }

  /**
   * Destroys every key version held (`RoomKey.destroy()`: zeroed). Every later use that needs a
   * key (encrypt, decrypt, export, share, back up) throws `E2eeError` `INVALID_KEY`, and so do
   * rotating and adding versions; the room, policy and version facts stay readable. Idempotent.
   * JavaScript cannot promise that no engine-made copy survives; see the `@domvia/e2ee-crypto`
   * README, "Secret hygiene".
   *
   * @example
   * ```ts
   * keyring.destroy(); // this device leaves the room
   * ```
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const entry of this.#entries.values()) entry.key.destroy();
  }

  /** `true` once {@link RoomKeyring.destroy} has run. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Room and versions only. */
  toString(): string {
    return `RoomKeyring(${this.roomId}, current version ${this.currentVersion ?? "none"})`;
  }

  /** Room and version facts; never a key. */
  toJSON(): { roomId: string; currentVersion: number | null; versions: readonly KeyVersionInfo[] } {
    return { roomId: this.roomId, currentVersion: this.currentVersion, versions: this.versions };
  }

  #createVersion(keyVersion: number, shareable: boolean): void {
    if (this.#destroyed) throw new E2eeError("INVALID_KEY", '"keyring" was destroyed');
    if (this.#entries.size >= MAX_KEYRING_VERSIONS) {
      throw new E2eeError("PAYLOAD_TOO_LARGE", `room "${this.roomId}" holds ${MAX_KEYRING_VERSIONS} versions: set a retention policy`);
    }
    const entry: KeyEntry = {
      keyId: newKeyId(keyVersion),
      keyVersion,
      key: generateRoomKeySync(),
      shareable,
      origin: "created",
      createdAt: Date.now(),
      messageCount: 0,
    };
    this.#entries.set(entryKey(keyVersion, entry.keyId), entry);
    this.#current = entry;
    this.#rotationRequired = null;
    this.#applyRetention();
  }

  /**
   * Adds a version received in a share or restored from a backup. A pending required rotation
   * stays pending: only this device's own {@link RoomKeyring.rotate} clears it, because a version
   * that arrives later may have been created before the removal and be known to the removed
   * member. A version only restored from a backup never becomes current (it decrypts history).
   */
  #addVersion(entry: KeyEntry): { readonly becameCurrent: boolean } {
    if (this.#destroyed) throw new E2eeError("INVALID_KEY", '"keyring" was destroyed');
    const id = entryKey(entry.keyVersion, entry.keyId);
    const existing = this.#entries.get(id);
    if (existing !== undefined && !roomKeysEqual(existing.key, entry.key)) {
      // A verified share outranks a backup entry, which anyone holding the backup's public key
      // (the server included) could have planted under a key id seen on the wire.
      if (!(existing.origin === "backup" && entry.origin === "share")) {
        throw new E2eeError(
          "KEY_CONFLICT",
          `room "${this.roomId}" already holds a different key for key id "${entry.keyId}", version ${entry.keyVersion}`,
        );
      }
    } else if (existing !== undefined) {
      // The same key, now received in a verified share: it is no longer only a backup's word.
      if (existing.origin === "backup" && entry.origin === "share") {
        const upgraded: KeyEntry = { ...existing, origin: "share" };
        this.#entries.set(id, upgraded);
        if (this.#current === existing || newer(upgraded, this.#current)) this.#current = upgraded;
        return { becameCurrent: this.#current === upgraded };
      }
      return { becameCurrent: false };
    }
    const highest = this.#highestVersion();
    if (entry.origin !== "backup" && highest > 0 && entry.keyVersion > highest + MAX_VERSION_JUMP) {
      throw new E2eeError(
        "KEY_CONFLICT",
        `room "${this.roomId}": version ${entry.keyVersion} jumps more than ${MAX_VERSION_JUMP} past the versions held`,
      );
    }
    if (existing === undefined && this.#entries.size >= MAX_KEYRING_VERSIONS) {
      throw new E2eeError("PAYLOAD_TOO_LARGE", `room "${this.roomId}" holds ${MAX_KEYRING_VERSIONS} versions: set a retention policy`);
    }
    this.#entries.set(id, entry);
    if (existing !== undefined && this.#current === existing) {
      // The planted backup entry this share replaces was current.
      this.#current = entry;
      return { becameCurrent: true };
    }
    const becameCurrent = (entry.origin !== "backup" || this.#current === null || this.#current.origin === "backup") && newer(entry, this.#current);
    if (becameCurrent) this.#current = entry;
    this.#applyRetention();
    return { becameCurrent };
  }

  /** The highest version held that this device created or received in a share. */
  #highestVersion(): number {
    let highest = 0;
    for (const entry of this.#entries.values()) if (entry.origin !== "backup") highest = Math.max(highest, entry.keyVersion);
    return highest;
  }

  /** The entry for a version: the current key id when several exist. */
  #entry(keyVersion: number, keyId?: string): KeyEntry | undefined {
    if (keyId !== undefined) return this.#entries.get(entryKey(keyVersion, keyId));
    const current = this.#current;
    if (current !== null && current.keyVersion === keyVersion) return current;
    let found: KeyEntry | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.keyVersion === keyVersion && (found === undefined || entry.keyId > found.keyId)) found = entry;
    }
    return found;
  }

  static {
    keyringInternals = {
      addVersion: (keyring, entry) => keyring.#addVersion(entry),
      entry: (keyring, keyVersion, keyId) => keyring.#entry(keyVersion, keyId),
      entries: (keyring) => [...keyring.#entries.values()].map((entry) => ({ ...entry })),
    };
  }

  #applyRetention(): void {
    const keep = this.policy.retainVersions;
    if (keep === null || this.#entries.size <= keep) return;
    const oldestFirst = [...this.#entries.entries()].sort(([, a], [, b]) => a.keyVersion - b.keyVersion);
    for (const [id, entry] of oldestFirst) {
      if (this.#entries.size <= keep) break;
      if (entry !== this.#current) this.#entries.delete(id);
    }
  }
}

Object.defineProperty(RoomKeyring.prototype, INSPECT, {
  value(this: RoomKeyring): string {
    return this.toString();
  },
});

