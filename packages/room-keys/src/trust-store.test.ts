/**
 * The trust store (SPEC.md §20.5–§20.6): pins on first use, refuses a substituted bundle with
 * IDENTITY_CHANGED in both directions (senders of messages and shares, recipients of shares),
 * reports each change once, accepts new keys only when the app says so, persists through a
 * KeyStore, and changes nothing when anything fails.
 */
import { E2eeError, TRUST_STORE_LIMITS, type DeviceBundle } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, deviceFingerprint, type DeviceIdentity } from "@domvia/e2ee-crypto";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  IdentityChangedError,
  MemoryKeyStore,
  RoomKeyring,
  TrustStore,
  acceptRoomKeyShare,
  acceptRoomKeyShareWithTrust,
  loadTrustStore,
  saveTrustStore,
  shareRoomKey,
  shareRoomKeyWithTrust,
  type TrustStoreEvent,
} from "./index";

let alice: DeviceIdentity;
let bob: DeviceIdentity;
let carol: DeviceIdentity;
/** What a substituting server hands out for Alice's phone: her ids, keys the server holds. */
let fakeAlice: DeviceIdentity;
/** The same for Bob's laptop. */
let fakeBob: DeviceIdentity;

beforeAll(async () => {
  alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  carol = await createDeviceIdentity({ userId: "carol", deviceId: "tablet" });
  fakeAlice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  fakeBob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
});

afterEach(() => {
  vi.useRealTimers();
});

function recorder(store: TrustStore): TrustStoreEvent[] {
  const events: TrustStoreEvent[] = [];
  store.subscribe((event) => events.push(event));
  return events;
}

function failure(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return expect.fail("expected the call to throw");
}

async function asyncFailure(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return expect.fail("expected the call to reject");
}

const state = (store: TrustStore): string => JSON.stringify(store.exportState());
const isRoomMember = (): boolean => true;

describe("TrustStore.check", () => {
  it("pins a device on first use and passes the same keys afterwards", () => {
    const store = TrustStore.create();
    const events = recorder(store);
    expect(store.pinned("alice", "phone")).toBeUndefined();
    expect(store.check(alice.publicBundle).bundle).toEqual(alice.publicBundle);
    expect(store.check(JSON.stringify(alice.publicBundle)).bundle).toEqual(alice.publicBundle);
    expect(store.size).toBe(1);
    expect(events).toEqual([{ type: "identity-pinned", userId: "alice", deviceId: "phone", reason: "first-use", verified: false }]);
    expect(store.pinned("alice", "phone")).toMatchObject({ fingerprint: deviceFingerprint(alice.publicBundle), verified: false });
  });

  it("refuses a substituted bundle with IDENTITY_CHANGED and reports it once, with both fingerprints", () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    const events = recorder(store);
    const before = state(store);
    const errors = [1, 2, 3].map(() => failure(() => store.check(fakeAlice.publicBundle)));
    for (const error of errors) {
      expect(error).toBeInstanceOf(IdentityChangedError);
      expect(E2eeError.isInstance(error, "IDENTITY_CHANGED")).toBe(true);
      expect(error).toMatchObject({
        userId: "alice",
        deviceId: "phone",
        pinnedFingerprint: deviceFingerprint(alice.publicBundle),
        presentedFingerprint: deviceFingerprint(fakeAlice.publicBundle),
      });
      expect((error as Error).message).not.toContain(fakeAlice.publicBundle.signingKey);
    }
    expect(events).toEqual([
      {
        type: "identity-changed",
        userId: "alice",
        deviceId: "phone",
        pinnedFingerprint: deviceFingerprint(alice.publicBundle),
        presentedFingerprint: deviceFingerprint(fakeAlice.publicBundle),
        pinnedVerified: false,
      },
    ]);
    expect(Object.isFrozen(events[0])).toBe(true);
    expect(state(store)).toBe(before);
    // The genuine bundle still passes.
    expect(store.check(alice.publicBundle).bundle.signingKey).toBe(alice.publicBundle.signingKey);
  });

  it("reports a second, different substitution again", async () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    const events = recorder(store);
    const another = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    failure(() => store.check(fakeAlice.publicBundle));
    failure(() => store.check(another.publicBundle));
    failure(() => store.check(fakeAlice.publicBundle));
    expect(events.map((event) => event.type === "identity-changed" && event.presentedFingerprint)).toEqual([
      deviceFingerprint(fakeAlice.publicBundle),
      deviceFingerprint(another.publicBundle),
    ]);
  });

  it("refuses to pin a bundle whose self-signature does not verify", () => {
    const store = TrustStore.create();
    const forged = { ...alice.publicBundle, agreementKey: fakeAlice.publicBundle.agreementKey };
    expect(failure(() => store.check(forged))).toMatchObject({ code: "BAD_SIGNATURE" });
    expect(failure(() => store.check({ ...alice.publicBundle, v: 2 }))).toMatchObject({ code: "UNSUPPORTED_VERSION" });
    expect(failure(() => store.check("not json"))).toMatchObject({ code: "INVALID_ENVELOPE" });
    expect(store.size).toBe(0);
  });

  it("refuses a new device with PAYLOAD_TOO_LARGE when 100,000 are pinned, and keeps checking the others", () => {
    const { agreementKey, signingKey } = bob.publicBundle;
    const devices = Array.from({ length: TRUST_STORE_LIMITS.maxDevices }, (_, index) => ({
      userId: "bob",
      deviceId: index === 0 ? "laptop" : `d${index}`,
      agreementKey,
      signingKey,
      verified: false,
      pinnedAt: 0,
    }));
    const store = TrustStore.importState({ v: 1, type: "trust-store", devices });
    expect(failure(() => store.check(alice.publicBundle))).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(failure(() => store.acceptChangedIdentity(alice.publicBundle))).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(store.check(bob.publicBundle).bundle.deviceId).toBe("laptop");
    expect(store.size).toBe(TRUST_STORE_LIMITS.maxDevices);
  });
});

describe("accepting and verifying changed keys", () => {
  it("uses the new keys only after acceptChangedIdentity, and then refuses the old ones", () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    failure(() => store.check(fakeAlice.publicBundle));
    const events = recorder(store);
    store.acceptChangedIdentity(fakeAlice.publicBundle);
    expect(store.check(fakeAlice.publicBundle).bundle).toEqual(fakeAlice.publicBundle);
    expect(failure(() => store.check(alice.publicBundle))).toMatchObject({
      code: "IDENTITY_CHANGED",
      pinnedFingerprint: deviceFingerprint(fakeAlice.publicBundle),
      presentedFingerprint: deviceFingerprint(alice.publicBundle),
    });
    expect(events.map((event) => event.type)).toEqual(["identity-pinned", "identity-changed"]);
    expect(events[0]).toMatchObject({ reason: "accepted", verified: false });
    expect(store.pinned("alice", "phone")?.verified).toBe(false);
  });

  it("marks keys verified, keeps the flag and the pin time for the same keys, and says so when they change", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_000);
    const store = TrustStore.create();
    store.check(bob.publicBundle);
    vi.setSystemTime(2_000);
    store.markVerified(bob.publicBundle);
    store.acceptChangedIdentity(bob.publicBundle); // same keys: stays verified
    expect(store.pinned("bob", "laptop")).toMatchObject({ verified: true, pinnedAt: 1_000 });
    const events = recorder(store);
    failure(() => store.check(fakeBob.publicBundle));
    expect(events).toEqual([expect.objectContaining({ type: "identity-changed", pinnedVerified: true })]);
    store.markVerified(fakeBob.publicBundle);
    expect(store.pinned("bob", "laptop")).toMatchObject({ verified: true, pinnedAt: 2_000, fingerprint: deviceFingerprint(fakeBob.publicBundle) });
  });

  it("pins the next bundle on first use after forgetDevice", () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    expect(store.forgetDevice("alice", "phone")).toBe(true);
    expect(store.forgetDevice("alice", "phone")).toBe(false);
    expect(store.check(fakeAlice.publicBundle).bundle).toEqual(fakeAlice.publicBundle);
    expect(() => store.forgetDevice("alice/phone", "x")).toThrow(TypeError);
  });
});

describe("TrustStore.resolver: senders of messages", () => {
  async function sealedByAlice(sender: DeviceIdentity): Promise<{ keyring: RoomKeyring; envelope: unknown }> {
    const senderRoom = RoomKeyring.create({ roomId: "room-1" });
    const keyring = RoomKeyring.empty({ roomId: "room-1" });
    const [share] = shareRoomKey({ keyring: senderRoom, from: sender, to: [bob.publicBundle] });
    acceptRoomKeyShare({ share, device: bob, senderBundle: sender.publicBundle, keyring, isRoomMember });
    const envelope = await senderRoom.encryptChatJson({ body: "hi" }, { messageId: "m-1", sender });
    return { keyring, envelope };
  }

  it("pins a sender on first use and refuses a message signed under a substituted bundle", async () => {
    const store = TrustStore.create();
    let directory: DeviceBundle = alice.publicBundle;
    const resolveSender = store.resolver(() => directory);
    const genuine = await sealedByAlice(alice);
    const opened = await genuine.keyring.decryptChatMessage(genuine.envelope, { roomId: "room-1", messageId: "m-1", resolveSender });
    expect(opened.sender).toEqual({ userId: "alice", deviceId: "phone" });
    expect(store.pinned("alice", "phone")).toBeDefined();

    // The server swaps in its own bundle and a member holding the room key signs with it.
    directory = fakeAlice.publicBundle;
    const forged = await sealedByAlice(fakeAlice);
    const error = await asyncFailure(() =>
      forged.keyring.decryptChatMessage(forged.envelope, { roomId: "room-1", messageId: "m-1", resolveSender }),
    );
    expect(error).toBeInstanceOf(IdentityChangedError);
    // Without the trust store, the same forgery would have verified.
    const unprotected = await forged.keyring.decryptChatMessage(forged.envelope, { roomId: "room-1", messageId: "m-1", resolveSender: () => directory });
    expect(unprotected.sender).toEqual({ userId: "alice", deviceId: "phone" });
  });

  it("treats a bundle for other ids as none and pins nothing", async () => {
    const store = TrustStore.create();
    const { keyring, envelope } = await sealedByAlice(alice);
    const context = { roomId: "room-1", messageId: "m-1" };
    const wrong = await asyncFailure(() => keyring.decryptChatMessage(envelope, { ...context, resolveSender: store.resolver(() => carol.publicBundle) }));
    expect(wrong).toMatchObject({ code: "UNKNOWN_SENDER" });
    const missing = await asyncFailure(() => keyring.decryptChatMessage(envelope, { ...context, resolveSender: store.resolver(async () => undefined) }));
    expect(missing).toMatchObject({ code: "UNKNOWN_SENDER" });
    expect(store.size).toBe(0);
    expect(() => store.resolver(undefined as never)).toThrow(TypeError);
  });
});

describe("shareRoomKeyWithTrust: recipients", () => {
  it("pins first-seen recipients and shares with them", () => {
    const store = TrustStore.create();
    const keyring = RoomKeyring.create({ roomId: "room-2" });
    const { shares, refused } = shareRoomKeyWithTrust({ keyring, from: alice, to: [bob.publicBundle, carol.publicBundle], trustStore: store });
    expect(shares.map((share) => share.recipientUserId)).toEqual(["bob", "carol"]);
    expect(refused).toEqual([]);
    expect(store.size).toBe(2);
  });

  it("gives a substituted recipient no share, reports it, and still shares with the others", () => {
    const store = TrustStore.create();
    store.check(bob.publicBundle);
    const events = recorder(store);
    const keyring = RoomKeyring.create({ roomId: "room-2" });
    const { shares, refused } = shareRoomKeyWithTrust({ keyring, from: alice, to: [fakeBob.publicBundle, carol.publicBundle], trustStore: store });
    expect(shares.map((share) => share.recipientUserId)).toEqual(["carol"]);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ userId: "bob", deviceId: "laptop" });
    expect(refused[0]?.error).toBeInstanceOf(IdentityChangedError);
    expect(refused[0]?.error.presentedFingerprint).toBe(deviceFingerprint(fakeBob.publicBundle));
    expect(events.map((event) => event.type)).toEqual(["identity-changed", "identity-pinned"]);
    // Bob's real keys were not replaced; Carol is now pinned.
    expect(store.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(bob.publicBundle));
    expect(store.pinned("carol", "tablet")).toBeDefined();
  });

  it("refuses the second of two different bundles for one device in one call", () => {
    const store = TrustStore.create();
    const keyring = RoomKeyring.create({ roomId: "room-2" });
    const { shares, refused } = shareRoomKeyWithTrust({ keyring, from: alice, to: [bob.publicBundle, fakeBob.publicBundle], trustStore: store });
    expect(shares).toHaveLength(1);
    expect(refused.map(({ error }) => error.presentedFingerprint)).toEqual([deviceFingerprint(fakeBob.publicBundle)]);
    expect(store.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(bob.publicBundle));
  });

  it("pins nothing when sharing fails", () => {
    const store = TrustStore.create();
    const keyring = RoomKeyring.create({ roomId: "room-2" });
    keyring.removeMember({ userId: "dave" });
    expect(failure(() => shareRoomKeyWithTrust({ keyring, from: alice, to: [bob.publicBundle], trustStore: store }))).toMatchObject({
      code: "ROTATION_REQUIRED",
    });
    const forged = { ...carol.publicBundle, signingKey: bob.publicBundle.signingKey };
    keyring.rotate({ reason: "member-removed" });
    expect(failure(() => shareRoomKeyWithTrust({ keyring, from: alice, to: [bob.publicBundle, forged], trustStore: store }))).toMatchObject({
      code: "BAD_SIGNATURE",
    });
    keyring.revokeDevice({ userId: "carol", deviceId: "tablet" });
    keyring.rotate({ reason: "device-revoked" });
    expect(failure(() => shareRoomKeyWithTrust({ keyring, from: alice, to: [bob.publicBundle, carol.publicBundle], trustStore: store }))).toMatchObject({
      code: "DEVICE_REVOKED",
    });
    expect(store.size).toBe(0);
    expect(() => shareRoomKeyWithTrust({ keyring, from: alice, to: [], trustStore: {} as TrustStore })).toThrow(TypeError);
  });
});

describe("acceptRoomKeyShareWithTrust: senders of shares", () => {
  it("pins a first-seen sender once the share is accepted", () => {
    const store = TrustStore.create();
    const [share] = shareRoomKey({ keyring: RoomKeyring.create({ roomId: "room-3" }), from: alice, to: [bob.publicBundle] });
    const keyring = RoomKeyring.empty({ roomId: "room-3" });
    const accepted = acceptRoomKeyShareWithTrust({ share, device: bob, senderBundle: alice.publicBundle, keyring, isRoomMember, trustStore: store });
    expect(accepted.sender).toEqual({ userId: "alice", deviceId: "phone" });
    expect(store.pinned("alice", "phone")).toBeDefined();
  });

  it("refuses a share signed under a substituted sender bundle, leaving keyring and store unchanged", () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    const keyring = RoomKeyring.empty({ roomId: "room-3" });
    const before = { keyring: JSON.stringify(keyring.exportState()), store: state(store) };
    // A member who holds the server's keys for "alice/phone" sends Bob a key of her choosing.
    const [share] = shareRoomKey({ keyring: RoomKeyring.create({ roomId: "room-3" }), from: fakeAlice, to: [bob.publicBundle] });
    const error = failure(() =>
      acceptRoomKeyShareWithTrust({ share, device: bob, senderBundle: fakeAlice.publicBundle, keyring, isRoomMember, trustStore: store }),
    );
    expect(error).toMatchObject({ code: "IDENTITY_CHANGED", userId: "alice", deviceId: "phone" });
    expect({ keyring: JSON.stringify(keyring.exportState()), store: state(store) }).toEqual(before);
    // Without the trust store, the same share would have been accepted.
    expect(acceptRoomKeyShare({ share, device: bob, senderBundle: fakeAlice.publicBundle, keyring, isRoomMember }).keyVersion).toBe(1);
  });

  it("pins nothing when the share is refused for another reason", () => {
    const store = TrustStore.create();
    const [share] = shareRoomKey({ keyring: RoomKeyring.create({ roomId: "room-3" }), from: alice, to: [bob.publicBundle] });
    const keyring = RoomKeyring.empty({ roomId: "room-3" });
    const options = { share, device: bob, senderBundle: alice.publicBundle, keyring, trustStore: store };
    expect(failure(() => acceptRoomKeyShareWithTrust({ ...options, isRoomMember: () => false }))).toMatchObject({ code: "UNKNOWN_SENDER" });
    expect(failure(() => acceptRoomKeyShareWithTrust({ ...options, isRoomMember, senderBundle: carol.publicBundle }))).toMatchObject({
      code: "UNKNOWN_SENDER",
    });
    expect(failure(() => acceptRoomKeyShareWithTrust({ ...options, isRoomMember, share: { ...share, v: 2 } }))).toMatchObject({
      code: "UNSUPPORTED_VERSION",
    });
    expect(failure(() => acceptRoomKeyShareWithTrust({ ...options, isRoomMember, device: carol }))).toMatchObject({ code: "SHARE_MISADDRESSED" });
    expect(store.size).toBe(0);
    expect(keyring.currentVersion).toBeNull();
  });
});

describe("persistence", () => {
  it("round-trips through a KeyStore and still refuses a substitution after loading", async () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    store.markVerified(bob.publicBundle);
    const keyStore = new MemoryKeyStore();
    expect(await loadTrustStore(keyStore)).toBeUndefined();
    await saveTrustStore(keyStore, store);
    const loaded = await loadTrustStore(keyStore);
    expect(loaded?.exportState()).toEqual(store.exportState());
    expect(loaded?.exportState().devices.map(({ userId }) => userId)).toEqual(["alice", "bob"]);
    expect(loaded?.pinned("bob", "laptop")?.verified).toBe(true);
    expect(failure(() => loaded?.check(fakeAlice.publicBundle))).toMatchObject({ code: "IDENTITY_CHANGED" });
  });

  it("refuses a tampered or oversized stored state with typed errors", async () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    const good = store.exportState();
    const [pin] = good.devices;
    const cases: [unknown, string][] = [
      [{ ...good, v: 2 }, "UNSUPPORTED_VERSION"],
      [{ ...good, devices: [pin, pin] }, "INVALID_ENVELOPE"],
      [{ ...good, devices: [{ ...pin, signingKey: "x" }] }, "INVALID_ENVELOPE"],
      [{ ...good, devices: [{ ...pin, trusted: true }] }, "INVALID_ENVELOPE"],
      [" ".repeat(TRUST_STORE_LIMITS.maxTextLength + 1), "PAYLOAD_TOO_LARGE"],
    ];
    for (const [stored, code] of cases) {
      const keyStore = new MemoryKeyStore();
      await keyStore.set("domvia-e2ee/trust-store", stored);
      expect(await asyncFailure(() => loadTrustStore(keyStore))).toMatchObject({ code });
    }
  });

  it("shows counts only in String(), JSON and util.inspect", async () => {
    const store = TrustStore.create();
    store.check(alice.publicBundle);
    const { inspect } = await import("node:util");
    for (const shown of [String(store), JSON.stringify(store), inspect(store)]) {
      expect(shown).not.toContain(alice.publicBundle.signingKey);
      expect(shown).not.toContain("alice");
    }
    expect(String(store)).toBe("TrustStore(1 devices)");
  });
});

describe("listeners", () => {
  it("cannot break a check: a throwing listener's error is rethrown in a new task", () => {
    vi.useFakeTimers();
    const store = TrustStore.create();
    store.subscribe(() => {
      throw new Error("listener bug");
    });
    const calls: string[] = [];
    const unsubscribe = store.subscribe((event) => calls.push(event.type));
    expect(store.check(alice.publicBundle).bundle.userId).toBe("alice");
    expect(calls).toEqual(["identity-pinned"]);
    expect(() => vi.runAllTimers()).toThrow("listener bug");
    unsubscribe();
    store.check(bob.publicBundle);
    expect(calls).toEqual(["identity-pinned"]);
    expect(() => store.subscribe("nope" as never)).toThrow(TypeError);
  });
});
