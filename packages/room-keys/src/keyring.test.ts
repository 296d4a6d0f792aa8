import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { E2eeError, type KeyringStateV1 } from "@domvia/e2ee-envelope";
import { createDeviceIdentity } from "@domvia/e2ee-crypto";
import { describe, expect, it } from "vitest";
import { RoomKeyring, DEFAULT_ROTATION_POLICY, acceptRoomKeyShare, createKeyBackup, createRecoveryKey, restoreKeyBackup, shareRoomKey } from "./index";
import { resolvePolicy } from "./policy";
import { secretMarker } from "../../../test/support/secret-hygiene";

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/** The error `action` threw (sync or async); fails the test if it returned instead. */
async function failure(action: () => unknown): Promise<unknown> {
  try {
    const value = await action();
    return expect.fail(`expected a failure, got ${typeof value}`);
  } catch (error) {
    return error;
  }
}

async function expectCode(action: () => unknown, code: Parameters<typeof E2eeError.isInstance>[1]): Promise<void> {
  const error = await failure(action);
  expect(E2eeError.isInstance(error, code), `expected ${String(code)}, got ${String(error)}`).toBe(true);
}

const context = (messageId: string) => ({ roomId: "room-1", messageId });

describe("DEFAULT_ROTATION_POLICY", () => {
  it("is frozen with the documented values", () => {
    expect(DEFAULT_ROTATION_POLICY).toEqual({ maxMessagesPerVersion: 1000, maxVersionAgeMs: WEEK_MS, retainVersions: null });
    expect(Object.isFrozen(DEFAULT_ROTATION_POLICY)).toBe(true);
    expect(() => {
      (DEFAULT_ROTATION_POLICY as { maxMessagesPerVersion: number }).maxMessagesPerVersion = 1;
    }).toThrow(TypeError);
    expect(DEFAULT_ROTATION_POLICY.maxMessagesPerVersion).toBe(1000);
  });

  it("is documented where it is defined and in the README", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const source = readFileSync(join(here, "policy.ts"), "utf8");
    expect(source).toContain("`maxMessagesPerVersion: 1000`");
    expect(source).toContain("`maxVersionAgeMs: 7 days`");
    expect(source).toContain("`retainVersions: null`");
    const readme = readFileSync(join(here, "..", "..", "..", "README.md"), "utf8");
    expect(readme).toContain("1,000 messages or 7 days per version");
  });

  it("is the policy of a keyring created without overrides, and each keyring's policy is frozen", () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    expect(keyring.policy).toEqual(DEFAULT_ROTATION_POLICY);
    expect(Object.isFrozen(keyring.policy)).toBe(true);
    const custom = RoomKeyring.create({ roomId: "room-1", policy: { retainVersions: 3 } });
    expect(custom.policy).toEqual({ ...DEFAULT_ROTATION_POLICY, retainVersions: 3 });
    expect(Object.isFrozen(custom.policy)).toBe(true);
    expect(DEFAULT_ROTATION_POLICY.retainVersions).toBeNull();
  });
});

describe("resolvePolicy", () => {
  it("applies overrides to the defaults", () => {
    expect(resolvePolicy(undefined)).toEqual(DEFAULT_ROTATION_POLICY);
    expect(resolvePolicy({ maxMessagesPerVersion: 5, maxVersionAgeMs: 60_000, retainVersions: 1 })).toEqual({
      maxMessagesPerVersion: 5,
      maxVersionAgeMs: 60_000,
      retainVersions: 1,
    });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])("rejects maxMessagesPerVersion %s with a RangeError", (value) => {
    expect(() => resolvePolicy({ maxMessagesPerVersion: value })).toThrow(
      new RangeError(`"policy.maxMessagesPerVersion" expected a positive integer, got ${String(value)}`),
    );
    expect(() => RoomKeyring.create({ roomId: "room-1", policy: { maxMessagesPerVersion: value } })).toThrow(RangeError);
    expect(() => RoomKeyring.empty({ roomId: "room-1", policy: { maxMessagesPerVersion: value } })).toThrow(RangeError);
  });

  it.each([0, -5, 0.5, Number.NaN])("rejects maxVersionAgeMs %s with a RangeError", (value) => {
    expect(() => resolvePolicy({ maxVersionAgeMs: value })).toThrow(
      new RangeError(`"policy.maxVersionAgeMs" expected a positive integer, got ${String(value)}`),
    );
  });

  it.each([0, -1, 2.5, Number.NaN])("rejects retainVersions %s with a RangeError", (value) => {
    expect(() => resolvePolicy({ retainVersions: value })).toThrow(
      new RangeError(`"policy.retainVersions" expected a positive integer or null, got ${String(value)}`),
    );
  });

  it("rejects a limit of the wrong type with a RangeError", () => {
    expect(() => resolvePolicy({ maxMessagesPerVersion: "10" as unknown as number })).toThrow(RangeError);
    expect(() => resolvePolicy({ retainVersions: "2" as unknown as number })).toThrow(RangeError);
  });
});

describe("needsRotation", () => {
  it("is null for a fresh keyring and for an empty one", () => {
    expect(RoomKeyring.create({ roomId: "room-1" }).needsRotation()).toBeNull();
    expect(RoomKeyring.empty({ roomId: "room-1" }).needsRotation()).toBeNull();
  });

  it("advises max-messages after the policy's number of encryptions", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1", policy: { maxMessagesPerVersion: 3 } });
    for (let index = 1; index <= 2; index++) {
      await keyring.encryptChatJson({ index }, { messageId: `msg-${index}` });
      expect(keyring.needsRotation()).toBeNull();
    }
    await keyring.encryptChatJson({ index: 3 }, { messageId: "msg-3" });
    expect(keyring.needsRotation()).toBe("max-messages");
    expect(keyring.versions[0]!.messageCount).toBe(3);
    // Advice only: encryption goes on.
    await keyring.encryptChatJson({ index: 4 }, { messageId: "msg-4" });
    expect(keyring.versions[0]!.messageCount).toBe(4);
    keyring.rotate({ reason: "max-messages" });
    expect(keyring.needsRotation()).toBeNull();
  });

  it("advises max-age once the current version is as old as the policy allows", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1", policy: { maxVersionAgeMs: 60_000 } });
    const { createdAt } = keyring.versions[0]!;
    expect(keyring.needsRotation(createdAt + 59_999)).toBeNull();
    expect(keyring.needsRotation(createdAt + 60_000)).toBe("max-age");
    expect(RoomKeyring.create({ roomId: "room-1" }).needsRotation(createdAt + WEEK_MS + 1000)).toBe("max-age");
  });

  it("requires member-removed, device-revoked and manual until the next rotation", () => {
    const cases = [
      ["member-removed", (keyring: RoomKeyring) => keyring.removeMember({ userId: "carol" })],
      ["device-revoked", (keyring: RoomKeyring) => keyring.revokeDevice({ userId: "alice", deviceId: "phone" })],
      ["manual", (keyring: RoomKeyring) => keyring.requireRotation("manual")],
      ["member-removed", (keyring: RoomKeyring) => keyring.requireRotation("member-removed")],
      ["device-revoked", (keyring: RoomKeyring) => keyring.requireRotation("device-revoked")],
    ] as const;
    for (const [reason, change] of cases) {
      const keyring = RoomKeyring.create({ roomId: "room-1", policy: { maxVersionAgeMs: 1 } });
      change(keyring);
      // A required reason wins over the advice, whatever the clock says.
      expect(keyring.needsRotation(Date.now() + WEEK_MS)).toBe(reason);
      keyring.rotate({ reason });
      expect(keyring.needsRotation(keyring.versions[1]!.createdAt)).toBeNull();
    }
  });

  it("requires a rotation of a keyring restored from a backup", async () => {
    const recoveryKey = await createRecoveryKey();
    const backup = createKeyBackup({ keyrings: [RoomKeyring.create({ roomId: "room-1" })], recoveryKey });
    const [restored] = await restoreKeyBackup({ backup, recoveryKey });
    expect(restored!.needsRotation()).toBe("restored");
    expect(restored!.versions[0]!.origin).toBe("backup");
    restored!.rotate({ reason: "manual" });
    expect(restored!.needsRotation()).toBeNull();
  });
});

describe("encryptChatJson", () => {
  it("refuses ROTATION_REQUIRED for an empty keyring", async () => {
    await expectCode(() => RoomKeyring.empty({ roomId: "room-1" }).encryptChatJson({ body: "x" }, { messageId: "msg-1" }), "ROTATION_REQUIRED");
  });

  it.each(["member-removed", "device-revoked", "manual"] as const)("refuses ROTATION_REQUIRED while %s is pending, and counts nothing", async (reason) => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    keyring.requireRotation(reason);
    await expectCode(() => keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" }), "ROTATION_REQUIRED");
    expect(keyring.versions[0]!.messageCount).toBe(0);
    keyring.rotate({ reason });
    await expect(keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" })).resolves.toMatchObject({ keyVersion: 2 });
  });

  it("refuses ROTATION_REQUIRED for a version restored from a backup", async () => {
    const recoveryKey = await createRecoveryKey();
    const backup = createKeyBackup({ keyrings: [RoomKeyring.create({ roomId: "room-1" })], recoveryKey });
    const [restored] = await restoreKeyBackup({ backup, recoveryKey });
    await expectCode(() => restored!.encryptChatJson({ body: "x" }, { messageId: "msg-1" }), "ROTATION_REQUIRED");
  });

  it("keeps encrypting when only max-messages or max-age is advised", async () => {
    const counted = RoomKeyring.create({ roomId: "room-1", policy: { maxMessagesPerVersion: 1 } });
    await counted.encryptChatJson({ n: 1 }, { messageId: "msg-1" });
    expect(counted.needsRotation()).toBe("max-messages");
    await expect(counted.encryptChatJson({ n: 2 }, { messageId: "msg-2" })).resolves.toMatchObject({ keyVersion: 1 });

    const state = RoomKeyring.create({ roomId: "room-1" }).exportState();
    const old = RoomKeyring.importState({ ...state, versions: state.versions.map((version) => ({ ...version, createdAt: 0 })) });
    expect(old.needsRotation()).toBe("max-age");
    await expect(old.encryptChatJson({ n: 1 }, { messageId: "msg-1" })).resolves.toMatchObject({ keyVersion: 1 });
  });

  it("fills in the current key id and version", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    keyring.rotate({ reason: "manual" });
    const envelope = await keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    expect(envelope).toMatchObject({ roomId: "room-1", messageId: "msg-1", keyId: keyring.currentKeyId, keyVersion: 2 });
  });
});

describe("rotate", () => {
  it("creates the next version, keeps the old ones, and never reuses a key id", () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    expect(keyring.rotate({ reason: "manual" })).toBe(2);
    expect(keyring.rotate({ reason: "manual", shareable: true })).toBe(3);
    expect(keyring.versions.map(({ keyVersion, shareable, origin, messageCount }) => ({ keyVersion, shareable, origin, messageCount }))).toEqual([
      { keyVersion: 1, shareable: false, origin: "created", messageCount: 0 },
      { keyVersion: 2, shareable: false, origin: "created", messageCount: 0 },
      { keyVersion: 3, shareable: true, origin: "created", messageCount: 0 },
    ]);
    const keyIds = keyring.versions.map((info) => info.keyId);
    expect(new Set(keyIds).size).toBe(3);
    for (const [index, keyId] of keyIds.entries()) expect(keyId).toMatch(new RegExp(`^v${index + 1}-[A-Za-z0-9_-]{8}$`));
    expect(keyring.currentVersion).toBe(3);
    expect(keyring.currentKeyId).toBe(keyIds[2]);
  });

  it("makes version 1 shareable only when asked", () => {
    expect(RoomKeyring.create({ roomId: "room-1" }).versions[0]!.shareable).toBe(false);
    expect(RoomKeyring.create({ roomId: "room-1", shareable: true }).versions[0]!.shareable).toBe(true);
  });
});

describe("retention", () => {
  it("keeps the newest two versions with retainVersions: 2; older messages then fail UNKNOWN_KEY", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1", policy: { retainVersions: 2 } });
    const envelopes = [];
    for (let version = 1; version <= 4; version++) {
      envelopes.push(await keyring.encryptChatJson({ version }, { messageId: `msg-${version}` }));
      if (version < 4) keyring.rotate({ reason: "manual" });
    }
    expect(keyring.versions.map((info) => info.keyVersion)).toEqual([3, 4]);
    expect(keyring.has(1)).toBe(false);
    expect(keyring.has(2)).toBe(false);
    for (const [index, envelope] of envelopes.entries()) {
      const version = index + 1;
      if (version >= 3) {
        await expect(keyring.decryptChatJson(envelope, context(`msg-${version}`))).resolves.toEqual({ version });
      } else {
        const error = await failure(() => keyring.decryptChatJson(envelope, context(`msg-${version}`)));
        expect(E2eeError.isInstance(error, "UNKNOWN_KEY")).toBe(true);
        expect(error).toMatchObject({ keyVersion: version });
      }
    }
  });

  it("never drops the current version, even with retainVersions: 1", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1", policy: { retainVersions: 1 } });
    for (let round = 0; round < 3; round++) keyring.rotate({ reason: "manual" });
    expect(keyring.versions.map((info) => info.keyVersion)).toEqual([4]);
    expect(keyring.currentVersion).toBe(4);
    const envelope = await keyring.encryptChatJson({ ok: true }, { messageId: "msg-1" });
    await expect(keyring.decryptChatJson(envelope, context("msg-1"))).resolves.toEqual({ ok: true });
  });

  it("applies to versions that arrive in shares", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const sender = RoomKeyring.create({ roomId: "room-1" });
    const receiver = RoomKeyring.empty({ roomId: "room-1", policy: { retainVersions: 2 } });
    for (let version = 1; version <= 3; version++) {
      if (version > 1) sender.rotate({ reason: "manual" });
      const [share] = shareRoomKey({ keyring: sender, from: alice, to: [bob.publicBundle] });
      acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: receiver });
    }
    expect(receiver.versions.map((info) => info.keyVersion)).toEqual([2, 3]);
    expect(receiver.currentVersion).toBe(3);
  });
});

describe("decryptChatJson", () => {
  it("opens what it encrypted, under any version it still holds", async () => {
    // Markers: the secret-hygiene check fails the run if either reaches an error, log or dump.
    const one = secretMarker("keyring one");
    const two = secretMarker("keyring two");
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const first = await keyring.encryptChatJson({ body: one }, { messageId: "msg-1" });
    keyring.rotate({ reason: "manual" });
    const second = await keyring.encryptChatJson({ body: two }, { messageId: "msg-2" });
    await expect(keyring.decryptChatJson(first, context("msg-1"))).resolves.toEqual({ body: one });
    await expect(keyring.decryptChatMessage(second, context("msg-2"))).resolves.toMatchObject({
      value: { body: two },
      keyVersion: 2,
      keyId: keyring.currentKeyId,
      sender: null,
    });
  });

  it("refuses another roomId with CONTEXT_MISMATCH before any cryptography", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const envelope = await keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    await expectCode(() => keyring.decryptChatJson(envelope, { roomId: "room-2", messageId: "msg-1" }), "CONTEXT_MISMATCH");
    await expectCode(() => keyring.decryptChatJson("not even an envelope", { roomId: "room-2", messageId: "msg-1" }), "CONTEXT_MISMATCH");
  });

  it("refuses an envelope of another room that arrived on this room's channel", async () => {
    const other = RoomKeyring.create({ roomId: "room-2" });
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const envelope = await other.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    await expectCode(() => keyring.decryptChatJson(envelope, context("msg-1")), "CONTEXT_MISMATCH");
  });

  it("fails UNKNOWN_KEY, with the version to ask for, when it lacks the version", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const stranger = RoomKeyring.create({ roomId: "room-1" });
    const envelope = await stranger.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    const error = await failure(() => keyring.decryptChatJson(envelope, context("msg-1")));
    expect(E2eeError.isInstance(error, "UNKNOWN_KEY")).toBe(true);
    expect(error).toMatchObject({ roomId: "room-1", keyId: stranger.currentKeyId, keyVersion: 1 });
  });
});

describe("has", () => {
  it("answers by version, and by version and key id", () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const keyId = keyring.currentKeyId!;
    expect(keyring.has(1)).toBe(true);
    expect(keyring.has(1, keyId)).toBe(true);
    expect(keyring.has(1, "v1-other")).toBe(false);
    expect(keyring.has(2)).toBe(false);
    expect(keyring.has(2, keyId)).toBe(false);
    expect(RoomKeyring.empty({ roomId: "room-1" }).has(1)).toBe(false);
  });
});

describe("versions", () => {
  it("lists public facts only, oldest first, frozen", async () => {
    const before = Date.now();
    const keyring = RoomKeyring.create({ roomId: "room-1", shareable: true });
    await keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    keyring.rotate({ reason: "manual" });
    const versions = keyring.versions;
    expect(versions.map((info) => Object.keys(info).sort())).toEqual([
      ["createdAt", "keyId", "keyVersion", "messageCount", "origin", "shareable"],
      ["createdAt", "keyId", "keyVersion", "messageCount", "origin", "shareable"],
    ]);
    expect(versions.map(({ keyVersion, shareable, origin, messageCount }) => ({ keyVersion, shareable, origin, messageCount }))).toEqual([
      { keyVersion: 1, shareable: true, origin: "created", messageCount: 1 },
      { keyVersion: 2, shareable: false, origin: "created", messageCount: 0 },
    ]);
    for (const info of versions) {
      expect(Object.isFrozen(info)).toBe(true);
      expect(info.createdAt).toBeGreaterThanOrEqual(before);
      expect(info.createdAt).toBeLessThanOrEqual(Date.now());
    }
  });

  it("is empty, with no current version, for an empty keyring", () => {
    const keyring = RoomKeyring.empty({ roomId: "room-1" });
    expect(keyring.versions).toEqual([]);
    expect(keyring.currentVersion).toBeNull();
    expect(keyring.currentKeyId).toBeNull();
  });
});

describe("redaction", () => {
  it("never shows key material in JSON, String() or util.inspect", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    keyring.rotate({ reason: "manual" });
    await keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    const keys = keyring.exportState().versions.map((version) => version.key);
    expect(keys).toHaveLength(2);
    const shown = [JSON.stringify(keyring), String(keyring), `${keyring}`, inspect(keyring), inspect({ nested: keyring }, { depth: 10, showHidden: true })];
    for (const text of shown) for (const key of keys) expect(text).not.toContain(key);
  });

  it("pins the redacted forms", () => {
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    expect(String(keyring)).toBe("RoomKeyring(room-1, current version 1)");
    expect(inspect(keyring)).toBe("RoomKeyring(room-1, current version 1)");
    expect(String(RoomKeyring.empty({ roomId: "room-2" }))).toBe("RoomKeyring(room-2, current version none)");
    const json = JSON.parse(JSON.stringify(keyring)) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(["currentVersion", "roomId", "versions"]);
    expect(json).toEqual({ roomId: "room-1", currentVersion: 1, versions: JSON.parse(JSON.stringify(keyring.versions)) });
    expect(Object.keys(keyring)).toEqual(["roomId", "policy"]);
  });
});

describe("exportState and importState", () => {
  it("round-trips through JSON: same state, same keys", async () => {
    const keyring = RoomKeyring.create({ roomId: "room-1", policy: { maxMessagesPerVersion: 10, retainVersions: 5 } });
    const envelope = await keyring.encryptChatJson({ body: "x" }, { messageId: "msg-1" });
    keyring.rotate({ reason: "manual", shareable: true });
    keyring.removeMember({ userId: "carol" });
    keyring.revokeDevice({ userId: "alice", deviceId: "phone" });
    const state = keyring.exportState();
    const imported = RoomKeyring.importState(JSON.parse(JSON.stringify(state)));
    expect(imported.exportState()).toEqual(state);
    expect(imported.policy).toEqual(keyring.policy);
    expect(imported.needsRotation()).toBe("device-revoked");
    expect(imported.isRevoked("carol", "any-device")).toBe(true);
    expect(imported.isRevoked("alice", "phone")).toBe(true);
    expect(imported.isRevoked("alice", "laptop")).toBe(false);
    await expect(imported.decryptChatJson(envelope, context("msg-1"))).resolves.toEqual({ body: "x" });
  });

  it("exports the state of an empty keyring and imports it back", () => {
    const state = RoomKeyring.empty({ roomId: "room-1" }).exportState();
    expect(state).toMatchObject({ v: 1, type: "room-keyring", currentVersion: null, currentKeyId: null, versions: [] });
    expect(RoomKeyring.importState(state).currentVersion).toBeNull();
  });

  const valid = (): KeyringStateV1 => RoomKeyring.create({ roomId: "room-1" }).exportState();

  it.each<[string, (state: KeyringStateV1) => unknown, string]>([
    ["a state that is not an object", () => 42, "INVALID_ENVELOPE"],
    ["JSON text that does not parse", () => "{", "INVALID_ENVELOPE"],
    ["another format version", (state) => ({ ...state, v: 2 }), "UNSUPPORTED_VERSION"],
    ["another object type", (state) => ({ ...state, type: "device-identity" }), "INVALID_ENVELOPE"],
    ["an unknown field", (state) => ({ ...state, extra: true }), "INVALID_ENVELOPE"],
    ["a missing field", ({ removedUsers: _removed, ...rest }) => rest, "INVALID_ENVELOPE"],
    ["an invalid room id", (state) => ({ ...state, roomId: "room 1" }), "INVALID_ENVELOPE"],
    ["a key that is not 32 bytes", (state) => ({ ...state, versions: [{ ...state.versions[0]!, key: "AAAA" }] }), "INVALID_ENVELOPE"],
    ["a negative message count", (state) => ({ ...state, versions: [{ ...state.versions[0]!, messageCount: -1 }] }), "INVALID_ENVELOPE"],
    ["an unknown origin", (state) => ({ ...state, versions: [{ ...state.versions[0]!, origin: "stolen" }] }), "INVALID_ENVELOPE"],
    ["an invalid policy", (state) => ({ ...state, policy: { ...state.policy, maxMessagesPerVersion: 0 } }), "INVALID_ENVELOPE"],
    ["an unknown rotation reason", (state) => ({ ...state, rotationRequired: "bored" }), "INVALID_ENVELOPE"],
    ["a current version missing from its versions", (state) => ({ ...state, currentVersion: 2 }), "INVALID_ENVELOPE"],
    ["a current key id missing from its versions", (state) => ({ ...state, currentKeyId: "v1-missing" }), "INVALID_ENVELOPE"],
    ["a current version without a key id", (state) => ({ ...state, currentKeyId: null }), "INVALID_ENVELOPE"],
    ["one version twice, with another key", (state) => ({ ...state, versions: [state.versions[0]!, { ...state.versions[0]!, key: `${"B".repeat(42)}A` }] }), "INVALID_ENVELOPE"],
    ["one version twice, identical", (state) => ({ ...state, versions: [state.versions[0]!, state.versions[0]!] }), "INVALID_ENVELOPE"],
  ])("rejects %s", async (_name, change, code) => {
    await expectCode(() => RoomKeyring.importState(change(valid())), code as "INVALID_ENVELOPE");
  });
});

describe("RoomKeyring.destroy", () => {
  it("destroys every version held: encrypt, decrypt, export, share and back up throw INVALID_KEY", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const old = await keyring.encryptChatJson({ body: "before" }, { messageId: "msg-1" });
    keyring.rotate({ reason: "manual" });
    const recoveryKey = await createRecoveryKey();
    expect(keyring.destroyed).toBe(false);
    keyring.destroy();
    expect(keyring.destroyed).toBe(true);
    await expectCode(() => keyring.encryptChatJson({ body: "after" }, { messageId: "msg-2" }), "INVALID_KEY");
    await expectCode(() => keyring.decryptChatJson(old, context("msg-1")), "INVALID_KEY");
    await expectCode(() => keyring.exportState(), "INVALID_KEY");
    await expectCode(() => shareRoomKey({ keyring, from: alice, to: [bob.publicBundle] }), "INVALID_KEY");
    await expectCode(() => createKeyBackup({ keyrings: [keyring], recoveryKey }), "INVALID_KEY");
    // The facts stay, and nothing prints a key.
    expect(keyring.versions.map((info) => info.keyVersion)).toEqual([1, 2]);
    expect(String(keyring)).toBe("RoomKeyring(room-1, current version 2)");
  });

  it("refuses new versions afterwards, rotated or received, and is idempotent", async () => {
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const sender = RoomKeyring.create({ roomId: "room-1" });
    const receiver = RoomKeyring.empty({ roomId: "room-1" });
    const [share] = shareRoomKey({ keyring: sender, from: alice, to: [bob.publicBundle] });
    receiver.destroy();
    receiver.destroy();
    await expectCode(() => receiver.rotate({ reason: "manual" }), "INVALID_KEY");
    await expectCode(() => acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: receiver }), "INVALID_KEY");
    expect(receiver.versions).toEqual([]);
    // The sender's keyring, and the state exported before, are untouched.
    const state = sender.exportState();
    sender.destroy();
    const restored = RoomKeyring.importState(state);
    const envelope = await restored.encryptChatJson({ body: "again" }, { messageId: "msg-3" });
    expect(await restored.decryptChatJson(envelope, context("msg-3"))).toEqual({ body: "again" });
  });
});
