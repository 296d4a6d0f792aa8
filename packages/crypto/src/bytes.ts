/**
 * Byte helpers: strict base64 and base64url (RFC 4648 §4 and §5), UTF-8, randomness.
 * Decoders accept exactly one encoding per byte string (canonical) and report failure as
 * `undefined`, so callers choose the typed error.
 *
 * @module
 */
import { builtinModule, nativeMode } from "./native-mode";

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

interface Alphabet {
  /** Character code of each sextet value. */
  readonly codes: Uint8Array;
  /** Sextet value of each byte (ASCII code), or −1. */
  readonly values: Int8Array;
}

function alphabet(characters: string): Alphabet {
  const codes = new Uint8Array(64);
  const values = new Int8Array(256).fill(-1);
  for (let i = 0; i < 64; i++) {
    codes[i] = characters.charCodeAt(i);
    values[codes[i]!] = i;
  }
  return { codes, values };
}
const STANDARD_ALPHABET = alphabet(STANDARD);
const URL_SAFE_ALPHABET = alphabet(URL_SAFE);
const PAD = 0x3d; // "="

// Long texts are built as ASCII bytes and decoded natively, which is several times faster than
// growing a string; short ones are not worth the call.
const NATIVE_TEXT_FROM = 48;
const asciiDecoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

function encode(bytes: Uint8Array, { codes }: Alphabet, pad: boolean): string {
  const length = bytes.length;
  const full = length - (length % 3);
  const rest = length - full;
  const out = new Uint8Array(((full / 3) << 2) + (rest === 0 ? 0 : pad ? 4 : rest + 1));
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o] = codes[n >>> 18]!;
    out[o + 1] = codes[(n >>> 12) & 63]!;
    out[o + 2] = codes[(n >>> 6) & 63]!;
    out[o + 3] = codes[n & 63]!;
    o += 4;
  }
  if (rest !== 0) {
    const n = (bytes[full]! << 16) | (rest === 2 ? bytes[full + 1]! << 8 : 0);
    out[o++] = codes[n >>> 18]!;
    out[o++] = codes[(n >>> 12) & 63]!;
    if (rest === 2) out[o++] = codes[(n >>> 6) & 63]!;
    if (pad) while (o < out.length) out[o++] = PAD;
  }
  if (out.length >= NATIVE_TEXT_FROM) return asciiDecoder.decode(out);
  let text = "";
  for (let i = 0; i < out.length; i++) text += String.fromCharCode(out[i]!);
  return text;
}

function decode(text: string, { values }: Alphabet): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  const full = length - (length % 4);
  // Character codes index the table through their low byte; `high` collects every code so a
  // non-ASCII character (which could alias an alphabet entry) fails the text at the end.
  let high = 0;
  let invalid = 0;
  let o = 0;
  let i = 0;
  for (; i < full; i += 4) {
    const ca = text.charCodeAt(i);
    const cb = text.charCodeAt(i + 1);
    const cc = text.charCodeAt(i + 2);
    const cd = text.charCodeAt(i + 3);
    high |= ca | cb | cc | cd;
    const a = values[ca & 0xff]!;
    const b = values[cb & 0xff]!;
    const c = values[cc & 0xff]!;
    const d = values[cd & 0xff]!;
    invalid |= a | b | c | d;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = n >>> 16;
    out[o + 1] = (n >>> 8) & 0xff;
    out[o + 2] = n & 0xff;
    o += 3;
  }
  const rest = length - full;
  if (rest > 0) {
    const ca = text.charCodeAt(i);
    const cb = text.charCodeAt(i + 1);
    const cc = rest === 3 ? text.charCodeAt(i + 2) : 0x41; // "A", value 0
    high |= ca | cb | cc;
    const a = values[ca & 0xff]!;
    const b = values[cb & 0xff]!;
    const c = values[cc & 0xff]!;
    invalid |= a | b | c;
    // Canonical form: the unused low bits of the last character are zero.
    if (rest === 2 ? (b & 0x0f) !== 0 : (c & 0x03) !== 0) invalid = -1;
    out[o++] = (a << 2) | (b >>> 4);
    if (rest === 3) out[o++] = ((b & 0x0f) << 4) | (c >>> 2);
  }
  return invalid < 0 || high > 0x7f ? undefined : out;
}

// Long base64url texts go through the runtime's native codec where it has one, several times
// faster than the JS loops above: Buffer in Node (and Bun, Deno), `Uint8Array.prototype.toBase64`
// and `Uint8Array.fromBase64` in browsers that have them. Both decoders are lenient (Buffer skips
// characters outside the alphabet; `fromBase64` skips whitespace and takes padding), so a decoded
// text is accepted only when re-encoding gives the same text back: exactly the canonical texts.
// Short texts stay in JS, where the call costs more than it saves. `setNativeCrypto("off")` turns
// this off too.
interface NativeBase64url {
  encode(bytes: Uint8Array): string;
  /** The bytes of `text` (lenient), in a Uint8Array of their own, or `undefined` when it throws. */
  decodeLenient(text: string): Uint8Array | undefined;
}
const NATIVE_ENCODE_FROM_BYTES = 96;
const NATIVE_DECODE_FROM_CHARS = 1024;
let nativeCodec: NativeBase64url | undefined | null = null; // null: not looked up yet
let nodeBufferHiddenForTesting = false;

function nativeBase64url(): NativeBase64url | undefined {
  if (nativeMode() === "off") return undefined;
  if (nativeCodec === null) nativeCodec = (nodeBufferHiddenForTesting ? undefined : lookUpNodeBuffer()) ?? lookUpWebBase64url();
  return nativeCodec;
}

/**
 * @internal For tests: look the native codec up again on first use, optionally as in a runtime
 * without `node:buffer` (a browser).
 */
export function lookUpBase64urlAgainForTesting({ withoutNodeBuffer = false }: { withoutNodeBuffer?: boolean } = {}): void {
  nodeBufferHiddenForTesting = withoutNodeBuffer;
  nativeCodec = null;
}

/** A known answer (RFC 4648 §10's "foo" after 0xfb 0xff, in the URL-safe alphabet) both ways. */
function passesKnownAnswer(codec: NativeBase64url): boolean {
  try {
    const back = codec.decodeLenient("-_9mb28");
    return codec.encode(Uint8Array.of(0xfb, 0xff, 0x66, 0x6f, 0x6f)) === "-_9mb28" && back?.length === 5 && back[0] === 0xfb && back[4] === 0x6f;
  } catch {
    return false;
  }
}

type NodeBuffer = Uint8Array & { toString(encoding: "base64url"): string };
interface NodeBufferClass {
  from(text: string, encoding: "base64url"): NodeBuffer;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): NodeBuffer;
}

function lookUpNodeBuffer(): NativeBase64url | undefined {
  const buffer = (builtinModule("node:buffer") as { Buffer?: NodeBufferClass } | undefined)?.Buffer;
  if (typeof buffer?.from !== "function") return undefined;
  const codec: NativeBase64url = {
    encode: (bytes) => buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url"),
    decodeLenient(text) {
      const decoded = buffer.from(text, "base64url");
      // Short results live in Buffer's shared pool: copy them out and wipe the pooled bytes.
      if (decoded.byteOffset === 0 && decoded.byteLength === decoded.buffer.byteLength) return new Uint8Array(decoded.buffer);
      const copy = new Uint8Array(decoded);
      decoded.fill(0);
      return copy;
    },
  };
  return passesKnownAnswer(codec) ? codec : undefined;
}

type WebBase64Bytes = Uint8Array & { toBase64(options: object): string };
type WebBase64Class = { fromBase64(text: string, options: object): Uint8Array };
// Every option spelled out, on objects without a prototype: nothing inherited can change them.
const WEB_ENCODE_OPTIONS = Object.freeze(Object.assign(Object.create(null) as object, { alphabet: "base64url", omitPadding: true } as const));
const WEB_DECODE_OPTIONS = Object.freeze(Object.assign(Object.create(null) as object, { alphabet: "base64url", lastChunkHandling: "loose" } as const));

function lookUpWebBase64url(): NativeBase64url | undefined {
  const fromBase64 = (Uint8Array as unknown as Partial<WebBase64Class>).fromBase64;
  const toBase64 = (Uint8Array.prototype as Partial<WebBase64Bytes>).toBase64;
  if (typeof fromBase64 !== "function" || typeof toBase64 !== "function") return undefined;
  const codec: NativeBase64url = {
    encode: (bytes) => toBase64.call(bytes, WEB_ENCODE_OPTIONS),
    decodeLenient(text) {
      try {
        return fromBase64.call(Uint8Array, text, WEB_DECODE_OPTIONS);
      } catch {
        return undefined; // SyntaxError: a character outside the alphabet, or a bad length
      }
    },
  };
  return passesKnownAnswer(codec) ? codec : undefined;
}

function nativeDecode(codec: NativeBase64url, text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const decoded = codec.decodeLenient(text);
  if (decoded === undefined) return undefined;
  if (codec.encode(decoded) === text) return decoded;
  decoded.fill(0);
  return undefined;
}

/** Unpadded base64url (RFC 4648 §5), the encoding of every byte field on the wire. */
export function base64urlEncode(bytes: Uint8Array): string {
  const codec = bytes.length >= NATIVE_ENCODE_FROM_BYTES ? nativeBase64url() : undefined;
  if (codec !== undefined) {
    try {
      return codec.encode(bytes);
    } catch {
      // A view the native codec does not take (toBase64 wants a plain Uint8Array): JS below.
    }
  }
  return encode(bytes, URL_SAFE_ALPHABET, false);
}

/** Decodes canonical unpadded base64url; `undefined` for anything else. */
export function base64urlDecode(text: string): Uint8Array | undefined {
  const codec = text.length >= NATIVE_DECODE_FROM_CHARS ? nativeBase64url() : undefined;
  return codec === undefined ? decode(text, URL_SAFE_ALPHABET) : nativeDecode(codec, text);
}

/** Padded standard base64 (RFC 4648 §4). */
export function base64Encode(bytes: Uint8Array): string {
  return encode(bytes, STANDARD_ALPHABET, true);
}

/** Decodes canonical padded standard base64; `undefined` for anything else. */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  let body = text;
  if (body.endsWith("==")) body = body.slice(0, -2);
  else if (body.endsWith("=")) body = body.slice(0, -1);
  return decode(body, STANDARD_ALPHABET);
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes strict UTF-8; `undefined` for invalid sequences. */
export function utf8Decode(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * `length` bytes from the platform CSPRNG (`crypto.getRandomValues`), the only source of
 * randomness in the SDK. Browsers, Node 20+, Deno, Bun and React Native (with a
 * `getRandomValues` polyfill such as react-native-get-random-values) provide it.
 *
 * @throws Error when the platform has no `crypto.getRandomValues`.
 */
export function randomBytes(length: number): Uint8Array {
  const webCrypto = (globalThis as { crypto?: { getRandomValues?: <T extends ArrayBufferView>(array: T) => T } }).crypto;
  if (typeof webCrypto?.getRandomValues !== "function") {
    throw new Error("crypto.getRandomValues is not available on this platform");
  }
  return webCrypto.getRandomValues(new Uint8Array(length));
}

// Nonces are public and drawn for every message: one CSPRNG call fills a pool of 64 nonces, so
// a message pays a copy instead of a `getRandomValues` round trip. Bytes handed out are zeroed
// in the pool, so no nonce is given twice. Secret keys never come from the pool.
const NONCE_POOL_BYTES = 1536;
let noncePool: Uint8Array = new Uint8Array(0);
let noncePoolOffset = 0;

/**
 * `length` fresh random bytes for a public nonce (at most 64 bytes), from a pool refilled by
 * {@link randomBytes}. Never use it for secrets.
 *
 * @throws Error when the platform has no `crypto.getRandomValues`.
 */
export function randomNonce(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > 64) throw new RangeError(`nonce length expected 1 to 64, got ${length}`);
  if (noncePoolOffset + length > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.slice(noncePoolOffset, noncePoolOffset + length);
  noncePool.fill(0, noncePoolOffset, noncePoolOffset + length);
  noncePoolOffset += length;
  return nonce;
}

/**
 * @internal The low 255 bits of a 32-byte little-endian field element (an Ed25519 y, an X25519 u)
 * are below p = 2^255 − 19: its canonical encoding. Byte comparisons only.
 */
export function isBelowFieldPrime(encoded: Uint8Array): boolean {
  // ≥ p only when bits 0–254 are all ones but for a first byte of 0xed or more.
  let highBytes = encoded[31]! & 0x7f;
  for (let i = 1; i < 31; i++) highBytes &= encoded[i]!;
  return !(highBytes === 0x7f && encoded[0]! >= 0xed);
}
