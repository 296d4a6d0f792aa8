/**
 * Story: a message delivered again.
 *
 * Alice and Bob talk in the "poker" room. The server stores every message and relays it live to
 * Bob's laptop, which opens it through an encrypted channel with a `ReplayGuard` kept in its key
 * store. The relay is at-least-once: after a hiccup it sends the same envelope again on the same
 * event id. It is also curious: it replays an old envelope on purpose, forges one under the id
 * Alice will use next, and hands two copies of one message over two connections at the same
 * moment. Bob's app reloads and shows the room's history again while live events overlap it.
 * Every repeat is recognised as a duplicate, never shown twice and never shown as an error;
 * the history stays readable; the saved guard survives the reload and refuses to load when it
 * has been tampered with.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  E2eeError,
  MemoryKeyStore,
  ReplayGuard,
  createEncryptedChannel,
  loadReplayGuard,
  saveReplayGuard,
  type EncryptedChannel,
  type EncryptedChannelEvent,
  type RealtimeChannel,
} from "../../src/index";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

const ROOM = "poker";

/** One live connection of a device to the server's room: the server pushes events through it. */
class Connection implements RealtimeChannel {
  readonly #handlers = new Set<(data: unknown) => void>();

  publish(): void {
    throw new Error("this story's devices post through the server directly");
  }

  subscribe(_event: string, handler: (data: unknown) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** The server pushes an envelope, as JSON, on the chat event. */
  push(envelope: unknown): void {
    const text = JSON.stringify(envelope);
    for (const handler of this.#handlers) handler(JSON.parse(text));
  }
}

/** Bob's app: one channel, what it shows, and the duplicates it noticed. */
interface App {
  readonly connection: Connection;
  readonly channel: EncryptedChannel<"chat.message">;
  readonly events: EncryptedChannelEvent[];
}

/** What a user would see for each event: a body, a marked duplicate, or an "unable to decrypt" line. */
const shown = (event: EncryptedChannelEvent): string =>
  event.type === "message" ? (event.value as { body: string }).body : event.type === "duplicate" ? `(duplicate of ${event.messageId})` : `[${event.reason}]`;

describe("story: a replayed message", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;
  let store: MemoryKeyStore;
  let guard: ReplayGuard;

  /** The envelope the server stored under a message id. */
  const stored = (messageId: string, roomId = ROOM): unknown => server.history(roomId).find((message) => message.messageId === messageId)!.envelope;

  /** Bob's app opening the room with a guard. */
  function openApp(replayGuard: ReplayGuard): App {
    const connection = new Connection();
    const channel = createEncryptedChannel({
      channel: connection,
      roomId: ROOM,
      keyring: bobLaptop.keyring(ROOM),
      resolveSender: server.resolveSender,
      replayGuard,
    });
    const events: EncryptedChannelEvent[] = [];
    channel.subscribe("chat.message", (event) => events.push(event));
    return { connection, channel, events };
  }

  async function until(app: App, count: number): Promise<void> {
    await vi.waitFor(() => expect(app.events).toHaveLength(count), { timeout: 2000, interval: 5 });
  }

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    alicePhone.createRoom(ROOM);
    bobLaptop.joinRoom(ROOM);
    alicePhone.shareKey(ROOM);
    bobLaptop.receiveShares();
    store = new MemoryKeyStore();
    guard = (await loadReplayGuard(store)) ?? new ReplayGuard();
  });

  it("shows a message the relay delivers twice on the same event id once, and flags the copy", async () => {
    const app = openApp(guard);
    const first = await alicePhone.say(ROOM, "Deal me in.");
    app.connection.push(stored(first));
    app.connection.push(stored(first)); // the relay's retry after a hiccup
    app.connection.push(stored(await alicePhone.say(ROOM, "Blinds are 10/20.")));
    await until(app, 3);

    expect(app.events.map(shown)).toEqual(["Deal me in.", `(duplicate of ${first})`, "Blinds are 10/20."]);
    const duplicate = app.events[1]!;
    if (duplicate.type !== "duplicate") return expect.fail("expected a duplicate");
    expect(duplicate.error).toMatchObject({ code: "REPLAYED_MESSAGE", roomId: ROOM, keyVersion: 1, messageId: first });

    // The same envelope opened through the keyring with the guard is refused outright.
    const error = await expectFailure(
      () => bobLaptop.keyring(ROOM).decryptChatJson(stored(first), { roomId: ROOM, messageId: first, resolveSender: server.resolveSender, replayGuard: guard }),
      "REPLAYED_MESSAGE",
    );
    expect(error).toMatchObject({ roomId: ROOM, keyVersion: 1, messageId: first });
  });

  it("does not let a forgery under the next message id spoil the genuine message", async () => {
    const app = openApp(guard);
    const first = await alicePhone.say(ROOM, "Deal me in.");
    app.connection.push(stored(first));
    // The server relabels Alice's envelope with the id her next message will get.
    const nextId = "msg-2";
    app.connection.push({ ...(stored(first) as object), messageId: nextId });
    const second = await alicePhone.say(ROOM, "All in.");
    expect(second).toBe(nextId);
    app.connection.push(stored(second));
    await until(app, 3);
    expect(app.events.map(shown)).toEqual(["Deal me in.", "[BAD_SIGNATURE]", "All in."]);
  });

  it("does not take the same message id in another room or under another key version as a replay", async () => {
    alicePhone.createRoom("book-club");
    bobLaptop.joinRoom("book-club");
    alicePhone.shareKey("book-club");
    bobLaptop.receiveShares();
    const app = openApp(guard);
    const first = await alicePhone.say(ROOM, "Deal me in.");
    app.connection.push(stored(first));
    await until(app, 1);

    // Ids are per room, so another room may use the same one.
    const elsewhere = await alicePhone.keyring("book-club").encryptChatJson({ body: "Chapter 3?" }, { messageId: first, sender: alicePhone.identity });
    const openedElsewhere = await bobLaptop
      .keyring("book-club")
      .decryptChatJson(elsewhere, { roomId: "book-club", messageId: first, resolveSender: server.resolveSender, replayGuard: guard });
    expect(openedElsewhere).toEqual({ body: "Chapter 3?" });

    // After a rotation, the same id under the new version is another message.
    alicePhone.rotateAndShare(ROOM, "manual");
    bobLaptop.receiveShares();
    const underVersion2 = await alicePhone.keyring(ROOM).encryptChatJson({ body: "New deck." }, { messageId: first, sender: alicePhone.identity });
    app.connection.push(underVersion2);
    await until(app, 2);
    expect(app.events[1]).toMatchObject({ type: "message", keyVersion: 2, messageId: first });
  });

  it("counts two copies arriving over two connections at the same moment once", async () => {
    const laptop = openApp(guard);
    const secondTab = openApp(guard);
    const first = await alicePhone.say(ROOM, "Deal me in.");
    laptop.connection.push(stored(first));
    secondTab.connection.push(stored(first));
    await until(laptop, 1);
    await until(secondTab, 1);
    const types = [laptop.events[0]!.type, secondTab.events[0]!.type].sort();
    expect(types).toEqual(["duplicate", "message"]);
  });

  it("still recognises a replay after the app reloads, and shows the history again", async () => {
    const before = openApp(guard);
    const ids = [await alicePhone.say(ROOM, "Deal me in."), await alicePhone.say(ROOM, "Blinds are 10/20.")];
    for (const id of ids) before.connection.push(stored(id));
    await until(before, 2);
    await saveReplayGuard(store, guard);

    // Reload: a new process, the guard from the key store.
    const reloaded = await loadReplayGuard(store);
    if (reloaded === undefined) return expect.fail("the guard was not saved");
    const after = openApp(reloaded);

    // The history screen reads every stored message again, as history.
    const history = [];
    for (const { envelope } of server.history(ROOM)) history.push(shown(await after.channel.decrypt("chat.message", envelope, { history: true })));
    expect(history).toEqual(["Deal me in.", "Blinds are 10/20."]);
    expect(await bobLaptop.read(ROOM)).toEqual(["Deal me in.", "Blinds are 10/20."]);

    // Live events overlap the history: the server replays an old one, then a new one arrives.
    after.connection.push(stored(ids[0]!));
    after.connection.push(stored(await alicePhone.say(ROOM, "Raise.")));
    await until(after, 2);
    expect(after.events.map(shown)).toEqual([`(duplicate of ${ids[0]})`, "Raise."]);
  });

  it("refuses a saved guard that was tampered with or blown up, and keeps the one it has", async () => {
    const app = openApp(guard);
    const first = await alicePhone.say(ROOM, "Deal me in.");
    app.connection.push(stored(first));
    await until(app, 1);
    await saveReplayGuard(store, guard);
    const saved = (await store.get("domvia-e2ee/replay-guard")) as { messages: [number, number, string][] };
    const before = JSON.stringify(guard.exportState());

    // Someone with access to the disk tries to make Bob forget the message, or to crash the app.
    const forgetful = { ...saved, messages: [[0, 1, first], [0, 1, first]] };
    const huge = { ...saved, messages: Array.from({ length: 100_001 }, (_, index) => [0, 1, `msg-${index}`]) };
    const newer = { ...saved, v: 2 };
    for (const [state, code] of [
      [forgetful, "INVALID_ENVELOPE"],
      [huge, "PAYLOAD_TOO_LARGE"],
      [newer, "UNSUPPORTED_VERSION"],
    ] as const) {
      await store.set("domvia-e2ee/replay-guard", state);
      await expectFailure(() => loadReplayGuard(store), code);
      const error = await expectFailure(() => guard.restore(state), code);
      expect(E2eeError.isInstance(error)).toBe(true);
      expect(JSON.stringify(guard.exportState())).toBe(before);
    }
    app.connection.push(stored(first));
    await until(app, 2);
    expect(app.events[1]?.type).toBe("duplicate");
  });
});
