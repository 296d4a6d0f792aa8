/**
 * An encrypted channel over any realtime client: the event names configured as private content
 * (default: chat messages) are sealed with the room's keyring; every other event is an
 * operational event and passes unchanged. Incoming private events are opened with the context of
 * the channel they arrived on, and one that cannot be opened is delivered as a typed
 * "unable to decrypt" event, never as an exception in the transport's callback.
 *
 * @module
 */
import {
  DEFAULT_ENCRYPTED_EVENTS,
  E2eeError,
  assertId,
  safeParseEnvelope,
  type E2eeErrorCode,
  type Envelope,
} from "@domvia/e2ee-envelope";
import {
  base64urlEncode,
  randomBytes,
  type DeviceIdentity,
  type JsonValue,
  type SenderBundleResolver,
  type SenderReference,
} from "@domvia/e2ee-crypto";
import { ReplayGuard, RoomKeyring, ReplayedMessageError, TrustStore } from "@domvia/e2ee-room-keys";

/**
 * The two operations realtime clients share, on one channel: publish an event with data, and
 * subscribe a handler to an event (returning a way to unsubscribe, when the client has one).
 * Adapt a client in two lines, for example:
 *
 * ```ts
 * // Ably: subscribe hands over a message object, so unwrap its data.
 * const ablyRoom: RealtimeChannel = {
 *   publish: (event, data) => ably.publish(event, data),
 *   subscribe: (event, handler) => { const listener = (m: { data: unknown }) => handler(m.data); void ably.subscribe(event, listener); return () => ably.unsubscribe(event, listener); },
 * };
 * // pusher-js: trigger and bind (client events carry the "client-" prefix).
 * const pusherRoom: RealtimeChannel = {
 *   publish: (event, data) => { pusher.trigger(`client-${event}`, data); },
 *   subscribe: (event, handler) => { pusher.bind(`client-${event}`, handler); return () => pusher.unbind(`client-${event}`, handler); },
 * };
 * ```
 */
export interface RealtimeChannel {
  /** Sends `data` (a JSON value) as `event` on the channel. */
  publish(event: string, data: unknown): void | Promise<void>;
  /** Calls `handler` with the data of every `event` received; may return an unsubscribe function. */
  subscribe(event: string, handler: (data: unknown) => void): (() => void) | void;
}

/** Options of {@link createEncryptedChannel}. */
export interface EncryptedChannelOptions<Encrypted extends string = string> {
  /** The private channel's client, already authorised by your server. */
  readonly channel: RealtimeChannel;
  /** The channel's room; must be `keyring.roomId`. Received envelopes must name it. */
  readonly roomId: string;
  /** The room's keyring: seals with its current version, opens with the version an envelope names. */
  readonly keyring: RoomKeyring;
  /** This device: when given, sent messages are signed (envelope v2) so receivers can verify the sender. */
  readonly device?: DeviceIdentity | undefined;
  /**
   * The event names whose content is encrypted; every other event is operational and passes
   * unchanged. Default `DEFAULT_ENCRYPTED_EVENTS` (`["chat.message"]`). Use the same list as
   * your relay's `checkRelayEvent`.
   */
  readonly encryptedEvents?: readonly Encrypted[] | undefined;
  /** Finds the public bundle of a sending device (your device directory), to verify signed messages. */
  readonly resolveSender?: SenderBundleResolver | undefined;
  /**
   * Pin senders' keys (SPEC.md §20.5): every bundle `resolveSender` returns is checked with
   * `trustStore.resolver`, so a message signed under a bundle whose keys changed since they were
   * pinned (a substituted bundle, or a reinstalled device not yet accepted) arrives as
   * `unable-to-decrypt` with reason `IDENTITY_CHANGED`, the store's listeners hear
   * `identity-changed` once, and the subscription keeps delivering. Requires `resolveSender`.
   */
  readonly trustStore?: TrustStore | undefined;
  /**
   * Refuse unsigned (v1) messages with `BAD_SIGNATURE`. Default: `true` when `resolveSender` is
   * given (you verify senders, so a message without a sender is refused), `false` otherwise.
   */
  readonly requireSignature?: boolean | undefined;
  /**
   * Called for every private event a subscription could not open, before its handler: one place
   * to request a missing key version (`UNKNOWN_KEY`) or a sender's bundle (`UNKNOWN_SENDER`).
   * Not called for {@link EncryptedChannel.decrypt}, which returns the event instead.
   */
  readonly onUnableToDecrypt?: ((event: UnableToDecryptEvent) => void) | undefined;
  /**
   * Called with anything thrown by a handler, `onUnableToDecrypt` or `resolveSender` (an async
   * handler's rejection included), with the event name and data it concerned. The subscription
   * keeps delivering. Default: the error is rethrown in a new task (as a DOM event listener's
   * error is reported), so it reaches the platform's uncaught-error reporting.
   */
  readonly onError?: ((error: unknown, context: { readonly event: string; readonly data: unknown }) => void) | undefined;
  /**
   * Recognise messages delivered again (SPEC.md §21). Each message that opens is recorded in
   * this guard (share one guard between the channels of a device); one it has already recorded
   * reaches the handler as a {@link DuplicateMessageEvent}, not as a message and not as an error.
   * Re-read stored history with `decrypt(event, data, { history: true })`.
   */
  readonly replayGuard?: ReplayGuard | undefined;
}

/** A private event that opened. */
export interface EncryptedChannelMessage {
  readonly type: "message";
  /** The event name it arrived as. */
  readonly event: string;
  /** The decrypted JSON value. */
  readonly value: JsonValue;
  /**
   * The message id bound into the ciphertext. It is the sender's claim (the transport carries
   * no independent id): authenticated, so it cannot be altered, but a replayed envelope carries
   * it again. Key your message store by it; the relay refuses reused ids in a room.
   */
  readonly messageId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  /** The device whose signature verified, or `null` for an unsigned (v1) message. */
  readonly sender: SenderReference | null;
}

/**
 * A private event that could not be opened, and why. Show "unable to decrypt" for it; its
 * `data` is unauthenticated and must never be displayed.
 *
 * | reason | typical cause | what to do |
 * | --- | --- | --- |
 * | `UNKNOWN_KEY` | a key version this device has not received (yet), or one dropped by retention | request `keyId`/`keyVersion`, then `channel.decrypt(event, data)` again |
 * | `DECRYPTION_FAILED` | tampered, forged, or sealed with another key | drop it |
 * | `CONTEXT_MISMATCH` | an envelope of another room replayed into this channel | drop it |
 * | `DEVICE_REVOKED` | the verified sender is a revoked device or a removed member | drop it; they may still hold old versions |
 * | `BAD_SIGNATURE` / `UNKNOWN_SENDER` | a forged signature, an unsigned message where signatures are required, a sender whose bundle you lack | drop it, or fetch the bundle and retry |
 * | `IDENTITY_CHANGED` | with a `trustStore`: the sender's bundle has other keys than the ones pinned for it (a substituted bundle, or a reinstalled device) | show the changed safety number; after the user accepts the new keys, `channel.decrypt(event, data)` again |
 * | `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` / `PAYLOAD_TOO_LARGE` | plaintext or garbage on a private event, a newer SDK's envelope, an oversize one | drop it, or upgrade |
 */
export interface UnableToDecryptEvent {
  readonly type: "unable-to-decrypt";
  /** The event name it arrived as. */
  readonly event: string;
  /** The stable code of `error`. */
  readonly reason: E2eeErrorCode;
  /** The typed error (for `UNKNOWN_KEY`, an `UnknownKeyError`). */
  readonly error: E2eeError;
  /** The envelope's message id, when the data was a well-formed envelope. */
  readonly messageId: string | undefined;
  /** The key id the envelope names, when it was well formed: what to request after `UNKNOWN_KEY`. */
  readonly keyId: string | undefined;
  /** The key version the envelope names, when it was well formed. */
  readonly keyVersion: number | undefined;
  /** The data as received, to retry with {@link EncryptedChannel.decrypt}. Unauthenticated: never display it. */
  readonly data: unknown;
}

/**
 * A private event that opened, but whose message the channel's `replayGuard` has already
 * recorded: an at-least-once transport delivering it again, a live event overlapping a history
 * reload, or a replay. Keep the copy you have; do not show it again and do not show an error.
 * Its content is not included.
 */
export interface DuplicateMessageEvent {
  readonly type: "duplicate";
  /** The event name it arrived as. */
  readonly event: string;
  readonly messageId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  /** The device whose signature verified, or `null` for an unsigned (v1) message. */
  readonly sender: SenderReference | null;
  /**
   * `"seen"`: recorded before. `"retired"`: sealed with a key version older than every version
   * the guard still tracks for the room, so it cannot be told apart from a replay.
   */
  readonly verdict: "seen" | "retired";
  /** The typed error, code `REPLAYED_MESSAGE`, for logs. */
  readonly error: ReplayedMessageError;
}

/** What a handler of a private event receives. `duplicate` only with a `replayGuard`. */
export type EncryptedChannelEvent = EncryptedChannelMessage | UnableToDecryptEvent | DuplicateMessageEvent;

/**
 * What `subscribe(name, handler)` hands to `handler`: an {@link EncryptedChannelEvent} for an
 * encrypted event name, the data unchanged (`unknown`) for an operational one. Names known only
 * at run time get `unknown`; check `type` then.
 */
export type ChannelEventPayload<Name extends string, Encrypted extends string> = string extends Encrypted
  ? unknown
  : string extends Name
    ? unknown
    : Name extends Encrypted
      ? EncryptedChannelEvent
      : unknown;

/** Options of {@link EncryptedChannel.publish}. */
export interface PublishOptions {
  /**
   * The message id for an encrypted event, unique within the room (for example your server's id
   * for it). Default: 128 random bits, base64url. Ignored for operational events.
   */
  readonly messageId?: string | undefined;
}

/** Options of {@link EncryptedChannel.decrypt}. */
export interface ChannelDecryptOptions {
  /**
   * The data is stored history being read again (for example after a reload): a message the
   * replay guard has seen is returned as a `message`, never as a `duplicate`, and one it has not
   * seen is recorded, so a live copy arriving later is flagged. Without a `replayGuard`, no effect.
   */
  readonly history?: boolean | undefined;
}

/** What {@link EncryptedChannel.publish} sent. */
export type PublishedEvent =
  | { readonly encrypted: true; readonly messageId: string; readonly keyId: string; readonly keyVersion: number }
  | { readonly encrypted: false };

/** A realtime channel whose private events are end-to-end encrypted. */
export interface EncryptedChannel<Encrypted extends string = string> {
  /** The channel's room. */
  readonly roomId: string;
  /** The event names whose content is encrypted. */
  readonly encryptedEvents: readonly Encrypted[];
  /** `true` when `event` is one of {@link EncryptedChannel.encryptedEvents}. */
  isEncrypted(event: string): event is Encrypted;
  /**
   * Publishes `value`: sealed with the keyring's current version (and signed, given a `device`)
   * for an encrypted event name, unchanged for an operational one.
   *
   * @throws E2eeError `ROTATION_REQUIRED` (no key yet, or a required rotation is pending) or
   *   `PAYLOAD_TOO_LARGE`; TypeError for a value that is not JSON or an invalid `messageId`;
   *   whatever the client's `publish` throws.
   */
  publish(event: string, value: unknown, options?: PublishOptions): Promise<PublishedEvent>;
  /**
   * Calls `handler` for every `event` received: an {@link EncryptedChannelEvent} for an encrypted
   * event name (in arrival order), the data unchanged for an operational one. Never throws into
   * the client; errors go to `onError`. Returns the function that unsubscribes.
   */
  subscribe<Name extends string>(event: Name, handler: (payload: ChannelEventPayload<Name, Encrypted>) => void): () => void;
  /**
   * Opens the data of a private event as a subscription would, for a retry after a missing key
   * arrives (`UNKNOWN_KEY`) or for events fetched another way. Pass `{ history: true }` to
   * re-read stored history past the replay guard.
   *
   * @throws TypeError when `event` is not an encrypted event name; whatever `resolveSender` throws.
   */
  decrypt(event: string, data: unknown, options?: ChannelDecryptOptions): Promise<EncryptedChannelEvent>;
}

/**
 * Wraps a private channel's realtime client so that chat content is end-to-end encrypted with the
 * room's keyring, and operational events (typing, receipts, delivery status, location) pass as
 * they are. The server still authorises the channel and relays everything; it sees envelopes for
 * encrypted event names and checks them with `checkRelayEvent` from `@domvia/e2ee-envelope`.
 *
 * Receiving: the room is the channel's (`roomId`), so an envelope of another room is refused
 * (`CONTEXT_MISMATCH`). The message id is the envelope's own: realtime events carry no
 * independent id, so the receiver binds the id the sender sealed. It cannot be changed without
 * the message failing, but the same envelope sent again opens again; so your relay must refuse a
 * second envelope with a message id already used in the room (SPEC.md §17.6), and apps should
 * key messages by `messageId`. A message whose verified sender the keyring lists as revoked or
 * removed is refused (`DEVICE_REVOKED`); unsigned messages cannot be attributed, so give
 * `resolveSender` (which makes signatures required) to get that check. Give a `replayGuard` to
 * have a message delivered again arrive as a `duplicate` event instead of a second message.
 *
 * @example
 * ```ts
 * const room = createEncryptedChannel({ channel, roomId: "room-7", keyring, device, resolveSender });
 * room.subscribe("chat.message", (event) => {
 *   if (event.type === "message") show(event.messageId, event.value);
 *   else if (event.type === "unable-to-decrypt") showUnableToDecrypt(event.messageId, event.reason);
 * });
 * room.subscribe("typing", (data) => showTyping(data)); // operational: as published
 * await room.publish("chat.message", { body: "hi" });
 * ```
 * @throws TypeError when `channel` lacks `publish` or `subscribe`, `keyring` is not a
 *   `RoomKeyring`, `roomId` is invalid or not the keyring's room, `encryptedEvents` is not an
 *   array of non-empty strings, or `replayGuard` is not a `ReplayGuard`; or `trustStore` is not
 *   a `TrustStore` or is given without `resolveSender`.
 * @throws RangeError when `encryptedEvents` is empty.
 */
export function createEncryptedChannel<const Encrypted extends string = (typeof DEFAULT_ENCRYPTED_EVENTS)[number]>(
  options: EncryptedChannelOptions<Encrypted>,
): EncryptedChannel<Encrypted> {
  const { channel, roomId, keyring, device, resolveSender, onUnableToDecrypt, replayGuard } = options;
  if (typeof channel?.publish !== "function" || typeof channel.subscribe !== "function") {
    throw new TypeError('"channel" expected an object with publish(event, data) and subscribe(event, handler)');
  }
  if (!(keyring instanceof RoomKeyring)) throw new TypeError('"keyring" expected a RoomKeyring');
  if (replayGuard !== undefined && !(replayGuard instanceof ReplayGuard)) throw new TypeError('"replayGuard" expected a ReplayGuard');
  assertId(roomId, "roomId");
  if (roomId !== keyring.roomId) {
    throw new TypeError(`"keyring" is for room "${keyring.roomId}", not the channel's room "${roomId}"`);
  }
  const encryptedEvents = checkEncryptedEvents(options.encryptedEvents ?? (DEFAULT_ENCRYPTED_EVENTS as readonly string[]));
  const requireSignature = options.requireSignature ?? resolveSender !== undefined;
  const senderResolver = trustedResolver(options.trustStore, resolveSender);
  const report = errorReporter(options.onError);
  const isEncrypted = (event: string): event is Encrypted => encryptedEvents.includes(event);

  async function open(event: string, data: unknown, history = false): Promise<EncryptedChannelEvent> {
    const parsed = safeParseEnvelope(data);
    if (!parsed.success) return unableToDecrypt(event, data, parsed.error, undefined);
    const envelope = parsed.data;
    try {
      const message = await keyring.decryptChatMessage(envelope, {
        roomId,
        messageId: envelope.messageId,
        resolveSender: senderResolver,
        requireSignature,
      });
      const { sender } = message;
      if (sender !== null && keyring.isRevoked(sender.userId, sender.deviceId)) {
        const revoked = new E2eeError("DEVICE_REVOKED", `sender "${sender.userId}/${sender.deviceId}" is revoked or removed in this room`);
        return unableToDecrypt(event, data, revoked, envelope);
      }
      if (replayGuard !== undefined) {
        // Recorded only now that it opened and passed every check; the check and the record are
        // one synchronous step, so of two concurrent deliveries exactly one is new.
        const seen = { roomId, keyVersion: message.keyVersion, messageId: envelope.messageId };
        const verdict = replayGuard.record(seen);
        if (verdict !== "new" && !history) {
          return Object.freeze({
            type: "duplicate",
            event,
            messageId: envelope.messageId,
            keyId: message.keyId,
            keyVersion: message.keyVersion,
            sender,
            verdict,
            error: new ReplayedMessageError(seen, verdict),
          });
        }
      }
      return Object.freeze({
        type: "message",
        event,
        value: message.value,
        messageId: envelope.messageId,
        keyId: message.keyId,
        keyVersion: message.keyVersion,
        sender,
      });
    } catch (error) {
      if (E2eeError.isInstance(error)) return unableToDecrypt(event, data, error, envelope);
      throw error;
    }
  }

  return Object.freeze({
    roomId,
    encryptedEvents: Object.freeze([...encryptedEvents]) as readonly Encrypted[],
    isEncrypted,

    async publish(event: string, value: unknown, publishOptions: PublishOptions = {}): Promise<PublishedEvent> {
      if (typeof event !== "string") throw new TypeError(`"event" expected a string, got ${typeof event}`);
      if (!isEncrypted(event)) {
        await channel.publish(event, value);
        return { encrypted: false };
      }
      const messageId = publishOptions.messageId ?? base64urlEncode(randomBytes(16));
      const envelope = await keyring.encryptChatJson(value, { messageId, sender: device });
      await channel.publish(event, envelope);
      return { encrypted: true, messageId, keyId: envelope.keyId, keyVersion: envelope.keyVersion };
    },

    subscribe<Name extends string>(event: Name, handler: (payload: ChannelEventPayload<Name, Encrypted>) => void): () => void {
      if (typeof event !== "string") throw new TypeError(`"event" expected a string, got ${typeof event}`);
      if (typeof handler !== "function") throw new TypeError(`"handler" expected a function, got ${typeof handler}`);
      const deliver = handler as (payload: unknown) => void;
      const encrypted = isEncrypted(event);
      let active = true;
      // Private events are opened one after another, so handlers see them in arrival order.
      let queue: Promise<void> = Promise.resolve();

      const call = (callback: (payload: never) => unknown, payload: unknown, data: unknown): void => {
        try {
          const result = (callback as (payload: unknown) => unknown)(payload);
          if (isThenable(result)) result.then(undefined, (error: unknown) => report(error, { event, data }));
        } catch (error) {
          report(error, { event, data });
        }
      };

      const onData = (data: unknown): void => {
        if (!active) return;
        if (!encrypted) {
          call(deliver, data, data);
          return;
        }
        queue = queue
          .then(async () => {
            if (!active) return;
            const payload = await open(event, data);
            if (!active) return;
            if (payload.type === "unable-to-decrypt" && onUnableToDecrypt !== undefined) call(onUnableToDecrypt, payload, data);
            call(deliver, payload, data);
          })
          .catch((error: unknown) => report(error, { event, data }));
      };

      const unsubscribeTransport = channel.subscribe(event, onData);
      return () => {
        if (!active) return;
        active = false;
        if (typeof unsubscribeTransport === "function") unsubscribeTransport();
      };
    },

    async decrypt(event: string, data: unknown, decryptOptions: ChannelDecryptOptions = {}): Promise<EncryptedChannelEvent> {
      if (typeof event !== "string" || !isEncrypted(event)) {
        throw new TypeError(`"event" expected one of the channel's encrypted event names`);
      }
      return open(event, data, decryptOptions.history === true);
    },
  });
}

/** `resolveSender` checked through the trust store, when the channel has one. */
function trustedResolver(trustStore: TrustStore | undefined, resolveSender: SenderBundleResolver | undefined): SenderBundleResolver | undefined {
  if (trustStore === undefined) return resolveSender;
  if (!(trustStore instanceof TrustStore)) throw new TypeError('"trustStore" expected a TrustStore');
  if (resolveSender === undefined) throw new TypeError('"trustStore" expected "resolveSender" too: it checks the bundles resolveSender finds');
  return trustStore.resolver(resolveSender);
}

function unableToDecrypt(event: string, data: unknown, error: E2eeError, envelope: Envelope | undefined): UnableToDecryptEvent {
  return Object.freeze({
    type: "unable-to-decrypt",
    event,
    reason: error.code,
    error,
    messageId: envelope?.messageId,
    keyId: envelope?.keyId,
    keyVersion: envelope?.keyVersion,
    data,
  });
}

function checkEncryptedEvents(value: readonly string[]): readonly string[] {
  if (!Array.isArray(value) || !value.every((name) => typeof name === "string" && name.length > 0)) {
    throw new TypeError('"encryptedEvents" expected an array of non-empty event names');
  }
  if (value.length === 0) throw new RangeError('"encryptedEvents" expected at least one event name');
  return value;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

type ErrorReporter = (error: unknown, context: { readonly event: string; readonly data: unknown }) => void;

/** `onError`, guarded; without one (or when it throws), the error is rethrown in a new task. */
function errorReporter(onError: EncryptedChannelOptions["onError"]): ErrorReporter {
  const rethrow = (error: unknown): void => {
    setTimeout(() => {
      throw error;
    }, 0);
  };
  if (onError === undefined) return rethrow;
  return (error, context) => {
    try {
      onError(error, context);
    } catch (failure) {
      rethrow(failure);
    }
  };
}
