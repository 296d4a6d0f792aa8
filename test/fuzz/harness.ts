/**
 * The fuzz harness: runs one entry point on generated inputs and checks, for every input, that it
 * either returns a value its oracle accepts or throws what the API documents (an `E2eeError` with
 * one of the entry point's codes, or the documented `TypeError`/`RangeError` for a caller bug);
 * that it leaves the built-in prototypes alone; that it settles within a generous time bound (a DoS guard, not a benchmark); and, across the
 * run, that the heap does not keep growing. Records the number of inputs for the figures table.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { E2EE_ERROR_CODES, E2eeError, type E2eeErrorCode } from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { expect } from "vitest";
import { recordFigure } from "../support/figures";
import { FUZZ_RUNS, fuzzParameters } from "./runs";

/**
 * The most one input may take, in milliseconds. Generous on purpose: hostile inputs are refused
 * in microseconds to a few milliseconds, so only a real blow-up (a hang, a quadratic path, an
 * unbounded KDF) reaches it. An attempt counts the smaller of its wall time and this process's
 * CPU time, so other processes on a busy machine cannot fail it; an input over the bound is timed
 * twice more and fails only if every attempt is over, so a garbage-collection pause cannot either.
 */
export const DOS_BOUND_MS = 250;

/** The most memory (heap and byte arrays) may grow across one entry point's run, after garbage collection. */
export const HEAP_GROWTH_BOUND_BYTES = 64 * 1024 * 1024;

/**
 * Memory allowed on top of {@link HEAP_GROWTH_BOUND_BYTES} for each 32-byte random draw during a
 * run: the secret-hygiene setup (test/support/secret-hygiene-setup.ts) learns every such draw as
 * a secret and keeps it, with its search index, for the rest of the file (about 0.6 KiB each,
 * measured). Entry points that seal (compacting or appending to a backup) draw one per success.
 */
const RETAINED_BYTES_PER_DRAW = 2048;

let randomDraws = 0;
{
  const webCrypto = globalThis.crypto;
  const draw = webCrypto.getRandomValues;
  Object.defineProperty(webCrypto, "getRandomValues", {
    configurable: true,
    writable: true,
    value: function getRandomValues(this: Crypto, array: ArrayBufferView | null): ArrayBufferView | null {
      if (array !== null && array.byteLength === 32) randomDraws++;
      return Reflect.apply(draw, this, [array]) as ArrayBufferView | null;
    },
  });
}

/** What an entry point did with one input. */
export type Outcome = { readonly kind: "returned"; readonly value: unknown } | { readonly kind: "threw"; readonly error: unknown };

/** One entry point under fuzzing. */
export interface EntryPoint<T> {
  /** The name in the figures table, e.g. `"parseEnvelope / safeParseEnvelope"`. */
  readonly name: string;
  /** The generated inputs. */
  readonly inputs: fc.Arbitrary<T>;
  /** Calls the entry point (sync or async). Builds any state it mutates afresh, so a retry sees the same. */
  readonly call: (input: T) => unknown;
  /** The `E2eeError` codes it may throw: SPEC.md §15 for its steps, and its JSDoc `@throws`. */
  readonly codes: readonly E2eeErrorCode[];
  /**
   * `true` when `error` is a non-`E2eeError` the API documents for this input: a `TypeError` or
   * `RangeError` for a caller bug (a wrong argument type, an out-of-range option). Default: none.
   */
  readonly documentedError?: (error: unknown, input: T) => boolean;
  /** Checks a returned value (the oracle); throw or `expect` to fail. Default: any value. */
  readonly returned?: (value: unknown, input: T) => void | Promise<void>;
  /** Further checks of a thrown `E2eeError`, e.g. that its message does not repeat the input. */
  readonly threw?: (error: E2eeError, input: T) => void | Promise<void>;
  /** Inputs to run; default {@link FUZZ_RUNS}. */
  readonly runs?: number;
  /** `false` to leave the run out of the figures (the harness's own tests). */
  readonly record?: boolean;
}

const collectGarbage = exposeGc();

function exposeGc(): () => void {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === "function") return existing as () => void;
  // A new context created after the flag is set gets `gc` as a global.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as unknown;
  if (typeof gc !== "function") throw new Error("cannot expose the garbage collector for the heap check");
  return gc as () => void;
}

/** Memory in use after a full collection: the JavaScript heap and the buffers outside it (byte arrays). */
export function settledHeapBytes(): number {
  collectGarbage();
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const BUILT_IN_PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];

/** The own members of the built-in prototypes an input could pollute, as one comparable string. */
export function prototypeFingerprint(): string {
  return BUILT_IN_PROTOTYPES.map((prototype) => Reflect.ownKeys(prototype).map(String).sort().join(",")).join("|");
}

/** How many own members the built-in prototypes have: a cheap check after every input. */
function prototypeMemberCount(): number {
  let count = 0;
  for (const prototype of BUILT_IN_PROTOTYPES) count += Reflect.ownKeys(prototype).length;
  return count;
}

/**
 * Runs `call` once and reports its outcome and duration: wall time, or with `cpu`, the smaller of
 * wall time and this process's CPU time (a system call, so only when wall time is in doubt).
 */
export async function timed(call: () => unknown, cpu = false): Promise<{ readonly outcome: Outcome; readonly ms: number }> {
  const cpuStart = cpu ? process.cpuUsage() : undefined;
  const start = performance.now();
  let outcome: Outcome;
  try {
    outcome = { kind: "returned", value: await call() };
  } catch (error) {
    outcome = { kind: "threw", error };
  }
  const wall = performance.now() - start;
  if (cpuStart === undefined) return { outcome, ms: wall };
  const used = process.cpuUsage(cpuStart);
  return { outcome, ms: Math.min(wall, (used.user + used.system) / 1000) };
}

/**
 * The first outcome of `call`, and its duration: the wall time when within `bound`, otherwise the
 * shortest of two more attempts, each the smaller of wall and CPU time (see {@link DOS_BOUND_MS}).
 */
export async function timedWithRetry(call: () => unknown, bound: number = DOS_BOUND_MS): Promise<{ readonly outcome: Outcome; readonly ms: number }> {
  const first = await timed(call);
  let ms = first.ms;
  for (let attempt = 0; attempt < 2 && ms > bound; attempt++) ms = attempt === 0 ? (await timed(call, true)).ms : Math.min(ms, (await timed(call, true)).ms);
  return { outcome: first.outcome, ms };
}

/** Describes a thrown value for a failure message, without dumping large inputs. */
export function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}${E2eeError.isInstance(error) ? ` ${error.code}` : ""}: ${error.message.slice(0, 200)}`;
  return `a thrown ${typeof error}`;
}

/** Fails unless `outcome` is a documented one for `entry` and `input`. */
export async function checkOutcome<T>(entry: EntryPoint<T>, input: T, outcome: Outcome): Promise<void> {
  if (outcome.kind === "returned") {
    await entry.returned?.(outcome.value, input);
    return;
  }
  const { error } = outcome;
  if (entry.documentedError?.(error, input) === true) return;
  // Plain checks on this path (every refused input takes it): `expect` only to report a failure.
  if (!E2eeError.isInstance(error)) expect.fail(`${entry.name} threw an untyped error: ${describeThrown(error)}`);
  if (!E2EE_ERROR_CODES.includes(error.code)) expect.fail(`${entry.name} threw an unknown code: ${describeThrown(error)}`);
  if (!entry.codes.includes(error.code)) expect.fail(`${entry.name} threw ${error.code}, which it does not document: ${describeThrown(error)}`);
  await entry.threw?.(error, input);
}

/**
 * Fuzzes one entry point: every input must settle within {@link DOS_BOUND_MS} with a documented
 * outcome, and the heap must not grow by more than {@link HEAP_GROWTH_BOUND_BYTES} across the
 * run. Records the number of inputs tried as the entry point's `fuzz` figure.
 */
export async function fuzz<T>(entry: EntryPoint<T>): Promise<void> {
  const runs = entry.runs ?? FUZZ_RUNS;
  let inputs = 0;
  const prototypes = prototypeFingerprint();
  const prototypeMembers = prototypeMemberCount();
  const drawsBefore = randomDraws;
  const heapBefore = settledHeapBytes();
  await fc.assert(
    fc.asyncProperty(entry.inputs, async (input) => {
      inputs++;
      const { outcome, ms } = await timedWithRetry(() => entry.call(input));
      if (ms > DOS_BOUND_MS) expect.fail(`${entry.name} took ${ms.toFixed(0)} ms on one input (bound ${DOS_BOUND_MS} ms)`);
      await checkOutcome(entry, input, outcome);
      if (prototypeMemberCount() !== prototypeMembers) expect.fail(`${entry.name} added or removed a member of a built-in prototype`);
    }),
    fuzzParameters(runs),
  );
  expect(prototypeFingerprint(), `${entry.name} changed a built-in prototype`).toBe(prototypes);
  const growth = settledHeapBytes() - heapBefore;
  const draws = randomDraws - drawsBefore;
  expect(growth, `${entry.name}: heap grew by ${growth} bytes over ${inputs} inputs (${draws} random draws)`).toBeLessThan(
    HEAP_GROWTH_BOUND_BYTES + draws * RETAINED_BYTES_PER_DRAW,
  );
  expect(inputs).toBeGreaterThanOrEqual(runs);
  if (entry.record !== false) recordFigure("fuzz", entry.name, inputs);
}

/** `true` for a `TypeError` (a caller bug the API documents as one). */
export const isTypeError = (error: unknown): boolean => error instanceof TypeError;

/** `true` for a `RangeError` (an out-of-range option the API documents as one). */
export const isRangeError = (error: unknown): boolean => error instanceof RangeError;
