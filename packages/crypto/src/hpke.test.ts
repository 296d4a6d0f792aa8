import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  Aes128Gcm,
  Aes256Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256 as WebCryptoDhkemX25519HkdfSha256,
  HkdfSha256,
  type KemInterface,
} from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { gcm } from "@noble/ciphers/aes.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it, vi } from "vitest";
import {
  computeNonce,
  decapsulate,
  deriveX25519KeyPair,
  encapsulate,
  generateX25519KeyPair,
  HpkeError,
  hpkeOpen,
  hpkeReceiveExport,
  hpkeSeal,
  hpkeSendExport,
  keyScheduleBase,
  type HpkeAead,
} from "./hpke";

const EMPTY = new Uint8Array(0);
/**
 * Both X25519 paths (noble, node:crypto) reject low-order points themselves, so hpke.ts's own
 * all-zero check on the DH output (RFC 7748 §6.1, RFC 9180 §7.1.4) never fires with the real
 * libraries. This passthrough lets one test force an all-zero output to prove that second
 * check; everywhere else (the Wycheproof checks included) it calls the real function unchanged.
 */
const dhOverride = vi.hoisted(() => ({ forceAllZero: false }));
vi.mock("./x25519", async (importOriginal) => {
  const real = await importOriginal<typeof import("./x25519")>();
  const x25519SharedSecret: typeof real.x25519SharedSecret = (secretKey, publicKey) =>
    dhOverride.forceAllZero ? new Uint8Array(32) : real.x25519SharedSecret(secretKey, publicKey);
  const x25519Exchange: typeof real.x25519Exchange = (secretKey, publicKey) => {
    const exchange = real.x25519Exchange(secretKey, publicKey);
    return dhOverride.forceAllZero ? { ...exchange, shared: new Uint8Array(32) } : exchange;
  };
  return { ...real, x25519SharedSecret, x25519Exchange };
});

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A fresh ArrayBuffer holding exactly these bytes (for @hpke/core's `importKey`). */
const exactBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

/** Throws unless `run` throws an HpkeError; returns it. */
function catchHpkeError(run: () => unknown): HpkeError {
  try {
    run();
  } catch (error) {
    if (error instanceof HpkeError) return error;
    throw error;
  }
  throw new Error("expected an HpkeError, but nothing was thrown");
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >>> 3]! ^= 1 << (bit & 7);
  return out;
}

// -------------------------------------------------------------------------------------------
// (a) RFC 9180 Appendix A.1.1
// -------------------------------------------------------------------------------------------

/**
 * RFC 9180, Appendix A.1.1 "Base Setup Information" and A.1.1.1 "Encryptions" / A.1.1.2
 * "Exported Values": DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode 0.
 * https://www.rfc-editor.org/rfc/rfc9180#appendix-A.1.1
 * Hex copied from the RFC text (the same values appear in the CFRG draft repository,
 * github.com/cfrg/draft-irtf-cfrg-hpke, auth48/draft-irtf-cfrg-hpke.txt, Appendix B.1.1).
 */
const RFC9180_A_1_1 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  ikmE: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
  pkEm: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  skEm: "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
  ikmR: "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
  enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  sharedSecret: "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
  key: "4531685d41d65f03dc48f6b8302c05b0",
  baseNonce: "56d890e5accaaf011cff4b7d",
  exporterSecret: "45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
  encryptions: [
    {
      sequenceNumber: 0,
      pt: "4265617574792069732074727574682c20747275746820626561757479",
      aad: "436f756e742d30",
      nonce: "56d890e5accaaf011cff4b7d",
      ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
    },
    {
      sequenceNumber: 1,
      pt: "4265617574792069732074727574682c20747275746820626561757479",
      aad: "436f756e742d31",
      nonce: "56d890e5accaaf011cff4b7c",
      ct: "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84",
    },
    {
      sequenceNumber: 2,
      pt: "4265617574792069732074727574682c20747275746820626561757479",
      aad: "436f756e742d32",
      nonce: "56d890e5accaaf011cff4b7f",
      ct: "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb72516491588d96a19ad4a683518973dcc180",
    },
    {
      sequenceNumber: 4,
      pt: "4265617574792069732074727574682c20747275746820626561757479",
      aad: "436f756e742d34",
      nonce: "56d890e5accaaf011cff4b79",
      ct: "583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a09fc0012bc69fccaa251c0246d",
    },
    {
      sequenceNumber: 255,
      pt: "4265617574792069732074727574682c20747275746820626561757479",
      aad: "436f756e742d323535",
      nonce: "56d890e5accaaf011cff4b82",
      ct: "7175db9717964058640a3a11fb9007941a5d1757fda1a6935c805c21af32505bf106deefec4a49ac38d71c9e0a",
    },
    {
      sequenceNumber: 256,
      pt: "4265617574792069732074727574682c20747275746820626561757479",
      aad: "436f756e742d323536",
      nonce: "56d890e5accaaf011cff4a7d",
      ct: "957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3fbeda97d2e0e1aba483a2df9f2",
    },
  ],
  exports: [
    { exporterContext: "", length: 32, value: "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee" },
    { exporterContext: "00", length: 32, value: "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5" },
    {
      exporterContext: "54657374436f6e74657874",
      length: 32,
      value: "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931",
    },
  ],
} as const;

describe("RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode", () => {
  const v = RFC9180_A_1_1;
  const firstEncryption = v.encryptions[0];

  it("derives the ephemeral and recipient key pairs from ikmE and ikmR (§7.1.3 DeriveKeyPair)", () => {
    const ephemeral = deriveX25519KeyPair(hexToBytes(v.ikmE));
    expect(bytesToHex(ephemeral.secretKey)).toBe(v.skEm);
    expect(bytesToHex(ephemeral.publicKey)).toBe(v.pkEm);
    const recipient = deriveX25519KeyPair(hexToBytes(v.ikmR));
    expect(bytesToHex(recipient.secretKey)).toBe(v.skRm);
    expect(bytesToHex(recipient.publicKey)).toBe(v.pkRm);
  });

  it("encapsulates to enc and shared_secret, and decapsulates to the same shared_secret (§4.1)", () => {
    const { sharedSecret, enc } = encapsulate(hexToBytes(v.pkRm), hexToBytes(v.skEm));
    expect(bytesToHex(enc)).toBe(v.enc);
    expect(bytesToHex(sharedSecret)).toBe(v.sharedSecret);
    expect(bytesToHex(decapsulate(hexToBytes(v.enc), hexToBytes(v.skRm)))).toBe(v.sharedSecret);
  });

  it("derives key, base_nonce and exporter_secret (§5.1 KeySchedule)", () => {
    const context = keyScheduleBase(hexToBytes(v.sharedSecret), hexToBytes(v.info), "aes-128-gcm");
    expect(bytesToHex(context.key)).toBe(v.key);
    expect(bytesToHex(context.baseNonce)).toBe(v.baseNonce);
    expect(bytesToHex(context.exporterSecret)).toBe(v.exporterSecret);
  });

  it("computes every listed nonce and ciphertext from key and base_nonce (§5.2)", () => {
    const key = hexToBytes(v.key);
    for (const encryption of v.encryptions) {
      const nonce = computeNonce(hexToBytes(v.baseNonce), encryption.sequenceNumber);
      expect(bytesToHex(nonce)).toBe(encryption.nonce);
      const ct = gcm(key, nonce, hexToBytes(encryption.aad)).encrypt(hexToBytes(encryption.pt));
      expect(bytesToHex(ct)).toBe(encryption.ct);
    }
  });

  it("seals the sequence-0 message to the RFC's enc and ct with the RFC's skE", () => {
    const sealed = hpkeSeal({
      recipientPublicKey: hexToBytes(v.pkRm),
      info: hexToBytes(v.info),
      aad: hexToBytes(firstEncryption.aad),
      plaintext: hexToBytes(firstEncryption.pt),
      aead: "aes-128-gcm",
      ephemeralSecretKey: hexToBytes(v.skEm),
    });
    expect(bytesToHex(sealed.enc)).toBe(v.enc);
    expect(bytesToHex(sealed.ciphertext)).toBe(firstEncryption.ct);
  });

  it("opens the RFC's sequence-0 ciphertext with skR", () => {
    const plaintext = hpkeOpen({
      recipientSecretKey: hexToBytes(v.skRm),
      enc: hexToBytes(v.enc),
      info: hexToBytes(v.info),
      aad: hexToBytes(firstEncryption.aad),
      ciphertext: hexToBytes(firstEncryption.ct),
      aead: "aes-128-gcm",
    });
    expect(bytesToHex(plaintext)).toBe(firstEncryption.pt);
  });

  it("exports the RFC's values on both sides (§5.3, §6.2)", () => {
    for (const vector of v.exports) {
      const sent = hpkeSendExport({
        recipientPublicKey: hexToBytes(v.pkRm),
        info: hexToBytes(v.info),
        exporterContext: hexToBytes(vector.exporterContext),
        length: vector.length,
        aead: "aes-128-gcm",
        ephemeralSecretKey: hexToBytes(v.skEm),
      });
      expect(bytesToHex(sent.enc)).toBe(v.enc);
      expect(bytesToHex(sent.exportedSecret)).toBe(vector.value);
      const received = hpkeReceiveExport({
        recipientSecretKey: hexToBytes(v.skRm),
        enc: hexToBytes(v.enc),
        info: hexToBytes(v.info),
        exporterContext: hexToBytes(vector.exporterContext),
        length: vector.length,
        aead: "aes-128-gcm",
      });
      expect(bytesToHex(received)).toBe(vector.value);
    }
  });

  it("does not wipe or change caller-owned keys", () => {
    const skE = hexToBytes(v.skEm);
    const skR = hexToBytes(v.skRm);
    const pkR = hexToBytes(v.pkRm);
    const sealed = hpkeSeal({
      recipientPublicKey: pkR,
      info: EMPTY,
      aad: EMPTY,
      plaintext: EMPTY,
      ephemeralSecretKey: skE,
    });
    hpkeOpen({ recipientSecretKey: skR, enc: sealed.enc, info: EMPTY, aad: EMPTY, ciphertext: sealed.ciphertext });
    expect(bytesToHex(skE)).toBe(v.skEm);
    expect(bytesToHex(skR)).toBe(v.skRm);
    expect(bytesToHex(pkR)).toBe(v.pkRm);
  });
});

// -------------------------------------------------------------------------------------------
// (b) Interop with @hpke/core
// -------------------------------------------------------------------------------------------

const AEADS: readonly { readonly name: HpkeAead; readonly create: () => Aes128Gcm | Aes256Gcm }[] = [
  { name: "aes-256-gcm", create: () => new Aes256Gcm() },
  { name: "aes-128-gcm", create: () => new Aes128Gcm() },
];

/**
 * Two independent KEM implementations on @hpke/core's key schedule (WebCrypto HKDF and AES-GCM):
 * @hpke/dhkem-x25519 (pure-JS X25519 vendored from an older noble-curves) and @hpke/core's own
 * DhkemX25519HkdfSha256 (WebCrypto X25519, OpenSSL in Node).
 */
const KEMS: readonly { readonly name: string; readonly create: () => KemInterface }[] = [
  { name: "@hpke/dhkem-x25519", create: () => new DhkemX25519HkdfSha256() },
  { name: "@hpke/core WebCrypto X25519", create: () => new WebCryptoDhkemX25519HkdfSha256() },
];

/** [info, aad, plaintext] sizes in bytes: empty, small, the RFC's 64-byte recommendation, large. */
const SIZES: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0, 0, 1],
  [1, 1, 15],
  [16, 7, 16],
  [64, 64, 17],
  [65, 128, 255],
  [300, 1000, 4096],
  [5, 0, 65_537],
];

/** Deterministic bytes (no randomness needed for sizes). */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + 3) & 0xff;
  return out;
}

describe.each(KEMS)("interop with @hpke/core, KEM from $name", ({ create: createKem }) => {
  describe.each(AEADS)("$name", ({ name: aead, create: createAead }) => {
    const suite = (): CipherSuite => new CipherSuite({ kem: createKem(), kdf: new HkdfSha256(), aead: createAead() });

    it.each(SIZES)("our seal opens with their open (info %i, aad %i, plaintext %i bytes)", async (infoSize, aadSize, ptSize) => {
      const theirs = suite();
      const recipient = generateX25519KeyPair();
      const info = patterned(infoSize, 1);
      const aad = patterned(aadSize, 2);
      const plaintext = patterned(ptSize, 3);
      const { enc, ciphertext } = hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext, aead });
      const recipientKey = await theirs.kem.importKey("raw", exactBuffer(recipient.secretKey), false);
      const opened = await theirs.open({ recipientKey, enc, info }, ciphertext, aad);
      expect(bytesToHex(new Uint8Array(opened))).toBe(bytesToHex(plaintext));
    });

    it.each(SIZES)("their seal opens with our open (info %i, aad %i, plaintext %i bytes)", async (infoSize, aadSize, ptSize) => {
      const theirs = suite();
      const recipient = generateX25519KeyPair();
      const info = patterned(infoSize, 4);
      const aad = patterned(aadSize, 5);
      const plaintext = patterned(ptSize, 6);
      const recipientPublicKey = await theirs.kem.deserializePublicKey(recipient.publicKey);
      const sealed = await theirs.seal({ recipientPublicKey, info }, plaintext, aad);
      const opened = hpkeOpen({
        recipientSecretKey: recipient.secretKey,
        enc: new Uint8Array(sealed.enc),
        info,
        aad,
        ciphertext: new Uint8Array(sealed.ct),
        aead,
      });
      expect(bytesToHex(opened)).toBe(bytesToHex(plaintext));
    });

    it("seals to a key pair they generated, and opens what they sealed to it", async () => {
      const theirs = suite();
      const pair = await theirs.kem.generateKeyPair();
      const publicKey = new Uint8Array(await theirs.kem.serializePublicKey(pair.publicKey));
      const secretKey = new Uint8Array(await theirs.kem.serializePrivateKey(pair.privateKey));
      const info = utf8("their key pair");
      const aad = utf8("aad");
      const plaintext = utf8("room key bytes");

      const ours = hpkeSeal({ recipientPublicKey: publicKey, info, aad, plaintext, aead });
      const opened = await theirs.open({ recipientKey: pair, enc: ours.enc, info }, ours.ciphertext, aad);
      expect(bytesToHex(new Uint8Array(opened))).toBe(bytesToHex(plaintext));

      const sealed = await theirs.seal({ recipientPublicKey: pair.publicKey, info }, plaintext, aad);
      const back = hpkeOpen({
        recipientSecretKey: secretKey,
        enc: new Uint8Array(sealed.enc),
        info,
        aad,
        ciphertext: new Uint8Array(sealed.ct),
        aead,
      });
      expect(bytesToHex(back)).toBe(bytesToHex(plaintext));
    });

    it("exports the same secret in both directions (§5.3)", async () => {
      const theirs = suite();
      const recipient = generateX25519KeyPair();
      const info = utf8("export info");
      const exporterContext = utf8("exporter context");
      const recipientKey = await theirs.kem.importKey("raw", exactBuffer(recipient.secretKey), false);

      const ours = hpkeSendExport({ recipientPublicKey: recipient.publicKey, info, exporterContext, length: 32, aead });
      const theirRecipient = await theirs.createRecipientContext({ recipientKey, enc: ours.enc, info });
      const theirExport = new Uint8Array(await theirRecipient.export(exporterContext, 32));
      expect(bytesToHex(theirExport)).toBe(bytesToHex(ours.exportedSecret));

      const recipientPublicKey = await theirs.kem.deserializePublicKey(recipient.publicKey);
      const theirSender = await theirs.createSenderContext({ recipientPublicKey, info });
      const sent = new Uint8Array(await theirSender.export(exporterContext, 32));
      const received = hpkeReceiveExport({
        recipientSecretKey: recipient.secretKey,
        enc: new Uint8Array(theirSender.enc),
        info,
        exporterContext,
        length: 32,
        aead,
      });
      expect(bytesToHex(received)).toBe(bytesToHex(sent));
    });
  });

  it("derives the same key pairs from the same ikm (§7.1.3)", async () => {
    const kem = createKem();
    for (let seed = 0; seed < 8; seed++) {
      const ikm = patterned(32 + seed * 9, seed);
      const theirs = await kem.deriveKeyPair(ikm);
      const ours = deriveX25519KeyPair(ikm);
      expect(bytesToHex(ours.publicKey)).toBe(bytesToHex(new Uint8Array(await kem.serializePublicKey(theirs.publicKey))));
    }
  });
});

// -------------------------------------------------------------------------------------------
// (c) Wycheproof x25519_test.json
// -------------------------------------------------------------------------------------------

interface WycheproofXdhTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly public: string;
  readonly private: string;
  readonly shared: string;
  readonly result: "valid" | "acceptable" | "invalid";
}

interface WycheproofXdhFile {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly { readonly curve: string; readonly tests: readonly WycheproofXdhTest[] }[];
}

// This file is <repo>/packages/crypto/src/hpke.test.ts; the vectors live beside the repository,
// in <repo>/../shared/vectors/wycheproof/. They are read in place, never copied in.
const WYCHEPROOF_X25519 = fileURLToPath(new URL("../../../../shared/vectors/wycheproof/x25519_test.json", import.meta.url));
const HAS_WYCHEPROOF = existsSync(WYCHEPROOF_X25519);
const ALL_ZERO_SHARED = "00".repeat(32);

function loadWycheproofX25519(): readonly WycheproofXdhTest[] {
  const file = JSON.parse(readFileSync(WYCHEPROOF_X25519, "utf8")) as WycheproofXdhFile;
  expect(file.algorithm).toBe("XDH");
  const tests = file.testGroups.filter((group) => group.curve === "curve25519").flatMap((group) => group.tests);
  expect(tests).toHaveLength(file.numberOfTests);
  return tests;
}

describe.skipIf(!HAS_WYCHEPROOF)(
  HAS_WYCHEPROOF
    ? "Wycheproof x25519_test.json"
    : "Wycheproof x25519_test.json (SKIPPED: ../shared/vectors/wycheproof/x25519_test.json not found beside the repository)",
  () => {
    const tests = HAS_WYCHEPROOF ? loadWycheproofX25519() : [];
    const valid = tests.filter((test) => test.result === "valid");
    const acceptableNonZero = tests.filter((test) => test.result === "acceptable" && test.shared !== ALL_ZERO_SHARED);
    const zeroShared = tests.filter((test) => test.flags.includes("ZeroSharedSecret"));

    it("has the expected case mix (guards against a silently changed file)", () => {
      expect(tests).toHaveLength(518);
      expect(valid).toHaveLength(264);
      expect(acceptableNonZero).toHaveLength(223);
      expect(zeroShared).toHaveLength(31);
      // Every all-zero shared secret is flagged, and every flagged one is a low-order point.
      expect(tests.filter((test) => test.shared === ALL_ZERO_SHARED)).toEqual(zeroShared);
      for (const test of zeroShared) expect(test.flags).toContain("LowOrderPublic");
      expect(tests.filter((test) => test.result === "invalid")).toHaveLength(0);
    });

    it("matches `shared` for every valid case (noble x25519)", () => {
      for (const test of valid) {
        const shared = x25519.getSharedSecret(hexToBytes(test.private), hexToBytes(test.public));
        expect(bytesToHex(shared), `tcId ${test.tcId}`).toBe(test.shared);
      }
    });

    it("matches `shared` for every acceptable case with a non-zero result (twist, non-canonical public keys)", () => {
      for (const test of acceptableNonZero) {
        const shared = x25519.getSharedSecret(hexToBytes(test.private), hexToBytes(test.public));
        expect(bytesToHex(shared), `tcId ${test.tcId}`).toBe(test.shared);
      }
    });

    it("refuses to seal to every low-order public key (ZeroSharedSecret)", () => {
      for (const test of zeroShared) {
        const error = catchHpkeError(() =>
          hpkeSeal({ recipientPublicKey: hexToBytes(test.public), info: EMPTY, aad: EMPTY, plaintext: utf8("secret") }),
        );
        expect(error.reason, `tcId ${test.tcId}`).toBe("INVALID_PUBLIC_KEY");
        expect(error.message).toBe("hpke: invalid X25519 public key (low order, all-zero shared secret)");
      }
    });

    it("refuses to open when enc is a low-order point (ZeroSharedSecret)", () => {
      for (const test of zeroShared) {
        const error = catchHpkeError(() =>
          hpkeOpen({
            recipientSecretKey: hexToBytes(test.private),
            enc: hexToBytes(test.public),
            info: EMPTY,
            aad: EMPTY,
            ciphertext: new Uint8Array(32),
          }),
        );
        expect(error.reason, `tcId ${test.tcId}`).toBe("INVALID_PUBLIC_KEY");
      }
    });
  },
);

// -------------------------------------------------------------------------------------------
// (d) Tampering, wrong keys and caller bugs
// -------------------------------------------------------------------------------------------

describe("hpkeSeal / hpkeOpen", () => {
  const recipient = generateX25519KeyPair();
  const info = utf8("room-key-share/v1 room 42");
  const aad = utf8("device A -> device B");
  const plaintext = utf8("a 32-byte room key, say, or any");
  const sealed = hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext });
  const open = (overrides: Partial<Parameters<typeof hpkeOpen>[0]>): Uint8Array =>
    hpkeOpen({ recipientSecretKey: recipient.secretKey, enc: sealed.enc, info, aad, ciphertext: sealed.ciphertext, ...overrides });

  it("round-trips with AES-256-GCM by default: ciphertext is plaintext + 16 bytes, enc is 32", () => {
    expect(sealed.enc).toHaveLength(32);
    expect(sealed.ciphertext).toHaveLength(plaintext.length + 16);
    expect(bytesToHex(open({}))).toBe(bytesToHex(plaintext));
    expect(bytesToHex(open({ aead: "aes-256-gcm" }))).toBe(bytesToHex(plaintext));
  });

  it("uses a fresh ephemeral key for every seal", () => {
    const again = hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext });
    expect(bytesToHex(again.enc)).not.toBe(bytesToHex(sealed.enc));
    expect(bytesToHex(again.ciphertext)).not.toBe(bytesToHex(sealed.ciphertext));
  });

  it("fails to open after any single flipped bit in enc", () => {
    for (let bit = 0; bit < sealed.enc.length * 8; bit++) {
      // Bit 255 is masked by X25519 (RFC 7748 §5), so the DH output is unchanged there; the
      // KEM context still binds the exact enc bytes, and open fails anyway.
      const error = catchHpkeError(() => open({ enc: flipBit(sealed.enc, bit) }));
      expect(["OPEN_FAILED", "INVALID_PUBLIC_KEY"], `bit ${bit}`).toContain(error.reason);
    }
  });

  it("fails to open after any single flipped bit in the ciphertext", () => {
    for (let bit = 0; bit < sealed.ciphertext.length * 8; bit++) {
      expect(catchHpkeError(() => open({ ciphertext: flipBit(sealed.ciphertext, bit) })).reason, `bit ${bit}`).toBe("OPEN_FAILED");
    }
  });

  it("fails to open after any single flipped bit in aad", () => {
    for (let bit = 0; bit < aad.length * 8; bit++) {
      expect(catchHpkeError(() => open({ aad: flipBit(aad, bit) })).reason, `bit ${bit}`).toBe("OPEN_FAILED");
    }
  });

  it("fails to open after any single flipped bit in info", () => {
    for (let bit = 0; bit < info.length * 8; bit++) {
      expect(catchHpkeError(() => open({ info: flipBit(info, bit) })).reason, `bit ${bit}`).toBe("OPEN_FAILED");
    }
  });

  it("fails to open with a truncated, extended or empty ciphertext, or other info/aad lengths", () => {
    expect(catchHpkeError(() => open({ ciphertext: sealed.ciphertext.subarray(0, -1) })).reason).toBe("OPEN_FAILED");
    expect(catchHpkeError(() => open({ ciphertext: Uint8Array.of(...sealed.ciphertext, 0) })).reason).toBe("OPEN_FAILED");
    expect(catchHpkeError(() => open({ ciphertext: sealed.ciphertext.subarray(0, 15) })).reason).toBe("OPEN_FAILED");
    expect(catchHpkeError(() => open({ ciphertext: EMPTY })).reason).toBe("OPEN_FAILED");
    expect(catchHpkeError(() => open({ info: EMPTY })).reason).toBe("OPEN_FAILED");
    expect(catchHpkeError(() => open({ aad: Uint8Array.of(...aad, 0) })).reason).toBe("OPEN_FAILED");
  });

  it("fails to open with another recipient's key, with one fixed message", () => {
    const other = generateX25519KeyPair();
    const error = catchHpkeError(() => open({ recipientSecretKey: other.secretKey }));
    expect(error.reason).toBe("OPEN_FAILED");
    expect(error.message).toBe("hpke: open failed");
    expect(error.name).toBe("HpkeError");
  });

  it("fails to open with the other AEAD (the suite id differs)", () => {
    expect(catchHpkeError(() => open({ aead: "aes-128-gcm" })).reason).toBe("OPEN_FAILED");
  });

  it("rejects a 31-byte public key with a RangeError that prints no key bytes", () => {
    const shortKey = recipient.publicKey.slice(0, 31);
    let thrown: unknown;
    try {
      hpkeSeal({ recipientPublicKey: shortKey, info, aad, plaintext });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    const message = (thrown as RangeError).message;
    expect(message).toBe('"recipientPublicKey" expected 32 bytes, got 31');
    expect(message).not.toContain(bytesToHex(shortKey).slice(0, 8));
  });

  it("rejects wrong lengths and types as caller bugs with uniform messages", () => {
    expect(() => open({ enc: sealed.enc.subarray(0, 31) })).toThrow(new RangeError('"enc" expected 32 bytes, got 31'));
    expect(() => open({ recipientSecretKey: new Uint8Array(33) })).toThrow(
      new RangeError('"recipientSecretKey" expected 32 bytes, got 33'),
    );
    expect(() =>
      hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext, ephemeralSecretKey: new Uint8Array(16) }),
    ).toThrow(new RangeError('"ephemeralSecretKey" expected 32 bytes, got 16'));
    expect(() => hpkeSeal({ recipientPublicKey: recipient.publicKey, info: "x" as unknown as Uint8Array, aad, plaintext })).toThrow(
      new TypeError('"info" expected a Uint8Array, got string'),
    );
    expect(() =>
      hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext, aead: "chacha20-poly1305" as HpkeAead }),
    ).toThrow(new TypeError('"aead" expected "aes-256-gcm" or "aes-128-gcm", got string'));
    expect(() => deriveX25519KeyPair(new Uint8Array(31))).toThrow(new RangeError('"ikm" expected at least 32 bytes, got 31'));
    expect(() =>
      hpkeSendExport({ recipientPublicKey: recipient.publicKey, info, exporterContext: EMPTY, length: 8161 }),
    ).toThrow(new RangeError('"length" expected an integer from 1 to 8160, got 8161'));
  });

  it("rejects an all-zero DH output even if the X25519 library returned one (RFC 7748 §6.1)", () => {
    dhOverride.forceAllZero = true;
    try {
      expect(catchHpkeError(() => hpkeSeal({ recipientPublicKey: recipient.publicKey, info, aad, plaintext })).reason).toBe(
        "INVALID_PUBLIC_KEY",
      );
      expect(catchHpkeError(() => open({})).reason).toBe("INVALID_PUBLIC_KEY");
    } finally {
      dhOverride.forceAllZero = false;
    }
    expect(bytesToHex(open({}))).toBe(bytesToHex(plaintext));
  });

  it("never puts key bytes into error messages", () => {
    const secretHex = bytesToHex(recipient.secretKey);
    const messages = [
      catchHpkeError(() => open({ ciphertext: flipBit(sealed.ciphertext, 0) })).message,
      catchHpkeError(() => hpkeSeal({ recipientPublicKey: new Uint8Array(32), info, aad, plaintext })).message,
    ];
    for (const message of messages) {
      expect(message).not.toContain(secretHex.slice(0, 8));
      expect(message).not.toContain(bytesToHex(sealed.enc).slice(0, 8));
    }
  });
});
