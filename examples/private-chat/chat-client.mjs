// The private chat client, for Node and browsers: one device of one user. It speaks the relay's
// JSON protocol (server/relay.mjs) over a transport it is given (client.mjs gives it `ws`,
// web/src/browser-transport.js the browser's WebSocket) and does every piece of cryptography with
// @domvia/realtime-e2ee on the device: room keys never leave it except as signed key shares
// encrypted to other member devices, or inside a backup encrypted to the user's recovery key.
// It imports nothing Node-only.
import {
  E2eeError,
  RoomKeyring,
  acceptRoomKeyShare,
  addToKeyBackup,
  createDeviceIdentity,
  createEncryptedChannel,
  createKeyBackup,
  restoreKeyBackup,
  revokeDeviceEverywhere,
  shareRoomKeyAsync,
} from "@domvia/realtime-e2ee";
import { safeParseJson } from "@domvia/e2ee-envelope";
import { MAX_MESSAGE_BYTES, channelOf } from "./protocol.mjs";

/** A request the relay refused: `code` is the relay's error code (see README.md, "Errors"). */
export class RelayError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = "RelayError";
    this.code = code;
  }
}

/**
 * A connection to the relay, opened by a {@link OpenTransport} function.
 *
 * @typedef {object} Transport
 * @property {(text: string) => void} send sends one JSON text frame.
 * @property {() => boolean} isOpen
 * @property {() => Promise<void>} close closes and resolves once closed.
 */

/**
 * Opens a connection to `url` and reports text frames, the close and errors to the callbacks.
 *
 * @typedef {(url: string, callbacks: { onMessage: (text: string) => void, onClose: () => void, onError: (error: Error) => void }) => Transport} OpenTransport
 */

/** One device talking to the relay. */
export class ChatClient {
  /** @type {import("@domvia/realtime-e2ee").DeviceIdentity} */
  device;
  /** Room keyrings of this device, by room id. @type {Map<string, RoomKeyring>} */
  keyrings = new Map();
  /** Socket id given by the relay. */
  socketId = "";
  /** Shares waiting in the mailbox when this device signed in. */
  pendingShares = 0;

  /** @type {Transport} */
  #transport;
  #nextId = 1;
  /** @type {Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>} */
  #pending = new Map();
  /** Transport handlers by `channel\nevent`. @type {Map<string, Set<(data: unknown) => void>>} */
  #handlers = new Map();
  /** Listeners of pushes other than events (shares, membership, device-revoked). @type {Set<(push: any) => void>} */
  #pushListeners = new Set();
  /** Bundles fetched from the relay, by `userId/deviceId`. */
  #bundles = new Map();

  /** @param {import("@domvia/realtime-e2ee").DeviceIdentity} device */
  constructor(device) {
    this.device = device;
  }

  /**
   * Connects, signs in as the device and publishes its bundle.
   *
   * @param {{ url: string, openTransport: OpenTransport, userId?: string, deviceId?: string, device?: import("@domvia/realtime-e2ee").DeviceIdentity }} options
   *   the transport to use, and an existing `device` or ids to create a fresh identity for.
   * @returns {Promise<ChatClient & { pendingShares: number }>}
   */
  static async connect({ url, openTransport, userId, deviceId, device }) {
    const identity = device ?? (await createDeviceIdentity({ userId, deviceId }));
    const client = new this(identity);
    const welcome = new Promise((resolve, reject) => {
      client.#pushListeners.add(function onWelcome(push) {
        if (push.push !== "welcome") return;
        client.#pushListeners.delete(onWelcome);
        resolve(push.socketId);
      });
      client.#transport = openTransport(url, {
        onMessage: (text) => client.#receive(text),
        onError: reject,
        onClose: () => {
          reject(new RelayError("CLOSED", "connection closed before the welcome"));
          for (const { reject: rejectPending } of client.#pending.values()) rejectPending(new RelayError("CLOSED", "connection closed"));
          client.#pending.clear();
          for (const listener of [...client.#pushListeners]) listener({ push: "closed" });
        },
      });
    });
    client.socketId = await welcome;
    const { pendingShares } = await client.request("signIn", { userId: identity.userId, deviceId: identity.deviceId });
    await client.request("putBundle", { bundle: identity.publicBundle });
    client.pendingShares = pendingShares;
    return client;
  }

  get userId() {
    return this.device.userId;
  }

  get deviceId() {
    return this.device.deviceId;
  }

  #receive(text) {
    const parsed = safeParseJson(text, MAX_MESSAGE_BYTES);
    if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return;
    const message = parsed.value;
    if (typeof message.push === "string") {
      if (message.push === "event") {
        for (const handler of this.#handlers.get(`${message.channel}\n${message.event}`) ?? []) handler(message.data);
        return;
      }
      for (const listener of [...this.#pushListeners]) listener(message);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    if (message.ok === true) pending.resolve(message.result);
    else pending.reject(new RelayError(String(message.error?.code ?? "UNKNOWN"), String(message.error?.message ?? "")));
  }

  /**
   * Sends one request and waits for its reply.
   *
   * @param {string} op
   * @param {Record<string, unknown>} [params]
   * @returns {Promise<any>} the result; rejects with a {@link RelayError}.
   */
  request(op, params = {}) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.#transport.isOpen()) {
        reject(new RelayError("CLOSED", "connection closed"));
        return;
      }
      this.#pending.set(id, { resolve, reject });
      this.#transport.send(JSON.stringify({ ...params, id, op }));
    });
  }

  /**
   * Calls `listener` with every push other than channel events, and with `{ push: "closed" }`
   * when the connection closes. Returns the unsubscribe function.
   */
  onPush(listener) {
    this.#pushListeners.add(listener);
    return () => this.#pushListeners.delete(listener);
  }

  /** A device's bundle from the relay (cached), or `undefined`. */
  async bundle(userId, deviceId) {
    const name = `${userId}/${deviceId}`;
    if (!this.#bundles.has(name)) {
      const { bundle } = await this.request("getBundle", { userId, deviceId });
      if (bundle === null) return undefined;
      this.#bundles.set(name, bundle);
    }
    return this.#bundles.get(name);
  }

  /** This device's keyring for a room. */
  keyring(roomId) {
    const keyring = this.keyrings.get(roomId);
    if (keyring === undefined) throw new Error(`${this.userId}/${this.deviceId} has no key for room "${roomId}"`);
    return keyring;
  }

  /** Creates a room on the relay, with version 1 of its key on this device. */
  async createRoom(roomId) {
    await this.request("createRoom", { roomId });
    this.keyrings.set(roomId, RoomKeyring.create({ roomId }));
  }

  async addMember(roomId, userId) {
    await this.request("addMember", { roomId, userId });
  }

  /** Removes a member on the relay and records it in this device's keyring (rotation required). */
  async removeMember(roomId, userId) {
    await this.request("removeMember", { roomId, userId });
    this.keyrings.get(roomId)?.removeMember({ userId });
  }

  /** The room's members and active devices, as the relay lists them. */
  async members(roomId) {
    return this.request("members", { roomId });
  }

  /** Shares the current version of a room's key with every other active device of its members. */
  async shareKey(roomId) {
    const { bundles } = await this.request("roomDevices", { roomId });
    const others = bundles.filter((bundle) => !(bundle.userId === this.userId && bundle.deviceId === this.deviceId));
    if (others.length === 0) return 0;
    const shares = await shareRoomKeyAsync({ keyring: this.keyring(roomId), from: this.device, to: others });
    await this.request("postShares", { shares });
    return shares.length;
  }

  /** Rotates a room's key (after a removal or a revocation) and shares the new version. */
  async rotateAndShare(roomId) {
    const keyring = this.keyring(roomId);
    const version = keyring.rotate({ reason: keyring.needsRotation() ?? "manual" });
    await this.shareKey(roomId);
    return version;
  }

  /**
   * Takes this device's mailbox and accepts each share whose sender is an active device of a
   * member of the share's room (checked against the relay's member list). Refused shares change
   * nothing and are reported by code.
   *
   * @returns {Promise<{ accepted: { roomId: string, keyVersion: number }[], refused: string[] }>}
   */
  async receiveShares() {
    const { shares } = await this.request("takeShares");
    const accepted = [];
    const refused = [];
    const devicesOf = new Map();
    for (const share of shares) {
      try {
        if (!devicesOf.has(share.roomId)) {
          const { devices } = await this.members(share.roomId);
          devicesOf.set(share.roomId, new Set(devices.map((d) => `${d.userId}/${d.deviceId}`)));
        }
        const keyring = this.keyrings.get(share.roomId) ?? RoomKeyring.empty({ roomId: share.roomId });
        const result = acceptRoomKeyShare({
          share,
          device: this.device,
          senderBundle: await this.bundle(share.senderUserId, share.senderDeviceId),
          keyring,
          isRoomMember: ({ userId, deviceId }) => devicesOf.get(share.roomId).has(`${userId}/${deviceId}`),
        });
        this.keyrings.set(share.roomId, keyring);
        accepted.push({ roomId: share.roomId, keyVersion: result.keyVersion });
      } catch (error) {
        if (E2eeError.isInstance(error) || error instanceof RelayError) refused.push(error.code);
        else throw error;
      }
    }
    return { accepted, refused };
  }

  /** A channel token from the app's auth endpoint (members only). */
  async channelToken(roomId) {
    const { token } = await this.request("auth", { channel: channelOf(roomId) });
    return token;
  }

  /**
   * Subscribes to a room's private channel (token from the auth endpoint) and wraps it with
   * `createEncryptedChannel`: chat messages are sealed with this device's keyring and signed,
   * senders are verified against the relay's bundles, operational events pass unchanged.
   *
   * @param {string} roomId
   * @param {{ onError?: (error: unknown) => void }} [options]
   * @returns {Promise<import("@domvia/realtime-e2ee").EncryptedChannel<"chat.message">>}
   */
  async join(roomId, options = {}) {
    const channel = channelOf(roomId);
    const token = await this.channelToken(roomId);
    await this.request("subscribe", { channel, token });
    if (!this.keyrings.has(roomId)) this.keyrings.set(roomId, RoomKeyring.empty({ roomId }));
    return this.encryptedChannel(roomId, options);
  }

  /** The encrypted channel of a room over this connection (subscribe first, see {@link join}). */
  encryptedChannel(roomId, { onError } = {}) {
    const channel = channelOf(roomId);
    /** @type {import("@domvia/realtime-e2ee").RealtimeChannel} */
    const transport = {
      publish: async (event, data) => {
        await this.request("publish", { channel, event, data });
      },
      subscribe: (event, handler) => {
        const key = `${channel}\n${event}`;
        const handlers = this.#handlers.get(key) ?? new Set();
        handlers.add(handler);
        this.#handlers.set(key, handlers);
        return () => handlers.delete(handler);
      },
    };
    return createEncryptedChannel({
      channel: transport,
      roomId,
      keyring: this.keyring(roomId),
      device: this.device,
      resolveSender: ({ userId, deviceId }) => this.bundle(userId, deviceId),
      onError,
    });
  }

  /** A room's stored history: `{ messageId, envelope }[]`, oldest first (members only). */
  async history(roomId) {
    const { messages } = await this.request("history", { roomId });
    return messages;
  }

  /**
   * Reads a room's stored history with this device's keys: the decrypted events, or
   * "unable to decrypt" events with their reason.
   *
   * @returns {Promise<import("@domvia/realtime-e2ee").EncryptedChannelEvent[]>}
   */
  async readHistory(roomId) {
    const room = this.encryptedChannel(roomId);
    const events = [];
    for (const { envelope } of await this.history(roomId)) events.push(await room.decrypt("chat.message", envelope));
    return events;
  }

  /**
   * Backs up every keyring of this device, encrypted to the recovery key's public key. Pass the
   * recovery key the user created once (its code is never sent) or, to append, its public key.
   *
   * @param {import("@domvia/realtime-e2ee").RecoveryKey | { publicKey: string }} recoveryKey
   * @param {{ append?: boolean, since?: number }} [options]
   */
  async backUp(recoveryKey, { append = false, since } = {}) {
    const keyrings = [...this.keyrings.values()].filter((keyring) => keyring.currentVersion !== null);
    let backup;
    if (append) {
      const { backup: stored } = await this.request("getBackup");
      backup = addToKeyBackup({ backup: stored, recoveryPublicKey: recoveryKey.publicKey, keyrings, since });
    } else {
      backup = createKeyBackup({ keyrings, recoveryKey });
    }
    await this.request("putBackup", { backup });
  }

  /** Restores this user's keyrings from the backup on the relay with the 24-word recovery code. */
  async restoreFromBackup(recoveryCode) {
    const { backup } = await this.request("getBackup");
    if (backup === null) throw new RelayError("NO_BACKUP", `no backup for "${this.userId}"`);
    const keyrings = await restoreKeyBackup({ backup, recoveryCode });
    for (const keyring of keyrings) this.keyrings.set(keyring.roomId, keyring);
    return keyrings.map((keyring) => keyring.roomId);
  }

  /** Revokes another device of this user on the relay and records it in this device's keyrings. */
  async revokeDevice(deviceId) {
    await this.request("revokeDevice", { deviceId });
    return revokeDeviceEverywhere({ keyrings: this.keyrings.values(), userId: this.userId, deviceId });
  }

  /** Closes the connection. */
  async close() {
    await this.#transport.close();
  }
}
