// Tumbling and sliding window joins on disk (`join … window tumbling(d)` / `sliding(…)`):
// the contract of runtime/time/join.ts (its header: a window's pairs go out when the
// watermark reaches its end, by end and then by the order of each key's first element in
// it; outer joins release an element that met no partner when its last window fires, after
// that window's pairs, left side first, then in arrival order; the watermark passed on is
// held back by the window size) with its structures in the job's store:
//
//   - per key, its open windows (start, end, order, both sides' elements) as one state
//     object of a keyed table (keyed.ts). An element of several sliding windows is one
//     object in each (its `matched` is shared): the groups of a key are read back with their
//     elements shared again by order;
//   - the windows to fire by (end, order) in a time queue (queue.ts), rebuilt from the table
//     when a run starts after a restore.
//
// Savepoints hold the memory backend's rows: one per key and window. The windows and
// elements held are counted as they come and go (checkpointed with the table).

import type { EmitFn, JoinHandle, JoinSpec, MapKey, StateObject } from "../../api.js";
import { plainMapKey, type RowState } from "../../operator.js";
import { DiskJoinBase, type JoinMeta } from "./join-base.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

interface Item {
  ts: number;
  seq: number;
  x: unknown;
  matched: boolean;
}

interface Group {
  start: number;
  end: number;
  seq: number;
  sides: [Item[], Item[]];
}

type ItemRow = [number, number, unknown, boolean?];
type GroupRow = [number, number, number, ItemRow[][]];

class KeyGroups implements StateObject {
  $dirty = false;
  groups: Group[] = [];
  constructor(
    readonly $key: unknown,
    private readonly outer: boolean,
  ) {}

  find(end: number): Group | undefined {
    const gs = this.groups;
    for (let i = 0; i < gs.length; i++) if (gs[i]!.end === end) return gs[i];
    return undefined;
  }

  groupRow(g: Group): GroupRow {
    const outer = this.outer;
    const side = (items: Item[]): ItemRow[] => items.map((it) => (outer ? [it.ts, it.seq, it.x, it.matched] : [it.ts, it.seq, it.x]));
    return [g.start, g.end, g.seq, [side(g.sides[0]), side(g.sides[1])]];
  }

  /** Adds groups read back, their elements shared by order with the key's others. */
  add(rows: GroupRow[]): void {
    const bySeq = new Map<number, Item>();
    for (const g of this.groups) for (const side of g.sides) for (const it of side) bySeq.set(it.seq, it);
    const item = ([ts, seq, x, matched]: ItemRow): Item => {
      let it = bySeq.get(seq);
      if (it === undefined) bySeq.set(seq, (it = { ts, seq, x, matched: matched === true }));
      return it;
    };
    for (const [start, end, seq, sides] of rows) this.groups.push({ start, end, seq, sides: [sides[0]!.map(item), sides[1]!.map(item)] });
  }

  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.groups.map((g) => this.groupRow(g)));
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.groups = [];
    this.add(c[0]![i] as GroupRow[]);
  }
}

interface Meta extends JoinMeta {
  groups?: number;
}

/** The row key of a window join's group in savepoints: its key and window (as time/join.ts's). */
function windowGroupKey(mk: MapKey, start: number): string {
  return `${typeof mk}:${String(mk)}@${start}`;
}

export class DiskWindowJoin extends DiskJoinBase<KeyGroups, Meta> implements JoinHandle, RowState {
  private readonly toFire: DiskQueue;
  private out = -Infinity;
  /** Windows (key and window) and elements held. */
  private groupCount = 0;
  private readonly unmatched: [boolean, boolean];
  private readonly outer: boolean;
  private readonly released: { item: Item; side: number; key: unknown }[] = [];

  constructor(
    store: DiskStore,
    uid: string,
    private readonly spec: JoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: EmitFn,
  ) {
    const unmatched = spec.unmatched ?? [false, false];
    const outer = unmatched[0] || unmatched[1];
    super(store, uid, (key) => new KeyGroups(key, outer));
    this.unmatched = unmatched;
    this.outer = outer;
    this.toFire = new DiskQueue(store, `${uid}#fire`);
  }

  protected override meta(): Meta {
    return { ...super.meta(), groups: this.groupCount };
  }

  protected override setMeta(meta: Meta): void {
    super.setMeta(meta);
    if (meta.groups !== undefined) this.groupCount = meta.groups;
  }


  /** Groups held: per key and window, as the memory backend counts them. */
  override get size(): number {
    return this.groupCount;
  }


  override get rows(): RowState {
    return this;
  }

  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    this.rebuild();
    const item: Item = { ts, seq: this.seq++, x, matched: false };
    const w = this.spec.window!;
    const last = Math.floor(ts / w.every) * w.every;
    let first = last;
    while (first - w.every > ts - w.size) first -= w.every;
    let contained = 0;
    let added = false;
    let kg: KeyGroups | undefined;
    for (let s = first; s <= last; s += w.every) {
      const end = s + w.size;
      if (end <= ts) continue;
      contained++;
      if (this.wm >= end) continue;
      kg ??= this.keys.get(mk, key);
      let g = kg.find(end);
      if (g === undefined) {
        g = { start: s, end, seq: item.seq, sides: [[], []] };
        kg.groups.push(g);
        this.groupCount++;
        this.toFire.push(end, g.seq, [mk]);
      }
      g.sides[side]!.push(item);
      this.elements++;
      added = true;
    }
    if (!added && contained > 0) this.late++;
  }

  private pair(side: number, x: unknown, y: unknown): unknown {
    return side === 0 ? this.select(x, y) : this.select(y, x);
  }

  private release(): void {
    const list = this.released;
    if (list.length === 0) return;
    list.sort((a, b) => a.side - b.side || a.item.seq - b.item.seq);
    for (const { item, side, key } of list) this.emit(this.pair(side, item.x, null), key, item.ts);
    list.length = 0;
  }

  watermark(w: number, side: number, force = false): boolean {
    const next = this.advance(w, side, force);
    if (next === null) return false;
    this.rebuild();
    this.wm = next;
    const win = this.spec.window!;
    let end = NaN;
    this.toFire.take(next, true, (e) => {
      // Each end's unmatched elements go out after its pairs.
      if (e.time !== end) {
        this.release();
        end = e.time;
      }
      const mk = e.values[0] as MapKey;
      const kg = this.keys.getIfExists(mk);
      const g = kg?.find(e.time);
      if (kg === undefined || g === undefined) return;
      kg.groups.splice(kg.groups.indexOf(g), 1);
      this.groupCount--;
      this.elements -= g.sides[0].length + g.sides[1].length;
      const key = kg.$key;
      for (const l of g.sides[0]) for (const r of g.sides[1]) this.emit(this.select(l.x, r.x), key, Math.max(l.ts, r.ts));
      if (this.outer) {
        // An element can no longer match once its last window fired.
        const met = g.sides[0].length > 0 && g.sides[1].length > 0;
        for (let s = 0; s < 2; s++) {
          for (const item of g.sides[s]!) {
            if (met) item.matched = true;
            else if (!item.matched && this.unmatched[s] && Math.floor(item.ts / win.every) * win.every + win.size === e.time) this.released.push({ item, side: s, key });
          }
        }
      }
      if (kg.groups.length === 0) this.keys.delete(mk);
    });
    this.release();
    return true;
  }

  get watermarkValue(): number {
    if (!Number.isFinite(this.wm)) return this.wm;
    this.out = Math.max(this.out, this.wm - this.spec.window!.size);
    return this.out;
  }

  override currentWatermark(): number {
    return this.watermarkValue;
  }

  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    this.toFire.reset();
    const entries: QueueEntry[] = [];
    for (const { mk, obj } of this.keys.scan()) for (const g of obj.groups) entries.push({ time: g.end, seq: g.seq, values: [mk] });
    this.toFire.load(entries);
  }

  savepointMapKey(key: unknown, data: unknown): MapKey {
    return windowGroupKey(plainMapKey(key, ""), (data as [number])[0]);
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows: [MapKey, unknown, unknown][] = [];
    for (const { mk, key, obj } of this.keys.scan()) for (const g of obj.groups) rows.push([windowGroupKey(mk, g.start), key, obj.groupRow(g)]);
    return { rows, meta: { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as Meta | undefined;
    if (meta) this.setMeta({ ...meta, groups: undefined, held: undefined });
    let groups = 0;
    let held = 0;
    for (const [, key, data] of rows) {
      const g = data as GroupRow;
      this.keys.get(plainMapKey(key, ""), key).add([g]);
      groups++;
      held += g[3][0]!.length + g[3][1]!.length;
    }
    this.groupCount = groups;
    this.elements = held;
    this.stale = true;
  }
}
