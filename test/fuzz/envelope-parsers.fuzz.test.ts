/**
 * Fuzzing the wire readers of `@domvia/e2ee-envelope`, the package servers use: every reader of
 * every typed object, the relay check and the one JSON parser. Inputs are mostly near-valid
 * objects (real objects with members changed) in every delivery, plus random values and text.
 */
import {
  ENVELOPE_LIMITS,
  E2eeError,
  checkRelayEvent,
  isValidId,
  parseDeviceBundle,
  parseDeviceIdentityState,
  parseEnvelope,
  parseKeyBackup,
  parseKeyBackupPayload,
  parseKeyringState,
  parseProtectedRecoveryKey,
  parseRoomKeyShare,
  safeParseDeviceBundle,
  safeParseEnvelope,
  safeParseJson,
  safeParseKeyBackup,
  safeParseRoomKeyShare,
  type ParseEnvelopeOptions,
  type RelayEventInput,
} from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { hostileValue, id, nastyNumber, nastyString, nestedText, toJsonText, wireInputs } from "./arbitraries";
import { getWorld, ROOM_ID, type World } from "./fixtures";
import { fuzz, isRangeError, isTypeError, type EntryPoint } from "./harness";
import { stringify } from "./json";
import { callParserPair, expectParsedObject, meaningOf, parserEntry, PARSE_CODES, sortedJson } from "./oracles";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);

let world: World;
beforeAll(async () => {
  world = await getWorld();
});

/** Every fixture, for type confusion: a reader handed another kind of object. */
const allFixtures = (): unknown[] => [
  world.envelopeV1,
  world.envelopeV2,
  world.bundle,
  world.share,
  world.backup,
  world.payload,
  world.protectedKey,
  world.keyringState,
  world.identityState,
];

/** Near-valid `bases`, with other kinds of objects mixed in now and then. */
const readerInputs = (...bases: unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 9, arbitrary: wireInputs(...bases) }, { weight: 1, arbitrary: wireInputs(...allFixtures()) });

/**
 * `maxPlaintextBytes` as a caller passes it: mostly absent or a few configured values (as a server
 * has), sometimes any valid value (the reader builds schemas for it), sometimes out of range.
 */
const maxPlaintextBytesOption = fc.oneof(
  { weight: 60, arbitrary: fc.constant(undefined) },
  { weight: 25, arbitrary: fc.constantFrom(1, 16, 64, 100, 1024, 65_536, ENVELOPE_LIMITS.maxPlaintextBytesCeiling) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: ENVELOPE_LIMITS.maxPlaintextBytesCeiling }) },
  { weight: 10, arbitrary: fc.oneof(nastyNumber, fc.constantFrom<unknown>(null, "65536", 10n, ENVELOPE_LIMITS.maxPlaintextBytesCeiling + 1)) },
);

const validMaxPlaintextBytes = (value: unknown): boolean =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= ENVELOPE_LIMITS.maxPlaintextBytesCeiling);

describe("fuzzing the envelope package's readers", () => {
  it("parseEnvelope / safeParseEnvelope return a frozen copy or a typed error, RangeError only for a bad option", async () => {
    const inputs = fc.tuple(readerInputs(world.envelopeV1, world.envelopeV2), maxPlaintextBytesOption);
    type Input = [unknown, unknown];
    const entry: EntryPoint<Input> = {
      name: "parseEnvelope / safeParseEnvelope",
      inputs,
      call: ([input, maxPlaintextBytes]) => {
        const options = { maxPlaintextBytes } as { maxPlaintextBytes?: number };
        return callParserPair(input, (value) => parseEnvelope(value, options), (value) => safeParseEnvelope(value, options));
      },
      codes: PARSE_CODES,
      documentedError: (error, [, maxPlaintextBytes]) => isRangeError(error) && !validMaxPlaintextBytes(maxPlaintextBytes),
      returned: (value, [input, maxPlaintextBytes]) => {
        expect(validMaxPlaintextBytes(maxPlaintextBytes), "an out-of-range maxPlaintextBytes must throw RangeError").toBe(true);
        const options = { maxPlaintextBytes } as { maxPlaintextBytes?: number };
        expectParsedObject(value, (text) => parseEnvelope(text, options));
        const meaning = meaningOf(input);
        if (meaning !== undefined) expect(sortedJson(value)).toBe(sortedJson(meaning));
      },
    };
    await fuzz(entry);
  }, TIMEOUT);

  it("checkRelayEvent never throws for any data, and throws TypeError or RangeError only for caller bugs", async () => {
    const inputs: fc.Arbitrary<RelayEventInput> = fc.record(
      {
        roomId: fc.oneof({ weight: 12, arbitrary: fc.constant(ROOM_ID) }, { weight: 2, arbitrary: id }, { weight: 1, arbitrary: fc.oneof(nastyString, hostileValue) }) as fc.Arbitrary<string>,
        event: fc.oneof(
          { weight: 12, arbitrary: fc.constant("chat.message") },
          { weight: 2, arbitrary: fc.constantFrom("typing", "Chat.message", "chat.message ", "", "__proto__") },
          { weight: 1, arbitrary: fc.oneof(nastyString, hostileValue) },
        ) as fc.Arbitrary<string>,
        data: readerInputs(world.envelopeV1, world.envelopeV2),
        encryptedEvents: fc.oneof(
          { weight: 12, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: fc.constantFrom(["chat.message"], ["chat.message", "note"], ["note"]) },
          { weight: 1, arbitrary: fc.constantFrom<unknown>([], [""], ["chat.message", 1], "chat.message", null, {}, new Set(["chat.message"])) },
        ) as fc.Arbitrary<readonly string[] | undefined>,
        maxPlaintextBytes: maxPlaintextBytesOption as fc.Arbitrary<number | undefined>,
      },
      { requiredKeys: ["roomId", "event", "data"] },
    );
    /** The error the relay check documents for a caller bug in `input`, checked in its order. */
    const callerBug = (input: RelayEventInput): "TypeError" | "RangeError" | undefined => {
      if (!isValidId(input.roomId)) return "TypeError";
      if (typeof input.event !== "string") return "TypeError";
      const events: unknown = input.encryptedEvents;
      if (events !== undefined) {
        if (!Array.isArray(events) || !events.every((name) => typeof name === "string" && name.length > 0)) return "TypeError";
        if (events.length === 0) return "RangeError";
      }
      if (!validMaxPlaintextBytes(input.maxPlaintextBytes)) return "RangeError";
      return undefined;
    };
    await fuzz<RelayEventInput>({
      name: "checkRelayEvent",
      inputs,
      call: (input) => checkRelayEvent(input),
      codes: [],
      documentedError: (error, input) => {
        const bug = callerBug(input);
        return (bug === "TypeError" && isTypeError(error)) || (bug === "RangeError" && isRangeError(error));
      },
      returned: (value, input) => {
        expect(callerBug(input), "a caller bug must throw").toBeUndefined();
        const result = value as ReturnType<typeof checkRelayEvent>;
        const encryptedEvents = input.encryptedEvents ?? ["chat.message"];
        if (!encryptedEvents.includes(input.event)) {
          expect(result).toEqual({ ok: true, kind: "operational" });
          return;
        }
        if (result.ok) {
          expect(result.kind).toBe("encrypted");
          if (result.kind !== "encrypted") return;
          expect(result.envelope.roomId).toBe(input.roomId);
          expectParsedObject(result.envelope, (text) => parseEnvelope(text, { maxPlaintextBytes: input.maxPlaintextBytes } as ParseEnvelopeOptions));
          const meaning = meaningOf(input.data);
          if (meaning !== undefined) expect(sortedJson(result.envelope)).toBe(sortedJson(meaning));
        } else {
          expect(E2eeError.isInstance(result.error)).toBe(true);
          expect([...PARSE_CODES, "CONTEXT_MISMATCH"]).toContain(result.error.code);
        }
      },
    });
  }, TIMEOUT);

  it("parseDeviceBundle / safeParseDeviceBundle return a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseDeviceBundle / safeParseDeviceBundle", readerInputs(world.bundle), parseDeviceBundle, safeParseDeviceBundle));
  }, TIMEOUT);

  it("parseRoomKeyShare / safeParseRoomKeyShare return a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseRoomKeyShare / safeParseRoomKeyShare", readerInputs(world.share), parseRoomKeyShare, safeParseRoomKeyShare));
  }, TIMEOUT);

  it("parseKeyBackup / safeParseKeyBackup return a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseKeyBackup / safeParseKeyBackup", readerInputs(world.backup), parseKeyBackup, safeParseKeyBackup));
  }, TIMEOUT);

  it("parseKeyBackupPayload returns a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseKeyBackupPayload", readerInputs(world.payload), parseKeyBackupPayload));
  }, TIMEOUT);

  it("parseProtectedRecoveryKey returns a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseProtectedRecoveryKey", readerInputs(world.protectedKey), parseProtectedRecoveryKey));
  }, TIMEOUT);

  it("parseKeyringState returns a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseKeyringState", readerInputs(world.keyringState), parseKeyringState));
  }, TIMEOUT);

  it("parseDeviceIdentityState returns a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseDeviceIdentityState", readerInputs(world.identityState), parseDeviceIdentityState));
  }, TIMEOUT);

  it("safeParseJson never throws, keeps its bound, and agrees with JSON.parse", async () => {
    const fixtureText = fc.constantFrom(...allFixtures()).chain((fixture) => wireInputs(fixture)).map((input) => (typeof input === "string" ? input : (toJsonText(input) ?? "")));
    const text = fc.oneof(
      { weight: 4, arbitrary: fixtureText },
      { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
      { weight: 2, arbitrary: nastyString },
      { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2_000 }), fc.constantFrom<"array" | "object">("array", "object")).map(([depth, kind]) => nestedText(depth, kind)) },
      { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '[{"__proto__":null}]') },
    );
    const maxLength = fc.oneof(fc.constant(4096), fc.nat({ max: 1_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER));
    await fuzz<[string, number]>({
      name: "safeParseJson",
      inputs: fc.tuple(text, maxLength),
      call: ([input, max]) => safeParseJson(input, max),
      codes: [],
      returned: (value, [input, max]) => {
        const result = value as ReturnType<typeof safeParseJson>;
        if (input.length > max) {
          expect(result).toEqual({ ok: false, reason: "too-large" });
          return;
        }
        let expected: { ok: true; text: string } | { ok: false };
        try {
          expected = { ok: true, text: stringify(JSON.parse(input))! };
        } catch {
          expected = { ok: false };
        }
        if (!expected.ok) expect(result).toEqual({ ok: false, reason: "malformed" });
        else {
          expect(result.ok).toBe(true);
          if (result.ok) expect(stringify(result.value)).toBe(expected.text);
        }
      },
    });
  }, TIMEOUT);
});
