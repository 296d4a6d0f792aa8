/** Shared set-up of the private chat tests: a relay on loopback, clients, and a raw socket. */
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { ChatClient, RelayError } from "../client.mjs";
import { startRelay } from "../server/relay.mjs";

export type Relay = Awaited<ReturnType<typeof startRelay>>;

/** A relay with an in-memory database on a free loopback port, and its clients, closed together. */
export async function createTestWorld(): Promise<{
  relay: Relay;
  connect: (userId: string, deviceId: string, device?: ChatClient["device"]) => Promise<ChatClient>;
  close: () => Promise<void>;
}> {
  const relay = await startRelay({ appSecret: randomBytes(32).toString("hex") });
  const clients: ChatClient[] = [];
  return {
    relay,
    async connect(userId, deviceId, device) {
      const client = await ChatClient.connect({ url: relay.url, userId, deviceId, device });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.close();
      await relay.close();
    },
  };
}

/** The code a request is refused with, or "ok". */
export async function refusal(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return "ok";
  } catch (error) {
    if (error instanceof RelayError) return error.code;
    throw error;
  }
}

/** A raw WebSocket to the relay: send text, read the next message as parsed JSON. */
export async function rawSocket(url: string): Promise<{ send: (text: string) => void; next: () => Promise<Record<string, unknown>>; close: () => void; onClose: (listener: (code: number) => void) => void }> {
  const ws = new WebSocket(url);
  const queue: Record<string, unknown>[] = [];
  const waiters: ((message: Record<string, unknown>) => void)[] = [];
  ws.on("message", (data) => {
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter === undefined) queue.push(message);
    else waiter(message);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    send: (text) => ws.send(text),
    next: () => {
      const queued = queue.shift();
      return queued === undefined ? new Promise((resolve) => waiters.push(resolve)) : Promise.resolve(queued);
    },
    close: () => ws.close(),
    onClose: (listener) => ws.once("close", listener),
  };
}
