/**
 * Rotation and retention policy.
 *
 * @module
 */
import type { RotationPolicyV1 } from "@domvia/e2ee-envelope";

/** A keyring's rotation and retention policy. */
export type RotationPolicy = RotationPolicyV1;

/**
 * Default policy, frozen.
 *
 * - `maxMessagesPerVersion: 1000` and `maxVersionAgeMs: 7 days`: these bound how much one leaked
 *   key version exposes, not a cryptographic limit (XAES-256-GCM's random 192-bit nonces allow
 *   about 2^80 messages per key). Matrix's Megolm defaults to 100 messages or one week per
 *   sending session; a room key here is shared by every member and each rotation re-shares it to
 *   every device, so the message bound is ten times larger and the week is kept.
 * - `retainVersions: null`: keep every version, so history stays readable after rotations.
 *
 * Rotation is also required, whatever the counts, after a member is removed or a device revoked.
 */
export const DEFAULT_ROTATION_POLICY: RotationPolicy = Object.freeze({
  maxMessagesPerVersion: 1000,
  maxVersionAgeMs: 7 * 24 * 60 * 60 * 1000,
  retainVersions: null,
});

/**
 * The default policy with `overrides` applied and checked.
 *
 * @throws RangeError for a limit that is not a positive integer.
 */
export function resolvePolicy(overrides: Partial<RotationPolicy> | undefined): RotationPolicy {
  const policy = { ...DEFAULT_ROTATION_POLICY, ...overrides };
  for (const name of ["maxMessagesPerVersion", "maxVersionAgeMs"] as const) {
    const value = policy[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`"policy.${name}" expected a positive integer, got ${String(value)}`);
    }
  }
  const { retainVersions } = policy;
  if (retainVersions !== null && (!Number.isSafeInteger(retainVersions) || retainVersions < 1)) {
    throw new RangeError(`"policy.retainVersions" expected a positive integer or null, got ${String(retainVersions)}`);
  }
  return Object.freeze(policy);
}
