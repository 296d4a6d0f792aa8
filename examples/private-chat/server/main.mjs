// Runs the relay on its own: `node server/main.mjs` (PORT, DATABASE_PATH and APP_SECRET from the environment).
import { randomBytes } from "node:crypto";
import { startRelay } from "./relay.mjs";

const relay = await startRelay({
  port: Number(process.env.PORT ?? 8080),
  databasePath: process.env.DATABASE_PATH ?? ":memory:",
  appSecret: process.env.APP_SECRET ?? randomBytes(32).toString("hex"),
});
console.log(`private chat relay listening on ${relay.url}`);
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => void relay.close().then(() => process.exit(0)));
