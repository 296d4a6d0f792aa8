import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatClient } from "../client.mjs";
import { channelOf } from "../protocol.mjs";
import { createTestWorld, refusal } from "./helpers";
import { secretMarker } from "../../../test/support/secret-hygiene";

describe("publishing on an encrypted channel", () => {
  let world: Awaited<ReturnType<typeof createTestWorld>>;
  let alice: ChatClient;
  let bob: ChatClient;
  beforeAll(async () => {
    world = await createTestWorld();
    alice = await world.connect("alice", "laptop");
    bob = await world.connect("bob", "phone");
    for (const roomId of ["room-1", "room-2"]) {
      await alice.createRoom(roomId);
      await alice.addMember(roomId, "bob");
      await alice.shareKey(roomId);
    }
    await bob.receiveShares();
  });
  afterAll(async () => {
    await world.close();
  });

  // Plaintext markers: the secret-hygiene check fails the run if the relay logs one, puts one in
  // an error, or serialises one.
  it("refuses plaintext on an encrypted event name", async () => {
    await alice.join("room-1");
    const data = { body: secretMarker("in the clear") };
    const code = await refusal(alice.request("publish", { channel: channelOf("room-1"), event: "chat.message", data }));
    expect(code).toBe("INVALID_ENVELOPE");
    expect(await alice.history("room-1")).toEqual([]);
  });

  it("refuses an envelope of another room", async () => {
    const other = await alice.keyring("room-2").encryptChatJson({ body: "for room 2" }, { messageId: "m-1", sender: alice.device });
    const code = await refusal(alice.request("publish", { channel: channelOf("room-1"), event: "chat.message", data: other }));
    expect(code).toBe("CONTEXT_MISMATCH");
    expect(await alice.history("room-1")).toEqual([]);
  });

  it("refuses a message id used before in the room, and an envelope signed by another device", async () => {
    const room = await alice.join("room-2");
    await room.publish("chat.message", { body: "first" }, { messageId: "m-dup" });
    const replay = (await alice.history("room-2"))[0]?.envelope;
    expect(await refusal(alice.request("publish", { channel: channelOf("room-2"), event: "chat.message", data: replay }))).toBe("DUPLICATE_MESSAGE_ID");
    await bob.join("room-2");
    const bobsReplay = await refusal(bob.request("publish", { channel: channelOf("room-2"), event: "chat.message", data: replay }));
    expect(bobsReplay).toBe("SENDER_MISMATCH");
  });

  it("relays operational events to subscribers without storing them, and envelopes to members who read them", async () => {
    const bobRoom = await bob.join("room-1");
    const aliceRoom = await alice.join("room-1");
    const typing = new Promise((resolve) => bobRoom.subscribe("typing", resolve));
    const message = new Promise((resolve) => bobRoom.subscribe("chat.message", resolve));
    const body = secretMarker("hello bob");
    await aliceRoom.publish("typing", { userId: "alice" });
    await aliceRoom.publish("chat.message", { body });
    expect(await typing).toEqual({ userId: "alice" });
    expect(await message).toMatchObject({ type: "message", value: { body }, sender: { userId: "alice", deviceId: "laptop" } });
    expect(await alice.history("room-1")).toHaveLength(1);
  });

  it("refuses publishing without a subscription, and bad event names", async () => {
    const carol = await world.connect("carol", "phone");
    expect(await refusal(carol.request("publish", { channel: channelOf("room-1"), event: "typing", data: {} }))).toBe("NOT_SUBSCRIBED");
    expect(await refusal(alice.request("publish", { channel: channelOf("room-1"), event: "Bad Name", data: {} }))).toBe("BAD_REQUEST");
  });
});
