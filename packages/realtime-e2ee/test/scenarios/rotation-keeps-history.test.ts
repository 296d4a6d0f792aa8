/**
 * Story: rotation keeps history readable.
 *
 * Alice starts a book club room on her phone and brings in Bob's laptop. They chat until the
 * room's small policy says the key has carried enough messages. The policy only advises: Alice
 * can still send, but she rotates, shares version 2 with Bob, and they carry on. Every message,
 * before and after the rotation, still opens on both devices, because old versions stay in the
 * keyring. A room configured to keep a single version gives that history up on purpose: the old
 * messages then fail as an unknown key, never as garbage.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { createWorld, Device, type FakeServer } from "./world";

describe("story: rotation keeps history readable", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
  });

  it("reads every message, before and after the rotation, on both devices", async () => {
    alicePhone.createRoom("book-club", { policy: { maxMessagesPerVersion: 3 } });
    bobLaptop.joinRoom("book-club");
    alicePhone.shareKey("book-club");
    expect(bobLaptop.receiveShares().refused).toEqual([]);

    await alicePhone.say("book-club", "Chapter one tonight?");
    await bobLaptop.say("book-club", "Yes, at eight.");
    await alicePhone.say("book-club", "Bring the tea.");
    await alicePhone.say("book-club", "And the biscuits.");

    // Alice's phone sent three messages with version 1: the policy now advises a rotation.
    expect(alicePhone.keyring("book-club").needsRotation()).toBe("max-messages");
    await alicePhone.say("book-club", "Advice, not a block: this one still goes out.");

    expect(alicePhone.rotateAndShare("book-club", "max-messages")).toBe(2);
    const { accepted } = bobLaptop.receiveShares();
    expect(accepted.map(({ keyVersion, becameCurrent }) => ({ keyVersion, becameCurrent }))).toEqual([
      { keyVersion: 2, becameCurrent: true },
    ]);
    expect(alicePhone.keyring("book-club").needsRotation()).toBeNull();

    await bobLaptop.say("book-club", "New key, same club.");
    await alicePhone.say("book-club", "Still reading you.");

    const everything = [
      "Chapter one tonight?",
      "Yes, at eight.",
      "Bring the tea.",
      "And the biscuits.",
      "Advice, not a block: this one still goes out.",
      "New key, same club.",
      "Still reading you.",
    ];
    expect(await alicePhone.read("book-club")).toEqual(everything);
    expect(await bobLaptop.read("book-club")).toEqual(everything);

    // The newest messages use version 2; the old ones still name version 1.
    const versions = server.history("book-club").map(({ envelope }) => (envelope as { keyVersion: number }).keyVersion);
    expect(versions).toEqual([1, 1, 1, 1, 1, 2, 2]);
    for (const device of [alicePhone, bobLaptop]) {
      expect(device.keyring("book-club").versions.map((info) => info.keyVersion)).toEqual([1, 2]);
      expect(device.keyring("book-club").currentVersion).toBe(2);
    }
  });

  it("keeps every version by default, through many rotations", async () => {
    const keyring = alicePhone.createRoom("book-club");
    expect(keyring.policy.retainVersions).toBeNull();
    for (let round = 1; round <= 5; round++) {
      await alicePhone.say("book-club", `round ${round}`);
      keyring.rotate({ reason: "manual" });
    }
    expect(keyring.versions.map((info) => info.keyVersion)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await alicePhone.read("book-club")).toEqual(["round 1", "round 2", "round 3", "round 4", "round 5"]);
  });

  it("gives history up on purpose when the room keeps one version: old messages fail as UNKNOWN_KEY", async () => {
    alicePhone.createRoom("book-club", { policy: { retainVersions: 1 } });
    bobLaptop.joinRoom("book-club", { policy: { retainVersions: 1 } });
    alicePhone.shareKey("book-club");
    bobLaptop.receiveShares();
    await alicePhone.say("book-club", "Gone after the rotation.");

    alicePhone.rotateAndShare("book-club", "manual");
    bobLaptop.receiveShares();
    await alicePhone.say("book-club", "Readable.");

    expect(await bobLaptop.read("book-club")).toEqual(["[UNKNOWN_KEY]", "Readable."]);
    expect(await alicePhone.read("book-club")).toEqual(["[UNKNOWN_KEY]", "Readable."]);
    expect(bobLaptop.keyring("book-club").versions.map((info) => info.keyVersion)).toEqual([2]);
  });
});
