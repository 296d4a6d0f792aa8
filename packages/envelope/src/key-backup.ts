/**
 * Key backups (SPEC.md §12): room key versions encrypted to a recovery public key, so any of a
 * user's devices can add versions without holding the recovery secret, and a new device with
 * the recovery code (or passphrase) restores them. A server stores backups without reading them.
 *
 * @module
 */
import * as z from "zod/mini";
import { canonicalBytes } from "./canonical";
import { ENVELOPE_LIMITS } from "./limits";
import {
  boundedBytesSchema,
  fixedBytesSchema,
  idSchema,
  keyVersionSchema,
  lazySchema,
  timestampSchema,
} from "./schema-fields";
import { KEY_SHARE_ALGORITHMS } from "./key-share";
import { parseWire, safeParseWire, type SafeParseResult, type WireSpec } from "./wire";

/** Bounds of a backup. */
export const KEY_BACKUP_LIMITS: Readonly<{ maxChunks: number; maxChunkBytes: number; maxKeysPerChunk: number; maxTextLength: number }> =
  Object.freeze({
    /** Appends before a backup must be compacted (restore and rewrite as one chunk). */
    maxChunks: 10_000,
    /** Largest chunk ciphertext: room for 100,000 keys of JSON. */
    maxChunkBytes: 32 * 1024 * 1024,
    /** Keys in one chunk. */
    maxKeysPerChunk: 100_000,
    /** Largest backup JSON text. */
    maxTextLength: 64 * 1024 * 1024,
  });

/** One append to a backup: an HPKE ciphertext to the backup's public key. */
export interface KeyBackupChunkV1 {
  /** HPKE encapsulated key (32 bytes). */
  readonly enc: string;
  /** HPKE ciphertext of a {@link KeyBackupPayloadV1} as UTF-8 JSON. */
  readonly ciphertext: string;
}

/** An encrypted backup of room keys. Public: safe to store on a server. */
export interface KeyBackupV1 {
  /** Format version: the literal `1`. */
  readonly v: 1;
  /** Object type: the literal `"key-backup"`. */
  readonly type: "key-backup";
  /** HPKE KEM id: 32 (DHKEM(X25519, HKDF-SHA256)). */
  readonly kem: number;
  /** HPKE KDF id: 1 (HKDF-SHA256). */
  readonly kdf: number;
  /** HPKE AEAD id: 2 (AES-256-GCM). */
  readonly aead: number;
  /** The recovery public key (X25519, 32 bytes) every chunk is encrypted to. */
  readonly publicKey: string;
  /** Appends, oldest first. */
  readonly chunks: readonly KeyBackupChunkV1[];
}

/** A backup of any supported version. */
export type KeyBackup = KeyBackupV1;

/** One room key version inside a backup or a keyring state. */
export interface BackedUpKeyV1 {
  readonly roomId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  /** The 32-byte room key, base64url. Secret. */
  readonly key: string;
  /** Whether the version may be shared with members who join later. */
  readonly shareable: boolean;
  /** When the version was created, Unix milliseconds. */
  readonly createdAt: number;
}

/** The plaintext of a backup chunk. */
export interface KeyBackupPayloadV1 {
  readonly v: 1;
  readonly type: "key-backup-payload";
  readonly keys: readonly BackedUpKeyV1[];
}

/** Label that starts a backup chunk's HPKE `info`. */
export const KEY_BACKUP_INFO_LABEL = "domvia-e2ee/key-backup";

/** HPKE `info` of every chunk: `text(label) || u8(1) || u16(kem) || u16(kdf) || u16(aead) || bytes(publicKey)`. */
export function keyBackupInfo(kem: number, kdf: number, aead: number, publicKey: Uint8Array): Uint8Array {
  return canonicalBytes([
    { text: KEY_BACKUP_INFO_LABEL },
    { u8: 1 },
    { u16: kem },
    { u16: kdf },
    { u16: aead },
    { bytes: publicKey },
  ]);
}

const algorithm = (allowed: readonly number[]): z.ZodMiniType<number> =>
  z.int().check(z.refine<number>((value) => allowed.includes(value), { message: "unsupported algorithm" }));

/** A 32-byte secret key as base64url. */
export const secretKeySchema: () => z.ZodMiniType<string> = lazySchema(() => fixedBytesSchema(32));

/**
 * The fields of one key version, shared by backups and keyring states. Call it only inside a
 * schema builder: each call builds a new `shareable` schema (the others are shared).
 */
export function keyVersionFields(): {
  readonly keyId: z.ZodMiniType<string>;
  readonly keyVersion: z.ZodMiniType<number>;
  readonly key: z.ZodMiniType<string>;
  readonly shareable: z.ZodMiniType<boolean>;
  readonly createdAt: z.ZodMiniType<number>;
} {
  return {
    keyId: idSchema(),
    keyVersion: keyVersionSchema(),
    key: secretKeySchema(),
    shareable: z.boolean(),
    createdAt: timestampSchema(),
  };
}

/** One backed-up key version. */
export const backedUpKeySchema: () => z.ZodMiniType<BackedUpKeyV1> = lazySchema(
  () =>
    z.strictObject({
      roomId: idSchema(),
      ...keyVersionFields(),
    }) as z.ZodMiniType<BackedUpKeyV1>,
);

const backupSchemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("key-backup"),
      kem: algorithm(KEY_SHARE_ALGORITHMS.kem),
      kdf: algorithm(KEY_SHARE_ALGORITHMS.kdf),
      aead: algorithm(KEY_SHARE_ALGORITHMS.aead),
      publicKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
      chunks: z.array(
        z.strictObject({
          enc: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
          ciphertext: boundedBytesSchema(1 + ENVELOPE_LIMITS.tagBytes, KEY_BACKUP_LIMITS.maxChunkBytes),
        }),
      ).check(z.maxLength(KEY_BACKUP_LIMITS.maxChunks, { abort: true })),
    }) as z.ZodMiniType<KeyBackupV1>,
);

const payloadSchemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("key-backup-payload"),
      keys: z.array(backedUpKeySchema()).check(z.maxLength(KEY_BACKUP_LIMITS.maxKeysPerChunk, { abort: true })),
    }) as z.ZodMiniType<KeyBackupPayloadV1>,
);

const backupSpec: WireSpec<KeyBackup> = {
  name: "key backup",
  type: "key-backup",
  versions: [1],
  maxTextLength: KEY_BACKUP_LIMITS.maxTextLength,
  schema: backupSchemaV1,
  oversizedPaths: ["chunks", "chunks.*.ciphertext"],
};

const payloadSpec: WireSpec<KeyBackupPayloadV1> = {
  name: "key backup payload",
  type: "key-backup-payload",
  versions: [1],
  maxTextLength: KEY_BACKUP_LIMITS.maxChunkBytes,
  schema: payloadSchemaV1,
  oversizedPaths: ["keys"],
};

/**
 * Validates a backup's shape.
 *
 * @example
 * ```ts
 * const result = safeParseKeyBackup(body);
 * ```
 */
export function safeParseKeyBackup(input: unknown): SafeParseResult<KeyBackup> {
  return safeParseWire(input, backupSpec);
}

/**
 * Validates a backup's shape and returns a frozen copy.
 *
 * @example
 * ```ts
 * const backup = parseKeyBackup(body);
 * ```
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`.
 */
export function parseKeyBackup(input: unknown): KeyBackup {
  return parseWire(input, backupSpec);
}

/**
 * Validates a decrypted backup chunk.
 *
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`.
 */
export function parseKeyBackupPayload(input: unknown): KeyBackupPayloadV1 {
  return parseWire(input, payloadSpec);
}

/**
 * Bounds on passphrase KDF cost, so a stored blob can neither be trivially weak nor stall the
 * device that unlocks it: N a power of two from 2^10 to 2^20, r from 1 to 16, p from 1 to 4,
 * memory 128·r·(N + p + 1) at most 1 GiB, and work N·r·p at most 2^24 (16 times the default).
 */
export const SCRYPT_LIMITS: Readonly<{ minN: number; maxN: number; maxR: number; maxP: number; maxMemoryBytes: number; maxWork: number }> =
  Object.freeze({
    minN: 2 ** 10,
    maxN: 2 ** 20,
    maxR: 16,
    maxP: 4,
    maxMemoryBytes: 2 ** 30,
    maxWork: 2 ** 24,
  });

/** Why scrypt parameters are out of bounds, or `undefined` when they are acceptable. */
export function scryptParamsProblem(n: number, r: number, p: number): string | undefined {
  const L = SCRYPT_LIMITS;
  if (!Number.isInteger(n) || n < L.minN || n > L.maxN || (n & (n - 1)) !== 0) {
    return `"n" expected a power of two from ${L.minN} to ${L.maxN}, got ${String(n)}`;
  }
  if (!Number.isInteger(r) || r < 1 || r > L.maxR) return `"r" expected an integer from 1 to ${L.maxR}, got ${String(r)}`;
  if (!Number.isInteger(p) || p < 1 || p > L.maxP) return `"p" expected an integer from 1 to ${L.maxP}, got ${String(p)}`;
  if (128 * r * (n + p + 1) > L.maxMemoryBytes) return `scrypt memory 128*r*(n+p+1) exceeds ${L.maxMemoryBytes} bytes`;
  if (n * r * p > L.maxWork) return `scrypt work n*r*p exceeds ${L.maxWork}`;
  return undefined;
}

/** Passphrase KDF parameters stored with a protected recovery key. */
export interface ScryptParamsV1 {
  readonly name: "scrypt";
  /** CPU/memory cost, a power of two (see {@link SCRYPT_LIMITS}). */
  readonly n: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
  /** 16 random bytes, base64url. */
  readonly salt: string;
}

/** A recovery key encrypted under a passphrase (SPEC.md §13). Public, but guessable offline. */
export interface ProtectedRecoveryKeyV1 {
  readonly v: 1;
  readonly type: "protected-recovery-key";
  /** The recovery public key this secret belongs to. */
  readonly publicKey: string;
  readonly kdf: ScryptParamsV1;
  /** AES-256-GCM nonce, 12 bytes. */
  readonly nonce: string;
  /** AES-256-GCM ciphertext of the 32-byte recovery secret plus tag (48 bytes). */
  readonly ciphertext: string;
}

/** Label that starts a protected recovery key's associated data. */
export const PROTECTED_RECOVERY_KEY_LABEL = "domvia-e2ee/protected-recovery-key";

/**
 * Associated data of a protected recovery key:
 * `text(label) || u8(1) || text("scrypt") || u32(n) || u32(r) || u32(p) || bytes(salt) || bytes(publicKey)`.
 */
export function protectedRecoveryKeyAssociatedData(params: ScryptParamsV1, salt: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return canonicalBytes([
    { text: PROTECTED_RECOVERY_KEY_LABEL },
    { u8: 1 },
    { text: params.name },
    { u32: params.n },
    { u32: params.r },
    { u32: params.p },
    { bytes: salt },
    { bytes: publicKey },
  ]);
}

const protectedSchemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("protected-recovery-key"),
      publicKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
      kdf: z
        .strictObject({
          name: z.literal("scrypt"),
          n: z.int(),
          r: z.int(),
          p: z.int(),
          salt: fixedBytesSchema(16),
        })
        .check(z.refine((kdf) => scryptParamsProblem(kdf.n, kdf.r, kdf.p) === undefined, { message: "scrypt cost out of bounds" })),
      nonce: fixedBytesSchema(12),
      ciphertext: fixedBytesSchema(32 + ENVELOPE_LIMITS.tagBytes),
    }) as z.ZodMiniType<ProtectedRecoveryKeyV1>,
);

const protectedSpec: WireSpec<ProtectedRecoveryKeyV1> = {
  name: "protected recovery key",
  type: "protected-recovery-key",
  versions: [1],
  maxTextLength: 4096,
  schema: protectedSchemaV1,
};

/**
 * Validates a passphrase-protected recovery key's shape and returns a frozen copy.
 *
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE` (JSON text
 *   over 4,096 characters).
 */
export function parseProtectedRecoveryKey(input: unknown): ProtectedRecoveryKeyV1 {
  return parseWire(input, protectedSpec);
}
