/**
 * Fingerprints and safety numbers (SPEC.md §20.1–§20.4). The known answers are the worked
 * example of SPEC.md §20.7, on the device bundles of test-vectors/key-lifecycle-v1.json; they are
 * recomputed here a second way, from hand-written bytes and SHA-512 alone, and looked up in
 * SPEC.md, so the document, the SDK and this test agree on one format.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha512 } from "@noble/hashes/sha2.js";
import { E2eeError, type DeviceBundle } from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FINGERPRINT_FORMAT,
  createDeviceIdentity,
  deviceFingerprint,
  deviceKeysFingerprint,
  safetyNumber,
  safetyNumbersMatch,
  userFingerprint,
  verifyDeviceBundle,
} from "./index";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const vectors = JSON.parse(readFileSync(join(repoRoot, "test-vectors", "key-lifecycle-v1.json"), "utf8")) as {
  deviceBundle: { valid: { name: string; bundle: DeviceBundle }[] };
};
const bundle = (name: string): DeviceBundle => {
  const found = vectors.deviceBundle.valid.find((vector) => vector.name === name);
  if (found === undefined) throw new Error(`no vector ${name}`);
  return found.bundle;
};
const alice = bundle("alice");
const bob = bundle("bob");
const impostor = bundle("alice-impostor");

/** SPEC.md §20.7. */
const KNOWN = {
  alice: "56853 47440 40862 46180 41552 17413",
  impostor: "40313 52334 96544 79429 38752 76364",
  bob: "30044 36203 63426 47249 86963 50261",
  userAlice: "96757 08433 00974 37089 04783 63667",
  userBob: "40440 93272 91697 43156 48805 44898",
  aliceAndBob: "40440 93272 91697 43156 48805 44898 96757 08433 00974 37089 04783 63667",
};

const fromHex = (hex: string): Uint8Array => new Uint8Array(hex.split(/\s+/).filter(Boolean).map((byte) => Number.parseInt(byte, 16)));

/** SPEC.md §20.3, written out independently of fingerprint.ts. */
function digitsFromSpec(input: Uint8Array): string {
  let digest = sha512(input);
  for (let k = 2; k <= 5200; k++) digest = sha512(digest);
  const groups: string[] = [];
  for (let j = 0; j < 6; j++) {
    let value = 0n;
    for (const byte of digest.subarray(5 * j, 5 * j + 5)) value = (value << 8n) | BigInt(byte);
    groups.push((value % 100000n).toString().padStart(5, "0"));
  }
  return groups.join(" ");
}

/** The 126-byte device input of `alice`, as printed in SPEC.md §20.7. */
const ALICE_DEVICE_INPUT = fromHex(`
  00 1e 64 6f 6d 76 69 61 2d 65 32 65 65 2f 64 65 76 69 63 65 2d 66 69 6e 67 65 72 70 72 69 6e 74
  01
  00 0a 75 73 65 72 2d 61 6c 69 63 65
  00 0b 61 6c 69 63 65 2d 70 68 6f 6e 65
  00 20 85 20 f0 09 89 30 a7 54 74 8b 7d dc b4 3e f7 5a 0d bf 3a 0d 26 38 1a f4 eb a4 a9 8e aa 9b 4e 6a
  00 20 d7 5a 98 01 82 b1 0a b7 d5 4b fe d3 c9 64 07 3a 0e e1 72 f3 da a6 23 25 af 02 1a 68 f7 07 51 1a
`);

describe("device fingerprints", () => {
  it("match the worked example of SPEC.md §20.7", () => {
    expect(deviceFingerprint(alice)).toBe(KNOWN.alice);
    expect(deviceFingerprint(bob)).toBe(KNOWN.bob);
    expect(deviceFingerprint(impostor)).toBe(KNOWN.impostor);
  });

  it("are SHA-512 iterated 5200 times over the bytes SPEC.md prints, rendered as six groups of five digits", () => {
    expect(ALICE_DEVICE_INPUT).toHaveLength(126);
    expect(Buffer.from(sha512(ALICE_DEVICE_INPUT)).toString("hex")).toBe(
      "8e848bfcf106215a90543c5e72371795d3a93f7813a6399f39e30c4f88166cd978a53496a844e0528e2a9e3144e2224cd6a31091b2ce3ad8f68a2fda95fd79bb",
    );
    expect(digitsFromSpec(ALICE_DEVICE_INPUT)).toBe(KNOWN.alice);
    expect(FINGERPRINT_FORMAT).toEqual({ version: 1, iterations: 5200, groups: 6, digitsPerGroup: 5, maxDevicesPerUser: 1000 });
    expect(Object.isFrozen(FINGERPRINT_FORMAT)).toBe(true);
  });

  it("are deterministic, and the same from keys as from the bundle", () => {
    const { agreementKey, signingKey } = verifyDeviceBundle(alice);
    expect(deviceFingerprint(JSON.stringify(alice))).toBe(KNOWN.alice);
    expect(deviceKeysFingerprint({ userId: alice.userId, deviceId: alice.deviceId, agreementKey, signingKey })).toBe(KNOWN.alice);
  });

  it("change with either key and with either id", async () => {
    const { agreementKey, signingKey } = verifyDeviceBundle(alice);
    const base = { userId: alice.userId, deviceId: alice.deviceId, agreementKey, signingKey };
    const flipped = (key: Uint8Array, index: number): Uint8Array => {
      const copy = key.slice();
      copy[index]! ^= 1;
      return copy;
    };
    const variants = [
      { ...base, agreementKey: flipped(agreementKey, 0) },
      { ...base, agreementKey: flipped(agreementKey, 31) },
      { ...base, signingKey: flipped(signingKey, 0) },
      { ...base, signingKey: flipped(signingKey, 31) },
      // Swapping the two keys is another input too.
      { ...base, agreementKey: signingKey, signingKey: agreementKey },
      { ...base, userId: "user-alicf" },
      { ...base, deviceId: "alice-phonf" },
    ];
    const seen = new Set([KNOWN.alice, ...variants.map((variant) => deviceKeysFingerprint(variant))]);
    expect(seen.size).toBe(variants.length + 1);
    // Same ids, fresh keys: what a substituting server would present.
    const fresh = await createDeviceIdentity({ userId: alice.userId, deviceId: alice.deviceId });
    expect(deviceFingerprint(fresh.publicBundle)).not.toBe(KNOWN.alice);
  });

  it("refuse a bundle whose self-signature does not verify, with its typed error", () => {
    const forged = { ...alice, agreementKey: impostor.agreementKey };
    expect(() => deviceFingerprint(forged)).toThrow(expect.objectContaining({ code: "BAD_SIGNATURE" }));
    expect(() => deviceFingerprint({ ...alice, v: 2 })).toThrow(expect.objectContaining({ code: "UNSUPPORTED_VERSION" }));
    expect(() => deviceFingerprint("{")).toThrow(expect.objectContaining({ code: "INVALID_ENVELOPE" }));
  });

  it("throw TypeError for keys of the wrong length or invalid ids, without printing the keys", () => {
    const { agreementKey, signingKey } = verifyDeviceBundle(alice);
    expect(() => deviceKeysFingerprint({ userId: "a", deviceId: "b", agreementKey: agreementKey.subarray(1), signingKey })).toThrow(
      '"agreementKey" expected Uint8Array of length 32, got a Uint8Array of length 31',
    );
    expect(() => deviceKeysFingerprint({ userId: "a b", deviceId: "b", agreementKey, signingKey })).toThrow(TypeError);
  });
});

describe("user fingerprints", () => {
  it("match the worked example of SPEC.md §20.7", () => {
    expect(userFingerprint("user-alice", [alice])).toBe(KNOWN.userAlice);
    expect(userFingerprint("user-bob", [bob])).toBe(KNOWN.userBob);
    const userInput = new Uint8Array([
      ...fromHex("00 1c"),
      ...new TextEncoder().encode("domvia-e2ee/user-fingerprint"),
      ...fromHex("01 00 0a"),
      ...new TextEncoder().encode("user-alice"),
      ...fromHex("00 01"),
      ...ALICE_DEVICE_INPUT.subarray(45),
    ]);
    expect(userInput).toHaveLength(126);
    expect(digitsFromSpec(userInput)).toBe(KNOWN.userAlice);
  });

  it("do not depend on the order the devices are listed in, and change with any device", async () => {
    const phone = await createDeviceIdentity({ userId: "dana", deviceId: "phone" });
    const laptop = await createDeviceIdentity({ userId: "dana", deviceId: "laptop" });
    const tablet = await createDeviceIdentity({ userId: "dana", deviceId: "tablet" });
    const all = [phone, laptop, tablet].map((device) => device.publicBundle);
    const number = userFingerprint("dana", all);
    expect(userFingerprint("dana", [...all].reverse())).toBe(number);
    expect(userFingerprint("dana", [all[1], all[2], all[0]])).toBe(number);
    expect(userFingerprint("dana", all.slice(0, 2))).not.toBe(number);
    const rekeyed = await createDeviceIdentity({ userId: "dana", deviceId: "tablet" });
    expect(userFingerprint("dana", [all[0], all[1], rekeyed.publicBundle])).not.toBe(number);
    // One device's user fingerprint is not its device fingerprint: the labels differ.
    expect(userFingerprint("dana", [all[0]])).not.toBe(deviceFingerprint(all[0]));
  });

  it("refuse another user's bundle, a repeated device, too many devices and no devices", async () => {
    const error = (() => {
      try {
        userFingerprint("user-alice", [alice, bob]);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(E2eeError.isInstance(error, "INVALID_ENVELOPE")).toBe(true);
    expect((error as { issues: unknown }).issues).toEqual([{ path: "1.userId", problem: "another user" }]);
    expect(() => userFingerprint("user-alice", [alice, impostor])).toThrow(expect.objectContaining({ code: "INVALID_ENVELOPE" }));
    expect(() => userFingerprint("user-alice", Array.from({ length: 1001 }, () => alice))).toThrow(
      expect.objectContaining({ code: "PAYLOAD_TOO_LARGE" }),
    );
    expect(() => userFingerprint("user-alice", [])).toThrow(RangeError);
    expect(() => userFingerprint("user-alice", alice as unknown as unknown[])).toThrow(TypeError);
  });
});

describe("safety numbers", () => {
  it("match the worked example of SPEC.md §20.7 and are the same from both sides", () => {
    expect(safetyNumber(KNOWN.userAlice, KNOWN.userBob)).toBe(KNOWN.aliceAndBob);
    expect(safetyNumber(KNOWN.userBob, KNOWN.userAlice)).toBe(KNOWN.aliceAndBob);
    expect(safetyNumber(KNOWN.alice, KNOWN.alice)).toBe(`${KNOWN.alice} ${KNOWN.alice}`);
  });

  it("change when either side's keys change", () => {
    const substituted = safetyNumber(deviceFingerprint(impostor), deviceFingerprint(bob));
    expect(substituted).not.toBe(safetyNumber(KNOWN.alice, KNOWN.bob));
  });

  it("are symmetric for any two fingerprints, and a presented value never makes the check throw", () => {
    const group = fc.integer({ min: 0, max: 99_999 }).map((value) => String(value).padStart(5, "0"));
    const fingerprint = fc.array(group, { minLength: 6, maxLength: 6 }).map((groups) => groups.join(" "));
    fc.assert(
      fc.property(fingerprint, fingerprint, fc.string(), (first, second, presented) => {
        const number = safetyNumber(first, second);
        expect(safetyNumber(second, first)).toBe(number);
        expect([`${first} ${second}`, `${second} ${first}`]).toContain(number);
        expect(safetyNumbersMatch(number, number.replaceAll(" ", ""))).toBe(true);
        expect(typeof safetyNumbersMatch(number, presented)).toBe("boolean");
      }),
    );
  });

  it("refuse anything that is not a fingerprint", () => {
    expect(() => safetyNumber("12345", KNOWN.bob)).toThrow(TypeError);
    expect(() => safetyNumber(KNOWN.aliceAndBob, KNOWN.bob)).toThrow(TypeError);
    expect(() => safetyNumber(KNOWN.alice.replaceAll(" ", ""), KNOWN.bob)).toThrow(TypeError);
  });

  it("match a presented value with any whitespace and nothing else", () => {
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, KNOWN.aliceAndBob)).toBe(true);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, KNOWN.aliceAndBob.replaceAll(" ", ""))).toBe(true);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, KNOWN.aliceAndBob.replaceAll(" ", "\n"))).toBe(true);
    expect(safetyNumbersMatch(KNOWN.alice, KNOWN.alice)).toBe(true);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, KNOWN.aliceAndBob.slice(0, -1))).toBe(false);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, `${KNOWN.aliceAndBob}0`)).toBe(false);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, safetyNumber(KNOWN.impostor, KNOWN.userBob))).toBe(false);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, 42)).toBe(false);
    expect(safetyNumbersMatch(KNOWN.aliceAndBob, " ".repeat(10_000))).toBe(false);
    expect(() => safetyNumbersMatch("not a number", KNOWN.alice)).toThrow(TypeError);
  });
});

describe("SPEC.md §20.7", () => {
  it("prints exactly the values this test checks", () => {
    const spec = readFileSync(join(repoRoot, "SPEC.md"), "utf8");
    const section = spec.slice(spec.indexOf("### 20.7 Worked example"));
    for (const value of Object.values(KNOWN)) expect(section).toContain(value);
    expect(section).toContain("8e848bfcf106215a90543c5e72371795d3a93f7813a6399f39e30c4f88166cd9");
  });
});
