/**
 * Mutation generators shared by every suite. Each takes a valid object (or its JSON text) and the
 * member rules of `rules.ts`, and returns single mutations, each labelled so a failure names
 * exactly what was changed:
 *
 * - {@link fieldMutations}: every member, at every level, removed; replaced with each JSON type;
 *   replaced with the boundary values of its rule; replaced with another valid object's value;
 *   plus unknown members (including `__proto__`, `constructor` and other `Object.prototype`
 *   names) and list edits (empty, an element dropped, duplicated, the order reversed).
 * - {@link byteMutations}: every byte of every base64url member decoded, one or more of its bits
 *   flipped, and re-encoded canonically.
 * - {@link textMutations}: every character of the serialised JSON replaced (by a character of the
 *   same class and by JSON punctuation) or deleted, plus duplicate members and the text bound.
 */
import { base64urlChars, isJsonObject, type ObjectRule, type Rule } from "./rules";

export type Path = readonly (string | number)[];

/** Which generator produced a mutation. `resigned`: a suite re-signs the changed object. */
export type Family = "field" | "byte" | "text" | "resigned";

export interface Mutation {
  readonly family: Family;
  /** What was done, e.g. `chunks.0.enc: byte 3 bit 2`. */
  readonly label: string;
  /** What the API is given: an object, or JSON text for the text family. */
  readonly input: unknown;
  /** The member changed, when there is one (`[]` for the whole object). */
  readonly path: Path;
  /** Set on mutations too costly for some consumers (e.g. 10,000 backup chunks to decrypt). */
  readonly heavy?: boolean;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Names of `Object.prototype` members and other keys that have bitten JavaScript parsers. */
export const PROTOTYPE_KEYS: readonly string[] = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "__defineGetter__"];

/** One value of each JSON type, and a number JSON cannot carry but an object built in code can. */
const TYPE_SAMPLES: readonly unknown[] = [null, true, 0, "", [], {}, Number.NaN];

export function pathLabel(path: Path): string {
  return path.length === 0 ? "(object)" : path.join(".");
}

/** Deep equality of JSON-like values; numbers compared with `Object.is` (so -0 differs from 0). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (isJsonObject(a) || isJsonObject(b)) {
    if (!isJsonObject(a) || !isJsonObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
  }
  return Object.is(a, b);
}

/** A deep copy of a JSON-like value (own enumerable members; `__proto__` kept as an own member). */
export function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as T;
  if (isJsonObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) defineMember(copy, key, clone(value[key]));
    return copy as T;
  }
  return value;
}

/** Sets an own, enumerable member, even one named `__proto__` (plain assignment would set the prototype). */
function defineMember(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment keeps V8's fast properties (defineProperty on every member made copies of
  // 10,000-chunk backups slow to serialise); only `__proto__` needs defining.
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

export function getAt(value: unknown, path: Path): unknown {
  let node = value;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

/** A copy of `root` with the member at `path` set to `value` (or removed, for `REMOVE`). */
export function withAt(root: unknown, path: Path, value: unknown): unknown {
  const copy = clone(root);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (value === REMOVE) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (Array.isArray(parent)) {
    parent[key as number] = value;
  } else {
    defineMember(parent as Record<string, unknown>, String(key), value);
  }
  return copy;
}

export const REMOVE: unique symbol = Symbol("remove");

/** Deep-freezes a mutation input, so an API that wrote to its argument would throw. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Canonical unpadded base64url of `count` zero bytes: `A` repeated. */
function zeroBytes(count: number): string {
  return "A".repeat(base64urlChars(count));
}

/** Boundary values of a rule, valid and invalid, around `current`. Sizes above `maxBuild` are skipped. */
export function boundaryValues(rule: Rule, current: unknown, maxBuild: number): unknown[] {
  switch (rule.kind) {
    case "literal":
      return typeof rule.value === "string"
        ? [rule.value.toUpperCase(), `${rule.value} `, rule.value.slice(0, -1)]
        : [rule.value + 1, rule.value - 1, -rule.value, rule.value + 0.5, String(rule.value), 2 ** 53];
    case "id": {
      const text = String(current);
      return ["a", "A".repeat(128), "A".repeat(129), `${text}-x`, `${text} `, "a/b", "é", "a\u0000", "ａ"];
    }
    case "keyVersion":
      return [0, 1, Number(current) + 1, Number(current) - 1, 2 ** 31 - 1, 2 ** 31, -1, -0, 1.5, 2 ** 53, String(current)];
    case "integer": {
      const values: unknown[] = [0, -0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, Number(current) + 1, Number(current) - 1, String(current)];
      if (rule.min !== undefined) values.push(rule.min - 1, rule.min);
      if (rule.max !== undefined) values.push(rule.max, rule.max + 1);
      // The allowed ids byte-swapped, other RFC 9180 ids (KEMs P-256 0x10 and X448 0x21, KDF or
      // AEAD 3, the export-only AEAD 0xffff) and one past the 16 bits `info` holds.
      if (rule.allowed !== undefined) values.push(...rule.allowed.map((v) => v * 256), 0x10, 0x21, 3, 0xffff, 0x10000);
      return values;
    }
    case "bytes":
      return bytesBoundaries(String(current), rule.bytes, rule.bytes, maxBuild);
    case "byteRange":
      return bytesBoundaries(String(current), rule.min, rule.max, maxBuild);
    case "boolean":
      return [!current, String(current), 1];
    case "oneOf":
      return [...rule.values, String(current).toUpperCase(), "unknown"];
    case "nullable":
      return [null, ...(current === null ? [] : boundaryValues(rule.inner, current, maxBuild))];
    case "object":
    case "array":
      return [];
  }
}

function bytesBoundaries(current: string, min: number, max: number, maxBuild: number): string[] {
  const values: string[] = [];
  for (const count of [min - 1, min, max, max + 1, 1]) {
    if (count >= 0 && count <= maxBuild) values.push(zeroBytes(count));
  }
  if (current.length > 0) {
    values.push(current.slice(0, -1), `${current}A`, `${current}=`, current.slice(0, -2));
    // Standard base64's characters, padding and whitespace in the middle.
    const middle = Math.floor(current.length / 2);
    for (const character of ["+", "/", "=", " "]) values.push(current.slice(0, middle) + character + current.slice(middle + 1));
    values.push(current.replaceAll("-", "+").replaceAll("_", "/"));
    // A non-canonical last character: unused low bits set (§2.3 rule 3).
    const remainder = current.length % 4;
    if (remainder === 2 || remainder === 3) {
      const last = ALPHABET.indexOf(current.charAt(current.length - 1));
      values.push(current.slice(0, -1) + ALPHABET[last | 1]!);
    }
  }
  return values;
}

export interface FieldMutationOptions {
  /** Other valid objects of the same kind, whose values are substituted member by member. */
  readonly donors?: readonly unknown[];
  /** Suite-specific values per member path (joined with `.`), e.g. a revoked sender. */
  readonly extraValues?: Readonly<Record<string, readonly unknown[]>>;
  /** Largest byte string a boundary value may be (default 100,000): bigger ones cost more than they show. */
  readonly maxBuild?: number;
  /** Longest list to edit element by element (default 8). */
  readonly maxListEdits?: number;
  /** Builds an over-long list for a size-bounded array rule (default: skipped). */
  readonly overLongList?: (path: Path, rule: Rule & { kind: "array" }, current: readonly unknown[]) => readonly { label: string; value: unknown[]; heavy?: boolean }[];
}

/** Every member-level mutation of `original` (see the module comment). */
export function fieldMutations(original: Record<string, unknown>, rule: ObjectRule, options: FieldMutationOptions = {}): Mutation[] {
  const out: Mutation[] = [];
  const maxBuild = options.maxBuild ?? 100_000;
  const seen = new Set<string>();
  const add = (path: Path, label: string, input: unknown, heavy = false): void => {
    out.push({ family: "field", label: `${pathLabel(path)}: ${label}`, input, path, ...(heavy ? { heavy } : {}) });
  };
  const replace = (path: Path, label: string, value: unknown): void => {
    const current = getAt(original, path);
    if (sameJson(current, value)) return;
    // One mutation per distinct value per member.
    const key = `${pathLabel(path)}\u0000${fingerprint(value)}`;
    if (seen.has(key)) return;
    seen.add(key);
    add(path, label, withAt(original, path, value));
  };

  // The whole input replaced by something that is not an object, and an equivalent object with no prototype.
  for (const value of [null, [], "x", 1, true, [original]]) add([], `replaced by ${describe(value)}`, value);
  add([], "copied onto a null-prototype object (same members: must read the same)", Object.assign(Object.create(null) as object, clone(original)));

  const visit = (node: Rule, path: Path): void => {
    const current = getAt(original, path);
    if (node.kind === "object" && isJsonObject(current)) {
      for (const key of Object.keys(node.members)) {
        if (!Object.hasOwn(current, key)) continue;
        const memberPath = [...path, key];
        add(memberPath, "removed", withAt(original, memberPath, REMOVE));
        visit(node.members[key]!, memberPath);
      }
      for (const key of ["unknownMember", ...PROTOTYPE_KEYS]) {
        if (Object.hasOwn(current, key)) continue;
        const value = key === "unknownMember" ? 1 : { v: 1 };
        add([...path, key], `unknown member added (${describe(value)})`, withAt(original, [...path, key], value));
      }
    }
    if (node.kind === "array" && Array.isArray(current)) {
      const maxEdits = options.maxListEdits ?? 8;
      replace(path, "emptied", []);
      if (current.length > 1) replace(path, "reversed", [...current].reverse());
      if (current.length <= maxEdits) {
        current.forEach((_, i) => replace(path, `element ${i} dropped`, current.filter((__, j) => j !== i)));
        current.forEach((item, i) => replace(path, `element ${i} duplicated`, [...current.slice(0, i + 1), item, ...current.slice(i + 1)]));
      }
      for (const value of [null, "x", 1, {}, []]) replace(path, `element 0 replaced by ${describe(value)}`, [value, ...current.slice(1)]);
      for (const { label, value, heavy } of options.overLongList?.(path, node, current) ?? []) add(path, label, withAt(original, path, value), heavy);
      current.forEach((_, i) => visit(node.items, [...path, i]));
    }
    if (path.length === 0) return;
    for (const value of TYPE_SAMPLES) replace(path, `replaced by ${describe(value)}`, value);
    for (const value of boundaryValues(node, current, maxBuild)) replace(path, `boundary ${describe(value)}`, value);
    for (const value of options.extraValues?.[path.join(".")] ?? []) replace(path, `suite value ${describe(value)}`, value);
    for (const [index, donor] of (options.donors ?? []).entries()) {
      const donorValue = tryGet(donor, path);
      if (donorValue !== undefined) replace(path, `donor ${index}'s value`, donorValue);
    }
  };
  visit(rule, []);
  return out;
}

function tryGet(value: unknown, path: Path): unknown {
  let node = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** An exact, type-tagged rendering of a JSON-like value (NaN, -0 and `__proto__` included), for de-duplication. */
function fingerprint(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(fingerprint).join(",")}]`;
  if (isJsonObject(value)) return `{${Object.keys(value).map((key) => `${key}:${fingerprint(value[key])}`).join(",")}}`;
  if (typeof value === "number") return Object.is(value, -0) ? "n:-0" : `n:${value}`;
  if (typeof value === "string") return `s${value.length}:${value}`;
  return `${typeof value}:${String(value)}`;
}

/** A short description of a value for labels; long strings by length only. */
export function describe(value: unknown): string {
  if (typeof value === "string") return value.length > 24 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (Array.isArray(value)) return value.length > 4 ? `an array of ${value.length}` : `[${value.map(describe).join(",")}]`;
  if (isJsonObject(value)) return `{${Object.keys(value).join(",")}}`;
  return String(value);
}

/** Paths of every base64url byte member of `value` under `rule` (inside lists too). */
export function bytePaths(value: unknown, rule: Rule, path: Path = []): Path[] {
  if (rule.kind === "bytes" || rule.kind === "byteRange") return [path];
  if (rule.kind === "nullable") return value === null ? [] : bytePaths(value, rule.inner, path);
  if (rule.kind === "object" && isJsonObject(value)) {
    return Object.entries(rule.members).flatMap(([key, member]) => (Object.hasOwn(value, key) ? bytePaths(value[key], member, [...path, key]) : []));
  }
  if (rule.kind === "array" && Array.isArray(value)) return value.flatMap((item, i) => bytePaths(item, rule.items, [...path, i]));
  return [];
}

/** Which bits of byte `index` of the member at `path` to flip, one mutation each. */
export type BitChoice = (path: Path, index: number, length: number) => readonly number[];

/** Every bit of every byte: for cheap consumers. */
export const ALL_BITS: BitChoice = () => [0, 1, 2, 3, 4, 5, 6, 7];
/** One bit per byte, bit `index mod 8`, so every bit position occurs along a member. */
export const ONE_BIT: BitChoice = (_path, index) => [index % 8];

/** Flips bits of every byte of every base64url member of `original`, one mutation per flip. */
export function byteMutations(original: Record<string, unknown>, rule: ObjectRule, bits: BitChoice = ONE_BIT): Mutation[] {
  const out: Mutation[] = [];
  for (const path of bytePaths(original, rule)) {
    const bytes = Buffer.from(String(getAt(original, path)), "base64url");
    for (let index = 0; index < bytes.length; index++) {
      for (const bit of bits(path, index, bytes.length)) {
        const flipped = Buffer.from(bytes);
        flipped[index] = flipped[index]! ^ (1 << bit);
        out.push({ family: "byte", label: `${pathLabel(path)}: byte ${index} bit ${bit}`, input: withAt(original, path, flipped.toString("base64url")), path });
      }
    }
  }
  return out;
}

/** The total of byte flips {@link byteMutations} makes, computed independently for count checks. */
export function byteFlipCount(original: Record<string, unknown>, rule: ObjectRule, bits: BitChoice = ONE_BIT): number {
  let count = 0;
  for (const path of bytePaths(original, rule)) {
    const length = Math.floor((String(getAt(original, path)).length * 3) / 4);
    for (let index = 0; index < length; index++) count += bits(path, index, length).length;
  }
  return count;
}

/** Replacements outside string literals: JSON punctuation, whitespace and the first letters of literals. */
const STRUCTURAL = ['"', "{", "}", "[", "]", ",", ":", " ", "0", "-", "n", "t", "f"];

/** Another character of the same class: a base64url/identifier character stays one, a digit stays a digit. */
export function sameClass(character: string): string | undefined {
  if (/[0-9]/.test(character)) return String((Number(character) + 1) % 10);
  if (/[a-y]/i.test(character)) return String.fromCharCode(character.charCodeAt(0) + 1);
  if (character === "z") return "a";
  if (character === "Z") return "A";
  if (character === "-") return "_";
  if (character === "_") return "-";
  if (character === ".") return ":";
  return undefined;
}

export interface TextMutationOptions {
  /**
   * Replace characters by a same-class character only at every `stride`-th position inside
   * base64url members longer than 16 characters (default 1: everywhere). Such a change alters a
   * few bits of the decoded bytes, which {@link byteMutations} already does at every byte; suites
   * whose every well-formed input costs an X25519 use a stride to stay fast.
   */
  readonly byteMemberStride?: number;
  /** Donor values for the duplicate-member mutations, by member name. */
  readonly duplicates?: Readonly<Record<string, unknown>>;
  /** Text bound: whitespace-padded texts of exactly the bound and one more (the first skipped above 1 MiB). */
  readonly maxTextLength?: number;
}

/**
 * Every single-character replacement and deletion of the compact JSON `text` whose result still
 * parses as JSON (a text that does not parse is refused before anything else looks at it, so a
 * few such texts stand for all of them), plus duplicate members, `Object.prototype` names, a byte
 * order mark, trailing garbage and the text bound.
 */
export function textMutations(text: string, options: TextMutationOptions = {}): Mutation[] {
  const out: Mutation[] = [];
  const stride = options.byteMemberStride ?? 1;
  const inLongString = longStringPositions(text);
  const inString = stringInteriorPositions(text);
  const push = (label: string, input: string, path: Path = []): void => {
    out.push({ family: "text", label, input, path });
  };
  for (let index = 0; index < text.length; index++) {
    const character = text.charAt(index);
    const same = sameClass(character);
    // Inside a long base64url member: a same-class character changes the bytes (every `stride`-th
    // position); a space or a deletion breaks the member the same way anywhere, so every 8th.
    const position = inLongString.get(index);
    const candidates: string[] = [];
    let deletion = true;
    if (position !== undefined) {
      if (same !== undefined && position % stride === 0) candidates.push(same);
      if (position % 8 === 0) candidates.push(" ");
      else deletion = false;
    } else {
      if (same !== undefined) candidates.push(same);
      candidates.push(...(inString.has(index) ? [" "] : STRUCTURAL));
    }
    for (const replacement of new Set(candidates)) {
      if (replacement === character) continue;
      const mutated = text.slice(0, index) + replacement + text.slice(index + 1);
      if (parses(mutated)) push(`text[${index}] ${JSON.stringify(character)} → ${JSON.stringify(replacement)}`, mutated);
    }
    const deleted = text.slice(0, index) + text.slice(index + 1);
    if (deletion && parses(deleted)) push(`text[${index}] ${JSON.stringify(character)} deleted`, deleted);
  }
  // Duplicate members: JSON.parse keeps the last one (§2.4), so a duplicate written first changes nothing.
  const body = text.slice(1, -1);
  for (const [name, value] of Object.entries(options.duplicates ?? {})) {
    const member = `${JSON.stringify(name)}:${JSON.stringify(value)}`;
    push(`duplicate ${name} written last`, `{${body},${member}}`, [name]);
    push(`duplicate ${name} written first (the original, later, wins)`, `{${member},${body}}`);
  }
  for (const key of PROTOTYPE_KEYS) push(`member ${key} added`, `{${body},${JSON.stringify(key)}:{}}`, [key]);
  push("whitespace around the text (same object)", ` \n\t${text}\r\n`);
  // Texts that are not JSON.
  push("byte order mark before the text", `\uFEFF${text}`);
  push("trailing garbage", `${text}x`);
  push("last character cut", text.slice(0, -1));
  push("empty text", "");
  push("a JSON string holding the object", JSON.stringify(text));
  const bound = options.maxTextLength;
  if (bound !== undefined && bound <= 1024 * 1024 && text.length <= bound) {
    push("padded with spaces to exactly the text bound (same object)", text + " ".repeat(bound - text.length));
  }
  if (bound !== undefined && text.length <= bound + 1) push("padded with spaces to one past the text bound", text + " ".repeat(bound + 1 - text.length));
  return out;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Positions strictly inside string literals of a compact JSON text (member names included). */
function stringInteriorPositions(text: string): Set<number> {
  const positions = new Set<number>();
  let inside = false;
  for (let i = 0; i < text.length; i++) {
    const character = text.charAt(i);
    if (inside && character === "\\") {
      positions.add(i);
      positions.add(i + 1);
      i++;
    } else if (character === '"') {
      inside = !inside;
    } else if (inside) {
      positions.add(i);
    }
  }
  return positions;
}

/** For each character inside a JSON string value longer than 16 characters, its position in that string. */
function longStringPositions(text: string): Map<number, number> {
  const positions = new Map<number, number>();
  const pattern = /:"([A-Za-z0-9_-]{17,})"/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const start = match.index + 2;
    for (let i = 0; i < match[1]!.length; i++) positions.set(start + i, i);
  }
  return positions;
}

/** The top-level members whose values differ between `a` and `b` (added and removed ones too). */
export function changedMembers(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => Object.hasOwn(a, key) !== Object.hasOwn(b, key) || !sameJson(a[key], b[key]));
}
