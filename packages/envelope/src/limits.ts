/**
 * Size limits of the wire format and the padding rule that determines ciphertext sizes.
 * SPEC.md §5.2 (padding) and §16 (limits) are the normative text.
 *
 * @module
 */

/** Sizes and bounds of the wire format. */
export interface EnvelopeLimits {
  /** Longest identifier (room, message, key id), in characters. */
  readonly maxIdLength: number;
  /** Largest key version. */
  readonly maxKeyVersion: number;
  /** Default largest plaintext (UTF-8 JSON bytes). */
  readonly defaultMaxPlaintextBytes: number;
  /** Largest value any `maxPlaintextBytes` option may take. */
  readonly maxPlaintextBytesCeiling: number;
  /** Nonce size in bytes. */
  readonly nonceBytes: number;
  /** Key commitment size in bytes. */
  readonly commitmentBytes: number;
  /** AEAD tag size in bytes. */
  readonly tagBytes: number;
  /** Ed25519 signature size in bytes. */
  readonly signatureBytes: number;
  /** X25519 and Ed25519 public key size in bytes. */
  readonly publicKeyBytes: number;
}

/**
 * Frozen limits of envelope v1.
 *
 * - `maxIdLength`: ids are routing metadata, not content; 128 ASCII characters holds a UUID
 *   with a prefix and keeps the associated data small.
 * - `maxKeyVersion`: 2^31 − 1, the largest integer every JSON implementation and every
 *   32-bit signed integer type represents exactly.
 * - `defaultMaxPlaintextBytes`: 64 KiB of UTF-8 JSON; chat content, not file transfer.
 * - `maxPlaintextBytesCeiling`: the largest `maxPlaintextBytes` an option may set (16 MiB),
 *   so no configuration makes a single message unbounded.
 */
export const ENVELOPE_LIMITS: EnvelopeLimits = Object.freeze({
  maxIdLength: 128,
  maxKeyVersion: 2_147_483_647,
  defaultMaxPlaintextBytes: 65_536,
  maxPlaintextBytesCeiling: 16 * 1024 * 1024,
  nonceBytes: 24,
  commitmentBytes: 32,
  tagBytes: 16,
  signatureBytes: 64,
  publicKeyBytes: 32,
});

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
 * with PURBs", PETS 2019, §4): with E = ⌊log2 L⌋ and S = ⌊log2 E⌋ + 1, the smallest length ≥ L
 * whose low E − S bits are zero (SPEC.md §5.2). Overhead is at most about 12%, and lengths
 * leak O(log log L) bits.
 *
 * @example
 * ```ts
 * padmeLength(204); // 208
 * ```
 * @throws RangeError when `length` is not an integer from 0 to 2^31 − 1.
 */
export function padmeLength(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > 0x7fff_ffff) {
    throw new RangeError(`"length" expected an integer from 0 to 2147483647, got ${String(length)}`);
  }
  if (length < 2) return length;
  const exponent = 31 - Math.clz32(length); // ⌊log2 L⌋, exact in integer arithmetic
  const bitsOfExponent = 32 - Math.clz32(exponent); // ⌊log2 E⌋ + 1
  const mask = (1 << (exponent - bitsOfExponent)) - 1;
  // (L + mask) & ~mask, in floating-point arithmetic so it cannot overflow 32 bits.
  return Math.floor((length + mask) / (mask + 1)) * (mask + 1);
}

/**
 * The largest ciphertext (padded plaintext plus 16-byte tag) an envelope may carry when
 * plaintexts are limited to `maxPlaintextBytes`. The padded plaintext is the JSON, one 0x80
 * marker byte and zero bytes up to the Padmé length (SPEC.md §5).
 *
 * @example
 * ```ts
 * maxCiphertextBytes(65_536); // 67_600
 * ```
 */
export function maxCiphertextBytes(maxPlaintextBytes: number): number {
  return padmeLength(maxPlaintextBytes + 1) + ENVELOPE_LIMITS.tagBytes;
}

/** Characters of unpadded base64url that encode `byteLength` bytes. */
export function base64urlLength(byteLength: number): number {
  return Math.ceil((byteLength * 4) / 3);
}

/**
 * Validates a `maxPlaintextBytes` option.
 *
 * @throws RangeError when it is not an integer from 1 to 16 MiB.
 */
export function checkMaxPlaintextBytes(value: number | undefined): number {
  if (value === undefined) return ENVELOPE_LIMITS.defaultMaxPlaintextBytes;
  if (!Number.isSafeInteger(value) || value < 1 || value > ENVELOPE_LIMITS.maxPlaintextBytesCeiling) {
    throw new RangeError(
      // Not String(value): an object without a string form (a null prototype) would throw a TypeError here.
      `"maxPlaintextBytes" expected an integer from 1 to ${ENVELOPE_LIMITS.maxPlaintextBytesCeiling}, got ${typeof value === "number" ? String(value) : typeof value}`,
    );
  }
  return value;
}
