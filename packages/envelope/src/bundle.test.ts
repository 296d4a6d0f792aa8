/**
 * Servers import only @domvia/e2ee-envelope, so it must hold no cipher code. This bundles the
 * package as a server would (esbuild, ESM, minified) and looks for the fingerprints of noble's
 * AES and hash code. The same check on @domvia/e2ee-crypto must find them, so the test proves
 * it can fail.
 */
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    minify: true,
    conditions: ["@domvia/source"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/** Strings that survive minification in noble's ciphers and hashes. */
const CIPHER_FINGERPRINTS = [/sbox/i, /pkcs7/i, /outputLen/, /AAD not supported/, /key-commitment/];

function fingerprints(code: string): string[] {
  return CIPHER_FINGERPRINTS.filter((pattern) => pattern.test(code)).map(String);
}

describe("the envelope package bundle", () => {
  it("holds no cipher or hash code", async () => {
    const code = await bundle(join(packagesDir, "envelope", "src", "index.ts"));
    expect(code.length).toBeGreaterThan(1000);
    expect(code).not.toMatch(/@noble/);
    expect(fingerprints(code)).toEqual([]);
  });

  it("is told apart from a bundle that does hold cipher code", async () => {
    const code = await bundle(join(packagesDir, "crypto", "src", "index.ts"));
    expect(fingerprints(code).length).toBeGreaterThanOrEqual(3);
  });
});
