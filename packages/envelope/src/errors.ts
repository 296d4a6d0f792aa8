/**
 * One error type for the whole SDK: every failure that data (not a programming mistake) can
 * cause is an {@link E2eeError} with a stable `code`. Programming mistakes (a wrong argument
 * type, an out-of-range option) throw the platform's `TypeError` or `RangeError` instead.
 *
 * Messages never contain key bytes, recovery codes or plaintext.
 *
 * @module
 */

/**
 * `Symbol.for` marker: {@link E2eeError.isInstance} recognises errors thrown by another copy of
 * this package (two versions in one bundle, or a realm boundary) where `instanceof` would not.
 */
const MARKER = Symbol.for("@domvia/e2ee.error");

/**
 * Every stable error code, in one list. Codes are never renamed or reused; new ones are added.
 *
 * | code | meaning | what an app does |
 * | --- | --- | --- |
 * | `INVALID_ENVELOPE` | the input is not a well-formed envelope (schema, JSON, base64url) | drop it; it was not produced by this SDK |
 * | `UNSUPPORTED_VERSION` | the envelope's `v` is not one this SDK reads | upgrade the SDK |
 * | `CONTEXT_MISMATCH` | the envelope names another room or message than the one it arrived as | drop it: it was replayed or misrouted |
 * | `UNKNOWN_KEY` | no key for the envelope's key id and version | request that key version, then retry |
 * | `DECRYPTION_FAILED` | it could not be opened: wrong key, tampered, forged; deliberately no detail | show "unable to decrypt" |
 * | `INVALID_KEY` | key material to import is malformed (encoding or length) | check the key-management flow |
 * | `PAYLOAD_TOO_LARGE` | the plaintext or envelope exceeds the configured limit | split or reject the message |
 * | `BAD_SIGNATURE` | a signature (message, key share, device bundle) does not verify; covers any tampering of a signed object | drop it; do not trust the sender claim |
 * | `UNKNOWN_SENDER` | a signed message names a device whose bundle the app did not supply | fetch that device's bundle, then retry |
 * | `SHARE_MISADDRESSED` | a key share is for another device or room than the one accepting it | drop it: it was replayed or misrouted |
 * | `KEY_WITHHELD` | the key version is not shareable with members who joined later | tell the user history before they joined is not available |
 * | `DEVICE_REVOKED` | the device is revoked: it may not receive or send key shares, and an encrypted channel refuses its messages | remove it from the room's device list |
 * | `KEY_CONFLICT` | a different key already exists for that room, key id and version | keep the existing key; investigate the sender |
 * | `ROTATION_REQUIRED` | the keyring must rotate before it encrypts again (member removed, device revoked, or the version was only restored from a backup) | rotate, share the new version, then send |
 * | `INVALID_RECOVERY_CODE` | the recovery code is malformed: unknown word, wrong word count or checksum | ask the user to check the code |
 * | `WRONG_RECOVERY_CODE` | a well-formed recovery code (or passphrase) that does not belong to this backup, or a backup written to another recovery key than the device trusts | ask for the right code; never append to a backup whose key changed |
 * | `IDENTITY_CHANGED` | a device the app already knows presents different keys than the ones pinned for it (a substituted bundle, or a reinstalled device) | show the changed safety number; trust the new keys only after the user verifies them |
 * | `REPLAYED_MESSAGE` | a message (room, key version, message id) that this device has already opened | treat it as a duplicate delivery: show the first copy, not an error |
 */
export const E2EE_ERROR_CODES: readonly E2eeErrorCode[] = Object.freeze([
  "INVALID_ENVELOPE",
  "UNSUPPORTED_VERSION",
  "CONTEXT_MISMATCH",
  "UNKNOWN_KEY",
  "DECRYPTION_FAILED",
  "INVALID_KEY",
  "PAYLOAD_TOO_LARGE",
  "BAD_SIGNATURE",
  "UNKNOWN_SENDER",
  "SHARE_MISADDRESSED",
  "KEY_WITHHELD",
  "DEVICE_REVOKED",
  "KEY_CONFLICT",
  "ROTATION_REQUIRED",
  "INVALID_RECOVERY_CODE",
  "WRONG_RECOVERY_CODE",
  "IDENTITY_CHANGED",
  "REPLAYED_MESSAGE",
]);

/** The union of stable error codes, for exhaustive `switch` statements. */
export type E2eeErrorCode =
  | "INVALID_ENVELOPE"
  | "UNSUPPORTED_VERSION"
  | "CONTEXT_MISMATCH"
  | "UNKNOWN_KEY"
  | "DECRYPTION_FAILED"
  | "INVALID_KEY"
  | "PAYLOAD_TOO_LARGE"
  | "BAD_SIGNATURE"
  | "UNKNOWN_SENDER"
  | "SHARE_MISADDRESSED"
  | "KEY_WITHHELD"
  | "DEVICE_REVOKED"
  | "KEY_CONFLICT"
  | "ROTATION_REQUIRED"
  | "INVALID_RECOVERY_CODE"
  | "WRONG_RECOVERY_CODE"
  | "IDENTITY_CHANGED"
  | "REPLAYED_MESSAGE";

/**
 * The SDK's error. Switch on `code`; never parse `message`.
 *
 * @example
 * ```ts
 * try {
 *   await decryptChatJson(envelope, roomKey, { roomId, messageId });
 * } catch (error) {
 *   if (E2eeError.isInstance(error, "UNKNOWN_KEY")) requestKey(error.keyId, error.keyVersion);
 *   else throw error;
 * }
 * ```
 */
export class E2eeError extends Error {
  /** Stable, documented code. */
  readonly code: E2eeErrorCode;

  /**
   * @param code - The stable code.
   * @param message - A human-readable message that holds no secret.
   */
  constructor(code: E2eeErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = "E2eeError";
  }

  /**
   * `true` when `value` is an {@link E2eeError} from any copy of this package, optionally
   * with the given code.
   *
   * @example
   * ```ts
   * if (E2eeError.isInstance(error, "DECRYPTION_FAILED")) showUnableToDecrypt();
   * ```
   */
  static isInstance<C extends E2eeErrorCode>(
    value: unknown,
    code?: C,
  ): value is E2eeError & { readonly code: C } {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[MARKER] === true &&
      (code === undefined || (value as { code?: unknown }).code === code)
    );
  }
}

// The marker lives on the prototype, non-enumerable, so it never shows in logs or JSON.
Object.defineProperty(E2eeError.prototype, MARKER, { value: true });

/**
 * Thrown with code `UNSUPPORTED_VERSION` when an object's version is not one this SDK reads.
 * `expected` lists the versions it reads; `received` is the version number the input named, or,
 * when it was not a number, that value's `typeof` (input is never echoed).
 */
export class UnsupportedVersionError extends E2eeError {
  readonly expected: readonly number[];
  readonly received: unknown;
  constructor(expected: readonly number[], received: unknown, objectName = "envelope") {
    const shown = typeof received === "number" ? String(received) : typeof received;
    super("UNSUPPORTED_VERSION", `unsupported ${objectName} version: expected ${expected.join(" or ")}, received ${shown}`);
    this.name = "UnsupportedVersionError";
    this.expected = expected;
    this.received = typeof received === "number" ? received : typeof received;
  }
}

/**
 * Thrown with code `UNKNOWN_KEY` when no key is known for the envelope's key id and version.
 * It carries what the app needs to request that key from another device.
 */
export class UnknownKeyError extends E2eeError {
  readonly roomId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  constructor(roomId: string, keyId: string, keyVersion: number) {
    super("UNKNOWN_KEY", `no key for room "${roomId}", key id "${keyId}", version ${keyVersion}`);
    this.name = "UnknownKeyError";
    this.roomId = roomId;
    this.keyId = keyId;
    this.keyVersion = keyVersion;
  }
}

/**
 * Thrown with code `CONTEXT_MISMATCH` when an envelope claims another room or message than the
 * one the caller received it as. Checked before any cryptography runs.
 */
export class ContextMismatchError extends E2eeError {
  /** Which field disagreed: `"roomId"` or `"messageId"`. */
  readonly field: "roomId" | "messageId";
  constructor(field: "roomId" | "messageId") {
    super("CONTEXT_MISMATCH", `envelope ${field} does not match the expected ${field}`);
    this.name = "ContextMismatchError";
    this.field = field;
  }
}

/** The one opaque failure for anything that went wrong while opening a message. */
export function decryptionFailed(): E2eeError {
  return new E2eeError("DECRYPTION_FAILED", "decryption failed");
}
