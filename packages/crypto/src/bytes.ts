/**
 * Byte helpers: strict base64 and base64url (RFC 4648 §4 and §5), UTF-8, randomness.
 * Decoders accept exactly one encoding per byte string (canonical) and report failure as
 * `undefined`, so callers choose the typed error.
 *
 * @module
 */

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function lookupTable(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}
const STANDARD_LOOKUP = lookupTable(STANDARD);
const URL_SAFE_LOOKUP = lookupTable(URL_SAFE);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  const full = bytes.length - (bytes.length % 3);
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - full;
  if (rest === 1) {
    const n = bytes[full]! << 16;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[full]! << 16) | (bytes[full + 1]! << 8);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

function decode(text: string, table: Int8Array): Uint8Array | undefined {
  const length = text.length;
  if (length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((length * 3) / 4));
  let o = 0;
  let i = 0;
  const full = length - (length % 4);
  for (; i < full; i += 4) {
    const a = sextet(text, i, table);
    const b = sextet(text, i + 1, table);
    const c = sextet(text, i + 2, table);
    const d = sextet(text, i + 3, table);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  const rest = length - full;
  if (rest > 0) {
    const a = sextet(text, i, table);
    const b = sextet(text, i + 1, table);
    const c = rest === 3 ? sextet(text, i + 2, table) : 0;
    if ((a | b | c) < 0) return undefined;
    // Canonical form: the unused low bits of the last character are zero.
    if (rest === 2 ? (b & 0x0f) !== 0 : (c & 0x03) !== 0) return undefined;
    out[o++] = (a << 2) | (b >>> 4);
    if (rest === 3) out[o++] = ((b & 0x0f) << 4) | (c >>> 2);
  }
  return out;
}

function sextet(text: string, index: number, table: Int8Array): number {
  const code = text.charCodeAt(index);
  return code < 128 ? table[code]! : -1;
}

/** Unpadded base64url (RFC 4648 §5), the encoding of every byte field on the wire. */
export function base64urlEncode(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

/** Decodes canonical unpadded base64url; `undefined` for anything else. */
export function base64urlDecode(text: string): Uint8Array | undefined {
  return decode(text, URL_SAFE_LOOKUP);
}

/** Padded standard base64 (RFC 4648 §4). */
export function base64Encode(bytes: Uint8Array): string {
  return encode(bytes, STANDARD, true);
}

/** Decodes canonical padded standard base64; `undefined` for anything else. */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  let body = text;
  if (body.endsWith("==")) body = body.slice(0, -2);
  else if (body.endsWith("=")) body = body.slice(0, -1);
  return decode(body, STANDARD_LOOKUP);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
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
