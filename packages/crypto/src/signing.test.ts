/**
 * Ed25519 signing (RFC 8032) as signing.ts wraps noble: a known answer from the RFC, the
 * sign/verify roundtrip, a verify that never throws on malformed bytes, and Project Wycheproof's
 * `ed25519_test.json` (C2SP/wycheproof, `testvectors_v1/`, Apache License 2.0).
 *
 * The Wycheproof file lives outside the repository, in `../shared/vectors/wycheproof/` relative
 * to the repository root; it is read in place and never copied in. When the folder is absent the
 * Wycheproof cases are skipped under a title that says so.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import {
  SIGNATURE_BYTES,
  SIGNING_SECRET_KEY_BYTES,
  generateSigningSecretKey,
  sign,
  signingPublicKey,
  verify,
} from "./signing";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >>> 3]! ^= 1 << (bit & 7);
  return out;
}

/**
 * RFC 8032 §7.1 "Test Vectors for Ed25519", TEST 1 (the empty message).
 * https://www.rfc-editor.org/rfc/rfc8032#section-7.1
 * The TEST 1 block's SECRET KEY, PUBLIC KEY, MESSAGE (length 0 bytes) and SIGNATURE, with the
 * RFC's 32-character lines joined. Checked against independent copies that cite §7.1
 * (SerenityOS `Tests/LibCrypto/TestEd25519.cpp`, pyca/cryptography's Ed25519 vector loader test).
 */
const RFC8032_TEST_1 = Object.freeze({
  secretKey: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  message: "",
  signature:
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
});

describe("RFC 8032 §7.1 TEST 1 (empty message)", () => {
  it("derives the RFC's public key from its secret key", () => {
    expect(bytesToHex(signingPublicKey(hexToBytes(RFC8032_TEST_1.secretKey)))).toBe(RFC8032_TEST_1.publicKey);
  });

  it("signs the empty message to the RFC's signature, byte for byte", () => {
    const signature = sign(hexToBytes(RFC8032_TEST_1.secretKey), hexToBytes(RFC8032_TEST_1.message));
    expect(bytesToHex(signature)).toBe(RFC8032_TEST_1.signature);
  });

  it("verifies the RFC's signature and refuses it for a one-byte message", () => {
    const publicKey = hexToBytes(RFC8032_TEST_1.publicKey);
    const signature = hexToBytes(RFC8032_TEST_1.signature);
    expect(verify(signature, new Uint8Array(0), publicKey)).toBe(true);
    expect(verify(signature, new Uint8Array(1), publicKey)).toBe(false);
  });
});

describe("sign and verify", () => {
  it("generates 32-byte secret keys, 32-byte public keys and 64-byte signatures", () => {
    const secretKey = generateSigningSecretKey();
    expect(secretKey).toBeInstanceOf(Uint8Array);
    expect(secretKey).toHaveLength(SIGNING_SECRET_KEY_BYTES);
    expect(signingPublicKey(secretKey)).toHaveLength(32);
    expect(sign(secretKey, utf8("message"))).toHaveLength(SIGNATURE_BYTES);
    expect(SIGNING_SECRET_KEY_BYTES).toBe(32);
    expect(SIGNATURE_BYTES).toBe(64);
  });

  it("generates a different secret key each time", () => {
    const keys = new Set(Array.from({ length: 8 }, () => bytesToHex(generateSigningSecretKey())));
    expect(keys.size).toBe(8);
  });

  it("verifies its own signature over the signed message", () => {
    const secretKey = generateSigningSecretKey();
    const message = utf8("domvia signing roundtrip");
    expect(verify(sign(secretKey, message), message, signingPublicKey(secretKey))).toBe(true);
  });

  it("is deterministic: one key and message give one signature (RFC 8032 §5.1.6)", () => {
    const secretKey = generateSigningSecretKey();
    const message = utf8("same message");
    expect(bytesToHex(sign(secretKey, message))).toBe(bytesToHex(sign(secretKey, message)));
    expect(bytesToHex(sign(secretKey, message))).not.toBe(bytesToHex(sign(secretKey, utf8("other message"))));
  });

  it("refuses a signature by another key", () => {
    const message = utf8("message");
    const signature = sign(generateSigningSecretKey(), message);
    expect(verify(signature, message, signingPublicKey(generateSigningSecretKey()))).toBe(false);
  });

  it("refuses every single-bit change of the message, the signature and the public key", { timeout: 30_000 }, () => {
    const secretKey = generateSigningSecretKey();
    const publicKey = signingPublicKey(secretKey);
    const message = utf8("sixteen bytes!!!");
    const signature = sign(secretKey, message);
    for (let bit = 0; bit < message.length * 8; bit++) {
      expect(verify(signature, flipBit(message, bit), publicKey), `message bit ${bit}`).toBe(false);
    }
    for (let bit = 0; bit < SIGNATURE_BYTES * 8; bit++) {
      expect(verify(flipBit(signature, bit), message, publicKey), `signature bit ${bit}`).toBe(false);
    }
    for (let bit = 0; bit < 256; bit++) {
      expect(verify(signature, message, flipBit(publicKey, bit)), `public key bit ${bit}`).toBe(false);
    }
  });
});

describe("verify never throws on malformed bytes", () => {
  const secretKey = generateSigningSecretKey();
  const publicKey = signingPublicKey(secretKey);
  const message = utf8("message");
  const signature = sign(secretKey, message);

  const signatureLengths = [0, 1, 31, 32, 63, 65, 96, 128];
  const publicKeyLengths = [0, 1, 31, 33, 64];

  it.each(signatureLengths)("returns false for a %i-byte signature", (length) => {
    const wrong = new Uint8Array(length);
    wrong.set(signature.subarray(0, Math.min(length, SIGNATURE_BYTES)));
    expect(verify(wrong, message, publicKey)).toBe(false);
  });

  it("returns false for a valid signature with trailing garbage", () => {
    expect(verify(Uint8Array.of(...signature, 0), message, publicKey)).toBe(false);
  });

  it.each(publicKeyLengths)("returns false for a %i-byte public key", (length) => {
    const wrong = new Uint8Array(length);
    wrong.set(publicKey.subarray(0, Math.min(length, 32)));
    expect(verify(signature, message, wrong)).toBe(false);
  });

  it("returns false for garbage of the right lengths (all zero, all 0xff, patterns)", () => {
    const garbage = [
      new Uint8Array(32),
      new Uint8Array(32).fill(0xff),
      Uint8Array.from({ length: 32 }, (_, i) => i),
      Uint8Array.from({ length: 32 }, (_, i) => 0xff - i),
    ];
    for (const key of [...garbage, publicKey]) {
      for (const sig of [new Uint8Array(64), new Uint8Array(64).fill(0xff), Uint8Array.from({ length: 64 }, (_, i) => i * 3)]) {
        expect(() => verify(sig, message, key)).not.toThrow();
        expect(verify(sig, message, key)).toBe(false);
      }
    }
  });

  it("returns false for 200 random signatures and public keys, and never throws", { timeout: 30_000 }, () => {
    for (let i = 0; i < 200; i++) {
      const randomSignature = crypto.getRandomValues(new Uint8Array(64));
      const randomKey = crypto.getRandomValues(new Uint8Array(32));
      expect(verify(randomSignature, message, randomKey)).toBe(false);
      expect(verify(randomSignature, message, publicKey)).toBe(false);
    }
  });

  it("returns false for byte-like values that are not a Uint8Array (an array, a string of the right length)", () => {
    expect(verify(Array.from(signature) as unknown as Uint8Array, message, publicKey)).toBe(false);
    expect(verify("x".repeat(64) as unknown as Uint8Array, message, publicKey)).toBe(false);
    expect(verify(signature, "message" as unknown as Uint8Array, publicKey)).toBe(false);
  });

  it("refuses the universal signature (R = identity, S = 0) under small-order public keys", () => {
    // With A of small order, [S]B = R + [k]A holds for R = identity, S = 0 and every message under
    // the cofactorless equation; strict verification must refuse such keys.
    const identity = new Uint8Array(32);
    identity[0] = 1; // (x, y) = (0, 1)
    const orderTwo = new Uint8Array(32).fill(0xff);
    orderTwo[0] = 0xec; // y = p - 1 = -1
    orderTwo[31] = 0x7f;
    const universal = new Uint8Array(64);
    universal.set(identity);
    for (const smallOrder of [identity, orderTwo]) {
      expect(verify(universal, message, smallOrder), bytesToHex(smallOrder)).toBe(false);
      expect(verify(universal, new Uint8Array(0), smallOrder), bytesToHex(smallOrder)).toBe(false);
    }
  });

  it("returns false for a public key that is not a canonical point encoding (y ≥ p)", () => {
    // y = 2^255 - 1 ≥ p = 2^255 - 19: a non-canonical encoding, refused under `zip215: false`.
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[31] = 0x7f;
    expect(verify(signature, message, nonCanonical)).toBe(false);
  });
});

// -------------------------------------------------------------------------------------------
// Wycheproof ed25519_test.json
// -------------------------------------------------------------------------------------------

/** The fields of Wycheproof's `eddsa_verify_schema_v1.json` these tests read. */
interface EddsaTestFile {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly {
    readonly type: string;
    readonly publicKey: { readonly curve: string; readonly pk: string };
    readonly tests: readonly {
      readonly tcId: number;
      readonly comment: string;
      readonly flags: readonly string[];
      readonly msg: string;
      readonly sig: string;
      readonly result: "valid" | "invalid" | "acceptable";
    }[];
  }[];
}

// This file is <repo>/packages/crypto/src/signing.test.ts; the vectors live beside the
// repository, in <repo>/../shared/vectors/wycheproof/.
const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const vectorFile = resolve(repositoryRoot, "../shared/vectors/wycheproof/ed25519_test.json");
const HAS_VECTORS = existsSync(vectorFile);

describe.skipIf(!HAS_VECTORS)(
  HAS_VECTORS
    ? "Wycheproof ed25519_test.json (strict verify, zip215: false)"
    : `Wycheproof ed25519_test.json (SKIPPED: ${vectorFile} not found beside the repository)`,
  () => {
    const file = HAS_VECTORS ? (JSON.parse(readFileSync(vectorFile, "utf8")) as EddsaTestFile) : undefined;
    const cases = (file?.testGroups ?? []).flatMap((group) => group.tests.map((test) => ({ ...test, pk: group.publicKey.pk })));
    const valid = cases.filter((test) => test.result === "valid");
    const invalid = cases.filter((test) => test.result === "invalid");
    const label = (test: (typeof cases)[number]): string =>
      `tcId ${test.tcId} (${test.result}; ${test.flags.join(", ")}${test.comment === "" ? "" : `; ${test.comment}`})`;

    it("reads an EdDSA file with only edwards25519 keys, and both valid and invalid cases", () => {
      expect(file?.algorithm).toBe("EDDSA");
      expect(cases).toHaveLength(file?.numberOfTests ?? -1);
      for (const group of file?.testGroups ?? []) expect(group.publicKey.curve).toBe("edwards25519");
      expect(valid.length).toBeGreaterThan(0);
      expect(invalid.length).toBeGreaterThan(0);
      // No case is "acceptable": each one is either accepted or refused by a strict verifier.
      expect(valid.length + invalid.length).toBe(cases.length);
    });

    it("verifies every valid case", { timeout: 30_000 }, () => {
      let verified = 0;
      for (const test of valid) {
        expect(verify(hexToBytes(test.sig), hexToBytes(test.msg), hexToBytes(test.pk)), label(test)).toBe(true);
        verified++;
      }
      expect(verified).toBe(valid.length);
      expect(verified).toBeGreaterThan(0);
    });

    it("rejects every invalid case (malleable S, non-canonical R, truncated or padded signatures) without throwing", { timeout: 30_000 }, () => {
      let rejected = 0;
      for (const test of invalid) {
        let accepted: boolean | undefined;
        expect(() => {
          accepted = verify(hexToBytes(test.sig), hexToBytes(test.msg), hexToBytes(test.pk));
        }, label(test)).not.toThrow();
        expect(accepted, label(test)).toBe(false);
        rejected++;
      }
      expect(rejected).toBe(invalid.length);
      expect(rejected).toBeGreaterThan(0);
    });

    it("refuses every valid case with the top bit of S flipped (no second encoding of a signature)", { timeout: 30_000 }, () => {
      // Wycheproof publishes no secret keys for these groups, so the signing known answer comes
      // only from RFC 8032 above. Here each valid signature must stay unique: bit 511 is the top
      // bit of S, so flipping it gives S ≥ 2^255 > L, refused by the canonical-S check.
      for (const test of valid) {
        const signature = hexToBytes(test.sig);
        expect(verify(flipBit(signature, 511), hexToBytes(test.msg), hexToBytes(test.pk)), label(test)).toBe(false);
      }
    });
  },
);
