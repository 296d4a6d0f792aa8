/**
 * Tests for length-hiding padding (SPEC.md §5.2): ISO/IEC 7816-4 bit padding
 * (`message || 0x80 || 0x00 * k`) up to the Padmé length of `len + 1`, or to exactly `len + 1`.
 */
import { padmeLength } from "@domvia/e2ee-envelope";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomBytes } from "./bytes";
import { pad, padText, unpad, type PaddingMode } from "./padding";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

const MODES: readonly PaddingMode[] = ["padme", "none"];

describe("pad and unpad", () => {
  for (const mode of MODES) {
    it(`round-trip messages of 0 to 600 bytes with padding "${mode}"`, () => {
      for (let length = 0; length <= 600; length++) {
        const message = randomBytes(length);
        const unpadded = unpad(pad(message, mode));
        // Deep equality on 601 arrays is slow; compare hex and report only a mismatch.
        if (unpadded === undefined || hex(unpadded) !== hex(message)) expect(unpadded, `length ${length}`).toEqual(message);
      }
    });

    it(`round-trip messages that end in 0x00 or 0x80 bytes with padding "${mode}"`, () => {
      const messages = [[0x00], [0x80], [0x80, 0x00], [0x00, 0x80], [0x01, 0x80, 0x80, 0x00, 0x00], new Array<number>(300).fill(0)];
      for (const message of messages) expect(unpad(pad(Uint8Array.from(message), mode))).toEqual(Uint8Array.from(message));
    });

    it(`round-trip arbitrary messages with padding "${mode}"`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), (message) => {
          expect(unpad(pad(message, mode))).toEqual(message);
        }),
      );
    });
  }

  it('pads to padmeLength(len + 1) with padding "padme"', () => {
    for (let length = 0; length <= 600; length++) {
      expect(pad(new Uint8Array(length), "padme").length, `length ${length}`).toBe(padmeLength(length + 1));
    }
    expect(pad(new Uint8Array(65_536), "padme").length).toBe(67_584);
  });

  it('pads to exactly len + 1 with padding "none"', () => {
    for (let length = 0; length <= 600; length++) {
      expect(pad(new Uint8Array(length), "none").length, `length ${length}`).toBe(length + 1);
    }
  });

  it("writes the message, one 0x80 byte, then only zero bytes", () => {
    const message = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32);
    const padded = pad(message, "padme");
    expect(padded.length).toBe(36); // padmeLength(33)
    expect(padded.subarray(0, 32)).toEqual(message);
    expect([...padded.subarray(32)]).toEqual([0x80, 0, 0, 0]);
    expect([...pad(message, "none").subarray(32)]).toEqual([0x80]);
  });

  it("copies the message: changing the input afterwards leaves the padded buffer unchanged", () => {
    const message = Uint8Array.of(1, 2, 3);
    const padded = pad(message, "none");
    message[0] = 9;
    expect([...padded]).toEqual([1, 2, 3, 0x80]);
  });

  it("rejects an empty buffer", () => {
    expect(unpad(new Uint8Array(0))).toBeUndefined();
  });

  it("rejects buffers of only zero bytes", () => {
    for (const length of [1, 2, 16, 208]) expect(unpad(new Uint8Array(length)), `length ${length}`).toBeUndefined();
  });

  it("rejects a last nonzero byte other than 0x80", () => {
    for (let last = 1; last <= 0xff; last++) {
      if (last === 0x80) continue;
      expect(unpad(Uint8Array.of(0x41, last)), `last byte ${last}`).toBeUndefined();
      expect(unpad(Uint8Array.of(0x41, 0x80, last, 0, 0)), `last nonzero byte ${last}`).toBeUndefined();
    }
  });

  it("accepts a marker with no message and any number of trailing zeros", () => {
    expect(unpad(Uint8Array.of(0x80))).toEqual(new Uint8Array(0));
    expect(unpad(Uint8Array.of(0x80, 0, 0, 0))).toEqual(new Uint8Array(0));
  });
});

describe("padText", () => {
  const utf8 = new TextEncoder();
  /** What padText must return: pad() of the UTF-8 encoding (lone surrogates become U+FFFD), or undefined when too long. */
  const reference = (text: string, mode: PaddingMode, maxBytes: number): string | undefined => {
    const encoded = utf8.encode(text);
    return encoded.length > maxBytes ? undefined : hex(pad(encoded, mode));
  };
  const check = (text: string, mode: PaddingMode, maxBytes: number): void => {
    const padded = padText(text, mode, maxBytes);
    expect(padded === undefined ? undefined : hex(padded), `${JSON.stringify(text.slice(0, 40))} (${text.length}), ${mode}, max ${maxBytes}`).toBe(reference(text, mode, maxBytes));
  };
  const unit = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("a", "{", "~", "\u0000", "\u007f") },
    fc.constantFrom("\u0080", "é", "€", "\uffff", "😀", "\ud800", "\udfff", "\ud83d"),
  );
  const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit, maxLength: 300 }));

  for (const mode of MODES) {
    it(`equals pad() of the UTF-8 encoding, or undefined above maxBytes, for ASCII and non-ASCII text with padding "${mode}"`, () => {
      fc.assert(
        fc.property(text, fc.integer({ min: -3, max: 3 }), fc.nat(1000), fc.boolean(), (value, delta, random, nearLength) => {
          const length = utf8.encode(value).length;
          check(value, mode, nearLength ? Math.max(0, length + delta) : random);
        }),
        { numRuns: 1000 },
      );
    });

    it(`pads a UTF-8 encoding of exactly maxBytes and refuses maxBytes + 1, with padding "${mode}"`, () => {
      for (const value of ["", "a", "a".repeat(100), "é", "aé", "é".repeat(50), "😀", "\ud800", "a\udc00b", "€".repeat(33) + "a"]) {
        const length = utf8.encode(value).length;
        expect(padText(value, mode, length), JSON.stringify(value)).toBeDefined();
        check(value, mode, length);
        if (length > 0) expect(padText(value, mode, length - 1), JSON.stringify(value)).toBeUndefined();
        expect(padText(value + "a", mode, length)).toBeUndefined();
      }
    });

    it(`refuses a text longer than maxBytes, and non-ASCII text whose encoding alone is too long, with padding "${mode}"`, () => {
      expect(padText("a".repeat(11), mode, 10)).toBeUndefined();
      expect(padText("é".repeat(11), mode, 10)).toBeUndefined();
      expect(padText("é".repeat(5), mode, 9)).toBeUndefined(); // 5 characters, 10 bytes
      expect(padText("😀".repeat(3), mode, 11)).toBeUndefined(); // 6 code units, 12 bytes
      check("é".repeat(5), mode, 10);
      check("", mode, 0);
    });
  }
});
