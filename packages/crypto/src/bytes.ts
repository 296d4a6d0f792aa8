/**
 * Byte helpers: strict base64 and base64url (RFC 4648 §4 and §5), UTF-8, randomness.
 * Decoders accept exactly one encoding per byte string (canonical) and report failure as
 * `undefined`, so callers choose the typed error.
 *
 * @module
 */

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

/** The character codes of an ASCII text, or `undefined` when it has another character. */
function asciiCodes(text: string): Uint8Array | undefined {
  const codes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return undefined;
    codes[i] = code;
  }
  return codes;
}

function decode(text: string, { values }: Alphabet): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  // One byte per character, or the text has a non-ASCII character (then the lengths differ).
  // Short texts are read directly: the encoder's call costs more than it saves.
  const source = length >= NATIVE_TEXT_FROM * 4 ? utf8Encoder.encode(text) : asciiCodes(text);
  if (source === undefined || source.length !== length) return undefined;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  const full = length - (length % 4);
  let invalid = 0;
  let o = 0;
  let i = 0;
  for (; i < full; i += 4) {
    const a = values[source[i]!]!;
    const b = values[source[i + 1]!]!;
    const c = values[source[i + 2]!]!;
    const d = values[source[i + 3]!]!;
    invalid |= a | b | c | d;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = n >>> 16;
    out[o + 1] = (n >>> 8) & 0xff;
    out[o + 2] = n & 0xff;
    o += 3;
  }
  const rest = length - full;
  if (rest > 0) {
    const a = values[source[i]!]!;
    const b = values[source[i + 1]!]!;
    const c = rest === 3 ? values[source[i + 2]!]! : 0;
    invalid |= a | b | c;
    // Canonical form: the unused low bits of the last character are zero.
    if (rest === 2 ? (b & 0x0f) !== 0 : (c & 0x03) !== 0) invalid = -1;
    out[o++] = (a << 2) | (b >>> 4);
    if (rest === 3) out[o++] = ((b & 0x0f) << 4) | (c >>> 2);
  }
  return invalid < 0 ? undefined : out;
}

/** Unpadded base64url (RFC 4648 §5), the encoding of every byte field on the wire. */
export function base64urlEncode(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE_ALPHABET, false);
}

/** Decodes canonical unpadded base64url; `undefined` for anything else. */
export function base64urlDecode(text: string): Uint8Array | undefined {
  return decode(text, URL_SAFE_ALPHABET);
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
