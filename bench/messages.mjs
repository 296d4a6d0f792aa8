// Chat messages: encrypt, decrypt and round trip of chat JSON at 64 B, 200 B, 1 KiB, 16 KiB and
// 64 KiB through the public API (native and pure-JS paths) and five references, all on the same
// chat object and the same 32 key bytes, measured with tinybench in one process.
//
// Two of the references are floors for the pure-JS path: noble's AES-256-GCM, and the
// XAES-256-GCM the SDK composes from noble (AES-256 for the per-message key, then AES-256-GCM),
// alone on the JSON bytes, with none of the SDK's work (no JSON, padding, base64url, associated
// data, key commitment or envelope), their nonces drawn from a pool as the SDK draws its own. The
// pure-JS path does all of the second's work and more, so it is not expected to beat it.
//
// Method: each size runs in several rounds; a round measures every task once (tinybench: warm-up,
// then at least `iterations` calls and `time` ms, the median call time kept). A task's reported
// time is the median over rounds of its per-round median, and its ratio is the median over rounds
// of (task ÷ raw node:crypto in that round). Tasks run grouped by operation, in IMPLEMENTATIONS
// order (reversed every other round), which puts our two paths and the noble floors near the raw
// reference, so machine drift cancels in those ratios more than in the absolute times.
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomBytes, webcrypto } from "node:crypto";
import { ecb, gcm } from "@noble/ciphers/aes.js";
import { FlattenedEncrypt, flattenedDecrypt } from "jose";
import { Bench } from "tinybench";
import { KiB, median, pairedRatios, sizeLabel } from "./common.mjs";

export const MESSAGE_SIZES = [64, 200, 1 * KiB, 16 * KiB, 64 * KiB];
export const OPERATIONS = ["encrypt", "decrypt", "round trip"];

/**
 * The implementations compared, in table and run order. `reference` is the denominator of every
 * ratio; the tasks whose ratios matter most (our paths and their floors) sit next to it.
 */
export const IMPLEMENTATIONS = [
  { id: "raw", label: "raw node:crypto AES-256-GCM (bytes in, bytes out)", reference: true, sync: true },
  { id: "ours-native", label: "@domvia/realtime-e2ee, Node (native auto)" },
  { id: "ours-pure-js", label: "@domvia/realtime-e2ee, pure JS (native off)" },
  { id: "noble-xaes", label: "noble XAES-256-GCM alone, as the SDK composes it (bytes in, bytes out)", sync: true },
  { id: "noble-gcm", label: "noble AES-256-GCM alone (bytes in, bytes out)", sync: true },
  { id: "raw-json", label: "raw node:crypto AES-256-GCM + JSON.stringify/parse", sync: true },
  { id: "webcrypto", label: "WebCrypto AES-GCM envelope (JSON + base64url)" },
  { id: "jose", label: "jose flattened JWE dir/A256GCM" },
];

const syncIds = new Set(IMPLEMENTATIONS.filter((implementation) => implementation.sync).map(({ id }) => id));
const ROOM = { roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A chat object whose `JSON.stringify` is exactly `bytes` long (ASCII, so bytes = characters):
 * the same fields at every size, the body filled with words.
 */
export function chatMessageOfSize(bytes) {
  const base = { body: "", sender_id: "user-1", sent_at: 1764151200000 };
  const room = bytes - JSON.stringify(base).length;
  if (room < 1) throw new RangeError(`a chat message cannot be ${bytes} bytes`);
  const words = "the quick brown fox jumps over the lazy dog and meets a friend for coffee ";
  const body = words.repeat(Math.ceil(room / words.length)).slice(0, room);
  const chat = { ...base, body };
  if (JSON.stringify(chat).length !== bytes) throw new Error("chat size mismatch");
  return chat;
}

/**
 * Builds, for one message size, the three operations of each implementation: `encrypt()` returns
 * a sealed value, `decrypt(sealed)` the opened value, both on inputs prepared outside the clock.
 */
async function implementations({ api, native, keyBytes, chat }) {
  const chatBytes = Buffer.from(JSON.stringify(chat));

  // Raw: AES-256-GCM on the JSON bytes with a fresh 12-byte IV per message from randomBytes(12),
  // as an app writes it by hand, no framing.
  const raw = {
    encrypt() {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keyBytes, iv);
      const ciphertext = Buffer.concat([cipher.update(chatBytes), cipher.final()]);
      return { iv, ciphertext, tag: cipher.getAuthTag() };
    },
    decrypt(sealed) {
      const decipher = createDecipheriv("aes-256-gcm", keyBytes, sealed.iv);
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
    },
  };
  const rawJson = {
    encrypt() {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keyBytes, iv);
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify(chat), "utf8"), cipher.final()]);
      return { iv, ciphertext, tag: cipher.getAuthTag() };
    },
    decrypt(sealed) {
      const decipher = createDecipheriv("aes-256-gcm", keyBytes, sealed.iv);
      decipher.setAuthTag(sealed.tag);
      return JSON.parse(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8"));
    },
  };

  // noble alone, on the JSON bytes prepared once as a plain Uint8Array (what the SDK hands noble):
  // AES-256-GCM with a fresh 12-byte IV, and XAES-256-GCM with a fresh 24-byte nonce, its
  // per-message key derived as the SDK's pure-JS path does (xaes-256-gcm.ts): one AES-256-ECB call
  // under K on the two CMAC blocks, K1 computed once.
  const nobleKey = Uint8Array.from(keyBytes);
  const nobleInput = new Uint8Array(chatBytes);
  const iv12 = noncePool(12);
  const nonce24 = noncePool(24);
  const nobleGcm = {
    encrypt() {
      const iv = iv12();
      return { iv, sealed: gcm(nobleKey, iv).encrypt(nobleInput) };
    },
    decrypt: (sealed) => gcm(nobleKey, sealed.iv).decrypt(sealed.sealed),
  };
  const xaes = nobleXaes(nobleKey);
  const nobleXaesTask = {
    encrypt() {
      const iv = nonce24();
      return { iv, sealed: xaes.seal(iv, nobleInput) };
    },
    decrypt: (sealed) => xaes.open(sealed.iv, sealed.sealed),
  };

  // Ours: the public API exactly as the README shows it, the envelope kept as an object.
  const roomKey = await api.importAesGcmKeyFromBase64(Buffer.from(keyBytes).toString("base64"));
  const openContext = { roomId: ROOM.roomId, messageId: ROOM.messageId };
  const ours = (path) => ({
    path,
    encrypt: () => api.encryptChatJson(chat, roomKey, ROOM),
    decrypt: (envelope) => api.decryptChatJson(envelope, roomKey, openContext),
  });

  // WebCrypto: what an app would write by hand, shaped like our envelope v1 (ids in the clear,
  // bound as associated data; nonce and ciphertext in base64url). The key is imported once.
  const subtle = webcrypto.subtle;
  const cryptoKey = await subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  const additionalData = encoder.encode(JSON.stringify([ROOM.roomId, ROOM.messageId, ROOM.keyId, ROOM.keyVersion]));
  const webCryptoEnvelope = {
    async encrypt() {
      const iv = webcrypto.getRandomValues(new Uint8Array(12));
      const sealed = await subtle.encrypt({ name: "AES-GCM", iv, additionalData }, cryptoKey, encoder.encode(JSON.stringify(chat)));
      // A literal, not `{ v: 1, ...ROOM, ... }`: V8 11 keeps spread-built objects alive longer (memory.mjs).
      const { roomId, messageId, keyId, keyVersion } = ROOM;
      return { v: 1, roomId, messageId, keyId, keyVersion, nonce: Buffer.from(iv).toString("base64url"), ciphertext: Buffer.from(sealed).toString("base64url") };
    },
    async decrypt(envelope) {
      if (envelope.roomId !== openContext.roomId || envelope.messageId !== openContext.messageId) throw new Error("context mismatch");
      const aad = encoder.encode(JSON.stringify([envelope.roomId, envelope.messageId, envelope.keyId, envelope.keyVersion]));
      const iv = Buffer.from(envelope.nonce, "base64url");
      const opened = await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, cryptoKey, Buffer.from(envelope.ciphertext, "base64url"));
      return JSON.parse(decoder.decode(opened));
    },
  };

  // jose: a flattened JWE with direct encryption under the same key, ids as its AAD.
  const joseKey = await subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  const jose = {
    encrypt: () =>
      new FlattenedEncrypt(encoder.encode(JSON.stringify(chat)))
        .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
        .setAdditionalAuthenticatedData(additionalData)
        .encrypt(joseKey),
    decrypt: async (jwe) => JSON.parse(decoder.decode((await flattenedDecrypt(jwe, joseKey)).plaintext)),
  };

  const byId = {
    raw,
    "raw-json": rawJson,
    "noble-gcm": nobleGcm,
    "noble-xaes": nobleXaesTask,
    "ours-native": ours("native"),
    "ours-pure-js": ours("pure-js"),
    webcrypto: webCryptoEnvelope,
    jose,
  };

  // Every implementation must open what it sealed to the same chat before anything is timed.
  for (const [id, implementation] of Object.entries(byId)) {
    if (implementation.path !== undefined) native.use(implementation.path);
    const opened = await implementation.decrypt(await implementation.encrypt());
    const text = opened instanceof Uint8Array ? Buffer.from(opened).toString("utf8") : JSON.stringify(opened);
    if (text !== JSON.stringify(chat)) throw new Error(`${id} does not round-trip the chat message`);
  }
  native.use("native");
  return byId;
}

/**
 * Fresh nonces of `length` bytes the way the SDK draws them (packages/crypto/src/bytes.ts): one
 * `getRandomValues` call fills 64 at a time, each handed out once as its own copy.
 */
function noncePool(length) {
  let pool = new Uint8Array(0);
  let offset = 0;
  return () => {
    if (offset + length > pool.length) {
      pool = webcrypto.getRandomValues(new Uint8Array(64 * length));
      offset = 0;
    }
    const nonce = pool.slice(offset, offset + length);
    pool.fill(0, offset, offset + length);
    offset += length;
    return nonce;
  };
}

/**
 * XAES-256-GCM (c2sp.org/XAES-256-GCM) from noble's AES, mirroring the SDK's pure-JS path
 * (packages/crypto/src/xaes-256-gcm.ts; the bench imports only the public API, so it rebuilds the
 * composition here): K1 once per key, then per message one AES-256-ECB call for Kx and
 * AES-256-GCM under Kx. Checked against both of the specification's fixed test vectors, sealing
 * and opening, before use.
 */
function nobleXaes(key) {
  const noPadding = { disablePadding: true };
  const l = ecb(key, noPadding).encrypt(new Uint8Array(16));
  const k1 = new Uint8Array(16);
  for (let i = 0; i < 16; i++) k1[i] = ((l[i] << 1) | (i < 15 ? l[i + 1] >>> 7 : 0)) & 0xff;
  if (l[0] & 0x80) k1[15] ^= 0x87;
  const messageKey = (nonce) => {
    const blocks = new Uint8Array(32);
    blocks.set([0, 1, 0x58, 0], 0);
    blocks.set([0, 2, 0x58, 0], 16);
    blocks.set(nonce.subarray(0, 12), 4);
    blocks.set(nonce.subarray(0, 12), 20);
    for (let i = 0; i < 32; i++) blocks[i] ^= k1[i & 15];
    return ecb(key, noPadding).encrypt(blocks);
  };
  return {
    seal: (nonce, plaintext, additionalData) => gcm(messageKey(nonce), nonce.subarray(12), additionalData).encrypt(plaintext),
    open: (nonce, sealed, additionalData) => gcm(messageKey(nonce), nonce.subarray(12), additionalData).decrypt(sealed),
  };
}
for (const { key, additionalData, sealed } of [
  { key: 0x01, additionalData: undefined, sealed: "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271" },
  { key: 0x03, additionalData: "c2sp.org/XAES-256-GCM", sealed: "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d" },
]) {
  const nonce = encoder.encode("ABCDEFGHIJKLMNOPQRSTUVWX");
  const ad = additionalData === undefined ? undefined : encoder.encode(additionalData);
  const xaes = nobleXaes(new Uint8Array(32).fill(key));
  const resealed = Buffer.from(xaes.seal(nonce, encoder.encode("XAES-256-GCM"), ad)).toString("hex");
  let opened;
  try {
    opened = decoder.decode(xaes.open(nonce, Buffer.from(sealed, "hex"), ad));
  } catch {
    opened = undefined;
  }
  if (resealed !== sealed || opened !== "XAES-256-GCM") throw new Error("the bench's noble XAES-256-GCM does not match the C2SP test vectors");
}

/** The timed call of one task; every result feeds `sink` so no call can be optimised away. */
function taskFunction(implementation, operation, sealed, isAsync) {
  if (isAsync) {
    if (operation === "encrypt") return async () => void (sink ^= (await implementation.encrypt()) === undefined ? 1 : 0);
    if (operation === "decrypt") return async () => void (sink ^= (await implementation.decrypt(sealed)) === undefined ? 1 : 0);
    return async () => void (sink ^= (await implementation.decrypt(await implementation.encrypt())) === undefined ? 1 : 0);
  }
  if (operation === "encrypt") return () => void (sink ^= implementation.encrypt().iv[0]);
  if (operation === "decrypt") return () => void (sink ^= implementation.decrypt(sealed) === undefined ? 1 : 0);
  return () => void (sink ^= implementation.decrypt(implementation.encrypt()) === undefined ? 1 : 0);
}
let sink = 0;

/** (task `a` ÷ task `b`) in each round, for one size's `tasks` and one operation. */
export function roundRatios(tasks, a, b, operation) {
  return pairedRatios(tasks[a][operation].perRoundMs, tasks[b][operation].perRoundMs);
}

/**
 * `a`'s time relative to `b`'s for one size and operation, from the same rounds (below 1: `a` is
 * faster). `size` is an entry of `measureMessages(...).sizes`.
 */
export function compareTasks(size, a, b, operation) {
  return median(roundRatios(size.tasks, a, b, operation));
}

/**
 * Measures every implementation and operation at every size.
 * @returns `{ sizes: [{ bytes, label, tasks: { [implementationId]: { [operation]: { ms, ratio } } } }], rounds, ... }`
 */
export async function measureMessages({ api, native, short, log }) {
  const settings = short
    ? { rounds: 1, time: 15, iterations: 4, warmupTime: 5, warmupIterations: 4 }
    : { rounds: 7, time: 200, iterations: 32, warmupTime: 60, warmupIterations: 16 };
  const keyBytes = randomBytes(32);
  const sizes = [];

  for (const bytes of MESSAGE_SIZES) {
    const chat = chatMessageOfSize(bytes);
    const impls = await implementations({ api, native, keyBytes, chat });
    const sealedInputs = {};
    for (const [id, implementation] of Object.entries(impls)) {
      if (implementation.path !== undefined) native.use(implementation.path);
      sealedInputs[id] = await implementation.encrypt();
    }
    native.use("native");

    const perRound = []; // [{ "id|operation": ms }]
    for (let round = 0; round < settings.rounds; round++) {
      const bench = new Bench({
        name: `chat ${sizeLabel(bytes)}, round ${round + 1}`,
        time: settings.time,
        iterations: settings.iterations,
        warmupTime: settings.warmupTime,
        warmupIterations: settings.warmupIterations,
        timestampProvider: "hrtimeNow",
        throws: true,
      });
      // Grouped by operation in IMPLEMENTATIONS order (see the top of this file), reversed every
      // other round so no task always runs first or last.
      const order = round % 2 === 0 ? IMPLEMENTATIONS : [...IMPLEMENTATIONS].reverse();
      for (const operation of OPERATIONS) {
        for (const { id } of order) {
          const implementation = impls[id];
          const sealed = sealedInputs[id];
          const isAsync = !syncIds.has(id);
          const options = {
            async: isAsync,
            // The façade's path is process-wide: set it before each task's warm-up and run.
            beforeAll: () => native.use(implementation.path ?? "native"),
          };
          bench.add(`${id}|${operation}`, taskFunction(implementation, operation, sealed, isAsync), options);
        }
      }
      await bench.run();
      native.use("native");
      const medians = {};
      for (const task of bench.tasks) medians[task.name] = task.result.latency.p50;
      perRound.push(medians);
    }

    const tasks = {};
    for (const { id } of IMPLEMENTATIONS) {
      tasks[id] = {};
      for (const operation of OPERATIONS) {
        const perRoundMs = perRound.map((medians) => medians[`${id}|${operation}`]);
        tasks[id][operation] = { ms: median(perRoundMs), perRoundMs };
      }
    }
    for (const { id } of IMPLEMENTATIONS) {
      for (const operation of OPERATIONS) tasks[id][operation].ratio = median(roundRatios(tasks, id, "raw", operation));
    }
    sizes.push({ bytes, label: sizeLabel(bytes), tasks });
    log?.(`  messages ${sizeLabel(bytes)}: done`);
  }
  if (sink === 0.5) log?.("unreachable"); // keeps `sink` observable
  return { ...settings, sizes };
}
