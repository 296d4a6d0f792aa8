/**
 * Story: a wrong recovery code.
 *
 * Alice restores her rooms on a new laptop, but the first attempts go wrong. She types the code
 * of an old recovery key she had thrown away (well-formed, but for another backup), then a word
 * that is not a recovery word, then too few words, then valid words whose checksum does not
 * match. Each attempt fails with its own code, restores nothing and says nothing about the words. Then
 * she types the right code carelessly (capitals, extra spaces, a line break) and everything comes
 * back.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  compactKeyBackup,
  createKeyBackup,
  createRecoveryKey,
  recoveryKeyFromCode,
  restoreKeyBackup,
  type RecoveryKey,
} from "../../src/index";
import { createWorld, Device, expectFailure, type FakeServer } from "./world";

/** BIP-39's all-zero 256-bit test vector: 23 × "abandon" and the checksum word "art". */
const ZERO_CODE = `${"abandon ".repeat(23)}art`;

describe("story: a wrong recovery code", () => {
  let server: FakeServer;
  let alicePhone: Device;
  let recoveryKey: RecoveryKey;
  let oldRecoveryKey: RecoveryKey;

  beforeAll(async () => {
    server = createWorld();
    alicePhone = await Device.register(server, "Alice's phone", "alice", "phone");
    alicePhone.createRoom("diary");
    await alicePhone.say("diary", "Dear diary.");
    recoveryKey = await createRecoveryKey();
    oldRecoveryKey = await createRecoveryKey();
    server.putBackup("alice", createKeyBackup({ keyrings: [alicePhone.keyring("diary")], recoveryKey: { publicKey: recoveryKey.publicKey } }));
  });

  it("refuses the well-formed code of another backup with WRONG_RECOVERY_CODE and restores nothing", async () => {
    const backup = server.backup("alice");
    await expectFailure(restoreKeyBackup({ backup, recoveryCode: oldRecoveryKey.code }), "WRONG_RECOVERY_CODE");
    await expectFailure(restoreKeyBackup({ backup, recoveryKey: oldRecoveryKey }), "WRONG_RECOVERY_CODE");
    await expectFailure(compactKeyBackup({ backup, recoveryCode: oldRecoveryKey.code }), "WRONG_RECOVERY_CODE");
  });

  it("refuses a word that is not a recovery word, without repeating it", async () => {
    const words = recoveryKey.code.split(" ");
    words[4] = "xylophonez";
    const error = await expectFailure(restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: words.join(" ") }), "INVALID_RECOVERY_CODE");
    expect(error.message).not.toContain("xylophonez");
    const typed = words.join(" ");
    for (let start = 0; start + 2 <= words.length; start++) {
      expect(error.message).not.toContain(words.slice(start, start + 2).join(" "));
    }
    expect(error.message).not.toContain(typed);
  });

  it("refuses too few or too many words", async () => {
    const words = recoveryKey.code.split(" ");
    await expectFailure(restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: words.slice(0, 23).join(" ") }), "INVALID_RECOVERY_CODE");
    await expectFailure(restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: [...words, "abandon"].join(" ") }), "INVALID_RECOVERY_CODE");
    await expectFailure(restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: "" }), "INVALID_RECOVERY_CODE");
  });

  it("refuses a code whose checksum fails, never deriving another key from it", async () => {
    expect(recoveryKeyFromCode(ZERO_CODE).publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // 24 × "abandon": valid words, but the last one's checksum bits are wrong.
    const mistyped = "abandon ".repeat(24).trim();
    await expectFailure(() => recoveryKeyFromCode(mistyped), "INVALID_RECOVERY_CODE");
    await expectFailure(restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: mistyped }), "INVALID_RECOVERY_CODE");
  });

  it("restores with the right code, typed carelessly, after the failed attempts", async () => {
    const sloppy = `  ${recoveryKey.code.toUpperCase().split(" ").join("   ").replace("   ", "\n")}  `;
    const newLaptop = await Device.register(server, "Alice's new laptop", "alice", "laptop");
    const keyrings = await restoreKeyBackup({ backup: server.backup("alice"), recoveryCode: sloppy });
    for (const keyring of keyrings) newLaptop.keyrings.set(keyring.roomId, keyring);
    expect(await newLaptop.read("diary")).toEqual(["Dear diary."]);
  });
});
