// The timers of a process block (`timer at`, state `ttl`) on disk: the same contract and
// order as runtime/time/timers.ts — one timer per key, kind and time; timers fire when the
// watermark reaches them, in time order, equal times in the order they were set — with
// both of its structures in the job's store:
//
//   - per key, its pending timers as (time, order) pairs per kind: a keyed table like any
//     other (keyed.ts: the LRU cache, write-back, checkpoints as deltas of changed keys);
//   - the queue of every pending timer by (time, order): a part of the store of its own,
//     [table][part 1][time][order] -> [kind, map key]. New timers wait in a small heap in
//     memory and are written to the queue in batches; firing takes the smaller of the heap's
//     first and the queue's first (read a chunk at a time) and deletes what fired.
//
// Checkpoints hold the per-key table only (with the order counter and the watermark): the
// queue is rebuilt from it after a restore. Savepoints hold the same rows as the memory
// backend's timers (part `timers`), so they restore into either backend.

import type { MapKey, StateObject, TimersHandle } from "../../api.js";
import { FlowRuntimeError } from "../../lib.js";
import { OperatorBase, plainMapKey, type RowState, type Snapshot } from "../../operator.js";
import { MinHeap } from "../../time/heap.js";
import { decodeValues, encodeValues } from "./codec.js";
import { DiskKeyedState } from "./keyed.js";
import type { DiskStore } from "./store.js";

const USER = 0;
/** New timers written to the queue once there are this many; queue entries read at a time. */
const QUEUE_BATCH = 10_000;
const READ_CHUNK = 1024;

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

interface Entry {
  time: number;
  seq: number;
  kind: number;
  mk: MapKey;
}

const less = (a: Entry, b: Entry): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq);

/** Writes a number so that the bytes of numbers compare as the numbers do. */
function writeOrdered(b: Buffer, x: number, at: number): void {
  b.writeDoubleBE(x === 0 ? 0 : x, at);
  if (b[at]! & 0x80) for (let i = at; i < at + 8; i++) b[i] = ~b[i]! & 0xff;
  else b[at] = b[at]! | 0x80;
}

function readOrdered(b: Buffer, at: number): number {
  const t = Buffer.from(b.subarray(at, at + 8));
  if (t[0]! & 0x80) t[0] = t[0]! & 0x7f;
  else for (let i = 0; i < 8; i++) t[i] = ~t[i]! & 0xff;
  return t.readDoubleBE(0);
}

export class DiskTimerService extends OperatorBase implements TimersHandle, RowState {
  private readonly keys: DiskKeyedState<KeyTimers>;
  /** The queue's part of the store: [table][1]. */
  private readonly queue: Buffer;
  /** Timers not in the queue yet. */
  private fresh = new MinHeap<Entry>(less);
  /** Entries read from the queue, in order, not fired yet; and the queue keys that fired. */
  private head: { e: Entry; k: Buffer }[] = [];
  private at = 0;
  private fired: Buffer[] = [];
  private seq = 0;
  private wm = -Infinity;
  private count = 0;
  /** After a restore: the queue is rebuilt from the per-key table before it is used. */
  private stale = false;
  private firing = false;
  onTimer: (kind: number, mk: MapKey, key: unknown, time: number) => void = () => undefined;
  readonly partName = "timers";

  constructor(
    private readonly store: DiskStore,
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
    const id = store.register({ uid: `${uid}#queue`, drain: () => 0, settled: () => undefined, hits: 0, misses: 0, size: 0 });
    this.queue = Buffer.alloc(3);
    this.queue.writeUInt16BE(id, 0);
    this.queue[2] = 1;
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
    this.fresh.push({ time, seq, kind, mk });
    if (!this.firing && this.fresh.size >= QUEUE_BATCH) this.writeFresh();
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
    this.firing = true;
    try {
      for (;;) {
        const fromQueue = this.nextStored(w);
        const f = this.fresh.peek();
        let e: Entry;
        if (f !== undefined && f.time <= w && (fromQueue === null || less(f, fromQueue))) e = this.fresh.pop()!;
        else if (fromQueue !== null) {
          e = fromQueue;
          this.fired.push(this.head[this.at]!.k);
          this.at++;
        } else break;
        const obj = this.keys.getIfExists(e.mk);
        if (obj === undefined || !obj.take(e.kind, e.time, e.seq)) continue;
        this.count--;
        if (obj.empty) this.keys.delete(e.mk);
        if (++fired > 10_000_000) throw new FlowRuntimeError("timers keep setting new timers at the end of the input (more than 10 million fired in one watermark step)", `the \`on timer\` block of process \`${this.uid.replace(/\$timers$/, "")}\``);
        this.onTimer(e.kind, e.mk, obj.$key, e.time);
      }
    } finally {
      this.firing = false;
      this.dropFired();
    }
    if (this.fresh.size >= QUEUE_BATCH) this.writeFresh();
  }

  /** The queue's first entry not fired yet, if its time is at most w (reads a chunk when the last is used up). */
  private nextStored(w: number): Entry | null {
    if (this.at >= this.head.length) {
      this.dropFired();
      this.head = [];
      this.at = 0;
      const end = Buffer.alloc(19);
      this.queue.copy(end, 0);
      writeOrdered(end, w, 3);
      end.fill(0xff, 11);
      for (const { key, value } of this.store.db.getRange({ start: this.queue, end, limit: READ_CHUNK })) {
        const k = Buffer.from(key as Buffer);
        const [kind, mk] = decodeValues(value as Buffer) as [number, MapKey];
        this.head.push({ e: { time: readOrdered(k, 3), seq: readOrdered(k, 11), kind, mk }, k });
      }
    }
    const h = this.head[this.at];
    return h !== undefined && h.e.time <= w ? h.e : null;
  }

  /** Deletes the queue entries that fired. */
  private dropFired(): void {
    if (this.fired.length === 0) return;
    const db = this.store.db;
    const gone = this.fired;
    this.fired = [];
    db.transactionSync(() => {
      for (const k of gone) void db.remove(k);
    });
  }

  private queueKey(time: number, seq: number): Buffer {
    const k = Buffer.allocUnsafe(19);
    this.queue.copy(k, 0);
    writeOrdered(k, time, 3);
    writeOrdered(k, seq, 11);
    return k;
  }

  /** Writes the new timers into the queue, in one transaction. */
  private writeFresh(): void {
    const db = this.store.db;
    const fresh = this.fresh;
    this.fresh = new MinHeap<Entry>(less);
    // Entries read ahead are read again after the write (one may now come before them).
    this.dropFired();
    this.head = [];
    this.at = 0;
    db.transactionSync(() => {
      for (let e = fresh.pop(); e !== undefined; e = fresh.pop()) void db.put(this.queueKey(e.time, e.seq), encodeValues([e.kind, e.mk]));
    });
  }

  /** After a restore (a checkpoint or a savepoint): the queue again, from every key's timers. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    const db = this.store.db;
    this.fresh = new MinHeap<Entry>(less);
    this.head = [];
    this.at = 0;
    this.fired = [];
    // The queue is empty here: a restore happens only at the start of a run, into an empty store.
    let batch: [Buffer, Buffer][] = [];
    const write = (): void => {
      const b = batch;
      batch = [];
      db.transactionSync(() => {
        for (const [k, v] of b) void db.put(k, v);
      });
    };
    let count = 0;
    for (const { mk, obj } of this.keys.entries()) {
      const t = (obj as KeyTimers).t;
      for (let kind = 0; kind < 2; kind++) {
        const a = t[kind]!;
        for (let i = 0; i < a.length; i += 2) {
          batch.push([this.queueKey(a[i]!, a[i + 1]!), encodeValues([kind, mk])]);
          count++;
          if (batch.length >= QUEUE_BATCH) write();
        }
      }
    }
    write();
    this.count = count;
  }

  // ---- checkpoints: the per-key table's ---------------------------------------------------

  snapshot(kind: "full" | "delta"): Snapshot {
    return this.keys.snapshot(kind);
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
