/**
 * Room key share v1: one room key version, encrypted with HPKE to one recipient device and
 * signed by the sending device (SPEC.md §10). A server stores and routes shares by their
 * recipient fields without being able to read them.
 *
 * @module
 */
import * as z from "zod/mini";
import { canonicalBytes } from "./canonical";
import { ENVELOPE_LIMITS } from "./limits";
import { fixedBytesSchema, idSchema, keyVersionSchema, lazySchema } from "./schema-fields";
import { parseWire, safeParseWire, type SafeParseResult, type WireSpec } from "./wire";

/**
 * HPKE algorithm identifiers (RFC 9180 §7) a share may name. Only the first suite exists today;
 * the `kem` field lets a post-quantum hybrid KEM be added later without a new share version.
 */
export const KEY_SHARE_ALGORITHMS: Readonly<{ kem: readonly number[]; kdf: readonly number[]; aead: readonly number[] }> =
  Object.freeze({
    /** 0x0020 DHKEM(X25519, HKDF-SHA256). */
    kem: Object.freeze([0x0020]),
    /** 0x0001 HKDF-SHA256. */
    kdf: Object.freeze([0x0001]),
    /** 0x0002 AES-256-GCM. */
    aead: Object.freeze([0x0002]),
  });

/** Bytes of a share's plaintext: the 32-byte room key and one flags byte. */
export const KEY_SHARE_PLAINTEXT_BYTES = 33;

/** The fields of a share that are bound into HPKE `info` and the signature. */
export interface KeyShareContext {
  /** HPKE KEM id: 32 (0x0020, DHKEM(X25519, HKDF-SHA256)). */
  readonly kem: number;
  /** HPKE KDF id: 1 (HKDF-SHA256). */
  readonly kdf: number;
  /** HPKE AEAD id: 2 (AES-256-GCM). */
  readonly aead: number;
  /** The room the key belongs to. */
  readonly roomId: string;
  /** The key's id. */
  readonly keyId: string;
  /** The key's version. */
  readonly keyVersion: number;
  /** The user whose device sent the share. */
  readonly senderUserId: string;
  /** The device that sent and signed the share. */
  readonly senderDeviceId: string;
  /** The user whose device may open the share. */
  readonly recipientUserId: string;
  /** The one device that may open the share; servers route by it. */
  readonly recipientDeviceId: string;
}

/** One room key version for one recipient device. */
export interface RoomKeyShareV1 extends KeyShareContext {
  /** Format version: the literal `1`. */
  readonly v: 1;
  /** Object type: the literal `"room-key-share"`. */
  readonly type: "room-key-share";
  /** HPKE encapsulated key (the ephemeral X25519 public key, 32 bytes). */
  readonly enc: string;
  /** HPKE ciphertext of the 33-byte plaintext (49 bytes). */
  readonly ciphertext: string;
  /** Ed25519 signature of the sender device over {@link keyShareSignatureInput} (64 bytes). */
  readonly signature: string;
}

/** A key share of any supported version. */
export type RoomKeyShare = RoomKeyShareV1;

/** Label that starts a share's HPKE `info`. */
export const KEY_SHARE_INFO_LABEL = "domvia-e2ee/room-key-share";
/** Label that starts a share's signature input. */
export const KEY_SHARE_SIGNATURE_LABEL = "domvia-e2ee/room-key-share-signature";

/**
 * HPKE `info` of a share:
 * `text(label) || u8(1) || u16(kem) || u16(kdf) || u16(aead) || text(roomId) || text(keyId)
 *  || u32(keyVersion) || text(senderUserId) || text(senderDeviceId) || text(recipientUserId)
 *  || text(recipientDeviceId) || bytes(senderSigningKey) || bytes(recipientAgreementKey)`.
 */
export function keyShareInfo(
  context: KeyShareContext,
  senderSigningKey: Uint8Array,
  recipientAgreementKey: Uint8Array,
): Uint8Array {
  return canonicalBytes([
    { text: KEY_SHARE_INFO_LABEL },
    { u8: 1 },
    { u16: context.kem },
    { u16: context.kdf },
    { u16: context.aead },
    { text: context.roomId },
    { text: context.keyId },
    { u32: context.keyVersion },
    { text: context.senderUserId },
    { text: context.senderDeviceId },
    { text: context.recipientUserId },
    { text: context.recipientDeviceId },
    { bytes: senderSigningKey },
    { bytes: recipientAgreementKey },
  ]);
}

/** The bytes a sender signs: `text(label) || bytes(info) || bytes(enc) || bytes(ciphertext)`. */
export function keyShareSignatureInput(info: Uint8Array, enc: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return canonicalBytes([{ text: KEY_SHARE_SIGNATURE_LABEL }, { bytes: info }, { bytes: enc }, { bytes: ciphertext }]);
}

const algorithm = (allowed: readonly number[]): z.ZodMiniType<number> =>
  z.int().check(z.refine<number>((value) => allowed.includes(value), { message: "unsupported algorithm" }));

const schemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("room-key-share"),
      kem: algorithm(KEY_SHARE_ALGORITHMS.kem),
      kdf: algorithm(KEY_SHARE_ALGORITHMS.kdf),
      aead: algorithm(KEY_SHARE_ALGORITHMS.aead),
      roomId: idSchema(),
      keyId: idSchema(),
      keyVersion: keyVersionSchema(),
      senderUserId: idSchema(),
      senderDeviceId: idSchema(),
      recipientUserId: idSchema(),
      recipientDeviceId: idSchema(),
      enc: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
      ciphertext: fixedBytesSchema(KEY_SHARE_PLAINTEXT_BYTES + ENVELOPE_LIMITS.tagBytes),
      signature: fixedBytesSchema(ENVELOPE_LIMITS.signatureBytes),
    }) as z.ZodMiniType<RoomKeyShareV1>,
);

const spec: WireSpec<RoomKeyShare> = {
  name: "room key share",
  type: "room-key-share",
  versions: [1],
  maxTextLength: 4096,
  schema: schemaV1,
};

/**
 * Validates a key share's shape, e.g. on a server before storing it in a device's mailbox.
 *
 * @example
 * ```ts
 * const result = safeParseRoomKeyShare(body);
 * if (result.success) mailbox(result.data.recipientDeviceId).push(result.data);
 * ```
 */
export function safeParseRoomKeyShare(input: unknown): SafeParseResult<RoomKeyShare> {
  return safeParseWire(input, spec);
}

/**
 * Validates a key share's shape and returns a frozen copy.
 *
 * @example
 * ```ts
 * const share = parseRoomKeyShare(body);
 * ```
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE` (JSON text
 *   over 4,096 characters).
 */
export function parseRoomKeyShare(input: unknown): RoomKeyShare {
  return parseWire(input, spec);
}
