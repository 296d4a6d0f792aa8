// A WebSocket relay for the private chat example, modelled on a realtime service: private
// channels authorised by the app, events relayed to subscribers, encrypted history, device
// bundles, key-share mailboxes and encrypted backups stored in SQLite.
//
// It imports only @domvia/e2ee-envelope: it validates what it stores and relays, and it holds no
// room key and no recovery key. It cannot read a single message.
//
// The protocol is documented in ../README.md ("Protocol").
import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import Database from "better-sqlite3";
import { WebSocketServer } from "ws";
import {
  DEFAULT_ENCRYPTED_EVENTS,
  checkRelayEvent,
  isValidId,
  parseDeviceBundle,
  parseKeyBackup,
  safeParseJson,
  safeParseRoomKeyShare,
} from "@domvia/e2ee-envelope";
import { CHANNEL_PREFIX, MAX_MESSAGE_BYTES, MAX_PLAINTEXT_BYTES, channelOf } from "../protocol.mjs";

export { CHANNEL_PREFIX, MAX_MESSAGE_BYTES, MAX_PLAINTEXT_BYTES, channelOf };

/** The largest number of key shares in one `postShares` request. */
export const MAX_SHARES_PER_REQUEST = 1_000;
const EVENT_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

/**
 * The app's channel token: HMAC-SHA-256 over socket id, channel and user id, with the app secret.
 * Server-side app code (the auth endpoint), not SDK cryptography.
 *
 * @param {string} appSecret
 * @param {{ socketId: string, channel: string, userId: string }} subject
 * @returns {string} hex
 */
export function signChannelToken(appSecret, { socketId, channel, userId }) {
  return createHmac("sha256", appSecret).update(`${socketId}\n${channel}\n${userId}`).digest("hex");
}

/** A refusal sent back as `{ ok: false, error: { code, message } }`. */
class RelayRefusal extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const refuse = (code, message) => {
  throw new RelayRefusal(code, message);
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS members (room_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (room_id, user_id));
  CREATE TABLE IF NOT EXISTS devices (
    user_id TEXT NOT NULL, device_id TEXT NOT NULL, bundle TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, device_id));
  CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, room_id TEXT NOT NULL, message_id TEXT NOT NULL, envelope TEXT NOT NULL,
    UNIQUE (room_id, message_id));
  CREATE TABLE IF NOT EXISTS mailbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, recipient_user_id TEXT NOT NULL, recipient_device_id TEXT NOT NULL,
    room_id TEXT NOT NULL, share TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS backups (user_id TEXT PRIMARY KEY, backup TEXT NOT NULL, updated_at INTEGER NOT NULL);
`;

/**
 * @typedef {object} RelayOptions
 * @property {number} [port] 0 picks a free port.
 * @property {string} [host] loopback by default.
 * @property {string} [databasePath] ":memory:" by default.
 * @property {string} appSecret the secret the auth endpoint signs channel tokens with.
 * @property {readonly string[]} [encryptedEvents] event names whose data must be an envelope.
 * @property {import("node:http").Server} [server] a listening HTTP server to attach to (at `path`)
 *   instead of a port of the relay's own; `port` and `host` are then ignored, and `close()` leaves
 *   the server open.
 * @property {string} [path] the WebSocket path on `server`, "/ws" by default.
 */

/**
 * @typedef {object} Relay
 * @property {string} url ws://host:port
 * @property {number} port
 * @property {import("better-sqlite3").Database} db
 * @property {() => Promise<void>} close
 */

/**
 * Starts the relay.
 *
 * @param {RelayOptions} options
 * @returns {Promise<Relay>}
 */
export async function startRelay({ port = 0, host = "127.0.0.1", databasePath = ":memory:", appSecret, encryptedEvents = DEFAULT_ENCRYPTED_EVENTS, server, path = "/ws" }) {
  if (typeof appSecret !== "string" || appSecret.length < 16) {
    throw new TypeError('"appSecret" expected a string of at least 16 characters');
  }
  const db = new Database(databasePath);
  db.pragma("journal_mode = WAL");
  db.exec(SCHEMA);

  const sql = {
    room: db.prepare("SELECT owner_id AS ownerId FROM rooms WHERE room_id = ?"),
    createRoom: db.prepare("INSERT INTO rooms (room_id, owner_id, created_at) VALUES (?, ?, ?)"),
    isMember: db.prepare("SELECT 1 FROM members WHERE room_id = ? AND user_id = ?"),
    members: db.prepare("SELECT user_id AS userId FROM members WHERE room_id = ? ORDER BY user_id"),
    addMember: db.prepare("INSERT OR IGNORE INTO members (room_id, user_id) VALUES (?, ?)"),
    removeMember: db.prepare("DELETE FROM members WHERE room_id = ? AND user_id = ?"),
    device: db.prepare("SELECT bundle, revoked FROM devices WHERE user_id = ? AND device_id = ?"),
    putDevice: db.prepare(
      "INSERT INTO devices (user_id, device_id, bundle) VALUES (?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET bundle = excluded.bundle",
    ),
    revokeDevice: db.prepare("UPDATE devices SET revoked = 1 WHERE user_id = ? AND device_id = ?"),
    roomDevices: db.prepare(
      "SELECT d.user_id AS userId, d.device_id AS deviceId, d.bundle AS bundle FROM devices d JOIN members m ON m.user_id = d.user_id WHERE m.room_id = ? AND d.revoked = 0 ORDER BY d.user_id, d.device_id",
    ),
    hasMessage: db.prepare("SELECT 1 FROM messages WHERE room_id = ? AND message_id = ?"),
    addMessage: db.prepare("INSERT INTO messages (room_id, message_id, envelope) VALUES (?, ?, ?)"),
    history: db.prepare("SELECT message_id AS messageId, envelope FROM messages WHERE room_id = ? ORDER BY seq"),
    addShare: db.prepare("INSERT INTO mailbox (recipient_user_id, recipient_device_id, room_id, share) VALUES (?, ?, ?, ?)"),
    mailbox: db.prepare("SELECT seq, share FROM mailbox WHERE recipient_user_id = ? AND recipient_device_id = ? ORDER BY seq"),
    mailboxSize: db.prepare("SELECT COUNT(*) AS count FROM mailbox WHERE recipient_user_id = ? AND recipient_device_id = ?"),
    clearMailbox: db.prepare("DELETE FROM mailbox WHERE recipient_user_id = ? AND recipient_device_id = ? AND seq <= ?"),
    dropMailbox: db.prepare("DELETE FROM mailbox WHERE recipient_user_id = ? AND recipient_device_id = ?"),
    backup: db.prepare("SELECT backup FROM backups WHERE user_id = ?"),
    putBackup: db.prepare(
      "INSERT INTO backups (user_id, backup, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET backup = excluded.backup, updated_at = excluded.updated_at",
    ),
  };

  /** @typedef {{ ws: import("ws").WebSocket, socketId: string, userId: string | null, deviceId: string | null, channels: Set<string> }} Session */
  /** @type {Set<Session>} */
  const sessions = new Set();

  const send = (session, message) => {
    if (session.ws.readyState === session.ws.OPEN) session.ws.send(JSON.stringify(message));
  };
  const isMember = (roomId, userId) => sql.isMember.get(roomId, userId) !== undefined;
  const signedIn = (session) => {
    if (session.userId === null || session.deviceId === null) refuse("NOT_SIGNED_IN", "sign in first");
    return { userId: session.userId, deviceId: session.deviceId };
  };
  const requireId = (value, name) => {
    if (!isValidId(value)) refuse("BAD_REQUEST", `"${name}" expected an identifier`);
    return value;
  };
  const requireRoom = (roomId) => {
    const room = sql.room.get(requireId(roomId, "roomId"));
    if (room === undefined) refuse("UNKNOWN_ROOM", `no room "${roomId}"`);
    return room;
  };
  const requireMember = (roomId, userId) => {
    requireRoom(roomId);
    if (!isMember(roomId, userId)) refuse("NOT_MEMBER", `"${userId}" is not a member of room "${roomId}"`);
  };
  const requireOwner = (roomId, userId) => {
    if (requireRoom(roomId).ownerId !== userId) refuse("NOT_OWNER", `only the owner of room "${roomId}" changes its members`);
  };
  /** The room of a private channel name, or a refusal. */
  const roomOfChannel = (channel) => {
    if (typeof channel !== "string" || !channel.startsWith(CHANNEL_PREFIX)) refuse("UNKNOWN_CHANNEL", "not a private room channel");
    const roomId = channel.slice(CHANNEL_PREFIX.length);
    if (!isValidId(roomId) || sql.room.get(roomId) === undefined) refuse("UNKNOWN_CHANNEL", `no channel "${String(channel).slice(0, 80)}"`);
    return roomId;
  };
  const pushToRoom = (roomId, message) => {
    for (const session of sessions) if (session.userId !== null && isMember(roomId, session.userId)) send(session, message);
  };
  const pushMembership = (roomId, change, userId) => {
    const message = { push: "membership", roomId, change, userId };
    pushToRoom(roomId, message);
    if (change === "removed") for (const session of sessions) if (session.userId === userId) send(session, message);
  };

  /** @type {Record<string, (session: Session, request: Record<string, unknown>) => unknown>} */
  const operations = {
    signIn(session, { userId, deviceId }) {
      requireId(userId, "userId");
      requireId(deviceId, "deviceId");
      if (session.userId !== null) refuse("ALREADY_SIGNED_IN", "this socket is already signed in");
      if (sql.device.get(userId, deviceId)?.revoked === 1) refuse("DEVICE_REVOKED", `device "${userId}/${deviceId}" was revoked`);
      session.userId = userId;
      session.deviceId = deviceId;
      return { socketId: session.socketId, pendingShares: sql.mailboxSize.get(userId, deviceId).count };
    },

    putBundle(session, { bundle }) {
      const me = signedIn(session);
      const parsed = parseDeviceBundle(bundle);
      if (parsed.userId !== me.userId || parsed.deviceId !== me.deviceId) refuse("BUNDLE_MISMATCH", "a device publishes only its own bundle");
      sql.putDevice.run(me.userId, me.deviceId, JSON.stringify(parsed));
      return {};
    },

    getBundle(session, { userId, deviceId }) {
      signedIn(session);
      const row = sql.device.get(requireId(userId, "userId"), requireId(deviceId, "deviceId"));
      // Bundles stay readable after a revocation: they verify the device's old messages.
      return { bundle: row === undefined ? null : JSON.parse(row.bundle), revoked: row?.revoked === 1 };
    },

    revokeDevice(session, { deviceId }) {
      const me = signedIn(session);
      requireId(deviceId, "deviceId");
      if (deviceId === me.deviceId) refuse("BAD_REQUEST", "a device does not revoke itself here");
      if (sql.device.get(me.userId, deviceId) === undefined) refuse("UNKNOWN_DEVICE", `no device "${me.userId}/${deviceId}"`);
      db.transaction(() => {
        sql.revokeDevice.run(me.userId, deviceId);
        sql.dropMailbox.run(me.userId, deviceId);
      })();
      for (const other of sessions) {
        if (other.userId === me.userId && other.deviceId === deviceId) other.ws.close(4001, "device revoked");
        else if (other.userId !== null) send(other, { push: "device-revoked", userId: me.userId, deviceId });
      }
      return {};
    },

    createRoom(session, { roomId }) {
      const me = signedIn(session);
      requireId(roomId, "roomId");
      if (sql.room.get(roomId) !== undefined) refuse("ROOM_EXISTS", `room "${roomId}" exists`);
      db.transaction(() => {
        sql.createRoom.run(roomId, me.userId, Date.now());
        sql.addMember.run(roomId, me.userId);
      })();
      return { channel: channelOf(roomId) };
    },

    addMember(session, { roomId, userId }) {
      const me = signedIn(session);
      requireOwner(roomId, me.userId);
      sql.addMember.run(roomId, requireId(userId, "userId"));
      pushMembership(roomId, "added", userId);
      return {};
    },

    removeMember(session, { roomId, userId }) {
      const me = signedIn(session);
      requireOwner(roomId, me.userId);
      requireId(userId, "userId");
      if (userId === me.userId) refuse("BAD_REQUEST", "the owner stays in the room");
      sql.removeMember.run(roomId, userId);
      // Channel access ends with membership: drop the removed user's subscriptions.
      for (const other of sessions) if (other.userId === userId) other.channels.delete(channelOf(roomId));
      pushMembership(roomId, "removed", userId);
      return {};
    },

    members(session, { roomId }) {
      const me = signedIn(session);
      requireMember(roomId, me.userId);
      const devices = sql.roomDevices.all(roomId).map(({ userId, deviceId }) => ({ userId, deviceId }));
      return { members: sql.members.all(roomId).map((row) => row.userId), devices };
    },

    roomDevices(session, { roomId }) {
      const me = signedIn(session);
      requireMember(roomId, me.userId);
      return { bundles: sql.roomDevices.all(roomId).map((row) => JSON.parse(row.bundle)) };
    },

    // The app's auth endpoint: a channel token only for members of the channel's room.
    auth(session, { channel }) {
      const me = signedIn(session);
      const roomId = roomOfChannel(channel);
      if (!isMember(roomId, me.userId)) refuse("NOT_MEMBER", `"${me.userId}" is not a member of room "${roomId}"`);
      return { token: signChannelToken(appSecret, { socketId: session.socketId, channel, userId: me.userId }) };
    },

    subscribe(session, { channel, token }) {
      const me = signedIn(session);
      const roomId = roomOfChannel(channel);
      if (typeof token !== "string" || token.length === 0) refuse("TOKEN_REQUIRED", "a private channel needs a token from the auth endpoint");
      const expected = Buffer.from(signChannelToken(appSecret, { socketId: session.socketId, channel, userId: me.userId }), "hex");
      const given = Buffer.from(token, "hex");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        refuse("INVALID_TOKEN", "the token was not issued for this socket, channel and user");
      }
      // Checked again: membership may have ended since the token was issued.
      if (!isMember(roomId, me.userId)) refuse("NOT_MEMBER", `"${me.userId}" is not a member of room "${roomId}"`);
      session.channels.add(channel);
      return {};
    },

    unsubscribe(session, { channel }) {
      signedIn(session);
      if (typeof channel === "string") session.channels.delete(channel);
      return {};
    },

    publish(session, { channel, event, data }) {
      const me = signedIn(session);
      const roomId = roomOfChannel(channel);
      if (!session.channels.has(channel)) refuse("NOT_SUBSCRIBED", "subscribe to the channel before publishing on it");
      if (!isMember(roomId, me.userId)) refuse("NOT_MEMBER", `"${me.userId}" is not a member of room "${roomId}"`);
      if (typeof event !== "string" || !EVENT_NAME.test(event)) refuse("BAD_REQUEST", '"event" expected a lowercase event name');
      const checked = checkRelayEvent({ roomId, event, data, encryptedEvents, maxPlaintextBytes: MAX_PLAINTEXT_BYTES });
      if (!checked.ok) refuse(checked.error.code, checked.error.message);
      let relayed = data;
      let result = {};
      if (checked.kind === "encrypted") {
        const { envelope } = checked;
        if (envelope.v === 2 && (envelope.senderUserId !== me.userId || envelope.senderDeviceId !== me.deviceId)) {
          refuse("SENDER_MISMATCH", "a signed envelope must name the publishing device");
        }
        // SPEC.md §17.6: a message id is used once per room, so a replayed envelope is refused.
        if (sql.hasMessage.get(roomId, envelope.messageId) !== undefined) {
          refuse("DUPLICATE_MESSAGE_ID", `message id "${envelope.messageId}" is already used in room "${roomId}"`);
        }
        sql.addMessage.run(roomId, envelope.messageId, JSON.stringify(envelope));
        relayed = envelope;
        result = { messageId: envelope.messageId };
      }
      // Operational events (typing, receipts, ...) are relayed to the subscribers, not stored.
      for (const other of sessions) {
        if (other !== session && other.channels.has(channel)) send(other, { push: "event", channel, event, data: relayed });
      }
      return result;
    },

    history(session, { roomId }) {
      const me = signedIn(session);
      requireMember(roomId, me.userId);
      return { messages: sql.history.all(roomId).map((row) => ({ messageId: row.messageId, envelope: JSON.parse(row.envelope) })) };
    },

    postShares(session, { shares }) {
      const me = signedIn(session);
      if (!Array.isArray(shares) || shares.length > MAX_SHARES_PER_REQUEST) refuse("BAD_REQUEST", `"shares" expected an array of at most ${MAX_SHARES_PER_REQUEST}`);
      const accepted = shares.map((input) => {
        const parsed = safeParseRoomKeyShare(input);
        if (!parsed.success) refuse(parsed.error.code, parsed.error.message);
        const share = parsed.data;
        if (share.senderUserId !== me.userId || share.senderDeviceId !== me.deviceId) refuse("SENDER_MISMATCH", "a device posts only shares it sent");
        requireMember(share.roomId, me.userId);
        if (!isMember(share.roomId, share.recipientUserId)) refuse("NOT_MEMBER", `recipient "${share.recipientUserId}" is not a member of room "${share.roomId}"`);
        const recipient = sql.device.get(share.recipientUserId, share.recipientDeviceId);
        if (recipient === undefined || recipient.revoked === 1) refuse("UNKNOWN_DEVICE", `no active device "${share.recipientUserId}/${share.recipientDeviceId}"`);
        return share;
      });
      db.transaction(() => {
        for (const share of accepted) sql.addShare.run(share.recipientUserId, share.recipientDeviceId, share.roomId, JSON.stringify(share));
      })();
      const notified = new Set();
      for (const share of accepted) notified.add(`${share.recipientUserId}/${share.recipientDeviceId}`);
      for (const other of sessions) {
        if (other.userId !== null && notified.has(`${other.userId}/${other.deviceId}`)) {
          send(other, { push: "shares", count: sql.mailboxSize.get(other.userId, other.deviceId).count });
        }
      }
      return { stored: accepted.length };
    },

    takeShares(session) {
      const me = signedIn(session);
      const rows = sql.mailbox.all(me.userId, me.deviceId);
      if (rows.length > 0) sql.clearMailbox.run(me.userId, me.deviceId, rows[rows.length - 1].seq);
      return { shares: rows.map((row) => JSON.parse(row.share)) };
    },

    putBackup(session, { backup }) {
      const me = signedIn(session);
      sql.putBackup.run(me.userId, JSON.stringify(parseKeyBackup(backup)), Date.now());
      return {};
    },

    getBackup(session) {
      const me = signedIn(session);
      const row = sql.backup.get(me.userId);
      return { backup: row === undefined ? null : JSON.parse(row.backup) };
    },
  };

  const handle = (session, text) => {
    const parsed = safeParseJson(text, MAX_MESSAGE_BYTES);
    if (!parsed.ok) {
      send(session, { id: null, ok: false, error: { code: "MALFORMED_JSON", message: `request is not JSON (${parsed.reason})` } });
      return;
    }
    const request = parsed.value;
    const hasId = typeof request === "object" && request !== null && (typeof request.id === "number" || typeof request.id === "string");
    const id = hasId ? request.id : null;
    try {
      if (!hasId || Array.isArray(request)) refuse("BAD_REQUEST", 'a request is an object with an "id" and an "op"');
      const operation = Object.hasOwn(operations, request.op) ? operations[request.op] : undefined;
      if (operation === undefined) refuse("UNKNOWN_OP", `unknown op "${String(request.op).slice(0, 40)}"`);
      send(session, { id, ok: true, result: operation(session, request) });
    } catch (error) {
      // SDK parsers throw E2eeErrors with stable codes; anything else is reported without details.
      const known = error instanceof RelayRefusal || (typeof error?.code === "string" && /^[A-Z_]+$/.test(error.code));
      send(session, { id, ok: false, error: known ? { code: error.code, message: error.message } : { code: "INTERNAL_ERROR", message: "internal error" } });
    }
  };

  const wss = server === undefined ? new WebSocketServer({ host, port, maxPayload: MAX_MESSAGE_BYTES }) : new WebSocketServer({ server, path, maxPayload: MAX_MESSAGE_BYTES });
  wss.on("connection", (ws) => {
    /** @type {Session} */
    const session = { ws, socketId: randomBytes(12).toString("hex"), userId: null, deviceId: null, channels: new Set() };
    sessions.add(session);
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        send(session, { id: null, ok: false, error: { code: "BAD_REQUEST", message: "send JSON text frames" } });
        return;
      }
      handle(session, data.toString("utf8"));
    });
    ws.on("error", () => ws.terminate());
    ws.on("close", () => sessions.delete(session));
    send(session, { push: "welcome", socketId: session.socketId });
  });
  if (server === undefined) {
    await new Promise((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
  }
  const address = (server ?? wss).address();
  const actualPort = typeof address === "object" && address !== null ? address.port : port;
  const actualHost = server === undefined ? host : typeof address === "object" && address !== null ? address.address : host;
  const hostForUrl = actualHost.includes(":") ? `[${actualHost}]` : actualHost;

  return {
    url: server === undefined ? `ws://${hostForUrl}:${actualPort}` : `ws://${hostForUrl}:${actualPort}${path}`,
    port: actualPort,
    db,
    async close() {
      for (const session of sessions) session.ws.terminate();
      await new Promise((resolve) => wss.close(() => resolve(undefined)));
      db.close();
    },
  };
}
