/**
 * Mutation suites for message envelopes v1 (SPEC.md §3–§6) and v2 (§8). Every member, every bit
 * of the nonce, commitment and ciphertext (and of the v2 signature), and every character of the
 * JSON text is changed in an envelope a keyring sealed; each change must be refused with the code
 * §3.3, §6 and §8.5 give, or (for changes that keep the same object) read the same message.
 *
 * Cost: opening a v1 envelope is about 0.3 ms, so v1 flips all 8 bits of every byte. A v2 change
 * ends at the Ed25519 check (about 2 ms), so v2 flips one bit per byte (bit `index mod 8`); a
 * second family re-signs each changed envelope with the sender's key, so the same flips also reach
 * the commitment and the AEAD tag behind a valid signature.
 */
import { encodeAssociatedDataV2, envelopeSignatureInputV2, type DeviceBundle, type Envelope, type EnvelopeV2 } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, decryptChatMessage, importAesGcmKeyFromBase64, type DeviceIdentity, type RoomKey, type SenderBundleResolver } from "@domvia/e2ee-crypto";
import { RoomKeyring } from "@domvia/e2ee-room-keys";
import { beforeAll, describe, expect, it } from "vitest";
import { MutationSuite, type Consumer, type Expectation } from "./harness";
import { ed25519Sign, fromBase64url, toBase64url } from "./independent";
import { ALL_BITS, ONE_BIT, byteFlipCount, byteMutations, changedMembers, fieldMutations, textMutations, type Mutation } from "./mutate";
import { ENVELOPE, type ObjectRule } from "./rules";

const MESSAGE = Object.freeze({ body: "mutation fixture", n: 7, list: [true, null] });
const ROOM = "room-1";

interface Fixture {
  readonly alice: DeviceIdentity;
  readonly bob: DeviceIdentity;
  readonly keyring: RoomKeyring;
  readonly key: RoomKey;
  readonly v1: Envelope;
  readonly v2: EnvelopeV2;
  readonly donorV1: Envelope;
  readonly donorV2: EnvelopeV2;
  readonly directory: SenderBundleResolver;
  /** The keyring's versions, as `keyVersion\nkeyId`, read from its exported state. */
  readonly held: ReadonlySet<string>;
}

let f: Fixture;

beforeAll(async () => {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const keyring = RoomKeyring.create({ roomId: ROOM });
  keyring.rotate({ reason: "manual" });
  const v1 = await keyring.encryptChatJson(MESSAGE, { messageId: "msg-1" });
  const v2 = (await keyring.encryptChatJson(MESSAGE, { messageId: "msg-2", sender: alice })) as EnvelopeV2;
  const current = keyring.exportState().versions.at(-1)!;
  const key = await importAesGcmKeyFromBase64(Buffer.from(current.key, "base64url").toString("base64"));
  // Donors: valid envelopes of another room, key and sender, whose members are swapped in one at a time.
  const other = RoomKeyring.create({ roomId: "room-2" });
  const donorV1 = await other.encryptChatJson({ other: true }, { messageId: "msg-9" });
  const donorV2 = (await other.encryptChatJson({ other: true }, { messageId: "msg-9", sender: bob })) as EnvelopeV2;
  const bundles = new Map<string, DeviceBundle>([alice, bob].map((device) => [`${device.userId}/${device.deviceId}`, device.publicBundle]));
  const directory: SenderBundleResolver = ({ userId, deviceId }) => bundles.get(`${userId}/${deviceId}`);
  const held = new Set(keyring.exportState().versions.map((version) => `${version.keyVersion}\n${version.keyId}`));
  f = { alice, bob, keyring, key, v1, v2, donorV1, donorV2, directory, held };
});

/** The device a directory knows by these ids, if any. */
function known(userId: unknown, deviceId: unknown): DeviceIdentity | undefined {
  return [f.alice, f.bob].find((device) => device.userId === userId && device.deviceId === deviceId);
}

/**
 * What opening a well-formed envelope must give (§6 and §8.5, in their order). `keyLookup`: the
 * consumer finds keys by key id and version (a keyring) instead of being handed the key.
 */
function openingExpectation(original: Envelope, value: Record<string, unknown>, mutation: Mutation, options: { keyLookup: boolean; requireSignature?: boolean }): Expectation {
  if (value["roomId"] !== ROOM) return { code: "CONTEXT_MISMATCH" };
  if (value["messageId"] !== original.messageId) return { code: "CONTEXT_MISMATCH" };
  if (value["v"] === 1 && options.requireSignature === true) return { code: "BAD_SIGNATURE" };
  if (options.keyLookup && !f.held.has(`${String(value["keyVersion"])}\n${String(value["keyId"])}`)) return { code: "UNKNOWN_KEY" };
  const changed = changedMembers(original as unknown as Record<string, unknown>, value);
  if (value["v"] === 2) {
    const sender = known(value["senderUserId"], value["senderDeviceId"]);
    if (sender === undefined) return { code: "UNKNOWN_SENDER" };
    // Only the re-signing family signs the changed envelope with the named sender's key.
    if (mutation.family !== "resigned" && changed.length > 0) return { code: "BAD_SIGNATURE" };
  }
  if (changed.length > 0) return { code: "DECRYPTION_FAILED" };
  return {
    accept: (result) =>
      expect(result).toEqual({
        value: MESSAGE,
        keyId: original.keyId,
        keyVersion: original.keyVersion,
        sender: original.v === 2 ? { userId: "alice", deviceId: "phone" } : null,
      }),
  };
}

function consumers(original: Envelope): Consumer[] {
  const before = JSON.stringify(f.keyring.exportState());
  const received = { roomId: ROOM, messageId: original.messageId };
  const list: Consumer[] = [
    {
      name: "decryptChatMessage(room key)",
      alsoAsText: true,
      run: (input) => decryptChatMessage(input, f.key, { ...received, resolveSender: f.directory }),
      expect: (value, mutation) => openingExpectation(original, value, mutation, { keyLookup: false }),
    },
    {
      name: "RoomKeyring.decryptChatMessage",
      families: ["field", "resigned"],
      malformedSample: 4,
      run: (input) => f.keyring.decryptChatMessage(input, { ...received, resolveSender: f.directory }),
      expect: (value, mutation) => openingExpectation(original, value, mutation, { keyLookup: true }),
      changedAfterRefusal: () => (JSON.stringify(f.keyring.exportState()) === before ? undefined : "the keyring's state"),
    },
  ];
  if (original.v === 1) {
    list.push({
      name: "decryptChatMessage(requireSignature)",
      families: ["field"],
      malformedSample: 4,
      run: (input) => decryptChatMessage(input, f.key, { ...received, requireSignature: true }),
      expect: (value, mutation) => openingExpectation(original, value, mutation, { keyLookup: false, requireSignature: true }),
    });
  }
  return list;
}

const SHAPES = ENVELOPE.shapes as Record<1 | 2, ObjectRule>;

/** `envelope` with its signature recomputed with `seed` over its own (changed) members (§8.3). */
function resigned(envelope: EnvelopeV2, seed: Uint8Array): EnvelopeV2 {
  const associatedData = encodeAssociatedDataV2(envelope);
  const input = envelopeSignatureInputV2(associatedData, fromBase64url(envelope.nonce), fromBase64url(envelope.commitment), fromBase64url(envelope.ciphertext));
  return { ...envelope, signature: toBase64url(ed25519Sign(seed, input)) };
}

for (const version of [1, 2] as const) {
  describe(`envelope v${version}`, () => {
    const suite = new MutationSuite(`envelope v${version}`, ENVELOPE);
    const original = (): Envelope => (version === 1 ? f.v1 : f.v2);
    const donor = (): Envelope => (version === 1 ? f.donorV1 : f.donorV2);
    const bits = version === 1 ? ALL_BITS : ONE_BIT;

    it("opens the unchanged envelope with every consumer (the fixture is sound)", async () => {
      const result = await suite.run(consumers(original()), [{ family: "field", label: "unchanged", input: original(), path: [] }]);
      expect(result.failures).toEqual([]);
      expect(result.outcomes.get("accepted")).toBe(3);
    });

    it("refuses every member removed, retyped, at its boundaries, from another envelope or added", async () => {
      const envelope = original() as unknown as Record<string, unknown>;
      const extra: Mutation[] =
        version === 2
          ? [{ family: "field", label: "sender moved to another known device", input: { ...f.v2, senderUserId: "bob", senderDeviceId: "laptop" }, path: ["senderUserId"] }]
          : [];
      const mutations = [...fieldMutations(envelope, SHAPES[version], { donors: [donor()], extraValues: { senderUserId: ["bob"] } }), ...extra];
      const result = await suite.run(consumers(original()), mutations);
      expect(result.failures).toEqual([]);
      // Every member was removed and retyped: at least 15 mutations each.
      for (const member of Object.keys(envelope)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
      expect(result.mutations).toBeGreaterThan(150);
    });

    it(`refuses every flipped bit of every byte member (${version === 1 ? "all 8 bits" : "one bit"} per byte)`, { timeout: 30_000 }, async () => {
      const envelope = original() as unknown as Record<string, unknown>;
      const mutations = byteMutations(envelope, SHAPES[version], bits);
      const result = await suite.run(consumers(original()), mutations);
      expect(result.failures).toEqual([]);
      expect(result.mutations).toBe(byteFlipCount(envelope, SHAPES[version], bits));
      expect(result.outcomes.get(version === 1 ? "DECRYPTION_FAILED" : "BAD_SIGNATURE")).toBe(result.runs);
    });

    it("refuses every character of the JSON text replaced or deleted, where the text still parses", { timeout: 30_000 }, async () => {
      const text = JSON.stringify(original());
      // v2: same-class replacements at every 2nd character of the byte members (each costs a signature check; the byte flips reach every byte).
      const mutations = textMutations(text, { byteMemberStride: version === 1 ? 1 : 2, duplicates: { roomId: "room-2", keyVersion: 9, v: 2 }, maxTextLength: ENVELOPE.maxTextLength });
      const result = await suite.run(consumers(original()), mutations);
      expect(result.failures).toEqual([]);
      // About one and a half mutations per character still parse (a same-class character, a space, a deletion).
      expect(result.parsed).toBeGreaterThanOrEqual(text.length);
    });

    if (version === 2) {
      it("refuses every flipped byte and changed member behind a valid signature with DECRYPTION_FAILED", { timeout: 30_000 }, async () => {
        const aliceSeed = fromBase64url(f.alice.exportState().signingSecretKey);
        const bobSeed = fromBase64url(f.bob.exportState().signingSecretKey);
        const mutations: Mutation[] = byteMutations(f.v2 as unknown as Record<string, unknown>, SHAPES[2], ONE_BIT)
          .filter((m) => m.path[0] !== "signature")
          .map((m) => ({ ...m, family: "resigned", label: `${m.label}, re-signed`, input: resigned(m.input as EnvelopeV2, aliceSeed) }));
        const changes: [string, Partial<EnvelopeV2>, Uint8Array][] = [
          ["keyId", { keyId: "another-key" }, aliceSeed],
          ["keyVersion", { keyVersion: 1 }, aliceSeed],
          ["keyVersion", { keyVersion: f.v2.keyVersion + 1 }, aliceSeed],
          ["commitment", { commitment: f.donorV2.commitment }, aliceSeed],
          ["ciphertext", { ciphertext: toBase64url(fromBase64url(f.v2.ciphertext).subarray(0, -1)) }, aliceSeed],
          ["ciphertext", { ciphertext: toBase64url(new Uint8Array([...fromBase64url(f.v2.ciphertext), 0])) }, aliceSeed],
          ["ciphertext", { ciphertext: f.donorV2.ciphertext, nonce: f.donorV2.nonce }, aliceSeed],
          // A member (Bob) who takes Alice's envelope, names himself and signs: the sender is in the AD.
          ["senderUserId", { senderUserId: "bob", senderDeviceId: "laptop" }, bobSeed],
        ];
        for (const [member, change, seed] of changes) {
          mutations.push({ family: "resigned", label: `${Object.keys(change).join("+")} changed, re-signed`, input: resigned({ ...f.v2, ...change }, seed), path: [member] });
        }
        const result = await suite.run(consumers(f.v2), mutations);
        expect(result.failures).toEqual([]);
        expect(result.mutations).toBe(byteFlipCount(f.v2 as unknown as Record<string, unknown>, SHAPES[2], ONE_BIT) - 64 + changes.length);
        expect(result.outcomes.get("DECRYPTION_FAILED")).toBeGreaterThanOrEqual(result.mutations);
      });
    }

    it("reached every outcome the spec gives for these envelopes", (context) => {
      suite.expectReached(
        context,
        version === 1 ? ["field", "byte", "text"] : ["field", "byte", "text", "resigned"],
        version === 1
          ? ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "CONTEXT_MISMATCH", "UNKNOWN_KEY", "BAD_SIGNATURE", "DECRYPTION_FAILED"]
          : ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "CONTEXT_MISMATCH", "UNKNOWN_KEY", "UNKNOWN_SENDER", "BAD_SIGNATURE", "DECRYPTION_FAILED"],
      );
      expect(suite.mutations).toBeGreaterThan(1000);
    });
  });
}
