import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { E2eeError, REPLAY_GUARD_LIMITS } from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_REPLAY_GUARD_LIMITS,
  MemoryKeyStore,
  ReplayGuard,
  ReplayedMessageError,
  RoomKeyring,
  loadReplayGuard,
  saveReplayGuard,
  type ReplayGuardMessage,
} from "./index";

const message = (messageId: string, keyVersion = 1, roomId = "room-42"): ReplayGuardMessage => ({ roomId, keyVersion, messageId });

/** The stored state as text: equal text means an identical guard, down to the order it forgets in. */
const stateText = (guard: ReplayGuard): string => JSON.stringify(guard.exportState());

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return expect.fail("expected a failure");
}

/** A copy of an envelope whose ciphertext no longer opens. */
function tampered(envelope: object): object {
  const { ciphertext } = envelope as { ciphertext: string };
  return { ...envelope, ciphertext: (ciphertext[0] === "A" ? "B" : "A") + ciphertext.slice(1) };
}

describe("ReplayGuard", () => {
  describe("recording", () => {
    it("answers new once, then seen, and records nothing on a plain check", () => {
      const guard = new ReplayGuard();
      expect(guard.check(message("msg-1"))).toBe("new");
      expect(guard.size).toBe(0);
      expect(guard.record(message("msg-1"))).toBe("new");
      expect(guard.record(message("msg-1"))).toBe("seen");
      expect(guard.check(message("msg-1"))).toBe("seen");
      expect(guard.size).toBe(1);
    });

    it("reports a message already recorded with REPLAYED_MESSAGE, carrying room, key version and message id", () => {
      const guard = new ReplayGuard();
      guard.accept(message("msg-1", 3));
      const error = thrown(() => guard.accept(message("msg-1", 3)));
      expect(E2eeError.isInstance(error, "REPLAYED_MESSAGE")).toBe(true);
      expect(error).toBeInstanceOf(ReplayedMessageError);
      expect(error).toMatchObject({ roomId: "room-42", keyVersion: 3, messageId: "msg-1", verdict: "seen" });
    });

    it("does not take the same message id in another room or under another key version as a replay", () => {
      const guard = new ReplayGuard();
      guard.accept(message("msg-1", 1, "room-42"));
      expect(guard.record(message("msg-1", 1, "book-club"))).toBe("new");
      expect(guard.record(message("msg-1", 2, "room-42"))).toBe("new");
      expect(guard.size).toBe(3);
    });

    it("refuses invalid ids and key versions as programming errors, recording nothing", () => {
      const guard = new ReplayGuard();
      expect(() => guard.record(message("msg 1"))).toThrow(TypeError);
      expect(() => guard.record(message("msg-1", 0))).toThrow(TypeError);
      expect(() => guard.record(message("msg-1", 2 ** 31))).toThrow(TypeError);
      expect(() => guard.record(message("msg-1", 1, "r".repeat(129)))).toThrow(TypeError);
      expect(() => guard.check(null as unknown as ReplayGuardMessage)).toThrow(TypeError);
      expect(guard.size).toBe(0);
    });

    it("checks and records in one step: of concurrent deliveries of one message exactly one is new", async () => {
      const guard = new ReplayGuard();
      const deliveries = Array.from({ length: 50 }, async (_, index) => {
        // Each delivery finishes "decrypting" at a different moment, as concurrent opens do.
        for (let step = 0; step < index % 7; step++) await Promise.resolve();
        return guard.record(message("msg-1"));
      });
      const verdicts = await Promise.all(deliveries);
      expect(verdicts.filter((verdict) => verdict === "new")).toHaveLength(1);
      expect(verdicts.filter((verdict) => verdict === "seen")).toHaveLength(49);
    });

    it("forgets a room on request, and only that room", () => {
      const guard = new ReplayGuard();
      guard.accept(message("msg-1", 1, "room-42"));
      guard.accept(message("msg-1", 1, "book-club"));
      guard.forgetRoom("room-42");
      guard.forgetRoom("never-seen");
      expect(guard.check(message("msg-1", 1, "room-42"))).toBe("new");
      expect(guard.check(message("msg-1", 1, "book-club"))).toBe("seen");
      expect(guard.size).toBe(1);
    });

    it("shows counts only in JSON and strings, never a message id", () => {
      const guard = new ReplayGuard();
      guard.accept(message("secret-looking-id"));
      expect(JSON.stringify(guard)).toBe('{"rooms":1,"messages":1}');
      expect(String(guard)).toBe("ReplayGuard(1 messages in 1 rooms)");
      expect(JSON.stringify(guard)).not.toContain("secret-looking-id");
    });
  });

  describe("limits", () => {
    it("has frozen defaults and refuses limits outside their range", () => {
      expect(Object.isFrozen(DEFAULT_REPLAY_GUARD_LIMITS)).toBe(true);
      expect(new ReplayGuard().limits).toEqual({ maxMessages: 100_000, maxMessagesPerVersion: 10_000, maxVersionsPerRoom: 16 });
      expect(new ReplayGuard({ maxVersionsPerRoom: 4, maxMessages: undefined }).limits.maxVersionsPerRoom).toBe(4);
      for (const options of [
        { maxMessages: 0 },
        { maxMessages: REPLAY_GUARD_LIMITS.maxMessages + 1 },
        { maxMessagesPerVersion: 1.5 },
        { maxVersionsPerRoom: 1001 },
        { maxVersionsPerRoom: Number.NaN },
      ]) {
        expect(() => new ReplayGuard(options)).toThrow(RangeError);
      }
    });

    it("retires a room's lowest version beyond maxVersionsPerRoom, and refuses everything under it from then on", () => {
      const guard = new ReplayGuard({ maxVersionsPerRoom: 2 });
      guard.accept(message("msg-1", 1));
      guard.accept(message("msg-2", 2));
      guard.accept(message("msg-3", 3)); // version 1 retires
      expect(guard.check(message("msg-1", 1))).toBe("retired");
      expect(guard.check(message("msg-9", 1))).toBe("retired");
      expect(guard.check(message("msg-2", 2))).toBe("seen");
      const error = thrown(() => guard.accept(message("msg-1", 1)));
      expect(error).toMatchObject({ code: "REPLAYED_MESSAGE", verdict: "retired", keyVersion: 1 });
      expect(guard.size).toBe(2);
      // Other rooms keep their own versions.
      expect(guard.record(message("msg-1", 1, "book-club"))).toBe("new");
    });

    it("refuses a version below every tracked one in a full room, changing nothing", () => {
      const guard = new ReplayGuard({ maxVersionsPerRoom: 2 });
      guard.accept(message("msg-5", 5));
      guard.accept(message("msg-7", 7));
      const before = stateText(guard);
      expect(guard.record(message("msg-4", 4))).toBe("retired");
      expect(stateText(guard)).toBe(before);
      expect(guard.record(message("msg-6", 6))).toBe("new"); // between: version 5 retires instead
      expect(guard.check(message("msg-5", 5))).toBe("retired");
    });

    it("forgets the oldest message of a version beyond maxMessagesPerVersion, and of all beyond maxMessages", () => {
      const perVersion = new ReplayGuard({ maxMessagesPerVersion: 3 });
      for (const id of ["a", "b", "c", "d"]) perVersion.accept(message(id));
      perVersion.accept(message("a", 2));
      expect(["a", "b", "c", "d"].map((id) => perVersion.check(message(id)))).toEqual(["new", "seen", "seen", "seen"]);
      expect(perVersion.check(message("a", 2))).toBe("seen");

      const total = new ReplayGuard({ maxMessages: 3 });
      total.accept(message("a", 1, "room-1"));
      total.accept(message("b", 1, "room-2"));
      total.accept(message("c", 1, "room-1"));
      total.accept(message("d", 1, "room-3"));
      expect(total.check(message("a", 1, "room-1"))).toBe("new");
      expect(total.toJSON()).toEqual({ rooms: 3, messages: 3 });
      total.accept(message("e", 1, "room-3"));
      expect(total.toJSON()).toEqual({ rooms: 2, messages: 3 }); // room-2 emptied and dropped
    });

    it("stays within its cap under 150,000 inserts across rooms and versions", () => {
      const guard = new ReplayGuard();
      for (let index = 0; index < 150_000; index++) {
        guard.record(message(`msg-${index}`, 1 + Math.floor(index / 20_000), `room-${index % 500}`));
        if (index % 10_000 === 0) expect(guard.size).toBeLessThanOrEqual(DEFAULT_REPLAY_GUARD_LIMITS.maxMessages);
      }
      expect(guard.size).toBe(DEFAULT_REPLAY_GUARD_LIMITS.maxMessages);
      expect(guard.toJSON().rooms).toBeLessThanOrEqual(500);
      expect(guard.check(message("msg-149999", 8, "room-499"))).toBe("seen");
      expect(guard.check(message("msg-0", 1, "room-0"))).toBe("new"); // forgotten: the oldest went first
      expect(guard.exportState().messages).toHaveLength(DEFAULT_REPLAY_GUARD_LIMITS.maxMessages);
    }, 30_000);

    it("does not grow in memory once full", () => {
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as () => void;
      const guard = new ReplayGuard({ maxMessages: 10_000 });
      let next = 0;
      const insert = (count: number): void => {
        for (const end = next + count; next < end; next++) guard.record(message(`msg-${next}`.padEnd(64, "x"), 1 + (next % 8), `room-${next % 1000}`));
      };
      insert(50_000); // full, and forgetting as fast as it records
      gc();
      const full = process.memoryUsage().heapUsed;
      insert(200_000);
      gc();
      const after = process.memoryUsage().heapUsed;
      expect(guard.size).toBe(10_000);
      // A leak of one 64-character id per insert would show as well over 20 MB.
      expect(after - full).toBeLessThan(4 * 1024 * 1024);
    }, 30_000);
  });

  it("keeps its limits, never calls a message seen that it did not record, and round-trips, whatever the traffic", () => {
    const arbitraryMessage = fc.record({
      roomId: fc.constantFrom("room-1", "room-2", "room-3"),
      keyVersion: fc.integer({ min: 1, max: 8 }),
      messageId: fc.constantFrom("a", "b", "c", "d", "e", "f"),
    });
    const limits = fc.record({
      maxMessages: fc.integer({ min: 1, max: 12 }),
      maxMessagesPerVersion: fc.integer({ min: 1, max: 4 }),
      maxVersionsPerRoom: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(limits, fc.array(arbitraryMessage, { maxLength: 80 }), (options, traffic) => {
        const guard = new ReplayGuard(options);
        const recorded = new Set<string>();
        for (const item of traffic) {
          const key = `${item.roomId}/${item.keyVersion}/${item.messageId}`;
          const verdict = guard.record(item);
          if (verdict === "seen") expect(recorded.has(key)).toBe(true);
          if (verdict === "new") {
            recorded.add(key);
            expect(guard.check(item)).toBe("seen");
          }
          const state = guard.exportState();
          expect(state.messages.length).toBeLessThanOrEqual(options.maxMessages);
          const perVersion = new Map<string, number>();
          const versionsPerRoom = new Map<number, Set<number>>();
          for (const [room, keyVersion] of state.messages) {
            perVersion.set(`${room}/${keyVersion}`, (perVersion.get(`${room}/${keyVersion}`) ?? 0) + 1);
            versionsPerRoom.set(room, (versionsPerRoom.get(room) ?? new Set()).add(keyVersion));
          }
          for (const count of perVersion.values()) expect(count).toBeLessThanOrEqual(options.maxMessagesPerVersion);
          for (const versions of versionsPerRoom.values()) expect(versions.size).toBeLessThanOrEqual(options.maxVersionsPerRoom);
        }
        const text = stateText(guard);
        expect(stateText(ReplayGuard.importState(text, options))).toBe(text);
      }),
    );
  });

  describe("persistence", () => {
    function busyGuard(options?: ConstructorParameters<typeof ReplayGuard>[0]): ReplayGuard {
      const guard = new ReplayGuard({ maxVersionsPerRoom: 3, ...options });
      for (let version = 1; version <= 5; version++) {
        for (const roomId of ["room-42", "book-club"]) guard.accept(message(`msg-${version}`, version, roomId));
      }
      return guard;
    }

    it("round-trips exactly: seen messages, retired versions and the order in which it forgets", () => {
      const guard = busyGuard();
      const state = guard.exportState();
      expect(state.rooms).toEqual([
        { roomId: "room-42", retiredThrough: 2 },
        { roomId: "book-club", retiredThrough: 2 },
      ]);
      expect(state.messages.slice(0, 2)).toEqual([
        [0, 3, "msg-3"],
        [1, 3, "msg-3"],
      ]);
      const again = ReplayGuard.importState(JSON.parse(JSON.stringify(state)), { maxVersionsPerRoom: 3 });
      expect(stateText(again)).toBe(stateText(guard));
      expect(again.check(message("msg-4", 4))).toBe("seen");
      expect(again.check(message("msg-1", 1))).toBe("retired");
      expect(ReplayGuard.importState(JSON.stringify(state), { maxVersionsPerRoom: 3 }).size).toBe(6);
    });

    it("writes the example state of SPEC.md §21.2 byte for byte, and reads it back as the spec says", () => {
      const guard = new ReplayGuard({ maxVersionsPerRoom: 2 });
      guard.accept(message("msg-1", 1, "room-42"));
      guard.accept(message("msg-2", 2, "room-42"));
      guard.accept(message("msg-1", 1, "book-club"));
      guard.accept(message("msg-3", 3, "room-42"));
      const text = stateText(guard);
      const spec = readFileSync(new URL("../../../SPEC.md", import.meta.url), "utf8");
      const section = spec.slice(spec.indexOf("### 21.2"), spec.indexOf("### 21.3"));
      expect(section).toContain(`\n${text}\n`);
      expect(section).toContain(`its state is these ${new TextEncoder().encode(text).length} bytes`);
      const read = ReplayGuard.importState(text, { maxVersionsPerRoom: 2 });
      expect(read.check(message("msg-9", 1, "room-42"))).toBe("retired");
      expect(read.check(message("msg-1", 1, "book-club"))).toBe("seen");
      expect(read.check(message("msg-1", 2, "book-club"))).toBe("new");
    });

    it("saves to and loads from a KeyStore; a replay after the reload is still detected", async () => {
      const store = new MemoryKeyStore();
      expect(await loadReplayGuard(store)).toBeUndefined();
      const guard = busyGuard();
      await saveReplayGuard(store, guard);
      const reloaded = await loadReplayGuard(store, { maxVersionsPerRoom: 3 });
      expect(reloaded?.record(message("msg-5", 5, "book-club"))).toBe("seen");
      expect(reloaded?.record(message("msg-1", 1, "book-club"))).toBe("retired");
      expect(reloaded?.record(message("msg-6", 5, "book-club"))).toBe("new");
      await expect(saveReplayGuard(store, {} as ReplayGuard)).rejects.toThrow(TypeError);
    });

    it("applies lower limits to a loaded state as if its messages were recorded again", () => {
      const state = busyGuard().exportState();
      const small = ReplayGuard.importState(state, { maxMessages: 2, maxVersionsPerRoom: 3 });
      expect(small.size).toBe(2);
      expect(small.check(message("msg-5", 5, "room-42"))).toBe("seen");
      expect(small.check(message("msg-5", 5, "book-club"))).toBe("seen");
      const fewerVersions = ReplayGuard.importState(state, { maxVersionsPerRoom: 1 });
      expect(fewerVersions.check(message("msg-4", 4))).toBe("retired");
      expect(fewerVersions.check(message("msg-5", 5))).toBe("seen");
    });

    it.each([
      ["another version", (state: Record<string, unknown>) => ({ ...state, v: 2 }), "UNSUPPORTED_VERSION"],
      ["a message recorded twice", (state: Record<string, unknown>) => ({ ...state, messages: [...(state["messages"] as unknown[]), [0, 5, "msg-5"]] }), "INVALID_ENVELOPE"],
      ["a room index out of range", (state: Record<string, unknown>) => ({ ...state, messages: [[7, 5, "msg-9"]] }), "INVALID_ENVELOPE"],
      ["a message under a retired version", (state: Record<string, unknown>) => ({ ...state, messages: [...(state["messages"] as unknown[]), [0, 1, "msg-9"]] }), "INVALID_ENVELOPE"],
      ["an unknown member", (state: Record<string, unknown>) => ({ ...state, extra: 1 }), "INVALID_ENVELOPE"],
      ["text that is not JSON", (state: Record<string, unknown>) => JSON.stringify(state).slice(0, -1), "INVALID_ENVELOPE"],
      ["text over 32 MiB", (state: Record<string, unknown>) => `${" ".repeat(REPLAY_GUARD_LIMITS.maxTextLength)}${JSON.stringify(state)}`, "PAYLOAD_TOO_LARGE"],
      [
        "more than 100,000 messages",
        (state: Record<string, unknown>) => ({ ...state, messages: Array.from({ length: 100_001 }, (_, index) => [0, 5, `m-${index}`]) }),
        "PAYLOAD_TOO_LARGE",
      ],
    ])("refuses a stored state with %s, with a typed error, leaving the guard unchanged", (_name, alter, code) => {
      const guard = busyGuard();
      guard.accept(message("kept", 5, "elsewhere"));
      const before = stateText(guard);
      const altered = alter(JSON.parse(before) as Record<string, unknown>);
      const error = thrown(() => guard.restore(altered));
      expect(E2eeError.isInstance(error, code as "INVALID_ENVELOPE")).toBe(true);
      expect(stateText(guard)).toBe(before);
      expect(guard.check(message("kept", 5, "elsewhere"))).toBe("seen");
      expect(() => ReplayGuard.importState(altered)).toThrow(E2eeError);
    });

    it("replaces what it remembered when a valid state is restored", () => {
      const guard = new ReplayGuard();
      guard.accept(message("before", 1, "lounge"));
      guard.restore(busyGuard().exportState());
      expect(guard.check(message("before", 1, "lounge"))).toBe("new");
      expect(guard.check(message("msg-5", 5))).toBe("seen");
    });
  });

  describe("with a keyring", () => {
    it("refuses a second opening of one message with REPLAYED_MESSAGE; without the guard it opens again", async () => {
      const keyring = RoomKeyring.create({ roomId: "room-42" });
      const guard = new ReplayGuard();
      const envelope = await keyring.encryptChatJson({ body: "hi" }, { messageId: "msg-1" });
      const context = { roomId: "room-42", messageId: "msg-1", replayGuard: guard };
      expect(await keyring.decryptChatJson(envelope, context)).toEqual({ body: "hi" });
      const error = await keyring.decryptChatJson(envelope, context).catch((failure: unknown) => failure);
      expect(error).toMatchObject({ code: "REPLAYED_MESSAGE", roomId: "room-42", keyVersion: 1, messageId: "msg-1" });
      // Reading history again: leave the guard out.
      expect(await keyring.decryptChatJson(envelope, { roomId: "room-42", messageId: "msg-1" })).toEqual({ body: "hi" });
    });

    it("does not let a forged message with a fresh id claim that id before the genuine one", async () => {
      const keyring = RoomKeyring.create({ roomId: "room-42" });
      const guard = new ReplayGuard();
      const genuine = await keyring.encryptChatJson({ body: "real" }, { messageId: "msg-2" });
      const forged = tampered(genuine);
      const context = { roomId: "room-42", messageId: "msg-2", replayGuard: guard };
      await expect(keyring.decryptChatJson(forged, context)).rejects.toMatchObject({ code: "DECRYPTION_FAILED" });
      await expect(keyring.decryptChatJson({ v: 1 }, context)).rejects.toMatchObject({ code: "INVALID_ENVELOPE" });
      expect(guard.size).toBe(0);
      expect(await keyring.decryptChatJson(genuine, context)).toEqual({ body: "real" });
    });

    it("lets exactly one of two concurrent openings of one message through", async () => {
      const keyring = RoomKeyring.create({ roomId: "room-42" });
      const guard = new ReplayGuard();
      const envelope = await keyring.encryptChatJson({ body: "once" }, { messageId: "msg-3" });
      const context = { roomId: "room-42", messageId: "msg-3", replayGuard: guard };
      const results = await Promise.allSettled([keyring.decryptChatJson(envelope, context), keyring.decryptChatJson(envelope, context)]);
      expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
      const rejected = results.find((result) => result.status === "rejected");
      expect(E2eeError.isInstance(rejected?.reason, "REPLAYED_MESSAGE")).toBe(true);
    });

    it("refuses a replayGuard that is not a ReplayGuard", async () => {
      const keyring = RoomKeyring.create({ roomId: "room-42" });
      const envelope = await keyring.encryptChatJson({ body: "hi" }, { messageId: "msg-1" });
      await expect(
        keyring.decryptChatJson(envelope, { roomId: "room-42", messageId: "msg-1", replayGuard: { record: () => "new" } as unknown as ReplayGuard }),
      ).rejects.toThrow(TypeError);
    });
  });
});
