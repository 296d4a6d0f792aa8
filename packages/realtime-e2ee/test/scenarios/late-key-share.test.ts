/**
 * Story: a key share arriving after its messages.
 *
 * Alice's phone rotates the "hiking" room and posts a message right away. Bob's laptop gets the
 * message before the share that carries the new version. Opening it fails as an unknown key
 * that names the missing version, so Bob's app keeps the message and retries when the share
 * lands; then it opens. Later, two rotations reach Bob out of order: the newer version stays
 * current when the older one arrives last, and every message opens.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { UnknownKeyError } from "../../src/index";
import { secretMarker } from "../../../../test/support/secret-hygiene";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

describe("story: a key share arriving after its messages", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    alicePhone.createRoom("hiking");
    bobLaptop.joinRoom("hiking");
  });

  it("fails as UNKNOWN_KEY naming the missing version, then opens once the share lands", async () => {
    alicePhone.shareKey("hiking");
    // A plaintext marker: the secret-hygiene check fails the run if it reaches an error or a log.
    const trailhead = secretMarker("Trailhead at seven");
    const messageId = await alicePhone.say("hiking", trailhead);

    // The message is here; the share is still in Bob's mailbox.
    const [message] = server.history("hiking");
    const error = await expectFailure(
      bobLaptop.keyring("hiking").decryptChatJson(message!.envelope, { roomId: "hiking", messageId }),
      "UNKNOWN_KEY",
    );
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect(error).toMatchObject({ roomId: "hiking", keyId: alicePhone.keyring("hiking").currentKeyId, keyVersion: 1 });
    expect(bobLaptop.keyring("hiking").has(1)).toBe(false);

    // The share lands; the app retries the messages it kept.
    bobLaptop.receiveShares();
    expect(bobLaptop.keyring("hiking").has(1, alicePhone.keyring("hiking").currentKeyId!)).toBe(true);
    expect(await bobLaptop.read("hiking")).toEqual([trailhead]);
  });

  it("cannot send before any key arrives: ROTATION_REQUIRED, not a message under no key", async () => {
    await expectFailure(bobLaptop.say("hiking", "Hello?"), "ROTATION_REQUIRED");
    expect(server.history("hiking")).toEqual([]);
  });

  it("keeps the newest version current when an older share arrives last", async () => {
    alicePhone.shareKey("hiking");
    bobLaptop.receiveShares();

    alicePhone.rotateAndShare("hiking", "manual");
    await alicePhone.say("hiking", "Under version 2.");
    const v2Share = server.takeMailbox("bob", "laptop");
    alicePhone.rotateAndShare("hiking", "manual");
    await alicePhone.say("hiking", "Under version 3.");

    expect(await bobLaptop.read("hiking")).toEqual(["[UNKNOWN_KEY]", "[UNKNOWN_KEY]"]);
    expect(bobLaptop.receiveShares().accepted.map((share) => [share.keyVersion, share.becameCurrent])).toEqual([[3, true]]);
    expect(await bobLaptop.read("hiking")).toEqual(["[UNKNOWN_KEY]", "Under version 3."]);

    // The delayed version 2 share finally arrives.
    server.postShares(v2Share);
    expect(bobLaptop.receiveShares().accepted.map((share) => [share.keyVersion, share.becameCurrent])).toEqual([[2, false]]);
    expect(bobLaptop.keyring("hiking").currentVersion).toBe(3);
    expect(bobLaptop.keyring("hiking").currentKeyId).toBe(alicePhone.keyring("hiking").currentKeyId);
    expect(await bobLaptop.read("hiking")).toEqual(["Under version 2.", "Under version 3."]);

    await bobLaptop.say("hiking", "Bob answers under version 3.");
    expect((server.history("hiking")[2]!.envelope as { keyVersion: number }).keyVersion).toBe(3);
  });
});
