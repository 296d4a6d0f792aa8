// The browser's WebSocket as a transport for chat-client.mjs (client.mjs is the Node one, over `ws`).
import { MAX_MESSAGE_BYTES } from "../../protocol.mjs";

/**
 * Opens a WebSocket to the relay. Binary frames and frames over the relay's size limit are ignored.
 *
 * @type {import("../../chat-client.mjs").OpenTransport}
 */
export function openBrowserTransport(url, { onMessage, onClose, onError }) {
  const ws = new WebSocket(url);
  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string" && event.data.length <= MAX_MESSAGE_BYTES) onMessage(event.data);
  });
  ws.addEventListener("error", () => onError(new Error(`could not connect to ${url}`)));
  ws.addEventListener("close", () => onClose());
  return {
    send: (text) => ws.send(text),
    isOpen: () => ws.readyState === WebSocket.OPEN,
    close: () =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) {
          resolve();
          return;
        }
        ws.addEventListener("close", () => resolve(), { once: true });
        ws.close();
      }),
  };
}
