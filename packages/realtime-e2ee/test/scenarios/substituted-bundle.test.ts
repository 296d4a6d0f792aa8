/**
 * Story: a substituted bundle.
 *
 * Alice's phone, Bob's laptop and Carol's tablet share the "vault" room, and each app keeps a
 * trust store. The server that hands out device bundles is malicious, and Mallory, who runs it,
 * is also a member of the room. Every bundle it serves is validly self-signed: it simply made
 * the key pairs itself, under Alice's and Bob's ids.
 *
 * - Swapping Bob's bundle would hand Alice's next room key to Mallory. Alice's app gives that
 *   bundle no share, reports the change once, and keeps sharing with Carol.
 * - Swapping Alice's bundle would let Mallory, who holds the room key, write as Alice. Bob's
 *   channel reports those messages as IDENTITY_CHANGED and keeps delivering everyone else's; a key
 *   share she signs as Alice is refused and changes nothing.
 * - When Alice really reinstalls her app, the change looks exactly the same. Bob and Alice compare
 *   the safety number; Bob marks her new keys verified, and her messages open again.
 * - Bob's pins survive a restart of his app.
 *
 * Without the trust store, every one of these substitutions would have succeeded silently; the
 * last test shows it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  MemoryKeyStore,
  TrustStore,
  acceptRoomKeyShare,
  acceptRoomKeyShareWithTrust,
  createDeviceIdentity,
  createEncryptedChannel,
  deviceFingerprint,
  loadTrustStore,
  safetyNumber,
  safetyNumbersMatch,
  saveTrustStore,
  shareRoomKey,
  shareRoomKeyWithTrust,
  userFingerprint,
  type DeviceIdentity,
  type EncryptedChannelEvent,
  type RealtimeChannel,
  type TrustStoreEvent,
} from "../../src/index";
import { createWorld, Device, expectFailure, snapshot, type FakeServer } from "./world";

/** The room's realtime channel, as a hub: every publish reaches every subscriber, as JSON. */
function createHub(): () => RealtimeChannel {
  const handlers = new Map<string, Set<(data: unknown) => void>>();
  return () => ({
    publish(event, data) {
      for (const handler of handlers.get(event) ?? []) handler(JSON.parse(JSON.stringify(data)));
    },
    subscribe(event, handler) {
      handlers.set(event, (handlers.get(event) ?? new Set()).add(handler));
      return () => handlers.get(event)?.delete(handler);
    },
  });
}

/** Resolves once `count` events reached the list. */
function collect(events: EncryptedChannelEvent[], count: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => {
      if (events.length >= count) resolve();
      else setTimeout(poll, 1);
    };
    poll();
  });
}

describe("story: a substituted bundle", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let bobLaptop: Device;
  let carolTablet: Device;
  let mallory: Device;
  const trust = new Map<string, TrustStore>();
  const heard = new Map<string, TrustStoreEvent[]>();

  /** A device's trust store, created on first use, with a log of what its listeners heard. */
  function trustOf(device: Device): TrustStore {
    let store = trust.get(device.name);
    if (store === undefined) {
      const created = TrustStore.create();
      const events: TrustStoreEvent[] = [];
      created.subscribe((event) => events.push(event));
      trust.set(device.name, created);
      heard.set(device.name, events);
      store = created;
    }
    return store;
  }

  const changesHeardBy = (device: Device): TrustStoreEvent[] => (heard.get(device.name) ?? []).filter((event) => event.type === "identity-changed");

  /** Mallory's key pairs under someone else's ids, published in place of their real bundle. */
  async function substitute(victim: Device): Promise<DeviceIdentity> {
    const fake = await createDeviceIdentity({ userId: victim.userId, deviceId: victim.deviceId });
    server.publishBundle(fake.publicBundle);
    return fake;
  }

  /** Shares the room's current version with every other listed device, through the sender's trust store. */
  function shareWithTrust(from: Device): ReturnType<typeof shareRoomKeyWithTrust> {
    const result = shareRoomKeyWithTrust({
      keyring: from.keyring("vault"),
      from: from.identity,
      to: server.roomBundles("vault", from.identity),
      trustStore: trustOf(from),
    });
    server.postShares(result.shares);
    return result;
  }

  /** Accepts a device's mailbox through its trust store; returns the codes of refused shares. */
  function receiveWithTrust(device: Device): string[] {
    const refused: string[] = [];
    for (const share of server.takeMailbox(device.userId, device.deviceId)) {
      const { senderUserId, senderDeviceId } = share as { senderUserId: string; senderDeviceId: string };
      try {
        acceptRoomKeyShareWithTrust({
          share,
          device: device.identity,
          senderBundle: server.bundle(senderUserId, senderDeviceId),
          keyring: device.keyring("vault"),
          isRoomMember: (sender) => server.isMember("vault", sender),
          trustStore: trustOf(device),
        });
      } catch (error) {
        refused.push((error as { code: string }).code);
      }
    }
    return refused;
  }

  beforeEach(async () => {
    server = createWorld();
    trust.clear();
    heard.clear();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    bobLaptop = await Device.register(server, "Bob's laptop", "bob", "laptop");
    carolTablet = await Device.register(server, "Carol's tablet", "carol", "tablet");
    mallory = await Device.register(server, "Mallory's phone", "mallory", "phone");
    alicePhone.createRoom("vault");
    for (const device of [bobLaptop, carolTablet, mallory]) device.joinRoom("vault");
    // First contact: every device pins the others as it meets them.
    expect(shareWithTrust(alicePhone).refused).toEqual([]);
    for (const device of [bobLaptop, carolTablet, mallory]) expect(receiveWithTrust(device)).toEqual([]);
    expect(trustOf(alicePhone).size).toBe(3);
    expect(trustOf(bobLaptop).pinned("alice", "phone")?.fingerprint).toBe(deviceFingerprint(alicePhone.identity.publicBundle));
  });

  it("gives a substituted recipient no share of the next key, reports it once, and still shares with Carol", async () => {
    const fakeBob = await substitute(bobLaptop);
    alicePhone.keyring("vault").removeMember({ userId: "dave" });
    alicePhone.keyring("vault").rotate({ reason: "member-removed" });
    const { shares, refused } = shareWithTrust(alicePhone);

    expect(shares.map((share) => share.recipientUserId).sort()).toEqual(["carol", "mallory"]);
    expect(server.mailboxSize("bob", "laptop")).toBe(0);
    expect(refused).toHaveLength(1);
    const [{ userId, deviceId, error }] = refused as [(typeof refused)[number]];
    expect({ userId, deviceId, code: error.code }).toEqual({ userId: "bob", deviceId: "laptop", code: "IDENTITY_CHANGED" });
    expect(error.pinnedFingerprint).toBe(deviceFingerprint(bobLaptop.identity.publicBundle));
    expect(error.presentedFingerprint).toBe(deviceFingerprint(fakeBob.publicBundle));

    // A second rotation is refused again, but the user is told only once.
    alicePhone.keyring("vault").rotate({ reason: "manual" });
    expect(shareWithTrust(alicePhone).refused.map(({ error: again }) => again.code)).toEqual(["IDENTITY_CHANGED"]);
    expect(changesHeardBy(alicePhone)).toEqual([
      {
        type: "identity-changed",
        userId: "bob",
        deviceId: "laptop",
        pinnedFingerprint: deviceFingerprint(bobLaptop.identity.publicBundle),
        presentedFingerprint: deviceFingerprint(fakeBob.publicBundle),
        pinnedVerified: false,
      },
    ]);
    expect(receiveWithTrust(carolTablet)).toEqual([]);
    expect(carolTablet.keyring("vault").currentVersion).toBe(3);
  });

  it("reports messages Mallory signs as Alice as IDENTITY_CHANGED, and keeps delivering everyone else's", async () => {
    const hub = createHub();
    const bobChannel = createEncryptedChannel({
      channel: hub(),
      roomId: "vault",
      keyring: bobLaptop.keyring("vault"),
      device: bobLaptop.identity,
      resolveSender: server.resolveSender,
      trustStore: trustOf(bobLaptop),
    });
    const received: EncryptedChannelEvent[] = [];
    bobChannel.subscribe("chat.message", (event) => received.push(event));
    const channelOf = (device: Device, identity = device.identity) =>
      createEncryptedChannel({ channel: hub(), roomId: "vault", keyring: device.keyring("vault"), device: identity });

    await channelOf(alicePhone).publish("chat.message", { body: "The code is 4711." });
    const fakeAlice = await substitute(alicePhone);
    const malloryAsAlice = channelOf(mallory, fakeAlice);
    await malloryAsAlice.publish("chat.message", { body: "Ignore that, the code is 0000." });
    await channelOf(carolTablet).publish("chat.message", { body: "Got it." });
    await malloryAsAlice.publish("chat.message", { body: "Really, 0000." });
    await collect(received, 4);

    expect(received.map((event) => (event.type === "message" ? (event.value as { body: string }).body : `[${event.type === "unable-to-decrypt" ? event.reason : event.type}]`))).toEqual([
      "The code is 4711.",
      "[IDENTITY_CHANGED]",
      "Got it.",
      "[IDENTITY_CHANGED]",
    ]);
    const refusedEvent = received[1];
    expect(refusedEvent?.type === "unable-to-decrypt" && refusedEvent.error).toMatchObject({
      userId: "alice",
      deviceId: "phone",
      pinnedFingerprint: deviceFingerprint(alicePhone.identity.publicBundle),
      presentedFingerprint: deviceFingerprint(fakeAlice.publicBundle),
    });
    expect(changesHeardBy(bobLaptop)).toHaveLength(1);
  });

  it("refuses a key share Mallory signs as Alice, and Bob's keyring holds what it held", async () => {
    const fakeAlice = await substitute(alicePhone);
    mallory.keyring("vault").rotate({ reason: "manual" });
    server.postShares(shareRoomKey({ keyring: mallory.keyring("vault"), from: fakeAlice, to: [server.bundle("bob", "laptop")] }));
    const before = snapshot(bobLaptop.keyring("vault"));
    expect(receiveWithTrust(bobLaptop)).toEqual(["IDENTITY_CHANGED"]);
    expect(snapshot(bobLaptop.keyring("vault"))).toBe(before);
    expect(trustOf(bobLaptop).pinned("alice", "phone")?.fingerprint).toBe(deviceFingerprint(alicePhone.identity.publicBundle));
  });

  it("after a real reinstall, opens Alice's messages once Bob verified the safety number", async () => {
    // Alice reinstalls: new keys under the same ids. Carol, who also pinned her, hands the new
    // phone the room key only after checking Alice's new fingerprint in person.
    const reinstalled = Device.withIdentity(server, "Alice's reinstalled phone", await createDeviceIdentity({ userId: "alice", deviceId: "phone" }));
    server.publishBundle(reinstalled.identity.publicBundle);
    reinstalled.joinRoom("vault");
    expect(shareWithTrust(carolTablet).refused.map(({ userId }) => userId)).toEqual(["alice"]);
    trustOf(carolTablet).markVerified(server.bundle("alice", "phone"));
    expect(shareWithTrust(carolTablet).refused).toEqual([]);
    expect(receiveWithTrust(reinstalled)).toEqual([]);

    const hub = createHub();
    const bobChannel = createEncryptedChannel({
      channel: hub(),
      roomId: "vault",
      keyring: bobLaptop.keyring("vault"),
      resolveSender: server.resolveSender,
      trustStore: trustOf(bobLaptop),
    });
    const received: EncryptedChannelEvent[] = [];
    bobChannel.subscribe("chat.message", (event) => received.push(event));
    await createEncryptedChannel({ channel: hub(), roomId: "vault", keyring: reinstalled.keyring("vault"), device: reinstalled.identity }).publish(
      "chat.message",
      { body: "New phone, same me." },
    );
    await collect(received, 1);
    const [first] = received;
    expect(first?.type === "unable-to-decrypt" && first.reason).toBe("IDENTITY_CHANGED");

    // Bob and Alice compare the safety number. Each side computes it from what it has.
    const onBobsScreen = safetyNumber(
      userFingerprint("alice", [server.bundle("alice", "phone")]),
      userFingerprint("bob", [bobLaptop.identity.publicBundle]),
    );
    const onAlicesScreen = safetyNumber(
      userFingerprint("bob", [server.bundle("bob", "laptop")]),
      userFingerprint("alice", [reinstalled.identity.publicBundle]),
    );
    expect(safetyNumbersMatch(onBobsScreen, onAlicesScreen)).toBe(true);
    // Had the server substituted the bundle Bob sees, the numbers would differ.
    const fake = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    expect(safetyNumbersMatch(safetyNumber(userFingerprint("alice", [fake.publicBundle]), userFingerprint("bob", [bobLaptop.identity.publicBundle])), onAlicesScreen)).toBe(false);

    trustOf(bobLaptop).markVerified(server.bundle("alice", "phone"));
    const retried = await bobChannel.decrypt(first!.event, first!.type === "unable-to-decrypt" ? first!.data : undefined);
    expect(retried.type === "message" && retried.value).toEqual({ body: "New phone, same me." });
    expect(trustOf(bobLaptop).pinned("alice", "phone")).toMatchObject({ verified: true, fingerprint: deviceFingerprint(reinstalled.identity.publicBundle) });
  });

  it("keeps Bob's pins across a restart of his app", async () => {
    const keyStore = new MemoryKeyStore();
    await saveTrustStore(keyStore, trustOf(bobLaptop));
    const restarted = await loadTrustStore(keyStore);
    expect(restarted?.exportState()).toEqual(trustOf(bobLaptop).exportState());
    const fakeAlice = await substitute(alicePhone);
    await expectFailure(() => restarted?.check(server.bundle("alice", "phone")), "IDENTITY_CHANGED");
    expect(deviceFingerprint(fakeAlice.publicBundle)).not.toBe(restarted?.pinned("alice", "phone")?.fingerprint);
  });

  it("would have let every substitution through without a trust store", async () => {
    // The recipient side: Alice's share to the substituted Bob opens with Mallory's keys.
    const fakeBob = await substitute(bobLaptop);
    const [toFakeBob] = shareRoomKey({ keyring: alicePhone.keyring("vault"), from: alicePhone.identity, to: [server.bundle("bob", "laptop")] });
    const stolen = Device.withIdentity(server, "Mallory as Bob", fakeBob).joinRoom("vault");
    acceptRoomKeyShare({ share: toFakeBob, device: fakeBob, senderBundle: server.bundle("alice", "phone"), keyring: stolen, isRoomMember: () => true });
    expect(stolen.currentVersion).toBe(alicePhone.keyring("vault").currentVersion);

    // The sender side: a message Mallory signs as Alice reads as Alice's.
    const fakeAlice = await substitute(alicePhone);
    const forged = await mallory.keyring("vault").encryptChatJson({ body: "From Alice, honestly." }, { messageId: "m-forged", sender: fakeAlice });
    const opened = await bobLaptop.keyring("vault").decryptChatMessage(forged, { roomId: "vault", messageId: "m-forged", resolveSender: server.resolveSender });
    expect(opened.sender).toEqual({ userId: "alice", deviceId: "phone" });
  });
});
