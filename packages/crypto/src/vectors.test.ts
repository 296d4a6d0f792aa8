// Runs test-vectors/envelope-v1.json (SPEC.md §10) against the SDK. The vectors come from
// scripts/generate-vectors.mjs, an implementation of SPEC.md that shares no code with the SDK,
// so agreement here means SPEC.md, the SDK and the vectors describe one format.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { hexToBytes } from "@noble/ciphers/utils.js";
import { describe, expect, it } from "vitest";
import { E2eeError, encodeAssociatedDataV1, type E2eeErrorCode } from "@domvia/e2ee-envelope";
import { decryptChatJson, sealChatJson } from "./chat";
import { pad, type PaddingMode } from "./padding";
import { RoomKey } from "./room-key";
import { XaesKey } from "./xaes-256-gcm";

interface ValidVector {
  readonly description: string;
  readonly key: string;
  readonly nonce: string;
  readonly plaintext: string;
  readonly padding: PaddingMode;
  readonly context: { readonly roomId: string; readonly messageId: string; readonly keyId: string; readonly keyVersion: number };
  readonly associatedData: string;
  readonly paddedPlaintext: string;
  readonly messageKey: string;
  readonly envelope: Record<string, unknown>;
}

interface MustFailVector {
  readonly description: string;
  readonly key: string;
  readonly context: { readonly roomId: string; readonly messageId: string; readonly maxPlaintextBytes?: number };
  readonly envelope: unknown;
  readonly expectedError: E2eeErrorCode;
}

interface VectorFile {
  readonly version: number;
  readonly description: string;
  readonly source: string;
  readonly valid: readonly ValidVector[];
  readonly mustFail: readonly MustFailVector[];
}

const vectorPath = fileURLToPath(new URL("../../../test-vectors/envelope-v1.json", import.meta.url));
const vectors = JSON.parse(readFileSync(vectorPath, "utf8")) as VectorFile;

const roomKey = (hex: string): RoomKey => new RoomKey(hexToBytes(hex));
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

describe("envelope v1 test vectors", () => {
  it("is version 1 of the file, names its source, and has enough vectors", () => {
    expect(vectors.version).toBe(1);
    expect(vectors.source).toContain("scripts/generate-vectors.mjs");
    expect(vectors.valid.length).toBeGreaterThanOrEqual(8);
    expect(vectors.mustFail.length).toBeGreaterThanOrEqual(15);
  });

  describe.each(vectors.valid.map((vector) => [vector.description, vector] as const))("valid: %s", (_, vector) => {
    const { roomId, messageId } = vector.context;

    it("seals to exactly the vector's envelope", () => {
      const envelope = sealChatJson(
        JSON.parse(vector.plaintext),
        roomKey(vector.key),
        { ...vector.context, padding: vector.padding },
        hexToBytes(vector.nonce),
      );
      expect(envelope).toStrictEqual(vector.envelope);
    });

    it("encodes the vector's associated data", () => {
      expect(toHex(encodeAssociatedDataV1(vector.context))).toBe(vector.associatedData);
    });

    it("pads and derives the message key as the vector says", () => {
      const message = new TextEncoder().encode(vector.plaintext);
      expect(toHex(pad(message, vector.padding))).toBe(vector.paddedPlaintext);
      expect(toHex(new XaesKey(hexToBytes(vector.key)).deriveMessageKey(hexToBytes(vector.nonce)))).toBe(vector.messageKey);
    });

    it("opens the envelope object and its JSON text to the plaintext", async () => {
      const expected: unknown = JSON.parse(vector.plaintext);
      for (const input of [vector.envelope, JSON.stringify(vector.envelope)]) {
        const value = await decryptChatJson(input, roomKey(vector.key), { roomId, messageId });
        expect(value).toStrictEqual(expected);
        expect(JSON.stringify(value)).toBe(vector.plaintext);
      }
    });
  });

  describe.each(vectors.mustFail.map((vector) => [vector.description, vector] as const))("must fail: %s", (_, vector) => {
    // An object envelope is also tried as JSON text: SPEC.md §10.1 promises the same outcome.
    const inputs = typeof vector.envelope === "string" ? [vector.envelope] : [vector.envelope, JSON.stringify(vector.envelope)];

    it(`rejects with ${vector.expectedError}`, async () => {
      for (const input of inputs) {
        const error: unknown = await decryptChatJson(input, roomKey(vector.key), vector.context).then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(E2eeError.isInstance(error), `expected an E2eeError, got ${String(error)}`).toBe(true);
        expect((error as E2eeError).code, (error as Error).message).toBe(vector.expectedError);
      }
    });
  });
});
