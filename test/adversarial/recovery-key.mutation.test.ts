/**
 * Mutation suite for passphrase-protected recovery keys (SPEC.md §13). A protected key is changed
 * member by member (the scrypt parameters and salt included), bit by bit and character by
 * character, and unlocked with the right passphrase (§13.4). A malformed object must be refused
 * with a parse code; any change to a well-formed one must be `WRONG_RECOVERY_CODE` (the scrypt
 * parameters, salt and public key are in the AES-GCM associated data, §13.2), except parameters
 * whose memory exceeds what this device allows, which are refused before any work with
 * `PAYLOAD_TOO_LARGE`. `protectedRecoveryKeyNeedsUpgrade` reads the same objects.
 *
 * Cost: each well-formed change runs scrypt at N = 1024 (a few ms), so bytes get one flipped bit
 * each (bit `index mod 8`). The unlocking device allows at most 128·2·(2048 + 4 + 1) bytes of scrypt
 * memory, so no mutated parameter set costs more than four times the fixture's.
 */
import { type ProtectedRecoveryKeyV1 } from "@domvia/e2ee-envelope";
import { createRecoveryKey, protectRecoveryKey, protectedRecoveryKeyNeedsUpgrade, unlockRecoveryKey, type RecoveryKey } from "@domvia/e2ee-crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { MutationSuite, type Consumer, type Expectation } from "./harness";
import { ONE_BIT, byteFlipCount, byteMutations, changedMembers, fieldMutations, textMutations } from "./mutate";
import { PROTECTED_RECOVERY_KEY, type ObjectRule } from "./rules";

const SHAPE = PROTECTED_RECOVERY_KEY.shapes[1] as ObjectRule;
const PASSPHRASE = "correct horse battery staple";
const KDF = { n: 1024, r: 1, p: 1 } as const;
/** The most scrypt memory the unlocking device allows: 128·r·(N + p + 1) for N = 2048, r = 2, p = 4. */
const MAX_MEMORY = 128 * 2 * (2048 + 4 + 1);

interface Fixture {
  readonly recoveryKey: RecoveryKey;
  readonly protectedKey: ProtectedRecoveryKeyV1;
  /** Another recovery key's, and the same key protected again (other salt and nonce). */
  readonly donors: readonly ProtectedRecoveryKeyV1[];
}

let f: Fixture;

beforeAll(async () => {
  const recoveryKey = await createRecoveryKey();
  const protectedKey = await protectRecoveryKey(recoveryKey, PASSPHRASE, KDF);
  const donors = [await protectRecoveryKey(await createRecoveryKey(), PASSPHRASE, KDF), await protectRecoveryKey(recoveryKey, PASSPHRASE, { n: 2048, r: 2, p: 1 })];
  f = { recoveryKey, protectedKey, donors };
});

function consumers(): Consumer[] {
  return [
    {
      name: "unlockRecoveryKey",
      alsoAsText: true,
      run: (input) => unlockRecoveryKey(input, PASSPHRASE, { maxMemoryBytes: MAX_MEMORY }),
      // §13.4 with the device's memory bound first: refused before any scrypt work.
      expect: (value): Expectation => {
        const { n, r, p } = value["kdf"] as { n: number; r: number; p: number };
        if (128 * r * (n + p + 1) > MAX_MEMORY) return { code: "PAYLOAD_TOO_LARGE" };
        if (changedMembers(f.protectedKey as unknown as Record<string, unknown>, value).length > 0) return { code: "WRONG_RECOVERY_CODE" };
        return {
          accept: (result) => {
            expect((result as RecoveryKey).publicKey).toBe(f.recoveryKey.publicKey);
            expect((result as RecoveryKey).code).toBe(f.recoveryKey.code);
          },
        };
      },
    },
    {
      name: "protectedRecoveryKeyNeedsUpgrade",
      families: ["field", "text"],
      malformedSample: 4,
      run: (input) => protectedRecoveryKeyNeedsUpgrade(input),
      // Below the default cost (N = 2^17, r = 8, p = 1) in N or in N·r·p.
      expect: (value) => {
        const { n, r, p } = value["kdf"] as { n: number; r: number; p: number };
        return { accept: (result) => expect(result).toBe(n < 2 ** 17 || n * r * p < 2 ** 17 * 8) };
      },
    },
  ];
}

describe("protected recovery key", () => {
  const suite = new MutationSuite("protected recovery key", PROTECTED_RECOVERY_KEY);

  it("unlocks the unchanged protected key (the fixture is sound)", async () => {
    const result = await suite.run(consumers(), [{ family: "field", label: "unchanged", input: f.protectedKey, path: [] }]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(3);
  });

  it("refuses every member removed, retyped, at its boundaries, from another protected key or added", { timeout: 60_000 }, async () => {
    const value = f.protectedKey as unknown as Record<string, unknown>;
    const mutations = fieldMutations(value, SHAPE, {
      donors: f.donors,
      // Powers of two and their neighbours, the limits of r and p, and sets over the memory bound.
      extraValues: { "kdf.n": [512, 2048, 3072, 2 ** 17, 2 ** 20, 2 ** 21], "kdf.r": [0, 2, 8, 16, 17], "kdf.p": [0, 2, 4, 5], "kdf.name": ["Scrypt", "argon2id", "pbkdf2"] },
    });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    for (const member of Object.keys(value)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
    for (const member of ["name", "n", "r", "p", "salt"]) expect(mutations.filter((m) => m.path[1] === member).length, member).toBeGreaterThanOrEqual(10);
  });

  it("refuses every flipped bit of the public key, salt, nonce and ciphertext with WRONG_RECOVERY_CODE (one bit per byte)", { timeout: 60_000 }, async () => {
    const value = f.protectedKey as unknown as Record<string, unknown>;
    const result = await suite.run(consumers(), byteMutations(value, SHAPE, ONE_BIT));
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(byteFlipCount(value, SHAPE, ONE_BIT));
    expect(result.mutations).toBe(32 + 16 + 12 + 48);
    expect(result.outcomes.get("WRONG_RECOVERY_CODE")).toBe(result.runs);
  });

  it("refuses every character of the JSON text replaced or deleted, where the text still parses", { timeout: 60_000 }, async () => {
    const text = JSON.stringify(f.protectedKey);
    // Same-class replacements at every 2nd character of the byte members: each costs a scrypt, and the byte flips reach every byte.
    const mutations = textMutations(text, { byteMemberStride: 2, duplicates: { publicKey: f.donors[0]!.publicKey, kdf: f.donors[1]!.kdf }, maxTextLength: PROTECTED_RECOVERY_KEY.maxTextLength });
    const result = await suite.run(consumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThanOrEqual(text.length);
  });

  it("reached every outcome the spec gives for protected recovery keys", (context) => {
    suite.expectReached(context, ["field", "byte", "text"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "WRONG_RECOVERY_CODE"]);
  });
});
