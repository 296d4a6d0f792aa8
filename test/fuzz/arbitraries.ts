/**
 * Input generators for the fuzz suites. Structure-aware first: {@link nearValid} starts from a
 * real wire object and changes one to three of its members (types, lengths, base64url alphabets,
 * Unicode, huge numbers, -0, NaN-like strings, extra and duplicate keys, `__proto__`), and
 * {@link asWireInput} hands the result over the way a network or a careless caller would: as an
 * object, as JSON text (also broken or with equivalent escapes), with a null prototype, or behind
 * getters and Proxies that throw. Random noise ({@link hostileValue}) covers the rest.
 */
import { types } from "node:util";
import fc from "fast-check";
import { stringify } from "./json";

/** The base64url alphabet, in value order. */
export const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Valid identifiers (SPEC.md §2.1) that name JavaScript object internals. */
export const TRICKY_IDS: readonly string[] = [
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "toString",
  "valueOf",
  "toJSON",
  "then",
  "__defineGetter__",
];

/** Member names that probe object handling: prototype keys, near-miss spellings, `toJSON`. */
export const TRICKY_KEYS: readonly string[] = [...TRICKY_IDS, "v", "type", "V", " v", "v ", "Type", "extra", "", "\u0000", "roomId", "keys", "chunks"];

/** A valid identifier, sometimes one that names an object internal. */
export const id: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/) },
  { weight: 1, arbitrary: fc.constantFrom(...TRICKY_IDS) },
);

/** A single unpaired UTF-16 surrogate. */
export const loneSurrogate: fc.Arbitrary<string> = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** One character that matters to some parser: base64url, standard base64, JSON syntax, Unicode traps. */
export const nastyCharacter: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...BASE64URL_ALPHABET) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "+", "/", "=", " ", "\t", "\n", "\r", "\u0000", "\u007f", "\u0085", "\u00a0", "\u1680", "\u2028", "\u3000", "\ufeff", "\u200b",
      "\u0410", // Cyrillic A
      "\uff21", // fullwidth A
      "\u0301", // combining acute accent
      "\u00e9", "\\", '"', "{", "}", "[", "]", ",", ":", ".", "@", "-", "_", "\u{1f600}",
    ),
  },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);

/** Strings a parser should refuse calmly: Unicode traps, number-like text, JSON-like text, long runs. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 64 }) },
  { weight: 3, arbitrary: fc.string({ unit: nastyCharacter, maxLength: 64 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "", " ", "null", "true", "1", "-0", "NaN", "Infinity", "-Infinity", "1e309", "0x10", "1_000", "\u0661", "__proto__", "constructor",
      "prototype", "{}", "[]", '""', "\ufeff{}", "\ud800", "\udfff", "\ud800\ud800", "\udc00\ud800", "A".repeat(43) + "=", "a".repeat(129),
    ),
  },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("A", "_", "\u00e9", "\ud800", " "), fc.integer({ min: 100, max: 20_000 })).map(([unit, n]) => unit.repeat(n)) },
);

/** Numbers at every edge a schema has: -0, NaN, infinities, 2^31, 2^53, fractions, the smallest double. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      -0, Number.NaN, Infinity, -Infinity, 0, 1, -1, 2, 0.5, 1.5, 1 + Number.EPSILON, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1,
      2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e308, 31, 32, 33, 1024, 2 ** 17, 2 ** 20, 2 ** 21,
    ),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
);

/**
 * A Proxy over `target` whose `trap` throws when asked about a member name, or, for
 * `"revoked"`, a revoked Proxy (every operation throws a `TypeError`). Symbol-keyed lookups pass
 * through, so fast-check can still probe the value it generated; parsers read names.
 */
export function throwingProxy(target: object, trap: ProxyTrap): object {
  if (trap === "revoked") {
    const { proxy, revoke } = Proxy.revocable(target, {});
    revoke();
    return proxy;
  }
  const hostile = (): never => {
    throw new Error(`hostile ${trap} trap`);
  };
  const handlers: ProxyHandler<object> = {
    get: (object, key, receiver) => (typeof key === "symbol" ? (Reflect.get(object, key, receiver) as unknown) : hostile()),
    has: (object, key) => (typeof key === "symbol" ? Reflect.has(object, key) : hostile()),
    ownKeys: hostile,
    getOwnPropertyDescriptor: (object, key) => (typeof key === "symbol" ? Reflect.getOwnPropertyDescriptor(object, key) : hostile()),
    getPrototypeOf: hostile,
  };
  return new Proxy(target, { [trap]: handlers[trap] });
}

/** The Proxy traps a parser may hit. */
export type ProxyTrap = "get" | "has" | "ownKeys" | "getOwnPropertyDescriptor" | "getPrototypeOf" | "revoked";
const PROXY_TRAPS: readonly Exclude<ProxyTrap, "revoked">[] = ["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"];

/**
 * `value` wrapped so that no generated value is itself a revoked Proxy: fast-check inspects each
 * value it generates, and a revoked Proxy refuses even that. The wrapper is what the entry point
 * receives, so the revoked Proxy sits one level down, where parsers meet it.
 */
function holdingRevoked(target: object, where: "array" | "member"): unknown {
  const revoked = throwingProxy(target, "revoked");
  return where === "array" ? [revoked] : { v: 1, type: revoked, roomId: revoked };
}

/** `value`, or `[value]` when it is a revoked Proxy, which no generated value may be at the top (see {@link holdingRevoked}). */
function safeAtTop(value: unknown): unknown {
  if (!types.isProxy(value)) return value;
  try {
    void (Symbol.iterator in (value as object));
    return value;
  } catch {
    return [value];
  }
}

/**
 * `true` when `value` can be the result of a promise as it is: reading its `then` neither throws
 * nor finds a function. A resolver or key store is app code behind an `await`, which reads `then`
 * before the SDK sees the value: a booby-trapped `then` fails the app's own promise (or leaves it
 * pending forever), so such values never reach the SDK that way.
 */
export function thenSafe(value: unknown): boolean {
  if (types.isProxy(value)) return false;
  try {
    return (value as { then?: unknown } | null | undefined)?.then === undefined;
  } catch {
    return false;
  }
}

/** A copy of `target` whose member `key` is an enumerable getter that throws. */
export function throwingGetter(target: object, key: string): object {
  const copy: object = { ...target };
  Object.defineProperty(copy, key, {
    enumerable: true,
    configurable: true,
    get() {
      throw new Error("hostile getter");
    },
  });
  return copy;
}

/** A Proxy over `target` that answers a member's first read honestly and every later read with `later`. */
export function changingProxy(target: object, key: string, later: unknown): object {
  let reads = 0;
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property === key && reads++ > 0) return later;
      return Reflect.get(object, property, receiver) as unknown;
    },
  });
}

/** Nested arrays or objects `depth` levels deep, built without recursion. */
export function nested(depth: number, kind: "array" | "object"): unknown {
  let value: unknown = kind === "array" ? [] : {};
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { a: value };
  return value;
}

/** JSON text nested `depth` levels deep. */
export function nestedText(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "{}" + "}".repeat(depth);
}

const typedArray: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 96 }),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.int8Array({ maxLength: 40 }),
  fc.uint16Array({ maxLength: 40 }),
  fc.int32Array({ maxLength: 40 }),
  fc.float64Array({ maxLength: 8 }),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => bytes.buffer),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => new DataView(bytes.buffer)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
);

/**
 * Any value a careless caller could pass where the API expects a particular type: JSON and
 * non-JSON values, typed arrays, boxed primitives, deep nesting; no booby-trapped objects.
 */
export const callerValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyNumber },
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, undefined, true, false, [], {}, [null], [""], { v: 1 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 1,
    arbitrary: fc.anything({
      maxDepth: 2,
      maxKeys: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
    }),
  },
  { weight: 1, arbitrary: typedArray },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      Symbol("hostile"),
      () => undefined,
      10n,
      new Date(Number.NaN),
      new String("room-42"),
      new Number(1),
      Object.create(null) as unknown,
      new Map([["v", 1]]),
      Promise.resolve(1),
      new Error("not data"),
      /regex/,
    ),
  },
  // Deep, not huge: the 100,000-level inputs are in oversized-inputs.fuzz.test.ts.
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 1_000 }), fc.constantFrom<"array" | "object">("array", "object")).map(([depth, kind]) => nested(depth, kind)) },
);

/**
 * Any value untrusted input can be: {@link callerValue}, plus Proxies whose traps throw and
 * revoked Proxies. Where the API takes `unknown` data, even these must end in a typed error.
 */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 14, arbitrary: callerValue },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...PROXY_TRAPS), fc.constantFrom<object>({}, [], { v: 1 })).map(([trap, target]) => throwingProxy(target, trap)) },
  { weight: 1, arbitrary: fc.constantFrom<"array" | "member">("array", "member").map((where) => holdingRevoked({ v: 1 }, where)) },
);

/** A path to a member inside a JSON value. */
type Path = readonly (string | number)[];

/** Every node of a JSON value, the root included, as paths. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])));
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

function isContainer(value: unknown): value is Record<string | number, unknown> {
  return typeof value === "object" && value !== null;
}

/** Sets an own property, `__proto__` included (assignment would set the prototype instead). */
export function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function getAt(root: unknown, path: Path): { found: boolean; value: unknown } {
  let node = root;
  try {
    for (const key of path) {
      if (!isContainer(node) || !Object.hasOwn(node, key)) return { found: false, value: undefined };
      node = node[key];
    }
  } catch {
    // An earlier change put a hostile object on the path.
    return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

/** An edit of a string member. */
const stringEdit = fc.record({
  how: fc.constantFrom(
    "replace", "replace", "replace", "insert", "delete", "truncate", "extend", "upper", "pad", "standard-alphabet", "repeat", "flip-bit", "last",
  ),
  at: fc.nat(),
  character: nastyCharacter,
  count: fc.integer({ min: 1, max: 6 }),
});
type StringEdit = typeof stringEdit extends fc.Arbitrary<infer E> ? E : never;

function editString(text: string, edit: StringEdit): string {
  const at = text.length === 0 ? 0 : edit.at % text.length;
  switch (edit.how) {
    case "replace":
      return text.slice(0, at) + edit.character + text.slice(at + 1);
    case "insert":
      return text.slice(0, at) + edit.character + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + 1);
    case "truncate":
      return text.slice(0, Math.max(0, text.length - edit.count));
    case "extend":
      return text + BASE64URL_ALPHABET.slice(edit.at % 60, (edit.at % 60) + edit.count);
    case "upper":
      return text === text.toUpperCase() ? text.toLowerCase() : text.toUpperCase();
    case "pad":
      return text + "=".repeat(edit.count % 3);
    case "standard-alphabet":
      return text.replaceAll("-", "+").replaceAll("_", "/") + (edit.count % 2 === 0 ? "+" : "/");
    case "repeat":
      return text.repeat(edit.count + 1);
    case "flip-bit":
      return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << edit.count % 16)) + text.slice(at + 1);
    case "last": {
      // The last character, which carries the unused low bits of canonical base64url.
      const last = text.length - 1;
      return last < 0 ? edit.character : text.slice(0, last) + BASE64URL_ALPHABET[(BASE64URL_ALPHABET.indexOf(text.charAt(last)) + edit.count) % 64]!;
    }
  }
}

const numberEdits: readonly ((value: number) => unknown)[] = [
  (value) => value + 1,
  (value) => value - 1,
  (value) => -value,
  (value) => value * 2 ** 31,
  (value) => value + 0.5,
  (value) => String(value),
  (value) => [value],
  (value) => BigInt(Number.isSafeInteger(value) ? value : 0),
  () => -0,
  () => 0,
  () => Number.NaN,
  () => "NaN",
  () => Infinity,
  () => 2 ** 31,
  () => 2 ** 53 + 2,
  () => 1e308,
  () => null,
  () => true,
];

/** One change to one member, replacing values with `values`. */
const changeWith = (values: fc.Arbitrary<unknown>) => fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("replace" as const), value: values }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("string" as const), edit: stringEdit }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("number" as const), edit: fc.constantFrom(...numberEdits) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("add-key" as const), key: fc.oneof(fc.constantFrom(...TRICKY_KEYS), fc.string({ maxLength: 8 })), value: values }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("copy-from" as const), from: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("array" as const), how: fc.constantFrom("empty", "duplicate", "reverse", "grow", "wrap", "object"), count: fc.integer({ min: 2, max: 8 }) }) },
);
type Change = ReturnType<typeof changeWith> extends fc.Arbitrary<infer C> ? C : never;
const change = changeWith(hostileValue);
const callerChange = changeWith(callerValue);

function applyChange(root: unknown, paths: readonly Path[], path: Path, what: Change): unknown {
  const { found, value } = getAt(root, path);
  if (!found) return root;
  let next: unknown;
  switch (what.kind) {
    case "delete":
      if (path.length === 0) return undefined;
      break;
    case "replace":
      next = what.value;
      break;
    case "string":
      next = editString(typeof value === "string" ? value : (toJsonText(value) ?? ""), what.edit);
      break;
    case "number":
      next = what.edit(typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN);
      break;
    case "add-key":
      if (isContainer(value) && !Array.isArray(value)) setOwn(value, what.key, what.value);
      return root;
    case "copy-from":
      next = structuredCloneJson(getAt(root, paths[what.from % paths.length]!).value);
      break;
    case "array":
      if (!Array.isArray(value)) next = [value];
      else if (what.how === "empty") next = [];
      else if (what.how === "duplicate") next = [...value, ...value];
      else if (what.how === "reverse") next = [...value].reverse();
      else if (what.how === "grow") next = Array.from({ length: what.count }, () => value).flat();
      else if (what.how === "wrap") next = [value];
      else next = { ...value };
      break;
  }
  if (path.length === 0) return next;
  const parent = getAt(root, path.slice(0, -1)).value as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (what.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    setOwn(parent, key, next);
  }
  return root;
}

/** A deep copy of a JSON value; anything else (a hostile object an earlier change put there) as it is. */
function structuredCloneJson<T>(value: T): T {
  const text = toJsonText(value);
  return text === undefined ? value : (JSON.parse(text) as T);
}

/**
 * A real wire object with one to three members changed, structure-aware: each change picks a
 * member (or the object itself) and edits it in a way that fits or breaks its type. With
 * `trapped: false`, replacements are {@link callerValue}s only (no throwing Proxies), for
 * arguments whose type the API leaves to the caller.
 */
export function nearValid(base: unknown, options: { readonly trapped?: boolean } = {}): fc.Arbitrary<unknown> {
  const paths = pathsOf(base);
  const edit = fc.record({ path: fc.constantFrom(...paths), change: options.trapped === false ? callerChange : change });
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) =>
    safeAtTop(
      edits.reduce<unknown>((root, { path, change: what }) => {
        try {
          return applyChange(root, paths, path, what);
        } catch {
          // An earlier change put a hostile object where this one looks: keep the input so far.
          return root;
        }
      }, structuredCloneJson(base)),
    ),
  );
}

/** `JSON.stringify` that never throws: BigInt as text, unreadable values as `undefined`. */
export function toJsonText(value: unknown, space?: number): string | undefined {
  try {
    return stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item), space);
  } catch {
    return undefined;
  }
}

/** JSON text with some ASCII letters inside strings written as `\u00XX`: the same value, other text. */
function escapeLetters(text: string, every: number): string {
  let out = "";
  let inString = false;
  let escaped = false;
  let letters = 0;
  for (const character of text) {
    if (inString && !escaped && /[A-Za-z0-9]/.test(character) && letters++ % every === 0) {
      out += `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
      continue;
    }
    if (escaped) escaped = false;
    else if (character === "\\") escaped = inString;
    else if (character === '"') inString = !inString;
    out += character;
  }
  return out;
}

/** An edit of JSON text. */
const textEdit = fc.record({
  how: fc.constantFrom("truncate", "insert", "delete", "replace", "duplicate-first", "duplicate-last", "bom", "garbage", "escape", "pretty", "wrap-array", "nul"),
  at: fc.nat(),
  character: nastyCharacter,
  key: fc.constantFrom(...TRICKY_KEYS),
  value: fc.jsonValue({ maxDepth: 1 }),
  every: fc.integer({ min: 1, max: 5 }),
});
type TextEdit = typeof textEdit extends fc.Arbitrary<infer E> ? E : never;

function editText(text: string, edit: TextEdit): string {
  const at = text.length === 0 ? 0 : edit.at % text.length;
  const member = `${stringify(edit.key)}:${stringify(edit.value)}`;
  switch (edit.how) {
    case "truncate":
      return text.slice(0, at);
    case "insert":
      return text.slice(0, at) + edit.character + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + 1);
    case "replace":
      return text.slice(0, at) + edit.character + text.slice(at + 1);
    case "duplicate-first":
      // An earlier duplicate: JSON.parse keeps the last, so the value may not change at all.
      return text.startsWith("{") ? `{${member},${text.slice(1)}` : text;
    case "duplicate-last":
      return text.endsWith("}") ? `${text.slice(0, -1)},${member}}` : text;
    case "bom":
      return `\ufeff${text}`;
    case "garbage":
      return `${text}${edit.character}`;
    case "escape":
      return escapeLetters(text, edit.every);
    case "pretty":
      return toJsonText(JSON.parse(text) as unknown, edit.every) ?? text;
    case "wrap-array":
      return `[${text}]`;
    case "nul":
      return `${text.slice(0, at)}\u0000${text.slice(at)}`;
  }
}

/** How a value is handed to an entry point. */
const delivery = fc.oneof(
  { weight: 8, arbitrary: fc.record({ how: fc.constant("object" as const) }) },
  { weight: 6, arbitrary: fc.record({ how: fc.constant("text" as const) }) },
  { weight: 4, arbitrary: fc.record({ how: fc.constant("edited-text" as const), edit: textEdit }) },
  { weight: 1, arbitrary: fc.record({ how: fc.constant("null-prototype" as const) }) },
  { weight: 1, arbitrary: fc.record({ how: fc.constant("inherited" as const), ownV: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ how: fc.constant("getter" as const), key: fc.constantFrom(...TRICKY_KEYS) }) },
  { weight: 1, arbitrary: fc.record({ how: fc.constant("proxy" as const), trap: fc.constantFrom(...PROXY_TRAPS) }) },
  { weight: 1, arbitrary: fc.record({ how: fc.constant("revoked-member" as const), key: fc.constantFrom(...TRICKY_KEYS) }) },
  { weight: 1, arbitrary: fc.record({ how: fc.constant("changing" as const), key: fc.constantFrom("v", "type", "roomId", "ciphertext", "chunks", "keys", "versions"), later: hostileValue }) },
);
type Delivery = typeof delivery extends fc.Arbitrary<infer D> ? D : never;

function deliver(value: unknown, how: Delivery): unknown {
  try {
    return safeAtTop(wrap(value, how));
  } catch {
    // An earlier change made the value itself hostile: hand it over as it is.
    return safeAtTop(value);
  }
}

function wrap(value: unknown, how: Delivery): unknown {
  const isObject = isContainer(value) && !Array.isArray(value);
  switch (how.how) {
    case "object":
      return value;
    case "text":
      return toJsonText(value) ?? value;
    case "edited-text": {
      const text = toJsonText(value);
      return text === undefined ? value : editText(text, how.edit);
    }
    case "null-prototype":
      return isObject ? Object.assign(Object.create(null) as object, value) : value;
    case "inherited": {
      if (!isObject) return value;
      const inherited = Object.create(value) as Record<string, unknown>;
      if (how.ownV && Object.hasOwn(value, "v")) setOwn(inherited, "v", value["v"]);
      return inherited;
    }
    case "getter":
      return isObject ? throwingGetter(value, how.key) : value;
    case "proxy":
      return isContainer(value) ? throwingProxy(value, how.trap) : value;
    case "changing":
      return isContainer(value) ? changingProxy(value, how.key, how.later) : value;
    case "revoked-member": {
      if (!isObject) return value;
      const copy = { ...value };
      setOwn(copy, how.key, throwingProxy({}, "revoked"));
      return copy;
    }
  }
}

/** `values` handed over as an object, JSON text, edited text, or behind hostile wrappers. */
export function asWireInput(values: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(values, delivery).map(([value, how]) => deliver(value, how));
}

/**
 * Everything worth throwing at a reader of `bases` (valid wire objects): mostly near-valid
 * objects in every delivery, some untouched valid ones, and random values and text.
 */
export function wireInputs(...bases: readonly unknown[]): fc.Arbitrary<unknown> {
  const near = fc.oneof(...bases.map((base) => nearValid(base)));
  const valid = fc.constantFrom(...bases);
  return fc.oneof(
    { weight: 12, arbitrary: asWireInput(near) },
    { weight: 1, arbitrary: asWireInput(valid) },
    { weight: 2, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 1, arbitrary: nastyString },
  );
}

/**
 * `inputs` with the share that `accepted` lets through held to `deepShare` (0 to 1): for entry
 * points whose accepted inputs reach expensive cryptography (an Ed25519 verification, an X25519
 * agreement, scrypt), most inputs should be refused by the parser, as real hostile input is, so
 * that a full run stays in minutes; the accepted ones are the inputs that reach the cryptography.
 */
export function mostlyRefused(inputs: fc.Arbitrary<unknown>, accepted: (input: unknown) => boolean, deepShare: number): fc.Arbitrary<unknown> {
  const deep = Math.round(deepShare * 1000);
  const passes = (input: unknown): boolean => {
    try {
      return accepted(input);
    } catch {
      return false;
    }
  };
  return fc.oneof({ weight: 1000 - deep, arbitrary: inputs.filter((input) => !passes(input)) }, { weight: deep, arbitrary: inputs.filter(passes) });
}

/**
 * {@link wireInputs} of `base` that an async key store can hand back at all ({@link thenSafe}).
 */
export function storableInputs(base: unknown): fc.Arbitrary<unknown> {
  return wireInputs(base).filter(thenSafe);
}
