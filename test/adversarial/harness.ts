/**
 * Runs mutations against the SDK's readers and compares every outcome with an oracle.
 *
 * For each mutation and each *consumer* (an API that reads the object, e.g. `decryptChatMessage`
 * or `RoomKeyring.importState`), the expected outcome is decided first, without the SDK:
 *
 * 1. the reading procedure of SPEC.md §3.3 / §7.3, replayed by `wireVerdict` in `rules.ts` on the
 *    member rules written out from the spec: `PAYLOAD_TOO_LARGE`, `INVALID_ENVELOPE` or
 *    `UNSUPPORTED_VERSION` for anything malformed;
 * 2. for a well-formed object, the consumer's own `expect`, which applies the object's later steps
 *    (context, addressee, sender, signature, decryption; §6, §8.5, §9.4, §10.7, §10.8, §12.5,
 *    §13.4, §14) to the members that changed: a code, or acceptance with a check of the result.
 *
 * The outcome must match exactly: an `E2eeError` (`E2eeError.isInstance`) with that code, never
 * another code, an untyped error or data; `DECRYPTION_FAILED` must carry its one fixed message;
 * and after a refusal the consumer's target (a keyring) must be unchanged. Inputs are deep-frozen,
 * so an API that wrote to its argument would fail too.
 *
 * ## Adding an object
 *
 * The trust-store and replay-guard states are meant to be added this way:
 * 1. write the object's member rules in `rules.ts` as a `WireObjectSpec` (from SPEC.md's table);
 * 2. create `test/adversarial/<object>.mutation.test.ts` with a `MutationSuite` named after the
 *    object (that name is its row in SECURITY.md's figures), a fixture made through the public
 *    API, and one `Consumer` per reader (`importState`, and whatever uses the state); a local
 *    state that nothing authenticates accepts well-formed changes, so its `expect` returns
 *    `{ accept }` with a check that the result is exactly the changed state and that using it
 *    fails typed (see `local-state.mutation.test.ts`);
 * 3. run `fieldMutations`, `byteMutations` and `textMutations` through `suite.run`, assert no
 *    failures and the counts, and end with `suite.expectReached(context, families, codes)`.
 *
 * `MUTATION_PROFILE=<ms>` prints each family's mutation count and CPU time, and every consumer
 * run slower than `<ms>`, to stderr: for keeping the suites inside their time budget.
 */
import { E2eeError, type E2eeErrorCode } from "@domvia/e2ee-envelope";
import { afterAll, expect, type TestContext } from "vitest";
import { recordFigure } from "../support/figures";
import { deepFreeze, sameJson, type Family, type Mutation } from "./mutate";
import { wireVerdict, type WireObjectSpec } from "./rules";

type Verdict = ReturnType<typeof wireVerdict>;

/** What one input must do: fail with `code`, or be accepted and pass `accept`. */
export type Expectation = { readonly code: E2eeErrorCode } | { readonly accept: (result: unknown) => void | Promise<void> };

/** An API that reads the object under test. */
export interface Consumer {
  readonly name: string;
  /** The mutation families it runs (default: all). */
  readonly families?: readonly Family[];
  /** Mutations it skips (e.g. ones that would cost seconds). */
  readonly skip?: (mutation: Mutation) => boolean;
  /**
   * Of the field mutations, runs only every n-th malformed input (one the oracle refuses before
   * the consumer's own steps), and every well-formed one. For a second consumer of the same
   * reader, whose malformed inputs take the path the first consumer already covered in full.
   */
  readonly malformedSample?: number;
  /** Calls the API with the input (object or text); returns (or resolves to) its result. */
  readonly run: (input: unknown) => unknown;
  /** What a well-formed object (one that passed §3.3 / §7.3) must do. */
  readonly expect: (value: Record<string, unknown>, mutation: Mutation) => Expectation;
  /** After a refusal: what changed in the consumer's target, or `undefined` when nothing did. */
  readonly changedAfterRefusal?: () => string | undefined;
  /**
   * What the oracle judges instead of the raw input, for a consumer whose input is not the object
   * itself (e.g. the plaintext bytes inside a backup chunk): the object or text, or a code decided
   * before reading it (e.g. `DECRYPTION_FAILED` for bytes that are not UTF-8).
   */
  readonly oracleInput?: (input: unknown) => { readonly code: E2eeErrorCode } | { readonly code?: undefined; readonly input: unknown };
  /** Also runs every field mutation that JSON can represent (and is not heavy) as its JSON text (§18: same code either way). */
  readonly alsoAsText?: boolean;
}

/** The result of one `run`: how many mutations, consumer runs and refusals per code. */
export interface RunResult {
  readonly mutations: number;
  readonly runs: number;
  /** Mutations whose input was well-formed JSON (for text mutations: those that still parse). */
  readonly parsed: number;
  readonly failures: readonly string[];
  readonly outcomes: ReadonlyMap<string, number>;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

async function settle(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

function outcomeName(outcome: Outcome): string {
  if (outcome.ok) return "accepted";
  return E2eeError.isInstance(outcome.error) ? outcome.error.code : `untyped ${(outcome.error as Error)?.name ?? typeof outcome.error}`;
}

async function problemOf(expected: Expectation, outcome: Outcome): Promise<string | undefined> {
  if ("code" in expected) {
    if (outcome.ok) return `accepted, returning ${summary(outcome.value)} (expected ${expected.code})`;
    const { error } = outcome;
    if (!E2eeError.isInstance(error)) return `threw an untyped ${(error as Error)?.name ?? typeof error}: ${(error as Error)?.message ?? String(error)} (expected ${expected.code})`;
    if (error.code !== expected.code) return `${error.code} (${error.message}) instead of ${expected.code}`;
    if (error.code === "DECRYPTION_FAILED" && error.message !== "decryption failed") return `DECRYPTION_FAILED with a revealing message: ${error.message}`;
    return undefined;
  }
  if (!outcome.ok) {
    const { error } = outcome;
    return `refused with ${E2eeError.isInstance(error) ? `${error.code} (${error.message})` : `an untyped ${String(error)}`} (expected acceptance)`;
  }
  try {
    await expected.accept(outcome.value);
    return undefined;
  } catch (error) {
    return `accepted, but ${(error as Error).message.split("\n")[0]}`;
  }
}

function summary(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  return Array.isArray(value) ? `an array of ${value.length}` : `an object (${Object.keys(value).slice(0, 4).join(", ")})`;
}

/** `input` as JSON text, when JSON can represent it exactly (no NaN, no Infinity, no -0). */
function asText(input: unknown): string | undefined {
  if (typeof input !== "object" || input === null) return undefined;
  const text = JSON.stringify(input);
  return sameJson(JSON.parse(text), input) ? text : undefined;
}

/** One wire object's mutation suite: runs families of mutations and records the total for SECURITY.md. */
export class MutationSuite {
  readonly name: string;
  readonly spec: WireObjectSpec;
  readonly #outcomes = new Map<string, number>();
  readonly #families = new Set<Family>();
  #mutations = 0;

  /** Call at the top level of a test file (or a `describe`): it registers the figure with `afterAll`. */
  constructor(name: string, spec: WireObjectSpec) {
    this.name = name;
    this.spec = spec;
    afterAll(() => recordFigure("mutation", name, this.#mutations));
  }

  /** Mutations tried so far, over every family. */
  get mutations(): number {
    return this.#mutations;
  }

  /** Runs every mutation through every consumer that takes its family; never throws on a mismatch. */
  async run(consumers: readonly Consumer[], mutations: readonly Mutation[]): Promise<RunResult> {
    const cpu = process.cpuUsage();
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    let runs = 0;
    let parsed = 0;
    const sampled = new Map<Consumer, number>();
    for (const mutation of mutations) {
      this.#families.add(mutation.family);
      deepFreeze(mutation.input);
      // The oracle's verdict on each form of this input, shared by the consumers.
      const verdicts = new Map<unknown, Verdict>();
      if (typeof mutation.input !== "string" || (mutation.input.length <= this.spec.maxTextLength && isJson(mutation.input))) parsed++;
      for (const consumer of consumers) {
        if (consumer.families !== undefined && !consumer.families.includes(mutation.family)) continue;
        if (consumer.skip?.(mutation) === true) continue;
        const forms: [string, unknown][] = [["", mutation.input]];
        const text = consumer.alsoAsText === true && mutation.family === "field" && mutation.heavy !== true ? asText(mutation.input) : undefined;
        if (text !== undefined) forms.push([" (as text)", text]);
        for (const [form, input] of forms) {
          const judged = consumer.oracleInput?.(input) ?? { input };
          let verdict: Verdict | undefined;
          if (judged.code !== undefined) {
            verdict = judged;
          } else {
            verdict = verdicts.get(judged.input) ?? wireVerdict(this.spec, judged.input);
            verdicts.set(judged.input, verdict);
          }
          if (verdict.code !== undefined && consumer.malformedSample !== undefined && mutation.family === "field") {
            const seen = sampled.get(consumer) ?? 0;
            sampled.set(consumer, seen + 1);
            if (seen % consumer.malformedSample !== 0) continue;
          }
          const expected: Expectation = verdict.code !== undefined ? { code: verdict.code } : consumer.expect(verdict.value, mutation);
          runs++;
          const started = performance.now();
          const outcome = await settle(() => consumer.run(input));
          const took = performance.now() - started;
          if (process.env["MUTATION_PROFILE"] !== undefined && took > Number(process.env["MUTATION_PROFILE"])) process.stderr.write(`[mutation] slow: ${took.toFixed(0)} ms ${consumer.name} ← ${mutation.label}${form}\n`);
          const name = outcomeName(outcome);
          outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
          this.#outcomes.set(name, (this.#outcomes.get(name) ?? 0) + 1);
          let problem = await problemOf(expected, outcome);
          if (problem === undefined && !outcome.ok) {
            const changed = consumer.changedAfterRefusal?.();
            if (changed !== undefined) problem = `refused as expected, but left its target changed: ${changed}`;
          }
          if (problem !== undefined && failures.length < 40) failures.push(`${consumer.name} ← ${mutation.label}${form}: ${problem}`);
        }
      }
    }
    this.#mutations += mutations.length;
    if (process.env["MUTATION_PROFILE"] !== undefined) {
      const used = process.cpuUsage(cpu);
      process.stderr.write(`[mutation] ${this.name} ${mutations[0]?.family ?? "-"}: ${mutations.length} mutations, ${runs} runs, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU\n`);
    }
    return { mutations: mutations.length, runs, parsed, failures, outcomes };
  }

  /**
   * Asserts that the suite's runs produced exactly these outcomes (each at least once), so an
   * oracle that predicted one code for everything would fail. Skipped when a test filter left
   * one of `families` unrun.
   */
  expectReached(context: TestContext, families: readonly Family[], expected: readonly (E2eeErrorCode | "accepted")[]): void {
    if (!families.every((family) => this.#families.has(family))) {
      context.skip("not every mutation family of this suite ran");
      return;
    }
    const reached = [...this.#outcomes.keys()].filter((name) => !name.startsWith("untyped"));
    expect(reached.sort()).toEqual([...expected].sort());
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
