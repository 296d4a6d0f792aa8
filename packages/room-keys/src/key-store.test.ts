import { E2eeError } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, DeviceIdentity } from "@domvia/e2ee-crypto";
import { describe, expect, it } from "vitest";
import {
  MemoryKeyStore,
  RoomKeyring,
  acceptRoomKeyShare,
  loadDeviceIdentity,
  loadKeyring,
  loadKeyrings,
  saveDeviceIdentity,
  saveKeyring,
  shareRoomKey,
  type KeyStore,
} from "./index";

describe("MemoryKeyStore", () => {
  it("stores a copy: changing the saved object afterwards does not change the store", async () => {
    const store = new MemoryKeyStore();
    const value = { list: [1, 2], nested: { name: "a" } };
    await store.set("k", value);
    value.list.push(3);
    value.nested.name = "changed";
    expect(await store.get("k")).toEqual({ list: [1, 2], nested: { name: "a" } });
  });

  it("hands out a copy: changing a loaded object does not change the store", async () => {
    const store = new MemoryKeyStore();
    await store.set("k", { list: [1], nested: { name: "a" } });
    const loaded = (await store.get("k")) as { list: number[]; nested: { name: string } };
    loaded.list.push(2);
    loaded.nested.name = "changed";
    expect(await store.get("k")).toEqual({ list: [1], nested: { name: "a" } });
    expect(await store.get("k")).not.toBe(await store.get("k"));
  });

  it("stores scalars and replaces earlier values", async () => {
    const store = new MemoryKeyStore();
    await store.set("k", "one");
    await store.set("k", 2);
    expect(await store.get("k")).toBe(2);
    await store.set("n", null);
    expect(await store.get("n")).toBeNull();
    expect(await store.get("absent")).toBeUndefined();
  });

  it("lists keys by prefix", async () => {
    const store = new MemoryKeyStore();
    for (const key of ["app/a", "app/b", "apple", "other/app/c"]) await store.set(key, key);
    expect((await store.keys("app/")).sort()).toEqual(["app/a", "app/b"]);
    expect((await store.keys("app")).sort()).toEqual(["app/a", "app/b", "apple"]);
    expect((await store.keys("")).sort()).toEqual(["app/a", "app/b", "apple", "other/app/c"]);
    expect(await store.keys("none/")).toEqual([]);
  });

  it("deletes, without complaint when the key is absent", async () => {
    const store = new MemoryKeyStore();
    await store.set("k", 1);
    await store.delete("k");
    await store.delete("k");
    await store.delete("never");
    expect(await store.get("k")).toBeUndefined();
    expect(await store.keys("")).toEqual([]);
  });

  it("shows only its size in JSON", async () => {
    const store = new MemoryKeyStore();
    await store.set("secret", { key: "hunter2" });
    expect(JSON.stringify(store)).toBe('{"entries":1}');
  });

  it("is a KeyStore whose methods all return promises", () => {
    const store: KeyStore = new MemoryKeyStore();
    expect(store.get("k")).toBeInstanceOf(Promise);
    expect(store.set("k", 1)).toBeInstanceOf(Promise);
    expect(store.delete("k")).toBeInstanceOf(Promise);
    expect(store.keys("")).toBeInstanceOf(Promise);
  });
});

describe("saveKeyring and loadKeyring", () => {
  it("round-trips a keyring: the loaded one decrypts what the original encrypted, and goes on encrypting", async () => {
    const store = new MemoryKeyStore();
    const keyring = RoomKeyring.create({ roomId: "room-1", policy: { maxMessagesPerVersion: 50 } });
    const old = await keyring.encryptChatJson({ body: "v1" }, { messageId: "msg-1" });
    keyring.rotate({ reason: "manual" });
    const recent = await keyring.encryptChatJson({ body: "v2" }, { messageId: "msg-2" });
    await saveKeyring(store, keyring);

    const loaded = await loadKeyring(store, "room-1");
    expect(loaded).toBeInstanceOf(RoomKeyring);
    expect(loaded!.exportState()).toEqual(keyring.exportState());
    await expect(loaded!.decryptChatJson(old, { roomId: "room-1", messageId: "msg-1" })).resolves.toEqual({ body: "v1" });
    await expect(loaded!.decryptChatJson(recent, { roomId: "room-1", messageId: "msg-2" })).resolves.toEqual({ body: "v2" });
    const next = await loaded!.encryptChatJson({ body: "after" }, { messageId: "msg-3" });
    await expect(keyring.decryptChatJson(next, { roomId: "room-1", messageId: "msg-3" })).resolves.toEqual({ body: "after" });
  });

  it("is not changed by later changes to the keyring until saved again", async () => {
    const store = new MemoryKeyStore();
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    await saveKeyring(store, keyring);
    keyring.rotate({ reason: "manual" });
    expect((await loadKeyring(store, "room-1"))!.currentVersion).toBe(1);
    await saveKeyring(store, keyring);
    expect((await loadKeyring(store, "room-1"))!.currentVersion).toBe(2);
  });

  it("refuses another room's keyring stored under this room's name, and an invalid room id", async () => {
    const store = new MemoryKeyStore();
    await saveKeyring(store, RoomKeyring.create({ roomId: "room-2" }));
    await store.set("domvia-e2ee/keyring/room-1", await store.get("domvia-e2ee/keyring/room-2"));
    const error = await loadKeyring(store, "room-1").catch((caught: unknown) => caught);
    expect(E2eeError.isInstance(error) && error.code).toBe("INVALID_ENVELOPE");
    expect((await loadKeyring(store, "room-2"))!.roomId).toBe("room-2");
    await expect(loadKeyring(store, "room 1")).rejects.toThrow(TypeError);
  });

  it("returns undefined for a room never saved", async () => {
    expect(await loadKeyring(new MemoryKeyStore(), "room-1")).toBeUndefined();
  });

  it("refuses a corrupt stored state with a typed error", async () => {
    const store = new MemoryKeyStore();
    await saveKeyring(store, RoomKeyring.create({ roomId: "room-1" }));
    const [key] = await store.keys("");
    await store.set(key!, { ...((await store.get(key!)) as object), v: 9 });
    const error = await loadKeyring(store, "room-1").catch((caught: unknown) => caught);
    expect(E2eeError.isInstance(error, "UNSUPPORTED_VERSION")).toBe(true);
  });
});

describe("loadKeyrings", () => {
  it("loads every saved keyring and nothing else", async () => {
    const store = new MemoryKeyStore();
    const device = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    await saveDeviceIdentity(store, device);
    await store.set("app/settings", { theme: "dark" });
    const keyrings = [RoomKeyring.create({ roomId: "room-1" }), RoomKeyring.create({ roomId: "room-2" }), RoomKeyring.empty({ roomId: "room-3" })];
    for (const keyring of keyrings) await saveKeyring(store, keyring);

    const loaded = await loadKeyrings(store);
    expect(loaded.map((keyring) => keyring.roomId).sort()).toEqual(["room-1", "room-2", "room-3"]);
    for (const keyring of loaded) {
      expect(keyring.exportState()).toEqual(keyrings.find((original) => original.roomId === keyring.roomId)!.exportState());
    }
  });

  it("loads nothing from an empty store", async () => {
    expect(await loadKeyrings(new MemoryKeyStore())).toEqual([]);
  });
});

describe("saveDeviceIdentity and loadDeviceIdentity", () => {
  it("round-trips an identity: same public bundle, and it opens shares sent to the original", async () => {
    const store = new MemoryKeyStore();
    const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    await saveDeviceIdentity(store, bob);
    const loaded = await loadDeviceIdentity(store);
    expect(loaded).toBeInstanceOf(DeviceIdentity);
    expect(loaded!.publicBundle).toEqual(bob.publicBundle);
    expect(loaded!.exportState()).toEqual(bob.exportState());

    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const [share] = shareRoomKey({ keyring, from: alice, to: [bob.publicBundle] });
    const received = RoomKeyring.empty({ roomId: "room-1" });
    expect(acceptRoomKeyShare({ isRoomMember: () => true, share, device: loaded!, senderBundle: alice.publicBundle, keyring: received })).toMatchObject({ keyVersion: 1 });
    expect(received.currentKeyId).toBe(keyring.currentKeyId);
  });

  it("returns undefined when no identity is saved", async () => {
    expect(await loadDeviceIdentity(new MemoryKeyStore())).toBeUndefined();
  });

  it("refuses a corrupt stored identity with a typed error", async () => {
    const store = new MemoryKeyStore();
    await saveDeviceIdentity(store, await createDeviceIdentity({ userId: "bob", deviceId: "laptop" }));
    const [key] = await store.keys("");
    await store.set(key!, { ...((await store.get(key!)) as object), signingSecretKey: "short" });
    const error = await loadDeviceIdentity(store).catch((caught: unknown) => caught);
    expect(E2eeError.isInstance(error, "INVALID_ENVELOPE")).toBe(true);
  });
});
