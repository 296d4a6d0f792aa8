/**
 * `shareRoomKeyAsync` against its synchronous twin `shareRoomKey`, on both paths it can take:
 *
 * - "node:crypto": Node as it is (X25519 and Ed25519 on node:crypto, the same work as the sync call);
 * - "WebCrypto (as in a browser)": node:crypto hidden from the SDK and Node's own WebCrypto offered
 *   in its place, behind call counters that prove the curves really ran on WebCrypto.
 *
 * On each path it checks that the shares come in the order of `to`, have the sync result's shape
 * and open with `acceptRoomKeyShare` on each recipient; that sync and async shares of one version
 * carry the same key; that every refusal of the sync call is a rejection with the same E2eeError
 * code; that a call with one bad recipient rejects as a whole; and what happens when the sender
 * device or the keyring changes while the call is in flight.
 */
import type { RoomKeyShareV1 } from "@domvia/e2ee-envelope";
import {
  createDeviceIdentity,
  getNativeCrypto as packageGetNativeCrypto,
  setNativeCrypto as packageSetNativeCrypto,
  type DeviceIdentity,
} from "@domvia/e2ee-crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// The crypto package's own native.ts (not on its public entry): vitest resolves
// "@domvia/e2ee-crypto" to packages/crypto/src, so the backend switch the test paths use
// (test/support/crypto-paths.ts) reaches the module the packages use; the first test checks it.
import { getNativeCrypto, setNativeCrypto } from "../../crypto/src/native";
import { selfSignedBundle, withFlippedSignature } from "../../../test/support/bundles";
import { nodePath, onWebCall, webCallCounts, webCryptoPath } from "../../../test/support/crypto-paths";
import { U_ONE, U_ZERO, address, asyncOutcome, expectRejection, recipientOf, shape, syncOutcome } from "../../../test/support/sharing";
import {
  RoomKeyring,
  acceptRoomKeyShare,
  createKeyBackup,
  createRecoveryKey,
  restoreKeyBackup,
  shareRoomKey,
  shareRoomKeyAsync,
  type ShareRoomKeyOptions,
} from "./index";

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

const ROOM = "room-1";

/** Alice's phone sends; five recipient devices, one of them Alice's own laptop. */
async function room() {
  const [alice, aliceLaptop, bob, carol, dave, erin] = await Promise.all([
    createDeviceIdentity({ userId: "alice", deviceId: "phone" }),
    createDeviceIdentity({ userId: "alice", deviceId: "laptop" }),
    createDeviceIdentity({ userId: "bob", deviceId: "laptop" }),
    createDeviceIdentity({ userId: "carol", deviceId: "tablet" }),
    createDeviceIdentity({ userId: "dave", deviceId: "phone" }),
    createDeviceIdentity({ userId: "erin", deviceId: "desk" }),
  ]);
  // Deliberately not sorted by user or device.
  const recipients = [erin!, aliceLaptop!, carol!, bob!, dave!];
  return { alice: alice!, aliceLaptop: aliceLaptop!, bob: bob!, carol: carol!, dave: dave!, erin: erin!, recipients, keyring: RoomKeyring.create({ roomId: ROOM }) };
}



function accept(share: RoomKeyShareV1, device: DeviceIdentity, sender: DeviceIdentity, keyring: RoomKeyring) {
  return acceptRoomKeyShare({ share, device, senderBundle: sender.publicBundle, keyring, isRoomMember: () => true });
}







/** Runs both calls on the same input (async first: it meets the bundles unverified) and compares. */
async function expectSameRefusal(options: ShareRoomKeyOptions, code: string): Promise<void> {
  const asyncResult = await asyncOutcome(() => shareRoomKeyAsync(options));
  const syncResult = syncOutcome(() => shareRoomKey(options));
  expect({ async: asyncResult, sync: syncResult }).toEqual({ async: code, sync: code });
}


// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

it("reaches the crypto package's own native.ts through the relative import", () => {
  expect(packageSetNativeCrypto).toBe(setNativeCrypto);
  expect(packageGetNativeCrypto).toBe(getNativeCrypto);
});

describe.each([nodePath, webCryptoPath])("shareRoomKeyAsync on $name", (path) => {
  beforeEach(async () => {
    await path.setUp();
  });

  afterEach(() => {
    path.tearDown();
  });

  it("shares to five devices in the order of `to`, as the sync call does, and each share opens on its device", async () => {
    const { alice, recipients, keyring } = await room();
    const to = recipients.map((device) => device.publicBundle);
    const shares = await shareRoomKeyAsync({ keyring, from: alice, to });
    path.expectCurvesUsed();

    expect(shares.map(recipientOf)).toEqual(recipients.map(address));
    const syncShares = shareRoomKey({ keyring, from: alice, to });
    expect(shares.map(shape)).toEqual(syncShares.map(shape));
    for (const share of shares) {
      expect(share).toMatchObject({ roomId: ROOM, keyId: keyring.currentKeyId, keyVersion: 1, senderUserId: "alice", senderDeviceId: "phone" });
    }

    // Each share opens (its signature verifies) on its own device only, and gives the sender's key.
    const envelope = await keyring.encryptChatJson({ body: "hello room" }, { messageId: "m-1" });
    for (const [index, device] of recipients.entries()) {
      const received = RoomKeyring.empty({ roomId: ROOM });
      const accepted = accept(shares[index]!, device, alice, received);
      expect(accepted).toMatchObject({ keyId: keyring.currentKeyId, keyVersion: 1, becameCurrent: true, sender: { userId: "alice", deviceId: "phone" } });
      expect(received.has(1, keyring.currentKeyId!)).toBe(true);
      expect(await received.decryptChatJson(envelope, { roomId: ROOM, messageId: "m-1" })).toEqual({ body: "hello room" });
      const other = recipients[(index + 1) % recipients.length]!;
      await expectRejection(Promise.resolve().then(() => accept(shares[index]!, other, alice, RoomKeyring.empty({ roomId: ROOM }))), "SHARE_MISADDRESSED");
    }
  });

  it("gives shares that open alongside the sync call's, with the same key for the same version", async () => {
    const { alice, bob, keyring } = await room();
    const bobRoom = RoomKeyring.empty({ roomId: ROOM });

    const [async1] = await shareRoomKeyAsync({ keyring, from: alice, to: [bob.publicBundle] });
    path.expectCurvesUsed();
    expect(accept(async1!, bob, alice, bobRoom)).toMatchObject({ keyVersion: 1, becameCurrent: true });
    const [sync1] = shareRoomKey({ keyring, from: alice, to: [bob.publicBundle] });
    // A different key under the same version would be KEY_CONFLICT.
    expect(accept(sync1!, bob, alice, bobRoom)).toMatchObject({ keyVersion: 1 });

    keyring.rotate({ reason: "manual" });
    const [sync2] = shareRoomKey({ keyring, from: alice, to: [bob.publicBundle] });
    expect(accept(sync2!, bob, alice, bobRoom)).toMatchObject({ keyVersion: 2, becameCurrent: true });
    const [async2] = await shareRoomKeyAsync({ keyring, from: alice, to: [bob.publicBundle] });
    expect(accept(async2!, bob, alice, bobRoom)).toMatchObject({ keyVersion: 2 });

    expect(bobRoom.versions.map((info) => [info.keyVersion, info.keyId])).toEqual(keyring.versions.map((info) => [info.keyVersion, info.keyId]));
    const envelope = await keyring.encryptChatJson({ body: "after rotation" }, { messageId: "m-2" });
    expect(await bobRoom.decryptChatJson(envelope, { roomId: ROOM, messageId: "m-2" })).toEqual({ body: "after rotation" });
  });

  it("gives no shares for an empty `to`, and still applies the keyring's rules", async () => {
    const { alice, keyring } = await room();
    expect(await shareRoomKeyAsync({ keyring, from: alice, to: [] })).toEqual([]);
    keyring.removeMember({ userId: "mallory" });
    await expectSameRefusal({ keyring, from: alice, to: [] }, "ROTATION_REQUIRED");
  });

  describe("refuses what the sync call refuses, as a rejection with the same code", () => {
    type Room = Awaited<ReturnType<typeof room>>;
    const cases: readonly [string, (r: Room) => Promise<ShareRoomKeyOptions> | ShareRoomKeyOptions, string][] = [
      [
        "the current version after a member was removed, before rotating",
        ({ alice, bob, keyring }) => {
          keyring.removeMember({ userId: "mallory" });
          return { keyring, from: alice, to: [bob.publicBundle] };
        },
        "ROTATION_REQUIRED",
      ],
      [
        "the current version after a device was revoked, before rotating",
        ({ alice, bob, keyring }) => {
          keyring.revokeDevice({ userId: "mallory", deviceId: "phone" });
          return { keyring, from: alice, to: [bob.publicBundle] };
        },
        "ROTATION_REQUIRED",
      ],
      [
        "the current version while a manual rotation is required",
        ({ alice, bob, keyring }) => {
          keyring.requireRotation("manual");
          return { keyring, from: alice, to: [bob.publicBundle] };
        },
        "ROTATION_REQUIRED",
      ],
      ["a version the keyring does not hold", ({ alice, bob, keyring }) => ({ keyring, keyVersion: 7, from: alice, to: [bob.publicBundle] }), "UNKNOWN_KEY"],
      [
        "a key id the keyring does not hold",
        ({ alice, bob, keyring }) => ({ keyring, keyVersion: 1, keyId: "v1-AAAAAAAA", from: alice, to: [bob.publicBundle] }),
        "UNKNOWN_KEY",
      ],
      [
        "an older version created not shareable",
        ({ alice, bob, keyring }) => {
          keyring.rotate({ reason: "manual" });
          return { keyring, keyVersion: 1, from: alice, to: [bob.publicBundle] };
        },
        "KEY_WITHHELD",
      ],
      [
        "a version only restored from a backup",
        async ({ alice, bob, keyring }) => {
          const recoveryKey = await createRecoveryKey();
          const [restored] = await restoreKeyBackup({ backup: createKeyBackup({ keyrings: [keyring], recoveryKey }), recoveryKey });
          return { keyring: restored!, from: alice, to: [bob.publicBundle] };
        },
        "KEY_WITHHELD",
      ],
      [
        "a revoked sender device",
        ({ alice, bob, keyring }) => {
          keyring.revokeDevice({ userId: "alice", deviceId: "phone" });
          keyring.rotate({ reason: "device-revoked" });
          return { keyring, from: alice, to: [bob.publicBundle] };
        },
        "DEVICE_REVOKED",
      ],
      [
        "a sender whose user was removed",
        ({ alice, bob, keyring }) => {
          keyring.removeMember({ userId: "alice" });
          keyring.rotate({ reason: "member-removed" });
          return { keyring, from: alice, to: [bob.publicBundle] };
        },
        "DEVICE_REVOKED",
      ],
      [
        "a revoked recipient device among good ones",
        ({ alice, bob, carol, dave, keyring }) => {
          keyring.revokeDevice({ userId: "carol", deviceId: "tablet" });
          keyring.rotate({ reason: "device-revoked" });
          return { keyring, from: alice, to: [bob.publicBundle, carol.publicBundle, dave.publicBundle] };
        },
        "DEVICE_REVOKED",
      ],
      [
        "a recipient whose user was removed, among good ones",
        ({ alice, bob, carol, dave, keyring }) => {
          keyring.removeMember({ userId: "dave" });
          keyring.rotate({ reason: "member-removed" });
          return { keyring, from: alice, to: [bob.publicBundle, carol.publicBundle, dave.publicBundle] };
        },
        "DEVICE_REVOKED",
      ],
      [
        "a bundle that is not a bundle",
        ({ alice, bob, keyring }) => ({ keyring, from: alice, to: [bob.publicBundle, { hello: "world" }] }),
        "INVALID_ENVELOPE",
      ],
      [
        "a bundle whose agreement key is not base64url",
        ({ alice, bob, carol, keyring }) => ({ keyring, from: alice, to: [bob.publicBundle, { ...carol.publicBundle, agreementKey: "!".repeat(43) }] }),
        "INVALID_ENVELOPE",
      ],
      [
        "a bundle of an unknown format version",
        ({ alice, bob, carol, keyring }) => ({ keyring, from: alice, to: [bob.publicBundle, { ...carol.publicBundle, v: 2 }] }),
        "UNSUPPORTED_VERSION",
      ],
      [
        "a bundle's JSON text over 4,096 characters",
        ({ alice, bob, carol, keyring }) => ({ keyring, from: alice, to: [bob.publicBundle, JSON.stringify(carol.publicBundle).padEnd(5000, " ")] }),
        "PAYLOAD_TOO_LARGE",
      ],
      [
        "a bundle whose signature has a flipped bit",
        ({ alice, bob, carol, keyring }) => ({ keyring, from: alice, to: [bob.publicBundle, withFlippedSignature(carol.publicBundle)] }),
        "BAD_SIGNATURE",
      ],
      [
        "a bundle naming another device's agreement key",
        ({ alice, bob, carol, keyring }) => ({ keyring, from: alice, to: [{ ...carol.publicBundle, agreementKey: bob.publicBundle.agreementKey }] }),
        "BAD_SIGNATURE",
      ],
      [
        "a self-signed bundle whose agreement key is u = 0 (low order)",
        ({ alice, bob, keyring }) => ({ keyring, from: alice, to: [bob.publicBundle, selfSignedBundle("mallory", "m1", U_ZERO)] }),
        "INVALID_KEY",
      ],
      [
        "a self-signed bundle whose agreement key is u = 1 (low order)",
        ({ alice, bob, keyring }) => ({ keyring, from: alice, to: [selfSignedBundle("mallory", "m1", U_ONE), bob.publicBundle] }),
        "INVALID_KEY",
      ],
      [
        "a destroyed sender",
        ({ alice, bob, keyring }) => {
          alice.destroy();
          return { keyring, from: alice, to: [bob.publicBundle] };
        },
        "INVALID_KEY",
      ],
      [
        "something other than a RoomKeyring",
        ({ alice, bob, keyring }) => ({ keyring: { ...keyring, roomId: ROOM } as unknown as RoomKeyring, from: alice, to: [bob.publicBundle] }),
        "TypeError",
      ],
    ];

    it.each(cases)("%s", async (_name, build, code) => {
      await expectSameRefusal(await build(await room()), code);
    });
  });

  describe("all or nothing", () => {
    it("rejects BAD_SIGNATURE for three good bundles and one forged, wherever the forged one stands", async () => {
      const { alice, bob, carol, dave, erin, keyring } = await room();
      const good = [bob.publicBundle, carol.publicBundle, dave.publicBundle];
      const forged = withFlippedSignature(erin.publicBundle);
      await expectRejection(shareRoomKeyAsync({ keyring, from: alice, to: [...good, forged] }), "BAD_SIGNATURE");
      await expectRejection(shareRoomKeyAsync({ keyring, from: alice, to: [forged, ...good] }), "BAD_SIGNATURE");
      // The same list without it shares to all three, and the real bundle verifies.
      expect((await shareRoomKeyAsync({ keyring, from: alice, to: good })).map(recipientOf)).toEqual(["bob/laptop", "carol/tablet", "dave/phone"]);
      expect(await shareRoomKeyAsync({ keyring, from: alice, to: [erin.publicBundle] })).toHaveLength(1);
    });

    it("rejects INVALID_KEY for three good bundles and one self-signed low-order agreement key, wherever it stands", async () => {
      const { alice, bob, carol, dave, keyring } = await room();
      const good = [bob.publicBundle, carol.publicBundle, dave.publicBundle];
      for (const lowOrder of [U_ZERO, U_ONE]) {
        const hostile = selfSignedBundle("mallory", "m1", lowOrder);
        await expectRejection(shareRoomKeyAsync({ keyring, from: alice, to: [...good, hostile] }), "INVALID_KEY");
        await expectRejection(shareRoomKeyAsync({ keyring, from: alice, to: [good[0]!, hostile, ...good.slice(1)] }), "INVALID_KEY");
      }
      const shares = await shareRoomKeyAsync({ keyring, from: alice, to: good });
      path.expectCurvesUsed({ verifiedFreshBundles: false });
      expect(shares.map(recipientOf)).toEqual(["bob/laptop", "carol/tablet", "dave/phone"]);
    });

    it("rejects with the error of the first bad bundle in `to`, as the sync call throws, whichever fails first in time", async () => {
      const { alice, erin, keyring } = await room();
      const forged = withFlippedSignature(erin.publicBundle); // fails only after a signature check
      const others: [unknown, string][] = [
        [{ not: "a bundle" }, "INVALID_ENVELOPE"],
        [{ ...erin.publicBundle, v: 2 }, "UNSUPPORTED_VERSION"],
        [JSON.stringify({ ...erin.publicBundle, deviceId: "x".repeat(5000) }), "PAYLOAD_TOO_LARGE"],
      ];
      for (const [other, code] of others) {
        await expectSameRefusal({ keyring, from: alice, to: [forged, other] }, "BAD_SIGNATURE");
        await expectSameRefusal({ keyring, from: alice, to: [other, forged] }, code);
      }
    });
  });

  describe("changes while the call is in flight", () => {
    it("rejects INVALID_KEY when the sender is destroyed right after the call, before it is awaited", async () => {
      const { alice, recipients, keyring } = await room();
      const to = recipients.map((device) => device.publicBundle);
      const pending = shareRoomKeyAsync({ keyring, from: alice, to });
      alice.destroy();
      // Every seal reads the sender's keys after the bundles verified: always too late.
      await expectRejection(pending, "INVALID_KEY");

      // The same with bundles already verified (cached): the call still yields before sealing.
      const bobby = await createDeviceIdentity({ userId: "bob", deviceId: "phone" });
      expect(await shareRoomKeyAsync({ keyring, from: bobby, to })).toHaveLength(5);
      const again = shareRoomKeyAsync({ keyring, from: bobby, to });
      bobby.destroy();
      await expectRejection(again, "INVALID_KEY");
    });

    it("rejects ROTATION_REQUIRED when a member is removed from the keyring while the bundles verify", async () => {
      const { alice, recipients, keyring } = await room();
      const pending = shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) });
      keyring.removeMember({ userId: "mallory" });
      await expectRejection(pending, "ROTATION_REQUIRED");
    });

    it("rejects ROTATION_REQUIRED when a recipient's device is revoked while the bundles verify", async () => {
      const { alice, recipients, keyring } = await room();
      const pending = shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) });
      keyring.revokeDevice({ userId: "carol", deviceId: "tablet" });
      await expectRejection(pending, "ROTATION_REQUIRED");
    });

    it("rejects DEVICE_REVOKED when the sender's device is revoked while the bundles verify", async () => {
      const { alice, recipients, keyring } = await room();
      const pending = shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) });
      keyring.revokeDevice({ userId: "alice", deviceId: "phone" });
      await expectRejection(pending, "DEVICE_REVOKED");
    });

    it("keeps the version chosen at the call: a removal and rotation meanwhile make it KEY_WITHHELD, not the new one", async () => {
      const { alice, recipients, keyring } = await room();
      const pending = shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) });
      keyring.removeMember({ userId: "mallory" });
      keyring.rotate({ reason: "member-removed" });
      // Version 1 is no longer current and was not created shareable.
      await expectRejection(pending, "KEY_WITHHELD");
    });

    it("rejects INVALID_KEY when the keyring is destroyed meanwhile", async () => {
      const { alice, recipients, keyring } = await room();
      const pending = shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) });
      keyring.destroy();
      await expectRejection(pending, "INVALID_KEY");
    });
  });
});

describe("on WebCrypto only: a sender destroyed while its shares are being sealed", () => {
  beforeEach(async () => {
    await webCryptoPath.setUp();
  });

  afterEach(() => {
    webCryptoPath.tearDown();
  });

  it("rejects INVALID_KEY and signs nothing: the sender's keys are read again after the X25519 step", async () => {
    const { alice, recipients, keyring } = await room();
    // Destroyed from inside the first X25519 derivation, i.e. after every seal checked its options.
    onWebCall((method) => {
      if (method !== "deriveBits") return;
      onWebCall(undefined);
      alice.destroy();
    });
    await expectRejection(shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) }), "INVALID_KEY");
    expect(alice.destroyed).toBe(true);
    expect(webCallCounts().deriveBits).toBeGreaterThan(0);
    expect(webCallCounts().sign).toBe(0);
  });

  it("rejects ROTATION_REQUIRED, with no shares, when a member is removed while the shares are being sealed", async () => {
    const { alice, recipients, keyring } = await room();
    // Removed from inside the first X25519 derivation: after the rules were read again for the
    // verified bundles, before any share is returned.
    onWebCall((method) => {
      if (method !== "deriveBits") return;
      onWebCall(undefined);
      keyring.removeMember({ userId: "mallory" });
    });
    await expectRejection(shareRoomKeyAsync({ keyring, from: alice, to: recipients.map((device) => device.publicBundle) }), "ROTATION_REQUIRED");
    expect(webCallCounts().deriveBits).toBeGreaterThan(0);
    expect(keyring.needsRotation()).toBe("member-removed");
  });
});
