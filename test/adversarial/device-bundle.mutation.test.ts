/**
 * Mutation suite for device bundles (SPEC.md §9). Alice's self-signed bundle is changed member by
 * member, bit by bit and character by character, and read by `verifyDeviceBundle` (§9.4), by a
 * receiver resolving the sender of Alice's signed message (§8.5 steps 9–12) and by a sender sealing
 * a key share to it (§10.6 step 2). Any change to a well-formed bundle must be `BAD_SIGNATURE`.
 *
 * A bundle re-signed by its own key after a change is a valid bundle: the self-signature proves
 * only that its members belong together (§9.5). The re-signed family pins what that means: such a
 * bundle verifies, and a signed message is refused only when its ids or signing key no longer
 * match (`UNKNOWN_SENDER`, `BAD_SIGNATURE`); a changed agreement key goes unnoticed here (that is
 * what pinning in a trust store is for).
 *
 * Cost: each changed bundle costs one Ed25519 verification (about 3 ms; verified bundles are
 * cached by content, refused ones are not), so bytes get one flipped bit each (bit `index mod 8`).
 */
import { deviceBundleSignatureInput, type DeviceBundle, type EnvelopeV2 } from "@domvia/e2ee-envelope";
import {
  createDeviceIdentity,
  decryptChatMessage,
  encryptChatJson,
  generateAesGcmKey,
  sealRoomKeyShare,
  verifyDeviceBundle,
  type DeviceIdentity,
  type RoomKey,
  type VerifiedDeviceBundle,
} from "@domvia/e2ee-crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { MutationSuite, type Consumer, type Expectation } from "./harness";
import { ed25519PublicKey, ed25519Sign, fromBase64url, toBase64url } from "./independent";
import { ONE_BIT, byteFlipCount, byteMutations, changedMembers, fieldMutations, textMutations, type Mutation } from "./mutate";
import { DEVICE_BUNDLE, type ObjectRule } from "./rules";

const SHAPE = DEVICE_BUNDLE.shapes[1] as ObjectRule;
const MESSAGE = { body: "signed by alice" };

interface Fixture {
  readonly alice: DeviceIdentity;
  readonly bob: DeviceIdentity;
  readonly bundle: DeviceBundle;
  readonly roomKey: RoomKey;
  readonly envelope: EnvelopeV2;
}

let f: Fixture;

beforeAll(async () => {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const roomKey = await generateAesGcmKey();
  const envelope = (await encryptChatJson(MESSAGE, roomKey, { roomId: "room-1", messageId: "msg-1", keyId: "k1", keyVersion: 1, sender: alice })) as EnvelopeV2;
  f = { alice, bob, bundle: alice.publicBundle, roomKey, envelope };
});

/** `bundle` with its self-signature recomputed over its own members by the signing key `seed` (§9.2). */
function resigned(bundle: DeviceBundle, seed: Uint8Array): DeviceBundle {
  const signed = deviceBundleSignatureInput(bundle.userId, bundle.deviceId, fromBase64url(bundle.agreementKey), fromBase64url(bundle.signingKey));
  return { ...bundle, signature: toBase64url(ed25519Sign(seed, signed)) };
}

/** §9.4 step 3: a well-formed bundle verifies when it is Alice's, or re-signed over its own members. */
function verification(value: Record<string, unknown>, mutation: Mutation): Expectation {
  const changed = changedMembers(f.bundle as unknown as Record<string, unknown>, value);
  if (changed.length > 0 && mutation.family !== "resigned") return { code: "BAD_SIGNATURE" };
  return {
    accept: (result) => {
      const verified = result as VerifiedDeviceBundle;
      expect(verified.bundle).toEqual(value);
      expect(toBase64url(verified.agreementKey)).toBe(value["agreementKey"]);
      expect(toBase64url(verified.signingKey)).toBe(value["signingKey"]);
    },
  };
}

function consumers(): Consumer[] {
  return [
    {
      name: "verifyDeviceBundle",
      alsoAsText: true,
      run: (input) => verifyDeviceBundle(input),
      expect: verification,
    },
    {
      name: "decryptChatMessage(resolved sender bundle)",
      families: ["field", "resigned"],
      malformedSample: 4,
      // A resolver's `null` means "no bundle" (§8.5 step 9), not a malformed one.
      skip: (mutation) => mutation.input === null,
      run: (input) => decryptChatMessage(f.envelope, f.roomKey, { roomId: "room-1", messageId: "msg-1", resolveSender: () => input as DeviceBundle }),
      // §8.5 steps 10–12: the bundle verifies, names the envelope's sender, and its key verifies the message.
      expect: (value, mutation) => {
        const verified = verification(value, mutation);
        if ("code" in verified) return verified;
        if (value["userId"] !== "alice" || value["deviceId"] !== "phone") return { code: "UNKNOWN_SENDER" };
        if (value["signingKey"] !== f.bundle.signingKey) return { code: "BAD_SIGNATURE" };
        return { accept: (result) => expect(result).toEqual({ value: MESSAGE, keyId: "k1", keyVersion: 1, sender: { userId: "alice", deviceId: "phone" } }) };
      },
    },
    {
      name: "sealRoomKeyShare(to: bundle)",
      families: ["field"],
      malformedSample: 4,
      run: (input) => sealRoomKeyShare({ roomId: "room-1", keyId: "k1", keyVersion: 1, key: f.roomKey, shareable: false, from: f.bob, to: input }),
      expect: (value, mutation) => {
        const verified = verification(value, mutation);
        if ("code" in verified) return verified;
        return { accept: (result) => expect(result).toMatchObject({ recipientUserId: value["userId"], recipientDeviceId: value["deviceId"], senderUserId: "bob" }) };
      },
    },
  ];
}

describe("device bundle", () => {
  const suite = new MutationSuite("device bundle", DEVICE_BUNDLE);

  it("verifies the unchanged bundle with every consumer (the fixture is sound)", async () => {
    const result = await suite.run(consumers(), [{ family: "field", label: "unchanged", input: f.bundle, path: [] }]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(4);
  });

  it("refuses every member removed, retyped, at its boundaries, from another bundle or added", { timeout: 30_000 }, async () => {
    const bundle = f.bundle as unknown as Record<string, unknown>;
    const mutations = fieldMutations(bundle, SHAPE, { donors: [f.bob.publicBundle] });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    for (const member of Object.keys(bundle)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
  });

  it("refuses every flipped bit of the keys and the signature with BAD_SIGNATURE (one bit per byte)", { timeout: 30_000 }, async () => {
    const bundle = f.bundle as unknown as Record<string, unknown>;
    const result = await suite.run(consumers(), byteMutations(bundle, SHAPE, ONE_BIT));
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(byteFlipCount(bundle, SHAPE, ONE_BIT));
    expect(result.mutations).toBe(32 + 32 + 64);
    expect(result.outcomes.get("BAD_SIGNATURE")).toBe(result.runs);
  });

  it("refuses every character of the JSON text replaced or deleted, where the text still parses", { timeout: 30_000 }, async () => {
    const text = JSON.stringify(f.bundle);
    // Same-class replacements at every 2nd character of the byte members: each costs a signature check, and the byte flips reach every byte.
    const mutations = textMutations(text, { byteMemberStride: 2, duplicates: { userId: "bob", agreementKey: f.bob.publicBundle.agreementKey }, maxTextLength: DEVICE_BUNDLE.maxTextLength });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThanOrEqual(text.length);
  });

  it("accepts a bundle re-signed after a change, and the message check catches only changed ids or signing key", { timeout: 30_000 }, async () => {
    const aliceSeed = fromBase64url(f.alice.exportState().signingSecretKey);
    const impostorSeed = new Uint8Array(32).fill(7);
    const mutations: Mutation[] = byteMutations(f.bundle as unknown as Record<string, unknown>, SHAPE, ONE_BIT)
      .filter((m) => m.path[0] === "agreementKey")
      .map((m) => ({ ...m, family: "resigned", label: `${m.label}, re-signed`, input: resigned(m.input as DeviceBundle, aliceSeed) }));
    const changes: [string, DeviceBundle][] = [
      ["userId", resigned({ ...f.bundle, userId: "mallory" }, aliceSeed)],
      ["deviceId", resigned({ ...f.bundle, deviceId: "tablet" }, aliceSeed)],
      ["agreementKey", resigned({ ...f.bundle, agreementKey: f.bob.publicBundle.agreementKey }, aliceSeed)],
      // An impostor: Alice's ids, another signing key that signs the bundle.
      ["signingKey", resigned({ ...f.bundle, signingKey: toBase64url(ed25519PublicKey(impostorSeed)) }, impostorSeed)],
    ];
    for (const [member, bundle] of changes) mutations.push({ family: "resigned", label: `${member} changed, re-signed`, input: bundle, path: [member] });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(32 + changes.length);
  });

  it("reached every outcome the spec gives for bundles", (context) => {
    suite.expectReached(context, ["field", "byte", "text", "resigned"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "UNKNOWN_SENDER", "BAD_SIGNATURE"]);
  });
});
