/**
 * The valid objects the fuzz suites start from: two devices, a room keyring, signed and unsigned
 * envelopes, a key share, a two-chunk backup, a protected recovery key at the cheapest allowed
 * scrypt cost, and the local states. Built once per test file.
 */
import {
  parseKeyBackupPayload,
  type DeviceBundle,
  type DeviceIdentityStateV1,
  type EnvelopeV1,
  type EnvelopeV2,
  type KeyBackupPayloadV1,
  type KeyBackupV1,
  type KeyringStateV1,
  type ProtectedRecoveryKeyV1,
  type RoomKeyShareV1,
} from "@domvia/e2ee-envelope";
import {
  createDeviceIdentity,
  createRecoveryKey,
  exportAesGcmKeyToBase64,
  importAesGcmKeyFromBase64,
  protectRecoveryKey,
  type DeviceIdentity,
  type RecoveryKey,
  type RoomKey,
} from "@domvia/e2ee-crypto";
import { RoomKeyring, addToKeyBackup, createKeyBackup, shareRoomKey, type KeyStore } from "@domvia/e2ee-room-keys";
import { stringify } from "./json";

/** The room every fixture belongs to. */
export const ROOM_ID = "room-42";
/** The message id of the fixture envelopes. */
export const MESSAGE_ID = "msg-1";
/** The passphrase of the protected recovery key. */
export const PASSPHRASE = "correct horse battery staple";
/** The cheapest scrypt cost the format allows (SPEC.md §16), so a valid unlock takes milliseconds. */
export const CHEAP_KDF = Object.freeze({ n: 2 ** 10, r: 1, p: 1 });

/** The chat value inside the fixture envelopes. */
export const CHAT_VALUE = Object.freeze({ body: "Private message", sender_id: "alice", n: [1, 2.5, -0, null, true] });

export interface World {
  /** Alice's phone: sends shares and signed messages. */
  readonly alice: DeviceIdentity;
  /** Bob's laptop: receives shares. */
  readonly bob: DeviceIdentity;
  /** Alice's keyring for {@link ROOM_ID}, two versions, the second current. */
  readonly keyring: RoomKeyring;
  /** The current room key (version 2) and its exported base64. */
  readonly roomKey: RoomKey;
  readonly roomKeyBase64: string;
  readonly keyId: string;
  readonly keyVersion: number;
  /** {@link CHAT_VALUE} sealed with the current version: unsigned, and signed by Alice. */
  readonly envelopeV1: EnvelopeV1;
  readonly envelopeV2: EnvelopeV2;
  /** Alice's public bundle. */
  readonly bundle: DeviceBundle;
  /** The current version shared from Alice to Bob. */
  readonly share: RoomKeyShareV1;
  /** The recovery key and a two-chunk backup of Alice's keyring written to it. */
  readonly recoveryKey: RecoveryKey;
  readonly backup: KeyBackupV1;
  /** A backup payload (the plaintext of a chunk). */
  readonly payload: KeyBackupPayloadV1;
  /** The recovery key protected under {@link PASSPHRASE} at {@link CHEAP_KDF}. */
  readonly protectedKey: ProtectedRecoveryKeyV1;
  /** Stored states. */
  readonly keyringState: KeyringStateV1;
  readonly identityState: DeviceIdentityStateV1;
}

async function createWorld(): Promise<World> {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const keyring = RoomKeyring.create({ roomId: ROOM_ID, shareable: true });
  const recoveryKey = await createRecoveryKey();
  const first = createKeyBackup({ keyrings: [keyring], recoveryKey });
  keyring.rotate({ reason: "manual", shareable: true });
  const backup = addToKeyBackup({ backup: first, recoveryPublicKey: recoveryKey.publicKey, keyrings: [keyring], since: keyring.versions[1]!.createdAt });
  const envelopeV1 = (await keyring.encryptChatJson(CHAT_VALUE, { messageId: MESSAGE_ID })) as EnvelopeV1;
  const envelopeV2 = (await keyring.encryptChatJson(CHAT_VALUE, { messageId: MESSAGE_ID, sender: alice })) as EnvelopeV2;
  const [share] = shareRoomKey({ keyring, from: alice, to: [bob.publicBundle] }) as [RoomKeyShareV1];
  const keyringState = keyring.exportState();
  const current = keyringState.versions.at(-1)!;
  const payload = parseKeyBackupPayload({
    v: 1,
    type: "key-backup-payload",
    keys: keyringState.versions.map(({ keyId, keyVersion, key, shareable, createdAt }) => ({ roomId: ROOM_ID, keyId, keyVersion, key, shareable, createdAt })),
  });
  const roomKeyBase64 = Buffer.from(current.key, "base64url").toString("base64");
  const imported = await importAesGcmKeyFromBase64(roomKeyBase64);
  if ((await exportAesGcmKeyToBase64(imported)) !== roomKeyBase64) throw new Error("fixture key does not round-trip");
  return {
    alice,
    bob,
    keyring,
    roomKey: imported,
    roomKeyBase64,
    keyId: current.keyId,
    keyVersion: current.keyVersion,
    envelopeV1,
    envelopeV2,
    bundle: alice.publicBundle,
    share,
    recoveryKey,
    backup,
    payload,
    protectedKey: await protectRecoveryKey(recoveryKey, PASSPHRASE, CHEAP_KDF),
    keyringState,
    identityState: alice.exportState(),
  };
}

let world: Promise<World> | undefined;

/** The fixtures, created on first use. */
export function getWorld(): Promise<World> {
  world ??= createWorld();
  return world;
}

/** A JSON round trip: what a receiver of the value's text gets. */
export function viaJson<T>(value: T): T {
  return JSON.parse(stringify(value)!) as T;
}

/** A stable text form of a JSON value, own `__proto__` members included, for deep comparison. */
export function canonicalJson(value: unknown): string {
  return stringify(value) ?? "undefined";
}

/** A key store that hands back `stored` for every key: an app's storage that was tampered with. */
export function storeHolding(stored: unknown): KeyStore {
  return {
    get: async () => stored,
    set: async () => undefined,
    delete: async () => undefined,
    keys: async (prefix) => [`${prefix}${ROOM_ID}`],
  };
}
