/**
 * What a relay checks before it fans out or stores an event published on a private, end-to-end
 * encrypted channel: an event name configured as encrypted must carry a well-formed message
 * envelope (v1 or v2) for that very room, within the size limits; every other event name is an
 * operational event and passes. No cipher code: a relay cannot open envelopes and need not.
 *
 * The relay's other duties are not decidable from one event and stay with it: authorising the
 * channel subscription and the publisher, and refusing a second envelope with a `messageId`
 * already used in the room (SPEC.md §17.6).
 *
 * @module
 */
import { ContextMismatchError, type E2eeError } from "./errors";
import { assertId } from "./fields";
import { checkMaxPlaintextBytes } from "./limits";
import { safeParseEnvelope, type Envelope } from "./parse";
import { InvalidEnvelopeError } from "./wire";

/**
 * The event names encrypted by default: chat messages only. The E2EE guide's step 2: encrypt
 * private chat content first; typing indicators, read receipts, delivery status and location
 * updates stay protected operational events (private-channel authorisation, not E2EE).
 * `@domvia/realtime-e2ee`'s `createEncryptedChannel` uses the same default, so a relay and its
 * clients agree without configuration.
 */
export const DEFAULT_ENCRYPTED_EVENTS: readonly ["chat.message"] = Object.freeze(["chat.message"] as const);

/** Input of {@link checkRelayEvent}: one event as the relay received it. */
export interface RelayEventInput {
  /**
   * The room of the channel the event was published on, as the relay knows it (for example
   * derived from the channel name it authorised); never taken from the event.
   */
  readonly roomId: string;
  /** The event name the publisher used. */
  readonly event: string;
  /** The event's data as received: the envelope object or its JSON text for encrypted events. */
  readonly data: unknown;
  /** The event names whose data must be an envelope. Default {@link DEFAULT_ENCRYPTED_EVENTS}. */
  readonly encryptedEvents?: readonly string[] | undefined;
  /**
   * The largest plaintext, in bytes of UTF-8 JSON, the room's clients accept; bounds the
   * ciphertext (SPEC.md §3.4). Default 65,536; at most 16 MiB. Use the clients' value.
   */
  readonly maxPlaintextBytes?: number | undefined;
}

/**
 * Result of {@link checkRelayEvent}. `encrypted`: relay and store `envelope` (a frozen, validated
 * copy) rather than the raw data, so every receiver sees exactly what was checked. `operational`:
 * not an encrypted event name; relay the data as your channel rules say. Otherwise reject the
 * publish with `error.code`.
 */
export type RelayEventCheck =
  | { readonly ok: true; readonly kind: "encrypted"; readonly envelope: Envelope }
  | { readonly ok: true; readonly kind: "operational" }
  | { readonly ok: false; readonly error: E2eeError };

/**
 * Checks one event published on a private encrypted channel, for a relay (a server or a server
 * hook that sees publishes before they are delivered). Never throws for any `data`.
 *
 * Rules, in order:
 * 1. An event name not in `encryptedEvents` is operational: `{ ok: true, kind: "operational" }`.
 *    Names are compared exactly, so a client that publishes chat under another spelling
 *    (`"Chat.message"`) passes as operational: a relay that knows its operational names should
 *    refuse every other name itself.
 * 2. On an encrypted event name, `data` must be a message envelope of a supported version, as
 *    an object or its JSON text (SPEC.md §3.3, §8.1). Plaintext or anything else fails with
 *    `INVALID_ENVELOPE` ("plaintext on an encrypted event", with the schema `issues`); a later
 *    version with `UNSUPPORTED_VERSION`; a ciphertext or text beyond the limit with
 *    `PAYLOAD_TOO_LARGE`.
 * 3. The envelope's `roomId` must be the channel's room, else `CONTEXT_MISMATCH` (a
 *    `ContextMismatchError` with `field: "roomId"`): an envelope replayed from another room.
 *
 * Not checked, because one event cannot show it: that the `messageId` is new in the room (the
 * relay MUST refuse duplicates, see SPEC.md §17.6), that the publisher may publish, and, for
 * v2, that `senderUserId` is the authenticated publisher (compare it yourself if you require it).
 *
 * @example
 * ```ts
 * const result = checkRelayEvent({ roomId: "room-42", event: "chat.message", data: body });
 * if (!result.ok) return reject(result.error.code);
 * if (result.kind === "encrypted") {
 *   if (await store.has("room-42", result.envelope.messageId)) return reject("duplicate message id");
 *   await store.add("room-42", result.envelope);
 *   return fanOut("chat.message", result.envelope);
 * }
 * return fanOut(event, body); // typing, receipts, ...: operational
 * ```
 * @throws TypeError when `roomId` is not a valid identifier, `event` is not a string, or
 *   `encryptedEvents` is not an array of non-empty strings (caller bugs, not data).
 * @throws RangeError when `encryptedEvents` is empty or `maxPlaintextBytes` is out of range.
 */
export function checkRelayEvent(input: RelayEventInput): RelayEventCheck {
  assertId(input.roomId, "roomId");
  if (typeof input.event !== "string") {
    throw new TypeError(`"event" expected a string, got ${typeof input.event}`);
  }
  const encryptedEvents = checkEncryptedEvents(input.encryptedEvents);
  const maxPlaintextBytes = checkMaxPlaintextBytes(input.maxPlaintextBytes);
  if (!encryptedEvents.includes(input.event)) return { ok: true, kind: "operational" };

  const parsed = safeParseEnvelope(input.data, { maxPlaintextBytes });
  if (!parsed.success) {
    const { error } = parsed;
    if (error.code !== "INVALID_ENVELOPE") return { ok: false, error };
    const issues = error instanceof InvalidEnvelopeError ? error.issues : [];
    return {
      ok: false,
      error: new InvalidEnvelopeError("INVALID_ENVELOPE", `plaintext on an encrypted event: ${error.message}`, issues),
    };
  }
  if (parsed.data.roomId !== input.roomId) return { ok: false, error: new ContextMismatchError("roomId") };
  return { ok: true, kind: "encrypted", envelope: parsed.data };
}

/**
 * Validates an `encryptedEvents` option and returns it, or the default. Empty is refused: a relay
 * that checks no event name is a configuration error, not a policy.
 */
function checkEncryptedEvents(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return DEFAULT_ENCRYPTED_EVENTS;
  if (!Array.isArray(value) || !value.every((name) => typeof name === "string" && name.length > 0)) {
    throw new TypeError(`"encryptedEvents" expected an array of non-empty event names`);
  }
  if (value.length === 0) {
    throw new RangeError(`"encryptedEvents" expected at least one event name`);
  }
  return value;
}
