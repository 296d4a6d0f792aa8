/**
 * Envelope v1: the JSON object that carries one encrypted chat message (SPEC.md §3).
 * This file is the wire contract; a change here is a breaking change and needs a new version.
 *
 * @module
 */
import * as z from "zod/mini";
import { ENVELOPE_LIMITS, maxCiphertextBytes } from "../limits";
import { boundedBytesSchema, fixedBytesSchema, idSchema, keyVersionSchema } from "../schema-fields";
import { SUITE_V1 } from "./associated-data";

/**
 * An encrypted chat message as it travels and is stored. A server may read every field; none
 * reveals content. Produced by `encryptChatJson`, opened by `decryptChatJson`.
 */
export interface EnvelopeV1 {
  /** Format version: the literal `1`. */
  readonly v: 1;
  /** Cipher suite: `"xaes256gcm-kc"` (XAES-256-GCM with an HMAC-SHA-256 key commitment). */
  readonly suite: typeof SUITE_V1;
  /** The room the sender encrypted for. Receivers compare it to the channel it arrived on. */
  readonly roomId: string;
  /** The message id the sender encrypted for. Receivers compare it to the event's id. */
  readonly messageId: string;
  /** The app's name for the room key, so receivers can find or request it. */
  readonly keyId: string;
  /** The version of that key, an integer from 1 to 2^31 − 1. */
  readonly keyVersion: number;
  /** 24 random bytes, unpadded base64url (32 characters). */
  readonly nonce: string;
  /** HMAC-SHA-256 key commitment, 32 bytes, unpadded base64url (43 characters). */
  readonly commitment: string;
  /** AES-256-GCM ciphertext of the padded JSON followed by the 16-byte tag, unpadded base64url. */
  readonly ciphertext: string;
}

/**
 * The ciphertext field for a plaintext limit: 1 byte of padded plaintext (the 0x80 marker)
 * plus the tag at least; the Padmé length of the limit plus one, plus the tag, at most. The
 * length is checked first and aborts the parse, so an oversized string is never scanned.
 */
export function ciphertextSchema(maxPlaintextBytes: number): z.ZodMiniType<string> {
  return boundedBytesSchema(1 + ENVELOPE_LIMITS.tagBytes, maxCiphertextBytes(maxPlaintextBytes));
}

/** The zod schema of envelope v1 for a plaintext limit. */
export function createEnvelopeV1Schema(maxPlaintextBytes: number): z.ZodMiniType<EnvelopeV1> {
  return z.strictObject({
    v: z.literal(1),
    suite: z.literal(SUITE_V1),
    roomId: idSchema(),
    messageId: idSchema(),
    keyId: idSchema(),
    keyVersion: keyVersionSchema(),
    nonce: fixedBytesSchema(ENVELOPE_LIMITS.nonceBytes),
    commitment: fixedBytesSchema(ENVELOPE_LIMITS.commitmentBytes),
    ciphertext: ciphertextSchema(maxPlaintextBytes),
  }) as z.ZodMiniType<EnvelopeV1>;
}
