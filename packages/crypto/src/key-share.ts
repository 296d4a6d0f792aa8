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
import { identitySecrets, verifyDeviceBundle, type DeviceIdentity } from "./device-identity";
import { HpkeError, hpkeOpen, hpkeSeal } from "./hpke";
import { exportRoomKeyBytes, importRoomKeyBytes, type RoomKey } from "./room-key";
import { sign, verify } from "./signing";
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
  const { roomId, keyId, keyVersion, key, shareable, from } = options;
  assertId(roomId, "roomId");
  assertId(keyId, "keyId");
  assertKeyVersion(keyVersion);
  if (typeof shareable !== "boolean") throw new TypeError(`"shareable" expected a boolean, got ${typeof shareable}`);
  const sender = identitySecrets(from, "from");
  const recipient = verifyDeviceBundle(options.to);
  // Object literals, not spreads: on V8 11 (Node 20) an object built by spreading and then adding
  // members outlives young-generation collections, and sharing builds two per device.
  const context: KeyShareContext = {
    kem: HPKE_SUITE.kem,
    kdf: HPKE_SUITE.kdf,
    aead: HPKE_SUITE.aead,
    roomId,
    keyId,
    keyVersion,
    senderUserId: from.userId,
    senderDeviceId: from.deviceId,
    recipientUserId: recipient.bundle.userId,
    recipientDeviceId: recipient.bundle.deviceId,
  };
  const info = keyShareInfo(context, sender.signingPublicKey, recipient.agreementKey);
  const plaintext = new Uint8Array(KEY_SHARE_PLAINTEXT_BYTES);
  const keyBytes = exportRoomKeyBytes(key);
  plaintext.set(keyBytes);
  keyBytes.fill(0);
  plaintext[32] = shareable ? FLAG_SHAREABLE : 0;
  let sealed: { enc: Uint8Array; ciphertext: Uint8Array };
  try {
    sealed = hpkeSeal({ recipientPublicKey: recipient.agreementKey, info, aad: EMPTY_AAD, plaintext });
  } catch (error) {
    if (error instanceof HpkeError) throw new E2eeError("INVALID_KEY", "recipient agreement key is a low-order point");
    throw error;
  } finally {
    plaintext.fill(0);
  }
  const signature = sign(sender.signingSecretKey, keyShareSignatureInput(info, sealed.enc, sealed.ciphertext));
  return {
    v: 1,
    type: "room-key-share",
    kem: context.kem,
    kdf: context.kdf,
    aead: context.aead,
    roomId,
    keyId,
    keyVersion,
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
