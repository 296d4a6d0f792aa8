// The private chat in a browser: plain DOM, one device per tab, every piece of cryptography on
// the device (@domvia/realtime-e2ee through chat-client.mjs). Device identity and room keyrings
// live in IndexedDB, so a reload reads the history again; the relay only ever sees envelopes.
import "./style.css";
import {
  createDeviceIdentity,
  createRecoveryKey,
  getNativeCrypto,
  loadDeviceIdentity,
  loadKeyrings,
  recoveryKeyFromCode,
  saveDeviceIdentity,
  saveKeyring,
} from "@domvia/realtime-e2ee";
import { ChatClient, RelayError } from "../../chat-client.mjs";
import { openBrowserTransport } from "./browser-transport.js";
import { IndexedDbKeyStore } from "./idb-key-store.js";

const RELAY_URL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const LAST_SIGN_IN = "private-chat/last-sign-in";
const RECOVERY_PUBLIC_KEY = "private-chat/recovery-public-key";

/** @param {string} id @returns {any} the element with that data-testid */
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

/** @type {ChatClient | null} */
let client = null;
/** @type {IndexedDbKeyStore | null} */
let store = null;
/** The open room: its id, its encrypted channel, and how to stop listening. */
let room = null;
/** Removals this device made (`roomId\nuserId`): its keyring already rotated past them. */
const ownRemovals = new Set();

// Everything that touches the client or the stores runs one step at a time, pushes included.
let queue = Promise.resolve();
function serial(step) {
  const run = queue.then(step);
  queue = run.catch(() => undefined);
  return run;
}

function status(text, isError = false) {
  const line = $("status");
  line.textContent = text;
  line.classList.toggle("error", isError);
}

/** Runs a user action in turn and reports its failure in the status line. */
function action(step) {
  return serial(step).catch((error) => {
    const code = error instanceof RelayError || typeof error?.code === "string" ? error.code : "ERROR";
    status(`${code}: ${error instanceof RelayError ? error.message.replace(`${code}: `, "") : error?.message ?? String(error)}`, true);
  });
}

const storageName = (userId, deviceId) => `private-chat/${userId}/${deviceId}`;

/** Saves every keyring; with `backUp`, also appends new key versions to the user's key backup. */
async function persist({ backUp = false } = {}) {
  for (const keyring of client.keyrings.values()) await saveKeyring(store, keyring);
  const publicKey = await store.get(RECOVERY_PUBLIC_KEY);
  if (backUp && typeof publicKey === "string") await client.backUp({ publicKey }, { append: true });
}

async function signIn(userId, deviceId) {
  store = await IndexedDbKeyStore.open(storageName(userId, deviceId));
  let device = await loadDeviceIdentity(store);
  if (device === undefined) {
    device = await createDeviceIdentity({ userId, deviceId });
    await saveDeviceIdentity(store, device);
  }
  client = await ChatClient.connect({ url: RELAY_URL, openTransport: openBrowserTransport, device });
  for (const keyring of await loadKeyrings(store)) client.keyrings.set(keyring.roomId, keyring);
  client.onPush((push) => void serial(() => onPush(push)).catch((error) => status(String(error?.message ?? error), true)));
  localStorage.setItem(LAST_SIGN_IN, JSON.stringify({ userId, deviceId }));
  $("whoami").textContent = `${userId}/${deviceId}`;
  $("sign-in-panel").hidden = true;
  $("app").hidden = false;
  status(`signed in as ${userId}/${deviceId}`);
  await takeShares();
  const last = localStorage.getItem(`${storageName(userId, deviceId)}/room`);
  const first = last ?? [...client.keyrings.keys()][0];
  if (room === null && first !== undefined && first !== null) await openRoom(first);
  renderRooms();
}

/** Takes this device's key-share mailbox; new keys re-open the history of the open room. */
async function takeShares() {
  const { accepted, refused } = await client.receiveShares();
  if (accepted.length === 0 && refused.length === 0) return;
  await persist({ backUp: accepted.length > 0 });
  const versions = accepted.map((a) => `${a.roomId} v${a.keyVersion}`).join(", ");
  status(`received keys: ${versions || "none"}${refused.length > 0 ? `; refused: ${refused.join(", ")}` : ""}`);
  renderRooms();
  if (room === null && accepted.length > 0) await openRoom(accepted[0].roomId);
  else if (room !== null && accepted.some((a) => a.roomId === room.id)) await showHistory();
}

async function onPush(push) {
  if (client === null) return;
  if (push.push === "shares") {
    await takeShares();
  } else if (push.push === "membership") {
    const keyring = client.keyrings.get(push.roomId);
    if (push.userId === client.userId) {
      if (push.change === "removed") {
        status(`you were removed from room ${push.roomId}`);
        if (room?.id === push.roomId) $("room-state").textContent = "(you were removed: new messages are not for you)";
      } else {
        status(`you were added to room ${push.roomId}; its key arrives as a key share`);
      }
      return;
    }
    const own = push.change === "removed" && ownRemovals.delete(`${push.roomId}\n${push.userId}`);
    if (keyring !== undefined && !own) {
      // Shares to and from a removed member are refused from now on, and this device rotates before it sends again.
      if (push.change === "removed") keyring.removeMember({ userId: push.userId });
      else keyring.readmitMember({ userId: push.userId });
      await persist();
    }
    if (room?.id === push.roomId) await showMembers();
  } else if (push.push === "device-revoked") {
    for (const keyring of client.keyrings.values()) keyring.revokeDevice({ userId: push.userId, deviceId: push.deviceId });
    await persist();
    status(`device ${push.userId}/${push.deviceId} was revoked`);
  } else if (push.push === "closed") {
    status("disconnected from the relay: reload to reconnect", true);
  }
}

/** Subscribes to a room's private channel and shows its history. */
async function openRoom(roomId) {
  room?.stop();
  room = null;
  const channel = await client.join(roomId, { onError: (error) => status(String(error?.message ?? error), true) });
  const stop = channel.subscribe("chat.message", (event) => showEvent(event));
  room = { id: roomId, channel, stop };
  await saveKeyring(store, client.keyring(roomId));
  localStorage.setItem(`${storageName(client.userId, client.deviceId)}/room`, roomId);
  $("current-room").textContent = roomId;
  $("room-state").textContent = "";
  $("room-panel").hidden = false;
  await showHistory();
  await showMembers();
  renderRooms();
}

async function showHistory() {
  $("messages").replaceChildren();
  for (const event of await client.readHistory(room.id)) showEvent(event);
  showKeyVersion();
}

async function showMembers() {
  const { members } = await client.members(room.id);
  $("members").textContent = members.join(", ");
}

function showKeyVersion() {
  $("key-version").textContent = String(client.keyrings.get(room.id)?.currentVersion ?? "none");
}

/**
 * Adds a message, or an "unable to decrypt" line with its reason, once per message id. The data
 * of an event that did not open is never shown; text goes in with textContent only.
 *
 * @param {import("@domvia/realtime-e2ee").EncryptedChannelEvent | { type: "message", messageId: string, value: unknown, sender: { userId: string, deviceId: string }, keyVersion: number }} event
 */
function showEvent(event) {
  const list = $("messages");
  if (event.messageId !== undefined && [...list.children].some((item) => item.dataset.messageId === event.messageId)) return;
  const item = document.createElement("li");
  if (event.messageId !== undefined) item.dataset.messageId = event.messageId;
  if (event.type === "message") {
    item.dataset.testid = "message";
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = event.sender === null ? "(unsigned)" : `${event.sender.userId}/${event.sender.deviceId}`;
    const body = document.createElement("span");
    body.className = "body";
    const value = event.value;
    body.textContent = typeof value === "object" && value !== null && typeof value.body === "string" ? value.body : JSON.stringify(value);
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `key v${event.keyVersion}`;
    item.append(sender, body, meta);
  } else {
    item.dataset.testid = "undecryptable";
    item.dataset.reason = event.reason;
    item.textContent = `unable to decrypt: ${event.reason}`;
  }
  list.append(item);
}

function renderRooms() {
  const list = $("rooms");
  list.replaceChildren();
  for (const roomId of [...client.keyrings.keys()].sort()) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = roomId === room?.id ? `${roomId} (open)` : roomId;
    button.dataset.room = roomId;
    button.addEventListener("click", () => void action(() => openRoom(roomId)));
    item.append(button);
    list.append(item);
  }
}

async function send(text) {
  const keyring = client.keyring(room.id);
  let sent;
  try {
    sent = await room.channel.publish("chat.message", { body: text });
  } catch (error) {
    // After a removal, a revocation or a restore, the device that sends next rotates first.
    if (error?.code !== "ROTATION_REQUIRED" || keyring.currentVersion === null) throw error;
    const version = await client.rotateAndShare(room.id);
    await persist({ backUp: true });
    status(`rotated the room key to version ${version} before sending`);
    sent = await room.channel.publish("chat.message", { body: text });
  }
  showEvent({ type: "message", messageId: sent.messageId, value: { body: text }, sender: { userId: client.userId, deviceId: client.deviceId }, keyVersion: sent.keyVersion });
  showKeyVersion();
}

// Wiring.
$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const userId = $("user-input").value.trim();
  const deviceId = $("device-input").value.trim();
  void action(() => signIn(userId, deviceId));
});

$("sign-out").addEventListener("click", () => {
  localStorage.removeItem(LAST_SIGN_IN);
  location.reload();
});

$("room-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const roomId = $("room-input").value.trim();
  const create = event.submitter?.value === "create";
  void action(async () => {
    if (create) {
      await client.createRoom(roomId);
      await persist({ backUp: true });
      status(`created room ${roomId} with key version 1`);
    }
    await openRoom(roomId);
  });
});

$("member-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const userId = $("member-input").value.trim();
  const remove = event.submitter?.value === "remove";
  void action(async () => {
    if (remove) {
      ownRemovals.add(`${room.id}\n${userId}`);
      await client.removeMember(room.id, userId);
      const version = await client.rotateAndShare(room.id);
      await persist({ backUp: true });
      status(`removed ${userId}; the room key rotated to version ${version}, shared with the remaining devices`);
    } else {
      await client.addMember(room.id, userId);
      client.keyring(room.id).readmitMember({ userId });
      const shared = await client.shareKey(room.id);
      await persist();
      // Which code signed and sealed the shares: "webcrypto" in a browser with X25519 and Ed25519.
      status(`added ${userId}; key version ${client.keyring(room.id).currentVersion} shared with ${shared} devices (curves: ${getNativeCrypto().asyncCurves})`);
    }
    await showMembers();
    showKeyVersion();
    $("member-input").value = "";
  });
});

$("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message-input").value;
  void action(async () => {
    await send(text);
    $("message-input").value = "";
  });
});

$("create-recovery").addEventListener("click", () =>
  void action(async () => {
    const recoveryKey = await createRecoveryKey();
    await client.backUp(recoveryKey);
    await store.set(RECOVERY_PUBLIC_KEY, recoveryKey.publicKey);
    $("recovery-code").textContent = recoveryKey.code;
    status("recovery code created: write it down; it is shown once. New keys are added to the backup as they arrive.");
  }),
);

$("restore-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = $("recovery-input").value.trim().replace(/\s+/g, " ");
  void action(async () => {
    const rooms = await client.restoreFromBackup(code);
    const recoveryKey = await recoveryKeyFromCode(code);
    await store.set(RECOVERY_PUBLIC_KEY, recoveryKey.publicKey);
    await persist();
    $("recovery-input").value = "";
    status(`restored keys for: ${rooms.join(", ") || "no room"}`);
    // The restored keyrings replace the ones the open channel was made with: open it again.
    const target = room?.id ?? rooms[0];
    if (target !== undefined) await openRoom(target);
    renderRooms();
  });
});

// A reload signs the same device in again, with its identity and keys from IndexedDB.
const last = localStorage.getItem(LAST_SIGN_IN);
if (last !== null) {
  try {
    const { userId, deviceId } = JSON.parse(last);
    $("user-input").value = userId;
    $("device-input").value = deviceId;
    void action(() => signIn(userId, deviceId));
  } catch {
    localStorage.removeItem(LAST_SIGN_IN);
  }
}
