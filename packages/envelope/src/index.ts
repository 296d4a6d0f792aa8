/**
 * `@domvia/e2ee-envelope`: the wire format of DomVia Realtime E2EE. Schemas, parsers, the
 * canonical associated data, size limits and the SDK's error type. No cipher code: this is
 * the package a server imports to validate what it relays.
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
  type EnvelopeLimits,
  padmeLength,
  maxCiphertextBytes,
  base64urlLength,
  checkMaxPlaintextBytes,
} from "./limits";
export { safeParseJson, type SafeJsonResult } from "./json";
export { ID_PATTERN, isValidId, assertId, assertKeyVersion, isCanonicalBase64url } from "./fields";
export {
  ASSOCIATED_DATA_LABEL_V1,
  SUITE_V1,
  encodeAssociatedDataV1,
  type AssociatedDataV1,
} from "./v1/associated-data";
export { createEnvelopeV1Schema, type EnvelopeV1 } from "./v1/schema";
export {
  SUPPORTED_ENVELOPE_VERSIONS,
  InvalidEnvelopeError,
  parseEnvelope,
  safeParseEnvelope,
  type Envelope,
  type EnvelopeIssue,
  type ParseEnvelopeOptions,
  type SafeParseEnvelopeResult,
} from "./parse";
