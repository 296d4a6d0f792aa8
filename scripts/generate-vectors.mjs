#!/usr/bin/env node
// Generates test-vectors/envelope-v1.json from an independent implementation of SPEC.md.
//
// This script deliberately imports nothing from the SDK's packages: it re-implements envelope v1
// (associated data, Padmé padding, key commitment, XAES-256-GCM, base64url, the receiver's
// checks) from SPEC.md alone, on top of the audited noble primitives (AES block, AES-CMAC,
// AES-GCM, HMAC-SHA-256). packages/crypto/src/vectors.test.ts then checks that the SDK produces
// and rejects exactly what this script wrote, so the two implementations agree byte for byte.
//
// Usage:
//   node scripts/generate-vectors.mjs           write test-vectors/envelope-v1.json
//   node scripts/generate-vectors.mjs --check   exit 1 if the file on disk differs from the output
//
// Everything is deterministic: keys and nonces are fixed hex constants. Never reuse these keys or
// nonces outside tests; a nonce must be random and never repeat under one key.
import { Buffer } from "node:buffer";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

// The noble packages are dependencies of packages/crypto, not of the repository root, so they are
// resolved from there.
const requireFromCrypto = createRequire(new URL("../packages/crypto/package.json", import.meta.url));
const importFromCrypto = (specifier) => import(pathToFileURL(requireFromCrypto.resolve(specifier)).href);
const { cmac, ecb, gcm } = await importFromCrypto("@noble/ciphers/aes.js");
const { hmac } = await importFromCrypto("@noble/hashes/hmac.js");
const { sha256 } = await importFromCrypto("@noble/hashes/sha2.js");

const OUTPUT_PATH = fileURLToPath(new URL("../test-vectors/envelope-v1.json", import.meta.url));

// ---------------------------------------------------------------------------------------------
// Envelope v1, from SPEC.md
// ---------------------------------------------------------------------------------------------

const SUITE = "xaes256gcm-kc"; // SPEC.md §3
const AD_LABEL = "domvia-e2ee/envelope"; // SPEC.md §4
const COMMITMENT_LABEL = "domvia-e2ee/v1/key-commitment"; // SPEC.md §5.3
const ENVELOPE_FIELDS = ["v", "suite", "roomId", "messageId", "keyId", "keyVersion", "nonce", "commitment", "ciphertext"];
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/; // SPEC.md §2.1
const MAX_KEY_VERSION = 2147483647; // SPEC.md §2.2
const DEFAULT_MAX_PLAINTEXT_BYTES = 65536; // SPEC.md §8
const JSON_OVERHEAD_CHARS = 2048; // SPEC.md §3.3
const TAG_BYTES = 16;

const fromHex = (hex) => {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`bad hex constant: ${hex}`);
  return new Uint8Array(Buffer.from(hex, "hex"));
};
const toHex = (bytes) => Buffer.from(bytes).toString("hex");
const ascii = (text) => new Uint8Array(Buffer.from(text, "latin1"));
const concat = (...parts) => new Uint8Array(Buffer.concat(parts));
const u16be = (n) => Uint8Array.of(n >>> 8, n & 0xff);
const u32be = (n) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const lengthPrefixed = (text) => concat(u16be(text.length), ascii(text));

/** SPEC.md §2.3: unpadded base64url, RFC 4648 §5. */
const base64url = (bytes) => Buffer.from(bytes).toString("base64url");
/** Canonical unpadded base64url, or undefined. Node's decoder is lenient, so re-encode and compare. */
const fromBase64url = (text) => {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, "base64url"));
  return base64url(bytes) === text ? bytes : undefined;
};
/** Characters of unpadded base64url for n bytes: ceil(4n / 3). */
const base64urlChars = (n) => Math.floor((4 * n + 2) / 3);

/** SPEC.md §4. */
function associatedData({ roomId, messageId, keyId, keyVersion }) {
  return concat(
    lengthPrefixed(AD_LABEL),
    Uint8Array.of(1),
    lengthPrefixed(SUITE),
    lengthPrefixed(roomId),
    lengthPrefixed(messageId),
    lengthPrefixed(keyId),
    u32be(keyVersion),
  );
}

/** SPEC.md §5.2: Padmé length of L, with integer arithmetic only. */
function padme(length) {
  if (length < 2) return length;
  let exponent = 0; // E = floor(log2 L)
  while (2 ** (exponent + 1) <= length) exponent++;
  let bitsOfExponent = 0; // S = floor(log2 E) + 1, the bit length of E
  while (2 ** bitsOfExponent <= exponent) bitsOfExponent++;
  const step = 2 ** (exponent - bitsOfExponent); // round L up to a multiple of 2^(E - S)
  return Math.ceil(length / step) * step;
}

/** SPEC.md §5.2. */
function pad(message, mode) {
  const unpadded = message.length + 1;
  const padded = new Uint8Array(mode === "padme" ? padme(unpadded) : unpadded);
  padded.set(message);
  padded[message.length] = 0x80;
  return padded;
}

/** SPEC.md §5.2, receiver side. */
function unpad(padded) {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0x00) end--;
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined;
}

/** SPEC.md §5.3. */
const commitmentOf = (key) => hmac(sha256, key, ascii(COMMITMENT_LABEL));

/** SPEC.md §5.4: Kx = CMAC-AES-256_K(M1) || CMAC-AES-256_K(M2). */
function messageKey(key, nonce) {
  const block = (counter) => concat(Uint8Array.of(0x00, counter, 0x58, 0x00), nonce.subarray(0, 12));
  return concat(cmac(block(1), key), cmac(block(2), key));
}

function xaesSeal(key, nonce, plaintext, ad) {
  return gcm(messageKey(key, nonce), nonce.subarray(12, 24), ad).encrypt(plaintext);
}

function xaesOpen(key, nonce, sealed, ad) {
  try {
    return gcm(messageKey(key, nonce), nonce.subarray(12, 24), ad).decrypt(sealed);
  } catch {
    return undefined;
  }
}

/** SPEC.md §5.5: the envelope for a padded plaintext (any bytes, so must-fail vectors can lie). */
function sealPadded(key, nonce, padded, context) {
  return {
    v: 1,
    suite: SUITE,
    roomId: context.roomId,
    messageId: context.messageId,
    keyId: context.keyId,
    keyVersion: context.keyVersion,
    nonce: base64url(nonce),
    commitment: base64url(commitmentOf(key)),
    ciphertext: base64url(xaesSeal(key, nonce, padded, associatedData(context))),
  };
}

const maxCiphertextBytes = (maxPlaintextBytes) => padme(maxPlaintextBytes + 1) + TAG_BYTES;

/** SPEC.md §3.3 and §3.4: the parsed envelope, or the error code. */
function parseEnvelope(input, maxPlaintextBytes) {
  let value = input;
  if (typeof value === "string") {
    if (value.length > JSON_OVERHEAD_CHARS + base64urlChars(maxCiphertextBytes(maxPlaintextBytes))) {
      return { error: "PAYLOAD_TOO_LARGE" };
    }
    try {
      value = JSON.parse(value);
    } catch {
      return { error: "INVALID_ENVELOPE" };
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "INVALID_ENVELOPE" };
  if (!Object.hasOwn(value, "v")) return { error: "INVALID_ENVELOPE" };
  if (value.v !== 1) return { error: "UNSUPPORTED_VERSION" }; // this script reads v1 only

  const { ciphertext } = value;
  const maxChars = base64urlChars(maxCiphertextBytes(maxPlaintextBytes));
  if (typeof ciphertext === "string" && ciphertext.length > maxChars) return { error: "PAYLOAD_TOO_LARGE" };
  const valid =
    Object.keys(value).every((name) => ENVELOPE_FIELDS.includes(name)) &&
    value.suite === SUITE &&
    [value.roomId, value.messageId, value.keyId].every((id) => typeof id === "string" && ID_PATTERN.test(id)) &&
    Number.isInteger(value.keyVersion) &&
    value.keyVersion >= 1 &&
    value.keyVersion <= MAX_KEY_VERSION &&
    typeof value.nonce === "string" &&
    value.nonce.length === 32 &&
    fromBase64url(value.nonce) !== undefined &&
    typeof value.commitment === "string" &&
    value.commitment.length === 43 &&
    fromBase64url(value.commitment) !== undefined &&
    typeof ciphertext === "string" &&
    ciphertext.length >= base64urlChars(1 + TAG_BYTES) &&
    fromBase64url(ciphertext) !== undefined;
  return valid ? { envelope: value } : { error: "INVALID_ENVELOPE" };
}

/** SPEC.md §6: the plaintext JSON value, or the error code. */
function open(input, key, { roomId, messageId, maxPlaintextBytes = DEFAULT_MAX_PLAINTEXT_BYTES }) {
  const parsed = parseEnvelope(input, maxPlaintextBytes);
  if (parsed.error !== undefined) return parsed;
  const { envelope } = parsed;
  if (envelope.roomId !== roomId || envelope.messageId !== messageId) return { error: "CONTEXT_MISMATCH" };
  const commitment = fromBase64url(envelope.commitment);
  if (!Buffer.from(commitment).equals(Buffer.from(commitmentOf(key)))) return { error: "DECRYPTION_FAILED" };
  const ad = associatedData({ roomId, messageId, keyId: envelope.keyId, keyVersion: envelope.keyVersion });
  const padded = xaesOpen(key, fromBase64url(envelope.nonce), fromBase64url(envelope.ciphertext), ad);
  if (padded === undefined) return { error: "DECRYPTION_FAILED" };
  const message = unpad(padded);
  if (message === undefined) return { error: "DECRYPTION_FAILED" };
  if (message.length > maxPlaintextBytes) return { error: "PAYLOAD_TOO_LARGE" };
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(message);
    return { value: JSON.parse(text) };
  } catch {
    return { error: "DECRYPTION_FAILED" };
  }
}

// ---------------------------------------------------------------------------------------------
// Self-check of the XAES-256-GCM core against the C2SP vectors (c2sp.org/XAES-256-GCM), and of the
// CMAC-based key derivation against the block-level formula of SPEC.md §5.4.
// ---------------------------------------------------------------------------------------------

function selfCheck() {
  const c2sp = [
    { key: "01".repeat(32), ad: "", sealed: "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271" },
    { key: "03".repeat(32), ad: "c2sp.org/XAES-256-GCM", sealed: "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d" },
  ];
  for (const vector of c2sp) {
    const sealed = xaesSeal(fromHex(vector.key), ascii("ABCDEFGHIJKLMNOPQRSTUVWX"), ascii("XAES-256-GCM"), ascii(vector.ad));
    if (toHex(sealed) !== vector.sealed) throw new Error("XAES-256-GCM does not match the C2SP vector");
  }
  const key = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const nonce = fromHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7");
  const aes = (block) => ecb(key, { disablePadding: true }).encrypt(block);
  const l = aes(new Uint8Array(16));
  const k1 = new Uint8Array(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | ((l[i + 1] ?? 0) >>> 7)) & 0xff;
  if (l[0] & 0x80) k1[15] ^= 0x87;
  const xor = (a, b) => a.map((byte, i) => byte ^ b[i]);
  const m = (counter) => concat(Uint8Array.of(0x00, counter, 0x58, 0x00), nonce.subarray(0, 12));
  const expected = concat(aes(xor(m(1), k1)), aes(xor(m(2), k1)));
  if (toHex(messageKey(key, nonce)) !== toHex(expected)) throw new Error("Kx does not match the SPEC.md §5.4 formula");
}

// ---------------------------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------------------------

// Fixed test keys. Never use them for anything else.
const KEY_A = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY_B = "4a7f1c93e05d28b6f1c4a9307e6d52b81f3ca46e97d0255b8c13f6e4a09d7b2c";
const KEY_C = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

const GUIDE_CONTEXT = Object.freeze({ roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 });
const GUIDE_VALUE = { body: "Private message", sender_id: "user-1" };

/** 128 characters cycling through every identifier character. */
const longId = (prefix) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-";
  let id = prefix;
  for (let i = 0; id.length < 128; i++) id += alphabet[i % alphabet.length];
  return id;
};

/** A 1,000-byte JSON message: the body is filled with words up to that size. */
const LONG_PLAINTEXT = (() => {
  const words = "the quick brown fox jumps over the lazy dog while the room key stays on the device".split(" ");
  const envelopeOf = (body) => JSON.stringify({ body, sender_id: "user-1", sent_at: "2025-01-01T00:00:00.000Z" });
  let body = "";
  for (let i = 0; envelopeOf(body).length < 1000; i++) body += (i === 0 ? "" : " ") + words[i % words.length];
  return envelopeOf(body.slice(0, body.length - (envelopeOf(body).length - 1000)));
})();

const VALID = [
  {
    description: "the guide's example message",
    key: KEY_A,
    nonce: "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7",
    plaintext: JSON.stringify(GUIDE_VALUE),
    padding: "padme",
    context: GUIDE_CONTEXT,
  },
  {
    description: 'padding "none": 49 bytes of JSON padded to 50 (Padmé would give 52)',
    key: KEY_A,
    nonce: "c1d3e5f70214263848aa5b6c7d8e9fa0b1c2d3e4f5061728",
    plaintext: JSON.stringify({ body: "Private message 2", sender_id: "user-1" }),
    padding: "none",
    context: { roomId: "room-42", messageId: "msg-2", keyId: "room-42-v1", keyVersion: 1 },
  },
  {
    description: "an empty object",
    key: KEY_A,
    nonce: "000000000000000000000000000000000000000000000001",
    plaintext: JSON.stringify({}),
    padding: "padme",
    context: { roomId: "room-42", messageId: "msg-3", keyId: "room-42-v1", keyVersion: 1 },
  },
  {
    description: "Unicode text: accents, emoji (astral plane), CJK and a combining mark, UTF-8 without escapes or normalisation",
    key: KEY_B,
    nonce: "5f2e7c1a9b0d3e4f6a8c7b2d1e0f9a8b7c6d5e4f3a2b1c0d",
    plaintext: JSON.stringify({ body: "Grüße 👋🏽 你好，世界 — cafe\u0301 vs café", sender_id: "user-7" }),
    padding: "padme",
    context: { roomId: "team:general", messageId: "01HZX3K9V7Q2M8N4P6R0S5T1W3", keyId: "team:general@3", keyVersion: 3 },
  },
  {
    description: 'an object with an own "__proto__" member, which is data, never a prototype',
    key: KEY_B,
    nonce: "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778",
    plaintext: '{"__proto__":{"isAdmin":true},"body":"hi"}',
    padding: "padme",
    context: { roomId: "room-42", messageId: "msg-4", keyId: "room-42-v1", keyVersion: 1 },
  },
  {
    description: "a top-level JSON string",
    key: KEY_A,
    nonce: "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f3021",
    plaintext: JSON.stringify("just a string"),
    padding: "padme",
    context: { roomId: "room-42", messageId: "msg-5", keyId: "room-42-v1", keyVersion: 1 },
  },
  {
    description: "JSON escapes as JSON.stringify writes them: quote, backslash, newline, tab, U+0000 and U+001F",
    key: KEY_A,
    nonce: "111111111111111111111111222222222222222222222222",
    plaintext: JSON.stringify({ body: 'say "hi"\\ \n\t\u0000\u001f </script>' }),
    padding: "padme",
    context: { roomId: "room-42", messageId: "msg-6", keyId: "room-42-v1", keyVersion: 1 },
  },
  {
    description: "1,000 bytes of JSON, padded to 1,024 bytes",
    key: KEY_B,
    nonce: "d4c3b2a1f0e9d8c7b6a5948372615049382716f5e4d3c2b1",
    plaintext: LONG_PLAINTEXT,
    padding: "padme",
    context: { roomId: "room-42", messageId: "msg-7", keyId: "room-42-v2", keyVersion: 2 },
  },
  {
    description: "the largest key version, 2^31 - 1",
    key: KEY_C,
    nonce: "7e7e7e7e7e7e7e7e7e7e7e7e818181818181818181818181",
    plaintext: JSON.stringify({ body: "rotated many times" }),
    padding: "padme",
    context: { roomId: "room-42", messageId: "msg-8", keyId: "room-42-max", keyVersion: 2147483647 },
  },
  {
    description: "identifiers of the maximum length, 128 characters, using every allowed character",
    key: KEY_C,
    nonce: "3c5a7e9f1b2d4c6e8a0b1d3f5e7c9a2b4d6f8e0a1c3e5b7d",
    plaintext: JSON.stringify({ body: "long ids" }),
    padding: "padme",
    context: { roomId: longId("room-"), messageId: longId("msg-"), keyId: longId("key-"), keyVersion: 1 },
  },
  {
    description: "the smallest possible message: the JSON number 0, padded to 2 bytes",
    key: KEY_B,
    nonce: "ffffffffffffffffffffffffffffffffffffffffffffffff",
    plaintext: JSON.stringify(0),
    padding: "padme",
    context: { roomId: "r", messageId: "m", keyId: "k", keyVersion: 1 },
  },
];

function buildValid(vector) {
  if (JSON.stringify(JSON.parse(vector.plaintext)) !== vector.plaintext) {
    throw new Error(`${vector.description}: plaintext is not what JSON.stringify produces`);
  }
  const key = fromHex(vector.key);
  const nonce = fromHex(vector.nonce);
  if (key.length !== 32 || nonce.length !== 24) throw new Error(`${vector.description}: bad key or nonce length`);
  const padded = pad(new Uint8Array(Buffer.from(vector.plaintext, "utf8")), vector.padding);
  return {
    description: vector.description,
    key: vector.key,
    nonce: vector.nonce,
    plaintext: vector.plaintext,
    padding: vector.padding,
    context: { ...vector.context },
    associatedData: toHex(associatedData(vector.context)),
    paddedPlaintext: toHex(padded),
    messageKey: toHex(messageKey(key, nonce)),
    envelope: sealPadded(key, nonce, padded, vector.context),
  };
}

const valid = VALID.map(buildValid);

// Must-fail vectors start from the guide's envelope (valid[0]) unless they say otherwise.
const base = valid[0];
const baseEnvelope = base.envelope;
const baseText = JSON.stringify(baseEnvelope);
const receiver = { roomId: GUIDE_CONTEXT.roomId, messageId: GUIDE_CONTEXT.messageId };

/** Re-encodes a base64url field after changing its bytes, so it stays canonical. */
const editBytes = (text, edit) => {
  const bytes = fromBase64url(text);
  edit(bytes);
  return base64url(bytes);
};
const replaceChar = (text, index, replacement) => text.slice(0, index) + replacement + text.slice(index + 1);
/** An authentic envelope (key A, guide context) around arbitrary padded bytes. */
const sealRaw = (padded, nonceHex) => sealPadded(fromHex(KEY_A), fromHex(nonceHex), padded, GUIDE_CONTEXT);
const otherMessage = valid[1].envelope; // key A, room-42, msg-2

const MUST_FAIL = [
  // Version discriminant.
  // Not v: 2, which a receiver that also reads a later version parses by that version's rules.
  { description: "v changed to 0, a version no receiver reads", envelope: { ...baseEnvelope, v: 0 }, expectedError: "UNSUPPORTED_VERSION" },
  { description: 'v is the string "1"', envelope: { ...baseEnvelope, v: "1" }, expectedError: "UNSUPPORTED_VERSION" },
  {
    description: "v missing",
    envelope: Object.fromEntries(Object.entries(baseEnvelope).filter(([name]) => name !== "v")),
    expectedError: "INVALID_ENVELOPE",
  },
  // Each field tampered.
  { description: "suite changed", envelope: { ...baseEnvelope, suite: "xaes256gcm" }, expectedError: "INVALID_ENVELOPE" },
  { description: "roomId changed in the envelope", envelope: { ...baseEnvelope, roomId: "room-43" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "messageId changed in the envelope", envelope: { ...baseEnvelope, messageId: "msg-2" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "keyId changed", envelope: { ...baseEnvelope, keyId: "room-42-v2" }, expectedError: "DECRYPTION_FAILED" },
  { description: "keyVersion changed", envelope: { ...baseEnvelope, keyVersion: 2 }, expectedError: "DECRYPTION_FAILED" },
  {
    description: "nonce: first character changed (nonce byte 0, which feeds the key derivation)",
    envelope: { ...baseEnvelope, nonce: replaceChar(baseEnvelope.nonce, 0, baseEnvelope.nonce[0] === "A" ? "B" : "A") },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "nonce: one bit of byte 20 flipped (the AES-GCM nonce part)",
    envelope: { ...baseEnvelope, nonce: editBytes(baseEnvelope.nonce, (bytes) => (bytes[20] ^= 0x01)) },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "commitment: one bit of byte 0 flipped",
    envelope: { ...baseEnvelope, commitment: editBytes(baseEnvelope.commitment, (bytes) => (bytes[0] ^= 0x01)) },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "ciphertext: one character changed (first character)",
    envelope: {
      ...baseEnvelope,
      ciphertext: replaceChar(baseEnvelope.ciphertext, 0, baseEnvelope.ciphertext[0] === "A" ? "B" : "A"),
    },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "tag: one bit of the last byte flipped",
    envelope: { ...baseEnvelope, ciphertext: editBytes(baseEnvelope.ciphertext, (bytes) => (bytes[bytes.length - 1] ^= 0x80)) },
    expectedError: "DECRYPTION_FAILED",
  },
  // Context and key.
  { description: "wrong room: the receiver expects room-43", envelope: baseEnvelope, context: { ...receiver, roomId: "room-43" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "wrong message id: the receiver expects msg-2", envelope: baseEnvelope, context: { ...receiver, messageId: "msg-2" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "wrong key", key: KEY_C, envelope: baseEnvelope, expectedError: "DECRYPTION_FAILED" },
  {
    description: "wrong key, with the commitment replaced by the receiver key's commitment",
    key: KEY_C,
    envelope: { ...baseEnvelope, commitment: base64url(commitmentOf(fromHex(KEY_C))) },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "nonce and ciphertext of another message (msg-2) pasted into this envelope",
    envelope: { ...baseEnvelope, nonce: otherMessage.nonce, ciphertext: otherMessage.ciphertext },
    expectedError: "DECRYPTION_FAILED",
  },
  // Truncation and length.
  {
    description: "ciphertext truncated by one byte",
    envelope: { ...baseEnvelope, ciphertext: base64url(fromBase64url(baseEnvelope.ciphertext).subarray(0, -1)) },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "ciphertext truncated by the 16-byte tag",
    envelope: { ...baseEnvelope, ciphertext: base64url(fromBase64url(baseEnvelope.ciphertext).subarray(0, -16)) },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "ciphertext of 16 bytes, below the 17-byte minimum (22 characters)",
    envelope: { ...baseEnvelope, ciphertext: base64url(fromBase64url(baseEnvelope.ciphertext).subarray(-16)) },
    expectedError: "INVALID_ENVELOPE",
  },
  { description: "ciphertext empty", envelope: { ...baseEnvelope, ciphertext: "" }, expectedError: "INVALID_ENVELOPE" },
  { description: "JSON text truncated", envelope: baseText.slice(0, Math.floor(baseText.length / 2)), expectedError: "INVALID_ENVELOPE" },
  // Schema.
  { description: "an extra field", envelope: { ...baseEnvelope, sender: "user-1" }, expectedError: "INVALID_ENVELOPE" },
  {
    description: 'an extra "__proto__" member in the JSON text',
    envelope: baseText.replace("{", '{"__proto__":{},'),
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "commitment missing",
    envelope: Object.fromEntries(Object.entries(baseEnvelope).filter(([name]) => name !== "commitment")),
    expectedError: "INVALID_ENVELOPE",
  },
  { description: "roomId with a character outside the identifier alphabet", envelope: { ...baseEnvelope, roomId: "room 42" }, expectedError: "INVALID_ENVELOPE" },
  { description: "keyId of 129 characters", envelope: { ...baseEnvelope, keyId: "k".repeat(129) }, expectedError: "INVALID_ENVELOPE" },
  { description: "keyVersion 0", envelope: { ...baseEnvelope, keyVersion: 0 }, expectedError: "INVALID_ENVELOPE" },
  { description: "keyVersion 2^31", envelope: { ...baseEnvelope, keyVersion: 2147483648 }, expectedError: "INVALID_ENVELOPE" },
  { description: "keyVersion not an integer", envelope: { ...baseEnvelope, keyVersion: 1.5 }, expectedError: "INVALID_ENVELOPE" },
  { description: "keyVersion as a string", envelope: { ...baseEnvelope, keyVersion: "1" }, expectedError: "INVALID_ENVELOPE" },
  { description: "nonce of 31 characters", envelope: { ...baseEnvelope, nonce: baseEnvelope.nonce.slice(0, 31) }, expectedError: "INVALID_ENVELOPE" },
  // Base64url.
  {
    description: "commitment not canonical: unused low bits of the last character set",
    envelope: {
      ...baseEnvelope,
      commitment: replaceChar(baseEnvelope.commitment, 42, nonCanonicalTwin(baseEnvelope.commitment[42])),
    },
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "ciphertext in the standard base64 alphabet (+ and /)",
    envelope: { ...baseEnvelope, ciphertext: Buffer.from(fromBase64url(baseEnvelope.ciphertext)).toString("base64").replace(/=+$/, "") },
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "ciphertext with = padding",
    envelope: { ...baseEnvelope, ciphertext: `${baseEnvelope.ciphertext}==` },
    expectedError: "INVALID_ENVELOPE",
  },
  // Not an envelope at all.
  { description: "JSON text that is not JSON", envelope: "this is not JSON", expectedError: "INVALID_ENVELOPE" },
  { description: "a JSON array", envelope: "[1,2,3]", expectedError: "INVALID_ENVELOPE" },
  { description: "JSON null", envelope: "null", expectedError: "INVALID_ENVELOPE" },
  // Size limits.
  {
    description: "ciphertext one character over the default limit (90,135 characters)",
    envelope: { ...baseEnvelope, ciphertext: "A".repeat(base64urlChars(maxCiphertextBytes(DEFAULT_MAX_PLAINTEXT_BYTES)) + 1) },
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  {
    description: "ciphertext of exactly the default limit (90,134 characters) passes the size check, then fails to open",
    envelope: { ...baseEnvelope, ciphertext: "A".repeat(base64urlChars(maxCiphertextBytes(DEFAULT_MAX_PLAINTEXT_BYTES))) },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "an oversize ciphertext is reported as PAYLOAD_TOO_LARGE even beside another schema problem (receiver limit 16 bytes: 46 characters)",
    envelope: { ...baseEnvelope, extra: true },
    context: { ...receiver, maxPlaintextBytes: 16 },
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  {
    description: "JSON text one character over the default text limit (92,182 characters), refused before parsing",
    envelope: baseText + " ".repeat(JSON_OVERHEAD_CHARS + base64urlChars(maxCiphertextBytes(DEFAULT_MAX_PLAINTEXT_BYTES)) + 1 - baseText.length),
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  {
    description: "a receiver limit of 16 plaintext bytes refuses the guide's 64-byte ciphertext before decrypting",
    envelope: baseEnvelope,
    context: { ...receiver, maxPlaintextBytes: 16 },
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  {
    description: "a receiver limit of 16 plaintext bytes refuses an authentic unpadded 17-byte message after decrypting",
    envelope: sealRaw(pad(ascii('{"body":"abcdef"}'), "none"), "2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b"),
    context: { ...receiver, maxPlaintextBytes: 16 },
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  // Authentic ciphertexts (right key, right context) whose content is malformed.
  {
    description: "authentic, but the padding has no 0x80 marker",
    envelope: sealRaw(concat(ascii('{"a":1}'), Uint8Array.of(0x01, 0x00)), "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b01"),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the padded plaintext is all zero bytes",
    envelope: sealRaw(new Uint8Array(8), "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b02"),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the message is empty (the padded plaintext is the 0x80 marker alone)",
    envelope: sealRaw(Uint8Array.of(0x80), "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b03"),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the message is not valid UTF-8",
    envelope: sealRaw(pad(concat(ascii('{"a":"'), Uint8Array.of(0xc3, 0x28), ascii('"}')), "padme"), "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b04"),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the message is not JSON",
    envelope: sealRaw(pad(ascii("hello, not json"), "padme"), "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b05"),
    expectedError: "DECRYPTION_FAILED",
  },
];

/** The base64url character with the same top bits as `char` but a non-zero lowest bit. */
function nonCanonicalTwin(char) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return alphabet[alphabet.indexOf(char) | 0x01];
}

const mustFail = MUST_FAIL.map((vector) => ({
  description: vector.description,
  key: vector.key ?? base.key,
  context: vector.context ?? receiver,
  envelope: vector.envelope,
  expectedError: vector.expectedError,
}));

// ---------------------------------------------------------------------------------------------
// Check every vector with this script's own receiver (SPEC.md §6) before writing.
// ---------------------------------------------------------------------------------------------

selfCheck();
for (const vector of valid) {
  const key = fromHex(vector.key);
  for (const input of [vector.envelope, JSON.stringify(vector.envelope)]) {
    const result = open(input, key, vector.context);
    if (result.error !== undefined || JSON.stringify(result.value) !== vector.plaintext) {
      throw new Error(`valid vector does not open: ${vector.description}`);
    }
  }
}
for (const vector of mustFail) {
  const result = open(vector.envelope, fromHex(vector.key), vector.context);
  if (result.error !== vector.expectedError) {
    throw new Error(`must-fail vector "${vector.description}" gave ${result.error ?? "success"}, expected ${vector.expectedError}`);
  }
}

const file = {
  version: 1,
  description:
    "Envelope v1 test vectors for @domvia/realtime-e2ee (SPEC.md §10). 'valid': sealing 'plaintext' (UTF-8) with 'key', " +
    "'nonce', 'padding' and 'context' gives exactly 'envelope', and opening it with the same key and " +
    "{roomId, messageId} gives 'plaintext' back. 'mustFail': opening 'envelope' (an object, or JSON text when a " +
    "string) with 'key' and 'context' fails with 'expectedError'. Hex is lowercase.",
  source:
    "Generated by scripts/generate-vectors.mjs, an implementation of SPEC.md independent of the SDK's packages, " +
    "built on @noble/ciphers (AES, AES-CMAC, AES-GCM) and @noble/hashes (HMAC-SHA-256). Its XAES-256-GCM is checked " +
    "against the C2SP vectors (https://c2sp.org/XAES-256-GCM) before anything is written. Regenerate with `pnpm vectors`.",
  valid,
  mustFail,
};
const text = `${JSON.stringify(file, null, 2)}\n`;

if (process.argv.includes("--check")) {
  let current;
  try {
    current = readFileSync(OUTPUT_PATH, "utf8");
  } catch {
    current = undefined;
  }
  if (current !== text) {
    console.error("test-vectors/envelope-v1.json is out of date: run `pnpm vectors` and commit the result.");
    process.exit(1);
  }
  console.log(`test-vectors/envelope-v1.json is up to date (${valid.length} valid, ${mustFail.length} must-fail vectors).`);
} else {
  mkdirSync(fileURLToPath(new URL("../test-vectors/", import.meta.url)), { recursive: true });
  writeFileSync(OUTPUT_PATH, text);
  console.log(`wrote test-vectors/envelope-v1.json (${valid.length} valid, ${mustFail.length} must-fail vectors).`);
}
