/**
 * Trust store state v1 (SPEC.md §20.6): read like every typed object (§7.3), closed at every
 * level, bounded, one pin per device.
 */
import { describe, expect, it } from "vitest";
import { E2eeError } from "./errors";
import { TRUST_STORE_LIMITS, parseTrustStoreState, safeParseTrustStoreState, type PinnedDeviceV1 } from "./trust-store";

// The public keys of SPEC.md §9.3 (test keys only).
const PIN: PinnedDeviceV1 = {
  userId: "user-alice",
  deviceId: "alice-phone",
  agreementKey: "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
  signingKey: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
  verified: false,
  pinnedAt: 1_767_225_600_000,
};
const STATE = { v: 1, type: "trust-store", devices: [PIN, { ...PIN, deviceId: "alice-laptop", verified: true }] };

function codeOf(input: unknown): string | undefined {
  const result = safeParseTrustStoreState(input);
  return result.success ? undefined : result.error.code;
}

describe("trust store state v1", () => {
  it("reads a valid state as an object or as JSON text, frozen", () => {
    expect(parseTrustStoreState(STATE)).toEqual(STATE);
    expect(parseTrustStoreState(JSON.stringify(STATE))).toEqual(STATE);
    expect(Object.isFrozen(parseTrustStoreState(STATE))).toBe(true);
    expect(parseTrustStoreState({ v: 1, type: "trust-store", devices: [] }).devices).toEqual([]);
  });

  it("refuses another type, a missing or unknown version, and unknown or missing members", () => {
    expect(codeOf({ ...STATE, type: "room-keyring" })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ type: "trust-store", devices: [] })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ ...STATE, v: 2 })).toBe("UNSUPPORTED_VERSION");
    expect(codeOf({ ...STATE, v: "1" })).toBe("UNSUPPORTED_VERSION");
    expect(codeOf({ ...STATE, extra: true })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ ...STATE, devices: [{ ...PIN, note: "x" }] })).toBe("INVALID_ENVELOPE");
    const { verified: _verified, ...unverified } = PIN;
    expect(codeOf({ ...STATE, devices: [unverified] })).toBe("INVALID_ENVELOPE");
    expect(codeOf("{")).toBe("INVALID_ENVELOPE");
    expect(codeOf([])).toBe("INVALID_ENVELOPE");
  });

  it("refuses keys that are not canonical base64url of 32 bytes, bad ids and bad times", () => {
    expect(codeOf({ ...STATE, devices: [{ ...PIN, signingKey: PIN.signingKey.slice(1) }] })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ ...STATE, devices: [{ ...PIN, agreementKey: `${PIN.agreementKey.slice(0, -1)}p` }] })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ ...STATE, devices: [{ ...PIN, userId: "alice/phone" }] })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ ...STATE, devices: [{ ...PIN, pinnedAt: -1 }] })).toBe("INVALID_ENVELOPE");
    expect(codeOf({ ...STATE, devices: [{ ...PIN, verified: "yes" }] })).toBe("INVALID_ENVELOPE");
  });

  it("refuses two pins for one device, naming the problem but not the keys", () => {
    const result = safeParseTrustStoreState({ ...STATE, devices: [PIN, { ...PIN, verified: true }] });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.code).toBe("INVALID_ENVELOPE");
    expect((result.error as unknown as { issues: unknown }).issues).toEqual([{ path: "devices", problem: "duplicate device" }]);
    expect(result.error.message).not.toContain(PIN.signingKey);
  });

  it("refuses more than 100,000 devices and oversized text as PAYLOAD_TOO_LARGE", () => {
    expect(TRUST_STORE_LIMITS).toEqual({ maxDevices: 100_000, maxTextLength: 64 * 1024 * 1024 });
    expect(Object.isFrozen(TRUST_STORE_LIMITS)).toBe(true);
    const devices = Array.from({ length: TRUST_STORE_LIMITS.maxDevices + 1 }, (_, index) => ({ ...PIN, deviceId: `d${index}` }));
    expect(codeOf({ ...STATE, devices })).toBe("PAYLOAD_TOO_LARGE");
    expect(codeOf(" ".repeat(TRUST_STORE_LIMITS.maxTextLength + 1))).toBe("PAYLOAD_TOO_LARGE");
  });

  it("throws typed errors from parse, never anything else", () => {
    expect(() => parseTrustStoreState({ ...STATE, v: 3 })).toThrow(E2eeError);
    const hostile = new Proxy({}, { get: () => { throw new Error("boom"); }, ownKeys: () => { throw new Error("boom"); } });
    expect(codeOf(hostile)).toBe("INVALID_ENVELOPE");
  });
});
