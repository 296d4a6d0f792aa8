/**
 * Property tests for the key share and key backup formats: random contents round-trip, any
 * single-character or number change is refused with an `E2eeError` and changes nothing, and the
 * readers never throw anything but an `E2eeError` on arbitrary input.
 */
import { E2eeError, type KeyringStateV1, type RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, createRecoveryKey, type DeviceIdentity, type RecoveryKey } from "@domvia/e2ee-crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { RoomKeyring, acceptRoomKeyShare, addToKeyBackup, compactKeyBackup, createKeyBackup, restoreKeyBackup, shareRoomKey } from "./index";

const id = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/);
const keyVersion = fc.integer({ min: 1, max: 2_147_483_647 });
const keyBytes = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString("base64url"));
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** A replacement character: mostly from the base64url alphabet (to reach the deeper checks), sometimes anything. */
const replacementCharacter = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...BASE64URL) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: "binary" }) },
);

interface VersionSpec {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly key: string;
  readonly shareable: boolean;
  readonly createdAt: number;
}

/** A keyring holding exactly `versions`, the highest one current, built through importState. */
function keyringWith(roomId: string, versions: readonly VersionSpec[]): RoomKeyring {
  const sorted = [...versions].sort((a, b) => a.keyVersion - b.keyVersion);
  const current = sorted.at(-1)!;
  const state: KeyringStateV1 = {
    v: 1,
    type: "room-keyring",
    roomId,
    policy: { maxMessagesPerVersion: 1000, maxVersionAgeMs: 1000, retainVersions: null },
    rotationRequired: null,
    currentVersion: current.keyVersion,
    currentKeyId: current.keyId,
    removedUsers: [],
    revokedDevices: [],
    versions: sorted.map((version) => ({ ...version, origin: "created", messageCount: 0 })),
  };
  return RoomKeyring.importState(state);
}

/** Everything a keyring holds, keys included. */
const snapshot = (keyring: RoomKeyring): string => JSON.stringify(keyring.exportState());

/** Replaces the character at `position` (modulo the length) with `replacement`, or the next alphabet letter if equal. */
function replaceCharacter(text: string, position: number, replacement: string): string {
  const index = position % text.length;
  const original = text[index]!;
  const next = replacement !== original ? replacement : BASE64URL[(BASE64URL.indexOf(original) + 1) % BASE64URL.length]!;
  return text.slice(0, index) + (next === original ? "~" : next) + text.slice(index + 1);
}

/** Runs `action`; the result must be a thrown (or rejected) E2eeError. */
async function expectE2eeError(action: () => unknown): Promise<void> {
  let outcome: { failed: false; value: unknown } | { failed: true; error: unknown };
  try {
    outcome = { failed: false, value: await action() };
  } catch (error) {
    outcome = { failed: true, error };
  }
  if (!outcome.failed) expect.fail(`expected an E2eeError, but it returned ${typeof outcome.value}`);
  if (!E2eeError.isInstance(outcome.error)) expect.fail(`expected an E2eeError, got ${String(outcome.error)}`);
}

let alice: DeviceIdentity;
let bob: DeviceIdentity;
let recoveryKey: RecoveryKey;

beforeAll(async () => {
  alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  recoveryKey = await createRecoveryKey();
});

describe("room key shares", () => {
  it("round-trip for any room, key id, version and shareable flag", async () => {
    await fc.assert(
      fc.asyncProperty(id, id, keyVersion, fc.boolean(), keyBytes, async (roomId, keyId, version, shareable, key) => {
        const sender = keyringWith(roomId, [{ keyId, keyVersion: version, key, shareable, createdAt: 0 }]);
        const [share] = shareRoomKey({ keyring: sender, from: alice, to: [bob.publicBundle] });
        expect(share).toMatchObject({ roomId, keyId, keyVersion: version, recipientDeviceId: "laptop", senderDeviceId: "phone" });
        const receiver = RoomKeyring.empty({ roomId });
        const accepted = acceptRoomKeyShare({ isRoomMember: () => true, share: JSON.stringify(share), device: bob, senderBundle: alice.publicBundle, keyring: receiver });
        expect(accepted).toEqual({ keyId, keyVersion: version, shareable, becameCurrent: true, sender: { userId: "alice", deviceId: "phone" } });
        const [received] = receiver.exportState().versions;
        expect(received).toMatchObject({ keyId, keyVersion: version, key, shareable, origin: "share" });
      }),
      { numRuns: 25 },
    );
  });

  describe("any change", () => {
    let share: RoomKeyShareV1;
    /** Bob's keyring, already holding version 1; the share carries version 2. */
    let receiver: RoomKeyring;

    beforeAll(() => {
      const sender = RoomKeyring.create({ roomId: "room-1" });
      receiver = RoomKeyring.empty({ roomId: "room-1" });
      const [first] = shareRoomKey({ keyring: sender, from: alice, to: [bob.publicBundle] });
      acceptRoomKeyShare({ isRoomMember: () => true, share: first, device: bob, senderBundle: alice.publicBundle, keyring: receiver });
      sender.rotate({ reason: "manual" });
      [share] = shareRoomKey({ keyring: sender, from: alice, to: [bob.publicBundle] }) as [RoomKeyShareV1];
    });

    const STRING_FIELDS = ["type", "roomId", "keyId", "senderUserId", "senderDeviceId", "recipientUserId", "recipientDeviceId", "enc", "ciphertext", "signature"] as const;
    const NUMBER_FIELDS = ["v", "kem", "kdf", "aead", "keyVersion"] as const;

    it("of one character of any string field is refused with an E2eeError and leaves the keyring unchanged", async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...STRING_FIELDS), fc.nat(), replacementCharacter, async (field, position, replacement) => {
          const tampered = { ...share, [field]: replaceCharacter(share[field], position, replacement) };
          const before = snapshot(receiver);
          await expectE2eeError(() => acceptRoomKeyShare({ isRoomMember: () => true, share: tampered, device: bob, senderBundle: alice.publicBundle, keyring: receiver }));
          expect(snapshot(receiver)).toBe(before);
        }),
        { numRuns: 50 },
      );
    });

    it("of any number field is refused with an E2eeError and leaves the keyring unchanged", async () => {
      const change = fc.oneof(
        fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((delta) => delta !== 0).map((delta) => (value: number) => value + delta),
        fc.integer().map((other) => (value: number) => (other === value ? value + 1 : other)),
        fc.constantFrom<(value: number) => unknown>((value) => value + 0.5, (value) => -value, (value) => String(value), () => null, (value) => value * 2 ** 31),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...NUMBER_FIELDS), change, async (field, changeValue) => {
          const tampered = { ...share, [field]: changeValue(share[field]) };
          fc.pre(tampered[field] !== share[field]);
          const before = snapshot(receiver);
          await expectE2eeError(() => acceptRoomKeyShare({ isRoomMember: () => true, share: tampered, device: bob, senderBundle: alice.publicBundle, keyring: receiver }));
          expect(snapshot(receiver)).toBe(before);
        }),
        { numRuns: 50 },
      );
    });

    it("leaves the genuine share acceptable, so the refusals above were not a broken fixture", () => {
      const copy = RoomKeyring.importState(receiver.exportState());
      expect(acceptRoomKeyShare({ isRoomMember: () => true, share, device: bob, senderBundle: alice.publicBundle, keyring: copy })).toMatchObject({ keyVersion: 2, becameCurrent: true });
    });
  });

  it("are read by a parser that throws only E2eeErrors on arbitrary input", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.json(), fc.anything()), async (input) => {
        const keyring = RoomKeyring.empty({ roomId: "room-1" });
        await expectE2eeError(() => acceptRoomKeyShare({ isRoomMember: () => true, share: input, device: bob, senderBundle: alice.publicBundle, keyring }));
        expect(keyring.versions).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("key backups", () => {
  /** Up to three rooms with up to four versions each. */
  const rooms = fc.uniqueArray(
    fc.record({
      roomId: id,
      versions: fc.uniqueArray(
        fc.record({ keyId: id, keyVersion, key: keyBytes, shareable: fc.boolean(), createdAt: fc.integer({ min: 0, max: 2 ** 48 }) }),
        { minLength: 1, maxLength: 4, selector: (version) => version.keyVersion },
      ),
    }),
    { minLength: 1, maxLength: 3, selector: (room) => room.roomId },
  );

  it("round-trip any set of keys through JSON text", async () => {
    await fc.assert(
      fc.asyncProperty(rooms, async (generated) => {
        const keyrings = generated.map(({ roomId, versions }) => keyringWith(roomId, versions));
        const text = JSON.stringify(createKeyBackup({ keyrings, recoveryKey: { publicKey: recoveryKey.publicKey } }));
        const restored = await restoreKeyBackup({ backup: text, recoveryCode: recoveryKey.code });
        expect(restored.map((keyring) => keyring.roomId).sort()).toEqual(generated.map((room) => room.roomId).sort());
        for (const { roomId, versions } of generated) {
          const keyring = restored.find((candidate) => candidate.roomId === roomId)!;
          const expected = [...versions].sort((a, b) => a.keyVersion - b.keyVersion).map((version) => ({ ...version, origin: "backup", messageCount: 0 }));
          expect(keyring.exportState().versions).toEqual(expected);
          expect(keyring.currentVersion).toBe(expected.at(-1)!.keyVersion);
          expect(keyring.needsRotation()).toBe("restored");
        }
      }),
      { numRuns: 25 },
    );
  });

  describe("any single-character change of a chunk", () => {
    let backupText: string;

    beforeAll(() => {
      const garden = RoomKeyring.create({ roomId: "garden" });
      const chess = RoomKeyring.create({ roomId: "chess", shareable: true });
      const backup = createKeyBackup({ keyrings: [garden, chess], recoveryKey });
      garden.rotate({ reason: "manual" });
      backupText = JSON.stringify(addToKeyBackup({ backup, recoveryPublicKey: recoveryKey.publicKey, keyrings: [garden], since: garden.versions[1]!.createdAt }));
    });

    it("makes restore and compaction throw an E2eeError and return nothing", async () => {
      const parsed = JSON.parse(backupText) as { chunks: { enc: string; ciphertext: string }[] };
      expect(parsed.chunks).toHaveLength(2);
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.constantFrom("enc", "ciphertext"), fc.nat(), replacementCharacter, async (chunkIndex, field, position, replacement) => {
          const tampered = JSON.parse(backupText) as typeof parsed;
          const chunk = tampered.chunks[chunkIndex % tampered.chunks.length]!;
          chunk[field as "enc" | "ciphertext"] = replaceCharacter(chunk[field as "enc" | "ciphertext"], position, replacement);
          await expectE2eeError(() => restoreKeyBackup({ backup: tampered, recoveryKey }));
          await expectE2eeError(() => compactKeyBackup({ backup: tampered, recoveryKey }));
        }),
        { numRuns: 50 },
      );
      // The untouched backup still restores.
      await expect(restoreKeyBackup({ backup: backupText, recoveryKey })).resolves.toHaveLength(2);
    });
  });

  it("are read by a parser that throws only E2eeErrors on arbitrary input", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.json(), fc.anything()), async (input) => {
        await expectE2eeError(() => restoreKeyBackup({ backup: input, recoveryKey }));
      }),
      { numRuns: 200 },
    );
  });
});

describe("keyring states", () => {
  it("are read by a parser that throws only E2eeErrors on arbitrary input", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.json(), fc.anything()), async (input) => {
        await expectE2eeError(() => RoomKeyring.importState(input));
      }),
      { numRuns: 200 },
    );
  });
});
