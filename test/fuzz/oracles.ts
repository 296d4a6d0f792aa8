/**
 * What the fuzz suites accept as a correct answer, beyond "a documented error": a parsed object
 * is a frozen plain copy that survives its own JSON round trip, a `safeParse…` agrees with its
 * `parse…`, and a decrypted or verified result belongs to an input that means the same as the
 * genuine object (any real change must fail).
 */
import { types } from "node:util";
import { E2eeError, type E2eeErrorCode } from "@domvia/e2ee-envelope";
import { expect } from "vitest";
import { describeThrown, type EntryPoint } from "./harness";
import { stringify } from "./json";

/** The codes every wire reader may throw (SPEC.md §3.3, §7.3). */
export const PARSE_CODES: readonly E2eeErrorCode[] = ["INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE"];

/** A failure of the oracle itself, as opposed to an error the entry point threw. */
export class OracleFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OracleFailure";
  }
}

/** A successful parse: a frozen plain object whose JSON text parses again to the same object. */
export function expectParsedObject(value: unknown, parse: (input: unknown) => unknown): void {
  expect(typeof value).toBe("object");
  expect(value).not.toBeNull();
  expect(Object.isFrozen(value)).toBe(true);
  const prototype = Object.getPrototypeOf(value) as unknown;
  expect(prototype === Object.prototype || prototype === null).toBe(true);
  expect(Object.hasOwn(value as object, "__proto__")).toBe(false);
  const text = stringify(value)!;
  expect(stringify(parse(text))).toBe(text);
  expect(stringify(parse(JSON.parse(text)))).toBe(text);
}

/** JSON text with object members sorted, so two values compare regardless of member order. */
export function sortedJson(value: unknown): string {
  return (
    stringify(value, (_key, item: unknown) =>
      typeof item === "object" && item !== null && !Array.isArray(item)
        ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : item,
    ) ?? "undefined"
  );
}

/**
 * What the input meant as JSON, when that is knowable: the parsed text, or a plain object's own
 * members. `undefined` for a Proxy, an object with a prototype of its own, or anything else.
 */
export function meaningOf(input: unknown): unknown {
  if (typeof input === "string") {
    try {
      return JSON.parse(input) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof input !== "object" || input === null || types.isProxy(input)) return undefined;
  const prototype = Object.getPrototypeOf(input) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  try {
    const text = stringify(input);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

type SafeResult = { readonly success: true; readonly data: unknown } | { readonly success: false; readonly error: E2eeError };

/**
 * Calls `parse`, and `safeParse` when there is one, and checks they agree: `safeParse` never
 * throws, fails exactly when `parse` throws, and with the same code. A Proxy may answer the two
 * calls differently, so for one only "never throws" is checked.
 */
export function callParserPair(input: unknown, parse: (input: unknown) => unknown, safeParse: ((input: unknown) => SafeResult) | undefined): unknown {
  let safe: SafeResult | undefined;
  if (safeParse !== undefined) {
    try {
      safe = safeParse(input);
    } catch (error) {
      // Only an invalid option (a caller bug, documented as RangeError) may make it throw; then parse must too.
      if (!(error instanceof RangeError)) throw new OracleFailure(`safeParse threw ${describeThrown(error)}`);
      try {
        parse(input);
      } catch (parseError) {
        if (parseError instanceof RangeError) throw parseError;
      }
      throw new OracleFailure("safeParse threw a RangeError where parse did not");
    }
    if (!safe.success && !E2eeError.isInstance(safe.error)) throw new OracleFailure("safeParse failed with an untyped error");
  }
  const compare = safe !== undefined && !types.isProxy(input);
  let parsed: unknown;
  try {
    parsed = parse(input);
  } catch (error) {
    if (compare && safe!.success) throw new OracleFailure(`parse threw ${describeThrown(error)} where safeParse succeeded`);
    if (compare && !safe!.success && E2eeError.isInstance(error) && error.code !== safe!.error.code) {
      throw new OracleFailure(`parse threw ${error.code} where safeParse failed with ${safe!.error.code}`);
    }
    throw error;
  }
  if (compare && !safe!.success) throw new OracleFailure(`parse returned where safeParse failed with ${safe!.error.code}`);
  return parsed;
}

/** An entry point for a wire reader pair: only the parse codes, and the parsed-object oracle. */
export function parserEntry(
  name: string,
  inputs: EntryPoint<unknown>["inputs"],
  parse: (input: unknown) => unknown,
  safeParse?: (input: unknown) => SafeResult,
): EntryPoint<unknown> {
  return {
    name,
    inputs,
    call: (input) => callParserPair(input, parse, safeParse),
    codes: PARSE_CODES,
    returned: (value, input) => {
      expectParsedObject(value, parse);
      // Nothing is coerced, trimmed or dropped: the copy holds exactly what the input said.
      const meaning = meaningOf(input);
      if (meaning !== undefined) expect(sortedJson(value)).toBe(sortedJson(meaning));
    },
  };
}

/** Every code decrypting a chat message may end in (SPEC.md §6, §8.5, §15). */
export const DECRYPT_CODES = [
  "INVALID_ENVELOPE",
  "UNSUPPORTED_VERSION",
  "PAYLOAD_TOO_LARGE",
  "CONTEXT_MISMATCH",
  "UNKNOWN_KEY",
  "UNKNOWN_SENDER",
  "BAD_SIGNATURE",
  "DECRYPTION_FAILED",
] as const;
