/**
 * Mutation suite for room key shares (SPEC.md §10). A share Alice's keyring made for Bob is
 * changed member by member, bit by bit and character by character, and given to Bob's keyring
 * (`acceptRoomKeyShare`, §10.8) and to `openRoomKeyShare` (§10.7). Every change must be refused
 * with the code of the first step it fails (room, revoked sender, membership, addressee, sender
 * bundle, signature, HPKE), and a refusal must leave Bob's keyring exactly as it was.
 *
 * Cost: a changed share ends at the Ed25519 check (about 3 ms), so bytes get one flipped bit each
 * (bit `index mod 8`); a second family re-signs each flip with Alice's key, so the same flips reach
 * HPKE (about 10 ms each) and must fail `DECRYPTION_FAILED`.
 */
import { keyShareInfo, keyShareSignatureInput, type RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, exportAesGcmKeyToBase64, openRoomKeyShare, type DeviceIdentity, type OpenedRoomKeyShare } from "@domvia/e2ee-crypto";
import { RoomKeyring, acceptRoomKeyShare, shareRoomKey, type AcceptedRoomKeyShare } from "@domvia/e2ee-room-keys";
import { beforeAll, describe, expect, it } from "vitest";
import { MutationSuite, type Consumer, type Expectation } from "./harness";
import { ed25519Sign, fromBase64url, toBase64url } from "./independent";
import { ONE_BIT, byteFlipCount, byteMutations, changedMembers, fieldMutations, textMutations, type Mutation } from "./mutate";
import { KEY_SHARE, type ObjectRule } from "./rules";

const ROOM = "room-1";
const SHAPE = KEY_SHARE.shapes[1] as ObjectRule;

interface Fixture {
  readonly alice: DeviceIdentity;
  readonly bob: DeviceIdentity;
  readonly carol: DeviceIdentity;
  readonly share: RoomKeyShareV1;
  readonly donor: RoomKeyShareV1;
  /** The key the share carries, as 44-character base64. */
  readonly key: string;
  /** Bob's keyring before any share: it has removed Mallory and revoked Carol's old phone. */
  readonly receiverState: string;
}

let f: Fixture;

beforeAll(async () => {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const carol = await createDeviceIdentity({ userId: "carol", deviceId: "tablet" });
  const sender = RoomKeyring.create({ roomId: ROOM, shareable: true });
  sender.rotate({ reason: "manual", shareable: true });
  const [share] = shareRoomKey({ keyring: sender, from: alice, to: [bob.publicBundle] }) as [RoomKeyShareV1];
  const key = Buffer.from(sender.exportState().versions.at(-1)!.key, "base64url").toString("base64");
  const [donor] = shareRoomKey({ keyring: RoomKeyring.create({ roomId: "room-2" }), from: carol, to: [bob.publicBundle] }) as [RoomKeyShareV1];
  const receiver = RoomKeyring.empty({ roomId: ROOM });
  receiver.removeMember({ userId: "mallory" });
  receiver.revokeDevice({ userId: "carol", deviceId: "old-phone" });
  f = { alice, bob, carol, share, donor, key, receiverState: JSON.stringify(receiver.exportState()) };
});

/** The room's member devices by the server's word (Mallory's device is one; Bob's keyring removed her). */
const MEMBERS = new Set(["alice/phone", "bob/laptop", "carol/tablet", "carol/old-phone", "mallory/phone"]);
const isRoomMember = ({ userId, deviceId }: { userId: string; deviceId: string }): boolean => MEMBERS.has(`${userId}/${deviceId}`);

/** §10.7 steps 2–9 for Bob opening a well-formed share with Alice's bundle. */
function openingExpectation(value: Record<string, unknown>, mutation: Mutation, accept: Expectation): Expectation {
  if (value["recipientUserId"] !== "bob" || value["recipientDeviceId"] !== "laptop") return { code: "SHARE_MISADDRESSED" };
  if (value["senderUserId"] !== "alice" || value["senderDeviceId"] !== "phone") return { code: "UNKNOWN_SENDER" };
  const changed = changedMembers(f.share as unknown as Record<string, unknown>, value);
  if (changed.length === 0) return accept;
  return { code: mutation.family === "resigned" ? "DECRYPTION_FAILED" : "BAD_SIGNATURE" };
}

function consumers(): Consumer[] {
  let receiver = RoomKeyring.importState(f.receiverState);
  return [
    {
      name: "acceptRoomKeyShare",
      alsoAsText: true,
      run: (input) => {
        receiver = RoomKeyring.importState(f.receiverState);
        return acceptRoomKeyShare({ share: input, device: f.bob, senderBundle: f.alice.publicBundle, keyring: receiver, isRoomMember });
      },
      // §10.8 steps 1–3, then §10.7.
      expect: (value, mutation) => {
        if (value["roomId"] !== ROOM) return { code: "SHARE_MISADDRESSED" };
        if (value["senderUserId"] === "mallory" || (value["senderUserId"] === "carol" && value["senderDeviceId"] === "old-phone")) return { code: "DEVICE_REVOKED" };
        if (!isRoomMember({ userId: value["senderUserId"] as string, deviceId: value["senderDeviceId"] as string })) return { code: "UNKNOWN_SENDER" };
        return openingExpectation(value, mutation, {
          accept: (result) => {
            expect(result as AcceptedRoomKeyShare).toEqual({
              keyId: f.share.keyId,
              keyVersion: f.share.keyVersion,
              shareable: true,
              becameCurrent: true,
              sender: { userId: "alice", deviceId: "phone" },
            });
            const [version] = receiver.exportState().versions;
            expect(Buffer.from(version!.key, "base64url").toString("base64")).toBe(f.key);
          },
        });
      },
      changedAfterRefusal: () => (JSON.stringify(receiver.exportState()) === f.receiverState ? undefined : "Bob's keyring"),
    },
    {
      name: "openRoomKeyShare",
      families: ["field"],
      malformedSample: 4,
      run: (input) => openRoomKeyShare({ share: input, device: f.bob, senderBundle: f.alice.publicBundle }),
      expect: (value, mutation) =>
        openingExpectation(value, mutation, {
          accept: async (result) => {
            const opened = result as OpenedRoomKeyShare;
            expect({ ...opened, key: await exportAesGcmKeyToBase64(opened.key) }).toEqual({
              roomId: ROOM,
              keyId: f.share.keyId,
              keyVersion: f.share.keyVersion,
              key: f.key,
              shareable: true,
              senderUserId: "alice",
              senderDeviceId: "phone",
            });
          },
        }),
    },
  ];
}

/** `share` with its signature recomputed by Alice over its own (changed) members, for Bob (§10.5). */
function resignedByAlice(share: RoomKeyShareV1): RoomKeyShareV1 {
  const info = keyShareInfo(share, fromBase64url(f.alice.publicBundle.signingKey), fromBase64url(f.bob.publicBundle.agreementKey));
  const signed = keyShareSignatureInput(info, fromBase64url(share.enc), fromBase64url(share.ciphertext));
  return { ...share, signature: toBase64url(ed25519Sign(fromBase64url(f.alice.exportState().signingSecretKey), signed)) };
}

describe("key share", () => {
  const suite = new MutationSuite("key share", KEY_SHARE);

  it("accepts and opens the unchanged share (the fixture is sound)", async () => {
    const result = await suite.run(consumers(), [{ family: "field", label: "unchanged", input: f.share, path: [] }]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(3);
  });

  it("refuses every member removed, retyped, at its boundaries, from another share or added", { timeout: 30_000 }, async () => {
    const share = f.share as unknown as Record<string, unknown>;
    const mutations = fieldMutations(share, SHAPE, {
      donors: [f.donor],
      // A removed user, a revoked device, a non-member, and Bob's other identity as addressee.
      extraValues: { senderUserId: ["mallory", "carol", "dave"], senderDeviceId: ["old-phone", "tablet"], recipientDeviceId: ["phone"] },
    });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    for (const member of Object.keys(share)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
  });

  it("refuses every flipped bit of enc, ciphertext and signature with BAD_SIGNATURE (one bit per byte)", { timeout: 30_000 }, async () => {
    const share = f.share as unknown as Record<string, unknown>;
    const result = await suite.run(consumers(), byteMutations(share, SHAPE, ONE_BIT));
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(byteFlipCount(share, SHAPE, ONE_BIT));
    expect(result.mutations).toBe(32 + 49 + 64);
    expect(result.outcomes.get("BAD_SIGNATURE")).toBe(result.runs);
  });

  it("refuses every character of the JSON text replaced or deleted, where the text still parses", { timeout: 30_000 }, async () => {
    const text = JSON.stringify(f.share);
    // Same-class replacements at every 2nd character of the byte members: each costs a signature check, and the byte flips reach every byte.
    const mutations = textMutations(text, { byteMemberStride: 2, duplicates: { roomId: "room-2", recipientDeviceId: "phone", keyVersion: 9 }, maxTextLength: KEY_SHARE.maxTextLength });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThanOrEqual(text.length);
  });

  it("refuses every flipped byte and changed context behind Alice's valid signature with DECRYPTION_FAILED", { timeout: 30_000 }, async () => {
    const share = f.share as unknown as Record<string, unknown>;
    const mutations: Mutation[] = byteMutations(share, SHAPE, ONE_BIT)
      .filter((m) => m.path[0] !== "signature")
      .map((m) => ({ ...m, family: "resigned", label: `${m.label}, re-signed`, input: resignedByAlice(m.input as RoomKeyShareV1) }));
    const changes: [string, Partial<RoomKeyShareV1>][] = [
      ["keyId", { keyId: "another-key" }],
      ["keyVersion", { keyVersion: f.share.keyVersion + 1 }],
      ["enc", { enc: "A".repeat(43) }], // the all-zero (low-order) point
      ["enc", { enc: f.donor.enc, ciphertext: f.donor.ciphertext }], // sealed to Bob for another context
      ["recipientDeviceId", { recipientDeviceId: "phone" }], // addressed elsewhere: refused before the signature
    ];
    for (const [member, change] of changes) {
      mutations.push({ family: "resigned", label: `${Object.keys(change).join("+")} changed, re-signed`, input: resignedByAlice({ ...f.share, ...change }), path: [member] });
    }
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(32 + 49 + changes.length);
    expect(result.outcomes.get("DECRYPTION_FAILED")).toBe(result.mutations - 1);
  });

  it("reached every outcome the spec gives for shares", (context) => {
    suite.expectReached(context, ["field", "byte", "text", "resigned"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "SHARE_MISADDRESSED", "DEVICE_REVOKED", "UNKNOWN_SENDER", "BAD_SIGNATURE", "DECRYPTION_FAILED"]);
  });
});
