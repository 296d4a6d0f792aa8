/**
 * Docs that run: every ```ts block of the README files and docs/ is executed, file by file,
 * with the blocks of one file concatenated in order (later blocks use earlier ones' names,
 * as a reader would). A block whose info string says `no-run` is only shown, never run.
 * The quick-start example must contain the guide's two snippets verbatim.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = join(packageRoot, "..", "..");
const outDir = join(packageRoot, ".docs-snippets");

function markdownFiles(): string[] {
  const files = [join(repoRoot, "README.md")];
  for (const dir of ["packages", "examples"]) {
    for (const entry of readdirSync(join(repoRoot, dir))) {
      const readme = join(repoRoot, dir, entry, "README.md");
      if (existsSync(readme)) files.push(readme);
    }
  }
  const docs = join(repoRoot, "docs");
  if (existsSync(docs)) {
    for (const entry of readdirSync(docs)) if (entry.endsWith(".md")) files.push(join(docs, entry));
  }
  return files;
}

/** The ```ts / ```js blocks of a markdown text, minus those marked `no-run`. */
function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const fence = /^```(ts|typescript|js|javascript)(?![\w-])([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) {
    if (!(match[2] ?? "").includes("no-run")) blocks.push(match[3] ?? "");
  }
  return blocks;
}

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("documentation examples", () => {
  const files = markdownFiles().filter((file) => runnableBlocks(readFileSync(file, "utf8")).length > 0);

  it("finds the README's examples", () => {
    expect(files).toContain(join(repoRoot, "README.md"));
  });

  for (const file of files) {
    it(`runs every example in ${relative(repoRoot, file)}`, async () => {
      const source = runnableBlocks(readFileSync(file, "utf8")).join("\n");
      mkdirSync(outDir, { recursive: true });
      const target = join(outDir, `${relative(repoRoot, file).replaceAll(/[^A-Za-z0-9]/g, "_")}.ts`);
      writeFileSync(target, `${source}\nexport {};\n`);
      const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
      try {
        await import(/* @vite-ignore */ target);
      } finally {
        log.mockRestore();
      }
    });
  }
});

describe("the E2EE guide's snippets", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const quickstart = readFileSync(join(repoRoot, "examples", "quickstart", "main.mjs"), "utf8");
  const [encryptSnippet, keySnippet] = runnableBlocks(readme);

  it("appear in the README as the guide writes them", () => {
    expect(encryptSnippet).toContain('const roomKey = await generateAesGcmKey();');
    expect(encryptSnippet).toContain("const message = await decryptChatJson(encrypted, roomKey, {");
    expect(keySnippet).toContain("const restoredRoomKey = await importAesGcmKeyFromBase64(rawRoomKey);");
  });

  it("run unchanged in examples/quickstart", () => {
    expect(quickstart).toContain(encryptSnippet);
    expect(quickstart).toContain(keySnippet);
  });
});
