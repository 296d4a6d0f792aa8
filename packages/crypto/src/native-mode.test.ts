/**
 * Proves which path this run of the crypto suite takes: the "noble" project (vitest.config.ts)
 * must really have native crypto off, and the default project must really have it on in Node.
 */
import { expect, it } from "vitest";
import { getNativeCrypto } from "./native";

it("runs on the implementation this test project is meant to exercise", () => {
  const expected = process.env["DOMVIA_EXPECTED_AES_GCM"] ?? "node:crypto";
  expect(getNativeCrypto().aesGcm).toBe(expected);
  expect(getNativeCrypto().ed25519).toBe(expected);
});
