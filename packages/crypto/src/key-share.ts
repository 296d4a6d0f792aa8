/**
 * Room key shares (SPEC.md §10): one room key version, encrypted with RFC 9180 HPKE base mode
 * (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) to one recipient device, bound to room,
 * key id, version, sender and recipient through HPKE `info`, and signed with the sender device's
 * Ed25519 key.
 *
 * One signature per share: each share is verifiable alone, whatever order, subset or mailbox
 * delivers it, and a re-send to one device needs no batch state. In pure JS the signature is
 * about a quarter of a share's cost (X25519 dominates).
 *
 * {@link sealRoomKeyShareAsync} is the same share with X25519 and Ed25519 on WebCrypto in
 * browsers, several times faster than noble's curves there (bench/results/latest.md).
 *
 * @module
 */
import {
  E2eeError,
  KEY_SHARE_PLAINTEXT_BYTES,
  assertId,
  assertKeyVersion,
  decryptionFailed,
  keyShareInfo,
  keyShareSignatureInput,
  parseRoomKeyShare,
  type KeyShareContext,
  type RoomKeyShareV1,
} from "@domvia/e2ee-envelope";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { identitySecrets, verifyDeviceBundle, verifyDeviceBundleAsync, type DeviceIdentity, type VerifiedDeviceBundle } from "./device-identity";
import { HpkeError, hpkeOpen, hpkeSeal, hpkeSealAsync, type HpkeSealed } from "./hpke";
import { exportRoomKeyBytes, importRoomKeyBytes, type RoomKey } from "./room-key";
import { sign, signAsync, verify } from "./signing";
import { EMPTY_AAD, HPKE_SUITE } from "./suite";


/** Flags byte of a share's plaintext. */
const FLAG_SHAREABLE = 0x01;

/** What {@link sealRoomKeyShare} needs. */
export interface SealRoomKeyShareOptions {
  readonly roomId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  /** The room key version to share. */
  readonly key: RoomKey;
  /** Whether the recipient may share this version on with members who join later. */
  readonly shareable: boolean;
  /** The sending device: signs the share. */
  readonly from: DeviceIdentity;
  /** The recipient device's bundle; its self-signature is verified (results are cached). */
  readonly to: unknown;
}

/** A share that opened: the key version and who sent it. */
export interface OpenedRoomKeyShare {
  readonly roomId: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly key: RoomKey;
  readonly shareable: boolean;
  readonly senderUserId: string;
  readonly senderDeviceId: string;
}

/**
 * Encrypts one room key version to one device and signs it.
 *
 * @example
 * ```ts
 * const share = sealRoomKeyShare({ roomId, keyId, keyVersion: 2, key, shareable: false, from: myDevice, to: bobPhoneBundle });
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` / `BAD_SIGNATURE` for a malformed
 *   or unverifiable recipient bundle, `PAYLOAD_TOO_LARGE` for recipient bundle JSON text over
 *   4,096 characters, `INVALID_KEY` when the recipient's key is a low-order point.
 * @throws TypeError for invalid ids, version, key or sender.
 */
export function sealRoomKeyShare(options: SealRoomKeyShareOptions): RoomKeyShareV1 {
  const input = checkShareOptions(options);
  const share = prepareShare(input, verifyDeviceBundle(input.to));
  let sealed: HpkeSealed;
  try {
    sealed = hpkeSeal(share.hpke);
  } catch (error) {
    throw shareSealError(error);
  } finally {
    share.hpke.plaintext.fill(0);
  }
  return completeShare(share, sealed, sign(input.sender.signingSecretKey, keyShareSignatureInput(share.hpke.info, sealed.enc, sealed.ciphertext)));
}

/**
 * {@link sealRoomKeyShare} with X25519 and Ed25519 on WebCrypto where `node:crypto` is absent
 * and WebCrypto passed its self-test (browsers, where it is several times faster than noble);
 * elsewhere the same work as the synchronous call. Either path computes the same bytes from the
 * same ephemeral key (webcrypto-curves.test.ts checks it); each call draws a fresh one.
 *
 * @example
 * ```ts
 * const share = await sealRoomKeyShareAsync({ roomId, keyId, keyVersion: 2, key, shareable: false, from: myDevice, to: bobPhoneBundle });
 * ```
 * @throws E2eeError / TypeError as {@link sealRoomKeyShare} (as a rejection), and `INVALID_KEY`
 *   when `from` is destroyed before the share is returned.
 */
export async function sealRoomKeyShareAsync(options: SealRoomKeyShareOptions): Promise<RoomKeyShareV1> {
  const input = checkShareOptions(options);
  const share = prepareShare(input, await verifyDeviceBundleAsync(input.to));
  let sealed: HpkeSealed;
  try {
    sealed = await hpkeSealAsync(share.hpke);
  } catch (error) {
    throw shareSealError(error);
  } finally {
    share.hpke.plaintext.fill(0);
  }
  // The device is looked up again around the signature: one destroyed while this call waited
  // neither signs nor gets a share back (its seed may already be zero).
  const signature = await signAsync(identitySecrets(input.from, "from").signingSecretKey, keyShareSignatureInput(share.hpke.info, sealed.enc, sealed.ciphertext));
  identitySecrets(input.from, "from");
  return completeShare(share, sealed, signature);
}

/** The options, read once and checked (but the recipient bundle), with the sender's keys. */
interface ShareInput extends SealRoomKeyShareOptions {
  readonly sender: ReturnType<typeof identitySecrets>;
}

function checkShareOptions(options: SealRoomKeyShareOptions): ShareInput {
  const { roomId, keyId, keyVersion, key, shareable, from, to } = options;
  assertId(roomId, "roomId");
  assertId(keyId, "keyId");
  assertKeyVersion(keyVersion);
  if (typeof shareable !== "boolean") throw new TypeError(`"shareable" expected a boolean, got ${typeof shareable}`);
  return { roomId, keyId, keyVersion, key, shareable, from, to, sender: identitySecrets(from, "from") };
}

interface PreparedShare {
  readonly context: KeyShareContext;
  /** What HPKE seals; the caller wipes the plaintext. */
  readonly hpke: { readonly recipientPublicKey: Uint8Array; readonly info: Uint8Array; readonly aad: Uint8Array; readonly plaintext: Uint8Array };
}

/** The context, `info` and plaintext of one share (SPEC.md §10). */
function prepareShare(input: ShareInput, recipient: VerifiedDeviceBundle): PreparedShare {
  // Object literals, not spreads: on V8 11 (Node 20) an object built by spreading and then adding
  // members outlives young-generation collections, and sharing builds two per device.
  const context: KeyShareContext = {
    kem: HPKE_SUITE.kem,
    kdf: HPKE_SUITE.kdf,
    aead: HPKE_SUITE.aead,
    roomId: input.roomId,
    keyId: input.keyId,
    keyVersion: input.keyVersion,
    senderUserId: input.from.userId,
    senderDeviceId: input.from.deviceId,
    recipientUserId: recipient.bundle.userId,
    recipientDeviceId: recipient.bundle.deviceId,
  };
  const info = keyShareInfo(context, input.sender.signingPublicKey, recipient.agreementKey);
  const plaintext = new Uint8Array(KEY_SHARE_PLAINTEXT_BYTES);
  const keyBytes = exportRoomKeyBytes(input.key);
  plaintext.set(keyBytes);
  keyBytes.fill(0);
  plaintext[32] = input.shareable ? FLAG_SHAREABLE : 0;
  return { context, hpke: { recipientPublicKey: recipient.agreementKey, info, aad: EMPTY_AAD, plaintext } };
}

function shareSealError(error: unknown): unknown {
  return error instanceof HpkeError ? new E2eeError("INVALID_KEY", "recipient agreement key is a low-order point") : error;
}

function completeShare({ context }: PreparedShare, sealed: HpkeSealed, signature: Uint8Array): RoomKeyShareV1 {
  return {
    v: 1,
    type: "room-key-share",
    kem: context.kem,
    kdf: context.kdf,
    aead: context.aead,
    roomId: context.roomId,
    keyId: context.keyId,
    keyVersion: context.keyVersion,
    senderUserId: context.senderUserId,
    senderDeviceId: context.senderDeviceId,
    recipientUserId: context.recipientUserId,
    recipientDeviceId: context.recipientDeviceId,
    enc: base64urlEncode(sealed.enc),
    ciphertext: base64urlEncode(sealed.ciphertext),
    signature: base64urlEncode(signature),
  };
}

/**
 * Verifies and decrypts a share addressed to `device`, sent by the device `senderBundle`
 * describes. Checks run cheapest first: shape, addressee, sender, signature, then HPKE.
 *
 * @example
 * ```ts
 * const opened = openRoomKeyShare({ share, device: myDevice, senderBundle });
 * ```
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` (malformed share),
 *   `PAYLOAD_TOO_LARGE` (share or sender bundle JSON text over 4,096 characters),
 *   `SHARE_MISADDRESSED` (for another device), `UNKNOWN_SENDER` (the bundle is not the
 *   sender's), `BAD_SIGNATURE` (bundle or share signature fails: any tampering),
 *   `DECRYPTION_FAILED` (validly signed but does not open).
 * @throws TypeError when `device` is not a DeviceIdentity.
 */
export function openRoomKeyShare(options: { share: unknown; device: DeviceIdentity; senderBundle: unknown }): OpenedRoomKeyShare {
  const { device } = options;
  const own = identitySecrets(device);
  const share = parseRoomKeyShare(options.share);
  if (share.recipientUserId !== device.userId || share.recipientDeviceId !== device.deviceId) {
    throw new E2eeError("SHARE_MISADDRESSED", "key share is addressed to another device");
  }
  if (options.senderBundle === undefined || options.senderBundle === null) {
    throw new E2eeError("UNKNOWN_SENDER", "no bundle for the device that sent the share");
  }
  const sender = verifyDeviceBundle(options.senderBundle);
  if (sender.bundle.userId !== share.senderUserId || sender.bundle.deviceId !== share.senderDeviceId) {
    throw new E2eeError("UNKNOWN_SENDER", "the sender bundle is not the bundle of the device that sent the share");
  }
  const enc = base64urlDecode(share.enc);
  const ciphertext = base64urlDecode(share.ciphertext);
  const signature = base64urlDecode(share.signature);
  if (enc === undefined || ciphertext === undefined || signature === undefined) {
    throw new E2eeError("INVALID_ENVELOPE", "invalid room key share: bad base64url");
  }
  const info = keyShareInfo(share, sender.signingKey, own.agreementPublicKey);
  if (!verify(signature, keyShareSignatureInput(info, enc, ciphertext), sender.signingKey)) {
    throw new E2eeError("BAD_SIGNATURE", "key share signature does not verify");
  }
  let plaintext: Uint8Array;
  try {
    plaintext = hpkeOpen({
      recipientSecretKey: own.agreementSecretKey,
      recipientPublicKey: own.agreementPublicKey,
      enc,
      info,
      aad: EMPTY_AAD,
      ciphertext,
    });
  } catch {
    throw decryptionFailed();
  }
  try {
    const flags = plaintext[32]!;
    if (plaintext.length !== KEY_SHARE_PLAINTEXT_BYTES || (flags & ~FLAG_SHAREABLE) !== 0) throw decryptionFailed();
    return {
      roomId: share.roomId,
      keyId: share.keyId,
      keyVersion: share.keyVersion,
      key: importRoomKeyBytes(plaintext.subarray(0, 32)),
      shareable: (flags & FLAG_SHAREABLE) !== 0,
      senderUserId: share.senderUserId,
      senderDeviceId: share.senderDeviceId,
    };
  } finally {
    plaintext.fill(0);
  }
}
