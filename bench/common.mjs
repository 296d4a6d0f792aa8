// Helpers shared by the benchmark modules: statistics, formatting, the machine description and
// the switch between the façade's native and pure-JS paths. No measurement happens here.
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));
export const KiB = 1024;
export const MiB = 1024 * 1024;

/** `--short` (or BENCH_SHORT=1): every code path, few iterations, small inputs; under a minute. */
export function isShortRun(argv = process.argv.slice(2)) {
  return argv.includes("--short") || process.env.BENCH_SHORT === "1";
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `a[i] ÷ b[i]` for times measured side by side (same round or same run): paired ratios. */
export function pairedRatios(a, b) {
  return a.map((value, index) => value / b[index]);
}

/** Wall time of one call, in milliseconds. */
export async function time(operation) {
  const start = performance.now();
  await operation();
  return performance.now() - start;
}

export function formatMs(ms) {
  if (!Number.isFinite(ms)) return "–";
  // A difference of two noisy medians can come out below zero (an import cheaper than nothing).
  if (ms < 0) return `−${formatMs(-ms)}`;
  if (ms >= 100) return `${Math.round(ms).toLocaleString("en-US")} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(ms >= 0.1 ? 0 : 1)} µs`;
}

export function formatRatio(ratio) {
  if (!Number.isFinite(ratio)) return "–";
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

export function formatBytes(bytes) {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Size labels as the issue names them: 64 B, 200 B, 1 KiB, 16 KiB, 64 KiB. */
export function sizeLabel(bytes) {
  return bytes >= KiB && bytes % KiB === 0 ? `${bytes / KiB} KiB` : `${bytes} B`;
}

export function markdownTable(header, rows, align) {
  const alignRow = header.map((_, index) => (align?.[index] === "r" ? "---:" : "---"));
  return [header, alignRow, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** CPU, cores, memory, Node, OS, date and load: what a reader needs to weigh the numbers. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} (${os.arch()})`,
    cpu: cpus[0]?.model.trim() ?? "unknown CPU",
    logicalCpus: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    date: new Date().toISOString(),
    loadAverage1m: os.loadavg()[0],
  };
}

/**
 * The switch between native acceleration (`node:crypto` in Node) and the pure-JS noble path that
 * browsers and React Native run: the façade's `setNativeCrypto`, feature-detected. A build
 * without it runs one path only, and both rows of our API then measure the same code (reported).
 */
export async function loadNativeSwitch(api) {
  const available = typeof api.setNativeCrypto === "function" && typeof api.getNativeCrypto === "function";
  return {
    available,
    source: available ? "@domvia/realtime-e2ee" : undefined,
    /** "native": the default in Node ("auto"); "pure-js": forced off. */
    use(path) {
      if (available) api.setNativeCrypto(path === "native" ? "auto" : "off");
    },
    describe(path) {
      if (!available) return { mode: "unavailable", note: "no setNativeCrypto in this build: both paths run the build's default" };
      this.use(path);
      const info = { ...api.getNativeCrypto() };
      this.use("native");
      return info;
    },
  };
}
