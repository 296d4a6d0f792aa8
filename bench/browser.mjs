// A real browser: Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH), headless, driven by
// playwright-core, on a localhost page that loads an esbuild browser bundle of the built façade
// and one of the references (noble's AES-256-GCM, jose). In that page it times:
//
// - chat messages of 200 B, 1 KiB and 64 KiB, round trip, through the façade (noble below 1 KiB,
//   WebCrypto's AES-GCM from there: what a browser runs), beside a WebCrypto AES-GCM envelope and a jose
//   flattened JWE written as an app would write them, and noble's AES-256-GCM alone on the JSON
//   bytes; in rounds, the tasks in alternating order, a time the median over rounds of the task's
//   mean call, a ratio the median over rounds of (task ÷ reference in that round);
// - sharing one key version with 10 to 1,000 devices through `shareRoomKeyAsync` (X25519 and
//   Ed25519 on WebCrypto, after the SDK's self-test) and through `shareRoomKey` (noble's pure JS,
//   what a browser runs without WebCrypto's curves), in the same rounds, cold (bundles verified on
//   first sight) and warm (a later rotation). The bundles are made in Node beforehand and handed to
//   the page as JSON, as a server would.
//
// Part of `pnpm bench` (bench/run.mjs). Without Chromium it reports why it skipped. Run alone,
// after a build, it prints its tables and writes nothing:
//   pnpm build && node bench/browser.mjs [--short]
// Timing stays out of tests.
import { pathToFileURL } from "node:url";
import { CHROMIUM, MODULE_PAGE, hasChromium, openStaticPage } from "../test/browser/static-page.mjs";
import { KiB, formatMs, formatRatio, isShortRun, markdownTable, median, pairedRatios, sizeLabel } from "./common.mjs";
import { chatMessageOfSize } from "./messages.mjs";
import { createBundles } from "./share-keys.mjs";
import { bundle } from "./size.mjs";

export const BROWSER_SETTINGS = Object.freeze({
  full: {
    messages: { sizes: [200, 1 * KiB, 64 * KiB], rounds: 7, minMs: 200, minCalls: 32 },
    share: [
      { devices: 10, runs: 20 },
      { devices: 100, runs: 10 },
      { devices: 1000, runs: 5 },
    ],
  },
  short: {
    messages: { sizes: [200, 1 * KiB, 64 * KiB], rounds: 1, minMs: 10, minCalls: 2 },
    share: [
      { devices: 10, runs: 2 },
      { devices: 50, runs: 1 },
    ],
  },
});

/** The page's message tasks, in table order; `noble` is the reference of the ratios' last column. */
export const BROWSER_MESSAGE_TASKS = [
  { id: "ours", label: "@domvia/realtime-e2ee (noble below 1 KiB, WebCrypto AES-GCM from 1 KiB)" },
  { id: "webcrypto", label: "WebCrypto AES-GCM envelope (JSON + base64url), written by hand" },
  { id: "jose", label: "jose flattened JWE dir/A256GCM" },
  { id: "noble", label: "noble AES-256-GCM on the JSON bytes, no associated data (then JSON.parse)" },
];

/** What the page imports beside the façade: the references, bundled for the browser. */
const REFERENCES_ENTRY = `export { gcm } from "@noble/ciphers/aes.js";\nexport { FlattenedEncrypt, flattenedDecrypt } from "jose";\n`;

// Runs in the page. `sdk` is the bundled façade; every time is taken in the page.
const PAGE_SCRIPT = `
import * as sdk from "/sdk.mjs";
import * as refs from "/refs.mjs";
const time = async (run) => { const start = performance.now(); await run(); return performance.now() - start; };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// The hand-written envelope's base64url: the browser's own where it has it, else btoa and atob.
const hasNativeBase64 = typeof Uint8Array.fromBase64 === "function" && typeof Uint8Array.prototype.toBase64 === "function";
const base64url = (bytes) => {
  if (hasNativeBase64) return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/[+]/g, "-").replace(/[/]/g, "_").replace(/=+$/, "");
};
const fromBase64url = (text) => {
  if (hasNativeBase64) return Uint8Array.fromBase64(text, { alphabet: "base64url" });
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};
const ROOM = { roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 };
const OPEN = { roomId: ROOM.roomId, messageId: ROOM.messageId };
// Round trips (encrypt, then decrypt what it gave) of one chat object, on one 256-bit key.
async function messageTasks(chat, keyBytes) {
  const roomKey = await sdk.importAesGcmKeyFromBase64(btoa(String.fromCharCode(...keyBytes)));
  const cryptoKey = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  const additionalData = encoder.encode(JSON.stringify([ROOM.roomId, ROOM.messageId, ROOM.keyId, ROOM.keyVersion]));
  const chatBytes = encoder.encode(JSON.stringify(chat));
  return {
    ours: async () => sdk.decryptChatJson(await sdk.encryptChatJson(chat, roomKey, ROOM), roomKey, OPEN),
    async webcrypto() {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, cryptoKey, encoder.encode(JSON.stringify(chat))));
      const envelope = { v: 1, ...ROOM, nonce: base64url(iv), ciphertext: base64url(sealed) };
      if (envelope.roomId !== OPEN.roomId || envelope.messageId !== OPEN.messageId) throw new Error("context mismatch");
      const aad = encoder.encode(JSON.stringify([envelope.roomId, envelope.messageId, envelope.keyId, envelope.keyVersion]));
      const opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64url(envelope.nonce), additionalData: aad }, cryptoKey, fromBase64url(envelope.ciphertext));
      return JSON.parse(decoder.decode(opened));
    },
    async jose() {
      const jwe = await new refs.FlattenedEncrypt(encoder.encode(JSON.stringify(chat))).setProtectedHeader({ alg: "dir", enc: "A256GCM" }).setAdditionalAuthenticatedData(additionalData).encrypt(cryptoKey);
      return JSON.parse(decoder.decode((await refs.flattenedDecrypt(jwe, cryptoKey)).plaintext));
    },
    noble() {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      return JSON.parse(decoder.decode(refs.gcm(keyBytes, iv).decrypt(refs.gcm(keyBytes, iv).encrypt(chatBytes))));
    },
  };
}
globalThis.messageBench = async ({ chat, ids, rounds, minMs, minCalls }) => {
  const tasks = await messageTasks(chat, crypto.getRandomValues(new Uint8Array(32)));
  // Every task must give back the same chat before anything is timed.
  for (const id of ids) if (JSON.stringify(await tasks[id]()) !== JSON.stringify(chat)) throw new Error(id + " does not round-trip the chat message");
  const result = Object.fromEntries(ids.map((id) => [id, []]));
  for (let round = 0; round < rounds; round++) {
    for (const id of round % 2 === 0 ? ids : [...ids].reverse()) {
      const task = tasks[id];
      for (let i = 0; i < 8; i++) await task(); // warm-up
      let calls = 0;
      const start = performance.now();
      while (calls < minCalls || performance.now() - start < minMs) {
        await task();
        calls++;
      }
      result[id].push((performance.now() - start) / calls);
    }
  }
  return result;
};
globalThis.shareBench = async ({ devices, runs, bundleSets }) => {
  const from = await sdk.createDeviceIdentity({ userId: "bench-sender", deviceId: "browser" });
  const warmUp = sdk.RoomKeyring.create({ roomId: "warm-up" });
  for (let i = 0; i < 3; i++) {
    await sdk.shareRoomKeyAsync({ keyring: warmUp, from, to: bundleSets.warmUp });
    sdk.shareRoomKey({ keyring: warmUp, from, to: bundleSets.warmUp });
  }
  const result = { asyncCold: [], asyncWarm: [], syncCold: [], syncWarm: [] };
  for (let run = 0; run < runs; run++) {
    const measure = async (kind, share) => {
      const keyring = sdk.RoomKeyring.create({ roomId: "room-" + kind + "-" + run });
      const to = bundleSets[kind][run];
      let shares;
      result[kind + "Cold"].push(await time(async () => { shares = await share({ keyring, from, to }); }));
      if (shares.length !== devices) throw new Error("wrong number of shares");
      keyring.rotate({ reason: "manual" });
      result[kind + "Warm"].push(await time(async () => { shares = await share({ keyring, from, to }); }));
    };
    // Alternating which goes first, so drift in the page does not favour one.
    const order = run % 2 === 0 ? ["async", "sync"] : ["sync", "async"];
    for (const kind of order) await measure(kind, kind === "async" ? sdk.shareRoomKeyAsync : sdk.shareRoomKey);
  }
  return { ...result, native: sdk.getNativeCrypto() };
};
`;

/**
 * Chat messages and sharing in Chromium. Resolves to `{ skipped }` (with the reason) when Chromium
 * is missing, so `pnpm bench` still runs on a machine without a browser.
 */
export async function measureBrowser({ api, short, log }) {
  if (!hasChromium()) return { skipped: `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)` };
  const settings = short ? BROWSER_SETTINGS.short : BROWSER_SETTINGS.full;
  const facade = await bundle('export * from "@domvia/realtime-e2ee";', "browser");
  const references = await bundle(REFERENCES_ENTRY, "browser");
  const { page, version, pageErrors: errors, close } = await openStaticPage(
    {
      "/": MODULE_PAGE,
      "/page.mjs": { type: "text/javascript", body: PAGE_SCRIPT },
      "/sdk.mjs": { type: "text/javascript", body: facade.code },
      "/refs.mjs": { type: "text/javascript", body: references.code },
    },
    "shareBench",
  );
  try {
    const result = { browser: `Chromium ${version}`, messages: { ...settings.messages, sizes: [] }, share: [] };
    const { sizes, ...method } = settings.messages;
    const ids = BROWSER_MESSAGE_TASKS.map(({ id }) => id);
    for (const bytes of sizes) {
      const measured = await page.evaluate((input) => globalThis.messageBench(input), { chat: chatMessageOfSize(bytes), ids, ...method });
      if (errors.length > 0) throw errors[0];
      result.messages.sizes.push({ bytes, label: sizeLabel(bytes), tasks: measured });
      log?.(
        `  chat messages in ${result.browser}, ${sizeLabel(bytes)} round trip: ` +
          ids.map((id) => `${id} ${formatMs(median(measured[id]))}`).join(", "),
      );
    }
    for (const { devices, runs } of settings.share) {
      const bundleSets = { warmUp: await createBundles(api, 10, `warm-up-${devices}`), async: [], sync: [] };
      for (let run = 0; run < runs; run++) {
        bundleSets.async.push(await createBundles(api, devices, `async-${devices}-${run}`));
        bundleSets.sync.push(await createBundles(api, devices, `sync-${devices}-${run}`));
      }
      const measured = await page.evaluate((input) => globalThis.shareBench(input), { devices, runs, bundleSets });
      if (errors.length > 0) throw errors[0];
      result.native = measured.native;
      result.share.push({ devices, asyncCold: measured.asyncCold, asyncWarm: measured.asyncWarm, syncCold: measured.syncCold, syncWarm: measured.syncWarm });
      log?.(
        `  key sharing in ${result.browser}, ${devices} devices: shareRoomKeyAsync cold ${formatMs(median(measured.asyncCold))}, warm ${formatMs(median(measured.asyncWarm))};` +
          ` shareRoomKey (noble) cold ${formatMs(median(measured.syncCold))}, warm ${formatMs(median(measured.syncWarm))}`,
      );
    }
    if (result.native.asyncCurves !== "webcrypto") throw new Error(`shareRoomKeyAsync did not run on WebCrypto in ${result.browser}: ${JSON.stringify(result.native)}`);
    return result;
  } finally {
    await close();
  }
}

/**
 * The page's chat message table: each task's round trip, ÷ the same run's raw node:crypto round
 * trip at that size (`rawMs`: size → ms, measured in Node, not in the same rounds), and ÷ each
 * reference measured in the page in the same rounds.
 */
export function browserMessageTable(browser, rawMs) {
  const rows = [];
  for (const { bytes, label, tasks } of browser.messages.sizes) {
    for (const { id, label: task } of BROWSER_MESSAGE_TASKS) {
      const ms = median(tasks[id]);
      rows.push([
        `${label}, ${task}`,
        formatMs(ms),
        rawMs(bytes) === undefined ? "–" : formatRatio(ms / rawMs(bytes)),
        ...["webcrypto", "jose", "noble"].map((reference) => formatRatio(median(pairedRatios(tasks[id], tasks[reference])))),
      ]);
    }
  }
  return markdownTable(
    ["round trip (encrypt + decrypt) in the page", "time", "÷ raw node:crypto (Node, this run)", "÷ WebCrypto envelope", "÷ jose JWE", "÷ noble AES-256-GCM"],
    rows,
    ["l", "r", "r", "r", "r", "r"],
  );
}

/** A page task's median round trip and its ratio to a page reference (same rounds), at `bytes`. */
export function browserRoundTrip(browser, bytes, id, reference) {
  const entry = browser.messages?.sizes.find((size) => size.bytes === bytes);
  if (entry === undefined) return undefined;
  return { ms: median(entry.tasks[id]), ratio: reference === undefined ? undefined : median(pairedRatios(entry.tasks[id], entry.tasks[reference])) };
}

/** Markdown rows: operation, call, median, fastest, runs, notes. */
export function browserTable(browser) {
  const rows = [];
  for (const { devices, asyncCold, asyncWarm, syncCold, syncWarm } of browser.share) {
    const count = devices.toLocaleString("en-US");
    const row = (kind, call, times, reference) => [
      `share one version with ${count} devices, ${kind}`,
      call,
      formatMs(median(times)),
      formatMs(Math.min(...times)),
      String(times.length),
      `${formatMs(median(times) / devices)} per device` + (reference === undefined ? "" : `; ${formatRatio(median(pairedRatios(times, reference)))} \`shareRoomKey\` in the same rounds`),
    ];
    rows.push(row("cold (bundles verified)", "`shareRoomKeyAsync` (WebCrypto curves)", asyncCold, syncCold));
    rows.push(row("cold (bundles verified)", "`shareRoomKey` (noble, pure JS)", syncCold));
    rows.push(row("warm (later rotation)", "`shareRoomKeyAsync` (WebCrypto curves)", asyncWarm, syncWarm));
    rows.push(row("warm (later rotation)", "`shareRoomKey` (noble, pure JS)", syncWarm));
  }
  return markdownTable(["operation", "call", "median", "fastest", "runs", "notes"], rows, ["l", "l", "r", "r", "r", "l"]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const api = await import("@domvia/realtime-e2ee");
  const browser = await measureBrowser({ api, short: isShortRun(), log: console.log });
  console.log(
    browser.skipped === undefined
      ? `\n${browser.browser}\n\n${browserMessageTable(browser, () => undefined)}\n\n${browserTable(browser)}`
      : `skipped: ${browser.skipped}`,
  );
}
