import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestWorld, refusal } from "./helpers";

describe("the key-share mailbox", () => {
  let world: Awaited<ReturnType<typeof createTestWorld>>;
  beforeAll(async () => {
    world = await createTestWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("keeps shares for a device that was offline and hands them over when it signs in", async () => {
    const alice = await world.connect("alice", "laptop");
    const bobPhone = await world.connect("bob", "phone");
    await alice.createRoom("room-5");
    await alice.addMember("room-5", "bob");
    await bobPhone.close(); // Bob goes offline; his bundle stays in the directory.

    expect(await alice.shareKey("room-5")).toBe(1);
    const room = await alice.join("room-5");
    await room.publish("chat.message", { body: "sent while you were away" });

    // The same device (its identity from its own storage) signs in again.
    const bobAgain = await world.connect("bob", "phone", bobPhone.device);
    expect(bobAgain.pendingShares).toBe(1);
    const { accepted, refused } = await bobAgain.receiveShares();
    expect(refused).toEqual([]);
    expect(accepted).toEqual([{ roomId: "room-5", keyVersion: 1 }]);
    const [event] = await bobAgain.readHistory("room-5");
    expect(event).toMatchObject({ type: "message", value: { body: "sent while you were away" } });
    // Taken once: the mailbox is empty now.
    expect((await bobAgain.request("takeShares")).shares).toEqual([]);
  });

  it("notifies an online recipient, and refuses shares that are malformed, forged or for non-members", async () => {
    const owner = await world.connect("olga", "laptop");
    const carol = await world.connect("carol", "phone");
    await owner.createRoom("room-6");
    await owner.addMember("room-6", "carol");
    const notified = new Promise((resolve) => carol.onPush((push) => push.push === "shares" && resolve(push.count)));
    await owner.shareKey("room-6");
    expect(await notified).toBe(1);

    expect(await refusal(owner.request("postShares", { shares: [{ v: 1, hello: "x" }] }))).toBe("INVALID_ENVELOPE");
    // A share posted by a device that did not send it.
    const [share] = (await carol.request("takeShares")).shares;
    expect(await refusal(carol.request("postShares", { shares: [share] }))).toBe("SENDER_MISMATCH");
    // Shares only go to members.
    await owner.removeMember("room-6", "carol");
    expect(await refusal(owner.request("postShares", { shares: [share] }))).toBe("NOT_MEMBER");
  });
});
