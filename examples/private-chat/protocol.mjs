// Names and limits the relay and its clients share. See README.md, "Protocol".

/** The largest WebSocket message, in bytes: the relay's `maxPayload` (ws closes with 1009 beyond it). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** The largest chat plaintext the clients accept, in bytes of UTF-8 JSON (the SDK's default). */
export const MAX_PLAINTEXT_BYTES = 65_536;
/** Private channels are named after their room: `private-room-<roomId>`. */
export const CHANNEL_PREFIX = "private-room-";

/** The private channel of a room. @param {string} roomId */
export function channelOf(roomId) {
  return `${CHANNEL_PREFIX}${roomId}`;
}
