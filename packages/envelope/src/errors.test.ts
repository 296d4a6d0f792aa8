import { describe, expect, it, vi } from "vitest";
import {
  ContextMismatchError,
  E2EE_ERROR_CODES,
  E2eeError,
  UnknownKeyError,
  UnsupportedVersionError,
  decryptionFailed,
  type E2eeErrorCode,
} from "./errors";

const MARKER = Symbol.for("@domvia/e2ee.error");

describe("E2eeError", () => {
  it("is an Error with a code, a message and a name", () => {
    const error = new E2eeError("INVALID_KEY", "invalid room key");
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe("INVALID_KEY");
    expect(error.message).toBe("invalid room key");
    expect(error.name).toBe("E2eeError");
  });

  it("recognises its own errors with and without a code", () => {
    const error = new E2eeError("DECRYPTION_FAILED", "decryption failed");
    expect(E2eeError.isInstance(error)).toBe(true);
    expect(E2eeError.isInstance(error, "DECRYPTION_FAILED")).toBe(true);
    expect(E2eeError.isInstance(error, "UNKNOWN_KEY")).toBe(false);
  });

  it("recognises every subclass", () => {
    const errors = [new UnsupportedVersionError([1], 2), new UnknownKeyError("r", "k", 1), new ContextMismatchError("roomId")];
    for (const error of errors) {
      expect(error).toBeInstanceOf(E2eeError);
      expect(E2eeError.isInstance(error)).toBe(true);
      expect(E2eeError.isInstance(error, error.code)).toBe(true);
    }
  });

  it("does not recognise other values", () => {
    const lookalikes: unknown[] = [
      undefined,
      null,
      "E2eeError",
      42,
      new Error("decryption failed"),
      new TypeError("x"),
      { code: "DECRYPTION_FAILED", name: "E2eeError", message: "decryption failed" },
      Object.assign(new Error("x"), { code: "DECRYPTION_FAILED" }),
      { ...new E2eeError("DECRYPTION_FAILED", "decryption failed") },
      JSON.parse(JSON.stringify(new E2eeError("DECRYPTION_FAILED", "decryption failed"))) as unknown,
    ];
    for (const value of lookalikes) {
      expect(E2eeError.isInstance(value)).toBe(false);
      expect(E2eeError.isInstance(value, "DECRYPTION_FAILED")).toBe(false);
    }
  });

  it("recognises an error from a second copy of the module, where instanceof does not", async () => {
    vi.resetModules();
    const second = await import("./errors");
    expect(second.E2eeError).not.toBe(E2eeError);

    const foreign = new second.E2eeError("DECRYPTION_FAILED", "decryption failed");
    expect(foreign instanceof E2eeError).toBe(false);
    expect(E2eeError.isInstance(foreign)).toBe(true);
    expect(E2eeError.isInstance(foreign, "DECRYPTION_FAILED")).toBe(true);
    expect(E2eeError.isInstance(foreign, "INVALID_KEY")).toBe(false);

    const foreignUnknownKey = new second.UnknownKeyError("room-42", "room-42-v1", 3);
    expect(foreignUnknownKey instanceof UnknownKeyError).toBe(false);
    expect(E2eeError.isInstance(foreignUnknownKey, "UNKNOWN_KEY")).toBe(true);

    const local = new ContextMismatchError("messageId");
    expect(local instanceof second.E2eeError).toBe(false);
    expect(second.E2eeError.isInstance(local, "CONTEXT_MISMATCH")).toBe(true);
  });

  it("keeps its marker on the prototype, non-enumerable, out of keys and JSON", () => {
    const error = new UnknownKeyError("room-42", "room-42-v1", 1);
    const descriptor = Object.getOwnPropertyDescriptor(E2eeError.prototype, MARKER);
    expect(descriptor).toMatchObject({ value: true, enumerable: false, writable: false, configurable: false });
    expect(Object.getOwnPropertySymbols(error)).toStrictEqual([]);
    expect(Object.keys(error)).not.toContain(MARKER.toString());
    expect(Reflect.ownKeys(error)).not.toContain(MARKER);
    const forIn: string[] = [];
    for (const key in error) forIn.push(key);
    expect(forIn).not.toContain(MARKER.toString());
    const json = JSON.stringify(error);
    expect(json).not.toContain("@domvia/e2ee.error");
    expect(json).not.toContain("Symbol");
  });

  it("keeps recognising an error whose marker someone tries to overwrite", () => {
    const error = new E2eeError("INVALID_ENVELOPE", "invalid envelope");
    expect(() => {
      (error as unknown as Record<symbol, unknown>)[MARKER] = false;
    }).toThrow(TypeError);
    expect(E2eeError.isInstance(error)).toBe(true);
  });
});

describe("subclasses", () => {
  it("UnknownKeyError carries the room, key id and key version", () => {
    const error = new UnknownKeyError("room-42", "room-42-v1", 7);
    expect(error.code).toBe("UNKNOWN_KEY");
    expect(error.name).toBe("UnknownKeyError");
    expect(error.roomId).toBe("room-42");
    expect(error.keyId).toBe("room-42-v1");
    expect(error.keyVersion).toBe(7);
    expect(error.message).toBe('no key for room "room-42", key id "room-42-v1", version 7');
  });

  it("UnsupportedVersionError names what it expects and what it received", () => {
    const error = new UnsupportedVersionError([1], 3);
    expect(error.code).toBe("UNSUPPORTED_VERSION");
    expect(error.name).toBe("UnsupportedVersionError");
    expect(error.expected).toStrictEqual([1]);
    expect(error.received).toBe(3);
    expect(error.message).toBe("unsupported envelope version: expected 1, received 3");
  });

  it("UnsupportedVersionError lists several expected versions", () => {
    expect(new UnsupportedVersionError([1, 2], 3).message).toBe("unsupported envelope version: expected 1 or 2, received 3");
  });

  it("UnsupportedVersionError reports only the type of a received value that is not a number", () => {
    const secret = "SECRET-MARKER-91ac";
    const error = new UnsupportedVersionError([1], secret);
    expect(error.received).toBe("string");
    expect(error.message).not.toContain(secret);
    expect(new UnsupportedVersionError([1], { secret }).received).toBe("object");
    expect(new UnsupportedVersionError([1], undefined).received).toBe("undefined");
  });

  it("ContextMismatchError names the field that disagreed", () => {
    for (const field of ["roomId", "messageId"] as const) {
      const error = new ContextMismatchError(field);
      expect(error.code).toBe("CONTEXT_MISMATCH");
      expect(error.name).toBe("ContextMismatchError");
      expect(error.field).toBe(field);
      expect(error.message).toBe(`envelope ${field} does not match the expected ${field}`);
    }
  });

  it("decryptionFailed is one opaque error with a fixed message", () => {
    const error = decryptionFailed();
    expect(error.code).toBe("DECRYPTION_FAILED");
    expect(error.message).toBe("decryption failed");
    expect(error.name).toBe("E2eeError");
    expect(Object.getPrototypeOf(error)).toBe(E2eeError.prototype);
    expect(decryptionFailed()).not.toBe(error);
  });
});

describe("E2EE_ERROR_CODES", () => {
  it("keeps every v1 code (codes are never renamed or removed) and lists each code once", () => {
    const expected: E2eeErrorCode[] = [
      "INVALID_ENVELOPE",
      "UNSUPPORTED_VERSION",
      "CONTEXT_MISMATCH",
      "UNKNOWN_KEY",
      "DECRYPTION_FAILED",
      "INVALID_KEY",
      "PAYLOAD_TOO_LARGE",
    ];
    expect(E2EE_ERROR_CODES).toEqual(expect.arrayContaining(expected));
    expect(new Set(E2EE_ERROR_CODES).size).toBe(E2EE_ERROR_CODES.length);
  });

  it("uses SCREAMING_SNAKE_CASE for every code", () => {
    for (const code of E2EE_ERROR_CODES) expect(code).toMatch(/^[A-Z]+(?:_[A-Z]+)*$/);
  });

  it("is frozen", () => {
    expect(Object.isFrozen(E2EE_ERROR_CODES)).toBe(true);
  });

  it("every code works with isInstance", () => {
    for (const code of E2EE_ERROR_CODES) {
      const error = new E2eeError(code, "message");
      expect(E2eeError.isInstance(error, code)).toBe(true);
      for (const other of E2EE_ERROR_CODES) {
        if (other !== code) expect(E2eeError.isInstance(error, other)).toBe(false);
      }
    }
  });
});
