import type { Options } from "tsup";

/**
 * The one build of every published package: ESM with declarations and source maps. Every source
 * module is an entry and shared code goes to chunks, so the output keeps the module structure:
 * with `"sideEffects": false`, an app's bundler drops the modules it does not use (recovery
 * codes' word list, HPKE, scrypt) instead of the whole package travelling as one file.
 */
export const packageBuild: Options = {
  entry: ["src/**/*.ts", "!src/**/*.test.ts"],
  splitting: true,
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
};
