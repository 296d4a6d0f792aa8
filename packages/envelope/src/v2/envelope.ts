/**
 * Envelope v2: a v1 message envelope signed by the sending device (SPEC.md §8).
 *
 * Every room member holds the room key, so the AEAD alone proves only "a member wrote this".
 * v2 adds the sender's user and device ids to the associated data and an Ed25519 signature by
 * that device's signing key over the associated data and every byte field, so a member cannot
 * pass a message off as another member's.
 *
 * @module
 */
import * as z from "zod/mini";
import { canonicalBytes } from "../canonical";
import { assertId, assertKeyVersion } from "../fields";
import { ENVELOPE_LIMITS } from "../limits";
import { fixedBytesSchema, idSchema, keyVersionSchema } from "../schema-fields";
import { SUITE_V1, associatedDataBytes } from "../v1/associated-data";
import { ciphertextSchema, type EnvelopeV1 } from "../v1/schema";

/** A signed message envelope: the v1 fields with `v: 2`, plus sender and signature. */
export interface EnvelopeV2 extends Omit<EnvelopeV1, "v"> {
  /** Format version: the literal `2`. */
  readonly v: 2;
  /** The sending user. Bound into the associated data and the signature. */
  readonly senderUserId: string;
  /** The sending device. Its bundle's signing key verifies `signature`. */
  readonly senderDeviceId: string;
  /** Ed25519 signature (64 bytes, unpadded base64url, 86 characters), see SPEC.md §8.3. */
  readonly signature: string;
}

/** The context of a v2 ciphertext: v1's plus the sender. */
export interface AssociatedDataV2 {
  readonly roomId: string;
  readonly messageId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly senderUserId: string;
  readonly senderDeviceId: string;
}

/** Label that starts the signature input of a v2 envelope. */
export const ENVELOPE_SIGNATURE_LABEL_V2 = "domvia-e2ee/envelope-signature";

/**
 * v2 associated data: v1's layout with version byte 2 and the sender appended.
 *
 * ```
 * AD = text(label) || u8(2) || text(suite) || text(roomId) || text(messageId) || text(keyId)
 *      || u32(keyVersion) || text(senderUserId) || text(senderDeviceId)
 * ```
 *
 * @example
 * ```ts
 * encodeAssociatedDataV2({ roomId: "r", messageId: "m", keyId: "k", keyVersion: 1, senderUserId: "u", senderDeviceId: "d" });
 * ```
 * @throws TypeError when an id or the key version is invalid.
 */
export function encodeAssociatedDataV2(context: AssociatedDataV2): Uint8Array {
  const { roomId, messageId, keyId, keyVersion, senderUserId, senderDeviceId } = context;
  assertId(roomId, "roomId");
  assertId(messageId, "messageId");
  assertId(keyId, "keyId");
  assertKeyVersion(keyVersion);
  assertId(senderUserId, "senderUserId");
  assertId(senderDeviceId, "senderDeviceId");
  return associatedDataBytes(2, roomId, messageId, keyId, keyVersion, senderUserId, senderDeviceId);
}

/**
 * The bytes a v2 sender signs, from the decoded byte fields:
 * `text(label) || bytes(AD) || bytes(nonce) || bytes(commitment) || blob(ciphertext)`.
 *
 * @example
 * ```ts
 * const input = envelopeSignatureInputV2(ad, nonce, commitment, ciphertext);
 * ```
 */
export function envelopeSignatureInputV2(
  associatedData: Uint8Array,
  nonce: Uint8Array,
  commitment: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  return canonicalBytes([
    { text: ENVELOPE_SIGNATURE_LABEL_V2 },
    { bytes: associatedData },
    { bytes: nonce },
    { bytes: commitment },
    { blob: ciphertext },
  ]);
}

/** The zod schema of envelope v2 for a plaintext limit. */
export function createEnvelopeV2Schema(maxPlaintextBytes: number): z.ZodMiniType<EnvelopeV2> {
  return z.strictObject({
    v: z.literal(2),
    suite: z.literal(SUITE_V1),
    roomId: idSchema(),
    messageId: idSchema(),
    keyId: idSchema(),
    keyVersion: keyVersionSchema(),
    senderUserId: idSchema(),
    senderDeviceId: idSchema(),
    nonce: fixedBytesSchema(ENVELOPE_LIMITS.nonceBytes),
    commitment: fixedBytesSchema(ENVELOPE_LIMITS.commitmentBytes),
    ciphertext: ciphertextSchema(maxPlaintextBytes),
    signature: fixedBytesSchema(ENVELOPE_LIMITS.signatureBytes),
  }) as z.ZodMiniType<EnvelopeV2>;
}
