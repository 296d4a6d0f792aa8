/**
 * Signed (v2) chat envelopes: the sender device's ids bound into the associated data and an
 * Ed25519 signature over every field (SPEC.md §7), verified against a bundle the app resolves.
 */
import {
  E2eeError,
  encodeAssociatedDataV2,
  envelopeSignatureInputV2,
  type DeviceBundle,
  type Envelope,
  type EnvelopeV1,
  type EnvelopeV2,
} from "@domvia/e2ee-envelope";
import { describe, expect, it, vi } from "vitest";
import { ALPHABET, changedAt, replaceAt } from "../test/support";
import { base64urlDecode, base64urlEncode } from "./bytes";
import {
  decryptChatJson,
  decryptChatMessage,
  encryptChatJson,
  type DecryptChatJsonContext,
  type SenderBundleResolver,
  type SenderReference,
} from "./chat";
import { DeviceIdentity, createDeviceIdentity } from "./device-identity";
import { generateRoomKeySync, type RoomKey } from "./room-key";
import { sign } from "./signing";

const MESSAGE = Object.freeze({ body: "Signed private message", n: 7 });
const CONTEXT = Object.freeze({ roomId: "room-42", messageId: "msg-1", keyId: "room-42-key", keyVersion: 2 });
const RECEIVED = Object.freeze({ roomId: "room-42", messageId: "msg-1" });

/** The settled rejection of `promise` as an E2eeError; fails the test if it fulfils with data. */
async function rejection(promise: Promise<unknown>): Promise<E2eeError> {
  const outcome = await promise.then(
    (value) => ({ fulfilled: true as const, value }),
    (error: unknown) => ({ fulfilled: false as const, error }),
  );
  if (outcome.fulfilled) throw new Error(`expected a rejection, got data: ${JSON.stringify(outcome.value)}`);
  if (!E2eeError.isInstance(outcome.error)) throw outcome.error;
  return outcome.error;
}

function bytesOf(text: string): Uint8Array {
  const bytes = base64urlDecode(text);
  if (bytes === undefined) throw new Error("test fixture is not base64url");
  return bytes;
}

/** A resolver over a directory of bundles, keyed `userId/deviceId`. */
function directory(...bundles: DeviceBundle[]): SenderBundleResolver {
  const byId = new Map(bundles.map((bundle) => [`${bundle.userId}/${bundle.deviceId}`, bundle]));
  return ({ userId, deviceId }) => byId.get(`${userId}/${deviceId}`);
}

interface Fixture {
  readonly alice: DeviceIdentity;
  readonly bob: DeviceIdentity;
  readonly mallory: DeviceIdentity;
  readonly key: RoomKey;
  readonly envelope: EnvelopeV2;
  readonly context: DecryptChatJsonContext;
}

async function fixture(): Promise<Fixture> {
  const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
  const bob = await createDeviceIdentity({ userId: "bob", deviceId: "laptop" });
  const mallory = await createDeviceIdentity({ userId: "mallory", deviceId: "phone" });
  const key = generateRoomKeySync();
  const envelope = (await encryptChatJson(MESSAGE, key, { ...CONTEXT, sender: alice })) as EnvelopeV2;
  const context = { ...RECEIVED, resolveSender: directory(alice.publicBundle, bob.publicBundle, mallory.publicBundle) };
  return { alice, bob, mallory, key, envelope, context };
}

/** `envelope` as v1: sender fields removed, `v` set to 1, everything else kept. */
function strippedToV1(envelope: EnvelopeV2): EnvelopeV1 {
  const { senderUserId: _user, senderDeviceId: _device, signature: _signature, ...rest } = envelope;
  return { ...rest, v: 1 };
}

describe("signed (v2) envelopes", () => {
  it("encrypts with a sender to a v2 envelope naming the sender device, with a 64-byte signature", async () => {
    const f = await fixture();
    expect(f.envelope.v).toBe(2);
    expect(f.envelope).toMatchObject({ ...CONTEXT, suite: "xaes256gcm-kc", senderUserId: "alice", senderDeviceId: "phone" });
    expect(Object.keys(f.envelope).sort()).toEqual(
      ["ciphertext", "commitment", "keyId", "keyVersion", "messageId", "nonce", "roomId", "senderDeviceId", "senderUserId", "signature", "suite", "v"],
    );
    expect(bytesOf(f.envelope.signature)).toHaveLength(64);
  });

  it("decrypts to the value, the key version and the verified sender", async () => {
    const f = await fixture();
    const message = await decryptChatMessage(f.envelope, f.key, f.context);
    expect(message).toEqual({ value: MESSAGE, keyId: CONTEXT.keyId, keyVersion: CONTEXT.keyVersion, sender: { userId: "alice", deviceId: "phone" } });
    expect(await decryptChatJson(f.envelope, f.key, f.context)).toEqual(MESSAGE);
  });

  it("decrypts from the envelope's JSON text and with a key resolver", async () => {
    const f = await fixture();
    const resolveKey = vi.fn(() => f.key);
    const message = await decryptChatMessage(JSON.stringify(f.envelope), resolveKey, f.context);
    expect(message.sender).toEqual({ userId: "alice", deviceId: "phone" });
    expect(resolveKey).toHaveBeenCalledWith({ roomId: "room-42", keyId: CONTEXT.keyId, keyVersion: CONTEXT.keyVersion });
  });

  it("asks the resolver once, for exactly the sender the envelope names, and accepts an async resolver", async () => {
    const f = await fixture();
    const resolveSender = vi.fn(async (sender: SenderReference) => (sender.userId === "alice" ? f.alice.publicBundle : undefined));
    const message = await decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender });
    expect(message.sender).toEqual({ userId: "alice", deviceId: "phone" });
    expect(resolveSender).toHaveBeenCalledTimes(1);
    expect(resolveSender).toHaveBeenCalledWith({ userId: "alice", deviceId: "phone" });
  });

  it("accepts the bundle as JSON-parsed data from a server (a plain copy)", async () => {
    const f = await fixture();
    const copy = JSON.parse(JSON.stringify(f.alice.publicBundle)) as DeviceBundle;
    const message = await decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender: () => copy });
    expect(message.sender).toEqual({ userId: "alice", deviceId: "phone" });
  });

  it("verifies envelopes from a sender identity restored from its exported state", async () => {
    const f = await fixture();
    const restored = DeviceIdentity.importState(f.alice.exportState());
    const envelope = await encryptChatJson(MESSAGE, f.key, { ...CONTEXT, sender: restored });
    expect((await decryptChatMessage(envelope, f.key, f.context)).sender).toEqual({ userId: "alice", deviceId: "phone" });
  });

  it("accepts v2 when requireSignature is true", async () => {
    const f = await fixture();
    const message = await decryptChatMessage(f.envelope, f.key, { ...f.context, requireSignature: true });
    expect(message.value).toEqual(MESSAGE);
    expect(message.sender).toEqual({ userId: "alice", deviceId: "phone" });
  });

  it("still returns sender null for an unsigned (v1) envelope when no signature is required", async () => {
    const f = await fixture();
    const v1 = await encryptChatJson(MESSAGE, f.key, CONTEXT);
    expect(v1.v).toBe(1);
    const message = await decryptChatMessage(v1, f.key, f.context);
    expect(message).toEqual({ value: MESSAGE, keyId: CONTEXT.keyId, keyVersion: CONTEXT.keyVersion, sender: null });
  });

  it("refuses an unsigned (v1) envelope with BAD_SIGNATURE when a signature is required, before any key lookup", async () => {
    const f = await fixture();
    const v1 = await encryptChatJson(MESSAGE, f.key, CONTEXT);
    const resolveKey = vi.fn(() => f.key);
    const error = await rejection(decryptChatMessage(v1, resolveKey, { ...f.context, requireSignature: true }));
    expect(error.code).toBe("BAD_SIGNATURE");
    expect(resolveKey).not.toHaveBeenCalled();
  });

  it("throws TypeError when the sender is not a DeviceIdentity", async () => {
    const f = await fixture();
    for (const sender of [f.alice.publicBundle, {}, "alice"]) {
      await expect(encryptChatJson(MESSAGE, f.key, { ...CONTEXT, sender: sender as unknown as DeviceIdentity })).rejects.toThrow(TypeError);
    }
  });
});

describe("who signed it", () => {
  it("fails UNKNOWN_SENDER without a resolver", async () => {
    const f = await fixture();
    expect((await rejection(decryptChatMessage(f.envelope, f.key, RECEIVED))).code).toBe("UNKNOWN_SENDER");
  });

  it("fails UNKNOWN_SENDER when the resolver finds no bundle (undefined or null)", async () => {
    const f = await fixture();
    for (const resolveSender of [() => undefined, async () => undefined, () => null as unknown as undefined]) {
      expect((await rejection(decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender }))).code).toBe("UNKNOWN_SENDER");
    }
  });

  it("fails UNKNOWN_SENDER when the resolver returns another device's bundle", async () => {
    const f = await fixture();
    const alicesLaptop = await createDeviceIdentity({ userId: "alice", deviceId: "laptop" });
    for (const bundle of [f.bob.publicBundle, f.mallory.publicBundle, alicesLaptop.publicBundle]) {
      const error = await rejection(decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender: () => bundle }));
      expect(error.code, `${bundle.userId}/${bundle.deviceId}`).toBe("UNKNOWN_SENDER");
    }
  });

  it("fails BAD_SIGNATURE for a forged bundle with Alice's ids and an attacker's key (self-signed, so the bundle verifies)", async () => {
    const f = await fixture();
    const forged = (await createDeviceIdentity({ userId: "alice", deviceId: "phone" })).publicBundle;
    const error = await rejection(decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender: () => forged }));
    expect(error.code).toBe("BAD_SIGNATURE");
  });

  it("fails BAD_SIGNATURE for Alice's bundle with a tampered field, INVALID_ENVELOPE for a malformed one", async () => {
    const f = await fixture();
    const bundle = f.alice.publicBundle;
    const tampered = { ...bundle, agreementKey: f.bob.publicBundle.agreementKey };
    expect((await rejection(decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender: () => tampered }))).code).toBe("BAD_SIGNATURE");
    const malformed = { ...bundle, signature: "x" } as DeviceBundle;
    expect((await rejection(decryptChatMessage(f.envelope, f.key, { ...RECEIVED, resolveSender: () => malformed }))).code).toBe("INVALID_ENVELOPE");
  });

  it("fails DECRYPTION_FAILED for a validly signed envelope opened with another room key", async () => {
    const f = await fixture();
    const error = await rejection(decryptChatMessage(f.envelope, generateRoomKeySync(), f.context));
    expect(error.code).toBe("DECRYPTION_FAILED");
  });
});

describe("a member cannot speak as another member", () => {
  it("fails BAD_SIGNATURE when Mallory, holding the room key, signs with her own key but claims Alice's device", async () => {
    const f = await fixture();
    // Mallory makes an identity with Alice's ids: her keys, Alice's name.
    const malloryAsAlice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const forged = await encryptChatJson({ body: "send money" }, f.key, { ...CONTEXT, sender: malloryAsAlice });
    expect(forged).toMatchObject({ v: 2, senderUserId: "alice", senderDeviceId: "phone" });
    expect((await rejection(decryptChatMessage(forged, f.key, f.context))).code).toBe("BAD_SIGNATURE");
  });

  it("fails BAD_SIGNATURE when Mallory rewrites her own envelope's sender to Alice and re-signs it", async () => {
    const f = await fixture();
    const own = (await encryptChatJson({ body: "send money" }, f.key, { ...CONTEXT, sender: f.mallory })) as EnvelopeV2;
    expect((await decryptChatMessage(own, f.key, f.context)).sender).toEqual({ userId: "mallory", deviceId: "phone" });
    const claimed = { ...own, senderUserId: "alice", senderDeviceId: "phone" };
    const associatedData = encodeAssociatedDataV2({ ...CONTEXT, senderUserId: "alice", senderDeviceId: "phone" });
    const signed = envelopeSignatureInputV2(associatedData, bytesOf(own.nonce), bytesOf(own.commitment), bytesOf(own.ciphertext));
    const signature = sign(bytesOf(f.mallory.exportState().signingSecretKey), signed);
    const forged: EnvelopeV2 = { ...claimed, signature: base64urlEncode(signature) };
    expect((await rejection(decryptChatMessage(forged, f.key, f.context))).code).toBe("BAD_SIGNATURE");
    // Without re-signing, the rewrite fails the same way.
    expect((await rejection(decryptChatMessage(claimed, f.key, f.context))).code).toBe("BAD_SIGNATURE");
  });

  it("fails BAD_SIGNATURE when Alice's signature is moved onto Mallory's envelope", async () => {
    const f = await fixture();
    const own = (await encryptChatJson(MESSAGE, f.key, { ...CONTEXT, sender: f.mallory })) as EnvelopeV2;
    const moved = { ...own, senderUserId: "alice", senderDeviceId: "phone", signature: f.envelope.signature };
    expect((await rejection(decryptChatMessage(moved, f.key, f.context))).code).toBe("BAD_SIGNATURE");
  });
});

describe("stripping the signature", () => {
  it("fails DECRYPTION_FAILED for a v2 envelope turned into v1 (the associated data differs)", async () => {
    const f = await fixture();
    const error = await rejection(decryptChatMessage(strippedToV1(f.envelope), f.key, f.context));
    expect(error.code).toBe("DECRYPTION_FAILED");
    expect(error.message).toBe("decryption failed");
  });

  it("fails BAD_SIGNATURE for the stripped envelope when a signature is required", async () => {
    const f = await fixture();
    const error = await rejection(decryptChatMessage(strippedToV1(f.envelope), f.key, { ...f.context, requireSignature: true }));
    expect(error.code).toBe("BAD_SIGNATURE");
  });

  it("fails INVALID_ENVELOPE for v: 1 that keeps the sender fields, and for v2 without them", async () => {
    const f = await fixture();
    expect((await rejection(decryptChatMessage({ ...f.envelope, v: 1 }, f.key, f.context))).code).toBe("INVALID_ENVELOPE");
    const { signature: _signature, ...unsigned } = f.envelope;
    expect((await rejection(decryptChatMessage(unsigned, f.key, f.context))).code).toBe("INVALID_ENVELOPE");
  });
});

describe("tampering with a signed envelope never yields data", () => {
  it("fails with the expected code for another value in each string and number field", async () => {
    const f = await fixture();
    const cases: readonly [keyof EnvelopeV2, unknown, string][] = [
      ["v", 3, "UNSUPPORTED_VERSION"],
      ["v", 1, "INVALID_ENVELOPE"],
      ["suite", "xaes256gcm", "INVALID_ENVELOPE"],
      ["roomId", "room-43", "CONTEXT_MISMATCH"],
      ["messageId", "msg-2", "CONTEXT_MISMATCH"],
      ["keyId", "room-42-key-b", "BAD_SIGNATURE"],
      ["keyVersion", 1, "BAD_SIGNATURE"],
      ["keyVersion", 3, "BAD_SIGNATURE"],
      // Another known device: its bundle resolves, and Alice's signature does not verify under it.
      ["senderUserId", "mallory", "BAD_SIGNATURE"],
      ["senderUserId", "bob", "UNKNOWN_SENDER"],
      ["senderDeviceId", "laptop", "UNKNOWN_SENDER"],
      // Unknown devices: nothing to verify against.
      ["senderUserId", "eve", "UNKNOWN_SENDER"],
      ["senderDeviceId", "tablet", "UNKNOWN_SENDER"],
      ["senderUserId", "alice phone", "INVALID_ENVELOPE"],
      ["signature", "", "INVALID_ENVELOPE"],
    ];
    const covered = new Set<string>(["nonce", "commitment", "ciphertext", "signature"]);
    for (const [field, value, code] of cases) {
      covered.add(field);
      const error = await rejection(decryptChatMessage({ ...f.envelope, [field]: value }, f.key, f.context));
      expect(error.code, `${field} = ${String(value)}`).toBe(code);
    }
    expect([...covered].sort()).toEqual(Object.keys(f.envelope).sort());
  });

  it("fails BAD_SIGNATURE with both sender fields moved to another known device", async () => {
    const f = await fixture();
    for (const device of [f.bob, f.mallory]) {
      const moved = { ...f.envelope, senderUserId: device.userId, senderDeviceId: device.deviceId };
      expect((await rejection(decryptChatMessage(moved, f.key, f.context))).code, String(device)).toBe("BAD_SIGNATURE");
    }
  });

  for (const field of ["signature", "nonce", "commitment", "ciphertext"] as const) {
    it(`fails BAD_SIGNATURE for every one-character change of ${field}, before decrypting`, { timeout: 30_000 }, async () => {
      const f = await fixture();
      const text = f.envelope[field];
      for (let index = 0; index < text.length; index++) {
        const error = await rejection(decryptChatMessage({ ...f.envelope, [field]: changedAt(text, index) }, f.key, f.context));
        expect(error.code, `${field}[${index}]`).toBe("BAD_SIGNATURE");
      }
    });
  }

  it("fails INVALID_ENVELOPE for a non-canonical or wrong-length signature", async () => {
    const f = await fixture();
    const text = f.envelope.signature;
    const last = text.length - 1;
    for (const signature of [replaceAt(text, last, ALPHABET[ALPHABET.indexOf(text.charAt(last)) ^ 1]!), text.slice(0, -1), `${text}AA`, `${text}=`]) {
      expect((await rejection(decryptChatMessage({ ...f.envelope, signature }, f.key, f.context))).code, signature).toBe("INVALID_ENVELOPE");
    }
  });

  it("fails BAD_SIGNATURE for Alice's signature from another of her envelopes", async () => {
    const f = await fixture();
    const other = (await encryptChatJson(MESSAGE, f.key, { ...CONTEXT, sender: f.alice })) as EnvelopeV2;
    expect(other.signature).not.toBe(f.envelope.signature);
    const swapped: Envelope = { ...f.envelope, signature: other.signature };
    expect((await rejection(decryptChatMessage(swapped, f.key, f.context))).code).toBe("BAD_SIGNATURE");
  });
});
