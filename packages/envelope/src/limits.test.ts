/**
 * Tests for the wire-format limits and the Padmé padding rule (Nikitin et al., "Reducing
 * Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019, §4).
 */
import { describe, expect, it } from "vitest";
import { ENVELOPE_LIMITS, base64urlLength, checkMaxPlaintextBytes, maxCiphertextBytes, padmeLength } from "./limits";

/** The paper's reference algorithm, in BigInt so it cannot overflow or round. */
function referencePadme(length: number): number {
  if (length < 2) return length;
  const value = BigInt(length);
  const exponent = value.toString(2).length - 1; // ⌊log2 L⌋
  const bitsOfExponent = exponent.toString(2).length; // ⌊log2 E⌋ + 1
  const mask = (1n << BigInt(exponent - bitsOfExponent)) - 1n;
  return Number((value + mask) & ~mask);
}

/** Sample lengths: every length up to 70,000, then a geometric sweep with neighbours up to 2^31 − 1. */
function sampleLengths(): number[] {
  const lengths = Array.from({ length: 70_001 }, (_, i) => i);
  for (let base = 70_000; base < 0x7fff_ffff; base = Math.floor(base * 1.013) + 1) {
    lengths.push(base - 1, base, base + 1);
  }
  for (let exponent = 17; exponent <= 30; exponent++) {
    const power = 2 ** exponent;
    lengths.push(power - 1, power, power + 1);
  }
  lengths.push(0x7fff_fffe, 0x7fff_ffff);
  return [...new Set(lengths)].sort((a, b) => a - b);
}

describe("ENVELOPE_LIMITS", () => {
  it("is frozen", () => {
    expect(Object.isFrozen(ENVELOPE_LIMITS)).toBe(true);
  });

  it("holds the wire format's sizes", () => {
    expect(ENVELOPE_LIMITS).toEqual({
      maxIdLength: 128,
      maxKeyVersion: 2_147_483_647,
      defaultMaxPlaintextBytes: 65_536,
      maxPlaintextBytesCeiling: 16_777_216,
      nonceBytes: 24,
      commitmentBytes: 32,
      tagBytes: 16,
      signatureBytes: 64,
      publicKeyBytes: 32,
    });
  });
});

describe("padmeLength", () => {
  it("returns the known values", () => {
    const known: [number, number][] = [
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [8, 8],
      [9, 10],
      [129, 144],
      [204, 208],
      [65_536, 65_536],
      [65_537, 67_584],
      [0x7fff_ffff, 2 ** 31],
    ];
    for (const [length, padded] of known) expect(padmeLength(length), `length ${length}`).toBe(padded);
  });

  const lengths = sampleLengths();

  it("agrees with the paper's reference algorithm", () => {
    for (const length of lengths) {
      if (padmeLength(length) !== referencePadme(length)) {
        expect(padmeLength(length), `length ${length}`).toBe(referencePadme(length));
      }
    }
  });

  it("is at least its input, with at most 12% overhead from 2 bytes up", () => {
    let worst = 0;
    for (const length of lengths) {
      const padded = padmeLength(length);
      if (padded < length) expect.fail(`padmeLength(${length}) = ${padded} is below its input`);
      if (length >= 2) worst = Math.max(worst, (padded - length) / length);
    }
    expect(worst).toBeGreaterThan(0.1); // e.g. 129 → 144
    expect(worst).toBeLessThanOrEqual(0.12);
  });

  it("is monotonic", () => {
    let previous = -1;
    for (const length of lengths) {
      const padded = padmeLength(length);
      if (padded < previous) expect.fail(`padmeLength(${length}) = ${padded} is below the previous value ${previous}`);
      previous = padded;
    }
  });

  it("is idempotent: a Padmé length pads to itself", () => {
    for (const length of lengths) {
      const padded = padmeLength(length);
      if (padded <= 0x7fff_ffff && padmeLength(padded) !== padded) expect.fail(`padmeLength(${padded}) !== ${padded}`);
    }
  });

  it("rejects negative, non-integer, non-finite and too large lengths with a RangeError", () => {
    for (const length of [-1, -(2 ** 31), 0.5, 1.5, 204.1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 31, 2 ** 53, Number.MAX_VALUE]) {
      expect(() => padmeLength(length), `length ${length}`).toThrow(RangeError);
    }
    expect(() => padmeLength(-1)).toThrow('"length" expected an integer from 0 to 2147483647, got -1');
  });
});

describe("maxCiphertextBytes", () => {
  it("is the Padmé length of the plaintext plus the 0x80 marker, plus the 16-byte tag", () => {
    expect(maxCiphertextBytes(65_536)).toBe(67_600);
    expect(maxCiphertextBytes(1)).toBe(18);
    expect(maxCiphertextBytes(203)).toBe(208 + 16);
    expect(maxCiphertextBytes(ENVELOPE_LIMITS.maxPlaintextBytesCeiling)).toBe(padmeLength(16_777_217) + 16);
  });
});

describe("base64urlLength", () => {
  it("counts the characters of unpadded base64url", () => {
    expect([0, 1, 2, 3, 4, 16, 24, 32].map(base64urlLength)).toEqual([0, 2, 3, 4, 6, 22, 32, 43]);
  });

  it("matches Node's Buffer for 0 to 300 bytes", () => {
    for (let length = 0; length <= 300; length++) {
      expect(base64urlLength(length), `length ${length}`).toBe(Buffer.alloc(length).toString("base64url").length);
    }
  });

  it("is exact for the largest ciphertext", () => {
    const bytes = maxCiphertextBytes(ENVELOPE_LIMITS.maxPlaintextBytesCeiling);
    expect(base64urlLength(bytes)).toBe(Math.floor(bytes / 3) * 4 + [0, 2, 3][bytes % 3]!);
  });
});

describe("checkMaxPlaintextBytes", () => {
  it("defaults to 64 KiB", () => {
    expect(checkMaxPlaintextBytes(undefined)).toBe(65_536);
    expect(checkMaxPlaintextBytes(undefined)).toBe(ENVELOPE_LIMITS.defaultMaxPlaintextBytes);
  });

  it("returns a value from 1 to 16 MiB unchanged", () => {
    for (const value of [1, 2, 1000, 65_536, 16 * 1024 * 1024]) expect(checkMaxPlaintextBytes(value)).toBe(value);
  });

  it("rejects zero, negative, non-integer, non-finite and above-ceiling values with a RangeError", () => {
    for (const value of [0, -1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 16 * 1024 * 1024 + 1, 2 ** 53]) {
      expect(() => checkMaxPlaintextBytes(value), `value ${value}`).toThrow(RangeError);
    }
    expect(() => checkMaxPlaintextBytes(0)).toThrow('"maxPlaintextBytes" expected an integer from 1 to 16777216, got 0');
  });
});
