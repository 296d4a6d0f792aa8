/**
 * Story: a lost device.
 *
 * Alice uses her phone and her laptop in two rooms: "family" with Bob, and "work" with Bob and
 * Dan. She leaves her phone on a train. From her laptop she revokes the phone everywhere, rotates
 * every room it could read, and shares the new versions with the remaining devices only; Bob's
 * laptop records the revocation too. Whoever holds the phone keeps what it already had, opens
 * nothing sent after the rotations, and can no longer push keys on anyone.
 *
 * Dan, who had only one phone, loses it and starts over on a new phone without a backup. Bob
 * rotates and shares the current version with the new phone: new messages open, and every old
 * message fails as an unknown key, never as garbage.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { UnknownKeyError, revokeDeviceEverywhere, shareRoomKey } from "../../src/index";
import { createWorld, Device, expectFailure, snapshot, type FakeServer } from "./world";

describe("story: a lost device", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let aliceLaptop: Device;
  let bobLaptop: Device;
  let danPhone: Device;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    aliceLaptop = await Device.register(server, "Alice's laptop", "alice", "laptop");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    danPhone = await Device.register(server, "Dan's phone", "dan", "phone");

    aliceLaptop.createRoom("family");
    alicePhone.joinRoom("family");
    bobLaptop.joinRoom("family");
    aliceLaptop.shareKey("family");

    bobLaptop.createRoom("work");
    aliceLaptop.joinRoom("work");
    alicePhone.joinRoom("work");
    danPhone.joinRoom("work");
    bobLaptop.shareKey("work");

    for (const device of [alicePhone, aliceLaptop, bobLaptop, danPhone]) expect(device.receiveShares().refused).toEqual([]);
    await alicePhone.say("family", "Sunday lunch?");
    await bobLaptop.say("work", "Quarterly numbers attached.");
  });

  it("revokes the phone, rotates every room it could read, and leaves it nothing new to open", async () => {
    // From the laptop: revoke the phone everywhere, rotate, share with the remaining devices.
    server.retireDevice("alice", "phone");
    const affected = revokeDeviceEverywhere({ keyrings: aliceLaptop.keyrings.values(), userId: "alice", deviceId: "phone" });
    expect(affected.map((keyring) => keyring.roomId).sort()).toEqual(["family", "work"]);
    for (const keyring of affected) {
      expect(keyring.needsRotation()).toBe("device-revoked");
      await expectFailure(aliceLaptop.say(keyring.roomId, "Not before rotating."), "ROTATION_REQUIRED");
      aliceLaptop.rotateAndShare(keyring.roomId, "device-revoked");
    }
    // Bob's laptop hears about the revocation and records it in every room it shares with Alice.
    revokeDeviceEverywhere({ keyrings: bobLaptop.keyrings.values(), userId: "alice", deviceId: "phone" });
    expect(bobLaptop.receiveShares().accepted.map((share) => [share.keyVersion, share.becameCurrent])).toEqual([
      [2, true],
      [2, true],
    ]);
    // Bob recorded the revocation, so he rotates before sending in "work" (a version reaching him
    // later could predate the revocation); the laptop and Dan pick his version up.
    expect(bobLaptop.keyring("work").needsRotation()).toBe("device-revoked");
    bobLaptop.rotateAndShare("work", "device-revoked");
    expect(danPhone.receiveShares().accepted.map((share) => share.keyVersion).sort()).toEqual([2, 3]);
    expect(server.mailboxSize("alice", "phone")).toBe(0);

    await aliceLaptop.say("family", "My phone is gone; use this laptop.");
    await bobLaptop.say("work", "Noted, new key in place.");

    expect(await alicePhone.read("family")).toEqual(["Sunday lunch?", "[UNKNOWN_KEY]"]);
    expect(await alicePhone.read("work")).toEqual(["Quarterly numbers attached.", "[UNKNOWN_KEY]"]);
    expect(await bobLaptop.read("family")).toEqual(["Sunday lunch?", "My phone is gone; use this laptop."]);
    expect(await danPhone.read("work")).toEqual(["Quarterly numbers attached.", "Noted, new key in place."]);
  });

  it("shares nothing with the revoked phone, even when a stale directory still lists it", () => {
    const keyring = aliceLaptop.keyring("family");
    revokeDeviceEverywhere({ keyrings: [keyring], userId: "alice", deviceId: "phone" });
    keyring.rotate({ reason: "device-revoked" });
    expect(keyring.isRevoked("alice", "phone")).toBe(true);
    return expectFailure(
      () => shareRoomKey({ keyring, from: aliceLaptop.identity, to: [server.bundle("bob", "laptop"), server.bundle("alice", "phone")] }),
      "DEVICE_REVOKED",
    );
  });

  it("refuses keys pushed from the stolen phone, and refuses to let it send shares at all", async () => {
    revokeDeviceEverywhere({ keyrings: bobLaptop.keyrings.values(), userId: "alice", deviceId: "phone" });
    const before = snapshot(bobLaptop.keyring("family"));
    // The thief rotates the phone's keyring and shares a key of their own choosing with Bob.
    alicePhone.keyring("family").rotate({ reason: "manual" });
    alicePhone.shareKeyWith("family", [bobLaptop]);
    expect(bobLaptop.receiveShares()).toEqual({ accepted: [], refused: ["DEVICE_REVOKED"] });
    expect(snapshot(bobLaptop.keyring("family"))).toBe(before);

    // A keyring that knows about the revocation will not sign shares as that device either.
    const laptopFamily = aliceLaptop.keyring("family");
    laptopFamily.revokeDevice({ userId: "alice", deviceId: "phone" });
    await expectFailure(
      () => shareRoomKey({ keyring: laptopFamily, from: alicePhone.identity, to: [server.bundle("bob", "laptop")] }),
      "DEVICE_REVOKED",
    );
  });

  it("starts over on a new phone without a backup: old messages fail as UNKNOWN_KEY, never as garbage", async () => {
    await danPhone.say("work", "Before I lost my phone.");
    server.retireDevice("dan", "phone");
    const danNewPhone = await Device.register(server, "Dan's new phone", "dan", "phone-2");

    revokeDeviceEverywhere({ keyrings: bobLaptop.keyrings.values(), userId: "dan", deviceId: "phone" });
    bobLaptop.rotateAndShare("work", "device-revoked");
    aliceLaptop.receiveShares();
    alicePhone.receiveShares();
    expect(danNewPhone.receiveShares().accepted.map((share) => share.keyVersion)).toEqual([2]);

    await bobLaptop.say("work", "Welcome back, Dan.");
    await danNewPhone.say("work", "Thanks, new phone.");
    expect(await danNewPhone.read("work")).toEqual([
      "[UNKNOWN_KEY]",
      "[UNKNOWN_KEY]",
      "Welcome back, Dan.",
      "Thanks, new phone.",
    ]);

    // Each failure names the version to ask for; the old versions were not shareable, so Bob
    // cannot send them on.
    const [first] = server.history("work");
    const error = await expectFailure(
      danNewPhone.keyring("work").decryptChatJson(first!.envelope, { roomId: "work", messageId: first!.messageId }),
      "UNKNOWN_KEY",
    );
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect(error).toMatchObject({ roomId: "work", keyVersion: 1 });
    await expectFailure(() => bobLaptop.shareKeyWith("work", [danNewPhone], { keyVersion: 1 }), "KEY_WITHHELD");
  });
});
