// dedup(x => id, within: d): an element is dropped when an element with the same id was
// kept and their times differ by at most d; the kept element's entry is freed when the
// watermark passes its time + d.

import type { MapKey } from "../api.js";
import { decodeSnapshot, encodeSnapshot } from "../checkpoint/snapshot.js";
import type { StateStore } from "../state.js";
import { MinHeap } from "./heap.js";

export class DedupOperator implements StateStore {
  readonly incremental = false;
  private readonly ids = new Map<MapKey, { id: unknown; kept: number[] }>();
  private readonly expiry = new MinHeap<{ time: number; mk: MapKey; ts: number }>((a, b) => a.time < b.time);
  private wm = -Infinity;
  /** Elements dropped as duplicates. */
  dropped = 0;

  constructor(
    readonly uid: string,
    private readonly within: number,
  ) {}

  get size(): number {
    return this.ids.size;
  }

  get changed(): number {
    return this.ids.size;
  }

  /** Whether the element is kept (the first of its id within d), recording it if so. */
  keep(mk: MapKey, id: unknown, ts: number): boolean {
    let e = this.ids.get(mk);
    if (e && e.kept.some((t) => Math.abs(t - ts) <= this.within)) {
      this.dropped++;
      return false;
    }
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

  snapshot(): { buffers: Buffer[]; keys: number; bytes: number } {
    const rows = [...this.ids].map(([mk, e]) => [mk, { $key: e.id, $dirty: false, $saveTo: (c: unknown[][]) => c[0]!.push(e.kept), $loadFrom: () => undefined }] as const);
    return encodeSnapshot(this.uid, "full", 1, true, rows.map((r) => r[0]).values(), rows.map((r) => r[1]).values(), rows.length, true, { wm: this.wm, dropped: this.dropped });
  }

  restore(bytes: Buffer): void {
    const index = decodeSnapshot(bytes, (mk, id, columns, i) => {
      const kept = columns[0]![i] as number[];
      this.ids.set(mk, { id, kept: [...kept] });
      for (const ts of kept) this.expiry.push({ time: ts + this.within, mk, ts });
    });
    const meta = index.meta as { wm: number | null; dropped: number } | undefined;
    if (meta) {
      this.wm = meta.wm ?? -Infinity;
      this.dropped = meta.dropped;
    }
  }
}
