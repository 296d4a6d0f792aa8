/**
 * Room keys: opaque 256-bit keys whose bytes leave only through an explicit export.
 *
 * @module
 */
import { equalBytes } from "@noble/ciphers/utils.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { E2eeError } from "@domvia/e2ee-envelope";
import { base64Decode, base64Encode, base64urlEncode, randomBytes } from "./bytes";
import { XAES_KEY_BYTES, XaesKey } from "./xaes-256-gcm";

/**
 * The fixed label of the key commitment (SPEC.md §5.3):
 * `commitment = HMAC-SHA-256(key = K, message = ASCII "domvia-e2ee/v1/key-commitment")`.
 */
export const KEY_COMMITMENT_LABEL = "domvia-e2ee/v1/key-commitment";

/** @internal What a {@link RoomKey} holds. */
export interface KeyState {
  readonly bytes: Uint8Array;
  readonly cipher: XaesKey;
  commitment: Uint8Array | undefined;
  commitmentText: string | undefined;
}

const states = new WeakMap<RoomKey, KeyState>();
const REDACTED = "RoomKey([redacted])";
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A 256-bit room key. Opaque: its bytes are not properties, and `JSON.stringify`, `String()`,
 * template literals and Node's `util.inspect` all print a redacted placeholder. Create one with
 * {@link generateAesGcmKey} or {@link importAesGcmKeyFromBase64}.
 */
export class RoomKey {
  /**
   * @internal Not part of the public API: the package exports only the type. Takes ownership
   * of `bytes` (32 bytes, not copied).
   */
  constructor(bytes: Uint8Array) {
    states.set(this, { bytes, cipher: new XaesKey(bytes), commitment: undefined, commitmentText: undefined });
    Object.freeze(this);
  }

  /**
   * Zeroes the key's bytes and everything derived from them. Every later use of the key
   * (encrypt, decrypt, export, share, compare) throws `E2eeError` `INVALID_KEY`. Idempotent.
   * JavaScript cannot promise that no engine-made copy survives; see the package README.
   */
  destroy(): void {
    const state = states.get(this);
    if (state === undefined || state.cipher.destroyed) return;
    state.cipher.destroy(); // zeroes the shared bytes too
    state.commitment?.fill(0);
    state.commitment = undefined;
    state.commitmentText = undefined;
  }

  /** `true` once {@link RoomKey.destroy} has run. */
  get destroyed(): boolean {
    return states.get(this)?.cipher.destroyed ?? true;
  }

  /** Redacted. */
  toString(): string {
    return REDACTED;
  }

  /** Redacted: a key never serialises its bytes. */
  toJSON(): string {
    return REDACTED;
  }
}

// Node's `util.inspect` (which Node's console output uses) prints this instead of the object.
Object.defineProperty(RoomKey.prototype, INSPECT, { value: (): string => REDACTED });

/** @internal The state behind a key, or a TypeError for anything that is not a room key. */
export function keyState(key: unknown, name = "key"): KeyState {
  const state = typeof key === "object" && key !== null ? states.get(key as RoomKey) : undefined;
  if (state === undefined) {
    throw new TypeError(`"${name}" expected a RoomKey from generateAesGcmKey or importAesGcmKeyFromBase64, got ${describeValue(key)}`);
  }
  if (state.cipher.destroyed) throw new E2eeError("INVALID_KEY", `"${name}" was destroyed`);
  return state;
}

/** @internal The key commitment, computed once per key. */
export function keyCommitment(state: KeyState): Uint8Array {
  state.commitment ??= hmac(sha256, state.bytes, asciiBytes(KEY_COMMITMENT_LABEL));
  return state.commitment;
}

/** @internal The key commitment as it appears in envelopes (base64url), computed once per key. */
export function keyCommitmentText(state: KeyState): string {
  state.commitmentText ??= base64urlEncode(keyCommitment(state));
  return state.commitmentText;
}

/** `true` when `value` is a {@link RoomKey} of this package. */
export function isRoomKey(value: unknown): value is RoomKey {
  return typeof value === "object" && value !== null && states.has(value as RoomKey);
}

/**
 * Generates a fresh 256-bit room key from the platform CSPRNG.
 *
 * @example
 * ```ts
 * const roomKey = await generateAesGcmKey();
 * ```
 * @throws Error when the platform has no `crypto.getRandomValues`.
 */
export async function generateAesGcmKey(): Promise<RoomKey> {
  return generateRoomKeySync();
}

/**
 * Exports a room key as padded standard base64 (44 characters). The result is the secret key:
 * keep it inside your key-management flow, never in public configuration or logs.
 *
 * @example
 * ```ts
 * const rawRoomKey = await exportAesGcmKeyToBase64(roomKey);
 * ```
 * @throws TypeError when `key` is not a {@link RoomKey}.
 */
export async function exportAesGcmKeyToBase64(key: RoomKey): Promise<string> {
  return base64Encode(keyState(key).bytes);
}

/**
 * Imports a room key exported by {@link exportAesGcmKeyToBase64}: exactly 32 bytes as canonical
 * padded standard base64.
 *
 * @example
 * ```ts
 * const restoredRoomKey = await importAesGcmKeyFromBase64(rawRoomKey);
 * ```
 * @throws E2eeError `INVALID_KEY` when the text is not canonical base64 of exactly 32 bytes
 *   (the message never repeats the text).
 * @throws TypeError when `base64` is not a string.
 */
export async function importAesGcmKeyFromBase64(base64: string): Promise<RoomKey> {
  if (typeof base64 !== "string") {
    throw new TypeError(`"base64" expected a string, got ${describeValue(base64)}`);
  }
  if (base64.length !== 44) {
    throw new E2eeError("INVALID_KEY", `invalid room key: expected 44 base64 characters (32 bytes), got ${base64.length}`);
  }
  const bytes = base64Decode(base64);
  if (bytes === undefined) throw new E2eeError("INVALID_KEY", "invalid room key: not canonical base64");
  if (bytes.length !== XAES_KEY_BYTES) {
    bytes.fill(0);
    throw new E2eeError("INVALID_KEY", `invalid room key: expected 32 bytes, got ${bytes.length}`);
  }
  return new RoomKey(bytes);
}

/**
 * {@link generateAesGcmKey}, synchronously, for the key-lifecycle layer.
 *
 * @throws Error when the platform has no `crypto.getRandomValues`.
 */
export function generateRoomKeySync(): RoomKey {
  return new RoomKey(randomBytes(XAES_KEY_BYTES));
}

/** `true` when two room keys hold the same bytes. Constant time. */
export function roomKeysEqual(a: RoomKey, b: RoomKey): boolean {
  return equalBytes(keyState(a).bytes, keyState(b, "b").bytes);
}

/**
 * A copy of a room key's 32 bytes, for the key-lifecycle layer's explicit exports (keyring
 * state, backups, shares). Not re-exported by the façade. The caller wipes the copy.
 *
 * @throws TypeError when `key` is not a {@link RoomKey}.
 */
export function exportRoomKeyBytes(key: RoomKey): Uint8Array {
  return keyState(key).bytes.slice();
}

/**
 * A room key from 32 bytes (copied).
 *
 * @throws E2eeError `INVALID_KEY` when `bytes` is not 32 bytes long.
 */
export function importRoomKeyBytes(bytes: Uint8Array): RoomKey {
  if (!(bytes instanceof Uint8Array) || bytes.length !== XAES_KEY_BYTES) {
    throw new E2eeError("INVALID_KEY", `invalid room key: expected 32 bytes, got ${describeValue(bytes)}`);
  }
  return new RoomKey(bytes.slice());
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Describes a value's type for an error message without printing the value. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return `a Uint8Array of length ${value.length}`;
  return typeof value === "object" ? `an object (${Object.prototype.toString.call(value).slice(8, -1)})` : typeof value;
}
