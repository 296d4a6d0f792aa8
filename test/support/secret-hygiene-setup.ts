/**
 * Secret hygiene, the collector: a vitest setup file (root `vitest.config.ts`, `setupFiles`) that
 * runs in every test worker before the test file and its SDK imports load. It learns the
 * secrets the tests create, watches where text leaves code, and fails a test file whose run put
 * a secret into:
 *
 * - an error message, an enumerable string or JSON field of the error, or its `cause`'s
 *   message, when SDK code (packages' sources, examples) constructed the error. `Error`,
 *   `TypeError`, `RangeError`, `SyntaxError`, `EvalError`, `ReferenceError`, `URIError` and
 *   `AggregateError` are replaced by transparent Proxies before any SDK module loads, so
 *   `new E2eeError(…)` reaches them through `super()`; the stack is re-captured so that it does
 *   not show the Proxy. Errors that tests construct (their own assertion messages), that vitest,
 *   chai or fast-check construct, and that the SDK's dependencies construct internally (zod's
 *   parse errors hold the input; the SDK replaces them with its own, which are checked) are not
 *   reported: the last kind is counted in the statistics;
 * - a log line: `console.*`, `process.stdout.write`, `process.stderr.write`, whoever calls them.
 *   A line that holds a secret is withheld and a notice printed instead;
 * - a serialisation: `JSON.stringify`, `util.inspect`, `util.format`, `util.formatWithOptions`,
 *   when the output holds a secret that the input did not already show in a string or byte
 *   array reachable through plain data: that is, one that a `toJSON`, `toString` or
 *   `util.inspect.custom` of a class instance (an SDK key object), or a getter, put there.
 *   Serialising an exported state that holds its keys by design is fine, and plain data is not
 *   even scanned. Inputs of more than 100,000 objects are counted, not checked.
 *
 * Secrets are learned from `crypto.getRandomValues` (every draw of exactly 32 bytes), and
 * plaintexts from `secretMarker` and the known test plaintexts (see `secret-hygiene.ts`).
 *
 * Findings are reported, redacted, by an `afterAll` hook of the file and written to the
 * directory that `secret-hygiene-global.ts` provides, whose teardown fails the whole run.
 * {@link captureLeaks} runs code with the checks on but diverts what they find to the caller:
 * the detector's own tests use it.
 */
import { createHash } from "node:crypto";
import { appendFileSync, readFileSync, readdirSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import util, { type InspectOptions } from "node:util";
import { afterAll, expect, inject } from "vitest";
import { SecretIndex, plainData, type SecretMatch } from "./secret-hygiene";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where workers write secret-hygiene findings; see secret-hygiene-global.ts. */
    secretHygieneDir: string;
  }
}

/** One leak, redacted: it never contains the secret. */
export interface SecretLeak {
  /** The test file, relative to the repository. */
  readonly file: string;
  /** The running test, if any. */
  readonly test: string | undefined;
  /** Where the text went: `error message`, `console.log`, `JSON.stringify`, … */
  readonly sink: string;
  /** The code that built the text: the first frame outside this module, relative. */
  readonly origin: string;
  /** Which secret, e.g. `32-byte random draw #3 (drawn in "…")`. */
  readonly secret: string;
  /** How it was written: `base64url`, `hex`, `recovery code`, `byte values`, `text`, … */
  readonly encoding: string;
  /** The text around it, with the secret and every other key-like run replaced. */
  readonly excerpt: string;
}

/** Counters a worker reports with its findings, to size the check's cost. */
interface HygieneStats {
  errors: number;
  logs: number;
  serialisations: number;
  characters: number;
  keys: number;
  milliseconds: number;
  /** Times a check itself threw (each is also a finding). */
  failures: number;
  /** Errors holding a secret that a dependency built, or that have no stack: not reported. */
  skipped: number;
  /** Serialisations of more than 100,000 objects: not checked. */
  unchecked: number;
}

type Origin = "product" | "dependency" | "test" | "tooling" | "unattributed";

interface Capture {
  readonly leaks: SecretLeak[];
  readonly includeTestCode: boolean;
}

interface Collector {
  readonly index: SecretIndex;
  readonly findings: SecretLeak[];
  readonly stats: HygieneStats;
  readonly pendingErrors: { error: Error; test: string | undefined }[];
  flushScheduled: boolean;
  busy: number;
  capture: Capture | undefined;
  flushErrors(): void;
}

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const STATE = Symbol.for("domvia.secretHygiene");
const OriginalError: ErrorConstructor = (globalThis as unknown as Record<symbol, { OriginalError?: ErrorConstructor }>)[STATE]?.OriginalError ?? Error;

/**
 * Runs `run` with the checks on, and returns what they found instead of failing the file.
 * Console lines that hold a secret are dropped, not printed. With `includeTestCode`, errors
 * constructed by test code count too (normally they are the tests' own assertion messages).
 *
 * @example
 * ```ts
 * const leaks = await captureLeaks(() => sdkCallThatMightLeak());
 * expect(leaks).toHaveLength(0);
 * ```
 */
export async function captureLeaks(run: () => unknown, options: { readonly includeTestCode?: boolean } = {}): Promise<SecretLeak[]> {
  const collector = installed();
  if (collector.capture !== undefined) throw new OriginalError("captureLeaks: already capturing");
  collector.flushErrors();
  const capture: Capture = { leaks: [], includeTestCode: options.includeTestCode === true };
  collector.capture = capture;
  try {
    await run();
  } catch {
    // A leaking call may also throw; its error was checked when it was constructed.
  } finally {
    collector.flushErrors();
    collector.capture = undefined;
  }
  return capture.leaks;
}

/** The worker's secret index, e.g. to learn a secret that did not come from a random draw. */
export function secretIndex(): SecretIndex {
  return installed().index;
}

function installed(): Collector {
  const collector = (globalThis as unknown as Record<symbol, Collector | undefined>)[STATE];
  if (collector === undefined) throw new OriginalError("secret hygiene: the setup file is not installed");
  return collector;
}

// ---------------------------------------------------------------------------------------------
// Installation: once per worker (each test file gets a fresh worker unless isolation is off).
// ---------------------------------------------------------------------------------------------

const collector: Collector = (globalThis as unknown as Record<symbol, Collector | undefined>)[STATE] ?? (await install());

afterAll(() => {
  collector.flushErrors();
  writeStats();
  const mine = collector.findings.splice(0);
  if (mine.length > 0) throw new OriginalError(formatLeaks(mine));
});

async function install(): Promise<Collector> {
  // First the error constructors, so every SDK class that extends them is defined on the Proxy.
  // Until the collector exists (a few lines down) they only fix up stacks.
  for (const name of ["Error", "TypeError", "RangeError", "SyntaxError", "EvalError", "ReferenceError", "URIError", "AggregateError"] as const) {
    wrapErrorConstructor(name);
  }
  const state: Collector & { readonly OriginalError: ErrorConstructor } = {
    index: new SecretIndex({ mnemonic: await loadMnemonic() }),
    findings: [],
    stats: { errors: 0, logs: 0, serialisations: 0, characters: 0, keys: 0, milliseconds: 0, failures: 0, skipped: 0, unchecked: 0 },
    pendingErrors: [],
    flushScheduled: false,
    busy: 0,
    capture: undefined,
    flushErrors,
    OriginalError,
  };
  Object.defineProperty(globalThis, STATE, { value: state, configurable: true });
  wrapRandomValues();
  wrapConsole();
  wrapStream(process.stdout, "process.stdout");
  wrapStream(process.stderr, "process.stderr");
  wrapSerialisers();
  return state;

  function flushErrors(): void {
    state.flushScheduled = false;
    const pending = state.pendingErrors.splice(0);
    if (pending.length === 0) return;
    guarded(state, () => {
      for (const { error, test } of pending) checkError(error, test);
    });
  }
}

/**
 * Runs a check with the hooks paused (so the check's own errors and strings are not checked),
 * timed, and never throwing into the code under test: a failure of the check itself is
 * recorded as a finding, so a broken check fails the run instead of passing it.
 */
function guarded<T>(collector: Collector, check: () => T): T | undefined {
  collector.busy++;
  const started = performance.now();
  try {
    return check();
  } catch (error) {
    collector.stats.failures++;
    const reason = error instanceof OriginalError ? `${error.name}: ${error.message}`.replace(/[A-Za-z0-9+/_=-]{20,}/g, "[…]") : typeof error;
    const leak: SecretLeak = { file: relative(currentFile() ?? "unknown file"), test: currentTest(), sink: "secret-hygiene check", origin: "the check itself", secret: "nothing", encoding: "none", excerpt: `the check threw (${reason})` };
    report(collector, leak);
    return undefined;
  } finally {
    collector.stats.milliseconds += performance.now() - started;
    collector.busy--;
  }
}

// ---------------------------------------------------------------------------------------------
// Sources of secrets
// ---------------------------------------------------------------------------------------------

/** Every 32-byte draw is a secret: room keys, Ed25519 and X25519 seeds, recovery entropy, HPKE skE. */
function wrapRandomValues(): void {
  const webCrypto = globalThis.crypto;
  const original = webCrypto.getRandomValues;
  let draws = 0;
  Object.defineProperty(webCrypto, "getRandomValues", {
    configurable: true,
    writable: true,
    value: function getRandomValues<T extends ArrayBufferView | null>(this: Crypto, array: T): T {
      const result = Reflect.apply(original, this, [array]) as T;
      if (array !== null && array.byteLength === 32) {
        const collector = installed();
        draws++;
        collector.stats.keys++;
        collector.index.learnKey(new Uint8Array(array.buffer, array.byteOffset, 32), `32-byte random draw #${draws} (drawn ${where()})`);
      }
      return result;
    },
  });
}

/**
 * The BIP-39 English code of 32 bytes (24 words: the entropy and an 8-bit SHA-256 checksum, 11
 * bits a word), with the word list of the @scure/bip39 that packages/crypto depends on. Written
 * out here because it runs for every key learned (and loading all of @scure/bip39 in every
 * worker would cost more than this); checked against two BIP-39 reference vectors.
 */
async function loadMnemonic(): Promise<(entropy: Uint8Array) => string> {
  const resolve = createRequire(new URL("../../packages/crypto/package.json", import.meta.url)).resolve;
  const { wordlist } = (await import(pathToFileURL(resolve("@scure/bip39/wordlists/english.js")).href)) as { wordlist: string[] };
  const mnemonic = (entropy: Uint8Array): string => {
    const bits = new Uint8Array(33);
    bits.set(entropy);
    bits[32] = createHash("sha256").update(entropy).digest()[0]!;
    const words: string[] = [];
    for (let word = 0; word < 24; word++) {
      let index = 0;
      for (let bit = word * 11; bit < word * 11 + 11; bit++) index = (index << 1) | ((bits[bit >>> 3]! >>> (7 - (bit & 7))) & 1);
      words.push(wordlist[index]!);
    }
    return words.join(" ");
  };
  // BIP-39 reference vectors (trezor/python-mnemonic vectors.json) for 256-bit entropy.
  const zeros = `${"abandon ".repeat(23)}art`;
  const sevenF = `${"legal winner thank year wave sausage worth useful ".repeat(2)}legal winner thank year wave sausage worth title`;
  if (mnemonic(new Uint8Array(32)) !== zeros || mnemonic(new Uint8Array(32).fill(0x7f)) !== sevenF) {
    throw new OriginalError("secret hygiene: the recovery-code encoding disagrees with the BIP-39 vectors");
  }
  return mnemonic;
}

// ---------------------------------------------------------------------------------------------
// Sinks
// ---------------------------------------------------------------------------------------------

function wrapErrorConstructor(name: "Error" | "TypeError" | "RangeError" | "SyntaxError" | "EvalError" | "ReferenceError" | "URIError" | "AggregateError"): void {
  const target = globalThis[name] as unknown as new (...args: unknown[]) => Error;
  const handler: ProxyHandler<typeof target> = {
    construct(constructor, args, newTarget) {
      const error = Reflect.construct(constructor, args, newTarget) as Error;
      track(error, handler.construct!);
      return error;
    },
    apply(constructor, thisArg, args) {
      const error = Reflect.apply(constructor as unknown as (...args: unknown[]) => Error, thisArg, args);
      track(error, handler.apply!);
      return error;
    },
  };
  Object.defineProperty(globalThis, name, { value: new Proxy(target, handler), writable: true, configurable: true });

  function track(error: Error, trap: (...args: never[]) => unknown): void {
    // The stack starts where it would without the Proxy: at `new E2eeError` or the caller.
    OriginalError.captureStackTrace(error, trap);
    const collector = (globalThis as unknown as Record<symbol, Collector | undefined>)[STATE];
    if (collector === undefined || collector.busy > 0) return;
    // A synchronous loop (a property test) may build thousands before a microtask runs: the
    // ones already queued are complete, so check them now rather than hold them all.
    if (collector.pendingErrors.length >= 256) collector.flushErrors();
    collector.pendingErrors.push({ error, test: currentTest() });
    // Checked after the constructor returns, when subclass fields (issues, key ids) are set.
    if (!collector.flushScheduled) {
      collector.flushScheduled = true;
      queueMicrotask(collector.flushErrors);
    }
  }
}

/**
 * Texts already found clean. A text that held no secret when checked cannot hold one learned
 * later (it existed before that random draw), so the many identical messages of the fuzz and
 * mutation suites are checked once.
 */
const cleanTexts = new Set<string>();

function checkError(error: Error, test: string | undefined): void {
  const collector = installed();
  collector.stats.errors++;
  const texts: [string, string][] = [["error message", String(error.message)]];
  // Enumerable fields (code, issues, key ids: what a subclass adds) and the cause's message.
  for (const key of Object.keys(error)) {
    const value: unknown = Object.getOwnPropertyDescriptor(error, key)?.value;
    if (typeof value === "string") texts.push([`error .${key}`, value]);
    else if (typeof value === "object" && value !== null && !key.startsWith("_")) texts.push([`error .${key}`, safeJson(value)]);
  }
  const cause = Object.getOwnPropertyDescriptor(error, "cause")?.value as unknown;
  if (cause instanceof OriginalError) texts.push(["error cause", String(cause.message)]);
  let origin: { kind: Origin; location: string } | undefined;
  for (const [sink, text] of texts) {
    if (cleanTexts.has(text)) continue;
    collector.stats.characters += text.length;
    const matches = collector.index.scan(text);
    if (matches.length === 0 && text.length <= 256) {
      if (cleanTexts.size >= 10_000) cleanTexts.clear();
      cleanTexts.add(text);
    }
    if (matches.length === 0) continue;
    origin ??= originOf(String(error.stack), constructorNames(error));
    if (origin.kind === "test" && collector.capture?.includeTestCode === true) origin = { ...origin, kind: "product" };
    if (origin.kind === "dependency" || origin.kind === "unattributed") {
      // zod's parse errors hold the input (zod even builds them without a stack); the SDK turns
      // them into its own errors, which are checked. A dependency error that escaped the SDK
      // would reach the tests as an untyped error, which the fuzz suites refuse.
      collector.stats.skipped++;
      return;
    }
    if (origin.kind !== "product") return;
    record(sink, text, matches, origin.location, test);
  }
}

function wrapConsole(): void {
  const methods = ["log", "info", "warn", "error", "debug", "trace", "dir", "dirxml", "table", "group", "groupCollapsed"] as const;
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  const { formatWithOptions, inspect } = util; // the originals: output is checked once, here
  for (const method of methods) {
    const original = target[method];
    if (typeof original !== "function") continue;
    const wrapper = function (this: unknown, ...args: unknown[]): void {
      const collector = installed();
      if (collector.busy > 0) return Reflect.apply(original, this, args);
      const leaked = guarded(collector, () => {
        collector.stats.logs++;
        const text = method === "dir" ? inspect(args[0], args[1] as InspectOptions) : formatWithOptions({}, ...args);
        return checkOutput(`console.${method}`, text, wrapper);
      });
      if (leaked !== true) return Reflect.apply(original, this, args);
      if (collector.capture !== undefined) return;
      return Reflect.apply(original, this, [`[secret hygiene: a console.${method} line was withheld because it held a secret]`]);
    };
    target[method] = wrapper;
  }
}

function wrapStream(stream: NodeJS.WriteStream, name: string): void {
  const original = stream.write;
  const wrapper = function (this: NodeJS.WriteStream, ...args: unknown[]): boolean {
    const chunk = args[0];
    const collector = (globalThis as unknown as Record<symbol, Collector | undefined>)[STATE];
    if (collector === undefined || collector.busy > 0) return Reflect.apply(original, this, args) as boolean;
    const leaked = guarded(collector, () => {
      const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array && chunk.length < 1 << 20 ? new TextDecoder().decode(chunk) : "";
      collector.stats.logs++;
      return checkOutput(`${name}.write`, text, wrapper);
    });
    if (leaked !== true) return Reflect.apply(original, this, args) as boolean;
    if (collector.capture !== undefined) return true;
    return Reflect.apply(original, this, [`[secret hygiene: a ${name} write was withheld because it held a secret]\n`]) as boolean;
  };
  stream.write = wrapper as typeof stream.write;
}

function wrapSerialisers(): void {
  const original = JSON.stringify;
  const wrapped = function stringify(this: unknown, ...args: unknown[]): string | undefined {
    const out = Reflect.apply(original, JSON, args) as string | undefined;
    if (typeof out === "string" && out.length >= 12) checkSerialised("JSON.stringify", out, args[0], wrapped, args[1]);
    return out;
  };
  Object.defineProperty(wrapped, "length", { value: 3 });
  JSON.stringify = wrapped as typeof JSON.stringify;

  const mutableUtil = util as unknown as Record<string, unknown>;
  for (const name of ["inspect", "format", "formatWithOptions"] as const) {
    const original = util[name] as (...args: unknown[]) => string;
    const handler: ProxyHandler<typeof original> = {
      apply(target, thisArg, args) {
        const out = Reflect.apply(target, thisArg, args) as string;
        if (typeof out === "string" && out.length >= 12) checkSerialised(`util.${name}`, out, args, handler.apply!);
        return out;
      },
    };
    // A Proxy keeps `inspect.custom`, `inspect.defaultOptions` and the rest working.
    mutableUtil[name] = new Proxy(original, handler);
  }
  syncBuiltinESMExports(); // `import { inspect } from "node:util"` now sees the wrappers too
}

function checkSerialised(sink: string, text: string, input: unknown, cut: (...args: never[]) => unknown, replacer?: unknown): void {
  const collector = (globalThis as unknown as Record<symbol, Collector | undefined>)[STATE];
  if (collector === undefined || collector.busy > 0) return;
  guarded(collector, () => {
    collector.stats.serialisations++;
    // Plain data serialises to what it holds: nothing to check unless code of its own ran.
    const data = plainData(input, util.types.isProxy, false);
    if (!data.complete) {
      // Test data of 100,000+ objects (the largest states): walking it costs more than the
      // check is worth; counted, so the total says how many were passed over.
      collector.stats.unchecked++;
      return;
    }
    if (!data.opaque && typeof replacer !== "function") return;
    collector.stats.characters += text.length;
    const matches = collector.index.scan(text);
    if (matches.length === 0) return;
    // Secrets the input already held in plain strings or bytes are not the serialiser's doing.
    const shown = collector.index.secretsIn(input, util.types.isProxy);
    const introduced = matches.filter((match) => !shown.has(match.secret));
    if (introduced.length === 0) return;
    const origin = originOf(callerStack(cut), new Set());
    if (origin.kind === "tooling") return;
    record(sink, text, introduced, origin.location, currentTest());
  });
}

/** Checks output that is a leak whoever wrote it (a log line). `true` when it held a secret. */
function checkOutput(sink: string, text: string, cut: (...args: never[]) => unknown): boolean {
  const collector = installed();
  collector.stats.characters += text.length;
  const matches = collector.index.scan(text);
  if (matches.length === 0) return false;
  record(sink, text, matches, originOf(callerStack(cut), new Set()).location, currentTest());
  return true;
}

// ---------------------------------------------------------------------------------------------
// Attribution and reports
// ---------------------------------------------------------------------------------------------

function record(sink: string, text: string, matches: readonly SecretMatch[], origin: string, test: string | undefined): void {
  const collector = installed();
  const file = relative(currentFile() ?? "unknown file");
  for (const match of matches) {
    const leak: SecretLeak = Object.freeze({
      file,
      test,
      sink,
      origin,
      secret: match.secret.label,
      encoding: match.encoding,
      excerpt: collector.index.redactedExcerpt(text, match),
    });
    report(collector, leak);
  }
}

/** To the capturing caller, or to the file's findings and the run's findings directory. */
function report(collector: Collector, leak: SecretLeak): void {
  if (collector.capture !== undefined) {
    collector.capture.leaks.push(leak);
    return;
  }
  collector.findings.push(leak);
  const dir = findingsDir();
  if (dir !== undefined) appendFileSync(`${dir}/leaks-${process.pid}.jsonl`, `${JSON.stringify(leak)}\n`);
}

function callerStack(cut: (...args: never[]) => unknown): string {
  const probe = new OriginalError();
  OriginalError.captureStackTrace(probe, cut);
  return String(probe.stack);
}

/** This module and the detector: their frames are the check's own. */
const COLLECTOR_FILES = ["/test/support/secret-hygiene-setup.ts", "/test/support/secret-hygiene.ts"];

/** Packages the SDK depends on: their frames are SDK code paths, other packages' are tooling. */
const PRODUCT_DEPENDENCIES: ReadonlySet<string> = new Set(
  readdirSync(`${REPO_ROOT}packages`).flatMap((name) => {
    try {
      const manifest = JSON.parse(readFileSync(`${REPO_ROOT}packages/${name}/package.json`, "utf8")) as { dependencies?: Record<string, string> };
      return Object.keys(manifest.dependencies ?? {}).filter((dependency) => !dependency.startsWith("@domvia/"));
    } catch {
      return [];
    }
  }),
);

/**
 * Who built a text: the first stack frame outside this module, Node's internals and the
 * constructors of the error itself. SDK sources and examples are `product`; the SDK's own
 * dependencies (zod, noble, scure) are `dependency`; test files and test support are `test`;
 * anything else in node_modules (vitest, chai, fast-check, …) is `tooling`.
 */
function originOf(stack: string, constructors: ReadonlySet<string>): { kind: Origin; location: string } {
  for (const line of stack.split("\n")) {
    const frame = /^\s+at (?:async )?(.*)$/.exec(line)?.[1];
    if (frame === undefined) continue;
    const constructed = /^new (\S+) /.exec(frame)?.[1];
    if (constructed !== undefined && constructors.has(constructed)) continue;
    const location = (/\(([^()]+)\)$/.exec(frame)?.[1] ?? frame).replace(/^file:\/\//, "");
    const path = location.replace(/:\d+(?::\d+)?$/, "");
    if (!path.includes("/") || path.startsWith("node:") || COLLECTOR_FILES.some((file) => path.endsWith(file))) continue;
    const nodeModules = path.lastIndexOf("/node_modules/");
    if (nodeModules !== -1) {
      const rest = path.slice(nodeModules + "/node_modules/".length).split("/");
      const name = rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
      return { kind: PRODUCT_DEPENDENCIES.has(name) ? "dependency" : "tooling", location: `${name} (node_modules)` };
    }
    const shown = relative(location);
    if (/\.test\.[cm]?[jt]sx?$/.test(path) || /(^|\/)(test|scripts|bench)\//.test(relative(path)) || /vitest\.config/.test(path)) {
      return { kind: "test", location: shown };
    }
    return { kind: "product", location: shown };
  }
  return { kind: "unattributed", location: "no stack frame" };
}

function constructorNames(error: Error): Set<string> {
  const names = new Set<string>();
  for (let prototype: unknown = Object.getPrototypeOf(error); prototype !== null && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string") names.add(name);
  }
  return names;
}

function formatLeaks(leaks: readonly SecretLeak[]): string {
  const lines = leaks.map(
    (leak, i) =>
      `  ${i + 1}. ${leak.sink} built by ${leak.origin}${leak.test === undefined ? "" : ` in "${leak.test}"`}: ` +
      `${leak.encoding} of ${leak.secret}\n     ${leak.excerpt}`,
  );
  return `secret hygiene: ${leaks.length} secret(s) left the SDK in ${leaks[0]!.file} (values redacted)\n${lines.join("\n")}`;
}

function writeStats(): void {
  const dir = findingsDir();
  if (dir === undefined) return;
  appendFileSync(`${dir}/stats-${process.pid}.jsonl`, `${JSON.stringify({ file: relative(currentFile() ?? ""), ...collector.stats })}\n`);
}

function findingsDir(): string | undefined {
  try {
    return inject("secretHygieneDir");
  } catch {
    return undefined;
  }
}

function currentTest(): string | undefined {
  return expect.getState().currentTestName;
}

function currentFile(): string | undefined {
  return expect.getState().testPath;
}

function where(): string {
  const test = currentTest();
  return test === undefined ? "outside a test" : `in "${test}"`;
}

function relative(path: string): string {
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length) : path;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}
