import { inspect, format } from "node:util";
import { E2eeError } from "@domvia/e2ee-envelope";
import { describe, expect, it } from "vitest";
import {
  decryptChatJson,
  encryptChatJson,
  exportAesGcmKeyToBase64,
  generateAesGcmKey,
  importAesGcmKeyFromBase64,
  isRoomKey,
  type RoomKey,
} from "./index";
import { exportRoomKeyBytes, keyState, roomKeysEqual } from "./room-key";

const REDACTED = "RoomKey([redacted])";
const CONTEXT = Object.freeze({ roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 });
const RECEIVED = Object.freeze({ roomId: "room-42", messageId: "msg-1" });

/** Every way a key's bytes could be written down, for leak checks. */
async function secretForms(key: RoomKey): Promise<string[]> {
  const base64 = await exportAesGcmKeyToBase64(key);
  const bytes = Buffer.from(base64, "base64");
  expect(bytes.length).toBe(32);
  return [base64, base64.slice(0, 43), bytes.toString("base64url"), bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    () => ({ fulfilled: true as const }),
    (error: unknown) => ({ fulfilled: false as const, error }),
  );
  if (outcome.fulfilled) throw new Error("expected a rejection");
  return outcome.error;
}

/** Imports `text` and checks it fails with INVALID_KEY without repeating the text. */
async function expectInvalidKey(text: string): Promise<void> {
  const error = await rejectionOf(importAesGcmKeyFromBase64(text));
  expect(E2eeError.isInstance(error, "INVALID_KEY")).toBe(true);
  const message = (error as Error).message;
  const trimmed = text.trim();
  if (trimmed.length > 0) {
    expect(message).not.toContain(trimmed);
    expect(message).not.toContain(trimmed.slice(0, 12));
  }
}

describe("room key redaction", () => {
  it("prints a redacted placeholder from JSON.stringify, String and template literals", async () => {
    const key = await generateAesGcmKey();
    expect(JSON.stringify(key)).toBe(JSON.stringify(REDACTED));
    expect(JSON.stringify({ key })).toBe(`{"key":${JSON.stringify(REDACTED)}}`);
    expect(String(key)).toBe(REDACTED);
    expect(`${key}`).toBe(REDACTED);
    expect(key.toString()).toBe(REDACTED);
    expect(key.toJSON()).toBe(REDACTED);
  });

  it("prints a redacted placeholder from util.inspect, also when nested", async () => {
    const key = await generateAesGcmKey();
    expect(inspect(key)).toBe(REDACTED);
    expect(inspect({ nested: { key } })).toBe(`{ nested: { key: ${REDACTED} } }`);
    expect(inspect([key], { depth: 10 })).toBe(`[ ${REDACTED} ]`);
    expect(format("%s %o %O %j", key, key, key, key)).toBe(`${REDACTED} ${REDACTED} ${REDACTED} "${REDACTED}"`);
  });

  it("never shows the key's bytes in any printed form", async () => {
    const key = await generateAesGcmKey();
    const printed = [
      JSON.stringify(key),
      JSON.stringify({ key }),
      JSON.stringify({ nested: { key } }),
      String(key),
      `${key}`,
      inspect(key),
      inspect({ nested: { key } }),
      inspect(key, { showHidden: true, depth: Infinity }),
      inspect(key, { customInspect: false, showHidden: true, depth: Infinity }),
      format("%o", { key }),
      JSON.stringify(structuredClone({ key })),
    ];
    for (const secret of await secretForms(key)) {
      for (const text of printed) expect(text).not.toContain(secret);
    }
  });

  it("has no own properties, enumerable or not, and is frozen", async () => {
    const key = await generateAesGcmKey();
    expect(Object.keys(key)).toStrictEqual([]);
    expect(Reflect.ownKeys(key)).toStrictEqual([]);
    expect({ ...key }).toStrictEqual({});
    expect(Object.entries(key)).toStrictEqual([]);
    expect(Object.isFrozen(key)).toBe(true);
  });

  it("loses the key when copied: a spread or structured clone is not a key", async () => {
    const key = await generateAesGcmKey();
    expect(isRoomKey({ ...key })).toBe(false);
    expect(isRoomKey(structuredClone(key))).toBe(false);
  });
});

describe("generateAesGcmKey", () => {
  it("generates a room key", async () => {
    expect(isRoomKey(await generateAesGcmKey())).toBe(true);
  });

  it("generates a different key every time", async () => {
    const first = await generateAesGcmKey();
    const second = await generateAesGcmKey();
    expect(first).not.toBe(second);
    expect(await exportAesGcmKeyToBase64(first)).not.toBe(await exportAesGcmKeyToBase64(second));
    const encrypted = await encryptChatJson({ body: "hello" }, first, CONTEXT);
    expect(E2eeError.isInstance(await rejectionOf(decryptChatJson(encrypted, second, RECEIVED)), "DECRYPTION_FAILED")).toBe(true);
  });
});

describe("exportAesGcmKeyToBase64 and importAesGcmKeyFromBase64", () => {
  it("exports 32 bytes as 44 characters of padded standard base64", async () => {
    const exported = await exportAesGcmKeyToBase64(await generateAesGcmKey());
    expect(exported).toMatch(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/);
    expect(Buffer.from(exported, "base64")).toHaveLength(32);
  });

  it("restores a key that decrypts messages encrypted with the original", async () => {
    const original = await generateAesGcmKey();
    const encrypted = await encryptChatJson({ body: "Private message", sender_id: "user-1" }, original, CONTEXT);
    const restored = await importAesGcmKeyFromBase64(await exportAesGcmKeyToBase64(original));
    expect(isRoomKey(restored)).toBe(true);
    expect(restored).not.toBe(original);
    await expect(decryptChatJson(encrypted, restored, RECEIVED)).resolves.toStrictEqual({
      body: "Private message",
      sender_id: "user-1",
    });
    expect(await exportAesGcmKeyToBase64(restored)).toBe(await exportAesGcmKeyToBase64(original));
  });

  it("lets the original decrypt what the restored key encrypts", async () => {
    const original = await generateAesGcmKey();
    const restored = await importAesGcmKeyFromBase64(await exportAesGcmKeyToBase64(original));
    const encrypted = await encryptChatJson(["from", "restored"], restored, CONTEXT);
    await expect(decryptChatJson(encrypted, original, RECEIVED)).resolves.toStrictEqual(["from", "restored"]);
  });

  it("imports keys that use '+' and '/', and the all-zero and all-one keys", async () => {
    for (const bytes of [Buffer.alloc(32, 0xff), Buffer.alloc(32, 0xfb), Buffer.alloc(32, 0)]) {
      const base64 = bytes.toString("base64");
      const key = await importAesGcmKeyFromBase64(base64);
      expect(await exportAesGcmKeyToBase64(key)).toBe(base64);
    }
  });

  it("throws TypeError when exporting something that is not a room key", async () => {
    for (const notKey of [{}, null, "key", new Uint8Array(32)]) {
      await expect(exportAesGcmKeyToBase64(notKey as RoomKey)).rejects.toThrow(TypeError);
    }
  });
});

describe("importAesGcmKeyFromBase64 rejects malformed key material", () => {
  const key32 = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
  const valid = key32.toString("base64");
  // The key bytes are chosen so their base64 uses both '+' and '/', which base64url spells '-' and '_'.
  const ones = Buffer.alloc(32, 0xfb);

  it("starts from a valid 44-character encoding", () => {
    expect(valid).toHaveLength(44);
    expect(ones.toString("base64")).toMatch(/[+/]/);
  });

  const cases: [string, () => string][] = [
    ["a 32-byte key as unpadded base64url", () => ones.toString("base64url")],
    ["a 32-byte key as padded base64url", () => ones.toString("base64url") + "="],
    ["16 bytes", () => key32.subarray(0, 16).toString("base64")],
    ["31 bytes (44 characters with '==')", () => key32.subarray(0, 31).toString("base64")],
    ["33 bytes (44 characters, no padding)", () => Buffer.concat([key32, Buffer.from([1])]).toString("base64")],
    ["64 bytes", () => Buffer.concat([key32, key32]).toString("base64")],
    ["the empty string", () => ""],
    ["a character outside the alphabet", () => "*" + valid.slice(1)],
    ["a non-ASCII character", () => "é" + valid.slice(1)],
    ["a leading space", () => " " + valid],
    ["a trailing newline", () => valid + "\n"],
    ["a space inside, at the same length", () => valid.slice(0, 10) + " " + valid.slice(11)],
    ["a tab inside, at the same length", () => valid.slice(0, 10) + "\t" + valid.slice(11)],
    ["missing padding", () => valid.slice(0, 43)],
    ["padding replaced by a data character", () => valid.slice(0, 43) + "A"],
    ["'=' in the middle", () => valid.slice(0, 20) + "=" + valid.slice(21)],
    ["three padding characters", () => valid.slice(0, 41) + "==="],
    ["non-canonical trailing bits", () => "A".repeat(42) + "B="],
    ["non-canonical trailing bits (the other bit)", () => "A".repeat(42) + "C="],
  ];

  it.each(cases)("rejects %s with INVALID_KEY, without repeating it", async (_name, make) => {
    await expectInvalidKey(make());
  });

  it("accepts the canonical form of the non-canonical example", async () => {
    await expect(importAesGcmKeyFromBase64("A".repeat(43) + "=")).resolves.toSatisfy(isRoomKey);
  });

  it("throws TypeError for a value that is not a string", async () => {
    for (const notString of [undefined, null, 42, key32, new Uint8Array(32), { base64: valid }, [valid]]) {
      const error = await rejectionOf(importAesGcmKeyFromBase64(notString as unknown as string));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).not.toContain(valid);
    }
  });
});

describe("isRoomKey", () => {
  it("recognises generated and imported keys", async () => {
    expect(isRoomKey(await generateAesGcmKey())).toBe(true);
    expect(isRoomKey(await importAesGcmKeyFromBase64(Buffer.alloc(32, 9).toString("base64")))).toBe(true);
  });

  it("rejects everything else, including look-alikes", async () => {
    const key = await generateAesGcmKey();
    const lookalikes: unknown[] = [
      undefined,
      null,
      {},
      REDACTED,
      await exportAesGcmKeyToBase64(key),
      new Uint8Array(32),
      Object.create(Object.getPrototypeOf(key) as object),
      { toJSON: () => REDACTED, toString: () => REDACTED },
      () => key,
    ];
    for (const value of lookalikes) expect(isRoomKey(value)).toBe(false);
  });
});

describe("RoomKey.destroy", () => {
  const context = { roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 };

  it("zeroes the key and refuses every later use with INVALID_KEY", async () => {
    const key = await generateAesGcmKey();
    const envelope = await encryptChatJson({ body: "before" }, key, context);
    const bytes = keyState(key).bytes;
    expect(key.destroyed).toBe(false);
    key.destroy();
    expect(key.destroyed).toBe(true);
    expect(Array.from(bytes).every((byte) => byte === 0)).toBe(true);
    const uses: [string, () => Promise<unknown>][] = [
      ["encrypt", () => encryptChatJson({ body: "after" }, key, context)],
      ["decrypt", () => decryptChatJson(envelope, key, context)],
      ["decrypt through a resolver", () => decryptChatJson(envelope, () => key, context)],
      ["export", () => exportAesGcmKeyToBase64(key)],
      ["export bytes", async () => exportRoomKeyBytes(key)],
      ["compare", async () => roomKeysEqual(key, key)],
    ];
    for (const [name, use] of uses) {
      const error = await rejectionOf(use());
      expect(E2eeError.isInstance(error) && error.code, name).toBe("INVALID_KEY");
      expect((error as Error).message, name).toContain("destroyed");
    }
    expect(isRoomKey(key)).toBe(true);
  });

  it("is idempotent and leaves other keys with the same bytes working", async () => {
    const key = await generateAesGcmKey();
    const copy = await importAesGcmKeyFromBase64(await exportAesGcmKeyToBase64(key));
    key.destroy();
    key.destroy();
    const envelope = await encryptChatJson({ body: "still here" }, copy, context);
    expect(await decryptChatJson(envelope, copy, context)).toEqual({ body: "still here" });
  });

  it("wipes the cached commitment and subkeys too (a derived key is not usable afterwards)", async () => {
    const key = await generateAesGcmKey();
    await encryptChatJson({ body: "warm the caches" }, key, context);
    const state = keyState(key);
    const commitment = state.commitment!;
    key.destroy();
    expect(Array.from(commitment).every((byte) => byte === 0)).toBe(true);
    expect(state.commitment).toBeUndefined();
    expect(() => state.cipher.deriveMessageKey(new Uint8Array(24))).toThrow("destroyed");
  });
});
