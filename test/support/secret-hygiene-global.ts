/**
 * Secret hygiene, the final check: a vitest `globalSetup` (root `vitest.config.ts`). It gives the
 * workers a directory for their findings (`secret-hygiene-setup.ts` writes one line per leak)
 * and, after the run, fails it if any worker found a leak, even one that happened after its
 * file's own `afterAll` check. It also checks the log lines that reach the main process
 * ({@link checkConsoleLog}, the config's `onConsoleLog`) for plaintext markers.
 *
 * Set `DOMVIA_SECRET_HYGIENE_STATS=1` to print what was checked and what it cost.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { SecretIndex } from "./secret-hygiene.ts";

interface MainProcessState {
  readonly index: SecretIndex;
  readonly leaks: string[];
}

const STATE = Symbol.for("domvia.secretHygiene.main");

function mainState(): MainProcessState {
  const holder = globalThis as unknown as Record<symbol, MainProcessState | undefined>;
  holder[STATE] ??= { index: new SecretIndex(), leaks: [] };
  return holder[STATE];
}

/**
 * For the config's `onConsoleLog`: a log line that reached the main process holding a
 * plaintext marker or a known test plaintext is recorded and withheld (`false`). Workers have
 * already checked their lines for keys, which only they know.
 */
export function checkConsoleLog(log: string, origin: string | undefined): false | undefined {
  const state = mainState();
  const matches = state.index.scan(log);
  if (matches.length === 0) return undefined;
  state.leaks.push(`log line from ${origin ?? "an unknown test"}: ${matches[0]!.secret.label}: ${state.index.redactedExcerpt(log, matches[0]!)}`);
  return false;
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "domvia-secret-hygiene-"));
  project.provide("secretHygieneDir", dir);
  return () => {
    const leaks: string[] = mainState().leaks.splice(0); // one teardown per project: report once
    const perFile: { file: string; milliseconds: number; characters: number }[] = [];
    const totals = { files: 0, errors: 0, logs: 0, serialisations: 0, characters: 0, keys: 0, milliseconds: 0, failures: 0, skipped: 0, unchecked: 0 };
    for (const name of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
        if (line === "") continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (name.startsWith("leaks-")) {
          leaks.push(`${String(entry["file"])}: ${String(entry["sink"])} built by ${String(entry["origin"])}: ${String(entry["encoding"])} of ${String(entry["secret"])}`);
        } else {
          totals.files++;
          perFile.push({ file: String(entry["file"]), milliseconds: Number(entry["milliseconds"] ?? 0), characters: Number(entry["characters"] ?? 0) });
          for (const key of ["errors", "logs", "serialisations", "characters", "keys", "milliseconds", "failures", "skipped", "unchecked"] as const) totals[key] += Number(entry[key] ?? 0);
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    if ((process.env["DOMVIA_SECRET_HYGIENE_STATS"] === "1" && totals.files > 0) || leaks.length > 0) {
      console.error(
        `secret hygiene: ${totals.files} files; checked ${totals.errors} errors, ${totals.logs} log lines, ` +
          `${totals.serialisations} serialisations (${totals.characters} characters) against ${totals.keys} keys ` +
          `in ${Math.round(totals.milliseconds)} ms of worker time; ${totals.skipped} errors built by dependencies held a secret (not reported); ` +
          `${totals.unchecked} serialisations of over 100,000 objects not checked`,
      );
      const costliest = perFile.sort((a, b) => b.milliseconds - a.milliseconds).slice(0, 5);
      console.error(`  costliest: ${costliest.map((f) => `${f.file} ${Math.round(f.milliseconds)} ms / ${f.characters} characters`).join("; ")}`);
    }
    if (leaks.length === 0) return;
    process.exitCode = 1;
    const error = new Error(`secret hygiene: ${leaks.length} secret(s) left the SDK during the run (values redacted):\n${leaks.map((leak) => `  - ${leak}`).join("\n")}`);
    error.stack = error.message; // the report is the message; this module's stack says nothing
    throw error;
  };
}
