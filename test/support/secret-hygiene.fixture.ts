// A deliberately leaking test for test/secret-hygiene.test.ts, which runs it in a child vitest
// (secret-hygiene-fixture.config.ts) and expects that run to fail. Not part of the suite: the
// name does not end in `.test.ts`.
import { expect, it } from "vitest";
import { decryptChatJson, encryptChatJson, exportAesGcmKeyToBase64, generateAesGcmKey } from "@domvia/e2ee-crypto";
import { secretMarker } from "./secret-hygiene";

it("passes, while a key reaches an SDK error message and a plaintext reaches the log", async () => {
  const key = await generateAesGcmKey();
  // A key id may hold any base64url text; the SDK quotes key ids in UNKNOWN_KEY.
  const keyId = Buffer.from(await exportAesGcmKeyToBase64(key), "base64").toString("base64url");
  const envelope = await encryptChatJson({ body: "hello" }, key, { roomId: "room-1", messageId: "msg-1", keyId, keyVersion: 1 });
  await expect(decryptChatJson(envelope, () => undefined, { roomId: "room-1", messageId: "msg-1" })).rejects.toMatchObject({ code: "UNKNOWN_KEY" });
  console.log(`sending ${secretMarker("fixture")}`);
});
