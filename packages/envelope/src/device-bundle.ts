/**
 * Device bundle v1: the public, self-signed record of one device's keys, which a server stores
 * and hands out (SPEC.md §9).
 *
 * @module
 */
import * as z from "zod/mini";
import { canonicalBytes } from "./canonical";
import { isBase64urlText, isValidId } from "./fields";
import { ENVELOPE_LIMITS, base64urlLength } from "./limits";
import { fixedBytesSchema, idSchema, lazySchema } from "./schema-fields";
import { ownDataMembers, parseWire, safeParseWire, type SafeParseResult, type WireSpec } from "./wire";

/** A device's public keys, signed by the device's own signing key. JSON-safe; not secret. */
export interface DeviceBundleV1 {
  /** Format version: the literal `1`. */
  readonly v: 1;
  /** Object type: the literal `"device-bundle"`. */
  readonly type: "device-bundle";
  /** The user who owns the device. */
  readonly userId: string;
  /** The device, unique for its user. */
  readonly deviceId: string;
  /** X25519 public key (32 bytes, base64url) that key shares are encrypted to. */
  readonly agreementKey: string;
  /** Ed25519 public key (32 bytes, base64url) that verifies this device's signatures. */
  readonly signingKey: string;
  /** Ed25519 signature by `signingKey` over {@link deviceBundleSignatureInput} (64 bytes). */
  readonly signature: string;
}

/** A device bundle of any supported version. */
export type DeviceBundle = DeviceBundleV1;

/** Label that starts a device bundle's signature input. */
export const DEVICE_BUNDLE_LABEL = "domvia-e2ee/device-bundle";

/**
 * The bytes a device signs to produce its bundle:
 * `text(label) || u8(1) || text(userId) || text(deviceId) || bytes(agreementKey) || bytes(signingKey)`.
 */
export function deviceBundleSignatureInput(
  userId: string,
  deviceId: string,
  agreementKey: Uint8Array,
  signingKey: Uint8Array,
): Uint8Array {
  return canonicalBytes([
    { text: DEVICE_BUNDLE_LABEL },
    { u8: 1 },
    { text: userId },
    { text: deviceId },
    { bytes: agreementKey },
    { bytes: signingKey },
  ]);
}

/**
 * @internal The schema of device bundle v1, built on first call (exported for the fast path's
 * agreement test).
 */
export const deviceBundleSchemaV1: () => z.ZodMiniType<DeviceBundleV1> = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("device-bundle"),
      userId: idSchema(),
      deviceId: idSchema(),
      agreementKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
      signingKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
      signature: fixedBytesSchema(ENVELOPE_LIMITS.signatureBytes),
    }) as z.ZodMiniType<DeviceBundleV1>,
);

const BUNDLE_MEMBERS = ["v", "type", "userId", "deviceId", "agreementKey", "signingKey", "signature"] as const;
const KEY_CHARS = base64urlLength(ENVELOPE_LIMITS.publicKeyBytes);
const SIGNATURE_CHARS = base64urlLength(ENVELOPE_LIMITS.signatureBytes);

/**
 * @internal The schema's verdict on a well-formed bundle, without the schema (bundles are read
 * for every signed message and every share); anything else goes to the schema. Checked against
 * it in parse-fast.test.ts.
 */
export function acceptDeviceBundle(value: Record<string, unknown>): DeviceBundle | undefined {
  const copy = ownDataMembers(value, BUNDLE_MEMBERS);
  const valid =
    copy !== undefined &&
    copy["v"] === 1 &&
    copy["type"] === "device-bundle" &&
    isValidId(copy["userId"]) &&
    isValidId(copy["deviceId"]) &&
    isBase64urlText(copy["agreementKey"], KEY_CHARS, KEY_CHARS) &&
    isBase64urlText(copy["signingKey"], KEY_CHARS, KEY_CHARS) &&
    isBase64urlText(copy["signature"], SIGNATURE_CHARS, SIGNATURE_CHARS);
  return valid ? (copy as unknown as DeviceBundle) : undefined;
}

const spec: WireSpec<DeviceBundle> = {
  name: "device bundle",
  type: "device-bundle",
  versions: [1],
  maxTextLength: 4096,
  schema: deviceBundleSchemaV1,
  accept: acceptDeviceBundle,
};

/**
 * Validates a device bundle's shape (not its signature: that needs the crypto package).
 *
 * @example
 * ```ts
 * const result = safeParseDeviceBundle(request.body);
 * ```
 */
export function safeParseDeviceBundle(input: unknown): SafeParseResult<DeviceBundle> {
  return safeParseWire(input, spec);
}

/**
 * Validates a device bundle's shape and returns a frozen copy.
 *
 * @example
 * ```ts
 * const bundle = parseDeviceBundle(request.body);
 * ```
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE` (JSON text
 *   over 4,096 characters).
 */
export function parseDeviceBundle(input: unknown): DeviceBundle {
  return parseWire(input, spec);
}
