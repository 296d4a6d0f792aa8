/**
 * `shareRoomKeyWithTrustAsync` against its synchronous twin `shareRoomKeyWithTrust`, on both paths
 * the shares can be sealed on:
 *
 * - "node:crypto": Node as it is;
 * - "WebCrypto (as in a browser)": node:crypto hidden from the SDK and Node's own WebCrypto offered
 *   in its place, behind call counters (and a hook) that prove the curves really ran on WebCrypto.
 *
 * It checks that the async call gives the sync call's result (shares in the order of `to`,
 * `refused` for changed identities, the same events and pins), that new recipients are pinned only
 * once every share exists and nothing is pinned on failure, that errors are rejections with the
 * sync call's codes, and, on WebCrypto, that a trust store changed while the shares are being
 * sealed gives exactly what the sync call gives at that moment.
 */
import { E2eeError, type RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import { createDeviceIdentity, deviceFingerprint, type DeviceIdentity } from "@domvia/e2ee-crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { selfSignedBundle, withFlippedSignature } from "../../../test/support/bundles";
import { nodePath, onWebCall, onWebResult, webCallCounts, webCryptoPath } from "../../../test/support/crypto-paths";
import { U_ZERO, address, asyncOutcome, recipientOf, shape, syncOutcome } from "../../../test/support/sharing";
import {
  IdentityChangedError,
  RoomKeyring,
  TrustStore,
  acceptRoomKeyShare,
  shareRoomKeyWithTrust,
  shareRoomKeyWithTrustAsync,
  type ShareRoomKeyWithTrustOptions,
  type TrustStoreEvent,
  type TrustedRoomKeyShares } from "./index";

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

const ROOM = "room-1";

/**
 * Alice's phone sends; four recipient devices, and for two of them a second identity under the
 * same ids (new keys: what a substituting server, or a reinstalled app, presents).
 */
async function room() {
  const [alice, aliceLaptop, bob, carol, dave, otherBob, otherCarol] = await Promise.all([
    createDeviceIdentity({ userId: "alice", deviceId: "phone" }),
    createDeviceIdentity({ userId: "alice", deviceId: "laptop" }),
    createDeviceIdentity({ userId: "bob", deviceId: "laptop" }),
    createDeviceIdentity({ userId: "carol", deviceId: "tablet" }),
    createDeviceIdentity({ userId: "dave", deviceId: "phone" }),
    createDeviceIdentity({ userId: "bob", deviceId: "laptop" }),
    createDeviceIdentity({ userId: "carol", deviceId: "tablet" }),
  ]);
  // Deliberately not sorted by user or device.
  const recipients = [dave!, aliceLaptop!, carol!, bob!];
  return {
    alice: alice!,
    aliceLaptop: aliceLaptop!,
    bob: bob!,
    carol: carol!,
    dave: dave!,
    otherBob: otherBob!,
    otherCarol: otherCarol!,
    recipients,
    keyring: RoomKeyring.create({ roomId: ROOM }),
  };
}



/** A refusal as comparable data (its error's class, code and both fingerprints). */
function refusal({ userId, deviceId, error }: TrustedRoomKeyShares["refused"][number]) {
  return {
    userId,
    deviceId,
    isIdentityChangedError: error instanceof IdentityChangedError,
    code: error.code,
    errorIds: `${error.userId}/${error.deviceId}`,
    pinnedFingerprint: error.pinnedFingerprint,
    presentedFingerprint: error.presentedFingerprint,
  };
}

/** A result as comparable data: shares without their random parts, refusals as data. */
function comparable(result: TrustedRoomKeyShares) {
  return { shares: result.shares.map(shape), refused: result.refused.map(refusal) };
}

/** The pins, without the time they were made (the two stores compared pin a few ms apart). */
function pins(store: TrustStore) {
  return store.exportState().devices.map(({ pinnedAt, ...pin }) => {
    expect(typeof pinnedAt).toBe("number");
    return pin;
  });
}

function recorder(store: TrustStore): TrustStoreEvent[] {
  const events: TrustStoreEvent[] = [];
  store.subscribe((event) => events.push(event));
  return events;
}

/** A second store with the same pins as `store` (and no reported changes, no listeners). */
const copyOf = (store: TrustStore): TrustStore => TrustStore.importState(store.exportState());

function accept(share: RoomKeyShareV1, device: DeviceIdentity, sender: DeviceIdentity) {
  return acceptRoomKeyShare({ share, device, senderBundle: sender.publicBundle, keyring: RoomKeyring.empty({ roomId: ROOM }), isRoomMember: () => true });
}







// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe.each([nodePath, webCryptoPath])("shareRoomKeyWithTrustAsync on $name", (path) => {
  beforeEach(async () => {
    await path.setUp();
  });

  afterEach(() => {
    path.tearDown();
  });

  it("gives the sync call's result on a fresh store: shares in the order of `to`, the same events and pins", async () => {
    const { alice, recipients, keyring } = await room();
    const to = recipients.map((device) => device.publicBundle);
    const asyncStore = TrustStore.create();
    const syncStore = TrustStore.create();
    const asyncEvents = recorder(asyncStore);
    const syncEvents = recorder(syncStore);

    const asyncResult = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: asyncStore });
    path.expectCurvesUsed();
    const syncResult = shareRoomKeyWithTrust({ keyring, from: alice, to, trustStore: syncStore });

    expect(asyncResult.shares.map(recipientOf)).toEqual(recipients.map(address));
    expect(asyncResult.refused).toEqual([]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(asyncEvents).toEqual(syncEvents);
    expect(asyncEvents).toEqual(
      recipients.map((device) => ({ type: "identity-pinned", userId: device.userId, deviceId: device.deviceId, reason: "first-use", verified: false })),
    );
    expect(pins(asyncStore)).toEqual(pins(syncStore));
    expect(asyncStore.size).toBe(4);
    for (const device of recipients) expect(asyncStore.pinned(device.userId, device.deviceId)?.fingerprint).toBe(deviceFingerprint(device.publicBundle));

    // Each share opens on its own device.
    for (const [index, device] of recipients.entries()) {
      expect(accept(asyncResult.shares[index]!, device, alice)).toMatchObject({ keyVersion: 1, keyId: keyring.currentKeyId });
    }
  });

  it("gives the sync call's result on a store that already knows some recipients, one of them with other keys", async () => {
    const { alice, aliceLaptop, bob, carol, dave, otherBob, keyring } = await room();
    const asyncStore = TrustStore.create();
    asyncStore.check(otherBob.publicBundle); // Bob's laptop pinned with other keys than the ones presented
    asyncStore.check(carol.publicBundle); // Carol's tablet pinned with the ones presented
    const syncStore = copyOf(asyncStore);
    const asyncEvents = recorder(asyncStore);
    const syncEvents = recorder(syncStore);
    const to = [dave.publicBundle, bob.publicBundle, carol.publicBundle, aliceLaptop.publicBundle];

    const asyncResult = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: asyncStore });
    path.expectCurvesUsed();
    const syncResult = shareRoomKeyWithTrust({ keyring, from: alice, to, trustStore: syncStore });

    expect(asyncResult.shares.map(recipientOf)).toEqual(["dave/phone", "carol/tablet", "alice/laptop"]);
    expect(asyncResult.refused.map(address)).toEqual(["bob/laptop"]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(asyncEvents).toEqual(syncEvents);
    expect(asyncEvents.map((event) => [event.type, address(event)])).toEqual([
      ["identity-changed", "bob/laptop"],
      ["identity-pinned", "dave/phone"],
      ["identity-pinned", "alice/laptop"],
    ]);
    expect(pins(asyncStore)).toEqual(pins(syncStore));
  });

  it("refuses a changed identity with IDENTITY_CHANGED, gives it no share, shares with the others and reports the change once", async () => {
    const { alice, bob, carol, dave, otherBob, keyring } = await room();
    const store = TrustStore.create();
    store.check(bob.publicBundle);
    const events = recorder(store);
    // Bob's ids presented with new keys.
    const to = [carol.publicBundle, otherBob.publicBundle, dave.publicBundle];

    const { shares, refused } = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: store });
    path.expectCurvesUsed();
    expect(shares.map(recipientOf)).toEqual(["carol/tablet", "dave/phone"]);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ userId: "bob", deviceId: "laptop" });
    const error = refused[0]!.error;
    expect(error).toBeInstanceOf(IdentityChangedError);
    expect(E2eeError.isInstance(error, "IDENTITY_CHANGED")).toBe(true);
    expect(error).toMatchObject({
      userId: "bob",
      deviceId: "laptop",
      pinnedFingerprint: deviceFingerprint(bob.publicBundle),
      presentedFingerprint: deviceFingerprint(otherBob.publicBundle),
    });
    expect(Object.isFrozen(refused[0])).toBe(true);
    const changed = {
      type: "identity-changed",
      userId: "bob",
      deviceId: "laptop",
      pinnedFingerprint: deviceFingerprint(bob.publicBundle),
      presentedFingerprint: deviceFingerprint(otherBob.publicBundle),
      pinnedVerified: false,
    };
    expect(events).toEqual([
      changed,
      { type: "identity-pinned", userId: "carol", deviceId: "tablet", reason: "first-use", verified: false },
      { type: "identity-pinned", userId: "dave", deviceId: "phone", reason: "first-use", verified: false },
    ]);
    // Bob's pinned keys stay.
    expect(store.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(bob.publicBundle));

    // Asked again: refused again, reported no more.
    const again = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: store });
    expect(again.shares.map(recipientOf)).toEqual(["carol/tablet", "dave/phone"]);
    expect(again.refused.map(refusal)).toEqual(refused.map(refusal));
    expect(events.filter((event) => event.type === "identity-changed")).toEqual([changed]);
    expect(events).toHaveLength(3);
  });

  it("refuses the second of two different bundles for one new device in one call, as the sync call does", async () => {
    const { alice, bob, otherBob, keyring } = await room();
    const asyncStore = TrustStore.create();
    const syncStore = TrustStore.create();
    const to = [bob.publicBundle, otherBob.publicBundle];
    const asyncResult = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: asyncStore });
    const syncResult = shareRoomKeyWithTrust({ keyring, from: alice, to, trustStore: syncStore });
    expect(asyncResult.shares.map(recipientOf)).toEqual(["bob/laptop"]);
    expect(asyncResult.refused.map(({ error }) => error.presentedFingerprint)).toEqual([deviceFingerprint(otherBob.publicBundle)]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(pins(asyncStore)).toEqual(pins(syncStore));
    expect(asyncStore.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(bob.publicBundle));
  });

  describe("pins nothing on failure", () => {
    it("rejects BAD_SIGNATURE for a new device listed with a forged bundle, and does not pin the new device", async () => {
      const { alice, bob, carol, keyring } = await room();
      const store = TrustStore.create();
      const events = recorder(store);
      const forged = withFlippedSignature(carol.publicBundle);
      for (const to of [
        [bob.publicBundle, forged],
        [forged, bob.publicBundle],
      ]) {
        expect(await asyncOutcome(() => shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: store }))).toBe("BAD_SIGNATURE");
      }
      expect(store.size).toBe(0);
      expect(store.pinned("bob", "laptop")).toBeUndefined();
      expect(events).toEqual([]);
      expect(syncOutcome(() => shareRoomKeyWithTrust({ keyring, from: alice, to: [bob.publicBundle, forged], trustStore: copyOf(store) }))).toBe("BAD_SIGNATURE");
    });

    it("rejects INVALID_KEY for a self-signed low-order agreement key, which fails only while sealing, and pins nothing", async () => {
      const { alice, bob, carol, dave, otherCarol, keyring } = await room();
      const store = TrustStore.create();
      store.check(otherCarol.publicBundle); // a changed identity in the list too: it must not pin either
      const before = pins(store);
      const events = recorder(store);
      const hostile = selfSignedBundle("mallory", "m1", U_ZERO);
      for (const to of [
        [bob.publicBundle, carol.publicBundle, dave.publicBundle, hostile],
        [hostile, bob.publicBundle, carol.publicBundle, dave.publicBundle],
      ]) {
        expect(await asyncOutcome(() => shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: store }))).toBe("INVALID_KEY");
        expect(syncOutcome(() => shareRoomKeyWithTrust({ keyring, from: alice, to, trustStore: copyOf(store) }))).toBe("INVALID_KEY");
      }
      expect(pins(store)).toEqual(before);
      for (const device of [bob, dave]) expect(store.pinned(device.userId, device.deviceId)).toBeUndefined();
      expect(store.pinned("mallory", "m1")).toBeUndefined();
      expect(events.filter((event) => event.type === "identity-pinned")).toEqual([]);

      // The same list without it shares, and pins the new devices.
      const { shares } = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to: [bob.publicBundle, dave.publicBundle], trustStore: store });
      expect(shares.map(recipientOf)).toEqual(["bob/laptop", "dave/phone"]);
      expect(store.size).toBe(3);
    });

    it("rejects ROTATION_REQUIRED when a member was removed and the keyring not rotated, and pins nothing", async () => {
      const { alice, bob, carol, keyring } = await room();
      const store = TrustStore.create();
      const events = recorder(store);
      keyring.removeMember({ userId: "mallory" });
      const options = { keyring, from: alice, to: [bob.publicBundle, carol.publicBundle], trustStore: store };
      expect(await asyncOutcome(() => shareRoomKeyWithTrustAsync(options))).toBe("ROTATION_REQUIRED");
      expect(store.size).toBe(0);
      expect(events).toEqual([]);
      expect(syncOutcome(() => shareRoomKeyWithTrust({ ...options, trustStore: copyOf(store) }))).toBe("ROTATION_REQUIRED");

      keyring.rotate({ reason: "member-removed" });
      expect((await shareRoomKeyWithTrustAsync(options)).shares.map(recipientOf)).toEqual(["bob/laptop", "carol/tablet"]);
      expect(store.size).toBe(2);
    });

    it("rejects DEVICE_REVOKED for a revoked new recipient, and pins nothing", async () => {
      const { alice, bob, carol, keyring } = await room();
      const store = TrustStore.create();
      keyring.revokeDevice({ userId: "carol", deviceId: "tablet" });
      keyring.rotate({ reason: "device-revoked" });
      const options = { keyring, from: alice, to: [bob.publicBundle, carol.publicBundle], trustStore: store };
      expect(await asyncOutcome(() => shareRoomKeyWithTrustAsync(options))).toBe("DEVICE_REVOKED");
      expect(syncOutcome(() => shareRoomKeyWithTrust({ ...options, trustStore: copyOf(store) }))).toBe("DEVICE_REVOKED");
      expect(store.size).toBe(0);
    });
  });

  describe("rejects bad arguments with a TypeError, never throwing synchronously", () => {
    it("rejects a `to` that is not an array", async () => {
      const { alice, bob, keyring } = await room();
      const store = TrustStore.create();
      for (const to of [bob.publicBundle, JSON.stringify([bob.publicBundle]), undefined]) {
        const options = { keyring, from: alice, to, trustStore: store } as unknown as ShareRoomKeyWithTrustOptions;
        expect(await asyncOutcome(() => shareRoomKeyWithTrustAsync(options))).toBe("TypeError");
        expect(syncOutcome(() => shareRoomKeyWithTrust(options))).toBe("TypeError");
      }
      expect(store.size).toBe(0);
    });

    it("rejects a trust store that is not a TrustStore", async () => {
      const { alice, bob, keyring } = await room();
      const real = TrustStore.create();
      for (const trustStore of [{}, undefined, { ...real }, real.exportState()]) {
        const options = { keyring, from: alice, to: [bob.publicBundle], trustStore } as unknown as ShareRoomKeyWithTrustOptions;
        expect(await asyncOutcome(() => shareRoomKeyWithTrustAsync(options))).toBe("TypeError");
        expect(syncOutcome(() => shareRoomKeyWithTrust(options))).toBe("TypeError");
      }
    });
  });
});

describe("shareRoomKeyWithTrustAsync on WebCrypto only: the trust store while the shares are being sealed", () => {
  beforeEach(async () => {
    await webCryptoPath.setUp();
  });

  afterEach(() => {
    webCryptoPath.tearDown();
  });

  /**
   * Runs `change` on the store from inside the first X25519 derivation (while the shares are being
   * sealed), with a snapshot of the store right after it, and returns the async call's result, the
   * events it caused, and what the sync call gives on a store with that snapshot.
   */
  async function changedWhileSealing(
    options: Omit<ShareRoomKeyWithTrustOptions, "trustStore">,
    store: TrustStore,
    change: (store: TrustStore) => void,
  ) {
    let snapshot: TrustStore | undefined;
    let changedAfter: TrustStoreEvent[] | undefined;
    const events = recorder(store);
    onWebCall((method) => {
      if (method !== "deriveBits") return;
      onWebCall(undefined);
      // Nothing was pinned before the shares were sealed; changed identities may have been
      // reported already, as the sync call reports them before it shares.
      expect(events.filter((event) => event.type !== "identity-changed"), "pins before the shares were sealed").toEqual([]);
      change(store);
      snapshot = copyOf(store);
      changedAfter = [...events];
    });
    const asyncResult = await shareRoomKeyWithTrustAsync({ ...options, trustStore: store });
    expect(snapshot, "the store was changed while sealing").toBeDefined();
    expect(webCallCounts().deriveBits, "deriveBits (X25519) on WebCrypto before the fallback").toBeGreaterThan(0);
    expect(webCallCounts().importKey, "importKey on WebCrypto").toBeGreaterThan(0);
    const syncStore = snapshot!;
    const syncEvents = recorder(syncStore);
    const syncResult = shareRoomKeyWithTrust({ ...options, trustStore: syncStore });
    // The pins of the call itself (after the change) equal the sync call's on the snapshot. (The
    // snapshot does not know which changes were reported already, so its sync call reports them
    // again: identity-changed events are compared through the results' `refused` instead.)
    const pinEvents = (list: TrustStoreEvent[]) => list.filter((event) => event.type !== "identity-changed");
    expect(pinEvents(events.slice(changedAfter!.length))).toEqual(pinEvents(syncEvents));
    expect(pins(store)).toEqual(pins(syncStore));
    return { asyncResult, syncResult, events: events.slice(changedAfter!.length) };
  }

  it("refuses a recipient whose other keys were pinned meanwhile (acceptChangedIdentity), as the sync call then does", async () => {
    const { alice, bob, carol, dave, otherBob, keyring } = await room();
    const store = TrustStore.create();
    store.check(bob.publicBundle);
    const to = [carol.publicBundle, bob.publicBundle, dave.publicBundle];
    const { asyncResult, syncResult, events } = await changedWhileSealing({ keyring, from: alice, to }, store, (trustStore) => {
      trustStore.acceptChangedIdentity(otherBob.publicBundle);
    });
    expect(asyncResult.shares.map(recipientOf)).toEqual(["carol/tablet", "dave/phone"]);
    expect(asyncResult.refused.map(refusal)).toEqual([
      {
        userId: "bob",
        deviceId: "laptop",
        isIdentityChangedError: true,
        code: "IDENTITY_CHANGED",
        errorIds: "bob/laptop",
        pinnedFingerprint: deviceFingerprint(otherBob.publicBundle),
        presentedFingerprint: deviceFingerprint(bob.publicBundle),
      },
    ]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(events.map((event) => [event.type, address(event)])).toEqual([
      ["identity-changed", "bob/laptop"],
      ["identity-pinned", "carol/tablet"],
      ["identity-pinned", "dave/phone"],
    ]);
    expect(store.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(otherBob.publicBundle));
  });

  it("refuses a first-seen recipient pinned with other keys meanwhile (markVerified), as the sync call then does", async () => {
    const { alice, bob, carol, dave, otherCarol, keyring } = await room();
    const store = TrustStore.create();
    const to = [bob.publicBundle, carol.publicBundle, dave.publicBundle];
    const { asyncResult, syncResult } = await changedWhileSealing({ keyring, from: alice, to }, store, (trustStore) => {
      trustStore.markVerified(otherCarol.publicBundle);
    });
    expect(asyncResult.shares.map(recipientOf)).toEqual(["bob/laptop", "dave/phone"]);
    expect(asyncResult.refused.map(address)).toEqual(["carol/tablet"]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(store.pinned("carol", "tablet")).toMatchObject({ fingerprint: deviceFingerprint(otherCarol.publicBundle), verified: true });
  });

  it("shares with a refused recipient whose pin was forgotten meanwhile (forgetDevice), and pins it, as the sync call then does", async () => {
    const { alice, bob, carol, dave, otherBob, keyring } = await room();
    const store = TrustStore.create();
    store.check(otherBob.publicBundle); // refused when the call starts
    const to = [carol.publicBundle, bob.publicBundle, dave.publicBundle];
    const { asyncResult, syncResult, events } = await changedWhileSealing({ keyring, from: alice, to }, store, (trustStore) => {
      expect(trustStore.forgetDevice("bob", "laptop")).toBe(true);
    });
    expect(asyncResult.shares.map(recipientOf)).toEqual(["carol/tablet", "bob/laptop", "dave/phone"]);
    expect(asyncResult.refused).toEqual([]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(events.map((event) => [event.type, address(event)])).toEqual([
      ["identity-pinned", "carol/tablet"],
      ["identity-pinned", "bob/laptop"],
      ["identity-pinned", "dave/phone"],
    ]);
    expect(store.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(bob.publicBundle));
    // Bob's share really is for Bob's presented keys.
    expect(accept(asyncResult.shares[1]!, bob, alice)).toMatchObject({ keyVersion: 1 });
  });

  it("notices a change that keeps the number of accepted recipients: one forgotten, another re-pinned", async () => {
    const { alice, bob, carol, dave, otherBob, otherCarol, keyring } = await room();
    const store = TrustStore.create();
    store.check(otherBob.publicBundle); // Bob refused when the call starts
    store.check(carol.publicBundle); // Carol accepted when the call starts
    const to = [bob.publicBundle, carol.publicBundle, dave.publicBundle];
    const { asyncResult, syncResult } = await changedWhileSealing({ keyring, from: alice, to }, store, (trustStore) => {
      trustStore.forgetDevice("bob", "laptop");
      trustStore.acceptChangedIdentity(otherCarol.publicBundle);
    });
    expect(asyncResult.shares.map(recipientOf)).toEqual(["bob/laptop", "dave/phone"]);
    expect(asyncResult.refused.map(address)).toEqual(["carol/tablet"]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
  });

  it("does not pin again a first-seen recipient that was pinned with the same keys meanwhile", async () => {
    const { alice, bob, carol, dave, keyring } = await room();
    const store = TrustStore.create();
    const to = [bob.publicBundle, carol.publicBundle, dave.publicBundle];
    const { asyncResult, syncResult, events } = await changedWhileSealing({ keyring, from: alice, to }, store, (trustStore) => {
      trustStore.check(carol.publicBundle);
    });
    expect(asyncResult.shares.map(recipientOf)).toEqual(["bob/laptop", "carol/tablet", "dave/phone"]);
    expect(comparable(asyncResult)).toEqual(comparable(syncResult));
    expect(events.map((event) => [event.type, address(event)])).toEqual([
      ["identity-pinned", "bob/laptop"],
      ["identity-pinned", "dave/phone"],
    ]);
  });

  /**
   * Flips Bob between refused (his other keys pinned) and accepted (his pin forgotten) at the
   * first X25519 derivation of each of the call's first `flips` attempts. Each share takes two
   * derivations (its ephemeral public key and the agreement), so an attempt that seals for
   * `n` recipients ends 2n derivations after it began.
   */
  function flipBobWhileSealing(store: TrustStore, bob: DeviceIdentity, otherBob: DeviceIdentity, flips: number) {
    let nextAttemptAt = 1;
    let flipped = 0;
    onWebCall((method) => {
      if (method !== "deriveBits" || webCallCounts().deriveBits !== nextAttemptAt || flipped === flips) return;
      const bobRefused = store.pinned("bob", "laptop")?.fingerprint === deviceFingerprint(otherBob.publicBundle);
      nextAttemptAt += 2 * (bobRefused ? 2 : 3); // this attempt seals for Carol and Dave, and Bob unless refused
      if (bobRefused) store.forgetDevice("bob", "laptop");
      else store.acceptChangedIdentity(otherBob.publicBundle);
      flipped++;
    });
    return { flipped: () => flipped };
  }

  it("seals again on WebCrypto when the store changed while it sealed, for the store as it then is", async () => {
    const { alice, bob, carol, dave, otherBob, keyring } = await room();
    const store = TrustStore.create();
    store.check(otherBob.publicBundle); // Bob refused when the call starts
    const to = [carol.publicBundle, bob.publicBundle, dave.publicBundle];
    const events = recorder(store);
    const flips = flipBobWhileSealing(store, bob, otherBob, 1);
    const { shares, refused } = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: store });
    expect(flips.flipped()).toBe(1);
    // The first attempt reported Bob's change (true then); the second pinned all three.
    expect(events.map((event) => [event.type, address(event)])).toEqual([
      ["identity-changed", "bob/laptop"],
      ["identity-pinned", "carol/tablet"],
      ["identity-pinned", "bob/laptop"],
      ["identity-pinned", "dave/phone"],
    ]);
    // Bob's pin was forgotten during the first attempt: the second shares with him too.
    expect(shares.map(recipientOf)).toEqual(["carol/tablet", "bob/laptop", "dave/phone"]);
    expect(refused).toEqual([]);
    // Both attempts sealed on WebCrypto (2 shares, then 3); no share was made on noble.
    expect(webCallCounts().deriveBits).toBe(2 * (2 + 3));
    expect(webCallCounts().sign).toBe(2 + 3);
    expect(accept(shares[1]!, bob, alice)).toMatchObject({ keyVersion: 1 });
    expect(store.pinned("bob", "laptop")?.fingerprint).toBe(deviceFingerprint(bob.publicBundle));
  });

  it("shares synchronously, as shareRoomKeyWithTrust does then, after the store changed under three attempts", async () => {
    const { alice, bob, carol, dave, otherBob, keyring } = await room();
    const store = TrustStore.create();
    store.check(otherBob.publicBundle);
    const to = [carol.publicBundle, bob.publicBundle, dave.publicBundle];
    const events = recorder(store);
    const flips = flipBobWhileSealing(store, bob, otherBob, 3);
    const asyncResult = await shareRoomKeyWithTrustAsync({ keyring, from: alice, to, trustStore: store });
    expect(flips.flipped()).toBe(3);
    // Each attempt reported what was true when it began: Bob changed (first attempt); the second
    // flip pinned Bob's other keys again (its own event), so the third reported him changed again.
    // The synchronous share then pinned all three.
    expect(events.map((event) => [event.type, address(event)])).toEqual([
      ["identity-changed", "bob/laptop"],
      ["identity-pinned", "bob/laptop"],
      ["identity-changed", "bob/laptop"],
      ["identity-pinned", "carol/tablet"],
      ["identity-pinned", "bob/laptop"],
      ["identity-pinned", "dave/phone"],
    ]);
    // Three attempts on WebCrypto (2, 3 and 2 shares), then the synchronous share (on noble here).
    expect(webCallCounts().deriveBits).toBe(2 * (2 + 3 + 2));
    // The third flip forgot Bob's pin again: he is shared with, as the sync call on that store does.
    expect(asyncResult.shares.map(recipientOf)).toEqual(["carol/tablet", "bob/laptop", "dave/phone"]);
    expect(asyncResult.refused).toEqual([]);
    expect(accept(asyncResult.shares[1]!, bob, alice)).toMatchObject({ keyVersion: 1 });
  });

  it("reports a refusal seen in its last step before the keyring's rules reject it, as the sync call does", async () => {
    const { alice, bob, carol, otherBob, keyring } = await room();
    const thirdBob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const store = TrustStore.create();
    store.check(otherBob.publicBundle); // Bob refused when the call starts
    const events = recorder(store);
    onWebCall((method) => {
      if (method !== "deriveBits") return;
      onWebCall(undefined);
      // Still refused, now against other keys (not reported yet); and a member removed.
      store.acceptChangedIdentity(thirdBob.publicBundle);
      keyring.removeMember({ userId: "mallory" });
    });
    const outcome = await asyncOutcome(() => shareRoomKeyWithTrustAsync({ keyring, from: alice, to: [carol.publicBundle, bob.publicBundle], trustStore: store }));
    expect(outcome).toBe("ROTATION_REQUIRED");
    expect(events.map((event) => event.type)).toEqual(["identity-changed", "identity-pinned", "identity-changed"]);
    expect(store.pinned("carol", "tablet"), "nothing pinned by the call").toBeUndefined();
  });

  it("reads the keyring's rules in the step that pins: a member removed at any moment before it rejects the call, with nothing pinned", async () => {
    const { alice, bob } = await room();
    const outcomes = { rejected: 0, resolved: 0 };
    // The removal lands `depth` microtasks after the signature's result: for small depths while the
    // call is still finishing, for large ones after it returned. Whichever it is, the call either
    // saw it (rejected, nothing pinned) or finished before it (pinned first, then removed).
    for (let depth = 0; depth < 40; depth++) {
      const keyring = RoomKeyring.create({ roomId: ROOM });
      const store = TrustStore.create();
      const log: string[] = [];
      store.subscribe((event) => log.push(event.type));
      onWebResult((method) => {
        if (method !== "sign") return;
        onWebResult(undefined);
        let tick = 0;
        const step = (): void => {
          if (tick++ < depth) return queueMicrotask(step);
          log.push("member-removed");
          keyring.removeMember({ userId: "mallory" });
        };
        queueMicrotask(step);
      });
      const outcome = await asyncOutcome(() => shareRoomKeyWithTrustAsync({ keyring, from: alice, to: [bob.publicBundle], trustStore: store }));
      // Let the removal land, should the call have returned first.
      for (let tick = 0; tick <= depth + 1; tick++) await Promise.resolve();
      if (log[0] === "member-removed") {
        expect(outcome, `removed ${depth} microtasks after the signature, before the pins`).toBe("ROTATION_REQUIRED");
        expect(log, `events when removed ${depth} microtasks after the signature`).toEqual(["member-removed"]);
        expect(store.size).toBe(0);
        outcomes.rejected++;
      } else {
        expect(outcome, `removed ${depth} microtasks after the signature, after the pins`).toBe("shares");
        expect(log).toEqual(["identity-pinned", "member-removed"]);
        outcomes.resolved++;
      }
    }
    // Both sides of the moment were reached, so the sweep did cross it.
    expect(outcomes.rejected).toBeGreaterThan(0);
    expect(outcomes.resolved).toBeGreaterThan(0);
  });

  it("pins nothing until every share is sealed and signed, and reports a changed identity first, as the sync call does", async () => {
    const { alice, bob, carol, dave, otherBob, keyring } = await room();
    const store = TrustStore.create();
    store.check(otherBob.publicBundle);
    const events = recorder(store);
    const seen: string[] = [];
    onWebCall((method) => {
      if (method !== "deriveBits" && method !== "sign") return;
      seen.push(method);
      expect(events.map((event) => event.type), `events at a WebCrypto ${method} call`).toEqual(["identity-changed"]);
      expect(store.size, `pins at a WebCrypto ${method} call`).toBe(1);
    });
    const { shares, refused } = await shareRoomKeyWithTrustAsync({
      keyring,
      from: alice,
      to: [carol.publicBundle, bob.publicBundle, dave.publicBundle],
      trustStore: store,
    });
    webCryptoPath.expectCurvesUsed();
    expect(seen).toContain("deriveBits");
    expect(seen).toContain("sign");
    expect(shares.map(recipientOf)).toEqual(["carol/tablet", "dave/phone"]);
    expect(refused.map(address)).toEqual(["bob/laptop"]);
    expect(events.map((event) => event.type)).toEqual(["identity-changed", "identity-pinned", "identity-pinned"]);
  });
});
