/**
 * Parsing message envelopes of any supported version from untrusted input.
 *
 * @module
 */
import type * as z from "zod/mini";
import { isBase64urlText, isValidId } from "./fields";
import { ENVELOPE_LIMITS, base64urlLength, checkMaxPlaintextBytes, maxCiphertextBytes } from "./limits";
import { SUITE_V1 } from "./v1/associated-data";
import { createEnvelopeV1Schema, type EnvelopeV1 } from "./v1/schema";
import { createEnvelopeV2Schema, type EnvelopeV2 } from "./v2/envelope";
import { ownDataMembers, parseWire, safeParseWire, type SafeParseResult, type WireSpec } from "./wire";

/** Every message envelope version this package reads: 1 (unsigned) and 2 (signed). */
export const SUPPORTED_ENVELOPE_VERSIONS: readonly number[] = Object.freeze([1, 2]);

/** A message envelope of any supported version. Discriminate on `v`. */
export type Envelope = EnvelopeV1 | EnvelopeV2;

/** Options shared by the envelope parsers. */
export interface ParseEnvelopeOptions {
  /**
   * The largest plaintext, in bytes of UTF-8 JSON, this receiver accepts; bounds the
   * ciphertext length the parser admits. Default 65,536; at most 16 MiB.
   */
  readonly maxPlaintextBytes?: number;
}

/** Result of {@link safeParseEnvelope}. */
export type SafeParseEnvelopeResult = SafeParseResult<Envelope>;

/** Room for every field but the ciphertext, generously: ids, names, quotes, whitespace. */
const JSON_OVERHEAD_CHARS = 2048;

/** The parsers of one `maxPlaintextBytes`: the wire spec, and the fast path of {@link parseEnvelopeForOpening}. */
interface EnvelopeParsers {
  readonly spec: WireSpec<Envelope>;
  readonly acceptForOpening: ReturnType<typeof envelopeAcceptor>;
}

const parsers = new Map<number, EnvelopeParsers>();
function parsersFor(maxPlaintextBytes: number): EnvelopeParsers {
  let found = parsers.get(maxPlaintextBytes);
  if (found === undefined) {
    // Built on first refusal only: valid envelopes take the fast paths.
    let schemas: Record<number, z.ZodMiniType<Envelope>> | undefined;
    const spec: WireSpec<Envelope> = {
      name: "envelope",
      versions: SUPPORTED_ENVELOPE_VERSIONS,
      maxTextLength: JSON_OVERHEAD_CHARS + base64urlLength(maxCiphertextBytes(maxPlaintextBytes)),
      schema: (version) =>
        (schemas ??= { 1: createEnvelopeV1Schema(maxPlaintextBytes), 2: createEnvelopeV2Schema(maxPlaintextBytes) })[version]!,
      oversizedPaths: ["ciphertext"],
      accept: envelopeAcceptor(maxPlaintextBytes),
    };
    found = { spec, acceptForOpening: envelopeAcceptor(maxPlaintextBytes, false) };
    if (parsers.size < 16) parsers.set(maxPlaintextBytes, found);
  }
  return found;
}

/**
 * Validates untrusted input as a message envelope and returns a frozen copy, or the typed
 * reason it is not one. Accepts the envelope object or its JSON text. Never throws for any
 * input (except a `RangeError` for an invalid option, a caller bug).
 *
 * @example
 * ```ts
 * const result = safeParseEnvelope(event.data);
 * if (!result.success) return reject(result.error.code);
 * ```
 * @throws RangeError when `options.maxPlaintextBytes` is out of range.
 */
export function safeParseEnvelope(input: unknown, options: ParseEnvelopeOptions = {}): SafeParseEnvelopeResult {
  return safeParseWire(input, parsersFor(checkMaxPlaintextBytes(options.maxPlaintextBytes)).spec);
}

/**
 * Validates untrusted input as a message envelope and returns a frozen copy.
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
  return parseWire(input, parsersFor(checkMaxPlaintextBytes(options.maxPlaintextBytes)).spec);
}

const V1_MEMBERS = ["v", "suite", "roomId", "messageId", "keyId", "keyVersion", "nonce", "commitment", "ciphertext"] as const;
const V2_MEMBERS = [
  "v",
  "suite",
  "roomId",
  "messageId",
  "keyId",
  "keyVersion",
  "senderUserId",
  "senderDeviceId",
  "nonce",
  "commitment",
  "ciphertext",
  "signature",
] as const;
const NONCE_CHARS = base64urlLength(ENVELOPE_LIMITS.nonceBytes);
const COMMITMENT_CHARS = base64urlLength(ENVELOPE_LIMITS.commitmentBytes);
const SIGNATURE_CHARS = base64urlLength(ENVELOPE_LIMITS.signatureBytes);

/**
 * The common case of every received message, checked without the schema: a plain object with
 * exactly the members of its version, each valid as §3.3 and §8.1 say. Anything else (and so
 * every malformed envelope) goes to the schema, which gives the error. parse-fast.test.ts checks
 * on mutated envelopes that this accepts nothing the schema refuses and returns what it returns.
 * @internal Exported for that test only.
 */
export function envelopeAcceptor(
  maxPlaintextBytes: number,
  checkCiphertextText = true,
): (value: Record<string, unknown>, version: number) => Envelope | undefined {
  const minCiphertextChars = base64urlLength(1 + ENVELOPE_LIMITS.tagBytes);
  const maxCiphertextChars = base64urlLength(maxCiphertextBytes(maxPlaintextBytes));
  const ciphertextOk = checkCiphertextText
    ? (text: unknown): boolean => isBase64urlText(text, minCiphertextChars, maxCiphertextChars)
    : (text: unknown): boolean => typeof text === "string" && text.length >= minCiphertextChars && text.length <= maxCiphertextChars;
  return (value, version) => {
    if (version !== 1 && version !== 2) return undefined;
    const copy = ownDataMembers(value, version === 1 ? V1_MEMBERS : V2_MEMBERS);
    if (copy === undefined) return undefined;
    const { keyVersion } = copy;
    const valid =
      copy["v"] === version &&
      copy["suite"] === SUITE_V1 &&
      isValidId(copy["roomId"]) &&
      isValidId(copy["messageId"]) &&
      isValidId(copy["keyId"]) &&
      typeof keyVersion === "number" &&
      Number.isSafeInteger(keyVersion) &&
      keyVersion >= 1 &&
      keyVersion <= ENVELOPE_LIMITS.maxKeyVersion &&
      isBase64urlText(copy["nonce"], NONCE_CHARS, NONCE_CHARS) &&
      isBase64urlText(copy["commitment"], COMMITMENT_CHARS, COMMITMENT_CHARS) &&
      ciphertextOk(copy["ciphertext"]) &&
      (version === 1 ||
        (isValidId(copy["senderUserId"]) &&
          isValidId(copy["senderDeviceId"]) &&
          isBase64urlText(copy["signature"], SIGNATURE_CHARS, SIGNATURE_CHARS)));
    return valid ? (copy as unknown as Envelope) : undefined;
  };
}

/** What {@link parseEnvelopeForOpening} returns. @internal */
export interface EnvelopeForOpening {
  readonly envelope: Envelope;
  /** The decoded ciphertext, or `undefined` when `decode` refused it (never after the fast path). */
  readonly ciphertext: Uint8Array | undefined;
}

/**
 * @internal For decryption (the crypto package): {@link parseEnvelope}, and the ciphertext
 * decoded by `decode`, a strict decoder of canonical unpadded base64url (it returns `undefined`
 * for any other text). On the common path, a plain envelope object, the ciphertext's text is
 * checked once, by decoding it, instead of being matched against the alphabet and then decoded:
 * for a 64 KiB message the match alone costs as much as the decoding. Anything that path does not
 * accept goes through `parseEnvelope` unchanged, so the result and every error are the same.
 * parse-fast.test.ts checks this on mutated envelopes.
 *
 * @throws The errors of {@link parseEnvelope}.
 */
export function parseEnvelopeForOpening(
  input: unknown,
  maxPlaintextBytes: number | undefined,
  decode: (text: string) => Uint8Array | undefined,
): EnvelopeForOpening {
  const max = checkMaxPlaintextBytes(maxPlaintextBytes);
  const { spec, acceptForOpening } = parsersFor(max);
  if (typeof input === "object" && input !== null && !Array.isArray(input)) {
    let accepted: Envelope | undefined;
    try {
      accepted = acceptForOpening(input as Record<string, unknown>, (input as Record<string, unknown>)["v"] as number);
    } catch {
      accepted = undefined; // a throwing getter or Proxy: parseEnvelope reports it
    }
    const ciphertext = accepted === undefined ? undefined : decode(accepted.ciphertext);
    if (accepted !== undefined && ciphertext !== undefined) return { envelope: Object.freeze(accepted), ciphertext };
  }
  const envelope = parseWire(input, spec);
  return { envelope, ciphertext: decode(envelope.ciphertext) };
}
