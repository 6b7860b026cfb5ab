// The timers of a process block (`timer at`, state `ttl`) on disk: the same contract and
// order as runtime/time/timers.ts — one timer per key, kind and time; timers fire when the
// watermark reaches them, in time order, equal times in the order they were set — with
// both of its structures in the job's store:
//
//   - per key, its pending timers as (time, order) pairs per kind: a keyed table like any
//     other (keyed.ts: the LRU cache, write-back, checkpoints as deltas of changed keys);
//   - the queue of every pending timer by (time, order) -> [kind, map key] (queue.ts).
//
// Checkpoints hold the per-key table only (with the order counter and the watermark): the
// queue is rebuilt from it after a restore. Savepoints hold the same rows as the memory
// backend's timers (part `timers`), so they restore into either backend.

import type { MapKey, StateObject, TimersHandle } from "../../api.js";
import { FlowRuntimeError } from "../../lib.js";
import { OperatorBase, plainMapKey, type RowState, type Snapshot } from "../../operator.js";
import { DiskKeyedState } from "./keyed.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

const USER = 0;

/** A key's pending timers: (time, order) pairs, per kind. */
class KeyTimers implements StateObject {
  $dirty = false;
  /** [user timers, ttl timers], each [time, order, time, order, …]. */
  t: [number[], number[]] = [[], []];
  constructor(readonly $key: unknown) {}
  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.t[0]);
    c[1]!.push(this.t[1]);
  }
  $loadFrom(c: readonly unknown[][], i: number): void {
    this.t = [c[0]![i] as number[], c[1]![i] as number[]];
  }
  has(kind: number, time: number): boolean {
    const a = this.t[kind]!;
    for (let i = 0; i < a.length; i += 2) if (a[i] === time) return true;
    return false;
  }
  /** Removes the timer if it is this one (time and order); whether it was. */
  take(kind: number, time: number, seq: number): boolean {
    const a = this.t[kind]!;
    for (let i = 0; i < a.length; i += 2) {
      if (a[i] === time && a[i + 1] === seq) {
        a.splice(i, 2);
        return true;
      }
    }
    return false;
  }
  get empty(): boolean {
    return this.t[0].length === 0 && this.t[1].length === 0;
  }
}

export class DiskTimerService extends OperatorBase implements TimersHandle, RowState {
  private readonly keys: DiskKeyedState<KeyTimers>;
  private readonly queue: DiskQueue;
  private seq = 0;
  private wm = -Infinity;
  private count = 0;
  /** After a restore: the queue is rebuilt from the per-key table before it is used. */
  private stale = false;
  onTimer: (kind: number, mk: MapKey, key: unknown, time: number) => void = () => undefined;
  readonly partName = "timers";

  constructor(
    store: DiskStore,
    readonly uid: string,
    typedKeys: boolean,
  ) {
    super();
    this.keys = new DiskKeyedState(store, uid, 2, (key) => new KeyTimers(key), typedKeys);
    this.keys.meta = () => ({ seq: this.seq, wm: Number.isFinite(this.wm) ? this.wm : null });
    this.keys.onMeta = (m) => {
      const meta = m as { seq: number; wm: number | null };
      this.seq = meta.seq;
      this.wm = meta.wm ?? -Infinity;
    };
    this.queue = new DiskQueue(store, `${uid}#queue`);
  }

  override get incremental(): boolean {
    return true;
  }

  get onDisk(): boolean {
    return true;
  }

  get watermarkValue(): number {
    return this.wm;
  }

  override currentWatermark(): number {
    return this.wm;
  }

  override get size(): number {
    this.rebuild();
    return this.count;
  }

  override get rows(): RowState {
    return this;
  }

  set(kind: number, mk: MapKey, key: unknown, time: number): void {
    this.rebuild();
    const obj = this.keys.get(mk, key);
    if (obj.has(kind, time)) return;
    const seq = this.seq++;
    obj.t[kind]!.push(time, seq);
    this.count++;
    this.queue.push(time, seq, [kind, mk]);
  }

  hasTimers(mk: MapKey): boolean {
    const k = this.keys.find(mk);
    return k !== undefined && k.t[USER].length > 0;
  }

  watermark(w: number): void {
    if (w <= this.wm) return;
    this.rebuild();
    this.wm = w;
    let fired = 0;
    this.queue.take(w, true, (e) => {
      const kind = e.values[0] as number;
      const mk = e.values[1] as MapKey;
      const obj = this.keys.getIfExists(mk);
      if (obj === undefined || !obj.take(kind, e.time, e.seq)) return;
      this.count--;
      if (obj.empty) this.keys.delete(mk);
      if (++fired > 10_000_000) throw new FlowRuntimeError("timers keep setting new timers at the end of the input (more than 10 million fired in one watermark step)", `the \`on timer\` block of process \`${this.uid.replace(/\$timers$/, "")}\``);
      this.onTimer(kind, mk, obj.$key, e.time);
    });
  }

  /** After a restore (a checkpoint or a savepoint): the queue again, from every key's timers. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    // The queue's part of the store is empty here: a restore happens only at the start of a
    // run, into an empty store.
    this.queue.reset();
    let count = 0;
    const entries = this.keys.entries();
    function* all(): Generator<QueueEntry> {
      for (const { mk, obj } of entries) {
        const t = (obj as KeyTimers).t;
        for (let kind = 0; kind < 2; kind++) {
          const a = t[kind]!;
          for (let i = 0; i < a.length; i += 2) {
            count++;
            yield { time: a[i]!, seq: a[i + 1]!, values: [kind, mk] };
          }
        }
      }
    }
    this.queue.load(all());
    this.count = count;
  }

  // ---- checkpoints: the per-key table's ---------------------------------------------------

  snapshot(kind: "full" | "delta", deferred = false): Snapshot {
    return this.keys.snapshot(kind, deferred);
  }

  restore(bytes: Buffer): void {
    this.keys.restore(bytes);
    this.stale = true;
  }

  // ---- savepoints: the memory backend's rows ----------------------------------------------

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, undefined);
  }

  /** Per key: its timers as [kind (0 user, 1 ttl), time, order]. */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows: [MapKey, unknown, unknown][] = [];
    for (const { mk, key, obj } of this.keys.entries()) {
      const t = (obj as KeyTimers).t;
      const data: [number, number, number][] = [];
      for (let kind = 0; kind < 2; kind++) for (let i = 0; i < t[kind]!.length; i += 2) data.push([kind, t[kind]![i]!, t[kind]![i + 1]!]);
      rows.push([mk, key, data]);
    }
    return { rows, meta: { seq: this.seq, wm: Number.isFinite(this.wm) ? this.wm : null } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    for (const [mk, key, data] of rows) {
      const obj = this.keys.get(mk, key);
      obj.t = [[], []];
      for (const [kind, time, seq] of data as [number, number, number][]) obj.t[kind]!.push(time, seq);
    }
    const meta = metaIn as { seq: number; wm: number | null } | undefined;
    if (meta) {
      this.seq = meta.seq;
      this.wm = meta.wm ?? -Infinity;
    }
    this.stale = true;
  }
}
