/**
 * Device bundle v1: the public, self-signed record of one device's keys, which a server stores
 * and hands out (SPEC.md §9).
 *
 * @module
 */
import * as z from "zod/mini";
import { canonicalBytes } from "./canonical";
import { ENVELOPE_LIMITS } from "./limits";
import { fixedBytesSchema, idSchema } from "./schema-fields";
import { parseWire, safeParseWire, type SafeParseResult, type WireSpec } from "./wire";

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

const schemaV1: z.ZodMiniType<DeviceBundleV1> = z.strictObject({
  v: z.literal(1),
  type: z.literal("device-bundle"),
  userId: idSchema,
  deviceId: idSchema,
  agreementKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
  signingKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
  signature: fixedBytesSchema(ENVELOPE_LIMITS.signatureBytes),
}) as z.ZodMiniType<DeviceBundleV1>;

const spec: WireSpec<DeviceBundle> = {
  name: "device bundle",
  type: "device-bundle",
  versions: [1],
  maxTextLength: 4096,
  schema: () => schemaV1,
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
 * @throws E2eeError `INVALID_ENVELOPE` or `UNSUPPORTED_VERSION`.
 */
export function parseDeviceBundle(input: unknown): DeviceBundle {
  return parseWire(input, spec);
}
