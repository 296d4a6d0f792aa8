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
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  sign as nodeSign,
  verify as nodeVerify,
  webcrypto,
} from "node:crypto";
import { pathToFileURL } from "node:url";
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { gcm } from "@noble/ciphers/aes.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { formatBytes, formatMs, formatRatio, isShortRun, markdownTable, median, pairedRatios, loadNativeSwitch, time } from "./common.mjs";

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
export async function createBundles(api, count, prefix) {
  const bundles = [];
  for (let index = 0; index < count; index++) {
    const device = await api.createDeviceIdentity({ userId: `${prefix}-user-${index}`, deviceId: "phone" });
    bundles.push(JSON.parse(JSON.stringify(device.publicBundle)));
  }
  return bundles;
}

/** HPKE `info` of one share (its context and both devices' keys), about; and what a bundle signs. */
const SHARE_INFO_BYTES = 200;
const BUNDLE_SIGNED_BYTES = 250;
/** A share's plaintext: the 32-byte room key and a flags byte (SPEC.md §10). */
const SHARE_PLAINTEXT_BYTES = 33;

const random = (length) => webcrypto.getRandomValues(new Uint8Array(length));
const EMPTY = new Uint8Array(0);

/**
 * The reference for sharing: the same share written straight on one library, as an app would
 * write it without the SDK, for `devices` recipients. Per device (`warm`): an RFC 9180 HPKE
 * base-mode seal of a share's 33-byte plaintext (a fresh X25519 key pair, the agreement with the
 * recipient's key, the HKDF-SHA256 key schedule, AES-256-GCM) and an Ed25519 signature over
 * info, enc and ciphertext; a cold share adds what the first sight of a recipient costs
 * (`firstSight`): the Ed25519 check of its bundle's self-signature and, natively, the import of
 * its X25519 key (the SDK's key cache holds it on a later rotation). No input checks, wiping,
 * canonical encoding, base64url or share object: a floor, not a competing implementation.
 * Natively every key pair is 32 random bytes imported as a JWK, the fastest way into node:crypto
 * and the SDK's own. Not `generateKeyPairSync`: on Node 20.20 exporting a key it made can
 * deadlock the process, when a garbage collection during the export destroys the key generation
 * job, which waits for the lock the export holds (a plain loop of
 * `generateKeyPairSync("x25519").publicKey.export({ format: "jwk" })` hangs within a few million
 * iterations); earlier versions of this floor hung that way.
 *
 * Returns a function that times both loops, `{ warm, firstSight }`; the inputs are built here, once,
 * so the runs that time them make no garbage of their own before the clock starts.
 */
function rawShareFloor(path, devices) {
  const info = random(SHARE_INFO_BYTES);
  const plaintext = random(SHARE_PLAINTEXT_BYTES);
  const bundleMessage = random(BUNDLE_SIGNED_BYTES);
  const operations = path === "native" ? NODE_CRYPTO_OPERATIONS : NOBLE_OPERATIONS;
  const hpke = rawHpke(operations);
  const sender = operations.signingKey();
  const recipients = Array.from({ length: devices }, () => operations.recipient(bundleMessage));
  return async () => ({
    warm: await time(() => {
      for (const recipient of recipients) {
        const { enc, ciphertext } = hpke.seal({ recipient, info, aad: EMPTY, plaintext });
        operations.sign(sender, concatBytes(info, enc, ciphertext));
      }
    }),
    firstSight: await time(() => {
      for (const recipient of recipients) {
        if (!operations.firstSight(recipient, bundleMessage)) throw new Error("reference signature did not verify");
      }
    }),
  });
}

/**
 * RFC 9180 single-shot Seal in base mode for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
 * AES-GCM (aead id 0x0002 for AES-256-GCM, 0x0001 for the Appendix A.1.1 check), on one library's
 * X25519, HMAC-SHA-256 and AES-GCM (`operations`). HKDF-Expand of at most 32 bytes is its first
 * HMAC block; base mode's psk_id_hash is a constant, computed once. The bench's reference only.
 */
function rawHpke(operations) {
  const ascii = (text) => Uint8Array.from(text, (character) => character.charCodeAt(0));
  const labels = Object.fromEntries(["eae_prk", "shared_secret", "psk_id_hash", "info_hash", "secret", "key", "base_nonce"].map((label) => [label, ascii(label)]));
  const version = ascii("HPKE-v1");
  const one = Uint8Array.of(1);
  const kemSuite = concatBytes(ascii("KEM"), Uint8Array.of(0x00, 0x20));
  const hpkeSuite = (aeadId) => concatBytes(ascii("HPKE"), Uint8Array.of(0x00, 0x20, 0x00, 0x01, 0x00, aeadId));
  const labeledExtract = (suite, salt, label, ikm) => operations.hmacSha256(salt, [version, suite, labels[label], ikm]);
  const labeledExpand = (suite, prk, label, info, length) =>
    operations.hmacSha256(prk, [Uint8Array.of(0, length), version, suite, labels[label], info, one]).subarray(0, length);
  const suites = new Map(
    [0x01, 0x02].map((aeadId) => {
      const suite = hpkeSuite(aeadId);
      return [aeadId, { suite, pskIdHash: labeledExtract(suite, EMPTY, "psk_id_hash", EMPTY), keyBytes: aeadId === 0x01 ? 16 : 32 }];
    }),
  );
  return {
    seal({ recipient, info, aad, plaintext, aeadId = 0x02, ephemeralSecretKey }) {
      const { shared, enc } = operations.encapsulate(recipient, ephemeralSecretKey);
      const eaePrk = labeledExtract(kemSuite, EMPTY, "eae_prk", shared);
      const sharedSecret = labeledExpand(kemSuite, eaePrk, "shared_secret", concatBytes(enc, recipient.publicKey), 32);
      const { suite, pskIdHash, keyBytes } = suites.get(aeadId);
      const context = concatBytes(Uint8Array.of(0x00), pskIdHash, labeledExtract(suite, EMPTY, "info_hash", info));
      const secret = labeledExtract(suite, sharedSecret, "secret", EMPTY);
      const key = labeledExpand(suite, secret, "key", context, keyBytes);
      const nonce = labeledExpand(suite, secret, "base_nonce", context, 12);
      return { enc, ciphertext: operations.aesGcm(key, nonce, aad, plaintext) };
    },
  };
}

/**
 * RFC 9180 Appendix A.1.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode), its
 * first encryption, as packages/crypto/src/hpke.test.ts holds it: both raw references must give
 * its enc and ciphertext before they are timed.
 */
const RFC9180_A_1_1 = {
  skEm: "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  info: "4f6465206f6e2061204772656369616e2055726e",
  enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  aad: "436f756e742d30",
  ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
};

function checkRawHpke(operations) {
  const bytes = (hex) => new Uint8Array(Buffer.from(hex, "hex"));
  const v = RFC9180_A_1_1;
  const { enc, ciphertext } = rawHpke(operations).seal({
    recipient: operations.recipientKey(bytes(v.pkRm)),
    info: bytes(v.info),
    aad: bytes(v.aad),
    plaintext: bytes(v.pt),
    aeadId: 0x01,
    ephemeralSecretKey: bytes(v.skEm),
  });
  if (Buffer.from(enc).toString("hex") !== v.enc || Buffer.from(ciphertext).toString("hex") !== v.ct) {
    throw new Error(`the bench's raw HPKE on ${operations.name} does not match RFC 9180 Appendix A.1.1`);
  }
  return operations;
}

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");
const rawPublicKey = (keyObject) => new Uint8Array(Buffer.from(keyObject.export({ format: "jwk" }).x, "base64url"));
const nodeX25519PublicKey = (publicKey) => createPublicKey({ key: { kty: "OKP", crv: "X25519", x: base64url(publicKey) }, format: "jwk" });

/**
 * A node:crypto key pair of 32 secret bytes: the private key imported as a JWK (node:crypto reads
 * only `d`, and requires `x` to be a string), the public key derived from it.
 */
function nodeKeyPair(crv, secretKey = random(32)) {
  const privateKey = createPrivateKey({ key: { kty: "OKP", crv, d: base64url(secretKey), x: "" }, format: "jwk" });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The floor's operations with node:crypto: a recipient's keys arrive imported or as JWK text. */
const NODE_CRYPTO_OPERATIONS = checkRawHpke({
  name: "node:crypto",
  signingKey: () => nodeKeyPair("Ed25519").privateKey,
  sign: (privateKey, message) => nodeSign(null, message, privateKey),
  recipientKey: (publicKey) => ({ publicKey, keyObject: nodeX25519PublicKey(publicKey) }),
  recipient(bundleMessage) {
    const signing = nodeKeyPair("Ed25519");
    const agreement = nodeKeyPair("X25519").publicKey;
    return {
      publicKey: rawPublicKey(agreement),
      keyObject: agreement,
      signingJwk: signing.publicKey.export({ format: "jwk" }),
      signature: nodeSign(null, bundleMessage, signing.privateKey),
    };
  },
  encapsulate(recipient, ephemeralSecretKey) {
    const ephemeral = nodeKeyPair("X25519", ephemeralSecretKey);
    return { shared: diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.keyObject }), enc: rawPublicKey(ephemeral.publicKey) };
  },
  hmacSha256: (key, parts) => createHmac("sha256", key).update(concatBytes(...parts)).digest(),
  aesGcm(key, nonce, aad, plaintext) {
    const cipher = createCipheriv(`aes-${key.length * 8}-gcm`, key, nonce);
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  },
  firstSight({ publicKey, signingJwk, signature }, message) {
    nodeX25519PublicKey(publicKey);
    return nodeVerify(null, message, createPublicKey({ key: signingJwk, format: "jwk" }), signature);
  },
});

/** The floor's operations with noble, on raw key bytes. */
const NOBLE_OPERATIONS = checkRawHpke({
  name: "noble",
  signingKey: () => random(32),
  sign: (seed, message) => ed25519.sign(message, seed),
  recipientKey: (publicKey) => ({ publicKey }),
  recipient(bundleMessage) {
    const seed = random(32);
    return { publicKey: x25519.getPublicKey(random(32)), signingKey: ed25519.getPublicKey(seed), signature: ed25519.sign(bundleMessage, seed) };
  },
  encapsulate(recipient, ephemeralSecretKey = random(32)) {
    return { shared: x25519.getSharedSecret(ephemeralSecretKey, recipient.publicKey), enc: x25519.getPublicKey(ephemeralSecretKey) };
  },
  hmacSha256: (key, parts) => hmac(sha256, key, concatBytes(...parts)),
  aesGcm: (key, nonce, aad, plaintext) => gcm(key, nonce, aad).encrypt(plaintext),
  firstSight: ({ signingKey, signature }, message) => ed25519.verify(signature, message, signingKey, { zip215: false }),
});

// The timed suite (AES-256-GCM, aead id 0x0002) has no RFC 9180 vector with X25519: what each
// reference seals with it must open with @hpke/core, an independent implementation.
{
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const recipientSecretKey = random(32);
  const recipientKey = await suite.kem.importKey("raw", recipientSecretKey.slice().buffer, false);
  for (const operations of [NODE_CRYPTO_OPERATIONS, NOBLE_OPERATIONS]) {
    const info = random(SHARE_INFO_BYTES);
    const plaintext = random(SHARE_PLAINTEXT_BYTES);
    const { enc, ciphertext } = rawHpke(operations).seal({ recipient: operations.recipientKey(x25519.getPublicKey(recipientSecretKey)), info, aad: EMPTY, plaintext });
    const opened = await suite.open({ recipientKey, enc: new Uint8Array(enc), info }, new Uint8Array(ciphertext), EMPTY).then(
      (bytes) => new Uint8Array(bytes),
      () => undefined,
    );
    if (opened === undefined || Buffer.compare(opened, plaintext) !== 0) {
      throw new Error(`the bench's raw HPKE on ${operations.name} does not open with @hpke/core`);
    }
  }
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
    const measureFloor = rawShareFloor(path, devices);
    for (let run = 0; run < runs; run++) {
      // Fresh bundles each run, created before the clock starts, so none was verified before.
      const bundles = await createBundles(api, devices, `share-${path}-${devices}-${run}`);
      // The floor in the same run, before the shares in one run and after them in the next.
      const floorFirst = run % 2 === 1;
      const floor = floorFirst ? await measureFloor() : undefined;
      cold.push(await time(() => api.shareRoomKey({ keyring, from: sender, to: bundles })));
      keyring.rotate({ reason: "manual" });
      warm.push(await time(() => api.shareRoomKey({ keyring, from: sender, to: bundles })));
      const { warm: floorWarmMs, firstSight: floorFirstSightMs } = floor ?? (await measureFloor());
      floorWarm.push(floorWarmMs);
      floorCold.push(floorWarmMs + floorFirstSightMs);
    }
    result.share.push({ devices, cold, warm, floorWarm, floorCold });
    log?.(
      `  key sharing, ${path}, ${devices} devices: cold ${formatMs(median(cold))}, warm ${formatMs(median(warm))}` +
        ` (a raw share alone: ${formatMs(median(floorCold))}, ${formatMs(median(floorWarm))})`,
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
const FLOOR_LIBRARY = { native: "node:crypto", "pure-js": "noble" };
/** What the cold floor adds per device on each path: `firstSight` in rawShareFloor. */
const FIRST_SIGHT = { native: "an Ed25519 verification and the import of the recipient's X25519 key", "pure-js": "an Ed25519 verification" };
const floorNote = (path, { cold = false } = {}) =>
  `per device, straight on ${FLOOR_LIBRARY[path]}: an HPKE seal (a fresh X25519 key pair, the agreement, the HKDF-SHA256 key schedule, AES-256-GCM) and an Ed25519 signature` +
  (cold ? `; on first sight, ${FIRST_SIGHT[path]}` : "");

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
      const overFloor = (times, floors) => `${formatRatio(median(pairedRatios(times, floors)))} a raw share`;
      rows.push(
        row(`share one version with ${count} devices, cold (bundles verified)`, result.path, cold, `${formatMs(median(cold) / devices)} per device; ${overFloor(cold, floorCold)}`),
      );
      rows.push(row(`share one version with ${count} devices, warm (later rotation)`, result.path, warm, `${formatMs(median(warm) / devices)} per device; ${overFloor(warm, floorWarm)}`));
      rows.push(row(`a raw share for ${count} devices, cold (reference)`, result.path, floorCold, floorNote(result.path, { cold: true })));
      rows.push(row(`a raw share for ${count} devices, warm (reference)`, result.path, floorWarm, floorNote(result.path)));
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
