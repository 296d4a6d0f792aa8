// The secret-hygiene check (test/support/secret-hygiene*.ts) finds what it claims to find. The
// detector is tested on its own; the live hooks of this worker are tested through
// `captureLeaks`, which diverts their findings to the test instead of failing this file; and a
// child vitest run of a deliberately leaking fixture shows that a leak fails a whole run.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { format, inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  RoomKeyring,
  createDeviceIdentity,
  createRecoveryKey,
  decryptChatJson,
  encryptChatJson,
  exportAesGcmKeyToBase64,
  generateAesGcmKey,
} from "@domvia/realtime-e2ee";
import { KNOWN_PLAINTEXTS, SecretIndex, secretMarker } from "./support/secret-hygiene";
import { captureLeaks, secretIndex } from "./support/secret-hygiene-setup";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

function randomKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** An index of one key (not the worker's: these tests must not depend on what else was drawn). */
function indexOf(key: Uint8Array): SecretIndex {
  const index = new SecretIndex({ mnemonic: (entropy) => `mnemonic-of-${hex(entropy)}`.replace(/(.{6})/g, "$1 ") });
  index.learnKey(key, "the test key");
  return index;
}

describe("the secret index", () => {
  const key = randomKey();
  const index = indexOf(key);
  const buffer = Buffer.from(key);

  it.each([
    ["standard base64", buffer.toString("base64")],
    ["base64url", buffer.toString("base64url")],
    ["lower-case hex", buffer.toString("hex")],
    ["upper-case hex", buffer.toString("hex").toUpperCase()],
    ["Node's Buffer inspection", inspect(buffer)],
    ["a Uint8Array's inspection", inspect(new Uint8Array(key))],
    ["String() of the bytes", String(new Uint8Array(key))],
    ["JSON of the bytes", JSON.stringify(new Uint8Array(key))],
    ["the bytes inside a longer base64 blob, 1 byte in", Buffer.concat([Buffer.from([7]), buffer, Buffer.from([9, 9])]).toString("base64")],
    ["the bytes inside a longer base64url blob, 2 bytes in", Buffer.concat([Buffer.from([7, 8]), buffer, Buffer.from([9])]).toString("base64url")],
    ["the bytes inside a longer hex string", `00ff${buffer.toString("hex")}ee`],
    ["24 characters of its base64url", buffer.toString("base64url").slice(10, 34)],
    ["12 of its bytes as numbers", `got [${Array.from(key.subarray(20, 32)).join(", ")}]`],
  ])("finds the key written as %s", (_name, written) => {
    const matches = index.scan(`prefix ${written} suffix`);
    expect(matches.map((match) => match.secret.label)).toContain("the test key");
  });

  it("finds its recovery code", () => {
    const code = `mnemonic-of-${hex(key)}`.replace(/(.{6})/g, "$1 ");
    expect(index.scan(`your code: ${code}`)[0]?.encoding).toBe("recovery code");
  });

  it("does not take a short piece, another key or unrelated text for the key", () => {
    const other = Buffer.from(randomKey());
    const texts = [
      buffer.toString("base64url").slice(0, 16),
      buffer.toString("hex").slice(0, 20),
      String(new Uint8Array(key.subarray(0, 8))),
      other.toString("base64"),
      other.toString("hex"),
      String(new Uint8Array(other)),
      "decryption failed: no key for room \"room-1\", key id \"v1-abc\", version 1",
    ];
    for (const text of texts) expect(index.scan(text)).toEqual([]);
  });

  it("knows no false positive among many keys and random text", () => {
    // node:crypto, not getRandomValues: these keys are not for this worker's collector to learn.
    const many = new SecretIndex();
    for (let i = 0; i < 2000; i++) many.learnKey(randomBytes(32), `key ${i}`);
    const noise = randomBytes(60_000);
    expect(many.scan(noise.toString("base64") + noise.toString("hex") + String(new Uint8Array(noise)))).toEqual([]);
  });

  it("finds plaintext markers and the suites' known plaintexts", () => {
    const marker = secretMarker("index test");
    expect(new SecretIndex().scan(`{"body":"${marker}"}`)[0]?.secret.label).toBe("a secret marker");
    for (const plaintext of KNOWN_PLAINTEXTS) expect(new SecretIndex().scan(`… ${plaintext} …`)).toHaveLength(1);
    expect(() => secretMarker("")).toThrow(RangeError);
  });

  it("reports an excerpt without the secret or any other key-like run", () => {
    const text = `key ${buffer.toString("base64url")} and unknown ${Buffer.from(randomKey()).toString("base64url")} and ${secretMarker("excerpt")}`;
    const excerpt = index.redactedExcerpt(text, index.scan(text)[0]!);
    // A key whose base64url has no "-" or "_" is valid base64 too, and is named so.
    expect(excerpt).toMatch(/\[(?:base64 or )?base64url of a key\]/);
    expect(excerpt).not.toMatch(/[A-Za-z0-9_-]{20,}/);
    expect(excerpt).not.toContain("SECRET-MARKER(");
  });

  it("tells secrets a value shows through plain data from ones behind a class instance", () => {
    const text = buffer.toString("base64url");
    class Holder {
      toJSON(): string {
        return text;
      }
    }
    expect(index.secretsIn({ state: [{ key: text }] }).size).toBe(1);
    expect(index.secretsIn(new Map([["k", new Uint8Array(key)]])).size).toBe(1);
    expect(index.secretsIn({ holder: new Holder() }).size).toBe(0);
  });
});

describe("the live collector of this worker", () => {
  it("learns every 32-byte random draw, the room keys the SDK generates among them", async () => {
    const key = await generateAesGcmKey();
    const exported = await exportAesGcmKeyToBase64(key);
    expect(secretIndex().scan(`leaked ${exported}`)).toHaveLength(1);
    expect(secretIndex().scan(`not a key ${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`)).toEqual([]);
  });

  it("catches an SDK error message that quotes a key (here through a key id)", async () => {
    const key = await generateAesGcmKey();
    const keyId = Buffer.from(await exportAesGcmKeyToBase64(key), "base64").toString("base64url");
    const envelope = await encryptChatJson({ body: "hello" }, key, { roomId: "room-1", messageId: "msg-1", keyId, keyVersion: 1 });
    const leaks = await captureLeaks(() => decryptChatJson(envelope, () => undefined, { roomId: "room-1", messageId: "msg-1" }));
    expect(leaks).toEqual([
      expect.objectContaining({ sink: "error message", encoding: expect.stringMatching(/base64/), origin: expect.stringMatching(/^packages\/crypto\/src\/chat\.ts:/) }),
      expect.objectContaining({ sink: "error .keyId", encoding: expect.stringMatching(/base64/) }),
    ]);
    expect(leaks[0]!.secret).toMatch(/^32-byte random draw #\d+ \(drawn in "the live collector/);
    expect(JSON.stringify(leaks)).not.toContain(keyId.slice(0, 20));
  });

  it("leaves a test's own error messages to the test, unless asked", async () => {
    const exported = await exportAesGcmKeyToBase64(await generateAesGcmKey());
    const own = (): Error => new Error(`expected something else than ${exported}`);
    expect(await captureLeaks(own)).toEqual([]);
    expect(await captureLeaks(own, { includeTestCode: true })).toEqual([expect.objectContaining({ sink: "error message", encoding: expect.stringMatching(/base64/) })]);
  });

  it("catches a secret in a log line, whoever logs it, and withholds the line", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const recoveryKey = await createRecoveryKey();
    const leaks = await captureLeaks(() => {
      console.log("state", device.exportState());
      console.error(`code: ${recoveryKey.code}`);
      process.stdout.write(`private: ${secretMarker("stdout")}\n`);
    });
    expect(leaks.map((leak) => [leak.sink, leak.encoding.replace(/.*base64.*/, "base64")])).toEqual([
      ["console.log", "base64"], // the agreement secret key
      ["console.log", "base64"], // the signing secret key
      ["console.error", "recovery code"],
      ["process.stdout.write", "text"],
    ]);
  });

  it("catches a serialisation that shows a secret its input did not", async () => {
    const exported = await exportAesGcmKeyToBase64(await generateAesGcmKey());
    class LeakyKey {
      toJSON(): string {
        return exported;
      }
      [inspect.custom](): string {
        return `LeakyKey(${exported})`;
      }
    }
    const leaky = new LeakyKey();
    const leaks = await captureLeaks(() => [JSON.stringify({ key: leaky }), inspect([leaky]), format("%o", leaky)]);
    expect(leaks.map((leak) => leak.sink)).toEqual(["JSON.stringify", "util.inspect", "util.format"]);
    // Plain data that already holds the key, such as an exported state, serialises freely.
    expect(await captureLeaks(() => [JSON.stringify({ state: { key: exported } }), inspect({ key: exported })])).toEqual([]);
  });

  it("finds nothing in the printed forms of the SDK's secret-holding objects", async () => {
    const roomKey = await generateAesGcmKey();
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const recoveryKey = await createRecoveryKey();
    const keyring = RoomKeyring.create({ roomId: "room-1" });
    const leaks = await captureLeaks(() => {
      for (const value of [roomKey, device, recoveryKey, keyring]) {
        const shown = [JSON.stringify(value), String(value), `${value}`, inspect(value, { showHidden: true, depth: Infinity }), format("%o %O %j", value, value, value)];
        console.log(shown.join("\n"));
      }
    });
    expect(leaks).toEqual([]);
  });

  it("keeps errors intact: class, instanceof, stack without the collector's frame", () => {
    const error = new TypeError("plain");
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(Error);
    expect(Object.prototype.toString.call(error)).toBe("[object Error]");
    expect(error.stack?.split("\n")[1]).toContain("secret-hygiene.test.ts");
    expect(error.stack).not.toContain("secret-hygiene-setup");
  });
});

describe("a run with a leak", () => {
  it("fails, naming the file and the secret without printing it", async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST")));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        ["node_modules/vitest/vitest.mjs", "run", "--config", "test/support/secret-hygiene-fixture.config.ts"],
        { cwd: REPO_ROOT, env: { ...env, NO_COLOR: "1" }, timeout: 120_000 },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, output: `${stdout}\n${stderr}` }),
      );
    });
    expect(code, output).toBe(1);
    expect(output).toContain("secret hygiene: 3 secret(s) left the SDK in test/support/secret-hygiene.fixture.ts");
    expect(output).toMatch(/error message built by packages\/crypto\/src\/chat\.ts:\d+:\d+ in "[^"]+": base64[a-z0-9 ]* of 32-byte random draw/);
    expect(output).toContain("[secret hygiene: a console.log line was withheld because it held a secret]");
    expect(output).toContain("secret hygiene: 3 secret(s) left the SDK during the run");
    expect(output).not.toMatch(/[A-Za-z0-9_-]{43}/);
    expect(output).not.toContain("SECRET-MARKER(");
  }, 120_000);
});
