import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ENVELOPE_V1 } from "../test/fixtures";
import {
  ContextMismatchError,
  DEFAULT_ENCRYPTED_EVENTS,
  E2eeError,
  ENVELOPE_LIMITS,
  InvalidEnvelopeError,
  base64urlLength,
  checkRelayEvent,
  maxCiphertextBytes,
  type E2eeErrorCode,
  type EnvelopeV1,
  type EnvelopeV2,
  type RelayEventCheck,
} from "./index";

/** A real envelope v1 for room-42, msg-1 (see test/fixtures.ts). */
const V1: EnvelopeV1 = ENVELOPE_V1;

/** The signed example of SPEC.md §8.4 (`envelopeV2.valid[0]` of key-lifecycle-v1.json). */
const V2: EnvelopeV2 = Object.freeze({
  v: 2,
  suite: "xaes256gcm-kc",
  roomId: "room-42",
  messageId: "msg-1",
  keyId: "room-42-v1",
  keyVersion: 1,
  nonce: "sLGys7S1tre4ubq7vL2-v8DBwsPExcbH",
  commitment: "P6ThBzXdpEbc1Y15lCYGnFEoaKq5leGafa-DCqXYqD0",
  ciphertext: "QGdbV1SfuIu7egTDz_1ndp2kPyHWzsNhgr_jzhdmBsKt4etwxuHFGckdQ7T9jIizxcj665KTHJiiPIMXCRtLdw",
  senderUserId: "user-alice",
  senderDeviceId: "alice-phone",
  signature: "p15iog88xg_x0FLQJLGXnC1jL11IKSlAnlL-EngXhFLYbfvyqk1bEj8AB2GkJbyiqZOHeIOJEYkZbJrnGoXGCA",
});

/** A distinctive string that must never show up in an error. */
const MARKER = "PLAINTEXT-MARKER-7c2f";

const DEFAULT_MAX_CIPHERTEXT_CHARS = base64urlLength(maxCiphertextBytes(ENVELOPE_LIMITS.defaultMaxPlaintextBytes));

/** Checks `data` published as a chat message on room-42's channel. */
function onChat(data: unknown, options: { maxPlaintextBytes?: number } = {}): RelayEventCheck {
  return checkRelayEvent({ roomId: "room-42", event: "chat.message", data, ...options });
}

/** The error of a rejected check; fails the test if it was accepted. */
function rejection(result: RelayEventCheck, code: E2eeErrorCode): E2eeError {
  if (result.ok) return expect.fail(`expected ${code}, but the event was accepted as ${result.kind}`);
  expect(E2eeError.isInstance(result.error, code)).toBe(true);
  expect(result.error.message).not.toContain(MARKER);
  return result.error;
}

describe("checkRelayEvent", () => {
  describe("on an encrypted event name", () => {
    it("accepts a v1 envelope for the channel's room and returns a frozen copy", () => {
      const result = onChat({ ...V1 });
      expect(result).toEqual({ ok: true, kind: "encrypted", envelope: V1 });
      if (result.ok && result.kind === "encrypted") expect(Object.isFrozen(result.envelope)).toBe(true);
    });

    it("accepts a signed v2 envelope", () => {
      expect(onChat(V2)).toEqual({ ok: true, kind: "encrypted", envelope: V2 });
    });

    it("accepts the envelope as JSON text and returns it as an object", () => {
      expect(onChat(JSON.stringify(V2))).toEqual({ ok: true, kind: "encrypted", envelope: V2 });
    });

    it("rejects a plaintext object as plaintext on an encrypted event", () => {
      const error = rejection(onChat({ body: MARKER, sender_id: "user-1" }), "INVALID_ENVELOPE");
      expect(error).toBeInstanceOf(InvalidEnvelopeError);
      expect(error.message).toMatch(/^plaintext on an encrypted event: /);
      expect((error as InvalidEnvelopeError).issues).toContainEqual({ path: "v", problem: "missing" });
    });

    it("rejects plaintext text, JSON or not", () => {
      for (const data of [MARKER, JSON.stringify(MARKER), JSON.stringify({ body: MARKER }), ""]) {
        expect(rejection(onChat(data), "INVALID_ENVELOPE").message).toMatch(/^plaintext on an encrypted event: /);
      }
    });

    it("rejects anything that is not an envelope object", () => {
      for (const data of [undefined, null, 0, true, [], [V1], new Uint8Array(4), () => V1]) {
        rejection(onChat(data), "INVALID_ENVELOPE");
      }
    });

    it("rejects an envelope with an extra member, or with a member removed", () => {
      rejection(onChat({ ...V1, body: MARKER }), "INVALID_ENVELOPE");
      const { signature: _signature, ...unsigned } = V2;
      rejection(onChat(unsigned), "INVALID_ENVELOPE");
    });

    it("rejects an envelope from another room", () => {
      const error = rejection(checkRelayEvent({ roomId: "room-7", event: "chat.message", data: V1 }), "CONTEXT_MISMATCH");
      expect(error).toBeInstanceOf(ContextMismatchError);
      expect((error as ContextMismatchError).field).toBe("roomId");
      rejection(onChat({ ...V2, roomId: "room-43" }), "CONTEXT_MISMATCH");
    });

    it("rejects an oversize ciphertext, even when other members are invalid too", () => {
      const ciphertext = "A".repeat(DEFAULT_MAX_CIPHERTEXT_CHARS + 4);
      rejection(onChat({ ...V1, ciphertext }), "PAYLOAD_TOO_LARGE");
      rejection(onChat({ ...V1, ciphertext, roomId: "room-7", extra: 1 }), "PAYLOAD_TOO_LARGE");
    });

    it("rejects oversize text before parsing it", () => {
      rejection(onChat(" ".repeat(2048 + DEFAULT_MAX_CIPHERTEXT_CHARS + 1)), "PAYLOAD_TOO_LARGE");
    });

    it("applies the room's maxPlaintextBytes", () => {
      const ciphertext = "A".repeat(200); // 150 bytes: above the bound for 16-byte plaintexts
      expect(onChat({ ...V1, ciphertext }).ok).toBe(true);
      rejection(onChat({ ...V1, ciphertext }, { maxPlaintextBytes: 16 }), "PAYLOAD_TOO_LARGE");
    });

    it("reports a later envelope version as unsupported, not as plaintext", () => {
      const error = rejection(onChat({ ...V1, v: 3 }), "UNSUPPORTED_VERSION");
      expect(error.message).not.toMatch(/plaintext/);
    });
  });

  describe("on an operational event name", () => {
    it("lets the event pass without looking at its data", () => {
      const untouchable = new Proxy(
        {},
        {
          get() {
            throw new Error("the data was read");
          },
          ownKeys() {
            throw new Error("the data was read");
          },
        },
      );
      for (const event of ["typing", "read-receipt", "delivery-status", "location", "chat.message.typing", ""]) {
        for (const data of [{ typing: true }, MARKER, undefined, untouchable]) {
          expect(checkRelayEvent({ roomId: "room-42", event, data })).toEqual({ ok: true, kind: "operational" });
        }
      }
    });

    it("treats even an envelope as operational data there", () => {
      expect(checkRelayEvent({ roomId: "room-42", event: "typing", data: V1 })).toEqual({ ok: true, kind: "operational" });
    });
  });

  describe("encryptedEvents", () => {
    it("defaults to chat messages only, frozen", () => {
      expect(DEFAULT_ENCRYPTED_EVENTS).toEqual(["chat.message"]);
      expect(Object.isFrozen(DEFAULT_ENCRYPTED_EVENTS)).toBe(true);
    });

    it("replaces the default when given", () => {
      const encryptedEvents = ["chat.edit", "chat.reaction"];
      const check = (event: string, data: unknown): RelayEventCheck =>
        checkRelayEvent({ roomId: "room-42", event, data, encryptedEvents });
      expect(check("chat.edit", V1)).toMatchObject({ ok: true, kind: "encrypted" });
      rejection(check("chat.reaction", { emoji: "+1" }), "INVALID_ENVELOPE");
      expect(check("chat.message", { body: "now operational" })).toEqual({ ok: true, kind: "operational" });
    });

    it("matches event names exactly", () => {
      expect(checkRelayEvent({ roomId: "room-42", event: "Chat.Message", data: MARKER }).ok).toBe(true);
      expect(checkRelayEvent({ roomId: "room-42", event: "chat.message ", data: MARKER }).ok).toBe(true);
    });
  });

  describe("caller bugs", () => {
    it("throws TypeError or RangeError for invalid arguments, whatever the event", () => {
      expect(() => checkRelayEvent({ roomId: "", event: "typing", data: null })).toThrow(TypeError);
      expect(() => checkRelayEvent({ roomId: "room 42", event: "chat.message", data: V1 })).toThrow(TypeError);
      expect(() => checkRelayEvent({ roomId: "room-42", event: 7 as unknown as string, data: V1 })).toThrow(TypeError);
      expect(() => checkRelayEvent({ roomId: "room-42", event: "typing", data: null, encryptedEvents: [] })).toThrow(RangeError);
      expect(() => checkRelayEvent({ roomId: "room-42", event: "typing", data: null, encryptedEvents: [""] })).toThrow(TypeError);
      expect(() =>
        checkRelayEvent({ roomId: "room-42", event: "typing", data: null, encryptedEvents: "chat.message" as unknown as string[] }),
      ).toThrow(TypeError);
      expect(() => checkRelayEvent({ roomId: "room-42", event: "typing", data: null, maxPlaintextBytes: 0 })).toThrow(RangeError);
    });
  });

  describe("hostile data", () => {
    it("is refused with an E2eeError, never an exception", () => {
      const throwing = new Proxy(
        { ...V1 },
        {
          get() {
            throw new Error("boom");
          },
        },
      );
      const withGetter = Object.defineProperty({ ...V1 }, "roomId", {
        enumerable: true,
        get() {
          throw new Error("boom");
        },
      });
      const hostile: unknown[] = [
        throwing,
        withGetter,
        JSON.parse(`{"__proto__": {"v": 1}, "body": "${MARKER}"}`),
        `${JSON.stringify(V1).slice(0, -1)}, "roomId": "room-7"}`,
        { ...V1, toJSON: () => V1 },
        Object.create(V1),
        "\u0000".repeat(10_000),
        "[".repeat(5_000),
      ];
      for (const data of hostile) {
        const result = onChat(data);
        expect(result.ok, String(typeof data)).toBe(false);
        if (!result.ok) expect(E2eeError.isInstance(result.error)).toBe(true);
      }
    });

    it("never throws for arbitrary data, and accepts only envelopes of the channel's room", () => {
      const data = fc.oneof(
        fc.anything(),
        fc.json(),
        fc.record({ v: fc.constantFrom(1, 2, 3, "1"), roomId: fc.constantFrom("room-42", "room-7") }),
        fc.constantFrom<unknown>(V1, V2, JSON.stringify(V1)).chain((envelope) =>
          fc.tuple(fc.constant(envelope), fc.string({ maxLength: 4 }), fc.anything()).map(([base, key, value]) =>
            typeof base === "string" ? base : { ...(base as object), [key]: value },
          ),
        ),
      );
      fc.assert(
        fc.property(data, (value) => {
          const result = onChat(value);
          if (result.ok) {
            expect(result.kind).toBe("encrypted");
            if (result.kind === "encrypted") expect(result.envelope.roomId).toBe("room-42");
          } else {
            expect(E2eeError.isInstance(result.error)).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
