import { inspect } from "node:util";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { E2eeError, type ProtectedRecoveryKeyV1 } from "@domvia/e2ee-envelope";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { describe, expect, it, vi } from "vitest";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { openBackupChunk, sealBackupChunk } from "./key-backup";
import {
  DEFAULT_PASSPHRASE_KDF,
  RECOVERY_CODE_WORDS,
  RECOVERY_KEY_BYTES,
  RecoveryKey,
  createRecoveryKey,
  protectRecoveryKey,
  protectedRecoveryKeyNeedsUpgrade,
  recoveryKeyFromCode,
  recoverySecret,
  unlockRecoveryKey,
} from "./recovery";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Small scrypt parameters so the tests stay fast; the format and checks are the same. */
const FAST_KDF = Object.freeze({ n: 1024, r: 1, p: 1 });

/**
 * The 256-bit English vectors of the BIP-39 reference implementation (trezor/python-mnemonic,
 * `vectors.json`, entries [entropy, mnemonic, seed]); the seed (PBKDF2 of the mnemonic) is not
 * used by this SDK.
 */
const BIP39_VECTORS: readonly (readonly [string, string])[] = [
  [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
  ],
  [
    "7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
    "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title",
  ],
  [
    "8080808080808080808080808080808080808080808080808080808080808080",
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless",
  ],
  [
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
  ],
  [
    "911fec0fbd88029f6fa99164896c18d898c9232af18bdcca3e42d53b86493104",
    "much youth advance kitchen lens exile salt cram goose enter alert raise milk muscle profit cousin system faint mouse price reveal cause series long",
  ],
];

/** A fixed code with no word that the error messages use themselves ("code", "word", "match", "order"). */
const FIXED_ENTROPY = "911fec0fbd88029f6fa99164896c18d898c9232af18bdcca3e42d53b86493104";
const FIXED_CODE =
  "much youth advance kitchen lens exile salt cram goose enter alert raise milk muscle profit cousin system faint mouse price reveal cause series long";

async function catchE2eeError(promise: Promise<unknown> | (() => unknown)): Promise<E2eeError> {
  let result: unknown;
  try {
    result = typeof promise === "function" ? promise() : await promise;
  } catch (error) {
    if (E2eeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`expected an E2eeError, got a result: ${String(result)}`);
}

function fixedKey(): RecoveryKey {
  return new RecoveryKey(hexToBytes(FIXED_ENTROPY));
}

function words(code: string): string[] {
  return code.split(" ");
}

function replaceWord(code: string, index: number, word: string): string {
  const list = words(code);
  list[index] = word;
  return list.join(" ");
}

/** The next word in the BIP-39 list (wrapping), a valid word that is not `word`. */
function nextWord(word: string): string {
  return wordlist[(wordlist.indexOf(word) + 1) % wordlist.length]!;
}

/** Asserts `message` contains no word of `code` as a word of its own, nor the code itself. */
function expectNoCodeWord(message: string, code: string): void {
  const codeWords = new Set(words(code));
  const messageWords = message.toLowerCase().split(/[^a-z]+/);
  for (const word of messageWords) expect(codeWords.has(word), `"${message}" repeats "${word}"`).toBe(false);
  expect(message).not.toContain(code);
}

function changedAt(text: string, index: number, step = 1): string {
  const replacement = ALPHABET[(ALPHABET.indexOf(text.charAt(index)) + step) % 64]!;
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

/**
 * A step through the alphabet that changes the last base64url character of a `byteLength`-byte
 * field but keeps its unused low bits zero (canonical): 2 unused bits for 32 bytes, 4 for 16,
 * none for 12 and 48.
 */
function canonicalStep(byteLength: number): number {
  return { 0: 1, 1: 16, 2: 4 }[byteLength % 3] ?? 1;
}

describe("createRecoveryKey", () => {
  it("makes a 24-word code of BIP-39 English words", async () => {
    const recoveryKey = await createRecoveryKey();
    const list = words(recoveryKey.code);
    expect(list).toHaveLength(RECOVERY_CODE_WORDS);
    expect(RECOVERY_CODE_WORDS).toBe(24);
    for (const word of list) expect(wordlist).toContain(word);
    expect(recoveryKey.code).toBe(list.join(" "));
  });

  it("holds 32 bytes of entropy and a 32-byte X25519 public key", async () => {
    const recoveryKey = await createRecoveryKey();
    expect(RECOVERY_KEY_BYTES).toBe(32);
    expect(recoverySecret(recoveryKey).entropy).toHaveLength(32);
    expect(base64urlDecode(recoveryKey.publicKey)).toHaveLength(32);
  });

  it("makes a different key each time", async () => {
    const a = await createRecoveryKey();
    const b = await createRecoveryKey();
    expect(a.code).not.toBe(b.code);
    expect(a.publicKey).not.toBe(b.publicKey);
  });

  it("is frozen", async () => {
    expect(Object.isFrozen(await createRecoveryKey())).toBe(true);
  });
});

describe("recoveryKeyFromCode", () => {
  it("reads a created code back to the same public key and code", async () => {
    const recoveryKey = await createRecoveryKey();
    const restored = recoveryKeyFromCode(recoveryKey.code);
    expect(restored.publicKey).toBe(recoveryKey.publicKey);
    expect(restored.code).toBe(recoveryKey.code);
  });

  it("reads a code of exactly 4,096 characters and refuses one character more before normalising it", () => {
    expect(recoveryKeyFromCode(FIXED_CODE.padEnd(4096, " ")).publicKey).toBe(fixedKey().publicKey);
    for (const text of [FIXED_CODE.padEnd(4097, " "), " ".repeat(4097), FIXED_CODE + "\u3000".repeat(5000)]) {
      let code: string | undefined;
      try {
        recoveryKeyFromCode(text);
      } catch (error) {
        code = E2eeError.isInstance(error) ? error.code : String(error);
      }
      expect(code).toBe("INVALID_RECOVERY_CODE");
    }
    // The bound is on the text as given: an oversized text is refused without normalising it.
    const normalize = vi.spyOn(String.prototype, "normalize");
    try {
      expect(() => recoveryKeyFromCode(" ".repeat(10 * 1024 * 1024))).toThrow(E2eeError);
      expect(normalize).not.toHaveBeenCalled();
      recoveryKeyFromCode(FIXED_CODE);
      expect(normalize).toHaveBeenCalled();
    } finally {
      normalize.mockRestore();
    }
  });

  it("ignores case and surrounding, repeated and mixed whitespace", () => {
    const expected = fixedKey().publicKey;
    const variants = [
      FIXED_CODE.toUpperCase(),
      FIXED_CODE.replace(/\b\w/g, (c) => c.toUpperCase()),
      `  ${FIXED_CODE}  `,
      `\n${FIXED_CODE}\n`,
      FIXED_CODE.replaceAll(" ", "   "),
      FIXED_CODE.replaceAll(" ", "\t"),
      FIXED_CODE.replaceAll(" ", "\n"),
      FIXED_CODE.replaceAll(" ", " \r\n "),
      FIXED_CODE.replaceAll(" ", "\u00a0"),
      FIXED_CODE.replaceAll(" ", "\u3000"),
    ];
    for (const variant of variants) expect(recoveryKeyFromCode(variant).publicKey, JSON.stringify(variant)).toBe(expected);
  });

  it.each(BIP39_VECTORS)("maps entropy %s to the BIP-39 reference mnemonic and back", (entropy, mnemonic) => {
    const recoveryKey = new RecoveryKey(hexToBytes(entropy));
    expect(recoveryKey.code).toBe(mnemonic);
    const restored = recoveryKeyFromCode(mnemonic);
    expect(bytesToHex(recoverySecret(restored).entropy)).toBe(entropy);
    expect(restored.publicKey).toBe(recoveryKey.publicKey);
  });

  it("maps 32 zero bytes to \"abandon\" ×23 then \"art\" (BIP-39 reference vector)", () => {
    const code = new RecoveryKey(new Uint8Array(32)).code;
    expect(code).toBe(`${"abandon ".repeat(23)}art`);
  });

  it("derives the public key with RFC 9180 DeriveKeyPair, as @hpke/dhkem-x25519 does", async () => {
    const kem = new DhkemX25519HkdfSha256();
    for (const [entropy] of BIP39_VECTORS) {
      const theirs = await kem.deriveKeyPair(hexToBytes(entropy).slice().buffer);
      const theirPublicKey = new Uint8Array(await kem.serializePublicKey(theirs.publicKey));
      expect(new RecoveryKey(hexToBytes(entropy)).publicKey, entropy).toBe(base64urlEncode(theirPublicKey));
    }
  });

  it("refuses a word replaced by another valid word (checksum) with INVALID_RECOVERY_CODE", async () => {
    // Deterministic: each of these substitutions was checked to break the 8-bit checksum.
    for (let index = 0; index < RECOVERY_CODE_WORDS; index++) {
      const mistyped = replaceWord(FIXED_CODE, index, nextWord(words(FIXED_CODE)[index]!));
      const error = await catchE2eeError(() => recoveryKeyFromCode(mistyped));
      expect(error.code, `word ${index + 1}`).toBe("INVALID_RECOVERY_CODE");
      expect(error.message).toMatch(/checksum/);
      expectNoCodeWord(error.message, mistyped);
    }
  });

  it("refuses two adjacent words swapped with INVALID_RECOVERY_CODE", async () => {
    for (let index = 0; index < RECOVERY_CODE_WORDS - 1; index++) {
      const list = words(FIXED_CODE);
      [list[index], list[index + 1]] = [list[index + 1]!, list[index]!];
      const error = await catchE2eeError(() => recoveryKeyFromCode(list.join(" ")));
      expect(error.code, `words ${index + 1} and ${index + 2}`).toBe("INVALID_RECOVERY_CODE");
    }
  });

  it("accepts a substituted word that happens to match the 8-bit checksum, giving another key (the checksum's limit)", () => {
    // About 1 substitution in 256 keeps the checksum valid; the code then names another key, and
    // only opening the backup (DECRYPTION_FAILED) or comparing public keys reveals the typo.
    const original = new RecoveryKey(new Uint8Array(32));
    for (const code of [`brass ${"abandon ".repeat(22)}art`, `${"abandon ".repeat(23)}diesel`]) {
      const other = recoveryKeyFromCode(code);
      expect(other.publicKey).not.toBe(original.publicKey);
    }
  });

  it("refuses an unknown word with INVALID_RECOVERY_CODE naming its position, never the word", async () => {
    for (const [index, unknown] of [
      [0, "zzzzz"],
      [4, "abandonn"],
      [11, "secretword"],
      [23, "xyzzy"],
      [7, "résumé"],
    ] as const) {
      const code = replaceWord(FIXED_CODE, index, unknown);
      const error = await catchE2eeError(() => recoveryKeyFromCode(code));
      expect(error.code).toBe("INVALID_RECOVERY_CODE");
      expect(error.message).toBe(`recovery code word ${index + 1} is not a recovery word`);
      expect(error.message.toLowerCase()).not.toContain(unknown.normalize("NFKD"));
      expect(error.message).not.toContain(unknown);
      expectNoCodeWord(error.message, FIXED_CODE);
    }
  });

  it("names the first unknown word when several are unknown", async () => {
    const code = replaceWord(replaceWord(FIXED_CODE, 9, "qqq"), 2, "www");
    expect((await catchE2eeError(() => recoveryKeyFromCode(code))).message).toBe("recovery code word 3 is not a recovery word");
  });

  it.each([0, 1, 12, 23, 25, 48])("refuses %i words with INVALID_RECOVERY_CODE", async (count) => {
    const list = Array.from({ length: count }, (_, i) => words(FIXED_CODE)[i % 24]!);
    const error = await catchE2eeError(() => recoveryKeyFromCode(list.join(" ")));
    expect(error.code).toBe("INVALID_RECOVERY_CODE");
    expect(error.message).toBe(`recovery code expected 24 words, got ${count === 0 ? 1 : count}`);
    expectNoCodeWord(error.message, FIXED_CODE);
  });

  it("refuses the empty string and whitespace only with INVALID_RECOVERY_CODE", async () => {
    for (const code of ["", "   ", "\n\t"]) {
      expect((await catchE2eeError(() => recoveryKeyFromCode(code))).code).toBe("INVALID_RECOVERY_CODE");
    }
  });

  it("refuses words joined by punctuation instead of whitespace", async () => {
    for (const separator of [",", "-", ", "]) {
      const error = await catchE2eeError(() => recoveryKeyFromCode(words(FIXED_CODE).join(separator)));
      expect(error.code, JSON.stringify(separator)).toBe("INVALID_RECOVERY_CODE");
    }
  });

  it("throws TypeError for a code that is not a string", () => {
    for (const code of [undefined, null, 42, ["abandon"], new Uint8Array(32)]) {
      expect(() => recoveryKeyFromCode(code as unknown as string)).toThrow(TypeError);
    }
  });

  it("never repeats any word of the code in any of its error messages", async () => {
    const list = words(FIXED_CODE);
    const inputs = [
      list.slice(0, 23).join(" "),
      [...list, "abandon"].join(" "),
      replaceWord(FIXED_CODE, 5, "notaword"),
      replaceWord(FIXED_CODE, 5, nextWord(list[5]!)),
      [...list.slice(1), list[0]!].join(" "),
    ];
    for (const input of inputs) {
      const error = await catchE2eeError(() => recoveryKeyFromCode(input));
      expectNoCodeWord(error.message, FIXED_CODE);
      expectNoCodeWord(String(error), FIXED_CODE);
      expect(JSON.stringify(error)).not.toContain(list[5]!);
    }
  });
});

describe("RecoveryKey redaction", () => {
  it("JSON.stringify shows only the public key", () => {
    const recoveryKey = fixedKey();
    expect(JSON.stringify(recoveryKey)).toBe(JSON.stringify({ publicKey: recoveryKey.publicKey }));
    expect(JSON.stringify({ backup: recoveryKey })).not.toContain(words(FIXED_CODE)[0]!);
  });

  it("String(), template literals and util.inspect are redacted", () => {
    const recoveryKey = fixedKey();
    expect(String(recoveryKey)).toBe("RecoveryKey([redacted])");
    expect(`${recoveryKey}`).toBe("RecoveryKey([redacted])");
    expect(inspect(recoveryKey)).toBe("RecoveryKey([redacted])");
    for (const text of [
      inspect(recoveryKey, { showHidden: true, getters: true, depth: Infinity }),
      inspect({ recoveryKey }, { showHidden: true, getters: true }),
      inspect([recoveryKey]),
    ]) {
      expectNoCodeWord(text, FIXED_CODE);
      expect(text).not.toContain(FIXED_ENTROPY);
    }
  });

  it("keeps the code off the object: a prototype getter, not an own or enumerable property", () => {
    const recoveryKey = fixedKey();
    expect(Object.keys(recoveryKey)).toEqual(["publicKey"]);
    expect(Object.getOwnPropertyNames(recoveryKey)).toEqual(["publicKey"]);
    expect(Object.getOwnPropertySymbols(recoveryKey)).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(recoveryKey, "code")).toBeUndefined();
    expect(Object.hasOwn(recoveryKey, "code")).toBe(false);
    const descriptor = Object.getOwnPropertyDescriptor(RecoveryKey.prototype, "code");
    expect(descriptor?.enumerable).toBe(false);
    expect(typeof descriptor?.get).toBe("function");
    expect({ ...recoveryKey }).toEqual({ publicKey: recoveryKey.publicKey });
    expect(recoveryKey.code).toBe(FIXED_CODE);
  });
});

describe("protectRecoveryKey and unlockRecoveryKey (scrypt N = 1024, r = 1, p = 1)", () => {
  it("unlocks with the same passphrase to the same recovery key", async () => {
    const recoveryKey = await createRecoveryKey();
    const protectedKey = await protectRecoveryKey(recoveryKey, "correct horse battery staple", FAST_KDF);
    const unlocked = await unlockRecoveryKey(protectedKey, "correct horse battery staple");
    expect(unlocked.publicKey).toBe(recoveryKey.publicKey);
    expect(unlocked.code).toBe(recoveryKey.code);
  });

  it("unlocks from the protected key's JSON text", async () => {
    const recoveryKey = fixedKey();
    const protectedKey = await protectRecoveryKey(recoveryKey, "passphrase", FAST_KDF);
    expect((await unlockRecoveryKey(JSON.stringify(protectedKey), "passphrase")).publicKey).toBe(recoveryKey.publicKey);
  });

  it("writes the v1 blob: public key, scrypt parameters, 16-byte salt, 12-byte nonce, 48-byte ciphertext", async () => {
    const recoveryKey = fixedKey();
    const protectedKey = await protectRecoveryKey(recoveryKey, "passphrase", { n: 2048, r: 2, p: 3 });
    expect(Object.keys(protectedKey).sort()).toEqual(["ciphertext", "kdf", "nonce", "publicKey", "type", "v"]);
    expect(protectedKey).toMatchObject({ v: 1, type: "protected-recovery-key", publicKey: recoveryKey.publicKey });
    expect(Object.keys(protectedKey.kdf).sort()).toEqual(["n", "name", "p", "r", "salt"]);
    expect(protectedKey.kdf).toMatchObject({ name: "scrypt", n: 2048, r: 2, p: 3 });
    expect(base64urlDecode(protectedKey.kdf.salt)).toHaveLength(16);
    expect(base64urlDecode(protectedKey.nonce)).toHaveLength(12);
    expect(base64urlDecode(protectedKey.ciphertext)).toHaveLength(48);
    const json = JSON.stringify(protectedKey);
    expect(json).not.toContain(FIXED_CODE);
    expect(json).not.toContain(words(FIXED_CODE).slice(0, 3).join(" "));
    expect(json).not.toContain(base64urlEncode(hexToBytes(FIXED_ENTROPY)));
    expect(json).not.toContain(FIXED_ENTROPY);
    expect(json).not.toContain("passphrase");
  });

  it("uses a fresh salt and nonce each time", async () => {
    const recoveryKey = fixedKey();
    const a = await protectRecoveryKey(recoveryKey, "passphrase", FAST_KDF);
    const b = await protectRecoveryKey(recoveryKey, "passphrase", FAST_KDF);
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("refuses a wrong passphrase with WRONG_RECOVERY_CODE and a message without the passphrase", async () => {
    const protectedKey = await protectRecoveryKey(fixedKey(), "correct horse battery staple", FAST_KDF);
    for (const wrong of ["correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple ", "x"]) {
      const error = await catchE2eeError(unlockRecoveryKey(protectedKey, wrong));
      expect(error.code, JSON.stringify(wrong)).toBe("WRONG_RECOVERY_CODE");
      expect(error.message).not.toContain("horse");
    }
  });

  it("normalises the passphrase to NFKC: precomposed and decomposed \"é\" unlock each other", async () => {
    const recoveryKey = fixedKey();
    const precomposed = "caf\u00e9 cr\u00e8me";
    const decomposed = "cafe\u0301 cre\u0300me";
    expect(precomposed).not.toBe(decomposed);
    const fromPrecomposed = await protectRecoveryKey(recoveryKey, precomposed, FAST_KDF);
    const fromDecomposed = await protectRecoveryKey(recoveryKey, decomposed, FAST_KDF);
    expect((await unlockRecoveryKey(fromPrecomposed, decomposed)).publicKey).toBe(recoveryKey.publicKey);
    expect((await unlockRecoveryKey(fromDecomposed, precomposed)).publicKey).toBe(recoveryKey.publicKey);
    // NFKC also folds compatibility forms: a full-width "Ａ" is "A".
    const fullWidth = await protectRecoveryKey(recoveryKey, "\uff21bc", FAST_KDF);
    expect((await unlockRecoveryKey(fullWidth, "Abc")).publicKey).toBe(recoveryKey.publicKey);
    expect((await catchE2eeError(unlockRecoveryKey(fromPrecomposed, "cafe creme"))).code).toBe("WRONG_RECOVERY_CODE");
  });

  describe("a tampered blob fails WRONG_RECOVERY_CODE (or INVALID_ENVELOPE for a malformed one), never unlocks", () => {
    let blob: ProtectedRecoveryKeyV1 | undefined;
    async function original(): Promise<ProtectedRecoveryKeyV1> {
      blob ??= await protectRecoveryKey(fixedKey(), "passphrase", FAST_KDF);
      return blob;
    }

    for (const field of ["ciphertext", "nonce", "salt", "publicKey"] as const) {
      it(`every one-character change of ${field}`, { timeout: 30_000 }, async () => {
        const protectedKey = await original();
        const text = field === "salt" ? protectedKey.kdf.salt : protectedKey[field];
        const bytes = base64urlDecode(text)!.length;
        for (let index = 0; index < text.length; index++) {
          const changed = changedAt(text, index, index === text.length - 1 ? canonicalStep(bytes) : 1);
          const tampered = field === "salt" ? { ...protectedKey, kdf: { ...protectedKey.kdf, salt: changed } } : { ...protectedKey, [field]: changed };
          const error = await catchE2eeError(unlockRecoveryKey(tampered, "passphrase"));
          expect(error.code, `${field}[${index}]`).toBe("WRONG_RECOVERY_CODE");
        }
      });
    }

    it("another recovery key's public key", async () => {
      const protectedKey = await original();
      const other = await createRecoveryKey();
      const error = await catchE2eeError(unlockRecoveryKey({ ...protectedKey, publicKey: other.publicKey }, "passphrase"));
      expect(error.code).toBe("WRONG_RECOVERY_CODE");
    });

    it("other valid scrypt parameters (n, r, p)", async () => {
      const protectedKey = await original();
      for (const change of [{ n: 2048 }, { r: 2 }, { p: 2 }]) {
        const error = await catchE2eeError(unlockRecoveryKey({ ...protectedKey, kdf: { ...protectedKey.kdf, ...change } }, "passphrase"));
        expect(error.code, JSON.stringify(change)).toBe("WRONG_RECOVERY_CODE");
      }
    });

    it("ciphertext, nonce or salt from another protection of the same key", async () => {
      const protectedKey = await original();
      const other = await protectRecoveryKey(fixedKey(), "passphrase", FAST_KDF);
      for (const tampered of [
        { ...protectedKey, ciphertext: other.ciphertext },
        { ...protectedKey, nonce: other.nonce },
        { ...protectedKey, kdf: { ...protectedKey.kdf, salt: other.kdf.salt } },
      ]) {
        expect((await catchE2eeError(unlockRecoveryKey(tampered, "passphrase"))).code).toBe("WRONG_RECOVERY_CODE");
      }
    });

    it("malformed fields and parameters out of range", async () => {
      const protectedKey = await original();
      const { nonce: _nonce, ...withoutNonce } = protectedKey;
      const cases: readonly [string, unknown, string][] = [
        ["n not a power of two", { ...protectedKey, kdf: { ...protectedKey.kdf, n: 1000 } }, "INVALID_ENVELOPE"],
        ["n below 2^10", { ...protectedKey, kdf: { ...protectedKey.kdf, n: 512 } }, "INVALID_ENVELOPE"],
        ["n above 2^22", { ...protectedKey, kdf: { ...protectedKey.kdf, n: 2 ** 23 } }, "INVALID_ENVELOPE"],
        ["r 0", { ...protectedKey, kdf: { ...protectedKey.kdf, r: 0 } }, "INVALID_ENVELOPE"],
        ["r 33", { ...protectedKey, kdf: { ...protectedKey.kdf, r: 33 } }, "INVALID_ENVELOPE"],
        ["p 17", { ...protectedKey, kdf: { ...protectedKey.kdf, p: 17 } }, "INVALID_ENVELOPE"],
        ["kdf name", { ...protectedKey, kdf: { ...protectedKey.kdf, name: "argon2id" } }, "INVALID_ENVELOPE"],
        ["15-byte salt", { ...protectedKey, kdf: { ...protectedKey.kdf, salt: base64urlEncode(new Uint8Array(15)) } }, "INVALID_ENVELOPE"],
        ["short ciphertext", { ...protectedKey, ciphertext: protectedKey.ciphertext.slice(0, -2) }, "INVALID_ENVELOPE"],
        ["non-canonical salt", { ...protectedKey, kdf: { ...protectedKey.kdf, salt: changedAt(protectedKey.kdf.salt, 21, 1) } }, "INVALID_ENVELOPE"],
        ["non-canonical public key", { ...protectedKey, publicKey: changedAt(protectedKey.publicKey, 42, 1) }, "INVALID_ENVELOPE"],
        ["nonce in standard base64", { ...protectedKey, nonce: `+${protectedKey.nonce.slice(1)}` }, "INVALID_ENVELOPE"],
        ["missing nonce", withoutNonce, "INVALID_ENVELOPE"],
        ["extra field", { ...protectedKey, hint: "pet name" }, "INVALID_ENVELOPE"],
        ["wrong type", { ...protectedKey, type: "key-backup" }, "INVALID_ENVELOPE"],
        ["v 2", { ...protectedKey, v: 2 }, "UNSUPPORTED_VERSION"],
        ["null", null, "INVALID_ENVELOPE"],
        ["not JSON", "{", "INVALID_ENVELOPE"],
      ];
      for (const [name, input, code] of cases) {
        expect((await catchE2eeError(unlockRecoveryKey(input, "passphrase"))).code, name).toBe(code);
      }
    });
  });

  it("throws TypeError for an empty or non-string passphrase, on protect and on unlock", async () => {
    const recoveryKey = fixedKey();
    const protectedKey = await protectRecoveryKey(recoveryKey, "passphrase", FAST_KDF);
    for (const passphrase of ["", undefined, null, 42]) {
      await expect(protectRecoveryKey(recoveryKey, passphrase as string, FAST_KDF)).rejects.toThrow(TypeError);
      await expect(unlockRecoveryKey(protectedKey, passphrase as string)).rejects.toThrow(TypeError);
    }
  });

  it("throws TypeError when protecting something that is not a RecoveryKey", async () => {
    for (const value of [null, {}, { publicKey: fixedKey().publicKey }]) {
      await expect(protectRecoveryKey(value as RecoveryKey, "passphrase", FAST_KDF)).rejects.toThrow(TypeError);
    }
  });

  it("throws RangeError for scrypt parameters out of range, before any work", async () => {
    const recoveryKey = fixedKey();
    const bad = [
      { n: 512 },
      { n: 1000 },
      { n: 1536 },
      { n: 2 ** 23 },
      { n: 1024.5 },
      { n: Number.NaN },
      { n: 0 },
      { n: -1024 },
      { n: 1024, r: 0 },
      { n: 1024, r: 33 },
      { n: 1024, r: 1.5 },
      { n: 1024, p: 0 },
      { n: 1024, p: 17 },
      { n: 1024, p: Number.POSITIVE_INFINITY },
    ];
    for (const params of bad) {
      await expect(protectRecoveryKey(recoveryKey, "passphrase", params), JSON.stringify(params)).rejects.toThrow(RangeError);
    }
  });
});

describe("scrypt parameters the format accepts but scrypt's memory limit refuses", () => {
  // The schema and protectRecoveryKey accept N up to 2^22 and r up to 32, but noble's scrypt
  // refuses more than its default maxmem (1 GiB + 2 KiB, i.e. 128 · r · (N + p + 1) for
  // N = 2^20, r = 8) with a plain `Error` before allocating anything. These calls fail fast.
  const overLimit = [
    { n: 2 ** 21, r: 8, p: 1 },
    { n: 2 ** 22, r: 8, p: 1 },
    { n: 2 ** 22, r: 32, p: 16 },
  ];

  async function thrownBy(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  }

  it("protectRecoveryKey refuses in-range N, r, p whose memory exceeds scrypt's limit with a RangeError, not a plain Error", async () => {
    for (const params of overLimit) {
      const error = await thrownBy(protectRecoveryKey(fixedKey(), "passphrase", params));
      expect(error, `${JSON.stringify(params)}: ${String(error)}`).toBeInstanceOf(RangeError);
    }
  });

  it("unlockRecoveryKey refuses a maxMemoryBytes that would switch the memory guard off (NaN, non-numbers, zero, fractions)", async () => {
    const blob = await protectRecoveryKey(fixedKey(), "passphrase", FAST_KDF);
    for (const maxMemoryBytes of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1, 1.5, "1000000" as unknown as number]) {
      expect(await thrownBy(unlockRecoveryKey(blob, "passphrase", { maxMemoryBytes })), String(maxMemoryBytes)).toBeInstanceOf(RangeError);
    }
    // A cost above a valid limit is still refused before scrypt runs.
    const error = await thrownBy(unlockRecoveryKey(blob, "passphrase", { maxMemoryBytes: 1024 }));
    expect(E2eeError.isInstance(error, "PAYLOAD_TOO_LARGE")).toBe(true);
  });

  it("unlockRecoveryKey refuses a schema-valid blob whose N, r, p exceed scrypt's limit with INVALID_ENVELOPE, not a plain Error", async () => {
    const blob = await protectRecoveryKey(fixedKey(), "passphrase", FAST_KDF);
    for (const params of overLimit) {
      const error = await thrownBy(unlockRecoveryKey({ ...blob, kdf: { ...blob.kdf, ...params } }, "passphrase"));
      expect(E2eeError.isInstance(error, "INVALID_ENVELOPE"), `${JSON.stringify(params)}: ${String(error)}`).toBe(true);
    }
  });
});

describe("protectedRecoveryKeyNeedsUpgrade", () => {
  it("is true for N = 1024, r = 1, p = 1 against the default, false against that minimum, true against a higher one", async () => {
    const cheap = await protectRecoveryKey(fixedKey(), "passphrase", FAST_KDF);
    expect(protectedRecoveryKeyNeedsUpgrade(cheap)).toBe(true);
    expect(protectedRecoveryKeyNeedsUpgrade(cheap, FAST_KDF)).toBe(false);
    expect(protectedRecoveryKeyNeedsUpgrade(cheap, { n: 2048, r: 1, p: 1 })).toBe(true);
    expect(protectedRecoveryKeyNeedsUpgrade(JSON.stringify(cheap))).toBe(true);
  });

  it("is false for a blob that names the default parameters (checked on the blob, no scrypt run)", async () => {
    const cheap = await protectRecoveryKey(fixedKey(), "passphrase", FAST_KDF);
    const atDefault = { ...cheap, kdf: { ...cheap.kdf, ...DEFAULT_PASSPHRASE_KDF } };
    expect(protectedRecoveryKeyNeedsUpgrade(atDefault)).toBe(false);
    const above = { ...cheap, kdf: { ...cheap.kdf, n: 2 ** 18, r: 8, p: 1 } };
    expect(protectedRecoveryKeyNeedsUpgrade(above)).toBe(false);
    const lowerN = { ...cheap, kdf: { ...cheap.kdf, n: 2 ** 16, r: 8, p: 1 } };
    expect(protectedRecoveryKeyNeedsUpgrade(lowerN)).toBe(true);
  });

  it("throws INVALID_ENVELOPE for a malformed blob", async () => {
    expect((await catchE2eeError(() => protectedRecoveryKeyNeedsUpgrade({ v: 1, type: "protected-recovery-key" }))).code).toBe("INVALID_ENVELOPE");
  });

  it("has frozen defaults of N = 2^17, r = 8, p = 1", () => {
    expect(DEFAULT_PASSPHRASE_KDF).toEqual({ n: 2 ** 17, r: 8, p: 1 });
    expect(Object.isFrozen(DEFAULT_PASSPHRASE_KDF)).toBe(true);
  });

  // The one default-cost scrypt run of this file (128 MiB, about a second).
  it("writes the default parameters when none are given, and such a blob needs no upgrade", { timeout: 60_000 }, async () => {
    const protectedKey = await protectRecoveryKey(fixedKey(), "passphrase");
    expect(protectedKey.kdf).toMatchObject({ name: "scrypt", ...DEFAULT_PASSPHRASE_KDF });
    expect(protectedRecoveryKeyNeedsUpgrade(protectedKey)).toBe(false);
  });
});

describe("RecoveryKey.destroy", () => {
  async function rejection(use: () => unknown): Promise<unknown> {
    try {
      await use();
    } catch (error) {
      return error;
    }
    throw new Error("expected the use to throw");
  }

  it("zeroes the entropy and the secret key and refuses every later use of them with INVALID_KEY", async () => {
    const recoveryKey = await createRecoveryKey();
    const chunk = sealBackupChunk(recoveryKey.publicKey, { v: 1, type: "key-backup-payload", keys: [] });
    const secret = recoverySecret(recoveryKey);
    expect(recoveryKey.destroyed).toBe(false);
    recoveryKey.destroy();
    expect(recoveryKey.destroyed).toBe(true);
    expect([...secret.entropy, ...secret.secretKey].every((byte) => byte === 0)).toBe(true);
    const uses: [string, () => unknown][] = [
      ["code", () => recoveryKey.code],
      ["protect", () => protectRecoveryKey(recoveryKey, "passphrase", FAST_KDF)],
      ["restore a backup chunk", () => openBackupChunk(recoveryKey, chunk)],
    ];
    for (const [name, use] of uses) {
      const error = await rejection(use);
      expect(E2eeError.isInstance(error, "INVALID_KEY"), name).toBe(true);
      expect((error as Error).message, name).toBe('"recoveryKey" was destroyed');
    }
  });

  it("keeps the public key, so backups can still be written to it, and is idempotent", async () => {
    const recoveryKey = await createRecoveryKey();
    const copy = recoveryKeyFromCode(recoveryKey.code);
    recoveryKey.destroy();
    recoveryKey.destroy();
    expect(recoveryKey.publicKey).toBe(copy.publicKey);
    expect(JSON.stringify(recoveryKey)).toBe(JSON.stringify({ publicKey: copy.publicKey }));
    const chunk = sealBackupChunk(recoveryKey.publicKey, { v: 1, type: "key-backup-payload", keys: [] });
    expect(openBackupChunk(copy, chunk)).toEqual({ v: 1, type: "key-backup-payload", keys: [] });
    expect(copy.destroyed).toBe(false);
  });
});
