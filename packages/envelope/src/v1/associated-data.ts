/**
 * The canonical associated data of envelope v1 (SPEC.md §4). Every field is length-prefixed,
 * so no two different contexts encode to the same bytes (no concatenation ambiguity such as
 * room "a" + message "bc" versus room "ab" + message "c").
 *
 * @module
 */
import { assertId, assertKeyVersion } from "../fields";

/** The context bound into every v1 ciphertext besides the version and suite. */
export interface AssociatedDataV1 {
  /** The room (channel) the message belongs to. */
  readonly roomId: string;
  /** The message's id, unique within the room. */
  readonly messageId: string;
  /** The app's name for the room key. */
  readonly keyId: string;
  /** The key's version, 1 to 2^31 − 1. */
  readonly keyVersion: number;
}

/** Domain-separation label: the first field of every v1 associated data. */
export const ASSOCIATED_DATA_LABEL_V1 = "domvia-e2ee/envelope";

/** The cipher suite identifier of envelope v1 (SPEC.md §3). */
export const SUITE_V1 = "xaes256gcm-kc";

/**
 * Encodes the v1 associated data:
 *
 * ```
 * AD = LP(label) || u8(1) || LP(suite) || LP(roomId) || LP(messageId) || LP(keyId) || u32be(keyVersion)
 * LP(x) = u16be(byteLength(x)) || x          (x is ASCII, so bytes are its characters)
 * ```
 *
 * @example
 * ```ts
 * const ad = encodeAssociatedDataV1({ roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 });
 * ```
 * @throws TypeError when an id is not a valid identifier or `keyVersion` is out of range.
 */
export function encodeAssociatedDataV1(context: AssociatedDataV1): Uint8Array {
  const { roomId, messageId, keyId, keyVersion } = context;
  assertId(roomId, "roomId");
  assertId(messageId, "messageId");
  assertId(keyId, "keyId");
  assertKeyVersion(keyVersion);
  const fields = [ASSOCIATED_DATA_LABEL_V1, SUITE_V1, roomId, messageId, keyId];
  let size = 1 + 4;
  for (const field of fields) size += 2 + field.length;
  const out = new Uint8Array(size);
  let offset = 0;
  const writeField = (field: string): void => {
    out[offset++] = field.length >>> 8;
    out[offset++] = field.length & 0xff;
    for (let i = 0; i < field.length; i++) out[offset++] = field.charCodeAt(i);
  };
  writeField(ASSOCIATED_DATA_LABEL_V1);
  out[offset++] = 1;
  writeField(SUITE_V1);
  writeField(roomId);
  writeField(messageId);
  writeField(keyId);
  out[offset++] = keyVersion >>> 24;
  out[offset++] = (keyVersion >>> 16) & 0xff;
  out[offset++] = (keyVersion >>> 8) & 0xff;
  out[offset++] = keyVersion & 0xff;
  return out;
}
