// WebCrypto's X25519 and Ed25519 in a real browser give noble's results: the second part of
// `pnpm test:browser` (after the private chat). Not a *.test.ts file: `pnpm test` never needs a
// browser; there, webcrypto-curves.test.ts checks the same calls on Node's WebCrypto.
//
// It bundles the SDK's own asynchronous curve calls (packages/crypto/src, with esbuild) and noble
// for a localhost page, drives Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH; never a
// downloaded browser) with playwright-core, and in the page:
// - checks the curves' self-test passed (`getNativeCrypto().asyncCurves` is "webcrypto");
// - runs every Wycheproof x25519 and ed25519 case through `x25519ExchangeAsync` and `verifyAsync`
//   and compares each outcome with noble's (and Wycheproof's verdict), counting the cases that
//   reached Chromium's WebCrypto. Without ../shared/vectors/wycheproof these cases are skipped with
//   a message, and the random cases below still run;
// - compares 200 random exchanges and signatures with noble's, byte for byte;
// - runs long base64url texts through the browser's `Uint8Array.fromBase64` and `toBase64` as the
//   SDK uses them (counted), and checks that they give the JS codec's answers: the same texts for
//   random bytes, and a refusal of every non-canonical text (whitespace, padding, characters
//   outside the alphabet, non-zero unused bits, a lone last character).
// Exits non-zero with a one-line reason on any difference.
import { existsSync, readFileSync } from "node:fs";
import { clearTimeout, setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CHROMIUM, MODULE_PAGE, hasChromium, openStaticPage } from "./static-page.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WYCHEPROOF = fileURLToPath(new URL("../../../shared/vectors/wycheproof/", import.meta.url));
const TOTAL_MS = 120_000;

// The SDK's internal modules, as the packages use them, and noble as the reference.
const ENTRY = `
export { getNativeCrypto, nativeCurves, setNativeCrypto } from "./src/native.ts";
export { base64urlDecode, base64urlEncode } from "./src/bytes.ts";
export { x25519ExchangeAsync } from "./src/x25519.ts";
export { signAsync, verifyAsync } from "./src/signing.ts";
export { ed25519, x25519 } from "@noble/curves/ed25519.js";
`;

// Runs in the page. WebCrypto calls, and the browser's base64 calls, are counted before the SDK runs.
const PAGE_SCRIPT = `
const counts = { deriveBits: 0, verify: 0, sign: 0 };
for (const name of Object.keys(counts)) {
  const original = SubtleCrypto.prototype[name];
  SubtleCrypto.prototype[name] = function (...args) { counts[name]++; return original.apply(this, args); };
}
const base64Calls = { fromBase64: 0, toBase64: 0 };
if (typeof Uint8Array.fromBase64 === "function" && typeof Uint8Array.prototype.toBase64 === "function") {
  const fromBase64 = Uint8Array.fromBase64;
  const toBase64 = Uint8Array.prototype.toBase64;
  Uint8Array.fromBase64 = function (...args) { base64Calls.fromBase64++; return fromBase64.apply(this, args); };
  Uint8Array.prototype.toBase64 = function (...args) { base64Calls.toBase64++; return toBase64.apply(this, args); };
}
const sdk = await import("/curves.mjs");
const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const toHex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
const zero = (bytes) => bytes.every((byte) => byte === 0);
globalThis.runCurves = async ({ x25519Cases, ed25519Groups }) => {
  await sdk.nativeCurves();
  const differences = [];
  const result = { asyncCurves: sdk.getNativeCrypto().asyncCurves, x25519: 0, ed25519: 0, random: 0 };
  const before = { ...counts };
  for (const test of x25519Cases) {
    const [secret, peer] = [hex(test.private), hex(test.public)];
    const web = await sdk.x25519ExchangeAsync(secret, peer).then(({ shared }) => (zero(shared) ? "rejected" : toHex(shared)), () => "rejected");
    let noble;
    try { const shared = sdk.x25519.getSharedSecret(secret, peer); noble = zero(shared) ? "rejected" : toHex(shared); } catch { noble = "rejected"; }
    if (web !== noble) differences.push("x25519 tcId " + test.tcId + ": WebCrypto path " + web + ", noble " + noble);
    result.x25519++;
  }
  for (const group of ed25519Groups) {
    const publicKey = hex(group.publicKey.pk);
    for (const test of group.tests) {
      const [message, signature] = [hex(test.msg), hex(test.sig)];
      const web = await sdk.verifyAsync(signature, message, publicKey);
      let noble;
      try { noble = sdk.ed25519.verify(signature, message, publicKey, { zip215: false }); } catch { noble = false; }
      if (web !== noble || web !== (test.result === "valid")) differences.push("ed25519 tcId " + test.tcId + ": WebCrypto path " + web + ", noble " + noble + ", Wycheproof " + test.result);
      result.ed25519++;
    }
  }
  result.vectorCalls = { deriveBits: counts.deriveBits - before.deriveBits, verify: counts.verify - before.verify };
  for (let i = 0; i < 200; i++) {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const peer = sdk.x25519.getPublicKey(crypto.getRandomValues(new Uint8Array(32)));
    const { shared, ownPublicKey } = await sdk.x25519ExchangeAsync(secret, peer);
    if (toHex(shared) !== toHex(sdk.x25519.getSharedSecret(secret, peer)) || toHex(ownPublicKey) !== toHex(sdk.x25519.getPublicKey(secret))) differences.push("random exchange " + i);
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const message = crypto.getRandomValues(new Uint8Array(i));
    const signature = await sdk.signAsync(seed, message);
    if (toHex(signature) !== toHex(sdk.ed25519.sign(message, seed))) differences.push("random signature " + i);
    if (!(await sdk.verifyAsync(signature, message, sdk.ed25519.getPublicKey(seed)))) differences.push("random verification " + i);
    result.random++;
  }
  result.calls = { ...counts };
  result.differences = differences.slice(0, 10);
  result.differenceCount = differences.length;
  return result;
};
// Long texts (from 96 bytes encoded, 1,024 characters decoded) take the native path when on.
globalThis.runBase64url = () => {
  const onBothPaths = (run) => {
    sdk.setNativeCrypto("off");
    const js = run();
    sdk.setNativeCrypto("auto");
    return { native: run(), js };
  };
  const show = (value) => (value === undefined ? "undefined" : typeof value === "string" ? value.length + " characters" : value.length + " bytes");
  const differences = [];
  let texts = 0;
  let refusals = 0;
  for (const length of [96, 97, 98, 767, 768, 769, 770, 771, 1000, 4096, 4097, 4098, 65536]) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const encoded = onBothPaths(() => sdk.base64urlEncode(bytes));
    if (encoded.native !== encoded.js) differences.push("encode " + length + " bytes");
    const text = encoded.js;
    const decoded = onBothPaths(() => sdk.base64urlDecode(text));
    if (decoded.native === undefined || decoded.js === undefined || toHex(decoded.native) !== toHex(bytes) || toHex(decoded.js) !== toHex(bytes)) differences.push("decode " + length + " bytes");
    else if (Object.getPrototypeOf(decoded.native) !== Uint8Array.prototype || decoded.native.byteOffset !== 0 || decoded.native.buffer.byteLength !== length) differences.push("decode " + length + " bytes: not a plain Uint8Array owning its memory");
    texts++;
    if (text.length < 1024) continue;
    const middle = text.length >> 1;
    const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const lastValue = URL_SAFE.indexOf(text.at(-1));
    const unusedBits = text.length % 4 === 2 ? 0x0f : text.length % 4 === 3 ? 0x03 : 0;
    const bad = [
      text + " ", " " + text, text.slice(0, middle) + "\\n" + text.slice(middle), text.slice(0, middle) + "\\t" + text.slice(middle),
      text + "=", text + "==", text.slice(0, -1) + "+", text.slice(0, middle) + "/" + text.slice(middle + 1),
      text.slice(0, middle) + "é" + text.slice(middle + 1), text.slice(0, middle) + "\\u0141" + text.slice(middle + 1),
      text.slice(0, middle) + "." + text.slice(middle + 1), text.slice(0, middle) + "\\ud800" + text.slice(middle + 1),
      // The same length as a valid text, so only the codec can refuse them: whitespace or padding in place of characters.
      text.slice(0, middle) + " " + text.slice(middle + 1), text.slice(0, -1) + "=", text.slice(0, -2) + "==", text.slice(0, -4) + "A\\nA=",
    ];
    if (unusedBits !== 0) bad.push(text.slice(0, -1) + URL_SAFE[lastValue | 1]);
    if (text.length % 4 === 0) bad.push(text + "A"); // a lone last character
    for (const variant of bad) {
      if (variant === text) continue;
      const outcome = onBothPaths(() => sdk.base64urlDecode(variant));
      if (outcome.native !== undefined || outcome.js !== undefined) differences.push("accepted a non-canonical text of " + variant.length + " characters: native " + show(outcome.native) + ", JS " + show(outcome.js));
      refusals++;
    }
  }
  return { texts, refusals, calls: { ...base64Calls }, differences: differences.slice(0, 10), differenceCount: differences.length };
};
`;

function wycheproof(name) {
  const file = `${WYCHEPROOF}${name}`;
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

async function main() {
  const timer = setTimeout(() => fail(`did not finish within ${TOTAL_MS / 1000} s`), TOTAL_MS);
  if (!hasChromium()) fail(`no Chromium at ${CHROMIUM} (install it with apt-get install chromium, or set CHROMIUM_PATH)`);
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: `${ROOT}packages/crypto`, sourcefile: "curves-entry.ts", loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["@domvia/source"],
    logLevel: "silent",
  });
  const { page, version, pageErrors, close } = await openStaticPage(
    {
      "/": MODULE_PAGE,
      "/page.mjs": { type: "text/javascript", body: PAGE_SCRIPT },
      "/curves.mjs": { type: "text/javascript", body: bundle.outputFiles[0].text },
    },
    "runCurves",
  );
  try {
    const x25519 = wycheproof("x25519_test.json");
    const ed25519 = wycheproof("ed25519_test.json");
    if (x25519 === undefined || ed25519 === undefined) console.log(`  - Wycheproof cases skipped: vectors not found at ${WYCHEPROOF}`);
    const input = { x25519Cases: x25519?.testGroups.flatMap((group) => group.tests) ?? [], ed25519Groups: ed25519?.testGroups ?? [] };
    const result = await page.evaluate((cases) => globalThis.runCurves(cases), input);
    if (pageErrors.length > 0) fail(`the page threw: ${pageErrors[0].message}`);
    if (result.asyncCurves !== "webcrypto") fail(`the SDK did not accept Chromium's curves: asyncCurves is ${result.asyncCurves}`);
    if (result.differenceCount > 0) fail(`${result.differenceCount} differences from noble, first: ${result.differences.join("; ")}`);
    if (x25519 !== undefined && (result.x25519 < 500 || result.vectorCalls.deriveBits < 500)) fail(`too few x25519 cases reached WebCrypto: ${JSON.stringify(result)}`);
    if (ed25519 !== undefined && (result.ed25519 < 100 || result.vectorCalls.verify < 50)) fail(`too few ed25519 cases reached WebCrypto: ${JSON.stringify(result)}`);
    if (result.calls.sign < 200) fail(`signatures did not run on WebCrypto: ${JSON.stringify(result.calls)}`);
    console.log(
      `  - ${version}: ${result.x25519} Wycheproof x25519 cases (${result.vectorCalls.deriveBits} WebCrypto derivations), ` +
        `${result.ed25519} ed25519 cases (${result.vectorCalls.verify} WebCrypto verifications), ${result.random} random exchanges and signatures: all as noble`,
    );
    const base64 = await page.evaluate(() => globalThis.runBase64url());
    if (pageErrors.length > 0) fail(`the page threw: ${pageErrors[0].message}`);
    if (base64.differenceCount > 0) fail(`${base64.differenceCount} base64url differences, first: ${base64.differences.join("; ")}`);
    if (base64.calls.fromBase64 === 0 || base64.calls.toBase64 === 0) fail(`base64url did not use Uint8Array.fromBase64 and toBase64: ${JSON.stringify(base64.calls)}`);
    console.log(
      `  - base64url: ${base64.texts} long texts encoded and decoded, ${base64.refusals} non-canonical ones refused, as the JS codec does ` +
        `(Uint8Array.fromBase64 ${base64.calls.fromBase64} calls, toBase64 ${base64.calls.toBase64})`,
    );
  } finally {
    await close();
    clearTimeout(timer);
  }
  console.log("WebCrypto curves and base64url browser test passed");
}

function fail(reason) {
  console.error(`WebCrypto curves and base64url browser test failed: ${reason}`);
  process.exit(1);
}

main().catch((error) => fail(error?.stack ?? String(error)));
