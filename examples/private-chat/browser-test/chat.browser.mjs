// The browser test of the private chat (`pnpm test:browser` from the repository root, which builds
// the packages and web/ first). Not a *.test.ts file: `pnpm test` never needs a browser.
//
// It starts web-server.mjs on a free port with a SQLite file, drives Debian's Chromium
// (/usr/bin/chromium, never a downloaded browser) with playwright-core, and tells the story:
// Alice and Bob exchange messages in room-42 with Carol reading; Alice removes Carol (the key
// rotates) and Carol cannot read what follows; key shares are made on Chromium's WebCrypto X25519
// and Ed25519 (shareRoomKeyAsync); Bob's history survives a reload (keys in
// IndexedDB); Bob's new device shows "unable to decrypt: UNKNOWN_KEY" until he restores his keys
// from his recovery code; the database holds no message body. Screenshots go to ../artifacts/.
import { Buffer } from "node:buffer";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { chromium } from "playwright-core";
import { startChatServer } from "../web-server.mjs";

const WAIT_MS = 10_000;
const TOTAL_MS = 120_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];
const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
const ROOM = "room-42";
const BODIES = {
  alice1: "Hi Bob, hi Carol: this room is private.",
  bob1: "Only the three of us can read this.",
  alice2: "Carol has left; new key from here on.",
  bob2: "Bob rotates once before he sends again.",
};

let currentStep = "start";
const started = Date.now();
/** @type {Map<string, import("playwright-core").Page>} */
const pages = new Map();
const pageErrors = [];
let shot = 0;

function step(name) {
  currentStep = name;
  process.stdout.write(`  - ${name}\n`);
}

/** Saves a screenshot of one page (`who`), or of every page when `who` is "all". */
async function screenshot(who, label) {
  for (const [name, page] of pages) {
    if (who !== "all" && who !== name) continue;
    shot += 1;
    await page.screenshot({ path: join(ARTIFACTS, `${String(shot).padStart(2, "0")}-${label}-${name}.png`), fullPage: true });
  }
}

/** Waits for an element with this data-testid containing `text`. */
async function waitForTestId(page, testId, text) {
  await page.getByTestId(testId).filter({ hasText: text }).first().waitFor({ timeout: WAIT_MS });
}

/** Waits until the page shows a decrypted message with this body. */
async function waitForMessage(page, body) {
  await page.locator('[data-testid="message"]').filter({ hasText: body }).first().waitFor({ timeout: WAIT_MS });
}

/** Waits until `count()` returns `expected`. */
async function waitForCount(locator, expected, what) {
  const deadline = Date.now() + WAIT_MS;
  let count = await locator.count();
  while (count !== expected) {
    if (Date.now() > deadline) throw new Error(`expected ${expected} ${what}, found ${count}`);
    await sleep(50);
    count = await locator.count();
  }
}

async function statusOf(page) {
  return (await page.getByTestId("status").textContent()) ?? "";
}

async function signIn(page, url, userId, deviceId) {
  await page.goto(url);
  await page.getByTestId("user-input").fill(userId);
  await page.getByTestId("device-input").fill(deviceId);
  await page.getByTestId("sign-in").click();
  await waitForTestId(page, "whoami", `${userId}/${deviceId}`);
}

async function send(page, body) {
  await page.getByTestId("message-input").fill(body);
  await page.getByTestId("send").click();
  await waitForMessage(page, body);
}

async function member(page, action, userId) {
  await page.getByTestId("member-input").fill(userId);
  await page.getByTestId(`${action}-member`).click();
  await waitForTestId(page, "status", `${action === "add" ? "added" : "removed"} ${userId}`);
  // Chromium has X25519 and Ed25519 in WebCrypto: the shares must have been made there, after the
  // SDK's self-test, and not on noble.
  if (action === "add" && !(await statusOf(page)).includes("(curves: webcrypto)")) throw new Error(`key shares not made on WebCrypto: ${await statusOf(page)}`);
}

async function main() {
  await mkdir(ARTIFACTS, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), "private-chat-browser-"));
  const databasePath = join(dataDir, "relay.sqlite");
  const chat = await startChatServer({ databasePath });
  process.stdout.write(`private chat browser test: ${chat.url} (SQLite ${databasePath}), Chromium ${CHROMIUM}\n`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: WAIT_MS });
  let recoveryCode = "";
  /** Room keys and device secret keys (base64url) as each browser stored them. */
  const keySecrets = [];
  try {
    const open = async (name) => {
      const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on("pageerror", (error) => pageErrors.push(`${name}: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(`${name}: console: ${message.text()}`);
      });
      pages.set(name, page);
      return page;
    };
    const alice = await open("alice");
    const bob = await open("bob");
    const carol = await open("carol");

    step("alice, bob and carol sign in, each in a browser context of their own");
    await signIn(alice, chat.url, "alice", "laptop");
    await signIn(bob, chat.url, "bob", "phone");
    await signIn(carol, chat.url, "carol", "phone");

    step(`alice creates ${ROOM} and adds bob and carol (key version 1 shared)`);
    await alice.getByTestId("room-input").fill(ROOM);
    await alice.getByTestId("create-room").click();
    await waitForTestId(alice, "current-room", ROOM);
    await member(alice, "add", "bob");
    await member(alice, "add", "carol");
    await waitForTestId(alice, "members", "alice, bob, carol");
    for (const page of [bob, carol]) {
      await waitForTestId(page, "current-room", ROOM);
      await waitForTestId(page, "key-version", "1");
    }

    step("alice and bob exchange messages; carol reads them");
    await send(alice, BODIES.alice1);
    await waitForMessage(bob, BODIES.alice1);
    await waitForMessage(carol, BODIES.alice1);
    await send(bob, BODIES.bob1);
    await waitForMessage(alice, BODIES.bob1);
    await waitForMessage(carol, BODIES.bob1);
    await screenshot("all", "conversation");

    step("bob creates a recovery code (his key backup goes to the relay, encrypted)");
    await bob.getByTestId("create-recovery").click();
    await waitForTestId(bob, "status", "recovery code created");
    recoveryCode = ((await bob.getByTestId("recovery-code").textContent()) ?? "").trim();
    if (recoveryCode.split(/\s+/).length !== 24) throw new Error(`expected a 24-word recovery code, got ${recoveryCode.split(/\s+/).length} words`);

    step("alice removes carol: the key rotates to version 2, shared with alice's and bob's devices only");
    await member(alice, "remove", "carol");
    await waitForTestId(alice, "key-version", "2");
    await waitForTestId(alice, "members", "alice, bob");
    await waitForTestId(carol, "room-state", "you were removed");
    await waitForTestId(bob, "key-version", "2");

    step("alice writes after the removal: bob reads it, carol does not");
    await send(alice, BODIES.alice2);
    await waitForMessage(bob, BODIES.alice2);
    await sleep(500);
    if ((await carol.content()).includes(BODIES.alice2)) throw new Error("carol's page shows a message sent after her removal");
    await carol.getByTestId("room-input").fill(ROOM);
    await carol.getByTestId("open-room").click();
    await waitForTestId(carol, "status", "NOT_MEMBER");
    if ((await carol.content()).includes(BODIES.alice2)) throw new Error("carol's page shows a message sent after her removal");
    await screenshot("carol", "removed");

    step("bob writes: his device rotates once after the removal (version 3), alice reads it");
    await send(bob, BODIES.bob2);
    await waitForTestId(bob, "key-version", "3");
    await waitForMessage(alice, BODIES.bob2);

    step("bob reloads: his device and keys come back from IndexedDB, the history is readable");
    await bob.reload();
    await waitForTestId(bob, "whoami", "bob/phone");
    for (const body of Object.values(BODIES)) await waitForMessage(bob, body);
    await waitForCount(bob.getByTestId("undecryptable"), 0, '"unable to decrypt" items on bob/phone after the reload');
    await screenshot("bob", "reloaded");

    step('bob signs in on a new device: "unable to decrypt: UNKNOWN_KEY" for every message');
    const tablet = await open("bob-tablet");
    await signIn(tablet, chat.url, "bob", "tablet");
    await tablet.getByTestId("room-input").fill(ROOM);
    await tablet.getByTestId("open-room").click();
    await waitForTestId(tablet, "current-room", ROOM);
    const undecryptable = tablet.getByTestId("undecryptable");
    await waitForCount(undecryptable, Object.keys(BODIES).length, '"unable to decrypt" items on bob/tablet');
    await waitForCount(tablet.getByTestId("undecryptable").filter({ hasText: "unable to decrypt: UNKNOWN_KEY" }), Object.keys(BODIES).length, '"unable to decrypt: UNKNOWN_KEY" items');
    await screenshot("bob-tablet", "before-restore");

    step("bob restores his keys on the new device from the recovery code and reads the whole history");
    await tablet.getByTestId("recovery-input").fill(recoveryCode);
    await tablet.getByTestId("restore").click();
    await waitForTestId(tablet, "status", `restored keys for: ${ROOM}`);
    for (const body of Object.values(BODIES)) await waitForMessage(tablet, body);
    await waitForCount(undecryptable, 0, '"unable to decrypt" items on bob/tablet after the restore');
    await screenshot("bob-tablet", "restored");

    step("every browser's secret keys are read back from its IndexedDB, to look for them in the database");
    for (const page of pages.values()) keySecrets.push(...(await page.evaluate(readSecretsFromIndexedDb)));
    if (keySecrets.length === 0) throw new Error("found no key material in the browsers' IndexedDB");

    if (pageErrors.length > 0) throw new Error(`the page reported an error: ${pageErrors[0]}`);
  } catch (error) {
    await screenshot("all", "failure").catch(() => undefined);
    for (const [name, page] of pages) process.stdout.write(`  status on ${name}: ${await statusOf(page).catch(() => "?")}\n`);
    throw error;
  } finally {
    await browser.close();
    await chat.close();
  }

  step("the relay's database holds no message body, no recovery code and no key");
  const db = new Database(databasePath, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all().map((row) => row.name);
    const secrets = [...Object.values(BODIES), ...keySecrets, recoveryCode, ...recoveryCode.split(/\s+/).slice(0, 4).map((word, i, words) => words.slice(i).join(" ")).filter((s) => s.includes(" "))];
    let cells = 0;
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all()) {
        for (const [column, value] of Object.entries(row)) {
          cells += 1;
          const text = Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
          const found = secrets.find((secret) => secret.length > 0 && text.includes(secret));
          if (found !== undefined) throw new Error(`table ${table}, column ${column} holds a secret (plaintext or key material, ${found.length} characters)`);
        }
      }
    }
    const stored = db.prepare("SELECT COUNT(*) AS n FROM messages").get().n;
    if (stored !== Object.keys(BODIES).length) throw new Error(`expected ${Object.keys(BODIES).length} stored envelopes, found ${stored}`);
    process.stdout.write(`  ${stored} envelopes and ${cells} cells in ${tables.length} tables checked against ${keySecrets.length} keys and the message bodies: no plaintext, no key\n`);
  } finally {
    db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const timer = setTimeout(() => {
  process.stderr.write(`browser test failed at "${currentStep}": took longer than ${TOTAL_MS / 1000} s\n`);
  process.exit(1);
}, TOTAL_MS);
timer.unref();

main()
  .then(() => {
    process.stdout.write(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${ARTIFACTS}\n`);
    process.exit(0);
  })
  .catch((error) => {
    const reason = String(error?.message ?? error).split("\n")[0];
    process.stderr.write(`browser test failed at "${currentStep}": ${reason}\n`);
    process.exit(1);
  });

/**
 * Runs in the page: every secret key the SDK saved in IndexedDB (keyring states' `key` fields
 * and device identities' secret keys), as base64url strings.
 */
async function readSecretsFromIndexedDb() {
  const { indexedDB } = globalThis; // runs in the page, not in Node
  const found = [];
  const walk = (value, name) => {
    if (typeof value === "string" && ["key", "agreementSecretKey", "signingSecretKey"].includes(name)) found.push(value);
    else if (Array.isArray(value)) value.forEach((item) => walk(item, name));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    if (db.objectStoreNames.contains("keys")) {
      const values = await new Promise((resolve, reject) => {
        const request = db.transaction("keys", "readonly").objectStore("keys").getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      walk(values, "");
    }
    db.close();
  }
  return found;
}
