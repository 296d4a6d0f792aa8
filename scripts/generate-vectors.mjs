#!/usr/bin/env node
// Generates the test vectors of SPEC.md from an independent implementation of it:
//
//   test-vectors/envelope-v1.json      envelope v1 (SPEC.md §2–§6)
//   test-vectors/key-lifecycle-v1.json signed envelope v2, device bundles, room key shares,
//                                      recovery keys, key backups and protected recovery keys
//                                      (SPEC.md §7–§14)
//
// This script deliberately imports nothing from the SDK's packages: it re-implements every format
// from SPEC.md alone (canonical byte strings, associated data, Padmé padding, key commitment,
// XAES-256-GCM, base64url, RFC 9180 HPKE base mode, BIP-39 encoding, the receivers' checks and
// their error codes), on top of the audited noble and scure primitives only: AES block, AES-CMAC,
// AES-GCM, HMAC-SHA-256, HKDF-SHA256 extract/expand, scrypt, X25519, Ed25519 and the BIP-39
// English word list. packages/crypto/src/vectors.test.ts and lifecycle-vectors.test.ts then check
// that the SDK produces and rejects exactly what this script wrote, so the two implementations
// agree byte for byte.
//
// Usage:
//   node scripts/generate-vectors.mjs           write both files
//   node scripts/generate-vectors.mjs --check   exit 1 if a file on disk differs from the output
//
// Everything is deterministic: keys, seeds, nonces, salts and HPKE ephemeral secrets are fixed hex
// constants. Never reuse any of them outside tests; real ones come from a CSPRNG and never repeat.
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
const { ed25519, x25519 } = await importFromCrypto("@noble/curves/ed25519.js");
const { extract: hkdfExtract, expand: hkdfExpand } = await importFromCrypto("@noble/hashes/hkdf.js");
const { scrypt } = await importFromCrypto("@noble/hashes/scrypt.js");
const { entropyToMnemonic: scureEntropyToMnemonic } = await importFromCrypto("@scure/bip39");
const { wordlist: BIP39_ENGLISH } = await importFromCrypto("@scure/bip39/wordlists/english.js");

const OUTPUT_PATH = fileURLToPath(new URL("../test-vectors/envelope-v1.json", import.meta.url));
const LIFECYCLE_OUTPUT_PATH = fileURLToPath(new URL("../test-vectors/key-lifecycle-v1.json", import.meta.url));

// ---------------------------------------------------------------------------------------------
// Envelope v1, from SPEC.md
// ---------------------------------------------------------------------------------------------

const SUITE = "xaes256gcm-kc"; // SPEC.md §3
const AD_LABEL = "domvia-e2ee/envelope"; // SPEC.md §4
const COMMITMENT_LABEL = "domvia-e2ee/v1/key-commitment"; // SPEC.md §5.3
const ENVELOPE_FIELDS = ["v", "suite", "roomId", "messageId", "keyId", "keyVersion", "nonce", "commitment", "ciphertext"];
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/; // SPEC.md §2.1
const MAX_KEY_VERSION = 2147483647; // SPEC.md §2.2
const DEFAULT_MAX_PLAINTEXT_BYTES = 65536; // SPEC.md §16
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

// =============================================================================================
// Key lifecycle v1 (SPEC.md §7–§14), from SPEC.md
// =============================================================================================

// ---------------------------------------------------------------------------------------------
// Canonical byte strings (SPEC.md §7.1)
// ---------------------------------------------------------------------------------------------

/** SPEC.md §7.1: each field is [kind, value] with kind text, bytes, blob, u8, u16 or u32. */
function canonical(...fields) {
  const parts = [];
  const checkInt = (value, max) => {
    if (!Number.isInteger(value) || value < 0 || value > max) throw new Error(`canonical integer out of range: ${value}`);
  };
  for (const [kind, value] of fields) {
    if (kind === "text") {
      const isAscii = [...value].every((char) => char.charCodeAt(0) <= 0x7f);
      if (!isAscii || value.length > 0xffff) throw new Error("canonical text must be ASCII, at most 65,535 bytes");
      parts.push(u16be(value.length), ascii(value));
    } else if (kind === "bytes") {
      if (value.length > 0xffff) throw new Error("canonical bytes: at most 65,535 bytes");
      parts.push(u16be(value.length), value);
    } else if (kind === "blob") {
      checkInt(value.length, 0xffffffff);
      parts.push(u32be(value.length), value);
    } else if (kind === "u8") {
      checkInt(value, 0xff);
      parts.push(Uint8Array.of(value));
    } else if (kind === "u16") {
      checkInt(value, 0xffff);
      parts.push(u16be(value));
    } else if (kind === "u32") {
      checkInt(value, 0xffffffff);
      parts.push(u32be(value));
    } else {
      throw new Error(`unknown canonical field kind ${kind}`);
    }
  }
  return concat(...parts);
}

// ---------------------------------------------------------------------------------------------
// Primitives: Ed25519 (RFC 8032), X25519 (RFC 7748), HPKE (RFC 9180) and BIP-39
// ---------------------------------------------------------------------------------------------

/** Ed25519 signature of `message` by the 32-byte seed (deterministic, RFC 8032 §5.1.6). */
const edSign = (seed, message) => ed25519.sign(message, seed);
const edPublicKey = (seed) => ed25519.getPublicKey(seed);
/**
 * SPEC.md §7.4: strict verification, canonical S and points, no exception. Memoised: the checks
 * below verify the same signatures many times (every must-fail vector as object and as text).
 */
const verifiedSignatures = new Map();
function edVerify(signature, message, publicKey) {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const memo = `${toHex(signature)}:${toHex(publicKey)}:${toHex(sha256(message))}`;
  if (!verifiedSignatures.has(memo)) {
    let valid;
    try {
      valid = ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      valid = false;
    }
    verifiedSignatures.set(memo, valid);
  }
  return verifiedSignatures.get(memo);
}

const HPKE_KEM = 0x0020; // DHKEM(X25519, HKDF-SHA256)
const HPKE_KDF = 0x0001; // HKDF-SHA256
const HPKE_AEAD_AES128GCM = 0x0001; // only for the RFC 9180 self-check
const HPKE_AEAD_AES256GCM = 0x0002;
const EMPTY = new Uint8Array(0);
const KEM_SUITE_ID = concat(ascii("KEM"), u16be(HPKE_KEM));
const hpkeSuiteId = (aeadId) => concat(ascii("HPKE"), u16be(HPKE_KEM), u16be(HPKE_KDF), u16be(aeadId));
/** RFC 9180 §4: LabeledExtract and LabeledExpand, on HKDF-SHA256 (RFC 5869). */
const labeledExtract = (suiteId, salt, label, ikm) => hkdfExtract(sha256, concat(ascii("HPKE-v1"), suiteId, ascii(label), ikm), salt);
const labeledExpand = (suiteId, prk, label, info, length) =>
  hkdfExpand(sha256, prk, concat(u16be(length), ascii("HPKE-v1"), suiteId, ascii(label), info), length);

/** RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(X25519, HKDF-SHA256). */
function deriveX25519(ikm) {
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, "dkp_prk", ikm);
  const secretKey = labeledExpand(KEM_SUITE_ID, dkpPrk, "sk", EMPTY, 32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/**
 * X25519 with the RFC 7748 §6.1 / RFC 9180 §7.1.4 check: undefined for a low-order point.
 * Memoised, like edVerify, because the checks repeat the same key agreements.
 */
const sharedSecrets = new Map();
function x25519Shared(secretKey, publicKey) {
  const memo = `${toHex(secretKey)}:${toHex(publicKey)}`;
  if (!sharedSecrets.has(memo)) {
    let shared;
    try {
      shared = x25519.getSharedSecret(secretKey, publicKey);
    } catch {
      shared = undefined;
    }
    sharedSecrets.set(memo, shared !== undefined && shared.some((byte) => byte !== 0) ? shared : undefined);
  }
  return sharedSecrets.get(memo)?.slice();
}

/** RFC 9180 §4.1 ExtractAndExpand. */
function extractAndExpand(dh, kemContext) {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, "eae_prk", dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, 32);
}

/** RFC 9180 §5.1 KeySchedule, mode_base (no PSK). */
function hpkeKeySchedule(sharedSecret, info, aeadId) {
  const suiteId = hpkeSuiteId(aeadId);
  const keyBytes = aeadId === HPKE_AEAD_AES128GCM ? 16 : 32;
  const context = concat(Uint8Array.of(0x00), labeledExtract(suiteId, EMPTY, "psk_id_hash", EMPTY), labeledExtract(suiteId, EMPTY, "info_hash", info));
  const secret = labeledExtract(suiteId, sharedSecret, "secret", EMPTY);
  return {
    key: labeledExpand(suiteId, secret, "key", context, keyBytes),
    baseNonce: labeledExpand(suiteId, secret, "base_nonce", context, 12),
  };
}

/**
 * RFC 9180 §6.1 single-shot Seal in base mode with a GIVEN ephemeral secret skE (§4.1 Encap with
 * the key pair (skE, pk(skE)) instead of GenerateKeyPair). Sequence number 0: nonce = base_nonce.
 */
function hpkeSealWith(ephemeralSecretKey, recipientPublicKey, info, aad, plaintext, aeadId = HPKE_AEAD_AES256GCM) {
  const dh = x25519Shared(ephemeralSecretKey, recipientPublicKey);
  if (dh === undefined) throw new Error("HPKE seal to a low-order public key");
  const enc = x25519.getPublicKey(ephemeralSecretKey);
  const sharedSecret = extractAndExpand(dh, concat(enc, recipientPublicKey));
  const { key, baseNonce } = hpkeKeySchedule(sharedSecret, info, aeadId);
  return { enc, ciphertext: gcm(key, baseNonce, aad).encrypt(plaintext), sharedSecret, key, baseNonce };
}

/** RFC 9180 §6.1 single-shot Open in base mode; undefined on any failure (§4.1 Decap, §5.2). */
function hpkeOpenWith(recipientSecretKey, enc, info, aad, ciphertext, aeadId = HPKE_AEAD_AES256GCM) {
  const dh = x25519Shared(recipientSecretKey, enc);
  if (dh === undefined) return undefined;
  const sharedSecret = extractAndExpand(dh, concat(enc, x25519.getPublicKey(recipientSecretKey)));
  const { key, baseNonce } = hpkeKeySchedule(sharedSecret, info, aeadId);
  try {
    return gcm(key, baseNonce, aad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

/** SPEC.md §11.1: BIP-39 words of 32 bytes of entropy, with an 8-bit SHA-256 checksum. */
function bip39Words(entropy) {
  if (entropy.length !== 32) throw new Error("recovery entropy must be 32 bytes");
  const bits = [...entropy, sha256(entropy)[0]].map((byte) => byte.toString(2).padStart(8, "0")).join("");
  const words = [];
  for (let i = 0; i < 24; i++) words.push(BIP39_ENGLISH[parseInt(bits.slice(11 * i, 11 * i + 11), 2)]);
  return words.join(" ");
}

/** SPEC.md §11.2: the entropy of a typed recovery code, or the error code. */
function recoveryEntropyFromCode(code) {
  if (code.length > 4096) return { error: "INVALID_RECOVERY_CODE" };
  const words = code.normalize("NFKD").trim().toLowerCase().split(/\s+/);
  if (words.length !== 24) return { error: "INVALID_RECOVERY_CODE" };
  const indices = words.map((word) => BIP39_ENGLISH.indexOf(word));
  if (indices.includes(-1)) return { error: "INVALID_RECOVERY_CODE" };
  const bits = indices.map((index) => index.toString(2).padStart(11, "0")).join("");
  const entropy = new Uint8Array(32);
  for (let i = 0; i < 32; i++) entropy[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  if (parseInt(bits.slice(256), 2) !== sha256(entropy)[0]) return { error: "INVALID_RECOVERY_CODE" };
  return { entropy };
}

// ---------------------------------------------------------------------------------------------
// Typed wire objects (SPEC.md §7.3)
// ---------------------------------------------------------------------------------------------

const isPlainObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const isId = (value) => typeof value === "string" && ID_PATTERN.test(value);
const isKeyVersion = (value) => Number.isInteger(value) && value >= 1 && value <= MAX_KEY_VERSION;
/** Canonical unpadded base64url of exactly `n` bytes. */
const isB64 = (value, n) => typeof value === "string" && value.length === base64urlChars(n) && fromBase64url(value) !== undefined;
/** Exactly these members: none missing, none unknown. */
const hasMembers = (object, names) => Object.keys(object).every((name) => names.includes(name)) && names.every((name) => Object.hasOwn(object, name));

/**
 * SPEC.md §7.3: text bound, JSON, object, `type`, `v` present, `v` supported, then the schema.
 * `check` returns undefined (valid), "INVALID_ENVELOPE" or "PAYLOAD_TOO_LARGE".
 */
function readTyped(input, { type, versions, maxTextLength, check }) {
  let value = input;
  if (typeof value === "string") {
    if (value.length > maxTextLength) return { error: "PAYLOAD_TOO_LARGE" };
    try {
      value = JSON.parse(value);
    } catch {
      return { error: "INVALID_ENVELOPE" };
    }
  }
  if (!isPlainObject(value)) return { error: "INVALID_ENVELOPE" };
  if (type !== undefined && value.type !== type) return { error: "INVALID_ENVELOPE" };
  if (!Object.hasOwn(value, "v")) return { error: "INVALID_ENVELOPE" };
  if (typeof value.v !== "number" || !versions.includes(value.v)) return { error: "UNSUPPORTED_VERSION" };
  const error = check(value);
  return error === undefined ? { value } : { error };
}

// ---------------------------------------------------------------------------------------------
// Device bundle v1 (SPEC.md §9)
// ---------------------------------------------------------------------------------------------

const DEVICE_BUNDLE_LABEL = "domvia-e2ee/device-bundle";
const DEVICE_BUNDLE_FIELDS = ["v", "type", "userId", "deviceId", "agreementKey", "signingKey", "signature"];

const deviceBundleSignatureInput = (userId, deviceId, agreementKey, signingKey) =>
  canonical(["text", DEVICE_BUNDLE_LABEL], ["u8", 1], ["text", userId], ["text", deviceId], ["bytes", agreementKey], ["bytes", signingKey]);

/** A device from its secret state (SPEC.md §14.2): its public keys and its self-signed bundle. */
function deviceFromState(state) {
  const agreementSecretKey = fromBase64url(state.agreementSecretKey);
  const signingSecretKey = fromBase64url(state.signingSecretKey);
  const agreementKey = x25519.getPublicKey(agreementSecretKey);
  const signingKey = edPublicKey(signingSecretKey);
  const signatureInput = deviceBundleSignatureInput(state.userId, state.deviceId, agreementKey, signingKey);
  const bundle = {
    v: 1,
    type: "device-bundle",
    userId: state.userId,
    deviceId: state.deviceId,
    agreementKey: base64url(agreementKey),
    signingKey: base64url(signingKey),
    signature: base64url(edSign(signingSecretKey, signatureInput)),
  };
  return { state, userId: state.userId, deviceId: state.deviceId, agreementSecretKey, signingSecretKey, agreementKey, signingKey, signatureInput, bundle };
}

const DEVICE_BUNDLE_SPEC = {
  type: "device-bundle",
  versions: [1],
  maxTextLength: 4096,
  check: (b) =>
    hasMembers(b, DEVICE_BUNDLE_FIELDS) && isId(b.userId) && isId(b.deviceId) && isB64(b.agreementKey, 32) && isB64(b.signingKey, 32) && isB64(b.signature, 64)
      ? undefined
      : "INVALID_ENVELOPE",
};

/** SPEC.md §9.4: the verified bundle with its decoded keys, or the error code. */
function verifyBundle(input) {
  const read = readTyped(input, DEVICE_BUNDLE_SPEC);
  if (read.error !== undefined) return read;
  const bundle = read.value;
  const agreementKey = fromBase64url(bundle.agreementKey);
  const signingKey = fromBase64url(bundle.signingKey);
  const signed = deviceBundleSignatureInput(bundle.userId, bundle.deviceId, agreementKey, signingKey);
  if (!edVerify(fromBase64url(bundle.signature), signed, signingKey)) return { error: "BAD_SIGNATURE" };
  return { bundle, agreementKey, signingKey };
}

// ---------------------------------------------------------------------------------------------
// Envelope v2 (SPEC.md §8)
// ---------------------------------------------------------------------------------------------

const ENVELOPE_SIGNATURE_LABEL = "domvia-e2ee/envelope-signature";
const ENVELOPE_V2_FIELDS = [...ENVELOPE_FIELDS, "senderUserId", "senderDeviceId", "signature"];

/** SPEC.md §8.2. */
const associatedDataV2 = ({ roomId, messageId, keyId, keyVersion, senderUserId, senderDeviceId }) =>
  canonical(
    ["text", AD_LABEL],
    ["u8", 2],
    ["text", SUITE],
    ["text", roomId],
    ["text", messageId],
    ["text", keyId],
    ["u32", keyVersion],
    ["text", senderUserId],
    ["text", senderDeviceId],
  );

/** SPEC.md §8.3. */
const envelopeSignatureInput = (ad, nonce, commitment, sealed) =>
  canonical(["text", ENVELOPE_SIGNATURE_LABEL], ["bytes", ad], ["bytes", nonce], ["bytes", commitment], ["blob", sealed]);

/** SPEC.md §8.4: a signed envelope around a padded plaintext (any bytes, so must-fail vectors can lie). */
function sealPaddedV2(key, nonce, padded, context, signer) {
  const ad = associatedDataV2({ ...context, senderUserId: signer.userId, senderDeviceId: signer.deviceId });
  const sealed = xaesSeal(key, nonce, padded, ad);
  const commitment = commitmentOf(key);
  const signatureInput = envelopeSignatureInput(ad, nonce, commitment, sealed);
  return {
    ad,
    signatureInput,
    envelope: {
      v: 2,
      suite: SUITE,
      roomId: context.roomId,
      messageId: context.messageId,
      keyId: context.keyId,
      keyVersion: context.keyVersion,
      nonce: base64url(nonce),
      commitment: base64url(commitment),
      ciphertext: base64url(sealed),
      senderUserId: signer.userId,
      senderDeviceId: signer.deviceId,
      signature: base64url(edSign(signer.signingSecretKey, signatureInput)),
    },
  };
}

/** SPEC.md §3.3 and §8.1: an envelope of version 1 or 2, or the error code. */
function parseEnvelopeV1V2(input, maxPlaintextBytes) {
  const maxChars = base64urlChars(maxCiphertextBytes(maxPlaintextBytes));
  let value = input;
  if (typeof value === "string") {
    if (value.length > JSON_OVERHEAD_CHARS + maxChars) return { error: "PAYLOAD_TOO_LARGE" };
    try {
      value = JSON.parse(value);
    } catch {
      return { error: "INVALID_ENVELOPE" };
    }
  }
  if (!isPlainObject(value) || !Object.hasOwn(value, "v")) return { error: "INVALID_ENVELOPE" };
  if (value.v !== 1 && value.v !== 2) return { error: "UNSUPPORTED_VERSION" };
  if (typeof value.ciphertext === "string" && value.ciphertext.length > maxChars) return { error: "PAYLOAD_TOO_LARGE" };
  const valid =
    hasMembers(value, value.v === 1 ? ENVELOPE_FIELDS : ENVELOPE_V2_FIELDS) &&
    value.suite === SUITE &&
    [value.roomId, value.messageId, value.keyId].every(isId) &&
    isKeyVersion(value.keyVersion) &&
    isB64(value.nonce, 24) &&
    isB64(value.commitment, 32) &&
    typeof value.ciphertext === "string" &&
    value.ciphertext.length >= base64urlChars(1 + TAG_BYTES) &&
    fromBase64url(value.ciphertext) !== undefined &&
    (value.v === 1 || (isId(value.senderUserId) && isId(value.senderDeviceId) && isB64(value.signature, 64)));
  return valid ? { envelope: value } : { error: "INVALID_ENVELOPE" };
}

/**
 * SPEC.md §8.5: opens a v1 or v2 envelope. `senderBundles` is what the receiver's directory
 * returns: [{userId, deviceId, bundle}], looked up by the envelope's sender ids.
 */
function openEnvelopeV1V2(input, key, { roomId, messageId, requireSignature = false, maxPlaintextBytes = DEFAULT_MAX_PLAINTEXT_BYTES }, senderBundles) {
  const parsed = parseEnvelopeV1V2(input, maxPlaintextBytes);
  if (parsed.error !== undefined) return parsed;
  const { envelope } = parsed;
  if (envelope.roomId !== roomId || envelope.messageId !== messageId) return { error: "CONTEXT_MISMATCH" };
  if (envelope.v === 1 && requireSignature) return { error: "BAD_SIGNATURE" };
  const nonce = fromBase64url(envelope.nonce);
  const commitment = fromBase64url(envelope.commitment);
  const sealed = fromBase64url(envelope.ciphertext);
  const bound = { roomId, messageId, keyId: envelope.keyId, keyVersion: envelope.keyVersion };
  let ad;
  let sender = null;
  if (envelope.v === 2) {
    sender = { userId: envelope.senderUserId, deviceId: envelope.senderDeviceId };
    ad = associatedDataV2({ ...bound, senderUserId: sender.userId, senderDeviceId: sender.deviceId });
    const entry = senderBundles.find((candidate) => candidate.userId === sender.userId && candidate.deviceId === sender.deviceId);
    if (entry === undefined) return { error: "UNKNOWN_SENDER" };
    const verified = verifyBundle(entry.bundle);
    if (verified.error !== undefined) return verified;
    if (verified.bundle.userId !== sender.userId || verified.bundle.deviceId !== sender.deviceId) return { error: "UNKNOWN_SENDER" };
    if (!edVerify(fromBase64url(envelope.signature), envelopeSignatureInput(ad, nonce, commitment, sealed), verified.signingKey)) {
      return { error: "BAD_SIGNATURE" };
    }
  } else {
    ad = associatedData(bound);
  }
  if (!Buffer.from(commitment).equals(Buffer.from(commitmentOf(key)))) return { error: "DECRYPTION_FAILED" };
  const padded = xaesOpen(key, nonce, sealed, ad);
  if (padded === undefined) return { error: "DECRYPTION_FAILED" };
  const message = unpad(padded);
  if (message === undefined) return { error: "DECRYPTION_FAILED" };
  if (message.length > maxPlaintextBytes) return { error: "PAYLOAD_TOO_LARGE" };
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(message);
    return { value: JSON.parse(text), sender };
  } catch {
    return { error: "DECRYPTION_FAILED" };
  }
}

// ---------------------------------------------------------------------------------------------
// Room key share v1 (SPEC.md §10)
// ---------------------------------------------------------------------------------------------

const KEY_SHARE_INFO_LABEL = "domvia-e2ee/room-key-share";
const KEY_SHARE_SIGNATURE_LABEL = "domvia-e2ee/room-key-share-signature";
const KEY_SHARE_FIELDS = [
  "v", "type", "kem", "kdf", "aead", "roomId", "keyId", "keyVersion",
  "senderUserId", "senderDeviceId", "recipientUserId", "recipientDeviceId", "enc", "ciphertext", "signature",
];
const FLAG_SHAREABLE = 0x01;

/** SPEC.md §10.3. */
const keyShareInfo = (share, senderSigningKey, recipientAgreementKey) =>
  canonical(
    ["text", KEY_SHARE_INFO_LABEL],
    ["u8", 1],
    ["u16", share.kem],
    ["u16", share.kdf],
    ["u16", share.aead],
    ["text", share.roomId],
    ["text", share.keyId],
    ["u32", share.keyVersion],
    ["text", share.senderUserId],
    ["text", share.senderDeviceId],
    ["text", share.recipientUserId],
    ["text", share.recipientDeviceId],
    ["bytes", senderSigningKey],
    ["bytes", recipientAgreementKey],
  );

/** SPEC.md §10.5. */
const keyShareSignatureInput = (info, enc, ciphertext) =>
  canonical(["text", KEY_SHARE_SIGNATURE_LABEL], ["bytes", info], ["bytes", enc], ["bytes", ciphertext]);

/**
 * SPEC.md §10.6: a share of `roomKey` from `sender` to the device `recipient` names. Must-fail
 * vectors bend the honest procedure through the options: `plaintext` (other bytes), `encryptTo`
 * (seal to another X25519 key than the one in `info`), `editSealed` (change enc or ciphertext
 * before signing).
 */
function sealShare({ sender, recipient, roomId, keyId, keyVersion, roomKey, shareable, ephemeral, plaintext, encryptTo, editSealed }) {
  const fields = {
    kem: HPKE_KEM,
    kdf: HPKE_KDF,
    aead: HPKE_AEAD_AES256GCM,
    roomId,
    keyId,
    keyVersion,
    senderUserId: sender.userId,
    senderDeviceId: sender.deviceId,
    recipientUserId: recipient.userId,
    recipientDeviceId: recipient.deviceId,
  };
  const info = keyShareInfo(fields, sender.signingKey, recipient.agreementKey);
  const message = plaintext ?? concat(fromHex(roomKey), Uint8Array.of(shareable ? FLAG_SHAREABLE : 0));
  const sealed = hpkeSealWith(fromHex(ephemeral), encryptTo ?? recipient.agreementKey, info, EMPTY, message);
  let { enc, ciphertext } = sealed;
  if (editSealed !== undefined) ({ enc, ciphertext } = editSealed({ enc, ciphertext }));
  const signatureInput = keyShareSignatureInput(info, enc, ciphertext);
  return {
    info,
    plaintext: message,
    hpke: sealed,
    signatureInput,
    share: {
      v: 1,
      type: "room-key-share",
      ...fields,
      enc: base64url(enc),
      ciphertext: base64url(ciphertext),
      signature: base64url(edSign(sender.signingSecretKey, signatureInput)),
    },
  };
}

const KEY_SHARE_SPEC = {
  type: "room-key-share",
  versions: [1],
  maxTextLength: 4096,
  check: (s) =>
    hasMembers(s, KEY_SHARE_FIELDS) &&
    s.kem === HPKE_KEM &&
    s.kdf === HPKE_KDF &&
    s.aead === HPKE_AEAD_AES256GCM &&
    [s.roomId, s.keyId, s.senderUserId, s.senderDeviceId, s.recipientUserId, s.recipientDeviceId].every(isId) &&
    isKeyVersion(s.keyVersion) &&
    isB64(s.enc, 32) &&
    isB64(s.ciphertext, 33 + TAG_BYTES) &&
    isB64(s.signature, 64)
      ? undefined
      : "INVALID_ENVELOPE",
};

/** SPEC.md §10.7: opens a share as `device`, or returns the error code. */
function openShare(input, device, senderBundle) {
  const read = readTyped(input, KEY_SHARE_SPEC);
  if (read.error !== undefined) return read;
  const share = read.value;
  if (share.recipientUserId !== device.userId || share.recipientDeviceId !== device.deviceId) return { error: "SHARE_MISADDRESSED" };
  const sender = verifyBundle(senderBundle);
  if (sender.error !== undefined) return sender;
  if (sender.bundle.userId !== share.senderUserId || sender.bundle.deviceId !== share.senderDeviceId) return { error: "UNKNOWN_SENDER" };
  const enc = fromBase64url(share.enc);
  const ciphertext = fromBase64url(share.ciphertext);
  const info = keyShareInfo(share, sender.signingKey, x25519.getPublicKey(device.agreementSecretKey));
  if (!edVerify(fromBase64url(share.signature), keyShareSignatureInput(info, enc, ciphertext), sender.signingKey)) {
    return { error: "BAD_SIGNATURE" };
  }
  const plaintext = hpkeOpenWith(device.agreementSecretKey, enc, info, EMPTY, ciphertext);
  if (plaintext === undefined || plaintext.length !== 33 || (plaintext[32] & ~FLAG_SHAREABLE) !== 0) return { error: "DECRYPTION_FAILED" };
  return { key: toHex(plaintext.subarray(0, 32)), shareable: plaintext[32] === FLAG_SHAREABLE };
}

// ---------------------------------------------------------------------------------------------
// Key backup v1 (SPEC.md §12)
// ---------------------------------------------------------------------------------------------

const KEY_BACKUP_INFO_LABEL = "domvia-e2ee/key-backup";
const MAX_CHUNKS = 10_000;
const MAX_CHUNK_BYTES = 32 * 1024 * 1024;
const MAX_KEYS_PER_CHUNK = 100_000;

/** SPEC.md §12.2. */
const keyBackupInfo = (publicKey) =>
  canonical(["text", KEY_BACKUP_INFO_LABEL], ["u8", 1], ["u16", HPKE_KEM], ["u16", HPKE_KDF], ["u16", HPKE_AEAD_AES256GCM], ["bytes", publicKey]);

/** SPEC.md §12.3: one chunk holding `payloadBytes` (normally UTF-8 of JSON.stringify(payload)). */
function sealChunk(publicKey, ephemeral, payloadBytes, info = keyBackupInfo(publicKey)) {
  const sealed = hpkeSealWith(fromHex(ephemeral), publicKey, info, EMPTY, payloadBytes);
  return { info, hpke: sealed, chunk: { enc: base64url(sealed.enc), ciphertext: base64url(sealed.ciphertext) } };
}

const backupObject = (publicKey, chunks) => ({
  v: 1,
  type: "key-backup",
  kem: HPKE_KEM,
  kdf: HPKE_KDF,
  aead: HPKE_AEAD_AES256GCM,
  publicKey: base64url(publicKey),
  chunks,
});

const KEY_BACKUP_SPEC = {
  type: "key-backup",
  versions: [1],
  maxTextLength: 64 * 1024 * 1024,
  check: (b) => {
    if (Array.isArray(b.chunks)) {
      if (b.chunks.length > MAX_CHUNKS) return "PAYLOAD_TOO_LARGE";
      const maxChars = base64urlChars(MAX_CHUNK_BYTES);
      if (b.chunks.some((c) => isPlainObject(c) && typeof c.ciphertext === "string" && c.ciphertext.length > maxChars)) return "PAYLOAD_TOO_LARGE";
    }
    const valid =
      hasMembers(b, ["v", "type", "kem", "kdf", "aead", "publicKey", "chunks"]) &&
      b.kem === HPKE_KEM &&
      b.kdf === HPKE_KDF &&
      b.aead === HPKE_AEAD_AES256GCM &&
      isB64(b.publicKey, 32) &&
      Array.isArray(b.chunks) &&
      b.chunks.every(
        (c) =>
          isPlainObject(c) &&
          hasMembers(c, ["enc", "ciphertext"]) &&
          isB64(c.enc, 32) &&
          typeof c.ciphertext === "string" &&
          c.ciphertext.length >= base64urlChars(1 + TAG_BYTES) &&
          fromBase64url(c.ciphertext) !== undefined,
      );
    return valid ? undefined : "INVALID_ENVELOPE";
  },
};

const BACKED_UP_KEY_FIELDS = ["roomId", "keyId", "keyVersion", "key", "shareable", "createdAt"];
const KEY_BACKUP_PAYLOAD_SPEC = {
  type: "key-backup-payload",
  versions: [1],
  maxTextLength: MAX_CHUNK_BYTES,
  check: (p) => {
    if (Array.isArray(p.keys) && p.keys.length > MAX_KEYS_PER_CHUNK) return "PAYLOAD_TOO_LARGE";
    const valid =
      hasMembers(p, ["v", "type", "keys"]) &&
      Array.isArray(p.keys) &&
      p.keys.every(
        (k) =>
          isPlainObject(k) &&
          hasMembers(k, BACKED_UP_KEY_FIELDS) &&
          isId(k.roomId) &&
          isId(k.keyId) &&
          isKeyVersion(k.keyVersion) &&
          isB64(k.key, 32) &&
          typeof k.shareable === "boolean" &&
          Number.isSafeInteger(k.createdAt) &&
          k.createdAt >= 0,
      );
    return valid ? undefined : "INVALID_ENVELOPE";
  },
};

/** SPEC.md §12.5: the restored key versions, or the error code. */
function restoreBackup(input, code) {
  const read = readTyped(input, KEY_BACKUP_SPEC);
  if (read.error !== undefined) return read;
  const backup = read.value;
  const fromCode = recoveryEntropyFromCode(code);
  if (fromCode.error !== undefined) return fromCode;
  const pair = deriveX25519(fromCode.entropy);
  if (base64url(pair.publicKey) !== backup.publicKey) return { error: "WRONG_RECOVERY_CODE" };
  const info = keyBackupInfo(pair.publicKey);
  const seen = new Map();
  for (const chunk of backup.chunks) {
    const plaintext = hpkeOpenWith(pair.secretKey, fromBase64url(chunk.enc), info, EMPTY, fromBase64url(chunk.ciphertext));
    if (plaintext === undefined) return { error: "DECRYPTION_FAILED" };
    let json;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plaintext));
    } catch {
      return { error: "DECRYPTION_FAILED" };
    }
    const payload = readTyped(json, KEY_BACKUP_PAYLOAD_SPEC);
    if (payload.error !== undefined) return payload;
    for (const entry of payload.value.keys) {
      const id = `${entry.roomId}\n${entry.keyVersion}\n${entry.keyId}`;
      const earlier = seen.get(id);
      if (earlier !== undefined && earlier.key !== entry.key) return { error: "KEY_CONFLICT" };
      seen.set(id, entry);
    }
  }
  return { keys: [...seen.values()] };
}

// ---------------------------------------------------------------------------------------------
// Protected recovery key v1 (SPEC.md §13)
// ---------------------------------------------------------------------------------------------

const PROTECTED_RECOVERY_KEY_LABEL = "domvia-e2ee/protected-recovery-key";

/** SPEC.md §13.2. */
const protectedAssociatedData = ({ name, n, r, p }, salt, publicKey) =>
  canonical(["text", PROTECTED_RECOVERY_KEY_LABEL], ["u8", 1], ["text", name], ["u32", n], ["u32", r], ["u32", p], ["bytes", salt], ["bytes", publicKey]);

/** SPEC.md §13.2: scrypt of the NFKC-normalised UTF-8 passphrase. */
const passphraseBytes = (passphrase) => new Uint8Array(Buffer.from(passphrase.normalize("NFKC"), "utf8"));
const passphraseKeys = new Map(); // memoised: the checks derive the same keys repeatedly
function passphraseKey(passphrase, { n, r, p }, salt) {
  const bytes = passphraseBytes(passphrase);
  const memo = `${toHex(bytes)}:${n}:${r}:${p}:${toHex(salt)}`;
  if (!passphraseKeys.has(memo)) passphraseKeys.set(memo, scrypt(bytes, salt, { N: n, r, p, dkLen: 32 }));
  return passphraseKeys.get(memo).slice();
}

/** SPEC.md §13.3: `entropy` sealed under a passphrase; `publicKey` is what the object claims. */
function protectEntropy(entropy, publicKey, passphrase, { n, r, p }, saltHex, nonceHex) {
  const salt = fromHex(saltHex);
  const nonce = fromHex(nonceHex);
  const kdf = { name: "scrypt", n, r, p, salt: base64url(salt) };
  const key = passphraseKey(passphrase, kdf, salt);
  const ad = protectedAssociatedData(kdf, salt, publicKey);
  return {
    key,
    ad,
    protectedKey: {
      v: 1,
      type: "protected-recovery-key",
      publicKey: base64url(publicKey),
      kdf,
      nonce: base64url(nonce),
      ciphertext: base64url(gcm(key, nonce, ad).encrypt(entropy)),
    },
  };
}

const isPowerOfTwoIn = (n, min, max) => Number.isInteger(n) && n >= min && n <= max && (n & (n - 1)) === 0;
const PROTECTED_SPEC = {
  type: "protected-recovery-key",
  versions: [1],
  maxTextLength: 4096,
  check: (o) =>
    hasMembers(o, ["v", "type", "publicKey", "kdf", "nonce", "ciphertext"]) &&
    isB64(o.publicKey, 32) &&
    isPlainObject(o.kdf) &&
    hasMembers(o.kdf, ["name", "n", "r", "p", "salt"]) &&
    o.kdf.name === "scrypt" &&
    isPowerOfTwoIn(o.kdf.n, 1024, 4_194_304) &&
    Number.isInteger(o.kdf.r) && o.kdf.r >= 1 && o.kdf.r <= 32 &&
    Number.isInteger(o.kdf.p) && o.kdf.p >= 1 && o.kdf.p <= 16 &&
    isB64(o.kdf.salt, 16) &&
    isB64(o.nonce, 12) &&
    isB64(o.ciphertext, 32 + TAG_BYTES)
      ? undefined
      : "INVALID_ENVELOPE",
};

/** SPEC.md §13.4: the recovery entropy, or the error code. */
function unlockProtected(input, passphrase) {
  const read = readTyped(input, PROTECTED_SPEC);
  if (read.error !== undefined) return read;
  const o = read.value;
  const salt = fromBase64url(o.kdf.salt);
  const key = passphraseKey(passphrase, o.kdf, salt);
  let entropy;
  try {
    entropy = gcm(key, fromBase64url(o.nonce), protectedAssociatedData(o.kdf, salt, fromBase64url(o.publicKey))).decrypt(fromBase64url(o.ciphertext));
  } catch {
    return { error: "WRONG_RECOVERY_CODE" };
  }
  if (base64url(deriveX25519(entropy).publicKey) !== o.publicKey) return { error: "WRONG_RECOVERY_CODE" };
  return { entropy };
}

// ---------------------------------------------------------------------------------------------
// Self-check of the primitives against their RFCs, before any vector is built
// ---------------------------------------------------------------------------------------------

function lifecycleSelfCheck() {
  const expectHex = (actual, expected, what) => {
    if (toHex(actual) !== expected) throw new Error(`${what} does not match its reference value`);
  };
  // RFC 8032 §7.1, TEST 1 (empty message).
  const rfc8032Seed = fromHex(RFC8032_TEST1_SEED);
  expectHex(edPublicKey(rfc8032Seed), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "Ed25519 public key (RFC 8032 TEST 1)");
  expectHex(
    edSign(rfc8032Seed, EMPTY),
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    "Ed25519 signature (RFC 8032 TEST 1)",
  );
  // RFC 7748 §6.1.
  expectHex(x25519.getPublicKey(fromHex(RFC7748_ALICE)), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "X25519 public key (RFC 7748 §6.1)");
  expectHex(
    x25519Shared(fromHex(RFC7748_ALICE), fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")),
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    "X25519 shared secret (RFC 7748 §6.1)",
  );
  // RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
  const ephemeral = deriveX25519(fromHex("7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"));
  expectHex(ephemeral.secretKey, "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736", "HPKE DeriveKeyPair skEm (RFC 9180 A.1.1)");
  const recipient = deriveX25519(fromHex("6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"));
  expectHex(recipient.publicKey, "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d", "HPKE DeriveKeyPair pkRm (RFC 9180 A.1.1)");
  const info = fromHex("4f6465206f6e2061204772656369616e2055726e");
  const pt = fromHex("4265617574792069732074727574682c20747275746820626561757479");
  const sealed = hpkeSealWith(ephemeral.secretKey, recipient.publicKey, info, fromHex("436f756e742d30"), pt, HPKE_AEAD_AES128GCM);
  expectHex(sealed.enc, "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431", "HPKE enc (RFC 9180 A.1.1)");
  expectHex(sealed.sharedSecret, "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc", "HPKE shared_secret (RFC 9180 A.1.1)");
  expectHex(sealed.key, "4531685d41d65f03dc48f6b8302c05b0", "HPKE key (RFC 9180 A.1.1)");
  expectHex(sealed.baseNonce, "56d890e5accaaf011cff4b7d", "HPKE base_nonce (RFC 9180 A.1.1)");
  expectHex(
    sealed.ciphertext,
    "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
    "HPKE sequence-0 ciphertext (RFC 9180 A.1.1)",
  );
  expectHex(
    hpkeOpenWith(recipient.secretKey, sealed.enc, info, fromHex("436f756e742d30"), sealed.ciphertext, HPKE_AEAD_AES128GCM),
    toHex(pt),
    "HPKE open (RFC 9180 A.1.1)",
  );
  // RFC 7914 §12, the first scrypt test vector (the third, N = 1024, r = 8, p = 16, costs 128 times more).
  expectHex(
    scrypt(EMPTY, EMPTY, { N: 16, r: 1, p: 1, dkLen: 64 }),
    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
    "scrypt (RFC 7914 §12)",
  );
  // BIP-39 reference vectors for 256-bit entropy (trezor/python-mnemonic vectors.json).
  const bip39 = [
    ["00".repeat(32), `${"abandon ".repeat(23)}art`],
    ["7f".repeat(32), `${"legal winner thank year wave sausage worth useful ".repeat(3)}`.replace(/useful $/, "title")],
    ["80".repeat(32), `${"letter advice cage absurd amount doctor acoustic avoid ".repeat(3)}`.replace(/avoid $/, "bless")],
    ["ff".repeat(32), `${"zoo ".repeat(23)}vote`],
  ];
  if (BIP39_ENGLISH.length !== 2048) throw new Error("the BIP-39 English list has 2,048 words");
  for (const [entropy, words] of bip39) {
    if (bip39Words(fromHex(entropy)) !== words) throw new Error(`BIP-39 words of ${entropy.slice(0, 4)}… do not match the reference`);
    if (toHex(recoveryEntropyFromCode(words).entropy) !== entropy) throw new Error("BIP-39 decoding does not round-trip");
  }
}

// ---------------------------------------------------------------------------------------------
// Key lifecycle vectors
// ---------------------------------------------------------------------------------------------

// Fixed secrets. Some are RFC test keys, so their public halves can be checked by hand.
const RFC8032_TEST1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const RFC8032_TEST2_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const RFC8032_TEST3_SEED = "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7";
const RFC7748_ALICE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const RFC7748_BOB = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";

const identityState = (userId, deviceId, agreementHex, signingHex) => ({
  v: 1,
  type: "device-identity",
  userId,
  deviceId,
  agreementSecretKey: base64url(fromHex(agreementHex)),
  signingSecretKey: base64url(fromHex(signingHex)),
});

const DEVICE_DEFINITIONS = [
  {
    name: "alice",
    description: "Alice's phone (X25519 secret of RFC 7748 §6.1 Alice, Ed25519 seed of RFC 8032 TEST 1)",
    state: identityState("user-alice", "alice-phone", RFC7748_ALICE, RFC8032_TEST1_SEED),
  },
  {
    name: "bob",
    description: "Bob's laptop (X25519 secret of RFC 7748 §6.1 Bob, Ed25519 seed of RFC 8032 TEST 2)",
    state: identityState("user-bob", "bob-laptop", RFC7748_BOB, RFC8032_TEST2_SEED),
  },
  {
    name: "carol",
    description: "Carol's tablet (Ed25519 seed of RFC 8032 TEST 3)",
    state: identityState("user-carol", "carol-tablet", "c8a1f05e6d3b2c19e7f4a0b5d6c3e2f1a09b8c7d6e5f4a3b2c1d0e9f8a7b6c5d", RFC8032_TEST3_SEED),
  },
  {
    name: "alice-impostor",
    description:
      "Alice's user and device ids with another device's keys, self-signed by those keys: it verifies, because a " +
      "self-signature proves only that the bundle's keys belong together, not that the ids are the holder's (SPEC.md §9.5)",
    state: identityState(
      "user-alice",
      "alice-phone",
      "0badc0ffee0ddf00d5eed5a1adbadc0de5eaf00dcafebabe1337c0debeefcafe",
      "deadbeef00112233445566778899aabbccddeeff0123456789abcdeffedcba98",
    ),
  },
  {
    name: "long-ids",
    description: "128-character user and device ids, the longest allowed",
    state: identityState(
      longId("user-"),
      longId("device-"),
      "1f2e3d4c5b6a79880716253443526170f0e1d2c3b4a5968778695a4b3c2d1e0f",
      "0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210",
    ),
  },
];

const devices = Object.fromEntries(DEVICE_DEFINITIONS.map((definition) => [definition.name, deviceFromState(definition.state)]));
const { alice, bob, carol } = devices;
const impostor = devices["alice-impostor"];
const directoryEntry = (device, bundle = device.bundle) => ({ userId: device.userId, deviceId: device.deviceId, bundle });
const withoutMembers = (object, ...names) => Object.fromEntries(Object.entries(object).filter(([name]) => !names.includes(name)));
const flipByte = (text, index, mask = 0x01) => editBytes(text, (bytes) => (bytes[index < 0 ? bytes.length + index : index] ^= mask));

/** The order of the Ed25519 group: S + L encodes the same scalar non-canonically (SPEC.md §7.4). */
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
function malleatedSignature(signatureText) {
  const signature = fromBase64url(signatureText);
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]);
  s += ED25519_L;
  for (let i = 32; i < 64; i++) {
    signature[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return base64url(signature);
}

// --- Device bundles (SPEC.md §9) ---------------------------------------------------------------

const deviceBundleValid = DEVICE_DEFINITIONS.map(({ name, description }) => ({
  name,
  description,
  identityState: devices[name].state,
  agreementKey: toHex(devices[name].agreementKey),
  signingKey: toHex(devices[name].signingKey),
  signatureInput: toHex(devices[name].signatureInput),
  bundle: devices[name].bundle,
}));

const aliceBundle = alice.bundle;
const aliceBundleText = JSON.stringify(aliceBundle);
const DEVICE_BUNDLE_MUST_FAIL = [
  { description: "v changed to 2, a version no receiver reads", bundle: { ...aliceBundle, v: 2 }, expectedError: "UNSUPPORTED_VERSION" },
  { description: 'v is the string "1"', bundle: { ...aliceBundle, v: "1" }, expectedError: "UNSUPPORTED_VERSION" },
  { description: "v missing", bundle: withoutMembers(aliceBundle, "v"), expectedError: "INVALID_ENVELOPE" },
  { description: "type changed", bundle: { ...aliceBundle, type: "device" }, expectedError: "INVALID_ENVELOPE" },
  {
    description: "type changed and v 2: the type is checked before the version",
    bundle: { ...aliceBundle, type: "room-key-share", v: 2 },
    expectedError: "INVALID_ENVELOPE",
  },
  { description: "userId changed", bundle: { ...aliceBundle, userId: "user-alicf" }, expectedError: "BAD_SIGNATURE" },
  { description: "deviceId changed", bundle: { ...aliceBundle, deviceId: "alice-laptop" }, expectedError: "BAD_SIGNATURE" },
  { description: "agreementKey: one bit flipped", bundle: { ...aliceBundle, agreementKey: flipByte(aliceBundle.agreementKey, 0) }, expectedError: "BAD_SIGNATURE" },
  { description: "agreementKey replaced by Bob's", bundle: { ...aliceBundle, agreementKey: bob.bundle.agreementKey }, expectedError: "BAD_SIGNATURE" },
  { description: "signingKey: one bit flipped", bundle: { ...aliceBundle, signingKey: flipByte(aliceBundle.signingKey, 5) }, expectedError: "BAD_SIGNATURE" },
  {
    description: "signingKey replaced by Bob's (the signature is still Alice's)",
    bundle: { ...aliceBundle, signingKey: bob.bundle.signingKey },
    expectedError: "BAD_SIGNATURE",
  },
  { description: "signature: one bit flipped", bundle: { ...aliceBundle, signature: flipByte(aliceBundle.signature, 10) }, expectedError: "BAD_SIGNATURE" },
  {
    description: "signature replaced by Bob's bundle signature",
    bundle: { ...aliceBundle, signature: bob.bundle.signature },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "signature with S + L: the same scalar, not canonically encoded, refused by strict verification",
    bundle: { ...aliceBundle, signature: malleatedSignature(aliceBundle.signature) },
    expectedError: "BAD_SIGNATURE",
  },
  { description: "signature all zero bytes", bundle: { ...aliceBundle, signature: base64url(new Uint8Array(64)) }, expectedError: "BAD_SIGNATURE" },
  {
    description: "the impostor's valid bundle with Alice's real signing key: the signature no longer verifies",
    bundle: { ...impostor.bundle, signingKey: aliceBundle.signingKey },
    expectedError: "BAD_SIGNATURE",
  },
  { description: "an extra member", bundle: { ...aliceBundle, displayName: "Alice" }, expectedError: "INVALID_ENVELOPE" },
  { description: "signature missing", bundle: withoutMembers(aliceBundle, "signature"), expectedError: "INVALID_ENVELOPE" },
  { description: "userId with a space", bundle: { ...aliceBundle, userId: "user alice" }, expectedError: "INVALID_ENVELOPE" },
  {
    description: "agreementKey not canonical base64url (unused low bits of the last character set)",
    bundle: { ...aliceBundle, agreementKey: replaceChar(aliceBundle.agreementKey, 42, nonCanonicalTwin(aliceBundle.agreementKey[42])) },
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "signature of 63 bytes (84 characters)",
    bundle: { ...aliceBundle, signature: base64url(fromBase64url(aliceBundle.signature).subarray(0, 63)) },
    expectedError: "INVALID_ENVELOPE",
  },
  { description: "JSON text that is not JSON", bundle: aliceBundleText.slice(0, -1), expectedError: "INVALID_ENVELOPE" },
  { description: "a JSON array", bundle: `[${aliceBundleText}]`, expectedError: "INVALID_ENVELOPE" },
  {
    description: "JSON text of 4,097 characters, refused before parsing",
    bundle: aliceBundleText + " ".repeat(4097 - aliceBundleText.length),
    expectedError: "PAYLOAD_TOO_LARGE",
  },
];

// --- Envelope v2 (SPEC.md §8) ------------------------------------------------------------------

const V2_VALID = [
  {
    description: "the guide's example message, signed by Alice's phone",
    key: KEY_A,
    nonce: "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7",
    plaintext: JSON.stringify(GUIDE_VALUE),
    padding: "padme",
    context: GUIDE_CONTEXT,
    sender: "alice",
  },
  {
    description: 'Unicode text signed by Bob\'s laptop, padding "none"',
    key: KEY_B,
    nonce: "3c2b1a09f8e7d6c5b4a392817f6e5d4c3b2a19080f1e2d3c",
    plaintext: JSON.stringify({ body: "Grüße 👋🏽 你好 — café", sender_id: "user-bob" }),
    padding: "none",
    context: { roomId: "team:general", messageId: "01HZX3K9V7Q2M8N4P6R0S5T1W4", keyId: "team:general@3", keyVersion: 3 },
    sender: "bob",
  },
  {
    description: "128-character ids everywhere and the largest key version",
    key: KEY_C,
    nonce: "707172737475767778797a7b7c7d7e7f8081828384858687",
    plaintext: JSON.stringify({ body: "long ids" }),
    padding: "padme",
    context: { roomId: longId("room-"), messageId: longId("msg-"), keyId: longId("key-"), keyVersion: MAX_KEY_VERSION },
    sender: "long-ids",
  },
];

const envelopeV2Valid = V2_VALID.map((vector) => {
  const key = fromHex(vector.key);
  const nonce = fromHex(vector.nonce);
  const signer = devices[vector.sender];
  const padded = pad(new Uint8Array(Buffer.from(vector.plaintext, "utf8")), vector.padding);
  const sealed = sealPaddedV2(key, nonce, padded, vector.context, signer);
  return {
    description: vector.description,
    key: vector.key,
    nonce: vector.nonce,
    plaintext: vector.plaintext,
    padding: vector.padding,
    context: { ...vector.context },
    sender: vector.sender,
    senderBundles: [directoryEntry(signer)],
    associatedData: toHex(sealed.ad),
    signatureInput: toHex(sealed.signatureInput),
    envelope: sealed.envelope,
  };
});

const v2Base = envelopeV2Valid[0].envelope;
const v2Receiver = { roomId: GUIDE_CONTEXT.roomId, messageId: GUIDE_CONTEXT.messageId };
const v2Directory = [directoryEntry(alice), directoryEntry(bob), directoryEntry(carol)];
const v2Downgraded = { v: 1, ...withoutMembers(v2Base, "v", "senderUserId", "senderDeviceId", "signature") };
/** Alice's authentic signed envelope (key A, guide context) around arbitrary padded bytes. */
const sealRawV2 = (padded, nonceHex, signer = alice, context = GUIDE_CONTEXT) =>
  sealPaddedV2(fromHex(KEY_A), fromHex(nonceHex), padded, context, signer).envelope;
/** Re-signs an envelope's unchanged byte fields as `signer`, over the AD naming `named`. */
function resignV2(envelope, signer, named) {
  const ad = associatedDataV2({ ...envelope, senderUserId: named.userId, senderDeviceId: named.deviceId });
  const input = envelopeSignatureInput(ad, fromBase64url(envelope.nonce), fromBase64url(envelope.commitment), fromBase64url(envelope.ciphertext));
  return { ...envelope, senderUserId: named.userId, senderDeviceId: named.deviceId, signature: base64url(edSign(signer.signingSecretKey, input)) };
}
const aliceMsg2 = sealRawV2(pad(ascii('{"body":"second"}'), "padme"), "b1b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7", alice, {
  ...GUIDE_CONTEXT,
  messageId: "msg-2",
});

const ENVELOPE_V2_MUST_FAIL = [
  // Version and downgrade.
  { description: "v changed to 3, a version no receiver reads", envelope: { ...v2Base, v: 3 }, expectedError: "UNSUPPORTED_VERSION" },
  { description: "v changed to 1 with every v2 member kept: v1 has no sender or signature members", envelope: { ...v2Base, v: 1 }, expectedError: "INVALID_ENVELOPE" },
  { description: "signature stripped, v still 2", envelope: withoutMembers(v2Base, "signature"), expectedError: "INVALID_ENVELOPE" },
  {
    description: "downgraded to v1 (v 1, sender and signature removed): the v1 associated data differs, so the tag fails",
    envelope: v2Downgraded,
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "downgraded to v1, to a receiver that requires signatures",
    envelope: v2Downgraded,
    context: { ...v2Receiver, requireSignature: true },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "an authentic unsigned v1 envelope (envelope-v1.json valid[0]), to a receiver that requires signatures",
    envelope: baseEnvelope,
    context: { ...v2Receiver, requireSignature: true },
    expectedError: "BAD_SIGNATURE",
  },
  // Each field tampered.
  { description: "suite changed", envelope: { ...v2Base, suite: "xaes256gcm" }, expectedError: "INVALID_ENVELOPE" },
  { description: "roomId changed in the envelope", envelope: { ...v2Base, roomId: "room-43" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "messageId changed in the envelope", envelope: { ...v2Base, messageId: "msg-9" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "wrong room: the receiver expects room-43", envelope: v2Base, context: { ...v2Receiver, roomId: "room-43" }, expectedError: "CONTEXT_MISMATCH" },
  { description: "keyId changed", envelope: { ...v2Base, keyId: "room-42-v2" }, expectedError: "BAD_SIGNATURE" },
  { description: "keyVersion changed", envelope: { ...v2Base, keyVersion: 2 }, expectedError: "BAD_SIGNATURE" },
  { description: "nonce: one bit flipped", envelope: { ...v2Base, nonce: flipByte(v2Base.nonce, 3) }, expectedError: "BAD_SIGNATURE" },
  { description: "commitment: one bit flipped", envelope: { ...v2Base, commitment: flipByte(v2Base.commitment, 0) }, expectedError: "BAD_SIGNATURE" },
  { description: "ciphertext: one bit of the first byte flipped", envelope: { ...v2Base, ciphertext: flipByte(v2Base.ciphertext, 0) }, expectedError: "BAD_SIGNATURE" },
  { description: "tag: one bit of the last byte flipped", envelope: { ...v2Base, ciphertext: flipByte(v2Base.ciphertext, -1, 0x80) }, expectedError: "BAD_SIGNATURE" },
  {
    description: "ciphertext truncated by one byte",
    envelope: { ...v2Base, ciphertext: base64url(fromBase64url(v2Base.ciphertext).subarray(0, -1)) },
    expectedError: "BAD_SIGNATURE",
  },
  { description: "signature: one bit flipped", envelope: { ...v2Base, signature: flipByte(v2Base.signature, 40) }, expectedError: "BAD_SIGNATURE" },
  {
    description: "signature with S + L (non-canonical S)",
    envelope: { ...v2Base, signature: malleatedSignature(v2Base.signature) },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "signed by another key: Carol signs Alice's envelope, sender fields still Alice's",
    envelope: { ...resignV2(v2Base, carol, alice) },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "Alice's signature of another message (msg-2) pasted in",
    envelope: { ...v2Base, signature: aliceMsg2.signature },
    expectedError: "BAD_SIGNATURE",
  },
  // Sender.
  { description: "senderUserId changed to a user the receiver does not know", envelope: { ...v2Base, senderUserId: "user-dave" }, expectedError: "UNKNOWN_SENDER" },
  { description: "senderDeviceId changed to a device the receiver does not know", envelope: { ...v2Base, senderDeviceId: "alice-laptop" }, expectedError: "UNKNOWN_SENDER" },
  {
    description: "sender changed to Bob (a known device) without re-signing",
    envelope: { ...v2Base, senderUserId: bob.userId, senderDeviceId: bob.deviceId },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "sender changed to Carol and re-signed by Carol: the signature verifies, but the sender is in the associated data",
    envelope: resignV2(v2Base, carol, carol),
    expectedError: "DECRYPTION_FAILED",
  },
  { description: "unknown sender: the receiver has no bundles at all", envelope: v2Base, senderBundles: [], expectedError: "UNKNOWN_SENDER" },
  {
    description: "the directory returns Bob's bundle for Alice's ids",
    envelope: v2Base,
    senderBundles: [{ userId: alice.userId, deviceId: alice.deviceId, bundle: bob.bundle }],
    expectedError: "UNKNOWN_SENDER",
  },
  {
    description: "the directory returns Alice's bundle with a broken self-signature",
    envelope: v2Base,
    senderBundles: [directoryEntry(alice, { ...aliceBundle, signature: flipByte(aliceBundle.signature, 1) })],
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "the directory returns the impostor's bundle (Alice's ids, other keys, validly self-signed)",
    envelope: v2Base,
    senderBundles: [directoryEntry(alice, impostor.bundle)],
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "the directory returns a malformed bundle (no signature)",
    envelope: v2Base,
    senderBundles: [directoryEntry(alice, withoutMembers(aliceBundle, "signature"))],
    expectedError: "INVALID_ENVELOPE",
  },
  // Key and content.
  { description: "wrong room key: the signature verifies, the commitment does not match", key: KEY_C, envelope: v2Base, expectedError: "DECRYPTION_FAILED" },
  {
    description: "authentic and signed, but the padding has no 0x80 marker",
    envelope: sealRawV2(concat(ascii('{"a":1}'), Uint8Array.of(0x01, 0x00)), "7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b01"),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic and signed, but the message is not JSON",
    envelope: sealRawV2(pad(ascii("signed, not json"), "padme"), "7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b02"),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "a receiver limit of 16 plaintext bytes refuses the 64-byte ciphertext before verifying anything",
    envelope: v2Base,
    context: { ...v2Receiver, maxPlaintextBytes: 16 },
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  // Schema.
  {
    description: "signature not canonical base64url",
    envelope: { ...v2Base, signature: replaceChar(v2Base.signature, 85, nonCanonicalTwin(v2Base.signature[85])) },
    expectedError: "INVALID_ENVELOPE",
  },
  { description: "signature of 85 characters", envelope: { ...v2Base, signature: v2Base.signature.slice(0, 85) }, expectedError: "INVALID_ENVELOPE" },
  { description: "senderUserId with a space", envelope: { ...v2Base, senderUserId: "user alice" }, expectedError: "INVALID_ENVELOPE" },
  { description: "an extra member", envelope: { ...v2Base, senderName: "Alice" }, expectedError: "INVALID_ENVELOPE" },
];

const envelopeV2MustFail = ENVELOPE_V2_MUST_FAIL.map((vector) => ({
  description: vector.description,
  key: vector.key ?? KEY_A,
  context: vector.context ?? v2Receiver,
  senderBundles: vector.senderBundles ?? v2Directory,
  envelope: vector.envelope,
  expectedError: vector.expectedError,
}));

// --- Room key shares (SPEC.md §10) -------------------------------------------------------------

const SHARE_VALID = [
  {
    description: "Alice shares version 2 of room-42 with Bob's laptop, not shareable with later members",
    sender: "alice",
    recipient: "bob",
    roomKey: "5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7",
    shareable: false,
    context: { roomId: "room-42", keyId: "room-42-v2", keyVersion: 2 },
    ephemeralSecretKey: "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
  },
  {
    description: "Bob shares version 7 of team:general with Alice's phone, shareable with later members",
    sender: "bob",
    recipient: "alice",
    roomKey: "a7c3e9f10b2d4f6a8c0e1f3a5c7e9b0d2f4a6c8e0a1c3e5a7c9e1b3d5f7a9c0e",
    shareable: true,
    context: { roomId: "team:general", keyId: "team:general@7", keyVersion: 7 },
    ephemeralSecretKey: "1d2c3b4a59687786950a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60",
  },
];

const shareValidBuilt = SHARE_VALID.map((vector) => ({
  vector,
  built: sealShare({
    sender: devices[vector.sender],
    recipient: devices[vector.recipient],
    ...vector.context,
    roomKey: vector.roomKey,
    shareable: vector.shareable,
    ephemeral: vector.ephemeralSecretKey,
  }),
}));

const keyShareValid = shareValidBuilt.map(({ vector, built }) => ({
  description: vector.description,
  sender: vector.sender,
  recipient: vector.recipient,
  roomKey: vector.roomKey,
  shareable: vector.shareable,
  context: { ...vector.context },
  ephemeralSecretKey: vector.ephemeralSecretKey,
  plaintext: toHex(built.plaintext),
  info: toHex(built.info),
  sharedSecret: toHex(built.hpke.sharedSecret),
  hpkeKey: toHex(built.hpke.key),
  hpkeBaseNonce: toHex(built.hpke.baseNonce),
  signatureInput: toHex(built.signatureInput),
  senderBundle: devices[vector.sender].bundle,
  share: built.share,
}));

const shareBase = keyShareValid[0].share;
const shareBaseOptions = {
  sender: alice,
  recipient: bob,
  ...SHARE_VALID[0].context,
  roomKey: SHARE_VALID[0].roomKey,
  shareable: false,
  ephemeral: "5151515151515151515151515151515151515151515151515151515151515151",
};
/** An authentic share (signed by Alice) built with a bent procedure. */
const bentShare = (overrides) => sealShare({ ...shareBaseOptions, ...overrides }).share;

const SHARE_MUST_FAIL = [
  // Version and shape.
  { description: "v changed to 2", share: { ...shareBase, v: 2 }, expectedError: "UNSUPPORTED_VERSION" },
  { description: "type changed", share: { ...shareBase, type: "room-key" }, expectedError: "INVALID_ENVELOPE" },
  { description: "kem changed to 0x0021 (DHKEM(X448, HKDF-SHA512)), not supported", share: { ...shareBase, kem: 0x0021 }, expectedError: "INVALID_ENVELOPE" },
  { description: "kdf changed to 0x0002 (HKDF-SHA384)", share: { ...shareBase, kdf: 0x0002 }, expectedError: "INVALID_ENVELOPE" },
  { description: "aead changed to 0x0001 (AES-128-GCM)", share: { ...shareBase, aead: 0x0001 }, expectedError: "INVALID_ENVELOPE" },
  { description: "an extra member", share: { ...shareBase, note: "hi" }, expectedError: "INVALID_ENVELOPE" },
  {
    description: "ciphertext of 48 bytes instead of 49",
    share: { ...shareBase, ciphertext: base64url(fromBase64url(shareBase.ciphertext).subarray(0, 48)) },
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "enc not canonical base64url",
    share: { ...shareBase, enc: replaceChar(shareBase.enc, 42, nonCanonicalTwin(shareBase.enc[42])) },
    expectedError: "INVALID_ENVELOPE",
  },
  { description: "JSON text that is not JSON", share: JSON.stringify(shareBase).slice(0, 100), expectedError: "INVALID_ENVELOPE" },
  {
    description: "JSON text of 4,097 characters",
    share: JSON.stringify(shareBase) + " ".repeat(4097 - JSON.stringify(shareBase).length),
    expectedError: "PAYLOAD_TOO_LARGE",
  },
  // Addressee.
  { description: "wrong recipient: Carol opens a share addressed to Bob", recipient: "carol", share: shareBase, expectedError: "SHARE_MISADDRESSED" },
  { description: "recipientUserId changed", share: { ...shareBase, recipientUserId: "user-bobby" }, expectedError: "SHARE_MISADDRESSED" },
  { description: "recipientDeviceId changed", share: { ...shareBase, recipientDeviceId: "bob-phone" }, expectedError: "SHARE_MISADDRESSED" },
  {
    description: "recipient changed to Carol, opened by Carol: her ids and agreement key are in info",
    recipient: "carol",
    share: { ...shareBase, recipientUserId: carol.userId, recipientDeviceId: carol.deviceId },
    expectedError: "BAD_SIGNATURE",
  },
  // Sender.
  { description: "wrong sender bundle: Bob's bundle given as the sender's", senderBundle: bob.bundle, share: shareBase, expectedError: "UNKNOWN_SENDER" },
  { description: "senderUserId changed", share: { ...shareBase, senderUserId: "user-alicf" }, expectedError: "UNKNOWN_SENDER" },
  { description: "senderDeviceId changed", share: { ...shareBase, senderDeviceId: "alice-laptop" }, expectedError: "UNKNOWN_SENDER" },
  {
    description: "sender changed to Carol, with Carol's bundle: Alice's signature does not verify under Carol's key",
    senderBundle: carol.bundle,
    share: { ...shareBase, senderUserId: carol.userId, senderDeviceId: carol.deviceId },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "the impostor's bundle (Alice's ids, other keys, validly self-signed) as the sender's",
    senderBundle: impostor.bundle,
    share: shareBase,
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "the sender bundle's self-signature is broken",
    senderBundle: { ...aliceBundle, signature: flipByte(aliceBundle.signature, 2) },
    share: shareBase,
    expectedError: "BAD_SIGNATURE",
  },
  { description: "the sender bundle is malformed (no signingKey)", senderBundle: withoutMembers(aliceBundle, "signingKey"), share: shareBase, expectedError: "INVALID_ENVELOPE" },
  // Bound fields and byte fields.
  { description: "replayed to another room: roomId edited to room-43", share: { ...shareBase, roomId: "room-43" }, expectedError: "BAD_SIGNATURE" },
  { description: "keyId changed", share: { ...shareBase, keyId: "room-42-v3" }, expectedError: "BAD_SIGNATURE" },
  { description: "keyVersion changed", share: { ...shareBase, keyVersion: 3 }, expectedError: "BAD_SIGNATURE" },
  { description: "enc: one bit flipped", share: { ...shareBase, enc: flipByte(shareBase.enc, 7) }, expectedError: "BAD_SIGNATURE" },
  { description: "ciphertext: one bit flipped", share: { ...shareBase, ciphertext: flipByte(shareBase.ciphertext, 20) }, expectedError: "BAD_SIGNATURE" },
  { description: "signature: one bit flipped", share: { ...shareBase, signature: flipByte(shareBase.signature, 63) }, expectedError: "BAD_SIGNATURE" },
  { description: "signature with S + L", share: { ...shareBase, signature: malleatedSignature(shareBase.signature) }, expectedError: "BAD_SIGNATURE" },
  {
    description: "signed by another key: Carol's signature over the same share, sender fields still Alice's",
    share: { ...shareBase, signature: base64url(edSign(carol.signingSecretKey, fromHex(keyShareValid[0].signatureInput))) },
    expectedError: "BAD_SIGNATURE",
  },
  {
    description: "sealed by Alice to a substituted bundle for Bob (Bob's ids, Carol's agreement key): Bob's own key is in info",
    share: bentShare({ recipient: { ...carol, userId: bob.userId, deviceId: bob.deviceId } }),
    expectedError: "BAD_SIGNATURE",
  },
  // Authentic (validly signed by Alice) but unopenable.
  {
    description: "authentic, but HPKE-sealed to Carol's key while info names Bob's",
    share: bentShare({ encryptTo: carol.agreementKey }),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the ciphertext was altered before signing",
    share: bentShare({ editSealed: ({ enc, ciphertext }) => ({ enc, ciphertext: ciphertext.map((byte, i) => (i === 0 ? byte ^ 1 : byte)) }) }),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but enc is the all-zero X25519 point (low order)",
    share: bentShare({ editSealed: ({ ciphertext }) => ({ enc: new Uint8Array(32), ciphertext }) }),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the flags byte is 0x02 (an undefined bit)",
    share: bentShare({ plaintext: concat(fromHex(SHARE_VALID[0].roomKey), Uint8Array.of(0x02)) }),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "authentic, but the flags byte is 0x81 (shareable plus an undefined bit)",
    share: bentShare({ plaintext: concat(fromHex(SHARE_VALID[0].roomKey), Uint8Array.of(0x81)) }),
    expectedError: "DECRYPTION_FAILED",
  },
];

const keyShareMustFail = SHARE_MUST_FAIL.map((vector) => ({
  description: vector.description,
  recipient: vector.recipient ?? "bob",
  senderBundle: vector.senderBundle ?? aliceBundle,
  share: vector.share,
  expectedError: vector.expectedError,
}));

// --- Recovery keys (SPEC.md §11) ---------------------------------------------------------------

const BACKUP_RECOVERY_ENTROPY = "3f8e1c52a7d09b64e15a2c7f90d4b38e6a1c5f27d8b049e3a6c12f58e90d7b41";
const RECOVERY_VALID = [
  { description: "all-zero entropy (BIP-39 reference vector)", entropy: "00".repeat(32) },
  { description: "0x7f repeated (BIP-39 reference vector)", entropy: "7f".repeat(32) },
  { description: "0x80 repeated (BIP-39 reference vector)", entropy: "80".repeat(32) },
  { description: "0xff repeated (BIP-39 reference vector)", entropy: "ff".repeat(32) },
  { description: "the recovery key of the backup vectors", entropy: BACKUP_RECOVERY_ENTROPY, variants: true },
];

const recoveryValid = RECOVERY_VALID.map(({ description, entropy, variants }) => {
  const code = bip39Words(fromHex(entropy));
  const pair = deriveX25519(fromHex(entropy));
  const words = code.split(" ");
  const fullwidth = (word) => [...word].map((c) => String.fromCodePoint(c.codePointAt(0) - 0x61 + 0xff41)).join("");
  return {
    description,
    entropy,
    code,
    secretKey: toHex(pair.secretKey),
    publicKey: base64url(pair.publicKey),
    codeVariants: variants
      ? [
          code.toUpperCase(),
          `  ${words.slice(0, 12).join("  ")}\n${words.slice(12).join("\t")}  `,
          words.join("\u3000"),
          [fullwidth(words[0]), ...words.slice(1)].join(" "),
          code.padEnd(4096, " "), // exactly the length bound (SPEC.md §11.2 step 0)
        ]
      : [],
  };
});

const backupCode = recoveryValid[4].code;
const backupWords = backupCode.split(" ");
const RECOVERY_MUST_FAIL = [
  { description: "23 words (the last one dropped)", code: backupWords.slice(0, 23).join(" ") },
  { description: "25 words (one repeated)", code: [...backupWords, backupWords[23]].join(" ") },
  { description: "a 12-word BIP-39 code (valid BIP-39, wrong length)", code: `${"abandon ".repeat(11)}about` },
  { description: "a word outside the English list (a typo)", code: [`${backupWords[0]}x`, ...backupWords.slice(1)].join(" ") },
  { description: "a word of the French list", code: ["abaisser", ...backupWords.slice(1)].join(" ") },
  {
    description: "checksum mismatch: the last word replaced by another list word",
    code: [...backupWords.slice(0, 23), backupWords[23] === "zoo" ? "zone" : "zoo"].join(" "),
  },
  { description: "two words swapped", code: [backupWords[1], backupWords[0], ...backupWords.slice(2)].join(" ") },
  { description: "a zero-width space inside a word", code: [`${backupWords[0].slice(0, 2)}\u200b${backupWords[0].slice(2)}`, ...backupWords.slice(1)].join(" ") },
  { description: "the empty string", code: "" },
  { description: "a valid code followed by spaces, 4,097 characters in all (over the length bound)", code: backupCode.padEnd(4097, " ") },
].map((vector) => ({ ...vector, expectedError: "INVALID_RECOVERY_CODE" }));

// --- Key backups (SPEC.md §12) -----------------------------------------------------------------

const backupKeyEntry = (roomId, keyId, keyVersion, keyHex, shareable, createdAt) => ({
  roomId,
  keyId,
  keyVersion,
  key: base64url(fromHex(keyHex)),
  shareable,
  createdAt,
});
const ROOM42_V1 = backupKeyEntry("room-42", "room-42-v1", 1, KEY_A, false, 1735689600000);
const ROOM42_V2 = backupKeyEntry("room-42", "room-42-v2", 2, SHARE_VALID[0].roomKey, false, 1736294400000);
const TEAM_V7 = backupKeyEntry("team:general", "team:general@7", 7, SHARE_VALID[1].roomKey, true, 1736899200000);
const payloadOf = (keys) => ({ v: 1, type: "key-backup-payload", keys });
const utf8Json = (value) => new Uint8Array(Buffer.from(JSON.stringify(value), "utf8"));

const backupPair = deriveX25519(fromHex(BACKUP_RECOVERY_ENTROPY));
const BACKUP_VALID = [
  {
    description: "one chunk holding two versions of room-42",
    chunks: [{ ephemeralSecretKey: "b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3", keys: [ROOM42_V1, ROOM42_V2] }],
    restoredKeys: [ROOM42_V1, ROOM42_V2],
  },
  {
    description: "two chunks (an append); the second repeats room-42 version 1 unchanged, which restores once",
    chunks: [
      { ephemeralSecretKey: "c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0", keys: [ROOM42_V1] },
      { ephemeralSecretKey: "d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0", keys: [ROOM42_V1, TEAM_V7] },
    ],
    restoredKeys: [ROOM42_V1, TEAM_V7],
  },
];

const keyBackupValid = BACKUP_VALID.map((vector) => {
  const payloads = vector.chunks.map(({ keys }) => payloadOf(keys));
  const sealed = vector.chunks.map(({ ephemeralSecretKey }, i) => sealChunk(backupPair.publicKey, ephemeralSecretKey, utf8Json(payloads[i])));
  return {
    description: vector.description,
    recoveryEntropy: BACKUP_RECOVERY_ENTROPY,
    recoveryCode: backupCode,
    publicKey: base64url(backupPair.publicKey),
    info: toHex(keyBackupInfo(backupPair.publicKey)),
    chunks: vector.chunks.map(({ ephemeralSecretKey }, i) => ({
      ephemeralSecretKey,
      sharedSecret: toHex(sealed[i].hpke.sharedSecret),
      hpkeKey: toHex(sealed[i].hpke.key),
      hpkeBaseNonce: toHex(sealed[i].hpke.baseNonce),
      payload: payloads[i],
      payloadText: JSON.stringify(payloads[i]),
    })),
    backup: backupObject(backupPair.publicKey, sealed.map(({ chunk }) => chunk)),
    restoredKeys: vector.restoredKeys,
  };
});

const backupBase = keyBackupValid[0].backup;
const otherRecovery = recoveryValid[0];
/** A backup of one authentic chunk (sealed to the backup's key) around arbitrary payload bytes. */
const backupAround = (payloadBytes, ephemeral = "9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01") =>
  backupObject(backupPair.publicKey, [sealChunk(backupPair.publicKey, ephemeral, payloadBytes).chunk]);
const BACKUP_MUST_FAIL = [
  { description: "unsupported version: v 2", backup: { ...backupBase, v: 2 }, expectedError: "UNSUPPORTED_VERSION" },
  { description: "type changed", backup: { ...backupBase, type: "key-backup-payload" }, expectedError: "INVALID_ENVELOPE" },
  { description: "kem changed to 0x0021", backup: { ...backupBase, kem: 0x0021 }, expectedError: "INVALID_ENVELOPE" },
  { description: "an extra member", backup: { ...backupBase, createdAt: 0 }, expectedError: "INVALID_ENVELOPE" },
  { description: "chunks is not an array", backup: { ...backupBase, chunks: backupBase.chunks[0] }, expectedError: "INVALID_ENVELOPE" },
  { description: "JSON text that is not JSON", backup: "{\"v\":1,", expectedError: "INVALID_ENVELOPE" },
  {
    description: "a malformed recovery code (checksum mismatch)",
    recoveryCode: RECOVERY_MUST_FAIL.find((vector) => vector.description.startsWith("checksum")).code,
    backup: backupBase,
    expectedError: "INVALID_RECOVERY_CODE",
  },
  { description: "wrong code: a well-formed code of another recovery key", recoveryCode: otherRecovery.code, backup: backupBase, expectedError: "WRONG_RECOVERY_CODE" },
  {
    description: "wrong code, with the backup's publicKey replaced by that code's public key: the chunk does not open",
    recoveryCode: otherRecovery.code,
    backup: { ...backupBase, publicKey: otherRecovery.publicKey },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "tampered chunk: one bit of the ciphertext flipped",
    backup: { ...backupBase, chunks: [{ ...backupBase.chunks[0], ciphertext: flipByte(backupBase.chunks[0].ciphertext, 30) }] },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "tampered chunk: one bit of enc flipped",
    backup: { ...backupBase, chunks: [{ ...backupBase.chunks[0], enc: flipByte(backupBase.chunks[0].enc, 31, 0x02) }] },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "tampered chunk: enc is the all-zero X25519 point",
    backup: { ...backupBase, chunks: [{ ...backupBase.chunks[0], enc: base64url(new Uint8Array(32)) }] },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "a chunk of another backup (sealed to another recovery key)",
    backup: {
      ...backupBase,
      chunks: [sealChunk(fromBase64url(otherRecovery.publicKey), "9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a02", utf8Json(payloadOf([ROOM42_V1]))).chunk],
    },
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "a chunk sealed with another info (version byte 2)",
    backup: {
      ...backupBase,
      chunks: [
        sealChunk(
          backupPair.publicKey,
          "9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a03",
          utf8Json(payloadOf([ROOM42_V1])),
          canonical(["text", KEY_BACKUP_INFO_LABEL], ["u8", 2], ["u16", HPKE_KEM], ["u16", HPKE_KDF], ["u16", HPKE_AEAD_AES256GCM], ["bytes", backupPair.publicKey]),
        ).chunk,
      ],
    },
    expectedError: "DECRYPTION_FAILED",
  },
  { description: "an authentic chunk whose payload is not JSON", backup: backupAround(ascii("not json")), expectedError: "DECRYPTION_FAILED" },
  {
    description: "an authentic chunk whose payload is not valid UTF-8",
    backup: backupAround(concat(ascii('{"v":1,"type":"key-backup-payload","keys":[],"x":"'), Uint8Array.of(0xc3, 0x28), ascii('"}'))),
    expectedError: "DECRYPTION_FAILED",
  },
  {
    description: "an authentic chunk whose payload has v 2",
    backup: backupAround(utf8Json({ v: 2, type: "key-backup-payload", keys: [] })),
    expectedError: "UNSUPPORTED_VERSION",
  },
  {
    description: "an authentic chunk whose payload has the wrong type",
    backup: backupAround(utf8Json({ v: 1, type: "key-backup", keys: [] })),
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "an authentic chunk whose payload holds a 31-byte key",
    backup: backupAround(utf8Json(payloadOf([{ ...ROOM42_V1, key: base64url(fromHex(KEY_A).subarray(0, 31)) }]))),
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "an authentic chunk whose payload entry has no shareable member",
    backup: backupAround(utf8Json(payloadOf([withoutMembers(ROOM42_V1, "shareable")]))),
    expectedError: "INVALID_ENVELOPE",
  },
  {
    description: "two chunks holding different keys for room-42, key id room-42-v1, version 1",
    backup: backupObject(backupPair.publicKey, [
      backupBase.chunks[0],
      sealChunk(backupPair.publicKey, "9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a04", utf8Json(payloadOf([{ ...ROOM42_V1, key: base64url(fromHex(KEY_B)) }])))
        .chunk,
    ]),
    expectedError: "KEY_CONFLICT",
  },
];

const keyBackupMustFail = BACKUP_MUST_FAIL.map((vector) => ({
  description: vector.description,
  recoveryCode: vector.recoveryCode ?? backupCode,
  backup: vector.backup,
  expectedError: vector.expectedError,
}));

// --- Protected recovery keys (SPEC.md §13) -----------------------------------------------------

const PROTECTED_VALID = [
  {
    description: "the backup vectors' recovery key under an ASCII passphrase, scrypt N = 1024, r = 1, p = 1",
    recoveryEntropy: BACKUP_RECOVERY_ENTROPY,
    passphrase: "correct horse battery staple",
    passphraseVariants: [],
    kdf: { n: 1024, r: 1, p: 1 },
    salt: "5a17000102030405060708090a0b0c0d",
    nonce: "4e0ce0000102030405060708",
  },
  {
    description: "a passphrase that NFKC changes (combining accent, ligature, circled digit, Roman numeral), scrypt N = 2048, r = 2, p = 2",
    recoveryEntropy: "ff".repeat(32),
    passphrase: "Cre\u0300me bru\u0302le\u0301e \ufb01 \u2460 \u216b",
    passphraseVariants: ["Crème brûlée fi 1 XII", "Cr\u00e8me br\u00fbl\u00e9e \ufb01 \u2460 \u216b"],
    kdf: { n: 2048, r: 2, p: 2 },
    salt: "5a17101112131415161718191a1b1c1d",
    nonce: "4e0ce0101112131415161718",
  },
];

const protectedValid = PROTECTED_VALID.map((vector) => {
  const entropy = fromHex(vector.recoveryEntropy);
  const publicKey = deriveX25519(entropy).publicKey;
  const built = protectEntropy(entropy, publicKey, vector.passphrase, vector.kdf, vector.salt, vector.nonce);
  return {
    description: vector.description,
    recoveryEntropy: vector.recoveryEntropy,
    publicKey: base64url(publicKey),
    passphrase: vector.passphrase,
    passphraseVariants: vector.passphraseVariants,
    passphraseBytes: toHex(passphraseBytes(vector.passphrase)),
    kdf: vector.kdf,
    salt: vector.salt,
    nonce: vector.nonce,
    derivedKey: toHex(built.key),
    associatedData: toHex(built.ad),
    protectedKey: built.protectedKey,
  };
});

const protectedBase = protectedValid[0].protectedKey;
const withKdf = (changes) => ({ ...protectedBase, kdf: { ...protectedBase.kdf, ...changes } });
const PROTECTED_MUST_FAIL = [
  { description: "wrong passphrase", passphrase: "correct horse battery stapler", expectedError: "WRONG_RECOVERY_CODE" },
  { description: "a passphrase differing only in case (NFKC does not fold case)", passphrase: "Correct horse battery staple", expectedError: "WRONG_RECOVERY_CODE" },
  { description: "ciphertext: one bit flipped", protectedKey: { ...protectedBase, ciphertext: flipByte(protectedBase.ciphertext, 0) }, expectedError: "WRONG_RECOVERY_CODE" },
  { description: "nonce: one bit flipped", protectedKey: { ...protectedBase, nonce: flipByte(protectedBase.nonce, 11) }, expectedError: "WRONG_RECOVERY_CODE" },
  { description: "salt: one bit flipped", protectedKey: withKdf({ salt: flipByte(protectedBase.kdf.salt, 0) }), expectedError: "WRONG_RECOVERY_CODE" },
  { description: "kdf.n changed to 2048", protectedKey: withKdf({ n: 2048 }), expectedError: "WRONG_RECOVERY_CODE" },
  { description: "kdf.r changed to 2", protectedKey: withKdf({ r: 2 }), expectedError: "WRONG_RECOVERY_CODE" },
  { description: "kdf.p changed to 2", protectedKey: withKdf({ p: 2 }), expectedError: "WRONG_RECOVERY_CODE" },
  {
    description: "publicKey replaced by another recovery key's: it is in the associated data",
    protectedKey: { ...protectedBase, publicKey: recoveryValid[0].publicKey },
    expectedError: "WRONG_RECOVERY_CODE",
  },
  {
    description: "authentic under its publicKey, but holding another recovery key's entropy",
    protectedKey: protectEntropy(fromHex("00".repeat(32)), backupPair.publicKey, "correct horse battery staple", { n: 1024, r: 1, p: 1 }, PROTECTED_VALID[0].salt, "4e0ce0ffffffffffffffff01")
      .protectedKey,
    expectedError: "WRONG_RECOVERY_CODE",
  },
  { description: "kdf.n not a power of two (1000)", protectedKey: withKdf({ n: 1000 }), expectedError: "INVALID_ENVELOPE" },
  { description: "kdf.n below 2^10 (512)", protectedKey: withKdf({ n: 512 }), expectedError: "INVALID_ENVELOPE" },
  { description: "kdf.n above 2^22 (2^23)", protectedKey: withKdf({ n: 2 ** 23 }), expectedError: "INVALID_ENVELOPE" },
  { description: "kdf.r 0", protectedKey: withKdf({ r: 0 }), expectedError: "INVALID_ENVELOPE" },
  { description: "kdf.p 17", protectedKey: withKdf({ p: 17 }), expectedError: "INVALID_ENVELOPE" },
  { description: 'kdf.name "argon2id"', protectedKey: withKdf({ name: "argon2id" }), expectedError: "INVALID_ENVELOPE" },
  { description: "salt of 15 bytes", protectedKey: withKdf({ salt: base64url(fromBase64url(protectedBase.kdf.salt).subarray(0, 15)) }), expectedError: "INVALID_ENVELOPE" },
  { description: "an extra member", protectedKey: { ...protectedBase, hint: "my usual" }, expectedError: "INVALID_ENVELOPE" },
  { description: "type changed", protectedKey: { ...protectedBase, type: "recovery-key" }, expectedError: "INVALID_ENVELOPE" },
  { description: "v 2", protectedKey: { ...protectedBase, v: 2 }, expectedError: "UNSUPPORTED_VERSION" },
];

const protectedMustFail = PROTECTED_MUST_FAIL.map((vector) => ({
  description: vector.description,
  passphrase: vector.passphrase ?? PROTECTED_VALID[0].passphrase,
  protectedKey: vector.protectedKey ?? protectedBase,
  expectedError: vector.expectedError,
}));

// ---------------------------------------------------------------------------------------------
// Check every lifecycle vector with this script's own receivers before writing.
// ---------------------------------------------------------------------------------------------

function checkLifecycleVectors() {
  const fail = (what, result, expected) => {
    throw new Error(`${what}: got ${result.error ?? "success"}, expected ${expected}`);
  };
  const expectError = (what, result, expected) => {
    if (result.error !== expected) fail(what, result, expected);
  };
  const textForms = (input) => (typeof input === "string" ? [input] : [input, JSON.stringify(input)]);

  for (const vector of deviceBundleValid) {
    const verified = verifyBundle(vector.bundle);
    if (verified.error !== undefined) fail(`device bundle "${vector.name}"`, verified, "success");
  }
  for (const vector of DEVICE_BUNDLE_MUST_FAIL) for (const input of textForms(vector.bundle)) expectError(`device bundle "${vector.description}"`, verifyBundle(input), vector.expectedError);

  for (const vector of envelopeV2Valid) {
    for (const input of textForms(vector.envelope)) {
      const result = openEnvelopeV1V2(input, fromHex(vector.key), { ...vector.context, requireSignature: true }, vector.senderBundles);
      if (result.error !== undefined || JSON.stringify(result.value) !== vector.plaintext || result.sender.deviceId !== devices[vector.sender].deviceId) {
        fail(`envelope v2 "${vector.description}"`, result, "success");
      }
    }
  }
  for (const vector of envelopeV2MustFail) {
    for (const input of textForms(vector.envelope)) {
      expectError(`envelope v2 "${vector.description}"`, openEnvelopeV1V2(input, fromHex(vector.key), vector.context, vector.senderBundles), vector.expectedError);
    }
  }

  for (const vector of keyShareValid) {
    const result = openShare(vector.share, devices[vector.recipient], vector.senderBundle);
    if (result.error !== undefined || result.key !== vector.roomKey || result.shareable !== vector.shareable) fail(`key share "${vector.description}"`, result, "success");
  }
  for (const vector of keyShareMustFail) {
    for (const input of textForms(vector.share)) {
      expectError(`key share "${vector.description}"`, openShare(input, devices[vector.recipient], vector.senderBundle), vector.expectedError);
    }
  }

  for (const vector of recoveryValid) {
    if (scureEntropyToMnemonic(fromHex(vector.entropy), BIP39_ENGLISH) !== vector.code) throw new Error(`BIP-39 words of "${vector.description}" disagree with @scure/bip39`);
    for (const code of [vector.code, ...vector.codeVariants]) {
      const result = recoveryEntropyFromCode(code);
      if (result.error !== undefined || toHex(result.entropy) !== vector.entropy) fail(`recovery code "${vector.description}"`, result, "success");
    }
  }
  for (const vector of RECOVERY_MUST_FAIL) expectError(`recovery code "${vector.description}"`, recoveryEntropyFromCode(vector.code), vector.expectedError);

  for (const vector of keyBackupValid) {
    for (const input of textForms(vector.backup)) {
      const result = restoreBackup(input, vector.recoveryCode);
      if (result.error !== undefined || JSON.stringify(result.keys) !== JSON.stringify(vector.restoredKeys)) fail(`key backup "${vector.description}"`, result, "success");
    }
  }
  for (const vector of keyBackupMustFail) {
    for (const input of textForms(vector.backup)) expectError(`key backup "${vector.description}"`, restoreBackup(input, vector.recoveryCode), vector.expectedError);
  }

  for (const vector of protectedValid) {
    for (const passphrase of [vector.passphrase, ...vector.passphraseVariants]) {
      const result = unlockProtected(vector.protectedKey, passphrase);
      if (result.error !== undefined || toHex(result.entropy) !== vector.recoveryEntropy) fail(`protected recovery key "${vector.description}"`, result, "success");
    }
  }
  for (const vector of protectedMustFail) {
    expectError(`protected recovery key "${vector.description}"`, unlockProtected(vector.protectedKey, vector.passphrase), vector.expectedError);
  }
}

lifecycleSelfCheck();
checkLifecycleVectors();

const lifecycleFile = {
  version: 1,
  description:
    "Key lifecycle test vectors for @domvia/realtime-e2ee (SPEC.md §18.2): signed envelope v2, device bundle v1, room " +
    "key share v1, recovery keys, key backup v1 and protected recovery key v1. Each section has 'valid' vectors (fixed " +
    "secrets, nonces and HPKE ephemeral secrets give exactly the object shown, and it opens or verifies) and 'mustFail' " +
    "vectors (opening or verifying fails with 'expectedError'). Devices are named by 'deviceBundle.valid[].name'. Hex is lowercase.",
  source:
    "Generated by scripts/generate-vectors.mjs, an implementation of SPEC.md independent of the SDK's packages, built on " +
    "@noble/curves (Ed25519, X25519), @noble/hashes (HKDF-SHA256, HMAC-SHA-256, scrypt), @noble/ciphers (AES-GCM, AES-CMAC) " +
    "and the @scure/bip39 English word list. Ed25519, X25519, HPKE, scrypt and BIP-39 are checked against RFC 8032, " +
    "RFC 7748, RFC 9180 Appendix A.1.1, RFC 7914 and the BIP-39 reference vectors before anything is written. " +
    "Regenerate with `pnpm vectors`.",
  deviceBundle: {
    valid: deviceBundleValid,
    mustFail: DEVICE_BUNDLE_MUST_FAIL,
  },
  envelopeV2: {
    valid: envelopeV2Valid,
    mustFail: envelopeV2MustFail,
  },
  keyShare: {
    valid: keyShareValid,
    mustFail: keyShareMustFail,
  },
  recoveryKey: {
    valid: recoveryValid,
    mustFail: RECOVERY_MUST_FAIL,
  },
  keyBackup: {
    valid: keyBackupValid,
    mustFail: keyBackupMustFail,
  },
  protectedRecoveryKey: {
    valid: protectedValid,
    mustFail: protectedMustFail,
  },
};

// envelope-v1.json is kept byte for byte as first published, so its description still cites the
// test-vector section by its number at the time (§10); it is §18.1 since §7–§14 were added.
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
// =============================================================================================
// Output
// =============================================================================================

const outputs = [
  { path: OUTPUT_PATH, name: "test-vectors/envelope-v1.json", file, counts: `${valid.length} valid, ${mustFail.length} must-fail vectors` },
  {
    path: LIFECYCLE_OUTPUT_PATH,
    name: "test-vectors/key-lifecycle-v1.json",
    file: lifecycleFile,
    counts: ["deviceBundle", "envelopeV2", "keyShare", "recoveryKey", "keyBackup", "protectedRecoveryKey"]
      .map((section) => `${section} ${lifecycleFile[section].valid.length}/${lifecycleFile[section].mustFail.length}`)
      .join(", "),
  },
];

if (process.argv.includes("--check")) {
  let stale = false;
  for (const output of outputs) {
    const text = `${JSON.stringify(output.file, null, 2)}\n`;
    let current;
    try {
      current = readFileSync(output.path, "utf8");
    } catch {
      current = undefined;
    }
    if (current !== text) {
      console.error(`${output.name} is out of date: run \`pnpm vectors\` and commit the result.`);
      stale = true;
    } else {
      console.log(`${output.name} is up to date (${output.counts}).`);
    }
  }
  if (stale) process.exit(1);
} else {
  mkdirSync(fileURLToPath(new URL("../test-vectors/", import.meta.url)), { recursive: true });
  for (const output of outputs) {
    writeFileSync(output.path, `${JSON.stringify(output.file, null, 2)}\n`);
    console.log(`wrote ${output.name} (${output.counts}).`);
  }
}
