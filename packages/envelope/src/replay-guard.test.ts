import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { E2eeError, UnsupportedVersionError } from "./errors";
import { REPLAY_GUARD_LIMITS, parseReplayGuardState, safeParseReplayGuardState } from "./replay-guard";
import { InvalidEnvelopeError } from "./wire";

const valid = {
  v: 1,
  type: "replay-guard",
  rooms: [
    { roomId: "room-42", retiredThrough: 2 },
    { roomId: "book-club", retiredThrough: 0 },
  ],
  messages: [
    [0, 3, "msg-1"],
    [1, 1, "msg-1"],
    [0, 4, "msg-2"],
  ],
};

/** `valid` with some members replaced. */
const withMembers = (members: Record<string, unknown>): unknown => ({ ...valid, ...members });

function failure(input: unknown): E2eeError {
  const result = safeParseReplayGuardState(input);
  if (result.success) return expect.fail("expected the state to be refused");
  return result.error;
}

describe("replay guard state v1", () => {
  it("reads a valid state, as an object or as JSON text, into a frozen copy", () => {
    const parsed = parseReplayGuardState(valid);
    expect(parsed).toEqual(valid);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(parseReplayGuardState(JSON.stringify(valid))).toEqual(valid);
    expect(parseReplayGuardState({ v: 1, type: "replay-guard", rooms: [], messages: [] }).messages).toEqual([]);
  });

  it("refuses another type, a missing version and an unknown one with their own codes", () => {
    expect(failure(withMembers({ type: "room-keyring" })).code).toBe("INVALID_ENVELOPE");
    expect(failure({ type: "replay-guard", rooms: [], messages: [] }).code).toBe("INVALID_ENVELOPE");
    const unsupported = failure(withMembers({ v: 2 }));
    expect(unsupported).toBeInstanceOf(UnsupportedVersionError);
    expect(unsupported).toMatchObject({ code: "UNSUPPORTED_VERSION", expected: [1], received: 2 });
    expect(failure("{").code).toBe("INVALID_ENVELOPE");
    expect(failure([valid]).code).toBe("INVALID_ENVELOPE");
  });

  it.each([
    ["an unknown member", withMembers({ extra: true }), ""],
    ["an invalid room id", withMembers({ rooms: [{ roomId: "room 42", retiredThrough: 0 }, valid.rooms[1]] }), "rooms.0.roomId"],
    ["a negative retired version", withMembers({ rooms: [{ roomId: "room-42", retiredThrough: -1 }, valid.rooms[1]] }), "rooms.0.retiredThrough"],
    ["a fractional key version", withMembers({ messages: [[0, 1.5, "msg-1"], [1, 1, "msg-1"]] }), "messages.0.1"],
    ["key version 0", withMembers({ messages: [[0, 0, "msg-1"], [1, 1, "msg-1"]] }), "messages.0.1"],
    ["a message of four elements", withMembers({ messages: [[0, 3, "msg-1", 1], [1, 1, "msg-1"]] }), "messages.0"],
    ["a message id of 129 characters", withMembers({ messages: [[0, 3, "m".repeat(129)], [1, 1, "msg-1"]] }), "messages.0.2"],
  ])("refuses %s as INVALID_ENVELOPE, naming where", (_name, input, path) => {
    const error = failure(input);
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect((error as InvalidEnvelopeError).issues.map((issue) => issue.path)).toContain(path);
  });

  it.each([
    ["a room index out of range", withMembers({ messages: [...valid.messages, [2, 1, "msg-3"]] }), "messages.3.0", "unknown_room"],
    ["a room listed twice", withMembers({ rooms: [valid.rooms[0], valid.rooms[0]], messages: [[0, 3, "msg-1"], [1, 4, "msg-2"]] }), "rooms.1.roomId", "duplicate_room"],
    ["a room no message uses", withMembers({ rooms: [...valid.rooms, { roomId: "empty", retiredThrough: 0 }] }), "rooms.2", "unused_room"],
    ["a message recorded twice", withMembers({ messages: [...valid.messages, [0, 3, "msg-1"]] }), "messages.3", "duplicate_message"],
    ["a message under a retired version", withMembers({ messages: [...valid.messages, [0, 2, "msg-0"]] }), "messages.3.1", "retired_version"],
  ])("refuses %s as INVALID_ENVELOPE (an inconsistent state)", (_name, input, path, problem) => {
    const error = failure(input);
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect((error as InvalidEnvelopeError).issues).toContainEqual({ path, problem });
  });

  it("refuses more than 100,000 messages or rooms, and over-long text, as PAYLOAD_TOO_LARGE", () => {
    const messages = Array.from({ length: REPLAY_GUARD_LIMITS.maxMessages + 1 }, (_, index) => [0, 1, `msg-${index}`]);
    expect(failure(withMembers({ rooms: [valid.rooms[1]], messages })).code).toBe("PAYLOAD_TOO_LARGE");
    const rooms = Array.from({ length: REPLAY_GUARD_LIMITS.maxRooms + 1 }, (_, index) => ({ roomId: `room-${index}`, retiredThrough: 0 }));
    expect(failure(withMembers({ rooms })).code).toBe("PAYLOAD_TOO_LARGE");
    const padded = JSON.stringify(valid).replace("{", `{${" ".repeat(REPLAY_GUARD_LIMITS.maxTextLength)}`);
    expect(failure(padded).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("accepts the largest state: 100,000 messages in 100,000 rooms, every id and number at its largest", () => {
    const id = (index: number): string => `${index}`.padStart(128, "x");
    const largest = {
      v: 1,
      type: "replay-guard",
      rooms: Array.from({ length: REPLAY_GUARD_LIMITS.maxRooms }, (_, index) => ({ roomId: id(index), retiredThrough: 2_147_483_646 })),
      messages: Array.from({ length: REPLAY_GUARD_LIMITS.maxMessages }, (_, index) => [index, 2_147_483_647, id(index)]),
    };
    const text = JSON.stringify(largest);
    expect(text.length).toBeLessThanOrEqual(REPLAY_GUARD_LIMITS.maxTextLength);
    expect(parseReplayGuardState(text).messages).toHaveLength(REPLAY_GUARD_LIMITS.maxMessages);
  });

  it("never throws and never returns anything but a typed error for arbitrary input", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = safeParseReplayGuardState(value);
        if (!result.success) expect(E2eeError.isInstance(result.error)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 5 }), fc.string({ maxLength: 8 }), (room, keyVersion, messageId) => {
        const result = safeParseReplayGuardState(withMembers({ messages: [...valid.messages, [room, keyVersion, messageId]] }));
        if (!result.success) expect(result.error.code).toBe("INVALID_ENVELOPE");
      }),
    );
  });
});
