/**
 * Fuzzing the key side of `@domvia/e2ee-crypto`: device bundles, key shares (tampered, and
 * validly signed ones around garbage), backup chunks (tampered, and authentic ones around
 * garbage), recovery codes, passphrase-protected recovery keys and device identity states.
 *
 * Expensive operations stay bounded: most inputs fail at parsing as real hostile inputs do; the
 * protected recovery key uses the cheapest scrypt cost the format allows, and every unlock caps
 * scrypt memory at 256 KiB, so a blob that asks for more is refused before any work.
 */
import { Buffer } from "node:buffer";
import {
  KEY_SHARE_PLAINTEXT_BYTES,
  keyBackupInfo,
  keyShareInfo,
  keyShareSignatureInput,
  parseDeviceIdentityState,
  parseKeyBackupPayload,
  parseProtectedRecoveryKey,
  safeParseDeviceBundle,
  safeParseRoomKeyShare,
  type KeyBackupChunkV1,
  type KeyShareContext,
  type ProtectedRecoveryKeyV1,
  type RoomKeyShareV1,
} from "@domvia/e2ee-envelope";
import {
  DEFAULT_PASSPHRASE_KDF,
  DeviceIdentity,
  createRecoveryKey,
  exportRoomKeyBytes,
  openBackupChunk,
  openRoomKeyShare,
  protectedRecoveryKeyNeedsUpgrade,
  recoveryKeyFromCode,
  unlockRecoveryKey,
  verifyDeviceBundle,
  type OpenedRoomKeyShare,
  type RecoveryKey,
  type VerifiedDeviceBundle,
} from "@domvia/e2ee-crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
// Internals, to seal and sign garbage: what a device that holds the keys can do.
import { identitySecrets } from "../../packages/crypto/src/device-identity";
import { hpkeSeal } from "../../packages/crypto/src/hpke";
import { sign } from "../../packages/crypto/src/signing";
import { callerValue, hostileValue, mostlyRefused, nastyCharacter, nastyString, nearValid, toJsonText, wireInputs } from "./arbitraries";
import { PASSPHRASE, ROOM_ID, getWorld, type World } from "./fixtures";
import { fuzz, isTypeError } from "./harness";
import { PARSE_CODES, meaningOf, sortedJson } from "./oracles";
import { fuzzTimeout } from "./runs";

const TIMEOUT = fuzzTimeout(10);

/** The most scrypt memory any unlock here may spend: the cheapest cost (N = 2^10, r = 1) fits, nothing much dearer. */
const UNLOCK_MEMORY_BYTES = 2 ** 18;

let world: World;
/** Words of several real recovery codes: list words in valid and invalid orders. */
let listWords: string[];
let otherRecoveryKey: RecoveryKey;
beforeAll(async () => {
  world = await getWorld();
  otherRecoveryKey = await createRecoveryKey();
  const codes = [world.recoveryKey, otherRecoveryKey, await createRecoveryKey(), await createRecoveryKey()].map((key) => key.code);
  listWords = [...new Set(codes.flatMap((code) => code.split(" ")))];
});

const b64u = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
const fromB64u = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64url"));
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

describe("fuzzing device bundles", () => {
  it("verifyDeviceBundle verifies only the genuine bundles, and otherwise throws a documented error", async () => {
    const genuine = [world.bundle, world.bob.publicBundle];
    await fuzz<unknown>({
      name: "verifyDeviceBundle",
      // 3% reach the Ed25519 verification (about 3 ms each); the rest are refused by the parser.
      inputs: mostlyRefused(wireInputs(...genuine), (input) => safeParseDeviceBundle(input).success, 0.03),
      call: (input) => verifyDeviceBundle(input),
      codes: [...PARSE_CODES, "BAD_SIGNATURE"],
      returned: (value, input) => {
        const verified = value as VerifiedDeviceBundle;
        const meaning = meaningOf(input);
        if (meaning !== undefined) expect(genuine.map(sortedJson)).toContain(sortedJson(meaning));
        expect(genuine.map(sortedJson)).toContain(sortedJson(verified.bundle));
        expect(b64u(verified.signingKey)).toBe(verified.bundle.signingKey);
        expect(b64u(verified.agreementKey)).toBe(verified.bundle.agreementKey);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing key shares", () => {
  type Device = "bob" | "alice" | "hostile";
  type Sender = "genuine" | "tampered" | "other" | "missing" | "junk";
  interface ShareInput {
    readonly share: unknown;
    readonly device: Device;
    readonly sender: Sender;
    readonly tamperedBundle: unknown;
    /** A wrong device (the caller's mistake) and a junk sender bundle (untrusted data). */
    readonly junkDevice: unknown;
    readonly junk: unknown;
    /** For a share sealed and signed here: its plaintext. */
    readonly plaintext?: Uint8Array;
  }

  /**
   * A share from Alice to Bob, validly signed, around any plaintext. The ephemeral key comes from
   * the generator, not the CSPRNG, so the secret-hygiene check does not learn one key per input.
   */
  function sealShare(plaintext: Uint8Array, ephemeralSecretKey: Uint8Array): RoomKeyShareV1 {
    const alice = identitySecrets(world.alice);
    const recipientKey = fromB64u(world.bob.publicBundle.agreementKey);
    const context: KeyShareContext = {
      kem: 0x20,
      kdf: 1,
      aead: 2,
      roomId: ROOM_ID,
      keyId: world.keyId,
      keyVersion: world.keyVersion,
      senderUserId: "alice",
      senderDeviceId: "phone",
      recipientUserId: "bob",
      recipientDeviceId: "laptop",
    };
    const info = keyShareInfo(context, alice.signingPublicKey, recipientKey);
    const sealed = hpkeSeal({ recipientPublicKey: recipientKey, info, aad: new Uint8Array(0), plaintext, ephemeralSecretKey });
    const signature = sign(alice.signingSecretKey, keyShareSignatureInput(info, sealed.enc, sealed.ciphertext));
    return { v: 1, type: "room-key-share", ...context, enc: b64u(sealed.enc), ciphertext: b64u(sealed.ciphertext), signature: b64u(signature) };
  }

  it("openRoomKeyShare opens only what Alice sealed for Bob, and otherwise throws a documented error", async () => {
    const rest = {
      device: fc.constantFrom<Device>("bob", "bob", "bob", "bob", "bob", "bob", "alice", "hostile"),
      sender: fc.constantFrom<Sender>("genuine", "genuine", "genuine", "genuine", "tampered", "other", "missing", "junk"),
      tamperedBundle: mostlyRefused(nearValid(world.bundle), (bundle) => safeParseDeviceBundle(bundle).success, 0.03),
      junkDevice: callerValue,
      junk: hostileValue,
    };
    const tampered = fc.record({ share: mostlyRefused(wireInputs(world.share), (share) => safeParseRoomKeyShare(share).success, 0.04), ...rest });
    const signedGarbage = fc
      .record({
        plaintext: fc.oneof(
          { weight: 4, arbitrary: fc.uint8Array({ minLength: KEY_SHARE_PLAINTEXT_BYTES, maxLength: KEY_SHARE_PLAINTEXT_BYTES }) },
          { weight: 4, arbitrary: fc.tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(0, 1)).map(([key, flags]) => Uint8Array.of(...key, flags)) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }) },
        ),
        ephemeral: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ...rest,
      })
      .map(({ ephemeral, ...input }) => ({ ...input, share: sealShare(input.plaintext, ephemeral) }));
    // Sealing and signing here costs milliseconds: 2% of the inputs.
    const inputs: fc.Arbitrary<ShareInput> = fc.oneof({ weight: 49, arbitrary: tampered }, { weight: 1, arbitrary: signedGarbage });
    const deviceOf = (input: ShareInput): DeviceIdentity => (input.device === "bob" ? world.bob : input.device === "alice" ? world.alice : (input.junkDevice as DeviceIdentity));
    const senderOf = (input: ShareInput): unknown => {
      switch (input.sender) {
        case "genuine":
          return world.bundle;
        case "tampered":
          return input.tamperedBundle;
        case "other":
          return world.bob.publicBundle;
        case "missing":
          return undefined;
        case "junk":
          return input.junk;
      }
    };
    await fuzz<ShareInput>({
      name: "openRoomKeyShare",
      inputs,
      call: (input) => openRoomKeyShare({ share: input.share, device: deviceOf(input), senderBundle: senderOf(input) }),
      codes: [...PARSE_CODES, "SHARE_MISADDRESSED", "UNKNOWN_SENDER", "BAD_SIGNATURE", "DECRYPTION_FAILED"],
      documentedError: (error, input) => input.device === "hostile" && isTypeError(error),
      returned: (value, input) => {
        const opened = value as OpenedRoomKeyShare;
        expect(input.device).toBe("bob");
        expect(sortedJson(input.sender === "genuine" ? world.bundle : meaningOf(senderOf(input)))).toBe(sortedJson(world.bundle));
        if (input.plaintext !== undefined) {
          // Validly signed: opens exactly when the plaintext is a key and a known flag.
          expect(input.plaintext.length).toBe(KEY_SHARE_PLAINTEXT_BYTES);
          expect([0, 1]).toContain(input.plaintext[32]);
          expect(b64u(exportRoomKeyBytes(opened.key))).toBe(b64u(input.plaintext.subarray(0, 32)));
          expect(opened.shareable).toBe(input.plaintext[32] === 1);
          return;
        }
        const meaning = meaningOf(input.share);
        if (meaning !== undefined) expect(sortedJson(meaning)).toBe(sortedJson(world.share));
        expect(b64u(exportRoomKeyBytes(opened.key))).toBe(world.keyringState.versions.at(-1)!.key);
        expect({ roomId: opened.roomId, keyId: opened.keyId, keyVersion: opened.keyVersion }).toEqual({ roomId: ROOM_ID, keyId: world.keyId, keyVersion: world.keyVersion });
      },
      threw: (error, input) => {
        // A validly signed share to Bob, opened by Bob with Alice's genuine bundle, fails only on its plaintext.
        if (input.plaintext === undefined || input.device !== "bob" || input.sender !== "genuine") return;
        if (input.plaintext.length !== KEY_SHARE_PLAINTEXT_BYTES) expect(error.code).toBe("INVALID_ENVELOPE");
        else expect(error.code).toBe("DECRYPTION_FAILED");
      },
    });
  }, TIMEOUT);
});

describe("fuzzing backup chunks", () => {
  interface ChunkInput {
    readonly chunk: unknown;
    /** For a chunk sealed here: its plaintext. */
    readonly plaintext?: Uint8Array;
  }

  /** A chunk sealed to the recovery key around any plaintext: anyone with the public key can (ephemeral key as for shares). */
  function sealChunk(plaintext: Uint8Array, ephemeralSecretKey: Uint8Array): KeyBackupChunkV1 {
    const publicKey = fromB64u(world.recoveryKey.publicKey);
    const sealed = hpkeSeal({ recipientPublicKey: publicKey, info: keyBackupInfo(0x20, 1, 2, publicKey), aad: new Uint8Array(0), plaintext, ephemeralSecretKey });
    return { enc: b64u(sealed.enc), ciphertext: b64u(sealed.ciphertext) };
  }

  /** What a chunk's plaintext must open to, by the envelope package's own reader: a payload or a code. */
  function expectedPayload(plaintext: Uint8Array): { code: string } | { payload: unknown } {
    let value: unknown;
    try {
      value = JSON.parse(strictUtf8.decode(plaintext));
    } catch {
      return { code: "DECRYPTION_FAILED" };
    }
    try {
      return { payload: parseKeyBackupPayload(value) };
    } catch (error) {
      return { code: (error as { code: string }).code };
    }
  }

  it("openBackupChunk opens only what was sealed to the recovery key, validated, and otherwise throws a documented error", async () => {
    const genuineChunk = world.backup.chunks[0]!;
    /** Chunk members as data: strings mostly, JSON values sometimes (never hostile objects: the backup reader checked the shape). */
    const member = fc.oneof({ weight: 4, arbitrary: nastyString }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) });
    const tampered = fc.oneof(
      { weight: 4, arbitrary: nearValid(genuineChunk, { trapped: false }).filter((chunk) => typeof chunk === "object" && chunk !== null && !Array.isArray(chunk)) },
      { weight: 1, arbitrary: fc.record({ enc: member, ciphertext: member }) },
      { weight: 1, arbitrary: fc.constantFrom(...world.backup.chunks) },
    );
    const plaintext = fc.oneof(
      { weight: 5, arbitrary: nearValid(world.payload, { trapped: false }).map((payload) => utf8(toJsonText(payload) ?? "")) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 2 }).map(utf8) },
      { weight: 1, arbitrary: nastyString.map(utf8) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"v":1,"type":"key-backup-payload","keys":[]}}', "\ufeff{}", "").map(utf8) },
    );
    // Sealing here costs an X25519 agreement, opening another: 10% of the inputs.
    const inputs: fc.Arbitrary<ChunkInput> = fc.oneof(
      { weight: 9, arbitrary: tampered.map((chunk) => ({ chunk })) },
      { weight: 1, arbitrary: fc.tuple(plaintext, fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([bytes, ephemeral]) => ({ chunk: sealChunk(bytes, ephemeral), plaintext: bytes })) },
    );
    await fuzz<ChunkInput>({
      name: "openBackupChunk",
      inputs,
      call: (input) => openBackupChunk(world.recoveryKey, input.chunk as KeyBackupChunkV1),
      codes: [...PARSE_CODES, "DECRYPTION_FAILED"],
      returned: (payload, input) => {
        if (input.plaintext !== undefined) {
          const expected = expectedPayload(input.plaintext);
          expect(expected).toHaveProperty("payload");
          expect(sortedJson(payload)).toBe(sortedJson((expected as { payload: unknown }).payload));
          return;
        }
        // It reads `enc` and `ciphertext` (the backup reader checked the rest): those must be a genuine chunk's.
        const { enc, ciphertext } = input.chunk as KeyBackupChunkV1;
        expect(world.backup.chunks.map(sortedJson)).toContain(sortedJson({ enc, ciphertext }));
      },
      threw: (error, input) => {
        if (input.plaintext === undefined) return;
        const expected = expectedPayload(input.plaintext);
        expect(expected, `an authentic chunk refused with ${error.code}`).toHaveProperty("code", error.code);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing recovery codes", () => {
  /** A code as typed: the real words, changed at the word, character and spacing level. */
  const typedCode = (): fc.Arbitrary<string> => {
    const separator = fc.constantFrom(" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u200b", ",", "-");
    const edit = fc.record({
      how: fc.constantFrom("replace-word", "swap", "drop", "duplicate", "upper", "fullwidth", "typo", "combining", "surrogate", "none", "none"),
      at: fc.nat(),
      other: fc.nat(),
      word: fc.nat(),
      character: nastyCharacter,
    });
    return fc
      .tuple(fc.constantFrom(world.recoveryKey.code, otherRecoveryKey.code), fc.array(edit, { maxLength: 3 }), separator, fc.constantFrom("", " ", "\n", "\u3000"), fc.constantFrom("", " ", "\t\n"))
      .map(([code, edits, between, before, after]) => {
        const words = code.split(" ");
        for (const change of edits) {
          const i = change.at % words.length;
          const j = change.other % words.length;
          switch (change.how) {
            case "replace-word":
              words[i] = listWords[change.word % listWords.length]!;
              break;
            case "swap":
              [words[i], words[j]] = [words[j]!, words[i]!];
              break;
            case "drop":
              words.splice(i, 1);
              break;
            case "duplicate":
              words.splice(i, 0, words[i]!);
              break;
            case "upper":
              words[i] = words[i]!.toUpperCase();
              break;
            case "fullwidth":
              // NFKD turns full-width letters back into ASCII: the same code.
              words[i] = [...words[i]!].map((letter) => String.fromCodePoint(letter.codePointAt(0)! - 0x61 + 0xff41)).join("");
              break;
            case "typo": {
              const word = words[i]!;
              const k = change.other % Math.max(1, word.length);
              words[i] = word.slice(0, k) + change.character + word.slice(k + 1);
              break;
            }
            case "combining":
              words[i] = `${words[i]!}\u0301`;
              break;
            case "surrogate":
              words[i] = `${words[i]!}\ud800`;
              break;
            case "none":
              break;
          }
        }
        return before + words.join(between) + after;
      });
  };

  /** The words a code reads as: SPEC.md §11.2 step 1. */
  const normalised = (code: string): string[] => code.normalize("NFKD").trim().toLowerCase().split(/\s+/);

  it("recoveryKeyFromCode reads exactly the valid 24-word codes, and never repeats the code", async () => {
    const inputs = fc.oneof({ weight: 8, arbitrary: typedCode() }, { weight: 2, arbitrary: nastyString }, { weight: 1, arbitrary: callerValue });
    await fuzz<unknown>({
      name: "recoveryKeyFromCode",
      inputs,
      call: (input) => recoveryKeyFromCode(input as string),
      codes: ["INVALID_RECOVERY_CODE"],
      documentedError: (error, input) => typeof input !== "string" && isTypeError(error),
      returned: (value, input) => {
        expect(typeof input).toBe("string");
        // The key's own code is the typed code, read as the spec reads it.
        expect((value as RecoveryKey).code).toBe(normalised(input as string).join(" "));
      },
      threw: (error, input) => {
        if (typeof input !== "string") return;
        const words = normalised(input);
        if (words.length >= 2 && words[0]!.length + words[1]!.length >= 6) expect(error.message).not.toContain(`${words[0]} ${words[1]}`);
        if (input.trim().length >= 12) expect(error.message).not.toContain(input.trim());
      },
    });
  }, TIMEOUT);
});

describe("fuzzing passphrase-protected recovery keys", () => {
  type Passphrase = "right" | "right-fullwidth" | "wrong" | "empty" | "hostile";
  interface UnlockInput {
    readonly protectedKey: unknown;
    readonly passphrase: Passphrase;
    readonly wrong: string;
    readonly junk: unknown;
  }
  const passphraseOf = (input: UnlockInput): unknown => {
    switch (input.passphrase) {
      case "right":
        return PASSPHRASE;
      case "right-fullwidth":
        // NFKC maps full-width letters and the ideographic space to ASCII: the same passphrase.
        return [...PASSPHRASE].map((character) => (character === " " ? "\u3000" : String.fromCodePoint(character.codePointAt(0)! - 0x21 + 0xff01))).join("");
      case "wrong":
        return input.wrong;
      case "empty":
        return "";
      case "hostile":
        return input.junk;
    }
  };

  it("unlockRecoveryKey unlocks only the genuine blob with the right passphrase, at a bounded cost", async () => {
    const inputs: fc.Arbitrary<UnlockInput> = fc.record({
      // 5% pass the parser and reach the memory bound, then scrypt at the cheapest cost.
      protectedKey: mostlyRefused(wireInputs(world.protectedKey), (input) => parseProtectedRecoveryKey(input) !== undefined, 0.05),
      passphrase: fc.constantFrom<Passphrase>("right", "right", "right", "right", "right-fullwidth", "wrong", "empty", "hostile"),
      wrong: fc.oneof(nastyString.filter((text) => text.length > 0), fc.constant(`${PASSPHRASE} `)),
      junk: callerValue.filter((value) => typeof value !== "string"),
    });
    await fuzz<UnlockInput>({
      name: "unlockRecoveryKey",
      inputs,
      call: (input) => unlockRecoveryKey(input.protectedKey, passphraseOf(input) as string, { maxMemoryBytes: UNLOCK_MEMORY_BYTES }),
      codes: [...PARSE_CODES, "WRONG_RECOVERY_CODE"],
      // A passphrase that is not a non-empty string is a caller bug (as protectRecoveryKey documents).
      documentedError: (error, input) => ["empty", "hostile"].includes(input.passphrase) && isTypeError(error),
      returned: (value, input) => {
        expect(["right", "right-fullwidth"]).toContain(input.passphrase);
        const meaning = meaningOf(input.protectedKey);
        if (meaning !== undefined) expect(sortedJson(meaning)).toBe(sortedJson(world.protectedKey));
        expect((value as RecoveryKey).publicKey).toBe(world.recoveryKey.publicKey);
      },
    });
  }, TIMEOUT);

  it("protectedRecoveryKeyNeedsUpgrade reads any blob as its KDF cost says, or throws a documented error", async () => {
    await fuzz<unknown>({
      name: "protectedRecoveryKeyNeedsUpgrade",
      inputs: wireInputs(world.protectedKey),
      call: (input) => protectedRecoveryKeyNeedsUpgrade(input),
      codes: PARSE_CODES,
      returned: (value, input) => {
        const meaning = meaningOf(input) as ProtectedRecoveryKeyV1 | undefined;
        if (meaning === undefined) return;
        const { n, r, p } = meaning.kdf;
        const { n: minN, r: minR, p: minP } = DEFAULT_PASSPHRASE_KDF;
        expect(value).toBe(n * r * p < minN * minR * minP || n < minN);
      },
    });
  }, TIMEOUT);
});

describe("fuzzing device identity states", () => {
  it("DeviceIdentity.importState restores exactly the stored state, or throws a documented error", async () => {
    await fuzz<unknown>({
      name: "DeviceIdentity.importState",
      // A state that parses becomes an identity (key derivation and a signature): 3% of the inputs.
      inputs: mostlyRefused(wireInputs(world.identityState), (input) => parseDeviceIdentityState(input) !== undefined, 0.03),
      call: (input) => DeviceIdentity.importState(input),
      codes: PARSE_CODES,
      returned: (value, input) => {
        const device = value as DeviceIdentity;
        const meaning = meaningOf(input);
        if (meaning !== undefined) expect(sortedJson(device.exportState())).toBe(sortedJson(meaning));
        expect(device.publicBundle.userId).toBe(device.userId);
      },
    });
  }, TIMEOUT);
});
