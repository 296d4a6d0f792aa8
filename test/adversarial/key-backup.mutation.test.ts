/**
 * Mutation suites for key backups (SPEC.md §12): the backup object with its chunks, and the
 * payload inside a chunk.
 *
 * The backup (two chunks, two rooms) is changed member by member, bit by bit and character by
 * character, and read by `restoreKeyBackup` (with the recovery key and with its code),
 * `compactKeyBackup` and `addToKeyBackup` (§12.4, §12.5). A changed public key must be
 * `WRONG_RECOVERY_CODE`, a changed chunk `DECRYPTION_FAILED`, a malformed backup a parse code,
 * and nothing may be restored unless every chunk opens. Chunks carry no signature and a server
 * may withhold them (§12.6, §17.13), so dropping, duplicating or reordering whole chunks is
 * accepted, and the result must be exactly the entries of the chunks that remain.
 *
 * The payload is what an HPKE seal to the backup's public key contains; anyone with that public
 * key can write one (§12.6), so a well-formed changed payload is *accepted*, as exactly its
 * entries, restored as decrypt-only versions. Malformed payloads are sealed with an independent
 * HPKE (`independent.ts`), since the SDK refuses to seal them.
 *
 * Cost: every chunk that opens costs an X25519 (a few ms), so bytes get one flipped bit each (bit
 * `index mod 8`), and text replacements inside long base64url members are made at every 4th
 * character (the byte flips already reach every byte there). The payload's text mutations are
 * its byte flips: flipping bit 0–6 of an ASCII byte replaces one character, bit 7 makes it invalid
 * UTF-8.
 */
import { keyBackupInfo, parseKeyBackupPayload, type BackedUpKeyV1, type KeyBackupV1, type KeyringStateV1 } from "@domvia/e2ee-envelope";
import { createRecoveryKey, type RecoveryKey } from "@domvia/e2ee-crypto";
import { RoomKeyring, addToKeyBackup, compactKeyBackup, createKeyBackup, restoreKeyBackup } from "@domvia/e2ee-room-keys";
import { beforeAll, describe, expect, it } from "vitest";
import { MutationSuite, type Consumer, type Expectation } from "./harness";
import { fromBase64url, hpkeSealBase, toBase64url } from "./independent";
import { ONE_BIT, byteFlipCount, byteMutations, fieldMutations, sameJson, textMutations, type Mutation } from "./mutate";
import { KEY_BACKUP, KEY_BACKUP_PAYLOAD, type ObjectRule } from "./rules";

const BACKUP_SHAPE = KEY_BACKUP.shapes[1] as ObjectRule;
const PAYLOAD_SHAPE = KEY_BACKUP_PAYLOAD.shapes[1] as ObjectRule;

interface Fixture {
  readonly recoveryKey: RecoveryKey;
  readonly backup: KeyBackupV1;
  /** The entries each chunk of `backup` holds, in order. */
  readonly chunkEntries: readonly (readonly BackedUpKeyV1[])[];
  readonly donor: KeyBackupV1;
  /** A keyring `addToKeyBackup` appends. */
  readonly appended: RoomKeyring;
  /** A payload of two versions of one room, and one of a single version, for the payload suite. */
  readonly payload: { v: 1; type: "key-backup-payload"; keys: BackedUpKeyV1[] };
  readonly smallPayload: { v: 1; type: "key-backup-payload"; keys: BackedUpKeyV1[] };
}

let f: Fixture;

function entriesOf(state: KeyringStateV1): BackedUpKeyV1[] {
  return state.versions.map(({ keyId, keyVersion, key, shareable, createdAt }) => ({ roomId: state.roomId, keyId, keyVersion, key, shareable, createdAt }));
}

beforeAll(async () => {
  const recoveryKey = await createRecoveryKey();
  const room1 = RoomKeyring.create({ roomId: "room-1" });
  const room2 = RoomKeyring.create({ roomId: "room-2", shareable: true });
  const first = createKeyBackup({ keyrings: [room1], recoveryKey });
  const backup = addToKeyBackup({ backup: first, recoveryPublicKey: recoveryKey.publicKey, keyrings: [room2] });
  const donor = createKeyBackup({ keyrings: [RoomKeyring.create({ roomId: "room-3" })], recoveryKey: await createRecoveryKey() });
  const history = RoomKeyring.create({ roomId: "room-4" });
  history.rotate({ reason: "manual", shareable: true });
  f = {
    recoveryKey,
    backup,
    chunkEntries: [entriesOf(room1.exportState()), entriesOf(room2.exportState())],
    donor,
    appended: RoomKeyring.create({ roomId: "room-5" }),
    payload: { v: 1, type: "key-backup-payload", keys: entriesOf(history.exportState()) },
    smallPayload: { v: 1, type: "key-backup-payload", keys: entriesOf(room1.exportState()) },
  };
});

type Restored = readonly RoomKeyring[];

/**
 * §12.5 steps 4.4 and 5 on the entries of the chunks that opened: merged by (room, version, key
 * id), a different key for one identity is `KEY_CONFLICT`, and every room's keyring holds exactly
 * its entries as decrypt-only versions, the newest current.
 */
function restoreExpectation(entries: readonly BackedUpKeyV1[]): Expectation {
  const merged = new Map<string, BackedUpKeyV1>();
  for (const entry of entries) {
    const id = `${entry.roomId}\n${entry.keyVersion}\n${entry.keyId}`;
    const earlier = merged.get(id);
    if (earlier !== undefined && earlier.key !== entry.key) return { code: "KEY_CONFLICT" };
    merged.set(id, entry);
  }
  const rooms = [...new Set([...merged.values()].map((entry) => entry.roomId))];
  return {
    accept: (result) => {
      const keyrings = result as Restored;
      expect(keyrings.map((keyring) => keyring.roomId)).toEqual(rooms);
      for (const keyring of keyrings) {
        const expected = [...merged.values()]
          .filter((entry) => entry.roomId === keyring.roomId)
          .map(({ roomId: _room, ...entry }) => ({ ...entry, origin: "backup", messageCount: 0 }))
          .sort((a, b) => a.keyVersion - b.keyVersion || (a.keyId < b.keyId ? -1 : 1));
        const state = keyring.exportState();
        expect(state.versions.map(({ keyId, keyVersion, shareable, origin, createdAt, messageCount, key }) => ({ keyId, keyVersion, shareable, origin, createdAt, messageCount, key }))).toEqual(
          expected.map(({ keyId, keyVersion, shareable, origin, createdAt, messageCount, key }) => ({ keyId, keyVersion, shareable, origin, createdAt, messageCount, key })),
        );
        const newest = expected.at(-1)!;
        expect([state.currentVersion, state.currentKeyId]).toEqual([newest.keyVersion, newest.keyId]);
        // Restored versions only decrypt (§12.6).
        expect(keyring.needsRotation()).toBe("restored");
      }
    },
  };
}

/** What reading a well-formed backup with the right recovery key must give: the chunks that are the originals open. */
function backupEntries(value: Record<string, unknown>): { readonly code: "WRONG_RECOVERY_CODE" | "DECRYPTION_FAILED" } | readonly BackedUpKeyV1[] {
  if (value["publicKey"] !== f.recoveryKey.publicKey) return { code: "WRONG_RECOVERY_CODE" };
  const entries: BackedUpKeyV1[] = [];
  for (const chunk of value["chunks"] as unknown[]) {
    const index = f.backup.chunks.findIndex((original) => sameJson(original, chunk));
    if (index === -1) return { code: "DECRYPTION_FAILED" };
    entries.push(...f.chunkEntries[index]!);
  }
  return entries;
}

/** The 10,000-chunk backup is well-formed: restoring it would open 10,000 chunks (tens of seconds). */
const isHeavy = (mutation: Mutation): boolean => mutation.label.endsWith("10,000 chunks");

function backupConsumers(): Consumer[] {
  const restored = (value: Record<string, unknown>): Expectation => {
    const entries = backupEntries(value);
    return "code" in entries ? { code: entries.code } : restoreExpectation(entries);
  };
  return [
    {
      name: "restoreKeyBackup(recoveryKey)",
      alsoAsText: true,
      skip: isHeavy,
      run: (input) => restoreKeyBackup({ backup: input, recoveryKey: f.recoveryKey }),
      expect: restored,
    },
    {
      name: "restoreKeyBackup(recoveryCode)",
      families: ["field"],
      malformedSample: 4,
      skip: isHeavy,
      run: (input) => restoreKeyBackup({ backup: input, recoveryCode: f.recoveryKey.code }),
      expect: restored,
    },
    {
      name: "compactKeyBackup",
      families: ["field"],
      malformedSample: 4,
      skip: isHeavy,
      run: (input) => compactKeyBackup({ backup: input, recoveryKey: f.recoveryKey }),
      expect: (value) => {
        const entries = backupEntries(value);
        if ("code" in entries) return { code: entries.code };
        return {
          accept: (result) => {
            const compacted = result as KeyBackupV1;
            expect({ ...compacted, chunks: [] }).toEqual({ ...value, chunks: [] });
            expect(compacted.chunks.length).toBe(entries.length === 0 ? 0 : 1);
          },
        };
      },
    },
    {
      name: "addToKeyBackup",
      families: ["field"],
      malformedSample: 4,
      run: (input) => addToKeyBackup({ backup: input, recoveryPublicKey: f.recoveryKey.publicKey, keyrings: [f.appended] }),
      // §12.4: only the public key is checked; the chunks are kept as they are, and one is appended.
      expect: (value) => {
        if (value["publicKey"] !== f.recoveryKey.publicKey) return { code: "WRONG_RECOVERY_CODE" };
        const chunks = value["chunks"] as unknown[];
        if (chunks.length >= 10_000) return { code: "PAYLOAD_TOO_LARGE" };
        return {
          accept: (result) => {
            const appended = result as KeyBackupV1;
            expect({ ...appended, chunks: [] }).toEqual({ ...value, chunks: [] });
            expect(appended.chunks.slice(0, -1)).toEqual(chunks);
            expect(appended.chunks.length).toBe(chunks.length + 1);
          },
        };
      },
    },
  ];
}

describe("key backup", () => {
  const suite = new MutationSuite("key backup", KEY_BACKUP);

  it("restores, compacts and appends to the unchanged backup (the fixture is sound)", async () => {
    const result = await suite.run(backupConsumers(), [{ family: "field", label: "unchanged", input: f.backup, path: [] }]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(5);
  });

  it("refuses every member removed, retyped, at its boundaries, from another backup or added; accepts chunk lists a server could serve", { timeout: 60_000 }, async () => {
    const backup = f.backup as unknown as Record<string, unknown>;
    const mutations = fieldMutations(backup, BACKUP_SHAPE, {
      donors: [f.donor],
      extraValues: { chunks: [[...f.backup.chunks, f.donor.chunks[0]], [f.backup.chunks[1], f.backup.chunks[0]]] },
      // §12.1: more than 10,000 chunks is PAYLOAD_TOO_LARGE; exactly 10,000 reads, and then cannot be appended to.
      overLongList: (_path, _rule, current) => [
        { label: "10,001 chunks", value: Array.from({ length: 10_001 }, (_, i) => current[i % current.length]), heavy: true },
        { label: "10,000 chunks", value: Array.from({ length: 10_000 }, (_, i) => current[i % current.length]), heavy: true },
      ],
    });
    const result = await suite.run(backupConsumers(), mutations);
    expect(result.failures).toEqual([]);
    for (const member of Object.keys(backup)) expect(mutations.filter((m) => m.path[0] === member).length, member).toBeGreaterThanOrEqual(10);
    expect(mutations.filter((m) => m.path[0] === "chunks" && m.path.length === 3).length).toBeGreaterThanOrEqual(4 * 10);
  });

  it("refuses every flipped bit of the public key (WRONG_RECOVERY_CODE) and of every chunk (DECRYPTION_FAILED), one bit per byte", { timeout: 60_000 }, async () => {
    const backup = f.backup as unknown as Record<string, unknown>;
    const mutations = byteMutations(backup, BACKUP_SHAPE, ONE_BIT);
    const result = await suite.run(backupConsumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(byteFlipCount(backup, BACKUP_SHAPE, ONE_BIT));
    expect(result.outcomes.get("WRONG_RECOVERY_CODE")).toBe(32);
    expect(result.outcomes.get("DECRYPTION_FAILED")).toBe(result.mutations - 32);
  });

  it("refuses every character of the JSON text replaced or deleted, where the text still parses", { timeout: 60_000 }, async () => {
    const text = JSON.stringify(f.backup);
    const mutations = textMutations(text, { byteMemberStride: 4, duplicates: { publicKey: f.donor.publicKey, chunks: f.donor.chunks }, maxTextLength: KEY_BACKUP.maxTextLength });
    const result = await suite.run(backupConsumers(), mutations);
    expect(result.failures).toEqual([]);
    expect(result.parsed).toBeGreaterThanOrEqual(text.length / 2);
  });

  it("reached every outcome the spec gives for backups", (context) => {
    suite.expectReached(context, ["field", "byte", "text"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "PAYLOAD_TOO_LARGE", "WRONG_RECOVERY_CODE", "DECRYPTION_FAILED"]);
  });
});

describe("key backup payload", () => {
  const suite = new MutationSuite("key backup payload", KEY_BACKUP_PAYLOAD);
  const info = (): Uint8Array => keyBackupInfo(0x20, 0x01, 0x02, fromBase64url(f.recoveryKey.publicKey));

  /** A one-chunk backup whose chunk is an independent HPKE seal of `plaintext` to the recovery key. */
  function backupHolding(plaintext: Uint8Array): KeyBackupV1 {
    const { enc, ciphertext } = hpkeSealBase(fromBase64url(f.recoveryKey.publicKey), info(), plaintext);
    return { ...f.backup, chunks: [{ enc: toBase64url(enc), ciphertext: toBase64url(ciphertext) }] };
  }

  const plaintextOf = (input: unknown): Uint8Array => (input instanceof Uint8Array ? input : new Uint8Array(Buffer.from(typeof input === "string" ? input : JSON.stringify(input))));

  const restoring: Consumer = {
    name: "restoreKeyBackup(chunk holding the payload)",
    // Each run costs an X25519; the parse consumer reads every malformed payload.
    malformedSample: 4,
    run: (input) => restoreKeyBackup({ backup: backupHolding(plaintextOf(input)), recoveryKey: f.recoveryKey }),
    // The chunk holds bytes: objects are judged as their JSON text; bytes must be strict UTF-8 (§12.5 step 4.2).
    oracleInput: (input) => {
      if (!(input instanceof Uint8Array) && typeof input !== "string") return { input: JSON.stringify(input) };
      if (typeof input === "string") return { input };
      try {
        return { input: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(input) };
      } catch {
        return { code: "DECRYPTION_FAILED" };
      }
    },
    expect: (value) => restoreExpectation(value["keys"] as BackedUpKeyV1[]),
  };

  /** §12.5 step 4.3 on its own: the payload reader, for every malformed payload. */
  const parsing: Consumer = {
    name: "parseKeyBackupPayload",
    families: ["field"],
    alsoAsText: true,
    run: (input) => parseKeyBackupPayload(input),
    // Read on its own, text that is not JSON is INVALID_ENVELOPE (§7.3 step 2); only inside a chunk is it DECRYPTION_FAILED.
    oracleInput: (input) => (typeof input === "string" && !isJson(input) ? { code: "INVALID_ENVELOPE" } : { input }),
    expect: (value) => ({ accept: (result) => expect(result).toEqual(value) }),
  };

  it("restores a payload sealed with the independent HPKE (the fixture and the seal are sound)", async () => {
    const result = await suite.run([restoring, parsing], [
      { family: "field", label: "unchanged", input: f.payload, path: [] },
      { family: "field", label: "unchanged, one entry", input: f.smallPayload, path: [] },
    ]);
    expect(result.failures).toEqual([]);
    expect(result.outcomes.get("accepted")).toBe(6);
  });

  it("refuses malformed payloads, refuses conflicting entries and restores exactly the entries of well-formed ones", { timeout: 60_000 }, async () => {
    const [first, second] = f.payload.keys as [BackedUpKeyV1, BackedUpKeyV1];
    const mutations = fieldMutations(f.payload, PAYLOAD_SHAPE, {
      donors: [f.smallPayload],
      extraValues: {
        // The same version twice: with the same key it restores once; with another key it is KEY_CONFLICT.
        keys: [
          [first, second, { ...first, shareable: !first.shareable, createdAt: first.createdAt + 1 }],
          [first, second, { ...first, key: second.key }],
          [first, { ...second, keyId: first.keyId, keyVersion: first.keyVersion }],
          [first, { ...first, roomId: "room-9" }],
        ],
      },
    });
    const result = await suite.run([restoring, parsing], mutations);
    expect(result.failures).toEqual([]);
    for (const member of ["roomId", "keyId", "keyVersion", "key", "shareable", "createdAt"]) {
      expect(mutations.filter((m) => m.path[2] === member).length, member).toBeGreaterThanOrEqual(2 * 10);
    }
  });

  it("refuses or reads exactly every plaintext with one flipped bit per byte (a replaced character, or invalid UTF-8)", { timeout: 60_000 }, async () => {
    const text = Buffer.from(JSON.stringify(f.smallPayload));
    const mutations: Mutation[] = [];
    for (let index = 0; index < text.length; index++) {
      const flipped = new Uint8Array(text);
      flipped[index] = flipped[index]! ^ (1 << index % 8);
      mutations.push({ family: "byte", label: `plaintext byte ${index} bit ${index % 8}`, input: flipped, path: [] });
    }
    mutations.push({ family: "byte", label: "a single space", input: new Uint8Array([0x20]), path: [] });
    mutations.push({ family: "byte", label: "byte order mark before the text", input: new Uint8Array([0xef, 0xbb, 0xbf, ...text]), path: [] });
    const result = await suite.run([restoring], mutations);
    expect(result.failures).toEqual([]);
    expect(result.mutations).toBe(text.length + 2);
    // Bit 7 of an ASCII byte leaves invalid UTF-8: an eighth of the flips.
    expect(result.outcomes.get("DECRYPTION_FAILED")).toBeGreaterThanOrEqual(Math.floor(text.length / 8));
  });

  it("reached every outcome the spec gives for payloads", (context) => {
    suite.expectReached(context, ["field", "byte"], ["accepted", "INVALID_ENVELOPE", "UNSUPPORTED_VERSION", "DECRYPTION_FAILED", "KEY_CONFLICT"]);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
