/**
 * Story: a second device keeps the backup current with the public key alone.
 *
 * Alice's phone created her recovery key and the first backup. Her laptop never sees the
 * recovery code: when it rotates the "garden" room it appends the new version to the backup
 * stored on the server, using only the public key written in that backup. The phone appends its
 * own rotation of "chess" the same way. Months later a new tablet restores with the code and
 * finds every version from both devices; compacting the backup rewrites it as a single chunk
 * that restores the same keys. Because anyone with the public key, the server included, can
 * append, a planted version restores as decrypt-only and is never used to send or shared on.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  RoomKeyring,
  addToKeyBackup,
  compactKeyBackup,
  createKeyBackup,
  createRecoveryKey,
  restoreKeyBackup,
  type KeyBackup,
} from "../../src/index";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

/** What a set of keyrings holds, keys included, per room: to compare a restore with the originals. */
function contents(keyrings: Iterable<RoomKeyring>): Record<string, { keyId: string; keyVersion: number; key: string; shareable: boolean }[]> {
  const byRoom: Record<string, { keyId: string; keyVersion: number; key: string; shareable: boolean }[]> = {};
  for (const keyring of keyrings) {
    byRoom[keyring.roomId] = keyring.exportState().versions.map(({ keyId, keyVersion, key, shareable }) => ({ keyId, keyVersion, key, shareable }));
  }
  return byRoom;
}

describe("story: a second device appends to the backup with the public key alone", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let aliceLaptop: Device;
  let recoveryCode: string;
  let trustedPublicKey: string;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    aliceLaptop = await Device.register(server, "Alice's laptop", "alice", "laptop");
    alicePhone.createRoom("garden");
    alicePhone.createRoom("chess");
    aliceLaptop.joinRoom("garden");
    aliceLaptop.joinRoom("chess");
    alicePhone.shareKey("garden");
    alicePhone.shareKey("chess");
    aliceLaptop.receiveShares();

    const recoveryKey = await createRecoveryKey();
    recoveryCode = recoveryKey.code;
    trustedPublicKey = recoveryKey.publicKey;
    server.putBackup("alice", createKeyBackup({ keyrings: [...alicePhone.keyrings.values()], recoveryKey }));
    await alicePhone.say("garden", "Planted the beans.");
    await alicePhone.say("chess", "d4");

    // The laptop rotates "garden" and appends with only what the stored backup carries.
    const laptopRotation = Date.now();
    aliceLaptop.rotateAndShare("garden", "manual");
    server.putBackup("alice", addToKeyBackup({ backup: server.backup("alice"), recoveryPublicKey: trustedPublicKey, keyrings: [...aliceLaptop.keyrings.values()], since: laptopRotation }));
    alicePhone.receiveShares();
    await aliceLaptop.say("garden", "Beans are up.");

    // The phone rotates "chess" and appends too.
    const phoneRotation = Date.now();
    alicePhone.rotateAndShare("chess", "manual");
    server.putBackup("alice", addToKeyBackup({ backup: server.backup("alice"), recoveryPublicKey: trustedPublicKey, keyrings: [...alicePhone.keyrings.values()], since: phoneRotation }));
    aliceLaptop.receiveShares();
    await alicePhone.say("chess", "c4");
  });

  it("restores every version written by either device, and the whole history", async () => {
    const backup = server.backup("alice") as KeyBackup;
    expect(backup.chunks.length).toBe(3);
    const restored = await restoreKeyBackup({ backup, recoveryCode });
    expect(contents(restored)).toEqual(contents(alicePhone.keyrings.values()));
    expect(contents(restored)).toEqual(contents(aliceLaptop.keyrings.values()));

    const aliceTablet = await Device.register(server, "Alice's tablet", "alice", "tablet");
    for (const keyring of restored) aliceTablet.keyrings.set(keyring.roomId, keyring);
    expect(await aliceTablet.read("garden")).toEqual(["Planted the beans.", "Beans are up."]);
    expect(await aliceTablet.read("chess")).toEqual(["d4", "c4"]);
  });

  it("compacts the appends into one chunk that restores the same keys", async () => {
    const backup = server.backup("alice") as KeyBackup;
    const compacted = await compactKeyBackup({ backup, recoveryCode });
    expect(compacted.chunks.length).toBe(1);
    expect(compacted.publicKey).toBe(backup.publicKey);
    const fromCompacted = await restoreKeyBackup({ backup: JSON.parse(JSON.stringify(compacted)), recoveryCode });
    const fromAppends = await restoreKeyBackup({ backup, recoveryCode });
    expect(contents(fromCompacted)).toEqual(contents(fromAppends));
    // Compacting again changes nothing but the encryption.
    expect((await compactKeyBackup({ backup: compacted, recoveryCode })).chunks.length).toBe(1);
  });

  it("refuses to append to a backup a server re-wrote to a public key of its own", async () => {
    const serverKey = await createRecoveryKey();
    const swapped = createKeyBackup({ keyrings: [], recoveryKey: { publicKey: serverKey.publicKey } });
    await expectFailure(
      () => addToKeyBackup({ backup: swapped, recoveryPublicKey: trustedPublicKey, keyrings: [...aliceLaptop.keyrings.values()] }),
      "WRONG_RECOVERY_CODE",
    );
  });

  it("adds no chunk when nothing is new, and never modifies the backup it was given", () => {
    const backup = server.backup("alice") as KeyBackup;
    const before = JSON.stringify(backup);
    const unchanged = addToKeyBackup({ backup, recoveryPublicKey: trustedPublicKey, keyrings: [...aliceLaptop.keyrings.values()], since: Date.now() + 60_000 });
    expect(unchanged.chunks.length).toBe(3);
    const grown = addToKeyBackup({ backup, recoveryPublicKey: trustedPublicKey, keyrings: [aliceLaptop.keyring("garden")] });
    expect(grown.chunks.length).toBe(4);
    expect(JSON.stringify(backup)).toBe(before);
  });

  it("restores a version planted by whoever holds the public key as decrypt-only", async () => {
    // The server builds a keyring of its own for "garden" at a high version and appends it.
    const state = RoomKeyring.create({ roomId: "garden" }).exportState();
    const plantedKeyring = RoomKeyring.importState({
      ...state,
      currentVersion: 9,
      currentKeyId: "v9-planted",
      versions: [{ ...state.versions[0]!, keyVersion: 9, keyId: "v9-planted" }],
    });
    server.putBackup("alice", addToKeyBackup({ backup: server.backup("alice"), recoveryPublicKey: trustedPublicKey, keyrings: [plantedKeyring] }));

    const aliceTablet = await Device.register(server, "Alice's tablet", "alice", "tablet");
    for (const keyring of await restoreKeyBackup({ backup: server.backup("alice"), recoveryCode })) {
      aliceTablet.keyrings.set(keyring.roomId, keyring);
    }
    const garden = aliceTablet.keyring("garden");
    expect(garden.currentKeyId).toBe("v9-planted");
    expect(garden.needsRotation()).toBe("restored");
    await expectFailure(aliceTablet.say("garden", "Under the planted key?"), "ROTATION_REQUIRED");
    await expectFailure(() => aliceTablet.shareKeyWith("garden", [alicePhone]), "KEY_WITHHELD");

    // Rotating moves past it with a fresh version the tablet created itself.
    expect(garden.rotate({ reason: "manual" })).toBe(10);
    expect(garden.needsRotation()).toBeNull();
  });
});
