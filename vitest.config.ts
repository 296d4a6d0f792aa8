import { defineConfig } from "vitest/config";
import { checkConsoleLog } from "./test/support/secret-hygiene-global.ts";

// Tests run on `src/` through the "@domvia/source" export condition: no build needed.
const conditions = ["@domvia/source", "module", "node", "import", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    exclude: ["**/node_modules/**", "**/dist/**"],
    // Secret hygiene (test/support/secret-hygiene*.ts): no key, recovery code or test plaintext
    // may reach an error message, a log line or a serialised SDK object. The setup file must
    // stay first: it wraps the Error constructors before any SDK module loads.
    globalSetup: ["test/support/secret-hygiene-global.ts"],
    setupFiles: ["test/support/secret-hygiene-setup.ts"],
    onConsoleLog: (log, _type, entity) => checkConsoleLog(log, entity === undefined ? undefined : entity.type === "module" ? entity.moduleId : entity.module.moduleId),
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
          exclude: ["**/node_modules/**", "**/dist/**", "packages/crypto/src/native.test.ts", "packages/crypto/src/webcrypto-curves.test.ts"],
          setupFiles: ["test/support/noble-only.ts"],
          env: { DOMVIA_EXPECTED_AES_GCM: "noble" },
        },
      },
    ],
  },
});
