// Cost of the key lifecycle, measured through the built façade as an app would use it, on the
// native path (Node's default) and the pure-JS path (what browsers and React Native run):
// sharing one key version with 10, 100 and 1,000 devices (cold: the bundles' self-signatures are
// verified on first sight; warm: already verified, as on every later rotation), accepting a share,
// creating and restoring a backup of 10,000 key versions across 100 rooms, and unlocking a
// passphrase-protected recovery key at the default scrypt cost (the deliberate KDF).
//
// Part of `pnpm bench` (bench/run.mjs, which writes bench/results/latest.md). Run alone, after a
// build, it prints its own table and writes nothing:
//   pnpm build && node bench/share-keys.mjs [--short]
// Timing stays out of tests.
import { createPublicKey, diffieHellman, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, webcrypto } from "node:crypto";
import { pathToFileURL } from "node:url";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { formatBytes, formatMs, formatRatio, isShortRun, markdownTable, median, loadNativeSwitch, time } from "./common.mjs";

export const KEY_LIFECYCLE_SETTINGS = Object.freeze({
  full: {
    share: [
      { devices: 10, runs: 20 },
      { devices: 100, runs: 10 },
      { devices: 1000, runs: 5 },
    ],
    acceptDevices: 100,
    backupRooms: 100,
    versionsPerRoom: 100,
    restoreRuns: 5,
    unlockRuns: 3,
  },
  short: {
    share: [
      { devices: 10, runs: 2 },
      { devices: 50, runs: 1 },
    ],
    acceptDevices: 10,
    backupRooms: 10,
    versionsPerRoom: 100,
    restoreRuns: 1,
    unlockRuns: 1,
  },
});

/** Public bundles as a server hands them out: plain JSON, not the SDK's objects. */
async function createBundles(api, count, prefix) {
  const bundles = [];
  for (let index = 0; index < count; index++) {
    const device = await api.createDeviceIdentity({ userId: `${prefix}-user-${index}`, deviceId: "phone" });
    bundles.push(JSON.parse(JSON.stringify(device.publicBundle)));
  }
  return bundles;
}

/** Bytes Ed25519 signs for one share (context, enc and ciphertext) and for one bundle, about. */
const SHARE_SIGNED_BYTES = 400;
const BUNDLE_SIGNED_BYTES = 250;

const random = (length) => webcrypto.getRandomValues(new Uint8Array(length));

/**
 * The reference for sharing: the asymmetric operations every share needs, alone, on the same
 * path and library as the SDK (node:crypto natively, noble in pure JS), for `devices` recipients:
 * a fresh X25519 key pair, the X25519 agreement with the recipient's key and one Ed25519
 * signature (`warm`); and the Ed25519 check of each recipient bundle's self-signature, which a
 * cold share adds (`verify`). No HPKE key schedule, AEAD, encoding, checks or key imports beyond
 * these: a floor, not a competing implementation. Natively the ephemeral key comes from
 * `generateKeyPairSync`, as raw node:crypto code would make it, and recipients' X25519 keys are
 * imported beforehand, as the SDK's key cache holds them on a later rotation.
 *
 * Returns a function that times both loops, `{ warm, verify }`; the inputs are built here, once,
 * so the runs that time them make no garbage of their own before the clock starts.
 */
function primitivesFloor(path, devices) {
  const shareMessage = random(SHARE_SIGNED_BYTES);
  const bundleMessage = random(BUNDLE_SIGNED_BYTES);
  const operations = path === "native" ? nodeCryptoOperations() : nobleOperations();
  const sender = operations.signingKey();
  const recipients = Array.from({ length: devices }, () => operations.recipient(bundleMessage));
  return async () => ({
    warm: await time(() => {
      for (const recipient of recipients) operations.share(recipient, sender, shareMessage);
    }),
    verify: await time(() => {
      for (const recipient of recipients) {
        if (!operations.verifyBundle(recipient, bundleMessage)) throw new Error("reference signature did not verify");
      }
    }),
  });
}

/** The floor's operations with node:crypto: a recipient's keys arrive imported or as JWK text. */
function nodeCryptoOperations() {
  return {
    signingKey: () => generateKeyPairSync("ed25519").privateKey,
    recipient(bundleMessage) {
      const signing = generateKeyPairSync("ed25519");
      return {
        agreementKey: generateKeyPairSync("x25519").publicKey,
        signingJwk: signing.publicKey.export({ format: "jwk" }),
        signature: nodeSign(null, bundleMessage, signing.privateKey),
      };
    },
    share({ agreementKey }, sender, message) {
      const ephemeral = generateKeyPairSync("x25519");
      ephemeral.publicKey.export({ format: "jwk" });
      diffieHellman({ privateKey: ephemeral.privateKey, publicKey: agreementKey });
      nodeSign(null, message, sender);
    },
    verifyBundle: ({ signingJwk, signature }, message) => nodeVerify(null, message, createPublicKey({ key: signingJwk, format: "jwk" }), signature),
  };
}

/** The floor's operations with noble, on raw key bytes. */
function nobleOperations() {
  return {
    signingKey: () => random(32),
    recipient(bundleMessage) {
      const seed = random(32);
      return { agreementKey: x25519.getPublicKey(random(32)), signingKey: ed25519.getPublicKey(seed), signature: ed25519.sign(bundleMessage, seed) };
    },
    share({ agreementKey }, senderSeed, message) {
      const ephemeral = random(32);
      x25519.getPublicKey(ephemeral);
      x25519.getSharedSecret(ephemeral, agreementKey);
      ed25519.sign(message, senderSeed);
    },
    verifyBundle: ({ signingKey, signature }, message) => ed25519.verify(signature, message, signingKey, { zip215: false }),
  };
}

/** Every measurement on one path ("native" or "pure-js"). Times in milliseconds, every run kept. */
async function measurePath({ api, native, path, settings, log }) {
  native.use(path);
  const result = { path, share: [], accept: undefined, backup: undefined, passphrase: undefined };
  const sender = await api.createDeviceIdentity({ userId: `bench-sender-${path}`, deviceId: "laptop" });

  // Warm-up, unmeasured: let the JIT compile the share path before the clock runs.
  {
    const keyring = api.RoomKeyring.create({ roomId: `bench-warm-up-${path}` });
    for (let run = 0; run < 3; run++) api.shareRoomKey({ keyring, from: sender, to: await createBundles(api, 10, `warm-up-${path}-${run}`) });
  }

  for (const { devices, runs } of settings.share) {
    const keyring = api.RoomKeyring.create({ roomId: `bench-share-${path}-${devices}` });
    const cold = [];
    const warm = [];
    const floorWarm = [];
    const floorCold = [];
    const measureFloor = primitivesFloor(path, devices);
    for (let run = 0; run < runs; run++) {
      // Fresh bundles each run, created before the clock starts, so none was verified before.
      const bundles = await createBundles(api, devices, `share-${path}-${devices}-${run}`);
      // The floor in the same run, before the shares in one run and after them in the next.
      const floorFirst = run % 2 === 1;
      const floor = floorFirst ? await measureFloor() : undefined;
      cold.push(await time(() => api.shareRoomKey({ keyring, from: sender, to: bundles })));
      keyring.rotate({ reason: "manual" });
      warm.push(await time(() => api.shareRoomKey({ keyring, from: sender, to: bundles })));
      const { warm: floorWarmMs, verify: floorVerifyMs } = floor ?? (await measureFloor());
      floorWarm.push(floorWarmMs);
      floorCold.push(floorWarmMs + floorVerifyMs);
    }
    result.share.push({ devices, cold, warm, floorWarm, floorCold });
    log?.(
      `  key sharing, ${path}, ${devices} devices: cold ${formatMs(median(cold))}, warm ${formatMs(median(warm))}` +
        ` (primitives alone: ${formatMs(median(floorCold))}, ${formatMs(median(floorWarm))})`,
    );
  }

  {
    // The recipient side: verify the share's signature, open it with HPKE, add it to the keyring.
    const recipients = [];
    for (let index = 0; index < settings.acceptDevices; index++) {
      recipients.push(await api.createDeviceIdentity({ userId: `accept-${path}-${index}`, deviceId: "phone" }));
    }
    const keyring = api.RoomKeyring.create({ roomId: `bench-accept-${path}` });
    const shares = api.shareRoomKey({ keyring, from: sender, to: recipients.map((device) => device.publicBundle) });
    const senderBundle = JSON.parse(JSON.stringify(sender.publicBundle));
    const times = [];
    for (const [index, device] of recipients.entries()) {
      const target = api.RoomKeyring.empty({ roomId: `bench-accept-${path}` });
      const share = JSON.parse(JSON.stringify(shares[index]));
      times.push(await time(() => api.acceptRoomKeyShare({ isRoomMember: () => true, share, device, senderBundle, keyring: target })));
    }
    result.accept = times;
  }

  {
    const { backupRooms, versionsPerRoom, restoreRuns } = settings;
    const keyrings = [];
    for (let room = 0; room < backupRooms; room++) {
      const keyring = api.RoomKeyring.create({ roomId: `bench-room-${path}-${room}` });
      for (let version = 2; version <= versionsPerRoom; version++) keyring.rotate({ reason: "manual" });
      keyrings.push(keyring);
    }
    const recoveryKey = await api.createRecoveryKey();
    const backupPublicKey = { publicKey: recoveryKey.publicKey };

    let oneChunk;
    const createMs = await time(() => {
      oneChunk = api.createKeyBackup({ keyrings, recoveryKey: backupPublicKey });
    });
    // As a backup grows in practice: one append per room, by a device holding only the public key.
    let appended = api.createKeyBackup({ keyrings: [], recoveryKey: backupPublicKey });
    for (const keyring of keyrings) appended = api.addToKeyBackup({ backup: appended, recoveryPublicKey: recoveryKey.publicKey, keyrings: [keyring] });

    const restore = async (backup) => {
      const text = JSON.stringify(backup);
      const times = [];
      for (let run = 0; run < restoreRuns; run++) {
        // From the JSON text a server returns, with the 24-word code the user types (no KDF).
        times.push(
          await time(async () => {
            const restored = await api.restoreKeyBackup({ backup: JSON.parse(text), recoveryCode: recoveryKey.code });
            if (restored.length !== backupRooms) throw new Error("restore returned the wrong number of rooms");
          }),
        );
      }
      return times;
    };
    result.backup = {
      rooms: backupRooms,
      versions: backupRooms * versionsPerRoom,
      createMs,
      jsonBytes: JSON.stringify(oneChunk).length,
      appendedChunks: appended.chunks.length,
      restoreOneChunk: await restore(oneChunk),
      restoreAppended: await restore(appended),
    };
    log?.(`  backup, ${path}: restore ${result.backup.versions} versions in ${formatMs(median(result.backup.restoreAppended))} (${appended.chunks.length} chunks)`);
  }

  {
    // The deliberate passphrase KDF, shown so its cost is not mistaken for the restore's.
    const recoveryKey = await api.createRecoveryKey();
    let protectedKey;
    const protectMs = await time(async () => {
      protectedKey = await api.protectRecoveryKey(recoveryKey, "correct horse battery staple");
    });
    const unlock = [];
    for (let run = 0; run < settings.unlockRuns; run++) {
      unlock.push(await time(() => api.unlockRecoveryKey(protectedKey, "correct horse battery staple")));
    }
    const { n, r, p } = api.DEFAULT_PASSPHRASE_KDF;
    result.passphrase = { kdf: { n, r, p }, protectMs, unlock };
  }
  native.use("native");
  return result;
}

/** Both paths, native first. */
export async function measureKeyLifecycle({ api, native, short, log }) {
  const settings = short ? KEY_LIFECYCLE_SETTINGS.short : KEY_LIFECYCLE_SETTINGS.full;
  const paths = [];
  for (const path of ["native", "pure-js"]) paths.push(await measurePath({ api, native, path, settings, log }));
  return { settings, paths };
}

const PATH_LABEL = { native: "Node (native auto)", "pure-js": "pure JS (native off)" };
const FLOOR_NOTE = {
  native: "per device, node:crypto: an X25519 key pair, an agreement, an Ed25519 signature",
  "pure-js": "per device, noble: an X25519 key pair, an agreement, an Ed25519 signature",
};

/** Markdown rows: operation, path, median, fastest, runs, notes. */
export function keyLifecycleTable(keyLifecycle) {
  const rows = [];
  const row = (operation, path, times, notes) => [
    operation,
    PATH_LABEL[path],
    formatMs(median(times)),
    formatMs(Math.min(...times)),
    String(times.length),
    notes,
  ];
  for (const result of keyLifecycle.paths) {
    for (const { devices, cold, warm, floorCold, floorWarm } of result.share) {
      const count = devices.toLocaleString("en-US");
      const overFloor = (times, floors) => `${formatRatio(median(times.map((ms, run) => ms / floors[run])))} the primitives alone`;
      rows.push(
        row(`share one version with ${count} devices, cold (bundles verified)`, result.path, cold, `${formatMs(median(cold) / devices)} per device; ${overFloor(cold, floorCold)}`),
      );
      rows.push(row(`share one version with ${count} devices, warm (later rotation)`, result.path, warm, `${formatMs(median(warm) / devices)} per device; ${overFloor(warm, floorWarm)}`));
      rows.push(row(`primitives alone for ${count} devices, cold (reference)`, result.path, floorCold, FLOOR_NOTE[result.path] + ", and an Ed25519 verification"));
      rows.push(row(`primitives alone for ${count} devices, warm (reference)`, result.path, floorWarm, FLOOR_NOTE[result.path]));
    }
    rows.push(row("accept one share (recipient side)", result.path, result.accept, `one share each for ${result.accept.length} devices`));
    const backup = result.backup;
    const label = `${backup.versions.toLocaleString("en-US")} versions, ${backup.rooms} rooms`;
    rows.push(row(`create a backup of ${label}`, result.path, [backup.createMs], `1 chunk, ${formatBytes(backup.jsonBytes)} of JSON`));
    rows.push(row(`restore a backup of ${label} (1 chunk)`, result.path, backup.restoreOneChunk, "from JSON text, with the 24-word code"));
    rows.push(
      row(`restore a backup of ${label} (${backup.appendedChunks} chunks)`, result.path, backup.restoreAppended, "one append per room; from JSON text, with the 24-word code"),
    );
    const { n, r, p } = result.passphrase.kdf;
    const kdf = `scrypt N = 2^${Math.log2(n)}, r = ${r}, p = ${p}`;
    rows.push(row(`protect a recovery key with a passphrase (default ${kdf})`, result.path, [result.passphrase.protectMs], "the deliberate KDF: 128 MiB of memory"));
    rows.push(row(`unlock a recovery key with its passphrase (default ${kdf})`, result.path, result.passphrase.unlock, "the deliberate KDF: 128 MiB of memory"));
  }
  return markdownTable(["operation", "path", "median", "fastest", "runs", "notes"], rows, ["l", "l", "r", "r", "r", "l"]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const api = await import("@domvia/realtime-e2ee");
  const keyLifecycle = await measureKeyLifecycle({ api, native: await loadNativeSwitch(api), short: isShortRun(), log: console.log });
  console.log(`\n${keyLifecycleTable(keyLifecycle)}`);
}
