/**
 * Importing the package builds no zod schema: a server that imports it only to relay pays
 * nothing for schemas at cold start. Each schema is built on first use, then reused. The
 * package index is imported in a fresh module graph with every factory zod/mini exports
 * (`string`, `int`, `strictObject`, `maxLength`, `refine`, ...) wrapped to record its calls, so
 * any schema built at the top level of any module fails the first test.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEVICE_BUNDLE_SHAPE } from "../test/fixtures";

type Index = typeof import("./index");

const BUNDLE = DEVICE_BUNDLE_SHAPE;

/** Names of the zod/mini factories called since the last fresh import, in call order. */
let calls: string[] = [];

async function importCountingZod(): Promise<Index> {
  vi.resetModules();
  calls = [];
  vi.doMock("zod/mini", async (importOriginal) => {
    const actual = await importOriginal<Record<string, unknown>>();
    const counted: Record<string, unknown> = { ...actual };
    for (const [name, value] of Object.entries(actual)) {
      // Lower-case function exports are the schema and check factories; classes stay untouched.
      if (typeof value !== "function" || !/^[a-z]/.test(name)) continue;
      const factory = value as (...args: unknown[]) => unknown;
      counted[name] = (...args: unknown[]): unknown => {
        calls.push(name);
        return factory(...args);
      };
    }
    return counted;
  });
  return import("./index");
}

afterEach(() => {
  vi.doUnmock("zod/mini");
  vi.resetModules();
});

function codeOf(parse: () => unknown): string {
  try {
    parse();
    return "ok";
  } catch (error) {
    return (error as { code: string }).code;
  }
}

/** One call of every parser in the index on an object its schema refuses: builds every schema. */
function parseEveryKind(envelope: Index): string[] {
  const result = (parsed: { success: boolean; error?: { code: string } }): string =>
    parsed.success ? "ok" : parsed.error!.code;
  return [
    result(envelope.safeParseEnvelope({ v: 1 })),
    result(envelope.safeParseEnvelope({ v: 2 })),
    result(envelope.safeParseDeviceBundle({ v: 1, type: "device-bundle" })),
    result(envelope.safeParseRoomKeyShare({ v: 1, type: "room-key-share" })),
    result(envelope.safeParseKeyBackup({ v: 1, type: "key-backup" })),
    codeOf(() => envelope.parseKeyBackupPayload({ v: 1, type: "key-backup-payload" })),
    codeOf(() => envelope.parseProtectedRecoveryKey({ v: 1, type: "protected-recovery-key" })),
    codeOf(() => envelope.parseKeyringState({ v: 1, type: "room-keyring" })),
    codeOf(() => envelope.parseDeviceIdentityState({ v: 1, type: "device-identity" })),
    result(envelope.safeParseReplayGuardState({ v: 1, type: "replay-guard" })),
    result(envelope.safeParseTrustStoreState({ v: 1, type: "trust-store" })),
  ];
}

describe("lazy schemas", () => {
  it("importing the package index calls no zod factory", async () => {
    const envelope = await importCountingZod();
    expect(typeof envelope.parseDeviceBundle).toBe("function");
    expect(calls).toEqual([]);
  });

  it("a parse builds its schema once, and it validates as before", async () => {
    const envelope = await importCountingZod();
    expect(calls).toEqual([]);

    const bundle = envelope.parseDeviceBundle({ ...BUNDLE });
    expect(bundle).toEqual(BUNDLE);
    expect(Object.isFrozen(bundle)).toBe(true);

    // A malformed bundle needs the schema (a well-formed one may take the fast path without it).
    const refused = envelope.safeParseDeviceBundle({ ...BUNDLE, signature: "!" });
    if (refused.success) throw new Error("a malformed bundle was accepted");
    expect(refused.error).toBeInstanceOf(envelope.InvalidEnvelopeError);
    const error = refused.error as InstanceType<Index["InvalidEnvelopeError"]>;
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(error.issues).toEqual([{ path: "signature", problem: "too_small" }]);
    // The counting mock sees the package's zod calls, so the empty lists above mean something.
    expect(calls).toContain("strictObject");
    expect(calls).toContain("string");
    const built = calls.length;

    expect(envelope.safeParseDeviceBundle({ ...BUNDLE, userId: "" }).success).toBe(false);
    expect(envelope.parseDeviceBundle(JSON.stringify(BUNDLE))).toEqual(BUNDLE);
    expect(calls.length).toBe(built);
  });

  it("every parser builds its schemas on first use and reuses them", async () => {
    const envelope = await importCountingZod();
    expect(parseEveryKind(envelope)).toEqual(Array(11).fill("INVALID_ENVELOPE"));
    const built = calls.length;
    expect(built).toBeGreaterThan(0);
    expect(parseEveryKind(envelope)).toEqual(Array(11).fill("INVALID_ENVELOPE"));
    expect(calls.length).toBe(built);
  });
});
