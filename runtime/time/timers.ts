// Event-time timers of a process block: `timer at t` registers one timer per key and
// timestamp; timers fire when the watermark reaches their time, in time order (equal times
// in the order they were set). State `ttl` uses the same service for its expiry checks.
// Timers are checkpointed with the rest of the state.

import type { MapKey } from "../api.js";
import { FlowRuntimeError } from "../lib.js";
import { plainMapKey, RowOperator, type OperatorFactories } from "../operator.js";
import { MinHeap } from "./heap.js";

export const USER = 0;
export const TTL = 1;

interface Entry {
  time: number;
  seq: number;
  kind: number;
  mk: MapKey;
}

interface KeyTimers {
  key: unknown;
  /** Indexed by kind: time -> order of registration. */
  timers: [Map<number, number>, Map<number, number>];
  /** Timers pending over both kinds. */
  count: number;
}

/** What the generated operator does when a timer fires. */
export type OnTimer = (kind: number, mk: MapKey, key: unknown, time: number) => void;

export class TimerService extends RowOperator {
  /** Per key: its typed key, and per kind (USER, TTL) time -> order of registration. */
  private readonly keys = new Map<MapKey, KeyTimers>();
  private readonly heap = new MinHeap<Entry>((a, b) => a.time < b.time || (a.time === b.time && a.seq < b.seq));
  private seq = 0;
  private wm = -Infinity;
  onTimer: OnTimer = () => undefined;

  constructor(readonly uid: string) {
    super();
  }

  /** The operator's event-time watermark: the clock of its state ttl. */
  get watermarkValue(): number {
    return this.wm;
  }

  override currentWatermark(): number {
    return this.wm;
  }

  override get size(): number {
    return this.heap.size;
  }

  /** Registers a timer (once per key, kind and time). */
  set(kind: number, mk: MapKey, key: unknown, time: number): void {
    let k = this.keys.get(mk);
    if (!k) {
      k = { key, timers: [new Map(), new Map()], count: 0 };
      this.keys.set(mk, k);
    }
    const byTime = k.timers[kind]!;
    if (byTime.has(time)) return;
    const seq = this.seq++;
    byTime.set(time, seq);
    k.count++;
    this.heap.push({ time, seq, kind, mk });
  }

  /** Whether a key has user timers pending (its state must then be kept). */
  hasTimers(mk: MapKey): boolean {
    const k = this.keys.get(mk);
    return k !== undefined && k.timers[USER]!.size > 0;
  }

  watermark(w: number): void {
    if (w <= this.wm) return;
    this.wm = w;
    let fired = 0;
    for (let e = this.heap.peek(); e && e.time <= w; e = this.heap.peek()) {
      this.heap.pop();
      const k = this.keys.get(e.mk);
      if (!k) continue;
      const byTime = k.timers[e.kind]!;
      if (byTime.get(e.time) !== e.seq) continue;
      byTime.delete(e.time);
      if (--k.count === 0) this.keys.delete(e.mk);
      if (++fired > 10_000_000) throw new FlowRuntimeError("timers keep setting new timers at the end of the input (more than 10 million fired in one watermark step)", `the \`on timer\` block of process \`${this.uid.replace(/\$timers$/, "")}\``);
      this.onTimer(e.kind, e.mk, k.key, e.time);
    }
  }

  readonly partName = "timers";

  /** A key's timers, read back from a savepoint: an unkeyed stream's have no map key. */
  override savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, undefined);
  }

  /** Per key: its timers as [kind (0 user, 1 ttl), time, order]. */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = [...this.keys].map(([mk, k]): [MapKey, unknown, unknown] => [mk, k.key, k.timers.flatMap((byTime, kind) => [...byTime].map(([time, seq]) => [kind, time, seq]))]);
    return { rows, meta: { seq: this.seq, wm: this.wm } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    for (const [mk, key, data] of rows) {
      const k: KeyTimers = { key, timers: [new Map(), new Map()], count: 0 };
      for (const [kind, time, seq] of data as [number, number, number][]) {
        k.timers[kind]!.set(time, seq);
        k.count++;
        this.heap.push({ time, seq, kind, mk });
      }
      this.keys.set(mk, k);
    }
    const meta = metaIn as { seq: number; wm: number | null } | undefined;
    if (meta) {
      this.seq = meta.seq;
      this.wm = meta.wm ?? -Infinity;
    }
  }
}

export const factory: NonNullable<OperatorFactories["timers"]> = (uid) => new TimerService(`${uid}$timers`);
