// Builds the browser client into web/dist, which web-server.mjs serves next to the relay.
// `vite web` also works for development: it proxies /ws to a running `node web-server.mjs`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    rollupOptions: {
      // zod (under the envelope parser) has comments Rollup reports as misplaced annotations.
      onwarn(warning, warn) {
        if (warning.code !== "INVALID_ANNOTATION") warn(warning);
      },
    },
  },
  server: { proxy: { "/ws": { target: "ws://127.0.0.1:5180", ws: true } } },
});
