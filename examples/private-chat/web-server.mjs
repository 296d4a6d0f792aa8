// The private chat for browsers: one Node process serves the built web client (web/dist, made by
// `vite build web`) over HTTP and runs the relay on the same port at /ws, so the page talks to
// `ws://<its own host>/ws`. Run it with `pnpm example:chat` from the repository root (it builds
// first), or `node web-server.mjs` after a build (PORT, HOST, DATABASE_PATH, APP_SECRET).
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startRelay } from "./server/relay.mjs";

const WEB_ROOT = fileURLToPath(new URL("./web/dist/", import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};
const HEADERS = {
  "content-security-policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/**
 * Starts the HTTP server with the relay attached at /ws.
 *
 * @param {{ port?: number, host?: string, databasePath?: string, appSecret?: string, webRoot?: string }} [options]
 * @returns {Promise<{ url: string, relayUrl: string, relay: Awaited<ReturnType<typeof startRelay>>, close: () => Promise<void> }>}
 */
export async function startChatServer({ port = 0, host = "127.0.0.1", databasePath = ":memory:", appSecret = randomBytes(32).toString("hex"), webRoot = WEB_ROOT } = {}) {
  const root = normalize(webRoot.endsWith(sep) ? webRoot : webRoot + sep);
  const server = createServer(async (request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    } catch {
      response.writeHead(400).end();
      return;
    }
    const file = normalize(join(root, pathname.endsWith("/") ? `${pathname}index.html` : pathname));
    if (!file.startsWith(root)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { ...HEADERS, "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-length": body.length });
      response.end(request.method === "HEAD" ? undefined : body);
    } catch {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found (did `vite build web` run?)\n");
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const relay = await startRelay({ server, path: "/ws", databasePath, appSecret });
  const address = server.address();
  const actualPort = typeof address === "object" && address !== null ? address.port : port;
  return {
    url: `http://${host}:${actualPort}/`,
    relayUrl: relay.url,
    relay,
    async close() {
      await relay.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const chat = await startChatServer({
    port: Number(process.env.PORT ?? 5180),
    host: process.env.HOST ?? "127.0.0.1",
    databasePath: process.env.DATABASE_PATH ?? ":memory:",
    appSecret: process.env.APP_SECRET ?? randomBytes(32).toString("hex"),
  });
  console.log(`private chat: open ${chat.url} (relay at ${chat.relayUrl}; SQLite ${process.env.DATABASE_PATH ?? "in memory"}; Ctrl-C stops)`);
  for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => void chat.close().then(() => process.exit(0)));
}
