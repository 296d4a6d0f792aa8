/**
 * XAES-256-GCM (C2SP, https://c2sp.org/XAES-256-GCM), composed from noble's audited AES, with
 * native AES where the runtime has it (native.ts).
 *
 * XAES-256-GCM extends AES-256-GCM to 192-bit nonces by deriving a fresh AES-256-GCM key for
 * every nonce, so random nonces are safe for an effectively unlimited number of messages per key
 * (2^80 messages at a 2^-32 collision risk, versus 2^32 for 96-bit random nonces).
 *
 * For key K and 24-byte nonce N (spec §"Construction"):
 *
 * ```
 * L   = AES-256_K(0^128)                      computed once per key
 * K1  = L << 1, XOR 0x87 into the last byte if the top bit of L was set   (CMAC subkey, SP 800-38B)
 * M1  = 0x00 0x01 0x58 0x00 || N[0:12]
 * M2  = 0x00 0x02 0x58 0x00 || N[0:12]
 * Kx  = AES-256_K(M1 XOR K1) || AES-256_K(M2 XOR K1)      = CMAC_K(M1) || CMAC_K(M2)
 * out = AES-256-GCM(key = Kx, nonce = N[12:24], plaintext, additional data)
 * ```
 *
 * The derivation is SP 800-108r1 counter-mode KDF with CMAC-AES-256; tests check Kx against
 * noble's own CMAC (xaes-256-gcm.test.ts, and the independent vector generator).
 *
 * Three implementations of the same bytes, chosen per call:
 * - `node:crypto` when the runtime has it: one AES-256-ECB context per key derives every Kx
 *   (ECB is stateless across blocks, so the context is reused), and one AES-256-GCM context per
 *   message;
 * - WebCrypto AES-GCM for large messages in `sealAsync`/`openAsync` when `node:crypto` is absent
 *   (Kx is derived with noble);
 * - noble otherwise, and always when native crypto is switched off.
 *
 * @module
 */
import { ecb, gcm } from "@noble/ciphers/aes.js";
import { E2eeError } from "@domvia/e2ee-envelope";
import {
  WEBCRYPTO_MIN_BYTES,
  nativeNodeCrypto,
  nativeSubtle,
  nodeAesGcmOpen,
  nodeAesGcmSeal,
  plainBytes,
  type NodeCipher,
  type NodeCrypto,
  type WebCryptoSubtle,
} from "./native";

/** Key size in bytes. */
export const XAES_KEY_BYTES = 32;
/** Nonce size in bytes. */
export const XAES_NONCE_BYTES = 24;
/** Tag size in bytes. */
export const XAES_TAG_BYTES = 16;

const BLOCK_ENCRYPT_OPTIONS = Object.freeze({ disablePadding: true });

/**
 * The per-key part of XAES-256-GCM: holds K and, once first used, the CMAC subkey K1 and (in
 * Node) the AES-256-ECB context. Not exported from the package; room keys own one each.
 */
export class XaesKey {
  readonly #key: Uint8Array;
  #k1: Uint8Array | undefined;
  #nodeEcb: NodeCipher | undefined;
  #destroyed = false;

  /** @param key - 32 bytes; the instance keeps a reference, not a copy. */
  constructor(key: Uint8Array) {
    if (key.length !== XAES_KEY_BYTES) throw new RangeError(`"key" expected 32 bytes, got ${key.length}`);
    this.#key = key;
  }

  /**
   * Derives Kx for a nonce: the AES-256-GCM key of this message. The caller wipes it.
   * @throws RangeError when the nonce is not 24 bytes.
   */
  deriveMessageKey(nonce: Uint8Array): Uint8Array {
    checkNonce(nonce);
    if (this.#destroyed) throw new E2eeError("INVALID_KEY", "the room key was destroyed");
    const node = nativeNodeCrypto();
    const k1 = (this.#k1 ??= this.#subkey(node));
    const blocks = new Uint8Array(32);
    blocks[1] = 0x01;
    blocks[2] = 0x58; // "X"
    blocks[17] = 0x02;
    blocks[18] = 0x58;
    for (let i = 0; i < 12; i++) {
      blocks[4 + i] = nonce[i]!;
      blocks[20 + i] = nonce[i]!;
    }
    for (let i = 0; i < 16; i++) {
      blocks[i]! ^= k1[i]!;
      blocks[16 + i]! ^= k1[i]!;
    }
    const messageKey = this.#encryptBlocks(node, blocks);
    blocks.fill(0);
    return messageKey;
  }

  /**
   * Encrypts `plaintext`; returns ciphertext || 16-byte tag.
   * @throws RangeError when the nonce is not 24 bytes.
   */
  seal(nonce: Uint8Array, plaintext: Uint8Array, additionalData: Uint8Array): Uint8Array {
    const node = nativeNodeCrypto();
    const messageKey = this.deriveMessageKey(nonce);
    try {
      return node === undefined
        ? gcm(messageKey, nonce.subarray(12, 24), additionalData).encrypt(plaintext)
        : nodeAesGcmSeal(node, messageKey, nonce.subarray(12, 24), plaintext, additionalData);
    } finally {
      messageKey.fill(0);
    }
  }

  /**
   * Decrypts ciphertext || tag; throws when authentication fails, and then returns no bytes.
   * Callers map every failure to one opaque error.
   */
  open(nonce: Uint8Array, sealed: Uint8Array, additionalData: Uint8Array): Uint8Array {
    if (sealed.length < XAES_TAG_BYTES) throw new Error("sealed message shorter than its tag");
    const node = nativeNodeCrypto();
    const messageKey = this.deriveMessageKey(nonce);
    try {
      return node === undefined
        ? gcm(messageKey, nonce.subarray(12, 24), additionalData).decrypt(sealed)
        : nodeAesGcmOpen(node, messageKey, nonce.subarray(12, 24), sealed, additionalData);
    } finally {
      messageKey.fill(0);
    }
  }

  /**
   * `true` when {@link XaesKey.sealAsync} and {@link XaesKey.openAsync} would take a faster,
   * asynchronous path (WebCrypto) for a message of this many plaintext bytes; otherwise the
   * synchronous calls are just as fast and spare the caller a promise.
   */
  prefersAsync(plaintextBytes: number): boolean {
    return largeMessageSubtle(plaintextBytes) !== undefined;
  }

  /** {@link XaesKey.seal}, using WebCrypto for large messages where `node:crypto` is absent. */
  async sealAsync(nonce: Uint8Array, plaintext: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
    const subtle = largeMessageSubtle(plaintext.length);
    return subtle === undefined ? this.seal(nonce, plaintext, additionalData) : this.#webCrypto(subtle, "encrypt", nonce, plaintext, additionalData);
  }

  /** {@link XaesKey.open}, using WebCrypto for large messages where `node:crypto` is absent. */
  async openAsync(nonce: Uint8Array, sealed: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
    const subtle = largeMessageSubtle(sealed.length - XAES_TAG_BYTES);
    return subtle === undefined ? this.open(nonce, sealed, additionalData) : this.#webCrypto(subtle, "decrypt", nonce, sealed, additionalData);
  }

  // AES-256-GCM under Kx with WebCrypto: the same layout as noble (ciphertext || tag).
  async #webCrypto(
    subtle: WebCryptoSubtle,
    operation: "encrypt" | "decrypt",
    nonce: Uint8Array,
    input: Uint8Array,
    additionalData: Uint8Array,
  ): Promise<Uint8Array> {
    const messageKey = this.deriveMessageKey(nonce);
    try {
      const key = await subtle.importKey("raw", messageKey, "AES-GCM", false, [operation]);
      const params = { name: "AES-GCM", iv: nonce.slice(12, 24), additionalData, tagLength: 128 } as const;
      return new Uint8Array(await subtle[operation](params, key, input));
    } finally {
      messageKey.fill(0);
    }
  }

  /** Zeroes K and K1 and drops the native context; every later use throws `INVALID_KEY`. */
  destroy(): void {
    this.#destroyed = true;
    this.#key.fill(0);
    this.#k1?.fill(0);
    this.#k1 = undefined;
    this.#nodeEcb = undefined;
  }

  /** `true` after {@link XaesKey.destroy}. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  #subkey(node: NodeCrypto | undefined): Uint8Array {
    const l = this.#encryptBlocks(node, new Uint8Array(16));
    const k1 = new Uint8Array(16);
    // Doubling in GF(2^128), big-endian, as in CMAC subkey generation (SP 800-38B §6.1).
    let carry = 0;
    for (let i = 15; i >= 0; i--) {
      const byte = l[i]!;
      k1[i] = ((byte << 1) | carry) & 0xff;
      carry = byte >>> 7;
    }
    k1[15]! ^= 0x87 & -carry;
    l.fill(0);
    return k1;
  }

  // AES-256 encryption of whole blocks under K (ECB, no padding).
  #encryptBlocks(node: NodeCrypto | undefined, blocks: Uint8Array): Uint8Array {
    if (node === undefined) return ecb(this.#key, BLOCK_ENCRYPT_OPTIONS).encrypt(blocks);
    if (this.#nodeEcb === undefined) {
      const context = node.createCipheriv("aes-256-ecb", this.#key, null);
      context.setAutoPadding(false);
      this.#nodeEcb = context;
    }
    return plainBytes(this.#nodeEcb.update(blocks));
  }
}

/** WebCrypto, for a message of this many plaintext bytes, when it is the path to take. */
function largeMessageSubtle(plaintextBytes: number): WebCryptoSubtle | undefined {
  return plaintextBytes >= WEBCRYPTO_MIN_BYTES && nativeNodeCrypto() === undefined ? nativeSubtle() : undefined;
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== XAES_NONCE_BYTES) throw new RangeError(`"nonce" expected 24 bytes, got ${nonce.length}`);
}
