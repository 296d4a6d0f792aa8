import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalBytes } from "../canonical";
import { encodeAssociatedDataV2, type AssociatedDataV2 } from "../v2/envelope";
import {
  ASSOCIATED_DATA_LABEL_V1,
  SUITE_V1,
  associatedDataBytes,
  encodeAssociatedDataV1,
  type AssociatedDataV1,
} from "./associated-data";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

const BASE: AssociatedDataV1 = Object.freeze({ roomId: "room-42", messageId: "msg-1", keyId: "room-42-v1", keyVersion: 1 });

describe("encodeAssociatedDataV1", () => {
  it("encodes the documented layout, byte for byte", () => {
    // AD = LP(label) || u8(1) || LP(suite) || LP(roomId) || LP(messageId) || LP(keyId) || u32be(keyVersion)
    // LP(x) = u16be(length) || ASCII bytes. Written out by hand:
    const expected =
      "0014" + "646f6d7669612d653265652f656e76656c6f7065" + // LP("domvia-e2ee/envelope"), 20 bytes
      "01" + // format version 1
      "000d" + "7861657332353667636d2d6b63" + // LP("xaes256gcm-kc"), 13 bytes
      "0001" + "72" + // LP("r")
      "0002" + "6d31" + // LP("m1")
      "0003" + "6b2e4b" + // LP("k.K")
      "01020304"; // u32be(16909060)
    const ad = encodeAssociatedDataV1({ roomId: "r", messageId: "m1", keyId: "k.K", keyVersion: 0x01020304 });
    expect(hex(ad)).toBe(expected);
    expect(ad).toBeInstanceOf(Uint8Array);
    expect(ad.length).toBe(2 + 20 + 1 + 2 + 13 + 3 + 4 + 5 + 4);
  });

  it("starts with the label and suite constants", () => {
    expect(ASSOCIATED_DATA_LABEL_V1).toBe("domvia-e2ee/envelope");
    expect(SUITE_V1).toBe("xaes256gcm-kc");
  });

  it("encodes the guide's example context", () => {
    const ad = encodeAssociatedDataV1(BASE);
    const tail = "0007" + Buffer.from("room-42").toString("hex") + "0005" + Buffer.from("msg-1").toString("hex") +
      "000a" + Buffer.from("room-42-v1").toString("hex") + "00000001";
    expect(hex(ad).endsWith(tail)).toBe(true);
    expect(ad.length).toBe(38 + 9 + 7 + 12 + 4);
  });

  it("encodes the largest key version and a 128-character id", () => {
    const longest = "z".repeat(128);
    const ad = encodeAssociatedDataV1({ ...BASE, keyId: longest, keyVersion: 2_147_483_647 });
    expect(hex(ad).endsWith("0080" + "7a".repeat(128) + "7fffffff")).toBe(true);
  });

  it("changes when any field changes", () => {
    const base = hex(encodeAssociatedDataV1(BASE));
    const variants: AssociatedDataV1[] = [
      { ...BASE, roomId: "room-43" },
      { ...BASE, roomId: "Room-42" },
      { ...BASE, messageId: "msg-2" },
      { ...BASE, messageId: "msg-1." },
      { ...BASE, keyId: "room-42-v2" },
      { ...BASE, keyVersion: 2 },
      { ...BASE, keyVersion: 257 },
      { ...BASE, keyVersion: 2 ** 24 + 1 },
    ];
    const encodings = variants.map((variant) => hex(encodeAssociatedDataV1(variant)));
    for (const encoding of encodings) expect(encoding).not.toBe(base);
    expect(new Set(encodings).size).toBe(variants.length);
  });

  it("does not collide when ids are split differently (room a + message bc vs room ab + message c)", () => {
    const a = encodeAssociatedDataV1({ ...BASE, roomId: "a", messageId: "bc" });
    const b = encodeAssociatedDataV1({ ...BASE, roomId: "ab", messageId: "c" });
    expect(hex(a)).not.toBe(hex(b));
    expect(a.length).toBe(b.length);
  });

  it("does not collide for any split of one string across room, message and key id", () => {
    const text = "abcdefg";
    const encodings = new Set<string>();
    let contexts = 0;
    for (let i = 1; i < text.length - 1; i++) {
      for (let j = i + 1; j < text.length; j++) {
        const context = { roomId: text.slice(0, i), messageId: text.slice(i, j), keyId: text.slice(j), keyVersion: 1 };
        encodings.add(hex(encodeAssociatedDataV1(context)));
        contexts++;
      }
    }
    expect(contexts).toBe(15);
    expect(encodings.size).toBe(contexts);
  });

  it("is injective: different contexts never encode to the same bytes", () => {
    const id = fc.stringMatching(/^[a-c.:]{1,4}$/);
    const context = fc.record({ roomId: id, messageId: id, keyId: id, keyVersion: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(context, context, (first, second) => {
        const same = JSON.stringify(first) === JSON.stringify(second);
        expect(hex(encodeAssociatedDataV1(first)) === hex(encodeAssociatedDataV1(second))).toBe(same);
      }),
      { numRuns: 300 },
    );
  });

  const badIds: [string, unknown][] = [
    ["empty", ""],
    ["129 characters", "a".repeat(129)],
    ["with a space", "room 42"],
    ["with a slash", "room/42"],
    ["non-ASCII", "rööm"],
    ["a number", 42],
    ["undefined", undefined],
    ["null", null],
  ];

  for (const field of ["roomId", "messageId", "keyId"] as const) {
    it.each(badIds)(`throws TypeError for a ${field} that is %s`, (_name, value) => {
      const context = { ...BASE, [field]: value } as unknown as AssociatedDataV1;
      expect(() => encodeAssociatedDataV1(context)).toThrow(TypeError);
      expect(() => encodeAssociatedDataV1(context)).toThrow(`"${field}"`);
    });
  }

  const badVersions: [string, unknown][] = [
    ["0", 0],
    ["-1", -1],
    ["1.5", 1.5],
    ["2^31", 2 ** 31],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ['"1"', "1"],
    ["1n", 1n],
  ];

  it.each(badVersions)("throws TypeError for keyVersion %s", (_name, keyVersion) => {
    const context = { ...BASE, keyVersion } as unknown as AssociatedDataV1;
    expect(() => encodeAssociatedDataV1(context)).toThrow(TypeError);
  });

  it("does not echo an invalid id in its TypeError", () => {
    const secret = "SECRET MARKER 33d0";
    expect(() => encodeAssociatedDataV1({ ...BASE, roomId: secret })).toThrow(
      '"roomId" expected 1-128 characters of A-Z a-z 0-9 . _ : @ -, got a string of length 18',
    );
  });
});

describe("the hand-written associated data encoder (v1 and v2)", () => {
  /** The reference: canonicalBytes of the fields SPEC.md §4 and §8 list. */
  function expected(version: 1 | 2, context: AssociatedDataV2): string {
    const { roomId, messageId, keyId, keyVersion, senderUserId, senderDeviceId } = context;
    const fields = [{ text: "domvia-e2ee/envelope" }, { u8: version }, { text: "xaes256gcm-kc" }, { text: roomId }, { text: messageId }, { text: keyId }, { u32: keyVersion }];
    return hex(canonicalBytes(version === 1 ? fields : [...fields, { text: senderUserId }, { text: senderDeviceId }]));
  }
  function check(context: AssociatedDataV2): void {
    expect(hex(encodeAssociatedDataV1(context)), "v1").toBe(expected(1, context));
    expect(hex(encodeAssociatedDataV2(context)), "v2").toBe(expected(2, context));
  }

  const ID_CHARACTERS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-"];
  const id = fc.oneof(fc.string({ unit: fc.constantFrom(...ID_CHARACTERS), minLength: 1, maxLength: 128 }), fc.constantFrom("a", "@".repeat(127), "Z".repeat(128)));
  const keyVersion = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constantFrom(1, 255, 256, 65_535, 65_536, 2 ** 24 - 1, 2 ** 24, 2 ** 31 - 1));
  const context = fc.record({ roomId: id, messageId: id, keyId: id, keyVersion, senderUserId: id, senderDeviceId: id });

  it("gives the same bytes as canonicalBytes of the fields, for random valid ids and key versions", () => {
    fc.assert(fc.property(context, check), { numRuns: 1000 });
  });

  it("gives the same bytes as canonicalBytes for 128-character ids and key version 2147483647", () => {
    const longest = (character: string): string => character.repeat(128);
    check({ roomId: longest("r"), messageId: longest("-"), keyId: longest("9"), keyVersion: 2_147_483_647, senderUserId: longest("@"), senderDeviceId: longest("_") });
    check({ roomId: "r", messageId: longest("m"), keyId: "k", keyVersion: 2_147_483_647, senderUserId: "u", senderDeviceId: longest("d") });
  });

  it("returns a fresh array each time: changing one encoding leaves the next unchanged", () => {
    const full: AssociatedDataV2 = { ...BASE, senderUserId: "alice", senderDeviceId: "phone-1" };
    for (const [version, encode] of [[1, encodeAssociatedDataV1], [2, encodeAssociatedDataV2]] as const) {
      encode(full).fill(0xff);
      expect(hex(encode(full)), `v${version}`).toBe(expected(version, full));
    }
  });
});

describe("associatedDataBytes, called without validated ids", () => {
  it("refuses what canonicalBytes refuses instead of writing other bytes: non-ASCII, over-long ids, one sender id alone", () => {
    expect(() => associatedDataBytes(1, "\u0172", "m", "k", 1)).toThrow(RangeError); // low byte "r"
    expect(() => associatedDataBytes(1, "r".repeat(300), "m", "k", 1)).toThrow(RangeError);
    expect(() => associatedDataBytes(2, "r", "m", "k", 1, "user", undefined)).toThrow(RangeError);
    expect(hex(associatedDataBytes(1, "r", "m1", "k.K", 0x01020304))).toBe(hex(encodeAssociatedDataV1({ roomId: "r", messageId: "m1", keyId: "k.K", keyVersion: 0x01020304 })));
  });
});
