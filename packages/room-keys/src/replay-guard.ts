/**
 * Replay detection (SPEC.md §21): a bounded record of the messages this device has opened, by
 * room, key version and message id, so that the same message delivered again is recognised.
 *
 * Decryption is stateless (SPEC.md §17.6): an envelope opens as often as it is delivered. A
 * guard remembers what opened. Record a message only after it opened and passed every other
 * check, so that a forged message (which does not open) can never take a genuine message's id.
 *
 * @module
 */
import {
  E2eeError,
  REPLAY_GUARD_LIMITS,
  assertId,
  assertKeyVersion,
  parseReplayGuardState,
  type ReplayGuardMessageV1,
  type ReplayGuardRoomV1,
  type ReplayGuardStateV1,
} from "@domvia/e2ee-envelope";
import type { KeyStore } from "./key-store";

/**
 * What a guard knows about a message:
 *
 * - `"new"`: not recorded (for {@link ReplayGuard.record}: recorded by this very call);
 * - `"seen"`: already recorded, a replay or a repeated delivery;
 * - `"retired"`: its key version is older than every version the guard still tracks for the room,
 *   so the guard can no longer tell a new message from a replay and treats it as a replay.
 */
export type ReplayVerdict = "new" | "seen" | "retired";

/** The identity of an opened message, as a guard keys it. */
export interface ReplayGuardMessage {
  /** The room the message arrived in (the channel's, never the envelope's claim alone). */
  readonly roomId: string;
  /** The key version the message was sealed with. */
  readonly keyVersion: number;
  /** The message id bound into the ciphertext. */
  readonly messageId: string;
}

/** How much a {@link ReplayGuard} remembers. */
export interface ReplayGuardLimits {
  /** Messages remembered in all, across rooms; the oldest is forgotten first. 1 to 100,000. */
  readonly maxMessages: number;
  /** Messages remembered per room and key version; the oldest of that version is forgotten first. 1 to 100,000. */
  readonly maxMessagesPerVersion: number;
  /** Key versions tracked per room; beyond it the lowest version is retired. 1 to 1,000. */
  readonly maxVersionsPerRoom: number;
}

/** Options of {@link ReplayGuard}: overrides of {@link DEFAULT_REPLAY_GUARD_LIMITS}. */
export interface ReplayGuardOptions {
  readonly maxMessages?: number | undefined;
  readonly maxMessagesPerVersion?: number | undefined;
  readonly maxVersionsPerRoom?: number | undefined;
}

/**
 * Default limits, frozen.
 *
 * - `maxMessages: 100,000`: the largest a stored state holds (`REPLAY_GUARD_LIMITS`), one
 *   hundred versions at the default rotation of 1,000 messages per version
 *   (`DEFAULT_ROTATION_POLICY`). About 20 MB with 36-character ids; at most about 50 MB when
 *   every room and message id is 128 characters. Lower it on constrained devices.
 * - `maxMessagesPerVersion: 10,000`: ten times the default rotation, so a version that ten
 *   members each used up to their own rotation bound still fits.
 * - `maxVersionsPerRoom: 16`: a message sealed with a version more than 16 rotations old is
 *   refused as `"retired"`; live traffic lags a rotation or two at most.
 */
export const DEFAULT_REPLAY_GUARD_LIMITS: ReplayGuardLimits = Object.freeze({
  maxMessages: 100_000,
  maxMessagesPerVersion: 10_000,
  maxVersionsPerRoom: 16,
});

const LIMIT_CEILINGS: Readonly<Record<keyof ReplayGuardLimits, number>> = Object.freeze({
  maxMessages: REPLAY_GUARD_LIMITS.maxMessages,
  maxMessagesPerVersion: REPLAY_GUARD_LIMITS.maxMessages,
  maxVersionsPerRoom: 1000,
});

function resolveLimits(options: ReplayGuardOptions | undefined): ReplayGuardLimits {
  const limits = { ...DEFAULT_REPLAY_GUARD_LIMITS };
  for (const name of ["maxMessages", "maxMessagesPerVersion", "maxVersionsPerRoom"] as const) {
    const value = options?.[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1 || value > LIMIT_CEILINGS[name]) {
      throw new RangeError(`"${name}" expected an integer from 1 to ${LIMIT_CEILINGS[name]}, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return Object.freeze(limits);
}

/**
 * Thrown with code `REPLAYED_MESSAGE` by {@link ReplayGuard.accept} (and a keyring's decrypt given
 * a `replayGuard`) for a message the guard has already recorded, or one under a retired key
 * version. Carries the message's room, key version and id: public routing facts, never content.
 */
export class ReplayedMessageError extends E2eeError {
  readonly roomId: string;
  readonly keyVersion: number;
  readonly messageId: string;
  /** `"seen"` (recorded before) or `"retired"` (too old to tell; treated as a replay). */
  readonly verdict: "seen" | "retired";
  constructor(message: ReplayGuardMessage, verdict: "seen" | "retired") {
    const { roomId, keyVersion, messageId } = message;
    super(
      "REPLAYED_MESSAGE",
      verdict === "seen"
        ? `message "${messageId}" (room "${roomId}", key version ${keyVersion}) was already opened`
        : `message "${messageId}" (room "${roomId}") uses key version ${keyVersion}, which this replay guard has retired`,
    );
    this.name = "ReplayedMessageError";
    this.roomId = roomId;
    this.keyVersion = keyVersion;
    this.messageId = messageId;
    this.verdict = verdict;
  }
}

/**
 * Entries in the order they were recorded. Removal is lazy: an entry forgotten by another path
 * stays in the array until it reaches the front or the queue is compacted, and is recognised as
 * stale because the guard no longer holds it with the same sequence number. (A `Set` would do in
 * theory, but engines keep deleted slots at its front, so finding its oldest entry slows down.)
 */
class RecordQueue {
  #entries: string[] = [];
  #sequences: number[] = [];
  #head = 0;

  push(entry: string, sequence: number): void {
    this.#entries.push(entry);
    this.#sequences.push(sequence);
  }

  /** Removes and returns the oldest live entry. */
  shift(isLive: (entry: string, sequence: number) => boolean): string | undefined {
    while (this.#head < this.#entries.length) {
      const index = this.#head++;
      const entry = this.#entries[index]!;
      if (isLive(entry, this.#sequences[index]!)) return entry;
    }
    return undefined;
  }

  /** Every live entry, oldest first. */
  *live(isLive: (entry: string, sequence: number) => boolean): Generator<string> {
    for (let index = this.#head; index < this.#entries.length; index++) {
      const entry = this.#entries[index]!;
      if (isLive(entry, this.#sequences[index]!)) yield entry;
    }
  }

  /**
   * Drops stale slots once they outnumber the live entries: called whenever the live count
   * changes, it keeps the queue within 2 × live + 2 slots, and costs O(1) amortised.
   */
  compact(liveCount: number, isLive: (entry: string, sequence: number) => boolean): void {
    // Slots before the head are spent too: they count, or the arrays would only ever grow.
    if (this.#entries.length <= 2 * liveCount + 2) return;
    const entries: string[] = [];
    const sequences: number[] = [];
    for (let index = this.#head; index < this.#entries.length; index++) {
      const entry = this.#entries[index]!;
      const sequence = this.#sequences[index]!;
      if (isLive(entry, sequence)) {
        entries.push(entry);
        sequences.push(sequence);
      }
    }
    this.#entries = entries;
    this.#sequences = sequences;
    this.#head = 0;
  }
}

/** The entries of one room and key version. */
interface VersionRecord {
  readonly queue: RecordQueue;
  /** Live entries in `queue`. */
  size: number;
}

/** A room as the guard tracks it. */
interface RoomRecord {
  /** Versions up to and including this one are retired; 0 when none is. */
  retiredThrough: number;
  /** Tracked versions. */
  readonly versions: Map<number, VersionRecord>;
}

/** One entry's key. Identifiers cannot contain a line feed, so the parts cannot run together. */
const entryKey = (roomId: string, keyVersion: number, messageId: string): string => `${roomId}\n${keyVersion}\n${messageId}`;

function splitEntry(entry: string): { roomId: string; keyVersion: number; messageId: string } {
  const first = entry.indexOf("\n");
  const second = entry.indexOf("\n", first + 1);
  return { roomId: entry.slice(0, first), keyVersion: Number(entry.slice(first + 1, second)), messageId: entry.slice(second + 1) };
}

function checkMessage(message: ReplayGuardMessage): void {
  if (typeof message !== "object" || message === null) {
    throw new TypeError(`"message" expected an object with roomId, keyVersion and messageId, got ${message === null ? "null" : typeof message}`);
  }
  assertId(message.roomId, "roomId");
  assertKeyVersion(message.keyVersion);
  assertId(message.messageId, "messageId");
}

function lowestVersion(room: RoomRecord): number {
  let lowest = Infinity;
  for (const version of room.versions.keys()) if (version < lowest) lowest = version;
  return lowest;
}

/**
 * Remembers which messages this device has opened, by room, key version and message id, within
 * fixed bounds, and answers whether a message is new.
 *
 * `record` checks and records in one synchronous step, so of two deliveries of one message
 * opened concurrently exactly one is `"new"`. Memory is bounded by {@link ReplayGuardLimits}:
 * beyond `maxVersionsPerRoom` a room's lowest version is retired (its messages are refused as
 * `"retired"` from then on); beyond `maxMessagesPerVersion` or `maxMessages` the oldest message
 * is forgotten, and a replay of a forgotten message would count as new (SPEC.md §21.4).
 *
 * The key version is part of the key and the key id is not: an envelope's key id and version are
 * authenticated together with its message id, so a replay carries both unchanged, and two keys
 * of one version (concurrent rotations) share the version's bucket and retire together.
 *
 * @example
 * ```ts
 * const guard = new ReplayGuard();
 * guard.record({ roomId: "room-42", keyVersion: 1, messageId: "msg-1" }); // "new"
 * guard.record({ roomId: "room-42", keyVersion: 1, messageId: "msg-1" }); // "seen"
 * ```
 * @throws RangeError (constructor) for a limit that is not an integer within its range.
 */
export class ReplayGuard {
  /** The frozen limits this guard applies. */
  readonly limits: ReplayGuardLimits;
  #rooms = new Map<string, RoomRecord>();
  /** Every remembered entry (see {@link entryKey}) and the sequence number it was recorded with. */
  #entries = new Map<string, number>();
  /** The same entries, oldest first: the order in which they are forgotten. */
  #order = new RecordQueue();
  #nextSequence = 0;
  readonly #isLive = (entry: string, sequence: number): boolean => this.#entries.get(entry) === sequence;

  constructor(options?: ReplayGuardOptions) {
    this.limits = resolveLimits(options);
  }

  /**
   * A guard holding a stored state (from {@link ReplayGuard.exportState}). Limits lower than
   * the state's contents apply as if its messages were recorded again, oldest first.
   *
   * @example
   * ```ts
   * const guard = ReplayGuard.importState(await store.get("replay-guard"));
   * ```
   * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE` for a state
   *   that is malformed, inconsistent, of another version or too large; RangeError for bad limits.
   */
  static importState(state: unknown, options?: ReplayGuardOptions): ReplayGuard {
    const guard = new ReplayGuard(options);
    guard.restore(state);
    return guard;
  }

  /** How many messages the guard remembers. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * What the guard knows about a message, without recording it.
   *
   * @example
   * ```ts
   * if (guard.check({ roomId, keyVersion, messageId }) !== "new") markAsSeenBefore(messageId);
   * ```
   * @throws TypeError for an invalid room id, key version or message id.
   */
  check(message: ReplayGuardMessage): ReplayVerdict {
    checkMessage(message);
    return this.#verdict(message.roomId, message.keyVersion, entryKey(message.roomId, message.keyVersion, message.messageId));
  }

  /**
   * Checks a message and, when it is new, records it, in one synchronous step. Call it only once
   * the message has opened and passed your other checks (sender, revocation): a message that did
   * not open must never be recorded, or a forgery could claim a genuine message's id.
   *
   * @example
   * ```ts
   * const opened = await keyring.decryptChatMessage(envelope, { roomId, messageId });
   * if (guard.record({ roomId, keyVersion: opened.keyVersion, messageId }) === "new") show(opened.value);
   * ```
   * @returns `"new"` when this call recorded it, otherwise `"seen"` or `"retired"` (nothing changes).
   * @throws TypeError for an invalid room id, key version or message id.
   */
  record(message: ReplayGuardMessage): ReplayVerdict {
    checkMessage(message);
    const { roomId, keyVersion, messageId } = message;
    const entry = entryKey(roomId, keyVersion, messageId);
    const verdict = this.#verdict(roomId, keyVersion, entry);
    if (verdict === "new") this.#insert(roomId, keyVersion, entry);
    return verdict;
  }

  /**
   * {@link ReplayGuard.record}, throwing for a message that is not new.
   *
   * @example
   * ```ts
   * guard.accept({ roomId: "room-42", keyVersion: 1, messageId: "msg-1" }); // recorded
   * guard.accept({ roomId: "room-42", keyVersion: 1, messageId: "msg-1" }); // throws REPLAYED_MESSAGE
   * ```
   * @throws E2eeError `REPLAYED_MESSAGE` (a {@link ReplayedMessageError}) when it was seen or its
   *   version is retired; TypeError for an invalid room id, key version or message id.
   */
  accept(message: ReplayGuardMessage): void {
    const verdict = this.record(message);
    if (verdict !== "new") throw new ReplayedMessageError(message, verdict);
  }

  /**
   * Forgets everything about a room (for example when the device leaves it), retired versions
   * included.
   *
   * @throws TypeError for an invalid room id.
   */
  forgetRoom(roomId: string): void {
    assertId(roomId, "roomId");
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    for (const version of room.versions.values()) for (const entry of version.queue.live(this.#isLive)) this.#entries.delete(entry);
    this.#rooms.delete(roomId);
    this.#order.compact(this.#entries.size, this.#isLive);
  }

  /**
   * The guard's complete state (SPEC.md §21.2), for the device's own storage. Holds no key and
   * no content, only room ids, key versions and message ids: private metadata.
   *
   * @example
   * ```ts
   * await store.set("replay-guard", guard.exportState());
   * ```
   */
  exportState(): ReplayGuardStateV1 {
    const rooms: ReplayGuardRoomV1[] = [];
    const indexes = new Map<string, number>();
    const messages: ReplayGuardMessageV1[] = [];
    for (const entry of this.#order.live(this.#isLive)) {
      const { roomId, keyVersion, messageId } = splitEntry(entry);
      let index = indexes.get(roomId);
      if (index === undefined) {
        index = rooms.length;
        indexes.set(roomId, index);
        rooms.push({ roomId, retiredThrough: this.#rooms.get(roomId)!.retiredThrough });
      }
      messages.push([index, keyVersion, messageId]);
    }
    return { v: 1, type: "replay-guard", rooms, messages };
  }

  /**
   * Replaces everything this guard remembers with a stored state. All or nothing: on any error
   * the guard is left exactly as it was. Limits lower than the state's contents apply as in
   * {@link ReplayGuard.importState}.
   *
   * @example
   * ```ts
   * guard.restore(await store.get("replay-guard"));
   * ```
   * @throws E2eeError `INVALID_ENVELOPE`, `UNSUPPORTED_VERSION` or `PAYLOAD_TOO_LARGE`, as
   *   {@link ReplayGuard.importState}.
   */
  restore(state: unknown): void {
    const parsed = parseReplayGuardState(state);
    const fresh = new ReplayGuard(this.limits);
    for (const room of parsed.rooms) fresh.#rooms.set(room.roomId, { retiredThrough: room.retiredThrough, versions: new Map() });
    for (const [index, keyVersion, messageId] of parsed.messages) {
      const roomId = parsed.rooms[index]!.roomId;
      const entry = entryKey(roomId, keyVersion, messageId);
      // The parser refused duplicates and retired versions; only lower limits can refuse here.
      if (fresh.#verdict(roomId, keyVersion, entry) === "new") fresh.#insert(roomId, keyVersion, entry);
    }
    for (const [roomId, room] of fresh.#rooms) if (room.versions.size === 0) fresh.#rooms.delete(roomId);
    this.#rooms = fresh.#rooms;
    this.#entries = fresh.#entries;
    this.#order = fresh.#order;
    this.#nextSequence = fresh.#nextSequence;
  }

  /** Counts only; never a message id. */
  toString(): string {
    return `ReplayGuard(${this.#entries.size} messages in ${this.#rooms.size} rooms)`;
  }

  /** Counts only; never a message id. */
  toJSON(): { rooms: number; messages: number } {
    return { rooms: this.#rooms.size, messages: this.#entries.size };
  }

  #verdict(roomId: string, keyVersion: number, entry: string): ReplayVerdict {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return "new";
    if (keyVersion <= room.retiredThrough) return "retired";
    if (room.versions.has(keyVersion)) return this.#entries.has(entry) ? "seen" : "new";
    // An untracked version below every tracked one, in a room that tracks all it may: recording
    // it would retire it at once.
    if (room.versions.size >= this.limits.maxVersionsPerRoom && keyVersion < lowestVersion(room)) return "retired";
    return "new";
  }

  /** Records an entry whose verdict is `"new"`, applying the limits first. */
  #insert(roomId: string, keyVersion: number, entry: string): void {
    const { maxMessages, maxMessagesPerVersion, maxVersionsPerRoom } = this.limits;
    const existing = this.#rooms.get(roomId)?.versions.get(keyVersion);
    if (existing !== undefined && existing.size >= maxMessagesPerVersion) this.#forget(existing.queue.shift(this.#isLive)!);
    if (this.#entries.size >= maxMessages) this.#forget(this.#order.shift(this.#isLive)!);
    // Forgetting may have dropped the version or the room, so look them up again.
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      room = { retiredThrough: 0, versions: new Map() };
      this.#rooms.set(roomId, room);
    }
    let version = room.versions.get(keyVersion);
    if (version === undefined) {
      if (room.versions.size >= maxVersionsPerRoom) this.#retire(room, lowestVersion(room));
      version = { queue: new RecordQueue(), size: 0 };
      room.versions.set(keyVersion, version);
    }
    const sequence = this.#nextSequence++;
    this.#entries.set(entry, sequence);
    this.#order.push(entry, sequence);
    this.#order.compact(this.#entries.size, this.#isLive);
    version.queue.push(entry, sequence);
    version.size++;
    version.queue.compact(version.size, this.#isLive);
  }

  /** Retires a room's version: its entries go, and every version up to it is refused from now on. */
  #retire(room: RoomRecord, keyVersion: number): void {
    const version = room.versions.get(keyVersion);
    if (version !== undefined) for (const entry of version.queue.live(this.#isLive)) this.#entries.delete(entry);
    room.versions.delete(keyVersion);
    room.retiredThrough = Math.max(room.retiredThrough, keyVersion);
    this.#order.compact(this.#entries.size, this.#isLive);
  }

  /** Forgets one live entry; a version left empty stops being tracked, and a room left empty goes. */
  #forget(entry: string): void {
    this.#entries.delete(entry);
    const { roomId, keyVersion } = splitEntry(entry);
    const room = this.#rooms.get(roomId);
    const version = room?.versions.get(keyVersion);
    if (room === undefined || version === undefined) return;
    version.size--;
    if (version.size > 0) {
      version.queue.compact(version.size, this.#isLive);
      return;
    }
    room.versions.delete(keyVersion);
    if (room.versions.size === 0) this.#rooms.delete(roomId);
  }
}

const REPLAY_GUARD_KEY = "domvia-e2ee/replay-guard";

/**
 * Saves a replay guard's state in a {@link KeyStore}. Save after recording (for example after
 * each batch of delivered messages, and when the app goes to the background): what was recorded
 * since the last save is forgotten by a reload.
 *
 * @example
 * ```ts
 * await saveReplayGuard(store, guard);
 * ```
 */
export async function saveReplayGuard(store: KeyStore, guard: ReplayGuard): Promise<void> {
  if (!(guard instanceof ReplayGuard)) throw new TypeError('"guard" expected a ReplayGuard');
  await store.set(REPLAY_GUARD_KEY, guard.exportState());
}

/**
 * Loads the saved replay guard, or `undefined` when none is saved.
 *
 * @example
 * ```ts
 * const guard = (await loadReplayGuard(store)) ?? new ReplayGuard();
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` / `PAYLOAD_TOO_LARGE` for a
 *   corrupt stored state; RangeError for bad limits.
 */
export async function loadReplayGuard(store: KeyStore, options?: ReplayGuardOptions): Promise<ReplayGuard | undefined> {
  const state = await store.get(REPLAY_GUARD_KEY);
  return state === undefined ? undefined : ReplayGuard.importState(state, options);
}
