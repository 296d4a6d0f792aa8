/**
 * createEncryptedChannel with a trust store: a sender whose keys changed arrives as a typed
 * `unable-to-decrypt` event (reason IDENTITY_CHANGED, also through `onUnableToDecrypt`), the
 * subscription keeps delivering, and a retry after the app accepted the new keys opens it.
 * The substituted-bundle story (test/scenarios) tells the whole attack.
 */
import { describe, expect, it } from "vitest";
import {
  RoomKeyring,
  TrustStore,
  acceptRoomKeyShare,
  createDeviceIdentity,
  createEncryptedChannel,
  shareRoomKey,
  type DeviceBundle,
  type EncryptedChannelEvent,
  type RealtimeChannel,
  type UnableToDecryptEvent,
} from "./index";

/** A channel that hands each published event to the subscribers at once, as JSON. */
function loopback(): RealtimeChannel {
  const handlers = new Set<(data: unknown) => void>();
  return {
    publish: (_event, data) => {
      for (const handler of handlers) handler(JSON.parse(JSON.stringify(data)));
    },
    subscribe: (_event, handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
}

/** Resolves once `list` holds `count` items. */
async function until(list: readonly unknown[], count: number): Promise<void> {
  while (list.length < count) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe("createEncryptedChannel with a trustStore", () => {
  it("reports a changed sender identity as IDENTITY_CHANGED, keeps delivering, and opens it after acceptance", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const reinstalled = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const aliceRoom = RoomKeyring.create({ roomId: "room-9" });
    const bobRoom = RoomKeyring.empty({ roomId: "room-9" });
    const [share] = shareRoomKey({ keyring: aliceRoom, from: alice, to: [bob.publicBundle] });
    acceptRoomKeyShare({ share, device: bob, senderBundle: alice.publicBundle, keyring: bobRoom, isRoomMember: () => true });

    let directory: DeviceBundle = alice.publicBundle;
    const trustStore = TrustStore.create();
    const transport = loopback();
    const reported: UnableToDecryptEvent[] = [];
    const received: EncryptedChannelEvent[] = [];
    const bobChannel = createEncryptedChannel({
      channel: transport,
      roomId: "room-9",
      keyring: bobRoom,
      resolveSender: () => directory,
      trustStore,
      onUnableToDecrypt: (event) => reported.push(event),
    });
    bobChannel.subscribe("chat.message", (event) => received.push(event));
    const send = (device: typeof alice, body: string) =>
      createEncryptedChannel({ channel: transport, roomId: "room-9", keyring: aliceRoom, device }).publish("chat.message", { body });

    // The directory answers while each message is opened, so wait for each one.
    await send(alice, "before");
    await until(received, 1);
    directory = reinstalled.publicBundle;
    await send(reinstalled, "after reinstall");
    await until(received, 2);
    directory = alice.publicBundle;
    await send(alice, "old phone still pinned");
    await until(received, 3);

    expect(received.map((event) => event.type)).toEqual(["message", "unable-to-decrypt", "message"]);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ reason: "IDENTITY_CHANGED", error: { userId: "alice", deviceId: "phone" } });
    expect(reported[0]?.messageId).toBeTypeOf("string");

    trustStore.acceptChangedIdentity(reinstalled.publicBundle);
    directory = reinstalled.publicBundle;
    const retried = await bobChannel.decrypt(reported[0]!.event, reported[0]!.data);
    expect(retried).toMatchObject({ type: "message", value: { body: "after reinstall" }, sender: { userId: "alice", deviceId: "phone" } });
  });

  it("requires resolveSender and a real TrustStore", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-9" });
    const channel = loopback();
    expect(() => createEncryptedChannel({ channel, roomId: "room-9", keyring, trustStore: TrustStore.create() })).toThrow(TypeError);
    expect(() =>
      createEncryptedChannel({ channel, roomId: "room-9", keyring, resolveSender: () => undefined, trustStore: {} as TrustStore }),
    ).toThrow(TypeError);
  });
});
