/**
 * Tests for the byte helpers: base64url and base64 (RFC 4648 §5 and §4) against Node's Buffer,
 * canonical-only decoding (RFC 4648 §3.5), strict UTF-8 (RFC 3629) and the CSPRNG wrapper.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64Decode, base64Encode, base64urlDecode, base64urlEncode, randomBytes, utf8Decode, utf8Encode } from "./bytes";

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Random inputs of every length from 0 to 100, several per length. */
const randomInputs: Uint8Array[] = Array.from({ length: 101 * 4 }, (_, i) => randomBytes(i >> 2));

describe("base64urlEncode and base64urlDecode", () => {
  it("encode as Node's Buffer does (unpadded base64url) for random inputs of 0 to 100 bytes", () => {
    for (const bytes of randomInputs) {
      expect(base64urlEncode(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
    }
  });

  it("decode what Node's Buffer encodes back to the same bytes", () => {
    for (const bytes of randomInputs) {
      expect(base64urlDecode(Buffer.from(bytes).toString("base64url"))).toEqual(bytes);
    }
  });

  it("round-trip arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(base64urlDecode(base64urlEncode(bytes))).toEqual(bytes);
      }),
    );
  });

  it("decode the RFC 4648 §10 test strings", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["f", "Zg"],
      ["fo", "Zm8"],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg"],
      ["fooba", "Zm9vYmE"],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, encoded] of cases) {
      expect(base64urlEncode(utf8Encode(text))).toBe(encoded);
      expect(base64urlDecode(encoded)).toEqual(utf8Encode(text));
    }
  });

  it("uses '-' and '_' for sextets 62 and 63", () => {
    expect(base64urlEncode(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe("-_-_");
    expect(base64urlDecode("-_-_")).toEqual(Uint8Array.of(0xfb, 0xff, 0xbf));
  });

  it("rejects a last character with nonzero unused bits", () => {
    expect(base64urlDecode("AB")).toBeUndefined(); // 'B' = 000001: low 4 bits unused
    expect(base64urlDecode("AAB")).toBeUndefined(); // 'B' = 000001: low 2 bits unused
    expect(base64urlDecode("Zh")).toBeUndefined(); // non-canonical "f"
    expect(base64urlDecode("Zm9")).toBeUndefined(); // non-canonical "fo"
    expect(base64urlDecode("AAAAAB")).toBeUndefined();
  });

  it("accepts exactly the last characters whose unused bits are zero", () => {
    for (const character of URL_SAFE) {
      const value = URL_SAFE.indexOf(character);
      expect(base64urlDecode(`A${character}`) !== undefined, `A${character}`).toBe((value & 0x0f) === 0);
      expect(base64urlDecode(`AA${character}`) !== undefined, `AA${character}`).toBe((value & 0x03) === 0);
    }
  });

  it("decodes only canonical strings: every accepted string re-encodes to itself", () => {
    const alphabet = [...URL_SAFE, "=", "+", "/", " ", "é"];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 12 }), (text) => {
        const bytes = base64urlDecode(text);
        if (bytes !== undefined) expect(base64urlEncode(bytes)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects a length that is 1 modulo 4", () => {
    for (const text of ["A", "AAAAA", "AAAAAAAAA", "Zm9vY"]) expect(base64urlDecode(text), text).toBeUndefined();
  });

  it("rejects characters of the standard alphabet", () => {
    expect(base64urlDecode("+A")).toBeUndefined();
    expect(base64urlDecode("/A")).toBeUndefined();
    expect(base64urlDecode("AA+_")).toBeUndefined();
    expect(base64urlDecode("AA-/")).toBeUndefined();
  });

  it("rejects '=' padding anywhere", () => {
    for (const text of ["Zg==", "Zm8=", "Zm9v====", "=AAA", "A=AA", "===="]) expect(base64urlDecode(text), text).toBeUndefined();
  });

  it("rejects whitespace", () => {
    for (const text of [" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "\tZm9v", "Zm9v\r\nYmFy"]) {
      expect(base64urlDecode(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it("rejects non-ASCII characters, including look-alikes of alphabet characters", () => {
    // "é", "А" (Cyrillic A), full-width "Ａ", and U+0141, whose low byte is 'A' (0x41).
    for (const text of ["Zm9é", "АAAA", "ＡAAA", "\u0141AAA", "AA\u0000A", "😀AA"]) {
      expect(base64urlDecode(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe("base64Encode and base64Decode", () => {
  it("encode as Node's Buffer does (padded standard base64) for random inputs of 0 to 100 bytes", () => {
    for (const bytes of randomInputs) {
      expect(base64Encode(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    }
  });

  it("decode what Node's Buffer encodes back to the same bytes", () => {
    for (const bytes of randomInputs) {
      expect(base64Decode(Buffer.from(bytes).toString("base64"))).toEqual(bytes);
    }
  });

  it("round-trip arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(base64Decode(base64Encode(bytes))).toEqual(bytes);
      }),
    );
  });

  it("decode the RFC 4648 §10 test strings", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [text, encoded] of cases) {
      expect(base64Encode(utf8Encode(text))).toBe(encoded);
      expect(base64Decode(encoded)).toEqual(utf8Encode(text));
    }
  });

  it("uses '+' and '/' for sextets 62 and 63", () => {
    expect(base64Encode(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe("+/+/");
    expect(base64Decode("+/+/")).toEqual(Uint8Array.of(0xfb, 0xff, 0xbf));
  });

  it("rejects a last character with nonzero unused bits", () => {
    expect(base64Decode("AB==")).toBeUndefined();
    expect(base64Decode("AAB=")).toBeUndefined();
    expect(base64Decode("Zh==")).toBeUndefined();
    expect(base64Decode("Zm9=")).toBeUndefined();
    expect(base64Decode("AAAAAB==")).toBeUndefined();
  });

  it("accepts exactly the last characters whose unused bits are zero", () => {
    for (const character of STANDARD) {
      const value = STANDARD.indexOf(character);
      expect(base64Decode(`A${character}==`) !== undefined, `A${character}==`).toBe((value & 0x0f) === 0);
      expect(base64Decode(`AA${character}=`) !== undefined, `AA${character}=`).toBe((value & 0x03) === 0);
    }
  });

  it("decodes only canonical strings: every accepted string re-encodes to itself", () => {
    const alphabet = [...STANDARD, "=", "=", "=", "-", "_", " ", "é"];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 12 }), (text) => {
        const bytes = base64Decode(text);
        if (bytes !== undefined) expect(base64Encode(bytes)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects missing padding", () => {
    for (const text of ["Zg", "Zg=", "Zm8", "Zm9vYg", "Zm9vYmE"]) expect(base64Decode(text), text).toBeUndefined();
  });

  it("rejects extra padding", () => {
    for (const text of ["Zg===", "Zm8==", "Zm9v=", "Zm9v====", "Zg======", "A===", "===="]) {
      expect(base64Decode(text), text).toBeUndefined();
    }
  });

  it("rejects padding before the end", () => {
    for (const text of ["Zg==Zm8=", "=Zm8", "Z=m8", "Zm=8"]) expect(base64Decode(text), text).toBeUndefined();
  });

  it("rejects characters of the URL-safe alphabet", () => {
    expect(base64Decode("-A==")).toBeUndefined();
    expect(base64Decode("_A==")).toBeUndefined();
    expect(base64Decode("-_-_")).toBeUndefined();
  });

  it("rejects whitespace", () => {
    for (const text of [" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zg==\n", "Zm9v\r\nYmFy", "Zg= ="]) {
      expect(base64Decode(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it("rejects non-ASCII characters", () => {
    for (const text of ["Zm9é", "АAAA", "ＡAAA", "\u0141AAA", "\u012BAAA", "😀AA"]) {
      expect(base64Decode(text), JSON.stringify(text)).toBeUndefined();
    }
  });
});

describe("utf8Encode and utf8Decode", () => {
  it("round-trip text with multi-byte characters", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 50 }), (text) => {
        expect(utf8Decode(utf8Encode(text))).toBe(text);
      }),
    );
    expect(utf8Encode("é€😀")).toEqual(Uint8Array.of(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80));
  });

  it("decodes the empty byte string to the empty string", () => {
    expect(utf8Decode(new Uint8Array(0))).toBe("");
  });

  it("keeps a leading byte order mark instead of stripping it", () => {
    expect(utf8Decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41))).toBe("\ufeffA");
  });

  it("rejects invalid UTF-8 instead of substituting U+FFFD", () => {
    const invalid: [string, number[]][] = [
      ["0xff", [0xff]],
      ["0xfe", [0xfe]],
      ["a lone continuation byte", [0x80]],
      ["an encoded lone high surrogate (U+D800)", [0xed, 0xa0, 0x80]],
      ["an encoded lone low surrogate (U+DFFF)", [0xed, 0xbf, 0xbf]],
      ["an overlong '/' (2 bytes)", [0xc0, 0xaf]],
      ["an overlong '/' (3 bytes)", [0xe0, 0x80, 0xaf]],
      ["an overlong NUL", [0xc0, 0x80]],
      ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
      ["a truncated 3-byte sequence at the end", [0x41, 0xe2, 0x82]],
      ["a truncated 2-byte sequence before ASCII", [0xc3, 0x41]],
    ];
    for (const [name, bytes] of invalid) expect(utf8Decode(Uint8Array.from(bytes)), name).toBeUndefined();
  });

  it("decodes valid input after rejecting invalid input", () => {
    expect(utf8Decode(Uint8Array.of(0x41, 0xe2, 0x82))).toBeUndefined();
    expect(utf8Decode(Uint8Array.of(0x42))).toBe("B");
  });
});

describe("randomBytes", () => {
  it("returns the requested number of bytes", () => {
    for (const length of [0, 1, 16, 24, 32, 1000, 65_536]) {
      const bytes = randomBytes(length);
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.length).toBe(length);
    }
  });

  it("returns different bytes on two calls", () => {
    expect(randomBytes(32)).not.toEqual(randomBytes(32));
  });
});

describe("base64url decoding of short and long texts (read directly, or through TextEncoder)", () => {
  it("refuses a non-ASCII character, a lone surrogate or a non-alphabet character at any length", () => {
    for (const length of [8, 64, 188, 192, 200, 4096]) {
      const valid = base64urlEncode(new Uint8Array(Math.floor((length * 3) / 4)).map((_, i) => i * 13));
      expect(base64urlDecode(valid), `length ${valid.length}`).toBeDefined();
      for (const bad of ["é", "\ud800", "=", "+", " ", "\u0100"]) {
        const at = valid.length >>> 1;
        expect(base64urlDecode(valid.slice(0, at) + bad + valid.slice(at + 1)), `${JSON.stringify(bad)} in ${valid.length}`).toBeUndefined();
      }
    }
  });
});
