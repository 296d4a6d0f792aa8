/**
 * The encrypted channel with a replay guard: an at-least-once transport delivering a message
 * twice, a history reload overlapping live events, and a server replaying what it stored.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  E2eeError,
  MemoryKeyStore,
  ReplayGuard,
  RoomKeyring,
  acceptRoomKeyShare,
  createDeviceIdentity,
  createEncryptedChannel,
  loadReplayGuard,
  saveReplayGuard,
  shareRoomKey,
  type DeviceIdentity,
  type DuplicateMessageEvent,
  type EncryptedChannel,
  type EncryptedChannelEvent,
  type RealtimeChannel,
  type SenderBundleResolver,
  type UnableToDecryptEvent,
} from "./index";

const ROOM = "room-7";

/** A transport the test drives by hand: what a server (honest or not) delivers, as JSON. */
class ManualTransport implements RealtimeChannel {
  readonly published: string[] = [];
  readonly #handlers = new Set<(data: unknown) => void>();

  publish(_event: string, data: unknown): void {
    this.published.push(JSON.stringify(data));
  }

  subscribe(_event: string, handler: (data: unknown) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Delivers data to every subscriber, as the server would. */
  deliver(text: string): void {
    for (const handler of this.#handlers) handler(JSON.parse(text));
  }
}

async function until(list: readonly unknown[], count: number): Promise<void> {
  await vi.waitFor(() => expect(list).toHaveLength(count), { timeout: 2000, interval: 5 });
}

const bodyOf = (event: EncryptedChannelEvent): string =>
  event.type === "message" ? (event.value as { body: string }).body : event.type === "duplicate" ? `duplicate ${event.messageId}` : `[${event.reason}]`;

describe("an encrypted channel with a replay guard", () => {
  let alice: DeviceIdentity;
  let bob: DeviceIdentity;
  let aliceKeyring: RoomKeyring;
  let bobKeyring: RoomKeyring;
  let resolveSender: SenderBundleResolver;
  let aliceTransport: ManualTransport;
  let aliceChannel: EncryptedChannel<"chat.message">;

  /** Bob's channel over a fresh transport, with the given guard. */
  function bobChannel(guard: ReplayGuard | undefined, onUnableToDecrypt?: (event: UnableToDecryptEvent) => void) {
    const transport = new ManualTransport();
    const channel = createEncryptedChannel({ channel: transport, roomId: ROOM, keyring: bobKeyring, resolveSender, replayGuard: guard, onUnableToDecrypt });
    const received: EncryptedChannelEvent[] = [];
    channel.subscribe("chat.message", (event) => received.push(event));
    return { transport, channel, received };
  }

  /** Alice sends; returns the envelope as the server relays it. */
  async function send(body: string, messageId?: string): Promise<string> {
    await aliceChannel.publish("chat.message", { body }, { messageId });
    return aliceTransport.published.at(-1)!;
  }

  beforeEach(async () => {
    [alice, bob] = await Promise.all([createDeviceIdentity({ userId: "alice", deviceId: "phone" }), createDeviceIdentity({ userId: "bob", deviceId: "laptop" })]);
    const bundles = new Map([alice, bob].map((device) => [`${device.userId}/${device.deviceId}`, device.publicBundle]));
    resolveSender = ({ userId, deviceId }) => bundles.get(`${userId}/${deviceId}`);
    aliceKeyring = RoomKeyring.create({ roomId: ROOM });
    bobKeyring = RoomKeyring.empty({ roomId: ROOM });
    const [share] = shareRoomKey({ keyring: aliceKeyring, from: alice, to: [bob.publicBundle] });
    acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: bobKeyring });
    aliceTransport = new ManualTransport();
    aliceChannel = createEncryptedChannel({ channel: aliceTransport, roomId: ROOM, keyring: aliceKeyring, device: alice, resolveSender });
  });

  it("delivers a repeated delivery as a duplicate event, not as a message or an error, and keeps delivering", async () => {
    const onUnableToDecrypt = vi.fn();
    const { transport, received } = bobChannel(new ReplayGuard(), onUnableToDecrypt);
    const first = await send("hello", "msg-1");
    transport.deliver(first);
    transport.deliver(first); // the transport retries: at-least-once
    transport.deliver(await send("second", "msg-2"));
    await until(received, 3);
    expect(received.map(bodyOf)).toEqual(["hello", "duplicate msg-1", "second"]);
    const duplicate = received[1] as DuplicateMessageEvent;
    expect(duplicate).toMatchObject({ type: "duplicate", event: "chat.message", messageId: "msg-1", keyVersion: 1, verdict: "seen", sender: { userId: "alice", deviceId: "phone" } });
    expect(duplicate).not.toHaveProperty("value");
    expect(E2eeError.isInstance(duplicate.error, "REPLAYED_MESSAGE")).toBe(true);
    expect(duplicate.error).toMatchObject({ roomId: ROOM, keyVersion: 1, messageId: "msg-1" });
    expect(onUnableToDecrypt).not.toHaveBeenCalled();
  });

  it("without a guard, delivers a repeat as a message again (as before)", async () => {
    const { transport, received } = bobChannel(undefined);
    const first = await send("hello", "msg-1");
    transport.deliver(first);
    transport.deliver(first);
    await until(received, 2);
    expect(received.map(bodyOf)).toEqual(["hello", "hello"]);
  });

  it("lets exactly one of concurrent deliveries of one message be the message", async () => {
    const guard = new ReplayGuard();
    const { channel } = bobChannel(guard);
    const second = bobChannel(guard); // another subscription of the same device
    const text = await send("once", "msg-1");
    second.transport.deliver(text);
    const events = await Promise.all([channel.decrypt("chat.message", JSON.parse(text)), channel.decrypt("chat.message", JSON.parse(text))]);
    await until(second.received, 1);
    const all = [...events, ...second.received];
    expect(all.filter((event) => event.type === "message")).toHaveLength(1);
    expect(all.filter((event) => event.type === "duplicate")).toHaveLength(2);
  });

  it("does not let a forged message with a fresh id claim the id of the genuine one", async () => {
    const guard = new ReplayGuard();
    const { transport, received } = bobChannel(guard);
    const genuine = await send("the real one", "msg-9");
    const envelope = JSON.parse(genuine) as { ciphertext: string };
    const forged = JSON.stringify({ ...envelope, ciphertext: (envelope.ciphertext[0] === "A" ? "B" : "A") + envelope.ciphertext.slice(1) });
    transport.deliver(forged);
    transport.deliver(JSON.stringify({ v: 1, messageId: "msg-9" }));
    transport.deliver(genuine);
    await until(received, 3);
    expect(received.map(bodyOf)).toEqual(["[BAD_SIGNATURE]", "[INVALID_ENVELOPE]", "the real one"]);
    expect(guard.size).toBe(1);
  });

  it("reads history again after a reload, and flags the live copies that overlap it", async () => {
    const store = new MemoryKeyStore();
    const guard = new ReplayGuard();
    const history = [await send("one", "msg-1"), await send("two", "msg-2")];
    const before = bobChannel(guard);
    for (const text of history) before.transport.deliver(text);
    await until(before.received, 2);
    await saveReplayGuard(store, guard);

    // The app reloads: a new channel, the guard loaded from storage.
    const reloaded = (await loadReplayGuard(store))!;
    const after = bobChannel(reloaded);
    const shown = [];
    for (const text of history) shown.push(await after.channel.decrypt("chat.message", JSON.parse(text), { history: true }));
    expect(shown.map(bodyOf)).toEqual(["one", "two"]);

    // A third message is read from history before its live copy arrives; both old live copies are replays.
    const third = await send("three", "msg-3");
    expect(bodyOf(await after.channel.decrypt("chat.message", JSON.parse(third), { history: true }))).toBe("three");
    for (const text of [...history, third]) after.transport.deliver(text);
    after.transport.deliver(await send("four", "msg-4"));
    await until(after.received, 4);
    expect(after.received.map(bodyOf)).toEqual(["duplicate msg-1", "duplicate msg-2", "duplicate msg-3", "four"]);
  });

  it("records a message opened on retry after its key arrives, so its replay is a duplicate", async () => {
    const guard = new ReplayGuard();
    aliceKeyring.rotate({ reason: "manual" });
    const { transport, channel, received } = bobChannel(guard);
    const text = await send("new version", "msg-1");
    transport.deliver(text);
    await until(received, 1);
    expect(bodyOf(received[0]!)).toBe("[UNKNOWN_KEY]");
    expect(guard.size).toBe(0);
    const [share] = shareRoomKey({ keyring: aliceKeyring, from: alice, to: [bob.publicBundle] });
    acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: bobKeyring });
    expect(bodyOf(await channel.decrypt("chat.message", JSON.parse(text)))).toBe("new version");
    transport.deliver(text);
    await until(received, 2);
    expect(received[1]).toMatchObject({ type: "duplicate", keyVersion: 2 });
  });

  it("does not record a message refused because its sender is revoked", async () => {
    const guard = new ReplayGuard();
    bobKeyring.revokeDevice({ userId: "alice", deviceId: "phone" });
    const { transport, received } = bobChannel(guard);
    transport.deliver(await send("from a revoked device", "msg-1"));
    await until(received, 1);
    expect(bodyOf(received[0]!)).toBe("[DEVICE_REVOKED]");
    expect(guard.size).toBe(0);
  });

  it("refuses a replayGuard that is not a ReplayGuard", () => {
    expect(() =>
      createEncryptedChannel({ channel: new ManualTransport(), roomId: ROOM, keyring: bobKeyring, replayGuard: {} as ReplayGuard }),
    ).toThrow(TypeError);
  });
});
