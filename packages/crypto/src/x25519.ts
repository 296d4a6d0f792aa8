/**
 * X25519 (RFC 7748) for HPKE and device identities: noble's audited implementation, or
 * `node:crypto` where the runtime has it (native.ts). Both give the same bytes; Wycheproof's
 * x25519 cases are run against both paths (hpke.test.ts, native.test.ts). The asynchronous
 * exchange also has a WebCrypto path for browsers (webcrypto-curves.test.ts runs the same cases
 * through it).
 *
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { base64urlEncode, isBelowFieldPrime } from "./bytes";
import {
  nativeCurves,
  nativeNodeCrypto,
  nodeRawPublicKey,
  nodeX25519PrivateKey,
  nodeX25519PublicKey,
  webX25519PrivateKey,
  webX25519PublicKey,
  webX25519PublicKeyOf,
  type NodeCrypto,
  type NodeKeyObject,
} from "./native";

// Importing a public key into node:crypto costs about a third of an X25519 agreement, and the
// same recipients come back at every rotation: recipients' keys imported for an exchange are
// kept, oldest leaving first. Public keys only; a private key is never cached.
const PUBLIC_KEY_CACHE_SIZE = 4096;
const publicKeyObjects = new WeakMap<NodeCrypto, Map<string, NodeKeyObject>>();

function nodePublicKey(node: NodeCrypto, publicKey: Uint8Array): NodeKeyObject {
  let cache = publicKeyObjects.get(node);
  if (cache === undefined) publicKeyObjects.set(node, (cache = new Map()));
  const id = base64urlEncode(publicKey);
  let key = cache.get(id);
  if (key === undefined) {
    key = nodeX25519PublicKey(node, publicKey);
    if (cache.size >= PUBLIC_KEY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(id, key);
  }
  return key;
}

/** The public key (u-coordinate) of a 32-byte secret key, clamped as RFC 7748 §5 says. */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  const node = nativeNodeCrypto();
  if (node === undefined) return x25519.getPublicKey(secretKey);
  return nodeRawPublicKey(node, nodeX25519PrivateKey(node, secretKey));
}

/**
 * X25519(secretKey, publicKey). Throws for low-order public keys: noble refuses them before its
 * ladder; OpenSSL refuses their all-zero output. Callers also check for an all-zero result.
 */
export function x25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const node = nativeNodeCrypto();
  if (node === undefined) return x25519.getSharedSecret(secretKey, publicKey);
  const shared = node.diffieHellman({
    privateKey: nodeX25519PrivateKey(node, secretKey),
    publicKey: nodeX25519PublicKey(node, publicKey), // an ephemeral key (HPKE's enc): not worth keeping
  });
  return new Uint8Array(shared.buffer, shared.byteOffset, shared.byteLength);
}

/**
 * One side of an X25519 exchange with a fresh key: `{ shared: X25519(secretKey, publicKey),
 * ownPublicKey: X25519(secretKey, 9) }`, importing the secret into node:crypto once.
 */
export function x25519Exchange(secretKey: Uint8Array, publicKey: Uint8Array): { shared: Uint8Array; ownPublicKey: Uint8Array } {
  const node = nativeNodeCrypto();
  if (node === undefined) return { shared: x25519.getSharedSecret(secretKey, publicKey), ownPublicKey: x25519.getPublicKey(secretKey) };
  const privateKey = nodeX25519PrivateKey(node, secretKey);
  const shared = node.diffieHellman({ privateKey, publicKey: nodePublicKey(node, publicKey) });
  return { shared: new Uint8Array(shared.buffer, shared.byteOffset, shared.byteLength), ownPublicKey: nodeRawPublicKey(node, privateKey) };
}

/**
 * {@link x25519Exchange}, on WebCrypto's X25519 where `node:crypto` is absent and WebCrypto passed
 * its self-test (browsers, where it is several times faster than noble); the synchronous call
 * otherwise. A public key in a form no honest device sends (the top bit set, or u ≥ p) goes to
 * noble, which defines what those mean here; when WebCrypto refuses (a low-order public key,
 * which it reports as a failed derivation), noble gives the verdict. So both paths throw for the
 * same keys and agree on every output.
 */
export async function x25519ExchangeAsync(secretKey: Uint8Array, publicKey: Uint8Array): Promise<{ shared: Uint8Array; ownPublicKey: Uint8Array }> {
  const curves = isCanonicalU(publicKey) ? await nativeCurves() : undefined;
  if (curves !== undefined) {
    try {
      const [privateKey, peer] = await Promise.all([webX25519PrivateKey(curves, secretKey), webX25519PublicKey(curves, publicKey)]);
      const [shared, ownPublicKey] = await Promise.allSettled([
        curves.deriveBits({ name: "X25519", public: peer }, privateKey, 256),
        webX25519PublicKeyOf(curves, privateKey),
      ]);
      if (shared.status === "fulfilled" && ownPublicKey.status === "fulfilled") return { shared: new Uint8Array(shared.value), ownPublicKey: ownPublicKey.value };
      if (shared.status === "fulfilled") new Uint8Array(shared.value).fill(0);
    } catch {
      // noble's verdict below
    }
  }
  return x25519Exchange(secretKey, publicKey);
}

/** A u-coordinate in canonical form: below p = 2^255 − 19, top bit clear (RFC 7748 §5). */
function isCanonicalU(u: Uint8Array): boolean {
  return u.length === 32 && u[31]! <= 0x7f && isBelowFieldPrime(u);
}
