/**
 * The canonical associated data of envelope v1 (SPEC.md §4). Every field is length-prefixed,
 * so no two different contexts encode to the same bytes (no concatenation ambiguity such as
 * room "a" + message "bc" versus room "ab" + message "c").
 *
 * @module
 */
import { canonicalBytes } from "../canonical";
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
  return canonicalBytes([
    { text: ASSOCIATED_DATA_LABEL_V1 },
    { u8: 1 },
    { text: SUITE_V1 },
    { text: roomId },
    { text: messageId },
    { text: keyId },
    { u32: keyVersion },
  ]);
}
