/**
 * `@domvia/realtime-e2ee`: end-to-end encryption for private chat on DomVia Realtime.
 *
 * The public API is this explicit list. Adding or removing a name is an API change: it is
 * reviewed and pinned by `src/public-api.test.ts`.
 *
 * @packageDocumentation
 */
export {
  generateAesGcmKey,
  exportAesGcmKeyToBase64,
  importAesGcmKeyFromBase64,
  isRoomKey,
  encryptChatJson,
  decryptChatJson,
  type RoomKey,
  type RoomKeyReference,
  type RoomKeyResolver,
  type EncryptChatJsonContext,
  type DecryptChatJsonContext,
  type JsonValue,
  type PaddingMode,
} from "@domvia/e2ee-crypto";
export {
  E2EE_ERROR_CODES,
  E2eeError,
  UnknownKeyError,
  UnsupportedVersionError,
  ContextMismatchError,
  InvalidEnvelopeError,
  ENVELOPE_LIMITS,
  parseEnvelope,
  safeParseEnvelope,
  type E2eeErrorCode,
  type Envelope,
  type EnvelopeV1,
  type WireIssue,
  type ParseEnvelopeOptions,
  type SafeParseEnvelopeResult,
} from "@domvia/e2ee-envelope";
