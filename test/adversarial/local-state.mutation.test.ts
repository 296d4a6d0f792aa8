/**
 * Mutation suites for the local states (SPEC.md §14): the keyring state and the device identity
 * state, read by `RoomKeyring.importState` / `DeviceIdentity.importState` and through a `KeyStore`
 * (`loadKeyring`, `loadDeviceIdentity`).
 *
 * Local state is not authenticated: it lives in the device's own protected storage, and nothing
 * in it is signed or sealed (§14). So only a *malformed* state is refused (with the §7.3 codes, or
 * `INVALID_ENVELOPE` when a version appears twice or the current version is not among the
 * versions, §14.1). A well-formed
 * change, such as a flipped bit of a key, is accepted, and the suites assert that it is accepted
 * as exactly that changed state (the state exported again, and for an identity its public bundle
 * computed independently with OpenSSL) and that using it then fails typed:
 *
 * - a keyring whose key changed opens that version's old messages with `DECRYPTION_FAILED`, one
 *   whose key id or version changed with `UNKNOWN_KEY`, one moved to another room with
 *   `CONTEXT_MISMATCH`;
 * - an identity whose ids changed opens its old key share with `SHARE_MISADDRESSED`, one whose
 *   X25519 secret changed with `BAD_SIGNATURE` (its agreement key is in the signed HPKE `info`),
 *   except for the five bits X25519 clamps away (RFC 7748 §5), which leave the same key pair.
 *
 * What the importer normalises instead of refusing: versions are exported oldest first whatever
 * their stored order; repeated removed users or revoked devices collapse to one (§14.1 says they
 * count once); and `currentKeyId` is dropped when `currentVersion` is `null`.
 */
import { E2eeError, type DeviceIdentityStateV1, type E2eeErrorCode, type KeyringStateV1, type KeyringVersionV1, type RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import { DeviceIdentity, createDeviceIdentity, exportAesGcmKeyToBase64, openRoomKeyShare, type OpenedRoomKeyShare } from "@domvia/e2ee-crypto";
import { MemoryKeyStore, RoomKeyring, acceptRoomKeyShare, loadDeviceIdentity, loadKeyring, shareRoomKey } from "@domvia/e2ee-room-keys";
import type { Envelope } from "@domvia/e2ee-envelope";
import { beforeAll, describe, expect, it } from "vitest";
import { MutationSuite, type Consumer, type Expectation } from "./harness";
import { bundleOfState, fromBase64url, toBase64url, x25519PublicKey } from "./independent";
import { ALL_BITS, ONE_BIT, byteFlipCount, byteMutations, fieldMutations, textMutations, type BitChoice, type Mutation } from "./mutate";
import { DEVICE_IDENTITY_STATE, KEYRING_STATE, type ObjectRule } from "./rules";

const ROOM = "room-1";
const KEYRING_SHAPE = KEYRING_STATE.shapes[1] as ObjectRule;
const IDENTITY_SHAPE = DEVICE_IDENTITY_STATE.shapes[1] as ObjectRule;

interface SentMessage {
  readonly messageId: string;
  readonly value: unknown;
  readonly envelope: Envelope;
}

interface Fixture {
  readonly alice: DeviceIdentity;
  readonly bob: DeviceIdentity;
  /** Bob's keyring for room-1: two versions it created, one Alice shared; a removed user and a revoked device. */
  readonly keyringState: KeyringStateV1;
  readonly donorKeyringState: KeyringStateV1;
  /** One message under each version, sealed before the state was exported. */
  readonly messages: readonly SentMessage[];
  readonly identityState: DeviceIdentityStateV1;
  readonly donorIdentityState: DeviceIdentityStateV1;
  /** A key share Alice sent Bob's identity, and the key in it (44-character base64). */
  readonly share: RoomKeyShareV1;
  readonly sharedKey: string;
}

let f: Fixture;

beforeAll(async () => {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const messages: SentMessage[] = [];
  const keyring = RoomKeyring.create({ roomId: ROOM, policy: { maxMessagesPerVersion: 500, maxVersionAgeMs: 86_400_000, retainVersions: 10 } });
  const send = async (messageId: string): Promise<void> => {
    const value = { body: `message ${messageId}` };
    messages.push({ messageId, value, envelope: await keyring.encryptChatJson(value, { messageId }) });
  };
  await send("msg-1");
  keyring.removeMember({ userId: "mallory" });
  keyring.revokeDevice({ userId: "eve", deviceId: "tablet" });
  keyring.rotate({ reason: "member-removed", shareable: true });
  await send("msg-2");
  const aliceKeyring = RoomKeyring.create({ roomId: ROOM });
  aliceKeyring.rotate({ reason: "manual" });
  aliceKeyring.rotate({ reason: "manual" });
  const [fromAlice] = shareRoomKey({ keyring: aliceKeyring, from: alice, to: [bob.publicBundle] });
  acceptRoomKeyShare({ share: fromAlice, device: bob, senderBundle: alice.publicBundle, keyring, isRoomMember: () => true });
  await send("msg-3");
  keyring.requireRotation("manual");

  const [share] = shareRoomKey({ keyring: aliceKeyring, from: alice, to: [bob.publicBundle] }) as [RoomKeyShareV1];
  const opened = openRoomKeyShare({ share, device: bob, senderBundle: alice.publicBundle });
  const donor = await createDeviceIdentity({ userId: "carol", deviceId: "tablet" });
  f = {
    alice,
    bob,
    keyringState: keyring.exportState(),
    donorKeyringState: RoomKeyring.create({ roomId: "room-2", shareable: true }).exportState(),
    messages,
    identityState: bob.exportState(),
    donorIdentityState: donor.exportState(),
    share,
    sharedKey: await exportAesGcmKeyToBase64(opened.key),
  };
});

/** Runs `action`; it must throw (or reject with) an `E2eeError` with `code`. */
async function expectRefusal(action: () => unknown, code: E2eeErrorCode, what: string): Promise<void> {
  let outcome: unknown;
  try {
    outcome = { returned: await action() };
  } catch (error) {
    if (!E2eeError.isInstance(error)) throw new Error(`${what}: threw an untyped ${String(error)}`);
    if (error.code !== code) throw new Error(`${what}: ${error.code} instead of ${code}`);
    return;
  }
  throw new Error(`${what}: succeeded (${typeof outcome}) instead of ${code}`);
}

// ------------------------------------------------------------------------------------------------
// Keyring state

const versionId = (version: { keyVersion: number; keyId: string }): string => `${version.keyVersion}\n${version.keyId}`;

/** The state the importer must hold for a well-formed `value`: the normalisations of the module comment. */
function normalisedKeyring(value: Record<string, unknown>): KeyringStateV1 {
  const state = value as unknown as KeyringStateV1;
  const versions = new Map<string, KeyringVersionV1>();
  for (const version of state.versions) versions.set(versionId(version), version); // unique: checked before
  const devices = new Map<string, { userId: string; deviceId: string }>();
  for (const device of state.revokedDevices) if (!devices.has(`${device.userId}\n${device.deviceId}`)) devices.set(`${device.userId}\n${device.deviceId}`, device);
  return {
    ...state,
    currentKeyId: state.currentVersion === null ? null : state.currentKeyId,
    removedUsers: [...new Set(state.removedUsers)],
    revokedDevices: [...devices.values()].map(({ userId, deviceId }) => ({ userId, deviceId })),
    versions: [...versions.values()]
      .sort((a, b) => a.keyVersion - b.keyVersion || (a.keyId < b.keyId ? -1 : 1))
      .map(({ keyId, keyVersion, shareable, origin, createdAt, messageCount, key }) => ({ keyId, keyVersion, shareable, origin, createdAt, messageCount, key })),
  };
}

/** §14.1: a well-formed state is accepted as exactly itself, and its old messages open only under unchanged keys. */
function keyringExpectation(value: Record<string, unknown>, mutation: Mutation, checkUse = true): Expectation {
  const state = value as unknown as KeyringStateV1;
  if (new Set(state.versions.map(versionId)).size !== state.versions.length) return { code: "INVALID_ENVELOPE" };
  if (state.currentVersion !== null && !state.versions.some((version) => version.keyVersion === state.currentVersion && version.keyId === state.currentKeyId)) {
    return { code: "INVALID_ENVELOPE" };
  }
  const expected = normalisedKeyring(value);
  return {
    accept: async (result) => {
      const keyring = result as RoomKeyring;
      expect(keyring.exportState()).toEqual(expected);
      if (mutation.family === "text" || !checkUse) return;
      const original = new Map(f.keyringState.versions.map((version) => [versionId(version), version.key]));
      const held = new Map(expected.versions.map((version) => [versionId(version), version.key]));
      for (const message of f.messages) {
        const open = (): Promise<unknown> => keyring.decryptChatJson(message.envelope, { roomId: ROOM, messageId: message.messageId });
        const id = versionId(message.envelope);
        if (keyring.roomId !== ROOM) await expectRefusal(open, "CONTEXT_MISMATCH", message.messageId);
        else if (!held.has(id)) await expectRefusal(open, "UNKNOWN_KEY", message.messageId);
        else if (held.get(id) !== original.get(id)) await expectRefusal(open, "DECRYPTION_FAILED", message.messageId);
        else expect(await open()).toEqual(message.value);
      }
    },
  };
}

/**
 * All 8 bits of every byte of the first version's key, one bit per byte (bit `index mod 8`) of the
 * others: each flip costs an import and three decryptions, and every key takes the same path.
 */
const KEYRING_BITS: BitChoice = (path, index, length) => (path[1] === 0 ? ALL_BITS(path, index, length) : ONE_BIT(path, index, length));

function keyringConsumers(): Consumer[] {
  return [
    {
      name: "RoomKeyring.importState",
      alsoAsText: true,
      run: (input) => RoomKeyring.importState(input),
      expect: keyringExpectation,
    },
    {
      name: "loadKeyring(KeyStore)",
      families: ["field"],
      malformedSample: 4,
      // Copying 100,001 versions through the store costs about a second and adds nothing.
      skip: (mutation) => mutation.heavy === true,
      run: async (input) => {
        const store = new MemoryKeyStore();
        await store.set(`domvia-e2ee/keyring/${ROOM}`, input);
        return loadKeyring(store, ROOM);
      },
      // The same state as importState's (its old messages are checked there), except that a
      // state naming another room is refused: it is not this room's keyring.
      expect: (value, mutation) => {
        const expected = keyringExpectation(value, mutation, false);
        return "accept" in expected && value["roomId"] !== ROOM ? { code: "INVALID_ENVELOPE" } : expected;
      },
    },
  ];
}

describe("keyring state", () => {
  const suite = new MutationSuite("keyring state", KEYRING_STATE);

  it("imports the unchanged state and opens every old message with it (the fixture is sound)", async () => {
    expect(f.keyringState.versions.map((version) => version.origin)).toEqual(["created", "created", "share"]);
    const result = await suite.run(keyringConsumers(), [{ family: "field", label: "unchanged", input: f.keyringState, path: [] }]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(3);
  });

  it("refuses every malformed change of a member and accepts every well-formed one as exactly that state", { timeout: 60_000 }, async () => {
    const value = f.keyringState as unknown as Record<string, unknown>;
    const [first, second, third] = f.keyringState.versions as [KeyringVersionV1, KeyringVersionV1, KeyringVersionV1];
    const mutations = fieldMutations(value, KEYRING_SHAPE, {
      donors: [f.donorKeyringState],
      extraValues: {
        currentVersion: [first.keyVersion, second.keyVersion, null],
        currentKeyId: [first.keyId, second.keyId],
        // The same version twice with another key, and a version listed out of order.
        versions: [[first, second, third, { ...third, key: first.key }], [third, first, second]],
        removedUsers: [["mallory", "mallory"], ["a".repeat(128)]],
      },
      // §14.1 bounds the lists at 100,000; only `versions` is size-bounded (PAYLOAD_TOO_LARGE).
      overLongList: (path, _rule, current) =>
        path[0] === "removedUsers" ? [{ label: "100,001 removed users", value: Array.from({ length: 100_001 }, (_, i) => `user-${i}`), heavy: true }]
        : path[0] === "versions" ? [{ label: "100,001 versions", value: Array.from({ length: 100_001 }, () => current[0]), heavy: true }]
        : [],
    });
    const result = await suite.run(keyringConsumers(), mutations);
    expect(result.failures).toEqual([]);
    for (const member of Object.keys(value)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
    for (const member of Object.keys(first)) expect(mutations.filter((m) => m.path[0] === "versions" && m.path[2] === member).length, member).toBeGreaterThanOrEqual(3 * 10);
    expect(result.outcomes.get("accepted")).toBeGreaterThan(50);
  });

  it("accepts every flipped bit of every key as that changed key, and then opens that version's messages with DECRYPTION_FAILED", { timeout: 60_000 }, async () => {
    const value = f.keyringState as unknown as Record<string, unknown>;
    const mutations = byteMutations(value, KEYRING_SHAPE, KEYRING_BITS);
    const result = await suite.run(keyringConsumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(byteFlipCount(value, KEYRING_SHAPE, KEYRING_BITS));
    expect(result.mutations).toBe(32 * 8 + 2 * 32);
    expect(result.outcomes.get("accepted")).toBe(result.runs);
  });

  it("refuses or accepts exactly every character of the JSON text replaced or deleted, where the text still parses", { timeout: 60_000 }, async () => {
    const text = JSON.stringify(f.keyringState);
    const mutations = textMutations(text, { duplicates: { roomId: "room-2", currentVersion: null, versions: [] }, maxTextLength: KEYRING_STATE.maxTextLength });
    const result = await suite.run(keyringConsumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThanOrEqual(text.length);
  });

  it("reached every outcome the spec gives for keyring states", (context) => {
    suite.expectReached(context, ["field", "byte", "text"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE"]);
  });
});

// ------------------------------------------------------------------------------------------------
// Device identity state

/** Flips bit `index mod 8` of each byte, and every bit of the two bytes of the X25519 secret that clamping touches. */
const IDENTITY_BITS: BitChoice = (path, index, length) => (path[0] === "agreementSecretKey" && (index === 0 || index === length - 1) ? ALL_BITS(path, index, length) : ONE_BIT(path, index, length));

/** §14.2 and §9.3: a well-formed state is accepted as exactly itself, and its bundle is the one its keys give. */
function identityExpectation(value: Record<string, unknown>, mutation: Mutation, checkUse = true): Expectation {
  const state = value as unknown as DeviceIdentityStateV1;
  return {
    accept: async (result) => {
      const device = result as DeviceIdentity;
      expect(device.exportState()).toEqual({ ...state });
      expect(device.publicBundle).toEqual(bundleOfState(state));
      if (mutation.family === "text" || !checkUse) return;
      // The key share sent to the original identity (§10.7): addressee first, then the agreement key inside the signed info.
      const open = (): OpenedRoomKeyShare => openRoomKeyShare({ share: f.share, device, senderBundle: f.alice.publicBundle });
      const sameAgreementKey = toBase64url(x25519PublicKey(fromBase64url(state.agreementSecretKey))) === f.bob.publicBundle.agreementKey;
      if (state.userId !== "bob" || state.deviceId !== "laptop") await expectRefusal(open, "SHARE_MISADDRESSED", "old share");
      else if (!sameAgreementKey) await expectRefusal(open, "BAD_SIGNATURE", "old share");
      else expect(await exportAesGcmKeyToBase64(open().key)).toBe(f.sharedKey);
    },
  };
}

function identityConsumers(): Consumer[] {
  return [
    {
      name: "DeviceIdentity.importState",
      alsoAsText: true,
      run: (input) => DeviceIdentity.importState(input),
      expect: identityExpectation,
    },
    {
      name: "loadDeviceIdentity(KeyStore)",
      families: ["field"],
      malformedSample: 4,
      run: async (input) => {
        const store = new MemoryKeyStore();
        await store.set("domvia-e2ee/device", input);
        return loadDeviceIdentity(store);
      },
      expect: (value, mutation) => identityExpectation(value, mutation, false),
    },
  ];
}

describe("device identity state", () => {
  const suite = new MutationSuite("device identity state", DEVICE_IDENTITY_STATE);

  it("imports the unchanged state and opens the share sent to it (the fixture is sound)", async () => {
    const result = await suite.run(identityConsumers(), [{ family: "field", label: "unchanged", input: f.identityState, path: [] }]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(3);
  });

  it("refuses every malformed change of a member and accepts every well-formed one as exactly that identity", { timeout: 60_000 }, async () => {
    const value = f.identityState as unknown as Record<string, unknown>;
    const mutations = fieldMutations(value, IDENTITY_SHAPE, { donors: [f.donorIdentityState] });
    const result = await suite.run(identityConsumers(), mutations);
    expect(result.failures).toEqual([]);
    for (const member of Object.keys(value)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
  });

  it("accepts every flipped bit of the secret keys as that identity, whose old share then fails (or opens, for the clamped bits)", { timeout: 60_000 }, async () => {
    const value = f.identityState as unknown as Record<string, unknown>;
    const mutations = byteMutations(value, IDENTITY_SHAPE, IDENTITY_BITS);
    const result = await suite.run(identityConsumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(byteFlipCount(value, IDENTITY_SHAPE, IDENTITY_BITS));
    expect(result.mutations).toBe(64 + 2 * 7);
    expect(result.outcomes.get("accepted")).toBe(result.runs);
    // Clamping ignores bits 0–2 of the first byte and bits 6–7 of the last (RFC 7748 §5): five flips keep the key pair.
    const unchangedKeyPair = mutations.filter(
      (m) => m.path[0] === "agreementSecretKey" && toBase64url(x25519PublicKey(fromBase64url((m.input as DeviceIdentityStateV1).agreementSecretKey))) === f.bob.publicBundle.agreementKey,
    );
    expect(unchangedKeyPair.map((m) => m.label)).toEqual([
      "agreementSecretKey: byte 0 bit 0",
      "agreementSecretKey: byte 0 bit 1",
      "agreementSecretKey: byte 0 bit 2",
      "agreementSecretKey: byte 31 bit 6",
      "agreementSecretKey: byte 31 bit 7",
    ]);
  });

  it("refuses or accepts exactly every character of the JSON text replaced or deleted, where the text still parses", { timeout: 60_000 }, async () => {
    const text = JSON.stringify(f.identityState);
    const mutations = textMutations(text, { duplicates: { userId: "carol", agreementSecretKey: f.donorIdentityState.agreementSecretKey }, maxTextLength: DEVICE_IDENTITY_STATE.maxTextLength });
    const result = await suite.run(identityConsumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThanOrEqual(text.length);
  });

  it("reached every outcome the spec gives for identity states", (context) => {
    suite.expectReached(context, ["field", "byte", "text"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE"]);
  });
});
