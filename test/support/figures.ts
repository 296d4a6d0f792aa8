/**
 * Figures for SECURITY.md: adversarial suites record how many inputs they tried, so the table in
 * SECURITY.md is filled from a real run. Each call appends one JSON line to the file named by
 * `DOMVIA_FIGURES_FILE`; without that variable (a plain `pnpm test`) it does nothing.
 */
import { appendFileSync } from "node:fs";

/** The kinds of figure SECURITY.md reports. */
export type FigureSuite = "mutation" | "fuzz" | "vectors";

/**
 * Records that `count` inputs of one kind were tried against `subject` (a wire object or an
 * entry point, e.g. `"envelope v2"` or `"decryptChatJson"`).
 */
export function recordFigure(suite: FigureSuite, subject: string, count: number): void {
  const file = process.env["DOMVIA_FIGURES_FILE"];
  if (file === undefined || file === "") return;
  appendFileSync(file, `${JSON.stringify({ suite, subject, count })}\n`);
}
