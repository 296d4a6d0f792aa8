/**
 * How many inputs each fuzz property tries. A plain `pnpm test` runs a short pass; `pnpm test:fuzz`
 * sets `DOMVIA_FUZZ_RUNS=100000` for the full run. `DOMVIA_FUZZ_SEED` replays one run exactly
 * (fast-check prints the seed and path of any failure).
 */
import type { Parameters } from "fast-check";

/** Inputs per entry point in a plain `pnpm test`. */
export const DEFAULT_FUZZ_RUNS = 300;

function positiveInteger(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} expected a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** Inputs per entry point: `DOMVIA_FUZZ_RUNS`, or {@link DEFAULT_FUZZ_RUNS}. */
export const FUZZ_RUNS: number = positiveInteger("DOMVIA_FUZZ_RUNS", DEFAULT_FUZZ_RUNS)!;

/** `true` for a full run (100,000 or more inputs per entry point). */
export const FULL_RUN: boolean = FUZZ_RUNS >= 100_000;

const seed = positiveInteger("DOMVIA_FUZZ_SEED", undefined);

/** fast-check parameters for `runs` inputs, with the replay seed when one is set. */
export function fuzzParameters(runs: number = FUZZ_RUNS): Parameters<unknown> {
  return seed === undefined ? { numRuns: runs } : { numRuns: runs, seed };
}

/**
 * A per-test timeout that grows with the run count: `perInputMs` for each input plus a minute
 * of slack, so the short pass keeps vitest's spirit and the full run is not cut off.
 */
export function fuzzTimeout(perInputMs: number, runs: number = FUZZ_RUNS): number {
  return 60_000 + Math.ceil(perInputMs * runs);
}
