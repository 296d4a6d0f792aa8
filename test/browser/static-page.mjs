// A localhost page in Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH; never a downloaded
// browser), driven by playwright-core, for scripts that serve a few fixed files: the WebCrypto
// curves browser test here and the benchmark's key sharing in a browser (bench/browser.mjs).
// WebCrypto needs a secure context, and http://127.0.0.1 is one.
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/** `true` when the Chromium binary is there. */
export function hasChromium() {
  return existsSync(CHROMIUM);
}

/**
 * Serves `files` (path → { type, body }) on 127.0.0.1, opens "/" in a fresh headless Chromium and
 * waits until `globalThis[ready]` is a function (set by the page's module). Returns the page, the
 * browser's version, the errors the page threw, and `close()`, which stops both.
 */
export async function openStaticPage(files, ready) {
  const server = createServer((request, response) => {
    const file = files[request.url ?? "/"];
    if (file === undefined) response.writeHead(404).end();
    else response.writeHead(200, { "content-type": file.type }).end(file.body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const close = async () => {
    await browser.close();
    server.close();
  };
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction((name) => typeof globalThis[name] === "function", ready, { timeout: 10_000 });
    return { page, version: browser.version(), pageErrors, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** An HTML page that loads `/page.mjs` as a module. */
export const MODULE_PAGE = { type: "text/html", body: '<!doctype html><meta charset="utf-8"><title>page</title><script type="module" src="/page.mjs"></script>' };
