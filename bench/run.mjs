// `pnpm bench`: the SDK's performance in one run, through the built `@domvia/realtime-e2ee` as an
// app uses it, next to references measured in the same run:
//
//   1. chat messages (bench/messages.mjs): 64 B to 64 KiB, encrypt, decrypt and round trip, for
//      raw node:crypto AES-256-GCM, our API on its native and pure-JS paths, noble's AES-256-GCM
//      and XAES-256-GCM alone (the pure-JS path's floor), a WebCrypto envelope and jose; ratios
//      against raw node:crypto from the same rounds;
//   2. the key lifecycle (bench/share-keys.mjs): sharing with 10 to 1,000 devices, accepting,
//      backup and restore of 10,000 key versions, the passphrase KDF; both paths; and in Chromium
//      (bench/browser.mjs) chat messages beside a WebCrypto envelope, jose and noble in the same
//      page, and sharing with `shareRoomKeyAsync` on WebCrypto beside `shareRoomKey` on noble;
//   3. peak memory (bench/memory.mjs): 100 MiB of chat as 1 KiB messages, a fresh process each;
//   4. bundle sizes and cold import (bench/size.mjs), full runs only.
//
// Then the budgets of issue 5, measured against their limits. Writes bench/results/latest.json
// and latest.md. `--short` (`pnpm bench:short`, run by .ci/run) exercises every measurement with
// few iterations and small inputs in well under a minute and writes short.json and short.md
// instead (gitignored): it keeps the benchmark from rotting, its numbers mean little.
// No budget fails the process: the verdicts are in the report. Timing stays out of tests.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { KiB, MiB, RESULTS_DIR, formatBytes, formatMs, formatRatio, isShortRun, machineInfo, markdownTable, median, pairedRatios, loadNativeSwitch } from "./common.mjs";
import { IMPLEMENTATIONS, OPERATIONS, compareTasks, measureMessages, roundRatios } from "./messages.mjs";
import { measureMemory } from "./memory.mjs";
import { keyLifecycleTable, measureKeyLifecycle } from "./share-keys.mjs";
import { browserMessageTable, browserRoundTrip, browserTable, measureBrowser } from "./browser.mjs";
import { measureSize, sizeBudgetRows, sizeReport, sizeTables, writeSizeReport } from "./size.mjs";

const short = isShortRun();
const log = (line) => console.error(line);
const api = await import("@domvia/realtime-e2ee");
const native = await loadNativeSwitch(api);
const startedAt = performance.now();
const loadAtStart = os.loadavg()[0];

log(`bench: ${short ? "short" : "full"} run; native switch: ${native.available ? native.source : "none in this build"}`);
const messages = await measureMessages({ api, native, short, log });
const keyLifecycle = await measureKeyLifecycle({ api, native, short, log });
const browser = await measureBrowser({ api, short, log });
if (browser.skipped !== undefined) log(`  chat messages and key sharing in a browser: skipped, ${browser.skipped}`);
const memory = await measureMemory({ short, log });
const size = short ? undefined : await measureSize({ short });

const machine = { ...machineInfo(), loadAverage1mAtStart: loadAtStart };
const paths = { native: native.describe("native"), "pure-js": native.describe("pure-js") };

// ---- Budgets (issue 5): each row names what was measured, the limit and the verdict. ----

function messageSize(bytes) {
  return messages.sizes.find((size) => size.bytes === bytes);
}
function lifecyclePath(path) {
  return keyLifecycle.paths.find((result) => result.path === path);
}
function shareEntry(path, devices) {
  return lifecyclePath(path).share.find((share) => share.devices === devices);
}
function shareMs(path, devices, kind) {
  const entry = shareEntry(path, devices);
  return entry === undefined ? undefined : median(entry[kind]);
}
/**
 * The same runs' floor for a share, a raw share written straight on node:crypto or noble
 * (share-keys.mjs): its median, and the median over runs of (share ÷ the floor measured beside it).
 */
function shareFloorNote(path, devices, kind) {
  const entry = shareEntry(path, devices);
  const floors = entry?.[kind === "cold" ? "floorCold" : "floorWarm"];
  if (floors === undefined) return undefined;
  const overFloor = median(pairedRatios(entry[kind], floors));
  return `floor: a raw share ${formatMs(median(floors))}; share ÷ floor ${formatRatio(overFloor)}`;
}
/** A browser share's median, `call` "async" or "sync", or `undefined` (skipped, or a short run). */
function browserShareMs(devices, call, kind) {
  const entry = browser.share?.find((share) => share.devices === devices);
  return entry === undefined ? undefined : median(entry[`${call}${kind === "cold" ? "Cold" : "Warm"}`]);
}
function restoreMs(path) {
  const backup = lifecyclePath(path).backup;
  return backup.versions < 10_000 ? undefined : Math.max(median(backup.restoreOneChunk), median(backup.restoreAppended));
}
function memoryGrowth(path) {
  const result = memory.results.find((entry) => entry.path === path);
  return memory.totalBytes < 100 * MiB ? undefined : result.peakGrowthBytes;
}

const budgets = [];
function budget(name, measured, { max, min, format, stretch, spread, note, missing = "not measured (short run)" }) {
  const value = typeof measured === "number" && Number.isFinite(measured) ? measured : undefined;
  const pass = value === undefined ? undefined : (max === undefined || value <= max) && (min === undefined || value >= min);
  const limit = max !== undefined ? `≤ ${format(max)}` : `≥ ${format(min)}`;
  const ranged = value === undefined ? undefined : spread === undefined ? format(value) : `${format(value)} (rounds ${format(spread[0])}–${format(spread[1])})`;
  const shown = ranged === undefined ? missing : note === undefined ? ranged : `${ranged}; ${note}`;
  budgets.push({
    name,
    measured: value,
    spread,
    note,
    limit: { max, min, stretch },
    display: { measured: shown, limit: stretch === undefined ? limit : `${limit} (stretch ${format(stretch)})` },
    pass,
  });
}
/** The lowest and highest per-round ratio of a task to raw node:crypto, `invert` for throughput. */
function roundSpread(bytes, id, invert = false) {
  const ratios = roundRatios(messageSize(bytes).tasks, id, "raw", "round trip");
  const values = invert ? ratios.map((ratio) => 1 / ratio) : ratios;
  return values.length < 2 ? undefined : [Math.min(...values), Math.max(...values)];
}
const ratio200Native = messageSize(200).tasks["ours-native"]["round trip"].ratio;
const ratio200Pure = messageSize(200).tasks["ours-pure-js"]["round trip"].ratio;
const size64k = messageSize(64 * KiB);
budget("200 B chat round trip, public API in Node ÷ raw node:crypto enc+dec (time)", ratio200Native, {
  max: 2.5,
  format: formatRatio,
  spread: roundSpread(200, "ours-native"),
});
const floor200 = (id) => {
  const spread = roundSpread(200, id);
  const ratio = formatRatio(messageSize(200).tasks[id]["round trip"].ratio);
  return spread === undefined ? ratio : `${ratio} (rounds ${spread.map(formatRatio).join("–")})`;
};
budget("200 B chat round trip, public API pure JS ÷ raw node:crypto enc+dec (time)", ratio200Pure, {
  max: 5,
  stretch: 4,
  format: formatRatio,
  spread: roundSpread(200, "ours-pure-js"),
  // The same rounds' floors: the cipher alone, without any of the SDK's work; and what the SDK
  // adds over the XAES floor, paired round by round.
  note:
    `floor: noble XAES-256-GCM alone ${floor200("noble-xaes")}, noble AES-256-GCM alone ${floor200("noble-gcm")}; ` +
    `pure JS ÷ noble XAES alone ${formatRatio(compareTasks(messageSize(200), "ours-pure-js", "noble-xaes", "round trip"))}`,
});
budget("64 KiB chat round trip, public API in Node: throughput ÷ raw node:crypto's", 1 / size64k.tasks["ours-native"]["round trip"].ratio, {
  min: 0.3,
  format: formatRatio,
  spread: roundSpread(64 * KiB, "ours-native", true),
});
for (const kind of ["cold", "warm"]) {
  budget(`share one key version with 1,000 devices, pure JS, ${kind}`, shareMs("pure-js", 1000, kind), {
    max: 1500,
    format: formatMs,
    note: shareFloorNote("pure-js", 1000, kind),
  });
  const noble = browserShareMs(1000, "sync", kind);
  budget(`share one key version with 1,000 devices, in Chromium with \`shareRoomKeyAsync\` (WebCrypto curves), ${kind}`, browserShareMs(1000, "async", kind), {
    max: 1500,
    format: formatMs,
    note: noble === undefined ? undefined : `\`shareRoomKey\` (noble) in the same page ${formatMs(noble)}`,
    missing: browser.skipped === undefined ? undefined : `not measured: ${browser.skipped}`,
  });
  budget(`share one key version with 1,000 devices, Node (native), ${kind}`, shareMs("native", 1000, kind), {
    max: 300,
    format: formatMs,
    note: shareFloorNote("native", 1000, kind),
  });
}
budget("restore a backup of 10,000 key versions (no KDF), pure JS, slower of 1 and 100 chunks", restoreMs("pure-js"), { max: 2000, format: formatMs });
budget("restore a backup of 10,000 key versions (no KDF), Node (native), slower of 1 and 100 chunks", restoreMs("native"), { max: 2000, format: formatMs });
const formatMiB = (bytes) => `${(bytes / MiB).toFixed(2)} MiB`;
budget("peak RSS growth, 100 MiB as 1 KiB messages, Node (native)", memoryGrowth("native"), { max: 35 * MiB, format: formatMiB });
budget("peak RSS growth, 100 MiB as 1 KiB messages, pure JS", memoryGrowth("pure-js"), { max: 35 * MiB, format: formatMiB });
if (size !== undefined) {
  for (const row of sizeBudgetRows(size)) budgets.push({ name: row.name, display: { measured: row.measured, limit: row.budget }, pass: row.pass });
}

// ---- Headline: the README's numbers. ----

const REFERENCES = [
  { id: "raw", label: "raw node:crypto" },
  { id: "webcrypto", label: "WebCrypto envelope" },
  { id: "jose", label: "jose JWE" },
];
const headline = [];
/** The run's raw node:crypto round trip at `bytes` (the Chromium rows' first denominator). */
const rawRoundTripMs = (bytes) => messageSize(bytes)?.tasks.raw["round trip"].ms;
for (const bytes of [200, 64 * KiB]) {
  const entry = messageSize(bytes);
  for (const ours of ["ours-native", "ours-pure-js"]) {
    headline.push({
      size: entry.label,
      implementation: ours,
      roundTripMs: entry.tasks[ours]["round trip"].ms,
      relativeTo: Object.fromEntries(REFERENCES.map(({ id }) => [id, compareTasks(entry, ours, id, "round trip")])),
    });
  }
  // In Chromium: ÷ raw node:crypto is this run's Node figure (another process, not the same
  // rounds); the WebCrypto envelope and jose were measured in the page, in the same rounds.
  const inPage = browserRoundTrip(browser, bytes, "ours");
  if (inPage !== undefined) {
    headline.push({
      size: entry.label,
      implementation: "ours-chromium",
      browser: browser.browser,
      roundTripMs: inPage.ms,
      relativeTo: {
        raw: inPage.ms / rawRoundTripMs(bytes),
        webcrypto: browserRoundTrip(browser, bytes, "ours", "webcrypto").ratio,
        jose: browserRoundTrip(browser, bytes, "ours", "jose").ratio,
      },
    });
  }
}

const results = {
  kind: short ? "short" : "full",
  machine: { ...machine, loadAverage1mAtEnd: os.loadavg()[0] },
  durationSeconds: (performance.now() - startedAt) / 1000,
  method:
    "tinybench medians per round; a task's time is the median over rounds of its per-round median; ratios are medians over rounds of (task ÷ reference in the same round). Key lifecycle: medians of whole operations. Memory: one fresh process per path.",
  nativeCrypto: { available: native.available, source: native.source, paths },
  messages,
  keyLifecycle,
  browser,
  memory,
  size,
  headline,
  budgets,
};

// ---- Report ----

const implementationLabel = {
  ...Object.fromEntries(IMPLEMENTATIONS.map(({ id, label }) => [id, label])),
  "ours-chromium": `@domvia/realtime-e2ee in ${browser.browser ?? "Chromium"} (the page's WebCrypto envelope and jose; ÷ raw: this run's Node figure)`,
};
const pathNote = native.available
  ? `switched with \`setNativeCrypto\` from ${native.source}; native: \`${JSON.stringify(paths.native)}\`; pure JS: \`${JSON.stringify(paths["pure-js"])}\``
  : "this build has no `setNativeCrypto`: both rows of our API run the same code, the build's default";

const headlineTable = markdownTable(
  ["round trip (encrypt + decrypt)", "time", "÷ raw node:crypto", "÷ WebCrypto envelope", "÷ jose JWE"],
  headline.map((row) => [
    `${row.size}, ${implementationLabel[row.implementation]}`,
    formatMs(row.roundTripMs),
    formatRatio(row.relativeTo.raw),
    formatRatio(row.relativeTo.webcrypto),
    formatRatio(row.relativeTo.jose),
  ]),
  ["l", "r", "r", "r", "r"],
);

const budgetTable = markdownTable(
  ["budget", "measured", "limit", "verdict"],
  budgets.map((row) => [row.name, row.display.measured, row.display.limit, row.pass === undefined ? "–" : row.pass ? "pass" : "**FAIL**"]),
  ["l", "r", "r", "l"],
);

const messageTables = messages.sizes
  .map((entry) => {
    const rows = IMPLEMENTATIONS.map(({ id }) => [
      implementationLabel[id],
      ...OPERATIONS.flatMap((operation) => [formatMs(entry.tasks[id][operation].ms), formatRatio(entry.tasks[id][operation].ratio)]),
    ]);
    return `### ${entry.label} of chat JSON\n\n${markdownTable(
      ["implementation", "encrypt", "÷ raw", "decrypt", "÷ raw", "round trip", "÷ raw"],
      rows,
      ["l", "r", "r", "r", "r", "r", "r"],
    )}`;
  })
  .join("\n\n");

const MEMORY_LABELS = {
  raw: "raw node:crypto, bytes in and out (reference)",
  "raw-envelope": "raw node:crypto in a JSON + base64url envelope, no SDK (reference)",
  native: "@domvia/realtime-e2ee, Node (native auto)",
  "pure-js": "@domvia/realtime-e2ee, pure JS (native off)",
};
const memoryTable = markdownTable(
  ["path", "messages", "baseline RSS", "peak RSS growth", "peak heap growth", "time"],
  memory.results.map((result) => [
    MEMORY_LABELS[result.path],
    result.messages.toLocaleString("en-US"),
    formatBytes(result.baselineRssBytes),
    formatBytes(result.peakGrowthBytes),
    formatBytes(result.peakHeapGrowthBytes),
    formatMs(result.elapsedMs),
  ]),
  ["l", "r", "r", "r", "r", "r"],
);

const sizeSection =
  size === undefined
    ? "Not measured in a short run; `pnpm size` measures them."
    : (() => {
        const tables = sizeTables(size);
        return `${tables.bundles}\n\n${tables.coldImport}`;
      })();

function browserSection() {
  const { rounds, minMs, minCalls } = browser.messages;
  return `${browser.browser}, headless, on a localhost page with esbuild browser bundles of the façade and of the references.

### Chat messages

Round trips of the same chat objects as above, in ${rounds} round(s), the tasks in alternating order, each at least ${minCalls} calls and ${minMs} ms after
warm-up; a time is the median over rounds of the task's mean call, a ratio in the page the median over rounds of (task ÷ reference in that
round). ÷ raw node:crypto is the ratio of the page's median to this run's median raw round trip in Node at that size (another
process, not paired round by round).

${browserMessageTable(browser, rawRoundTripMs)}

### Key sharing

Bundles made in Node and handed over as JSON. \`asyncCurves\`: \`${browser.native.asyncCurves}\`.

${browserTable(browser)}`;
}

const title = short ? "Performance (short run: smoke test only, the numbers mean little)" : "Performance";
const report = `# ${title}

Measured by \`pnpm bench${short ? ":short" : ""}\` (bench/run.mjs) through the built \`@domvia/realtime-e2ee\`, in one run.
Absolute times on this small, shared machine move by up to 2× between runs; the ratios compare
tasks measured in the same rounds and are the numbers to read.

- Machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, ${machine.memoryGiB} GiB RAM
- Platform: Node ${machine.node} (V8 ${machine.v8}) on ${machine.platform}
- Date: ${machine.date.slice(0, 16).replace("T", " ")} UTC; ${results.durationSeconds.toFixed(0)} s
- Load: ${loadAtStart.toFixed(2)} at start, ${results.machine.loadAverage1mAtEnd.toFixed(2)} at end (1-minute load average)
- Paths: ${pathNote}
- Method: messages with tinybench ${messages.rounds} round(s) per size, each task at least ${messages.iterations} calls and ${messages.time} ms after
  warm-up, tasks grouped by operation; a time is the median over rounds of the task's median call, a ratio
  the median over rounds of (task ÷ reference in that round), and a budget's ratio shows the lowest and
  highest round beside it. Inputs: one chat object per size (\`JSON.stringify\` exactly that many
  bytes) and one 256-bit key shared by every implementation. The raw and noble references encrypt the JSON
  bytes, prepared once, with a fresh IV or nonce per message (raw calls \`randomBytes(12)\` for each, as an app
  writes it; noble takes them from a pool filled 64 at a time, as the SDK does); ours and the WebCrypto envelope
  and jose start from the object and return the object (JSON, base64url and associated data included). Key lifecycle:
  medians of whole operations. Memory: one fresh \`node --expose-gc\` process per path.

## Budgets

${budgetTable}

## Headline

${headlineTable}

## Chat messages

${messageTables}

## Key lifecycle

${keyLifecycleTable(keyLifecycle)}

## In a browser

${browser.skipped === undefined ? browserSection() : `Skipped: ${browser.skipped}.`}

## Peak memory: ${formatBytes(memory.totalBytes)} of chat as ${memory.messageBytes} B messages, encrypt + decrypt, one at a time

${memoryTable}

## Bundle size and cold import

${sizeSection}
`;

console.log(report);
await mkdir(RESULTS_DIR, { recursive: true });
const base = short ? "short" : "latest";
await writeFile(`${RESULTS_DIR}${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
await writeFile(`${RESULTS_DIR}${base}.md`, report);
log(`Wrote ${RESULTS_DIR}${base}.json and ${base}.md`);
if (size !== undefined) {
  // The same measurement as `pnpm size`, so size.md and latest.md agree.
  await writeSizeReport(await sizeReport(size, { command: "pnpm bench" }));
  log(`Wrote ${RESULTS_DIR}size.md`);
}
