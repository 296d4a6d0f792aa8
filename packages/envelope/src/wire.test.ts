import { describe, expect, it } from "vitest";
import { E2eeError } from "./errors";
import { parseKeyBackup, parseKeyBackupPayload } from "./key-backup";
import { parseKeyringState } from "./local-state";

const KEY = "A".repeat(43);
const entry = { roomId: "room-1", keyId: "v1-abcdefgh", keyVersion: 1, key: KEY, shareable: false, createdAt: 0 };

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (E2eeError.isInstance(error)) return error.code;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("size errors are told apart from malformed content", () => {
  it("reports an over-long id inside a backup payload as INVALID_ENVELOPE, not PAYLOAD_TOO_LARGE", () => {
    const payload = { v: 1, type: "key-backup-payload", keys: [{ ...entry, roomId: "r".repeat(129) }] };
    expect(codeOf(() => parseKeyBackupPayload(payload))).toBe("INVALID_ENVELOPE");
  });

  it("reports a key version above 2^31 - 1 inside a keyring state as INVALID_ENVELOPE", () => {
    const state = {
      v: 1,
      type: "room-keyring",
      roomId: "room-1",
      policy: { maxMessagesPerVersion: 10, maxVersionAgeMs: 10, retainVersions: null },
      rotationRequired: null,
      currentVersion: null,
      currentKeyId: null,
      removedUsers: [],
      revokedDevices: [],
      versions: [{ keyId: "v1-abcdefgh", keyVersion: 2 ** 31, key: KEY, shareable: false, createdAt: 0, origin: "created", messageCount: 0 }],
    };
    expect(codeOf(() => parseKeyringState(state))).toBe("INVALID_ENVELOPE");
  });

  it("reports a wrong-length chunk enc as INVALID_ENVELOPE, and too many chunks as PAYLOAD_TOO_LARGE", () => {
    const backup = { v: 1, type: "key-backup", kem: 32, kdf: 1, aead: 2, publicKey: KEY, chunks: [{ enc: `${KEY}A`, ciphertext: "A".repeat(24) }] };
    expect(codeOf(() => parseKeyBackup(backup))).toBe("INVALID_ENVELOPE");
    const tooMany = { ...backup, chunks: Array.from({ length: 10_001 }, () => ({ enc: KEY, ciphertext: "A".repeat(24) })) };
    expect(codeOf(() => parseKeyBackup(tooMany))).toBe("PAYLOAD_TOO_LARGE");
  });
});
