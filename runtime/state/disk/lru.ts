// The disk backend's cache of decoded state objects: an exact LRU over slots, with the order
// kept in two Int32Arrays (previous, next), so that a hit is a Map lookup and six array
// writes, and nothing is allocated per element. (A Map used as a queue — delete and set on
// every hit, the oldest taken from the front — slows down as deleted entries pile up at its
// front: V8 skips them one by one on every eviction.)

import type { MapKey } from "../../api.js";

const NONE = -1;

export class Lru<V> {
  /** Key -> slot. */
  private readonly index = new Map<MapKey, number>();
  private keys: MapKey[] = [];
  private values: (V | undefined)[] = [];
  private prev: Int32Array;
  private next: Int32Array;
  /** The most and the least recently used slots. */
  private head = NONE;
  private tail = NONE;
  /** Slots handed out so far, and slots freed by delete(). */
  private used = 0;
  private free: number[] = [];

  constructor(readonly capacity: number) {
    const n = Math.min(capacity, 1024);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
  }

  get size(): number {
    return this.index.size;
  }

  /** A key's value, now the most recently used; undefined when it is not cached. */
  get(key: MapKey): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    if (i !== this.head) {
      this.unlink(i);
      this.pushFront(i);
    }
    return this.values[i];
  }

  /** Whether the key is cached (its place in the order unchanged). */
  peek(key: MapKey): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.values[i];
  }

  /**
   * Caches a key that is not cached yet, as the most recently used. When the cache is full,
   * the least recently used key goes first: `evicted` is called with it.
   */
  add(key: MapKey, value: V, evicted: (key: MapKey, value: V) => void): void {
    let i: number;
    if (this.free.length > 0) i = this.free.pop()!;
    else if (this.used < this.capacity) {
      i = this.used++;
      if (i >= this.prev.length) this.grow();
    } else {
      i = this.tail;
      const oldKey = this.keys[i]!;
      const old = this.values[i]!;
      this.unlink(i);
      this.index.delete(oldKey);
      evicted(oldKey, old);
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.index.set(key, i);
    this.pushFront(i);
  }

  /** Removes a key; returns its value. */
  delete(key: MapKey): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const v = this.values[i];
    this.unlink(i);
    this.index.delete(key);
    this.values[i] = undefined;
    this.free.push(i);
    return v;
  }

  /** Every cached key and value (no order). */
  forEach(f: (value: V, key: MapKey) => void): void {
    for (const [k, i] of this.index) f(this.values[i]!, k);
  }

  clear(): void {
    this.index.clear();
    this.keys = [];
    this.values = [];
    this.head = this.tail = NONE;
    this.used = 0;
    this.free = [];
  }

  private grow(): void {
    const n = Math.min(this.capacity, this.prev.length * 2);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    prev.set(this.prev);
    next.set(this.next);
    this.prev = prev;
    this.next = next;
  }

  private unlink(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  private pushFront(i: number): void {
    this.prev[i] = NONE;
    this.next[i] = this.head;
    if (this.head !== NONE) this.prev[this.head] = i;
    this.head = i;
    if (this.tail === NONE) this.tail = i;
  }
}
