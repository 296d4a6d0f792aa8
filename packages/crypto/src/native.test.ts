/**
 * Native acceleration produces the same bytes as noble. Every path is cross-checked against
 * noble on random inputs: node:crypto AES (XAES subkeys and GCM), WebCrypto AES-GCM for large
 * messages, node:crypto X25519 and Ed25519, and OpenSSL's Ed25519 verification against noble's
 * strict one on all of Wycheproof. (The whole crypto suite, vectors included, also runs a second
 * time with native crypto off: the "noble" project in vitest.config.ts.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { decryptChatJson, encryptChatJson } from "./chat";
import { hpkeOpen, hpkeSeal } from "./hpke";
import {
  WEBCRYPTO_MIN_BYTES,
  acceptNodeCrypto,
  getNativeCrypto,
  nativeNodeCrypto,
  nodeHmacSha256,
  setNativeBackendsForTesting,
  setNativeCrypto,
  type NodeCrypto,
} from "./native";
import { generateRoomKeySync } from "./room-key";
import { isStrictPublicKey, sign, signingPublicKey, verify } from "./signing";
import { XaesKey } from "./xaes-256-gcm";
import { x25519Exchange, x25519PublicKey, x25519SharedSecret } from "./x25519";

const WYCHEPROOF = join(dirname(fileURLToPath(import.meta.url)), "../../../../shared/vectors/wycheproof");

/** Runs `run` on the noble path, then restores automatic selection. */
function withNoble<T>(run: () => T): T {
  setNativeCrypto("off");
  try {
    return run();
  } finally {
    setNativeCrypto("auto");
  }
}

afterEach(() => {
  setNativeCrypto("auto");
  setNativeBackendsForTesting({ node: null, subtle: null });
});

beforeAll(() => {
  // This file compares paths, so it needs both, whatever project runs it.
  setNativeCrypto("auto");
  expect(nativeNodeCrypto(), "Node must offer node:crypto to this test").toBeDefined();
});

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });

describe("mode switch", () => {
  it("reports node:crypto in Node, noble when switched off", () => {
    expect(getNativeCrypto()).toEqual({
      mode: "auto",
      aesGcm: "node:crypto",
      largeAesGcm: "node:crypto",
      x25519: "node:crypto",
      ed25519: "node:crypto",
      asyncCurves: "node:crypto",
    });
    setNativeCrypto("off");
    expect(getNativeCrypto()).toEqual({ mode: "off", aesGcm: "noble", largeAesGcm: "noble", x25519: "noble", ed25519: "noble", asyncCurves: "noble" });
  });

  it("reports WebCrypto for large messages where node:crypto is missing (a browser)", () => {
    setNativeBackendsForTesting({ node: undefined });
    expect(getNativeCrypto()).toMatchObject({ aesGcm: "noble", largeAesGcm: "webcrypto", x25519: "noble", ed25519: "noble" });
    setNativeBackendsForTesting({ subtle: undefined });
    expect(getNativeCrypto().largeAesGcm).toBe("noble");
  });

  it("refuses other modes with a TypeError", () => {
    for (const bad of ["on", "", undefined, 1, true]) {
      expect(() => setNativeCrypto(bad as never)).toThrow(TypeError);
    }
    expect(getNativeCrypto().mode).toBe("auto");
  });

  it("does not trust a node:crypto that fails the known-answer tests", () => {
    const real = nativeNodeCrypto()!;
    expect(acceptNodeCrypto(real)).toBe(real);
    // Wrong AES-GCM output: the tag is altered.
    const wrongTag: NodeCrypto = {
      ...real,
      createCipheriv: (...args: Parameters<NodeCrypto["createCipheriv"]>) => {
        const cipher = real.createCipheriv(...args);
        return Object.assign(Object.create(cipher) as typeof cipher, {
          getAuthTag: () => cipher.getAuthTag().map((byte) => byte ^ 1),
        });
      },
    };
    expect(acceptNodeCrypto(wrongTag)).toBeUndefined();
    // Wrong X25519, wrong Ed25519, missing functions, throwing functions, not an object.
    expect(acceptNodeCrypto({ ...real, diffieHellman: () => new Uint8Array(32) })).toBeUndefined();
    expect(acceptNodeCrypto({ ...real, sign: () => new Uint8Array(64) })).toBeUndefined();
    expect(acceptNodeCrypto({ ...real, verify: undefined })).toBeUndefined();
    expect(acceptNodeCrypto({ ...real, createHmac: () => ({ update: () => ({ digest: () => new Uint8Array(32) }) }) })).toBeUndefined();
    expect(
      acceptNodeCrypto({
        ...real,
        createPrivateKey: () => {
          throw new Error("unsupported");
        },
      }),
    ).toBeUndefined();
    expect(acceptNodeCrypto(undefined)).toBeUndefined();
    expect(acceptNodeCrypto("node:crypto")).toBeUndefined();
  });
});

describe("XAES-256-GCM: node:crypto and noble give the same bytes", () => {
  it("seals identically and each opens the other's output, on random inputs", () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(24, 24), bytes(0, 600), bytes(0, 80), (key, nonce, plaintext, ad) => {
        const native = new XaesKey(key.slice()).seal(nonce, plaintext, ad);
        const noble = withNoble(() => new XaesKey(key.slice()).seal(nonce, plaintext, ad));
        expect(bytesToHex(native)).toBe(bytesToHex(noble));
        expect(bytesToHex(new XaesKey(key.slice()).open(nonce, noble, ad))).toBe(bytesToHex(plaintext));
        expect(bytesToHex(withNoble(() => new XaesKey(key.slice()).open(nonce, native, ad)))).toBe(bytesToHex(plaintext));
      }),
      { numRuns: 300 },
    );
  });

  it("derives the same message keys, including across many nonces on one key (one reused ECB context)", () => {
    const key = generateKeyBytes();
    const native = new XaesKey(key.slice());
    const noble = new XaesKey(key.slice());
    for (let i = 0; i < 200; i++) {
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      expect(bytesToHex(native.deriveMessageKey(nonce))).toBe(bytesToHex(withNoble(() => noble.deriveMessageKey(nonce))));
    }
  });

  it("refuses every single-bit change on the node:crypto path and returns no bytes", () => {
    const key = new XaesKey(generateKeyBytes());
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const ad = new TextEncoder().encode("associated");
    const sealed = key.seal(nonce, new TextEncoder().encode("a short secret"), ad);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const changed = sealed.slice();
      changed[bit >>> 3]! ^= 1 << (bit & 7);
      expect(() => key.open(nonce, changed, ad), `bit ${bit}`).toThrow();
    }
    expect(() => key.open(nonce, sealed.subarray(0, 15), ad)).toThrow();
  });

  it("returns plain Uint8Arrays, never Node Buffers (whose slice() shares memory)", () => {
    const key = new XaesKey(generateKeyBytes());
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const sealed = key.seal(nonce, new Uint8Array(40), new Uint8Array(0));
    const opened = key.open(nonce, sealed, new Uint8Array(0));
    for (const value of [sealed, opened, key.deriveMessageKey(nonce), x25519PublicKey(generateKeyBytes()), sign(generateKeyBytes(), opened)]) {
      expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
    }
  });
});

describe("XAES-256-GCM: WebCrypto for large messages gives the same bytes", () => {
  it("seals and opens with WebCrypto from the threshold up, identical to noble", async () => {
    setNativeBackendsForTesting({ node: undefined });
    let webCryptoCalls = 0;
    const subtle = globalThis.crypto.subtle;
    setNativeBackendsForTesting({
      subtle: {
        importKey: (...args) => subtle.importKey(...(args as Parameters<typeof subtle.importKey>)),
        encrypt: (...args) => {
          webCryptoCalls++;
          return subtle.encrypt(...(args as Parameters<typeof subtle.encrypt>));
        },
        decrypt: (...args) => {
          webCryptoCalls++;
          return subtle.decrypt(...(args as Parameters<typeof subtle.decrypt>));
        },
      },
    });
    for (const length of [WEBCRYPTO_MIN_BYTES - 1, WEBCRYPTO_MIN_BYTES, WEBCRYPTO_MIN_BYTES + 17, 70_000]) {
      const key = generateKeyBytes();
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      const plaintext = new Uint8Array(length).map((_, i) => (i * 31) & 0xff);
      const ad = new TextEncoder().encode(`length ${length}`);
      const before = webCryptoCalls;
      const sealed = await new XaesKey(key.slice()).sealAsync(nonce, plaintext, ad);
      const noble = withNoble(() => new XaesKey(key.slice()).seal(nonce, plaintext, ad));
      expect(bytesToHex(sealed)).toBe(bytesToHex(noble));
      expect(bytesToHex(await new XaesKey(key.slice()).openAsync(nonce, noble, ad))).toBe(bytesToHex(plaintext));
      expect(webCryptoCalls - before).toBe(length >= WEBCRYPTO_MIN_BYTES ? 2 : 0);
      const changed = sealed.slice();
      changed[length >>> 1]! ^= 0x40;
      await expect(new XaesKey(key.slice()).openAsync(nonce, changed, ad)).rejects.toThrow();
    }
  });

  it("round-trips a large chat message through the public API on the browser path", async () => {
    setNativeBackendsForTesting({ node: undefined });
    const key = generateRoomKeySync();
    const context = { roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 };
    const value = { body: "é".repeat(20_000), n: 1 };
    const envelope = await encryptChatJson(value, key, context);
    expect(await decryptChatJson(envelope, key, context)).toEqual(value);
    setNativeBackendsForTesting({ node: null });
    expect(await decryptChatJson(envelope, key, context)).toEqual(value); // Node opens the browser's
  });
});

describe("X25519: node:crypto and noble give the same bytes", () => {
  it("derives the same public keys and shared secrets on random keys", () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(32, 32), (a, b) => {
        const publicA = x25519PublicKey(a);
        const publicB = x25519PublicKey(b);
        expect(bytesToHex(publicA)).toBe(bytesToHex(x25519.getPublicKey(a)));
        expect(bytesToHex(x25519SharedSecret(a, publicB))).toBe(bytesToHex(x25519.getSharedSecret(a, publicB)));
        const exchange = x25519Exchange(a, publicB);
        expect(bytesToHex(exchange.shared)).toBe(bytesToHex(x25519.getSharedSecret(a, publicB)));
        expect(bytesToHex(exchange.ownPublicKey)).toBe(bytesToHex(publicA));
      }),
      { numRuns: 100 },
    );
  });

  it("keeps imported public keys apart: each shared secret is right while the key cache fills and evicts", { timeout: 60_000 }, () => {
    // 4,096 public key objects are kept; 4,500 distinct keys pass through it, and the first ones
    // come back after they were evicted. Any 32 bytes are an X25519 public key (RFC 7748 §5);
    // noble, the slow reference, checks a sample.
    const secret = generateKeyBytes();
    const publicKeys = Array.from({ length: 4500 }, (_, i) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7 + (i >> 8)) & 0xff));
    const expected = (publicKey: Uint8Array): string => bytesToHex(x25519.getSharedSecret(secret, publicKey));
    // Exchanges (HPKE's sender side, with recipients' long-term keys) fill the cache.
    for (const [i, publicKey] of publicKeys.entries()) {
      const { shared } = x25519Exchange(secret, publicKey);
      if (i % 250 === 0) expect(bytesToHex(shared), `key ${i}`).toBe(expected(publicKey));
    }
    for (const i of [0, 1, 2, 4095, 4096, 4499]) {
      expect(bytesToHex(x25519Exchange(secret, publicKeys[i]!).shared), `key ${i} again`).toBe(expected(publicKeys[i]!));
    }
  });

  it("agrees with noble on every Wycheproof x25519 case (a rejection on one is a rejection on both)", (context) => {
    const file = join(WYCHEPROOF, "x25519_test.json");
    if (!existsSync(file)) return context.skip(`Wycheproof vectors not found at ${WYCHEPROOF}`);
    const suite = JSON.parse(readFileSync(file, "utf8")) as {
      testGroups: { tests: { tcId: number; private: string; public: string; shared: string }[] }[];
    };
    const outcome = (run: () => Uint8Array): string => {
      try {
        const shared = bytesToHex(run());
        return /^0+$/.test(shared) ? "rejected" : shared;
      } catch {
        return "rejected";
      }
    };
    let cases = 0;
    for (const group of suite.testGroups) {
      for (const test of group.tests) {
        const [secret, publicKey] = [hexToBytes(test.private), hexToBytes(test.public)];
        const native = outcome(() => x25519SharedSecret(secret, publicKey));
        expect(native, `tcId ${test.tcId}`).toBe(withNoble(() => outcome(() => x25519SharedSecret(secret, publicKey))));
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(500);
  });

  it("HPKE seals on one path and opens on the other", () => {
    const recipientSecret = generateKeyBytes();
    const recipientPublicKey = x25519PublicKey(recipientSecret);
    const info = new TextEncoder().encode("info");
    const aad = new TextEncoder().encode("aad");
    const plaintext = new TextEncoder().encode("a room key");
    const native = hpkeSeal({ recipientPublicKey, info, aad, plaintext });
    expect(bytesToHex(withNoble(() => hpkeOpen({ recipientSecretKey: recipientSecret, enc: native.enc, info, aad, ciphertext: native.ciphertext })))).toBe(
      bytesToHex(plaintext),
    );
    const noble = withNoble(() => hpkeSeal({ recipientPublicKey, info, aad, plaintext }));
    expect(bytesToHex(hpkeOpen({ recipientSecretKey: recipientSecret, enc: noble.enc, info, aad, ciphertext: noble.ciphertext }))).toBe(
      bytesToHex(plaintext),
    );
  });
});

describe("HMAC-SHA-256: node:crypto and noble give the same bytes", () => {
  it("agrees on random keys (empty, short, block-sized, longer than a block) and messages", () => {
    fc.assert(
      fc.property(bytes(0, 150), bytes(0, 300), (key, message) => {
        expect(bytesToHex(nodeHmacSha256(nativeNodeCrypto()!, key, message))).toBe(bytesToHex(hmac(sha256, key, message)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("Ed25519: node:crypto and noble give the same bytes and verdicts", () => {
  it("derives the same public keys and signatures (deterministic) on random seeds and messages", () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(0, 300), (seed, message) => {
        expect(bytesToHex(signingPublicKey(seed))).toBe(bytesToHex(ed25519.getPublicKey(seed)));
        const signature = sign(seed, message);
        expect(bytesToHex(signature)).toBe(bytesToHex(ed25519.sign(message, seed)));
        expect(verify(signature, message, ed25519.getPublicKey(seed))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("verifies exactly as noble's strict mode on every Wycheproof ed25519 case", (context) => {
    const file = join(WYCHEPROOF, "ed25519_test.json");
    if (!existsSync(file)) return context.skip(`Wycheproof vectors not found at ${WYCHEPROOF}`);
    const suite = JSON.parse(readFileSync(file, "utf8")) as {
      testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[];
    };
    let cases = 0;
    for (const group of suite.testGroups) {
      const publicKey = hexToBytes(group.publicKey.pk);
      for (const test of group.tests) {
        const [message, signature] = [hexToBytes(test.msg), hexToBytes(test.sig)];
        const native = verify(signature, message, publicKey);
        expect(native, `tcId ${test.tcId}`).toBe(withNoble(() => verify(signature, message, publicKey)));
        expect(native, `tcId ${test.tcId}`).toBe(test.result === "valid");
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(100);
  });

  it("accepts, as noble's cofactored check does, a signature whose R has a small-order component", () => {
    // SPEC.md §7.4 verifies [8][S]B = [8]R + [8][k]A. OpenSSL checks [S]B = R + [k]A, which such a
    // signature fails; the native path must still give noble's verdict.
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
    const order = ed25519.Point.Fn.ORDER;
    const mod = (value: bigint): bigint => ((value % order) + order) % order;
    const littleEndian = (value: Uint8Array): bigint => BigInt(`0x${bytesToHex(value.slice().reverse())}`);
    const torsion = ed25519.Point.fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"); // order 8
    expect(torsion.isSmallOrder()).toBe(true);
    const message = new TextEncoder().encode("cofactored");
    const r = mod(littleEndian(crypto.getRandomValues(new Uint8Array(64))));
    const R = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
    const k = mod(littleEndian(sha512(new Uint8Array([...R, ...pointBytes, ...message]))));
    const S = mod(r + k * scalar);
    const signature = new Uint8Array([...R, ...hexToBytes(S.toString(16).padStart(64, "0")).reverse()]);
    const nodeVerdict = nativeNodeCrypto()!.verify(null, message, nativeNodeCrypto()!.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(pointBytes).toString("base64url") }, format: "jwk" }), signature);
    expect(nodeVerdict, "OpenSSL alone refuses it (cofactorless)").toBe(false);
    expect(withNoble(() => verify(signature, message, pointBytes))).toBe(true);
    expect(verify(signature, message, pointBytes)).toBe(true);
    const tampered = message.slice();
    tampered[0]! ^= 1;
    expect(verify(signature, tampered, pointBytes)).toBe(false);
  });

  it("checks public keys as noble's strict decoding does, on every key noble can decode", () => {
    const nobleStrict = (key: Uint8Array): boolean => {
      try {
        return !ed25519.Point.fromBytes(key, false).isSmallOrder();
      } catch {
        return false;
      }
    };
    const decodes = (key: Uint8Array): boolean => {
      try {
        ed25519.Point.fromBytes(key, true); // lenient: also non-canonical encodings
        return true;
      } catch {
        return false;
      }
    };
    // The 8-torsion subgroup, from a point of order 8; with the sign bit flipped on each encoding.
    const order8 = ed25519.Point.fromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
    const torsion: Uint8Array[] = [];
    for (let i = 0, point = ed25519.Point.ZERO; i < 8; i++, point = point.add(order8)) torsion.push(point.toBytes());
    expect(new Set(torsion.map(bytesToHex)).size).toBe(8);
    const flipSign = (key: Uint8Array): Uint8Array => Uint8Array.from(key, (byte, i) => (i === 31 ? byte ^ 0x80 : byte));
    // y + p for the small y that have a second encoding, with and without the sign bit.
    const nonCanonical = Array.from({ length: 19 }, (_, y) => {
      const key = new Uint8Array(32).fill(0xff);
      key[0] = 0xed + y;
      key[31] = 0x7f;
      return key;
    });
    const random = Array.from({ length: 200 }, () => generateKeyBytes());
    const valid = Array.from({ length: 50 }, () => ed25519.getPublicKey(generateKeyBytes()));
    const mixedOrder = valid.slice(0, 8).map((key, i) => ed25519.Point.fromBytes(key).add(ed25519.Point.fromBytes(torsion[i]!)).toBytes());
    const keys = [...torsion, ...torsion.map(flipSign), ...nonCanonical, ...nonCanonical.map(flipSign), ...random, ...valid, ...mixedOrder];
    let compared = 0;
    for (const key of keys.filter(decodes)) {
      expect(isStrictPublicKey(key), bytesToHex(key)).toBe(nobleStrict(key));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
    for (const key of valid) expect(isStrictPublicKey(key)).toBe(true);
    for (const key of mixedOrder) expect(isStrictPublicKey(key), "a valid point plus a torsion point is not of small order").toBe(true);
    for (const key of [...torsion, ...torsion.map(flipSign).filter(decodes)]) expect(isStrictPublicKey(key)).toBe(false);
  });

  it("refuses small-order and non-canonical public keys on the native path, as noble does", () => {
    const message = new Uint8Array(8);
    const signature = new Uint8Array(64);
    const identity = new Uint8Array(32);
    identity[0] = 1; // the neutral point: small order
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[31] = 0x7f; // y = 2^255 − 1 ≥ p
    for (const key of [identity, nonCanonical]) {
      expect(verify(signature, message, key)).toBe(false);
      expect(withNoble(() => verify(signature, message, key))).toBe(false);
    }
  });
});

function generateKeyBytes(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}
