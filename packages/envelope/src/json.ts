/**
 * The one JSON parser for untrusted text. Nothing in the SDK calls `JSON.parse` on network
 * input except through here, so size bounds are applied in one place and a failure is a value,
 * never an exception of an unknown type.
 *
 * @module
 */

/** Result of {@link safeParseJson}: the value, or why it was refused. */
export type SafeJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: "too-large" | "malformed" };

/**
 * Parses untrusted JSON text bounded by `maxLength` UTF-16 code units (each is at least one
 * UTF-8 byte, so this also bounds the byte size). The length is checked before parsing.
 * Keys such as `__proto__` become ordinary own properties (JSON.parse semantics), never
 * prototypes.
 *
 * @example
 * ```ts
 * const result = safeParseJson(text, 100_000);
 * if (!result.ok) reject(result.reason);
 * ```
 */
export function safeParseJson(text: string, maxLength: number): SafeJsonResult {
  if (text.length > maxLength) return { ok: false, reason: "too-large" };
  try {
    // eslint-disable-next-line no-restricted-syntax -- the single sanctioned call site
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: "malformed" };
  }
}
