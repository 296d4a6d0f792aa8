// Peak memory: encrypt and decrypt 100 MiB of chat as 102,400 messages of 1 KiB, one at a time,
// each released before the next, in a fresh Node process per path. The baseline is the resident
// set after imports, a warm-up and two full collections; the result is the largest growth over
// it, sampled every 64 messages. Garbage collection runs as it would in an app (no forced GC
// during the loop), so the figure is what a long chat session costs, not a leak test.
//
// The harness builds each message's context as an object literal. On V8 11 (Node 20) an object
// made by spreading another and adding a member (`{ ...context, messageId }`) outlives
// young-generation collections: a loop doing only that promotes about 300 KB per scavenge
// (`--trace-gc-nvp`). Written that way, the harness itself made V8 grow its young generation
// and added 17 to 40 MiB to each path, the no-SDK reference included.
//
// `measureMemory` spawns the children; run directly (`node --expose-gc bench/memory.mjs <path>
// <bytes>`), this file is the child and prints one JSON line.
import { spawn } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";
import { fileURLToPath, pathToFileURL } from "node:url";
import { KiB, MiB } from "./common.mjs";

export const MEMORY_PATHS = ["raw", "raw-envelope", "native", "pure-js"];
const SAMPLE_EVERY = 64;
/** The room every message is sealed for; each message adds its own id. */
const ROOM = Object.freeze({ roomId: "room-42", keyId: "room-42-v1", keyVersion: 1 });

function runChild(path, totalBytes) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), path, String(totalBytes)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`memory child (${path}) exited with ${code}`));
      resolve(JSON.parse(output.trim().split("\n").at(-1)));
    });
  });
}

/** One fresh process per path, one after another (never in parallel: they would share the CPUs). */
export async function measureMemory({ short, log }) {
  const totalBytes = short ? 4 * MiB : 100 * MiB;
  const results = [];
  for (const path of MEMORY_PATHS) {
    const result = await runChild(path, totalBytes);
    results.push(result);
    log?.(`  memory, ${path}: peak RSS growth ${(result.peakGrowthBytes / MiB).toFixed(1)} MiB over ${result.messages} messages`);
  }
  return { totalBytes, messageBytes: KiB, results };
}

async function child(path, totalBytes) {
  const { gc } = globalThis;
  if (typeof gc !== "function") throw new Error("run with --expose-gc");
  const messages = Math.floor(totalBytes / KiB);
  const { chatMessageOfSize } = await import("./messages.mjs");
  const chat = chatMessageOfSize(KiB);
  const keyBytes = randomBytes(32);
  let roundTrip;
  let implementation = { aesGcm: "node:crypto" };
  if (path === "raw") {
    const bytes = Buffer.from(JSON.stringify(chat));
    roundTrip = async () => {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keyBytes, iv);
      const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
      const decipher = createDecipheriv("aes-256-gcm", keyBytes, iv);
      decipher.setAuthTag(cipher.getAuthTag());
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).length;
    };
  } else if (path === "raw-envelope") {
    // The same AES-GCM, wrapped as any JS envelope must be: JSON in and out, base64url text, an
    // envelope and a context object per message. It shows what the JS heap does with that much
    // short-lived text, apart from the SDK.
    let counter = 0;
    roundTrip = async () => {
      const sealContext = { roomId: ROOM.roomId, messageId: `msg-${counter++}`, keyId: ROOM.keyId, keyVersion: ROOM.keyVersion };
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keyBytes, iv);
      const ciphertext = Buffer.concat([cipher.update(JSON.stringify(chat), "utf8"), cipher.final(), cipher.getAuthTag()]);
      const { roomId, messageId, keyId, keyVersion } = sealContext;
      const envelope = { v: 1, roomId, messageId, keyId, keyVersion, nonce: iv.toString("base64url"), ciphertext: ciphertext.toString("base64url") };
      const opened = Buffer.from(envelope.ciphertext, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", keyBytes, Buffer.from(envelope.nonce, "base64url"));
      decipher.setAuthTag(opened.subarray(opened.length - 16));
      const plaintext = Buffer.concat([decipher.update(opened.subarray(0, opened.length - 16)), decipher.final()]);
      return JSON.parse(plaintext.toString("utf8")).body.length;
    };
  } else {
    const api = await import("@domvia/realtime-e2ee");
    const { loadNativeSwitch } = await import("./common.mjs");
    const native = await loadNativeSwitch(api);
    implementation = native.describe(path);
    native.use(path);
    const key = await api.importAesGcmKeyFromBase64(keyBytes.toString("base64"));
    let counter = 0;
    roundTrip = async () => {
      const messageId = `msg-${counter++}`;
      const envelope = await api.encryptChatJson(chat, key, { roomId: ROOM.roomId, messageId, keyId: ROOM.keyId, keyVersion: ROOM.keyVersion });
      return (await api.decryptChatJson(envelope, key, { roomId: ROOM.roomId, messageId })).body.length;
    };
  }

  for (let index = 0; index < 1000; index++) await roundTrip();
  gc();
  gc();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakHeapUsed = baseline.heapUsed;
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let index = 0; index < messages; index++) {
    checksum += await roundTrip();
    if (index % SAMPLE_EVERY === 0) {
      const usage = process.memoryUsage();
      if (usage.rss > peakRss) peakRss = usage.rss;
      if (usage.heapUsed > peakHeapUsed) peakHeapUsed = usage.heapUsed;
    }
  }
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  const endRss = process.memoryUsage().rss;
  if (endRss > peakRss) peakRss = endRss;
  if (checksum === 0) throw new Error("nothing was decrypted");
  console.log(
    JSON.stringify({
      path,
      implementation,
      messages,
      messageBytes: KiB,
      baselineRssBytes: baseline.rss,
      peakRssBytes: peakRss,
      peakGrowthBytes: peakRss - baseline.rss,
      peakHeapGrowthBytes: peakHeapUsed - baseline.heapUsed,
      elapsedMs,
    }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [path, totalBytes] = process.argv.slice(2);
  if (!MEMORY_PATHS.includes(path)) throw new Error(`path expected one of ${MEMORY_PATHS.join(", ")}, got ${path}`);
  await child(path, Number(totalBytes));
}
