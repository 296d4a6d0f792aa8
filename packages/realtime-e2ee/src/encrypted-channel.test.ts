/**
 * The encrypted channel over an in-memory publish/subscribe fake that behaves like a realtime
 * service: every publish crosses it as JSON text, is recorded as the server would see it, and
 * reaches every other connection subscribed to that event name, asynchronously.
 */
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi, type Mock } from "vitest";
import {
  E2eeError,
  RoomKeyring,
  acceptRoomKeyShare,
  createDeviceIdentity,
  createEncryptedChannel,
  safeParseEnvelope,
  shareRoomKey,
  type DeviceBundle,
  type DeviceIdentity,
  type EncryptedChannel,
  type EncryptedChannelEvent,
  type EncryptedChannelMessage,
  type RealtimeChannel,
  type SenderBundleResolver,
  type UnableToDecryptEvent,
} from "./index";

/** One event as the service saw it: the name and the JSON text of the data. */
interface SeenEvent {
  readonly event: string;
  readonly text: string;
}

/** A realtime service with one channel. */
class FakePubSub {
  readonly seen: SeenEvent[] = [];
  readonly #subscribers = new Set<{ readonly connection: number; readonly event: string; readonly handler: (data: unknown) => void }>();
  #connections = 0;

  /** A client connection to the channel. `withUnsubscribe: false` mimics clients whose subscribe returns nothing. */
  connect(options: { readonly withUnsubscribe?: boolean } = {}): RealtimeChannel {
    const connection = ++this.#connections;
    return {
      publish: (event, data) => {
        const text = JSON.stringify(data);
        this.seen.push({ event, text });
        this.#deliver(event, text, connection);
      },
      subscribe: (event, handler) => {
        const subscriber = { connection, event, handler };
        this.#subscribers.add(subscriber);
        if (options.withUnsubscribe === false) return;
        return () => {
          this.#subscribers.delete(subscriber);
        };
      },
    };
  }

  /** Delivers data to every subscriber, as a server (or someone who controls one) could. */
  inject(event: string, data: unknown): void {
    this.#deliver(event, JSON.stringify(data), 0);
  }

  /** How many subscriptions the service holds. */
  get subscriptions(): number {
    return this.#subscribers.size;
  }

  /** The data of the last event of that name, as it crossed the service. */
  last(event: string): unknown {
    const found = [...this.seen].reverse().find((seen) => seen.event === event);
    if (found === undefined) throw new Error(`no ${event} was published`);
    return JSON.parse(found.text);
  }

  #deliver(event: string, text: string, from: number): void {
    for (const subscriber of this.#subscribers) {
      if (subscriber.event !== event || subscriber.connection === from) continue;
      queueMicrotask(() => subscriber.handler(JSON.parse(text)));
    }
  }
}

/** Collects what a handler receives. */
function collector<T>(): { readonly received: T[]; readonly handler: (payload: T) => void } {
  const received: T[] = [];
  return { received, handler: (payload) => received.push(payload) };
}

/** Waits until `list` holds `count` entries. */
async function until(list: readonly unknown[], count: number): Promise<void> {
  await vi.waitFor(() => expect(list).toHaveLength(count), { timeout: 2000, interval: 5 });
}

/** Narrows a delivered event to an opened message. */
function opened(event: EncryptedChannelEvent | undefined): EncryptedChannelMessage {
  if (event?.type !== "message") return expect.fail(`expected a message, got ${event?.type ?? "nothing"} ${event?.type === "unable-to-decrypt" ? event.reason : ""}`);
  return event;
}

/** Narrows a delivered event to a failure. */
function failed(event: EncryptedChannelEvent | undefined): UnableToDecryptEvent {
  if (event?.type !== "unable-to-decrypt") return expect.fail(`expected unable-to-decrypt, got ${event?.type ?? "nothing"}`);
  expect(E2eeError.isInstance(event.error, event.reason)).toBe(true);
  return event;
}

/** Hands a version from one keyring to another device's keyring through a real share. */
function share(from: DeviceIdentity, fromKeyring: RoomKeyring, to: DeviceIdentity, toKeyring: RoomKeyring): void {
  const [roomKeyShare] = shareRoomKey({ keyring: fromKeyring, from, to: [to.publicBundle] });
  acceptRoomKeyShare({ isRoomMember: () => true, share: JSON.parse(JSON.stringify(roomKeyShare)), device: to, senderBundle: from.publicBundle, keyring: toKeyring });
}

const ROOM = "room-7";

describe("createEncryptedChannel", () => {
  let pubsub: FakePubSub;
  let alicePhone: DeviceIdentity;
  let bobLaptop: DeviceIdentity;
  let carolPhone: DeviceIdentity;
  let aliceKeyring: RoomKeyring;
  let bobKeyring: RoomKeyring;
  let carolKeyring: RoomKeyring;
  let resolveSender: SenderBundleResolver;
  let onError: Mock<(error: unknown, context: { readonly event: string; readonly data: unknown }) => void>;

  /** A member's channel on the shared fake service, signing and verifying senders. */
  function join(device: DeviceIdentity, keyring: RoomKeyring, extra: { readonly withUnsubscribe?: boolean } = {}): EncryptedChannel<"chat.message"> {
    return createEncryptedChannel({ channel: pubsub.connect(extra), roomId: ROOM, keyring, device, resolveSender, onError });
  }

  beforeEach(async () => {
    pubsub = new FakePubSub();
    [alicePhone, bobLaptop, carolPhone] = await Promise.all([
      createDeviceIdentity({ userId: "alice", deviceId: "phone" }),
      createDeviceIdentity({ userId: "bob", deviceId: "laptop" }),
      createDeviceIdentity({ userId: "carol", deviceId: "phone" }),
    ]);
    const directory = new Map<string, DeviceBundle>(
      [alicePhone, bobLaptop, carolPhone].map((device) => [`${device.userId}/${device.deviceId}`, device.publicBundle]),
    );
    resolveSender = ({ userId, deviceId }) => directory.get(`${userId}/${deviceId}`);
    aliceKeyring = RoomKeyring.create({ roomId: ROOM });
    bobKeyring = RoomKeyring.empty({ roomId: ROOM });
    carolKeyring = RoomKeyring.empty({ roomId: ROOM });
    share(alicePhone, aliceKeyring, bobLaptop, bobKeyring);
    share(alicePhone, aliceKeyring, carolPhone, carolKeyring);
    onError = vi.fn();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe("between two members", () => {
    it("delivers each member's messages to the other, with id, sender and key version", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const bob = join(bobLaptop, bobKeyring);
      const atAlice = collector<EncryptedChannelEvent>();
      const atBob = collector<EncryptedChannelEvent>();
      alice.subscribe("chat.message", atAlice.handler);
      bob.subscribe("chat.message", atBob.handler);

      const sent = await alice.publish("chat.message", { body: "hi Bob" });
      await until(atBob.received, 1);
      expect(sent).toEqual({ encrypted: true, messageId: expect.any(String), keyId: aliceKeyring.currentKeyId, keyVersion: 1 });
      expect(opened(atBob.received[0])).toEqual({
        type: "message",
        event: "chat.message",
        value: { body: "hi Bob" },
        messageId: sent.encrypted ? sent.messageId : "",
        keyId: aliceKeyring.currentKeyId,
        keyVersion: 1,
        sender: { userId: "alice", deviceId: "phone" },
      });

      await bob.publish("chat.message", { body: "hi Alice" }, { messageId: "server-id-2" });
      await until(atAlice.received, 1);
      expect(opened(atAlice.received[0])).toMatchObject({ value: { body: "hi Alice" }, messageId: "server-id-2", sender: { userId: "bob" } });
      expect(onError).not.toHaveBeenCalled();
    });

    it("shows the service only envelopes for private events, never their plaintext", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const sent = await alice.publish("chat.message", { body: "the plan is SECRET-7d1e" });

      expect(pubsub.seen).toHaveLength(1);
      expect(pubsub.seen[0]!.event).toBe("chat.message");
      expect(pubsub.seen[0]!.text).not.toContain("SECRET-7d1e");
      const envelope = safeParseEnvelope(pubsub.seen[0]!.text);
      expect(envelope.success && envelope.data).toMatchObject({ v: 2, roomId: ROOM, messageId: sent.encrypted && sent.messageId });
    });

    it("gives every message a fresh random id unless one is given", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const sent = await alice.publish("chat.message", { i });
        if (sent.encrypted) ids.add(sent.messageId);
      }
      expect(ids.size).toBe(20);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    it("lets operational events pass unchanged and unencrypted", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const bob = join(bobLaptop, bobKeyring);
      const typing = collector<unknown>();
      const location = collector<unknown>();
      bob.subscribe("typing", typing.handler);
      bob.subscribe("location", location.handler);

      expect(await alice.publish("typing", { userId: "alice", typing: true })).toEqual({ encrypted: false });
      await alice.publish("location", "52.52,13.40", { messageId: "ignored" });
      await until(typing.received, 1);
      await until(location.received, 1);

      expect(typing.received).toEqual([{ userId: "alice", typing: true }]);
      expect(location.received).toEqual(["52.52,13.40"]);
      expect(pubsub.seen).toEqual([
        { event: "typing", text: JSON.stringify({ userId: "alice", typing: true }) },
        { event: "location", text: JSON.stringify("52.52,13.40") },
      ]);
    });

    it("encrypts exactly the configured event names", async () => {
      const alice = createEncryptedChannel({
        channel: pubsub.connect(),
        roomId: ROOM,
        keyring: aliceKeyring,
        encryptedEvents: ["chat.message", "chat.edit"],
      });
      expect(alice.encryptedEvents).toEqual(["chat.message", "chat.edit"]);
      expect(alice.isEncrypted("chat.edit")).toBe(true);
      expect(alice.isEncrypted("read-receipt")).toBe(false);
      await alice.publish("chat.edit", { body: "edited SECRET-51aa" });
      await alice.publish("read-receipt", { upTo: "msg-1" });
      expect(pubsub.seen[0]!.text).not.toContain("SECRET-51aa");
      expect(pubsub.last("read-receipt")).toEqual({ upTo: "msg-1" });
    });

    it("opens an envelope that arrives as JSON text", async () => {
      const bob = join(bobLaptop, bobKeyring);
      const atBob = collector<EncryptedChannelEvent>();
      bob.subscribe("chat.message", atBob.handler);
      const envelope = await aliceKeyring.encryptChatJson({ body: "as text" }, { messageId: "m-text", sender: alicePhone });
      pubsub.inject("chat.message", JSON.stringify(envelope));
      await until(atBob.received, 1);
      expect(opened(atBob.received[0]).value).toEqual({ body: "as text" });
    });

    it("types a private event's payload as an event, an operational one as unknown", () => {
      const bob = join(bobLaptop, bobKeyring);
      bob.subscribe("chat.message", (payload) => expectTypeOf(payload).toEqualTypeOf<EncryptedChannelEvent>());
      bob.subscribe("typing", (payload) => expectTypeOf(payload).toBeUnknown());
      const name: string = "chat.message";
      bob.subscribe(name, (payload) => expectTypeOf(payload).toBeUnknown());
    });
  });

  describe("a private event it cannot open", () => {
    let alice: EncryptedChannel<"chat.message">;
    let bob: EncryptedChannel<"chat.message">;
    let atBob: ReturnType<typeof collector<EncryptedChannelEvent>>;

    beforeEach(() => {
      alice = join(alicePhone, aliceKeyring);
      bob = join(bobLaptop, bobKeyring);
      atBob = collector<EncryptedChannelEvent>();
      bob.subscribe("chat.message", atBob.handler);
    });

    /** Publishes a good message from Alice and checks Bob still opens it after the failures. */
    async function stillDelivers(body: string): Promise<void> {
      const count = atBob.received.length;
      await alice.publish("chat.message", { body });
      await until(atBob.received, count + 1);
      expect(opened(atBob.received[count]).value).toEqual({ body });
    }

    it("arrives as unable-to-decrypt BAD_SIGNATURE when a signed envelope was tampered with", async () => {
      const envelope = await aliceKeyring.encryptChatJson({ body: "original" }, { messageId: "m-1", sender: alicePhone });
      const flipped = envelope.ciphertext[5] === "A" ? "B" : "A";
      pubsub.inject("chat.message", { ...envelope, ciphertext: envelope.ciphertext.slice(0, 5) + flipped + envelope.ciphertext.slice(6) });
      await until(atBob.received, 1);
      expect(failed(atBob.received[0])).toMatchObject({ reason: "BAD_SIGNATURE", messageId: "m-1", keyVersion: 1 });
      await stillDelivers("after tampering");
    });

    it("arrives as DECRYPTION_FAILED when an unsigned envelope was tampered with", async () => {
      const unsignedBob = createEncryptedChannel({ channel: pubsub.connect(), roomId: ROOM, keyring: bobKeyring, onError });
      const atUnsignedBob = collector<EncryptedChannelEvent>();
      unsignedBob.subscribe("chat.message", atUnsignedBob.handler);
      const envelope = await aliceKeyring.encryptChatJson({ body: "original" }, { messageId: "m-1" });
      const nonce = (envelope.nonce[0] === "A" ? "B" : "A") + envelope.nonce.slice(1);
      pubsub.inject("chat.message", { ...envelope, nonce });
      await until(atUnsignedBob.received, 1);
      expect(failed(atUnsignedBob.received[0])).toMatchObject({ reason: "DECRYPTION_FAILED", messageId: "m-1" });
    });

    it("arrives as CONTEXT_MISMATCH when the envelope belongs to another room", async () => {
      const otherRoom = RoomKeyring.create({ roomId: "room-8" });
      const envelope = await otherRoom.encryptChatJson({ body: "for room 8" }, { messageId: "m-8", sender: alicePhone });
      pubsub.inject("chat.message", envelope);
      await until(atBob.received, 1);
      expect(failed(atBob.received[0])).toMatchObject({ reason: "CONTEXT_MISMATCH", messageId: "m-8" });
      await stillDelivers("after the replay");
    });

    it("arrives as UNKNOWN_KEY naming the version to request, and opens once the key arrives", async () => {
      const requests: UnableToDecryptEvent[] = [];
      const bobWithRequests = createEncryptedChannel({
        channel: pubsub.connect(),
        roomId: ROOM,
        keyring: bobKeyring,
        resolveSender,
        onUnableToDecrypt: (event) => requests.push(event),
      });
      const atBob2 = collector<EncryptedChannelEvent>();
      bobWithRequests.subscribe("chat.message", atBob2.handler);

      aliceKeyring.rotate({ reason: "manual" });
      const sent = await alice.publish("chat.message", { body: "under version 2" });
      await until(atBob2.received, 1);
      const failure = failed(atBob2.received[0]);
      expect(failure).toMatchObject({ reason: "UNKNOWN_KEY", keyId: aliceKeyring.currentKeyId, keyVersion: 2, messageId: sent.encrypted && sent.messageId });
      expect(failure.error).toMatchObject({ roomId: ROOM, keyId: aliceKeyring.currentKeyId, keyVersion: 2 });
      expect(requests).toEqual([failure]);

      share(alicePhone, aliceKeyring, bobLaptop, bobKeyring);
      expect(opened(await bobWithRequests.decrypt(failure.event, failure.data)).value).toEqual({ body: "under version 2" });
      await stillDelivers("version 2 from now on");
    });

    it("arrives as INVALID_ENVELOPE when plaintext is published on a private event name", async () => {
      pubsub.inject("chat.message", { body: "plaintext" });
      pubsub.inject("chat.message", "plaintext");
      pubsub.inject("chat.message", null);
      await until(atBob.received, 3);
      for (const event of atBob.received) {
        expect(failed(event)).toMatchObject({ reason: "INVALID_ENVELOPE", messageId: undefined, keyId: undefined, keyVersion: undefined });
      }
      await stillDelivers("after the plaintext");
    });

    it("arrives as BAD_SIGNATURE when an unsigned message reaches a member who verifies senders", async () => {
      const envelope = await aliceKeyring.encryptChatJson({ body: "unsigned" }, { messageId: "m-v1" });
      pubsub.inject("chat.message", envelope);
      await until(atBob.received, 1);
      expect(failed(atBob.received[0]).reason).toBe("BAD_SIGNATURE");
    });

    it("arrives as UNKNOWN_SENDER when the sender's bundle is not in the directory", async () => {
      const stranger = await createDeviceIdentity({ userId: "mallory", deviceId: "laptop" });
      const envelope = await aliceKeyring.encryptChatJson({ body: "who am I" }, { messageId: "m-s", sender: stranger });
      pubsub.inject("chat.message", envelope);
      await until(atBob.received, 1);
      expect(failed(atBob.received[0]).reason).toBe("UNKNOWN_SENDER");
    });

    it("arrives as DEVICE_REVOKED from a removed member, who in turn cannot open what follows the rotation", async () => {
      const carol = join(carolPhone, carolKeyring);
      const atCarol = collector<EncryptedChannelEvent>();
      carol.subscribe("chat.message", atCarol.handler);

      // Carol is removed: Alice rotates and shares version 2 with Bob only; Bob records the removal.
      aliceKeyring.removeMember({ userId: "carol" });
      bobKeyring.removeMember({ userId: "carol" });
      aliceKeyring.rotate({ reason: "member-removed" });
      share(alicePhone, aliceKeyring, bobLaptop, bobKeyring);

      await alice.publish("chat.message", { body: "Carol has left" });
      await until(atCarol.received, 1);
      expect(failed(atCarol.received[0])).toMatchObject({ reason: "UNKNOWN_KEY", keyVersion: 2 });
      await until(atBob.received, 1);
      expect(opened(atBob.received[0]).value).toEqual({ body: "Carol has left" });

      // Carol still holds version 1 and signs with her own device: refused, not shown.
      await carol.publish("chat.message", { body: "I am still here" });
      await until(atBob.received, 2);
      expect(failed(atBob.received[1])).toMatchObject({ reason: "DEVICE_REVOKED", keyVersion: 1 });

      await stillDelivers("only Bob reads this");
      await until(atCarol.received, 2);
      expect(failed(atCarol.received[1]).reason).toBe("UNKNOWN_KEY");
    });

    it("delivers later messages in arrival order, even when a sender lookup is slow", async () => {
      let slowOnce = true;
      const slowResolver: SenderBundleResolver = async (sender) => {
        if (slowOnce) {
          slowOnce = false;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        return resolveSender(sender);
      };
      const ordered = createEncryptedChannel({ channel: pubsub.connect(), roomId: ROOM, keyring: bobKeyring, resolveSender: slowResolver });
      const received = collector<EncryptedChannelEvent>();
      ordered.subscribe("chat.message", received.handler);
      for (const body of ["one", "two", "three"]) await alice.publish("chat.message", { body });
      pubsub.inject("chat.message", "garbage");
      await alice.publish("chat.message", { body: "four" });
      await until(received.received, 5);
      expect(received.received.map((event) => (event.type === "message" ? (event.value as { body: string }).body : event.type === "unable-to-decrypt" ? event.reason : event.type))).toEqual([
        "one",
        "two",
        "three",
        "INVALID_ENVELOPE",
        "four",
      ]);
    });
  });

  describe("errors in the app's code", () => {
    it("keeps the subscription working when a handler throws or rejects, and reports the error", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const bob = join(bobLaptop, bobKeyring);
      const bodies: string[] = [];
      let calls = 0;
      bob.subscribe("chat.message", (event) => {
        calls++;
        if (calls === 1) throw new Error("handler bug");
        if (calls === 2) return Promise.reject(new Error("async handler bug")) as unknown as void;
        if (event.type === "message") bodies.push((event.value as { body: string }).body);
      });
      bob.subscribe("typing", () => {
        throw new Error("typing handler bug");
      });

      for (const body of ["first", "second", "third"]) await alice.publish("chat.message", { body });
      await alice.publish("typing", { typing: true });
      await until(bodies, 1);
      await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(3));
      expect(bodies).toEqual(["third"]);
      expect(onError.mock.calls.map(([error]) => (error as Error).message).sort()).toEqual(["async handler bug", "handler bug", "typing handler bug"]);
      expect(onError).toHaveBeenCalledWith(expect.any(Error), { event: "typing", data: { typing: true } });
    });

    it("rethrows a handler's error in a new task when no onError is given", async () => {
      const scheduled: (() => void)[] = [];
      vi.spyOn(globalThis, "setTimeout").mockImplementation(((callback: () => void) => {
        scheduled.push(callback);
        return 0;
      }) as unknown as typeof setTimeout);
      const bob = createEncryptedChannel({ channel: pubsub.connect(), roomId: ROOM, keyring: bobKeyring });
      const seen: unknown[] = [];
      bob.subscribe("typing", (data) => {
        seen.push(data);
        throw new Error("handler bug");
      });
      pubsub.inject("typing", 1);
      pubsub.inject("typing", 2);
      await vi.waitFor(() => expect(seen).toEqual([1, 2]));
      expect(scheduled).toHaveLength(2);
      expect(scheduled[0]).toThrow("handler bug");
    });

    it("reports a failing sender lookup and keeps delivering", async () => {
      let fail = true;
      const bob = createEncryptedChannel({
        channel: pubsub.connect(),
        roomId: ROOM,
        keyring: bobKeyring,
        onError,
        resolveSender: (sender) => {
          if (fail) {
            fail = false;
            throw new Error("directory offline");
          }
          return resolveSender(sender);
        },
      });
      const alice = join(alicePhone, aliceKeyring);
      const atBob = collector<EncryptedChannelEvent>();
      bob.subscribe("chat.message", atBob.handler);
      await alice.publish("chat.message", { body: "lost to the outage" });
      await alice.publish("chat.message", { body: "delivered" });
      await until(atBob.received, 1);
      expect(opened(atBob.received[0]).value).toEqual({ body: "delivered" });
      expect(onError).toHaveBeenCalledWith(new Error("directory offline"), { event: "chat.message", data: expect.objectContaining({ v: 2 }) });
    });
  });

  describe("unsubscribe", () => {
    it("stops delivery and releases the client's subscription", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const bob = join(bobLaptop, bobKeyring);
      const messages = collector<EncryptedChannelEvent>();
      const typing = collector<unknown>();
      const stopMessages = bob.subscribe("chat.message", messages.handler);
      const stopTyping = bob.subscribe("typing", typing.handler);
      expect(pubsub.subscriptions).toBe(2);

      await alice.publish("chat.message", { body: "before" });
      await until(messages.received, 1);
      stopMessages();
      stopMessages();
      stopTyping();
      expect(pubsub.subscriptions).toBe(0);

      await alice.publish("chat.message", { body: "after" });
      await alice.publish("typing", { typing: true });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(messages.received).toHaveLength(1);
      expect(typing.received).toHaveLength(0);
    });

    it("stops delivery, queued messages included, when the client cannot unsubscribe", async () => {
      const alice = join(alicePhone, aliceKeyring);
      const bob = join(bobLaptop, bobKeyring, { withUnsubscribe: false });
      const messages = collector<EncryptedChannelEvent>();
      const stop = bob.subscribe("chat.message", messages.handler);
      await alice.publish("chat.message", { body: "queued" });
      stop();
      await alice.publish("chat.message", { body: "after" });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(messages.received).toEqual([]);
      expect(pubsub.subscriptions).toBe(1);
    });
  });

  describe("publishing", () => {
    it("refuses to send before the keyring has a key, and sends nothing", async () => {
      const newcomer = createEncryptedChannel({ channel: pubsub.connect(), roomId: ROOM, keyring: RoomKeyring.empty({ roomId: ROOM }) });
      await expect(newcomer.publish("chat.message", { body: "hello?" })).rejects.toMatchObject({ code: "ROTATION_REQUIRED" });
      expect(pubsub.seen).toEqual([]);
    });

    it("refuses an invalid message id or a value that is not JSON, and sends nothing", async () => {
      const alice = join(alicePhone, aliceKeyring);
      await expect(alice.publish("chat.message", { body: "x" }, { messageId: "not a valid id" })).rejects.toThrow(TypeError);
      await expect(alice.publish("chat.message", { big: 1n })).rejects.toThrow(TypeError);
      expect(pubsub.seen).toEqual([]);
    });

    it("refuses decrypt for an operational event name", async () => {
      const bob = join(bobLaptop, bobKeyring);
      await expect(bob.decrypt("typing", {})).rejects.toThrow(TypeError);
    });
  });

  describe("configuration", () => {
    it("refuses a channel, keyring, room or event list that cannot work", () => {
      const channel = pubsub.connect();
      const keyring = aliceKeyring;
      expect(() => createEncryptedChannel({ channel: {} as RealtimeChannel, roomId: ROOM, keyring })).toThrow(TypeError);
      expect(() => createEncryptedChannel({ channel, roomId: ROOM, keyring: {} as RoomKeyring })).toThrow(TypeError);
      expect(() => createEncryptedChannel({ channel, roomId: "room-8", keyring })).toThrow(/not the channel's room/);
      expect(() => createEncryptedChannel({ channel, roomId: "room 7", keyring })).toThrow(TypeError);
      expect(() => createEncryptedChannel({ channel, roomId: ROOM, keyring, encryptedEvents: [] })).toThrow(RangeError);
      expect(() => createEncryptedChannel({ channel, roomId: ROOM, keyring, encryptedEvents: [""] })).toThrow(TypeError);
    });

    it("encrypts chat messages only by default", () => {
      const channel = createEncryptedChannel({ channel: pubsub.connect(), roomId: ROOM, keyring: aliceKeyring });
      expect(channel.encryptedEvents).toEqual(["chat.message"]);
      expect(Object.isFrozen(channel.encryptedEvents)).toBe(true);
    });
  });
});
