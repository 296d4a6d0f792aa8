// The private chat demo: a relay that stores and forwards everything but reads nothing, and
// three people whose devices do all the cryptography. Run it with `pnpm demo` from the
// repository root. It starts the relay in-process on loopback with an in-memory database.
import { randomBytes } from "node:crypto";
import { setTimeout } from "node:timers";
import { pathToFileURL } from "node:url";
import { createRecoveryKey } from "@domvia/realtime-e2ee";
import { ChatClient, RelayError } from "./client.mjs";
import { startRelay } from "./server/relay.mjs";

const ROOM = "room-42";
const WAIT_MS = 5_000;

/**
 * Runs the story.
 *
 * @param {{ write?: (line: string) => void, color?: boolean }} [options] where lines go (default
 *   stdout) and whether to colour them (default: when stdout is a terminal).
 */
export async function main({ write = (line) => process.stdout.write(`${line}\n`), color = process.stdout.isTTY === true } = {}) {
  const paint = (code) => (text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const style = { heading: paint("1;36"), dim: paint("2"), ok: paint("32"), bad: paint("31"), server: paint("33") };
  const heading = (text) => write(`\n${style.heading(`== ${text} ==`)}`);
  const say = (text) => write(`  ${text}`);

  const relay = await startRelay({ appSecret: randomBytes(32).toString("hex") });
  /** @type {ChatClient[]} */
  const clients = [];
  const connect = async (userId, deviceId, device) => {
    const client = await ChatClient.connect({ url: relay.url, userId, deviceId, device });
    clients.push(client);
    return client;
  };

  try {
    heading("1. Three people sign in");
    say(`relay listening on ${relay.url} (SQLite in memory); it imports only @domvia/e2ee-envelope`);
    const alice = await connect("alice", "laptop");
    const bob = await connect("bob", "phone");
    const carol = await connect("carol", "phone");
    for (const client of [alice, bob, carol]) say(`${client.userId}/${client.deviceId} signed in, device bundle published`);

    heading("2. Alice creates a private room and shares its key");
    await alice.createRoom(ROOM);
    await alice.addMember(ROOM, "bob");
    await alice.addMember(ROOM, "carol");
    say(`members of ${ROOM}: ${(await alice.members(ROOM)).members.join(", ")}`);
    say(`alice shares key version 1 with ${await alice.shareKey(ROOM)} devices: signed HPKE shares, filed in each device's mailbox`);
    for (const client of [bob, carol]) {
      const { accepted } = await client.receiveShares();
      say(`${client.userId}/${client.deviceId} took its mailbox: key version ${accepted.map((a) => a.keyVersion).join(", ")}`);
    }
    const bobRecovery = await createRecoveryKey();
    await bob.backUp(bobRecovery);
    say(`bob creates a recovery code (shown to him once) and stores an encrypted key backup on the relay`);

    const inboxes = new Map();
    const joinRoom = async (client) => {
      const room = await client.join(ROOM);
      const inbox = { events: [], waiters: [] };
      room.subscribe("chat.message", (event) => {
        inbox.events.push(event);
        for (const waiter of inbox.waiters.splice(0)) waiter();
      });
      room.subscribe("typing", (data) => say(style.dim(`   ${client.userId} sees typing: ${JSON.stringify(data)}`)));
      inboxes.set(client, inbox);
      return room;
    };
    const nextEvent = async (client) => {
      const inbox = inboxes.get(client);
      const deadline = Date.now() + WAIT_MS;
      while (inbox.events.length === 0) {
        if (Date.now() > deadline) throw new Error(`${client.userId} received nothing within ${WAIT_MS} ms`);
        await new Promise((resolve) => {
          inbox.waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return inbox.events.shift();
    };
    const rooms = new Map();
    for (const client of [alice, bob, carol]) rooms.set(client, await joinRoom(client));
    say(`each subscribed to private-room-${ROOM} with a token from the app's auth endpoint (HMAC over socket, channel, user)`);

    const describe = (event) =>
      event.type === "message"
        ? style.ok(`${JSON.stringify(event.value.body)}  (from ${event.sender.userId}/${event.sender.deviceId}, signature verified, v${event.keyVersion})`)
        : style.bad(`unable to decrypt: ${event.reason}`);

    /** Sends a message and prints, side by side, what the relay stored and what each reader got. */
    const converse = async (sender, body, readers) => {
      await rooms.get(sender).publish("typing", { userId: sender.userId });
      const sent = await rooms.get(sender).publish("chat.message", { body });
      const row = relay.db.prepare("SELECT envelope FROM messages WHERE room_id = ? AND message_id = ?").get(ROOM, sent.messageId);
      const envelope = JSON.parse(row.envelope);
      const left = [
        `v${envelope.v} ${envelope.roomId} key v${envelope.keyVersion}`,
        `messageId ${abbreviate(envelope.messageId, 10)}`,
        `sender ${envelope.senderUserId}/${envelope.senderDeviceId}`,
        `ciphertext ${abbreviate(envelope.ciphertext, 16)}`,
      ];
      const right = [`${sender.userId.padEnd(6)} sent ${JSON.stringify(body)}`];
      for (const reader of readers) right.push(`${reader.userId.padEnd(6)} ${describe(await nextEvent(reader))}`);
      write(`  ${style.dim("server stored (messages.envelope)".padEnd(44))}${style.dim("what each member reads")}`);
      for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
        write(`  ${style.server((left[i] ?? "").padEnd(44))}${right[i] ?? ""}`);
      }
      return { messageId: sent.messageId, envelope };
    };

    heading("3. A conversation: the relay stores ciphertext, members read plaintext");
    await converse(alice, "Hi Bob, hi Carol: this room is private.", [bob, carol]);
    await converse(bob, "Only the three of us can read this.", [alice, carol]);
    await converse(carol, "The server only sees envelopes.", [alice, bob]);

    heading("4. Alice removes Carol and rotates the room key");
    const removed = new Promise((resolve) => {
      const stop = bob.onPush((push) => {
        if (push.push === "membership" && push.change === "removed") {
          bob.keyring(ROOM).removeMember({ userId: push.userId });
          stop();
          resolve(push.userId);
        }
      });
    });
    await alice.removeMember(ROOM, "carol");
    say(`relay: carol removed from ${ROOM}, her subscription dropped; bob's device records it: ${await removed}`);
    try {
      await rooms.get(alice).publish("chat.message", { body: "too early" });
    } catch (error) {
      say(`alice tries to send with version 1: ${error.code} (rotate first)`);
    }
    const version = await alice.rotateAndShare(ROOM);
    say(`alice rotates to key version ${version} and shares it with the remaining devices only`);
    await bob.receiveShares();
    const { envelope: afterRemoval } = await converse(alice, "Carol has left; new key from here on.", [bob]);
    try {
      await carol.join(ROOM);
    } catch (error) {
      say(`carol asks the auth endpoint for a channel token again: ${style.bad(error.code)}`);
    }
    try {
      await carol.history(ROOM);
    } catch (error) {
      say(`carol asks for the room's history: ${style.bad(error.code)}`);
    }
    const leaked = await carol.encryptedChannel(ROOM).decrypt("chat.message", afterRemoval);
    say(`even with the stored envelope (a leaked database), carol's device: ${style.bad(`unable to decrypt: ${leaked.reason}`)}`);
    const carolReads = await carol.encryptedChannel(ROOM).decrypt("chat.message", (await alice.history(ROOM))[0].envelope);
    say(`what carol received before she left stays readable to her: ${describe(carolReads)}`);

    heading("5. Bob backs up the new version, then loses his phone");
    await bob.backUp(bobRecovery, { append: true });
    say("bob's phone adds version 2 to his backup with the recovery public key (no code needed)");
    await bob.close();
    say("bob's phone is gone");
    const tablet = await connect("bob", "tablet");
    say(`bob signs in on a new device, bob/tablet, and types his 24-word recovery code`);
    const restoredRooms = await tablet.restoreFromBackup(bobRecovery.code);
    say(`restored keys for: ${restoredRooms.join(", ")} (key versions ${tablet.keyring(ROOM).versions.map((v) => v.keyVersion).join(", ")})`);
    for (const event of await tablet.readHistory(ROOM)) say(`history on bob/tablet: ${describe(event)}`);
    const revoked = new Promise((resolve) => {
      const stop = alice.onPush((push) => {
        if (push.push === "device-revoked") {
          for (const keyring of alice.keyrings.values()) keyring.revokeDevice({ userId: push.userId, deviceId: push.deviceId });
          stop();
          resolve(`${push.userId}/${push.deviceId}`);
        }
      });
    });
    await tablet.revokeDevice("phone");
    say(`bob revokes his lost phone; alice's device records it: ${await revoked}`);
    say(`alice rotates to key version ${await alice.rotateAndShare(ROOM)}, shared with bob/tablet only`);
    await tablet.receiveShares();
    rooms.set(tablet, await joinRoom(tablet));
    await converse(alice, "Welcome back, Bob.", [tablet]);

    heading("Done");
    const counts = ["messages", "mailbox", "backups", "devices"].map((table) => `${table} ${relay.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n}`);
    say(`the relay holds ${counts.join(", ")}: ciphertext, public bundles and encrypted backups, no key`);
  } finally {
    for (const client of clients) await client.close();
    await relay.close();
  }
}

/** The start and end of a long value, with its length. */
function abbreviate(text, keep) {
  return text.length <= keep * 2 ? text : `${text.slice(0, keep)}…${text.slice(-4)} (${text.length} chars)`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  main()
    .then(() => {
      process.stdout.write(`\nfinished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      process.exit(0);
    })
    .catch((error) => {
      const reason = !(error instanceof RelayError) && typeof error?.code === "string" ? `${error.code}: ${error.message}` : String(error?.message ?? error);
      process.stderr.write(`demo failed: ${reason.split("\n")[0]}\n`);
      process.exit(1);
    });
}
