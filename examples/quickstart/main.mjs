// DomVia Realtime E2EE quick start: the two examples of the E2EE guide, run as written,
// then what each side sees. Run it with `pnpm quickstart` from the repository root.

// --- Example 1 of the guide: encrypt private chat JSON ---
import {
  decryptChatJson,
  encryptChatJson,
  generateAesGcmKey,
} from "@domvia/realtime-e2ee";

const roomKey = await generateAesGcmKey();

const encrypted = await encryptChatJson(
  {
    body: "Private message",
    sender_id: "user-1",
  },
  roomKey,
  {
    roomId: "room-42",
    messageId: "msg-1",
    keyId: "room-42-v1",
    keyVersion: 1,
  },
);

const message = await decryptChatJson(encrypted, roomKey, {
  roomId: "room-42",
  messageId: "msg-1",
});

// --- Example 2 of the guide: export and import room key material ---
import {
  exportAesGcmKeyToBase64,
  importAesGcmKeyFromBase64,
} from "@domvia/realtime-e2ee";

const rawRoomKey = await exportAesGcmKeyToBase64(roomKey);

// Store or exchange rawRoomKey only through your secure key flow.
const restoredRoomKey = await importAesGcmKeyFromBase64(rawRoomKey);

// --- What each side sees ---
import { E2eeError } from "@domvia/realtime-e2ee";

console.log("What the realtime server relays and stores (envelope v1):");
console.log(JSON.stringify(encrypted, null, 2));
console.log();
console.log("What a room member reads after decryptChatJson:");
console.log(JSON.stringify(message, null, 2));
console.log();

const again = await decryptChatJson(JSON.stringify(encrypted), restoredRoomKey, {
  roomId: "room-42",
  messageId: "msg-1",
});
console.log(`The imported key opens it too: ${JSON.stringify(again) === JSON.stringify(message)}`);
console.log(`The key itself never prints: ${String(roomKey)} ${JSON.stringify({ roomKey })}`);

try {
  await decryptChatJson(encrypted, roomKey, { roomId: "room-43", messageId: "msg-1" });
} catch (error) {
  if (!E2eeError.isInstance(error)) throw error;
  console.log(`Replayed into another room: refused with ${error.code}`);
}
try {
  await decryptChatJson(encrypted, await generateAesGcmKey(), { roomId: "room-42", messageId: "msg-1" });
} catch (error) {
  if (!E2eeError.isInstance(error)) throw error;
  console.log(`Opened with another room key: refused with ${error.code}`);
}
