/**
 * Story: two members rotate to the same version at once.
 *
 * Alice's phone, Bob's laptop, Carol's tablet and Dan's phone hold version 1 of the "standup"
 * room. Within the same second Alice and Bob both decide to rotate: each creates a version 2
 * (with different key ids), shares it with everyone and posts a message under it, before either
 * has seen the other's share. When the shares land, nobody loses anything: every device holds
 * both versions 2 and reads every message, and every device, whatever order its shares
 * arrived in, settles on the same current key id.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { createWorld, Device, type FakeServer } from "./world";

describe("story: two members rotate to the same version at once", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;
  let carolTablet: Device;
  let danPhone: Device;
  let everyone: Device[];

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    carolTablet = await Device.register(server, "Carol's tablet", "carol", "tablet");
    danPhone = await Device.register(server, "Dan's phone", "dan", "phone");
    everyone = [alicePhone, bobLaptop, carolTablet, danPhone];
    alicePhone.createRoom("standup");
    for (const device of [bobLaptop, carolTablet, danPhone]) device.joinRoom("standup");
    alicePhone.shareKey("standup");
    for (const device of everyone) device.receiveShares();
    await alicePhone.say("standup", "Morning!");
  });

  it("keeps every message readable and converges on one current key id", async () => {
    // Both rotate, share and speak before reading their mailboxes.
    expect(alicePhone.rotateAndShare("standup", "manual")).toBe(2);
    expect(bobLaptop.rotateAndShare("standup", "manual")).toBe(2);
    const aliceKeyId = alicePhone.keyring("standup").currentKeyId!;
    const bobKeyId = bobLaptop.keyring("standup").currentKeyId!;
    expect(aliceKeyId).not.toBe(bobKeyId);
    await alicePhone.say("standup", "Alice, under her version 2.");
    await bobLaptop.say("standup", "Bob, under his version 2.");

    // Dan's mailbox delivers the two shares in the opposite order from Carol's.
    server.postShares(server.takeMailbox("dan", "phone").reverse());
    for (const device of everyone) expect(device.receiveShares().refused).toEqual([]);

    const winner = [aliceKeyId, bobKeyId].sort().at(-1);
    for (const device of everyone) {
      const keyring = device.keyring("standup");
      expect(keyring.currentVersion).toBe(2);
      expect(keyring.currentKeyId).toBe(winner);
      expect(keyring.has(2, aliceKeyId) && keyring.has(2, bobKeyId)).toBe(true);
      expect(keyring.needsRotation()).toBeNull();
    }

    await carolTablet.say("standup", "Carol, after both rotations.");
    await bobLaptop.say("standup", "Bob again.");
    const transcript = ["Morning!", "Alice, under her version 2.", "Bob, under his version 2.", "Carol, after both rotations.", "Bob again."];
    for (const device of everyone) expect(await device.read("standup")).toEqual(transcript);

    // From now on everyone sends under the same key id.
    const keyIds = server.history("standup").slice(3).map(({ envelope }) => (envelope as { keyId: string }).keyId);
    expect(keyIds).toEqual([winner, winner]);
  });

  it("rotates past both versions 2 at the next rotation", async () => {
    alicePhone.rotateAndShare("standup", "manual");
    bobLaptop.rotateAndShare("standup", "manual");
    for (const device of everyone) device.receiveShares();
    expect(carolTablet.rotateAndShare("standup", "manual")).toBe(3);
    for (const device of everyone) device.receiveShares();
    const current = carolTablet.keyring("standup").currentKeyId;
    for (const device of everyone) expect(device.keyring("standup").currentKeyId).toBe(current);
  });
});
