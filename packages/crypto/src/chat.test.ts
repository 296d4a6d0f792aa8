import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import {
  ContextMismatchError,
  E2eeError,
  UnknownKeyError,
  encodeAssociatedDataV1,
  padmeLength,
  type EnvelopeV1,
} from "@domvia/e2ee-envelope";
import { describe, expect, it, vi } from "vitest";
import { sealChatJson } from "./chat";
import {
  decryptChatJson,
  encryptChatJson,
  exportAesGcmKeyToBase64,
  generateAesGcmKey,
  importAesGcmKeyFromBase64,
  type RoomKey,
  type RoomKeyReference,
} from "./index";

const MESSAGE = Object.freeze({ body: "Private message", sender_id: "user-1" });
const CONTEXT = Object.freeze({ roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 });
const RECEIVED = Object.freeze({ roomId: "room-42", messageId: "msg-1" });

/** A distinctive string that must never show up in an error message. */
const MARKER = "SECRET-MARKER-c41d";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Key bytes 00..1f and nonce bytes 40..57: the fixture parse.test.ts in @domvia/e2ee-envelope pins. */
const FIXED_KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i);
const FIXED_NONCE = Uint8Array.from({ length: 24 }, (_, i) => 0x40 + i);
const KNOWN_ANSWER: EnvelopeV1 = Object.freeze({
  v: 1,
  suite: "xaes256gcm-kc",
  roomId: "room-42",
  messageId: "msg-1",
  keyId: "room-42-v1",
  keyVersion: 1,
  nonce: "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZX",
  commitment: "P6ThBzXdpEbc1Y15lCYGnFEoaKq5leGafa-DCqXYqD0",
  ciphertext: "BeMkvISKR0Mb9lHkyFucixB0qaRF6rErl918FBRjNDIYNeSuJpNpvS4N-FemTaKvddPJlrOfyUO8voVyK9ukow",
});

function importBytes(bytes: Uint8Array): Promise<RoomKey> {
  return importAesGcmKeyFromBase64(Buffer.from(bytes).toString("base64"));
}

/** The settled rejection of `promise`; fails the test if it fulfils. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    (value) => ({ fulfilled: true as const, value }),
    (error: unknown) => ({ fulfilled: false as const, error }),
  );
  if (outcome.fulfilled) throw new Error(`expected a rejection, got data: ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

async function expectE2eeError(promise: Promise<unknown>, code?: string): Promise<E2eeError> {
  const error = await rejectionOf(promise);
  expect(E2eeError.isInstance(error)).toBe(true);
  if (code !== undefined) expect((error as E2eeError).code).toBe(code);
  return error as E2eeError;
}

async function expectDecryptionFailed(promise: Promise<unknown>): Promise<void> {
  const error = await expectE2eeError(promise, "DECRYPTION_FAILED");
  expect(error.message).toBe("decryption failed");
}

function replaceAt(text: string, index: number, replacement: string): string {
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

function decodedLength(base64url: string): number {
  return Buffer.from(base64url, "base64url").length;
}

/**
 * XAES-256-GCM open (C2SP) built only on node:crypto, independent of the package's noble-based
 * implementation. Checked against the C2SP vectors below.
 */
function referenceXaes(key: Uint8Array, nonce: Uint8Array): { kx: Buffer; iv: Buffer } {
  const block = (input: Uint8Array): Buffer => {
    const cipher = createCipheriv("aes-256-ecb", key, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(input), cipher.final()]);
  };
  const l = block(new Uint8Array(16));
  const k1 = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i]! << 1) | ((l[i + 1] ?? 0) >>> 7)) & 0xff;
  if (l[0]! & 0x80) k1[15]! ^= 0x87;
  const m1 = Buffer.from([0x00, 0x01, 0x58, 0x00, ...nonce.subarray(0, 12)]);
  const m2 = Buffer.from([0x00, 0x02, 0x58, 0x00, ...nonce.subarray(0, 12)]);
  for (let i = 0; i < 16; i++) {
    m1[i]! ^= k1[i]!;
    m2[i]! ^= k1[i]!;
  }
  return { kx: Buffer.concat([block(m1), block(m2)]), iv: Buffer.from(nonce.subarray(12, 24)) };
}

function referenceXaesSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Buffer {
  const { kx, iv } = referenceXaes(key, nonce);
  const cipher = createCipheriv("aes-256-gcm", kx, iv);
  cipher.setAAD(ad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function referenceXaesOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Buffer {
  const { kx, iv } = referenceXaes(key, nonce);
  const decipher = createDecipheriv("aes-256-gcm", kx, iv);
  decipher.setAAD(ad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}

describe("the guide's example", () => {
  it("encrypts private chat JSON and decrypts it in the same room", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson({ body: "Private message", sender_id: "user-1" }, roomKey, {
      roomId: "room-42",
      messageId: "msg-1",
      keyId: "room-42-v1",
      keyVersion: 1,
    });
    const message = await decryptChatJson(encrypted, roomKey, { roomId: "room-42", messageId: "msg-1" });
    expect(message).toStrictEqual({ body: "Private message", sender_id: "user-1" });
  });

  it("produces a plain JSON envelope that names the context and hides the content", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    expect(Object.keys(encrypted).sort()).toStrictEqual(
      ["ciphertext", "commitment", "keyId", "keyVersion", "messageId", "nonce", "roomId", "suite", "v"],
    );
    expect(encrypted).toMatchObject({ v: 1, suite: "xaes256gcm-kc", ...CONTEXT });
    expect(encrypted.nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(encrypted.commitment).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(JSON.stringify(encrypted))).toStrictEqual(encrypted);
    const text = JSON.stringify(encrypted);
    expect(text).not.toContain("Private message");
    expect(text).not.toContain("user-1");
  });

  it("decrypts the envelope's JSON text", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    await expect(decryptChatJson(JSON.stringify(encrypted), roomKey, RECEIVED)).resolves.toStrictEqual(MESSAGE);
  });

  it("restores the key from its export and decrypts with it", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const restored = await importAesGcmKeyFromBase64(await exportAesGcmKeyToBase64(roomKey));
    await expect(decryptChatJson(encrypted, restored, RECEIVED)).resolves.toStrictEqual(MESSAGE);
  });
});

describe("known answer with a fixed nonce", () => {
  it("seals the guide's message to exactly the pinned envelope", async () => {
    const key = await importBytes(FIXED_KEY_BYTES);
    expect(sealChatJson(MESSAGE, key, CONTEXT, FIXED_NONCE)).toStrictEqual(KNOWN_ANSWER);
    await expect(decryptChatJson(KNOWN_ANSWER, key, RECEIVED)).resolves.toStrictEqual(MESSAGE);
  });

  it("checks the reference XAES-256-GCM against the C2SP vectors", () => {
    const nonce = Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWX");
    const plaintext = Buffer.from("XAES-256-GCM");
    // https://c2sp.org/XAES-256-GCM, "Test vectors".
    expect(referenceXaesSeal(new Uint8Array(32).fill(1), nonce, plaintext, new Uint8Array(0)).toString("hex")).toBe(
      "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271",
    );
    expect(referenceXaesSeal(new Uint8Array(32).fill(3), nonce, plaintext, Buffer.from("c2sp.org/XAES-256-GCM")).toString("hex")).toBe(
      "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d",
    );
  });

  it("opens with an independent XAES-256-GCM on node:crypto, using the documented AD, padding and commitment", async () => {
    const key = await importBytes(FIXED_KEY_BYTES);
    const envelope = sealChatJson(MESSAGE, key, CONTEXT, FIXED_NONCE);
    const commitment = createHmac("sha256", FIXED_KEY_BYTES).update("domvia-e2ee/v1/key-commitment").digest("base64url");
    expect(envelope.commitment).toBe(commitment);
    expect(envelope.nonce).toBe(Buffer.from(FIXED_NONCE).toString("base64url"));

    const padded = referenceXaesOpen(
      FIXED_KEY_BYTES,
      FIXED_NONCE,
      Buffer.from(envelope.ciphertext, "base64url"),
      encodeAssociatedDataV1(CONTEXT),
    );
    const json = Buffer.from(JSON.stringify(MESSAGE));
    expect(json.length).toBe(47);
    // 47 bytes + 0x80 marker = 48 = Padmé(48): no zero bytes follow.
    expect(padded.toString("hex")).toBe(json.toString("hex") + "80");
  });

  it("accepts a message sealed by the independent implementation", async () => {
    const key = await importBytes(FIXED_KEY_BYTES);
    const json = Buffer.from(JSON.stringify({ text: "from node:crypto" }));
    const padded = Buffer.concat([json, Buffer.from([0x80]), Buffer.alloc(padmeLength(json.length + 1) - json.length - 1)]);
    const sealed = referenceXaesSeal(FIXED_KEY_BYTES, FIXED_NONCE, padded, encodeAssociatedDataV1(CONTEXT));
    const envelope = { ...KNOWN_ANSWER, ciphertext: sealed.toString("base64url") };
    await expect(decryptChatJson(envelope, key, RECEIVED)).resolves.toStrictEqual({ text: "from node:crypto" });
  });

  it("binds the room into the tag: the same key, nonce and message for another room differ only in the tag", async () => {
    const key = await importBytes(FIXED_KEY_BYTES);
    const here = Buffer.from(sealChatJson(MESSAGE, key, CONTEXT, FIXED_NONCE).ciphertext, "base64url");
    const there = Buffer.from(sealChatJson(MESSAGE, key, { ...CONTEXT, roomId: "room-43" }, FIXED_NONCE).ciphertext, "base64url");
    expect(there.subarray(0, -16).equals(here.subarray(0, -16))).toBe(true);
    expect(there.subarray(-16).equals(here.subarray(-16))).toBe(false);
  });

  it("throws RangeError for a nonce that is not 24 bytes", async () => {
    const key = await importBytes(FIXED_KEY_BYTES);
    expect(() => sealChatJson(MESSAGE, key, CONTEXT, new Uint8Array(12))).toThrow(RangeError);
    expect(() => sealChatJson(MESSAGE, key, CONTEXT, new Uint8Array(25))).toThrow(RangeError);
  });
});

describe("context binding", () => {
  it("rejects an envelope from another room with CONTEXT_MISMATCH", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const error = await expectE2eeError(decryptChatJson(encrypted, roomKey, { ...RECEIVED, roomId: "room-43" }), "CONTEXT_MISMATCH");
    expect(error).toBeInstanceOf(ContextMismatchError);
    expect((error as ContextMismatchError).field).toBe("roomId");
  });

  it("rejects an envelope received as another message with CONTEXT_MISMATCH", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const error = await expectE2eeError(decryptChatJson(encrypted, roomKey, { ...RECEIVED, messageId: "msg-2" }), "CONTEXT_MISMATCH");
    expect((error as ContextMismatchError).field).toBe("messageId");
  });

  it("rejects an envelope whose room was rewritten to match the room it was replayed into", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const replayed = { ...encrypted, roomId: "room-43" };
    await expectDecryptionFailed(decryptChatJson(replayed, roomKey, { ...RECEIVED, roomId: "room-43" }));
  });

  it("rejects an envelope whose message id was rewritten to match another event", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const replayed = { ...encrypted, messageId: "msg-2" };
    await expectDecryptionFailed(decryptChatJson(replayed, roomKey, { ...RECEIVED, messageId: "msg-2" }));
  });

  it("rejects an envelope moved to another key id or key version", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const sameKeyForAnyReference = (): RoomKey => roomKey;
    for (const moved of [{ ...encrypted, keyId: "room-42-v2" }, { ...encrypted, keyVersion: 2 }]) {
      await expectDecryptionFailed(decryptChatJson(moved, roomKey, RECEIVED));
      await expectDecryptionFailed(decryptChatJson(moved, sameKeyForAnyReference, RECEIVED));
    }
  });

  it("checks the context before asking the resolver for a key", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const resolver = vi.fn((): RoomKey => roomKey);
    await expectE2eeError(decryptChatJson(encrypted, resolver, { ...RECEIVED, roomId: "room-43" }), "CONTEXT_MISMATCH");
    expect(resolver).not.toHaveBeenCalled();
  });
});

describe("wrong keys and tampering", () => {
  it("rejects a message under the wrong key with the opaque DECRYPTION_FAILED", async () => {
    const roomKey = await generateAesGcmKey();
    const otherKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const error = await expectE2eeError(decryptChatJson(encrypted, otherKey, RECEIVED), "DECRYPTION_FAILED");
    expect(error.message).toBe("decryption failed");
    expect(Object.keys(error).sort()).toStrictEqual(["code", "name"]);
  });

  it("rejects a message under the wrong key even with the right key's commitment copied in", async () => {
    const roomKey = await generateAesGcmKey();
    const otherKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const forOther = await encryptChatJson(MESSAGE, otherKey, CONTEXT);
    await expectDecryptionFailed(decryptChatJson({ ...encrypted, commitment: forOther.commitment }, otherKey, RECEIVED));
  });

  it("rejects every field changed to another valid-looking value", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const other = await encryptChatJson({ body: "Another message", sender_id: "user-2" }, await generateAesGcmKey(), CONTEXT);
    const mutations: [string, unknown, string][] = [
      ["v", 3, "UNSUPPORTED_VERSION"],
      ["suite", "xaes256gcm", "INVALID_ENVELOPE"],
      ["roomId", "room-43", "CONTEXT_MISMATCH"],
      ["messageId", "msg-2", "CONTEXT_MISMATCH"],
      ["keyId", "room-42-v2", "DECRYPTION_FAILED"],
      ["keyVersion", 2, "DECRYPTION_FAILED"],
      ["nonce", other.nonce, "DECRYPTION_FAILED"],
      ["commitment", other.commitment, "DECRYPTION_FAILED"],
      ["ciphertext", other.ciphertext, "DECRYPTION_FAILED"],
    ];
    for (const [field, value, code] of mutations) {
      const mutated = { ...encrypted, [field]: value };
      await expectE2eeError(decryptChatJson(mutated, roomKey, RECEIVED), code);
    }
  });

  it("rejects every character of the nonce, commitment and ciphertext changed to another alphabet character", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    let checked = 0;
    for (const field of ["nonce", "commitment", "ciphertext"] as const) {
      const text = encrypted[field];
      for (let index = 0; index < text.length; index++) {
        // +16 keeps the low 4 bits, so the last character's unused bits stay zero and the
        // change reaches the cipher instead of failing the canonical-base64url check.
        const replacement = ALPHABET.charAt((ALPHABET.indexOf(text.charAt(index)) + 16) % 64);
        const mutated = { ...encrypted, [field]: replaceAt(text, index, replacement) };
        await expectDecryptionFailed(decryptChatJson(mutated, roomKey, RECEIVED));
        checked++;
      }
    }
    expect(checked).toBe(32 + 43 + encrypted.ciphertext.length);
  });

  it("never opens a v1 envelope relabelled as a signed v2 envelope with a made-up sender and signature", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const relabelled = {
      ...encrypted,
      v: 2,
      senderUserId: "user-2",
      senderDeviceId: "device-2",
      signature: Buffer.alloc(64, 7).toString("base64url"),
    };
    await expectE2eeError(decryptChatJson(relabelled, roomKey, RECEIVED));
  });

  it("rejects a ciphertext truncated or extended by a block", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const bytes = Buffer.from(encrypted.ciphertext, "base64url");
    for (const changed of [bytes.subarray(0, bytes.length - 3), bytes.subarray(3), Buffer.concat([bytes, Buffer.alloc(3)])]) {
      await expectDecryptionFailed(decryptChatJson({ ...encrypted, ciphertext: changed.toString("base64url") }, roomKey, RECEIVED));
    }
  });
});

describe("key resolvers", () => {
  it("asks the resolver for the envelope's room, key id and key version", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, { ...CONTEXT, keyId: "room-42-k", keyVersion: 7 });
    const resolver = vi.fn((_reference: RoomKeyReference): RoomKey => roomKey);
    await expect(decryptChatJson(encrypted, resolver, RECEIVED)).resolves.toStrictEqual(MESSAGE);
    expect(resolver.mock.calls).toStrictEqual([[{ roomId: "room-42", keyId: "room-42-k", keyVersion: 7 }]]);
  });

  it("fails with UnknownKeyError carrying the reference when the resolver returns undefined", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, { ...CONTEXT, keyVersion: 3 });
    const error = await expectE2eeError(decryptChatJson(encrypted, () => undefined, RECEIVED), "UNKNOWN_KEY");
    expect(error).toBeInstanceOf(UnknownKeyError);
    const unknownKey = error as UnknownKeyError;
    expect([unknownKey.roomId, unknownKey.keyId, unknownKey.keyVersion]).toStrictEqual(["room-42", "room-42-v1", 3]);
  });

  it("fails with UNKNOWN_KEY when an async resolver resolves to undefined", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    await expectE2eeError(decryptChatJson(encrypted, async () => undefined, RECEIVED), "UNKNOWN_KEY");
  });

  it("throws TypeError when the resolver returns something that is not a room key", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const exported = await exportAesGcmKeyToBase64(roomKey);
    const notKeys: unknown[] = [exported, {}, new Uint8Array(32), 0, true];
    for (const notKey of notKeys) {
      const error = await rejectionOf(decryptChatJson(encrypted, () => notKey as RoomKey, RECEIVED));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).not.toContain(exported);
    }
  });

  it("works with an async resolver", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const resolver = async (reference: RoomKeyReference): Promise<RoomKey | undefined> => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return reference.keyId === "room-42-v1" && reference.keyVersion === 1 ? roomKey : undefined;
    };
    await expect(decryptChatJson(encrypted, resolver, RECEIVED)).resolves.toStrictEqual(MESSAGE);
  });

  it("passes on an error the resolver throws", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const failure = new Error("key store offline");
    await expect(decryptChatJson(encrypted, () => Promise.reject(failure), RECEIVED)).rejects.toBe(failure);
  });
});

describe("size limits", () => {
  it("encrypts and decrypts JSON of exactly 65,536 bytes", async () => {
    const roomKey = await generateAesGcmKey();
    const value = "x".repeat(65_536 - 2);
    expect(JSON.stringify(value)).toHaveLength(65_536);
    const encrypted = await encryptChatJson(value, roomKey, CONTEXT);
    await expect(decryptChatJson(encrypted, roomKey, RECEIVED)).resolves.toBe(value);
  });

  it("rejects JSON of 65,537 bytes with PAYLOAD_TOO_LARGE", async () => {
    const roomKey = await generateAesGcmKey();
    await expectE2eeError(encryptChatJson("x".repeat(65_536 - 1), roomKey, CONTEXT), "PAYLOAD_TOO_LARGE");
  });

  it("counts UTF-8 bytes, not characters", async () => {
    const roomKey = await generateAesGcmKey();
    // "é" is 2 UTF-8 bytes: 32,767 of them plus 2 quotes is 65,536 bytes; one more is too many.
    const fits = "é".repeat(32_767);
    const encrypted = await encryptChatJson(fits, roomKey, CONTEXT);
    await expect(decryptChatJson(encrypted, roomKey, RECEIVED)).resolves.toBe(fits);
    await expectE2eeError(encryptChatJson("é".repeat(32_768), roomKey, CONTEXT), "PAYLOAD_TOO_LARGE");
  });

  it("applies a custom maxPlaintextBytes when encrypting", async () => {
    const roomKey = await generateAesGcmKey();
    const hundred = "x".repeat(98);
    const encrypted = await encryptChatJson(hundred, roomKey, { ...CONTEXT, maxPlaintextBytes: 100 });
    await expect(decryptChatJson(encrypted, roomKey, { ...RECEIVED, maxPlaintextBytes: 100 })).resolves.toBe(hundred);
    await expectE2eeError(encryptChatJson("x".repeat(99), roomKey, { ...CONTEXT, maxPlaintextBytes: 100 }), "PAYLOAD_TOO_LARGE");
  });

  it("applies a custom maxPlaintextBytes when decrypting", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson("x".repeat(98), roomKey, CONTEXT);
    // The ciphertext fits a 99-byte limit's Padmé bucket, so this is caught after decryption.
    await expectE2eeError(decryptChatJson(encrypted, roomKey, { ...RECEIVED, maxPlaintextBytes: 99 }), "PAYLOAD_TOO_LARGE");
    // Here the ciphertext alone is too long, so it is caught before any cryptography.
    const resolver = vi.fn((): RoomKey => roomKey);
    await expectE2eeError(decryptChatJson(encrypted, resolver, { ...RECEIVED, maxPlaintextBytes: 50 }), "PAYLOAD_TOO_LARGE");
    expect(resolver).not.toHaveBeenCalled();
  });

  it("rejects an oversized envelope before decryption", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const huge = { ...encrypted, ciphertext: "A".repeat(10 * 1024 * 1024) };
    await expectE2eeError(decryptChatJson(huge, roomKey, RECEIVED), "PAYLOAD_TOO_LARGE");
  });

  it("throws RangeError for an invalid maxPlaintextBytes", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    for (const maxPlaintextBytes of [0, -1, 1.5, Number.NaN, 16 * 1024 * 1024 + 1]) {
      await expect(encryptChatJson(MESSAGE, roomKey, { ...CONTEXT, maxPlaintextBytes })).rejects.toThrow(RangeError);
      await expect(decryptChatJson(encrypted, roomKey, { ...RECEIVED, maxPlaintextBytes })).rejects.toThrow(RangeError);
    }
  });
});

describe("caller mistakes", () => {
  const cyclic: Record<string, unknown> = { body: MARKER };
  cyclic["self"] = cyclic;
  const notSerialisable: [string, unknown][] = [
    ["a BigInt", 10n],
    ["a BigInt inside an object", { body: MARKER, amount: 10n }],
    ["a cyclic value", cyclic],
    ["undefined", undefined],
    ["a function", () => MARKER],
    ["a symbol", Symbol(MARKER)],
    ["a value whose getter throws", { get body(): string { throw new Error(MARKER); } }],
    ["a value whose toJSON throws", { toJSON: (): never => { throw new Error(MARKER); } }],
  ];

  it.each(notSerialisable)("throws TypeError for %s, without quoting it", async (_name, value) => {
    const roomKey = await generateAesGcmKey();
    const error = await rejectionOf(encryptChatJson(value, roomKey, CONTEXT));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).not.toContain(MARKER);
    expect((error as Error).cause).toBeUndefined();
  });

  it("throws TypeError for a key that is not a room key, without quoting the message", async () => {
    const value = { body: MARKER };
    const notKeys: unknown[] = [{}, { key: MARKER }, MARKER, new Uint8Array(32), null, undefined];
    for (const notKey of notKeys) {
      const error = await rejectionOf(encryptChatJson(value, notKey as RoomKey, CONTEXT));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).not.toContain(MARKER);
    }
  });

  it("throws TypeError when decrypting with a key that is neither a room key nor a function", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    for (const notKey of [{}, await exportAesGcmKeyToBase64(roomKey), null]) {
      await expect(decryptChatJson(encrypted, notKey as RoomKey, RECEIVED)).rejects.toThrow(TypeError);
    }
  });

  it("treats a forged object with the room key's prototype as not a key", async () => {
    const roomKey = await generateAesGcmKey();
    const forged = Object.create(Object.getPrototypeOf(roomKey) as object) as RoomKey;
    await expect(encryptChatJson(MESSAGE, forged, CONTEXT)).rejects.toThrow(TypeError);
  });

  const badContexts: [string, Record<string, unknown>][] = [
    ["an empty roomId", { roomId: "" }],
    ["a roomId with a space", { roomId: `room ${MARKER}` }],
    ["a messageId with a slash", { messageId: `msg/${MARKER}` }],
    ["a non-ASCII keyId", { keyId: `clé-${MARKER}` }],
    ["a 129-character keyId", { keyId: "k".repeat(129) }],
    ["keyVersion 0", { keyVersion: 0 }],
    ["keyVersion 1.5", { keyVersion: 1.5 }],
    ["keyVersion 2^31", { keyVersion: 2 ** 31 }],
    ['keyVersion "1"', { keyVersion: "1" }],
    ["a missing keyId", { keyId: undefined }],
    ['padding "zero"', { padding: "zero" }],
  ];

  it.each(badContexts)("throws TypeError for %s when encrypting, without quoting the message", async (_name, change) => {
    const roomKey = await generateAesGcmKey();
    const context = { ...CONTEXT, ...change } as unknown as typeof CONTEXT;
    const error = await rejectionOf(encryptChatJson({ body: MARKER }, roomKey, context));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).not.toContain(MARKER);
  });

  it("throws TypeError for invalid expected ids when decrypting", async () => {
    const roomKey = await generateAesGcmKey();
    const encrypted = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    for (const received of [{ ...RECEIVED, roomId: "" }, { ...RECEIVED, messageId: `msg ${MARKER}` }, { roomId: "room-42" }]) {
      const error = await rejectionOf(decryptChatJson(encrypted, roomKey, received as typeof RECEIVED));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).not.toContain(MARKER);
    }
  });

  it("rejects an envelope that is not one with INVALID_ENVELOPE", async () => {
    const roomKey = await generateAesGcmKey();
    for (const input of [null, "not json", {}, [], 1]) {
      await expectE2eeError(decryptChatJson(input, roomKey, RECEIVED), "INVALID_ENVELOPE");
    }
  });
});

describe("padding", () => {
  const lengths = [2, 10, 47, 100, 1_000, 5_000, 65_536];

  it("pads to the Padmé length by default", async () => {
    const roomKey = await generateAesGcmKey();
    // Hand-computed Padmé lengths of (JSON length + 1): the padded plaintext, before the 16-byte tag.
    const expected: Record<number, number> = { 2: 3, 10: 12, 47: 48, 100: 104, 1_000: 1_024, 5_000: 5_120, 65_536: 67_584 };
    for (const length of lengths) {
      const value = "x".repeat(length - 2);
      const encrypted = await encryptChatJson(value, roomKey, CONTEXT);
      expect(padmeLength(length + 1)).toBe(expected[length]);
      expect(decodedLength(encrypted.ciphertext)).toBe(expected[length]! + 16);
      await expect(decryptChatJson(encrypted, roomKey, RECEIVED)).resolves.toBe(value);
    }
  });

  it('adds only the marker byte and the tag with padding "none"', async () => {
    const roomKey = await generateAesGcmKey();
    for (const length of lengths) {
      const value = "x".repeat(length - 2);
      const encrypted = await encryptChatJson(value, roomKey, { ...CONTEXT, padding: "none" });
      expect(decodedLength(encrypted.ciphertext)).toBe(length + 1 + 16);
      await expect(decryptChatJson(encrypted, roomKey, RECEIVED)).resolves.toBe(value);
    }
  });

  it("hides small length differences by default and shows them without padding", async () => {
    const roomKey = await generateAesGcmKey();
    const sizes = async (padding: "padme" | "none"): Promise<Set<number>> => {
      const set = new Set<number>();
      for (let length = 1_000; length < 1_024; length++) {
        const encrypted = await encryptChatJson("x".repeat(length - 2), roomKey, { ...CONTEXT, padding });
        set.add(encrypted.ciphertext.length);
      }
      return set;
    };
    expect((await sizes("padme")).size).toBe(1);
    expect((await sizes("none")).size).toBeGreaterThan(20);
  });
});

describe("randomness and JSON semantics", () => {
  it("encrypts the same message twice to different envelopes", async () => {
    const roomKey = await generateAesGcmKey();
    const first = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    const second = await encryptChatJson(MESSAGE, roomKey, CONTEXT);
    expect(second.nonce).not.toBe(first.nonce);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(second.commitment).toBe(first.commitment);
    await expect(decryptChatJson(first, roomKey, RECEIVED)).resolves.toStrictEqual(MESSAGE);
    await expect(decryptChatJson(second, roomKey, RECEIVED)).resolves.toStrictEqual(MESSAGE);
  });

  it("keeps __proto__ keys as own properties and never changes a prototype", async () => {
    const roomKey = await generateAesGcmKey();
    const value = JSON.parse('{"__proto__":{"polluted":true},"nested":{"__proto__":{"isAdmin":true}}}') as unknown;
    const encrypted = await encryptChatJson(value, roomKey, CONTEXT);
    const opened = (await decryptChatJson(encrypted, roomKey, RECEIVED)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(opened)).toBe(Object.prototype);
    expect(Object.hasOwn(opened, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(opened, "__proto__")?.value).toStrictEqual({ polluted: true });
    expect(opened["polluted"]).toBeUndefined();
    const nested = opened["nested"] as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(nested["isAdmin"]).toBeUndefined();
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("returns JSON values as JSON.stringify then JSON.parse would", async () => {
    const roomKey = await generateAesGcmKey();
    const value = { date: new Date(0), missing: undefined, negativeZero: -0, list: [undefined, () => 1, Number.NaN], text: "ünïcødé \u{1F600}" };
    const encrypted = await encryptChatJson(value, roomKey, CONTEXT);
    await expect(decryptChatJson(encrypted, roomKey, RECEIVED)).resolves.toStrictEqual(
      JSON.parse(JSON.stringify(value)) as unknown,
    );
  });

  it("round-trips every JSON primitive at the top level", async () => {
    const roomKey = await generateAesGcmKey();
    for (const value of [null, true, false, 0, -1.5, 1e300, "", "text", [], {}]) {
      const encrypted = await encryptChatJson(value, roomKey, CONTEXT);
      await expect(decryptChatJson(encrypted, roomKey, RECEIVED)).resolves.toStrictEqual(value);
    }
  });
});
