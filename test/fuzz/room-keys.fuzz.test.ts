/**
 * Fuzzing `@domvia/e2ee-room-keys`: keyring states (imported directly and through a key store),
 * opening messages with a keyring, accepting key shares, and restoring, compacting and appending
 * to key backups (tampered ones, and authentic ones whose chunks hold garbage: anyone with the
 * backup's public key, the server included, can write such a chunk).
 */
import { Buffer } from "node:buffer";
import {
  keyBackupInfo,
  parseDeviceIdentityState,
  parseKeyBackup,
  parseKeyBackupPayload,
  safeParseDeviceBundle,
  safeParseEnvelope,
  safeParseKeyBackup,
  safeParseRoomKeyShare,
  type KeyBackupChunkV1,
  type KeyBackupV1,
  type KeyringStateV1,
} from "@domvia/e2ee-envelope";
import type { DecryptedChatMessage, DeviceIdentity } from "@domvia/e2ee-crypto";
import {
  RoomKeyring,
  acceptRoomKeyShare,
  addToKeyBackup,
  compactKeyBackup,
  loadDeviceIdentity,
  loadKeyring,
  loadKeyrings,
  restoreKeyBackup,
  type RestoreSecret,
} from "@domvia/e2ee-room-keys";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
// Internal, to seal garbage to the backup's public key.
import { hpkeSeal } from "../../packages/crypto/src/hpke";
import { callerValue, id, mostlyRefused, nastyString, nearValid, storableInputs, toJsonText, wireInputs } from "./arbitraries";
import { CHAT_VALUE, MESSAGE_ID, ROOM_ID, getWorld, storeHolding, viaJson, type World } from "./fixtures";
import { fuzz, isTypeError } from "./harness";
import { stringify } from "./json";
import { PARSE_CODES, meaningOf, sortedJson } from "./oracles";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);

let world: World;
/** Bob's keyring state holding the shared version under another key: accepting the share conflicts. */
let conflictingState: KeyringStateV1;
beforeAll(async () => {
  world = await getWorld();
  const current = world.keyringState.versions.at(-1)!;
  const otherKey = Buffer.alloc(32, 7).toString("base64url");
  conflictingState = {
    ...world.keyringState,
    versions: [{ ...current, key: otherKey, origin: "share" }],
    currentVersion: current.keyVersion,
    currentKeyId: current.keyId,
  };
});

const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A keyring restored from `input` holds exactly what the state says (SPEC.md §14.1). */
function expectKeyringFrom(keyring: RoomKeyring, input: unknown): void {
  const meaning = meaningOf(input) as KeyringStateV1 | undefined;
  if (meaning === undefined) return;
  const exported = keyring.exportState();
  expect(exported.roomId).toBe(meaning.roomId);
  expect(exported.policy).toEqual(meaning.policy);
  expect(exported.rotationRequired).toBe(meaning.rotationRequired);
  expect(exported.currentVersion).toBe(meaning.currentVersion);
  expect(exported.currentKeyId).toBe(meaning.currentVersion === null ? null : meaning.currentKeyId);
  expect(new Set(exported.removedUsers)).toEqual(new Set(meaning.removedUsers));
  expect(new Set(exported.revokedDevices.map(sortedJson))).toEqual(new Set(meaning.revokedDevices.map(sortedJson)));
  // One entry per (version, key id); a repeated one is the last that the state lists.
  const expected = new Map(meaning.versions.map((version) => [`${version.keyVersion}\n${version.keyId}`, sortedJson(version)]));
  expect(new Set(exported.versions.map(sortedJson))).toEqual(new Set(expected.values()));
}

describe("fuzzing keyring states", () => {
  it("RoomKeyring.importState restores exactly the stored state, or throws a documented error", async () => {
    await fuzz<unknown>({
      name: "RoomKeyring.importState",
      inputs: wireInputs(world.keyringState),
      call: (input) => RoomKeyring.importState(input),
      codes: PARSE_CODES,
      returned: (keyring, input) => expectKeyringFrom(keyring as RoomKeyring, input),
    });
  }, TIMEOUT);

  it("loadKeyring / loadKeyrings / loadDeviceIdentity read what a key store holds, or throw a documented error", async () => {
    type Loader = "loadKeyring" | "loadKeyrings" | "loadDeviceIdentity";
    const storable = storableInputs;
    const inputs = fc.oneof(
      fc.record({ loader: fc.constantFrom<Loader>("loadKeyring", "loadKeyrings"), stored: fc.oneof({ weight: 20, arbitrary: storable(world.keyringState) }, { weight: 1, arbitrary: fc.constant(undefined) }) }),
      fc.record({
        loader: fc.constant<Loader>("loadDeviceIdentity"),
        stored: fc.oneof({ weight: 20, arbitrary: mostlyRefused(storable(world.identityState), (state) => parseDeviceIdentityState(state) !== undefined, 0.03) }, { weight: 1, arbitrary: fc.constant(undefined) }),
      }),
    );
    await fuzz({
      name: "loadKeyring / loadKeyrings / loadDeviceIdentity",
      inputs,
      call: ({ loader, stored }) => {
        const store = storeHolding(stored);
        if (loader === "loadKeyring") return loadKeyring(store, ROOM_ID);
        if (loader === "loadKeyrings") return loadKeyrings(store);
        return loadDeviceIdentity(store);
      },
      codes: PARSE_CODES,
      returned: (value, { loader, stored }) => {
        if (stored === undefined) {
          expect(value).toEqual(loader === "loadKeyrings" ? [] : undefined);
          return;
        }
        if (loader === "loadDeviceIdentity") {
          const meaning = meaningOf(stored);
          if (meaning !== undefined) expect(sortedJson((value as DeviceIdentity).exportState())).toBe(sortedJson(meaning));
          return;
        }
        const keyrings = loader === "loadKeyrings" ? (value as RoomKeyring[]) : [value as RoomKeyring];
        expect(keyrings).toHaveLength(1);
        expectKeyringFrom(keyrings[0]!, stored);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing RoomKeyring#decryptChatMessage", () => {
  it("opens only the genuine messages, and otherwise throws a documented error", async () => {
    const inputs = fc.record({
      envelope: mostlyRefused(wireInputs(world.envelopeV1, world.envelopeV2), (envelope) => safeParseEnvelope(envelope).success, 0.06),
      roomId: fc.oneof({ weight: 20, arbitrary: fc.constant(ROOM_ID) }, { weight: 1, arbitrary: id }),
      messageId: fc.oneof({ weight: 20, arbitrary: fc.constant(MESSAGE_ID) }, { weight: 1, arbitrary: id }),
      requireSignature: fc.boolean(),
      returnsMessage: fc.boolean(),
    });
    await fuzz({
      name: "RoomKeyring#decryptChatJson / #decryptChatMessage",
      inputs,
      call: ({ envelope, roomId, messageId, requireSignature, returnsMessage }) => {
        const options = {
          roomId,
          messageId,
          requireSignature,
          resolveSender: ({ userId, deviceId }: { userId: string; deviceId: string }) => (userId === "alice" && deviceId === "phone" ? world.bundle : undefined),
        };
        return returnsMessage ? world.keyring.decryptChatMessage(envelope, options) : world.keyring.decryptChatJson(envelope, options);
      },
      codes: ["INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "CONTEXT_MISMATCH", "UNKNOWN_KEY", "UNKNOWN_SENDER", "BAD_SIGNATURE", "DECRYPTION_FAILED"],
      returned: (result, input) => {
        expect({ roomId: input.roomId, messageId: input.messageId }).toEqual({ roomId: ROOM_ID, messageId: MESSAGE_ID });
        const meaning = meaningOf(input.envelope);
        if (meaning !== undefined) expect([world.envelopeV1, world.envelopeV2].map(sortedJson)).toContain(sortedJson(meaning));
        const value = input.returnsMessage ? (result as DecryptedChatMessage).value : result;
        expect(stringify(value)).toBe(stringify(viaJson(CHAT_VALUE)));
        if (input.returnsMessage && (result as DecryptedChatMessage).sender === null) expect(input.requireSignature).toBe(false);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing acceptRoomKeyShare", () => {
  type Keyring = "empty" | "revoked-sender" | "conflicting" | "other-room" | "hostile";
  type Member = "yes" | "no" | "truthy" | "hostile";
  it("adds only the genuine share to the keyring, and otherwise throws a documented error and changes nothing", async () => {
    const inputs = fc.record({
      share: mostlyRefused(wireInputs(world.share), (share) => safeParseRoomKeyShare(share).success, 0.04),
      senderBundle: fc.oneof(
        { weight: 8, arbitrary: fc.constant<unknown>("genuine") },
        { weight: 1, arbitrary: mostlyRefused(wireInputs(world.bundle), (bundle) => safeParseDeviceBundle(bundle).success, 0.03) },
      ),
      keyring: fc.constantFrom<Keyring>("empty", "empty", "empty", "empty", "empty", "revoked-sender", "conflicting", "other-room", "hostile"),
      member: fc.constantFrom<Member>("yes", "yes", "yes", "yes", "yes", "no", "truthy", "hostile"),
      junk: callerValue,
    });
    type Input = typeof inputs extends fc.Arbitrary<infer I> ? I : never;
    const keyrings = new WeakMap<Input, RoomKeyring>();
    const keyringFor = (input: Input): RoomKeyring => {
      let keyring = keyrings.get(input);
      if (keyring !== undefined) return keyring;
      switch (input.keyring) {
        case "empty":
          keyring = RoomKeyring.empty({ roomId: ROOM_ID });
          break;
        case "revoked-sender":
          keyring = RoomKeyring.empty({ roomId: ROOM_ID });
          keyring.revokeDevice({ userId: "alice", deviceId: "phone" });
          break;
        case "conflicting":
          keyring = RoomKeyring.importState(conflictingState);
          break;
        case "other-room":
          keyring = RoomKeyring.empty({ roomId: "room-7" });
          break;
        case "hostile":
          keyring = input.junk as RoomKeyring;
          break;
      }
      keyrings.set(input, keyring);
      return keyring;
    };
    const snapshot = (keyring: RoomKeyring): string => (keyring instanceof RoomKeyring ? stringify(keyring.exportState())! : "");
    const before = new WeakMap<Input, string>();
    await fuzz<Input>({
      name: "acceptRoomKeyShare",
      inputs,
      call: (input) => {
        // A fresh keyring for every attempt, so a timing retry sees the same state.
        keyrings.delete(input);
        const keyring = keyringFor(input);
        before.set(input, snapshot(keyring));
        const isRoomMember = input.member === "yes" ? () => true : input.member === "no" ? () => false : input.member === "truthy" ? () => "yes" : input.junk;
        return acceptRoomKeyShare({
          share: input.share,
          device: world.bob,
          senderBundle: input.senderBundle === "genuine" ? world.bundle : input.senderBundle,
          keyring,
          isRoomMember: isRoomMember as () => boolean,
        });
      },
      codes: [...PARSE_CODES, "SHARE_MISADDRESSED", "DEVICE_REVOKED", "UNKNOWN_SENDER", "BAD_SIGNATURE", "DECRYPTION_FAILED", "KEY_CONFLICT"],
      // Caller bugs the code documents with a TypeError: not a keyring, an isRoomMember that is not a function.
      documentedError: (error, input) => (input.keyring === "hostile" || input.member === "hostile") && isTypeError(error),
      returned: (value, input) => {
        expect(input.keyring).toBe("empty");
        expect(input.member).toBe("yes");
        const meaning = meaningOf(input.share);
        if (meaning !== undefined) expect(sortedJson(meaning)).toBe(sortedJson(world.share));
        if (input.senderBundle !== "genuine") expect(sortedJson(meaningOf(input.senderBundle))).toBe(sortedJson(world.bundle));
        expect(value).toMatchObject({ keyId: world.keyId, keyVersion: world.keyVersion, sender: { userId: "alice", deviceId: "phone" } });
        const held = keyringFor(input).exportState().versions;
        expect(held.map(({ keyId, keyVersion, key }) => ({ keyId, keyVersion, key }))).toEqual([
          { keyId: world.keyId, keyVersion: world.keyVersion, key: world.keyringState.versions.at(-1)!.key },
        ]);
      },
      threw: (_error, input) => {
        // On any failure the keyring is unchanged.
        expect(snapshot(keyringFor(input))).toBe(before.get(input));
      },
    });
  }, TIMEOUT);
});

describe("fuzzing key backups", () => {
  type Secret = "key" | "code" | "other-code" | "typed-code" | "none" | "hostile";
  interface BackupInput {
    readonly backup: unknown;
    readonly secret: Secret;
    readonly typedCode: string;
    readonly junk: unknown;
    /** For a backup whose chunks were sealed here: their plaintexts. */
    readonly plaintexts?: readonly Uint8Array[];
  }

  /**
   * A chunk sealed to the backup's public key around any plaintext, with a generated ephemeral key
   * (not a CSPRNG draw, which the secret-hygiene check would learn and keep, one per input).
   */
  function sealChunk([plaintext, ephemeralSecretKey]: readonly [Uint8Array, Uint8Array]): KeyBackupChunkV1 {
    const publicKey = new Uint8Array(Buffer.from(world.recoveryKey.publicKey, "base64url"));
    const sealed = hpkeSeal({ recipientPublicKey: publicKey, info: keyBackupInfo(0x20, 1, 2, publicKey), aad: new Uint8Array(0), plaintext, ephemeralSecretKey });
    return { enc: b64u(sealed.enc), ciphertext: b64u(sealed.ciphertext) };
  }

  /** The keys a backup of `plaintexts` restores, by room, or the code it must fail with (SPEC.md §12.5). */
  function expectedRestore(plaintexts: readonly Uint8Array[]): { code: string } | { rooms: Map<string, Set<string>> } {
    // The backup's shape is read first: a chunk ciphertext is at least 17 bytes, so an empty plaintext (16) is malformed.
    if (plaintexts.some((plaintext) => plaintext.length === 0)) return { code: "INVALID_ENVELOPE" };
    const seen = new Map<string, { key: string; entry: string }>();
    for (const plaintext of plaintexts) {
      let json: unknown;
      try {
        json = JSON.parse(strictUtf8.decode(plaintext));
      } catch {
        return { code: "DECRYPTION_FAILED" };
      }
      let payload;
      try {
        payload = parseKeyBackupPayload(json);
      } catch (error) {
        return { code: (error as { code: string }).code };
      }
      for (const { roomId, keyId, keyVersion, key, shareable, createdAt } of payload.keys) {
        const id = `${roomId}\n${keyVersion}\n${keyId}`;
        const earlier = seen.get(id);
        if (earlier !== undefined && earlier.key !== key) return { code: "KEY_CONFLICT" };
        seen.set(id, { key, entry: sortedJson({ keyId, keyVersion, key, shareable, createdAt, origin: "backup", messageCount: 0 }) });
      }
    }
    const rooms = new Map<string, Set<string>>();
    for (const [id, { entry }] of seen) {
      const roomId = id.split("\n")[0]!;
      rooms.set(roomId, (rooms.get(roomId) ?? new Set()).add(entry));
    }
    return { rooms };
  }

  const secretFor = (input: BackupInput): RestoreSecret => {
    switch (input.secret) {
      case "key":
        return { recoveryKey: world.recoveryKey };
      case "code":
        return { recoveryCode: world.recoveryKey.code };
      case "other-code":
        return { recoveryCode: input.typedCode.length % 2 === 0 ? "abandon ".repeat(23) + "art" : "zoo ".repeat(23) + "wrong" };
      case "typed-code":
        return { recoveryCode: input.typedCode };
      case "none":
        return {} as RestoreSecret;
      case "hostile":
        return { recoveryKey: input.junk } as RestoreSecret;
    }
  };

  const backupInputs = (): fc.Arbitrary<BackupInput> => {
    const rest = {
      secret: fc.constantFrom<Secret>("key", "key", "key", "key", "key", "key", "code", "other-code", "typed-code", "none", "hostile"),
      typedCode: fc.oneof(nastyString, nearValid(world.recoveryKey.code, { trapped: false }).filter((code): code is string => typeof code === "string")),
      junk: fc.oneof(callerValue, fc.constant({ publicKey: world.recoveryKey.publicKey })),
    };
    const plaintext = fc.oneof(
      { weight: 6, arbitrary: nearValid(world.payload, { trapped: false }).map((payload) => utf8(toJsonText(payload) ?? "")) },
      { weight: 1, arbitrary: fc.constant(utf8(stringify(world.payload)!)) },
      {
        weight: 2,
        arbitrary: fc
          .array(fc.record({ roomId: fc.oneof(fc.constant(ROOM_ID), id), keyId: fc.oneof(fc.constant(world.keyId), id), keyVersion: fc.integer({ min: 1, max: 2 ** 31 - 1 }), key: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(b64u), shareable: fc.boolean(), createdAt: fc.integer({ min: 0, max: 2 ** 48 }) }), { maxLength: 4 })
          .map((keys) => utf8(stringify({ v: 1, type: "key-backup-payload", keys })!)),
      },
      { weight: 1, arbitrary: fc.oneof(nastyString.map(utf8), fc.uint8Array({ maxLength: 40 })) },
    );
    const authentic = fc
      .record({ sealed: fc.array(fc.tuple(plaintext, fc.uint8Array({ minLength: 32, maxLength: 32 })), { minLength: 1, maxLength: 2 }), asText: fc.boolean(), ...rest })
      .map(({ sealed, asText, ...others }) => {
        const plaintexts = sealed.map(([bytes]) => bytes);
        const backup: KeyBackupV1 = { ...world.backup, chunks: sealed.map(sealChunk) };
        return { ...others, plaintexts, backup: asText ? stringify(backup) : backup };
      });
    // Backups that parse cost an X25519 agreement per chunk: 6% of the changed ones; sealing here costs one per chunk too (5%).
    const tampered = fc.record({ backup: mostlyRefused(wireInputs(world.backup), (backup) => safeParseKeyBackup(backup).success, 0.06), ...rest });
    return fc.oneof({ weight: 19, arbitrary: tampered }, { weight: 1, arbitrary: authentic });
  };

  /** A caller bug restoring documents (or its code throws) as TypeError: no secret, or not a recovery key. */
  const secretBug = (error: unknown, input: BackupInput): boolean => isTypeError(error) && (input.secret === "none" || input.secret === "hostile");

  const RESTORE_CODES = [...PARSE_CODES, "INVALID_RECOVERY_CODE", "WRONG_RECOVERY_CODE", "DECRYPTION_FAILED", "KEY_CONFLICT"] as const;

  /** The genuine backup's keys by room, as a restore exports them: the payload fixture holds the same keys. */
  const genuineRooms = (): Map<string, Set<string>> => (expectedRestore([utf8(stringify(world.payload)!)]) as { rooms: Map<string, Set<string>> }).rooms;

  const restoredRooms = (keyrings: readonly RoomKeyring[]): Map<string, Set<string>> =>
    new Map(keyrings.map((keyring) => [keyring.roomId, new Set(keyring.exportState().versions.map(sortedJson))]));

  it("restoreKeyBackup restores exactly the keys sealed in the backup, or throws a documented error", async () => {
    await fuzz<BackupInput>({
      name: "restoreKeyBackup",
      inputs: backupInputs(),
      call: (input) => restoreKeyBackup({ backup: input.backup, ...secretFor(input) }),
      codes: RESTORE_CODES,
      documentedError: secretBug,
      returned: (value, input) => {
        const keyrings = value as RoomKeyring[];
        // A look-alike `{ publicKey }` in place of the recovery key passes the public key check; with no
        // chunk to open it is never used, so an empty backup restores to nothing. It must never read a chunk.
        if (input.secret === "hostile") expect(keyrings).toEqual([]);
        else expect(["key", "code", "typed-code"]).toContain(input.secret);
        for (const keyring of keyrings) expect(keyring.needsRotation()).toBe("restored");
        if (input.plaintexts !== undefined) {
          expect(restoredRooms(keyrings)).toEqual((expectedRestore(input.plaintexts) as { rooms: unknown }).rooms);
          return;
        }
        // A changed backup restores only if it still holds the genuine chunks (in any order, any number of times).
        const meaning = meaningOf(input.backup) as KeyBackupV1 | undefined;
        if (meaning !== undefined) {
          const { chunks, ...header } = meaning;
          const { chunks: genuineChunks, ...genuineHeader } = world.backup;
          expect(sortedJson(header)).toBe(sortedJson(genuineHeader));
          for (const chunk of chunks) expect(genuineChunks.map(sortedJson)).toContain(sortedJson(chunk));
        }
        const genuine = genuineRooms();
        for (const [roomId, versions] of restoredRooms(keyrings)) {
          for (const version of versions) expect(genuine.get(roomId)?.has(version), "a restored version the genuine backup does not hold").toBe(true);
        }
      },
      threw: (error, input) => {
        if (input.plaintexts === undefined || input.secret !== "key") return;
        const expected = expectedRestore(input.plaintexts);
        expect(expected, `an authentic backup refused with ${error.code}`).toHaveProperty("code", error.code);
      },
    });
  }, TIMEOUT);

  it("compactKeyBackup rewrites exactly the keys sealed in the backup, or throws a documented error", async () => {
    await fuzz<BackupInput>({
      name: "compactKeyBackup",
      inputs: backupInputs(),
      call: (input) => compactKeyBackup({ backup: input.backup, ...secretFor(input) }),
      codes: [...RESTORE_CODES, "PAYLOAD_TOO_LARGE"],
      documentedError: secretBug,
      returned: (value, input) => {
        const compacted = parseKeyBackup(value);
        // As for restoring: a look-alike recovery key only gets through an empty backup, and compacts it to nothing.
        if (input.secret === "hostile") expect(compacted.chunks).toEqual([]);
        else expect(["key", "code", "typed-code"]).toContain(input.secret);
        expect(compacted.publicKey).toBe(world.recoveryKey.publicKey);
        expect(compacted.chunks.length).toBeLessThanOrEqual(1);
        if (input.plaintexts !== undefined) expect(expectedRestore(input.plaintexts)).toHaveProperty("rooms");
      },
      threw: (error, input) => {
        if (input.plaintexts === undefined || input.secret !== "key") return;
        expect(expectedRestore(input.plaintexts), `an authentic backup refused with ${error.code}`).toHaveProperty("code", error.code);
      },
    });
  }, TIMEOUT);

  it("addToKeyBackup appends only to a well-formed backup written to the trusted key, or throws a documented error", async () => {
    const inputs = fc.record({
      backup: wireInputs(world.backup),
      trustedKey: fc.oneof({ weight: 12, arbitrary: fc.constant<unknown>(world.recoveryKey.publicKey) }, { weight: 1, arbitrary: nastyString }, { weight: 1, arbitrary: callerValue }),
      // Mostly nothing new to append (cheap); sometimes every version (one HPKE seal).
      since: fc.oneof({ weight: 9, arbitrary: fc.constant(Number.MAX_SAFE_INTEGER) }, { weight: 1, arbitrary: fc.constant(0) }),
    });
    await fuzz({
      name: "addToKeyBackup",
      inputs,
      call: ({ backup, trustedKey, since }) => addToKeyBackup({ backup, recoveryPublicKey: trustedKey as string, keyrings: [world.keyring], since }),
      codes: [...PARSE_CODES, "WRONG_RECOVERY_CODE"],
      documentedError: (error, { trustedKey }) => typeof trustedKey !== "string" && isTypeError(error),
      returned: (value, { backup, trustedKey, since }) => {
        const appended = parseKeyBackup(value);
        expect(appended.publicKey).toBe(trustedKey);
        const meaning = meaningOf(backup) as KeyBackupV1 | undefined;
        if (meaning === undefined) return;
        expect(appended.chunks.slice(0, meaning.chunks.length).map(sortedJson)).toEqual(meaning.chunks.map(sortedJson));
        expect(appended.chunks.length).toBe(meaning.chunks.length + (since === 0 ? 1 : 0));
      },
    });
  }, TIMEOUT);
});
