#!/usr/bin/env node
// Prints the figures the adversarial suites recorded (test/support/figures.ts: one JSON line per
// figure, `{ suite, subject, count }`) as tables: fuzz entry point -> inputs run, mutation object ->
// mutations tried. SECURITY.md's table is filled from this output.
//
// Usage:
//   node scripts/print-figures.mjs FILE
//       print the figures in FILE
//   node scripts/print-figures.mjs [--runs N] -- COMMAND [ARGS...]
//       run COMMAND with DOMVIA_FIGURES_FILE set to a fresh temporary file (and DOMVIA_FUZZ_RUNS=N
//       when --runs is given), then print what it recorded and exit with COMMAND's status.
//       `pnpm test:fuzz` runs the fuzz and mutation suites this way.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TITLES = { fuzz: ["Fuzzing: entry point", "inputs run"], mutation: ["Mutation: object", "mutations tried"], vectors: ["Vectors: file", "vectors checked"] };

/** The figures in `file`, summed per suite and subject (a subject may be recorded more than once). */
function readFigures(file) {
  const totals = new Map();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return totals;
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const { suite, subject, count } = JSON.parse(line);
    if (!totals.has(suite)) totals.set(suite, new Map());
    const bySubject = totals.get(suite);
    bySubject.set(subject, (bySubject.get(subject) ?? 0) + count);
  }
  return totals;
}

function printTables(totals) {
  if (totals.size === 0) {
    console.log("No figures were recorded.");
    return;
  }
  const order = [...Object.keys(TITLES), ...[...totals.keys()].filter((suite) => !(suite in TITLES))];
  for (const suite of order) {
    const bySubject = totals.get(suite);
    if (bySubject === undefined) continue;
    const [subjectTitle, countTitle] = TITLES[suite] ?? [suite, "count"];
    const rows = [...bySubject].sort(([a], [b]) => a.localeCompare(b)).map(([subject, count]) => [subject, count.toLocaleString("en-US")]);
    const total = [...bySubject.values()].reduce((sum, count) => sum + count, 0);
    rows.push([`total (${bySubject.size})`, total.toLocaleString("en-US")]);
    const width = Math.max(subjectTitle.length, ...rows.map(([subject]) => subject.length));
    const countWidth = Math.max(countTitle.length, ...rows.map(([, count]) => count.length));
    console.log(`\n| ${subjectTitle.padEnd(width)} | ${countTitle.padStart(countWidth)} |`);
    console.log(`| ${"-".repeat(width)} | ${"-".repeat(countWidth - 1)}: |`);
    for (const [subject, count] of rows) console.log(`| ${subject.padEnd(width)} | ${count.padStart(countWidth)} |`);
  }
}

const args = process.argv.slice(2);
const separator = args.indexOf("--");
if (separator === -1) {
  if (args.length !== 1) {
    console.error("usage: print-figures.mjs FILE | print-figures.mjs [--runs N] -- COMMAND [ARGS...]");
    process.exit(2);
  }
  printTables(readFigures(args[0]));
} else {
  const options = args.slice(0, separator);
  const [command, ...commandArgs] = args.slice(separator + 1);
  const env = { ...process.env };
  const runs = options.indexOf("--runs");
  if (runs !== -1) env.DOMVIA_FUZZ_RUNS = options[runs + 1];
  const dir = mkdtempSync(join(tmpdir(), "domvia-figures-"));
  env.DOMVIA_FIGURES_FILE = join(dir, "figures.jsonl");
  const started = Date.now();
  // A shell on Windows only, so that `vitest` resolves to its .cmd shim there.
  const result = spawnSync(command, commandArgs, { stdio: "inherit", env, shell: process.platform === "win32" });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  printTables(readFigures(env.DOMVIA_FIGURES_FILE));
  console.log(`\n${command} ${commandArgs.join(" ")}: ${seconds} s, exit status ${result.status ?? result.signal}`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(result.status ?? 1);
}
