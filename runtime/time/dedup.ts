// dedup(x => id, within: d): an element is dropped when an element with the same id was
// kept and their times differ by at most d; the kept element's entry is freed when the
// watermark passes its time + d.

import type { MapKey } from "../api.js";
import { RowOperator, type OperatorFactories } from "../operator.js";
import { MinHeap } from "./heap.js";

export class DedupOperator extends RowOperator {
  private readonly ids = new Map<MapKey, { id: unknown; kept: number[] }>();
  private readonly expiry = new MinHeap<{ time: number; mk: MapKey; ts: number }>((a, b) => a.time < b.time);
  private wm = -Infinity;
  /** Elements dropped as duplicates. */
  dropped = 0;

  constructor(
    readonly uid: string,
    private readonly within: number,
  ) {
    super();
  }

  override currentWatermark(): number {
    return this.wm;
  }

  override get size(): number {
    return this.ids.size;
  }

  /** Whether the element is kept (the first of its id within d), recording it if so. */
  keep(mk: MapKey, id: unknown, ts: number): boolean {
    let e = this.ids.get(mk);
    if (e && e.kept.some((t) => Math.abs(t - ts) <= this.within)) {
      this.dropped++;
      return false;
    }
    // Kept, but the watermark already passed its time + d: its entry is freed at once.
    if (this.wm > ts + this.within) return true;
    if (!e) {
      e = { id, kept: [] };
      this.ids.set(mk, e);
    }
    e.kept.push(ts);
    this.expiry.push({ time: ts + this.within, mk, ts });
    return true;
  }

  watermark(w: number): void {
    if (w <= this.wm) return;
    this.wm = w;
    for (let x = this.expiry.peek(); x && x.time < w; x = this.expiry.peek()) {
      this.expiry.pop();
      const e = this.ids.get(x.mk);
      if (!e) continue;
      const i = e.kept.indexOf(x.ts);
      if (i >= 0) e.kept.splice(i, 1);
      if (e.kept.length === 0) this.ids.delete(x.mk);
    }
  }

  /** Rows are keyed by the id (not the stream's key): records by their JSON text. */
  readonly partName = "dedup";

  /** Per id: the times of the elements kept. */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    return { rows: [...this.ids].map(([mk, e]): [MapKey, unknown, unknown] => [mk, e.id, e.kept]), meta: { wm: this.wm, dropped: this.dropped } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    for (const [mk, id, data] of rows) {
      const kept = data as number[];
      this.ids.set(mk, { id, kept: [...kept] });
      for (const ts of kept) this.expiry.push({ time: ts + this.within, mk, ts });
    }
    const meta = metaIn as { wm: number | null; dropped: number } | undefined;
    if (meta) {
      this.wm = meta.wm ?? -Infinity;
      this.dropped = meta.dropped;
    }
  }
}

export const factory: NonNullable<OperatorFactories["dedup"]> = (uid, within) => new DedupOperator(uid, within);
