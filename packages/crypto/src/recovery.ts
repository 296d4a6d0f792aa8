/**
 * Recovery keys (SPEC.md §11): 256 bits from the CSPRNG, shown to the user as 24 BIP-39
 * English words (the last word carries an 8-bit checksum), from which an X25519 key pair is
 * derived with RFC 9180 DeriveKeyPair. Backups are encrypted to the public key, so any device
 * can add to a backup without the code; only the code (or a passphrase that unlocks it) restores.
 *
 * @module
 */
import { gcm } from "@noble/ciphers/aes.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { entropyToMnemonic, mnemonicToEntropy } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import {
  E2eeError,
  parseProtectedRecoveryKey,
  protectedRecoveryKeyAssociatedData,
  scryptParamsProblem,
  type ProtectedRecoveryKeyV1,
  type ScryptParamsV1,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode, randomBytes, utf8Encode } from "./bytes";
import { deriveX25519KeyPair } from "./hpke";
import { describeValue } from "./room-key";

/** Entropy of a recovery key: 256 bits. */
export const RECOVERY_KEY_BYTES = 32;
/** Words in a recovery code. */
export const RECOVERY_CODE_WORDS = 24;

/**
 * Default passphrase KDF cost: scrypt with N = 2^17, r = 8, p = 1 (128 MiB, OWASP Password
 * Storage Cheat Sheet's recommended scrypt setting). About 1 s to protect or unlock on a 2-core
 * machine in pure JS (`@domvia/e2ee-room-keys` README, "Cost"). Stored in each protected key, so
 * it can be raised later.
 */
export const DEFAULT_PASSPHRASE_KDF: Readonly<{ n: number; r: number; p: number }> = Object.freeze({
  n: 2 ** 17,
  r: 8,
  p: 1,
});

/** Default bound on the scrypt memory `unlockRecoveryKey` spends: twice the default cost. */
export const DEFAULT_UNLOCK_MEMORY_BYTES: number = 256 * 1024 * 1024;

interface RecoverySecret {
  readonly entropy: Uint8Array;
  readonly secretKey: Uint8Array;
}

const secrets = new WeakMap<RecoveryKey, RecoverySecret>();
/** Recovery keys whose secrets {@link RecoveryKey.destroy} zeroed. */
const destroyedKeys = new WeakSet<RecoveryKey>();
const REDACTED = "RecoveryKey([redacted])";
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * A recovery key. `code` is the secret to show the user once; `publicKey` is what devices need
 * to write backups. `JSON.stringify`, `String()` and `util.inspect` never show the code.
 */
export class RecoveryKey {
  /** The backup public key (X25519, base64url): not secret; store it with the backup. */
  readonly publicKey: string;

  /** @internal Use {@link createRecoveryKey} or {@link recoveryKeyFromCode}. */
  constructor(entropy: Uint8Array) {
    const pair = deriveX25519KeyPair(entropy);
    this.publicKey = base64urlEncode(pair.publicKey);
    secrets.set(this, { entropy, secretKey: pair.secretKey });
    Object.freeze(this);
  }

  /**
   * The 24-word recovery code. Secret: show it to the user, never log or upload it.
   *
   * @throws E2eeError `INVALID_KEY` after {@link RecoveryKey.destroy}.
   */
  get code(): string {
    return entropyToMnemonic(recoverySecret(this).entropy, wordlist);
  }

  /**
   * Zeroes the entropy and the X25519 secret key. Every later use that needs them (`code`,
   * protecting with a passphrase, restoring a backup) throws `E2eeError` `INVALID_KEY`;
   * `publicKey` stays readable, so backups can still be written to it. Idempotent. JavaScript
   * cannot promise that no engine-made copy survives; see the package README, "Secret hygiene".
   *
   * @example
   * ```ts
   * showOnce(recoveryKey.code);
   * recoveryKey.destroy();
   * ```
   */
  destroy(): void {
    const secret = secrets.get(this);
    if (secret === undefined || destroyedKeys.has(this)) return;
    destroyedKeys.add(this);
    secret.entropy.fill(0);
    secret.secretKey.fill(0);
  }

  /** `true` once {@link RecoveryKey.destroy} has run. */
  get destroyed(): boolean {
    return destroyedKeys.has(this);
  }

  /** Redacted. */
  toString(): string {
    return REDACTED;
  }

  /** Only the public key. */
  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKey };
  }
}

Object.defineProperty(RecoveryKey.prototype, INSPECT, { value: (): string => REDACTED });

/**
 * @internal The secrets of a recovery key, a TypeError for anything else, or E2eeError
 * `INVALID_KEY` once the key was destroyed.
 */
export function recoverySecret(recoveryKey: unknown): RecoverySecret {
  const secret = typeof recoveryKey === "object" && recoveryKey !== null ? secrets.get(recoveryKey as RecoveryKey) : undefined;
  if (secret === undefined) throw new TypeError(`"recoveryKey" expected a RecoveryKey, got ${describeValue(recoveryKey)}`);
  if (destroyedKeys.has(recoveryKey as RecoveryKey)) throw new E2eeError("INVALID_KEY", '"recoveryKey" was destroyed');
  return secret;
}

/**
 * Creates a recovery key from 256 bits of CSPRNG output.
 *
 * @example
 * ```ts
 * const recoveryKey = await createRecoveryKey();
 * showOnce(recoveryKey.code); // 24 words
 * ```
 */
export async function createRecoveryKey(): Promise<RecoveryKey> {
  return new RecoveryKey(randomBytes(RECOVERY_KEY_BYTES));
}

/** The longest typed recovery code read (SPEC.md §11.2), in UTF-16 code units. */
const MAX_RECOVERY_CODE_CHARS = 4096;

/**
 * Reads a recovery code typed by a user: case, surrounding and repeated whitespace are ignored.
 * A wrong word count or a word outside the list always fails here; a valid word in the wrong
 * place fails the 8-bit checksum 255 times in 256. The rare mistyped code that passes the
 * checksum is a different key, which `restoreKeyBackup` refuses with `WRONG_RECOVERY_CODE`
 * (its public key is not the backup's): a mistyped code is never used as if it were right.
 *
 * @example
 * ```ts
 * const recoveryKey = recoveryKeyFromCode(input.value);
 * ```
 * @throws E2eeError `INVALID_RECOVERY_CODE` for a code longer than 4,096 characters, a wrong word
 *   count, a word outside the BIP-39 English list or a checksum mismatch (the message never
 *   repeats the code).
 * @throws TypeError when `code` is not a string.
 */
export function recoveryKeyFromCode(code: string): RecoveryKey {
  if (typeof code !== "string") throw new TypeError(`"code" expected a string, got ${describeValue(code)}`);
  // SPEC.md §11.2 step 0: before normalising, so an oversized input costs nothing.
  if (code.length > MAX_RECOVERY_CODE_CHARS) {
    throw new E2eeError("INVALID_RECOVERY_CODE", `recovery code is longer than ${MAX_RECOVERY_CODE_CHARS} characters`);
  }
  const words = code.normalize("NFKD").trim().toLowerCase().split(/\s+/);
  if (words.length !== RECOVERY_CODE_WORDS) {
    throw new E2eeError("INVALID_RECOVERY_CODE", `recovery code expected ${RECOVERY_CODE_WORDS} words, got ${words.length}`);
  }
  const unknown = words.findIndex((word) => !wordlist.includes(word));
  if (unknown !== -1) {
    throw new E2eeError("INVALID_RECOVERY_CODE", `recovery code word ${unknown + 1} is not a recovery word`);
  }
  let entropy: Uint8Array;
  try {
    entropy = mnemonicToEntropy(words.join(" "), wordlist);
  } catch {
    throw new E2eeError("INVALID_RECOVERY_CODE", "recovery code checksum does not match: a word is mistyped or out of order");
  }
  return new RecoveryKey(entropy);
}

/** Options of {@link protectRecoveryKey}. */
export interface PassphraseKdfOptions {
  readonly n?: number;
  readonly r?: number;
  readonly p?: number;
}

async function passphraseKey(passphrase: string, params: ScryptParamsV1, salt: Uint8Array): Promise<Uint8Array> {
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new TypeError('"passphrase" expected a non-empty string');
  }
  return scryptAsync(utf8Encode(passphrase.normalize("NFKC")), salt, { N: params.n, r: params.r, p: params.p, dkLen: 32 });
}

/**
 * Encrypts a recovery key under a passphrase with scrypt and AES-256-GCM, so a user can restore
 * with a passphrase instead of the 24 words. The result is safe to store on a server, but a
 * weak passphrase can be guessed offline: the KDF cost is the only defence.
 *
 * @example
 * ```ts
 * const protectedKey = await protectRecoveryKey(recoveryKey, "correct horse battery staple");
 * ```
 * @throws TypeError for an empty passphrase or a non-RecoveryKey.
 * @throws RangeError for KDF parameters outside `SCRYPT_LIMITS` (cost and memory bounds).
 * @throws E2eeError `INVALID_KEY` when `recoveryKey` was destroyed.
 */
export async function protectRecoveryKey(
  recoveryKey: RecoveryKey,
  passphrase: string,
  options: PassphraseKdfOptions = {},
): Promise<ProtectedRecoveryKeyV1> {
  const secret = recoverySecret(recoveryKey);
  const { n = DEFAULT_PASSPHRASE_KDF.n, r = DEFAULT_PASSPHRASE_KDF.r, p = DEFAULT_PASSPHRASE_KDF.p } = options;
  const problem = scryptParamsProblem(n, r, p);
  if (problem !== undefined) throw new RangeError(problem);
  const salt = randomBytes(16);
  const params: ScryptParamsV1 = { name: "scrypt", n, r, p, salt: base64urlEncode(salt) };
  const key = await passphraseKey(passphrase, params, salt);
  const nonce = randomBytes(12);
  const publicKey = base64urlDecode(recoveryKey.publicKey)!;
  const ciphertext = gcm(key, nonce, protectedRecoveryKeyAssociatedData(params, salt, publicKey)).encrypt(secret.entropy);
  key.fill(0);
  return {
    v: 1,
    type: "protected-recovery-key",
    publicKey: recoveryKey.publicKey,
    kdf: params,
    nonce: base64urlEncode(nonce),
    ciphertext: base64urlEncode(ciphertext),
  };
}

/**
 * Unlocks a passphrase-protected recovery key.
 *
 * @example
 * ```ts
 * const recoveryKey = await unlockRecoveryKey(protectedKey, passphrase);
 * ```
 * @param options.maxMemoryBytes - The most scrypt memory this device will spend; default 256 MiB
 *   (twice the default cost's 128 MiB). Raise it only on devices that can afford it.
 * @throws E2eeError `WRONG_RECOVERY_CODE` for a wrong passphrase (or a tampered blob),
 *   `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a malformed one, `PAYLOAD_TOO_LARGE` when its
 *   KDF cost exceeds `maxMemoryBytes` or its JSON text exceeds 4,096 characters.
 * @throws RangeError when `maxMemoryBytes` is not a positive safe integer.
 */
export async function unlockRecoveryKey(
  protectedKey: unknown,
  passphrase: string,
  options: { readonly maxMemoryBytes?: number } = {},
): Promise<RecoveryKey> {
  const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_UNLOCK_MEMORY_BYTES;
  // NaN or a non-number would make the comparison below false and let any cost through.
  if (!Number.isSafeInteger(maxMemoryBytes) || maxMemoryBytes < 1) {
    throw new RangeError(`"maxMemoryBytes" expected a positive safe integer, got ${String(maxMemoryBytes)}`);
  }
  const parsed = parseProtectedRecoveryKey(protectedKey);
  // The blob comes from storage the server controls: refuse a cost this device did not agree to
  // before allocating it (scrypt memory is 128·r·(N + p + 1) bytes).
  const { n, r, p } = parsed.kdf;
  if (128 * r * (n + p + 1) > maxMemoryBytes) {
    throw new E2eeError("PAYLOAD_TOO_LARGE", `protected recovery key asks for more than ${maxMemoryBytes} bytes of scrypt memory`);
  }
  const salt = base64urlDecode(parsed.kdf.salt)!;
  const nonce = base64urlDecode(parsed.nonce)!;
  const ciphertext = base64urlDecode(parsed.ciphertext)!;
  const publicKey = base64urlDecode(parsed.publicKey)!;
  const key = await passphraseKey(passphrase, parsed.kdf, salt);
  let entropy: Uint8Array;
  try {
    entropy = gcm(key, nonce, protectedRecoveryKeyAssociatedData(parsed.kdf, salt, publicKey)).decrypt(ciphertext);
  } catch {
    throw new E2eeError("WRONG_RECOVERY_CODE", "wrong passphrase for this recovery key");
  } finally {
    key.fill(0);
  }
  const recoveryKey = new RecoveryKey(entropy);
  if (recoveryKey.publicKey !== parsed.publicKey) {
    recoveryKey.destroy();
    throw new E2eeError("WRONG_RECOVERY_CODE", "wrong passphrase for this recovery key");
  }
  return recoveryKey;
}

/**
 * `true` when a protected recovery key's KDF cost is below `minimum` (default: the current
 * default), so the app should re-protect it (unlock, then {@link protectRecoveryKey}).
 *
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a malformed `protectedKey`,
 *   `PAYLOAD_TOO_LARGE` when it is JSON text over 4,096 characters.
 */
export function protectedRecoveryKeyNeedsUpgrade(protectedKey: unknown, minimum: PassphraseKdfOptions = {}): boolean {
  const { kdf } = parseProtectedRecoveryKey(protectedKey);
  const { n = DEFAULT_PASSPHRASE_KDF.n, r = DEFAULT_PASSPHRASE_KDF.r, p = DEFAULT_PASSPHRASE_KDF.p } = minimum;
  return kdf.n * kdf.r * kdf.p < n * r * p || kdf.n < n;
}
