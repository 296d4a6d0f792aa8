import { describe, expect, it } from "vitest";
import { main } from "../demo.mjs";

describe("the demo", () => {
  it("tells the whole story without a failure", async () => {
    const lines: string[] = [];
    await main({ write: (line: string) => lines.push(line), color: false });
    const output = lines.join("\n");
    expect(output).toContain("unable to decrypt: UNKNOWN_KEY");
    expect(output).toContain('history on bob/tablet: "Carol has left; new key from here on."');
    expect(output).toContain('bob    "Welcome back, Bob."');
    expect(output).not.toContain("\u001b[");
  }, 15_000);
});
