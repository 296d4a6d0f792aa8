/**
 * Secret state a device keeps locally (SPEC.md §14): keyrings and device identities. Versioned
 * and validated like wire objects, because storage is input too.
 *
 * @module
 */
import * as z from "zod/mini";
import { keyVersionFields, secretKeySchema, type BackedUpKeyV1 } from "./key-backup";
import { countSchema, idSchema, keyVersionSchema, lazySchema } from "./schema-fields";
import { parseWire, type WireSpec } from "./wire";

/**
 * Why a keyring must (or should) rotate: a member was removed or a device revoked (required
 * before encrypting again), the current version reached the policy's message count or age
 * (advised), the app asked (`manual`, required), or the current version was only restored from a
 * backup (`restored`, required: restored versions decrypt history but never encrypt).
 */
export type RotationReason = "member-removed" | "device-revoked" | "max-messages" | "max-age" | "manual" | "restored";

/** Where a key version came from. Versions restored from a backup only decrypt (SPEC.md §12.6). */
export type KeyOrigin = "created" | "share" | "backup";

/** One key version in a keyring state. */
export interface KeyringVersionV1 extends Omit<BackedUpKeyV1, "roomId"> {
  /** Where this device got the version. */
  readonly origin: KeyOrigin;
  /** Messages this device encrypted with it. */
  readonly messageCount: number;
}

/** Rotation and retention policy of a keyring. */
export interface RotationPolicyV1 {
  /** Rotate after this many messages encrypted by this device with one version. */
  readonly maxMessagesPerVersion: number;
  /** Rotate when the current version is older than this, in milliseconds. */
  readonly maxVersionAgeMs: number;
  /** Keep at most this many versions (the newest); `null` keeps all, so history stays readable. */
  readonly retainVersions: number | null;
}

/** A keyring's complete state, as `exportState()` returns it. Secret. */
export interface KeyringStateV1 {
  readonly v: 1;
  readonly type: "room-keyring";
  readonly roomId: string;
  readonly policy: RotationPolicyV1;
  /** Set when the keyring must rotate before encrypting (membership changed). */
  readonly rotationRequired: RotationReason | null;
  /** The version new messages use, or `null` for a keyring with no key yet. */
  readonly currentVersion: number | null;
  /** The key id of the current version (two members may rotate to one version concurrently). */
  readonly currentKeyId: string | null;
  /** Users removed from the room: no shares to or from their devices. */
  readonly removedUsers: readonly string[];
  /** Revoked devices: no shares to or from them. */
  readonly revokedDevices: readonly { readonly userId: string; readonly deviceId: string }[];
  /** Every retained version, oldest first. */
  readonly versions: readonly KeyringVersionV1[];
}

/** A device identity's secret state. */
export interface DeviceIdentityStateV1 {
  readonly v: 1;
  readonly type: "device-identity";
  readonly userId: string;
  readonly deviceId: string;
  /** X25519 secret key, 32 bytes base64url. */
  readonly agreementSecretKey: string;
  /** Ed25519 secret key (seed), 32 bytes base64url. */
  readonly signingSecretKey: string;
}

const keyringSchemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("room-keyring"),
      roomId: idSchema(),
      policy: z.strictObject({
        maxMessagesPerVersion: z.int().check(z.minimum(1)),
        maxVersionAgeMs: z.int().check(z.minimum(1)),
        retainVersions: z.nullable(z.int().check(z.minimum(1))),
      }),
      rotationRequired: z.nullable(z.enum(["member-removed", "device-revoked", "max-messages", "max-age", "manual", "restored"])),
      currentVersion: z.nullable(keyVersionSchema()),
      currentKeyId: z.nullable(idSchema()),
      removedUsers: z.array(idSchema()).check(z.maxLength(100_000, { abort: true })),
      revokedDevices: z
        .array(z.strictObject({ userId: idSchema(), deviceId: idSchema() }))
        .check(z.maxLength(100_000, { abort: true })),
      versions: z
        .array(
          z.strictObject({
            ...keyVersionFields(),
            origin: z.enum(["created", "share", "backup"]),
            messageCount: countSchema(),
          }),
        )
        .check(z.maxLength(100_000, { abort: true })),
    }) as z.ZodMiniType<KeyringStateV1>,
);

const identitySchemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("device-identity"),
      userId: idSchema(),
      deviceId: idSchema(),
      agreementSecretKey: secretKeySchema(),
      signingSecretKey: secretKeySchema(),
    }) as z.ZodMiniType<DeviceIdentityStateV1>,
);

const keyringSpec: WireSpec<KeyringStateV1> = {
  name: "keyring state",
  type: "room-keyring",
  versions: [1],
  maxTextLength: 32 * 1024 * 1024,
  schema: keyringSchemaV1,
  oversizedPaths: ["versions"],
};

const identitySpec: WireSpec<DeviceIdentityStateV1> = {
  name: "device identity state",
  type: "device-identity",
  versions: [1],
  maxTextLength: 4096,
  schema: identitySchemaV1,
};

/**
 * Validates a stored keyring state and returns a frozen copy.
 *
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`.
 */
export function parseKeyringState(input: unknown): KeyringStateV1 {
  return parseWire(input, keyringSpec);
}

/**
 * Validates a stored device identity state and returns a frozen copy.
 *
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE` (JSON text
 *   over 4,096 characters).
 */
export function parseDeviceIdentityState(input: unknown): DeviceIdentityStateV1 {
  return parseWire(input, identitySpec);
}
