/**
 * Helpers for the tests of the asynchronous sharing calls against their synchronous twins
 * (packages/room-keys/src/*-async.test.ts): outcomes as comparable strings, shares as data.
 */
import { E2eeError, type RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import { expect } from "vitest";

// Low-order X25519 points, u = 0 and u = 1: an exchange with either gives the all-zero secret.
export const U_ZERO = new Uint8Array(32);
export const U_ONE = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));

export const address = (device: { userId: string; deviceId: string }): string => `${device.userId}/${device.deviceId}`;
export const recipientOf = (share: RoomKeyShareV1): string => `${share.recipientUserId}/${share.recipientDeviceId}`;

/** A share without its per-call random parts (`enc`, `ciphertext`) and the signature over them. */
export function shape({ enc: _enc, ciphertext: _ciphertext, signature: _signature, ...rest }: RoomKeyShareV1) {
  return rest;
}

/** What a call threw or rejected with, described by its E2eeError code or error class. */
export function describeError(error: unknown): string {
  if (E2eeError.isInstance(error)) return error.code;
  if (error instanceof Error) return error.name;
  return `non-error ${typeof error}`;
}

/** "shares", or what the synchronous call threw. */
export function syncOutcome(run: () => unknown): string {
  try {
    run();
    return "shares";
  } catch (error) {
    return describeError(error);
  }
}

/** "shares", or what the asynchronous call rejected with; a synchronous throw (the contract says reject) is reported as such. */
export async function asyncOutcome(run: () => Promise<unknown>): Promise<string> {
  let pending: Promise<unknown>;
  try {
    pending = run();
  } catch (error) {
    return `threw synchronously: ${describeError(error)}`;
  }
  return pending.then(
    () => "shares",
    (error: unknown) => describeError(error),
  );
}

/** `pending` rejects with an E2eeError of `code`. */
export async function expectRejection(pending: Promise<unknown>, code: string): Promise<void> {
  expect(await asyncOutcome(() => pending)).toBe(code);
}
