/**
 * The small world the scenario stories take place in.
 *
 * A fake DomVia server keeps only what a real one would: each device's public bundle, a mailbox
 * of key shares per device, each room's members and encrypted history, and each user's
 * encrypted key backup. Everything that crosses it goes through `JSON.stringify` and
 * `JSON.parse`, as it would over the network, so no live object (and no key) is ever shared
 * between devices by accident.
 *
 * A `Device` is one person's phone or laptop: a device identity and one keyring per room, used
 * only through the façade's public names.
 */
import { expect } from "vitest";
import {
  E2eeError,
  RoomKeyring,
  acceptRoomKeyShare,
  createDeviceIdentity,
  shareRoomKey,
  type AcceptedRoomKeyShare,
  type DeviceBundle,
  type DeviceIdentity,
  type E2eeErrorCode,
  type RoomKeyringOptions,
  type SenderBundleResolver,
} from "../../src/index";

/** What crosses the network: JSON text. */
const send = (value: unknown): string => JSON.stringify(value);
const receive = (text: string): unknown => JSON.parse(text);

const deviceAddress = (userId: string, deviceId: string): string => `${userId}/${deviceId}`;

/** A message as the server stores it: ids in the clear, the envelope as JSON text. */
interface StoredMessage {
  readonly messageId: string;
  readonly text: string;
}

/** The fake server. It relays and stores; it can read nothing. */
export class FakeServer {
  readonly #bundles = new Map<string, string>();
  readonly #retired = new Set<string>();
  readonly #mailboxes = new Map<string, string[]>();
  readonly #members = new Map<string, Set<string>>();
  readonly #history = new Map<string, StoredMessage[]>();
  readonly #backups = new Map<string, string>();
  #messageCounter = 0;

  /** Publishes a device's public bundle in the directory. */
  publishBundle(bundle: { readonly userId: string; readonly deviceId: string }): void {
    this.#bundles.set(deviceAddress(bundle.userId, bundle.deviceId), send(bundle));
  }

  /**
   * Retires a lost or revoked device: it is no longer listed as a room device and its mailbox is
   * dropped, but its bundle stays in the directory so the signatures on its old messages still
   * verify.
   */
  retireDevice(userId: string, deviceId: string): void {
    this.#retired.add(deviceAddress(userId, deviceId));
    this.#mailboxes.delete(deviceAddress(userId, deviceId));
  }

  /** A device's bundle as it arrives over the network, or `undefined`. */
  bundle(userId: string, deviceId: string): unknown {
    const text = this.#bundles.get(deviceAddress(userId, deviceId));
    return text === undefined ? undefined : receive(text);
  }

  /** Finds sender bundles for signed messages. */
  readonly resolveSender: SenderBundleResolver = ({ userId, deviceId }) => this.bundle(userId, deviceId) as DeviceBundle | undefined;

  /** Adds a user to a room's member list. */
  addMember(roomId: string, userId: string): void {
    const members = this.#members.get(roomId) ?? new Set<string>();
    members.add(userId);
    this.#members.set(roomId, members);
  }

  /** Whether a device belongs to a member of the room and is not retired. */
  isMember(roomId: string, sender: { readonly userId: string; readonly deviceId: string }): boolean {
    return (this.#members.get(roomId)?.has(sender.userId) ?? false) && !this.#retired.has(deviceAddress(sender.userId, sender.deviceId));
  }

  /** Removes a user from a room's member list. */
  removeMember(roomId: string, userId: string): void {
    this.#members.get(roomId)?.delete(userId);
  }

  /** The bundles of every active device of every member, except the asking device. */
  roomBundles(roomId: string, except?: DeviceIdentity): unknown[] {
    const members = this.#members.get(roomId) ?? new Set<string>();
    const bundles: unknown[] = [];
    for (const [address, text] of this.#bundles) {
      const [userId] = address.split("/");
      if (userId === undefined || !members.has(userId) || this.#retired.has(address)) continue;
      if (except !== undefined && address === deviceAddress(except.userId, except.deviceId)) continue;
      bundles.push(receive(text));
    }
    return bundles;
  }

  /** Routes each share to its recipient's mailbox by its public recipient fields. */
  postShares(shares: readonly unknown[]): void {
    for (const share of shares) {
      const text = send(share);
      const { recipientUserId, recipientDeviceId } = receive(text) as { recipientUserId: string; recipientDeviceId: string };
      const address = deviceAddress(recipientUserId, recipientDeviceId);
      this.#mailboxes.set(address, [...(this.#mailboxes.get(address) ?? []), text]);
    }
  }

  /** Hands a device its waiting shares and empties its mailbox. */
  takeMailbox(userId: string, deviceId: string): unknown[] {
    const address = deviceAddress(userId, deviceId);
    const texts = this.#mailboxes.get(address) ?? [];
    this.#mailboxes.set(address, []);
    return texts.map(receive);
  }

  /** How many shares wait for a device. */
  mailboxSize(userId: string, deviceId: string): number {
    return this.#mailboxes.get(deviceAddress(userId, deviceId))?.length ?? 0;
  }

  /** A fresh message id, unique on this server. */
  nextMessageId(): string {
    this.#messageCounter += 1;
    return `msg-${this.#messageCounter}`;
  }

  /** Stores an encrypted message in a room's history. */
  postMessage(roomId: string, messageId: string, envelope: unknown): void {
    this.#history.set(roomId, [...(this.#history.get(roomId) ?? []), { messageId, text: send(envelope) }]);
  }

  /** A room's history, oldest first, as it arrives over the network. */
  history(roomId: string): { readonly messageId: string; readonly envelope: unknown }[] {
    return (this.#history.get(roomId) ?? []).map(({ messageId, text }) => ({ messageId, envelope: receive(text) }));
  }

  /** Stores a user's encrypted key backup. */
  putBackup(userId: string, backup: unknown): void {
    this.#backups.set(userId, send(backup));
  }

  /** A user's encrypted key backup, or `undefined`. */
  backup(userId: string): unknown {
    const text = this.#backups.get(userId);
    return text === undefined ? undefined : receive(text);
  }
}

/** What a device made of its mailbox. */
export interface MailboxResult {
  readonly accepted: AcceptedRoomKeyShare[];
  /** The codes of the shares it refused, in mailbox order. */
  readonly refused: E2eeErrorCode[];
}

/** One device of one person, talking to the fake server. */
export class Device {
  readonly keyrings = new Map<string, RoomKeyring>();

  private constructor(
    readonly server: FakeServer,
    readonly name: string,
    readonly identity: DeviceIdentity,
  ) {}

  /** A device with a fresh identity, its bundle published on the server. */
  static async register(server: FakeServer, name: string, userId: string, deviceId: string): Promise<Device> {
    const device = new Device(server, name, await createDeviceIdentity({ userId, deviceId }));
    server.publishBundle(device.identity.publicBundle);
    return device;
  }

  /** A device built around an existing identity (for example one loaded from a key store). */
  static withIdentity(server: FakeServer, name: string, identity: DeviceIdentity): Device {
    return new Device(server, name, identity);
  }

  get userId(): string {
    return this.identity.userId;
  }

  get deviceId(): string {
    return this.identity.deviceId;
  }

  /** This device's keyring for a room; the room must be known. */
  keyring(roomId: string): RoomKeyring {
    const keyring = this.keyrings.get(roomId);
    if (keyring === undefined) throw new Error(`${this.name} has no keyring for ${roomId}`);
    return keyring;
  }

  /** Creates a room with a fresh version 1 and becomes its first member. */
  createRoom(roomId: string, options: Omit<RoomKeyringOptions, "roomId"> = {}): RoomKeyring {
    const keyring = RoomKeyring.create({ roomId, ...options });
    this.keyrings.set(roomId, keyring);
    this.server.addMember(roomId, this.userId);
    return keyring;
  }

  /** Joins a room with no key yet: one arrives in a share. */
  joinRoom(roomId: string, options: Omit<RoomKeyringOptions, "roomId"> = {}): RoomKeyring {
    const keyring = RoomKeyring.empty({ roomId, ...options });
    this.keyrings.set(roomId, keyring);
    this.server.addMember(roomId, this.userId);
    return keyring;
  }

  /** Shares a version (default the current one) with every other listed device of the room's members. */
  shareKey(roomId: string, options: { readonly keyVersion?: number } = {}): number {
    const shares = shareRoomKey({
      keyring: this.keyring(roomId),
      from: this.identity,
      to: this.server.roomBundles(roomId, this.identity),
      keyVersion: options.keyVersion,
    });
    this.server.postShares(shares);
    return shares.length;
  }

  /** Shares a version with the given devices only. */
  shareKeyWith(roomId: string, devices: readonly Device[], options: { readonly keyVersion?: number } = {}): void {
    const shares = shareRoomKey({
      keyring: this.keyring(roomId),
      from: this.identity,
      to: devices.map((device) => this.server.bundle(device.userId, device.deviceId)),
      keyVersion: options.keyVersion,
    });
    this.server.postShares(shares);
  }

  /** Rotates a room's key and shares the new version with the room's other devices. */
  rotateAndShare(roomId: string, reason: Parameters<RoomKeyring["rotate"]>[0]["reason"]): number {
    const version = this.keyring(roomId).rotate({ reason });
    this.shareKey(roomId);
    return version;
  }

  /**
   * Accepts every share in this device's mailbox. A share for a room this device has no keyring
   * for yet starts an empty one. Refused shares are reported by code and change nothing.
   */
  receiveShares(): MailboxResult {
    const accepted: AcceptedRoomKeyShare[] = [];
    const refused: E2eeErrorCode[] = [];
    for (const share of this.server.takeMailbox(this.userId, this.deviceId)) {
      const { roomId, senderUserId, senderDeviceId } = share as { roomId: string; senderUserId: string; senderDeviceId: string };
      const keyring = this.keyrings.get(roomId) ?? RoomKeyring.empty({ roomId });
      try {
        accepted.push(
          acceptRoomKeyShare({
            share,
            device: this.identity,
            senderBundle: this.server.bundle(senderUserId, senderDeviceId),
            keyring,
            isRoomMember: (sender) => this.server.isMember(roomId, sender),
          }),
        );
        this.keyrings.set(roomId, keyring);
      } catch (error) {
        if (!E2eeError.isInstance(error)) throw error;
        refused.push(error.code);
      }
    }
    return { accepted, refused };
  }

  /** Encrypts, signs and posts a chat message; returns its id. */
  async say(roomId: string, body: string): Promise<string> {
    const messageId = this.server.nextMessageId();
    const envelope = await this.keyring(roomId).encryptChatJson({ body }, { messageId, sender: this.identity });
    this.server.postMessage(roomId, messageId, envelope);
    return messageId;
  }

  /**
   * Reads a room's whole history: each message's body, or `[CODE]` for one this device cannot
   * open. Only `E2eeError`s count as "cannot open"; anything else fails the test.
   */
  async read(roomId: string): Promise<string[]> {
    const keyring = this.keyrings.get(roomId) ?? RoomKeyring.empty({ roomId });
    const lines: string[] = [];
    for (const { messageId, envelope } of this.server.history(roomId)) {
      try {
        const value = await keyring.decryptChatJson(envelope, {
          roomId,
          messageId,
          resolveSender: this.server.resolveSender,
          requireSignature: true,
        });
        lines.push((value as { body: string }).body);
      } catch (error) {
        if (!E2eeError.isInstance(error)) throw error;
        lines.push(`[${error.code}]`);
      }
    }
    return lines;
  }
}

/** A fresh world: one server. */
export function createWorld(): FakeServer {
  return new FakeServer();
}

/**
 * Runs `action` and checks that it failed with an `E2eeError` of exactly `code` and returned
 * nothing. Returns the error for further checks.
 */
export async function expectFailure(action: (() => unknown) | Promise<unknown>, code: E2eeErrorCode): Promise<E2eeError> {
  let outcome: { readonly failed: false; readonly value: unknown } | { readonly failed: true; readonly error: unknown };
  try {
    outcome = { failed: false, value: await (typeof action === "function" ? action() : action) };
  } catch (error) {
    outcome = { failed: true, error };
  }
  if (!outcome.failed) {
    expect.fail(`expected ${code}, but the call succeeded and returned ${typeof outcome.value}`);
  }
  const { error } = outcome;
  if (!E2eeError.isInstance(error, code)) {
    expect.fail(`expected E2eeError ${code}, got ${E2eeError.isInstance(error) ? `E2eeError ${error.code}` : String(error)}`);
  }
  return error;
}

/** Everything a keyring holds (keys included), to check that a failure changed nothing. */
export function snapshot(keyring: RoomKeyring): string {
  return JSON.stringify(keyring.exportState());
}
