import { describe, expect, it } from "vitest";
import { ENVELOPE_V1 } from "../test/fixtures";
import {
  E2eeError,
  ENVELOPE_LIMITS,
  InvalidEnvelopeError,
  SUPPORTED_ENVELOPE_VERSIONS,
  UnsupportedVersionError,
  base64urlLength,
  maxCiphertextBytes,
  parseEnvelope,
  safeParseEnvelope,
  type EnvelopeV1,
} from "./index";

/** A real envelope v1 (see test/fixtures.ts). */
const VALID: EnvelopeV1 = ENVELOPE_V1;

/** A distinctive string that must never show up in an error. */
const MARKER = "SECRET-MARKER-5b1e";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The longest ciphertext the default 65,536-byte plaintext limit admits, in characters. */
const DEFAULT_MAX_CIPHERTEXT_CHARS = base64urlLength(maxCiphertextBytes(ENVELOPE_LIMITS.defaultMaxPlaintextBytes));

function withField(field: string, value: unknown): Record<string, unknown> {
  return { ...VALID, [field]: value };
}

function withoutField(field: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...VALID };
  delete copy[field];
  return copy;
}

/** The error `parseEnvelope` throws for `input`, after checking `safeParseEnvelope` agrees. */
function parseError(input: unknown, options?: { maxPlaintextBytes?: number }): E2eeError {
  const result = safeParseEnvelope(input, options);
  expect(result.success).toBe(false);
  let thrown: unknown;
  try {
    parseEnvelope(input, options);
  } catch (error) {
    thrown = error;
  }
  expect(E2eeError.isInstance(thrown)).toBe(true);
  if (result.success) throw new Error("unreachable");
  expect((thrown as E2eeError).code).toBe(result.error.code);
  return result.error;
}

function issuesOf(error: E2eeError): readonly { path: string; problem: string }[] {
  expect(error).toBeInstanceOf(InvalidEnvelopeError);
  return (error as InvalidEnvelopeError).issues;
}

/** Replaces the character at `index` of `text`. */
function replaceAt(text: string, index: number, replacement: string): string {
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe("parseEnvelope accepts", () => {
  it("accepts a valid envelope object and returns a frozen copy", () => {
    const input = { ...VALID };
    const parsed = parseEnvelope(input);
    expect(parsed).toStrictEqual(VALID);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(input)).toBe(false);
  });

  it("accepts the envelope as JSON text", () => {
    const parsed = parseEnvelope(JSON.stringify(VALID));
    expect(parsed).toStrictEqual(VALID);
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it("accepts pretty-printed JSON text", () => {
    expect(parseEnvelope(JSON.stringify(VALID, null, 2))).toStrictEqual(VALID);
  });

  it("returns success with the data from safeParseEnvelope", () => {
    const result = safeParseEnvelope(JSON.stringify(VALID));
    expect(result).toStrictEqual({ success: true, data: VALID });
  });

  it("does not keep a reference to the input: later changes to it do not reach the result", () => {
    const input: Record<string, unknown> = { ...VALID };
    const parsed = parseEnvelope(input);
    input["roomId"] = "room-43";
    expect(parsed.roomId).toBe("room-42");
  });

  it("accepts ids of 128 characters using every allowed character class", () => {
    const longest = "Az09._:@-".repeat(15).slice(0, ENVELOPE_LIMITS.maxIdLength);
    expect(longest).toHaveLength(128);
    const envelope = { ...VALID, roomId: longest, messageId: longest, keyId: longest };
    expect(parseEnvelope(envelope).roomId).toBe(longest);
  });

  it("accepts the largest key version, 2^31 - 1", () => {
    expect(parseEnvelope(withField("keyVersion", 2_147_483_647)).keyVersion).toBe(2_147_483_647);
  });

  it("accepts a ciphertext of the smallest length, 23 characters", () => {
    expect(parseEnvelope(withField("ciphertext", "A".repeat(23))).ciphertext).toHaveLength(23);
  });

  it("accepts a ciphertext of exactly the largest length for the default limit", () => {
    // 90,134 characters: Padmé(65,537) + 16 tag bytes = 67,600 bytes.
    expect(DEFAULT_MAX_CIPHERTEXT_CHARS).toBe(90_134);
    const ciphertext = "A".repeat(DEFAULT_MAX_CIPHERTEXT_CHARS);
    expect(parseEnvelope(withField("ciphertext", ciphertext)).ciphertext).toBe(ciphertext);
  });

  it("accepts the JSON text of the largest envelope, with the longest ids, pretty-printed", () => {
    const longest = "x".repeat(128);
    const largest = {
      ...VALID,
      roomId: longest,
      messageId: longest,
      keyId: longest,
      keyVersion: 2_147_483_647,
      ciphertext: "A".repeat(DEFAULT_MAX_CIPHERTEXT_CHARS),
    };
    expect(parseEnvelope(JSON.stringify(largest, null, 2))).toStrictEqual(largest);
  });
});

describe("parseEnvelope rejects what is not an envelope object", () => {
  const notObjects: [string, unknown][] = [
    ["null", null],
    ["undefined", undefined],
    ["an array", [VALID]],
    ["an empty array", []],
    ["a number", 1],
    ["a boolean", true],
    ["a bigint", 1n],
    ["a function", () => VALID],
    ["a symbol", Symbol("envelope")],
    ["a string that is not JSON", "not json"],
    ["the empty string", ""],
    ["truncated JSON", JSON.stringify(VALID).slice(0, -1)],
    ["JSON null", "null"],
    ["a JSON number", "1"],
    ["a JSON string", JSON.stringify(JSON.stringify(VALID))],
    ["a JSON array", JSON.stringify([VALID])],
  ];

  it.each(notObjects)("rejects %s with INVALID_ENVELOPE", (_name, input) => {
    expect(parseError(input).code).toBe("INVALID_ENVELOPE");
  });

  it("rejects an envelope whose fields are only inherited, not own", () => {
    const inherited = Object.create(VALID) as unknown;
    expect(parseError(inherited).code).toBe("INVALID_ENVELOPE");
  });

  it("rejects an object whose getter throws, without letting the error escape safeParseEnvelope", () => {
    const input = { ...VALID };
    Object.defineProperty(input, "roomId", {
      enumerable: true,
      get() {
        throw new Error("getter");
      },
    });
    const result = safeParseEnvelope(input);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.code).toBe("INVALID_ENVELOPE");
  });

  it("rejects a Proxy whose traps throw", () => {
    const hostile = new Proxy(
      { ...VALID },
      {
        getOwnPropertyDescriptor() {
          throw new Error("proxy");
        },
        get() {
          throw new Error("proxy");
        },
      },
    );
    expect(parseError(hostile).code).toBe("INVALID_ENVELOPE");
  });
});

describe("parseEnvelope rejects missing, extra and mistyped fields", () => {
  const fields = ["suite", "roomId", "messageId", "keyId", "keyVersion", "nonce", "commitment", "ciphertext"];

  it.each(fields)("rejects an envelope without %s, naming the field", (field) => {
    const error = parseError(withoutField(field));
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(issuesOf(error).map((issue) => issue.path)).toStrictEqual([field]);
  });

  it("rejects an envelope without v as INVALID_ENVELOPE, not as an unsupported version", () => {
    const error = parseError(withoutField("v"));
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(issuesOf(error)).toStrictEqual([{ path: "v", problem: "missing" }]);
  });

  it("rejects an empty object", () => {
    expect(parseError({}).code).toBe("INVALID_ENVELOPE");
  });

  it("rejects an extra field", () => {
    const error = parseError({ ...VALID, extra: 1 });
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(issuesOf(error)).toStrictEqual([{ path: "", problem: "unrecognized_keys" }]);
  });

  it("rejects an extra __proto__ key from JSON text", () => {
    const text = JSON.stringify(VALID).replace("{", '{"__proto__":{"v":1},');
    expect(parseError(text).code).toBe("INVALID_ENVELOPE");
  });

  const wrongTypes: [string, unknown][] = [
    ["suite", 1],
    ["suite", null],
    ["roomId", 42],
    ["roomId", null],
    ["messageId", ["msg-1"]],
    ["keyId", { id: "room-42-v1" }],
    ["keyVersion", "1"],
    ["keyVersion", null],
    ["keyVersion", true],
    ["nonce", 0],
    ["commitment", null],
    ["ciphertext", ["A".repeat(32)]],
  ];

  it.each(wrongTypes)("rejects %s of the wrong type (%j)", (field, value) => {
    const error = parseError(withField(field, value));
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(issuesOf(error).map((issue) => issue.path)).toContain(field);
  });

  it("lists every problem when several fields are wrong", () => {
    const error = parseError({ ...VALID, roomId: "", keyVersion: 0, nonce: "short" });
    expect(issuesOf(error).map((issue) => issue.path).sort()).toStrictEqual(["keyVersion", "nonce", "roomId"]);
    expect(error.message).toMatch(/\(and 2 more\)$/);
  });

  it("rejects a wrong suite", () => {
    for (const suite of ["xaes256gcm", "XAES256GCM-KC", "aes256gcm-kc", ""]) {
      const error = parseError(withField("suite", suite));
      expect(error.code).toBe("INVALID_ENVELOPE");
      expect(issuesOf(error).map((issue) => issue.path)).toStrictEqual(["suite"]);
    }
  });
});

describe("parseEnvelope rejects invalid ids", () => {
  const badIds: [string, string][] = [
    ["empty", ""],
    ["129 characters", "a".repeat(129)],
    ["a space", "room 42"],
    ["a leading space", " room-42"],
    ["a slash", "room/42"],
    ["a backslash", "room\\42"],
    ["a non-ASCII letter", "rööm-42"],
    ["an emoji", "room-\u{1F600}"],
    ["a NUL character", "room\u000042"],
    ["a newline", "room-42\n"],
  ];

  for (const field of ["roomId", "messageId", "keyId"]) {
    it.each(badIds)(`rejects a ${field} that is %s`, (_name, id) => {
      const error = parseError(withField(field, id));
      expect(error.code).toBe("INVALID_ENVELOPE");
      expect(issuesOf(error).map((issue) => issue.path)).toStrictEqual([field]);
    });
  }
});

describe("parseEnvelope rejects invalid key versions", () => {
  const badVersions: [string, unknown][] = [
    ["0", 0],
    ["-1", -1],
    ["1.5", 1.5],
    ["2^31", 2 ** 31],
    ['"1"', "1"],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-0", -0],
  ];

  it.each(badVersions)("rejects keyVersion %s", (_name, keyVersion) => {
    const error = parseError(withField("keyVersion", keyVersion));
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(issuesOf(error).map((issue) => issue.path)).toStrictEqual(["keyVersion"]);
  });
});

describe("parseEnvelope rejects malformed nonces and commitments", () => {
  const lastCommitmentChar = VALID.commitment.charAt(42);
  // 43 characters encode 32 bytes: the last character has 2 unused low bits, which must be 0.
  const nonCanonicalLast = ALPHABET.charAt(ALPHABET.indexOf(lastCommitmentChar) | 0b01);
  const nonCanonicalLastHigh = ALPHABET.charAt(ALPHABET.indexOf(lastCommitmentChar) | 0b10);

  const badValues: [string, string, string][] = [
    ["nonce", "one character short", VALID.nonce.slice(1)],
    ["nonce", "one character long", VALID.nonce + "A"],
    ["nonce", "with '+'", replaceAt(VALID.nonce, 3, "+")],
    ["nonce", "with '/'", replaceAt(VALID.nonce, 3, "/")],
    ["nonce", "padded with '='", VALID.nonce.slice(0, 31) + "="],
    ["nonce", "with a space", replaceAt(VALID.nonce, 3, " ")],
    ["nonce", "with a non-ASCII character", replaceAt(VALID.nonce, 3, "é")],
    ["commitment", "one character short", VALID.commitment.slice(0, 42)],
    ["commitment", "one character long", VALID.commitment + "A"],
    ["commitment", "44 characters with padding", VALID.commitment + "="],
    ["commitment", "with '+'", replaceAt(VALID.commitment, 0, "+")],
    ["commitment", "with '/'", replaceAt(VALID.commitment, 0, "/")],
    ["commitment", "with '=' inside", replaceAt(VALID.commitment, 42, "=")],
    ["commitment", "with the lowest unused bit of the last character set", replaceAt(VALID.commitment, 42, nonCanonicalLast)],
    ["commitment", "with the other unused bit of the last character set", replaceAt(VALID.commitment, 42, nonCanonicalLastHigh)],
  ];

  it("keeps the fixture canonical: the last commitment character has its unused bits clear", () => {
    expect(ALPHABET.indexOf(lastCommitmentChar) & 0b11).toBe(0);
    expect(nonCanonicalLast).not.toBe(lastCommitmentChar);
    expect(nonCanonicalLastHigh).not.toBe(lastCommitmentChar);
  });

  it.each(badValues)("rejects a %s %s", (field, _name, value) => {
    const error = parseError(withField(field, value));
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(issuesOf(error).map((issue) => issue.path)).toStrictEqual([field]);
  });
});

describe("parseEnvelope rejects malformed ciphertexts", () => {
  it("rejects a ciphertext shorter than 23 characters", () => {
    for (const length of [0, 1, 21, 22]) {
      const error = parseError(withField("ciphertext", "A".repeat(length)));
      expect(error.code).toBe("INVALID_ENVELOPE");
      expect(issuesOf(error).map((issue) => issue.path)).toStrictEqual(["ciphertext"]);
    }
  });

  it("rejects a ciphertext whose length is 1 modulo 4", () => {
    expect(parseError(withField("ciphertext", VALID.ciphertext + "AAA")).code).toBe("INVALID_ENVELOPE");
  });

  it("rejects a ciphertext with non-canonical trailing bits", () => {
    // 86 characters: the last one has 4 unused low bits.
    expect(VALID.ciphertext.length % 4).toBe(2);
    const last = ALPHABET.indexOf(VALID.ciphertext.charAt(85));
    expect(last & 0x0f).toBe(0);
    for (const bit of [1, 2, 4, 8]) {
      const ciphertext = replaceAt(VALID.ciphertext, 85, ALPHABET.charAt(last | bit));
      expect(parseError(withField("ciphertext", ciphertext)).code).toBe("INVALID_ENVELOPE");
    }
  });

  it("rejects standard-base64 characters and padding in the ciphertext", () => {
    for (const ciphertext of [
      replaceAt(VALID.ciphertext, 10, "+"),
      replaceAt(VALID.ciphertext, 10, "/"),
      VALID.ciphertext + "==",
    ]) {
      expect(parseError(withField("ciphertext", ciphertext)).code).toBe("INVALID_ENVELOPE");
    }
  });
});

describe("parseEnvelope rejects unsupported versions", () => {
  // Version 2 (signed envelopes) joined the supported list after v1; the versions below are
  // unsupported whatever else is added, short of a version 3.
  const versions: [string, unknown][] = [
    ["3", 3],
    ["0", 0],
    ["-1", -1],
    ["1.5", 1.5],
    ["NaN", Number.NaN],
    ['"1"', "1"],
    ["null", null],
    ["true", true],
    ["[1]", [1]],
  ];

  it("supports version 1", () => {
    expect(SUPPORTED_ENVELOPE_VERSIONS).toContain(1);
    expect(SUPPORTED_ENVELOPE_VERSIONS).not.toContain(3);
    expect(Object.isFrozen(SUPPORTED_ENVELOPE_VERSIONS)).toBe(true);
  });

  it.each(versions)("rejects v %s with UNSUPPORTED_VERSION", (_name, v) => {
    const error = parseError(withField("v", v));
    expect(error.code).toBe("UNSUPPORTED_VERSION");
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect((error as UnsupportedVersionError).expected).toStrictEqual(SUPPORTED_ENVELOPE_VERSIONS);
  });

  it("names the expected versions and the received version number", () => {
    const error = parseError(withField("v", 3)) as UnsupportedVersionError;
    expect(error.expected).toStrictEqual(SUPPORTED_ENVELOPE_VERSIONS);
    expect(error.expected).toContain(1);
    expect(error.received).toBe(3);
    expect(error.message).toBe(
      `unsupported envelope version: expected ${SUPPORTED_ENVELOPE_VERSIONS.join(" or ")}, received 3`,
    );
  });

  it("names the type of a received version that is not a number, never its value", () => {
    const fromString = parseError(withField("v", "1")) as UnsupportedVersionError;
    expect(fromString.received).toBe("string");
    expect(fromString.message).toMatch(/, received string$/);

    const fromNull = parseError(withField("v", null)) as UnsupportedVersionError;
    expect(fromNull.received).toBe("object");

    const secret = parseError(withField("v", MARKER)) as UnsupportedVersionError;
    expect(secret.message).not.toContain(MARKER);
    expect(String(secret.received)).not.toContain(MARKER);
  });

  it("reports an unsupported version before checking other fields", () => {
    const error = parseError({ v: 3, something: "else" });
    expect(error.code).toBe("UNSUPPORTED_VERSION");
  });

  it("reports an unsupported version from JSON text", () => {
    expect(parseError(JSON.stringify(withField("v", 3))).code).toBe("UNSUPPORTED_VERSION");
  });

  it("does not read a v1 envelope relabelled as another version as that version", () => {
    for (const v of SUPPORTED_ENVELOPE_VERSIONS.filter((version) => version !== 1)) {
      expect(parseError(withField("v", v)).code).toBe("INVALID_ENVELOPE");
    }
  });
});

describe("parseEnvelope bounds sizes", () => {
  it("rejects a ciphertext one character longer than the default limit with PAYLOAD_TOO_LARGE", () => {
    const error = parseError(withField("ciphertext", "A".repeat(DEFAULT_MAX_CIPHERTEXT_CHARS + 1)));
    expect(error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(issuesOf(error)).toStrictEqual([{ path: "ciphertext", problem: "too_big" }]);
  });

  it("rejects a ciphertext longer than the limit for a smaller maxPlaintextBytes", () => {
    // 100 bytes: Padmé(101) = 104, plus the tag: 120 bytes, 160 characters.
    const maxChars = base64urlLength(maxCiphertextBytes(100));
    expect(maxChars).toBe(160);
    const fits = withField("ciphertext", "A".repeat(maxChars));
    expect(parseEnvelope(fits, { maxPlaintextBytes: 100 }).ciphertext).toHaveLength(maxChars);
    const tooLong = withField("ciphertext", "A".repeat(maxChars + 4));
    expect(parseError(tooLong, { maxPlaintextBytes: 100 }).code).toBe("PAYLOAD_TOO_LARGE");
    expect(parseEnvelope(tooLong).ciphertext).toHaveLength(maxChars + 4);
  });

  it("rejects even the fixture's 86-character ciphertext under a 10-byte limit", () => {
    expect(parseError(VALID, { maxPlaintextBytes: 10 }).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("rejects a 10 MiB ciphertext string with PAYLOAD_TOO_LARGE", () => {
    const huge = "A".repeat(10 * 1024 * 1024);
    expect(parseError(withField("ciphertext", huge)).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("rejects a 10 MiB ciphertext of characters outside the alphabet with PAYLOAD_TOO_LARGE, not INVALID_ENVELOPE", () => {
    const huge = "!".repeat(10 * 1024 * 1024);
    expect(parseError(withField("ciphertext", huge)).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("rejects JSON text far longer than any envelope with PAYLOAD_TOO_LARGE, before parsing it", () => {
    const padded = JSON.stringify(VALID) + " ".repeat(200_000);
    expect(parseError(padded).code).toBe("PAYLOAD_TOO_LARGE");
    const garbage = "{".repeat(10 * 1024 * 1024);
    expect(parseError(garbage).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("bounds JSON text by the configured maxPlaintextBytes", () => {
    const padded = JSON.stringify(VALID) + " ".repeat(5_000);
    expect(parseEnvelope(padded)).toStrictEqual(VALID);
    expect(parseError(padded, { maxPlaintextBytes: 100 }).code).toBe("PAYLOAD_TOO_LARGE");
  });

  const badOptions: [string, unknown][] = [
    ["0", 0],
    ["-1", -1],
    ["1.5", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["16 MiB + 1", ENVELOPE_LIMITS.maxPlaintextBytesCeiling + 1],
    ['"100"', "100"],
  ];

  it.each(badOptions)("throws RangeError for maxPlaintextBytes %s", (_name, maxPlaintextBytes) => {
    const options = { maxPlaintextBytes } as { maxPlaintextBytes: number };
    expect(() => safeParseEnvelope(VALID, options)).toThrow(RangeError);
    expect(() => parseEnvelope(VALID, options)).toThrow(RangeError);
  });

  it("accepts maxPlaintextBytes from 1 to 16 MiB", () => {
    expect(safeParseEnvelope(VALID, { maxPlaintextBytes: ENVELOPE_LIMITS.maxPlaintextBytesCeiling }).success).toBe(true);
    expect(safeParseEnvelope(VALID, { maxPlaintextBytes: 1 }).success).toBe(false);
  });
});

describe("parse errors never contain the offending value", () => {
  it("lists paths and problem kinds, never values", () => {
    const input = {
      ...VALID,
      suite: MARKER,
      roomId: `${MARKER} room`,
      messageId: `${MARKER}/msg`,
      keyId: MARKER.repeat(20),
      keyVersion: MARKER,
      nonce: MARKER,
      commitment: `${MARKER}+`,
      ciphertext: `${MARKER}=`.repeat(3),
    };
    const error = parseError(input);
    const issues = issuesOf(error);
    expect(issues.map((issue) => issue.path).sort()).toStrictEqual(
      ["ciphertext", "commitment", "keyId", "keyVersion", "messageId", "nonce", "roomId", "suite"],
    );
    for (const issue of issues) {
      expect(Object.keys(issue).sort()).toStrictEqual(["path", "problem"]);
      expect(typeof issue.problem).toBe("string");
    }
    expect(JSON.stringify(issues)).not.toContain(MARKER);
    expect(error.message).not.toContain(MARKER);
    expect(String(error.stack)).not.toContain(MARKER);
  });

  it("does not name an unexpected key", () => {
    const error = parseError({ ...VALID, [MARKER]: MARKER });
    expect(JSON.stringify(issuesOf(error))).not.toContain(MARKER);
    expect(error.message).not.toContain(MARKER);
  });

  it("does not quote malformed JSON text", () => {
    const error = parseError(`{"roomId": "${MARKER}"`);
    expect(error.code).toBe("INVALID_ENVELOPE");
    expect(error.message).not.toContain(MARKER);
  });

  it("freezes the issues list", () => {
    const error = parseError(withField("roomId", ""));
    expect(Object.isFrozen(issuesOf(error))).toBe(true);
  });
});

describe("safeParseEnvelope never throws", () => {
  const inputs: unknown[] = [
    undefined,
    null,
    0,
    Number.NaN,
    "",
    "{",
    "[]",
    "\u0000",
    "\uD800",
    [],
    {},
    { v: 1 },
    { v: 1n },
    { v: Symbol("v") },
    Object.create(null) as unknown,
    Object.assign(Object.create(null) as object, VALID),
    new Map(Object.entries(VALID)),
    new Date(0),
    new Uint8Array(32),
    () => undefined,
    Symbol("envelope"),
    10n,
    withField("v", undefined),
    withField("ciphertext", { length: 10 }),
    withField("keyVersion", 1n),
    withField("roomId", new String("room-42")),
  ];

  it.each(inputs.map((input, index) => [index, input] as const))("returns a typed failure or success for input #%i", (_index, input) => {
    const result = safeParseEnvelope(input);
    if (!result.success) expect(E2eeError.isInstance(result.error)).toBe(true);
  });

  it("accepts an envelope with a null prototype", () => {
    expect(parseEnvelope(Object.assign(Object.create(null) as object, VALID))).toStrictEqual(VALID);
  });
});
