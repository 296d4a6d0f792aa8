/**
 * Fuzzing the stored states of the trust store (pinned device keys) and the replay guard (opened
 * message ids): their wire readers in `@domvia/e2ee-envelope` and their `importState` in
 * `@domvia/e2ee-room-keys`. Storage is input too: a state may be truncated, edited or planted.
 */
import {
  parseReplayGuardState,
  parseTrustStoreState,
  safeParseReplayGuardState,
  safeParseTrustStoreState,
  type ReplayGuardStateV1,
  type TrustStoreStateV1,
} from "@domvia/e2ee-envelope";
import { ReplayGuard, TrustStore, loadReplayGuard, loadTrustStore } from "@domvia/e2ee-room-keys";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { storableInputs, wireInputs } from "./arbitraries";
import { MESSAGE_ID, ROOM_ID, getWorld, storeHolding, type World } from "./fixtures";
import { fuzz } from "./harness";
import { PARSE_CODES, meaningOf, parserEntry, sortedJson } from "./oracles";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);

let world: World;
let trustState: TrustStoreStateV1;
let replayState: ReplayGuardStateV1;
beforeAll(async () => {
  world = await getWorld();
  const trustStore = TrustStore.create();
  trustStore.check(world.bundle);
  trustStore.check(world.bob.publicBundle);
  trustState = trustStore.exportState();
  const guard = new ReplayGuard();
  guard.accept({ roomId: ROOM_ID, keyVersion: 1, messageId: MESSAGE_ID });
  guard.accept({ roomId: ROOM_ID, keyVersion: 2, messageId: "msg-2" });
  guard.accept({ roomId: "room-7", keyVersion: 5, messageId: MESSAGE_ID });
  replayState = guard.exportState();
});

describe("fuzzing trust store states", () => {
  it("parseTrustStoreState / safeParseTrustStoreState return a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseTrustStoreState / safeParseTrustStoreState", wireInputs(trustState), parseTrustStoreState, safeParseTrustStoreState));
  }, TIMEOUT);

  it("TrustStore.importState restores exactly the stored pins, or throws a documented error", async () => {
    await fuzz<unknown>({
      name: "TrustStore.importState",
      inputs: wireInputs(trustState),
      call: (input) => TrustStore.importState(input),
      codes: PARSE_CODES,
      returned: (store, input) => {
        const meaning = meaningOf(input) as TrustStoreStateV1 | undefined;
        if (meaning === undefined) return;
        const exported = (store as TrustStore).exportState();
        expect(new Set(exported.devices.map(sortedJson))).toEqual(new Set(meaning.devices.map(sortedJson)));
        expect(exported.devices).toHaveLength(meaning.devices.length);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing replay guard states", () => {
  it("parseReplayGuardState / safeParseReplayGuardState return a frozen copy or a typed error", async () => {
    await fuzz(parserEntry("parseReplayGuardState / safeParseReplayGuardState", wireInputs(replayState), parseReplayGuardState, safeParseReplayGuardState));
  }, TIMEOUT);

  it("ReplayGuard.importState / #restore restore exactly the recorded messages, or throw a documented error and keep the old state", async () => {
    const inputs = fc.tuple(wireInputs(replayState), fc.boolean());
    await fuzz<[unknown, boolean]>({
      name: "ReplayGuard.importState / #restore",
      inputs,
      call: ([input, viaRestore]) => {
        if (!viaRestore) return ReplayGuard.importState(input);
        const guard = ReplayGuard.importState(replayState);
        try {
          guard.restore(input);
        } catch (error) {
          // A refused state leaves the guard as it was.
          expect(sortedJson(guard.exportState())).toBe(sortedJson(replayState));
          throw error;
        }
        return guard;
      },
      codes: PARSE_CODES,
      returned: (guard, [input]) => {
        const meaning = meaningOf(input) as ReplayGuardStateV1 | undefined;
        if (meaning === undefined) return;
        // The same messages, oldest first (the order the guard forgets them in), and the same retired versions;
        // rooms may be renumbered (they are listed in order of first appearance).
        const exported = (guard as ReplayGuard).exportState();
        const messages = (state: ReplayGuardStateV1): string[] => state.messages.map(([room, keyVersion, messageId]) => sortedJson([state.rooms[room]!.roomId, keyVersion, messageId]));
        const retired = (state: ReplayGuardStateV1): string => sortedJson(Object.fromEntries(state.rooms.map(({ roomId, retiredThrough }) => [roomId, retiredThrough])));
        expect(messages(exported)).toEqual(messages(meaning));
        expect(retired(exported)).toBe(retired(meaning));
        for (const [room, keyVersion, messageId] of meaning.messages) {
          expect((guard as ReplayGuard).check({ roomId: meaning.rooms[room]!.roomId, keyVersion, messageId })).not.toBe("new");
        }
      },
    });
  }, TIMEOUT);
});

describe("fuzzing stored trust store and replay guard states", () => {
  it("loadTrustStore / loadReplayGuard read what a key store holds, or throw a documented error", async () => {
    const inputs = fc.oneof(
      fc.record({ loader: fc.constant("trust" as const), stored: fc.oneof({ weight: 20, arbitrary: storableInputs(trustState) }, { weight: 1, arbitrary: fc.constant(undefined) }) }),
      fc.record({ loader: fc.constant("replay" as const), stored: fc.oneof({ weight: 20, arbitrary: storableInputs(replayState) }, { weight: 1, arbitrary: fc.constant(undefined) }) }),
    );
    await fuzz({
      name: "loadTrustStore / loadReplayGuard",
      inputs,
      call: ({ loader, stored }) => (loader === "trust" ? loadTrustStore(storeHolding(stored)) : loadReplayGuard(storeHolding(stored))),
      codes: PARSE_CODES,
      returned: (value, { loader, stored }) => {
        if (stored === undefined) {
          expect(value).toBeUndefined();
          return;
        }
        expect(value).toBeInstanceOf(loader === "trust" ? TrustStore : ReplayGuard);
      },
    });
  }, TIMEOUT);
});
