/**
 * The asynchronous key-sharing calls on WebCrypto's X25519 and Ed25519, as browsers run them.
 * Node 20's own WebCrypto stands in for a browser's, with node:crypto hidden from the SDK. Every
 * WebCrypto result is cross-checked against noble: random inputs, the RFC test values, and all of
 * Wycheproof's x25519 and ed25519 cases (skipped, with a message, when ../shared is absent). A
 * WebCrypto that fails its self-test, or lacks the curves, leaves the SDK on noble.
 * (test/browser/webcrypto-curves.browser.mjs runs the same cases in Chromium, in `pnpm test:browser`.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDeviceIdentity, verifyDeviceBundle, verifyDeviceBundleAsync } from "./device-identity";
import { hpkeSeal, hpkeSealAsync } from "./hpke";
import { openRoomKeyShare, sealRoomKeyShare, sealRoomKeyShareAsync } from "./key-share";
import { CURVES_SELF_TEST_MS, getNativeCrypto, nativeCurves, setNativeBackendsForTesting, setNativeCrypto, type WebCryptoCurves } from "./native";
import { generateRoomKeySync, roomKeysEqual } from "./room-key";
import { isCanonicalSignature, signAsync, verify, verifyAsync } from "./signing";
import { x25519ExchangeAsync } from "./x25519";
import { selfSignedBundle } from "../../../test/support/bundles";
import { CURVE_METHODS, countingCurves, type CurveCalls } from "../../../test/support/crypto-paths";

const WYCHEPROOF = join(dirname(fileURLToPath(import.meta.url)), "../../../../shared/vectors/wycheproof");
const subtle = globalThis.crypto.subtle as unknown as WebCryptoCurves;

/** Hides node:crypto and offers Node's WebCrypto (a browser's), behind counters; returns them. */
async function asBrowser(replace: Partial<WebCryptoCurves> = {}): Promise<CurveCalls> {
  const { curves, calls } = countingCurves(replace);
  setNativeBackendsForTesting({ node: undefined, curves });
  await nativeCurves(); // the self-test
  for (const name of CURVE_METHODS) calls[name] = 0;
  return calls;
}

const randomKey = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32));
const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });

beforeEach(() => {
  setNativeCrypto("auto");
});

afterEach(() => {
  setNativeCrypto("auto");
  setNativeBackendsForTesting({ node: null, subtle: null, curves: null });
});

describe("which path the asynchronous calls take", () => {
  it("reports WebCrypto only once its self-test passed, and node:crypto or noble elsewhere", async () => {
    expect(getNativeCrypto().asyncCurves).toBe("node:crypto");
    setNativeCrypto("off");
    expect(getNativeCrypto().asyncCurves).toBe("noble");
    setNativeCrypto("auto");
    setNativeBackendsForTesting({ node: undefined, curves: null });
    expect(getNativeCrypto().asyncCurves).toBe("untested");
    await expect(nativeCurves()).resolves.toBeDefined();
    expect(getNativeCrypto().asyncCurves).toBe("webcrypto");
    setNativeCrypto("off");
    await expect(nativeCurves()).resolves.toBeUndefined();
    expect(getNativeCrypto().asyncCurves).toBe("noble");
  });

  it("uses node:crypto, not WebCrypto, where node:crypto is there", async () => {
    const { curves, calls } = countingCurves();
    setNativeBackendsForTesting({ curves });
    await x25519ExchangeAsync(randomKey(), x25519.getPublicKey(randomKey()));
    await verifyAsync(new Uint8Array(64), new Uint8Array(3), ed25519.getPublicKey(randomKey()));
    await signAsync(randomKey(), new Uint8Array(3));
    expect(Object.values(calls).every((count) => count === 0)).toBe(true);
  });

  it("stays on noble when WebCrypto gives a wrong signature in its self-test", async () => {
    const calls = await asBrowser({ sign: async () => new Uint8Array(64).buffer });
    expect(getNativeCrypto().asyncCurves).toBe("noble");
    const seed = randomKey();
    const message = new TextEncoder().encode("self-test failed");
    expect(bytesToHex(await signAsync(seed, message))).toBe(bytesToHex(ed25519.sign(message, seed)));
    expect(calls.sign).toBe(0);
  });

  it("stays on noble when WebCrypto accepts a malleable signature in its self-test", async () => {
    await asBrowser({ verify: async () => true });
    expect(getNativeCrypto().asyncCurves).toBe("noble");
  });

  it("stays on noble when WebCrypto's X25519 gives a wrong answer in its self-test", async () => {
    await asBrowser({ deriveBits: async () => new Uint8Array(32).buffer });
    expect(getNativeCrypto().asyncCurves).toBe("noble");
  });

  it("stays on noble when the self-test does not settle in time", async () => {
    vi.useFakeTimers();
    try {
      const { curves } = countingCurves({ importKey: () => new Promise<never>(() => undefined) });
      setNativeBackendsForTesting({ node: undefined, curves });
      const pending = nativeCurves();
      expect(getNativeCrypto().asyncCurves).toBe("untested");
      await vi.advanceTimersByTimeAsync(CURVES_SELF_TEST_MS);
      await expect(pending).resolves.toBeUndefined();
      expect(getNativeCrypto().asyncCurves).toBe("noble");
    } finally {
      vi.useRealTimers();
    }
  });

  /**
   * A self-test held back (its first `importKey` waits for `release`) past its time, then let run
   * on `curves` after the first call went to noble: what later calls use.
   */
  async function selfTestAfterItsTime(replace: Partial<WebCryptoCurves> = {}, beforeRelease: () => void = () => undefined) {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { curves, calls } = countingCurves({
      ...replace,
      importKey: async (format, key, ...rest) => {
        const copy = key.slice(); // as WebCrypto does before it returns: the SDK wipes its buffer
        await held;
        return subtle.importKey(format, copy, ...rest);
      },
    });
    vi.useFakeTimers();
    try {
      setNativeBackendsForTesting({ node: undefined, curves });
      const first = nativeCurves();
      await vi.advanceTimersByTimeAsync(CURVES_SELF_TEST_MS);
      await expect(first, "the call waiting for the self-test when its time ran out").resolves.toBeUndefined();
      expect(getNativeCrypto().asyncCurves).toBe("noble");
    } finally {
      vi.useRealTimers();
    }
    beforeRelease();
    release();
    // The self-test now runs to its end (two verifications are its last calls).
    await vi.waitFor(() => expect(calls.verify).toBe(2));
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { curves, calls };
  }

  it("uses WebCrypto for later calls when the self-test passes after its time ran out", async () => {
    const { curves, calls } = await selfTestAfterItsTime();
    expect(getNativeCrypto().asyncCurves).toBe("webcrypto");
    await expect(nativeCurves()).resolves.toBe(curves);
    const seed = randomKey();
    const message = new TextEncoder().encode("after a late self-test");
    const signsBefore = calls.sign;
    expect(bytesToHex(await signAsync(seed, message))).toBe(bytesToHex(ed25519.sign(message, seed)));
    expect(calls.sign, "the signature made on WebCrypto").toBe(signsBefore + 1);
  });

  it("stays on noble when the self-test fails after its time ran out", async () => {
    // It accepts the malleated signature: the self-test's last check fails.
    const { calls } = await selfTestAfterItsTime({ verify: async () => true });
    expect(getNativeCrypto().asyncCurves).toBe("noble");
    await expect(nativeCurves()).resolves.toBeUndefined();
    const signsBefore = calls.sign;
    const seed = randomKey();
    const message = new TextEncoder().encode("after a failed late self-test");
    expect(bytesToHex(await signAsync(seed, message))).toBe(bytesToHex(ed25519.sign(message, seed)));
    expect(calls.sign, "no signature on WebCrypto").toBe(signsBefore);
  });

  it("keeps a late pass from switching to WebCrypto a candidate that was replaced meanwhile", async () => {
    const other = countingCurves();
    await selfTestAfterItsTime({}, () => setNativeBackendsForTesting({ curves: other.curves }));
    expect(getNativeCrypto().asyncCurves, "the new candidate, not tested yet").toBe("untested");
    await expect(nativeCurves()).resolves.toBe(other.curves);
    expect(other.calls.verify, "the new candidate's own self-test").toBe(2);
  });

  it("runs one self-test for many first calls, and none on WebCrypto once switched off while it ran", async () => {
    const { curves, calls } = countingCurves();
    setNativeBackendsForTesting({ node: undefined, curves });
    const seed = randomKey();
    const message = new TextEncoder().encode("many at once");
    const signatures = await Promise.all(Array.from({ length: 100 }, () => signAsync(seed, message)));
    expect(new Set(signatures.map(bytesToHex))).toEqual(new Set([bytesToHex(ed25519.sign(message, seed))]));
    expect(calls.verify, "the self-test's two verifications, once").toBe(2);
    expect(calls.sign, "the self-test's signature and the 100").toBe(101);

    setNativeBackendsForTesting({ curves });
    const pending = nativeCurves();
    setNativeCrypto("off");
    await expect(pending).resolves.toBeUndefined();
  });

  it("stays on noble when WebCrypto lacks the curves", async () => {
    const notSupported = async (): Promise<never> => {
      throw new DOMException("Unrecognized name.", "NotSupportedError");
    };
    const calls = await asBrowser({ importKey: notSupported });
    expect(getNativeCrypto().asyncCurves).toBe("noble");
    const secret = randomKey();
    const peer = x25519.getPublicKey(randomKey());
    const { shared, ownPublicKey } = await x25519ExchangeAsync(secret, peer);
    expect(bytesToHex(shared)).toBe(bytesToHex(x25519.getSharedSecret(secret, peer)));
    expect(bytesToHex(ownPublicKey)).toBe(bytesToHex(x25519.getPublicKey(secret)));
    expect(calls.importKey).toBe(0);
  });
});

describe("X25519 on WebCrypto gives noble's bytes and verdicts", () => {
  it("agrees on random keys, and computes the ephemeral public key", async () => {
    const calls = await asBrowser();
    for (let i = 0; i < 40; i++) {
      const [secret, peer] = [randomKey(), x25519.getPublicKey(randomKey())];
      const { shared, ownPublicKey } = await x25519ExchangeAsync(secret, peer);
      expect(bytesToHex(shared)).toBe(bytesToHex(x25519.getSharedSecret(secret, peer)));
      expect(bytesToHex(ownPublicKey)).toBe(bytesToHex(x25519.getPublicKey(secret)));
    }
    expect(calls.deriveBits).toBe(80); // the agreement and X25519(secret, 9) for the public key
  });

  it("agrees on every Wycheproof x25519 case (a rejection on one is a rejection on both)", async (context) => {
    const file = join(WYCHEPROOF, "x25519_test.json");
    if (!existsSync(file)) return context.skip(`Wycheproof vectors not found at ${WYCHEPROOF}`);
    const suite = JSON.parse(readFileSync(file, "utf8")) as {
      testGroups: { tests: { tcId: number; private: string; public: string }[] }[];
    };
    const calls = await asBrowser();
    const outcome = (shared: Uint8Array): string => (shared.every((byte) => byte === 0) ? "rejected" : bytesToHex(shared));
    let cases = 0;
    for (const group of suite.testGroups) {
      for (const test of group.tests) {
        const [secret, publicKey] = [hexToBytes(test.private), hexToBytes(test.public)];
        const web = await x25519ExchangeAsync(secret, publicKey).then(
          ({ shared }) => outcome(shared),
          () => "rejected",
        );
        let noble: string;
        try {
          noble = outcome(x25519.getSharedSecret(secret, publicKey));
        } catch {
          noble = "rejected";
        }
        expect(web, `tcId ${test.tcId}`).toBe(noble);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(500);
    expect(calls.deriveBits, "cases that reached WebCrypto").toBeGreaterThan(500);
  });

  it("leaves public keys in a form no honest device sends (top bit set, u ≥ p) to noble", async () => {
    const calls = await asBrowser();
    const secret = randomKey();
    const topBit = x25519.getPublicKey(randomKey());
    topBit[31]! |= 0x80;
    const aboveP = hexToBytes(`f0${"ff".repeat(30)}7f`); // p + 3: u = 3 after reduction
    for (const peer of [topBit, aboveP]) {
      const { shared } = await x25519ExchangeAsync(secret, peer);
      expect(bytesToHex(shared)).toBe(bytesToHex(x25519.getSharedSecret(secret, peer)));
    }
    expect(calls.deriveBits).toBe(0);
  });

  it("HPKE with a fixed ephemeral key seals to the same bytes as the synchronous call", async () => {
    await asBrowser();
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), bytes(0, 64), bytes(0, 64), bytes(0, 100), async (ephemeralSecretKey, info, aad, plaintext) => {
        const input = { recipientPublicKey: x25519.getPublicKey(randomKey()), info, aad, plaintext, ephemeralSecretKey };
        const web = await hpkeSealAsync(input);
        const noble = hpkeSeal(input); // node:crypto is hidden: noble
        expect(bytesToHex(web.enc)).toBe(bytesToHex(noble.enc));
        expect(bytesToHex(web.ciphertext)).toBe(bytesToHex(noble.ciphertext));
      }),
      { numRuns: 30 },
    );
  });
});

describe("Ed25519 on WebCrypto gives noble's bytes and verdicts", () => {
  it("signs with the same bytes on random seeds and messages", async () => {
    const calls = await asBrowser();
    await fc.assert(
      fc.asyncProperty(bytes(32, 32), bytes(0, 300), async (seed, message) => {
        expect(bytesToHex(await signAsync(seed, message))).toBe(bytesToHex(ed25519.sign(message, seed)));
      }),
      { numRuns: 60 },
    );
    expect(calls.sign).toBe(60);
  });

  it("verifies as noble's strict mode on crafted inputs", async () => {
    const calls = await asBrowser();
    const seed = randomKey();
    const publicKey = ed25519.getPublicKey(seed);
    const message = new TextEncoder().encode("crafted");
    const signature = ed25519.sign(message, seed);
    expect(await verifyAsync(signature, message, publicKey)).toBe(true);
    expect(await verifyAsync(signature, new TextEncoder().encode("crafted!"), publicKey)).toBe(false);
    const flipped = signature.slice();
    flipped[5]! ^= 1;
    expect(await verifyAsync(flipped, message, publicKey)).toBe(false);
    expect(await verifyAsync(signature.subarray(0, 63), message, publicKey)).toBe(false);
    expect(await verifyAsync(signature, message, new Uint8Array(32))).toBe(false); // small order
    expect(await verifyAsync(signature, message, hexToBytes(`ee${"ff".repeat(30)}7f`))).toBe(false); // y ≥ p
    expect(await verifyAsync("nope" as unknown as Uint8Array, message, publicKey)).toBe(false);
    expect(calls.verify).toBeGreaterThan(0);
  });

  it("hands WebCrypto only canonical signatures: R's encoding and S < L checked on the bytes first", async () => {
    const calls = await asBrowser();
    const seed = randomKey();
    const publicKey = ed25519.getPublicKey(seed);
    const message = new TextEncoder().encode("canonical");
    const signature = ed25519.sign(message, seed);
    expect(isCanonicalSignature(signature)).toBe(true);
    const withR = (r: string) => Uint8Array.from([...hexToBytes(r), ...signature.subarray(32)]);
    const withS = (sHex: string) => Uint8Array.from([...signature.subarray(0, 32), ...hexToBytes(sHex)]);
    const L = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    const refused = [
      withR(`ee${"ff".repeat(30)}7f`), // y = p + 1 ≥ p
      withR(`01${"00".repeat(30)}80`), // (0, 1) with the sign bit set
      withR(`ec${"ff".repeat(30)}ff`), // (0, −1) with the sign bit set
      withS(L), // S = L
      withS(`ee${L.slice(2)}`), // S = L + 1
      withS("ff".repeat(32)),
    ];
    for (const bad of refused) {
      expect(isCanonicalSignature(bad), bytesToHex(bad)).toBe(false);
      expect(await verifyAsync(bad, message, publicKey)).toBe(false);
    }
    expect(withS(`ec${L.slice(2)}`).length === 64 && isCanonicalSignature(withS(`ec${L.slice(2)}`))).toBe(true); // S = L − 1
    expect(calls.verify, "none of them reached WebCrypto").toBe(0);
    expect(await verifyAsync(signature, message, publicKey)).toBe(true);
    expect(calls.verify).toBe(1);
  });

  it("verifies as noble's strict mode on every Wycheproof ed25519 case", async (context) => {
    const file = join(WYCHEPROOF, "ed25519_test.json");
    if (!existsSync(file)) return context.skip(`Wycheproof vectors not found at ${WYCHEPROOF}`);
    const suite = JSON.parse(readFileSync(file, "utf8")) as {
      testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[];
    };
    const calls = await asBrowser();
    let cases = 0;
    for (const group of suite.testGroups) {
      const publicKey = hexToBytes(group.publicKey.pk);
      for (const test of group.tests) {
        const [message, signature] = [hexToBytes(test.msg), hexToBytes(test.sig)];
        const web = await verifyAsync(signature, message, publicKey);
        expect(web, `tcId ${test.tcId}`).toBe(verify(signature, message, publicKey)); // node:crypto hidden: noble
        expect(web, `tcId ${test.tcId}`).toBe(test.result === "valid");
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(100);
    expect(calls.verify, "cases that reached WebCrypto").toBeGreaterThan(50);
  });
});

describe("key shares sealed on WebCrypto", () => {
  const roomId = "room-42";

  it("open on the synchronous path, and their bundle verification is cached as before", async () => {
    const calls = await asBrowser();
    const [alice, bob] = await Promise.all([createDeviceIdentity({ userId: "alice", deviceId: "phone" }), createDeviceIdentity({ userId: "bob", deviceId: "laptop" })]);
    const verified = await verifyDeviceBundleAsync(JSON.parse(JSON.stringify(bob.publicBundle)));
    expect(verified.bundle).toEqual(bob.publicBundle);
    expect(calls.verify).toBe(1);
    const key = generateRoomKeySync();
    const share = await sealRoomKeyShareAsync({ roomId, keyId: "k1", keyVersion: 3, key, shareable: true, from: alice, to: bob.publicBundle });
    expect(calls.verify).toBe(1); // the bundle verified above
    expect(calls.deriveBits).toBe(2);
    expect(calls.sign).toBe(1);
    setNativeBackendsForTesting({ node: null }); // open with node:crypto
    const opened = openRoomKeyShare({ share, device: bob, senderBundle: alice.publicBundle });
    expect(roomKeysEqual(opened.key, key)).toBe(true);
    expect(opened).toMatchObject({ roomId, keyId: "k1", keyVersion: 3, shareable: true, senderUserId: "alice", senderDeviceId: "phone" });
    // And the synchronous share opens the same way, with the same fields but enc, ciphertext and signature.
    const sync = sealRoomKeyShare({ roomId, keyId: "k1", keyVersion: 3, key, shareable: true, from: alice, to: bob.publicBundle });
    const { enc: _e, ciphertext: _c, signature: _s, ...fields } = sync;
    expect(share).toMatchObject(fields);
  });

  it("refuse a low-order recipient key with INVALID_KEY, and a forged bundle with BAD_SIGNATURE", async () => {
    await asBrowser();
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const lowOrder = selfSignedBundle("mallory", "x", new Uint8Array(32)); // agreement key u = 0: low order
    expect(verifyDeviceBundle(lowOrder).bundle.userId).toBe("mallory");
    const options = { roomId, keyId: "k1", keyVersion: 1, key: generateRoomKeySync(), shareable: false, from: alice };
    await expect(sealRoomKeyShareAsync({ ...options, to: lowOrder })).rejects.toMatchObject({ code: "INVALID_KEY" });
    const forged = { ...lowOrder, deviceId: "y" };
    await expect(sealRoomKeyShareAsync({ ...options, to: forged })).rejects.toMatchObject({ code: "BAD_SIGNATURE" });
  });

  it("return no share for a device destroyed while its signing key is imported or while it signs", async () => {
    for (const moment of ["importKey", "sign"] as const) {
      const [alice, bob] = await Promise.all([createDeviceIdentity({ userId: "alice", deviceId: "phone" }), createDeviceIdentity({ userId: "bob", deviceId: "laptop" })]);
      const real = subtle[moment].bind(subtle) as (...args: unknown[]) => Promise<unknown>;
      let armed = false; // not during the self-test
      const calls = await asBrowser({
        [moment]: (...args: unknown[]) => {
          const isSigningKey = moment === "sign" || (args[0] === "pkcs8" && (args[2] as { name: string }).name === "Ed25519");
          if (armed && isSigningKey) alice.destroy();
          return real(...args);
        },
      });
      armed = true;
      const pending = sealRoomKeyShareAsync({ roomId, keyId: "k1", keyVersion: 1, key: generateRoomKeySync(), shareable: false, from: alice, to: bob.publicBundle });
      await expect(pending, moment).rejects.toMatchObject({ code: "INVALID_KEY" });
      expect(alice.destroyed).toBe(true);
      expect(calls.deriveBits, "the share was sealed on WebCrypto before the device went").toBe(2);
      setNativeBackendsForTesting({ curves: null });
    }
  });

  it("refuse to sign for a device destroyed while the share was being sealed", async () => {
    await asBrowser();
    const [alice, bob] = await Promise.all([createDeviceIdentity({ userId: "alice", deviceId: "phone" }), createDeviceIdentity({ userId: "bob", deviceId: "laptop" })]);
    const pending = sealRoomKeyShareAsync({ roomId, keyId: "k1", keyVersion: 1, key: generateRoomKeySync(), shareable: false, from: alice, to: bob.publicBundle });
    alice.destroy();
    await expect(pending).rejects.toMatchObject({ code: "INVALID_KEY" });
  });
});
