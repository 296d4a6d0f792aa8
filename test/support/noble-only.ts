/**
 * Setup of the "noble" test project: every crypto test runs a second time with native
 * acceleration switched off, so vectors, Wycheproof, C2SP and property tests prove both paths.
 *
 * The switch is imported in `beforeAll`, after the test file has loaded its modules: importing
 * the package here would load it before the test file's `vi.mock` calls could apply.
 */
import { afterAll, beforeAll } from "vitest";

beforeAll(async () => {
  const { setNativeCrypto } = await import("../../packages/crypto/src/native");
  setNativeCrypto("off");
});

afterAll(async () => {
  const { setNativeCrypto } = await import("../../packages/crypto/src/native");
  setNativeCrypto("auto");
});
