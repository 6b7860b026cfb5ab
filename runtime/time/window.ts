// Windowed aggregation in event time ("Time, precisely" in docs/language.md):
//
// - tumbling windows start at multiples of their size, sliding windows at multiples of
//   `every` (from the epoch; starts may be negative); a session spans
//   [first element, last element + gap) and merges with any session an element connects;
// - a window [start, end) fires when the watermark reaches `end`; its result carries the
//   time end - 1;
// - an element is too late for a window once the watermark reached end + allowed_lateness;
//   it is added to every window it is not too late for, and goes to the `late:` stream only
//   when it is too late for all of them; adding to a window that already fired re-emits its
//   updated result at once; a window's state is freed when the watermark reaches
//   end + allowed_lateness;
// - results fired by one watermark step come out by window end, then by the order of each
//   key's first element in that window;
// - a session's lateness is that of the session an element would merge into: a session
//   freed (end + allowed_lateness reached) leaves its bounds behind until no element could
//   connect to it without being too late anyway (the watermark reaches end + gap +
//   allowed_lateness); an element that connects to such a freed session is too late.
//
// Tumbling and sliding windows are in fixed.ts (one accumulator per key and window, in
// buckets by end). This file holds sessions: each keeps an accumulator (the aggregate's
// generated state class), updated as elements extend it. When sessions merge, an aggregate
// whose functions do not depend on order (count, min, max, …) merges their accumulators;
// any other keeps each session's elements, because `first`, `last`, `collect` and `top`
// must see the merged session's elements in arrival order: its accumulator is computed
// again from them.

import type { EmitFn, MapKey, StateObject, WindowSpec } from "../api.js";
import { RowOperator } from "../operator.js";
import { MinHeap } from "./heap.js";

/** The generated parts: the aggregate's state class and its update and result code. */
export interface WindowAggregate<S extends StateObject> {
  create(key: unknown): S;
  add(s: S, x: unknown, key: unknown): void;
  result(s: S, key: unknown, start: number, end: number): unknown;
  /** The number of state fields of S. */
  fields: number;
  /** Adds one session's aggregate into another's (order-free aggregates only). */
  merge?(into: S, from: S): void;
}

interface Win<S> {
  start: number;
  end: number;
  fired: boolean;
  /** Merged into another session, or freed. */
  dead: boolean;
  /** Order of the window's first element (ties of equal ends fire in this order). */
  seq: number;
  /** The aggregate over `xs`, in arrival order. */
  acc: S;
  /** The elements, in arrival order, and their order numbers (empty when the aggregate merges). */
  xs: unknown[];
  seqs: number[];
  /** The key's record, which holds this window. */
  kw: KeyWindows<S>;
  /**
   * The end it is filed under: its end, or, for a session extended since it was filed
   * under an end the watermark has not reached, that earlier end (it is filed again under
   * its new end when the watermark gets there: once, not at every element).
   */
  filed: number;
}

interface KeyWindows<S> {
  mk: MapKey;
  key: unknown;
  windows: Win<S>[];
  /** Sessions: the bounds [start, end] of sessions freed, kept while an element could still connect to them. */
  freed: [number, number][];
}

/** The windows that end at one time, in the order of their first elements. */
interface Bucket<S> {
  end: number;
  entries: Win<S>[];
}

/**
 * What tumbling/sliding (fixed.ts) and session window operators share: their inputs, the
 * watermark, late elements, and checkpoints and savepoints through exportRows/importRows.
 */
export abstract class WindowOperatorBase<S extends StateObject> extends RowOperator {
  readonly partName = "windows";
  protected wm = -Infinity;
  /** Elements too late for all their windows, with no `late:` stream to go to. */
  dropped = 0;

  constructor(
    readonly uid: string,
    protected readonly spec: WindowSpec,
    protected readonly agg: WindowAggregate<S>,
    protected readonly emit: EmitFn,
    protected readonly late: EmitFn | null,
  ) {
    super();
  }

  override currentWatermark(): number {
    return this.wm;
  }

  override get lateDropped(): number {
    return this.dropped;
  }

  abstract element(x: unknown, mk: MapKey, key: unknown, ts: number): void;
  abstract watermark(w: number): void;

  /** An element too late for every window it falls in: to the `late:` stream, or counted. */
  protected lateElement(x: unknown, key: unknown, ts: number): void {
    if (this.late) this.late(x, key, ts);
    else this.dropped++;
  }
}

export class SessionWindowOperator<S extends StateObject> extends WindowOperatorBase<S> {
  private readonly keys = new Map<MapKey, KeyWindows<S>>();
  /** Windows by end. A heap of the distinct ends not fired yet, and of those fired, not freed. */
  private readonly buckets = new Map<number, Bucket<S>>();
  private readonly toFire = new MinHeap<number>((a, b) => a < b);
  private readonly toFree = new MinHeap<number>((a, b) => a < b);
  /** Sessions: freed sessions' bounds, by when they can be forgotten (end + gap + allowed_lateness). */
  private readonly forget = new MinHeap<{ time: number; kw: KeyWindows<S>; bounds: [number, number] }>((a, b) => a.time < b.time);
  private seq = 0;

  override get size(): number {
    return this.keys.size;
  }

  /** Windows held, over all keys (for tests of bounded state). */
  get windows(): number {
    let n = 0;
    for (const kw of this.keys.values()) n += kw.windows.length;
    return n;
  }

  private tooLate(end: number): boolean {
    return this.wm >= end + this.spec.allowedLateness;
  }

  /** Files a window under its end (fired at once later if the watermark already passed it). */
  private file(win: Win<S>, toFire = win.end > this.wm): void {
    let b = this.buckets.get(win.end);
    if (!b) {
      b = { end: win.end, entries: [] };
      this.buckets.set(win.end, b);
      if (toFire) this.toFire.push(win.end);
      else this.toFree.push(win.end);
    }
    win.filed = win.end;
    b.entries.push(win);
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const gap = this.spec.size;
    let kw = this.keys.get(mk);
    // The sessions the element touches, and the bounds of the session it makes.
    let start = ts;
    let end = ts + gap;
    let touching: Win<S> | null = null;
    let more: Win<S>[] | null = null;
    if (kw !== undefined) {
      // Connecting to a session already freed: too late (it would merge into that session).
      for (const [s, e] of kw.freed) {
        if (ts <= e && ts + gap >= s) {
          this.lateElement(x, key, ts);
          return;
        }
      }
      for (const w of kw.windows) {
        if (ts > w.end || ts + gap < w.start) continue;
        if (touching === null) touching = w;
        else (more ??= [touching]).push(w);
        if (w.start < start) start = w.start;
        if (w.end > end) end = w.end;
      }
    }
    if (this.tooLate(end)) {
      this.lateElement(x, key, ts);
      return;
    }
    if (kw === undefined) {
      kw = { mk, key, windows: [], freed: [] };
      this.keys.set(mk, kw);
    }
    const elemSeq = this.seq++;
    const keep = this.agg.merge === undefined;
    let win: Win<S>;
    if (touching === null) {
      const acc = this.agg.create(key);
      this.agg.add(acc, x, key);
      win = { start, end, fired: false, dead: false, seq: elemSeq, acc, xs: keep ? [x] : [], seqs: keep ? [elemSeq] : [], kw, filed: end };
      kw.windows.push(win);
      this.file(win);
    } else if (more === null) {
      // Extends one session: in place (the element is the newest, so arrival order holds).
      win = touching;
      if (keep) {
        win.xs.push(x);
        win.seqs.push(elemSeq);
      }
      this.agg.add(win.acc, x, key);
      win.start = start;
      const moved = win.end !== end;
      win.end = end;
      win.fired = false;
      // Filed again under its new end now if its bucket has fired already, else when the
      // watermark reaches that bucket (the old entry is passed over: it is not `filed`).
      if (moved && win.filed <= this.wm) this.file(win);
    } else if (!keep) {
      // Merge of order-free aggregates: one accumulator from theirs, then the element.
      const acc = this.agg.create(key);
      for (const w of more) this.agg.merge!(acc, w.acc);
      this.agg.add(acc, x, key);
      win = { start, end, fired: false, dead: false, seq: Math.min(...more.map((w) => w.seq)), acc, xs: [], seqs: [], kw, filed: end };
      for (const w of more) w.dead = true;
      kw.windows = kw.windows.filter((w) => !w.dead).concat([win]);
      this.file(win);
    } else {
      // Merge: one session holding every element, in arrival order.
      const merged: { seq: number; x: unknown }[] = [];
      for (const w of more) for (let i = 0; i < w.xs.length; i++) merged.push({ seq: w.seqs[i]!, x: w.xs[i] });
      merged.push({ seq: elemSeq, x });
      merged.sort((a, b) => a.seq - b.seq);
      win = this.session(start, end, Math.min(...more.map((w) => w.seq)), merged.map((e) => e.x), merged.map((e) => e.seq), kw);
      for (const w of more) w.dead = true;
      kw.windows = kw.windows.filter((w) => !w.dead).concat([win]);
      this.file(win);
    }
    // A session the watermark already reached (it fired before and the element did not
    // extend it past the watermark, or it is allowed-late) is emitted at once; otherwise it
    // fires when the watermark reaches its (new) end.
    if (end <= this.wm) {
      win.fired = true;
      this.emit(this.agg.result(win.acc, key, win.start, win.end), key, end - 1);
    }
  }

  /** A session of these elements, its accumulator computed from them. */
  private session(start: number, end: number, seq: number, xs: unknown[], seqs: number[], kw: KeyWindows<S>): Win<S> {
    const acc = this.agg.create(kw.key);
    for (const x of xs) this.agg.add(acc, x, kw.key);
    return { start, end, fired: false, dead: false, seq, acc, xs, seqs, kw, filed: end };
  }

  /** The watermark advanced: fire the windows it reached, in order; free what it passed. */
  watermark(w: number): void {
    if (w <= this.wm) return;
    this.wm = w;
    for (let end = this.toFire.peek(); end !== undefined && end <= w; end = this.toFire.peek()) {
      this.toFire.pop();
      this.toFree.push(end);
      const b = this.buckets.get(end)!;
      // In the order of the windows' first elements; stale entries (a session merged away
      // or extended to a later end) are passed over. Sessions filed again when they grew
      // may have come in out of that order.
      b.entries.sort((x, y) => x.seq - y.seq);
      for (const win of b.entries) {
        if (win.dead || win.filed !== end) continue;
        // Extended since it was filed: filed under its end now, to fire later in this
        // step if the watermark passed that end too.
        if (win.end > end) {
          this.file(win, true);
          continue;
        }
        if (win.fired) continue;
        const kw = win.kw;
        win.fired = true;
        this.emit(this.agg.result(win.acc, kw.key, win.start, win.end), kw.key, win.end - 1);
      }
    }
    const lateness = this.spec.allowedLateness;
    for (let end = this.toFree.peek(); end !== undefined && end + lateness <= w; end = this.toFree.peek()) {
      this.toFree.pop();
      const b = this.buckets.get(end)!;
      this.buckets.delete(end);
      for (const win of b.entries) {
        if (win.dead || win.filed !== end) continue;
        win.dead = true;
        // In place: the window freed is nearly always the key's earliest.
        const windows = win.kw.windows;
        const i = windows.indexOf(win);
        if (i === 0) windows.shift();
        else if (i > 0) windows.splice(i, 1);
        this.remember(win.kw, [win.start, win.end]);
        if (windows.length === 0 && win.kw.freed.length === 0) this.keys.delete(win.kw.mk);
      }
    }
    for (let f = this.forget.peek(); f !== undefined && f.time <= w; f = this.forget.peek()) {
      this.forget.pop();
      const kw = f.kw;
      const i = kw.freed.indexOf(f.bounds);
      if (i >= 0) kw.freed.splice(i, 1);
      if (kw.windows.length === 0 && kw.freed.length === 0 && this.keys.get(kw.mk) === kw) this.keys.delete(kw.mk);
    }
  }

  /** Keeps a freed session's bounds while an element could connect to it without being too late by itself. */
  private remember(kw: KeyWindows<S>, bounds: [number, number]): void {
    const time = bounds[1] + this.spec.size + this.spec.allowedLateness;
    if (time <= this.wm) return;
    kw.freed.push(bounds);
    this.forget.push({ time, kw, bounds });
  }

  // ---- checkpoints -----------------------------------------------------------------------


  /**
   * Per key: [its sessions as [start, end, fired, order, null (the accumulator fields of
   * fixed.ts's windows), elements with their order], the bounds of freed sessions still
   * remembered].
   */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = [...this.keys].map(([mk, kw]): [MapKey, unknown, unknown] => {
      // A session that keeps its elements has them written, and its accumulator is computed
      // again from them; one of order-free aggregates has its accumulator written.
      const windows = kw.windows.map((w) => [w.start, w.end, w.fired, w.seq, this.agg.merge ? fieldsOf(w.acc, this.agg.fields) : null, this.agg.merge ? null : w.xs.map((x, i) => ({ seq: w.seqs[i]!, x }))]);
      return [mk, kw.key, [windows, kw.freed]];
    });
    return { rows, meta: { wm: this.wm, seq: this.seq, dropped: this.dropped } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const restored: Win<S>[] = [];
    for (const [mk, typedKey, data] of rows) {
      const [list, freed] = data as [[number, number, boolean, number, unknown[] | null, { seq: number; x: unknown }[] | null][], [number, number][]];
      const kw: KeyWindows<S> = { mk, key: typedKey, windows: [], freed: [] };
      for (const bounds of freed) {
        kw.freed.push(bounds);
        this.forget.push({ time: bounds[1] + this.spec.size + this.spec.allowedLateness, kw, bounds });
      }
      for (const [start, end, fired, seq, acc, elems] of list) {
        const win = this.session(start, end, seq, (elems ?? []).map((e) => e.x), (elems ?? []).map((e) => e.seq), kw);
        if (acc) win.acc.$loadFrom(acc.map((v) => [v]).slice(0, this.agg.fields), 0);
        // Restored into an aggregate that merges: the elements are not needed any more.
        if (this.agg.merge) win.xs = win.seqs = [];
        win.fired = fired;
        kw.windows.push(win);
        restored.push(win);
      }
      this.keys.set(mk, kw);
    }
    const meta = metaIn as { wm: number | null; seq: number; dropped: number } | undefined;
    if (meta) {
      this.wm = meta.wm ?? -Infinity;
      this.seq = meta.seq;
      this.dropped = meta.dropped;
    }
    // Buckets again, each in the order of its windows' first elements.
    restored.sort((a, b) => a.seq - b.seq);
    for (const win of restored) this.file(win);
  }
}

/** A state object's fields, one value each. */
function fieldsOf(s: StateObject, fields: number): unknown[] {
  const cols: unknown[][] = Array.from({ length: fields }, () => []);
  s.$saveTo(cols);
  return cols.map((c) => c[0]);
}
