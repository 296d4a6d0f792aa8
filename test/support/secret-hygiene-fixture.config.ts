// Runs only the leaking fixture, with the suite's own configuration otherwise (setup file,
// global setup, console check). Used by test/secret-hygiene.test.ts.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import base from "../../vitest.config.ts";

const { projects: _projects, ...test } = base.test ?? {};

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL("../../", import.meta.url)),
  test: { ...test, include: ["test/support/secret-hygiene.fixture.ts"] },
});
