/**
 * The public API is an explicit, reviewed list. This test pins it: adding, removing or
 * renaming an export fails here until the list below is updated in the same reviewed change.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as api from "./index";

describe("the public API of @domvia/realtime-e2ee", () => {
  it("exports exactly the reviewed runtime names", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "ContextMismatchError",
        "DEFAULT_ENCRYPTED_EVENTS",
        "DEFAULT_PASSPHRASE_KDF",
        "DEFAULT_REPLAY_GUARD_LIMITS",
        "DEFAULT_ROTATION_POLICY",
        "DeviceIdentity",
        "E2EE_ERROR_CODES",
        "E2eeError",
        "IdentityChangedError",
        "ENVELOPE_LIMITS",
        "InvalidEnvelopeError",
        "MemoryKeyStore",
        "ReplayGuard",
        "ReplayedMessageError",
        "RoomKeyring",
        "TrustStore",
        "UnknownKeyError",
        "UnsupportedVersionError",
        "acceptRoomKeyShare",
        "acceptRoomKeyShareWithTrust",
        "addToKeyBackup",
        "compactKeyBackup",
        "createDeviceIdentity",
        "createEncryptedChannel",
        "createKeyBackup",
        "createRecoveryKey",
        "decryptChatJson",
        "decryptChatMessage",
        "deviceFingerprint",
        "encryptChatJson",
        "exportAesGcmKeyToBase64",
        "generateAesGcmKey",
        "getNativeCrypto",
        "importAesGcmKeyFromBase64",
        "isRoomKey",
        "loadDeviceIdentity",
        "loadKeyring",
        "loadKeyrings",
        "loadReplayGuard",
        "loadTrustStore",
        "parseEnvelope",
        "parseProtectedRecoveryKey",
        "safeParseKeyBackup",
        "parseKeyBackup",
        "safeParseRoomKeyShare",
        "parseRoomKeyShare",
        "safeParseDeviceBundle",
        "parseDeviceBundle",
        "protectRecoveryKey",
        "protectedRecoveryKeyNeedsUpgrade",
        "recoveryKeyFromCode",
        "restoreKeyBackup",
        "revokeDeviceEverywhere",
        "safetyNumber",
        "safetyNumbersMatch",
        "safeParseEnvelope",
        "saveDeviceIdentity",
        "setNativeCrypto",
        "saveKeyring",
        "saveReplayGuard",
        "saveTrustStore",
        "shareRoomKey",
        "shareRoomKeyAsync",
        "shareRoomKeyWithTrust",
        "shareRoomKeyWithTrustAsync",
        "unlockRecoveryKey",
        "userFingerprint",
        "verifyDeviceBundle",
        "verifyDeviceBundleAsync",
      ].sort(),
    );
  });

  it("is written as an explicit list, never `export *`", () => {
    const source = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "index.ts"), "utf8");
    expect(source).not.toMatch(/export\s*\*/);
  });

  it("exposes no way to build a key from chosen bytes besides the documented import", () => {
    expect(api).not.toHaveProperty("RoomKey");
  });

  it("documents every error code it can throw", () => {
    expect([...api.E2EE_ERROR_CODES].sort()).toEqual(
      [
        "BAD_SIGNATURE",
        "CONTEXT_MISMATCH",
        "DECRYPTION_FAILED",
        "DEVICE_REVOKED",
        "INVALID_ENVELOPE",
        "INVALID_KEY",
        "INVALID_RECOVERY_CODE",
        "KEY_CONFLICT",
        "KEY_WITHHELD",
        "PAYLOAD_TOO_LARGE",
        "ROTATION_REQUIRED",
        "SHARE_MISADDRESSED",
        "UNKNOWN_KEY",
        "UNKNOWN_SENDER",
        "UNSUPPORTED_VERSION",
        "WRONG_RECOVERY_CODE",
        "IDENTITY_CHANGED",
        "REPLAYED_MESSAGE",
      ].sort(),
    );
    const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "README.md"), "utf8");
    for (const code of api.E2EE_ERROR_CODES) expect(readme).toContain(`\`${code}\``);
  });
});
