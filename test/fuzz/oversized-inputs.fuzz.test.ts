/**
 * Oversized inputs, for every reader: a 10 MiB string (as text, as a JSON string, and inside a
 * genuine object), JSON text and objects nested 100,000 levels deep, and arrays of 1,000,000
 * elements. Each is refused with `PAYLOAD_TOO_LARGE` or `INVALID_ENVELOPE` (the entry point's
 * own code for non-wire inputs) within the DoS bound, and the heap is back where it was after.
 */
import {
  checkRelayEvent,
  parseDeviceBundle,
  parseDeviceIdentityState,
  parseEnvelope,
  parseKeyBackup,
  parseKeyBackupPayload,
  parseKeyringState,
  parseProtectedRecoveryKey,
  parseReplayGuardState,
  parseRoomKeyShare,
  parseTrustStoreState,
  safeParseJson,
  type ReplayGuardStateV1,
  type TrustStoreStateV1,
} from "@domvia/e2ee-envelope";
import {
  DeviceIdentity,
  base64urlDecode,
  decryptChatJson,
  importAesGcmKeyFromBase64,
  importRoomKeyBytes,
  openRoomKeyShare,
  protectedRecoveryKeyNeedsUpgrade,
  recoveryKeyFromCode,
  unlockRecoveryKey,
  verifyDeviceBundle,
} from "@domvia/e2ee-crypto";
import { ReplayGuard, RoomKeyring, TrustStore, acceptRoomKeyShare, addToKeyBackup, compactKeyBackup, restoreKeyBackup } from "@domvia/e2ee-room-keys";
import { createEncryptedChannel, type EncryptedChannelEvent } from "@domvia/realtime-e2ee";
import { beforeAll, describe, expect, it } from "vitest";
import { nested, nestedText, setOwn } from "./arbitraries";
import { MESSAGE_ID, PASSPHRASE, ROOM_ID, getWorld, type World } from "./fixtures";
import { DOS_BOUND_MS, HEAP_GROWTH_BOUND_BYTES, describeThrown, settledHeapBytes, timedWithRetry, type Outcome } from "./harness";
import { stringify } from "./json";

const MIB = 1024 * 1024;
const DEPTH = 100_000;
const MILLION = 1_000_000;

/**
 * `recoveryKeyFromCode` and the passphrase of `unlockRecoveryKey` read text a user typed, never
 * network input, and process all of it: the code is normalised (SPEC.md §11.2: NFKD, lower case,
 * split at white space), 0.2 to 0.5 s for 10 MiB of short words or full-width letters on a 2-core
 * machine; the passphrase is hashed twice by scrypt's PBKDF2, about 0.3 s. Reported rather than
 * changed; this looser bound still fails a superlinear path, which would take minutes on 10 MiB.
 */
const TYPED_TEXT_BOUND_MS = 2_000;

let world: World;
let trustState: TrustStoreStateV1;
let replayState: ReplayGuardStateV1;
beforeAll(async () => {
  world = await getWorld();
  const trustStore = TrustStore.create();
  trustStore.check(world.bundle);
  trustState = trustStore.exportState();
  const guard = new ReplayGuard();
  guard.accept({ roomId: ROOM_ID, keyVersion: 1, messageId: MESSAGE_ID });
  replayState = guard.exportState();
});

/** One reader: how to call it, the genuine object it reads, and which members to blow up. */
interface Reader {
  readonly name: string;
  readonly read: (input: unknown) => unknown;
  readonly genuine: () => Record<string, unknown>;
  /** A string member to make 10 MiB long. */
  readonly stringMember: string;
  /** A member to make 1,000,000 elements long: its collection, or any member. */
  readonly arrayMember: string;
  /** A valid-looking element for that collection, when it is one. */
  readonly element?: () => unknown;
}

const readers = (): Reader[] => [
  { name: "parseEnvelope", read: parseEnvelope, genuine: () => ({ ...world.envelopeV2 }), stringMember: "ciphertext", arrayMember: "roomId" },
  {
    name: "checkRelayEvent",
    read: (data) => {
      const result = checkRelayEvent({ roomId: ROOM_ID, event: "chat.message", data });
      if (!result.ok) throw result.error;
      return result;
    },
    genuine: () => ({ ...world.envelopeV1 }),
    stringMember: "roomId",
    arrayMember: "nonce",
  },
  {
    name: "createEncryptedChannel: decrypt",
    read: async (data) => {
      const channel = createEncryptedChannel({ channel: { publish: () => undefined, subscribe: () => undefined }, roomId: ROOM_ID, keyring: world.keyring });
      const event: EncryptedChannelEvent = await channel.decrypt("chat.message", data);
      if (event.type === "unable-to-decrypt") throw event.error;
      return event;
    },
    genuine: () => ({ ...world.envelopeV1 }),
    stringMember: "ciphertext",
    arrayMember: "keyId",
  },
  {
    name: "decryptChatJson",
    read: (envelope) => decryptChatJson(envelope, world.roomKey, { roomId: ROOM_ID, messageId: MESSAGE_ID }),
    genuine: () => ({ ...world.envelopeV1 }),
    stringMember: "ciphertext",
    arrayMember: "commitment",
  },
  {
    name: "RoomKeyring#decryptChatJson",
    read: (envelope) => world.keyring.decryptChatJson(envelope, { roomId: ROOM_ID, messageId: MESSAGE_ID }),
    genuine: () => ({ ...world.envelopeV2 }),
    stringMember: "signature",
    arrayMember: "senderUserId",
  },
  { name: "parseDeviceBundle", read: parseDeviceBundle, genuine: () => ({ ...world.bundle }), stringMember: "signature", arrayMember: "userId" },
  { name: "verifyDeviceBundle", read: verifyDeviceBundle, genuine: () => ({ ...world.bundle }), stringMember: "agreementKey", arrayMember: "signingKey" },
  { name: "parseRoomKeyShare", read: parseRoomKeyShare, genuine: () => ({ ...world.share }), stringMember: "enc", arrayMember: "keyVersion" },
  {
    name: "openRoomKeyShare",
    read: (share) => openRoomKeyShare({ share, device: world.bob, senderBundle: world.bundle }),
    genuine: () => ({ ...world.share }),
    stringMember: "ciphertext",
    arrayMember: "recipientDeviceId",
  },
  {
    name: "acceptRoomKeyShare",
    read: (share) => acceptRoomKeyShare({ share, device: world.bob, senderBundle: world.bundle, keyring: RoomKeyring.empty({ roomId: ROOM_ID }), isRoomMember: () => true }),
    genuine: () => ({ ...world.share }),
    stringMember: "signature",
    arrayMember: "kem",
  },
  {
    name: "parseKeyBackup",
    read: parseKeyBackup,
    genuine: () => ({ ...world.backup }),
    stringMember: "publicKey",
    arrayMember: "chunks",
    element: () => world.backup.chunks[0],
  },
  {
    name: "restoreKeyBackup",
    read: (backup) => restoreKeyBackup({ backup, recoveryKey: world.recoveryKey }),
    genuine: () => ({ ...world.backup }),
    stringMember: "publicKey",
    arrayMember: "chunks",
    element: () => world.backup.chunks[0],
  },
  {
    name: "compactKeyBackup",
    read: (backup) => compactKeyBackup({ backup, recoveryKey: world.recoveryKey }),
    genuine: () => ({ ...world.backup }),
    stringMember: "type",
    arrayMember: "chunks",
    element: () => world.backup.chunks[1],
  },
  {
    name: "addToKeyBackup",
    read: (backup) => addToKeyBackup({ backup, recoveryPublicKey: world.recoveryKey.publicKey, keyrings: [world.keyring], since: 0 }),
    genuine: () => ({ ...world.backup }),
    stringMember: "publicKey",
    arrayMember: "chunks",
    element: () => world.backup.chunks[0],
  },
  {
    name: "parseKeyBackupPayload",
    read: parseKeyBackupPayload,
    genuine: () => ({ ...world.payload }),
    stringMember: "type",
    arrayMember: "keys",
    element: () => world.payload.keys[0],
  },
  { name: "parseProtectedRecoveryKey", read: parseProtectedRecoveryKey, genuine: () => ({ ...world.protectedKey }), stringMember: "nonce", arrayMember: "kdf" },
  {
    name: "unlockRecoveryKey",
    read: (blob) => unlockRecoveryKey(blob, PASSPHRASE, { maxMemoryBytes: 2 ** 18 }),
    genuine: () => ({ ...world.protectedKey }),
    stringMember: "ciphertext",
    arrayMember: "publicKey",
  },
  { name: "protectedRecoveryKeyNeedsUpgrade", read: protectedRecoveryKeyNeedsUpgrade, genuine: () => ({ ...world.protectedKey }), stringMember: "publicKey", arrayMember: "nonce" },
  {
    name: "parseKeyringState",
    read: parseKeyringState,
    genuine: () => ({ ...world.keyringState }),
    stringMember: "roomId",
    arrayMember: "versions",
    element: () => world.keyringState.versions[0],
  },
  {
    name: "RoomKeyring.importState",
    read: RoomKeyring.importState,
    genuine: () => ({ ...world.keyringState }),
    stringMember: "currentKeyId",
    arrayMember: "revokedDevices",
    element: () => ({ userId: "mallory", deviceId: "phone" }),
  },
  { name: "parseDeviceIdentityState", read: parseDeviceIdentityState, genuine: () => ({ ...world.identityState }), stringMember: "userId", arrayMember: "agreementSecretKey" },
  { name: "DeviceIdentity.importState", read: DeviceIdentity.importState, genuine: () => ({ ...world.identityState }), stringMember: "signingSecretKey", arrayMember: "deviceId" },
  {
    name: "parseTrustStoreState",
    read: parseTrustStoreState,
    genuine: () => ({ ...trustState }),
    stringMember: "type",
    arrayMember: "devices",
    element: () => trustState.devices[0],
  },
  {
    name: "TrustStore.importState",
    read: TrustStore.importState,
    genuine: () => ({ ...trustState }),
    stringMember: "type",
    arrayMember: "devices",
    element: () => trustState.devices[0],
  },
  {
    name: "parseReplayGuardState",
    read: parseReplayGuardState,
    genuine: () => ({ ...replayState }),
    stringMember: "type",
    arrayMember: "messages",
    element: () => replayState.messages[0],
  },
  {
    name: "ReplayGuard.importState",
    read: (state) => ReplayGuard.importState(state),
    genuine: () => ({ ...replayState }),
    stringMember: "type",
    arrayMember: "rooms",
    element: () => replayState.rooms[0],
  },
];

/** The genuine object with `member` set to `value` (own, even for `__proto__`). */
function withMember(reader: Reader, member: string, value: unknown): Record<string, unknown> {
  const copy = reader.genuine();
  setOwn(copy, member, value);
  return copy;
}

/** Every oversized input for `reader`, built on demand (each is large) and named. */
function oversizedInputs(reader: Reader): [string, () => unknown][] {
  const tenMiB = (): string => "x".repeat(10 * MIB);
  const million = (element: unknown): unknown[] => new Array<unknown>(MILLION).fill(element);
  return [
    ["10 MiB of text", tenMiB],
    ["a 10 MiB JSON string", () => `"${tenMiB()}"`],
    [`a 10 MiB ${reader.stringMember}`, () => withMember(reader, reader.stringMember, tenMiB())],
    [`a 10 MiB ${reader.stringMember}, as text`, () => stringify(withMember(reader, reader.stringMember, tenMiB()))],
    ["a 10 MiB extra member", () => withMember(reader, "extra", tenMiB())],
    ["JSON text of arrays nested 100,000 deep", () => nestedText(DEPTH, "array")],
    ["JSON text of objects nested 100,000 deep", () => nestedText(DEPTH, "object")],
    [`JSON text with ${reader.stringMember} nested 100,000 deep`, () => stringify(withMember(reader, reader.stringMember, "\u0000"))!.replace('"\\u0000"', nestedText(DEPTH, "object"))],
    ["an object nested 100,000 deep", () => nested(DEPTH, "object")],
    ["an array nested 100,000 deep", () => nested(DEPTH, "array")],
    [`${reader.stringMember} nested 100,000 deep`, () => withMember(reader, reader.stringMember, nested(DEPTH, "object"))],
    ["__proto__ nested 100,000 deep", () => withMember(reader, "__proto__", nested(DEPTH, "object"))],
    ["an array of 1,000,000 elements", () => million(reader.genuine())],
    [`${reader.arrayMember} of 1,000,000 zeros`, () => withMember(reader, reader.arrayMember, million(0))],
    [`${reader.arrayMember} of 1,000,000 zeros, as text`, () => stringify(withMember(reader, reader.arrayMember, million(0)))],
    ...(reader.element === undefined
      ? []
      : ([
          [`${reader.arrayMember} of 1,000,000 valid elements`, () => withMember(reader, reader.arrayMember, million(reader.element!()))],
          [`${reader.arrayMember} of 1,000,000 valid elements and one bad one`, () => withMember(reader, reader.arrayMember, [...million(reader.element!()), 0])],
        ] as [string, () => unknown][])),
  ];
}

/** Runs `read` on `input`: it must be refused with one of `codes` within `bound` ms. */
async function expectRefused(read: () => unknown, codes: readonly string[], bound = DOS_BOUND_MS): Promise<void> {
  const { outcome, ms } = await timedWithRetry(read, bound);
  expect(ms, `took ${ms.toFixed(0)} ms`).toBeLessThanOrEqual(bound);
  expectCode(outcome, codes);
}

function expectCode(outcome: Outcome, codes: readonly string[]): void {
  if (outcome.kind === "returned") expect.fail("an oversized input was accepted");
  const { error } = outcome;
  const code = (error as { code?: unknown }).code;
  if (!codes.includes(code as string)) expect.fail(`refused with ${describeThrown(error)}, expected ${codes.join(" or ")}`);
}

describe("oversized inputs", () => {
  it.each(["parseEnvelope", "checkRelayEvent", "createEncryptedChannel: decrypt", "decryptChatJson", "RoomKeyring#decryptChatJson", "parseDeviceBundle", "verifyDeviceBundle", "parseRoomKeyShare", "openRoomKeyShare", "acceptRoomKeyShare", "parseKeyBackup", "restoreKeyBackup", "compactKeyBackup", "addToKeyBackup", "parseKeyBackupPayload", "parseProtectedRecoveryKey", "unlockRecoveryKey", "protectedRecoveryKeyNeedsUpgrade", "parseKeyringState", "RoomKeyring.importState", "parseDeviceIdentityState", "DeviceIdentity.importState", "parseTrustStoreState", "TrustStore.importState", "parseReplayGuardState", "ReplayGuard.importState"])(
    "%s refuses each quickly with PAYLOAD_TOO_LARGE or INVALID_ENVELOPE, and keeps no memory",
    async (name) => {
      const reader = readers().find((candidate) => candidate.name === name)!;
      const heapBefore = settledHeapBytes();
      for (const [what, make] of oversizedInputs(reader)) {
        const input = make();
        await expectRefused(() => reader.read(input), ["PAYLOAD_TOO_LARGE", "INVALID_ENVELOPE"]).catch((error: unknown) => {
          throw new Error(`${name}, ${what}: ${(error as Error).message}`);
        });
      }
      expect(settledHeapBytes() - heapBefore).toBeLessThan(HEAP_GROWTH_BOUND_BYTES);
    },
    120_000,
  );

  it("the key and text readers refuse 10 MiB quickly with their own codes", async () => {
    const tenMiB = "A".repeat(10 * MIB);
    await expectRefused(() => importAesGcmKeyFromBase64(tenMiB), ["INVALID_KEY"]);
    await expectRefused(() => importAesGcmKeyFromBase64(`${"A".repeat(43)}=${tenMiB}`), ["INVALID_KEY"]);
    await expectRefused(() => importRoomKeyBytes(new Uint8Array(10 * MIB)), ["INVALID_KEY"]);
    // A base64url decoder returns `undefined`, never throws: timed, not refused.
    for (const text of [tenMiB, `${tenMiB}=`, `${"\u00e9".repeat(10 * MIB)}`]) {
      const { ms } = await timedWithRetry(() => base64urlDecode(text));
      expect(ms).toBeLessThanOrEqual(DOS_BOUND_MS);
    }
  }, 120_000);

  it("recoveryKeyFromCode refuses 10 MiB of typed text within the typed-text bound", async () => {
    const inputs = [
      "abandon ".repeat((10 * MIB) / 8),
      "a ".repeat((10 * MIB) / 2),
      "\uff41\u3000".repeat((10 * MIB) / 2),
      "\u3000".repeat(10 * MIB),
      "x".repeat(10 * MIB),
      // A real code and one word more, 10 MiB of spaces apart: 25 words.
      `${world.recoveryKey.code}${" ".repeat(10 * MIB)}abandon`,
    ];
    for (const text of inputs) await expectRefused(() => recoveryKeyFromCode(text), ["INVALID_RECOVERY_CODE"], TYPED_TEXT_BOUND_MS);
  }, 120_000);

  it("unlockRecoveryKey refuses a 10 MiB passphrase within the typed-text bound", async () => {
    // The passphrase is typed text too: scrypt's PBKDF2 hashes all of it, twice (about 0.3 s here).
    await expectRefused(() => unlockRecoveryKey(world.protectedKey, "A".repeat(10 * MIB), { maxMemoryBytes: 2 ** 18 }), ["WRONG_RECOVERY_CODE"], TYPED_TEXT_BOUND_MS);
  }, 120_000);

  it("safeParseJson keeps its bound before parsing, and parses 100,000 levels without recursion", async () => {
    const { outcome, ms } = await timedWithRetry(() => safeParseJson("x".repeat(10 * MIB), 4096));
    expect(ms).toBeLessThanOrEqual(DOS_BOUND_MS);
    expect(outcome).toEqual({ kind: "returned", value: { ok: false, reason: "too-large" } });
    for (const kind of ["array", "object"] as const) {
      const deep = await timedWithRetry(() => safeParseJson(nestedText(DEPTH, kind), Number.MAX_SAFE_INTEGER));
      expect(deep.ms).toBeLessThanOrEqual(DOS_BOUND_MS);
      expect((deep.outcome as { value: { ok: boolean } }).value.ok).toBe(true);
    }
  }, 120_000);
});
