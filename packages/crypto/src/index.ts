/**
 * `@domvia/e2ee-crypto`: every cryptographic operation of the SDK, composed from the audited
 * noble and scure libraries. Seals chat JSON with XAES-256-GCM and a key commitment, signs with
 * Ed25519, shares room keys with RFC 9180 HPKE, and protects recovery keys and backups.
 * Runs wherever `crypto.getRandomValues` exists.
 *
 * @packageDocumentation
 */
export {
  generateAesGcmKey,
  exportAesGcmKeyToBase64,
  importAesGcmKeyFromBase64,
  exportRoomKeyBytes,
  importRoomKeyBytes,
  generateRoomKeySync,
  roomKeysEqual,
  isRoomKey,
  KEY_COMMITMENT_LABEL,
  type RoomKey,
} from "./room-key";
export {
  encryptChatJson,
  decryptChatJson,
  decryptChatMessage,
  type DecryptedChatMessage,
  type EncryptChatJsonContext,
  type DecryptChatJsonContext,
  type RoomKeyReference,
  type RoomKeyResolver,
  type SenderBundleResolver,
  type SenderReference,
  type JsonValue,
} from "./chat";
export type { PaddingMode } from "./padding";
export {
  DeviceIdentity,
  createDeviceIdentity,
  verifyDeviceBundle,
  verifyDeviceBundleAsync,
  type CreateDeviceIdentityOptions,
  type VerifiedDeviceBundle,
} from "./device-identity";
export {
  sealRoomKeyShare,
  sealRoomKeyShareAsync,
  openRoomKeyShare,
  type OpenedRoomKeyShare,
  type SealRoomKeyShareOptions,
} from "./key-share";
export {
  DEFAULT_PASSPHRASE_KDF,
  RECOVERY_CODE_WORDS,
  type RecoveryKey,
  createRecoveryKey,
  recoveryKeyFromCode,
  protectRecoveryKey,
  unlockRecoveryKey,
  protectedRecoveryKeyNeedsUpgrade,
  type PassphraseKdfOptions,
} from "./recovery";
export { KEY_BACKUP_SUITE, sealBackupChunk, openBackupChunk } from "./key-backup";
export { base64urlEncode, base64urlDecode, randomBytes } from "./bytes";
export {
  setNativeCrypto,
  getNativeCrypto,
  WEBCRYPTO_MIN_BYTES,
  type NativeCryptoMode,
  type NativeCryptoInfo,
} from "./native";
export {
  DEVICE_FINGERPRINT_LABEL,
  USER_FINGERPRINT_LABEL,
  FINGERPRINT_FORMAT,
  deviceFingerprint,
  deviceKeysFingerprint,
  userFingerprint,
  safetyNumber,
  safetyNumbersMatch,
  type DeviceKeys,
  type FingerprintFormat,
} from "./fingerprint";
