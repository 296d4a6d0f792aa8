// Lint rules that keep a security SDK honest. Package sources may not log, may not use
// Math.random, and may not call JSON.parse except through the one bounded parser.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "coverage/**", "artifacts/**", "test/.generated/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{js,mjs,ts}"],
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        globalThis: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        URL: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The browser client of the private chat example.
    files: ["examples/*/web/src/**/*.{js,ts}"],
    languageOptions: {
      globals: {
        window: "readonly",
        document: "readonly",
        location: "readonly",
        localStorage: "readonly",
        indexedDB: "readonly",
        WebSocket: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
  },
  {
    files: ["packages/*/src/**/*.ts"],
    ignores: ["packages/*/src/**/*.test.ts"],
    rules: {
      "no-console": "error",
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "Randomness comes only from crypto.getRandomValues." },
      ],
      "no-restricted-syntax": [
        "error",
        {
          // Any reference, not only a call: `JSON["parse"]` and `const parse = JSON.parse` too.
          selector: "MemberExpression[object.name='JSON'][property.name='parse'], MemberExpression[object.name='JSON'][property.value='parse']",
          message: "Parse untrusted JSON with safeParseJson from @domvia/e2ee-envelope.",
        },
        {
          // The same bans, reached through globalThis (test/lint-rules.test.ts pins each).
          selector:
            "MemberExpression[object.name='globalThis'][property.name='console'], " +
            "MemberExpression[object.object.name='globalThis'][object.property.name='JSON'][property.name='parse'], " +
            "MemberExpression[object.object.name='globalThis'][object.property.name='Math'][property.name='random']",
          message: "No logging, no JSON.parse outside safeParseJson, no Math.random in package code, through globalThis either.",
        },
        {
          selector: "ExportAllDeclaration",
          message: "Public APIs are explicit lists: no `export *`.",
        },
      ],
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:*"], message: "Packages run in browsers and React Native: no Node-only APIs." },
            { group: ["@domvia/*/src/*", "@domvia/*/dist/*"], message: "Import a sibling package only through its public entry." },
          ],
        },
      ],
    },
  },
);
