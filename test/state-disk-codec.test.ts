// The disk backend's bytes (runtime/state/disk/codec.ts): every state value and map key reads
// back as it was written, whichever encoding it takes (1-byte and 4-byte integers, doubles, strings,
// the v8 fallback for lists, maps and records).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeInto, decodeValues, encodeValues, mapKeyOf, tableKey, tableKeyScratch } from "../runtime/state/disk/codec.js";

const same = (a: unknown, b: unknown): void => {
  if (typeof a === "number") expect(Object.is(a, b), `${String(a)} read back as ${String(b)}`).toBe(true);
  else expect(b).toEqual(a);
};

describe("the disk backend's codec", () => {
  it("reads back numbers of every kind, strings, booleans, null and undefined as written", () => {
    const values = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1), 0.5, -1e-300, 1e300, NaN, Infinity, -Infinity, "", "héllo 😀", null, undefined, true, false];
    const back = decodeValues(encodeValues(values));
    values.forEach((v, i) => same(v, back[i]));
    const cols = values.map(() => [undefined] as unknown[]);
    decodeInto(encodeValues(["typed key", ...values]), cols, 1);
    values.forEach((v, i) => same(v, cols[i]![0]));
  });

  it("reads back lists, maps and records through the v8 fallback", () => {
    const values = [1, new Map([["a", 1]]), [1, 2, 3], { x: 1, y: "z" }, new Set([1])];
    const back = decodeValues(encodeValues(values));
    expect(back).toEqual(values);
  });

  it("any numbers and strings read back exactly, integers of 0…255 take 1 byte and other 32-bit ones 4", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.integer(), fc.maxSafeInteger(), fc.string())), (values) => {
        const back = decodeValues(encodeValues(values));
        values.forEach((v, i) => same(v, back[i]));
      }),
    );
    expect(encodeValues([7]).length).toBe(2 + 2);
    expect(encodeValues([255]).length).toBe(2 + 2);
    expect(encodeValues([256]).length).toBe(2 + 5);
    expect(encodeValues([-1]).length).toBe(2 + 5);
    expect(encodeValues([7.5]).length).toBe(2 + 9);
    for (const v of [0, 1, 255, 256, -1, -0]) same(v, decodeValues(encodeValues([v]))[0]);
  });

  it("map keys read back from their store keys, from the shared buffer too, and keep their key group", () => {
    for (const mk of [0, 42, -7, 2 ** 40, 0.25, "user-1", "", "😀", true, false, null]) {
      const k = tableKey(3, 17, mk);
      expect(k.readUInt16BE(0)).toBe(3);
      expect(k.readUInt16BE(3)).toBe(17);
      same(mk, mapKeyOf(k));
      expect(Buffer.from(tableKeyScratch(3, 17, mk)).equals(k)).toBe(true);
    }
  });
});
