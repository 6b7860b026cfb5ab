// The disk backend's filter of the keys in the store (runtime/state/disk/filter.ts): never a
// wrong "no" for a key that was added, whatever its kind, through the filter's growth; few
// wrong "maybe"s for keys that were not.

import { describe, expect, it } from "vitest";
import { KeyFilter, keyHash } from "../runtime/state/disk/filter.js";

describe("the disk backend's key filter", () => {
  it("answers maybe for every key added, through its growth, and no for nearly every other", () => {
    const f = new KeyFilter();
    const before = f.bytes;
    const n = 500_000; // past the first part's 65,536 keys: the filter grows three times
    for (let i = 0; i < n; i++) f.add(i * 2);
    expect(f.bytes).toBeGreaterThan(before * 4);
    let missed = 0;
    for (let i = 0; i < n; i++) if (!f.mayHave(i * 2)) missed++;
    expect(missed).toBe(0);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (f.mayHave(i * 2 + 1)) wrong++;
    // A wrong "maybe" costs one read of the store that finds nothing: a few in a hundred.
    expect(wrong / n).toBeLessThan(0.05);
    expect(wrong).toBeGreaterThan(0); // it is a filter, not a set: the rate is measured, not assumed
  });

  it("keys of every kind: strings, floats, large integers, booleans, null, -0 as 0, NaN", () => {
    const f = new KeyFilter();
    const keys = ["", "a", "ü", "kunde-17", "x".repeat(300), 0.5, -1.25, 2 ** 40, -(2 ** 35), 2 ** 31, true, false, null, 0, Number.NaN];
    for (const k of keys) f.add(k as never);
    for (const k of keys) expect(f.mayHave(k as never), String(k)).toBe(true);
    expect(f.mayHave(-0 as never)).toBe(true);
    expect(keyHash(-0)).toBe(keyHash(0));
    expect(keyHash(0 / 0)).toBe(keyHash(Number.NaN));
    // Different keys of one kind spread over the hash's range.
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(keyHash(`k${i}`) >>> 22);
    expect(seen.size).toBeGreaterThan(500);
    f.clear();
    expect(f.mayHave("kunde-17" as never)).toBe(false);
  });
});
