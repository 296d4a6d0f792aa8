import type { Options } from "tsup";

/** The one build of every published package: ESM with declarations and source maps. */
export const packageBuild: Options = {
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
};
