import { describe, expect, it } from "vitest";
import { E2eeError } from "@domvia/e2ee-envelope";
import {
  RoomKeyring, acceptRoomKeyShare, createDeviceIdentity, createKeyBackup, createRecoveryKey, restoreKeyBackup, shareRoomKey,
} from "./index";

describe("smoke", () => {
  it("runs the lifecycle", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "a1" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "b1" });
    const carol = await createDeviceIdentity({ userId: "carol", deviceId: "c1" });
    const ak = RoomKeyring.create({ roomId: "room-1" });
    const bk = RoomKeyring.empty({ roomId: "room-1" });
    const ck = RoomKeyring.empty({ roomId: "room-1" });
    for (const [dev, kr] of [[bob, bk], [carol, ck]] as const) {
      const [share] = shareRoomKey({ keyring: ak, from: alice, to: [dev.publicBundle] });
      acceptRoomKeyShare({ share, device: dev, senderBundle: alice.publicBundle, keyring: kr });
    }
    const e1 = await ak.encryptChatJson({ body: "hi" }, { messageId: "m1", sender: alice });
    const bundles = new Map([[ "alice/a1", alice.publicBundle ]]);
    const resolveSender = ({ userId, deviceId }: { userId: string; deviceId: string }) => bundles.get(`${userId}/${deviceId}`);
    expect(await ck.decryptChatJson(e1, { roomId: "room-1", messageId: "m1", resolveSender })).toEqual({ body: "hi" });
    ak.removeMember({ userId: "carol" });
    await expect(ak.encryptChatJson({ body: "x" }, { messageId: "m2" })).rejects.toMatchObject({ code: "ROTATION_REQUIRED" });
    ak.rotate({ reason: "member-removed" });
    const [s2] = shareRoomKey({ keyring: ak, from: alice, to: [bob.publicBundle] });
    acceptRoomKeyShare({ share: s2, device: bob, senderBundle: alice.publicBundle, keyring: bk });
    const e2 = await ak.encryptChatJson({ body: "secret" }, { messageId: "m2" });
    expect(await bk.decryptChatJson(e2, { roomId: "room-1", messageId: "m2" })).toEqual({ body: "secret" });
    const err = await ck.decryptChatJson(e2, { roomId: "room-1", messageId: "m2" }).catch((e: unknown) => e);
    expect(E2eeError.isInstance(err, "UNKNOWN_KEY")).toBe(true);
    const rk = await createRecoveryKey();
    const backup = createKeyBackup({ keyrings: [bk], recoveryKey: { publicKey: rk.publicKey } });
    const [restored] = await restoreKeyBackup({ backup: JSON.parse(JSON.stringify(backup)), recoveryCode: rk.code });
    expect(await restored!.decryptChatJson(e1, { roomId: "room-1", messageId: "m1", resolveSender })).toEqual({ body: "hi" });
    expect(await restored!.decryptChatJson(e2, { roomId: "room-1", messageId: "m2" })).toEqual({ body: "secret" });
    const state = JSON.parse(JSON.stringify(restored!.exportState()));
    expect(RoomKeyring.importState(state).versions.length).toBe(2);
  });
});
