/**
 * Envelope v1: the JSON object that carries one encrypted chat message (SPEC.md §3).
 * This file is the wire contract; a change here is a breaking change and needs a new version.
 *
 * @module
 */
import * as z from "zod/mini";
import { ID_PATTERN, isCanonicalBase64url } from "../fields";
import { ENVELOPE_LIMITS, base64urlLength, maxCiphertextBytes } from "../limits";
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

const id = z.string().check(z.maxLength(ENVELOPE_LIMITS.maxIdLength, { abort: true }), z.regex(ID_PATTERN));

const fixedBase64url = (bytes: number): z.ZodMiniType<string> => {
  const length = base64urlLength(bytes);
  return z.string().check(
    z.length(length, { abort: true }),
    z.refine(isCanonicalBase64url, { message: "not canonical base64url" }),
  );
};

/** Smallest ciphertext: 1 byte of padded plaintext (the 0x80 marker) plus the tag. */
const MIN_CIPHERTEXT_CHARS = base64urlLength(1 + ENVELOPE_LIMITS.tagBytes);

/**
 * The zod schema of envelope v1 for a plaintext limit. The ciphertext's length is checked
 * first and aborts the parse, so an oversized string is never scanned or decoded.
 */
export function createEnvelopeV1Schema(maxPlaintextBytes: number): z.ZodMiniType<EnvelopeV1> {
  const maxCiphertextChars = base64urlLength(maxCiphertextBytes(maxPlaintextBytes));
  return z.strictObject({
    v: z.literal(1),
    suite: z.literal(SUITE_V1),
    roomId: id,
    messageId: id,
    keyId: id,
    keyVersion: z.int().check(z.minimum(1), z.maximum(ENVELOPE_LIMITS.maxKeyVersion)),
    nonce: fixedBase64url(ENVELOPE_LIMITS.nonceBytes),
    commitment: fixedBase64url(ENVELOPE_LIMITS.commitmentBytes),
    ciphertext: z.string().check(
      z.maxLength(maxCiphertextChars, { abort: true }),
      z.minLength(MIN_CIPHERTEXT_CHARS, { abort: true }),
      z.refine(isCanonicalBase64url, { message: "not canonical base64url" }),
    ),
  }) as z.ZodMiniType<EnvelopeV1>;
}
