// The disk backend's cache of decoded state (runtime/state/disk/lru.ts): an exact LRU, the
// least recently used key pushed out first, hits moving a key to the young end.

import { describe, expect, it } from "vitest";
import { Lru } from "../runtime/state/disk/lru.js";

describe("the disk backend's LRU cache", () => {
  it("pushes out the least recently used key when full, a hit makes a key young again, and freed slots are reused", () => {
    const lru = new Lru<string>(3);
    const out: string[] = [];
    const evicted = (k: unknown, v: string): void => void out.push(`${String(k)}=${v}`);
    lru.add("a", "A", evicted);
    lru.add("b", "B", evicted);
    lru.add("c", "C", evicted);
    expect(lru.get("a")).toBe("A"); // a is young again: b is the oldest
    lru.add("d", "D", evicted);
    expect(out).toEqual(["b=B"]);
    expect(lru.peek("b")).toBeUndefined();
    expect(lru.delete("c")).toBe("C");
    lru.add("e", "E", evicted); // into c's slot: nothing pushed out
    expect(out).toEqual(["b=B"]);
    lru.add("f", "F", evicted); // full again: a (used before d and e) goes
    expect(out).toEqual(["b=B", "a=A"]);
    const seen: string[] = [];
    lru.forEach((v, k) => seen.push(`${String(k)}=${v}`));
    expect(seen.sort()).toEqual(["d=D", "e=E", "f=F"]);
    expect(lru.size).toBe(3);
  });

  it("pushes out keys in the same order as a reference LRU over a long random mix of hits, misses and deletions, growing its slots up to its capacity", () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const lru = new Lru<number>(3000);
    const ref = new Map<number, number>(); // insertion order = use order
    const got: number[] = [];
    const want: number[] = [];
    for (let step = 0; step < 200_000; step++) {
      const k = rnd(6000);
      if (rnd(20) === 0) {
        expect(lru.delete(k)).toBe(ref.get(k));
        ref.delete(k);
      } else if (lru.get(k) !== undefined) {
        ref.delete(k);
        ref.set(k, k);
      } else {
        expect(ref.has(k)).toBe(false);
        lru.add(k, k, (old) => void got.push(old as number));
        if (ref.size === 3000) {
          const oldest = ref.keys().next().value!;
          ref.delete(oldest);
          want.push(oldest);
        }
        ref.set(k, k);
      }
    }
    expect(got.length).toBeGreaterThan(10_000);
    expect(got).toEqual(want);
    expect(lru.size).toBe(ref.size);
  });
});
