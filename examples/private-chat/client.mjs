// A small Node client for the private chat relay (server/relay.mjs): one device of one user over
// `ws`. The protocol and the cryptography live in chat-client.mjs, shared with the browser
// client (web/); this file only supplies the Node transport.
import WebSocket from "ws";
import { ChatClient as BaseChatClient, RelayError } from "./chat-client.mjs";
import { MAX_MESSAGE_BYTES } from "./protocol.mjs";

export { RelayError };

/**
 * Opens a `ws` connection to the relay.
 *
 * @type {import("./chat-client.mjs").OpenTransport}
 */
export function openWsTransport(url, { onMessage, onClose, onError }) {
  const ws = new WebSocket(url, { maxPayload: MAX_MESSAGE_BYTES });
  ws.on("message", (data, isBinary) => {
    if (!isBinary) onMessage(data.toString("utf8"));
  });
  ws.once("error", onError);
  ws.on("close", onClose);
  return {
    send: (text) => ws.send(text),
    isOpen: () => ws.readyState === WebSocket.OPEN,
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      await new Promise((resolve) => {
        ws.once("close", resolve);
        ws.close();
      });
    },
  };
}

/** One device talking to the relay over `ws`. */
export class ChatClient extends BaseChatClient {
  /**
   * Connects over `ws`, signs in as the device and publishes its bundle.
   *
   * @param {{ url: string, userId?: string, deviceId?: string, device?: import("@domvia/realtime-e2ee").DeviceIdentity }} options
   * @returns {Promise<ChatClient & { pendingShares: number }>}
   */
  static connect(options) {
    return super.connect({ openTransport: openWsTransport, ...options });
  }
}
