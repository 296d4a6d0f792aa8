// Key sharing in a real browser: Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH), headless,
// driven by playwright-core, on a localhost page that loads an esbuild browser bundle of the built
// façade. In the same page and the same rounds it times sharing one key version with 10 to 1,000
// devices through `shareRoomKeyAsync` (X25519 and Ed25519 on WebCrypto, after the SDK's
// self-test) and through `shareRoomKey` (noble's pure JS, what a browser runs without WebCrypto's
// curves), cold (bundles verified on first sight) and warm (a later rotation). The bundles are
// made in Node beforehand and handed to the page as JSON, as a server would.
//
// Part of `pnpm bench` (bench/run.mjs). Without Chromium it reports why it skipped. Run alone,
// after a build, it prints its table and writes nothing:
//   pnpm build && node bench/browser.mjs [--short]
// Timing stays out of tests.
import { pathToFileURL } from "node:url";
import { CHROMIUM, MODULE_PAGE, hasChromium, openStaticPage } from "../test/browser/static-page.mjs";
import { formatMs, formatRatio, isShortRun, markdownTable, median, pairedRatios } from "./common.mjs";
import { createBundles } from "./share-keys.mjs";
import { bundle } from "./size.mjs";

export const BROWSER_SETTINGS = Object.freeze({
  full: [
    { devices: 10, runs: 20 },
    { devices: 100, runs: 10 },
    { devices: 1000, runs: 5 },
  ],
  short: [
    { devices: 10, runs: 2 },
    { devices: 50, runs: 1 },
  ],
});

// Runs in the page. `sdk` is the bundled façade; every time is taken in the page.
const PAGE_SCRIPT = `
import * as sdk from "/sdk.mjs";
const time = async (run) => { const start = performance.now(); await run(); return performance.now() - start; };
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
 * Sharing in Chromium on both paths. Resolves to `{ skipped }` (with the reason) when Chromium or
 * playwright-core is missing, so `pnpm bench` still runs on a machine without a browser.
 */
export async function measureBrowser({ api, short, log }) {
  if (!hasChromium()) return { skipped: `no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)` };
  const settings = short ? BROWSER_SETTINGS.short : BROWSER_SETTINGS.full;
  const facade = await bundle('export * from "@domvia/realtime-e2ee";', "browser");
  const { page, version, pageErrors: errors, close } = await openStaticPage(
    {
      "/": MODULE_PAGE,
      "/page.mjs": { type: "text/javascript", body: PAGE_SCRIPT },
      "/sdk.mjs": { type: "text/javascript", body: facade.code },
    },
    "shareBench",
  );
  try {
    const result = { browser: `Chromium ${version}`, share: [] };
    for (const { devices, runs } of settings) {
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
  console.log(browser.skipped === undefined ? `\n${browser.browser}\n\n${browserTable(browser)}` : `skipped: ${browser.skipped}`);
}
