/**
 * Canonical byte strings for associated data, HPKE `info` and signature inputs (SPEC.md §7.1).
 * Every variable-length field is length-prefixed, so no two different field lists encode to the
 * same bytes.
 *
 * ```
 * text(s)   = u16be(len(s)) || ASCII bytes of s        (s must be ASCII)
 * bytes(b)  = u16be(len(b)) || b
 * blob(b)   = u32be(len(b)) || b                      (for fields that may exceed 65,535 bytes)
 * u8(n)     = one byte;  u16(n) = 2 bytes big-endian;  u32(n) = 4 bytes big-endian
 * ```
 *
 * @module
 */

/** One field of a canonical byte string. */
export type CanonicalField =
  | { readonly text: string }
  | { readonly bytes: Uint8Array }
  | { readonly blob: Uint8Array }
  | { readonly u8: number }
  | { readonly u16: number }
  | { readonly u32: number };

function fieldSize(field: CanonicalField): number {
  if ("text" in field) return 2 + field.text.length;
  if ("bytes" in field) return 2 + field.bytes.length;
  if ("blob" in field) return 4 + field.blob.length;
  if ("u8" in field) return 1;
  if ("u16" in field) return 2;
  return 4;
}

/**
 * Encodes fields into one canonical byte string.
 *
 * @example
 * ```ts
 * canonicalBytes([{ text: "domvia-e2ee/example" }, { u8: 1 }, { u32: 7 }]);
 * ```
 * @throws RangeError when a text is not ASCII, a text or byte field is longer than 65,535, or
 *   a number does not fit its width.
 */
export function canonicalBytes(fields: readonly CanonicalField[]): Uint8Array {
  let size = 0;
  for (const field of fields) size += fieldSize(field);
  const out = new Uint8Array(size);
  let offset = 0;
  const writeLength = (length: number): void => {
    if (length > 0xffff) throw new RangeError(`canonical field expected at most 65535 bytes, got ${length}`);
    out[offset++] = length >>> 8;
    out[offset++] = length & 0xff;
  };
  const checkWidth = (value: number, max: number): void => {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new RangeError(`canonical integer expected 0 to ${max}, got ${String(value)}`);
    }
  };
  for (const field of fields) {
    if ("text" in field) {
      const { text } = field;
      writeLength(text.length);
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code > 0x7f) throw new RangeError("canonical text expected ASCII");
        out[offset++] = code;
      }
    } else if ("bytes" in field) {
      writeLength(field.bytes.length);
      out.set(field.bytes, offset);
      offset += field.bytes.length;
    } else if ("blob" in field) {
      const { length } = field.blob;
      out[offset++] = length >>> 24;
      out[offset++] = (length >>> 16) & 0xff;
      out[offset++] = (length >>> 8) & 0xff;
      out[offset++] = length & 0xff;
      out.set(field.blob, offset);
      offset += length;
    } else if ("u8" in field) {
      checkWidth(field.u8, 0xff);
      out[offset++] = field.u8;
    } else if ("u16" in field) {
      checkWidth(field.u16, 0xffff);
      out[offset++] = field.u16 >>> 8;
      out[offset++] = field.u16 & 0xff;
    } else {
      checkWidth(field.u32, 0xffff_ffff);
      out[offset++] = field.u32 >>> 24;
      out[offset++] = (field.u32 >>> 16) & 0xff;
      out[offset++] = (field.u32 >>> 8) & 0xff;
      out[offset++] = field.u32 & 0xff;
    }
  }
  return out;
}
