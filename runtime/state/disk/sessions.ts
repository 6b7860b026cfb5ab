// Session windows on disk: the contract of runtime/time/window.ts (its header: sessions
// merge, fire when the watermark reaches their end, by end then by the order of their first
// elements; a freed session's bounds are remembered while an element could still connect
// to it) with its structures in the job's store:
//
//   - per key, its sessions and the bounds of freed sessions still remembered, as one state
//     object of a keyed table (keyed.ts), stored as the memory backend's savepoint row
//     ([sessions as [start, end, fired, order, accumulator fields | null, elements | null],
//     freed bounds]): an aggregate that merges keeps its accumulator, any other its
//     elements, from which the accumulator is computed again when the key is read back;
//   - three time queues (queue.ts): sessions to fire by (end, order); sessions to free by
//     (end + allowed_lateness, order); freed bounds to forget by (end + gap +
//     allowed_lateness). Entries are hints: one whose session has merged away, grown to a
//     later end or fired is passed over (a session that grows gets an entry for its new
//     end). Rebuilt from the table when a run starts after a restore.

import type { EmitFn, MapKey, StateObject, WindowSpec } from "../../api.js";
import { OperatorBase, plainMapKey, type RowState, type Snapshot } from "../../operator.js";
import type { WindowAggregate } from "../../time/window.js";
import { DiskKeyedState } from "./keyed.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

interface Session<S> {
  start: number;
  end: number;
  fired: boolean;
  /** Order of the session's first element. */
  seq: number;
  acc: S;
  /** The elements and their order numbers, in arrival order (empty when the aggregate merges). */
  xs: unknown[];
  seqs: number[];
}

type Row = [[number, number, boolean, number, unknown[] | null, { seq: number; x: unknown }[] | null][], [number, number][]];

/** A key's sessions and remembered bounds, as one state object of the keyed table. */
class KeySessions<S extends StateObject> implements StateObject {
  $dirty = false;
  wins: Session<S>[] = [];
  freed: [number, number][] = [];
  constructor(
    readonly $key: unknown,
    private readonly agg: WindowAggregate<S>,
  ) {}

  bySeq(seq: number): Session<S> | undefined {
    const wins = this.wins;
    for (let i = 0; i < wins.length; i++) if (wins[i]!.seq === seq) return wins[i];
    return undefined;
  }

  /** A session of these elements, its accumulator computed from them. */
  session(start: number, end: number, seq: number, xs: unknown[], seqs: number[]): Session<S> {
    const acc = this.agg.create(this.$key);
    for (const x of xs) this.agg.add(acc, x as never, this.$key as never);
    return { start, end, fired: false, seq, acc, xs, seqs };
  }

  /** The memory backend's row (window.ts exportRows). */
  row(): Row {
    const merge = this.agg.merge !== undefined;
    const fields = this.agg.fields;
    return [
      this.wins.map((w) => {
        let acc: unknown[] | null = null;
        if (merge) {
          const cols: unknown[][] = Array.from({ length: fields }, () => []);
          w.acc.$saveTo(cols);
          acc = cols.map((c) => c[0]);
        }
        return [w.start, w.end, w.fired, w.seq, acc, merge ? null : w.xs.map((x, i) => ({ seq: w.seqs[i]!, x }))];
      }),
      this.freed.map((b): [number, number] => [b[0], b[1]]),
    ];
  }

  load(row: Row): void {
    const [list, freed] = row;
    this.wins = [];
    this.freed = freed.map((b): [number, number] => [b[0], b[1]]);
    for (const [start, end, fired, seq, acc, elems] of list) {
      const win = this.session(start, end, seq, (elems ?? []).map((e) => e.x), (elems ?? []).map((e) => e.seq));
      if (acc) win.acc.$loadFrom(acc.map((v) => [v]).slice(0, this.agg.fields), 0);
      if (this.agg.merge) win.xs = win.seqs = [];
      win.fired = fired;
      this.wins.push(win);
    }
  }

  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.row());
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.load(c[0]![i] as Row);
  }
}

interface Meta {
  wm: number | null;
  seq: number;
  dropped: number;
}

export class DiskSessionWindows<S extends StateObject> extends OperatorBase implements RowState {
  readonly partName = "windows";
  private readonly keys: DiskKeyedState<KeySessions<S>>;
  private readonly toFire: DiskQueue;
  private readonly toFree: DiskQueue;
  private readonly forget: DiskQueue;
  private wm = -Infinity;
  private seq = 0;
  /** Orders the forget queue's entries (their order among equal times does not matter). */
  private forgetSeq = 0;
  dropped = 0;
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
    this.keys = new DiskKeyedState(store, uid, 1, (key) => new KeySessions<S>(key, agg), true);
    this.keys.meta = (): Meta => ({ wm: Number.isFinite(this.wm) ? this.wm : null, seq: this.seq, dropped: this.dropped });
    this.keys.onMeta = (m) => this.setMeta(m as Meta);
    this.toFire = new DiskQueue(store, `${uid}#fire`);
    this.toFree = new DiskQueue(store, `${uid}#free`);
    this.forget = new DiskQueue(store, `${uid}#forget`);
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

  override get size(): number {
    return this.keys.size;
  }

  override get rows(): RowState {
    return this;
  }

  private lateElement(x: unknown, key: unknown, ts: number): void {
    if (this.late) this.late(x, key, ts);
    else this.dropped++;
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    this.rebuild();
    const gap = this.spec.size;
    let kw = this.keys.getIfExists(mk);
    let start = ts;
    let end = ts + gap;
    let touching: Session<S> | null = null;
    let more: Session<S>[] | null = null;
    if (kw !== undefined) {
      for (const [s, e] of kw.freed) {
        if (ts <= e && ts + gap >= s) {
          this.lateElement(x, key, ts);
          return;
        }
      }
      for (const w of kw.wins) {
        if (ts > w.end || ts + gap < w.start) continue;
        if (touching === null) touching = w;
        else (more ??= [touching]).push(w);
        if (w.start < start) start = w.start;
        if (w.end > end) end = w.end;
      }
    }
    if (this.wm >= end + this.spec.allowedLateness) {
      this.lateElement(x, key, ts);
      return;
    }
    if (kw === undefined) kw = this.keys.get(mk, key);
    const elemSeq = this.seq++;
    const keep = this.agg.merge === undefined;
    let win: Session<S>;
    let moved = true;
    if (touching === null) {
      const acc = this.agg.create(key);
      this.agg.add(acc, x, key);
      win = { start, end, fired: false, seq: elemSeq, acc, xs: keep ? [x] : [], seqs: keep ? [elemSeq] : [] };
      kw.wins.push(win);
    } else if (more === null) {
      win = touching;
      if (keep) {
        win.xs.push(x);
        win.seqs.push(elemSeq);
      }
      this.agg.add(win.acc, x, key);
      win.start = start;
      moved = win.end !== end;
      win.end = end;
      win.fired = false;
    } else {
      const seq = Math.min(...more.map((w) => w.seq));
      if (!keep) {
        const acc = this.agg.create(key);
        for (const w of more) this.agg.merge!(acc, w.acc);
        this.agg.add(acc, x, key);
        win = { start, end, fired: false, seq, acc, xs: [], seqs: [] };
      } else {
        const merged: { seq: number; x: unknown }[] = [];
        for (const w of more) for (let i = 0; i < w.xs.length; i++) merged.push({ seq: w.seqs[i]!, x: w.xs[i] });
        merged.push({ seq: elemSeq, x });
        merged.sort((a, b) => a.seq - b.seq);
        win = kw.session(start, end, seq, merged.map((e) => e.x), merged.map((e) => e.seq));
      }
      const dead = new Set(more);
      kw.wins = kw.wins.filter((w) => !dead.has(w)).concat([win]);
    }
    if (end <= this.wm) {
      // Reached by the watermark already: emitted at once, freed after its allowed lateness.
      win.fired = true;
      this.emit(this.agg.result(win.acc, key, win.start, win.end), key, end - 1);
      if (moved) this.toFree.push(end + this.spec.allowedLateness, win.seq, [mk, end]);
    } else if (moved) this.toFire.push(end, win.seq, [mk]);
  }

  watermark(w: number): void {
    if (w <= this.wm) return;
    this.rebuild();
    this.wm = w;
    const lateness = this.spec.allowedLateness;
    this.toFire.take(w, true, (e) => {
      const mk = e.values[0] as MapKey;
      const kw = this.keys.getIfExists(mk);
      const win = kw?.bySeq(e.seq);
      // Merged away, grown to a later end (it has an entry for that end) or fired: passed over.
      if (kw === undefined || win === undefined || win.end !== e.time || win.fired) return;
      win.fired = true;
      this.emit(this.agg.result(win.acc, kw.$key, win.start, win.end), kw.$key, win.end - 1);
      this.toFree.push(win.end + lateness, win.seq, [mk, win.end]);
    });
    this.toFree.take(w, true, (e) => {
      const mk = e.values[0] as MapKey;
      const kw = this.keys.getIfExists(mk);
      const win = kw?.bySeq(e.seq);
      if (kw === undefined || win === undefined || win.end !== e.values[1]) return;
      kw.wins.splice(kw.wins.indexOf(win), 1);
      this.remember(mk, kw, win.start, win.end);
      if (kw.wins.length === 0 && kw.freed.length === 0) this.keys.delete(mk);
    });
    this.forget.take(w, true, (e) => {
      const mk = e.values[0] as MapKey;
      const kw = this.keys.getIfExists(mk);
      if (kw === undefined) return;
      const i = kw.freed.findIndex((b) => b[0] === e.values[1] && b[1] === e.values[2]);
      if (i >= 0) kw.freed.splice(i, 1);
      if (kw.wins.length === 0 && kw.freed.length === 0) this.keys.delete(mk);
    });
  }

  /** Keeps a freed session's bounds while an element could connect to it without being too late by itself. */
  private remember(mk: MapKey, kw: KeySessions<S>, start: number, end: number): void {
    const time = end + this.spec.size + this.spec.allowedLateness;
    if (time <= this.wm) return;
    kw.freed.push([start, end]);
    this.forget.push(time, this.forgetSeq++, [mk, start, end]);
  }

  /** After a restore: the three queues again, from every key's sessions and bounds. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    this.toFire.reset();
    this.toFree.reset();
    this.forget.reset();
    const wm = this.wm;
    const { size: gap, allowedLateness } = this.spec;
    const fire: QueueEntry[] = [];
    const free: QueueEntry[] = [];
    const forget: QueueEntry[] = [];
    for (const { mk, obj } of this.keys.scan()) {
      for (const w of obj.wins) {
        if (w.end > wm && !w.fired) fire.push({ time: w.end, seq: w.seq, values: [mk] });
        else free.push({ time: w.end + allowedLateness, seq: w.seq, values: [mk, w.end] });
      }
      for (const [s, e] of obj.freed) forget.push({ time: e + gap + allowedLateness, seq: this.forgetSeq++, values: [mk, s, e] });
    }
    this.toFire.load(fire);
    this.toFree.load(free);
    this.forget.load(forget);
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
    const rows = this.keys.entries().map(({ mk, key, obj }): [MapKey, unknown, unknown] => [mk, key, (obj as KeySessions<S>).row()]);
    const meta: Meta = { wm: Number.isFinite(this.wm) ? this.wm : null, seq: this.seq, dropped: this.dropped };
    return { rows, meta };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as Meta | undefined;
    if (meta) this.setMeta(meta);
    for (const [mk, key, data] of rows) this.keys.get(mk, key).load(data as Row);
    this.stale = true;
  }
}
