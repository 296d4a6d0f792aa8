/**
 * Fuzzing the façade's receiving side: whatever arrives on a private event, an encrypted channel
 * (`createEncryptedChannel` from `@domvia/realtime-e2ee`) hands its handler a typed event (the
 * message, "unable to decrypt" with a stable reason, or a duplicate) and never throws, rejects or
 * calls `onError`, whether the data comes through `subscribe` or `decrypt`.
 */
import {
  E2EE_ERROR_CODES,
  E2eeError,
  ReplayGuard,
  createEncryptedChannel,
  safeParseEnvelope,
  type EncryptedChannelEvent,
  type RealtimeChannel,
} from "@domvia/realtime-e2ee";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { mostlyRefused, wireInputs } from "./arbitraries";
import { CHAT_VALUE, ROOM_ID, getWorld, viaJson, type World } from "./fixtures";
import { fuzz } from "./harness";
import { stringify } from "./json";
import { DECRYPT_CODES, meaningOf, sortedJson } from "./oracles";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);

let world: World;
beforeAll(async () => {
  world = await getWorld();
});

/** Reasons an encrypted channel may give for a private event it could not open. */
const REASONS = [...DECRYPT_CODES, "DEVICE_REVOKED"];

describe("fuzzing an encrypted channel's receiving side", () => {
  it("hands every private event to its handler as a typed event, and never throws, rejects or reports an error", async () => {
    type Path = "decrypt" | "subscribe" | "decrypt-history";
    const inputs = fc.record({
      data: mostlyRefused(wireInputs(world.envelopeV1, world.envelopeV2), (data) => safeParseEnvelope(data).success, 0.06),
      path: fc.constantFrom<Path>("decrypt", "subscribe", "decrypt-history"),
      signed: fc.boolean(),
      guarded: fc.boolean(),
    });
    type Input = typeof inputs extends fc.Arbitrary<infer I> ? I : never;

    const open = async ({ data, path, signed, guarded }: Input): Promise<EncryptedChannelEvent> => {
      const errors: unknown[] = [];
      let deliver: ((data: unknown) => void) | undefined;
      const transport: RealtimeChannel = {
        publish: () => undefined,
        subscribe: (_event, handler) => {
          deliver = handler;
          return () => undefined;
        },
      };
      const room = createEncryptedChannel({
        channel: transport,
        roomId: ROOM_ID,
        keyring: world.keyring,
        // With a sender directory, unsigned messages are refused; without one, signed ones are (UNKNOWN_SENDER).
        resolveSender: signed ? ({ userId, deviceId }) => (userId === "alice" && deviceId === "phone" ? world.bundle : undefined) : undefined,
        replayGuard: guarded ? new ReplayGuard() : undefined,
        onError: (error) => errors.push(error),
      });
      let event: EncryptedChannelEvent;
      if (path === "subscribe") {
        event = await new Promise<EncryptedChannelEvent>((resolve) => {
          const unsubscribe = room.subscribe("chat.message", (payload) => {
            unsubscribe();
            resolve(payload as EncryptedChannelEvent);
          });
          deliver!(data);
        });
      } else {
        event = await room.decrypt("chat.message", data, { history: path === "decrypt-history" });
      }
      // Let any error report scheduled by the channel run before looking.
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors, "the channel reported an error").toEqual([]);
      return event;
    };

    await fuzz<Input>({
      name: "createEncryptedChannel: decrypt / subscribe",
      inputs,
      call: open,
      codes: [],
      returned: (value, input) => {
        const event = value as EncryptedChannelEvent;
        expect(event.event).toBe("chat.message");
        if (event.type === "unable-to-decrypt") {
          expect(E2eeError.isInstance(event.error)).toBe(true);
          expect(event.reason).toBe(event.error.code);
          expect(REASONS).toContain(event.reason);
          expect(E2EE_ERROR_CODES).toContain(event.reason);
          expect(event.data).toBe(input.data);
          return;
        }
        // Opened (a fresh guard has seen nothing, so never a duplicate): only the genuine envelope, signed when required.
        expect(event.type).toBe("message");
        if (event.type !== "message") return;
        const meaning = meaningOf(input.data);
        const genuine = input.signed ? world.envelopeV2 : world.envelopeV1;
        if (meaning !== undefined) expect(sortedJson(meaning)).toBe(sortedJson(genuine));
        expect(stringify(event.value)).toBe(stringify(viaJson(CHAT_VALUE)));
        expect(event.sender).toEqual(input.signed ? { userId: "alice", deviceId: "phone" } : null);
      },
    });
  }, TIMEOUT);
});
