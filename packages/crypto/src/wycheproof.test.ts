/**
 * Project Wycheproof AES-GCM vectors (C2SP/wycheproof, `testvectors_v1/aes_gcm_test.json`,
 * Apache License 2.0) run against noble's `gcm`, the AES-256-GCM layer under XAES-256-GCM.
 *
 * XAES-256-GCM only ever calls AES-GCM with a 256-bit key, a 96-bit IV and a 128-bit tag, so
 * these are the groups that matter. Every `invalid` case must be rejected on decryption.
 *
 * The vectors live outside the repository, in `../shared/vectors/wycheproof/` relative to the
 * repository root (see that folder's README); when the folder is absent these cases are skipped,
 * never failed, and never copied in.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gcm } from "@noble/ciphers/aes.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";

/** The fields of Wycheproof's `aead_test_schema_v1.json` these tests read. */
interface AeadTestFile {
  readonly algorithm: string;
  readonly testGroups: readonly {
    readonly keySize: number;
    readonly ivSize: number;
    readonly tagSize: number;
    readonly tests: readonly {
      readonly tcId: number;
      readonly comment: string;
      readonly flags: readonly string[];
      readonly key: string;
      readonly iv: string;
      readonly aad: string;
      readonly msg: string;
      readonly ct: string;
      readonly tag: string;
      readonly result: "valid" | "invalid" | "acceptable";
    }[];
  }[];
}

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const vectorFile = resolve(repositoryRoot, "../shared/vectors/wycheproof/aes_gcm_test.json");

if (!existsSync(vectorFile)) {
  it.skip(`Wycheproof vectors not found at ${vectorFile}: skipped`, () => {});
} else {
  const file = JSON.parse(readFileSync(vectorFile, "utf8")) as AeadTestFile;
  const cases = file.testGroups
    .filter((group) => group.keySize === 256 && group.ivSize === 96 && group.tagSize === 128)
    .flatMap((group) => group.tests);
  const accepted = cases.filter((test) => test.result !== "invalid");
  const invalid = cases.filter((test) => test.result === "invalid");

  describe("Wycheproof AES-GCM (256-bit key, 96-bit IV, 128-bit tag) with noble gcm", () => {
    it("reads an AES-GCM vector file with both accepted and invalid cases in these groups", () => {
      expect(file.algorithm).toBe("AES-GCM");
      expect(accepted.length).toBeGreaterThan(0);
      expect(invalid.length).toBeGreaterThan(0);
    });

    for (const test of accepted) {
      const label = `tcId ${test.tcId} (${test.result}; ${test.flags.join(", ")})`;

      it(`encrypts ${label} to the expected ciphertext and tag`, () => {
        const sealed = gcm(hexToBytes(test.key), hexToBytes(test.iv), hexToBytes(test.aad)).encrypt(hexToBytes(test.msg));
        expect(bytesToHex(sealed)).toBe(test.ct + test.tag);
      });

      it(`decrypts ${label} to the expected message`, () => {
        const sealed = concatBytes(hexToBytes(test.ct), hexToBytes(test.tag));
        const opened = gcm(hexToBytes(test.key), hexToBytes(test.iv), hexToBytes(test.aad)).decrypt(sealed);
        expect(bytesToHex(opened)).toBe(test.msg);
      });
    }

    it(`rejects every one of the ${invalid.length} invalid cases on decryption`, () => {
      let rejected = 0;
      for (const test of invalid) {
        const sealed = concatBytes(hexToBytes(test.ct), hexToBytes(test.tag));
        expect(
          () => gcm(hexToBytes(test.key), hexToBytes(test.iv), hexToBytes(test.aad)).decrypt(sealed),
          `tcId ${test.tcId} (${test.comment}; ${test.flags.join(", ")})`,
        ).toThrow();
        rejected++;
      }
      expect(rejected).toBe(invalid.length);
      expect(rejected).toBeGreaterThan(0);
    });
  });
}
