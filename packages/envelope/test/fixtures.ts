/**
 * A real envelope v1 for the envelope package's tests: key bytes 00..1f, nonce bytes 40..57,
 * room-42 / msg-1 (made by `sealChatJson` in @domvia/e2ee-crypto, whose chat.test.ts pins the
 * same envelope as a known answer). This package holds no cipher code, so it is a fixture here.
 */
import type { EnvelopeV1 } from "../src/index";

export const ENVELOPE_V1: EnvelopeV1 = Object.freeze({
  v: 1,
  suite: "xaes256gcm-kc",
  roomId: "room-42",
  messageId: "msg-1",
  keyId: "room-42-v1",
  keyVersion: 1,
  nonce: "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZX",
  commitment: "P6ThBzXdpEbc1Y15lCYGnFEoaKq5leGafa-DCqXYqD0",
  ciphertext: "BeMkvISKR0Mb9lHkyFucixB0qaRF6rErl918FBRjNDIYNeSuJpNpvS4N-FemTaKvddPJlrOfyUO8voVyK9ukow",
});

/** A device bundle of valid shape (its signature does not verify: the envelope package never checks it). */
export const DEVICE_BUNDLE_SHAPE = Object.freeze({
  v: 1,
  type: "device-bundle",
  userId: "alice",
  deviceId: "phone-1",
  agreementKey: "A".repeat(43),
  signingKey: "B".repeat(42) + "A",
  signature: "C".repeat(85) + "A",
});
