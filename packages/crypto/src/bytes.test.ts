/**
 * Tests for the byte helpers: base64url and base64 (RFC 4648 §5 and §4) against Node's Buffer,
 * canonical-only decoding (RFC 4648 §3.5), strict UTF-8 (RFC 3629) and the CSPRNG wrapper.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { base64Decode, base64Encode, base64urlDecode, base64urlEncode, lookUpBase64urlAgainForTesting, randomBytes, utf8Decode, utf8Encode } from "./bytes";
import { getNativeCrypto, setNativeCrypto } from "./native";
import { installWebBase64 } from "../../../test/support/web-base64";

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

/** The runtime's native base64url codecs the SDK uses for long texts, each with a count of its calls. */
const NATIVE_CODECS = [
  {
    name: "Node's Buffer",
    setUp(): () => number {
      lookUpBase64urlAgainForTesting();
      const from = vi.spyOn(Buffer, "from");
      return () => from.mock.calls.length;
    },
    tearDown(): void {
      vi.restoreAllMocks();
    },
  },
  {
    name: "Uint8Array.fromBase64 and toBase64 (as in a browser)",
    setUp(): () => number {
      installed = installWebBase64();
      lookUpBase64urlAgainForTesting({ withoutNodeBuffer: true });
      const { calls } = installed;
      return () => calls.fromBase64 + calls.toBase64;
    },
    tearDown(): void {
      installed?.uninstall();
      installed = undefined;
      lookUpBase64urlAgainForTesting();
    },
  },
];
let installed: ReturnType<typeof installWebBase64> | undefined;

describe.each(NATIVE_CODECS)("base64url through $name (long inputs) and in JS (native crypto off)", (codec) => {
  let nativeCalls: () => number = () => 0;
  beforeEach(() => {
    nativeCalls = codec.setUp();
  });
  afterEach(() => {
    codec.tearDown();
  });

  /** `run` with native acceleration set to `mode`; restores the mode the test project set. */
  function withMode<T>(mode: "auto" | "off", run: () => T): T {
    const previous = getNativeCrypto().mode;
    try {
      setNativeCrypto(mode);
      return run();
    } finally {
      setNativeCrypto(previous);
    }
  }
  const onBothPaths = <T>(run: () => T): { native: T; js: T } => ({ native: withMode("auto", run), js: withMode("off", run) });

  const hex = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString("hex"));
  /** Short inputs (JS on both paths) and long ones (native when on: from 96 bytes encoded, 1,024 characters decoded), some as views at an offset. */
  const bytesArbitrary = fc
    .tuple(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ minLength: 760, maxLength: 4500 })), fc.nat({ max: 3 }))
    .map(([bytes, skip]) => bytes.subarray(Math.min(skip, bytes.length)));
  const BOUNDARY_LENGTHS = [0, 1, 2, 95, 96, 97, 766, 767, 768, 769, 770, 4500];

  it("take the native path for long inputs only when native crypto is on, and JS for short ones", () => {
    const calls = (mode: "auto" | "off", run: () => unknown): number => {
      const before = nativeCalls();
      withMode(mode, run);
      return nativeCalls() - before;
    };
    expect(calls("auto", () => base64urlEncode(new Uint8Array(4096)))).toBeGreaterThan(0);
    expect(calls("auto", () => base64urlDecode("A".repeat(4096)))).toBeGreaterThan(0);
    expect(calls("off", () => base64urlEncode(new Uint8Array(4096)))).toBe(0);
    expect(calls("off", () => base64urlDecode("A".repeat(4096)))).toBe(0);
    expect(calls("auto", () => base64urlEncode(new Uint8Array(16)))).toBe(0);
    expect(calls("auto", () => base64urlDecode("A".repeat(24)))).toBe(0);
  });

  it("encode the same text on both paths, the one Buffer gives, for bytes of 0 to 4,500 and views at an offset", () => {
    const check = (bytes: Uint8Array): void => {
      const { native, js } = onBothPaths(() => base64urlEncode(bytes));
      expect(native, `${bytes.length} bytes`).toBe(js);
      expect(js).toBe(Buffer.from(bytes).toString("base64url"));
    };
    for (const length of BOUNDARY_LENGTHS) check(randomBytes(length + 1).subarray(1));
    fc.assert(fc.property(bytesArbitrary, check), { numRuns: 300 });
  });

  it("decode canonical texts of 0 to 6,000 characters to the same bytes on both paths, as plain Uint8Arrays owning their memory", () => {
    const check = (bytes: Uint8Array): void => {
      const { native, js } = onBothPaths(() => base64urlDecode(Buffer.from(bytes).toString("base64url")));
      for (const [path, decoded] of [["native", native], ["js", js]] as const) {
        expect(hex(decoded), `${path}, ${bytes.length} bytes`).toBe(hex(bytes));
        expect(Object.getPrototypeOf(decoded) === Uint8Array.prototype, `${path} result is a plain Uint8Array`).toBe(true);
        expect([decoded!.byteOffset, decoded!.buffer.byteLength], `${path} result owns its ArrayBuffer`).toEqual([0, bytes.length]);
      }
    };
    for (const length of BOUNDARY_LENGTHS) check(randomBytes(length));
    fc.assert(fc.property(bytesArbitrary, check), { numRuns: 300 });
  });

  it("give results that fit Buffer's shared pool (under 4 KiB) an ArrayBuffer each, on both paths", () => {
    const texts = [randomBytes(768), randomBytes(1000), Uint8Array.of(1, 2, 3)].map((bytes) => Buffer.from(bytes).toString("base64url"));
    const { native, js } = onBothPaths(() => texts.map((text) => base64urlDecode(text)!));
    for (const decoded of [native, js]) {
      expect(new Set(decoded.map((bytes) => bytes.buffer)).size).toBe(3);
      expect(decoded.map((bytes) => Buffer.from(bytes).toString("base64url"))).toEqual(texts);
    }
  });

  // U+0141, U+0161, U+012D and U+015F have an alphabet character ('A', 'a', '-', '_') as low byte.
  const NOT_ALPHABET = ["+", "/", "=", "==", " ", "\n", "\r", "\t", "\u0000", ".", "é", "\u0141", "\u0100", "\u0161", "\u012d", "\u015f", "А", "\ud800", "😀"];

  it("refuse on both paths a character outside the alphabet inserted or substituted anywhere", () => {
    fc.assert(
      fc.property(bytesArbitrary, fc.nat(), fc.constantFrom(...NOT_ALPHABET), fc.boolean(), (bytes, position, character, insert) => {
        const text = Buffer.from(bytes).toString("base64url");
        const at = position % (text.length + 1);
        const bad = text.slice(0, at) + character + text.slice(insert ? at : at + 1);
        const { native, js } = onBothPaths(() => base64urlDecode(bad));
        expect([native, js], `${JSON.stringify(character)} at ${at} of ${text.length}`).toEqual([undefined, undefined]);
      }),
      { numRuns: 500 },
    );
  });

  it("refuse on both paths a length of 1 modulo 4 and a last character with non-zero unused bits", () => {
    fc.assert(
      fc.property(bytesArbitrary, fc.nat(63), (bytes, value) => {
        const whole = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 3))).toString("base64url");
        const oneTooMany = whole + URL_SAFE[value]!;
        // The same high bits in the last character, but some unused low bits set.
        const partial = Buffer.from(bytes.length % 3 === 0 ? Uint8Array.of(value, ...bytes) : bytes).toString("base64url");
        const mask = partial.length % 4 === 2 ? 0x0f : 0x03;
        const last = (URL_SAFE.indexOf(partial.at(-1)!) & ~mask) | ((value % mask) + 1);
        const badLast = partial.slice(0, -1) + URL_SAFE[last]!;
        for (const bad of [oneTooMany, badLast]) {
          const { native, js } = onBothPaths(() => base64urlDecode(bad));
          expect([native, js], `${bad.length} characters ending ${bad.slice(-4)}`).toEqual([undefined, undefined]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("the browser's base64 codec is used only when it has both functions and they pass a known answer", () => {
  let mode: "auto" | "off" = "auto";
  beforeEach(() => {
    mode = getNativeCrypto().mode; // the test project's
    setNativeCrypto("auto");
  });
  afterEach(() => {
    setNativeCrypto(mode);
    installed?.uninstall();
    installed = undefined;
    lookUpBase64urlAgainForTesting();
  });
  const long = randomBytes(3000);
  const text = Buffer.from(long).toString("base64url");

  /** Encodes and decodes a long input as in a browser; returns how often the codec was called for them (after its lookup). */
  function callsForLongInputs(): number {
    lookUpBase64urlAgainForTesting({ withoutNodeBuffer: true });
    base64urlEncode(new Uint8Array(200)); // the lookup, with its known answer
    const before = installed!.calls.fromBase64 + installed!.calls.toBase64;
    expect(base64urlEncode(long)).toBe(text);
    expect(Buffer.from(base64urlDecode(text)!).equals(Buffer.from(long))).toBe(true);
    return installed!.calls.fromBase64 + installed!.calls.toBase64 - before;
  }

  it("uses it when both functions are there and answer right", () => {
    installed = installWebBase64();
    expect(callsForLongInputs()).toBeGreaterThan(0);
  });

  type ToBase64 = (this: Uint8Array, options: object) => string;
  /** Runs `run` with the stand-in's toBase64 replaced by `replace(theRightOne)`. */
  function withToBase64<T>(replace: (right: ToBase64) => ToBase64, run: () => T): T {
    installed = installWebBase64();
    const prototype = Uint8Array.prototype as unknown as { toBase64: ToBase64 };
    const right = prototype.toBase64;
    prototype.toBase64 = replace(right);
    try {
      return run();
    } finally {
      prototype.toBase64 = right;
    }
  }

  it("stays in JS when toBase64 gives a wrong answer", () => {
    const calls = withToBase64(
      (right) =>
        function (this: Uint8Array, options: object): string {
          return right.call(this, options).replace(/^./, "A");
        },
      callsForLongInputs,
    );
    expect(calls).toBe(0);
  });

  it("stays in JS when only one of the two functions exists", () => {
    installed = installWebBase64();
    const target = Uint8Array as unknown as { fromBase64?: unknown };
    const fromBase64 = target.fromBase64;
    delete target.fromBase64;
    try {
      expect(callsForLongInputs()).toBe(0);
    } finally {
      target.fromBase64 = fromBase64;
    }
  });

  it("encodes in JS a view its toBase64 refuses", () => {
    const encoded = withToBase64(
      (right) =>
        function (this: Uint8Array, options: object): string {
          if (!(this instanceof Uint8Array)) throw new TypeError("not a Uint8Array");
          return right.call(this, options);
        },
      () => {
        lookUpBase64urlAgainForTesting({ withoutNodeBuffer: true });
        return base64urlEncode(new Uint8ClampedArray(long) as unknown as Uint8Array);
      },
    );
    expect(encoded).toBe(text);
  });
});
