// Tumbling and sliding windows on disk: the contract of runtime/time/fixed.ts and window.ts
// (when windows fire, lateness, the order of results) with both of their structures in the
// job's store:
//
//   - per key, its open windows (start, end, order, the aggregate's accumulator: one
//     generated state object per window) as one state object in a keyed table (keyed.ts:
//     the LRU cache, write-back, checkpoints as deltas of the keys changed);
//   - two time queues (queue.ts): windows to fire by (end, order) and, under allowed
//     lateness, windows fired but kept by (end + allowed_lateness, order). `order` counts
//     windows as they are created, so the windows of one end fire in the order of their
//     keys' first elements, as the memory backend's buckets do. The queues are not
//     checkpointed: they are rebuilt from the table when a run starts after a restore.
//
// Savepoints hold the memory backend's rows (part `windows`: per key a flat list of start,
// end, fired, order and the accumulator's fields for each window), so a savepoint moves
// between the backends.

import type { EmitFn, MapKey, StateObject, WindowSpec } from "../../api.js";
import { OperatorBase, plainMapKey, type RowState, type Snapshot } from "../../operator.js";
import type { WindowAggregate } from "../../time/window.js";
import { DiskKeyedState } from "./keyed.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

interface Win<S> {
  start: number;
  end: number;
  order: number;
  acc: S;
}

/** A key's windows, as one state object of the keyed table (one field: the flat row). */
class KeyWindows<S extends StateObject> implements StateObject {
  $dirty = false;
  wins: Win<S>[] = [];
  constructor(
    readonly $key: unknown,
    private readonly agg: WindowAggregate<S>,
  ) {}

  find(end: number): Win<S> | undefined {
    const wins = this.wins;
    for (let i = 0; i < wins.length; i++) if (wins[i]!.end === end) return wins[i];
    return undefined;
  }

  remove(end: number): void {
    const i = this.wins.findIndex((w) => w.end === end);
    if (i >= 0) this.wins.splice(i, 1);
  }

  /** start, end, fired, order, fields… per window (fired: end ≤ the watermark `wm`). */
  flat(wm: number): unknown[] {
    const fields = this.agg.fields;
    const cols: unknown[][] = [];
    for (let i = 0; i < fields; i++) cols.push([]);
    const out: unknown[] = [];
    for (const w of this.wins) {
      for (let i = 0; i < fields; i++) cols[i]!.length = 0;
      w.acc.$saveTo(cols);
      out.push(w.start, w.end, w.end <= wm, w.order);
      for (let i = 0; i < fields; i++) out.push(cols[i]![0]);
    }
    return out;
  }

  load(list: readonly unknown[]): void {
    const fields = this.agg.fields;
    this.wins = [];
    for (let at = 0; at < list.length; at += 4 + fields) {
      const acc = this.agg.create(this.$key);
      acc.$loadFrom(
        list.slice(at + 4, at + 4 + fields).map((v) => [v]),
        0,
      );
      this.wins.push({ start: list[at] as number, end: list[at + 1] as number, order: list[at + 3] as number, acc });
    }
  }

  // In the store the fired flag is left out (-Infinity: never fired); it follows from the watermark.
  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.flat(-Infinity));
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.load(c[0]![i] as unknown[]);
  }
}

interface Meta {
  wm: number | null;
  seq: number;
  dropped: number;
}

export class DiskFixedWindows<S extends StateObject> extends OperatorBase implements RowState {
  readonly partName = "windows";
  private readonly keys: DiskKeyedState<KeyWindows<S>>;
  private readonly toFire: DiskQueue;
  private readonly toFree: DiskQueue;
  private wm = -Infinity;
  private seq = 0;
  /** Elements too late for all their windows, with no `late:` stream to go to. */
  dropped = 0;
  /** After a restore: the queues are rebuilt from the table before they are used. */
  private stale = false;

  constructor(
    store: DiskStore,
    readonly uid: string,
    private readonly spec: WindowSpec,
    private readonly agg: WindowAggregate<S>,
    private readonly emit: EmitFn,
    private readonly late: EmitFn | null,
  ) {
    super();
    // Keys of any type: the typed key is kept with the windows (results and accumulators need it).
    this.keys = new DiskKeyedState(store, uid, 1, (key) => new KeyWindows<S>(key, agg), true);
    this.keys.meta = (): Meta => ({ wm: Number.isFinite(this.wm) ? this.wm : null, seq: this.seq, dropped: this.dropped });
    this.keys.onMeta = (m) => this.setMeta(m as Meta);
    this.toFire = new DiskQueue(store, `${uid}#fire`);
    this.toFree = new DiskQueue(store, `${uid}#free`);
  }

  private setMeta(meta: Meta): void {
    this.wm = meta.wm ?? -Infinity;
    this.seq = meta.seq;
    this.dropped = meta.dropped;
  }

  override get incremental(): boolean {
    return true;
  }

  get onDisk(): boolean {
    return true;
  }

  override currentWatermark(): number {
    return this.wm;
  }

  override get lateDropped(): number {
    return this.dropped;
  }

  /** Keys holding at least one window. */
  override get size(): number {
    return this.keys.size;
  }

  override get rows(): RowState {
    return this;
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    this.rebuild();
    const { size, every, allowedLateness } = this.spec;
    const last = Math.floor(ts / every) * every;
    const first = size === every ? last : Math.floor((ts - size) / every) * every + every;
    const wm = this.wm;
    let contained = 0;
    let added = false;
    let kw: KeyWindows<S> | undefined;
    for (let start = first; start <= last; start += every) {
      const end = start + size;
      if (end <= ts) continue;
      contained++;
      if (wm >= end + allowedLateness) continue;
      if (kw === undefined) kw = this.keys.get(mk, key);
      let w = kw.find(end);
      if (w === undefined) {
        w = { start, end, order: this.seq++, acc: this.agg.create(key) };
        kw.wins.push(w);
        // A window the watermark already reached (allowed-late and new) is not fired again by the queue.
        if (end > wm) this.toFire.push(end, w.order, [mk]);
        else if (allowedLateness > 0) this.toFree.push(end + allowedLateness, w.order, [mk, end]);
      }
      this.agg.add(w.acc, x, key);
      added = true;
      if (end <= wm) this.emit(this.agg.result(w.acc, key, start, end), key, end - 1);
    }
    if (!added && contained > 0) {
      if (this.late) this.late(x, key, ts);
      else this.dropped++;
    }
  }

  /** The watermark advanced: fire the windows it reached, by end and order; free what it passed. */
  watermark(w: number): void {
    if (w <= this.wm) return;
    this.rebuild();
    this.wm = w;
    const lateness = this.spec.allowedLateness;
    this.toFire.take(w, true, (e) => {
      const mk = e.values[0] as MapKey;
      const kw = this.keys.getIfExists(mk);
      const win = kw?.find(e.time);
      if (kw === undefined || win === undefined) return;
      this.emit(this.agg.result(win.acc, kw.$key, win.start, win.end), kw.$key, win.end - 1);
      if (lateness > 0) this.toFree.push(win.end + lateness, win.order, [mk, win.end]);
      else this.drop(mk, kw, win.end);
    });
    if (lateness > 0) {
      this.toFree.take(w, true, (e) => {
        const mk = e.values[0] as MapKey;
        const kw = this.keys.getIfExists(mk);
        if (kw !== undefined) this.drop(mk, kw, e.values[1] as number);
      });
    }
  }

  private drop(mk: MapKey, kw: KeyWindows<S>, end: number): void {
    kw.remove(end);
    if (kw.wins.length === 0) this.keys.delete(mk);
  }

  /** After a restore: both queues again, from every key's windows. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    this.toFire.reset();
    this.toFree.reset();
    const wm = this.wm;
    const lateness = this.spec.allowedLateness;
    const fire: QueueEntry[] = [];
    const free: QueueEntry[] = [];
    for (const { mk, obj } of this.keys.scan()) {
      for (const w of obj.wins) {
        if (w.end > wm) fire.push({ time: w.end, seq: w.order, values: [mk] });
        else free.push({ time: w.end + lateness, seq: w.order, values: [mk, w.end] });
      }
    }
    this.toFire.load(fire);
    this.toFree.load(free);
  }

  snapshot(kind: "full" | "delta", deferred = false): Snapshot {
    return this.keys.snapshot(kind, deferred);
  }

  restore(bytes: Buffer): void {
    this.keys.restore(bytes);
    this.stale = true;
  }

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = this.keys.entries().map(({ mk, key, obj }): [MapKey, unknown, unknown] => [mk, key, (obj as KeyWindows<S>).flat(this.wm)]);
    const meta: Meta = { wm: Number.isFinite(this.wm) ? this.wm : null, seq: this.seq, dropped: this.dropped };
    return { rows, meta };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as Meta | undefined;
    if (meta) this.setMeta(meta);
    let seq = this.seq;
    for (const [mk, key, data] of rows) {
      const list = data as unknown[];
      const kw = this.keys.get(mk, key);
      if (list.length > 0 && Array.isArray(list[0])) {
        // The older layout: [[start, end, fired, order, fields, null], …], [].
        kw.wins = [];
        for (const [start, end, , order, fields] of list[0] as [number, number, boolean, number, unknown[] | null][]) {
          const acc = this.agg.create(key);
          if (fields) acc.$loadFrom(fields.map((v) => [v]).slice(0, this.agg.fields), 0);
          kw.wins.push({ start, end, order, acc });
        }
      } else kw.load(list);
      for (const w of kw.wins) if (w.order >= seq) seq = w.order + 1;
    }
    this.seq = seq;
    this.stale = true;
  }
}
