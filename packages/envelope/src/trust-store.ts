/**
 * Trust store state v1 (SPEC.md §20.5): the device keys a device pinned the first time it met
 * each (user, device), and which of them its user verified out of band. Stored locally and read
 * like a wire object, because storage is input too.
 *
 * Not secret (it holds public keys), but its integrity matters: whoever can write it can make the
 * device accept a substituted key without a warning.
 *
 * @module
 */
import * as z from "zod/mini";
import { ENVELOPE_LIMITS } from "./limits";
import { fixedBytesSchema, idSchema, lazySchema, timestampSchema } from "./schema-fields";
import { parseWire, safeParseWire, type SafeParseResult, type WireSpec } from "./wire";

/** Bounds of a trust store state. */
export const TRUST_STORE_LIMITS: Readonly<{ maxDevices: number; maxTextLength: number }> = Object.freeze({
  /** Pinned devices: far more than one user's contacts have devices, small enough to parse at start. */
  maxDevices: 100_000,
  /** Largest state JSON text: 100,000 pins with 128-character ids take about 43 MiB as compact JSON. */
  maxTextLength: 64 * 1024 * 1024,
});

/** One pinned device: the keys first seen (or last accepted) for its ids. */
export interface PinnedDeviceV1 {
  /** The user who owns the device. */
  readonly userId: string;
  /** The device, unique for its user. */
  readonly deviceId: string;
  /** The pinned X25519 public key (32 bytes, base64url), as in the device's bundle. */
  readonly agreementKey: string;
  /** The pinned Ed25519 public key (32 bytes, base64url), as in the device's bundle. */
  readonly signingKey: string;
  /** `true` when the user compared this device's fingerprint or safety number out of band. */
  readonly verified: boolean;
  /** When these keys were pinned, Unix milliseconds. */
  readonly pinnedAt: number;
}

/** A trust store's complete state, as `TrustStore.exportState()` returns it. Public, integrity-sensitive. */
export interface TrustStoreStateV1 {
  /** Format version: the literal `1`. */
  readonly v: 1;
  /** Object type: the literal `"trust-store"`. */
  readonly type: "trust-store";
  /** Pinned devices, ordered by user id then device id; at most 100,000, one per (user, device). */
  readonly devices: readonly PinnedDeviceV1[];
}

const deviceAddress = (device: unknown): string | undefined => {
  if (typeof device !== "object" || device === null) return undefined;
  const { userId, deviceId } = device as { userId?: unknown; deviceId?: unknown };
  return typeof userId === "string" && typeof deviceId === "string" ? `${userId}/${deviceId}` : undefined;
};

function hasNoDuplicateDevice(devices: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const device of devices) {
    const address = deviceAddress(device);
    if (address === undefined) continue;
    if (seen.has(address)) return false;
    seen.add(address);
  }
  return true;
}

const schemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("trust-store"),
      devices: z
        .array(
          z.strictObject({
            userId: idSchema(),
            deviceId: idSchema(),
            agreementKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
            signingKey: fixedBytesSchema(ENVELOPE_LIMITS.publicKeyBytes),
            verified: z.boolean(),
            pinnedAt: timestampSchema(),
          }),
        )
        .check(
          z.maxLength(TRUST_STORE_LIMITS.maxDevices, { abort: true }),
          z.refine<unknown[]>(hasNoDuplicateDevice, { message: "duplicate device" }),
        ),
    }) as z.ZodMiniType<TrustStoreStateV1>,
);

const spec: WireSpec<TrustStoreStateV1> = {
  name: "trust store state",
  type: "trust-store",
  versions: [1],
  maxTextLength: TRUST_STORE_LIMITS.maxTextLength,
  schema: schemaV1,
  oversizedPaths: ["devices"],
};

/**
 * Validates a stored trust store state. Never throws.
 *
 * @example
 * ```ts
 * const result = safeParseTrustStoreState(await storage.get("trust"));
 * if (!result.success) reportCorruptStorage(result.error.code);
 * ```
 */
export function safeParseTrustStoreState(input: unknown): SafeParseResult<TrustStoreStateV1> {
  return safeParseWire(input, spec);
}

/**
 * Validates a stored trust store state and returns a frozen copy.
 *
 * @example
 * ```ts
 * const state = parseTrustStoreState(await storage.get("trust"));
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` (malformed, or two pins for one device),
 *   `UNSUPPORTED_VERSION`, or `PAYLOAD_TOO_LARGE` (text over 64 MiB, more than 100,000 devices).
 */
export function parseTrustStoreState(input: unknown): TrustStoreStateV1 {
  return parseWire(input, spec);
}
