/**
 * Sealing chat JSON into envelope v1 and opening it again (SPEC.md §5 and §6).
 *
 * @module
 */
import { equalBytes } from "@noble/ciphers/utils.js";
import {
  ContextMismatchError,
  E2eeError,
  SUITE_V1,
  UnknownKeyError,
  assertId,
  checkMaxPlaintextBytes,
  decryptionFailed,
  encodeAssociatedDataV1,
  parseEnvelope,
  safeParseJson,
  type EnvelopeV1,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode, randomBytes, utf8Decode, utf8Encode } from "./bytes";
import { pad, unpad, type PaddingMode } from "./padding";
import { describeValue, isRoomKey, keyCommitment, keyState, type RoomKey } from "./room-key";
import { XAES_NONCE_BYTES } from "./xaes-256-gcm";

/** A JSON value, as `decryptChatJson` returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Where a message is sent: bound into its ciphertext. */
export interface EncryptChatJsonContext {
  /** The room (private channel) the message is for. */
  readonly roomId: string;
  /** The message id, unique within the room; the receiver must know it from the event. */
  readonly messageId: string;
  /** The app's name for the room key, so receivers can find or request it. */
  readonly keyId: string;
  /** The room key's version, an integer from 1 to 2^31 − 1. */
  readonly keyVersion: number;
  /** Length-hiding padding; default `"padme"`. */
  readonly padding?: PaddingMode;
  /** The largest JSON, in UTF-8 bytes, to accept; default 65,536. */
  readonly maxPlaintextBytes?: number;
}

/**
 * Where a message was received: from the channel and event it arrived on, never from the
 * envelope itself.
 */
export interface DecryptChatJsonContext {
  /** The room (private channel) the event arrived on. */
  readonly roomId: string;
  /** The id of the event that carried it. */
  readonly messageId: string;
  /** The largest JSON, in UTF-8 bytes, to accept; default 65,536. */
  readonly maxPlaintextBytes?: number;
}

/** What a {@link RoomKeyResolver} is asked for: the key an envelope names. */
export interface RoomKeyReference {
  readonly roomId: string;
  readonly keyId: string;
  readonly keyVersion: number;
}

/**
 * Finds the key an envelope names, or returns `undefined` when it is not known (then
 * `decryptChatJson` fails with `UNKNOWN_KEY`, carrying the reference).
 */
export type RoomKeyResolver = (reference: RoomKeyReference) => RoomKey | undefined | Promise<RoomKey | undefined>;

/**
 * Encrypts a JSON-serialisable value for a room. The result is a plain JSON object (envelope
 * v1) to publish as the event's data; the server sees ids, key version and a padded length.
 *
 * @example
 * ```ts
 * const encrypted = await encryptChatJson(
 *   { body: "Private message", sender_id: "user-1" },
 *   roomKey,
 *   { roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 },
 * );
 * ```
 * @throws E2eeError `PAYLOAD_TOO_LARGE` when the JSON exceeds `maxPlaintextBytes`.
 * @throws TypeError when `value` is not JSON-serialisable (BigInt, cycles, a bare function or
 *   `undefined`), `key` is not a {@link RoomKey}, or a context field is invalid.
 * @throws RangeError when `maxPlaintextBytes` is out of range.
 */
export async function encryptChatJson(
  value: unknown,
  key: RoomKey,
  context: EncryptChatJsonContext,
): Promise<EnvelopeV1> {
  return sealChatJson(value, key, context, randomBytes(XAES_NONCE_BYTES));
}

/**
 * @internal `encryptChatJson` with a caller-chosen nonce, for known-answer tests and vector
 * generation only. Not exported from the package: a repeated nonce under one key breaks
 * confidentiality and authenticity.
 */
export function sealChatJson(value: unknown, key: RoomKey, context: EncryptChatJsonContext, nonce: Uint8Array): EnvelopeV1 {
  const state = keyState(key);
  const { roomId, messageId, keyId, keyVersion, padding = "padme" } = context;
  const additionalData = encodeAssociatedDataV1({ roomId, messageId, keyId, keyVersion });
  if (padding !== "padme" && padding !== "none") {
    throw new TypeError(`"padding" expected "padme" or "none", got ${describeValue(padding)}`);
  }
  const maxPlaintextBytes = checkMaxPlaintextBytes(context.maxPlaintextBytes);
  const json = toJson(value);
  // A UTF-16 code unit encodes to at least one UTF-8 byte: reject early without encoding.
  if (json.length > maxPlaintextBytes) throw tooLarge(maxPlaintextBytes);
  const message = utf8Encode(json);
  if (message.length > maxPlaintextBytes) throw tooLarge(maxPlaintextBytes);

  const padded = pad(message, padding);
  const sealed = state.cipher.seal(nonce, padded, additionalData);
  padded.fill(0);
  message.fill(0);
  return {
    v: 1,
    suite: SUITE_V1,
    roomId,
    messageId,
    keyId,
    keyVersion,
    nonce: base64urlEncode(nonce),
    commitment: base64urlEncode(keyCommitment(state)),
    ciphertext: base64urlEncode(sealed),
  };
}

/**
 * Opens an envelope received on a room's channel and returns the JSON value inside.
 *
 * The expected `roomId` and `messageId` come from where the event arrived, never from the
 * envelope: an envelope claiming another room or message is rejected before any cryptography,
 * and the ciphertext is authenticated against the expected values. Any failure to open
 * (wrong key, any modified byte) is the single opaque `DECRYPTION_FAILED`.
 *
 * @param envelope - The envelope object, or its JSON text, as received.
 * @param key - The room key, or a resolver that finds it by key id and version.
 * @example
 * ```ts
 * const message = await decryptChatJson(encrypted, roomKey, { roomId: "room-42", messageId: "msg-1" });
 * ```
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION`, `PAYLOAD_TOO_LARGE`,
 *   `CONTEXT_MISMATCH`, `UNKNOWN_KEY` (a {@link UnknownKeyError}) or `DECRYPTION_FAILED`.
 * @throws TypeError when `key` is neither a {@link RoomKey} nor a function, a resolver returns
 *   something else, or a context field is invalid.
 */
export async function decryptChatJson(
  envelope: unknown,
  key: RoomKey | RoomKeyResolver,
  context: DecryptChatJsonContext,
): Promise<JsonValue> {
  assertId(context.roomId, "roomId");
  assertId(context.messageId, "messageId");
  if (!isRoomKey(key) && typeof key !== "function") {
    throw new TypeError(`"key" expected a RoomKey or a resolver function, got ${describeValue(key)}`);
  }
  const maxPlaintextBytes = checkMaxPlaintextBytes(context.maxPlaintextBytes);
  const parsed = parseEnvelope(envelope, { maxPlaintextBytes });
  if (parsed.roomId !== context.roomId) throw new ContextMismatchError("roomId");
  if (parsed.messageId !== context.messageId) throw new ContextMismatchError("messageId");

  const { keyId, keyVersion } = parsed;
  let roomKey: RoomKey | undefined;
  if (typeof key === "function") {
    roomKey = await key({ roomId: context.roomId, keyId, keyVersion });
    if (roomKey === undefined || roomKey === null) throw new UnknownKeyError(context.roomId, keyId, keyVersion);
  } else {
    roomKey = key;
  }
  const state = keyState(roomKey, "resolved key");

  const nonce = base64urlDecode(parsed.nonce);
  const commitment = base64urlDecode(parsed.commitment);
  const sealed = base64urlDecode(parsed.ciphertext);
  if (nonce === undefined || commitment === undefined || sealed === undefined) {
    // Unreachable after the schema's canonical-base64url check; kept as defence in depth.
    throw new E2eeError("INVALID_ENVELOPE", "invalid envelope: bad base64url");
  }
  // Key commitment first (constant time): a ciphertext crafted to open under two keys is refused.
  if (!equalBytes(commitment, keyCommitment(state))) throw decryptionFailed();

  const additionalData = encodeAssociatedDataV1({
    roomId: context.roomId,
    messageId: context.messageId,
    keyId,
    keyVersion,
  });
  let padded: Uint8Array;
  try {
    padded = state.cipher.open(nonce, sealed, additionalData);
  } catch {
    throw decryptionFailed();
  }
  try {
    const message = unpad(padded);
    if (message === undefined) throw decryptionFailed();
    if (message.length > maxPlaintextBytes) throw tooLarge(maxPlaintextBytes);
    const json = utf8Decode(message);
    if (json === undefined) throw decryptionFailed();
    const result = safeParseJson(json, maxPlaintextBytes);
    if (!result.ok) throw decryptionFailed();
    return result.value as JsonValue;
  } finally {
    padded.fill(0);
  }
}

function toJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // BigInt or a cycle. The original error may quote the value, so it is not attached.
    throw new TypeError('"value" expected a JSON-serialisable value (no BigInt, no cycles)');
  }
  if (json === undefined) throw new TypeError(`"value" expected a JSON-serialisable value, got ${describeValue(value)}`);
  return json;
}

function tooLarge(maxPlaintextBytes: number): E2eeError {
  return new E2eeError("PAYLOAD_TOO_LARGE", `chat JSON exceeds the limit of ${maxPlaintextBytes} bytes`);
}
