/**
 * `@domvia/e2ee-crypto`: seals chat JSON into envelopes and opens them, with XAES-256-GCM and a
 * key commitment, composed from the audited noble libraries. The only package of the SDK that
 * touches cryptographic primitives. Runs wherever `crypto.getRandomValues` exists.
 *
 * @packageDocumentation
 */
export {
  generateAesGcmKey,
  exportAesGcmKeyToBase64,
  importAesGcmKeyFromBase64,
  isRoomKey,
  KEY_COMMITMENT_LABEL,
  type RoomKey,
} from "./room-key";
export {
  encryptChatJson,
  decryptChatJson,
  type EncryptChatJsonContext,
  type DecryptChatJsonContext,
  type RoomKeyReference,
  type RoomKeyResolver,
  type JsonValue,
} from "./chat";
export type { PaddingMode } from "./padding";
