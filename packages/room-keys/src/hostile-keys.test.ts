/**
 * What a hostile member or server can try with key versions, and what the keyring refuses.
 */
import { describe, expect, it } from "vitest";
import { E2eeError } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, createRecoveryKey, protectRecoveryKey, unlockRecoveryKey, verifyDeviceBundle } from "@domvia/e2ee-crypto";
import { RoomKeyring } from "./keyring";
import { createKeyBackup, restoreKeyBackup } from "./backup";
import { acceptRoomKeyShare, shareRoomKey } from "./sharing";

async function codeOf(action: () => unknown): Promise<string> {
  try {
    await action();
  } catch (error) {
    if (E2eeError.isInstance(error)) return error.code;
    throw error;
  }
  throw new Error("expected a failure");
}

function keyringAt(roomId: string, keyVersion: number): RoomKeyring {
  const state = RoomKeyring.create({ roomId }).exportState();
  return RoomKeyring.importState({
    ...state,
    currentVersion: keyVersion,
    currentKeyId: `v${keyVersion}-planted`,
    versions: [{ ...state.versions[0]!, keyVersion, keyId: `v${keyVersion}-planted` }],
  });
}

describe("key versions from others", () => {
  it("refuses to share the current version after a removal until this device rotates", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const dave = await createDeviceIdentity({ userId: "dave", deviceId: "phone" });
    const keyring = RoomKeyring.create({ roomId: "room" });
    keyring.removeMember({ userId: "mallory" });
    expect(await codeOf(() => shareRoomKey({ keyring, from: alice, to: [dave.publicBundle] }))).toBe("ROTATION_REQUIRED");
    keyring.rotate({ reason: "member-removed" });
    expect(shareRoomKey({ keyring, from: alice, to: [dave.publicBundle] })).toHaveLength(1);
  });

  it("refuses a shared version that jumps far past the versions held, and leaves the keyring unchanged", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const far = keyringAt("room", 2_147_483_647);
    const [share] = shareRoomKey({ keyring: far, from: alice, to: [bob.publicBundle] });
    const bobRoom = RoomKeyring.create({ roomId: "room" });
    const before = JSON.stringify(bobRoom.versions);
    expect(await codeOf(() => acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: bobRoom }))).toBe("KEY_CONFLICT");
    expect(JSON.stringify(bobRoom.versions)).toBe(before);
    expect(bobRoom.rotate({ reason: "manual" })).toBe(2);
  });

  it("keeps rotating when a backup planted the last possible version", async () => {
    const recoveryKey = await createRecoveryKey();
    const backup = createKeyBackup({ keyrings: [keyringAt("room", 2_147_483_647)], recoveryKey });
    const [restored] = await restoreKeyBackup({ backup, recoveryKey });
    expect(restored!.needsRotation()).toBe("restored");
    expect(restored!.rotate({ reason: "manual" })).toBe(1);
  });

  it("lets a verified share replace a different key a backup planted under the same key id", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const genuine = RoomKeyring.create({ roomId: "room" });
    const keyId = genuine.currentKeyId!;
    const plantedState = RoomKeyring.create({ roomId: "room" }).exportState();
    const planted = RoomKeyring.importState({
      ...plantedState,
      currentKeyId: keyId,
      versions: [{ ...plantedState.versions[0]!, keyId }],
    });
    const recoveryKey = await createRecoveryKey();
    const [restored] = await restoreKeyBackup({ backup: createKeyBackup({ keyrings: [planted], recoveryKey }), recoveryKey });
    const [share] = shareRoomKey({ keyring: genuine, from: alice, to: [bob.publicBundle] });
    const accepted = acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: restored! });
    expect(accepted.keyVersion).toBe(1);
    const envelope = await genuine.encryptChatJson({ body: "real" }, { messageId: "m-1" });
    expect(await restored!.decryptChatJson(envelope, { roomId: "room", messageId: "m-1" })).toEqual({ body: "real" });
    expect(restored!.needsRotation()).toBeNull();
  });

  it("refuses a validly signed share from a device that is not a member of the room", async () => {
    const eve = await createDeviceIdentity({ userId: "eve", deviceId: "e1" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const bobRoom = RoomKeyring.create({ roomId: "room" });
    const eveRoom = RoomKeyring.create({ roomId: "room" });
    eveRoom.rotate({ reason: "manual" });
    const [share] = shareRoomKey({ keyring: eveRoom, from: eve, to: [bob.publicBundle] });
    const before = JSON.stringify(bobRoom.versions);
    const members = new Set(["alice", "bob"]);
    expect(
      await codeOf(() =>
        acceptRoomKeyShare({ share, device: bob, senderBundle: eve.publicBundle, keyring: bobRoom, isRoomMember: ({ userId }) => members.has(userId) }),
      ),
    ).toBe("UNKNOWN_SENDER");
    expect(JSON.stringify(bobRoom.versions)).toBe(before);
  });

  it("hands every caller its own copy of a verified bundle's keys", async () => {
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    verifyDeviceBundle(bob.publicBundle).agreementKey.fill(0);
    expect(verifyDeviceBundle(bob.publicBundle).agreementKey.some((byte) => byte !== 0)).toBe(true);
  });

  it("keeps RoomKeyring's internals off its public surface", () => {
    for (const name of ["addVersion", "entry", "entries"]) expect(RoomKeyring).not.toHaveProperty(name);
  });

  it("refuses to unlock a stored recovery key whose scrypt cost exceeds what this device allows", async () => {
    const recoveryKey = await createRecoveryKey();
    const cheap = await protectRecoveryKey(recoveryKey, "passphrase", { n: 1024, r: 1, p: 1 });
    const costly = { ...cheap, kdf: { ...cheap.kdf, n: 2 ** 19, r: 8 } }; // 512 MiB
    expect(await codeOf(() => unlockRecoveryKey(costly, "passphrase"))).toBe("PAYLOAD_TOO_LARGE");
  });
});
