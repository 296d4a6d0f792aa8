/**
 * The stored state of a replay guard (SPEC.md §21): which messages a device has already opened,
 * by room, key version and message id. Versioned and validated like wire objects, because
 * storage is input too (a restored file, an older app version, a modified disk).
 *
 * Not secret (it holds no key and no plaintext), but private metadata: it says which messages
 * the device read in which rooms. Keep it with the device's other local state.
 *
 * @module
 */
import * as z from "zod/mini";
import { idSchema, keyVersionSchema, lazySchema } from "./schema-fields";
import { InvalidEnvelopeError, safeParseWire, type SafeParseResult, type WireIssue, type WireSpec } from "./wire";

/**
 * Bounds of a stored replay guard state, frozen.
 *
 * - `maxMessages`: 100,000 recorded messages, one hundred key versions at the default rotation
 *   of 1,000 messages per version; also the largest cap a guard may be configured with, so
 *   every guard's state can be stored.
 * - `maxRooms`: every listed room holds at least one message, so never more rooms than messages.
 * - `maxTextLength`: 32 MiB of JSON text. The largest compact state (100,000 rooms and
 *   100,000 messages, every id 128 characters, every number at its largest) is 32,000,040
 *   characters.
 */
export const REPLAY_GUARD_LIMITS: Readonly<{ maxMessages: number; maxRooms: number; maxTextLength: number }> = Object.freeze({
  maxMessages: 100_000,
  maxRooms: 100_000,
  maxTextLength: 32 * 1024 * 1024,
});

/** One room of a replay guard state. */
export interface ReplayGuardRoomV1 {
  /** The room. Listed once. */
  readonly roomId: string;
  /**
   * Every key version up to and including this one is retired in the room: a message under it is
   * refused as a possible replay. `0` when no version is retired.
   */
  readonly retiredThrough: number;
}

/**
 * One recorded message: `[room, keyVersion, messageId]`, where `room` is an index into
 * {@link ReplayGuardStateV1.rooms}. A three-element array keeps 100,000 entries compact.
 */
export type ReplayGuardMessageV1 = readonly [room: number, keyVersion: number, messageId: string];

/** A replay guard's complete state, as `ReplayGuard.exportState()` returns it. */
export interface ReplayGuardStateV1 {
  /** Format version: the literal `1`. */
  readonly v: 1;
  /** Object type: the literal `"replay-guard"`. */
  readonly type: "replay-guard";
  /** Every room with at least one recorded message, in order of first appearance in `messages`. */
  readonly rooms: readonly ReplayGuardRoomV1[];
  /** Every recorded message, oldest first: the order in which the guard forgets them. */
  readonly messages: readonly ReplayGuardMessageV1[];
}

const stateSchemaV1 = lazySchema(
  () =>
    z.strictObject({
      v: z.literal(1),
      type: z.literal("replay-guard"),
      rooms: z
        .array(
          z.strictObject({
            roomId: idSchema(),
            retiredThrough: z.union([z.literal(0), keyVersionSchema()]),
          }),
        )
        .check(z.maxLength(REPLAY_GUARD_LIMITS.maxRooms, { abort: true })),
      messages: z
        .array(
          z.tuple([z.int().check(z.minimum(0), z.maximum(REPLAY_GUARD_LIMITS.maxRooms - 1)), keyVersionSchema(), idSchema()]),
        )
        .check(z.maxLength(REPLAY_GUARD_LIMITS.maxMessages, { abort: true })),
    }) as unknown as z.ZodMiniType<ReplayGuardStateV1>,
);

const stateSpec: WireSpec<ReplayGuardStateV1> = {
  name: "replay guard state",
  type: "replay-guard",
  versions: [1],
  maxTextLength: REPLAY_GUARD_LIMITS.maxTextLength,
  schema: stateSchemaV1,
  oversizedPaths: ["rooms", "messages"],
};

/**
 * The rules a schema cannot express (SPEC.md §21.2): room ids listed once, every room index in
 * range, every room used, no message recorded twice, none under a retired version.
 */
function consistencyIssues(state: ReplayGuardStateV1): WireIssue[] {
  const issues: WireIssue[] = [];
  const roomIndex = new Set<string>();
  state.rooms.forEach((room, index) => {
    if (roomIndex.has(room.roomId)) issues.push({ path: `rooms.${index}.roomId`, problem: "duplicate_room" });
    roomIndex.add(room.roomId);
  });
  const used = new Set<number>();
  const seen = new Set<string>();
  state.messages.forEach(([room, keyVersion, messageId], index) => {
    const listed = state.rooms[room];
    if (listed === undefined) {
      issues.push({ path: `messages.${index}.0`, problem: "unknown_room" });
      return;
    }
    used.add(room);
    if (keyVersion <= listed.retiredThrough) issues.push({ path: `messages.${index}.1`, problem: "retired_version" });
    const key = `${room}\n${keyVersion}\n${messageId}`;
    if (seen.has(key)) issues.push({ path: `messages.${index}`, problem: "duplicate_message" });
    seen.add(key);
  });
  state.rooms.forEach((_room, index) => {
    if (!used.has(index)) issues.push({ path: `rooms.${index}`, problem: "unused_room" });
  });
  return issues;
}

/**
 * Reads a stored replay guard state (an object or its JSON text). Never throws; returns a frozen
 * copy or the typed error.
 *
 * @example
 * ```ts
 * const result = safeParseReplayGuardState(stored);
 * if (!result.success) startAfresh(result.error.code);
 * ```
 */
export function safeParseReplayGuardState(input: unknown): SafeParseResult<ReplayGuardStateV1> {
  const result = safeParseWire(input, stateSpec);
  if (!result.success) return result;
  const issues = consistencyIssues(result.data);
  if (issues.length === 0) return result;
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return {
    success: false,
    error: new InvalidEnvelopeError("INVALID_ENVELOPE", `invalid ${stateSpec.name}: ${first.path}: ${first.problem}${more}`, issues),
  };
}

/**
 * Validates a stored replay guard state and returns a frozen copy.
 *
 * @example
 * ```ts
 * const state = parseReplayGuardState(await store.get("domvia-e2ee/replay-guard"));
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` (malformed or inconsistent), `UNSUPPORTED_VERSION`, or
 *   `PAYLOAD_TOO_LARGE` (text over 32 MiB, more than 100,000 rooms or messages).
 */
export function parseReplayGuardState(input: unknown): ReplayGuardStateV1 {
  const result = safeParseReplayGuardState(input);
  if (!result.success) throw result.error;
  return result.data;
}
