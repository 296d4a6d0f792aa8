/**
 * Backup chunks (SPEC.md §12.2): a list of room key versions as JSON, encrypted with HPKE base
 * mode to the recovery public key. One chunk per append, so restoring costs one X25519 per
 * chunk, not per key.
 *
 * @module
 */
import {
  E2eeError,
  KEY_BACKUP_LIMITS,
  decryptionFailed,
  keyBackupInfo,
  parseKeyBackupPayload,
  safeParseJson,
  type KeyBackupChunkV1,
  type KeyBackupPayloadV1,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode, utf8Decode, utf8Encode } from "./bytes";
import { HpkeError, hpkeOpen, hpkeSeal } from "./hpke";
import { recoverySecret, type RecoveryKey } from "./recovery";
import { EMPTY_AAD, HPKE_SUITE } from "./suite";

const { kem: KEM, kdf: KDF, aead: AEAD } = HPKE_SUITE;

/** The HPKE algorithm ids backups use. */
export const KEY_BACKUP_SUITE: Readonly<{ kem: number; kdf: number; aead: number }> = HPKE_SUITE;

function decodePublicKey(publicKey: string): Uint8Array {
  const bytes = base64urlDecode(publicKey);
  if (bytes === undefined || bytes.length !== 32) throw new E2eeError("INVALID_KEY", "invalid backup public key");
  return bytes;
}

/**
 * Encrypts backup entries to a recovery public key. Needs no secret.
 *
 * @throws E2eeError `INVALID_KEY` for a malformed or low-order public key, `INVALID_ENVELOPE`
 *   for a malformed payload, `PAYLOAD_TOO_LARGE` for more keys than one chunk holds.
 */
export function sealBackupChunk(publicKey: string, payload: KeyBackupPayloadV1): KeyBackupChunkV1 {
  if (payload.keys.length > KEY_BACKUP_LIMITS.maxKeysPerChunk) {
    throw new E2eeError("PAYLOAD_TOO_LARGE", `a backup chunk holds at most ${KEY_BACKUP_LIMITS.maxKeysPerChunk} keys`);
  }
  // The same schema the reader applies, so no device can write a chunk no device can restore.
  const checked = parseKeyBackupPayload(payload);
  const recipientPublicKey = decodePublicKey(publicKey);
  const plaintext = utf8Encode(JSON.stringify(checked));
  try {
    const sealed = hpkeSeal({ recipientPublicKey, info: keyBackupInfo(KEM, KDF, AEAD, recipientPublicKey), aad: EMPTY_AAD, plaintext });
    return { enc: base64urlEncode(sealed.enc), ciphertext: base64urlEncode(sealed.ciphertext) };
  } catch (error) {
    // Only HPKE's own refusal of the key is a key problem; anything else keeps its meaning.
    if (error instanceof HpkeError) throw new E2eeError("INVALID_KEY", "invalid backup public key");
    throw error;
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Decrypts one chunk with the recovery key and validates its entries.
 *
 * @throws E2eeError `DECRYPTION_FAILED` when the chunk does not open, `INVALID_ENVELOPE` when
 *   its content is malformed, `PAYLOAD_TOO_LARGE` when it lists more than 100,000 keys.
 */
export function openBackupChunk(recoveryKey: RecoveryKey, chunk: KeyBackupChunkV1): KeyBackupPayloadV1 {
  const secret = recoverySecret(recoveryKey);
  const publicKey = decodePublicKey(recoveryKey.publicKey);
  // A chunk is stored data: a member that is missing or not a string is malformed, not a crash.
  const enc = typeof chunk?.enc === "string" ? base64urlDecode(chunk.enc) : undefined;
  const ciphertext = typeof chunk?.ciphertext === "string" ? base64urlDecode(chunk.ciphertext) : undefined;
  if (enc === undefined || ciphertext === undefined) throw new E2eeError("INVALID_ENVELOPE", "invalid key backup: bad base64url");
  let plaintext: Uint8Array;
  try {
    plaintext = hpkeOpen({ recipientSecretKey: secret.secretKey, recipientPublicKey: publicKey, enc, info: keyBackupInfo(KEM, KDF, AEAD, publicKey), aad: EMPTY_AAD, ciphertext });
  } catch {
    throw decryptionFailed();
  }
  try {
    const text = utf8Decode(plaintext);
    if (text === undefined) throw decryptionFailed();
    const json = safeParseJson(text, KEY_BACKUP_LIMITS.maxChunkBytes);
    if (!json.ok) throw decryptionFailed();
    return parseKeyBackupPayload(json.value);
  } finally {
    plaintext.fill(0);
  }
}
