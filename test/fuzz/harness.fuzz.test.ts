/**
 * The fuzz harness can fail: an untyped error, an undocumented code, a wrong answer, a slow input,
 * a leak and a polluted prototype each fail a run. Without these, a harness that let everything
 * pass would look exactly like an SDK without bugs.
 */
import { E2eeError } from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DOS_BOUND_MS, fuzz, type EntryPoint } from "./harness";

const base: EntryPoint<number> = { name: "harness self-test", inputs: fc.nat({ max: 99 }), call: () => 0, codes: ["INVALID_ENVELOPE"], runs: 200, record: false };

/** Runs the harness on `entry` and returns how it failed (it must fail). */
async function failure(entry: Partial<EntryPoint<number>>): Promise<string> {
  const outcome = await fuzz({ ...base, ...entry }).then(
    () => "passed",
    // fast-check reports the property's own failure as the cause.
    (error: unknown) => `${String(error)} ${String((error as { cause?: unknown }).cause)}`,
  );
  expect(outcome).not.toBe("passed");
  return outcome;
}

describe("the fuzz harness", () => {
  it("passes an entry point that only returns or throws a documented E2eeError", async () => {
    await fuzz({ ...base, call: (n) => (n % 2 === 0 ? n : Promise.reject(new E2eeError("INVALID_ENVELOPE", "odd"))) });
  });

  // Inputs drawn from two values, so the failing one comes up in every run.
  const twoValues = fc.constantFrom(0, 3);

  it("fails an untyped error, an undocumented code, and a rejected answer", async () => {
    expect(await failure({ call: (n) => (n === 3 ? JSON.parse("{") : 0), inputs: twoValues, runs: 20 })).toContain("untyped error");
    expect(await failure({ call: (n) => (n === 3 ? Promise.reject(new E2eeError("BAD_SIGNATURE", "x")) : 0), inputs: twoValues, runs: 20 })).toContain("does not document");
    expect(await failure({ call: (n) => n, returned: (value) => expect(value).toBeLessThan(3), inputs: twoValues, runs: 20 })).toContain("expected");
  });

  it("fails an input slower than the bound, and a TypeError that is not documented for it", async () => {
    /** Spends `ms` of this process's CPU time (a busy loop on a loaded machine takes longer in wall time). */
    const busy = (ms: number): void => {
      const start = process.cpuUsage();
      for (;;) {
        const used = process.cpuUsage(start);
        if ((used.user + used.system) / 1000 >= ms) return;
      }
    };
    // Every input is the slow one: with two values and 5 runs, 1 run in 32 never drew it.
    expect(await failure({ call: (n) => (n === 3 ? busy(DOS_BOUND_MS + 50) : 0), inputs: fc.constant(3), runs: 2 })).toContain("ms on one input");
    expect(await failure({ call: (n) => (n === 3 ? (Symbol() as unknown as string).repeat(1) : 0), documentedError: (_error, n) => n !== 3, inputs: twoValues, runs: 20 })).toContain("untyped error");
  }, 60_000);

  it("fails a run whose heap keeps growing, and one that pollutes a prototype", async () => {
    const kept: Uint8Array[] = [];
    expect(await failure({ call: () => kept.push(new Uint8Array(1024 * 1024).fill(1)), runs: 100 })).toContain("heap grew");
    kept.length = 0;
    expect(
      await failure({
        call: (n) => {
          if (n === 3) Object.defineProperty(Object.prototype, "fuzzPolluted", { value: true, configurable: true });
          return 0;
        },
        inputs: twoValues,
        runs: 20,
      }),
    ).toContain("built-in prototype");
    delete (Object.prototype as { fuzzPolluted?: unknown }).fuzzPolluted;
  }, 30_000);
});
