/**
 * The envelope parser's fast path (`envelopeAcceptor`) against the schema it shortcuts: on valid
 * and mutated envelopes of both versions, it never accepts what the schema refuses, and what it
 * accepts is exactly the schema's output (same members, same order). Likewise parseEnvelopeForOpening
 * (which leaves the ciphertext's alphabet to its decoder) against parseEnvelope.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { DEVICE_BUNDLE_SHAPE, ENVELOPE_V1 } from "../test/fixtures";
import { acceptDeviceBundle, deviceBundleSchemaV1, parseDeviceBundle } from "./device-bundle";
import { envelopeAcceptor, parseEnvelope, parseEnvelopeForOpening, type EnvelopeForOpening } from "./parse";
import { createEnvelopeV1Schema } from "./v1/schema";
import { createEnvelopeV2Schema } from "./v2/envelope";

const ENVELOPE_V2 = Object.freeze({
  v: 2,
  suite: ENVELOPE_V1.suite,
  roomId: ENVELOPE_V1.roomId,
  messageId: ENVELOPE_V1.messageId,
  keyId: ENVELOPE_V1.keyId,
  keyVersion: 7,
  senderUserId: "alice",
  senderDeviceId: "phone-1",
  nonce: ENVELOPE_V1.nonce,
  commitment: ENVELOPE_V1.commitment,
  ciphertext: ENVELOPE_V1.ciphertext,
  signature: "A".repeat(86),
});

const LIMITS = [65_536, 16] as const;
const schemas = new Map(LIMITS.map((limit) => [limit, { 1: createEnvelopeV1Schema(limit), 2: createEnvelopeV2Schema(limit) }]));

/** Both verdicts for one value; fails the test when the fast path disagrees with the schema. */
function compare(value: Record<string, unknown>, version: 1 | 2, limit: (typeof LIMITS)[number]): "accepted" | "deferred" {
  const fast = envelopeAcceptor(limit)(value, version);
  const schema = schemas.get(limit)![version].safeParse(value);
  if (fast === undefined) return "deferred";
  expect(schema.success, `fast path accepted what the schema refuses: ${JSON.stringify(value)}`).toBe(true);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(schema.data));
  return "accepted";
}

const textMutation = fc.oneof(
  fc.string({ maxLength: 140 }),
  fc.constantFrom("", "a".repeat(128), "a".repeat(129), "room 42", "rööm", "A".repeat(32), "A".repeat(31) + "B", "A".repeat(43), "__proto__"),
);
const anyValue = fc.oneof(textMutation, fc.anything(), fc.integer(), fc.double(), fc.constantFrom(0, -0, 1, 2, 2 ** 31, 2 ** 31 - 1, 1.5, Number.NaN));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), member: fc.string({ maxLength: 12 }), value: anyValue }),
  fc.record({ kind: fc.constant("set" as const), member: fc.constantFrom(...Object.keys(ENVELOPE_V2), "extra"), value: anyValue }),
  fc.record({ kind: fc.constant("delete" as const), member: fc.constantFrom(...Object.keys(ENVELOPE_V2)), value: fc.constant(null) }),
  fc.record({
    kind: fc.constant("char" as const),
    member: fc.constantFrom("roomId", "nonce", "commitment", "ciphertext", "signature", "senderUserId"),
    value: fc.tuple(fc.nat(), fc.constantFrom("A", "-", "_", "=", "+", "/", " ", "é", "\u0000")),
  }),
);

/** One change to an envelope or bundle, as the arbitraries below generate them. */
interface Mutation {
  readonly kind: "set" | "delete" | "char";
  readonly member: string;
  readonly value: unknown;
}

function mutate(base: Record<string, unknown>, mutations: readonly Mutation[]): Record<string, unknown> {
  const value: Record<string, unknown> = { ...base };
  for (const { kind, member, value: change } of mutations) {
    if (kind === "delete") delete value[member];
    else if (kind === "set") Object.defineProperty(value, member, { value: change, enumerable: true, writable: true, configurable: true });
    else if (typeof value[member] === "string") {
      const text = value[member];
      const [at, character] = change as [number, string];
      const index = text.length === 0 ? 0 : at % text.length;
      value[member] = text.slice(0, index) + character + text.slice(index + 1);
    }
  }
  return value;
}

describe("envelope parser fast path", () => {
  it("accepts the valid envelopes of both versions, exactly as the schema returns them", () => {
    expect(compare({ ...ENVELOPE_V1 }, 1, 65_536)).toBe("accepted");
    expect(compare({ ...ENVELOPE_V2 }, 2, 65_536)).toBe("accepted");
    expect(Object.isFrozen(parseEnvelope({ ...ENVELOPE_V1 }))).toBe(true);
  });

  it("never accepts a mutated envelope the schema refuses (v1 and v2, two limits)", () => {
    let accepted = 0;
    let deferred = 0;
    fc.assert(
      fc.property(fc.constantFrom(1 as const, 2 as const), fc.constantFrom(...LIMITS), fc.array(mutation, { minLength: 1, maxLength: 3 }), (version, limit, mutations) => {
        const base = version === 1 ? ENVELOPE_V1 : ENVELOPE_V2;
        if (compare(mutate({ ...base }, mutations), version, limit) === "accepted") accepted++;
        else deferred++;
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(20); // harmless changes (another valid id) still take the fast path
    expect(deferred).toBeGreaterThan(1000);
  });

  it("defers objects that are not plain data: getters, other prototypes, symbols-only differences aside", () => {
    const withGetter = { ...ENVELOPE_V1 } as Record<string, unknown>;
    Object.defineProperty(withGetter, "roomId", { get: () => "room-42", enumerable: true });
    expect(envelopeAcceptor(65_536)(withGetter, 1)).toBeUndefined();
    const inherited = Object.assign(Object.create({ roomId: "room-42" }) as Record<string, unknown>, { ...ENVELOPE_V1 });
    expect(envelopeAcceptor(65_536)(inherited, 1)).toBeUndefined();
    expect(envelopeAcceptor(65_536)(Object.assign(Object.create(null) as Record<string, unknown>, ENVELOPE_V1), 1)).toEqual(ENVELOPE_V1);
    // The parser still reads them through the schema.
    expect(parseEnvelope(withGetter)).toEqual(ENVELOPE_V1);
  });

  it("refuses through the schema, with its typed error, whatever the fast path deferred", () => {
    expect(() => parseEnvelope({ ...ENVELOPE_V1, roomId: "room 42" })).toThrow(expect.objectContaining({ code: "INVALID_ENVELOPE" }));
    expect(() => parseEnvelope({ ...ENVELOPE_V1, ciphertext: "A".repeat(100_000) })).toThrow(expect.objectContaining({ code: "PAYLOAD_TOO_LARGE" }));
  });
});

/** A strict decoder of canonical unpadded base64url, like the one the crypto package passes in. */
function strictDecode(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? new Uint8Array(bytes) : undefined;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
function attempt<T>(run: () => T): Outcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}
const errorFields = (error: unknown): unknown => {
  const { name, code, message, issues } = error as Record<string, unknown>;
  return { name, code, message, issues };
};
const show = (input: unknown): string => {
  try {
    return (typeof input === "string" ? input : JSON.stringify(input)).slice(0, 300);
  } catch {
    return String(typeof input);
  }
};

/** parseEnvelopeForOpening against parseEnvelope: the same error, or an equal frozen envelope and its decoded ciphertext. */
function compareOpening(input: unknown, limit: (typeof LIMITS)[number]): "parsed" | "refused" {
  const reference = attempt(() => parseEnvelope(input, { maxPlaintextBytes: limit }));
  const opening = attempt(() => parseEnvelopeForOpening(input, limit, strictDecode));
  if (!reference.ok) {
    expect(opening.ok, `parseEnvelopeForOpening accepted what parseEnvelope refuses: ${show(input)}`).toBe(false);
    expect(errorFields((opening as { error: unknown }).error), show(input)).toEqual(errorFields(reference.error));
    return "refused";
  }
  expect(opening.ok, `parseEnvelopeForOpening refused what parseEnvelope accepts: ${show(input)}`).toBe(true);
  const { envelope, ciphertext } = (opening as { value: EnvelopeForOpening }).value;
  expect(JSON.stringify(envelope)).toBe(JSON.stringify(reference.value));
  expect(Object.isFrozen(envelope)).toBe(true);
  expect(Buffer.from(ciphertext!).toString("hex")).toBe(Buffer.from(strictDecode(reference.value.ciphertext)!).toString("hex"));
  return "parsed";
}

const CIPHERTEXT = ENVELOPE_V1.ciphertext; // 86 characters: the last one has 4 unused bits
const setCiphertext = (text: fc.Arbitrary<string>): fc.Arbitrary<Mutation> => fc.record({ kind: fc.constant("set" as const), member: fc.constant("ciphertext"), value: text });
// Characters outside the alphabet; U+0141 and U+012D have 'A' and '-' as low byte.
const notAlphabet = fc.constantFrom("+", "/", "=", " ", "\n", "é", "\u0141", "\u0100", "\u012d", "\ud800");
/** Changes that break only the ciphertext's alphabet or canonical form (or give it another valid value). */
const ciphertextMutation = fc.oneof(
  fc.record({ kind: fc.constant("char" as const), member: fc.constant("ciphertext"), value: fc.tuple(fc.nat(), notAlphabet) }),
  setCiphertext(fc.tuple(fc.nat(CIPHERTEXT.length), notAlphabet).map(([at, character]) => CIPHERTEXT.slice(0, at) + character + CIPHERTEXT.slice(at))),
  setCiphertext(fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").map((last) => CIPHERTEXT.slice(0, -1) + last)),
  setCiphertext(fc.constantFrom(`${CIPHERTEXT}A`, `${CIPHERTEXT}AA`, `${CIPHERTEXT}AAA`, `${CIPHERTEXT}==`, CIPHERTEXT.slice(0, -1), `A${CIPHERTEXT}`)),
  setCiphertext(fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString("base64url"))),
);

describe("parseEnvelopeForOpening", () => {
  it("returns what parseEnvelope returns, or throws its error, for mutated envelope objects and their JSON texts", () => {
    const counts = { parsed: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const),
        fc.constantFrom(...LIMITS),
        fc.array(fc.oneof(mutation, ciphertextMutation, ciphertextMutation), { maxLength: 3 }),
        (version, limit, mutations) => {
          const value = mutate({ ...(version === 1 ? ENVELOPE_V1 : ENVELOPE_V2) }, mutations);
          counts[compareOpening(value, limit)]++;
          const text = attempt(() => JSON.stringify(value));
          if (text.ok && typeof text.value === "string") counts[compareOpening(text.value, limit)]++;
        },
      ),
      { numRuns: 2000 },
    );
    expect(counts.parsed).toBeGreaterThan(300);
    expect(counts.refused).toBeGreaterThan(1500);
  });

  it("throws parseEnvelope's error for ciphertexts that break only the alphabet or canonical form, which it leaves to decode", () => {
    const at40 = (character: string): string => CIPHERTEXT.slice(0, 40) + character + CIPHERTEXT.slice(41);
    const bad = [at40("+"), at40("é"), at40("\u0141"), `${CIPHERTEXT.slice(0, -2)}==`, `${CIPHERTEXT.slice(0, -1)}B`, `${CIPHERTEXT}AAA`];
    for (const ciphertext of bad) {
      for (const base of [ENVELOPE_V1, ENVELOPE_V2]) {
        expect(compareOpening({ ...base, ciphertext }, 65_536), ciphertext).toBe("refused");
        expect(compareOpening(JSON.stringify({ ...base, ciphertext }), 65_536), ciphertext).toBe("refused");
      }
    }
  });

  it("throws parseEnvelope's error for a throwing getter or Proxy, and reads a transparent Proxy as parseEnvelope does", () => {
    const fail = (): never => {
      throw new Error("unreadable");
    };
    const getter = (member: string): Record<string, unknown> => Object.defineProperty({ ...ENVELOPE_V1 }, member, { get: fail, enumerable: true });
    const inputs: unknown[] = [
      getter("v"),
      getter("ciphertext"),
      new Proxy({ ...ENVELOPE_V1 }, { getPrototypeOf: fail }),
      new Proxy({ ...ENVELOPE_V1 }, { ownKeys: fail }),
      new Proxy({ ...ENVELOPE_V1 }, { getOwnPropertyDescriptor: fail }),
      new Proxy({ ...ENVELOPE_V1 }, { get: fail }),
    ];
    for (const input of inputs) expect(compareOpening(input, 65_536)).toBe("refused");
    expect(compareOpening(new Proxy({ ...ENVELOPE_V1 }, {}), 65_536)).toBe("parsed");
  });

  it("refuses an array dressed as an envelope (own members, a plain prototype), as parseEnvelope does", () => {
    const dressed = Object.assign(Object.setPrototypeOf([], Object.prototype) as Record<string, unknown>, ENVELOPE_V1);
    const proxied = new Proxy(Object.assign([], ENVELOPE_V1), { getPrototypeOf: () => Object.prototype });
    for (const input of [dressed, proxied, Object.assign([], ENVELOPE_V1)]) expect(compareOpening(input, 65_536)).toBe("refused");
  });

  it("passes the decoder's result through, called once with the ciphertext text", () => {
    const decoded = Uint8Array.of(1, 2, 3);
    for (const input of [{ ...ENVELOPE_V1 }, { ...ENVELOPE_V2 }, JSON.stringify(ENVELOPE_V1)]) {
      const decode = vi.fn((_text: string): Uint8Array | undefined => decoded);
      const { envelope, ciphertext } = parseEnvelopeForOpening(input, undefined, decode);
      expect(ciphertext).toBe(decoded);
      expect(decode.mock.calls).toEqual([[CIPHERTEXT]]);
      expect(envelope).toEqual(parseEnvelope(input));
    }
  });

  it("falls back to parseEnvelope when the decoder refuses the ciphertext, and returns no ciphertext if parseEnvelope accepts it", () => {
    const result = parseEnvelopeForOpening({ ...ENVELOPE_V1 }, undefined, () => undefined);
    expect(result).toEqual({ envelope: parseEnvelope(ENVELOPE_V1), ciphertext: undefined });
    expect(Object.isFrozen(result.envelope)).toBe(true);
  });
});

const BUNDLE = DEVICE_BUNDLE_SHAPE;

const bundleMutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), member: fc.constantFrom(...Object.keys(BUNDLE), "extra", "__proto__"), value: anyValue }),
  fc.record({ kind: fc.constant("delete" as const), member: fc.constantFrom(...Object.keys(BUNDLE)), value: fc.constant(null) }),
  fc.record({
    kind: fc.constant("char" as const),
    member: fc.constantFrom("userId", "deviceId", "agreementKey", "signingKey", "signature", "type"),
    value: fc.tuple(fc.nat(), fc.constantFrom("A", "B", "-", "_", "=", " ", "é")),
  }),
);

describe("device bundle parser fast path", () => {
  it("accepts a well-formed bundle exactly as the schema returns it", () => {
    expect(JSON.stringify(acceptDeviceBundle({ ...BUNDLE }))).toBe(JSON.stringify(deviceBundleSchemaV1().parse({ ...BUNDLE })));
    expect(Object.isFrozen(parseDeviceBundle({ ...BUNDLE }))).toBe(true);
  });

  it("never accepts a mutated bundle the schema refuses", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(bundleMutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const value = mutate({ ...BUNDLE }, mutations);
        const fast = acceptDeviceBundle(value);
        const schema = deviceBundleSchemaV1().safeParse(value);
        if (fast === undefined) return;
        accepted++;
        expect(schema.success, `fast path accepted what the schema refuses: ${JSON.stringify(value)}`).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(schema.data));
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(20);
  });
});
