// Which keys a table of the disk store may hold (docs/operations.md, "State on disk"): a
// Bloom filter in front of the store, as RocksDB keeps one per file, so that a key seen for
// the first time — in most keyed jobs, a good share of the elements — costs no read of the
// store: a miss of the cache asks the filter first, and reads the store only when the key
// may be there. It answers "maybe" for every key written to the store (never a wrong "no"),
// and "maybe" for about 1 % of the others (a read that finds nothing; 0.8 % measured).
//
// Blocked (each key's bits in one 256-bit block: one cache line touched per filter) and
// scalable: it starts small and, when its newest filter is full, adds one twice as large,
// so it needs no size up front and never rebuilds (Almeida et al., "Scalable Bloom
// Filters"). Deleted keys stay in it: for them it answers "maybe" and the read finds nothing.

import type { MapKey } from "../../api.js";

/** Bits per key a filter is sized for, and the bits set per key. */
const BITS_PER_KEY = 10;
const PROBES = 6;
/** Keys the first filter holds; each next one holds twice the one before. */
const FIRST = 1 << 16;
const WORDS_PER_BLOCK = 8;
/** Odd multipliers that spread one 32-bit hash into the probes' positions in a block. */
const SPREAD = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0xd3a2646c | 1];

interface Part {
  words: Uint32Array;
  /** Blocks - 1 (blocks are a power of two). */
  mask: number;
  keys: number;
  capacity: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** A 32-bit hash of a map key, the same for equal keys. */
export function keyHash(mk: MapKey | null): number {
  if (typeof mk === "number") {
    if ((mk | 0) === mk) return fmix32(mk ^ 0x5bd1e995);
    if (mk !== mk) return 0x3b9aca07; // NaN: one key, whatever its bits
    f64[0] = mk;
    return fmix32(u32[0]! ^ fmix32(u32[1]!));
  }
  if (typeof mk === "string") {
    let h = 0x811c9dc5;
    for (let i = 0; i < mk.length; i++) h = Math.imul(h ^ mk.charCodeAt(i), 0x01000193);
    return fmix32(h);
  }
  if (mk === null || mk === undefined) return 0x2545f491;
  return mk ? 0x61c88647 : 0x7f4a7c15;
}

export class KeyFilter {
  private parts: Part[] = [];

  constructor() {
    this.clear();
  }

  /** Forgets every key (the store was emptied). */
  clear(): void {
    this.parts = [newPart(FIRST)];
  }

  /** Bytes the filter takes. */
  get bytes(): number {
    let n = 0;
    for (const p of this.parts) n += p.words.byteLength;
    return n;
  }

  add(mk: MapKey | null): void {
    const h = keyHash(mk);
    let p = this.parts[this.parts.length - 1]!;
    if (p.keys >= p.capacity) {
      p = newPart(p.capacity * 2);
      this.parts.push(p);
    }
    const base = (fmix32(h ^ 0x3c6ef372) & p.mask) * WORDS_PER_BLOCK;
    const w = p.words;
    for (let j = 0; j < PROBES; j++) {
      const x = Math.imul(h, SPREAD[j]!) >>> 24;
      w[base + (x >>> 5)]! |= 1 << (x & 31);
    }
    p.keys++;
  }

  /** False when the key was never added; true when it was (and for a few others). */
  mayHave(mk: MapKey | null): boolean {
    const h = keyHash(mk);
    const h2 = fmix32(h ^ 0x3c6ef372);
    const parts = this.parts;
    outer: for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i]!;
      const base = (h2 & p.mask) * WORDS_PER_BLOCK;
      const w = p.words;
      for (let j = 0; j < PROBES; j++) {
        const x = Math.imul(h, SPREAD[j]!) >>> 24;
        if ((w[base + (x >>> 5)]! & (1 << (x & 31))) === 0) continue outer;
      }
      return true;
    }
    return false;
  }
}

function newPart(capacity: number): Part {
  const blocks = 1 << Math.ceil(Math.log2((capacity * BITS_PER_KEY) / (WORDS_PER_BLOCK * 32)));
  return { words: new Uint32Array(blocks * WORDS_PER_BLOCK), mask: blocks - 1, keys: 0, capacity };
}
