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
  return associatedDataBytes(1, roomId, messageId, keyId, keyVersion);
}

/** `LP(label) || u8(version) || LP(suite)`, the constant start of each version's associated data, once built. */
const prefixes: Partial<Record<1 | 2, Uint8Array>> = {};

/**
 * @internal The associated data of envelope `version`, for validated ids (ASCII, at most 128
 * characters): the constant prefix, then `LP(roomId) || LP(messageId) || LP(keyId) ||
 * u32be(keyVersion)`, then, for v2, `LP(senderUserId) || LP(senderDeviceId)`. The same bytes as
 * `canonicalBytes` of those fields (associated-data.test.ts checks it), written without building
 * the field list: it runs for every message sealed and opened. Callers validate every id first
 * (`assertId`); as a last guard this throws a `RangeError` for a non-ASCII or over-long id, or
 * sender ids that do not match the version (both for v2, neither for v1).
 */
export function associatedDataBytes(
  version: 1 | 2,
  roomId: string,
  messageId: string,
  keyId: string,
  keyVersion: number,
  senderUserId?: string,
  senderDeviceId?: string,
): Uint8Array {
  const signed = version === 2;
  if ((senderUserId !== undefined) !== signed || (senderDeviceId !== undefined) !== signed) {
    throw new RangeError("associated data expected both sender ids for v2 and neither for v1");
  }
  const prefix = (prefixes[version] ??= canonicalBytes([{ text: ASSOCIATED_DATA_LABEL_V1 }, { u8: version }, { text: SUITE_V1 }]));
  // Two length bytes per id (three ids, five with the sender's) and four for the key version.
  let size = prefix.length + (signed ? 10 : 6) + 4 + roomId.length + messageId.length + keyId.length;
  if (signed) size += senderUserId!.length + senderDeviceId!.length;
  const out = new Uint8Array(size);
  out.set(prefix);
  let offset = writeText(out, prefix.length, roomId);
  offset = writeText(out, offset, messageId);
  offset = writeText(out, offset, keyId);
  out[offset] = keyVersion >>> 24;
  out[offset + 1] = (keyVersion >>> 16) & 0xff;
  out[offset + 2] = (keyVersion >>> 8) & 0xff;
  out[offset + 3] = keyVersion & 0xff;
  offset += 4;
  if (signed) writeText(out, writeText(out, offset, senderUserId!), senderDeviceId!);
  return out;
}

// An identifier is at most 128 ASCII characters, so its length prefix's high byte is 0.
function writeText(out: Uint8Array, offset: number, text: string): number {
  if (text.length > 128) throw new RangeError("associated data expected ids of at most 128 characters");
  out[offset + 1] = text.length;
  let o = offset + 2;
  let codes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    codes |= code;
    out[o++] = code;
  }
  if (codes > 0x7f) throw new RangeError("associated data expected ASCII ids");
  return o;
}
