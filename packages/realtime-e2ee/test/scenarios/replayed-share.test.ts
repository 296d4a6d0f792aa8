/**
 * Story: a share replayed to another device, room or version.
 *
 * The server that relays Alice's key shares is curious. It keeps a copy of the share Alice's
 * phone sent to Bob's phone for the "poker" room and tries to get more out of it: it delivers the
 * same share to Bob's laptop, drops it into Bob's keyring for another room, relabels it for the
 * laptop, for the other room, or for a newer version that would take over as current, and
 * replays an old share after a rotation hoping to roll the room back. Each attempt is refused
 * with its own code and leaves Bob's keyrings exactly as they were, or, for the honest repeat,
 * changes nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { RoomKeyring, acceptRoomKeyShare, type RoomKeyShare } from "../../src/index";
import { createWorld, Device, expectFailure, snapshot, type FakeServer } from "./world";

describe("story: a replayed share", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobPhone: Device;
  let bobLaptop: Device;
  /** The server's copy of the share for Bob's phone, as JSON text. */
  let copied: string;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobPhone = await Device.register(server, "Bob's phone", "bob", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    alicePhone.createRoom("poker");
    alicePhone.createRoom("book-club");
    bobPhone.joinRoom("poker");
    bobPhone.joinRoom("book-club");
    bobLaptop.joinRoom("poker");
    alicePhone.shareKey("book-club");
    bobPhone.receiveShares();
    alicePhone.shareKeyWith("poker", [bobPhone]);
    const [share] = server.takeMailbox("bob", "phone");
    copied = JSON.stringify(share);
  });

  /** The copied share with some fields rewritten. */
  const relabel = (fields: Partial<Record<keyof RoomKeyShare, unknown>>): unknown => ({ ...JSON.parse(copied), ...fields });

  /** Offers a share to one of Bob's devices for one room, expects `code`, and checks that nothing changed. */
  async function offer(device: Device, roomId: string, share: unknown, code: Parameters<typeof expectFailure>[1]): Promise<void> {
    const keyring = device.keyring(roomId);
    const before = snapshot(keyring);
    await expectFailure(
      () => acceptRoomKeyShare({ isRoomMember: () => true, share, device: device.identity, senderBundle: server.bundle("alice", "phone"), keyring }),
      code,
    );
    expect(snapshot(keyring)).toBe(before);
  }

  it("refuses the share delivered unchanged to Bob's laptop", async () => {
    await offer(bobLaptop, "poker", JSON.parse(copied), "SHARE_MISADDRESSED");
    await offer(bobLaptop, "poker", copied, "SHARE_MISADDRESSED");
  });

  it("refuses the share relabelled for Bob's laptop: the signature covers the recipient", async () => {
    await offer(bobLaptop, "poker", relabel({ recipientDeviceId: "laptop" }), "BAD_SIGNATURE");
  });

  it("refuses the share dropped into another room's keyring, unchanged or relabelled", async () => {
    await offer(bobPhone, "book-club", JSON.parse(copied), "SHARE_MISADDRESSED");
    await offer(bobPhone, "book-club", relabel({ roomId: "book-club" }), "BAD_SIGNATURE");
  });

  it("refuses the share relabelled as another version, or another key id", async () => {
    await offer(bobPhone, "poker", relabel({ keyVersion: 7 }), "BAD_SIGNATURE");
    await offer(bobPhone, "poker", relabel({ keyId: "v7-forged" }), "BAD_SIGNATURE");
    await offer(bobPhone, "poker", relabel({ senderDeviceId: "laptop" }), "UNKNOWN_SENDER");
  });

  it("accepts the honest share, then takes a repeat as a harmless no-op", () => {
    const keyring = bobPhone.keyring("poker");
    const first = acceptRoomKeyShare({ isRoomMember: () => true, share: copied, device: bobPhone.identity, senderBundle: server.bundle("alice", "phone"), keyring });
    expect(first).toMatchObject({ keyVersion: 1, becameCurrent: true, sender: { userId: "alice", deviceId: "phone" } });
    const before = snapshot(keyring);
    const again = acceptRoomKeyShare({ isRoomMember: () => true, share: copied, device: bobPhone.identity, senderBundle: server.bundle("alice", "phone"), keyring });
    expect(again).toMatchObject({ keyVersion: 1, becameCurrent: false });
    expect(snapshot(keyring)).toBe(before);
  });

  it("does not roll the room back when an old share is replayed after a rotation", async () => {
    server.postShares([JSON.parse(copied)]);
    bobPhone.receiveShares();
    alicePhone.rotateAndShare("poker", "manual");
    expect(bobPhone.receiveShares().accepted.map((share) => share.keyVersion)).toEqual([2]);
    const current = bobPhone.keyring("poker").currentKeyId;

    server.postShares([JSON.parse(copied)]);
    expect(bobPhone.receiveShares().accepted.map((share) => [share.keyVersion, share.becameCurrent])).toEqual([[1, false]]);
    expect(bobPhone.keyring("poker").currentVersion).toBe(2);
    expect(bobPhone.keyring("poker").currentKeyId).toBe(current);
    await bobPhone.say("poker", "Still on version 2.");
    expect((server.history("poker")[0]!.envelope as { keyVersion: number }).keyVersion).toBe(2);
  });

  it("refuses an old share replayed from a device revoked since", async () => {
    const keyring = RoomKeyring.empty({ roomId: "poker" });
    keyring.revokeDevice({ userId: "alice", deviceId: "phone" });
    const before = snapshot(keyring);
    await expectFailure(
      () => acceptRoomKeyShare({ isRoomMember: () => true, share: copied, device: bobPhone.identity, senderBundle: server.bundle("alice", "phone"), keyring }),
      "DEVICE_REVOKED",
    );
    expect(snapshot(keyring)).toBe(before);
  });
});
