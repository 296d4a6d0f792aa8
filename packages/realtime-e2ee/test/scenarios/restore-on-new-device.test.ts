/**
 * Story: restore on a new device from the recovery code.
 *
 * When Alice set up her only phone, the app created a recovery key, showed her the 24 words
 * (she wrote them on paper) and kept an encrypted backup of her room keys on the server, topped
 * up after every rotation. She is in two rooms: "garden", which she created, and "chess", which
 * Bob created. Her phone falls in the lake. On a new phone she types the words: every room comes
 * back with every version, and the whole history opens. Restored versions only decrypt: the new
 * phone cannot send or share them on until it has a version it did not get from the backup,
 * either by rotating or from a verified share.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  RoomKeyring,
  addToKeyBackup,
  createKeyBackup,
  createRecoveryKey,
  restoreKeyBackup,
  revokeDeviceEverywhere,
  type RecoveryKey,
} from "../../src/index";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

describe("story: restore on a new device from the recovery code", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;
  let paper: string;

  /** A new device of Alice's: a fresh identity, its rooms restored from the backup with the code on paper. */
  async function restoreOnNewDevice(name: string, deviceId: string): Promise<Device> {
    const device = await Device.register(server, name, "alice", deviceId);
    const keyrings = await restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: paper });
    for (const keyring of keyrings) device.keyrings.set(keyring.roomId, keyring);
    return device;
  }

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");

    // Setup: the recovery key is created once; the phone only keeps its public key.
    const recoveryKey: RecoveryKey = await createRecoveryKey();
    paper = recoveryKey.code;
    const backupPublicKey = { publicKey: recoveryKey.publicKey };

    alicePhone.createRoom("garden");
    bobLaptop.joinRoom("garden");
    alicePhone.shareKey("garden");
    bobLaptop.createRoom("chess");
    alicePhone.joinRoom("chess");
    bobLaptop.shareKey("chess");
    alicePhone.receiveShares();
    bobLaptop.receiveShares();
    server.putBackup("alice", createKeyBackup({ keyrings: [...alicePhone.keyrings.values()], recoveryKey: backupPublicKey }));

    await alicePhone.say("garden", "Tomatoes are in.");
    await bobLaptop.say("chess", "e4");

    // A rotation later, the phone tops the backup up with what is new, using the public key alone.
    const rotatedAt = Date.now();
    alicePhone.rotateAndShare("garden", "manual");
    bobLaptop.receiveShares();
    server.putBackup("alice", addToKeyBackup({ backup: server.backup("alice"), recoveryPublicKey: backupPublicKey.publicKey, keyrings: [...alicePhone.keyrings.values()], since: rotatedAt }));

    await bobLaptop.say("garden", "Save me some.");
    await alicePhone.say("chess", "e5");
  });

  it("brings back every room, every version and the whole history", async () => {
    const newPhone = await restoreOnNewDevice("Alice's new phone", "phone-2");

    expect([...newPhone.keyrings.keys()].sort()).toEqual(["chess", "garden"]);
    for (const roomId of ["chess", "garden"]) {
      const restored = newPhone.keyring(roomId).versions.map(({ keyId, keyVersion, shareable, origin }) => ({ keyId, keyVersion, shareable, origin }));
      const original = alicePhone.keyring(roomId).versions.map(({ keyId, keyVersion, shareable }) => ({ keyId, keyVersion, shareable, origin: "backup" }));
      expect(restored).toEqual(original);
      expect(newPhone.keyring(roomId).currentKeyId).toBe(alicePhone.keyring(roomId).currentKeyId);
    }
    expect(await newPhone.read("garden")).toEqual(["Tomatoes are in.", "Save me some."]);
    expect(await newPhone.read("chess")).toEqual(["e4", "e5"]);
  });

  it("reads but does not send or share restored versions until it rotates", async () => {
    const newPhone = await restoreOnNewDevice("Alice's new phone", "phone-2");
    const garden = newPhone.keyring("garden");
    expect(garden.needsRotation()).toBe("restored");
    await expectFailure(newPhone.say("garden", "Back!"), "ROTATION_REQUIRED");
    await expectFailure(() => newPhone.shareKeyWith("garden", [bobLaptop]), "KEY_WITHHELD");

    // The old phone is lost: both sides revoke it; the new phone rotates and shares.
    server.retireDevice("alice", "phone");
    revokeDeviceEverywhere({ keyrings: newPhone.keyrings.values(), userId: "alice", deviceId: "phone" });
    revokeDeviceEverywhere({ keyrings: bobLaptop.keyrings.values(), userId: "alice", deviceId: "phone" });
    expect(newPhone.rotateAndShare("garden", "device-revoked")).toBe(3);
    expect(bobLaptop.receiveShares().accepted.map((share) => share.keyVersion)).toEqual([3]);
    await newPhone.say("garden", "Back, on a new phone.");

    expect(await bobLaptop.read("garden")).toEqual(["Tomatoes are in.", "Save me some.", "Back, on a new phone."]);
    expect(await alicePhone.read("garden")).toEqual(["Tomatoes are in.", "Save me some.", "[UNKNOWN_KEY]"]);
  });

  it("sends again once a member shares a newer version after revoking the lost phone", async () => {
    const newPhone = await restoreOnNewDevice("Alice's new phone", "phone-2");
    server.retireDevice("alice", "phone");
    revokeDeviceEverywhere({ keyrings: bobLaptop.keyrings.values(), userId: "alice", deviceId: "phone" });
    bobLaptop.rotateAndShare("chess", "device-revoked");
    expect(newPhone.receiveShares().accepted.map((share) => [share.keyVersion, share.becameCurrent])).toEqual([[2, true]]);
    expect(newPhone.keyring("chess").needsRotation()).toBeNull();
    await newPhone.say("chess", "Nf6");
    expect(await bobLaptop.read("chess")).toEqual(["e4", "e5", "Nf6"]);
  });

  // BUG: restoreKeyBackup documents that a restored keyring refuses to encrypt "until the device
  // rotates or receives a current version in a verified share". A verified share of the version
  // the backup already holds is accepted as a duplicate and leaves the version's origin
  // "backup", so the keyring still says "restored" and still refuses to send.
  it("sends again once a member shares the current version with the new device in a verified share", async () => {
    // Alice adds a tablet (her phone still works) and restores from the backup; Bob's laptop sees
    // the new device in the directory and shares the room's current version with it.
    const aliceTablet = await restoreOnNewDevice("Alice's tablet", "tablet");
    bobLaptop.shareKeyWith("chess", [aliceTablet]);
    const { accepted, refused } = aliceTablet.receiveShares();
    expect(refused).toEqual([]);
    expect(accepted.map((share) => share.keyVersion)).toEqual([1]);

    expect(aliceTablet.keyring("chess").needsRotation()).toBeNull();
    await aliceTablet.say("chess", "Bb5 from the tablet");
    expect(await bobLaptop.read("chess")).toEqual(["e4", "e5", "Bb5 from the tablet"]);
  });

  it("keeps restored keyrings restored across the device's own storage", async () => {
    const newPhone = await restoreOnNewDevice("Alice's new phone", "phone-2");
    const reloaded = RoomKeyring.importState(JSON.parse(JSON.stringify(newPhone.keyring("garden").exportState())));
    expect(reloaded.needsRotation()).toBe("restored");
    await expectFailure(reloaded.encryptChatJson({ body: "no" }, { messageId: "msg-x" }), "ROTATION_REQUIRED");
  });
});
