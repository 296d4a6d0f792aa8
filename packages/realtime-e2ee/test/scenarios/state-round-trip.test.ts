/**
 * Story: export and import of state round-trips.
 *
 * Alice's phone keeps its device identity and its keyrings in the platform's secure storage,
 * stood in for here by a `MemoryKeyStore`. She is in three rooms: "travel" (Bob's), "notes"
 * (hers, with a small policy that now advises rotating) and "plans" (hers, where she has just
 * removed Carol and not yet rotated). The phone restarts: a fresh process loads everything from
 * storage and carries on as if nothing happened. The history opens, the pending rotation is
 * still required, Carol is still refused, shares addressed to the phone still open, and the
 * stored values are plain JSON.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  MemoryKeyStore,
  RoomKeyring,
  loadDeviceIdentity,
  loadKeyring,
  loadKeyrings,
  saveDeviceIdentity,
  saveKeyring,
  shareRoomKey,
} from "../../src/index";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

describe("story: state round-trips through storage", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;
  let carolTablet: Device;
  let store: MemoryKeyStore;

  beforeEach(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    carolTablet = await Device.register(server, "Carol's tablet", "carol", "tablet");

    bobLaptop.createRoom("travel");
    alicePhone.joinRoom("travel");
    bobLaptop.shareKey("travel");
    alicePhone.receiveShares();
    await bobLaptop.say("travel", "Train at 10:04.");

    alicePhone.createRoom("notes", { policy: { maxMessagesPerVersion: 2 } });
    await alicePhone.say("notes", "Buy stamps.");
    alicePhone.keyring("notes").rotate({ reason: "manual" });
    await alicePhone.say("notes", "Call the bank.");
    await alicePhone.say("notes", "Water the plants.");

    alicePhone.createRoom("plans");
    carolTablet.joinRoom("plans");
    alicePhone.shareKey("plans");
    carolTablet.receiveShares();
    await alicePhone.say("plans", "Surprise party on Friday.");
    alicePhone.keyring("plans").removeMember({ userId: "carol" });
    server.removeMember("plans", "carol");

    store = new MemoryKeyStore();
    await saveDeviceIdentity(store, alicePhone.identity);
    for (const keyring of alicePhone.keyrings.values()) await saveKeyring(store, keyring);
  });

  /** A fresh process on Alice's phone: everything comes from storage. */
  async function restart(): Promise<Device> {
    const identity = await loadDeviceIdentity(store);
    expect(identity).toBeDefined();
    const device = Device.withIdentity(server, "Alice's phone, restarted", identity!);
    for (const keyring of await loadKeyrings(store)) device.keyrings.set(keyring.roomId, keyring);
    return device;
  }

  it("comes back with the same identity and the same keyrings, keys and counters included", async () => {
    const restarted = await restart();
    expect(restarted.identity.publicBundle).toEqual(alicePhone.identity.publicBundle);
    expect(restarted.identity.exportState()).toEqual(alicePhone.identity.exportState());
    expect([...restarted.keyrings.keys()].sort()).toEqual(["notes", "plans", "travel"]);
    for (const [roomId, keyring] of alicePhone.keyrings) {
      expect(restarted.keyring(roomId).exportState()).toEqual(keyring.exportState());
      expect(restarted.keyring(roomId).policy).toEqual(keyring.policy);
    }
  });

  it("reads the history and keeps the rotation state: advised, required, and who is refused", async () => {
    const restarted = await restart();
    expect(await restarted.read("travel")).toEqual(["Train at 10:04."]);
    expect(await restarted.read("notes")).toEqual(["Buy stamps.", "Call the bank.", "Water the plants."]);
    expect(await restarted.read("plans")).toEqual(["Surprise party on Friday."]);

    expect(restarted.keyring("notes").needsRotation()).toBe("max-messages");
    await restarted.say("notes", "Advice only: still sends.");
    expect(restarted.keyring("notes").versions.map((info) => info.messageCount)).toEqual([1, 3]);

    expect(restarted.keyring("plans").needsRotation()).toBe("member-removed");
    await expectFailure(restarted.say("plans", "Not yet."), "ROTATION_REQUIRED");
    expect(restarted.keyring("plans").isRevoked("carol", "tablet")).toBe(true);
    restarted.keyring("plans").rotate({ reason: "member-removed" });
    await expectFailure(
      () => shareRoomKey({ keyring: restarted.keyring("plans"), from: restarted.identity, to: [server.bundle("carol", "tablet")] }),
      "DEVICE_REVOKED",
    );
    await restarted.say("plans", "Carol must not read this.");
    expect(await carolTablet.read("plans")).toEqual(["Surprise party on Friday.", "[UNKNOWN_KEY]"]);
  });

  it("opens shares addressed to the phone before the restart, and sends under them", async () => {
    bobLaptop.rotateAndShare("travel", "manual");
    const restarted = await restart();
    expect(restarted.receiveShares().accepted.map((share) => share.keyVersion)).toEqual([2]);
    await restarted.say("travel", "See you on the platform.");
    expect(await bobLaptop.read("travel")).toEqual(["Train at 10:04.", "See you on the platform."]);
  });

  it("stores plain JSON: the states survive a trip through JSON text unchanged", async () => {
    for (const key of await store.keys("")) {
      const value = await store.get(key);
      expect(JSON.parse(JSON.stringify(value))).toEqual(value);
    }
    const notes = alicePhone.keyring("notes");
    const fromText = RoomKeyring.importState(JSON.stringify(notes.exportState()));
    expect(fromText.exportState()).toEqual(notes.exportState());
    expect(await loadKeyring(store, "no-such-room")).toBeUndefined();
    expect(JSON.stringify(store)).toBe(JSON.stringify({ entries: 4 }));
  });

  it("refuses a corrupted stored keyring with a typed error instead of loading garbage", async () => {
    const keyringKey = (await store.keys("")).find((name) => name.endsWith("/notes"));
    expect(keyringKey).toBeDefined();
    const state = (await store.get(keyringKey!)) as { versions: { key: string }[] };
    state.versions[0]!.key = "not-a-key";
    await store.set(keyringKey!, state);
    await expectFailure(loadKeyring(store, "notes"), "INVALID_ENVELOPE");
    await expectFailure(loadKeyrings(store), "INVALID_ENVELOPE");
  });
});
