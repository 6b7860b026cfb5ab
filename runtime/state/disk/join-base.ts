// What the disk backend's joins (joins.ts, window-join.ts, session-join.ts,
// temporal-join.ts) share: the per-key table, both sides' watermarks and idleness, the
// counters each checkpoint keeps in its meta, and the operator's getters.

import type { StateObject } from "../../api.js";
import { OperatorBase, type Snapshot } from "../../operator.js";
import { DiskKeyedState } from "./keyed.js";
import type { DiskStore } from "./store.js";

/** The counters a checkpoint keeps beside the keys (watermarks as null when not finite). */
export interface JoinMeta {
  wms: [number | null, number | null];
  wm: number | null;
  seq: number;
  late: number;
  held?: number;
}

export const finite = (w: number): number | null => (Number.isFinite(w) ? w : null);

export abstract class DiskJoinBase<K extends StateObject, M extends JoinMeta = JoinMeta> extends OperatorBase {
  readonly partName = "join";
  protected readonly keys: DiskKeyedState<K>;
  protected readonly wms: [number, number] = [-Infinity, -Infinity];
  protected readonly idle: [boolean, boolean] = [false, false];
  protected wm = -Infinity;
  protected seq = 0;
  /** Elements that arrived too late to join. */
  late = 0;
  /** Elements (or versions and waiting probes) held, as the memory backend counts them. */
  protected elements = 0;
  /** Set on a restore: the time queues are rebuilt from the table on first use. */
  protected stale = false;

  constructor(
    store: DiskStore,
    readonly uid: string,
    make: (key: unknown) => K,
  ) {
    super();
    this.keys = new DiskKeyedState(store, uid, 1, make, true);
    this.keys.meta = () => this.meta();
    this.keys.onMeta = (m) => this.setMeta(m as M);
  }

  protected meta(): JoinMeta {
    return { wms: [finite(this.wms[0]), finite(this.wms[1])], wm: finite(this.wm), seq: this.seq, late: this.late, held: this.elements };
  }

  protected setMeta(meta: M): void {
    this.wms[0] = meta.wms[0] ?? -Infinity;
    this.wms[1] = meta.wms[1] ?? -Infinity;
    this.wm = meta.wm ?? -Infinity;
    this.seq = meta.seq;
    this.late = meta.late;
    if (meta.held !== undefined) this.elements = meta.held;
  }

  override get incremental(): boolean {
    return true;
  }

  get onDisk(): boolean {
    return true;
  }

  override get lateDropped(): number {
    return this.late;
  }

  override get size(): number {
    return this.keys.size;
  }

  override get held(): number {
    return this.elements;
  }

  /** Takes a side's watermark (`force`: again, after its idleness changed); whether the join's moved. */
  abstract watermark(w: number, side: number, force?: boolean): boolean;

  setIdle(side: number, on: boolean): boolean {
    this.idle[side] = on;
    return this.watermark(this.wms[side]!, side, true);
  }

  allIdle(): boolean {
    return this.idle[0] && this.idle[1];
  }

  /**
   * Records side `side`'s watermark `w`; the join's new watermark (the smaller of the sides
   * that are not idle, -Infinity when both are), or null when it does not move.
   */
  protected advance(w: number, side: number, force: boolean): number | null {
    if (w <= this.wms[side]! && !force) return null;
    if (w > this.wms[side]!) this.wms[side] = w;
    let next = Infinity;
    let active = false;
    for (let i = 0; i < 2; i++) {
      if (this.idle[i]) continue;
      active = true;
      if (this.wms[i]! < next) next = this.wms[i]!;
    }
    if (!active) next = -Infinity;
    return next <= this.wm ? null : next;
  }

  snapshot(kind: "full" | "delta", deferred = false): Snapshot {
    return this.keys.snapshot(kind, deferred);
  }

  restore(bytes: Buffer): void {
    this.keys.restore(bytes);
    this.stale = true;
  }
}
