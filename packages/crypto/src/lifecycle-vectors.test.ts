// Runs test-vectors/key-lifecycle-v1.json (SPEC.md §18.2) against the SDK: signed envelope v2,
// device bundles, room key shares, recovery keys, key backups and protected recovery keys. The
// vectors come from scripts/generate-vectors.mjs, an implementation of SPEC.md that shares no code
// with the SDK, so agreement here means SPEC.md, the SDK and the vectors describe one format.
//
// Valid vectors: the SDK reproduces the exact object, and opens or verifies it. Sealing a share,
// a backup chunk or a protected recovery key draws randomness (the HPKE ephemeral secret, the
// salt and nonce) and the public functions offer no hook for it, so those tests make the SDK's
// one randomness source, `randomBytes` of ./bytes, return the vector's values during one call.
// (Not `crypto.getRandomValues` itself: noble also draws from it to blind X25519 and Ed25519
// scalar multiplications, which changes no result.)
// Must-fail vectors: the SDK rejects with the expected E2eeError code.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Aes256Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { hexToBytes } from "@noble/ciphers/utils.js";
import { describe, expect, it, vi } from "vitest";
import {
  E2eeError,
  deviceBundleSignatureInput,
  encodeAssociatedDataV2,
  envelopeSignatureInputV2,
  keyBackupInfo,
  keyShareInfo,
  keyShareSignatureInput,
  parseKeyBackup,
  protectedRecoveryKeyAssociatedData,
  type BackedUpKeyV1,
  type DeviceBundle,
  type DeviceIdentityStateV1,
  type E2eeErrorCode,
  type KeyBackupPayloadV1,
  type KeyBackupV1,
  type ProtectedRecoveryKeyV1,
  type RoomKeyShareV1,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { decryptChatMessage, sealChatJson, type SenderBundleResolver } from "./chat";
import { DeviceIdentity, verifyDeviceBundle } from "./device-identity";
import { encapsulate, keyScheduleBase } from "./hpke";
import { KEY_BACKUP_SUITE, openBackupChunk, sealBackupChunk } from "./key-backup";
import { openRoomKeyShare, sealRoomKeyShare } from "./key-share";
import type { PaddingMode } from "./padding";
import { RecoveryKey, protectRecoveryKey, recoveryKeyFromCode, recoverySecret, unlockRecoveryKey } from "./recovery";
import { RoomKey, exportRoomKeyBytes } from "./room-key";

/** While `queue` is set, the SDK's `randomBytes` hands out its values instead of CSPRNG output. */
const fixedRandomness = vi.hoisted(() => ({ queue: undefined as Uint8Array[] | undefined }));
vi.mock("./bytes", async (importOriginal) => {
  const real = await importOriginal<typeof import("./bytes")>();
  const randomBytes = (length: number): Uint8Array => {
    const { queue } = fixedRandomness;
    if (queue === undefined) return real.randomBytes(length);
    const next = queue.shift();
    if (next === undefined || next.length !== length) throw new Error(`unexpected request for ${length} random bytes`);
    return next.slice();
  };
  return { ...real, randomBytes };
});

// ---------------------------------------------------------------------------------------------
// The vector file
// ---------------------------------------------------------------------------------------------

interface Section<V, F> {
  readonly valid: readonly V[];
  readonly mustFail: readonly F[];
}

interface DirectoryEntry {
  readonly userId: string;
  readonly deviceId: string;
  readonly bundle: unknown;
}

interface DeviceBundleVector {
  readonly name: string;
  readonly description: string;
  readonly identityState: DeviceIdentityStateV1;
  readonly agreementKey: string;
  readonly signingKey: string;
  readonly signatureInput: string;
  readonly bundle: DeviceBundle;
}

interface EnvelopeV2Vector {
  readonly description: string;
  readonly key: string;
  readonly nonce: string;
  readonly plaintext: string;
  readonly padding: PaddingMode;
  readonly context: { readonly roomId: string; readonly messageId: string; readonly keyId: string; readonly keyVersion: number };
  readonly sender: string;
  readonly senderBundles: readonly DirectoryEntry[];
  readonly associatedData: string;
  readonly signatureInput: string;
  readonly envelope: Record<string, unknown>;
}

interface EnvelopeV2MustFail {
  readonly description: string;
  readonly key: string;
  readonly context: {
    readonly roomId: string;
    readonly messageId: string;
    readonly requireSignature?: boolean;
    readonly maxPlaintextBytes?: number;
  };
  readonly senderBundles: readonly DirectoryEntry[];
  readonly envelope: unknown;
  readonly expectedError: E2eeErrorCode;
}

interface KeyShareVector {
  readonly description: string;
  readonly sender: string;
  readonly recipient: string;
  readonly roomKey: string;
  readonly shareable: boolean;
  readonly context: { readonly roomId: string; readonly keyId: string; readonly keyVersion: number };
  readonly ephemeralSecretKey: string;
  readonly plaintext: string;
  readonly info: string;
  readonly sharedSecret: string;
  readonly hpkeKey: string;
  readonly hpkeBaseNonce: string;
  readonly signatureInput: string;
  readonly senderBundle: DeviceBundle;
  readonly share: RoomKeyShareV1;
}

interface KeyShareMustFail {
  readonly description: string;
  readonly recipient: string;
  readonly senderBundle: unknown;
  readonly share: unknown;
  readonly expectedError: E2eeErrorCode;
}

interface RecoveryVector {
  readonly description: string;
  readonly entropy: string;
  readonly code: string;
  readonly secretKey: string;
  readonly publicKey: string;
  readonly codeVariants: readonly string[];
}

interface CodeMustFail {
  readonly description: string;
  readonly code: string;
  readonly expectedError: E2eeErrorCode;
}

interface KeyBackupVector {
  readonly description: string;
  readonly recoveryEntropy: string;
  readonly recoveryCode: string;
  readonly publicKey: string;
  readonly info: string;
  readonly chunks: readonly {
    readonly ephemeralSecretKey: string;
    readonly sharedSecret: string;
    readonly hpkeKey: string;
    readonly hpkeBaseNonce: string;
    readonly payload: KeyBackupPayloadV1;
    readonly payloadText: string;
  }[];
  readonly backup: KeyBackupV1;
  readonly restoredKeys: readonly BackedUpKeyV1[];
}

interface KeyBackupMustFail {
  readonly description: string;
  readonly recoveryCode: string;
  readonly backup: unknown;
  readonly expectedError: E2eeErrorCode;
}

interface ProtectedVector {
  readonly description: string;
  readonly recoveryEntropy: string;
  readonly publicKey: string;
  readonly passphrase: string;
  readonly passphraseVariants: readonly string[];
  readonly passphraseBytes: string;
  readonly kdf: { readonly n: number; readonly r: number; readonly p: number };
  readonly salt: string;
  readonly nonce: string;
  readonly derivedKey: string;
  readonly associatedData: string;
  readonly protectedKey: ProtectedRecoveryKeyV1;
}

interface ProtectedMustFail {
  readonly description: string;
  readonly passphrase: string;
  readonly protectedKey: unknown;
  readonly expectedError: E2eeErrorCode;
}

interface LifecycleFile {
  readonly version: number;
  readonly description: string;
  readonly source: string;
  readonly deviceBundle: Section<DeviceBundleVector, { readonly description: string; readonly bundle: unknown; readonly expectedError: E2eeErrorCode }>;
  readonly envelopeV2: Section<EnvelopeV2Vector, EnvelopeV2MustFail>;
  readonly keyShare: Section<KeyShareVector, KeyShareMustFail>;
  readonly recoveryKey: Section<RecoveryVector, CodeMustFail>;
  readonly keyBackup: Section<KeyBackupVector, KeyBackupMustFail>;
  readonly protectedRecoveryKey: Section<ProtectedVector, ProtectedMustFail>;
}

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const vectorPath = fileURLToPath(new URL("../../../test-vectors/key-lifecycle-v1.json", import.meta.url));
const vectors = JSON.parse(readFileSync(vectorPath, "utf8")) as LifecycleFile;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
const fromHex = (hex: string): Uint8Array => hexToBytes(hex);
const decode = (text: string): Uint8Array => {
  const bytes = base64urlDecode(text);
  if (bytes === undefined) throw new Error("vector holds invalid base64url");
  return bytes;
};
const byDescription = <T extends { readonly description: string }>(list: readonly T[]): (readonly [string, T])[] =>
  list.map((vector) => [vector.description, vector] as const);
/** Object inputs are also tried as their JSON text, which every reader accepts alike. */
const textForms = (input: unknown): unknown[] => (typeof input === "string" ? [input] : [input, JSON.stringify(input)]);

const devices = new Map(vectors.deviceBundle.valid.map((vector) => [vector.name, vector] as const));
function device(name: string): DeviceBundleVector {
  const found = devices.get(name);
  if (found === undefined) throw new Error(`no device named ${name} in the vectors`);
  return found;
}
const identity = (name: string): DeviceIdentity => DeviceIdentity.importState(device(name).identityState);
const agreementSecret = (name: string): Uint8Array => decode(device(name).identityState.agreementSecretKey);

/** A resolver over the vector's directory: the bundle listed for exactly these ids, or none. */
const resolverOf =
  (entries: readonly DirectoryEntry[]): SenderBundleResolver =>
  ({ userId, deviceId }) =>
    entries.find((entry) => entry.userId === userId && entry.deviceId === deviceId)?.bundle as DeviceBundle | undefined;

/** Resolves with the E2eeError `run` throws or rejects with, and checks its code. */
async function expectE2eeError(run: () => unknown, code: E2eeErrorCode): Promise<void> {
  const error: unknown = await Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(E2eeError.isInstance(error), `expected an E2eeError ${code}, got ${String(error)}`).toBe(true);
  expect((error as E2eeError).code, (error as Error).message).toBe(code);
}

/**
 * Runs `run` while the SDK's `randomBytes` returns exactly `values`, one per call and of the same
 * length, then requires that every value was used. A surprise request fails the test.
 */
async function withFixedRandomness<T>(values: readonly Uint8Array[], run: () => T | Promise<T>): Promise<T> {
  const queue = values.map((value) => value.slice());
  fixedRandomness.queue = queue;
  try {
    const result = await run();
    expect(queue, "every fixed random value was drawn").toHaveLength(0);
    return result;
  } finally {
    fixedRandomness.queue = undefined;
  }
}

/** Opens an HPKE ciphertext with @hpke/core, an implementation independent of ./hpke. */
async function openWithHpkeCore(recipientSecretKey: Uint8Array, enc: Uint8Array, info: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const recipientKey = await suite.kem.importKey("raw", recipientSecretKey.slice().buffer, false);
  return new Uint8Array(await suite.open({ recipientKey, enc: enc.slice().buffer, info: info.slice().buffer }, ciphertext.slice().buffer));
}

/**
 * SPEC.md §12.5, restore: parse the backup, read the code, require the code's public key to be
 * the backup's (WRONG_RECOVERY_CODE), open every chunk, then merge entries (KEY_CONFLICT for two
 * keys under one room, key id and version). `restoreKeyBackup` of @domvia/e2ee-room-keys does
 * this; that package depends on this one, so this test calls the SDK for every cryptographic
 * step and mirrors only the two comparisons.
 */
function restoreWithSdk(backup: unknown, recoveryCode: string): BackedUpKeyV1[] {
  const parsed = parseKeyBackup(backup);
  const recoveryKey = recoveryKeyFromCode(recoveryCode);
  if (recoveryKey.publicKey !== parsed.publicKey) throw new E2eeError("WRONG_RECOVERY_CODE", "the code belongs to another backup");
  const seen = new Map<string, BackedUpKeyV1>();
  for (const chunk of parsed.chunks) {
    for (const key of openBackupChunk(recoveryKey, chunk).keys) {
      const id = `${key.roomId}\n${key.keyVersion}\n${key.keyId}`;
      const earlier = seen.get(id);
      if (earlier !== undefined && earlier.key !== key.key) throw new E2eeError("KEY_CONFLICT", "two keys for one version");
      seen.set(id, key);
    }
  }
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("key lifecycle test vectors", () => {
  it("is version 1 of the file, names its source, and has enough vectors of every kind", () => {
    expect(vectors.version).toBe(1);
    expect(vectors.source).toContain("scripts/generate-vectors.mjs");
    const sections = [vectors.deviceBundle, vectors.envelopeV2, vectors.keyShare, vectors.recoveryKey, vectors.keyBackup, vectors.protectedRecoveryKey];
    for (const section of sections) {
      expect(section.valid.length).toBeGreaterThanOrEqual(2);
      expect(section.mustFail.length).toBeGreaterThanOrEqual(8);
    }
    const codes = new Set(sections.flatMap((section) => section.mustFail.map((vector) => vector.expectedError)));
    for (const code of [
      "INVALID_ENVELOPE",
      "UNSUPPORTED_VERSION",
      "CONTEXT_MISMATCH",
      "DECRYPTION_FAILED",
      "PAYLOAD_TOO_LARGE",
      "BAD_SIGNATURE",
      "UNKNOWN_SENDER",
      "SHARE_MISADDRESSED",
      "KEY_CONFLICT",
      "INVALID_RECOVERY_CODE",
      "WRONG_RECOVERY_CODE",
    ] as const) {
      expect(codes, code).toContain(code);
    }
  });

  // The generator re-derives every vector (Ed25519, X25519, scrypt in pure JS): allow for a busy machine.
  it("is what scripts/generate-vectors.mjs writes today", { timeout: 30_000 }, () => {
    expect(() =>
      execFileSync(process.execPath, ["scripts/generate-vectors.mjs", "--check"], { cwd: repositoryRoot, stdio: "pipe" }),
    ).not.toThrow();
  });
});

describe("device bundle v1 vectors", () => {
  describe.each(byDescription(vectors.deviceBundle.valid))("valid: %s", (_, vector) => {
    it("importState of the identity state yields exactly the vector's bundle, and exports the state back", () => {
      const device = DeviceIdentity.importState(vector.identityState);
      expect(device.publicBundle).toStrictEqual(vector.bundle);
      expect(device.exportState()).toStrictEqual(vector.identityState);
    });

    it("signs the vector's signature input", () => {
      const input = deviceBundleSignatureInput(vector.bundle.userId, vector.bundle.deviceId, fromHex(vector.agreementKey), fromHex(vector.signingKey));
      expect(toHex(input)).toBe(vector.signatureInput);
    });

    it("verifies, as an object and as JSON text", () => {
      for (const input of textForms(vector.bundle)) {
        const verified = verifyDeviceBundle(input);
        expect(verified.bundle).toStrictEqual(vector.bundle);
        expect(toHex(verified.agreementKey)).toBe(vector.agreementKey);
        expect(toHex(verified.signingKey)).toBe(vector.signingKey);
      }
    });
  });

  describe.each(byDescription(vectors.deviceBundle.mustFail))("must fail: %s", (_, vector) => {
    it(`is rejected with ${vector.expectedError}`, async () => {
      for (const input of textForms(vector.bundle)) await expectE2eeError(() => verifyDeviceBundle(input), vector.expectedError);
    });
  });
});

describe("envelope v2 (signed) vectors", () => {
  describe.each(byDescription(vectors.envelopeV2.valid))("valid: %s", (_, vector) => {
    const sender = device(vector.sender);
    const { roomId, messageId } = vector.context;

    it("seals to exactly the vector's envelope", () => {
      const envelope = sealChatJson(
        JSON.parse(vector.plaintext),
        new RoomKey(fromHex(vector.key)),
        { ...vector.context, sender: identity(vector.sender), padding: vector.padding },
        fromHex(vector.nonce),
      );
      expect(envelope).toStrictEqual(vector.envelope);
    });

    it("binds the vector's associated data and signs the vector's signature input", () => {
      const ad = encodeAssociatedDataV2({ ...vector.context, senderUserId: sender.bundle.userId, senderDeviceId: sender.bundle.deviceId });
      expect(toHex(ad)).toBe(vector.associatedData);
      const { nonce, commitment, ciphertext } = vector.envelope as { nonce: string; commitment: string; ciphertext: string };
      expect(toHex(envelopeSignatureInputV2(ad, decode(nonce), decode(commitment), decode(ciphertext)))).toBe(vector.signatureInput);
    });

    it("opens (object and JSON text), verifying the sender, even when signatures are required", async () => {
      for (const input of textForms(vector.envelope)) {
        const opened = await decryptChatMessage(input, new RoomKey(fromHex(vector.key)), {
          roomId,
          messageId,
          resolveSender: resolverOf(vector.senderBundles),
          requireSignature: true,
        });
        expect(JSON.stringify(opened.value)).toBe(vector.plaintext);
        expect(opened.sender).toStrictEqual({ userId: sender.bundle.userId, deviceId: sender.bundle.deviceId });
        expect(opened.keyId).toBe(vector.context.keyId);
        expect(opened.keyVersion).toBe(vector.context.keyVersion);
      }
    });
  });

  describe.each(byDescription(vectors.envelopeV2.mustFail))("must fail: %s", (_, vector) => {
    it(`is rejected with ${vector.expectedError}`, async () => {
      for (const input of textForms(vector.envelope)) {
        await expectE2eeError(
          () => decryptChatMessage(input, new RoomKey(fromHex(vector.key)), { ...vector.context, resolveSender: resolverOf(vector.senderBundles) }),
          vector.expectedError,
        );
      }
    });
  });
});

describe("room key share v1 vectors", () => {
  describe.each(byDescription(vectors.keyShare.valid))("valid: %s", (_, vector) => {
    const sender = device(vector.sender);
    const recipient = device(vector.recipient);
    const info = fromHex(vector.info);

    it("seals to exactly the vector's share when the CSPRNG yields the vector's HPKE ephemeral secret", async () => {
      const share = await withFixedRandomness([fromHex(vector.ephemeralSecretKey)], () =>
        sealRoomKeyShare({
          ...vector.context,
          key: new RoomKey(fromHex(vector.roomKey)),
          shareable: vector.shareable,
          from: identity(vector.sender),
          to: recipient.bundle,
        }),
      );
      expect(share).toStrictEqual(vector.share);
    });

    it("binds the vector's info and signs the vector's signature input", () => {
      expect(toHex(keyShareInfo(vector.share, fromHex(sender.signingKey), fromHex(recipient.agreementKey)))).toBe(vector.info);
      const input = keyShareSignatureInput(info, decode(vector.share.enc), decode(vector.share.ciphertext));
      expect(toHex(input)).toBe(vector.signatureInput);
    });

    it("derives the vector's HPKE shared secret, key and base nonce", () => {
      const { sharedSecret, enc } = encapsulate(fromHex(recipient.agreementKey), fromHex(vector.ephemeralSecretKey));
      expect(base64urlEncode(enc)).toBe(vector.share.enc);
      expect(toHex(sharedSecret)).toBe(vector.sharedSecret);
      const context = keyScheduleBase(sharedSecret, info, "aes-256-gcm");
      expect(toHex(context.key)).toBe(vector.hpkeKey);
      expect(toHex(context.baseNonce)).toBe(vector.hpkeBaseNonce);
    });

    it("opens (object and JSON text) to the vector's key and flags", () => {
      for (const input of textForms(vector.share)) {
        const opened = openRoomKeyShare({ share: input, device: identity(vector.recipient), senderBundle: vector.senderBundle });
        expect(toHex(exportRoomKeyBytes(opened.key))).toBe(vector.roomKey);
        expect(opened).toMatchObject({
          ...vector.context,
          shareable: vector.shareable,
          senderUserId: sender.bundle.userId,
          senderDeviceId: sender.bundle.deviceId,
        });
      }
    });

    it("opens with @hpke/core to the vector's plaintext", async () => {
      const plaintext = await openWithHpkeCore(agreementSecret(vector.recipient), decode(vector.share.enc), info, decode(vector.share.ciphertext));
      expect(toHex(plaintext)).toBe(vector.plaintext);
    });
  });

  describe.each(byDescription(vectors.keyShare.mustFail))("must fail: %s", (_, vector) => {
    it(`is rejected with ${vector.expectedError}`, async () => {
      for (const input of textForms(vector.share)) {
        await expectE2eeError(
          () => openRoomKeyShare({ share: input, device: identity(vector.recipient), senderBundle: vector.senderBundle }),
          vector.expectedError,
        );
      }
    });
  });
});

describe("recovery key vectors", () => {
  describe.each(byDescription(vectors.recoveryKey.valid))("valid: %s", (_, vector) => {
    it("derives the vector's code, secret key and public key from the entropy", () => {
      const recoveryKey = new RecoveryKey(fromHex(vector.entropy));
      expect(recoveryKey.code).toBe(vector.code);
      expect(recoveryKey.publicKey).toBe(vector.publicKey);
      expect(toHex(recoverySecret(recoveryKey).secretKey)).toBe(vector.secretKey);
    });

    it("reads the code and every accepted variant back to the same key", () => {
      for (const code of [vector.code, ...vector.codeVariants]) {
        const recoveryKey = recoveryKeyFromCode(code);
        expect(recoveryKey.publicKey).toBe(vector.publicKey);
        expect(toHex(recoverySecret(recoveryKey).entropy)).toBe(vector.entropy);
      }
    });
  });

  describe.each(byDescription(vectors.recoveryKey.mustFail))("must fail: %s", (_, vector) => {
    it(`is rejected with ${vector.expectedError}`, async () => {
      await expectE2eeError(() => recoveryKeyFromCode(vector.code), vector.expectedError);
    });
  });
});

describe("key backup v1 vectors", () => {
  describe.each(byDescription(vectors.keyBackup.valid))("valid: %s", (_, vector) => {
    const publicKey = decode(vector.publicKey);
    const info = fromHex(vector.info);

    it("the recovery entropy gives the backup's public key", () => {
      const recoveryKey = new RecoveryKey(fromHex(vector.recoveryEntropy));
      expect(recoveryKey.publicKey).toBe(vector.publicKey);
      expect(recoveryKey.code).toBe(vector.recoveryCode);
    });

    it("seals every chunk to exactly the vector's when the CSPRNG yields the chunk's ephemeral secret", async () => {
      expect(toHex(keyBackupInfo(KEY_BACKUP_SUITE.kem, KEY_BACKUP_SUITE.kdf, KEY_BACKUP_SUITE.aead, publicKey))).toBe(vector.info);
      const chunks = [];
      for (const chunk of vector.chunks) {
        expect(JSON.stringify(chunk.payload)).toBe(chunk.payloadText);
        chunks.push(await withFixedRandomness([fromHex(chunk.ephemeralSecretKey)], () => sealBackupChunk(vector.publicKey, chunk.payload)));
      }
      const backup: KeyBackupV1 = { v: 1, type: "key-backup", ...KEY_BACKUP_SUITE, publicKey: vector.publicKey, chunks };
      expect(backup).toStrictEqual(vector.backup);
    });

    it("derives every chunk's HPKE shared secret, key and base nonce", () => {
      vector.chunks.forEach((chunk, i) => {
        const { sharedSecret, enc } = encapsulate(publicKey, fromHex(chunk.ephemeralSecretKey));
        expect(base64urlEncode(enc)).toBe(vector.backup.chunks[i]!.enc);
        expect(toHex(sharedSecret)).toBe(chunk.sharedSecret);
        const context = keyScheduleBase(sharedSecret, info, "aes-256-gcm");
        expect(toHex(context.key)).toBe(chunk.hpkeKey);
        expect(toHex(context.baseNonce)).toBe(chunk.hpkeBaseNonce);
      });
    });

    it("opens every chunk with the recovery code to the vector's payload", () => {
      const recoveryKey = recoveryKeyFromCode(vector.recoveryCode);
      vector.chunks.forEach((chunk, i) => {
        expect(openBackupChunk(recoveryKey, vector.backup.chunks[i]!)).toStrictEqual(chunk.payload);
      });
    });

    it("restores (object and JSON text) to the vector's keys", () => {
      for (const input of textForms(vector.backup)) expect(restoreWithSdk(input, vector.recoveryCode)).toStrictEqual(vector.restoredKeys);
    });

    it("opens every chunk with @hpke/core to the payload's JSON text", async () => {
      const { secretKey } = recoverySecret(recoveryKeyFromCode(vector.recoveryCode));
      for (const [i, chunk] of vector.chunks.entries()) {
        const sealed = vector.backup.chunks[i]!;
        const plaintext = await openWithHpkeCore(secretKey, decode(sealed.enc), info, decode(sealed.ciphertext));
        expect(new TextDecoder().decode(plaintext)).toBe(chunk.payloadText);
      }
    });
  });

  describe.each(byDescription(vectors.keyBackup.mustFail))("must fail: %s", (_, vector) => {
    it(`is rejected with ${vector.expectedError}`, async () => {
      for (const input of textForms(vector.backup)) await expectE2eeError(() => restoreWithSdk(input, vector.recoveryCode), vector.expectedError);
    });
  });
});

describe("protected recovery key v1 vectors", () => {
  describe.each(byDescription(vectors.protectedRecoveryKey.valid))("valid: %s", (_, vector) => {
    it("protects to exactly the vector's object when the CSPRNG yields the vector's salt and nonce", async () => {
      const recoveryKey = new RecoveryKey(fromHex(vector.recoveryEntropy));
      expect(recoveryKey.publicKey).toBe(vector.publicKey);
      const protectedKey = await withFixedRandomness([fromHex(vector.salt), fromHex(vector.nonce)], () =>
        protectRecoveryKey(recoveryKey, vector.passphrase, vector.kdf),
      );
      expect(protectedKey).toStrictEqual(vector.protectedKey);
    });

    it("binds the vector's associated data", () => {
      const ad = protectedRecoveryKeyAssociatedData(vector.protectedKey.kdf, fromHex(vector.salt), decode(vector.publicKey));
      expect(toHex(ad)).toBe(vector.associatedData);
    });

    it("normalises the passphrase to the vector's bytes (NFKC, UTF-8)", () => {
      expect(toHex(new TextEncoder().encode(vector.passphrase.normalize("NFKC")))).toBe(vector.passphraseBytes);
    });

    it("unlocks (object and JSON text) with the passphrase and every equivalent spelling", async () => {
      const expectedCode = new RecoveryKey(fromHex(vector.recoveryEntropy)).code;
      for (const input of textForms(vector.protectedKey)) {
        for (const passphrase of [vector.passphrase, ...vector.passphraseVariants]) {
          const recoveryKey = await unlockRecoveryKey(input, passphrase);
          expect(recoveryKey.publicKey).toBe(vector.publicKey);
          expect(recoveryKey.code).toBe(expectedCode);
        }
      }
    });
  });

  describe.each(byDescription(vectors.protectedRecoveryKey.mustFail))("must fail: %s", (_, vector) => {
    it(`is rejected with ${vector.expectedError}`, async () => {
      for (const input of textForms(vector.protectedKey)) await expectE2eeError(() => unlockRecoveryKey(input, vector.passphrase), vector.expectedError);
    });
  });
});
