import { defineConfig } from "vitest/config";

// Tests run on `src/` through the "@domvia/source" export condition: no build needed.
const conditions = ["@domvia/source", "module", "node", "import", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    exclude: ["**/node_modules/**", "**/dist/**"],
    projects: [
      {
        extends: true,
        test: {
          name: "all",
          include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "test/**/*.test.ts"],
        },
      },
      {
        // The crypto package's tests again with native acceleration off (noble only).
        extends: true,
        test: {
          name: "noble",
          include: ["packages/crypto/src/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", "packages/crypto/src/native.test.ts"],
          setupFiles: ["test/support/noble-only.ts"],
          env: { DOMVIA_EXPECTED_AES_GCM: "noble" },
        },
      },
    ],
  },
});
