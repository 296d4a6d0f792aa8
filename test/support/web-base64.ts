/**
 * A stand-in for the browsers' `Uint8Array.prototype.toBase64` and `Uint8Array.fromBase64` (TC39
 * "Uint8Array to/from base64"), for Node 20, which lacks them, so tests can run the SDK's
 * browser codec path. It is as lenient as the specification's default (`lastChunkHandling:
 * "loose"`): ASCII whitespace is skipped, trailing padding is accepted, and the unused bits of
 * the last character are ignored; a character outside the alphabet or a lone last character
 * throws a SyntaxError. Counts its calls. The SDK must add the strictness itself. Where the
 * runtime has the real functions (newer Node, Bun, Deno), they are counted instead of replaced.
 */
import { Buffer } from "node:buffer";

type Alphabet = "base64" | "base64url";
interface Installed {
  readonly calls: { toBase64: number; fromBase64: number };
  uninstall(): void;
}

const ALPHABETS: Record<Alphabet, RegExp> = { base64: /^[A-Za-z0-9+/]*$/, base64url: /^[A-Za-z0-9_-]*$/ };

/**
 * Installs the stand-in on `Uint8Array` (or counters around the runtime's own functions, when it
 * has both); `uninstall()` restores what was there.
 */
export function installWebBase64(): Installed {
  const target = Uint8Array as unknown as { fromBase64?: unknown };
  const prototype = Uint8Array.prototype as unknown as { toBase64?: unknown };
  const calls = { toBase64: 0, fromBase64: 0 };
  const native = { fromBase64: target.fromBase64, toBase64: prototype.toBase64 };
  if (typeof native.fromBase64 === "function" && typeof native.toBase64 === "function") {
    const [fromBase64, toBase64] = [native.fromBase64, native.toBase64];
    target.fromBase64 = function (this: unknown, ...args: unknown[]): unknown {
      calls.fromBase64++;
      return fromBase64.apply(this, args);
    };
    prototype.toBase64 = function (this: unknown, ...args: unknown[]): unknown {
      calls.toBase64++;
      return toBase64.apply(this, args);
    };
    return {
      calls,
      uninstall() {
        target.fromBase64 = fromBase64;
        prototype.toBase64 = toBase64;
      },
    };
  }
  if ("fromBase64" in target || "toBase64" in prototype) throw new Error("this runtime has only one of the Uint8Array base64 functions");
  prototype.toBase64 = function toBase64(this: Uint8Array, options: { alphabet?: Alphabet; omitPadding?: boolean } = {}): string {
    calls.toBase64++;
    const alphabet = options.alphabet ?? "base64";
    const text = Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString("base64");
    const unpadded = text.replace(/=+$/, "");
    const body = alphabet === "base64url" ? unpadded.replace(/\+/g, "-").replace(/\//g, "_") : unpadded;
    return options.omitPadding === true ? body : body + "=".repeat(text.length - unpadded.length);
  };
  target.fromBase64 = function fromBase64(text: unknown, options: { alphabet?: Alphabet } = {}): Uint8Array {
    calls.fromBase64++;
    if (typeof text !== "string") throw new TypeError("fromBase64 expects a string");
    const alphabet = options.alphabet ?? "base64";
    const compact = text.replace(/[\t\n\f\r ]/g, "");
    const padding = /={0,2}$/.exec(compact)![0].length;
    const body = compact.slice(0, compact.length - padding);
    if (!ALPHABETS[alphabet].test(body) || body.length % 4 === 1) throw new SyntaxError("not base64");
    if (padding > 0 && (body.length + padding) % 4 !== 0) throw new SyntaxError("bad padding");
    const standard = alphabet === "base64url" ? body.replace(/-/g, "+").replace(/_/g, "/") : body;
    return new Uint8Array(Buffer.from(standard, "base64"));
  };
  return {
    calls,
    uninstall() {
      delete target.fromBase64;
      delete prototype.toBase64;
    },
  };
}
