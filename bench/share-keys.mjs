// Cost of the key lifecycle, measured through the built façade as an app would use it:
// sharing one key version with 10, 100 and 1,000 devices (cold: the bundles' self-signatures
// are verified on first sight; warm: already verified, as on every later rotation), accepting a
// share, restoring a backup of 10,000 key versions across 100 rooms, and unlocking a
// passphrase-protected recovery key at the default scrypt cost.
//
// Run from the repository root, after a build (the workspace must be installed, so that
// bench/node_modules links @domvia/realtime-e2ee):
//   pnpm build && node bench/share-keys.mjs
// Prints a markdown table and writes bench/results/share-keys.md. Timing stays out of tests.
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_PASSPHRASE_KDF,
  RoomKeyring,
  acceptRoomKeyShare,
  addToKeyBackup,
  createDeviceIdentity,
  createKeyBackup,
  createRecoveryKey,
  protectRecoveryKey,
  restoreKeyBackup,
  shareRoomKey,
  unlockRecoveryKey,
} from "@domvia/realtime-e2ee";

const SHARE_SIZES = [
  { devices: 10, runs: 20 },
  { devices: 100, runs: 10 },
  { devices: 1000, runs: 3 },
];
const BACKUP_ROOMS = 100;
const VERSIONS_PER_ROOM = 100;
const RESTORE_RUNS = 5;
const UNLOCK_RUNS = 5;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function time(operation) {
  const start = performance.now();
  await operation();
  return performance.now() - start;
}

function formatMs(ms) {
  if (ms >= 100) return `${Math.round(ms).toLocaleString("en-US")} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** One table row: the median (what to expect), the fastest run (least disturbed by other load). */
function row(operation, times, notes) {
  return [operation, formatMs(median(times)), formatMs(Math.min(...times)), String(times.length), notes];
}

function formatBytes(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Public bundles as a server hands them out: plain JSON, not the SDK's objects. */
async function createBundles(count, prefix) {
  const bundles = [];
  for (let index = 0; index < count; index++) {
    const device = await createDeviceIdentity({ userId: `${prefix}-user-${index}`, deviceId: "phone" });
    bundles.push(JSON.parse(JSON.stringify(device.publicBundle)));
  }
  return bundles;
}

const loadAtStart = os.loadavg()[0];
const rows = [];
const sender = await createDeviceIdentity({ userId: "bench-sender", deviceId: "laptop" });

// Warm-up, unmeasured: let the JIT compile the share path before the clock runs.
{
  const keyring = RoomKeyring.create({ roomId: "bench-warm-up" });
  for (let run = 0; run < 5; run++) shareRoomKey({ keyring, from: sender, to: await createBundles(20, `warm-up-${run}`) });
}

for (const { devices, runs } of SHARE_SIZES) {
  const keyring = RoomKeyring.create({ roomId: `bench-share-${devices}` });
  const cold = [];
  const warm = [];
  for (let run = 0; run < runs; run++) {
    // Fresh bundles each run, created before the clock starts, so none was verified before.
    const bundles = await createBundles(devices, `share-${devices}-${run}`);
    cold.push(await time(() => shareRoomKey({ keyring, from: sender, to: bundles })));
    keyring.rotate({ reason: "manual" });
    warm.push(await time(() => shareRoomKey({ keyring, from: sender, to: bundles })));
  }
  const count = devices.toLocaleString("en-US");
  rows.push(row(`share one version with ${count} devices, cold (bundles verified)`, cold, `${formatMs(median(cold) / devices)} per device`));
  rows.push(row(`share one version with ${count} devices, warm (later rotation)`, warm, `${formatMs(median(warm) / devices)} per device`));
}

{
  // The recipient side: verify the share's signature, open it with HPKE, add it to the keyring.
  const recipients = [];
  for (let index = 0; index < 100; index++) {
    recipients.push(await createDeviceIdentity({ userId: `accept-user-${index}`, deviceId: "phone" }));
  }
  const keyring = RoomKeyring.create({ roomId: "bench-accept" });
  const shares = shareRoomKey({ keyring, from: sender, to: recipients.map((device) => device.publicBundle) });
  const senderBundle = JSON.parse(JSON.stringify(sender.publicBundle));
  const times = [];
  for (const [index, device] of recipients.entries()) {
    const target = RoomKeyring.empty({ roomId: "bench-accept" });
    const share = JSON.parse(JSON.stringify(shares[index]));
    times.push(await time(() => acceptRoomKeyShare({ isRoomMember: () => true, share, device, senderBundle, keyring: target })));
  }
  rows.push(row("accept one share (recipient side)", times, "one share each for 100 devices"));
}

{
  const keyrings = [];
  for (let room = 0; room < BACKUP_ROOMS; room++) {
    const keyring = RoomKeyring.create({ roomId: `bench-room-${room}` });
    for (let version = 2; version <= VERSIONS_PER_ROOM; version++) keyring.rotate({ reason: "manual" });
    keyrings.push(keyring);
  }
  const totalVersions = BACKUP_ROOMS * VERSIONS_PER_ROOM;
  const recoveryKey = await createRecoveryKey();
  const backupPublicKey = { publicKey: recoveryKey.publicKey };

  let oneChunk;
  const createMs = await time(() => {
    oneChunk = createKeyBackup({ keyrings, recoveryKey: backupPublicKey });
  });
  // As a backup grows in practice: one append per room, by a device holding only the public key.
  let appended = createKeyBackup({ keyrings: [], recoveryKey: backupPublicKey });
  for (const keyring of keyrings) appended = addToKeyBackup({ backup: appended, recoveryPublicKey: recoveryKey.publicKey, keyrings: [keyring] });

  const versionsLabel = `${totalVersions.toLocaleString("en-US")} versions, ${BACKUP_ROOMS} rooms`;
  rows.push(row(`create a backup of ${versionsLabel}`, [createMs], `1 chunk, ${formatBytes(JSON.stringify(oneChunk).length)} of JSON`));
  for (const [backup, label] of [
    [oneChunk, "1 chunk"],
    [appended, `${appended.chunks.length} chunks, one append per room`],
  ]) {
    const text = JSON.stringify(backup);
    const times = [];
    for (let run = 0; run < RESTORE_RUNS; run++) {
      // From the JSON text a server returns, with the 24-word code the user types.
      times.push(
        await time(async () => {
          const restored = await restoreKeyBackup({ backup: JSON.parse(text), recoveryCode: recoveryKey.code });
          if (restored.length !== BACKUP_ROOMS) throw new Error("restore returned the wrong number of rooms");
        }),
      );
    }
    rows.push(row(`restore a backup of ${versionsLabel} (${label})`, times, "from JSON text, with the 24-word code"));
  }
}

{
  const recoveryKey = await createRecoveryKey();
  let protectedKey;
  const protectMs = await time(async () => {
    protectedKey = await protectRecoveryKey(recoveryKey, "correct horse battery staple");
  });
  const times = [];
  for (let run = 0; run < UNLOCK_RUNS; run++) {
    times.push(await time(() => unlockRecoveryKey(protectedKey, "correct horse battery staple")));
  }
  const { n, r, p } = DEFAULT_PASSPHRASE_KDF;
  const kdf = `scrypt N = 2^${Math.log2(n)}, r = ${r}, p = ${p}`;
  rows.push(row(`protect a recovery key with a passphrase (default ${kdf})`, [protectMs], "128 MiB of memory"));
  rows.push(row(`unlock a recovery key with its passphrase (default ${kdf})`, times, "128 MiB of memory"));
}

const cpus = os.cpus();
const machine = `${cpus[0]?.model.trim() ?? "unknown CPU"}, ${cpus.length} logical CPUs, ${Math.round(os.totalmem() / 1024 ** 3)} GiB RAM`;
const platform = `Node ${process.version} on ${os.platform()} ${os.release()} (${os.arch()})`;
const date = new Date().toISOString().slice(0, 10);
// Other work on the machine slows every row: the load average says how quiet it was.
const load = `${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end (1-minute load average, ${cpus.length} CPUs)`;

const table = [
  "| operation | median | fastest | runs | notes |",
  "| --- | ---: | ---: | ---: | --- |",
  ...rows.map((row) => `| ${row.join(" | ")} |`),
].join("\n");

const report = `# Key lifecycle cost

Measured by \`node bench/share-keys.mjs\` through the built \`@domvia/realtime-e2ee\` (pure JS:
\`@noble/curves\`, \`@noble/ciphers\`, \`@noble/hashes\`) in one process, after an unmeasured
warm-up of the share path. Each share run uses bundles created before the clock starts. The
fastest run is the one least disturbed by other work on the machine.

- Machine: ${machine}
- Platform: ${platform}
- Date: ${date}
- Load: ${load}

${table}
`;

console.log(report);
const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
await mkdir(resultsDir, { recursive: true });
await writeFile(`${resultsDir}share-keys.md`, report);
console.log(`Wrote ${resultsDir}share-keys.md`);
