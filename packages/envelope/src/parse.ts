/**
 * Parsing envelopes of any supported version from untrusted input.
 *
 * @module
 */
import type * as z from "zod/mini";
import { E2eeError, UnsupportedVersionError } from "./errors";
import { safeParseJson } from "./json";
import { base64urlLength, checkMaxPlaintextBytes, maxCiphertextBytes } from "./limits";
import { createEnvelopeV1Schema, type EnvelopeV1 } from "./v1/schema";

/** Every envelope version this package reads, newest last. */
export const SUPPORTED_ENVELOPE_VERSIONS: readonly number[] = Object.freeze([1]);

/** An envelope of any supported version. Discriminate on `v`. */
export type Envelope = EnvelopeV1;

/** Options shared by the envelope parsers. */
export interface ParseEnvelopeOptions {
  /**
   * The largest plaintext, in bytes of UTF-8 JSON, this receiver accepts; bounds the
   * ciphertext length the parser admits. Default 65,536; at most 16 MiB.
   */
  readonly maxPlaintextBytes?: number;
}

/** One schema problem: where, and what kind. Never contains the offending value. */
export interface EnvelopeIssue {
  /** Dotted path of the field, `""` for the object itself. */
  readonly path: string;
  /** The kind of problem, e.g. `too_big`, `invalid_format`, `unrecognized_keys`. */
  readonly problem: string;
}

/**
 * Thrown with code `INVALID_ENVELOPE` (or `PAYLOAD_TOO_LARGE` for an oversized ciphertext).
 * `issues` lists every schema problem found.
 */
export class InvalidEnvelopeError extends E2eeError {
  readonly issues: readonly EnvelopeIssue[];
  constructor(code: "INVALID_ENVELOPE" | "PAYLOAD_TOO_LARGE", message: string, issues: readonly EnvelopeIssue[] = []) {
    super(code, message);
    this.name = "InvalidEnvelopeError";
    this.issues = Object.freeze(issues.slice());
  }
}

/** Result of {@link safeParseEnvelope}. */
export type SafeParseEnvelopeResult =
  | { readonly success: true; readonly data: Envelope }
  | { readonly success: false; readonly error: E2eeError };

/** Room for every field but the ciphertext, generously: ids, names, quotes, whitespace. */
const JSON_OVERHEAD_CHARS = 2048;

const schemas = new Map<number, z.ZodMiniType<EnvelopeV1>>();
function schemaFor(maxPlaintextBytes: number): z.ZodMiniType<EnvelopeV1> {
  let schema = schemas.get(maxPlaintextBytes);
  if (schema === undefined) {
    schema = createEnvelopeV1Schema(maxPlaintextBytes);
    if (schemas.size < 16) schemas.set(maxPlaintextBytes, schema);
  }
  return schema;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(issues: readonly EnvelopeIssue[]): string {
  const first = issues[0];
  if (first === undefined) return "invalid envelope";
  const where = first.path === "" ? "envelope" : first.path;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `invalid envelope: ${where}: ${first.problem}${more}`;
}

/**
 * Validates untrusted input as an envelope and returns a frozen copy, or the typed reason it
 * is not one. Accepts the envelope object or its JSON text. Never throws for any input
 * (except a `RangeError` for an invalid option, a caller bug).
 *
 * @example
 * ```ts
 * const result = safeParseEnvelope(event.data);
 * if (!result.success) return reject(result.error.code);
 * ```
 * @throws RangeError when `options.maxPlaintextBytes` is out of range.
 */
export function safeParseEnvelope(input: unknown, options: ParseEnvelopeOptions = {}): SafeParseEnvelopeResult {
  const maxPlaintextBytes = checkMaxPlaintextBytes(options.maxPlaintextBytes);
  let value = input;
  if (typeof value === "string") {
    const maxChars = JSON_OVERHEAD_CHARS + base64urlLength(maxCiphertextBytes(maxPlaintextBytes));
    const parsed = safeParseJson(value, maxChars);
    if (!parsed.ok) {
      return parsed.reason === "too-large"
        ? fail(new InvalidEnvelopeError("PAYLOAD_TOO_LARGE", "envelope text exceeds the size limit"))
        : fail(new InvalidEnvelopeError("INVALID_ENVELOPE", "invalid envelope: not JSON"));
    }
    value = parsed.value;
  }
  if (!isPlainObject(value)) {
    return fail(new InvalidEnvelopeError("INVALID_ENVELOPE", "invalid envelope: expected a JSON object"));
  }
  if (!Object.hasOwn(value, "v")) {
    return fail(new InvalidEnvelopeError("INVALID_ENVELOPE", 'invalid envelope: v: missing', [{ path: "v", problem: "missing" }]));
  }
  if (value["v"] !== 1) return fail(new UnsupportedVersionError(SUPPORTED_ENVELOPE_VERSIONS, value["v"]));

  const result = schemaFor(maxPlaintextBytes).safeParse(value);
  if (result.success) return { success: true, data: Object.freeze(result.data) };
  const issues: EnvelopeIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    problem: issue.code === "custom" ? issue.message : issue.code,
  }));
  const oversized = issues.some((issue) => issue.path === "ciphertext" && issue.problem === "too_big");
  if (oversized) {
    return fail(
      new InvalidEnvelopeError(
        "PAYLOAD_TOO_LARGE",
        `envelope ciphertext exceeds the limit for ${maxPlaintextBytes}-byte plaintexts`,
        issues,
      ),
    );
  }
  return fail(new InvalidEnvelopeError("INVALID_ENVELOPE", describe(issues), issues));
}

/**
 * Validates untrusted input as an envelope and returns a frozen copy.
 *
 * @example
 * ```ts
 * const envelope = parseEnvelope(JSON.stringify(encrypted));
 * envelope.roomId; // "room-42"
 * ```
 * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`.
 * @throws RangeError when `options.maxPlaintextBytes` is out of range.
 */
export function parseEnvelope(input: unknown, options: ParseEnvelopeOptions = {}): Envelope {
  const result = safeParseEnvelope(input, options);
  if (!result.success) throw result.error;
  return result.data;
}

function fail(error: E2eeError): SafeParseEnvelopeResult {
  return { success: false, error };
}
