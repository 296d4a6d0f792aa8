/**
 * Secret hygiene, the detector: finds test secrets (room keys, device keys, recovery codes,
 * plaintext) in text the suite produces: error messages, log lines, serialised objects.
 * No vitest and no Node API here, so the vitest config (main process) and the per-worker setup
 * (`secret-hygiene-setup.ts`) can both use it; the setup feeds it and decides what is a leak.
 *
 * What it knows as secret:
 * - every 32-byte draw from `crypto.getRandomValues` (room keys, Ed25519 and X25519 seeds,
 *   recovery-key entropy, HPKE ephemeral secrets; nonces are other sizes or pooled), found as
 *   lower- or upper-case hex, Node's `<Buffer 0c ff …>` hex, standard or URL-safe base64 at each
 *   of the three byte alignments (so a key inside a longer encoded blob is found too), its
 *   24-word BIP-39 code, or its bytes printed as numbers (`String(bytes)`, `util.inspect`, the
 *   `{"0":12,"1":255}` that `JSON.stringify` makes of a Uint8Array). 24 consecutive characters
 *   (12 bytes as numbers) are enough: a leak need not be the whole key.
 * - plaintext markers: any text made by {@link secretMarker}, and the fixed message bodies that
 *   the suites use ({@link KNOWN_PLAINTEXTS}).
 *
 * Cost: one pass over each scanned string with a 16-character rolling hash checked against a
 * bitmap, whatever the number of secrets; work per secret happens once, when it is learned.
 */

/** Every marker made by {@link secretMarker} starts with this; so does one older fixed marker. */
export const SECRET_MARKER_PREFIX = "SECRET-MARKER";

/**
 * Message bodies that suites use as plaintext and that no SDK error, log or serialised object
 * may contain. Distinctive strings only: a common word would be found where it is not a leak.
 */
export const KNOWN_PLAINTEXTS: readonly string[] = Object.freeze([
  SECRET_MARKER_PREFIX, // chat.test.ts "SECRET-MARKER-c41d", and every secretMarker()
  "SECRET MARKER", // v1/associated-data.test.ts "SECRET MARKER 33d0"
  "SECRET-7d1e", // encrypted-channel.test.ts
  "SECRET-51aa", // encrypted-channel.test.ts
  "Private message", // chat, scenario and channel suites
  "Signed private message", // chat-signed.test.ts
]);

const MARKER_LABEL = /^[A-Za-z0-9 ._-]{1,40}$/;
const MARKER_REST = /^(?:\([A-Za-z0-9 ._-]{1,40}\))?-[0-9a-f]{1,12}/;

/**
 * A distinctive plaintext for a test to encrypt, e.g. `{ body: secretMarker("late share") }`.
 * The secret-hygiene check fails the run if it appears in any error message, log line or
 * serialised SDK object: use it where a suite wants to prove plaintext stays inside the cipher.
 * Random per call, so two markers never compare equal by accident.
 *
 * @throws RangeError for a label that is not 1-40 characters of letters, digits, space . _ -
 */
export function secretMarker(label: string): string {
  if (!MARKER_LABEL.test(label)) throw new RangeError("secretMarker: label expected 1-40 characters of A-Z a-z 0-9 space . _ -");
  const random = globalThis.crypto.getRandomValues(new Uint8Array(6));
  return `${SECRET_MARKER_PREFIX}(${label})-${hex(random)}`;
}

/** One secret the index knows. Never printed: reports name it by {@link SecretRecord.label}. */
export interface SecretRecord {
  readonly id: number;
  readonly kind: "key" | "plaintext";
  /** A redacted description, e.g. `32-byte random draw #4 (drawn in "test name")`. */
  readonly label: string;
}

/** Where a secret was found in a scanned string. */
export interface SecretMatch {
  readonly secret: SecretRecord;
  /** How it was written: `base64url`, `hex`, `recovery code`, `byte values`, `text`, … */
  readonly encoding: string;
  readonly start: number;
  readonly end: number;
}

interface Fragment {
  readonly text: string;
  readonly secret: number;
  readonly encoding: string;
  readonly minimum: number;
}

/** Options of {@link SecretIndex}. */
export interface SecretIndexOptions {
  /** The BIP-39 English code of 32 bytes of entropy; without it codes are not searched. */
  readonly mnemonic?: ((entropy: Uint8Array) => string) | undefined;
  /** Literal plaintexts to find; default {@link KNOWN_PLAINTEXTS}. */
  readonly plaintexts?: readonly string[] | undefined;
}

const WINDOW = 16; // characters hashed at each position
const STRIDE = 8; // fragments are indexed every STRIDE characters: any 23-character piece holds one
const MINIMUM_MATCH = 24; // characters: 144 bits of base64, 96 bits of hex
const MINIMUM_CODE_MATCH = 30; // characters of a recovery code: at least four words
const MINIMUM_BYTE_MATCH = 12; // bytes printed as numbers
const BASE = 0x01000193;
const BASE_POWER = power(BASE, WINDOW - 1);
const FILTER_BITS = 24; // a 2 MiB bitmap: few positions of a text get past it
/** Twelve or more numbers of 0-999 separated by punctuation or spaces only (not letters). */
const NUMBER_LIST = /\d{1,3}(?:[^\dA-Za-z\u0080-\uffff]{1,8}\d{1,3}){11,}/g;
const INSPECT_CUSTOM = Symbol.for("nodejs.util.inspect.custom");
const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The secrets of one test worker and a fast search for them. Learning is cheap (a copy); the
 * encodings of new secrets are indexed at the next scan.
 */
export class SecretIndex {
  readonly #mnemonic: ((entropy: Uint8Array) => string) | undefined;
  readonly #plaintexts: readonly { readonly text: string; readonly secret: SecretRecord }[];
  readonly #records: SecretRecord[] = [];
  readonly #bytes: (Uint8Array | undefined)[] = [];
  readonly #pending: number[] = [];
  readonly #fragments: Fragment[] = [];
  /** Rolling hash of a WINDOW-character piece → its first entry; entries chain through `#next`. */
  readonly #windows = new Map<number, number>();
  /** Per entry: packed (fragment index × 1024 + offset), and the next entry of the same hash. */
  readonly #entries: number[] = [];
  readonly #next: number[] = [];
  readonly #filter = new Uint8Array(1 << (FILTER_BITS - 3));
  /** Four bytes at an aligned offset of a key → packed (record id × 32 + offset). */
  readonly #byteWindows = new Map<number, number[]>();
  /** A bitmap of the four-byte keys, so most positions of a number list cost no map lookup. */
  readonly #byteFilter = new Uint8Array(1 << 17);

  constructor(options: SecretIndexOptions = {}) {
    this.#mnemonic = options.mnemonic;
    this.#plaintexts = (options.plaintexts ?? KNOWN_PLAINTEXTS).map((text, i) => ({
      text,
      secret: this.#record("plaintext", text.startsWith(SECRET_MARKER_PREFIX) ? "a secret marker" : `known test plaintext #${i + 1}`),
    }));
  }

  /**
   * Remembers a secret of 32 bytes (copied). `label` describes it in reports and must not
   * contain it.
   */
  learnKey(bytes: Uint8Array, label: string): SecretRecord {
    if (bytes.length !== 32) throw new RangeError("learnKey: expected 32 bytes");
    const record = this.#record("key", label);
    this.#bytes[record.id] = bytes.slice();
    this.#pending.push(record.id);
    return record;
  }

  /** Every secret found in `text`, in order; overlapping finds of one secret are merged. */
  scan(text: string): SecretMatch[] {
    if (typeof text !== "string" || text.length === 0) return [];
    this.#indexPending();
    const matches: SecretMatch[] = [];
    for (const { text: needle, secret } of this.#plaintexts) {
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
        // A marker's label and random part belong to it too.
        const rest = needle === SECRET_MARKER_PREFIX ? (MARKER_REST.exec(text.slice(at + needle.length, at + needle.length + 64))?.[0].length ?? 0) : 0;
        matches.push({ secret, encoding: "text", start: at, end: at + needle.length + rest });
      }
    }
    if (text.length >= MINIMUM_MATCH && this.#fragments.length > 0) this.#scanText(text, matches);
    if (this.#byteWindows.size > 0) this.#scanNumbers(text, matches);
    return merge(matches);
  }

  /** The key secrets held in `bytes` (any offset, at least 12 bytes of one key). */
  keysInBytes(bytes: Uint8Array): Set<SecretRecord> {
    this.#indexPending();
    const found = new Set<SecretRecord>();
    const read = (k: number): number => (k >= 0 && k < bytes.length ? bytes[k]! : -1);
    for (let i = 0; i + 4 <= bytes.length; i++) {
      const key = pack4(bytes[i]!, bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!);
      const bit = Math.imul(key, 0x9e3779b1) >>> 12;
      if ((this.#byteFilter[bit >>> 3]! & (1 << (bit & 7))) === 0) continue;
      const candidates = this.#byteWindows.get(key);
      if (candidates === undefined) continue;
      for (const packed of candidates) {
        const { back, forward } = matchedBytes((k) => read(i + k), this.#bytes[packed >>> 5]!, packed & 31);
        if (back + forward >= MINIMUM_BYTE_MATCH) found.add(this.#records[packed >>> 5]!);
      }
    }
    return found;
  }

  /**
   * The secrets that a value already shows before it is serialised: in strings and byte arrays
   * reachable through plain data (see {@link plainData}). A serialiser's output that holds a
   * secret not in this set got it from a class instance's `toJSON`, `toString` or
   * `util.inspect.custom`, or from a getter.
   */
  secretsIn(value: unknown, isProxy: (value: object) => boolean = () => false): Set<SecretRecord> {
    const found = new Set<SecretRecord>();
    const data = plainData(value, isProxy);
    for (const text of data.strings) for (const match of this.scan(text)) found.add(match.secret);
    for (const bytes of data.bytes) for (const secret of this.keysInBytes(bytes)) found.add(secret);
    return found;
  }

  /**
   * `text` cut to about `context` characters around `match`, with every secret found in it and
   * every other long run of key-like characters replaced by a placeholder.
   */
  redactedExcerpt(text: string, match: SecretMatch, context = 60): string {
    const from = Math.max(0, match.start - context);
    const to = Math.min(text.length, match.end + context);
    let out = "";
    let at = from;
    for (const found of this.scan(text)) {
      if (found.end <= from || found.start >= to) continue;
      out += text.slice(at, Math.max(at, found.start));
      out += `[${found.encoding} of ${found.secret.kind === "key" ? "a key" : "a plaintext"}]`;
      at = Math.max(at, found.end);
    }
    out += text.slice(at, to);
    // A secret the index does not know (derived keys, a code mangled on the way) must not reach
    // the report either: long runs of base64, hex or number lists are dropped.
    out = out
      .replace(/[A-Za-z0-9+/_=-]{20,}/g, (run) => `[${run.length} characters]`)
      .replace(/\d{1,3}(?:[^\d\n]{1,6}\d{1,3}){7,}/g, "[numbers]")
      .replace(/\s+/g, " ");
    return `${from > 0 ? "…" : ""}${out}${to < text.length ? "…" : ""}`;
  }

  #record(kind: SecretRecord["kind"], label: string): SecretRecord {
    const record: SecretRecord = Object.freeze({ id: this.#records.length, kind, label });
    this.#records.push(record);
    this.#bytes.push(undefined);
    return record;
  }

  #indexPending(): void {
    while (this.#pending.length > 0) {
      const id = this.#pending.pop()!;
      const bytes = this.#bytes[id]!;
      const lowerHex = hex(bytes);
      this.#addFragment(lowerHex, id, "hex", MINIMUM_MATCH);
      this.#addFragment(lowerHex.toUpperCase(), id, "hex", MINIMUM_MATCH);
      this.#addFragment(lowerHex.replace(/(..)(?!$)/g, "$1 "), id, "hex", MINIMUM_MATCH);
      for (let alignment = 0; alignment < 3; alignment++) {
        // Without a + / - or _ the two alphabets agree, and one fragment stands for both.
        const standard = base64Piece(bytes, alignment, STANDARD);
        const urlSafe = base64Piece(bytes, alignment, URL_SAFE);
        this.#addFragment(standard, id, urlSafe === standard ? "base64 or base64url" : "base64", MINIMUM_MATCH);
        if (urlSafe !== standard) this.#addFragment(urlSafe, id, "base64url", MINIMUM_MATCH);
      }
      if (this.#mnemonic !== undefined) this.#addFragment(this.#mnemonic(bytes), id, "recovery code", MINIMUM_CODE_MATCH);
      for (let offset = 0; offset + 4 <= 32; offset += 4) {
        const key = pack4(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
        const list = this.#byteWindows.get(key);
        if (list === undefined) this.#byteWindows.set(key, [id * 32 + offset]);
        else list.push(id * 32 + offset);
        const bit = Math.imul(key, 0x9e3779b1) >>> 12;
        this.#byteFilter[bit >>> 3]! |= 1 << (bit & 7);
      }
    }
  }

  #addFragment(text: string, secret: number, encoding: string, minimum: number): void {
    const index = this.#fragments.length;
    this.#fragments.push({ text, secret, encoding, minimum });
    for (let offset = 0; offset + WINDOW <= text.length; offset += STRIDE) {
      const hash = windowHash(text, offset);
      this.#entries.push(index * 1024 + offset);
      this.#next.push(this.#windows.get(hash) ?? -1);
      this.#windows.set(hash, this.#entries.length - 1);
      const bit = hash >>> (32 - FILTER_BITS);
      this.#filter[bit >>> 3]! |= 1 << (bit & 7);
    }
  }

  #scanText(text: string, matches: SecretMatch[]): void {
    const filter = this.#filter;
    const last = text.length - WINDOW;
    let hash = windowHash(text, 0);
    for (let position = 0; ; position++) {
      const bit = hash >>> (32 - FILTER_BITS);
      if ((filter[bit >>> 3]! & (1 << (bit & 7))) !== 0) this.#confirm(text, position, hash, matches);
      if (position === last) break;
      hash = (Math.imul((hash - Math.imul(text.charCodeAt(position), BASE_POWER)) | 0, BASE) + text.charCodeAt(position + WINDOW)) | 0;
    }
  }

  #confirm(text: string, position: number, hash: number, matches: SecretMatch[]): void {
    for (let entry = this.#windows.get(hash) ?? -1; entry !== -1; entry = this.#next[entry]!) {
      const packed = this.#entries[entry]!;
      const fragment = this.#fragments[Math.floor(packed / 1024)]!;
      const offset = packed % 1024;
      let before = 0;
      while (position - before > 0 && offset - before > 0 && text.charCodeAt(position - before - 1) === fragment.text.charCodeAt(offset - before - 1)) before++;
      let after = 0;
      while (
        position + after < text.length &&
        offset + after < fragment.text.length &&
        text.charCodeAt(position + after) === fragment.text.charCodeAt(offset + after)
      ) after++;
      if (after < WINDOW || before + after < Math.min(fragment.minimum, fragment.text.length)) continue;
      matches.push({ secret: this.#records[fragment.secret]!, encoding: fragment.encoding, start: position - before, end: position + after });
    }
  }

  /**
   * Bytes printed as decimal numbers: one after another (`String(bytes)`, `util.inspect`) or as
   * JSON's `"index":value` pairs. Numbers count as one list while only punctuation and spaces
   * separate them, so the digits inside base64 or words never form one.
   */
  #scanNumbers(text: string, matches: SecretMatch[]): void {
    if (text.length < 2 * MINIMUM_BYTE_MATCH) return;
    NUMBER_LIST.lastIndex = 0;
    for (let list = NUMBER_LIST.exec(text); list !== null; list = NUMBER_LIST.exec(text)) this.#scanNumberList(text, list.index, list.index + list[0].length, matches);
  }

  #scanNumberList(text: string, from: number, to: number, matches: SecretMatch[]): void {
    const capacity = ((to - from) >>> 1) + 1;
    const values = new Int16Array(capacity);
    const starts = new Int32Array(capacity);
    const ends = new Int32Array(capacity);
    let count = 0;
    for (let i = from; i < to; i++) {
      let code = text.charCodeAt(i);
      if (code < 48 || code > 57) continue;
      starts[count] = i;
      let value = 0;
      while (i < to && code >= 48 && code <= 57) {
        value = value * 10 + code - 48;
        code = ++i < to ? text.charCodeAt(i) : -1;
      }
      values[count] = value < 256 ? value : -1;
      ends[count++] = i;
    }
    const filter = this.#byteFilter;
    for (let step = 1; step <= 2; step++) {
      for (let i = 0; i + 3 * step < count; i++) {
        const a = values[i]!;
        const b = values[i + step]!;
        const c = values[i + 2 * step]!;
        const d = values[i + 3 * step]!;
        if ((a | b | c | d) < 0) continue;
        const key = pack4(a, b, c, d);
        const bit = Math.imul(key, 0x9e3779b1) >>> 12;
        if ((filter[bit >>> 3]! & (1 << (bit & 7))) === 0) continue;
        const candidates = this.#byteWindows.get(key);
        if (candidates === undefined) continue;
        const read = (k: number): number => (i + k * step >= 0 && i + k * step < count ? values[i + k * step]! : -1);
        for (const packed of candidates) {
          const { back, forward } = matchedBytes(read, this.#bytes[packed >>> 5]!, packed & 31);
          if (back + forward < MINIMUM_BYTE_MATCH) continue;
          matches.push({
            secret: this.#records[packed >>> 5]!,
            encoding: "byte values",
            start: starts[i - back * step]!,
            end: ends[i + (forward - 1) * step]!,
          });
        }
      }
    }
  }
}

/** What {@link plainData} found in a value. */
export interface PlainData {
  /** Every string reached. */
  readonly strings: string[];
  /** Every typed array or ArrayBuffer reached, as bytes. */
  readonly bytes: Uint8Array[];
  /**
   * `true` when the value holds something whose serialisation is its own code: a class
   * instance (an SDK key object among them), a `toJSON` method, a getter, a Proxy or an Error.
   * Serialising plain data only repeats what the data holds.
   */
  readonly opaque: boolean;
  /** `false` when the walk stopped after `budget` objects: `opaque` is then unknown. */
  readonly complete: boolean;
}

/**
 * Walks plain data (plain objects, arrays, Maps, Sets, byte arrays, primitives) without running
 * any of its code: no getter, no `toJSON`, no Proxy trap is called.
 */
export function plainData(value: unknown, isProxy: (value: object) => boolean = () => false, collect = true, budget = 100_000): PlainData {
  const strings: string[] = [];
  const bytes: Uint8Array[] = [];
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") {
      if (collect) strings.push(item);
      continue;
    }
    if ((typeof item !== "object" && typeof item !== "function") || item === null || seen.has(item)) continue;
    if (--budget < 0) return { strings, bytes, opaque: true, complete: false };
    if (isProxy(item)) return { strings, bytes, opaque: true, complete: true };
    seen.add(item);
    if (typeof item === "function") continue; // printed by name, never serialised with its body
    if (ArrayBuffer.isView(item)) {
      if (collect) bytes.push(new Uint8Array(item.buffer, item.byteOffset, item.byteLength));
      continue;
    }
    if (item instanceof ArrayBuffer) {
      if (collect) bytes.push(new Uint8Array(item));
      continue;
    }
    if (item instanceof Map) {
      for (const [key, entry] of Map.prototype.entries.call(item)) stack.push(key, entry);
      continue;
    }
    if (item instanceof Set) {
      for (const entry of Set.prototype.values.call(item)) stack.push(entry);
      continue;
    }
    if (item instanceof Date || item instanceof RegExp) continue;
    const prototype: unknown = Object.getPrototypeOf(item);
    if (!Array.isArray(item) && prototype !== Object.prototype && prototype !== null) return { strings, bytes, opaque: true, complete: true };
    for (const key of Reflect.ownKeys(item)) {
      const descriptor = Object.getOwnPropertyDescriptor(item, key)!;
      if (descriptor.get !== undefined || descriptor.set !== undefined || key === "toJSON" || key === INSPECT_CUSTOM) {
        return { strings, bytes, opaque: true, complete: true };
      }
      if (collect && typeof key === "string" && !Array.isArray(item)) strings.push(key);
      stack.push(descriptor.value);
    }
  }
  return { strings, bytes, opaque: false, complete: true };
}

/** How far bytes read by `read(k)` agree with `key` around `key[offset]` = `read(0)`. */
function matchedBytes(read: (k: number) => number, key: Uint8Array, offset: number): { back: number; forward: number } {
  let back = 0;
  while (offset - back > 0 && read(-back - 1) === key[offset - back - 1]) back++;
  let forward = 0;
  while (offset + forward < key.length && read(forward) === key[offset + forward]) forward++;
  return { back, forward };
}

function merge(matches: SecretMatch[]): SecretMatch[] {
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SecretMatch[] = [];
  for (const match of matches) {
    const previous = out[out.length - 1];
    if (previous !== undefined && previous.secret === match.secret && match.start <= previous.end) {
      if (match.end > previous.end) out[out.length - 1] = { ...previous, end: match.end };
      continue;
    }
    out.push(match);
  }
  return out;
}

function pack4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) | 0;
}

function power(base: number, exponent: number): number {
  let out = 1;
  for (let i = 0; i < exponent; i++) out = Math.imul(out, base);
  return out;
}

function windowHash(text: string, start: number): number {
  let hash = 0;
  for (let i = 0; i < WINDOW; i++) hash = (Math.imul(hash, BASE) + text.charCodeAt(start + i)) | 0;
  return hash;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += (byte | 0x100).toString(16).slice(1);
  return out;
}

/**
 * The base64 characters that depend only on `bytes` when `alignment` bytes precede them in a
 * longer string (0: the standalone encoding, without padding).
 */
function base64Piece(bytes: Uint8Array, alignment: number, alphabet: string): string {
  const padded = new Uint8Array(alignment + bytes.length + 2);
  padded.set(bytes, alignment);
  let encoded = "";
  for (let i = 0; i < alignment + bytes.length; i += 3) {
    const n = (padded[i]! << 16) | (padded[i + 1]! << 8) | padded[i + 2]!;
    encoded += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const bits = (alignment + bytes.length) * 8;
  // From the first character with no bit of the preceding bytes to the last with no bit of the
  // following ones (standalone: the last character, whose low bits are zero padding).
  return encoded.slice(Math.ceil((alignment * 8) / 6), alignment === 0 ? Math.ceil(bits / 6) : Math.floor(bits / 6));
}
