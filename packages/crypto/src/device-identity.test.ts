import { inspect } from "node:util";
import { E2eeError, deviceBundleSignatureInput } from "@domvia/e2ee-envelope";
import { x25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { base64urlDecode, base64urlEncode } from "./bytes";
import { encryptChatJson } from "./chat";
import { DeviceIdentity, createDeviceIdentity, identitySecrets, verifyDeviceBundle } from "./device-identity";
import { openRoomKeyShare, sealRoomKeyShare } from "./key-share";
import { generateAesGcmKey } from "./room-key";
import { generateSigningSecretKey, signingPublicKey, verify } from "./signing";
import { selfSignedBundle } from "../../../test/support/bundles";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Throws unless `run` throws an E2eeError; returns it. */
function catchE2eeError(run: () => unknown): E2eeError {
  try {
    run();
  } catch (error) {
    if (E2eeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an E2eeError, but nothing was thrown");
}

/** `text` with the character at `index` replaced by the next one in the base64url alphabet. */
function nextCharAt(text: string, index: number, step = 1): string {
  const replacement = ALPHABET[(ALPHABET.indexOf(text.charAt(index)) + step) % 64]!;
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

/**
 * Every one-character change of a base64url field: each position replaced by another alphabet
 * character. The last character of a 32- or 64-byte field carries 2 or 4 unused bits; a step of
 * 16 changes only used bits there, so every variant stays canonical and reaches the signature
 * check. Returns the variants with the position they changed.
 */
function everyCharacterChanged(text: string): { index: number; value: string }[] {
  return Array.from(text, (_, index) => ({ index, value: nextCharAt(text, index, index === text.length - 1 ? 16 : 1) }));
}

describe("createDeviceIdentity", () => {
  it("creates an identity with the given ids", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    expect(device).toBeInstanceOf(DeviceIdentity);
    expect(device.userId).toBe("user-1");
    expect(device.deviceId).toBe("phone");
  });

  it("accepts ids of 1 and 128 characters from the whole id alphabet", async () => {
    const device = await createDeviceIdentity({ userId: "u", deviceId: "A-z_0.9:@".padEnd(128, "x") });
    expect(device.deviceId).toHaveLength(128);
  });

  const badIds: readonly [string, unknown][] = [
    ["an empty string", ""],
    ["129 characters", "x".repeat(129)],
    ["a space", "user 1"],
    ["a slash", "user/1"],
    ["a newline", "user\n1"],
    ["non-ASCII", "usér"],
    ["a number", 42],
    ["undefined", undefined],
    ["null", null],
  ];

  it.each(badIds)("refuses a userId that is %s with a TypeError naming userId", async (_, userId) => {
    await expect(createDeviceIdentity({ userId: userId as string, deviceId: "phone" })).rejects.toThrow(TypeError);
    await expect(createDeviceIdentity({ userId: userId as string, deviceId: "phone" })).rejects.toThrow(/"userId"/);
  });

  it.each(badIds)("refuses a deviceId that is %s with a TypeError naming deviceId", async (_, deviceId) => {
    await expect(createDeviceIdentity({ userId: "user-1", deviceId: deviceId as string })).rejects.toThrow(TypeError);
    await expect(createDeviceIdentity({ userId: "user-1", deviceId: deviceId as string })).rejects.toThrow(/"deviceId"/);
  });

  it("creates fresh keys for each identity, even with the same ids", async () => {
    const a = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const b = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    expect(a.publicBundle.agreementKey).not.toBe(b.publicBundle.agreementKey);
    expect(a.publicBundle.signingKey).not.toBe(b.publicBundle.signingKey);
  });

  it("is frozen", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    expect(Object.isFrozen(device)).toBe(true);
    expect(Object.isFrozen(device.publicBundle)).toBe(true);
  });
});

describe("publicBundle", () => {
  it("has exactly the v1 fields, with the identity's ids and keys of the right sizes", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const bundle = device.publicBundle;
    expect(Object.keys(bundle).sort()).toEqual(["agreementKey", "deviceId", "signature", "signingKey", "type", "userId", "v"]);
    expect(bundle.v).toBe(1);
    expect(bundle.type).toBe("device-bundle");
    expect(bundle.userId).toBe("user-1");
    expect(bundle.deviceId).toBe("phone");
    expect(base64urlDecode(bundle.agreementKey)).toHaveLength(32);
    expect(base64urlDecode(bundle.signingKey)).toHaveLength(32);
    expect(base64urlDecode(bundle.signature)).toHaveLength(64);
  });

  it("carries the public keys of the exported secret keys, and a signature over the bundle input", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const state = device.exportState();
    const agreementKey = x25519.getPublicKey(base64urlDecode(state.agreementSecretKey)!);
    const signingKey = signingPublicKey(base64urlDecode(state.signingSecretKey)!);
    expect(device.publicBundle.agreementKey).toBe(base64urlEncode(agreementKey));
    expect(device.publicBundle.signingKey).toBe(base64urlEncode(signingKey));
    const signed = deviceBundleSignatureInput("user-1", "phone", agreementKey, signingKey);
    expect(verify(base64urlDecode(device.publicBundle.signature)!, signed, signingKey)).toBe(true);
  });

  it("is accepted by verifyDeviceBundle as an object and as JSON text", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    for (const input of [device.publicBundle, JSON.stringify(device.publicBundle), { ...device.publicBundle }]) {
      const verified = verifyDeviceBundle(input);
      expect(verified.bundle).toEqual(device.publicBundle);
      expect(bytesToHex(verified.agreementKey)).toBe(bytesToHex(base64urlDecode(device.publicBundle.agreementKey)!));
      expect(bytesToHex(verified.signingKey)).toBe(bytesToHex(base64urlDecode(device.publicBundle.signingKey)!));
    }
  });
});

describe("verifyDeviceBundle refuses any change", () => {
  it("refuses a changed userId or deviceId with BAD_SIGNATURE", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    for (const change of [{ userId: "user-2" }, { userId: "user-1x" }, { deviceId: "laptop" }, { deviceId: "Phone" }]) {
      const error = catchE2eeError(() => verifyDeviceBundle({ ...device.publicBundle, ...change }));
      expect(error.code, JSON.stringify(change)).toBe("BAD_SIGNATURE");
    }
  });

  it("refuses another device's agreement key, signing key or signature with BAD_SIGNATURE", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const other = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    for (const field of ["agreementKey", "signingKey", "signature"] as const) {
      const error = catchE2eeError(() => verifyDeviceBundle({ ...device.publicBundle, [field]: other.publicBundle[field] }));
      expect(error.code, field).toBe("BAD_SIGNATURE");
    }
  });

  for (const field of ["agreementKey", "signingKey", "signature"] as const) {
    it(`refuses every one-character change of ${field} with BAD_SIGNATURE`, { timeout: 30_000 }, async () => {
      const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
      const variants = everyCharacterChanged(device.publicBundle[field]);
      expect(variants).toHaveLength(field === "signature" ? 86 : 43);
      for (const { index, value } of variants) {
        const error = catchE2eeError(() => verifyDeviceBundle({ ...device.publicBundle, [field]: value }));
        expect(error.code, `${field}[${index}]`).toBe("BAD_SIGNATURE");
      }
    });
  }

  it("takes back the bundle object it returned as verified, and still refuses a changed copy of it", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const first = verifyDeviceBundle(JSON.parse(JSON.stringify(device.publicBundle)));
    expect(Object.isFrozen(first.bundle)).toBe(true);
    const again = verifyDeviceBundle(first.bundle);
    expect(again.bundle).toBe(first.bundle);
    expect(bytesToHex(again.agreementKey)).toBe(bytesToHex(first.agreementKey));
    again.agreementKey.fill(0); // a copy: the next caller still reads the real key
    expect(bytesToHex(verifyDeviceBundle(first.bundle).agreementKey)).toBe(bytesToHex(first.agreementKey));
    const other = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    expect(catchE2eeError(() => verifyDeviceBundle({ ...first.bundle, signature: other.publicBundle.signature })).code).toBe("BAD_SIGNATURE");
  });

  it("refuses a non-canonical last character (unused bits set) with INVALID_ENVELOPE", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    for (const field of ["agreementKey", "signingKey", "signature"] as const) {
      const text = device.publicBundle[field];
      const error = catchE2eeError(() => verifyDeviceBundle({ ...device.publicBundle, [field]: nextCharAt(text, text.length - 1) }));
      expect(error.code, field).toBe("INVALID_ENVELOPE");
    }
  });

  it("refuses malformed bundles with INVALID_ENVELOPE or UNSUPPORTED_VERSION, never success", async () => {
    const bundle = (await createDeviceIdentity({ userId: "user-1", deviceId: "phone" })).publicBundle;
    const { signature: _signature, ...unsigned } = bundle;
    const cases: readonly [string, unknown, string][] = [
      ["missing signature", unsigned, "INVALID_ENVELOPE"],
      ["extra field", { ...bundle, extra: 1 }, "INVALID_ENVELOPE"],
      ["wrong type", { ...bundle, type: "device" }, "INVALID_ENVELOPE"],
      ["v: 2", { ...bundle, v: 2 }, "UNSUPPORTED_VERSION"],
      ["v as a string", { ...bundle, v: "1" }, "UNSUPPORTED_VERSION"],
      ["short agreement key", { ...bundle, agreementKey: bundle.agreementKey.slice(0, 42) }, "INVALID_ENVELOPE"],
      ["padded signing key", { ...bundle, signingKey: `${bundle.signingKey}=` }, "INVALID_ENVELOPE"],
      ["standard base64 signature", { ...bundle, signature: `+/${bundle.signature.slice(2)}` }, "INVALID_ENVELOPE"],
      ["invalid userId", { ...bundle, userId: "user 1" }, "INVALID_ENVELOPE"],
      ["an array", [bundle], "INVALID_ENVELOPE"],
      ["null", null, "INVALID_ENVELOPE"],
      ["a number", 1, "INVALID_ENVELOPE"],
      ["truncated JSON text", JSON.stringify(bundle).slice(0, -1), "INVALID_ENVELOPE"],
    ];
    for (const [name, input, code] of cases) {
      expect(catchE2eeError(() => verifyDeviceBundle(input)).code, name).toBe(code);
    }
  });
});

describe("what a self-signature proves", () => {
  it("accepts a bundle for the same ids re-signed with another key: it proves consistency, not ownership", async () => {
    // A server (or anyone who relays bundles) can publish its own keys under Alice's ids, and the
    // self-signature verifies. Only pinning or an out-of-band fingerprint comparison detects it.
    const alice = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const attackerSigningKey = generateSigningSecretKey();
    const attackerAgreementKey = x25519.getPublicKey(x25519.utils.randomSecretKey());

    const substituted = selfSignedBundle("alice", "phone", attackerAgreementKey, attackerSigningKey);
    const verified = verifyDeviceBundle(substituted);
    expect(verified.bundle.userId).toBe("alice");
    expect(verified.bundle.deviceId).toBe("phone");
    expect(verified.bundle.signingKey).not.toBe(alice.publicBundle.signingKey);

    // Even Alice's own agreement key, re-signed by the attacker's key, verifies.
    const aliceAgreementKey = base64urlDecode(alice.publicBundle.agreementKey)!;
    const resigned = selfSignedBundle("alice", "phone", aliceAgreementKey, attackerSigningKey);
    expect(resigned.agreementKey).toBe(alice.publicBundle.agreementKey);
    expect(verifyDeviceBundle(resigned).bundle.signingKey).not.toBe(alice.publicBundle.signingKey);
  });

  it("accepts the bundle of another identity created with the same ids", async () => {
    await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    const impostor = await createDeviceIdentity({ userId: "alice", deviceId: "phone" });
    expect(verifyDeviceBundle(impostor.publicBundle).bundle.userId).toBe("alice");
  });
});

describe("exportState and importState", () => {
  it("exports the v1 identity state with 32-byte secret keys", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const state = device.exportState();
    expect(Object.keys(state).sort()).toEqual(["agreementSecretKey", "deviceId", "signingSecretKey", "type", "userId", "v"]);
    expect(state).toMatchObject({ v: 1, type: "device-identity", userId: "user-1", deviceId: "phone" });
    expect(base64urlDecode(state.agreementSecretKey)).toHaveLength(32);
    expect(base64urlDecode(state.signingSecretKey)).toHaveLength(32);
  });

  it("restores an identity with exactly the same public bundle (Ed25519 signing is deterministic)", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const restored = DeviceIdentity.importState(device.exportState());
    expect(restored).not.toBe(device);
    expect(restored.userId).toBe("user-1");
    expect(restored.deviceId).toBe("phone");
    expect(restored.publicBundle).toEqual(device.publicBundle);
    expect(restored.exportState()).toEqual(device.exportState());
  });

  it("restores from the state's JSON text, as stored", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const restored = DeviceIdentity.importState(JSON.stringify(device.exportState()));
    expect(restored.publicBundle).toEqual(device.publicBundle);
  });

  it("restores an identity whose secret keys sign and agree like the original's", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const restored = DeviceIdentity.importState(device.exportState());
    const original = identitySecrets(device);
    const copy = identitySecrets(restored);
    expect(bytesToHex(copy.signingSecretKey)).toBe(bytesToHex(original.signingSecretKey));
    expect(bytesToHex(copy.agreementSecretKey)).toBe(bytesToHex(original.agreementSecretKey));
  });

  it("returns a new state object each time; changing one does not change the identity", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const state = device.exportState() as { userId: string };
    state.userId = "someone-else";
    expect(device.exportState().userId).toBe("user-1");
  });

  it("refuses malformed states with INVALID_ENVELOPE or UNSUPPORTED_VERSION", async () => {
    const state = (await createDeviceIdentity({ userId: "user-1", deviceId: "phone" })).exportState();
    const { signingSecretKey: _signing, ...withoutSigningKey } = state;
    const cases: readonly [string, unknown, string][] = [
      ["missing signingSecretKey", withoutSigningKey, "INVALID_ENVELOPE"],
      ["extra field", { ...state, publicBundle: {} }, "INVALID_ENVELOPE"],
      ["wrong type", { ...state, type: "device-bundle" }, "INVALID_ENVELOPE"],
      ["v: undefined", { ...state, v: undefined }, "UNSUPPORTED_VERSION"],
      ["missing v", (({ v: _v, ...rest }) => rest)(state), "INVALID_ENVELOPE"],
      ["v: 2", { ...state, v: 2 }, "UNSUPPORTED_VERSION"],
      ["v: 0", { ...state, v: 0 }, "UNSUPPORTED_VERSION"],
      ["31-byte agreement secret", { ...state, agreementSecretKey: base64urlEncode(new Uint8Array(31)) }, "INVALID_ENVELOPE"],
      ["33-byte signing secret", { ...state, signingSecretKey: base64urlEncode(new Uint8Array(33)) }, "INVALID_ENVELOPE"],
      ["non-canonical base64url", { ...state, signingSecretKey: nextCharAt(state.signingSecretKey, 42) }, "INVALID_ENVELOPE"],
      ["padded base64url", { ...state, agreementSecretKey: `${state.agreementSecretKey}=` }, "INVALID_ENVELOPE"],
      ["a secret key as a number", { ...state, agreementSecretKey: 1 }, "INVALID_ENVELOPE"],
      ["invalid userId", { ...state, userId: "" }, "INVALID_ENVELOPE"],
      ["invalid deviceId", { ...state, deviceId: "a b" }, "INVALID_ENVELOPE"],
      ["null", null, "INVALID_ENVELOPE"],
      ["an array", [state], "INVALID_ENVELOPE"],
      ["not JSON", "{not json", "INVALID_ENVELOPE"],
      ["empty text", "", "INVALID_ENVELOPE"],
    ];
    for (const [name, input, code] of cases) {
      const error = catchE2eeError(() => DeviceIdentity.importState(input));
      expect(error.code, name).toBe(code);
    }
  });

  it("never repeats a secret key in an importState error", async () => {
    const state = (await createDeviceIdentity({ userId: "user-1", deviceId: "phone" })).exportState();
    const inputs = [
      { ...state, v: 2 },
      { ...state, extra: true },
      { ...state, agreementSecretKey: `${state.agreementSecretKey}A` },
      { ...state, signingSecretKey: `${state.signingSecretKey}=` },
    ];
    for (const input of inputs) {
      const error = catchE2eeError(() => DeviceIdentity.importState(input));
      expect(error.message).not.toContain(state.agreementSecretKey);
      expect(error.message).not.toContain(state.signingSecretKey);
      expect(JSON.stringify(error)).not.toContain(state.signingSecretKey);
    }
  });
});

describe("redaction", () => {
  async function deviceWithSecrets(): Promise<{ device: DeviceIdentity; secrets: string[] }> {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const state = device.exportState();
    const secrets = [state.agreementSecretKey, state.signingSecretKey];
    for (const secret of [...secrets]) {
      const hex = bytesToHex(base64urlDecode(secret)!);
      secrets.push(hex, hex.toUpperCase(), Buffer.from(hex, "hex").toString("base64"));
    }
    return { device, secrets };
  }

  function expectNoSecret(text: string, secrets: readonly string[], where: string): void {
    for (const secret of secrets) expect(text, where).not.toContain(secret);
  }

  it("JSON.stringify shows the ids and the public bundle only", async () => {
    const { device, secrets } = await deviceWithSecrets();
    const json = JSON.stringify(device);
    expectNoSecret(json, secrets, "JSON.stringify");
    expect(JSON.parse(json)).toEqual({ userId: "user-1", deviceId: "phone", publicBundle: device.publicBundle });
    expectNoSecret(JSON.stringify({ nested: [device] }), secrets, "nested JSON.stringify");
  });

  it("String(), template literals and util.inspect show the ids only", async () => {
    const { device, secrets } = await deviceWithSecrets();
    expect(String(device)).toBe("DeviceIdentity(user-1/phone)");
    expect(`${device}`).toBe("DeviceIdentity(user-1/phone)");
    expect(inspect(device)).toBe("DeviceIdentity(user-1/phone)");
    for (const text of [
      String(device),
      inspect(device, { showHidden: true, depth: Infinity, getters: true }),
      inspect({ device }, { showHidden: true, depth: Infinity }),
      inspect([device]),
    ]) {
      expectNoSecret(text, secrets, text);
    }
  });

  it("has no own property holding a secret key", async () => {
    const { device, secrets } = await deviceWithSecrets();
    expect(Object.getOwnPropertyNames(device).sort()).toEqual(["deviceId", "publicBundle", "userId"]);
    expect(Object.getOwnPropertySymbols(device)).toEqual([]);
    expectNoSecret(JSON.stringify({ ...device }), secrets, "spread");
    expectNoSecret(
      Object.values(Object.getOwnPropertyDescriptors(device))
        .map((descriptor) => JSON.stringify(descriptor.value))
        .join(" "),
      secrets,
      "property descriptors",
    );
  });
});

describe("DeviceIdentity.destroy", () => {
  const context = { roomId: "room-1", messageId: "msg-1", keyId: "room-1-v1", keyVersion: 1 };

  async function rejection(use: () => unknown): Promise<unknown> {
    try {
      await use();
    } catch (error) {
      return error;
    }
    throw new Error("expected the use to throw");
  }

  it("zeroes both secret keys and refuses every later use of them with INVALID_KEY", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const peer = await createDeviceIdentity({ userId: "user-2", deviceId: "laptop" });
    const roomKey = await generateAesGcmKey();
    const shareToDevice = sealRoomKeyShare({ ...context, key: roomKey, shareable: false, from: peer, to: device.publicBundle });
    const keys = identitySecrets(device);
    expect(device.destroyed).toBe(false);
    device.destroy();
    expect(device.destroyed).toBe(true);
    expect([...keys.agreementSecretKey, ...keys.signingSecretKey].every((byte) => byte === 0)).toBe(true);
    const uses: [string, () => unknown][] = [
      ["exportState", () => device.exportState()],
      ["sign a message", () => encryptChatJson({ body: "after" }, roomKey, { ...context, sender: device })],
      ["seal a key share", () => sealRoomKeyShare({ ...context, key: roomKey, shareable: false, from: device, to: peer.publicBundle })],
      ["open a key share", () => openRoomKeyShare({ share: shareToDevice, device, senderBundle: peer.publicBundle })],
    ];
    for (const [name, use] of uses) {
      const error = await rejection(use);
      expect(E2eeError.isInstance(error, "INVALID_KEY"), name).toBe(true);
      expect((error as Error).message, name).toMatch(/^"(device|sender|from)" was destroyed$/);
    }
  });

  it("keeps the ids and the public bundle, which stay valid for others to verify", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const bundle = device.publicBundle;
    device.destroy();
    expect(device.publicBundle).toBe(bundle);
    expect(verifyDeviceBundle(bundle).bundle).toEqual(bundle);
    expect(String(device)).toBe("DeviceIdentity(user-1/phone)");
    expect(JSON.parse(JSON.stringify(device))).toEqual({ userId: "user-1", deviceId: "phone", publicBundle: bundle });
  });

  it("is idempotent and leaves an identity imported from the same state working", async () => {
    const device = await createDeviceIdentity({ userId: "user-1", deviceId: "phone" });
    const copy = DeviceIdentity.importState(device.exportState());
    device.destroy();
    device.destroy();
    expect(device.destroyed).toBe(true);
    expect(copy.destroyed).toBe(false);
    const roomKey = await generateAesGcmKey();
    const envelope = await encryptChatJson({ body: "still here" }, roomKey, { ...context, sender: copy });
    expect(envelope.v).toBe(2);
  });
});
