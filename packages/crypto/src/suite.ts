/**
 * The one HPKE suite key shares and backups use today (RFC 9180 §7):
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
 *
 * @module
 */

/** RFC 9180 algorithm identifiers, as written into shares and backups. */
export const HPKE_SUITE: Readonly<{ kem: number; kdf: number; aead: number }> = Object.freeze({
  /** 0x0020 DHKEM(X25519, HKDF-SHA256). */
  kem: 0x0020,
  /** 0x0001 HKDF-SHA256. */
  kdf: 0x0001,
  /** 0x0002 AES-256-GCM. */
  aead: 0x0002,
});

/** Empty HPKE additional data: shares and backups bind their context through `info`. */
export const EMPTY_AAD: Uint8Array = new Uint8Array(0);
