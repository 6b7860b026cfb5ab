// Tumbling and sliding windows in event time: the rules of window.ts (its header), with a
// storage made for windows whose bounds do not depend on the data.
//
// One bucket per window end: a Map from each key to its accumulator (the aggregate's
// generated state class), in the order of the keys' first elements in that window, which is
// the order the bucket's results fire in. An element costs one bucket lookup and one key
// lookup per window it falls in; a window costs one accumulator and nothing else. All
// windows of one end fire together, so "fired" is "the watermark reached the end" and is
// not stored. Sessions, whose bounds move and merge, keep window.ts's own storage.
//
// Checkpoints and savepoints hold, per key, its windows in one flat list (see exportRows);
// rows in window.ts's older layout ([start, end, fired, order, fields, null] per window)
// are read too.

import type { MapKey, StateObject } from "../api.js";
import { MinHeap } from "./heap.js";
import { WindowOperatorBase } from "./window.js";

/** A generated state class carries its typed key. */
type Keyed = { readonly $key: unknown };

export class FixedWindowOperator<S extends StateObject> extends WindowOperatorBase<S> {
  /** Window end -> key -> accumulator, keys in the order of their first element in the window. */
  private readonly buckets = new Map<number, Map<MapKey, S>>();
  /** Ends not fired yet, and ends fired but not freed (allowed lateness). */
  private readonly toFire = new MinHeap<number>((a, b) => a < b);
  private readonly toFree = new MinHeap<number>((a, b) => a < b);
  /**
   * The buckets of the last element's windows, by their place in its window list: the next
   * element nearly always falls in the same windows (event time moves slowly), and then
   * finds them without a lookup. Valid while `cacheFirst` is that list's first start.
   */
  private cacheFirst = NaN;
  private readonly cache: (Map<MapKey, S> | undefined)[] = [];

  /** Keys holding at least one window. */
  override get size(): number {
    const keys = new Set<MapKey>();
    for (const b of this.buckets.values()) for (const mk of b.keys()) keys.add(mk);
    return keys.size;
  }

  /** Windows held, over all keys. */
  get windows(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }

  /** The bucket of windows ending at `end`, created (and scheduled) on first use. */
  private bucket(end: number): Map<MapKey, S> {
    let b = this.buckets.get(end);
    if (b === undefined) {
      b = new Map();
      this.buckets.set(end, b);
      if (end <= this.wm) this.toFree.push(end);
      else this.toFire.push(end);
    }
    return b;
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const { size, every, allowedLateness } = this.spec;
    // The windows [start, start + size) with start a multiple of `every` in (ts - size, ts],
    // earliest first.
    const last = Math.floor(ts / every) * every;
    // The smallest multiple of `every` above ts - size.
    const first = size === every ? last : Math.floor((ts - size) / every) * every + every;
    let contained = 0;
    let added = false;
    const cache = this.cache;
    if (first !== this.cacheFirst) {
      this.cacheFirst = first;
      cache.length = 0;
    }
    const wm = this.wm;
    for (let start = first, i = 0; start <= last; start += every, i++) {
      const end = start + size;
      // A sliding window with gaps (every > size): ts may fall between two windows.
      if (end <= ts) continue;
      contained++;
      if (wm >= end + allowedLateness) continue;
      let b = cache[i];
      if (b === undefined) {
        b = this.bucket(end);
        cache[i] = b;
      }
      let acc = b.get(mk);
      if (acc === undefined) {
        acc = this.agg.create(key);
        b.set(mk, acc);
      }
      this.agg.add(acc, x, key);
      added = true;
      // A window the watermark already reached (fired before, or allowed-late and new) is
      // emitted, updated, at once.
      if (end <= wm) this.emit(this.agg.result(acc, key, start, end), key, end - 1);
    }
    if (!added && contained > 0) this.lateElement(x, key, ts);
  }

  /** The watermark advanced: fire the windows it reached, by end; free what it passed. */
  watermark(w: number): void {
    if (w <= this.wm) return;
    this.wm = w;
    const size = this.spec.size;
    for (let end = this.toFire.peek(); end !== undefined && end <= w; end = this.toFire.peek()) {
      this.toFire.pop();
      this.toFree.push(end);
      for (const acc of this.buckets.get(end)!.values()) {
        const key = (acc as unknown as Keyed).$key;
        this.emit(this.agg.result(acc, key, end - size, end), key, end - 1);
      }
    }
    const lateness = this.spec.allowedLateness;
    for (let end = this.toFree.peek(); end !== undefined && end + lateness <= w; end = this.toFree.peek()) {
      this.toFree.pop();
      this.buckets.delete(end);
      this.cacheFirst = NaN;
    }
  }

  // ---- checkpoints -----------------------------------------------------------------------

  /**
   * Per key, its windows in one flat list: start, end, fired, order, then the accumulator's
   * fields, for each window (a few large arrays serialise much faster than many small ones).
   */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const fields = this.agg.fields;
    const size = this.spec.size;
    // One set of columns for every accumulator: each writes its fields, then they are taken.
    const cols: unknown[][] = [];
    for (let i = 0; i < fields; i++) cols.push([]);
    const perKey = new Map<MapKey, unknown[]>();
    const rows: [MapKey, unknown, unknown][] = [];
    let seq = 0;
    for (const end of [...this.buckets.keys()].sort((a, b) => a - b)) {
      const fired = end <= this.wm;
      for (const [mk, acc] of this.buckets.get(end)!) {
        for (let i = 0; i < fields; i++) cols[i]!.length = 0;
        acc.$saveTo(cols);
        let flat = perKey.get(mk);
        if (flat === undefined) {
          flat = [];
          perKey.set(mk, flat);
          rows.push([mk, (acc as unknown as Keyed).$key, flat]);
        }
        flat.push(end - size, end, fired, seq++);
        for (let i = 0; i < fields; i++) flat.push(cols[i]![0]);
      }
    }
    return { rows, meta: { wm: this.wm, seq, dropped: this.dropped } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as { wm: number | null; seq: number; dropped: number } | undefined;
    if (meta) {
      this.wm = meta.wm ?? -Infinity;
      this.dropped = meta.dropped;
    }
    const fields = this.agg.fields;
    const restored: { seq: number; end: number; mk: MapKey; acc: S }[] = [];
    for (const [mk, typedKey, data] of rows) {
      const list = data as unknown[];
      if (list.length > 0 && Array.isArray(list[0])) {
        // Written before the flat layout: [[start, end, fired, order, fields, null], …], [].
        for (const [, end, , seq, acc] of list[0] as [number, number, boolean, number, unknown[] | null][]) {
          const s = this.agg.create(typedKey);
          if (acc) s.$loadFrom(acc.map((v) => [v]).slice(0, fields), 0);
          restored.push({ seq, end, mk, acc: s });
        }
        continue;
      }
      for (let at = 0; at < list.length; at += 4 + fields) {
        const s = this.agg.create(typedKey);
        s.$loadFrom(list.slice(at + 4, at + 4 + fields).map((v) => [v]), 0);
        restored.push({ seq: list[at + 3] as number, end: list[at + 1] as number, mk, acc: s });
      }
    }
    // Each bucket again in the order of its windows' first elements.
    restored.sort((a, b) => a.seq - b.seq);
    this.cacheFirst = NaN;
    for (const r of restored) this.bucket(r.end).set(r.mk, r.acc);
  }
}
