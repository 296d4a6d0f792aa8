/**
 * `@domvia/realtime-e2ee`: end-to-end encryption for private chat on DomVia Realtime.
 *
 * The public API is this explicit list. Adding or removing a name is an API change: it is
 * reviewed and pinned by `src/public-api.test.ts`.
 *
 * @packageDocumentation
 */

// Message core: the E2EE guide's API.
export {
  generateAesGcmKey,
  exportAesGcmKeyToBase64,
  importAesGcmKeyFromBase64,
  isRoomKey,
  encryptChatJson,
  decryptChatJson,
  decryptChatMessage,
  type DecryptedChatMessage,
  type RoomKey,
  type RoomKeyReference,
  type RoomKeyResolver,
  type SenderBundleResolver,
  type SenderReference,
  type EncryptChatJsonContext,
  type DecryptChatJsonContext,
  type JsonValue,
  type PaddingMode,
} from "@domvia/e2ee-crypto";

// Native acceleration: on by default where the runtime has it; same bytes as noble.
export { setNativeCrypto, getNativeCrypto, type NativeCryptoMode, type NativeCryptoInfo } from "@domvia/e2ee-crypto";

// Key lifecycle: devices, keyrings, sharing, rotation, backup, recovery, lost devices.
export {
  DEFAULT_ROTATION_POLICY,
  DEFAULT_PASSPHRASE_KDF,
  DeviceIdentity,
  MemoryKeyStore,
  RoomKeyring,
  acceptRoomKeyShare,
  addToKeyBackup,
  compactKeyBackup,
  createDeviceIdentity,
  createKeyBackup,
  createRecoveryKey,
  loadDeviceIdentity,
  loadKeyring,
  loadKeyrings,
  protectRecoveryKey,
  protectedRecoveryKeyNeedsUpgrade,
  recoveryKeyFromCode,
  restoreKeyBackup,
  revokeDeviceEverywhere,
  saveDeviceIdentity,
  saveKeyring,
  shareRoomKey,
  unlockRecoveryKey,
  verifyDeviceBundle,
  type AcceptRoomKeyShareOptions,
  type AcceptedRoomKeyShare,
  type BackupRecipient,
  type CreateDeviceIdentityOptions,
  type KeyStore,
  type KeyVersionInfo,
  type KeyringDecryptOptions,
  type KeyringEncryptOptions,
  type PassphraseKdfOptions,
  type RecoveryKey,
  type RestoreSecret,
  type RoomKeyringOptions,
  type RotationPolicy,
  type ShareRoomKeyOptions,
  type VerifiedDeviceBundle,
} from "@domvia/e2ee-room-keys";

// Realtime channels: encrypt private events over any publish/subscribe client.
export {
  createEncryptedChannel,
  type ChannelEventPayload,
  type EncryptedChannel,
  type EncryptedChannelEvent,
  type EncryptedChannelMessage,
  type EncryptedChannelOptions,
  type PublishOptions,
  type PublishedEvent,
  type RealtimeChannel,
  type UnableToDecryptEvent,
} from "./encrypted-channel";

// Wire format and errors.
export {
  DEFAULT_ENCRYPTED_EVENTS,
  E2EE_ERROR_CODES,
  E2eeError,
  UnknownKeyError,
  UnsupportedVersionError,
  ContextMismatchError,
  InvalidEnvelopeError,
  ENVELOPE_LIMITS,
  parseEnvelope,
  safeParseEnvelope,
  parseDeviceBundle,
  safeParseDeviceBundle,
  parseRoomKeyShare,
  safeParseRoomKeyShare,
  parseKeyBackup,
  safeParseKeyBackup,
  parseProtectedRecoveryKey,
  type DeviceBundle,
  type E2eeErrorCode,
  type Envelope,
  type EnvelopeV1,
  type EnvelopeV2,
  type KeyBackup,
  type ParseEnvelopeOptions,
  type ProtectedRecoveryKeyV1,
  type RoomKeyShare,
  type RotationReason,
  type SafeParseEnvelopeResult,
  type WireIssue,
} from "@domvia/e2ee-envelope";
