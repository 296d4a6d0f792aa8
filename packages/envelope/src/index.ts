/**
 * `@domvia/e2ee-envelope`: the wire format of DomVia Realtime E2EE. Schemas, parsers, the
 * canonical byte encodings bound into ciphertexts and signatures, size limits and the SDK's
 * error type. No cipher code: this is the package a server imports to validate what it relays.
 *
 * @packageDocumentation
 */
export {
  E2EE_ERROR_CODES,
  E2eeError,
  UnsupportedVersionError,
  UnknownKeyError,
  ContextMismatchError,
  decryptionFailed,
  type E2eeErrorCode,
} from "./errors";
export {
  ENVELOPE_LIMITS,
  padmeLength,
  maxCiphertextBytes,
  base64urlLength,
  checkMaxPlaintextBytes,
  type EnvelopeLimits,
} from "./limits";
export { safeParseJson, type SafeJsonResult } from "./json";
export { ID_PATTERN, isValidId, assertId, assertKeyVersion, isCanonicalBase64url } from "./fields";
export { canonicalBytes, type CanonicalField } from "./canonical";
export {
  InvalidEnvelopeError,
  parseWire,
  safeParseWire,
  type SafeParseResult,
  type WireIssue,
  type WireSpec,
} from "./wire";
export {
  ASSOCIATED_DATA_LABEL_V1,
  SUITE_V1,
  encodeAssociatedDataV1,
  type AssociatedDataV1,
} from "./v1/associated-data";
export { createEnvelopeV1Schema, type EnvelopeV1 } from "./v1/schema";
export {
  ENVELOPE_SIGNATURE_LABEL_V2,
  createEnvelopeV2Schema,
  encodeAssociatedDataV2,
  envelopeSignatureInputV2,
  type AssociatedDataV2,
  type EnvelopeV2,
} from "./v2/envelope";
export {
  SUPPORTED_ENVELOPE_VERSIONS,
  parseEnvelope,
  parseEnvelopeForOpening,
  safeParseEnvelope,
  type Envelope,
  type EnvelopeForOpening,
  type ParseEnvelopeOptions,
  type SafeParseEnvelopeResult,
} from "./parse";
export {
  DEFAULT_ENCRYPTED_EVENTS,
  checkRelayEvent,
  type RelayEventCheck,
  type RelayEventInput,
} from "./relay";
export {
  DEVICE_BUNDLE_LABEL,
  deviceBundleSignatureInput,
  parseDeviceBundle,
  safeParseDeviceBundle,
  type DeviceBundle,
  type DeviceBundleV1,
} from "./device-bundle";
export {
  KEY_SHARE_ALGORITHMS,
  KEY_SHARE_INFO_LABEL,
  KEY_SHARE_PLAINTEXT_BYTES,
  KEY_SHARE_SIGNATURE_LABEL,
  keyShareInfo,
  keyShareSignatureInput,
  parseRoomKeyShare,
  safeParseRoomKeyShare,
  type KeyShareContext,
  type RoomKeyShare,
  type RoomKeyShareV1,
} from "./key-share";
export {
  KEY_BACKUP_INFO_LABEL,
  KEY_BACKUP_LIMITS,
  PROTECTED_RECOVERY_KEY_LABEL,
  SCRYPT_LIMITS,
  scryptParamsProblem,
  keyBackupInfo,
  parseKeyBackup,
  parseKeyBackupPayload,
  parseProtectedRecoveryKey,
  protectedRecoveryKeyAssociatedData,
  safeParseKeyBackup,
  type BackedUpKeyV1,
  type KeyBackup,
  type KeyBackupChunkV1,
  type KeyBackupPayloadV1,
  type KeyBackupV1,
  type ProtectedRecoveryKeyV1,
  type ScryptParamsV1,
} from "./key-backup";
export {
  parseDeviceIdentityState,
  parseKeyringState,
  type DeviceIdentityStateV1,
  type KeyOrigin,
  type KeyringStateV1,
  type KeyringVersionV1,
  type RotationPolicyV1,
  type RotationReason,
} from "./local-state";
export {
  REPLAY_GUARD_LIMITS,
  parseReplayGuardState,
  safeParseReplayGuardState,
  type ReplayGuardMessageV1,
  type ReplayGuardRoomV1,
  type ReplayGuardStateV1,
} from "./replay-guard";
export {
  TRUST_STORE_LIMITS,
  parseTrustStoreState,
  safeParseTrustStoreState,
  type PinnedDeviceV1,
  type TrustStoreStateV1,
} from "./trust-store";
