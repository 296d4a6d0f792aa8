/**
 * Key backups: room key versions encrypted to a recovery public key. Any device can add to a
 * backup with the public key alone; only the recovery code (or a passphrase that unlocks it)
 * restores it.
 *
 * @module
 */
import {
  E2eeError,
  KEY_BACKUP_LIMITS,
  parseKeyBackup,
  type BackedUpKeyV1,
  type KeyBackupChunkV1,
  type KeyBackupV1,
} from "@domvia/e2ee-envelope";
import {
  KEY_BACKUP_SUITE,
  base64urlDecode,
  base64urlEncode,
  exportRoomKeyBytes,
  importRoomKeyBytes,
  openBackupChunk,
  recoveryKeyFromCode,
  sealBackupChunk,
  type RecoveryKey,
} from "@domvia/e2ee-crypto";
import { RoomKeyring, keyringInternals } from "./keyring";
import type { RotationPolicy } from "./policy";

/** What a backup is written to: a recovery key, or just its public key. */
export type BackupRecipient = RecoveryKey | { readonly publicKey: string };

function publicKeyOf(recipient: BackupRecipient): string {
  const publicKey = (recipient as { publicKey?: unknown }).publicKey;
  if (typeof publicKey !== "string") throw new TypeError('"recoveryKey" expected a RecoveryKey or { publicKey }');
  return publicKey;
}

function backedUpKeys(keyrings: readonly RoomKeyring[], since: number | undefined): BackedUpKeyV1[] {
  const keys: BackedUpKeyV1[] = [];
  for (const keyring of keyrings) {
    if (!(keyring instanceof RoomKeyring)) throw new TypeError('"keyrings" expected RoomKeyring objects');
    for (const entry of keyringInternals.entries(keyring)) {
      if (since !== undefined && entry.createdAt < since) continue;
      const bytes = exportRoomKeyBytes(entry.key);
      keys.push({
        roomId: keyring.roomId,
        keyId: entry.keyId,
        keyVersion: entry.keyVersion,
        key: base64urlEncode(bytes),
        shareable: entry.shareable,
        createdAt: entry.createdAt,
      });
      bytes.fill(0);
    }
  }
  return keys;
}

/** Plaintext bytes per chunk: small enough to decrypt and parse comfortably on a phone. */
const CHUNK_TARGET_BYTES = 8 * 1024 * 1024;

function chunksFor(publicKey: string, keys: readonly BackedUpKeyV1[]): KeyBackupV1["chunks"] {
  // Split by serialised size as well as by count, so no chunk exceeds what a reader accepts.
  const chunks: KeyBackupChunkV1[] = [];
  let batch: BackedUpKeyV1[] = [];
  let batchBytes = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    chunks.push(sealBackupChunk(publicKey, { v: 1, type: "key-backup-payload", keys: batch }));
    batch = [];
    batchBytes = 0;
  };
  for (const key of keys) {
    const size = JSON.stringify(key).length + 1;
    if (batch.length >= KEY_BACKUP_LIMITS.maxKeysPerChunk || batchBytes + size > CHUNK_TARGET_BYTES) flush();
    batch.push(key);
    batchBytes += size;
  }
  flush();
  return chunks;
}

/** Refuses a backup no reader would accept: over the chunk count or the text size limit. */
function checkWritable(backup: KeyBackupV1): KeyBackupV1 {
  if (backup.chunks.length > KEY_BACKUP_LIMITS.maxChunks) {
    throw new E2eeError("PAYLOAD_TOO_LARGE", "key backup would hold more chunks than allowed: compact it with compactKeyBackup");
  }
  let textLength = 256 + backup.publicKey.length;
  for (const chunk of backup.chunks) textLength += chunk.enc.length + chunk.ciphertext.length + 32;
  if (textLength > KEY_BACKUP_LIMITS.maxTextLength) {
    throw new E2eeError("PAYLOAD_TOO_LARGE", "key backup would exceed the size a reader accepts: compact it or split it by room");
  }
  return backup;
}

/**
 * Writes every version of the given keyrings into a new backup.
 *
 * @example
 * ```ts
 * const recoveryKey = await createRecoveryKey();
 * const backup = createKeyBackup({ keyrings: [keyring], recoveryKey });
 * await server.putBackup(backup);
 * ```
 * @throws E2eeError `INVALID_KEY` for a malformed recovery public key, `PAYLOAD_TOO_LARGE` when
 *   the backup would exceed what a reader accepts (10,000 chunks, 64 MiB of JSON text).
 */
export function createKeyBackup(options: { readonly keyrings: readonly RoomKeyring[]; readonly recoveryKey: BackupRecipient }): KeyBackupV1 {
  const publicKey = publicKeyOf(options.recoveryKey);
  if (base64urlDecode(publicKey)?.length !== 32) throw new E2eeError("INVALID_KEY", "invalid backup public key");
  return checkWritable({
    v: 1,
    type: "key-backup",
    ...KEY_BACKUP_SUITE,
    publicKey,
    chunks: chunksFor(publicKey, backedUpKeys(options.keyrings, undefined)),
  });
}

/**
 * Appends versions to an existing backup using only its public key: no recovery secret needed,
 * so any of the user's devices can keep the backup current after each rotation. Returns the new
 * backup; the input is not modified.
 *
 * The backup comes from the server, so its `publicKey` is only the server's word: the device
 * passes the recovery public key it trusts (kept when the recovery key was created or last
 * restored), and a backup written to any other key is refused, so a server cannot swap in its
 * own key and collect every future room key.
 *
 * @example
 * ```ts
 * const updated = addToKeyBackup({ backup, recoveryPublicKey: trustedPublicKey, keyrings: [keyring], since: rotatedAt });
 * ```
 * @throws E2eeError `WRONG_RECOVERY_CODE` when the backup is written to another public key,
 *   `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a malformed backup, `PAYLOAD_TOO_LARGE` when
 *   it is over the size limits, already holds the most chunks allowed (compact it first), or
 *   would grow past what a reader accepts.
 */
export function addToKeyBackup(options: {
  readonly backup: unknown;
  /** The recovery public key this device trusts (`recoveryKey.publicKey`). */
  readonly recoveryPublicKey: string;
  readonly keyrings: readonly RoomKeyring[];
  /** Only versions created at or after this time (Unix ms). Default: all versions. */
  readonly since?: number | undefined;
}): KeyBackupV1 {
  if (typeof options.recoveryPublicKey !== "string") {
    throw new TypeError('"recoveryPublicKey" expected the trusted recovery public key (a string)');
  }
  const backup = parseKeyBackup(options.backup);
  if (backup.publicKey !== options.recoveryPublicKey) {
    throw new E2eeError("WRONG_RECOVERY_CODE", "this backup is written to another recovery key than the one this device trusts");
  }
  const keys = backedUpKeys(options.keyrings, options.since);
  if (keys.length === 0) return backup;
  if (backup.chunks.length >= KEY_BACKUP_LIMITS.maxChunks) {
    throw new E2eeError("PAYLOAD_TOO_LARGE", "key backup holds the most chunks allowed: compact it with compactKeyBackup");
  }
  return checkWritable({ ...backup, chunks: [...backup.chunks, ...chunksFor(backup.publicKey, keys)] });
}

/** How to unlock a backup: the 24-word code, or a recovery key (e.g. from `unlockRecoveryKey`). */
export type RestoreSecret =
  | { readonly recoveryCode: string; readonly recoveryKey?: undefined }
  | { readonly recoveryKey: RecoveryKey; readonly recoveryCode?: undefined };

function unlock(backupPublicKey: string, secret: RestoreSecret): RecoveryKey {
  const recoveryKey = secret.recoveryCode !== undefined ? recoveryKeyFromCode(secret.recoveryCode) : secret.recoveryKey;
  if (recoveryKey === undefined) throw new TypeError('expected "recoveryCode" or "recoveryKey"');
  if (recoveryKey.publicKey !== backupPublicKey) {
    throw new E2eeError("WRONG_RECOVERY_CODE", "this recovery code belongs to another backup");
  }
  return recoveryKey;
}

function readBackup(backup: unknown, secret: RestoreSecret): BackedUpKeyV1[] {
  const parsed = parseKeyBackup(backup);
  const recoveryKey = unlock(parsed.publicKey, secret);
  const seen = new Map<string, BackedUpKeyV1>();
  for (const chunk of parsed.chunks) {
    for (const key of openBackupChunk(recoveryKey, chunk).keys) {
      const id = `${key.roomId}\n${key.keyVersion}\n${key.keyId}`;
      const earlier = seen.get(id);
      if (earlier !== undefined && earlier.key !== key.key) {
        throw new E2eeError("KEY_CONFLICT", `backup holds two different keys for room "${key.roomId}" version ${key.keyVersion}`);
      }
      seen.set(id, key);
    }
  }
  return [...seen.values()];
}

/**
 * Restores every room's keyring from a backup on a brand-new device. Restored versions decrypt
 * history; the keyrings refuse to encrypt (`ROTATION_REQUIRED`, reason `restored`) until the
 * device rotates or receives a current version in a verified share, because anyone holding the
 * backup's public key (the server included) can add entries to a backup.
 *
 * @example
 * ```ts
 * const keyrings = await restoreKeyBackup({ backup, recoveryCode: typedWords });
 * ```
 * @throws E2eeError `INVALID_RECOVERY_CODE` (a malformed code), `WRONG_RECOVERY_CODE` (the code
 *   of another backup), `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` (a malformed backup),
 *   `DECRYPTION_FAILED` (a chunk does not open), `KEY_CONFLICT` (two keys for one version),
 *   `PAYLOAD_TOO_LARGE` (a backup over its size limits, a chunk of more than 100,000 keys, or
 *   more than 100,000 versions for one room). Nothing is returned unless the whole backup
 *   restores.
 */
export async function restoreKeyBackup(
  options: { readonly backup: unknown; readonly policy?: Partial<RotationPolicy> | undefined } & RestoreSecret,
): Promise<RoomKeyring[]> {
  const keys = readBackup(options.backup, options);
  const byRoom = new Map<string, RoomKeyring>();
  for (const key of keys) {
    let keyring = byRoom.get(key.roomId);
    if (keyring === undefined) {
      keyring = RoomKeyring.empty({ roomId: key.roomId, policy: options.policy });
      byRoom.set(key.roomId, keyring);
    }
    const bytes = base64urlDecode(key.key)!;
    keyringInternals.addVersion(keyring, {
      keyId: key.keyId,
      keyVersion: key.keyVersion,
      key: importRoomKeyBytes(bytes),
      shareable: key.shareable,
      origin: "backup",
      createdAt: key.createdAt,
      messageCount: 0,
    });
    bytes.fill(0);
  }
  return [...byRoom.values()];
}

/**
 * Rewrites a backup as few chunks as possible, without duplicates, so restoring it takes one
 * X25519 operation per 100,000 keys. Needs the recovery secret.
 *
 * @throws The same errors as {@link restoreKeyBackup}.
 */
export async function compactKeyBackup(options: { readonly backup: unknown } & RestoreSecret): Promise<KeyBackupV1> {
  const parsed = parseKeyBackup(options.backup);
  const keys = readBackup(parsed, options);
  return checkWritable({ ...parsed, chunks: chunksFor(parsed.publicKey, keys) });
}
