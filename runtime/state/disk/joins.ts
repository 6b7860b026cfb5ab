// Interval (`within d`) and unbounded joins on disk: the contract of runtime/time/join.ts
// (its header: pairs as elements arrive, an interval join's elements kept until the join's
// watermark passes t + d, outer joins' unmatched elements released then, left side first,
// then in arrival order) with its structures in the job's store:
//
//   - per key, both sides' elements (time, order, the element, and for outer joins whether
//     it met a partner) as one state object of a keyed table (keyed.ts), stored as the
//     memory backend's savepoint row [0, 0, order, [left items, right items]];
//   - interval joins: the expiry queue (queue.ts) by (t + d, side, order), rebuilt from the
//     table when a run starts after a restore.
//
// The elements held over all keys are counted as they come and go (checkpointed with the
// table). Window joins (tumbling, sliding, session) keep the memory backend's JoinOperator:
// see docs/operations.md, "State on disk".

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

/** The queue's order: by time, then the left side first, then arrival order. */
const SIDE = 2 ** 48;

type ItemRow = [number, number, unknown, boolean?];
type Row = [number, number, number, ItemRow[][]];

/** A key's elements of both sides, as one state object of the keyed table. */
class KeyGroup implements StateObject {
  $dirty = false;
  sides: [Item[], Item[]] = [[], []];
  seq = 0;
  constructor(
    readonly $key: unknown,
    private readonly outer: boolean,
  ) {}

  row(): Row {
    const outer = this.outer;
    const side = (items: Item[]): ItemRow[] => items.map((it) => (outer ? [it.ts, it.seq, it.x, it.matched] : [it.ts, it.seq, it.x]));
    return [0, 0, this.seq, [side(this.sides[0]), side(this.sides[1])]];
  }

  load(row: Row): void {
    this.seq = row[2];
    const items = (list: ItemRow[]): Item[] => list.map(([ts, seq, x, matched]) => ({ ts, seq, x, matched: matched === true }));
    this.sides = [items(row[3][0]!), items(row[3][1]!)];
  }

  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.row());
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.load(c[0]![i] as Row);
  }
}

export class DiskJoin extends DiskJoinBase<KeyGroup> implements JoinHandle, RowState {
  private readonly expiry: DiskQueue;
  private readonly unmatched: [boolean, boolean];
  private readonly outer: boolean;

  constructor(
    store: DiskStore,
    uid: string,
    private readonly spec: JoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: EmitFn,
  ) {
    const unmatched = spec.unmatched ?? [false, false];
    const outer = unmatched[0] || unmatched[1];
    super(store, uid, (key) => new KeyGroup(key, outer));
    this.unmatched = unmatched;
    this.outer = outer;
    this.expiry = new DiskQueue(store, `${uid}#expiry`);
  }



  override get rows(): RowState {
    return this;
  }

  private pair(side: number, x: unknown, y: unknown): unknown {
    return side === 0 ? this.select(x, y) : this.select(y, x);
  }

  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    this.rebuild();
    const item: Item = { ts, seq: this.seq++, x, matched: false };
    const d = this.spec.within;
    const interval = this.spec.kind === "interval";
    if (interval && this.wm > ts + d) {
      this.late++;
      return;
    }
    const g = this.keys.get(mk, key);
    if (g.sides[0].length === 0 && g.sides[1].length === 0) g.seq = this.seq;
    const other = g.sides[1 - side]!;
    for (const o of other) {
      if (!interval || Math.abs(o.ts - ts) <= d) {
        if (this.outer) o.matched = item.matched = true;
        this.emit(this.pair(side, x, o.x), key, Math.max(ts, o.ts));
      }
    }
    g.sides[side]!.push(item);
    this.elements++;
    if (interval) this.expiry.push(ts + d, side * SIDE + item.seq, [mk]);
  }

  watermark(w: number, side: number, force = false): boolean {
    const next = this.advance(w, side, force);
    if (next === null) return false;
    this.rebuild();
    this.wm = next;
    if (this.spec.kind !== "interval") return true;
    // Kept until the watermark passes t + d; then an unmatched element of an outer join comes out.
    this.expiry.take(next, false, (e) => {
      const mk = e.values[0] as MapKey;
      const g = this.keys.getIfExists(mk);
      if (g === undefined) return;
      const side = e.seq >= SIDE ? 1 : 0;
      const seq = e.seq - side * SIDE;
      const items = g.sides[side]!;
      const i = items.findIndex((it) => it.seq === seq);
      if (i < 0) return;
      const item = items[i]!;
      items.splice(i, 1);
      this.elements--;
      if (g.sides[0].length === 0 && g.sides[1].length === 0) this.keys.delete(mk);
      if (!item.matched && this.unmatched[side]) this.emit(this.pair(side, item.x, null), g.$key, item.ts);
    });
    return true;
  }

  get watermarkValue(): number {
    // An outer interval join releases an element at t once the watermark passes t + d.
    if (this.spec.kind === "interval" && this.outer) return this.wm - this.spec.within;
    return this.wm;
  }

  override currentWatermark(): number {
    return this.watermarkValue;
  }

  /** After a restore: the expiry queue again, from every key's elements. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    if (this.spec.kind !== "interval") return;
    this.expiry.reset();
    const d = this.spec.within;
    const entries: QueueEntry[] = [];
    for (const { mk, obj } of this.keys.scan()) {
      for (let side = 0; side < 2; side++) for (const it of obj.sides[side]!) entries.push({ time: it.ts + d, seq: side * SIDE + it.seq, values: [mk] });
    }
    this.expiry.load(entries);
  }

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = this.keys.entries().map(({ mk, key, obj }): [MapKey, unknown, unknown] => [mk, key, (obj as KeyGroup).row()]);
    return { rows, meta: { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as JoinMeta | undefined;
    if (meta) this.setMeta({ ...meta, held: undefined });
    let held = 0;
    for (const [mk, key, data] of rows) {
      const g = this.keys.get(mk, key);
      g.load(data as Row);
      held += g.sides[0].length + g.sides[1].length;
    }
    this.elements = held;
    this.stale = true;
  }
}
