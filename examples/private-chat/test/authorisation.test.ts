import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES, channelOf } from "../protocol.mjs";
import { createTestWorld, rawSocket, refusal } from "./helpers";

describe("private channel authorisation", () => {
  let world: Awaited<ReturnType<typeof createTestWorld>>;
  beforeAll(async () => {
    world = await createTestWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("issues tokens to members only, and subscribes only with a token for this socket, channel and user", async () => {
    const alice = await world.connect("alice", "laptop");
    const mallory = await world.connect("mallory", "phone");
    await alice.createRoom("room-a");
    await alice.createRoom("room-b");
    const channel = channelOf("room-a");

    // No token, an empty one, garbage.
    expect(await refusal(alice.request("subscribe", { channel }))).toBe("TOKEN_REQUIRED");
    expect(await refusal(alice.request("subscribe", { channel, token: "" }))).toBe("TOKEN_REQUIRED");
    expect(await refusal(alice.request("subscribe", { channel, token: "zz" }))).toBe("INVALID_TOKEN");
    // A token for another channel.
    const tokenForB = await alice.channelToken("room-b");
    expect(await refusal(alice.request("subscribe", { channel, token: tokenForB }))).toBe("INVALID_TOKEN");
    // A non-member gets no token, and cannot reuse a member's token (other socket and user).
    expect(await refusal(mallory.channelToken("room-a"))).toBe("NOT_MEMBER");
    const aliceToken = await alice.channelToken("room-a");
    expect(await refusal(mallory.request("subscribe", { channel, token: aliceToken }))).toBe("INVALID_TOKEN");
    // A token for this user on another socket.
    const aliceElsewhere = await world.connect("alice", "phone");
    expect(await refusal(aliceElsewhere.request("subscribe", { channel, token: aliceToken }))).toBe("INVALID_TOKEN");
    // Unknown channels.
    expect(await refusal(alice.request("auth", { channel: channelOf("room-zz") }))).toBe("UNKNOWN_CHANNEL");
    expect(await refusal(alice.request("subscribe", { channel: "public-lobby", token: aliceToken }))).toBe("UNKNOWN_CHANNEL");
    // Non-members cannot publish, read history or list members either.
    expect(await refusal(mallory.request("publish", { channel, event: "typing", data: {} }))).toBe("NOT_SUBSCRIBED");
    expect(await refusal(mallory.history("room-a"))).toBe("NOT_MEMBER");
    expect(await refusal(mallory.members("room-a"))).toBe("NOT_MEMBER");
    expect(await refusal(mallory.addMember("room-a", "mallory"))).toBe("NOT_OWNER");

    // The right token works.
    expect(await refusal(alice.request("subscribe", { channel, token: aliceToken }))).toBe("ok");
  });

  it("refuses a token issued before the member was removed", async () => {
    const owner = await world.connect("owner", "laptop");
    const dan = await world.connect("dan", "phone");
    await owner.createRoom("room-c");
    await owner.addMember("room-c", "dan");
    const token = await dan.channelToken("room-c");
    await owner.removeMember("room-c", "dan");
    expect(await refusal(dan.request("subscribe", { channel: channelOf("room-c"), token }))).toBe("NOT_MEMBER");
  });

  it("answers malformed requests with a typed error and keeps serving", async () => {
    const socket = await rawSocket(world.relay.url);
    expect((await socket.next()).push).toBe("welcome");
    socket.send("{not json");
    expect(await socket.next()).toMatchObject({ id: null, ok: false, error: { code: "MALFORMED_JSON" } });
    socket.send("[1,2]");
    expect(await socket.next()).toMatchObject({ ok: false, error: { code: "BAD_REQUEST" } });
    socket.send(JSON.stringify({ id: 1, op: "constructor" }));
    expect(await socket.next()).toMatchObject({ id: 1, ok: false, error: { code: "UNKNOWN_OP" } });
    socket.send(JSON.stringify({ id: 2, op: "history", roomId: "room-a" }));
    expect(await socket.next()).toMatchObject({ id: 2, ok: false, error: { code: "NOT_SIGNED_IN" } });
    socket.send(JSON.stringify({ id: 3, op: "signIn", userId: "../etc", deviceId: "x" }));
    expect(await socket.next()).toMatchObject({ id: 3, ok: false, error: { code: "BAD_REQUEST" } });
    socket.send(JSON.stringify({ id: 4, op: "signIn", userId: "eve", deviceId: "phone" }));
    expect(await socket.next()).toMatchObject({ id: 4, ok: true });
    socket.send(JSON.stringify({ id: 5, op: "putBundle", bundle: { hello: "world" } }));
    expect(await socket.next()).toMatchObject({ id: 5, ok: false, error: { code: "INVALID_ENVELOPE" } });
    socket.close();
  });

  it("closes a socket that sends more than the size bound (1009) and keeps serving others", async () => {
    const socket = await rawSocket(world.relay.url);
    await socket.next();
    const closed = new Promise((resolve) => socket.onClose(resolve));
    socket.send("a".repeat(MAX_MESSAGE_BYTES + 1));
    expect(await closed).toBe(1009);
    const other = await rawSocket(world.relay.url);
    expect((await other.next()).push).toBe("welcome");
    other.close();
  });
});
