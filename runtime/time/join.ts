// Equi-joins of two keyed inputs (section 6, "Joins").
//
// - interval (`within d`): an element at time t matches the other side's elements in
//   [t - d, t + d] as it arrives; it is kept until the join's watermark (the smaller of its
//   two inputs') passes t + d; an element whose t + d the watermark already passed is late
//   and dropped (counted). A result carries the later of its two elements' times.
// - window (`window tumbling(d)` / `sliding(…)`): pairs that fall in the same window are
//   emitted when the watermark reaches the window's end, by window end and then by the
//   order of the key's first element in it; each pair in arrival order (left, then right).
// - unbounded (neither): every pair, as soon as both are there; all state is kept.

import type { MapKey } from "../api.js";
import { decodeSnapshot, encodeSnapshot } from "../checkpoint/snapshot.js";
import type { StateStore } from "../state.js";
import { MinHeap } from "./heap.js";
import type { Emit } from "./window.js";

export interface JoinSpec {
  kind: "interval" | "window" | "unbounded";
  within: number;
  window: { kind: "tumbling" | "sliding"; size: number; every: number } | null;
}

interface Item {
  ts: number;
  seq: number;
  x: unknown;
}

interface Side {
  items: Item[];
}

interface Group {
  key: unknown;
  sides: [Side, Side];
  /** Window joins: the window's bounds and order. */
  start: number;
  end: number;
  seq: number;
}

export class JoinOperator implements StateStore {
  readonly incremental = false;
  /** Interval and unbounded joins: one group per key. Window joins: per key and window. */
  private readonly groups = new Map<string | MapKey, Group>();
  private readonly expiry = new MinHeap<{ time: number; gk: string | MapKey; side: number; item: Item }>((a, b) => a.time < b.time);
  private readonly toFire = new MinHeap<{ end: number; seq: number; gk: string | MapKey }>((a, b) => a.end < b.end || (a.end === b.end && a.seq < b.seq));
  private readonly wms: [number, number] = [-Infinity, -Infinity];
  private wm = -Infinity;
  private seq = 0;
  /** Elements that arrived too late to join. */
  late = 0;

  constructor(
    readonly uid: string,
    private readonly spec: JoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: Emit,
  ) {}

  get size(): number {
    return this.groups.size;
  }

  get changed(): number {
    return this.groups.size;
  }

  /** Elements held, over all keys (for tests of bounded state). */
  get held(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.sides[0].items.length + g.sides[1].items.length;
    return n;
  }

  private group(gk: string | MapKey, key: unknown, start = 0, end = 0): Group {
    let g = this.groups.get(gk);
    if (!g) {
      g = { key, sides: [{ items: [] }, { items: [] }], start, end, seq: this.seq };
      this.groups.set(gk, g);
    }
    return g;
  }

  private pair(side: number, x: unknown, y: unknown): unknown {
    return side === 0 ? this.select(x, y) : this.select(y, x);
  }

  /** An element of the left (side 0) or right (side 1) input. */
  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const item: Item = { ts, seq: this.seq++, x };
    if (this.spec.kind === "window") {
      const w = this.spec.window!;
      let added = false;
      let start = Math.floor(ts / w.every) * w.every;
      const starts: number[] = [];
      for (; start > ts - w.size; start -= w.every) starts.push(start);
      for (const s of starts.reverse()) {
        const end = s + w.size;
        if (this.wm >= end) continue; // that window already fired
        const gk = `${typeof mk}:${String(mk)}@${s}`;
        const existed = this.groups.has(gk);
        const g = this.group(gk, key, s, end);
        if (!existed) {
          g.seq = item.seq;
          this.toFire.push({ end, seq: g.seq, gk });
        }
        g.sides[side]!.items.push(item);
        added = true;
      }
      if (!added) this.late++;
      return;
    }
    const d = this.spec.within;
    if (this.spec.kind === "interval" && this.wm > ts + d) {
      this.late++;
      return;
    }
    const g = this.group(mk, key);
    const other = g.sides[1 - side]!.items;
    for (const o of other) {
      if (this.spec.kind === "unbounded" || Math.abs(o.ts - ts) <= d) this.emit(this.pair(side, x, o.x), key, Math.max(ts, o.ts));
    }
    g.sides[side]!.items.push(item);
    if (this.spec.kind === "interval") this.expiry.push({ time: ts + d, gk: mk, side, item });
  }

  private readonly idle: [boolean, boolean] = [false, false];

  /** An input became idle (`idle d` on a live source) or active: whether the watermark advanced. */
  setIdle(side: number, on: boolean): boolean {
    this.idle[side] = on;
    return this.watermark(this.wms[side]!, side, true);
  }

  allIdle(): boolean {
    return this.idle[0] && this.idle[1];
  }

  /** One input's watermark advanced; the join's is the smaller of the two (idle ones left out). */
  watermark(w: number, side: number, force = false): boolean {
    if (w <= this.wms[side]! && !force) return false;
    this.wms[side] = Math.max(this.wms[side]!, w);
    const active = [0, 1].filter((i) => !this.idle[i]);
    const next = active.length ? Math.min(...active.map((i) => this.wms[i]!)) : -Infinity;
    if (next <= this.wm) return false;
    this.wm = next;
    if (this.spec.kind === "window") {
      for (let p = this.toFire.peek(); p && p.end <= next; p = this.toFire.peek()) {
        this.toFire.pop();
        const g = this.groups.get(p.gk);
        if (!g) continue;
        this.groups.delete(p.gk);
        for (const l of g.sides[0].items) for (const r of g.sides[1].items) this.emit(this.select(l.x, r.x), g.key, Math.max(l.ts, r.ts));
      }
    } else if (this.spec.kind === "interval") {
      // Kept until the watermark passes t + d.
      for (let e = this.expiry.peek(); e && e.time < next; e = this.expiry.peek()) {
        this.expiry.pop();
        const g = this.groups.get(e.gk);
        if (!g) continue;
        const items = g.sides[e.side]!.items;
        const i = items.indexOf(e.item);
        if (i >= 0) items.splice(i, 1);
        if (g.sides[0].items.length === 0 && g.sides[1].items.length === 0) this.groups.delete(e.gk);
      }
    }
    return true;
  }

  /** The join's watermark, to pass downstream. */
  get watermarkValue(): number {
    return this.wm;
  }

  snapshot(): { buffers: Buffer[]; keys: number; bytes: number } {
    const rows = [...this.groups].map(([gk, g]) => {
      const data = [g.start, g.end, g.seq, g.sides.map((s) => s.items.map((it) => [it.ts, it.seq, it.x]))];
      return [gk, { $key: g.key, $dirty: false, $saveTo: (c: unknown[][]) => c[0]!.push(data), $loadFrom: () => undefined }] as const;
    });
    return encodeSnapshot(this.uid, "full", 1, true, rows.map((r) => r[0]).values(), rows.map((r) => r[1]).values(), rows.length, true, { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late });
  }

  restore(bytes: Buffer): void {
    const index = decodeSnapshot(bytes, (gk, key, columns, i) => {
      const [start, end, seq, sides] = columns[0]![i] as [number, number, number, [number, number, unknown][][]];
      const g: Group = { key, start, end, seq, sides: [{ items: [] }, { items: [] }] };
      sides.forEach((items, side) => {
        for (const [ts, s, x] of items) {
          const item = { ts, seq: s, x };
          g.sides[side]!.items.push(item);
          if (this.spec.kind === "interval") this.expiry.push({ time: ts + this.spec.within, gk, side, item });
        }
      });
      this.groups.set(gk, g);
      if (this.spec.kind === "window") this.toFire.push({ end, seq, gk });
    });
    const meta = index.meta as { wms: [number | null, number | null]; wm: number | null; seq: number; late: number } | undefined;
    if (meta) {
      this.wms[0] = meta.wms[0] ?? -Infinity;
      this.wms[1] = meta.wms[1] ?? -Infinity;
      this.wm = meta.wm ?? -Infinity;
      this.seq = meta.seq;
      this.late = meta.late;
    }
  }
}
