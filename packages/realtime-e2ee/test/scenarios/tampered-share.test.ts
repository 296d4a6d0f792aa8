/**
 * Story: a tampered share.
 *
 * Alice's phone shares the "vault" room's key with Bob's laptop across a hostile network.
 * Mallory, who controls the network, changes the share on the way: one character of the
 * encrypted key, of the encapsulated key, of the signature; she drops a field, bumps the format
 * version, and hands Bob a forged bundle that claims to be Alice's phone. She substitutes her own
 * key in Bob's bundle as the directory serves it to Alice. Later, as a room member herself, she
 * tries to slip Bob a different key under the id of a version he already holds. Every attempt
 * fails with a typed error, and Bob's keyring holds exactly what it held before.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { RoomKeyring, acceptRoomKeyShare, createDeviceIdentity, shareRoomKey, type E2eeErrorCode } from "../../src/index";
import { createWorld, Device, expectFailure, snapshot, type FakeServer } from "./world";

/** One character changed, keeping it base64url: flips between two neighbouring alphabet letters. */
function changeCharacter(text: string, index: number): string {
  const character = text[index]!;
  const replacement = character === "A" ? "B" : "A";
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe("story: a tampered share", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;
  let share: Record<string, unknown>;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    alicePhone.createRoom("vault");
    bobLaptop.joinRoom("vault");
    alicePhone.shareKey("vault");
    share = server.takeMailbox("bob", "laptop")[0] as Record<string, unknown>;
  });

  /** Bob's laptop receives `tampered`; it must fail with `code` and change nothing. */
  async function deliverTampered(tampered: unknown, code: E2eeErrorCode, senderBundle: unknown = server.bundle("alice", "phone")): Promise<void> {
    const keyring = bobLaptop.keyring("vault");
    const before = snapshot(keyring);
    await expectFailure(() => acceptRoomKeyShare({ isRoomMember: () => true, share: tampered, device: bobLaptop.identity, senderBundle, keyring }), code);
    expect(snapshot(keyring)).toBe(before);
  }

  it("refuses one changed character in the encrypted key, the encapsulated key or the signature", async () => {
    for (const field of ["ciphertext", "enc", "signature"]) {
      const text = share[field] as string;
      for (const index of [0, Math.floor(text.length / 2), text.length - 2]) {
        await deliverTampered({ ...share, [field]: changeCharacter(text, index) }, "BAD_SIGNATURE");
      }
    }
  });

  it("refuses a share with a missing field, an extra field, or another format version", async () => {
    const { signature: _signature, ...unsigned } = share;
    await deliverTampered(unsigned, "INVALID_ENVELOPE");
    await deliverTampered({ ...share, note: "trust me" }, "INVALID_ENVELOPE");
    await deliverTampered({ ...share, v: 2 }, "UNSUPPORTED_VERSION");
    await deliverTampered({ ...share, kem: 0x0021 }, "INVALID_ENVELOPE");
    await deliverTampered(JSON.stringify(share).slice(0, -1), "INVALID_ENVELOPE");
  });

  it("refuses the share with a forged bundle for Alice's phone, or with someone else's bundle", async () => {
    const forged = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    await deliverTampered(share, "BAD_SIGNATURE", forged.publicBundle);
    await deliverTampered(share, "UNKNOWN_SENDER", server.bundle("bob", "laptop"));
    const broken = { ...(server.bundle("alice", "phone") as Record<string, unknown>) };
    broken["agreementKey"] = changeCharacter(broken["agreementKey"] as string, 3);
    await deliverTampered(share, "BAD_SIGNATURE", broken);
  });

  it("produces no share at all when the directory serves a tampered bundle among good ones", async () => {
    const malloryKeys = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const substituted = { ...(server.bundle("bob", "laptop") as Record<string, unknown>), agreementKey: malloryKeys.publicBundle.agreementKey };
    const carolTablet = await Device.register(server, "Carol's tablet", "carol", "tablet");
    await expectFailure(
      () => shareRoomKey({ keyring: alicePhone.keyring("vault"), from: alicePhone.identity, to: [server.bundle("carol", "tablet"), substituted] }),
      "BAD_SIGNATURE",
    );
    expect(server.mailboxSize(carolTablet.userId, carolTablet.deviceId)).toBe(0);
  });

  it("refuses a member's different key under the id of a version Bob already holds", async () => {
    const malloryPhone = await Device.register(server, "Mallory's phone", "mallory", "phone");
    acceptRoomKeyShare({ isRoomMember: () => true, share, device: bobLaptop.identity, senderBundle: server.bundle("alice", "phone"), keyring: bobLaptop.keyring("vault") });
    const genuine = bobLaptop.keyring("vault").versions[0]!;

    // Mallory builds a keyring whose version 1 has Alice's key id but a key of her own.
    const state = RoomKeyring.create({ roomId: "vault" }).exportState();
    const [version] = state.versions;
    const lookalike = RoomKeyring.importState({
      ...state,
      currentKeyId: genuine.keyId,
      versions: [{ ...version!, keyId: genuine.keyId }],
    });
    const [forgedShare] = shareRoomKey({ keyring: lookalike, from: malloryPhone.identity, to: [server.bundle("bob", "laptop")] });
    await deliverTampered(forgedShare, "KEY_CONFLICT", server.bundle("mallory", "phone"));
    await alicePhone.say("vault", "Only the genuine key opens this.");
    expect(await bobLaptop.read("vault")).toEqual(["Only the genuine key opens this."]);
  });
});
