/**
 * Sealing chat JSON into message envelopes and opening them again (SPEC.md §5, §6 and §8). Envelope v1
 * is unsigned; v2 adds the sending device and its Ed25519 signature.
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
  encodeAssociatedDataV2,
  envelopeSignatureInputV2,
  parseEnvelopeForOpening,
  safeParseJson,
  type DeviceBundle,
  type Envelope,
  type EnvelopeV1,
  type EnvelopeV2,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode, randomNonce, utf8Decode } from "./bytes";
import { identitySecrets, verifyDeviceBundle, type DeviceIdentity } from "./device-identity";
import { padText, unpad, type PaddingMode } from "./padding";
import { describeValue, isRoomKey, keyCommitment, keyCommitmentText, keyState, type KeyState, type RoomKey } from "./room-key";
import { sign, verify } from "./signing";
import { XAES_NONCE_BYTES, XAES_TAG_BYTES } from "./xaes-256-gcm";

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
  /**
   * The sending device. When given, the envelope is v2: the device's ids are bound into the
   * associated data and the envelope is signed with its Ed25519 key, so receivers can verify
   * which member sent it.
   */
  readonly sender?: DeviceIdentity | undefined;
  /** Length-hiding padding; default `"padme"`. */
  readonly padding?: PaddingMode | undefined;
  /** The largest JSON, in UTF-8 bytes, to accept; default 65,536. */
  readonly maxPlaintextBytes?: number | undefined;
}

/** Which device a signed message names as its sender. */
export interface SenderReference {
  readonly userId: string;
  readonly deviceId: string;
}

/**
 * Finds the public bundle of a device that signed a message, or `undefined` when it is not known
 * (then decryption fails with `UNKNOWN_SENDER`).
 */
export type SenderBundleResolver = (
  sender: SenderReference,
) => DeviceBundle | undefined | Promise<DeviceBundle | undefined>;

/**
 * Where a message was received: from the channel and event it arrived on, never from the
 * envelope itself.
 */
export interface DecryptChatJsonContext {
  /** The room (private channel) the event arrived on. */
  readonly roomId: string;
  /** The id of the event that carried it. */
  readonly messageId: string;
  /** Finds sender bundles to verify signed (v2) envelopes. Without it, v2 fails `UNKNOWN_SENDER`. */
  readonly resolveSender?: SenderBundleResolver | undefined;
  /** Refuse unsigned (v1) envelopes with `BAD_SIGNATURE`. Default `false`. */
  readonly requireSignature?: boolean | undefined;
  /** The largest JSON, in UTF-8 bytes, to accept; default 65,536. */
  readonly maxPlaintextBytes?: number | undefined;
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

/** An opened message: its value, which key opened it and, for v2, the verified sender. */
export interface DecryptedChatMessage {
  readonly value: JsonValue;
  readonly keyId: string;
  readonly keyVersion: number;
  /** The device whose signature verified, or `null` for an unsigned (v1) envelope. */
  readonly sender: SenderReference | null;
}

/**
 * Encrypts a JSON-serialisable value for a room. The result is a plain JSON object (an
 * envelope) to publish as the event's data; the server sees ids, key version and a padded length.
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
): Promise<Envelope> {
  const prepared = prepareSeal(value, key, context);
  const nonce = randomNonce(XAES_NONCE_BYTES);
  const { cipher } = prepared.state;
  let sealed: Uint8Array;
  try {
    sealed = cipher.prefersAsync(prepared.padded.length)
      ? await cipher.sealAsync(nonce, prepared.padded, prepared.additionalData)
      : cipher.seal(nonce, prepared.padded, prepared.additionalData);
  } finally {
    prepared.padded.fill(0);
  }
  return finishEnvelope(prepared, context, nonce, sealed);
}

/**
 * @internal `encryptChatJson` with a caller-chosen nonce, for known-answer tests and vector
 * generation only. Not exported from the package: a repeated nonce under one key breaks
 * confidentiality and authenticity.
 */
export function sealChatJson(value: unknown, key: RoomKey, context: EncryptChatJsonContext, nonce: Uint8Array): Envelope {
  const prepared = prepareSeal(value, key, context);
  let sealed: Uint8Array;
  try {
    sealed = prepared.state.cipher.seal(nonce, prepared.padded, prepared.additionalData);
  } finally {
    prepared.padded.fill(0);
  }
  return finishEnvelope(prepared, context, nonce, sealed);
}

interface PreparedSeal {
  readonly state: KeyState;
  readonly additionalData: Uint8Array;
  readonly padded: Uint8Array;
  readonly signingSecretKey: Uint8Array | undefined;
}

/** Validates the inputs, then builds the associated data and the padded plaintext. */
function prepareSeal(value: unknown, key: RoomKey, context: EncryptChatJsonContext): PreparedSeal {
  const state = keyState(key);
  const { roomId, messageId, keyId, keyVersion, sender, padding = "padme" } = context;
  const signer = sender === undefined ? undefined : identitySecrets(sender, "sender");
  const additionalData =
    sender === undefined
      ? encodeAssociatedDataV1({ roomId, messageId, keyId, keyVersion })
      : encodeAssociatedDataV2({
          roomId,
          messageId,
          keyId,
          keyVersion,
          senderUserId: sender.userId,
          senderDeviceId: sender.deviceId,
        });
  if (padding !== "padme" && padding !== "none") {
    throw new TypeError(`"padding" expected "padme" or "none", got ${describeValue(padding)}`);
  }
  const maxPlaintextBytes = checkMaxPlaintextBytes(context.maxPlaintextBytes);
  const padded = padText(toJson(value), padding, maxPlaintextBytes);
  if (padded === undefined) throw tooLarge(maxPlaintextBytes);
  return { state, additionalData, padded, signingSecretKey: signer?.signingSecretKey };
}

/** The envelope around a sealed message; v2 adds the sender's ids and signature. */
function finishEnvelope(prepared: PreparedSeal, context: EncryptChatJsonContext, nonce: Uint8Array, sealed: Uint8Array): Envelope {
  const { roomId, messageId, keyId, keyVersion, sender } = context;
  const nonceText = base64urlEncode(nonce);
  const ciphertext = base64urlEncode(sealed);
  const commitmentText = keyCommitmentText(prepared.state);
  if (sender === undefined || prepared.signingSecretKey === undefined) {
    return { v: 1, suite: SUITE_V1, roomId, messageId, keyId, keyVersion, nonce: nonceText, commitment: commitmentText, ciphertext } satisfies EnvelopeV1;
  }
  const signed = envelopeSignatureInputV2(prepared.additionalData, nonce, keyCommitment(prepared.state), sealed);
  const signature = sign(prepared.signingSecretKey, signed);
  return {
    v: 2,
    suite: SUITE_V1,
    roomId,
    messageId,
    keyId,
    keyVersion,
    nonce: nonceText,
    commitment: commitmentText,
    ciphertext,
    senderUserId: sender.userId,
    senderDeviceId: sender.deviceId,
    signature: base64urlEncode(signature),
  } satisfies EnvelopeV2;
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
 *   `CONTEXT_MISMATCH`, `UNKNOWN_KEY` (a {@link UnknownKeyError}), `UNKNOWN_SENDER`,
 *   `BAD_SIGNATURE` or `DECRYPTION_FAILED`.
 * @throws TypeError when `key` is neither a {@link RoomKey} nor a function, a resolver returns
 *   something else, or a context field is invalid.
 */
export function decryptChatJson(
  envelope: unknown,
  key: RoomKey | RoomKeyResolver,
  context: DecryptChatJsonContext,
): Promise<JsonValue> {
  return decryptChatMessage(envelope, key, context).then(valueOf);
}

function valueOf(message: DecryptedChatMessage): JsonValue {
  return message.value;
}

/**
 * {@link decryptChatJson}, returning also which key version opened the message and, for a
 * signed (v2) envelope, the sender whose signature verified.
 *
 * @example
 * ```ts
 * const { value, sender } = await decryptChatMessage(envelope, roomKey, {
 *   roomId, messageId, resolveSender: ({ userId, deviceId }) => bundles.get(`${userId}/${deviceId}`),
 * });
 * ```
 * @throws The same errors as {@link decryptChatJson}.
 */
export async function decryptChatMessage(
  envelope: unknown,
  key: RoomKey | RoomKeyResolver,
  context: DecryptChatJsonContext,
): Promise<DecryptedChatMessage> {
  assertId(context.roomId, "roomId");
  assertId(context.messageId, "messageId");
  if (!isRoomKey(key) && typeof key !== "function") {
    throw new TypeError(`"key" expected a RoomKey or a resolver function, got ${describeValue(key)}`);
  }
  const maxPlaintextBytes = checkMaxPlaintextBytes(context.maxPlaintextBytes);
  const { envelope: parsed, ciphertext: sealed } = parseEnvelopeForOpening(envelope, maxPlaintextBytes, base64urlDecode);
  if (parsed.roomId !== context.roomId) throw new ContextMismatchError("roomId");
  if (parsed.messageId !== context.messageId) throw new ContextMismatchError("messageId");
  if (parsed.v === 1 && context.requireSignature === true) {
    throw new E2eeError("BAD_SIGNATURE", "unsigned message where a signature is required");
  }

  const { keyId, keyVersion } = parsed;
  let roomKey: RoomKey | undefined;
  if (typeof key === "function") {
    const found = key({ roomId: context.roomId, keyId, keyVersion });
    roomKey = isPromiseLike(found) ? await found : found;
    if (roomKey === undefined || roomKey === null) throw new UnknownKeyError(context.roomId, keyId, keyVersion);
  } else {
    roomKey = key;
  }
  const state = keyState(roomKey, "resolved key");

  const nonce = base64urlDecode(parsed.nonce);
  const commitment = base64urlDecode(parsed.commitment);
  if (nonce === undefined || commitment === undefined || sealed === undefined) {
    // Unreachable after the schema's canonical-base64url check; kept as defence in depth.
    throw new E2eeError("INVALID_ENVELOPE", "invalid envelope: bad base64url");
  }
  let additionalData: Uint8Array;
  let sender: SenderReference | null = null;
  if (parsed.v === 2) {
    sender = { userId: parsed.senderUserId, deviceId: parsed.senderDeviceId };
    additionalData = encodeAssociatedDataV2({
      roomId: context.roomId,
      messageId: context.messageId,
      keyId,
      keyVersion,
      senderUserId: sender.userId,
      senderDeviceId: sender.deviceId,
    });
    await verifySender(parsed, sender, context.resolveSender, additionalData, nonce, commitment, sealed);
  } else {
    additionalData = encodeAssociatedDataV1({ roomId: context.roomId, messageId: context.messageId, keyId, keyVersion });
  }

  // Key commitment first (constant time): a ciphertext crafted to open under two keys is refused.
  if (!equalBytes(commitment, keyCommitment(state))) throw decryptionFailed();
  const { cipher } = state;
  let padded: Uint8Array;
  try {
    padded = cipher.prefersAsync(sealed.length - XAES_TAG_BYTES)
      ? await cipher.openAsync(nonce, sealed, additionalData)
      : cipher.open(nonce, sealed, additionalData);
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
    return { value: result.value as JsonValue, keyId, keyVersion, sender };
  } finally {
    padded.fill(0);
  }
}

async function verifySender(
  envelope: EnvelopeV2,
  sender: SenderReference,
  resolveSender: SenderBundleResolver | undefined,
  additionalData: Uint8Array,
  nonce: Uint8Array,
  commitment: Uint8Array,
  sealed: Uint8Array,
): Promise<void> {
  const unknownSender = (): E2eeError =>
    new E2eeError("UNKNOWN_SENDER", `no verified bundle for sender device "${sender.userId}/${sender.deviceId}"`);
  const found = resolveSender === undefined ? undefined : await resolveSender(sender);
  if (found === undefined || found === null) throw unknownSender();
  const bundle = verifyDeviceBundle(found);
  if (bundle.bundle.userId !== sender.userId || bundle.bundle.deviceId !== sender.deviceId) throw unknownSender();
  const signature = base64urlDecode(envelope.signature);
  const signed = envelopeSignatureInputV2(additionalData, nonce, commitment, sealed);
  if (signature === undefined || !verify(signature, signed, bundle.signingKey)) {
    throw new E2eeError("BAD_SIGNATURE", "message signature does not verify");
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
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
