/**
 * Fuzzing the message side of `@domvia/e2ee-crypto`: opening envelopes (tampered ones, and
 * authentic ones whose sealed content is garbage, as a malicious room member could send),
 * importing room keys, and the base64url decoder every wire field goes through.
 */
import { Buffer } from "node:buffer";
import {
  ENVELOPE_LIMITS,
  SUITE_V1,
  encodeAssociatedDataV1,
  safeParseDeviceBundle,
  safeParseEnvelope,
  isCanonicalBase64url,
  isValidId,
  maxCiphertextBytes,
  type EnvelopeV1,
} from "@domvia/e2ee-envelope";
import {
  base64urlDecode,
  decryptChatJson,
  decryptChatMessage,
  exportAesGcmKeyToBase64,
  exportRoomKeyBytes,
  importAesGcmKeyFromBase64,
  importRoomKeyBytes,
  isRoomKey,
  type DecryptedChatMessage,
  type RoomKey,
  type RoomKeyResolver,
  type SenderBundleResolver,
} from "@domvia/e2ee-crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
// Internals, to seal garbage under the real key: what a malicious member of the room can do.
import { keyCommitment, keyState } from "../../packages/crypto/src/room-key";
import { BASE64URL_ALPHABET, callerValue, hostileValue, id, mostlyRefused, nastyCharacter, nastyString, nearValid, nestedText, thenSafe, wireInputs } from "./arbitraries";
import { CHAT_VALUE, MESSAGE_ID, ROOM_ID, getWorld, viaJson, type World } from "./fixtures";
import { fuzz, isRangeError, isTypeError } from "./harness";
import { stringify } from "./json";
import { DECRYPT_CODES, meaningOf, sortedJson } from "./oracles";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);

let world: World;
beforeAll(async () => {
  world = await getWorld();
});


const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** How the key is given: the key itself, or a resolver of one kind or another. */
type KeyGiven = "key" | "resolver" | "async-resolver" | "unknown" | "junk-resolver" | "hostile";
/** How the sender's bundle is found for a v2 envelope. */
type SenderGiven = "directory" | "none" | "other-device" | "tampered" | "junk";

interface OpenInput {
  readonly envelope: unknown;
  readonly keyGiven: KeyGiven;
  readonly junk: unknown;
  readonly senderGiven: SenderGiven;
  readonly tamperedBundle: unknown;
  readonly roomId: unknown;
  readonly messageId: unknown;
  readonly requireSignature: boolean;
  readonly maxPlaintextBytes: unknown;
  readonly returnsMessage: boolean;
  /** For an authentic envelope sealed here: the padded plaintext inside. */
  readonly padded?: Uint8Array;
}

/** A v1 envelope sealed with the real key around any padded plaintext. */
function sealPadded(key: RoomKey, padded: Uint8Array, nonce: Uint8Array): EnvelopeV1 {
  const state = keyState(key);
  const context = { roomId: ROOM_ID, messageId: MESSAGE_ID, keyId: world.keyId, keyVersion: world.keyVersion };
  const sealed = state.cipher.seal(nonce, padded, encodeAssociatedDataV1(context));
  return { v: 1, suite: SUITE_V1, ...context, nonce: b64u(nonce), commitment: b64u(keyCommitment(state)), ciphertext: b64u(sealed) };
}

/** Message bytes followed by the 0x80 marker and `zeros` zero bytes (SPEC.md §5.2). */
const padMessage = (message: Uint8Array, zeros: number): Uint8Array => {
  const padded = new Uint8Array(message.length + 1 + zeros);
  padded.set(message);
  padded[message.length] = 0x80;
  return padded;
};

/** Plaintexts a member could seal: JSON and not, valid UTF-8 and not, padded well and badly. */
const paddedPlaintext: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.json({ maxDepth: 3 }), fc.nat({ max: 40 })).map(([text, zeros]) => padMessage(utf8(text), zeros)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          '{"__proto__":{"polluted":true}}',
          '{"constructor":{"prototype":{"polluted":true}}}',
          '{"a":1,"a":2}',
          "\ufeff{}",
          "1e400",
          "-0",
          '"\\ud800"',
          " [ ] ",
          "{}garbage",
          "",
        ),
        fc.nat({ max: 8 }),
      )
      .map(([text, zeros]) => padMessage(utf8(text), zeros)),
  },
  { weight: 2, arbitrary: fc.tuple(nastyString, fc.nat({ max: 8 })).map(([text, zeros]) => padMessage(utf8(text), zeros)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2_000 }), fc.constantFrom<"array" | "object">("array", "object")).map(([depth, kind]) => padMessage(utf8(nestedText(depth, kind)), 0)) },
  { weight: 2, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 8 })).map(([bytes, zeros]) => padMessage(bytes, zeros)) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 96 }) },
);

/** What an authentic envelope around `padded` must open to, worked out independently. */
function expectedOpening(padded: Uint8Array, maxPlaintextBytes: number): { code: string } | { value: unknown } {
  if (padded.length + ENVELOPE_LIMITS.tagBytes > maxCiphertextBytes(maxPlaintextBytes)) return { code: "PAYLOAD_TOO_LARGE" };
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80) return { code: "DECRYPTION_FAILED" };
  const message = padded.subarray(0, end);
  if (message.length > maxPlaintextBytes) return { code: "PAYLOAD_TOO_LARGE" };
  let text: string;
  try {
    text = strictUtf8.decode(message);
  } catch {
    return { code: "DECRYPTION_FAILED" };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { code: "DECRYPTION_FAILED" };
  }
}

const validMaxPlaintextBytes = (value: unknown): boolean =>
  value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= ENVELOPE_LIMITS.maxPlaintextBytesCeiling);

/** The error a caller bug in `input` must throw, in the order the API checks them. */
function callerBug(input: OpenInput): "TypeError" | "RangeError" | undefined {
  if (!isValidId(input.roomId) || !isValidId(input.messageId)) return "TypeError";
  if (input.keyGiven === "hostile") return "TypeError";
  if (!validMaxPlaintextBytes(input.maxPlaintextBytes)) return "RangeError";
  return undefined;
}

describe("fuzzing decryptChatJson and decryptChatMessage", () => {
  it("open only the genuine message, and otherwise throw a documented error", async () => {
    const keyGiven = fc.constantFrom<KeyGiven>("key", "key", "key", "resolver", "resolver", "async-resolver", "unknown", "junk-resolver", "hostile");
    // A sender bundle is untrusted data, throwing Proxies included, but it comes back from the app's
    // resolver through an `await`: only what an `await` can hand over (see thenSafe).
    const bundleJunk = hostileValue.filter(thenSafe);
    const senderGiven = fc.constantFrom<SenderGiven>("directory", "directory", "directory", "directory", "none", "other-device", "tampered", "junk");
    const context = {
      keyGiven,
      // The key is the caller's to get right: wrong types, but no booby-trapped objects.
      junk: callerValue.filter((value) => value !== undefined && value !== null && typeof value !== "function"),
      senderGiven,
      tamperedBundle: fc.oneof({ weight: 4, arbitrary: mostlyRefused(nearValid(world.bundle), (bundle) => safeParseDeviceBundle(bundle).success, 0.03).filter(thenSafe) }, { weight: 1, arbitrary: bundleJunk }),
      roomId: fc.oneof({ weight: 20, arbitrary: fc.constant(ROOM_ID) }, { weight: 1, arbitrary: id }, { weight: 1, arbitrary: callerValue }),
      messageId: fc.oneof({ weight: 20, arbitrary: fc.constant(MESSAGE_ID) }, { weight: 1, arbitrary: id }, { weight: 1, arbitrary: callerValue }),
      requireSignature: fc.boolean(),
      maxPlaintextBytes: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.integer({ min: 1, max: 200 }) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0, -1, 1.5, Number.NaN, 2 ** 24 + 1), callerValue) },
      ),
      returnsMessage: fc.boolean(),
    };
    // Most changed envelopes are refused by the parser; 6% reach the key, the signature and the cipher.
    const envelopes = mostlyRefused(wireInputs(world.envelopeV1, world.envelopeV2), (envelope) => safeParseEnvelope(envelope).success, 0.06);
    const tampered = fc.record({ envelope: envelopes, ...context });
    const authentic = fc
      .record({ padded: paddedPlaintext, nonce: fc.uint8Array({ minLength: 24, maxLength: 24 }), asText: fc.boolean(), ...context })
      .map(({ padded, nonce, asText, ...rest }) => {
        const envelope = sealPadded(world.roomKey, padded, nonce);
        return { ...rest, padded, envelope: asText ? stringify(envelope) : envelope };
      });
    const inputs: fc.Arbitrary<OpenInput> = fc.oneof({ weight: 9, arbitrary: tampered }, { weight: 1, arbitrary: authentic });

    const keyFor = (input: OpenInput): unknown => {
      switch (input.keyGiven) {
        case "key":
          return world.roomKey;
        case "resolver":
          return (() => world.roomKey) satisfies RoomKeyResolver;
        case "async-resolver":
          return (async () => world.roomKey) satisfies RoomKeyResolver;
        case "unknown":
          return (() => undefined) satisfies RoomKeyResolver;
        case "junk-resolver":
          return () => input.junk;
        case "hostile":
          return input.junk;
      }
    };
    const senderFor = (input: OpenInput): SenderBundleResolver => {
      switch (input.senderGiven) {
        case "directory":
          return ({ userId, deviceId }) => (userId === "alice" && deviceId === "phone" ? world.bundle : undefined);
        case "none":
          return () => undefined;
        case "other-device":
          return () => world.bob.publicBundle;
        case "tampered":
          return () => input.tamperedBundle as typeof world.bundle;
        case "junk":
          return () => input.junk as typeof world.bundle;
      }
    };

    await fuzz<OpenInput>({
      name: "decryptChatJson / decryptChatMessage",
      inputs,
      call: (input) => {
        const key = keyFor(input) as RoomKey;
        const options = {
          roomId: input.roomId as string,
          messageId: input.messageId as string,
          resolveSender: senderFor(input),
          requireSignature: input.requireSignature,
          maxPlaintextBytes: input.maxPlaintextBytes as number | undefined,
        };
        return input.returnsMessage ? decryptChatMessage(input.envelope, key, options) : decryptChatJson(input.envelope, key, options);
      },
      codes: DECRYPT_CODES,
      documentedError: (error, input) => {
        const bug = callerBug(input);
        if (bug !== undefined) return bug === "TypeError" ? isTypeError(error) : isRangeError(error);
        // "a resolver returns something else" than a key.
        return input.keyGiven === "junk-resolver" && isTypeError(error) && !isRoomKey(input.junk);
      },
      returned: (result, input) => {
        expect(callerBug(input), "a caller bug must throw").toBeUndefined();
        expect(["unknown", "junk-resolver", "hostile"]).not.toContain(input.keyGiven);
        const value = input.returnsMessage ? (result as DecryptedChatMessage).value : result;
        if (input.padded !== undefined) {
          // An authentic envelope: it opens exactly when the independent reading says so, to the same value.
          const expected = expectedOpening(input.padded, (input.maxPlaintextBytes as number | undefined) ?? ENVELOPE_LIMITS.defaultMaxPlaintextBytes);
          expect(expected).toHaveProperty("value");
          expect(stringify(value)).toBe(stringify((expected as { value: unknown }).value));
          expect(input.requireSignature, "an unsigned envelope opened where a signature is required").toBe(false);
          return;
        }
        // A changed envelope: it may open only if it still says exactly what the genuine one says.
        const meaning = meaningOf(input.envelope) as { v?: unknown } | undefined;
        const genuine = [world.envelopeV1, world.envelopeV2].map(sortedJson);
        if (meaning !== undefined) expect(genuine).toContain(sortedJson(meaning));
        expect(stringify(value)).toBe(stringify(viaJson(CHAT_VALUE)));
        if (input.returnsMessage) {
          const { sender, keyId, keyVersion } = result as DecryptedChatMessage;
          expect({ keyId, keyVersion }).toEqual({ keyId: world.keyId, keyVersion: world.keyVersion });
          if (sender === null) expect(input.requireSignature).toBe(false);
          else {
            expect(sender).toEqual({ userId: "alice", deviceId: "phone" });
            // Verified against Alice's genuine bundle, whichever way the resolver handed it over.
            const handed = input.senderGiven === "directory" ? world.bundle : input.senderGiven === "tampered" ? meaningOf(input.tamperedBundle) : undefined;
            expect(sortedJson(handed)).toBe(sortedJson(world.bundle));
          }
        }
      },
      threw: (error, input) => {
        if (input.padded === undefined || callerBug(input) !== undefined || input.requireSignature) return;
        if (input.roomId !== ROOM_ID || input.messageId !== MESSAGE_ID || !["key", "resolver", "async-resolver"].includes(input.keyGiven)) return;
        // An authentic envelope fails exactly as the independent reading says.
        const expected = expectedOpening(input.padded, (input.maxPlaintextBytes as number | undefined) ?? ENVELOPE_LIMITS.defaultMaxPlaintextBytes);
        expect(expected, `authentic envelope refused with ${error.code}`).toHaveProperty("code", error.code);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing room key import", () => {
  it("importAesGcmKeyFromBase64 takes exactly canonical base64 of 32 bytes, and never repeats its input", async () => {
    const base64Of = (minLength: number, maxLength: number): fc.Arbitrary<string> =>
      fc.uint8Array({ minLength, maxLength }).map((bytes) => Buffer.from(bytes).toString("base64"));
    const inputs = fc.oneof(
      { weight: 6, arbitrary: nearValid(world.roomKeyBase64, { trapped: false }) },
      { weight: 2, arbitrary: base64Of(32, 32) },
      { weight: 2, arbitrary: base64Of(0, 48) },
      { weight: 1, arbitrary: base64Of(32, 32).map((text) => text.replaceAll("+", "-").replaceAll("/", "_")) },
      { weight: 1, arbitrary: fc.tuple(base64Of(32, 32), fc.nat({ max: 43 }), nastyCharacter).map(([text, at, character]) => text.slice(0, at) + character + text.slice(at + 1)) },
      { weight: 2, arbitrary: nastyString },
      { weight: 1, arbitrary: callerValue },
    );
    const canonical = (input: string): boolean => {
      const bytes = Buffer.from(input, "base64");
      return bytes.length === 32 && bytes.toString("base64") === input;
    };
    await fuzz<unknown>({
      name: "importAesGcmKeyFromBase64",
      inputs,
      call: (input) => importAesGcmKeyFromBase64(input as string),
      codes: ["INVALID_KEY"],
      documentedError: (error, input) => typeof input !== "string" && isTypeError(error),
      returned: async (key, input) => {
        expect(typeof input).toBe("string");
        expect(canonical(input as string)).toBe(true);
        expect(await exportAesGcmKeyToBase64(key as RoomKey)).toBe(input);
      },
      threw: (error, input) => {
        expect(typeof input === "string" && canonical(input), "canonical key refused").toBe(false);
        if (typeof input === "string" && input.length >= 8) expect(error.message).not.toContain(input);
      },
    });
  }, TIMEOUT);

  it("importRoomKeyBytes takes exactly 32 bytes in a Uint8Array", async () => {
    const inputs = fc.oneof(
      { weight: 3, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 64, maxLength: 64 }).map((bytes) => bytes.subarray(16, 48)) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes)) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => new Uint8ClampedArray(bytes)) },
      { weight: 1, arbitrary: fc.int8Array({ minLength: 32, maxLength: 32 }) },
      { weight: 1, arbitrary: fc.uint16Array({ minLength: 16, maxLength: 16 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => [...bytes]) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => bytes.buffer) },
      { weight: 2, arbitrary: callerValue },
    );
    await fuzz<unknown>({
      name: "importRoomKeyBytes",
      inputs,
      call: (input) => importRoomKeyBytes(input as Uint8Array),
      codes: ["INVALID_KEY"],
      returned: (key, input) => {
        expect(input instanceof Uint8Array && input.length === 32).toBe(true);
        expect([...exportRoomKeyBytes(key as RoomKey)]).toEqual([...(input as Uint8Array)]);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing the base64url decoder", () => {
  it("base64urlDecode / isCanonicalBase64url accept exactly canonical base64url, and agree", async () => {
    const encoded = fc.uint8Array({ maxLength: 70 }).map((bytes) => Buffer.from(bytes).toString("base64url"));
    const inputs = fc.oneof(
      { weight: 4, arbitrary: encoded },
      { weight: 4, arbitrary: encoded.chain((text) => nearValid(text)).filter((value): value is string => typeof value === "string") },
      { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...BASE64URL_ALPHABET, "=", "+", "/"), maxLength: 90 }) },
      { weight: 2, arbitrary: nastyString },
    );
    await fuzz<string>({
      name: "base64urlDecode / isCanonicalBase64url",
      inputs,
      call: (input) => ({ bytes: base64urlDecode(input), canonical: isCanonicalBase64url(input) }),
      codes: [],
      returned: (result, input) => {
        const { bytes, canonical } = result as { bytes: Uint8Array | undefined; canonical: boolean };
        const expected = /^[A-Za-z0-9_-]*$/.test(input) && Buffer.from(input, "base64url").toString("base64url") === input;
        expect(canonical).toBe(expected);
        expect(bytes !== undefined).toBe(expected);
        if (bytes !== undefined) expect(Buffer.from(bytes).toString("base64url")).toBe(input);
      },
    });
  }, TIMEOUT);
});
