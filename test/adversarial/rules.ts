/**
 * The member rules of every wire object, written out again from SPEC.md (§3.1, §7.3, §8.1, §9.1,
 * §10.1, §12.1, §12.3, §13.1, §14.1, §14.2) rather than imported from the zod schemas under test,
 * and an oracle that says which code the reading procedure (§3.3 for envelopes, §7.3 for typed
 * objects) must give for any input before any cryptography runs. The mutation suites compare the
 * SDK's answer with this oracle, so a schema that drifts from the spec fails here.
 */
import type { E2eeErrorCode } from "@domvia/e2ee-envelope";

/** A member rule of §7.3 (and the envelope tables of §3.1 and §8.1). */
export type Rule =
  | { readonly kind: "literal"; readonly value: string | number }
  | { readonly kind: "id" }
  | { readonly kind: "keyVersion" }
  | { readonly kind: "integer"; readonly min?: number; readonly max?: number; readonly allowed?: readonly number[] }
  | { readonly kind: "bytes"; readonly bytes: number }
  | { readonly kind: "byteRange"; readonly min: number; readonly max: number; readonly sizeBounded?: boolean }
  | { readonly kind: "boolean" }
  | { readonly kind: "oneOf"; readonly values: readonly string[] }
  | { readonly kind: "nullable"; readonly inner: Rule }
  | ObjectRule
  | { readonly kind: "array"; readonly items: Rule; readonly max: number; readonly sizeBounded?: boolean };

/** A closed object (§7.3 step 7: "objects are closed at every level"). */
export interface ObjectRule {
  readonly kind: "object";
  readonly members: Readonly<Record<string, Rule>>;
  /** A rule across members (e.g. the scrypt bounds of §13.1); `false` makes the object invalid. */
  readonly refine?: (value: Readonly<Record<string, unknown>>) => boolean;
}

/** How one kind of object is read: its discriminants, text bound and per-version members. */
export interface WireObjectSpec {
  /** Name for reports and for SECURITY.md's figures, e.g. `"envelope v2"`. */
  readonly name: string;
  /** The `type` member, for typed objects (§7.3 step 4); envelopes have none. */
  readonly type?: string;
  /** The versions the reader reads (§3.3 step 5, §7.3 step 6). */
  readonly versions: readonly number[];
  /** The members of each readable version. */
  readonly shapes: Readonly<Record<number, ObjectRule>>;
  /** The text bound, in UTF-16 code units (§3.3 step 1, §7.3 step 1). */
  readonly maxTextLength: number;
  /** The code for text that is not JSON: `INVALID_ENVELOPE`, except inside a backup chunk (§12.5 step 4.2). */
  readonly notJsonCode?: E2eeErrorCode;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Characters of canonical unpadded base64url for `bytes` bytes: `ceil(4n / 3)` (§2.3). */
export function base64urlChars(bytes: number): number {
  return Math.ceil((4 * bytes) / 3);
}

/** §2.3: the alphabet, a length that is not 1 modulo 4, and zero unused low bits in the last character. */
export function isCanonicalBase64url(text: string): boolean {
  if (text.length % 4 === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) return false;
  if (text.length % 4 === 0) return true;
  const last = ALPHABET.indexOf(text.charAt(text.length - 1));
  return text.length % 4 === 2 ? (last & 0x0f) === 0 : (last & 0x03) === 0;
}

/** A JSON object, as §3.3 step 3 and §7.3 step 3 mean it: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type Verdict = "ok" | "invalid" | "too-large";

function worst(a: Verdict, b: Verdict): Verdict {
  if (a === "too-large" || b === "too-large") return "too-large";
  return a === "invalid" || b === "invalid" ? "invalid" : "ok";
}

/** Checks `value` against `rule`; `too-large` wins over `invalid` (§7.3 step 7, §3.3 step 6). */
export function check(rule: Rule, value: unknown): Verdict {
  switch (rule.kind) {
    case "literal":
      return value === rule.value ? "ok" : "invalid";
    case "id":
      return typeof value === "string" && ID.test(value) ? "ok" : "invalid";
    case "keyVersion":
      return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 2_147_483_647 ? "ok" : "invalid";
    case "integer": {
      if (!Number.isSafeInteger(value)) return "invalid";
      const number = value as number;
      if (rule.min !== undefined && number < rule.min) return "invalid";
      if (rule.max !== undefined && number > rule.max) return "invalid";
      if (rule.allowed !== undefined && !rule.allowed.includes(number)) return "invalid";
      return "ok";
    }
    case "bytes":
      return typeof value === "string" && value.length === base64urlChars(rule.bytes) && isCanonicalBase64url(value) ? "ok" : "invalid";
    case "byteRange": {
      if (typeof value !== "string") return "invalid";
      if (value.length > base64urlChars(rule.max)) return rule.sizeBounded === true ? "too-large" : "invalid";
      return value.length >= base64urlChars(rule.min) && isCanonicalBase64url(value) ? "ok" : "invalid";
    }
    case "boolean":
      return typeof value === "boolean" ? "ok" : "invalid";
    case "oneOf":
      return typeof value === "string" && rule.values.includes(value) ? "ok" : "invalid";
    case "nullable":
      return value === null ? "ok" : check(rule.inner, value);
    case "array": {
      if (!Array.isArray(value)) return "invalid";
      let verdict: Verdict = value.length > rule.max ? (rule.sizeBounded === true ? "too-large" : "invalid") : "ok";
      for (const item of value) verdict = worst(verdict, check(rule.items, item));
      return verdict;
    }
    case "object": {
      if (!isJsonObject(value)) return "invalid";
      let verdict: Verdict = "ok";
      for (const key of Object.keys(value)) if (!Object.hasOwn(rule.members, key)) verdict = "invalid";
      for (const [key, member] of Object.entries(rule.members)) {
        verdict = worst(verdict, Object.hasOwn(value, key) ? check(member, value[key]) : "invalid");
      }
      if (verdict === "ok" && rule.refine !== undefined && !rule.refine(value)) verdict = "invalid";
      return verdict;
    }
  }
}

/**
 * The code the reading procedure must give for `input` (an object, or JSON text), or `undefined`
 * when it is a well-formed object of a readable version, with that object.
 */
export function wireVerdict(
  spec: WireObjectSpec,
  input: unknown,
): { readonly code: E2eeErrorCode } | { readonly code?: undefined; readonly value: Record<string, unknown> } {
  let value = input;
  if (typeof input === "string") {
    if (input.length > spec.maxTextLength) return { code: "PAYLOAD_TOO_LARGE" };
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      return { code: spec.notJsonCode ?? "INVALID_ENVELOPE" };
    }
  }
  if (!isJsonObject(value)) return { code: "INVALID_ENVELOPE" };
  if (spec.type !== undefined && value["type"] !== spec.type) return { code: "INVALID_ENVELOPE" };
  if (!Object.hasOwn(value, "v")) return { code: "INVALID_ENVELOPE" };
  const version = value["v"];
  if (typeof version !== "number" || !spec.versions.includes(version)) return { code: "UNSUPPORTED_VERSION" };
  const verdict = check(spec.shapes[version]!, value);
  if (verdict === "too-large") return { code: "PAYLOAD_TOO_LARGE" };
  if (verdict === "invalid") return { code: "INVALID_ENVELOPE" };
  return { value };
}

// ---------------------------------------------------------------------------------------------
// The objects. Numbers are the spec's, not the implementation's constants.

const id: Rule = { kind: "id" };
const keyVersion: Rule = { kind: "keyVersion" };
const bytes = (count: number): Rule => ({ kind: "bytes", bytes: count });
/** §10.1 / §12.1: exactly one HPKE algorithm id each in version 1. */
const hpke = { kem: { kind: "integer", allowed: [0x20] }, kdf: { kind: "integer", allowed: [0x01] }, aead: { kind: "integer", allowed: [0x02] } } as const;
/** §3.4 and §16: with the default `maxPlaintextBytes` of 65,536, at most 67,600 ciphertext bytes (90,134 characters). */
const MAX_ENVELOPE_CIPHERTEXT_BYTES = 67_600;
const envelopeCiphertext: Rule = { kind: "byteRange", min: 17, max: MAX_ENVELOPE_CIPHERTEXT_BYTES, sizeBounded: true };
/** §3.3 step 1: 2,048 characters plus the largest ciphertext. */
const ENVELOPE_TEXT_BOUND = 2048 + base64urlChars(MAX_ENVELOPE_CIPHERTEXT_BYTES);

const envelopeV1Members = {
  v: { kind: "literal", value: 1 },
  suite: { kind: "literal", value: "xaes256gcm-kc" },
  roomId: id,
  messageId: id,
  keyId: id,
  keyVersion,
  nonce: bytes(24),
  commitment: bytes(32),
  ciphertext: envelopeCiphertext,
} as const satisfies Record<string, Rule>;

const envelopeV2Members = {
  ...envelopeV1Members,
  v: { kind: "literal", value: 2 },
  senderUserId: id,
  senderDeviceId: id,
  signature: bytes(64),
} as const satisfies Record<string, Rule>;

/** Envelopes v1 and v2 (§3, §8): one reader for both versions. */
export const ENVELOPE: WireObjectSpec = {
  name: "envelope",
  versions: [1, 2],
  shapes: { 1: { kind: "object", members: envelopeV1Members }, 2: { kind: "object", members: envelopeV2Members } },
  maxTextLength: ENVELOPE_TEXT_BOUND,
};

/** §9.1. */
export const DEVICE_BUNDLE: WireObjectSpec = {
  name: "device bundle",
  type: "device-bundle",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "device-bundle" },
        userId: id,
        deviceId: id,
        agreementKey: bytes(32),
        signingKey: bytes(32),
        signature: bytes(64),
      },
    },
  },
  maxTextLength: 4096,
};

/** §10.1. */
export const KEY_SHARE: WireObjectSpec = {
  name: "key share",
  type: "room-key-share",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "room-key-share" },
        ...hpke,
        roomId: id,
        keyId: id,
        keyVersion,
        senderUserId: id,
        senderDeviceId: id,
        recipientUserId: id,
        recipientDeviceId: id,
        enc: bytes(32),
        ciphertext: bytes(49),
        signature: bytes(64),
      },
    },
  },
  maxTextLength: 4096,
};

/** §12.1: chunks and chunk ciphertexts are size-bounded. */
export const KEY_BACKUP: WireObjectSpec = {
  name: "key backup",
  type: "key-backup",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "key-backup" },
        ...hpke,
        publicKey: bytes(32),
        chunks: {
          kind: "array",
          max: 10_000,
          sizeBounded: true,
          items: {
            kind: "object",
            members: { enc: bytes(32), ciphertext: { kind: "byteRange", min: 17, max: 33_554_432, sizeBounded: true } },
          },
        },
      },
    },
  },
  maxTextLength: 67_108_864,
};

/** §12.3: the plaintext of a chunk. Text that is not JSON is `DECRYPTION_FAILED` there (§12.5 step 4.2). */
export const KEY_BACKUP_PAYLOAD: WireObjectSpec = {
  name: "key backup payload",
  type: "key-backup-payload",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "key-backup-payload" },
        keys: {
          kind: "array",
          max: 100_000,
          sizeBounded: true,
          items: {
            kind: "object",
            members: {
              roomId: id,
              keyId: id,
              keyVersion,
              key: bytes(32),
              shareable: { kind: "boolean" },
              createdAt: { kind: "integer", min: 0 },
            },
          },
        },
      },
    },
  },
  maxTextLength: 33_554_432,
  notJsonCode: "DECRYPTION_FAILED",
};

/** §13.1: N a power of two from 2^10 to 2^20, r 1–16, p 1–4, 128·r·(N + p + 1) ≤ 2^30, N·r·p ≤ 2^24. */
export function scryptParamsAllowed(n: number, r: number, p: number): boolean {
  const powerOfTwo = Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
  return (
    powerOfTwo && n >= 2 ** 10 && n <= 2 ** 20 && r >= 1 && r <= 16 && p >= 1 && p <= 4 && 128 * r * (n + p + 1) <= 2 ** 30 && n * r * p <= 2 ** 24
  );
}

/** §13.1. */
export const PROTECTED_RECOVERY_KEY: WireObjectSpec = {
  name: "protected recovery key",
  type: "protected-recovery-key",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "protected-recovery-key" },
        publicKey: bytes(32),
        kdf: {
          kind: "object",
          members: {
            name: { kind: "literal", value: "scrypt" },
            n: { kind: "integer" },
            r: { kind: "integer" },
            p: { kind: "integer" },
            salt: bytes(16),
          },
          refine: (kdf) => scryptParamsAllowed(kdf["n"] as number, kdf["r"] as number, kdf["p"] as number),
        },
        nonce: bytes(12),
        ciphertext: bytes(48),
      },
    },
  },
  maxTextLength: 4096,
};

/** §14.1: only `versions` is size-bounded; the other lists are plain rules (over 100,000 is invalid). */
export const KEYRING_STATE: WireObjectSpec = {
  name: "keyring state",
  type: "room-keyring",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "room-keyring" },
        roomId: id,
        policy: {
          kind: "object",
          members: {
            maxMessagesPerVersion: { kind: "integer", min: 1 },
            maxVersionAgeMs: { kind: "integer", min: 1 },
            retainVersions: { kind: "nullable", inner: { kind: "integer", min: 1 } },
          },
        },
        rotationRequired: {
          kind: "nullable",
          inner: { kind: "oneOf", values: ["member-removed", "device-revoked", "manual", "restored", "max-messages", "max-age"] },
        },
        currentVersion: { kind: "nullable", inner: keyVersion },
        currentKeyId: { kind: "nullable", inner: id },
        removedUsers: { kind: "array", items: id, max: 100_000 },
        revokedDevices: { kind: "array", items: { kind: "object", members: { userId: id, deviceId: id } }, max: 100_000 },
        versions: {
          kind: "array",
          max: 100_000,
          sizeBounded: true,
          items: {
            kind: "object",
            members: {
              keyId: id,
              keyVersion,
              shareable: { kind: "boolean" },
              origin: { kind: "oneOf", values: ["created", "share", "backup"] },
              createdAt: { kind: "integer", min: 0 },
              messageCount: { kind: "integer", min: 0 },
              key: bytes(32),
            },
          },
        },
      },
    },
  },
  maxTextLength: 33_554_432,
};

/** §14.2. */
export const DEVICE_IDENTITY_STATE: WireObjectSpec = {
  name: "device identity state",
  type: "device-identity",
  versions: [1],
  shapes: {
    1: {
      kind: "object",
      members: {
        v: { kind: "literal", value: 1 },
        type: { kind: "literal", value: "device-identity" },
        userId: id,
        deviceId: id,
        agreementSecretKey: bytes(32),
        signingSecretKey: bytes(32),
      },
    },
  },
  maxTextLength: 4096,
};
