import { E2eeError, SUITE_V1, parseEnvelope, safeParseEnvelope } from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decryptChatJson, encryptChatJson, generateAesGcmKey, type RoomKey } from "./index";

const id = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/);
const keyVersion = fc.integer({ min: 1, max: 2_147_483_647 });
const context = fc.record({ roomId: id, messageId: id, keyId: id, keyVersion });

/** Canonical unpadded base64url of `bytes` random bytes. */
const base64urlOf = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength, maxLength }).map((bytes) => Buffer.from(bytes).toString("base64url"));

/** Whatever envelope type `encryptChatJson` produces. */
type SealedEnvelope = Awaited<ReturnType<typeof encryptChatJson>>;

const FIELDS = ["v", "suite", "roomId", "messageId", "keyId", "keyVersion", "nonce", "commitment", "ciphertext"] as const;
type Field = (typeof FIELDS)[number];

/** One single-bit change to one field of an envelope. */
const mutation = fc.record({
  field: fc.constantFrom(...FIELDS),
  position: fc.nat(),
  // Mostly low bits, which keep a character inside ASCII and so reach deeper checks.
  bit: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  numberChange: fc.oneof(
    fc.record({ kind: fc.constant("xor" as const), bit: fc.integer({ min: 0, max: 31 }) }),
    fc.record({ kind: fc.constant("add" as const), delta: fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((n) => n !== 0) }),
  ),
});

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(envelope: SealedEnvelope, change: Mutation): Record<string, unknown> {
  const field: Field = change.field;
  const value = envelope[field];
  let changed: unknown;
  if (typeof value === "string") {
    const index = change.position % value.length;
    const code = value.charCodeAt(index) ^ (1 << change.bit);
    changed = value.slice(0, index) + String.fromCharCode(code) + value.slice(index + 1);
  } else if (change.numberChange.kind === "xor") {
    changed = value ^ (1 << change.numberChange.bit);
  } else {
    changed = value + change.numberChange.delta;
  }
  expect(changed).not.toBe(value);
  return { ...envelope, [field]: changed };
}

/** What `parseEnvelope` did with `input`: returned, or threw what. */
function parseOutcome(input: unknown, options?: { maxPlaintextBytes: number }): "returned" | { thrown: unknown } {
  try {
    parseEnvelope(input, options);
    return "returned";
  } catch (error) {
    return { thrown: error };
  }
}

/** Checks that both parsers agree and that a failure is always a typed E2eeError. */
function expectTypedParse(input: unknown, options?: { maxPlaintextBytes: number }): void {
  const outcome = parseOutcome(input, options);
  if (outcome !== "returned") expect(E2eeError.isInstance(outcome.thrown)).toBe(true);
  let safe: ReturnType<typeof safeParseEnvelope> | undefined;
  expect(() => {
    safe = safeParseEnvelope(input, options);
  }).not.toThrow();
  expect(safe?.success).toBe(outcome === "returned");
  if (safe !== undefined && !safe.success) expect(E2eeError.isInstance(safe.error)).toBe(true);
}

let roomKey: RoomKey;
let sample: SealedEnvelope;
beforeAll(async () => {
  roomKey = await generateAesGcmKey();
  sample = await encryptChatJson({ body: "Private message", sender_id: "user-1" }, roomKey, {
    roomId: "room-42",
    messageId: "msg-1",
    keyId: "room-42-v1",
    keyVersion: 1,
  });
});

describe("encryptChatJson and decryptChatJson, for any JSON", () => {
  it("round-trip any JSON value in any valid context", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), context, fc.boolean(), fc.constantFrom("padme" as const, "none" as const), async (value, where, asText, padding) => {
        const envelope = await encryptChatJson(value, roomKey, { ...where, padding });
        const received = asText ? JSON.stringify(envelope) : envelope;
        const opened = await decryptChatJson(received, roomKey, { roomId: where.roomId, messageId: where.messageId });
        // JSON has no -0, so compare with what JSON itself makes of the value.
        expect(opened).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 250 },
    );
  });

  it("produce envelopes the parser accepts unchanged", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), context, async (value, where) => {
        const envelope = await encryptChatJson(value, roomKey, where);
        expect(parseEnvelope(JSON.stringify(envelope))).toStrictEqual(envelope);
      }),
      { numRuns: 200 },
    );
  });
});

describe("decryptChatJson after a single-bit change", () => {
  it("rejects any single-bit change to any field with an E2eeError and never returns data", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), mutation, fc.boolean(), async (value, change, useResolver) => {
        const envelope = await encryptChatJson(value, roomKey, {
          roomId: "room-42",
          messageId: "msg-1",
          keyId: "room-42-v1",
          keyVersion: 1_000,
        });
        const tampered = mutate(envelope, change);
        // A resolver that hands out the key for any key id and version lets key-id and
        // key-version changes reach the cipher instead of stopping at an unknown key.
        const key = useResolver ? (): RoomKey => roomKey : roomKey;
        const outcome = await decryptChatJson(tampered, key, { roomId: "room-42", messageId: "msg-1" }).then(
          (data) => ({ data }),
          (error: unknown) => ({ error }),
        );
        expect(outcome).not.toHaveProperty("data");
        expect(E2eeError.isInstance((outcome as { error: unknown }).error)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseEnvelope on arbitrary input", () => {
  const anything = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
  });

  it("returns or throws an E2eeError for any value", () => {
    fc.assert(fc.property(anything, (input) => expectTypedParse(input)), { numRuns: 300 });
  });

  it("returns or throws an E2eeError for any string", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (input) => expectTypedParse(input)), { numRuns: 300 });
  });

  it("returns or throws an E2eeError for any JSON value and its text", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        expectTypedParse(input);
        expectTypedParse(JSON.stringify(input));
      }),
      { numRuns: 300 },
    );
  });

  it("returns or throws an E2eeError for envelope-shaped objects with random field values", () => {
    const maybe = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
      fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: anything });
    const shaped = fc.record(
      {
        v: maybe(fc.constantFrom(1, 2, 3, 0, -1, 1.5, "1")),
        suite: maybe(fc.constantFrom(SUITE_V1, "xaes256gcm", "")),
        roomId: maybe(fc.oneof(id, fc.string())),
        messageId: maybe(fc.oneof(id, fc.string())),
        keyId: maybe(fc.oneof(id, fc.string())),
        keyVersion: maybe(fc.oneof(keyVersion, fc.integer(), fc.double())),
        nonce: maybe(fc.oneof(base64urlOf(24, 24), base64urlOf(0, 40), fc.string())),
        commitment: maybe(fc.oneof(base64urlOf(32, 32), base64urlOf(0, 40), fc.string())),
        ciphertext: maybe(fc.oneof(base64urlOf(17, 200), base64urlOf(0, 20), fc.string())),
        senderUserId: maybe(id),
        senderDeviceId: maybe(id),
        signature: maybe(base64urlOf(64, 64)),
        extra: anything,
      },
      { requiredKeys: ["v", "suite", "roomId", "messageId", "keyId", "keyVersion", "nonce", "commitment", "ciphertext"] },
    );
    const options = fc.option(fc.integer({ min: 1, max: 16 * 1024 * 1024 }), { nil: undefined });
    fc.assert(
      fc.property(shaped, options, (input, maxPlaintextBytes) => {
        const parseOptions = maxPlaintextBytes === undefined ? undefined : { maxPlaintextBytes };
        expectTypedParse(input, parseOptions);
        expectTypedParse(JSON.stringify(input, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value)), parseOptions);
      }),
      { numRuns: 300 },
    );
  });

  it("returns or throws an E2eeError for a real envelope with one field replaced by anything", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), anything, (field, value) => {
        expectTypedParse({ ...sample, [field]: value });
      }),
      { numRuns: 300 },
    );
  });
});
