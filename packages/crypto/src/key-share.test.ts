import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Aes256Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import {
  deviceBundleSignatureInput,
  keyShareInfo,
  keyShareSignatureInput,
  type DeviceBundle,
  type RoomKeyShareV1,
} from "@domvia/e2ee-envelope";
import { x25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { ALPHABET, EMPTY, catchE2eeError, changedAt, replaceAt } from "../test/support";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { DeviceIdentity, createDeviceIdentity, verifyDeviceBundle } from "./device-identity";
import { hpkeSeal } from "./hpke";
import { openRoomKeyShare, sealRoomKeyShare, type SealRoomKeyShareOptions } from "./key-share";
import { exportRoomKeyBytes, generateRoomKeySync, roomKeysEqual, type RoomKey } from "./room-key";
import { generateSigningSecretKey, sign, signingPublicKey } from "./signing";


function bytesOf(base64url: string): Uint8Array {
  const bytes = base64urlDecode(base64url);
  if (bytes === undefined) throw new Error("test fixture is not base64url");
  return bytes;
}

const SHARE_FIELDS = [
  "aead",
  "ciphertext",
  "enc",
  "kdf",
  "kem",
  "keyId",
  "keyVersion",
  "recipientDeviceId",
  "recipientUserId",
  "roomId",
  "senderDeviceId",
  "senderUserId",
  "signature",
  "type",
  "v",
];

interface Fixture {
  readonly alice: DeviceIdentity;
  readonly bob: DeviceIdentity;
  readonly carol: DeviceIdentity;
  readonly key: RoomKey;
  readonly share: RoomKeyShareV1;
}

async function fixture(shareable = false): Promise<Fixture> {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const carol = await createDeviceIdentity({ userId: "carol", deviceId: "tablet" });
  const key = generateRoomKeySync();
  const share = sealRoomKeyShare({
    roomId: "room-42",
    keyId: "room-42-key",
    keyVersion: 3,
    key,
    shareable,
    from: alice,
    to: bob.publicBundle,
  });
  return { alice, bob, carol, key, share };
}

/** Opens `share` as Bob, from Alice's bundle, unless other parties are given. */
function openAsBob(f: Fixture, share: unknown, senderBundle: unknown = f.alice.publicBundle): ReturnType<typeof openRoomKeyShare> {
  return openRoomKeyShare({ share, device: f.bob, senderBundle });
}

describe("sealRoomKeyShare then openRoomKeyShare", () => {
  it("returns the same room key, its context and the sender", async () => {
    const f = await fixture();
    const opened = openAsBob(f, f.share);
    expect(roomKeysEqual(opened.key, f.key)).toBe(true);
    expect(opened).toMatchObject({
      roomId: "room-42",
      keyId: "room-42-key",
      keyVersion: 3,
      shareable: false,
      senderUserId: "alice",
      senderDeviceId: "phone",
    });
  });

  it.each([true, false])("carries shareable: %s", async (shareable) => {
    const f = await fixture(shareable);
    expect(openAsBob(f, f.share).shareable).toBe(shareable);
  });

  it("opens a share and a sender bundle given as JSON text", async () => {
    const f = await fixture();
    const opened = openAsBob(f, JSON.stringify(f.share), JSON.stringify(f.alice.publicBundle));
    expect(roomKeysEqual(opened.key, f.key)).toBe(true);
  });

  it("seals to a recipient bundle given as JSON text", async () => {
    const f = await fixture();
    const share = sealRoomKeyShare({
      roomId: "room-42",
      keyId: "k",
      keyVersion: 1,
      key: f.key,
      shareable: true,
      from: f.alice,
      to: JSON.stringify(f.bob.publicBundle),
    });
    expect(roomKeysEqual(openAsBob(f, share).key, f.key)).toBe(true);
  });

  it("opens with the recipient identity restored from its exported state", async () => {
    const f = await fixture();
    const restored = DeviceIdentity.importState(f.bob.exportState());
    const opened = openRoomKeyShare({ share: f.share, device: restored, senderBundle: f.alice.publicBundle });
    expect(roomKeysEqual(opened.key, f.key)).toBe(true);
  });

  it("lets a device share a key with its own user's other device, and with itself", async () => {
    const f = await fixture();
    const alicesLaptop = await createDeviceIdentity({ userId: "alice", deviceId: "laptop" });
    for (const to of [alicesLaptop, f.alice]) {
      const share = sealRoomKeyShare({ roomId: "r", keyId: "k", keyVersion: 1, key: f.key, shareable: false, from: f.alice, to: to.publicBundle });
      const opened = openRoomKeyShare({ share, device: to, senderBundle: f.alice.publicBundle });
      expect(roomKeysEqual(opened.key, f.key)).toBe(true);
    }
  });

  it("seals the same key twice to two different shares (fresh HPKE encapsulation)", async () => {
    const f = await fixture();
    const again = sealRoomKeyShare({ roomId: "room-42", keyId: "room-42-key", keyVersion: 3, key: f.key, shareable: false, from: f.alice, to: f.bob.publicBundle });
    expect(again.enc).not.toBe(f.share.enc);
    expect(again.ciphertext).not.toBe(f.share.ciphertext);
    expect(again.signature).not.toBe(f.share.signature);
    expect(roomKeysEqual(openAsBob(f, again).key, f.key)).toBe(true);
  });
});

describe("the share's shape", () => {
  it("has exactly the v1 fields, the suite ids, both parties' ids and the context", async () => {
    const f = await fixture();
    expect(Object.keys(f.share).sort()).toEqual(SHARE_FIELDS);
    expect(f.share).toMatchObject({
      v: 1,
      type: "room-key-share",
      kem: 0x0020,
      kdf: 0x0001,
      aead: 0x0002,
      roomId: "room-42",
      keyId: "room-42-key",
      keyVersion: 3,
      senderUserId: "alice",
      senderDeviceId: "phone",
      recipientUserId: "bob",
      recipientDeviceId: "laptop",
    });
  });

  it("has a 32-byte enc, a 49-byte ciphertext (33-byte plaintext and tag) and a 64-byte signature", async () => {
    const f = await fixture();
    expect(bytesOf(f.share.enc)).toHaveLength(32);
    expect(bytesOf(f.share.ciphertext)).toHaveLength(49);
    expect(bytesOf(f.share.signature)).toHaveLength(64);
    expect(f.share.enc).toHaveLength(43);
    expect(f.share.ciphertext).toHaveLength(66);
    expect(f.share.signature).toHaveLength(86);
  });

  it("is plain JSON that survives a JSON roundtrip and never holds the room key bytes", async () => {
    const f = await fixture();
    const json = JSON.stringify(f.share);
    expect(JSON.parse(json)).toEqual(f.share);
    const keyBytes = exportRoomKeyBytes(f.key);
    expect(json).not.toContain(base64urlEncode(keyBytes));
    expect(json).not.toContain(bytesToHex(keyBytes));
  });
});

describe("who may open a share", () => {
  it("refuses another device with SHARE_MISADDRESSED, even one of the same user or with the same device id", async () => {
    const f = await fixture();
    const bobsPhone = await createDeviceIdentity({ userId: "bob", deviceId: "phone" });
    const carolsLaptop = await createDeviceIdentity({ userId: "carol", deviceId: "laptop" });
    for (const device of [f.carol, f.alice, bobsPhone, carolsLaptop]) {
      const error = catchE2eeError(() => openRoomKeyShare({ share: f.share, device, senderBundle: f.alice.publicBundle }));
      expect(error.code, String(device)).toBe("SHARE_MISADDRESSED");
    }
  });

  it("refuses another device's bundle as the sender bundle with UNKNOWN_SENDER", async () => {
    const f = await fixture();
    const alicesLaptop = await createDeviceIdentity({ userId: "alice", deviceId: "laptop" });
    const otherAlicePhoneUser = await createDeviceIdentity({ userId: "alicia", deviceId: "phone" });
    for (const bundle of [f.carol.publicBundle, f.bob.publicBundle, alicesLaptop.publicBundle, otherAlicePhoneUser.publicBundle]) {
      expect(catchE2eeError(() => openAsBob(f, f.share, bundle)).code, bundle.userId).toBe("UNKNOWN_SENDER");
    }
  });

  it("refuses a sender bundle with the right ids and another signing key with BAD_SIGNATURE", async () => {
    const f = await fixture();
    const impostor = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    expect(catchE2eeError(() => openAsBob(f, f.share, impostor.publicBundle)).code).toBe("BAD_SIGNATURE");
  });

  it("refuses a tampered, malformed or missing sender bundle with BAD_SIGNATURE, INVALID_ENVELOPE or UNKNOWN_SENDER", async () => {
    const f = await fixture();
    const bundle = f.alice.publicBundle;
    expect(catchE2eeError(() => openAsBob(f, f.share, { ...bundle, agreementKey: f.bob.publicBundle.agreementKey })).code).toBe("BAD_SIGNATURE");
    expect(catchE2eeError(() => openAsBob(f, f.share, { ...bundle, signature: undefined })).code).toBe("INVALID_ENVELOPE");
    expect(catchE2eeError(() => openAsBob(f, f.share, null)).code).toBe("UNKNOWN_SENDER");
    expect(catchE2eeError(() => openRoomKeyShare({ share: f.share, device: f.bob, senderBundle: undefined })).code).toBe("UNKNOWN_SENDER");
  });

  it("refuses a share to a recipient device that re-keyed (same ids, new identity) with BAD_SIGNATURE", async () => {
    // The share's HPKE info and signature bind the recipient's agreement key; the new identity
    // derives a different one, so the signature check fails before any decryption.
    const f = await fixture();
    const bobRekeyed = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
    const error = catchE2eeError(() => openRoomKeyShare({ share: f.share, device: bobRekeyed, senderBundle: f.alice.publicBundle }));
    expect(error.code).toBe("BAD_SIGNATURE");
  });

  it("refuses a share sealed by a device that claims Alice's ids with BAD_SIGNATURE against Alice's bundle", async () => {
    const f = await fixture();
    const mallory = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const forged = sealRoomKeyShare({ roomId: "room-42", keyId: "room-42-key", keyVersion: 3, key: generateRoomKeySync(), shareable: true, from: mallory, to: f.bob.publicBundle });
    expect(catchE2eeError(() => openAsBob(f, forged)).code).toBe("BAD_SIGNATURE");
  });
});

describe("tampering with a share", () => {
  it("refuses a share re-pointed to another room, key id or key version with BAD_SIGNATURE", async () => {
    const f = await fixture();
    for (const change of [{ roomId: "room-43" }, { keyId: "room-42-key2" }, { keyVersion: 4 }, { keyVersion: 2 }, { roomId: "room-42", keyId: "room-42-KEY" }]) {
      const error = catchE2eeError(() => openAsBob(f, { ...f.share, ...change }));
      expect(error.code, JSON.stringify(change)).toBe("BAD_SIGNATURE");
    }
  });

  it("refuses another value in each string and number field, never returning a key", async () => {
    const f = await fixture();
    const cases: readonly [keyof RoomKeyShareV1, unknown, string][] = [
      ["v", 2, "UNSUPPORTED_VERSION"],
      ["type", "room-key-share2", "INVALID_ENVELOPE"],
      ["kem", 0x0021, "INVALID_ENVELOPE"],
      ["kdf", 0x0002, "INVALID_ENVELOPE"],
      ["aead", 0x0001, "INVALID_ENVELOPE"],
      ["aead", 0x0003, "INVALID_ENVELOPE"],
      ["roomId", "room-41", "BAD_SIGNATURE"],
      ["keyId", "other-key", "BAD_SIGNATURE"],
      ["keyVersion", 1, "BAD_SIGNATURE"],
      ["keyVersion", 2_147_483_647, "BAD_SIGNATURE"],
      ["senderUserId", "carol", "UNKNOWN_SENDER"],
      ["senderDeviceId", "laptop", "UNKNOWN_SENDER"],
      ["recipientUserId", "carol", "SHARE_MISADDRESSED"],
      ["recipientDeviceId", "phone", "SHARE_MISADDRESSED"],
    ];
    const covered = new Set<string>(["enc", "ciphertext", "signature"]);
    for (const [field, value, code] of cases) {
      covered.add(field);
      const error = catchE2eeError(() => openAsBob(f, { ...f.share, [field]: value }));
      expect(error.code, `${field} = ${String(value)}`).toBe(code);
    }
    expect([...covered].sort()).toEqual(SHARE_FIELDS);
  });

  for (const field of ["enc", "ciphertext", "signature"] as const) {
    it(`refuses every one-character change of ${field} with BAD_SIGNATURE`, { timeout: 30_000 }, async () => {
      const f = await fixture();
      const text = f.share[field];
      for (let index = 0; index < text.length; index++) {
        const error = catchE2eeError(() => openAsBob(f, { ...f.share, [field]: changedAt(text, index) }));
        expect(error.code, `${field}[${index}]`).toBe("BAD_SIGNATURE");
      }
    });
  }

  it("refuses a non-canonical or wrong-length byte field with INVALID_ENVELOPE", async () => {
    const f = await fixture();
    for (const field of ["enc", "ciphertext", "signature"] as const) {
      const text = f.share[field];
      const last = text.length - 1;
      const nonCanonical = replaceAt(text, last, ALPHABET[ALPHABET.indexOf(text.charAt(last)) ^ 1]!);
      for (const value of [nonCanonical, text.slice(0, -1), `${text}A`, `${text}=`, text.replace(/./, "+"), ""]) {
        const error = catchE2eeError(() => openAsBob(f, { ...f.share, [field]: value }));
        expect(error.code, `${field} = ${value}`).toBe("INVALID_ENVELOPE");
      }
    }
  });

  it("refuses an invalid id, a missing field, an extra field and wrong types with INVALID_ENVELOPE", async () => {
    const f = await fixture();
    const { signature: _signature, ...unsigned } = f.share;
    const cases: readonly [string, unknown][] = [
      ["roomId with a space", { ...f.share, roomId: "room 42" }],
      ["empty keyId", { ...f.share, keyId: "" }],
      ["keyVersion 0", { ...f.share, keyVersion: 0 }],
      ["keyVersion 2^31", { ...f.share, keyVersion: 2 ** 31 }],
      ["keyVersion 1.5", { ...f.share, keyVersion: 1.5 }],
      ["keyVersion as a string", { ...f.share, keyVersion: "3" }],
      ["missing signature", unsigned],
      ["extra field", { ...f.share, shareable: true }],
      ["an array", [f.share]],
      ["null", null],
      ["not JSON", "{"],
    ];
    for (const [name, share] of cases) {
      expect(catchE2eeError(() => openAsBob(f, share)).code, name).toBe("INVALID_ENVELOPE");
    }
  });

  it("refuses a share re-attributed to another sender whose bundle the recipient holds with BAD_SIGNATURE", async () => {
    const f = await fixture();
    const share = { ...f.share, senderUserId: "carol", senderDeviceId: "tablet" };
    expect(catchE2eeError(() => openAsBob(f, share, f.carol.publicBundle)).code).toBe("BAD_SIGNATURE");
  });

  it("refuses a share re-addressed to another device, opened by that device, with BAD_SIGNATURE", async () => {
    const f = await fixture();
    const share = { ...f.share, recipientUserId: "carol", recipientDeviceId: "tablet" };
    const error = catchE2eeError(() => openRoomKeyShare({ share, device: f.carol, senderBundle: f.alice.publicBundle }));
    expect(error.code).toBe("BAD_SIGNATURE");
  });

  it("refuses enc and ciphertext taken from another share of the same sender and recipient with BAD_SIGNATURE", async () => {
    const f = await fixture();
    const other = sealRoomKeyShare({ roomId: "room-42", keyId: "room-42-key", keyVersion: 3, key: generateRoomKeySync(), shareable: true, from: f.alice, to: f.bob.publicBundle });
    for (const swapped of [{ enc: other.enc }, { ciphertext: other.ciphertext }, { signature: other.signature }, { enc: other.enc, ciphertext: other.ciphertext }]) {
      expect(catchE2eeError(() => openAsBob(f, { ...f.share, ...swapped })).code, Object.keys(swapped).join("+")).toBe("BAD_SIGNATURE");
    }
  });
});

describe("a validly signed share that does not open", () => {
  /** A share Alice signs over chosen enc and ciphertext, to reach the HPKE step. */
  async function signedShare(f: Fixture, seal: (info: Uint8Array, recipientKey: Uint8Array) => { enc: Uint8Array; ciphertext: Uint8Array }): Promise<RoomKeyShareV1> {
    const aliceSigningSecret = bytesOf(f.alice.exportState().signingSecretKey);
    const recipientKey = bytesOf(f.bob.publicBundle.agreementKey);
    const context = { ...f.share };
    const info = keyShareInfo(context, bytesOf(f.alice.publicBundle.signingKey), recipientKey);
    const { enc, ciphertext } = seal(info, recipientKey);
    const signature = sign(aliceSigningSecret, keyShareSignatureInput(info, enc, ciphertext));
    return { ...context, enc: base64urlEncode(enc), ciphertext: base64urlEncode(ciphertext), signature: base64urlEncode(signature) };
  }

  it("fails DECRYPTION_FAILED for a ciphertext that is not an HPKE seal to the recipient", async () => {
    const f = await fixture();
    const share = await signedShare(f, () => ({
      enc: x25519.getPublicKey(x25519.utils.randomSecretKey()),
      ciphertext: crypto.getRandomValues(new Uint8Array(49)),
    }));
    const error = catchE2eeError(() => openAsBob(f, share));
    expect(error.code).toBe("DECRYPTION_FAILED");
    expect(error.message).toBe("decryption failed");
  });

  it("fails DECRYPTION_FAILED for a plaintext with an unknown flag bit", async () => {
    const f = await fixture();
    for (const flags of [0x02, 0x80, 0xff]) {
      const plaintext = new Uint8Array(33);
      plaintext[32] = flags;
      const share = await signedShare(f, (info, recipientKey) => hpkeSeal({ recipientPublicKey: recipientKey, info, aad: EMPTY, plaintext }));
      expect(catchE2eeError(() => openAsBob(f, share)).code, `flags ${flags}`).toBe("DECRYPTION_FAILED");
    }
  });

  it("opens a share built the same way with a valid plaintext (the helper above is sound)", async () => {
    const f = await fixture();
    const plaintext = new Uint8Array(33).fill(7);
    plaintext[32] = 0x01;
    const share = await signedShare(f, (info, recipientKey) => hpkeSeal({ recipientPublicKey: recipientKey, info, aad: EMPTY, plaintext }));
    const opened = openAsBob(f, share);
    expect(bytesToHex(exportRoomKeyBytes(opened.key))).toBe("07".repeat(32));
    expect(opened.shareable).toBe(true);
  });
});

describe("sealRoomKeyShare refuses bad input", () => {
  async function options(): Promise<SealRoomKeyShareOptions> {
    const f = await fixture();
    return { roomId: "room-42", keyId: "k", keyVersion: 1, key: f.key, shareable: false, from: f.alice, to: f.bob.publicBundle };
  }

  it("throws TypeError for invalid ids, key version, key or sender", async () => {
    const valid = await options();
    const cases: readonly [string, Partial<Record<keyof SealRoomKeyShareOptions, unknown>>][] = [
      ["roomId", { roomId: "room 42" }],
      ["keyId", { keyId: "" }],
      ["keyVersion 0", { keyVersion: 0 }],
      ["keyVersion 2^31", { keyVersion: 2 ** 31 }],
      ["keyVersion 1.5", { keyVersion: 1.5 }],
      ["key", { key: {} }],
      ["from a bundle", { from: valid.to }],
      ["from null", { from: null }],
    ];
    for (const [name, change] of cases) {
      expect(() => sealRoomKeyShare({ ...valid, ...change } as SealRoomKeyShareOptions), name).toThrow(TypeError);
    }
  });

  it("refuses a malformed recipient bundle with INVALID_ENVELOPE and a tampered one with BAD_SIGNATURE", async () => {
    const valid = await options();
    const bundle = valid.to as DeviceBundle;
    expect(catchE2eeError(() => sealRoomKeyShare({ ...valid, to: { ...bundle, v: undefined } })).code).toBe("UNSUPPORTED_VERSION");
    expect(catchE2eeError(() => sealRoomKeyShare({ ...valid, to: { ...bundle, extra: 1 } })).code).toBe("INVALID_ENVELOPE");
    expect(catchE2eeError(() => sealRoomKeyShare({ ...valid, to: "not json" })).code).toBe("INVALID_ENVELOPE");
    expect(catchE2eeError(() => sealRoomKeyShare({ ...valid, to: { ...bundle, userId: "mallory" } })).code).toBe("BAD_SIGNATURE");
  });
});

// -------------------------------------------------------------------------------------------
// Low-order recipient keys (Wycheproof x25519_test.json, read in place)
// -------------------------------------------------------------------------------------------

interface XdhTestFile {
  readonly testGroups: readonly {
    readonly curve: string;
    readonly tests: readonly { readonly tcId: number; readonly flags: readonly string[]; readonly public: string }[];
  }[];
}

// This file is <repo>/packages/crypto/src/key-share.test.ts; the vectors live beside the
// repository, in <repo>/../shared/vectors/wycheproof/.
const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const x25519VectorFile = resolve(repositoryRoot, "../shared/vectors/wycheproof/x25519_test.json");
const HAS_X25519_VECTORS = existsSync(x25519VectorFile);

/** A bundle naming `agreementKey`, correctly self-signed with a fresh Ed25519 key. */
function forgedBundle(agreementKey: Uint8Array): DeviceBundle {
  const signingSecretKey = generateSigningSecretKey();
  const signingKey = signingPublicKey(signingSecretKey);
  return {
    v: 1,
    type: "device-bundle",
    userId: "victim",
    deviceId: "phone",
    agreementKey: base64urlEncode(agreementKey),
    signingKey: base64urlEncode(signingKey),
    signature: base64urlEncode(sign(signingSecretKey, deviceBundleSignatureInput("victim", "phone", agreementKey, signingKey))),
  };
}

describe("low-order recipient agreement keys", () => {
  it("refuses the all-zero u-coordinate (order 2) in a validly self-signed bundle with INVALID_KEY", async () => {
    const f = await fixture();
    const error = catchE2eeError(() =>
      sealRoomKeyShare({ roomId: "r", keyId: "k", keyVersion: 1, key: f.key, shareable: false, from: f.alice, to: forgedBundle(new Uint8Array(32)) }),
    );
    expect(error.code).toBe("INVALID_KEY");
  });

  describe.skipIf(!HAS_X25519_VECTORS)(
    HAS_X25519_VECTORS
      ? "every Wycheproof low-order point (ZeroSharedSecret)"
      : `every Wycheproof low-order point (SKIPPED: ${x25519VectorFile} not found beside the repository)`,
    () => {
      const file = HAS_X25519_VECTORS ? (JSON.parse(readFileSync(x25519VectorFile, "utf8")) as XdhTestFile) : undefined;
      const lowOrder = (file?.testGroups ?? [])
        .filter((group) => group.curve === "curve25519")
        .flatMap((group) => group.tests)
        .filter((test) => test.flags.includes("ZeroSharedSecret"));

      it("refuses each one as a recipient agreement key with INVALID_KEY, after the bundle verifies", async () => {
        expect(lowOrder.length).toBeGreaterThan(0);
        const f = await fixture();
        let refused = 0;
        for (const test of lowOrder) {
          const bundle = forgedBundle(hexToBytes(test.public));
          expect(verifyDeviceBundle(bundle).bundle.agreementKey, `tcId ${test.tcId}`).toBe(bundle.agreementKey);
          const error = catchE2eeError(() =>
            sealRoomKeyShare({ roomId: "r", keyId: "k", keyVersion: 1, key: f.key, shareable: false, from: f.alice, to: bundle }),
          );
          expect(error.code, `tcId ${test.tcId}`).toBe("INVALID_KEY");
          refused++;
        }
        expect(refused).toBe(lowOrder.length);
      });
    },
  );
});

// -------------------------------------------------------------------------------------------
// Interop: a share opens with @hpke/core
// -------------------------------------------------------------------------------------------

describe("interop with @hpke/core (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM)", () => {
  it.each([true, false])("opens a share (shareable: %s) to key || flags with their open, info from keyShareInfo and empty aad", async (shareable) => {
    const f = await fixture(shareable);
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const recipientSecretKey = bytesOf(f.bob.exportState().agreementSecretKey);
    const recipientKey = await suite.kem.importKey("raw", recipientSecretKey.slice().buffer, false);
    const info = keyShareInfo(f.share, bytesOf(f.alice.publicBundle.signingKey), bytesOf(f.bob.publicBundle.agreementKey));
    const opened = new Uint8Array(
      await suite.open({ recipientKey, enc: bytesOf(f.share.enc), info }, bytesOf(f.share.ciphertext), EMPTY),
    );
    expect(opened).toHaveLength(33);
    expect(bytesToHex(opened.subarray(0, 32))).toBe(bytesToHex(exportRoomKeyBytes(f.key)));
    expect(opened[32]).toBe(shareable ? 0x01 : 0x00);
  });

  it("fails their open when info names another recipient agreement key (the binding is in info)", async () => {
    const f = await fixture();
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const recipientKey = await suite.kem.importKey("raw", bytesOf(f.bob.exportState().agreementSecretKey).slice().buffer, false);
    const info = keyShareInfo(f.share, bytesOf(f.alice.publicBundle.signingKey), bytesOf(f.carol.publicBundle.agreementKey));
    await expect(suite.open({ recipientKey, enc: bytesOf(f.share.enc), info }, bytesOf(f.share.ciphertext), EMPTY)).rejects.toThrow();
  });
});
