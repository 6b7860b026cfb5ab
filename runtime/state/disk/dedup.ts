// dedup(x => id, within: d) on disk: the same contract as runtime/time/dedup.ts — an element
// is dropped when an element with the same id was kept and their times differ by at most d;
// the kept element's entry is freed when the watermark passes its time + d — with both of
// its structures in the job's store: per id, the times of the elements kept, in a keyed
// table (keyed.ts: cache, write-back, checkpoints as deltas of changed ids); and the expiry
// queue by (time + d, order) -> [map key, time] (queue.ts), rebuilt from the table when a
// run starts. Savepoints hold the memory backend's rows (part `dedup`).

import type { DedupHandle, MapKey, StateObject } from "../../api.js";
import { OperatorBase, plainMapKey, type RowState, type Snapshot } from "../../operator.js";
import { DiskKeyedState } from "./keyed.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

/** An id's kept elements: their times. */
class Kept implements StateObject {
  $dirty = false;
  kept: number[] = [];
  constructor(readonly $key: unknown) {}
  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.kept);
  }
  $loadFrom(c: readonly unknown[][], i: number): void {
    this.kept = c[0]![i] as number[];
  }
}

export class DiskDedup extends OperatorBase implements DedupHandle, RowState {
  private readonly ids: DiskKeyedState<Kept>;
  private readonly queue: DiskQueue;
  private wm = -Infinity;
  private seq = 0;
  /** Elements dropped as duplicates. */
  dropped = 0;
  private stale = false;
  readonly partName = "dedup";

  constructor(
    store: DiskStore,
    readonly uid: string,
    private readonly within: number,
  ) {
    super();
    // Ids of any type: the typed id is kept with its times.
    this.ids = new DiskKeyedState(store, uid, 1, (id) => new Kept(id), true);
    this.ids.meta = () => ({ wm: Number.isFinite(this.wm) ? this.wm : null, dropped: this.dropped, seq: this.seq });
    this.ids.onMeta = (m) => {
      const meta = m as { wm: number | null; dropped: number; seq: number };
      this.wm = meta.wm ?? -Infinity;
      this.dropped = meta.dropped;
      this.seq = meta.seq;
    };
    this.queue = new DiskQueue(store, `${uid}#expiry`);
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

  override get size(): number {
    return this.ids.size;
  }

  override get rows(): RowState {
    return this;
  }

  keep(mk: MapKey, id: unknown, ts: number): boolean {
    this.rebuild();
    const e = this.ids.get(mk, id);
    const kept = e.kept;
    for (let i = 0; i < kept.length; i++) {
      if (Math.abs(kept[i]! - ts) <= this.within) {
        this.dropped++;
        return false;
      }
    }
    // Kept, but the watermark already passed its time + d: its entry is freed at once.
    if (this.wm > ts + this.within) {
      if (kept.length === 0) this.ids.delete(mk);
      return true;
    }
    kept.push(ts);
    this.queue.push(ts + this.within, this.seq++, [mk, ts]);
    return true;
  }

  watermark(w: number): void {
    if (w <= this.wm) return;
    this.rebuild();
    this.wm = w;
    this.queue.take(w, false, (x) => {
      const mk = x.values[0] as MapKey;
      const e = this.ids.getIfExists(mk);
      if (e === undefined) return;
      const i = e.kept.indexOf(x.values[1] as number);
      if (i >= 0) e.kept.splice(i, 1);
      if (e.kept.length === 0) this.ids.delete(mk);
    });
  }

  /** After a restore: the expiry queue again, from every id's kept times. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    this.queue.reset();
    const entries = this.ids.entries();
    const within = this.within;
    let seq = this.seq;
    function* all(): Generator<QueueEntry> {
      for (const { mk, obj } of entries) for (const ts of (obj as Kept).kept) yield { time: ts + within, seq: seq++, values: [mk, ts] };
    }
    this.queue.load(all());
    this.seq = seq;
  }

  snapshot(kind: "full" | "delta", deferred = false): Snapshot {
    return this.ids.snapshot(kind, deferred);
  }

  restore(bytes: Buffer): void {
    this.ids.restore(bytes);
    this.stale = true;
  }

  /** Rows are keyed by the id (not the stream's key): records by their JSON text. */
  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = this.ids.entries().map(({ mk, key, obj }): [MapKey, unknown, unknown] => [mk, key, [...(obj as Kept).kept]]);
    return { rows, meta: { wm: Number.isFinite(this.wm) ? this.wm : null, dropped: this.dropped } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    for (const [mk, id, data] of rows) this.ids.get(mk, id).kept = [...(data as number[])];
    const meta = metaIn as { wm: number | null; dropped: number } | undefined;
    if (meta) {
      this.wm = meta.wm ?? -Infinity;
      this.dropped = meta.dropped;
    }
    this.stale = true;
  }
}
