/**
 * Story: recovery with a passphrase instead of the 24 words.
 *
 * Alice would rather remember a passphrase than keep 24 words on paper. Her phone creates a
 * recovery key, protects it under her passphrase with scrypt and stores the protected key on
 * the server beside the encrypted backup. (The story uses scrypt N = 2^10, r = 1, p = 1 so it runs
 * quickly; the defaults are far more expensive, and the SDK says so.) On her new laptop she types
 * the passphrase, the recovery key unlocks, and her rooms come back. A wrong passphrase, a
 * tampered protected key, or the protected key of another recovery key restore nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_PASSPHRASE_KDF,
  createKeyBackup,
  createRecoveryKey,
  protectRecoveryKey,
  protectedRecoveryKeyNeedsUpgrade,
  restoreKeyBackup,
  unlockRecoveryKey,
  type ProtectedRecoveryKeyV1,
  type RecoveryKey,
} from "../../src/index";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

const FAST_KDF = { n: 1024, r: 1, p: 1 } as const;
/** "café" with a precomposed é (NFC). */
const PASSPHRASE = "meet me at the caf\u00e9 at noon";

describe("story: recovery with a passphrase", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let recoveryKey: RecoveryKey;
  let protectedKeyText: string;

  beforeAll(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    alicePhone.createRoom("letters");
    await alicePhone.say("letters", "Dear Bob, the roses are out.");
    recoveryKey = await createRecoveryKey();
    server.putBackup("alice", createKeyBackup({ keyrings: [alicePhone.keyring("letters")], recoveryKey }));
    protectedKeyText = JSON.stringify(await protectRecoveryKey(recoveryKey, PASSPHRASE, FAST_KDF));
  });

  const protectedKey = (): ProtectedRecoveryKeyV1 => JSON.parse(protectedKeyText) as ProtectedRecoveryKeyV1;

  it("unlocks the recovery key with the passphrase and restores the rooms on a new laptop", async () => {
    const newLaptop = await Device.register(server, "Alice's new laptop", "alice", "laptop");
    const unlocked = await unlockRecoveryKey(protectedKey(), PASSPHRASE);
    expect(unlocked.publicKey).toBe(recoveryKey.publicKey);
    expect(unlocked.code).toBe(recoveryKey.code);
    for (const keyring of await restoreKeyBackup({ backup: server.backup("alice"), recoveryKey: unlocked })) {
      newLaptop.keyrings.set(keyring.roomId, keyring);
    }
    expect(await newLaptop.read("letters")).toEqual(["Dear Bob, the roses are out."]);
  });

  it("accepts the passphrase however its accents are encoded", async () => {
    const decomposed = PASSPHRASE.normalize("NFD");
    expect(decomposed).not.toBe(PASSPHRASE);
    expect((await unlockRecoveryKey(protectedKey(), decomposed)).publicKey).toBe(recoveryKey.publicKey);
  });

  it("refuses a wrong passphrase with WRONG_RECOVERY_CODE and unlocks nothing", async () => {
    await expectFailure(unlockRecoveryKey(protectedKey(), "meet me at the cafe at noon"), "WRONG_RECOVERY_CODE");
    await expectFailure(unlockRecoveryKey(protectedKey(), `${PASSPHRASE} `), "WRONG_RECOVERY_CODE");
  });

  it("refuses a tampered protected key", async () => {
    const stored = protectedKey();
    const flip = (text: string): string => (text.startsWith("A") ? "B" : "A") + text.slice(1);
    await expectFailure(unlockRecoveryKey({ ...stored, nonce: flip(stored.nonce) }, PASSPHRASE), "WRONG_RECOVERY_CODE");
    await expectFailure(unlockRecoveryKey({ ...stored, ciphertext: flip(stored.ciphertext) }, PASSPHRASE), "WRONG_RECOVERY_CODE");
    await expectFailure(unlockRecoveryKey({ ...stored, kdf: { ...stored.kdf, salt: flip(stored.kdf.salt) } }, PASSPHRASE), "WRONG_RECOVERY_CODE");
    await expectFailure(unlockRecoveryKey({ ...stored, kdf: { ...stored.kdf, n: 2048 } }, PASSPHRASE), "WRONG_RECOVERY_CODE");
    const other = await createRecoveryKey();
    await expectFailure(unlockRecoveryKey({ ...stored, publicKey: other.publicKey }, PASSPHRASE), "WRONG_RECOVERY_CODE");
    await expectFailure(unlockRecoveryKey({ ...stored, kdf: { ...stored.kdf, n: 1000 } }, PASSPHRASE), "INVALID_ENVELOPE");
    await expectFailure(unlockRecoveryKey({ ...stored, v: 2 }, PASSPHRASE), "UNSUPPORTED_VERSION");
  });

  it("unlocks another recovery key's protected key, which then does not open this backup", async () => {
    const other = await createRecoveryKey();
    const otherProtected = await protectRecoveryKey(other, PASSPHRASE, FAST_KDF);
    const unlocked = await unlockRecoveryKey(otherProtected, PASSPHRASE);
    await expectFailure(restoreKeyBackup({ backup: server.backup("alice"), recoveryKey: unlocked }), "WRONG_RECOVERY_CODE");
  });

  it("stores neither the passphrase nor the words, and asks for an upgrade of the cheap parameters", () => {
    expect(protectedKeyText).not.toContain(PASSPHRASE);
    // Words would need spaces between them; the stored JSON has none.
    expect(protectedKeyText).not.toContain(" ");
    expect(Object.keys(protectedKey()).sort()).toEqual(["ciphertext", "kdf", "nonce", "publicKey", "type", "v"]);
    expect(protectedKey().kdf).toMatchObject({ name: "scrypt", ...FAST_KDF });
    expect(protectedRecoveryKeyNeedsUpgrade(protectedKey())).toBe(true);
    expect(protectedRecoveryKeyNeedsUpgrade(protectedKey(), FAST_KDF)).toBe(false);
    expect(DEFAULT_PASSPHRASE_KDF).toEqual({ n: 2 ** 17, r: 8, p: 1 });
  });
});
