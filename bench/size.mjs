// What the SDK costs an app to ship and to load, from the built packages:
//
// - bundle sizes: esbuild (browser, ESM, minified, tree-shaken) then gzip level 9, of
//   (a) an app that only encrypts and decrypts chat JSON and imports and exports keys,
//   (b) the whole façade, and (c) `@domvia/e2ee-envelope` as a server imports it, which must hold
//   no cipher code (the same fingerprints as packages/envelope/src/bundle.test.ts); each is also
//   bundled with zod, noble and scure left out (external), which is the SDK's own code;
// - cold import: fresh `node` processes, interleaved, timing an empty script, an esbuild bundle of
//   the façade (Node platform, ESM, minified), the unbundled façade from node_modules, and a bundle
//   of only the noble and scure imports of packages/*/src (what noble builds when it loads: AES
//   tables, curves), and, for servers, `@domvia/e2ee-envelope` bundled and unbundled beside
//   zod/mini alone; the result is the median process time minus the empty script's.
//
// `pnpm size` (after a build) prints the table, writes bench/results/size.md and exits 1 when a
// budget is exceeded (`--report-only` prints the verdicts and exits 0, as CI runs it). `--short`
// takes fewer cold-import samples.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { KiB, RESULTS_DIR, formatBytes, formatMs, isShortRun, machineInfo, markdownTable, median } from "./common.mjs";

const BENCH_DIR = fileURLToPath(new URL("./", import.meta.url));
const SCRATCH_DIR = fileURLToPath(new URL("./.size/", import.meta.url));

export const SIZE_BUDGETS = Object.freeze({
  chatApp: 12 * KiB,
  facade: 40 * KiB,
  envelope: 8 * KiB,
  coldImportMs: 20,
});

/** Strings that survive minification in noble's ciphers and hashes (packages/envelope/src/bundle.test.ts). */
const CIPHER_FINGERPRINTS = [/sbox/i, /pkcs7/i, /outputLen/, /AAD not supported/, /key-commitment/, /@noble/];

export const BUNDLES = [
  {
    id: "chatApp",
    shortLabel: "(a) chat-only app",
    label: "(a) app: encryptChatJson, decryptChatJson, key generate/import/export",
    contents: `
import {
  decryptChatJson,
  encryptChatJson,
  exportAesGcmKeyToBase64,
  generateAesGcmKey,
  importAesGcmKeyFromBase64,
} from "@domvia/realtime-e2ee";

export async function roundTrip(body) {
  const roomKey = await generateAesGcmKey();
  const restored = await importAesGcmKeyFromBase64(await exportAesGcmKeyToBase64(roomKey));
  const context = { roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 };
  const encrypted = await encryptChatJson({ body }, roomKey, context);
  return decryptChatJson(encrypted, restored, { roomId: "room-42", messageId: "msg-1" });
}
`,
  },
  { id: "facade", shortLabel: "(b) whole façade", label: "(b) the whole façade: export * from @domvia/realtime-e2ee", contents: `export * from "@domvia/realtime-e2ee";\n` },
  // (c) what a relay imports: exactly the import list of examples/private-chat/server/relay.mjs.
  {
    id: "envelope",
    shortLabel: "(c) envelope package for servers",
    label: "(c) server: the relay's imports from @domvia/e2ee-envelope plus E2eeError",
    contents: `export { DEFAULT_ENCRYPTED_EVENTS, E2eeError, checkRelayEvent, isValidId, parseDeviceBundle, parseKeyBackup, safeParseJson, safeParseRoomKeyShare } from "@domvia/e2ee-envelope";\n`,
  },
];

/** The third-party libraries of the SDK, left out to measure the SDK's own code. */
const DEPENDENCIES = ["zod", "@noble/*", "@scure/*"]; // esbuild: "zod" covers "zod/mini" too

/** An esbuild bundle (ESM, minified) of `contents`: its code and metafile. */
export async function bundle(contents, platform, { external = [], resolveDir = BENCH_DIR } = {}) {
  const result = await build({
    stdin: { contents, resolveDir, sourcefile: "entry.mjs", loader: "js" },
    external,
    bundle: true,
    write: false,
    format: "esm",
    platform,
    minify: true,
    metafile: true,
    legalComments: "none",
    logLevel: "silent",
  });
  return { code: result.outputFiles[0].contents, metafile: result.metafile };
}

const WORKSPACE_DIR = fileURLToPath(new URL("../", import.meta.url));

/** The npm package an esbuild input path belongs to (its innermost node_modules, or a workspace package). */
function packageOf(input) {
  const inNodeModules = input.lastIndexOf("node_modules/");
  if (inNodeModules !== -1) return input.slice(inNodeModules + "node_modules/".length).match(/^(?:@[^/]+\/)?[^/]+/)[0];
  const workspace = input.match(/(?:^|\/)packages\/([^/]+)\//);
  if (workspace) return JSON.parse(readFileSync(`${WORKSPACE_DIR}packages/${workspace[1]}/package.json`, "utf8")).name;
  return "(entry)";
}

/** Bytes in the output per package (node_modules package or workspace package), largest first. */
function contributors(metafile) {
  const totals = new Map();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([name, bytes]) => ({ name, bytes }));
}

export async function measureBundles() {
  const results = [];
  for (const { id, label, shortLabel, contents } of BUNDLES) {
    const { code, metafile } = await bundle(contents, "browser");
    const own = await bundle(contents, "browser", { external: DEPENDENCIES });
    const text = new TextDecoder().decode(code);
    results.push({
      id,
      label,
      shortLabel,
      minifiedBytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      ownGzipBytes: gzipSync(own.code, { level: 9 }).length,
      budgetBytes: SIZE_BUDGETS[id],
      cipherFingerprints: CIPHER_FINGERPRINTS.filter((pattern) => pattern.test(text)).map(String),
      contributors: contributors(metafile).slice(0, 6),
    });
  }
  return results;
}

const PACKAGES_DIR = `${WORKSPACE_DIR}packages/`;

/**
 * An entry that re-exports exactly what the packages' sources (tests excluded) import from noble and
 * scure: bundled, it evaluates what those libraries build at load, and nothing of the SDK's.
 */
function dependencyOnlyEntry() {
  const imports = new Map(); // specifier -> Set of imported names
  const pattern = /import\s*\{([^}]*)\}\s*from\s*["'](@(?:noble|scure)\/[^"']+)["']/g;
  // Every reference: `from "…"`, a bare `import "…"` and `import("…")`; and the type-only ones.
  const anyReference = /\b(?:from|import)\s*\(?\s*["']@(?:noble|scure)\//g;
  const typeOnly = /\b(?:import|export)\s+type\s*\{[^}]*\}\s*from\s*["']@(?:noble|scure)\//g;
  const sources = readdirSync(PACKAGES_DIR)
    .filter((name) => existsSync(`${PACKAGES_DIR}${name}/src`))
    .flatMap((name) => readdirSync(`${PACKAGES_DIR}${name}/src`, { recursive: true }).map((file) => `${PACKAGES_DIR}${name}/src/${file}`));
  for (const file of sources) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts")) continue;
    const text = readFileSync(file, "utf8");
    const matches = [...text.matchAll(pattern)];
    // Type-only imports and exports are erased at build; any other form (namespace, default, bare,
    // dynamic, re-export) would escape the pattern, so it stops the report instead.
    const valueImports = [...text.matchAll(anyReference)].length - [...text.matchAll(typeOnly)].length;
    if (matches.length !== valueImports) throw new Error(`${file}: a noble or scure import this scan does not read; extend dependencyOnlyEntry`);
    for (const [, names, specifier] of matches) {
      const set = imports.get(specifier) ?? new Set();
      for (const name of names.split(",").map((part) => part.trim())) {
        if (name === "" || /^type\s/.test(name)) continue; // type-only names do not exist at run time
        set.add(name.split(/\s+as\s+/)[0]);
      }
      imports.set(specifier, set);
    }
  }
  if (imports.size === 0) throw new Error("found no noble or scure imports in packages/*/src");
  let index = 0;
  return [...imports]
    .filter(([, names]) => names.size > 0)
    .map(([specifier, names]) => `export { ${[...names].map((name) => `${name} as d${index++}`).join(", ")} } from ${JSON.stringify(specifier)};`)
    .join("\n");
}

function processMs(file) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [file], { cwd: BENCH_DIR, stdio: ["ignore", "pipe", "inherit"] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`node ${file} exited with ${result.status}`);
  return { elapsed, stdout: result.stdout.toString() };
}

/**
 * Process time of a fresh `node` for each script (the empty one and one per import measured),
 * round-robin so drift on the machine hits them alike; each import script also reports the time of
 * its own `await import()` measured inside the process.
 */
export async function measureColdImport({ runs }) {
  await rm(SCRATCH_DIR, { recursive: true, force: true });
  await mkdir(SCRATCH_DIR, { recursive: true });
  try {
    /** Bundles `entry` for Node into the scratch folder; returns its size in bytes. */
    const nodeBundle = async (file, entry, options) => {
      const { code } = await bundle(entry, "node", options);
      await writeFile(`${SCRATCH_DIR}${file}`, code);
      return code.length;
    };
    const bundleBytes = {
      facade: await nodeBundle("facade.bundle.mjs", `export * from "@domvia/realtime-e2ee";\n`),
      dependencies: await nodeBundle("dependencies.bundle.mjs", dependencyOnlyEntry(), { resolveDir: `${PACKAGES_DIR}crypto/` }),
      envelope: await nodeBundle("envelope.bundle.mjs", `export * from "@domvia/e2ee-envelope";\n`),
    };
    // One script per import measured, each timing its own `await import()`, and an empty one.
    const specifiers = {
      bundled: "./facade.bundle.mjs",
      unbundled: "@domvia/realtime-e2ee",
      dependencies: "./dependencies.bundle.mjs",
      envelopeBundled: "./envelope.bundle.mjs",
      envelope: "@domvia/e2ee-envelope",
      zod: "zod/mini",
    };
    const files = { empty: `${SCRATCH_DIR}empty.mjs` };
    await writeFile(files.empty, "");
    for (const [name, specifier] of Object.entries(specifiers)) {
      files[name] = `${SCRATCH_DIR}${name}.mjs`;
      await writeFile(
        files[name],
        `const start = process.hrtime.bigint();\nawait import(${JSON.stringify(specifier)});\n` +
          `process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e6));\n`,
      );
    }

    for (const file of Object.values(files)) processMs(file); // warm the file system cache
    const names = Object.keys(files);
    const samples = Object.fromEntries(names.flatMap((name) => [[name, []], [`${name}InProcess`, []]]));
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const { elapsed, stdout } = processMs(files[name]);
        samples[name].push(elapsed);
        if (name !== "empty") samples[`${name}InProcess`].push(Number(stdout));
      }
    }
    const emptyMs = median(samples.empty);
    const timing = (name) => ({
      processMs: median(samples[name]),
      overEmptyMs: median(samples[name]) - emptyMs,
      inProcessMs: median(samples[`${name}InProcess`]),
    });
    return {
      runs,
      bundleBytes: bundleBytes.facade,
      emptyMs,
      bundled: timing("bundled"),
      unbundled: timing("unbundled"),
      dependencies: { bundleBytes: bundleBytes.dependencies, ...timing("dependencies") },
      envelopeBundled: { bundleBytes: bundleBytes.envelope, ...timing("envelopeBundled") },
      envelopeUnbundled: timing("envelope"),
      zodUnbundled: timing("zod"),
      budgetMs: SIZE_BUDGETS.coldImportMs,
    };
  } finally {
    await rm(SCRATCH_DIR, { recursive: true, force: true });
  }
}

export async function measureSize({ short }) {
  return { bundles: await measureBundles(), coldImport: await measureColdImport({ runs: short ? 5 : 30 }) };
}

/** Budget verdicts for the size report: `{ name, measured, budget, pass }`. */
export function sizeBudgetRows(size) {
  const rows = [];
  for (const result of size.bundles) {
    rows.push({
      name: `bundle ${result.shortLabel}, min+gzip`,
      measured: `${formatBytes(result.gzipBytes)}; without zod, noble and scure ${formatBytes(result.ownGzipBytes)}`,
      budget: `≤ ${formatBytes(result.budgetBytes)}`,
      pass: result.gzipBytes <= result.budgetBytes,
    });
  }
  const envelope = size.bundles.find((result) => result.id === "envelope");
  rows.push({
    name: "bundle (c) envelope package for servers holds no cipher code",
    measured: envelope.cipherFingerprints.length === 0 ? "none found" : envelope.cipherFingerprints.join(", "),
    budget: "no noble fingerprints",
    pass: envelope.cipherFingerprints.length === 0,
  });
  rows.push({
    name: "cold import of the bundled façade, over an empty script",
    measured: `${formatMs(size.coldImport.bundled.overEmptyMs)}; noble and scure alone ${formatMs(size.coldImport.dependencies.overEmptyMs)}`,
    budget: `≤ ${formatMs(size.coldImport.budgetMs)}`,
    pass: size.coldImport.bundled.overEmptyMs <= size.coldImport.budgetMs,
  });
  return rows;
}

function timingCells({ processMs, overEmptyMs, inProcessMs }) {
  return [formatMs(processMs), formatMs(overEmptyMs), formatMs(inProcessMs)];
}

export function sizeTables(size) {
  const bundles = markdownTable(
    ["bundle (esbuild, browser, ESM, minified)", "minified", "min+gzip", "budget", "min+gzip without zod, noble, scure", "largest parts (minified bytes)"],
    size.bundles.map((result) => [
      result.label,
      formatBytes(result.minifiedBytes),
      formatBytes(result.gzipBytes),
      `≤ ${formatBytes(result.budgetBytes)}`,
      formatBytes(result.ownGzipBytes),
      result.contributors.map(({ name, bytes }) => `${name} ${formatBytes(bytes)}`).join(", "),
    ]),
    ["l", "r", "r", "r", "r", "l"],
  );
  const cold = size.coldImport;
  const coldImport = markdownTable(
    ["cold import, fresh node process", "process time (median)", "over the empty script", "`await import()` inside the process"],
    [
      ["empty script", formatMs(cold.emptyMs), "–", "–"],
      [`esbuild bundle of the façade (Node, ESM, minified, ${formatBytes(cold.bundleBytes)})`, ...timingCells(cold.bundled)],
      ["unbundled façade from node_modules", ...timingCells(cold.unbundled)],
      [`esbuild bundle of only the noble and scure imports of packages/*/src (${formatBytes(cold.dependencies.bundleBytes)})`, ...timingCells(cold.dependencies)],
      [`esbuild bundle of \`@domvia/e2ee-envelope\` (Node, ESM, minified, ${formatBytes(cold.envelopeBundled.bundleBytes)})`, ...timingCells(cold.envelopeBundled)],
      ["unbundled `@domvia/e2ee-envelope` from node_modules (what a Node server imports)", ...timingCells(cold.envelopeUnbundled)],
      ["unbundled `zod/mini` alone from node_modules (it loads all of its locale files)", ...timingCells(cold.zodUnbundled)],
    ],
    ["l", "r", "r", "r"],
  );
  const budgets = markdownTable(
    ["budget", "measured", "budget", "verdict"],
    sizeBudgetRows(size).map((row) => [row.name, row.measured, row.budget, row.pass ? "pass" : "**FAIL**"]),
    ["l", "r", "r", "l"],
  );
  return { bundles, coldImport, budgets };
}

/** The markdown of bench/results/size.md. */
export async function sizeReport(size, { command = "pnpm size" } = {}) {
  const machine = machineInfo();
  const tables = sizeTables(size);
  const { version } = await import("esbuild");
  return `# Bundle size and cold import

Measured by \`${command}\` from the built packages. Bundles: esbuild ${version}, platform browser,
ESM, minified, tree-shaken; gzip level 9. Cold import: ${size.coldImport.runs} fresh \`node\` processes per
script, interleaved; medians. Budgets from issue 5.

- Machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, ${machine.memoryGiB} GiB RAM
- Platform: Node ${machine.node} on ${machine.platform}
- Date: ${machine.date.slice(0, 16).replace("T", " ")} UTC; load ${machine.loadAverage1m.toFixed(2)} (1-minute load average)

${tables.bundles}

${tables.coldImport}

${tables.budgets}
`;
}

/** Writes bench/results/size.md (full runs only). */
export async function writeSizeReport(report) {
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(`${RESULTS_DIR}size.md`, report);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const short = isShortRun();
  const size = await measureSize({ short });
  const report = await sizeReport(size);
  console.log(report);
  if (!short) {
    await writeSizeReport(report);
    console.log(`Wrote ${RESULTS_DIR}size.md`);
  }
  const failed = sizeBudgetRows(size).filter((row) => !row.pass);
  if (failed.length > 0) {
    console.error(`Over budget: ${failed.map((row) => `${row.name} (${row.measured}, budget ${row.budget})`).join("; ")}`);
    // --report-only (CI): print the verdicts without failing; timing rows are too noisy to gate on.
    if (!process.argv.includes("--report-only")) process.exitCode = 1;
  }
}
