import { Aes256Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import {
  KEY_BACKUP_LIMITS,
  keyBackupInfo,
  type BackedUpKeyV1,
  type KeyBackupChunkV1,
  type KeyBackupPayloadV1,
} from "@domvia/e2ee-envelope";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { ALPHABET, EMPTY, catchE2eeError, changedAt, replaceAt } from "../test/support";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { hpkeSeal } from "./hpke";
import { KEY_BACKUP_SUITE, openBackupChunk, sealBackupChunk } from "./key-backup";
import { RecoveryKey, createRecoveryKey, recoveryKeyFromCode, recoverySecret } from "./recovery";


function backedUpKey(roomId: string, keyVersion: number, fill: number): BackedUpKeyV1 {
  return {
    roomId,
    keyId: `${roomId}-key`,
    keyVersion,
    key: base64urlEncode(new Uint8Array(32).fill(fill)),
    shareable: keyVersion % 2 === 0,
    createdAt: 1_700_000_000_000 + keyVersion,
  };
}

const PAYLOAD: KeyBackupPayloadV1 = Object.freeze({
  v: 1,
  type: "key-backup-payload",
  keys: Object.freeze([backedUpKey("room-1", 1, 0x11), backedUpKey("room-1", 2, 0x22), backedUpKey("room-2", 7, 0x77)]),
});

const MALFORMED_PAYLOADS: readonly unknown[] = [
  { ...PAYLOAD, keys: [{ ...PAYLOAD.keys[0]!, key: "short" }] },
  { ...PAYLOAD, keys: [{ ...PAYLOAD.keys[0]!, keyVersion: 0 }] },
  { ...PAYLOAD, keys: [{ ...PAYLOAD.keys[0]!, extra: true }] },
  { ...PAYLOAD, type: "key-backup" },
  { ...PAYLOAD, keys: [PAYLOAD.keys[0], null] },
];

async function sealed(): Promise<{ recoveryKey: RecoveryKey; chunk: KeyBackupChunkV1 }> {
  const recoveryKey = await createRecoveryKey();
  return { recoveryKey, chunk: sealBackupChunk(recoveryKey.publicKey, PAYLOAD) };
}

describe("sealBackupChunk then openBackupChunk", () => {
  it("returns the sealed payload", async () => {
    const { recoveryKey, chunk } = await sealed();
    expect(openBackupChunk(recoveryKey, chunk)).toEqual(PAYLOAD);
  });

  it("opens with the recovery key read back from its code", async () => {
    const { recoveryKey, chunk } = await sealed();
    expect(openBackupChunk(recoveryKeyFromCode(recoveryKey.code), chunk)).toEqual(PAYLOAD);
  });

  it("round-trips an empty payload and a payload of 1,000 keys", async () => {
    const recoveryKey = await createRecoveryKey();
    const empty: KeyBackupPayloadV1 = { v: 1, type: "key-backup-payload", keys: [] };
    expect(openBackupChunk(recoveryKey, sealBackupChunk(recoveryKey.publicKey, empty))).toEqual(empty);
    const many: KeyBackupPayloadV1 = {
      v: 1,
      type: "key-backup-payload",
      keys: Array.from({ length: 1000 }, (_, i) => backedUpKey(`room-${i % 10}`, i + 1, i & 0xff)),
    };
    expect(openBackupChunk(recoveryKey, sealBackupChunk(recoveryKey.publicKey, many))).toEqual(many);
  });

  it("writes only enc (32 bytes) and ciphertext (the JSON plus a 16-byte tag)", async () => {
    const { chunk } = await sealed();
    expect(Object.keys(chunk).sort()).toEqual(["ciphertext", "enc"]);
    expect(base64urlDecode(chunk.enc)).toHaveLength(32);
    expect(base64urlDecode(chunk.ciphertext)).toHaveLength(new TextEncoder().encode(JSON.stringify(PAYLOAD)).length + 16);
    expect(JSON.stringify(chunk)).not.toContain(PAYLOAD.keys[0]!.key);
    expect(JSON.stringify(chunk)).not.toContain("room-1");
  });

  it("seals the same payload to a fresh enc and ciphertext each time", async () => {
    const recoveryKey = await createRecoveryKey();
    const a = sealBackupChunk(recoveryKey.publicKey, PAYLOAD);
    const b = sealBackupChunk(recoveryKey.publicKey, PAYLOAD);
    expect(a.enc).not.toBe(b.enc);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("names the suite DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM", () => {
    expect(KEY_BACKUP_SUITE).toEqual({ kem: 0x0020, kdf: 0x0001, aead: 0x0002 });
    expect(Object.isFrozen(KEY_BACKUP_SUITE)).toBe(true);
  });

  it("is an RFC 9180 base-mode seal that @hpke/core opens with info = keyBackupInfo and empty aad", async () => {
    const { recoveryKey, chunk } = await sealed();
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const recipientKey = await suite.kem.importKey("raw", recoverySecret(recoveryKey).secretKey.slice().buffer, false);
    const info = keyBackupInfo(0x0020, 0x0001, 0x0002, base64urlDecode(recoveryKey.publicKey)!);
    const plaintext = await suite.open({ recipientKey, enc: base64urlDecode(chunk.enc)!, info }, base64urlDecode(chunk.ciphertext)!, EMPTY);
    expect(new TextDecoder().decode(plaintext)).toBe(JSON.stringify(PAYLOAD));
  });
});

describe("openBackupChunk refuses what it cannot open", () => {
  it("refuses another recovery key with DECRYPTION_FAILED", async () => {
    const { chunk } = await sealed();
    const error = catchE2eeError(() => openBackupChunk(new RecoveryKey(new Uint8Array(32)), chunk));
    expect(error.code).toBe("DECRYPTION_FAILED");
    expect(error.message).toBe("decryption failed");
  });

  for (const field of ["enc", "ciphertext"] as const) {
    it(`refuses every one-character change of ${field} with DECRYPTION_FAILED`, { timeout: 30_000 }, async () => {
      // One key keeps the chunk short: each change costs one X25519 and one AES-GCM open.
      const recoveryKey = await createRecoveryKey();
      const chunk = sealBackupChunk(recoveryKey.publicKey, { ...PAYLOAD, keys: PAYLOAD.keys.slice(0, 1) });
      const text = chunk[field];
      for (let index = 0; index < text.length; index++) {
        const error = catchE2eeError(() => openBackupChunk(recoveryKey, { ...chunk, [field]: changedAt(text, index) }));
        expect(error.code, `${field}[${index}]`).toBe("DECRYPTION_FAILED");
      }
    });
  }

  it("refuses an enc and a ciphertext from two different chunks with DECRYPTION_FAILED", async () => {
    const { recoveryKey, chunk } = await sealed();
    const other = sealBackupChunk(recoveryKey.publicKey, PAYLOAD);
    expect(catchE2eeError(() => openBackupChunk(recoveryKey, { enc: other.enc, ciphertext: chunk.ciphertext })).code).toBe("DECRYPTION_FAILED");
  });

  it("refuses a truncated, extended or empty field with DECRYPTION_FAILED", async () => {
    const { recoveryKey, chunk } = await sealed();
    const enc = base64urlDecode(chunk.enc)!;
    const ciphertext = base64urlDecode(chunk.ciphertext)!;
    const variants: KeyBackupChunkV1[] = [
      { ...chunk, ciphertext: base64urlEncode(ciphertext.subarray(0, -1)) },
      { ...chunk, ciphertext: base64urlEncode(ciphertext.subarray(0, 16)) },
      { ...chunk, ciphertext: base64urlEncode(ciphertext.subarray(0, 15)) },
      { ...chunk, ciphertext: base64urlEncode(Uint8Array.of(...ciphertext, 0)) },
      { ...chunk, ciphertext: "" },
      { ...chunk, enc: base64urlEncode(enc.subarray(0, 31)) },
      { ...chunk, enc: base64urlEncode(Uint8Array.of(...enc, 0)) },
      { ...chunk, enc: "" },
      // u = 0: a low-order enc (RFC 9180 §7.1.4), refused like any other failure to open.
      { ...chunk, enc: base64urlEncode(new Uint8Array(32)) },
    ];
    for (const variant of variants) {
      expect(catchE2eeError(() => openBackupChunk(recoveryKey, variant)).code, JSON.stringify(variant).slice(0, 60)).toBe("DECRYPTION_FAILED");
    }
  });

  it("refuses a field that is not canonical base64url with INVALID_ENVELOPE", async () => {
    const { recoveryKey, chunk } = await sealed();
    const nonCanonical = (text: string): string => {
      const last = text.length - 1;
      return replaceAt(text, last, ALPHABET[ALPHABET.indexOf(text.charAt(last)) ^ 1]!);
    };
    // A length of 1 modulo 4 never encodes whole bytes.
    const oneMod4 = (text: string): string => text.slice(0, text.length - ((text.length % 4) + 3) % 4);
    const variants: KeyBackupChunkV1[] = [
      { ...chunk, enc: nonCanonical(chunk.enc) },
      { ...chunk, enc: `${chunk.enc}=` },
      { ...chunk, enc: chunk.enc.replace(/./, "+") },
      { ...chunk, enc: oneMod4(chunk.enc) },
      { ...chunk, ciphertext: chunk.ciphertext.replace(/./, "/") },
      { ...chunk, ciphertext: oneMod4(chunk.ciphertext) },
      { ...chunk, ciphertext: ` ${chunk.ciphertext.slice(1)}` },
    ];
    for (const variant of variants) {
      expect(catchE2eeError(() => openBackupChunk(recoveryKey, variant)).code, JSON.stringify(variant).slice(0, 60)).toBe("INVALID_ENVELOPE");
    }
    expect(oneMod4(chunk.enc).length % 4).toBe(1);
    expect(oneMod4(chunk.ciphertext).length % 4).toBe(1);
  });

  it("refuses to seal a malformed payload, so no device writes a chunk no device can restore", async () => {
    const recoveryKey = await createRecoveryKey();
    for (const payload of MALFORMED_PAYLOADS) {
      const error = catchE2eeError(() => sealBackupChunk(recoveryKey.publicKey, payload as KeyBackupPayloadV1));
      expect(error.code, JSON.stringify(payload).slice(0, 80)).toBe("INVALID_ENVELOPE");
    }
    const future = catchE2eeError(() => sealBackupChunk(recoveryKey.publicKey, { ...PAYLOAD, v: 2 } as unknown as KeyBackupPayloadV1));
    expect(future.code).toBe("UNSUPPORTED_VERSION");
  });

  it("refuses a chunk that opens but holds a malformed payload with INVALID_ENVELOPE", async () => {
    const recoveryKey = await createRecoveryKey();
    const publicKey = base64urlDecode(recoveryKey.publicKey)!;
    // Written around sealBackupChunk's own check, as a buggy or hostile writer could.
    const sealRaw = (payload: unknown) => {
      const sealedRaw = hpkeSeal({
        recipientPublicKey: publicKey,
        info: keyBackupInfo(0x0020, 0x0001, 0x0002, publicKey),
        aad: EMPTY,
        plaintext: new TextEncoder().encode(JSON.stringify(payload)),
      });
      return { enc: base64urlEncode(sealedRaw.enc), ciphertext: base64urlEncode(sealedRaw.ciphertext) };
    };
    for (const payload of MALFORMED_PAYLOADS) {
      expect(catchE2eeError(() => openBackupChunk(recoveryKey, sealRaw(payload))).code, JSON.stringify(payload).slice(0, 80)).toBe("INVALID_ENVELOPE");
    }
    expect(catchE2eeError(() => openBackupChunk(recoveryKey, sealRaw({ ...PAYLOAD, v: 2 }))).code).toBe("UNSUPPORTED_VERSION");
  });

  it("throws TypeError for a recovery key that is not a RecoveryKey", async () => {
    const { recoveryKey, chunk } = await sealed();
    for (const value of [null, {}, { publicKey: recoveryKey.publicKey }]) {
      expect(() => openBackupChunk(value as RecoveryKey, chunk)).toThrow(TypeError);
    }
  });
});

describe("sealBackupChunk refuses bad input", () => {
  it("refuses a malformed public key with INVALID_KEY", async () => {
    const { publicKey } = await createRecoveryKey();
    const last = publicKey.length - 1;
    for (const bad of [
      "",
      publicKey.slice(0, -1),
      `${publicKey}A`,
      `${publicKey}=`,
      replaceAt(publicKey, last, ALPHABET[ALPHABET.indexOf(publicKey.charAt(last)) ^ 1]!),
      publicKey.replace(/./, "+"),
      base64urlEncode(new Uint8Array(31)),
      base64urlEncode(new Uint8Array(33)),
      Buffer.from(base64urlDecode(publicKey)!).toString("base64"),
    ]) {
      expect(catchE2eeError(() => sealBackupChunk(bad, PAYLOAD)).code, bad).toBe("INVALID_KEY");
    }
  });

  it("refuses a low-order public key with INVALID_KEY", () => {
    // u = 0 and u = 1 are points of order 2 and 1 (RFC 7748 §6.1: all-zero shared secret).
    const uOne = new Uint8Array(32);
    uOne[0] = 1;
    for (const lowOrder of [new Uint8Array(32), uOne]) {
      const error = catchE2eeError(() => sealBackupChunk(base64urlEncode(lowOrder), PAYLOAD));
      expect(error.code, bytesToHex(lowOrder)).toBe("INVALID_KEY");
    }
  });

  it("refuses a payload with more keys than one chunk holds with PAYLOAD_TOO_LARGE, before any work", () => {
    // sealBackupChunk reads only `keys.length` before refusing, so an array-like stands in for
    // 100,001 entries; the public key is invalid too, proving the size check runs first.
    const tooMany = { v: 1, type: "key-backup-payload", keys: { length: KEY_BACKUP_LIMITS.maxKeysPerChunk + 1 } } as unknown as KeyBackupPayloadV1;
    const error = catchE2eeError(() => sealBackupChunk("not a key", tooMany));
    expect(error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(error.message).toContain(String(KEY_BACKUP_LIMITS.maxKeysPerChunk));
    expect(KEY_BACKUP_LIMITS.maxKeysPerChunk).toBe(100_000);
  });

  it("lets a payload of exactly the limit past the size check, to the schema (the limit is inclusive)", async () => {
    const { publicKey } = await createRecoveryKey();
    const atLimit = { v: 1, type: "key-backup-payload", keys: { length: KEY_BACKUP_LIMITS.maxKeysPerChunk } } as unknown as KeyBackupPayloadV1;
    // Past the size check, the schema refuses the array-like stand-in: not PAYLOAD_TOO_LARGE.
    expect(catchE2eeError(() => sealBackupChunk(publicKey, atLimit)).code).toBe("INVALID_ENVELOPE");
  });
});
