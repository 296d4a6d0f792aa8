/**
 * Conformance tests for XAES-256-GCM (C2SP, https://c2sp.org/XAES-256-GCM).
 *
 * - the two published test vectors (spec §"Test vectors");
 * - the spec's accumulated test: 10,000 iterations driven by one SHAKE-128 stream, with every
 *   ciphertext absorbed into a second SHAKE-128 (spec §"Accumulated randomized tests");
 * - the key derivation against noble's own AES-CMAC (SP 800-108r1 counter mode with CMAC);
 * - the AES-256-GCM layer against the platform's WebCrypto;
 * - rejection of every single-bit change to the ciphertext, associated data and nonce.
 *
 * Pseudorandom inputs come from SHAKE-128 streams seeded with fixed labels, so a failure
 * reproduces exactly.
 */
import { cmac, ecb } from "@noble/ciphers/aes.js";
import { shake128 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { XAES_KEY_BYTES, XAES_NONCE_BYTES, XAES_TAG_BYTES, XaesKey } from "./xaes-256-gcm";

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A deterministic byte source: SHAKE-128 of a label, read as one continuous stream. */
function byteStream(label: string): (length: number) => Uint8Array {
  const xof = shake128.create().update(ascii(label));
  return (length) => xof.xof(length);
}

/** A copy of `bytes` with bit `bit` (0 = most significant bit of byte 0) inverted. */
function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >>> 3]! ^= 0x80 >>> (bit & 7);
  return copy;
}

/** A copy in a fresh ArrayBuffer, as WebCrypto's BufferSource type asks for. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

const subtle = globalThis.crypto.subtle;

async function webCryptoSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await subtle.importKey("raw", own(key), "AES-GCM", false, ["encrypt"]);
  const sealed = await subtle.encrypt({ name: "AES-GCM", iv: own(iv), additionalData: own(ad), tagLength: 128 }, cryptoKey, own(plaintext));
  return new Uint8Array(sealed);
}

describe("XAES-256-GCM constants", () => {
  it("uses a 32-byte key, a 24-byte nonce and a 16-byte tag", () => {
    expect([XAES_KEY_BYTES, XAES_NONCE_BYTES, XAES_TAG_BYTES]).toEqual([32, 24, 16]);
  });
});

describe("XAES-256-GCM published test vectors (c2sp.org/XAES-256-GCM)", () => {
  const nonce = ascii("ABCDEFGHIJKLMNOPQRSTUVWX");
  const plaintext = ascii("XAES-256-GCM");
  const vectors = [
    {
      name: "vector 1 (key 0x01…, empty associated data)",
      key: new Uint8Array(32).fill(0x01),
      ad: new Uint8Array(0),
      sealed: "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271",
    },
    {
      name: 'vector 2 (key 0x03…, associated data "c2sp.org/XAES-256-GCM")',
      key: new Uint8Array(32).fill(0x03),
      ad: ascii("c2sp.org/XAES-256-GCM"),
      sealed: "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d",
    },
  ];

  for (const vector of vectors) {
    it(`seals ${vector.name} to the published ciphertext`, () => {
      expect(bytesToHex(new XaesKey(vector.key).seal(nonce, plaintext, vector.ad))).toBe(vector.sealed);
    });

    it(`opens ${vector.name} to the published plaintext`, () => {
      expect(new XaesKey(vector.key).open(nonce, hexToBytes(vector.sealed), vector.ad)).toEqual(plaintext);
    });
  }

  it("leaves the key, nonce, plaintext and associated data unchanged", () => {
    const key = new Uint8Array(32).fill(0x03);
    const ad = ascii("c2sp.org/XAES-256-GCM");
    const xaes = new XaesKey(key);
    const sealed = xaes.seal(nonce, plaintext, ad);
    xaes.open(nonce, sealed, ad);
    expect(key).toEqual(new Uint8Array(32).fill(0x03));
    expect(nonce).toEqual(ascii("ABCDEFGHIJKLMNOPQRSTUVWX"));
    expect(plaintext).toEqual(ascii("XAES-256-GCM"));
    expect(ad).toEqual(ascii("c2sp.org/XAES-256-GCM"));
  });
});

describe("XAES-256-GCM accumulated randomized test (c2sp.org/XAES-256-GCM)", () => {
  it("reads noble's SHAKE-128 as one continuous stream across successive xof calls", () => {
    // The accumulated test depends on this: Go's ShakeHash.Read continues the output stream.
    const split = shake128.create();
    const parts = concatBytes(split.xof(5), split.xof(1), split.xof(26));
    // SHAKE128("") from FIPS 202 example values.
    expect(bytesToHex(parts)).toBe("7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26");
    expect(parts).toEqual(shake128.create().xof(32));
  });

  it("matches the published digest after 10,000 iterations", () => {
    const source = shake128.create();
    const digest = shake128.create();
    for (let i = 0; i < 10_000; i++) {
      const key = source.xof(32);
      const nonce = source.xof(24);
      const plaintext = source.xof(source.xof(1)[0]!);
      const ad = source.xof(source.xof(1)[0]!);
      const xaes = new XaesKey(key);
      const sealed = xaes.seal(nonce, plaintext, ad);
      const opened = xaes.open(nonce, sealed, ad);
      // toEqual on every iteration is slow; compare hex only on a mismatch.
      if (bytesToHex(opened) !== bytesToHex(plaintext)) {
        expect.fail(`iteration ${i}: open(seal(plaintext)) returned ${bytesToHex(opened)}, expected ${bytesToHex(plaintext)}`);
      }
      digest.update(sealed);
    }
    expect(bytesToHex(digest.xof(32))).toBe("e6b9edf2df6cec60c8cbd864e2211b597fb69a529160cd040d56c0c210081939");
  });
});

describe("XAES-256-GCM key derivation", () => {
  it("derives Kx = CMAC_K(00 01 58 00 || N[0:12]) || CMAC_K(00 02 58 00 || N[0:12]), as noble's AES-CMAC computes", () => {
    const next = byteStream("xaes-256-gcm.test: key derivation vs cmac");
    const topBitsOfL = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const key = next(32);
      const nonce = next(24);
      const prefix = nonce.subarray(0, 12);
      const expected = concatBytes(
        cmac(concatBytes(Uint8Array.of(0x00, 0x01, 0x58, 0x00), prefix), key),
        cmac(concatBytes(Uint8Array.of(0x00, 0x02, 0x58, 0x00), prefix), key),
      );
      expect(bytesToHex(new XaesKey(key).deriveMessageKey(nonce)), `case ${i}`).toBe(bytesToHex(expected));
      topBitsOfL.add(ecb(key, { disablePadding: true }).encrypt(new Uint8Array(16))[0]! >>> 7);
    }
    // Both branches of the CMAC subkey doubling (with and without the 0x87 reduction) ran.
    expect([...topBitsOfL].sort()).toEqual([0, 1]);
  });

  it("derives the message key from the first 12 nonce bytes only", () => {
    const next = byteStream("xaes-256-gcm.test: derivation uses N[0:12]");
    const xaes = new XaesKey(next(32));
    const nonce = next(24);
    const sameprefix = concatBytes(nonce.subarray(0, 12), next(12));
    expect(xaes.deriveMessageKey(sameprefix)).toEqual(xaes.deriveMessageKey(nonce));
    expect(xaes.deriveMessageKey(flipBit(nonce, 95))).not.toEqual(xaes.deriveMessageKey(nonce));
  });

  it("derives different message keys under different keys for the same nonce", () => {
    const next = byteStream("xaes-256-gcm.test: derivation depends on K");
    const nonce = next(24);
    const key = next(32);
    expect(new XaesKey(key).deriveMessageKey(nonce)).not.toEqual(new XaesKey(flipBit(key, 255)).deriveMessageKey(nonce));
  });
});

describe("XAES-256-GCM against WebCrypto AES-256-GCM", () => {
  it("seals as AES-256-GCM with key Kx and IV N[12:24], and opens WebCrypto's output", async () => {
    const next = byteStream("xaes-256-gcm.test: webcrypto");
    const lengths = [...Array.from({ length: 301 }, (_, i) => i), 511, 512, 1000, 4096 + 7, 65_537];
    for (const length of lengths) {
      const key = next(32);
      const nonce = next(24);
      const plaintext = next(length);
      const ad = next(next(1)[0]! % 64);
      const xaes = new XaesKey(key);
      const sealed = xaes.seal(nonce, plaintext, ad);
      const expected = await webCryptoSeal(xaes.deriveMessageKey(nonce), nonce.subarray(12, 24), plaintext, ad);
      expect(sealed.length, `plaintext length ${length}`).toBe(length + XAES_TAG_BYTES);
      expect(bytesToHex(sealed), `plaintext length ${length}`).toBe(bytesToHex(expected));
      expect(bytesToHex(xaes.open(nonce, expected, ad)), `plaintext length ${length}`).toBe(bytesToHex(plaintext));
    }
  });
});

describe("XAES-256-GCM open", () => {
  const next = byteStream("xaes-256-gcm.test: rejection");
  const key = next(32);
  const nonce = next(24);
  const plaintext = ascii("hello, room");
  const ad = ascii("c2sp.org/XAES-256-GCM");
  const xaes = new XaesKey(key);
  const sealed = xaes.seal(nonce, plaintext, ad);

  it("opens an untouched ciphertext", () => {
    expect(xaes.open(nonce, sealed, ad)).toEqual(plaintext);
  });

  it("rejects a ciphertext with any one bit flipped, in the body or the tag", () => {
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      expect(() => xaes.open(nonce, flipBit(sealed, bit), ad), `bit ${bit}`).toThrow();
    }
  });

  it("rejects associated data with any one bit flipped", () => {
    for (let bit = 0; bit < ad.length * 8; bit++) {
      expect(() => xaes.open(nonce, sealed, flipBit(ad, bit)), `bit ${bit}`).toThrow();
    }
  });

  it("rejects a nonce with any one bit flipped, in the derivation half or the GCM half", () => {
    for (let bit = 0; bit < XAES_NONCE_BYTES * 8; bit++) {
      expect(() => xaes.open(flipBit(nonce, bit), sealed, ad), `bit ${bit}`).toThrow();
    }
  });

  it("rejects every truncation of the ciphertext", () => {
    for (let length = 0; length < sealed.length; length++) {
      expect(() => xaes.open(nonce, sealed.subarray(0, length), ad), `length ${length}`).toThrow();
    }
  });

  it("rejects a ciphertext with a byte appended", () => {
    expect(() => xaes.open(nonce, concatBytes(sealed, Uint8Array.of(0)), ad)).toThrow();
  });

  it("rejects missing or added associated data", () => {
    expect(() => xaes.open(nonce, sealed, new Uint8Array(0))).toThrow();
    expect(() => xaes.open(nonce, sealed, concatBytes(ad, Uint8Array.of(0)))).toThrow();
  });

  it("rejects a ciphertext under a different key", () => {
    for (let bit = 0; bit < 256; bit += 17) {
      expect(() => new XaesKey(flipBit(key, bit)).open(nonce, sealed, ad), `key bit ${bit}`).toThrow();
    }
    expect(() => new XaesKey(next(32)).open(nonce, sealed, ad)).toThrow();
  });
});

describe("XAES-256-GCM argument checks", () => {
  const key = new Uint8Array(32).fill(0x01);
  const xaes = new XaesKey(key);

  it.each([0, 1, 16, 24, 31, 33, 64])("rejects a %i-byte key with a RangeError", (length) => {
    expect(() => new XaesKey(new Uint8Array(length))).toThrow(RangeError);
    expect(() => new XaesKey(new Uint8Array(length))).toThrow(`"key" expected 32 bytes, got ${length}`);
  });

  it.each([0, 12, 16, 23, 25, 32])("rejects a %i-byte nonce in seal and open with a RangeError", (length) => {
    const nonce = new Uint8Array(length);
    expect(() => xaes.seal(nonce, new Uint8Array(4), new Uint8Array(0))).toThrow(RangeError);
    expect(() => xaes.open(nonce, new Uint8Array(20), new Uint8Array(0))).toThrow(RangeError);
    expect(() => xaes.seal(nonce, new Uint8Array(4), new Uint8Array(0))).toThrow(`"nonce" expected 24 bytes, got ${length}`);
  });
});
