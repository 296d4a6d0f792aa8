/**
 * `@domvia/e2ee-room-keys`: the room key lifecycle. Device identities, keyrings with rotation
 * and retention, signed key shares between devices, recovery keys and backups, revocation of
 * lost devices, and persistence through a `KeyStore`.
 *
 * @packageDocumentation
 */
export { DEFAULT_ROTATION_POLICY, type RotationPolicy } from "./policy";
export {
  RoomKeyring,
  type KeyVersionInfo,
  type KeyringDecryptOptions,
  type KeyringEncryptOptions,
  type RoomKeyringOptions,
} from "./keyring";
export {
  shareRoomKey,
  shareRoomKeyAsync,
  acceptRoomKeyShare,
  type AcceptRoomKeyShareOptions,
  type AcceptedRoomKeyShare,
  type ShareRoomKeyOptions,
} from "./sharing";
export {
  createKeyBackup,
  addToKeyBackup,
  restoreKeyBackup,
  compactKeyBackup,
  type BackupRecipient,
  type RestoreSecret,
} from "./backup";
export {
  MemoryKeyStore,
  saveKeyring,
  loadKeyring,
  loadKeyrings,
  saveDeviceIdentity,
  loadDeviceIdentity,
  type KeyStore,
} from "./key-store";
export { revokeDeviceEverywhere } from "./revocation";
export {
  DEFAULT_REPLAY_GUARD_LIMITS,
  ReplayGuard,
  ReplayedMessageError,
  loadReplayGuard,
  saveReplayGuard,
  type ReplayGuardLimits,
  type ReplayGuardMessage,
  type ReplayGuardOptions,
  type ReplayVerdict,
} from "./replay-guard";
export {
  TrustStore,
  IdentityChangedError,
  shareRoomKeyWithTrust,
  shareRoomKeyWithTrustAsync,
  acceptRoomKeyShareWithTrust,
  saveTrustStore,
  loadTrustStore,
  type AcceptRoomKeyShareWithTrustOptions,
  type IdentityChangedEvent,
  type IdentityPinnedEvent,
  type PinnedIdentity,
  type RefusedRecipient,
  type ShareRoomKeyWithTrustOptions,
  type TrustStoreEvent,
  type TrustedRoomKeyShares,
} from "./trust-store";
export {
  DeviceIdentity,
  createDeviceIdentity,
  verifyDeviceBundle,
  verifyDeviceBundleAsync,
  deviceFingerprint,
  userFingerprint,
  safetyNumber,
  safetyNumbersMatch,
  createRecoveryKey,
  recoveryKeyFromCode,
  protectRecoveryKey,
  unlockRecoveryKey,
  protectedRecoveryKeyNeedsUpgrade,
  DEFAULT_PASSPHRASE_KDF,
  type CreateDeviceIdentityOptions,
  type PassphraseKdfOptions,
  type RecoveryKey,
  type VerifiedDeviceBundle,
} from "@domvia/e2ee-crypto";
