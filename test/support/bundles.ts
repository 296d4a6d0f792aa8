/**
 * Device bundles for tests that need one no DeviceIdentity would make: correctly self-signed
 * with a real Ed25519 key, around any agreement key (a low-order point, another device's key).
 */
import { deviceBundleSignatureInput, type DeviceBundle } from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode } from "../../packages/crypto/src/bytes";
import { generateSigningSecretKey, sign, signingPublicKey } from "../../packages/crypto/src/signing";

/** A bundle self-signed by `signingSecretKey` (default: a fresh one) whose agreement key is `agreementKey`. */
export function selfSignedBundle(userId: string, deviceId: string, agreementKey: Uint8Array, signingSecretKey = generateSigningSecretKey()): DeviceBundle {
  const signingKey = signingPublicKey(signingSecretKey);
  return {
    v: 1,
    type: "device-bundle",
    userId,
    deviceId,
    agreementKey: base64urlEncode(agreementKey),
    signingKey: base64urlEncode(signingKey),
    signature: base64urlEncode(sign(signingSecretKey, deviceBundleSignatureInput(userId, deviceId, agreementKey, signingKey))),
  };
}

/** `bundle` with one bit of its self-signature flipped. */
export function withFlippedSignature(bundle: DeviceBundle): DeviceBundle {
  const signature = base64urlDecode(bundle.signature);
  if (signature === undefined) throw new Error("test fixture is not base64url");
  signature[10]! ^= 0x01;
  return { ...bundle, signature: base64urlEncode(signature) };
}
