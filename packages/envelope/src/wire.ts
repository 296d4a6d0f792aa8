/**
 * The one way every wire object is read from untrusted input: bounded JSON text, an object
 * check, the version check, then the object's zod schema. Each object type supplies its name,
 * its versions and its schemas; the order of checks and the errors are the same for all.
 *
 * @module
 */
import type * as z from "zod/mini";
import { E2eeError, UnsupportedVersionError } from "./errors";
import { safeParseJson } from "./json";

/** One schema problem: where, and what kind. Never contains the offending value. */
export interface WireIssue {
  /** Dotted path of the field, `""` for the object itself. */
  readonly path: string;
  /** The kind of problem, e.g. `too_big`, `invalid_format`, `unrecognized_keys`. */
  readonly problem: string;
}

/**
 * Thrown with code `INVALID_ENVELOPE` (or `PAYLOAD_TOO_LARGE` for oversized content) when a
 * wire object (message envelope, key share, device bundle, backup, stored state) is malformed.
 * `issues` lists every schema problem found.
 */
export class InvalidEnvelopeError extends E2eeError {
  readonly issues: readonly WireIssue[];
  constructor(code: "INVALID_ENVELOPE" | "PAYLOAD_TOO_LARGE", message: string, issues: readonly WireIssue[] = []) {
    super(code, message);
    this.name = "InvalidEnvelopeError";
    this.issues = Object.freeze(issues.slice());
  }
}

/** Result of a `safeParse…` function: the frozen, validated object or the typed reason. */
export type SafeParseResult<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: E2eeError };

/** How to read one kind of wire object. */
export interface WireSpec<T> {
  /** Human name for messages, e.g. `"device bundle"`. */
  readonly name: string;
  /** The `type` literal the object must carry, when it has one. */
  readonly type?: string;
  /** The versions this SDK reads. */
  readonly versions: readonly number[];
  /** Longest JSON text accepted, in UTF-16 code units; checked before parsing. */
  readonly maxTextLength: number;
  /** The schema for a supported version. */
  readonly schema: (version: number) => z.ZodMiniType<T>;
  /**
   * Paths whose `too_big` issue means "payload too large" rather than "malformed": dotted, with
   * `*` for any array index (e.g. `"chunks"`, `"chunks.*.ciphertext"`). Matched exactly, so an
   * over-long id nested inside stays `INVALID_ENVELOPE`.
   */
  readonly oversizedPaths?: readonly string[];
  /**
   * An optional fast check of a well-formed object: returns the validated object exactly as the
   * schema would (same members, same order), or `undefined` to let the schema decide. It must
   * never accept what the schema refuses; tests check the two agree.
   */
  readonly accept?: (value: Record<string, unknown>, version: number) => T | undefined;
}

/**
 * For fast-path acceptors: a copy of `value`'s members when it is a plain object (prototype
 * `Object.prototype` or `null`) whose own enumerable string keys are exactly `members`, all data
 * properties; otherwise `undefined`. Each member is read once, so checks run on stable copies.
 */
export function ownDataMembers(value: Record<string, unknown>, members: readonly string[]): Record<string, unknown> | undefined {
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  if (Object.keys(value).length !== members.length) return undefined;
  const copy: Record<string, unknown> = {};
  for (const member of members) {
    const descriptor = Object.getOwnPropertyDescriptor(value, member);
    if (descriptor === undefined || !("value" in descriptor) || !descriptor.enumerable) return undefined;
    copy[member] = descriptor.value;
  }
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(name: string, issues: readonly WireIssue[]): InvalidEnvelopeError {
  const first = issues[0];
  const where = first === undefined || first.path === "" ? name : first.path;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return new InvalidEnvelopeError("INVALID_ENVELOPE", `invalid ${name}: ${where}: ${first?.problem ?? "invalid"}${more}`, issues);
}

/**
 * Reads untrusted input (an object or its JSON text) as the wire object `spec` describes.
 * Never throws; returns a frozen copy or a typed error.
 */
export function safeParseWire<T>(input: unknown, spec: WireSpec<T>): SafeParseResult<T> {
  try {
    return readWire(input, spec);
  } catch {
    // Only an object built in code (a throwing getter, a hostile Proxy) gets here; JSON cannot.
    return fail(new InvalidEnvelopeError("INVALID_ENVELOPE", `invalid ${spec.name}: unreadable object`));
  }
}

function readWire<T>(input: unknown, spec: WireSpec<T>): SafeParseResult<T> {
  let value = input;
  if (typeof value === "string") {
    const parsed = safeParseJson(value, spec.maxTextLength);
    if (!parsed.ok) {
      return parsed.reason === "too-large"
        ? fail(new InvalidEnvelopeError("PAYLOAD_TOO_LARGE", `${spec.name} text exceeds the size limit`))
        : fail(new InvalidEnvelopeError("INVALID_ENVELOPE", `invalid ${spec.name}: not JSON`));
    }
    value = parsed.value;
  }
  if (!isPlainObject(value)) {
    return fail(new InvalidEnvelopeError("INVALID_ENVELOPE", `invalid ${spec.name}: expected a JSON object`));
  }
  if (spec.type !== undefined && value["type"] !== spec.type) {
    return fail(invalid(spec.name, [{ path: "type", problem: "invalid_value" }]));
  }
  if (!Object.hasOwn(value, "v")) return fail(invalid(spec.name, [{ path: "v", problem: "missing" }]));
  const version = value["v"];
  if (typeof version !== "number" || !spec.versions.includes(version)) {
    return fail(new UnsupportedVersionError(spec.versions, version, spec.name));
  }
  const accepted = spec.accept?.(value, version);
  if (accepted !== undefined) return { success: true, data: Object.freeze(accepted) };
  const result = spec.schema(version).safeParse(value);
  if (result.success) return { success: true, data: Object.freeze(result.data) };
  const issues: WireIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    problem: issue.code === "custom" ? issue.message : issue.code,
  }));
  const oversized = issues.find(
    (issue) => issue.problem === "too_big" && (spec.oversizedPaths ?? []).some((pattern) => pathMatches(pattern, issue.path)),
  );
  if (oversized !== undefined) {
    return fail(new InvalidEnvelopeError("PAYLOAD_TOO_LARGE", `${spec.name} ${oversized.path} exceeds the size limit`, issues));
  }
  return fail(invalid(spec.name, issues));
}

/**
 * {@link safeParseWire}, throwing the typed error instead.
 *
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`.
 */
export function parseWire<T>(input: unknown, spec: WireSpec<T>): T {
  const result = safeParseWire(input, spec);
  if (!result.success) throw result.error;
  return result.data;
}

function pathMatches(pattern: string, path: string): boolean {
  const want = pattern.split(".");
  const have = path.split(".");
  return want.length === have.length && want.every((segment, i) => segment === "*" || segment === have[i]);
}

function fail<T>(error: E2eeError): SafeParseResult<T> {
  return { success: false, error };
}
