/**
 * zod building blocks shared by every wire schema, so each rule is written once. Every schema
 * in this package is built on first use (see {@link lazySchema}), never at import.
 *
 * @module
 */
import * as z from "zod/mini";
import { ID_PATTERN, isCanonicalBase64url } from "./fields";
import { ENVELOPE_LIMITS, base64urlLength } from "./limits";

/**
 * A getter that builds the schema on its first call and returns that same schema ever after.
 * Schemas are built lazily because building them all at import costs servers cold-start time.
 */
export function lazySchema<T>(build: () => z.ZodMiniType<T>): () => z.ZodMiniType<T> {
  let schema: z.ZodMiniType<T> | undefined;
  return () => (schema ??= build());
}

/** An identifier: 1–128 characters of `A–Z a–z 0–9 . _ : @ -`; length checked first. */
export const idSchema: () => z.ZodMiniType<string> = lazySchema(() =>
  z.string().check(z.maxLength(ENVELOPE_LIMITS.maxIdLength, { abort: true }), z.regex(ID_PATTERN)),
);

/** A key version: an integer from 1 to 2^31 − 1. */
export const keyVersionSchema: () => z.ZodMiniType<number> = lazySchema(() =>
  z.int().check(z.minimum(1), z.maximum(ENVELOPE_LIMITS.maxKeyVersion)),
);

/** Canonical unpadded base64url of exactly `bytes` bytes. Builds a new schema on every call. */
export function fixedBytesSchema(bytes: number): z.ZodMiniType<string> {
  return z
    .string()
    .check(
      z.length(base64urlLength(bytes), { abort: true }),
      z.refine<string>(isCanonicalBase64url, { message: "not canonical base64url" }),
    );
}

/**
 * Canonical unpadded base64url of `minBytes` to `maxBytes` bytes; length checked first. Builds a
 * new schema on every call.
 */
export function boundedBytesSchema(minBytes: number, maxBytes: number): z.ZodMiniType<string> {
  return z
    .string()
    .check(
      z.maxLength(base64urlLength(maxBytes), { abort: true }),
      z.minLength(base64urlLength(minBytes), { abort: true }),
      z.refine<string>(isCanonicalBase64url, { message: "not canonical base64url" }),
    );
}

/** A non-negative safe integer: a count. */
export const countSchema: () => z.ZodMiniType<number> = lazySchema(() => z.int().check(z.minimum(0)));

/** A Unix time in milliseconds: a non-negative safe integer. */
export const timestampSchema: () => z.ZodMiniType<number> = countSchema;
