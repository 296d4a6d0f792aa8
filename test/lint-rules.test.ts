// The lint rules that keep secrets out of logs and randomness in the CSPRNG (eslint.config.js)
// really fire on package sources, and a violation fails `pnpm lint` (`eslint .`, exit code 1).
// Code is linted as text under a package-source path: no file is written.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE = "packages/crypto/src/lint-probe.ts";
const eslint = new ESLint({ cwd: REPO_ROOT });

async function rulesBroken(code: string, filePath = SOURCE): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((message) => message.severity === 2).map((message) => message.ruleId ?? "parse error");
}

describe("package sources", () => {
  it.each([
    ["console.log", "export function f(): void { console.log('x'); }", "no-console"],
    ["console.error", "export function f(): void { console.error('x'); }", "no-console"],
    ["console through globalThis", "export function f(): void { globalThis.console.log('x'); }", "no-restricted-syntax"],
    ["Math.random", "export const r = Math.random();", "no-restricted-properties"],
    ["Math['random']", "export const r = Math['random']();", "no-restricted-properties"],
    ["Math.random destructured", "const { random } = Math; export const r = random();", "no-restricted-properties"],
    ["Math.random through globalThis", "export const r = globalThis.Math.random();", "no-restricted-syntax"],
    ["JSON.parse", "export const v: unknown = JSON.parse('1');", "no-restricted-syntax"],
    ["JSON['parse']", "export const v: unknown = JSON['parse']('1');", "no-restricted-syntax"],
    ["JSON.parse kept in a variable", "const parse = JSON.parse; export const v: unknown = parse('1');", "no-restricted-syntax"],
    ["JSON.parse through globalThis", "export const v: unknown = globalThis.JSON.parse('1');", "no-restricted-syntax"],
    ["a node: import", "import { readFileSync } from 'node:fs'; export const read = readFileSync;", "no-restricted-imports"],
  ])("may not use %s", async (_name, code, rule) => {
    expect(await rulesBroken(code)).toContain(rule);
  });

  it("may use JSON.stringify, crypto.getRandomValues and the sanctioned parser", async () => {
    const code = [
      "import { safeParseJson } from '@domvia/e2ee-envelope';",
      "export const text = JSON.stringify({ a: 1 });",
      "export const bytes = crypto.getRandomValues(new Uint8Array(32));",
      "export const parsed = safeParseJson('1');",
    ].join("\n");
    expect(await rulesBroken(code)).toEqual([]);
  });

  it("leave tests and test support free to log and parse", async () => {
    const code = "console.log(JSON.parse('1'), Math.random());";
    expect(await rulesBroken(code, "packages/crypto/src/lint-probe.test.ts")).toEqual([]);
    expect(await rulesBroken(code, "test/support/lint-probe.ts")).toEqual([]);
  });
});

describe("pnpm lint", () => {
  function eslintExitCode(code: string): Promise<number> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        ["node_modules/eslint/bin/eslint.js", "--stdin", "--stdin-filename", SOURCE],
        { cwd: REPO_ROOT, timeout: 60_000 },
        (error) => resolve(error === null ? 0 : typeof error.code === "number" ? error.code : -1),
      );
      child.stdin!.end(code);
    });
  }

  it("fails with exit code 1 (lint errors; a crash would be 2) on a package source that logs", async () => {
    expect(await eslintExitCode("export function f(key: string): void { console.log(key); }\n")).toBe(1);
  }, 60_000);
});
