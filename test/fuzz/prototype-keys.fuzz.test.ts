/**
 * `__proto__`, `constructor` and `prototype` stay inert everywhere: as member names in decrypted
 * chat JSON they come back as the sender's own members (never a prototype, never a change to
 * `Object.prototype`); as member names in wire objects they are unknown members, refused; as
 * identifier values (all three are valid ids) they are rooms, devices and keys like any other;
 * and a key store keeps them as members.
 */
import {
  parseDeviceBundle,
  parseDeviceIdentityState,
  parseEnvelope,
  parseKeyBackup,
  parseKeyBackupPayload,
  parseKeyringState,
  parseProtectedRecoveryKey,
  parseReplayGuardState,
  parseRoomKeyShare,
  parseTrustStoreState,
} from "@domvia/e2ee-envelope";
import { createDeviceIdentity, decryptChatJson, encryptChatJson, verifyDeviceBundle, type JsonValue } from "@domvia/e2ee-crypto";
import { MemoryKeyStore, ReplayGuard, RoomKeyring, TrustStore, createKeyBackup, restoreKeyBackup } from "@domvia/e2ee-room-keys";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TRICKY_IDS, setOwn } from "./arbitraries";
import { MESSAGE_ID, ROOM_ID, getWorld, type World } from "./fixtures";
import { fuzz, prototypeFingerprint } from "./harness";
import { stringify } from "./json";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);
const PROTOTYPE_KEYS = ["__proto__", "constructor", "prototype"] as const;

let world: World;
beforeAll(async () => {
  world = await getWorld();
});

/**
 * JSON values whose objects often carry `__proto__`, `constructor` or `prototype` members,
 * built as JSON.parse builds them: own data properties.
 */
const withPrototypeKeys: fc.Arbitrary<JsonValue> = fc
  .tuple(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 }), fc.nat()), { minLength: 1, maxLength: 4 }))
  .map(([value, injections]) => {
    let root: unknown = typeof value === "object" && value !== null ? value : { value };
    const objects: Record<string, unknown>[] = [];
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (typeof node === "object" && node !== null) {
        objects.push(node as Record<string, unknown>);
        Object.values(node).forEach(collect);
      }
    };
    collect(root);
    if (objects.length === 0) root = { list: root };
    if (objects.length === 0) objects.push(root as Record<string, unknown>);
    for (const [key, member, at] of injections) setOwn(objects[at % objects.length]!, key, member);
    return root as JsonValue;
  });

/** Every object in `value` has the ordinary prototype, and its members are its own. */
function expectOrdinaryObjects(value: unknown): void {
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    expect(Object.getPrototypeOf(node)).toBe(Array.isArray(node) ? Array.prototype : Object.prototype);
    for (const key of Object.keys(node)) stack.push((node as Record<string, unknown>)[key]);
  }
}

describe("prototype keys in decrypted chat JSON", () => {
  it("come back as the sender's own members: no prototype set, Object.prototype untouched", async () => {
    await fuzz<[JsonValue, boolean]>({
      name: "decryptChatJson: __proto__ / constructor / prototype members",
      inputs: fc.tuple(withPrototypeKeys, fc.boolean()),
      call: async ([value, asText]) => {
        const envelope = await encryptChatJson(value, world.roomKey, { roomId: ROOM_ID, messageId: MESSAGE_ID, keyId: world.keyId, keyVersion: world.keyVersion });
        return decryptChatJson(asText ? stringify(envelope) : envelope, world.roomKey, { roomId: ROOM_ID, messageId: MESSAGE_ID });
      },
      codes: [],
      returned: (opened, [value]) => {
        // Same members, own and in order, `__proto__` included (JSON.stringify lists own members only).
        expect(stringify(opened)).toBe(stringify(value));
        expectOrdinaryObjects(opened);
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
        expect({}.constructor).toBe(Object);
        if (typeof opened === "object" && opened !== null && !Array.isArray(opened)) {
          const own = Object.hasOwn(opened, "constructor");
          expect(opened.constructor === Object).toBe(!own);
          if (own) expect(stringify(opened.constructor)).toBe(stringify((value as Record<string, unknown>)["constructor"]));
        }
      },
    });
  }, TIMEOUT);

  it("holds for the classic payloads, parsed or built, at the top and nested", async () => {
    const before = prototypeFingerprint();
    for (const text of [
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '{"a":[{"__proto__":{"polluted":true}}],"b":{"constructor":{"prototype":{"polluted":true}}}}',
      '{"__proto__":null}',
      '{"prototype":{"toString":1},"__proto__":[]}',
    ]) {
      const value = JSON.parse(text) as JsonValue;
      const envelope = await encryptChatJson(value, world.roomKey, { roomId: ROOM_ID, messageId: MESSAGE_ID, keyId: world.keyId, keyVersion: world.keyVersion });
      const opened = (await decryptChatJson(stringify(envelope), world.roomKey, { roomId: ROOM_ID, messageId: MESSAGE_ID })) as Record<string, unknown>;
      expect(stringify(opened)).toBe(text);
      expectOrdinaryObjects(opened);
      expect(Object.keys(opened)).toEqual(Object.keys(value as object));
    }
    expect(prototypeFingerprint()).toBe(before);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("prototype keys in wire objects", () => {
  const readers: [string, (input: unknown) => unknown, () => Record<string, unknown>, string | undefined][] = [
    ["envelope", parseEnvelope, () => ({ ...world.envelopeV2 }), undefined],
    ["device bundle", parseDeviceBundle, () => ({ ...world.bundle }), undefined],
    ["key share", parseRoomKeyShare, () => ({ ...world.share }), undefined],
    ["key backup", parseKeyBackup, () => structuredClone(world.backup) as unknown as Record<string, unknown>, "chunks"],
    ["backup payload", parseKeyBackupPayload, () => structuredClone(world.payload) as unknown as Record<string, unknown>, "keys"],
    ["protected recovery key", parseProtectedRecoveryKey, () => structuredClone(world.protectedKey) as unknown as Record<string, unknown>, "kdf"],
    ["keyring state", parseKeyringState, () => structuredClone(world.keyringState) as unknown as Record<string, unknown>, "versions"],
    ["device identity state", parseDeviceIdentityState, () => ({ ...world.identityState }), undefined],
  ];

  it.each(readers.map(([name, ...rest]) => [name, ...rest] as const))("a %s with a prototype-named member is refused, as an object and as text", (_name, parse, genuine, nestedMember) => {
    const before = prototypeFingerprint();
    for (const key of PROTOTYPE_KEYS) {
      for (const member of [{ polluted: true }, null, [], "x"]) {
        const top = genuine();
        setOwn(top, key, member);
        const candidates: Record<string, unknown>[] = [top];
        if (nestedMember !== undefined) {
          const inner = genuine();
          const container = inner[nestedMember] as Record<string, unknown> | unknown[];
          setOwn(Array.isArray(container) ? (container[0] as object) : container, key, member);
          candidates.push(inner);
        }
        for (const input of candidates) {
          for (const delivered of [input, stringify(input)]) {
            expect(() => parse(delivered)).toThrow(expect.objectContaining({ code: "INVALID_ENVELOPE" }) as Error);
          }
        }
      }
    }
    expect(prototypeFingerprint()).toBe(before);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("trust store and replay guard states with prototype-named members are refused", () => {
    const trustStore = TrustStore.create();
    trustStore.check(world.bundle);
    const guard = new ReplayGuard();
    guard.accept({ roomId: ROOM_ID, keyVersion: 1, messageId: MESSAGE_ID });
    for (const [parse, state] of [
      [parseTrustStoreState, trustStore.exportState()],
      [parseReplayGuardState, guard.exportState()],
    ] as const) {
      for (const key of PROTOTYPE_KEYS) {
        const input = structuredClone(state) as unknown as Record<string, unknown>;
        setOwn(input, key, { polluted: true });
        expect(() => parse(stringify(input))).toThrow(expect.objectContaining({ code: "INVALID_ENVELOPE" }) as Error);
      }
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("prototype names as identifiers", () => {
  it("are rooms, users, devices and key ids like any other, through shares of state, backups, pins and replay records", async () => {
    const before = prototypeFingerprint();
    const keyrings = TRICKY_IDS.map((roomId) => RoomKeyring.create({ roomId, shareable: true }));
    const restored = await restoreKeyBackup({ backup: stringify(createKeyBackup({ keyrings, recoveryKey: world.recoveryKey })), recoveryKey: world.recoveryKey });
    expect(restored.map((keyring) => keyring.roomId).sort()).toEqual([...TRICKY_IDS].sort());
    for (const keyring of [...keyrings, ...restored]) expect(RoomKeyring.importState(JSON.parse(stringify(keyring.exportState())!)).roomId).toBe(keyring.roomId);

    const trustStore = TrustStore.create();
    const guard = new ReplayGuard();
    for (const name of TRICKY_IDS) {
      const device = await createDeviceIdentity({ userId: name, deviceId: name });
      expect(verifyDeviceBundle(stringify(device.publicBundle)).bundle.userId).toBe(name);
      trustStore.check(device.publicBundle);
      guard.accept({ roomId: name, keyVersion: 1, messageId: name });
    }
    expect(TrustStore.importState(JSON.parse(stringify(trustStore.exportState())!)).exportState().devices.map((device) => device.userId).sort()).toEqual([...TRICKY_IDS].sort());
    const again = ReplayGuard.importState(JSON.parse(stringify(guard.exportState())!));
    for (const name of TRICKY_IDS) expect(again.check({ roomId: name, keyVersion: 1, messageId: name })).toBe("seen");
    expect(prototypeFingerprint()).toBe(before);
  });
});

describe("prototype keys in a key store", () => {
  it("MemoryKeyStore keeps a __proto__ member as a member, at every level", async () => {
    const store = new MemoryKeyStore();
    const value = JSON.parse('{"a":1,"__proto__":{"polluted":true},"list":[{"__proto__":{"b":2}}],"constructor":{"prototype":{"polluted":true}}}') as unknown;
    await store.set("state", value);
    const back = (await store.get("state")) as Record<string, unknown>;
    expect(stringify(back)).toBe(stringify(value));
    expectOrdinaryObjects(back);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
