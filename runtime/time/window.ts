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
// Tumbling and sliding windows keep one accumulator (the aggregate's generated state class)
// per key and window. Sessions keep their elements, because merging two sessions must keep
// `first`, `last` and `collect` in arrival order; the result is computed when it fires.

import type { MapKey, StateObject } from "../api.js";
import { plainMapKey, restoreRows, snapshotRows, type RowState, type StateStore } from "../state.js";
import { MinHeap } from "./heap.js";

export interface WindowSpec {
  kind: "tumbling" | "sliding" | "session";
  size: number;
  every: number;
  allowedLateness: number;
}

/** The generated parts: the aggregate's state class and its update and result code. */
export interface WindowAggregate<S extends StateObject> {
  create(key: unknown): S;
  add(s: S, x: unknown, key: unknown): void;
  result(s: S, key: unknown, start: number, end: number): unknown;
  /** The number of state fields of S. */
  fields: number;
}

interface Win<S> {
  start: number;
  end: number;
  fired: boolean;
  /** Merged into another session, or freed. */
  dead: boolean;
  /** Order of the window's first element (ties of equal ends fire in this order). */
  seq: number;
  acc: S | null;
  /** Sessions: the elements, in arrival order, with their order numbers. */
  elems: { seq: number; x: unknown }[] | null;
  /** The key's record, which holds this window. */
  kw: KeyWindows<S>;
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

export type Emit = (value: unknown, key: unknown, ts: number) => void;

export class WindowOperator<S extends StateObject> implements StateStore, RowState {
  readonly incremental = false;
  private readonly keys = new Map<MapKey, KeyWindows<S>>();
  /** Windows by end. A heap of the distinct ends not fired yet, and of those fired, not freed. */
  private readonly buckets = new Map<number, Bucket<S>>();
  private readonly toFire = new MinHeap<number>((a, b) => a < b);
  private readonly toFree = new MinHeap<number>((a, b) => a < b);
  /** Sessions: freed sessions' bounds, by when they can be forgotten (end + gap + allowed_lateness). */
  private readonly forget = new MinHeap<{ time: number; kw: KeyWindows<S>; bounds: [number, number] }>((a, b) => a.time < b.time);
  private wm = -Infinity;
  private seq = 0;
  /** Elements too late for all their windows, with no `late:` stream to go to. */
  dropped = 0;

  constructor(
    readonly uid: string,
    private readonly spec: WindowSpec,
    private readonly agg: WindowAggregate<S>,
    private readonly emit: Emit,
    private readonly late: Emit | null,
  ) {}

  /** The operator's event-time watermark (for the admin endpoint). */
  get watermarkValue(): number {
    return this.wm;
  }

  /** For the end-of-job report. */
  get lateDropped(): number {
    return this.dropped;
  }

  get size(): number {
    return this.keys.size;
  }

  get changed(): number {
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
  private file(win: Win<S>): void {
    let b = this.buckets.get(win.end);
    if (!b) {
      b = { end: win.end, entries: [] };
      this.buckets.set(win.end, b);
      if (win.end <= this.wm) this.toFree.push(win.end);
      else this.toFire.push(win.end);
    }
    b.entries.push(win);
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    if (this.spec.kind === "session") {
      this.sessionElement(x, mk, key, ts);
      return;
    }
    let kw = this.keys.get(mk);
    let added = false;
    const { size, every } = this.spec;
    // The windows [start, start + size) with start a multiple of `every` in (ts - size, ts],
    // earliest first.
    const last = Math.floor(ts / every) * every;
    let first = last;
    while (first - every > ts - size) first -= every;
    let contained = 0;
    for (let start = first; start <= last; start += every) {
      const end = start + size;
      // A sliding window with gaps (every > size): ts may fall between two windows.
      if (end <= ts) continue;
      contained++;
      if (this.tooLate(end)) continue;
      if (!kw) {
        kw = { mk, key, windows: [], freed: [] };
        this.keys.set(mk, kw);
      }
      let win: Win<S> | undefined;
      for (const w of kw.windows) {
        if (w.start === start) {
          win = w;
          break;
        }
      }
      if (!win) {
        win = { start, end, fired: false, dead: false, seq: this.seq++, acc: this.agg.create(key), elems: null, kw };
        kw.windows.push(win);
        this.file(win);
      }
      this.agg.add(win.acc!, x, key);
      added = true;
      // A window the watermark already reached (fired before, or allowed-late and new) is
      // emitted, updated, at once.
      if (win.fired || end <= this.wm) {
        win.fired = true;
        this.emit(this.agg.result(win.acc!, key, start, end), key, end - 1);
      }
    }
    if (!added && contained > 0) this.lateElement(x, key, ts);
  }

  private lateElement(x: unknown, key: unknown, ts: number): void {
    if (this.late) this.late(x, key, ts);
    else this.dropped++;
  }

  private sessionElement(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const gap = this.spec.size;
    let kw = this.keys.get(mk);
    // Connecting to a session already freed: too late (it would merge into that session).
    if (kw && kw.freed.some(([s, e]) => ts <= e && ts + gap >= s)) {
      this.lateElement(x, key, ts);
      return;
    }
    const touching = kw ? kw.windows.filter((w) => ts <= w.end && ts + gap >= w.start) : [];
    const start = Math.min(ts, ...touching.map((w) => w.start));
    const end = Math.max(ts + gap, ...touching.map((w) => w.end));
    if (this.tooLate(end)) {
      this.lateElement(x, key, ts);
      return;
    }
    if (!kw) {
      kw = { mk, key, windows: [], freed: [] };
      this.keys.set(mk, kw);
    }
    const elemSeq = this.seq++;
    let win: Win<S>;
    if (touching.length === 0) {
      win = { start, end, fired: false, dead: false, seq: elemSeq, acc: null, elems: [{ seq: elemSeq, x }], kw };
      kw.windows.push(win);
    } else if (touching.length === 1) {
      // Extends one session: in place (the element is the newest, so arrival order holds).
      win = touching[0]!;
      win.elems!.push({ seq: elemSeq, x });
      win.start = start;
      const moved = win.end !== end;
      win.end = end;
      win.fired = false;
      // Filed again under its new end (the old entry is passed over: its end no longer matches).
      if (moved) this.file(win);
    } else {
      // Merge: one session holding every element, in arrival order.
      const elems = touching.flatMap((w) => w.elems!).concat([{ seq: elemSeq, x }]).sort((a, b) => a.seq - b.seq);
      win = { start, end, fired: false, dead: false, seq: Math.min(...touching.map((w) => w.seq)), acc: null, elems, kw };
      for (const w of touching) w.dead = true;
      kw.windows = kw.windows.filter((w) => !w.dead).concat([win]);
      this.file(win);
    }
    if (touching.length === 0) this.file(win);
    // A session the watermark already reached (it fired before and the element did not
    // extend it past the watermark, or it is allowed-late) is emitted at once; otherwise it
    // fires when the watermark reaches its (new) end.
    if (end <= this.wm) {
      win.fired = true;
      this.emit(this.sessionResult(win, key), key, end - 1);
    }
  }

  private sessionResult(win: Win<S>, key: unknown): unknown {
    const acc = this.agg.create(key);
    for (const e of win.elems!) this.agg.add(acc, e.x, key);
    return this.agg.result(acc, key, win.start, win.end);
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
      if (this.spec.kind === "session") b.entries.sort((x, y) => x.seq - y.seq);
      for (const win of b.entries) {
        if (win.fired || win.dead || win.end !== end) continue;
        const kw = win.kw;
        win.fired = true;
        const result = win.elems ? this.sessionResult(win, kw.key) : this.agg.result(win.acc!, kw.key, win.start, win.end);
        this.emit(result, kw.key, win.end - 1);
      }
    }
    const lateness = this.spec.allowedLateness;
    for (let end = this.toFree.peek(); end !== undefined && end + lateness <= w; end = this.toFree.peek()) {
      this.toFree.pop();
      const b = this.buckets.get(end)!;
      this.buckets.delete(end);
      for (const win of b.entries) {
        if (win.dead || win.end !== end) continue;
        win.dead = true;
        // In place: the window freed is nearly always the key's earliest.
        const windows = win.kw.windows;
        const i = windows.indexOf(win);
        if (i === 0) windows.shift();
        else if (i > 0) windows.splice(i, 1);
        if (this.spec.kind === "session") this.remember(win.kw, [win.start, win.end]);
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

  snapshot(): { buffers: Buffer[]; keys: number; bytes: number } {
    return snapshotRows(this.uid, this);
  }

  restore(bytes: Buffer): void {
    restoreRows(bytes, this);
  }

  readonly partName = "windows";

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  /**
   * Per key: [its windows as [start, end, fired, order, accumulator fields | null, session
   * elements | null], the bounds of freed sessions still remembered].
   */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const fields = this.agg.fields;
    const rows = [...this.keys].map(([mk, kw]): [MapKey, unknown, unknown] => {
      const windows = kw.windows.map((w) => {
        let acc: unknown[] | null = null;
        if (w.acc) {
          const cols: unknown[][] = Array.from({ length: fields }, () => []);
          w.acc.$saveTo(cols);
          acc = cols.map((c) => c[0]);
        }
        return [w.start, w.end, w.fired, w.seq, acc, w.elems];
      });
      return [mk, kw.key, [windows, kw.freed]];
    });
    return { rows, meta: { wm: this.wm, seq: this.seq, dropped: this.dropped } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const fields = this.agg.fields;
    const restored: Win<S>[] = [];
    for (const [mk, typedKey, data] of rows) {
      const [list, freed] = data as [[number, number, boolean, number, unknown[] | null, { seq: number; x: unknown }[] | null][], [number, number][]];
      const kw: KeyWindows<S> = { mk, key: typedKey, windows: [], freed: [] };
      for (const bounds of freed) {
        kw.freed.push(bounds);
        this.forget.push({ time: bounds[1] + this.spec.size + this.spec.allowedLateness, kw, bounds });
      }
      for (const [start, end, fired, seq, acc, elems] of list) {
        let s: S | null = null;
        if (acc) {
          s = this.agg.create(typedKey);
          s.$loadFrom(acc.map((v) => [v]).slice(0, fields), 0);
        }
        const win: Win<S> = { start, end, fired, dead: false, seq, acc: s, elems, kw };
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
