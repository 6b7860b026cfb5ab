// Equi-joins of two keyed inputs (section 6, "Joins").
//
// - interval (`within d`): an element at time t matches the other side's elements in
//   [t - d, t + d] as it arrives; it is kept until the join's watermark (the smaller of its
//   two inputs') passes t + d; an element whose t + d the watermark already passed is late
//   and dropped (counted). A result carries the later of its two elements' times.
// - window (`window tumbling(d)` / `sliding(…)` / `session(gap:)`): pairs that fall in the
//   same window are emitted when the watermark reaches the window's end, by window end and
//   then by the order of the key's first element in it; each pair in arrival order (left,
//   then right). A join session is formed by the elements of both sides together: they
//   merge as a session window's do, and the pairs of a session are its left elements with
//   its right elements.
// - unbounded (neither): every pair, as soon as both are there; all state is kept.
//
// Outer joins (`b? as y`: `spec.unmatched` says whose unmatched elements come out): an
// element that found no partner comes out once, with null for the other side, when it can
// no longer match: when the watermark passes t + d (interval), or when its last window
// fires (window joins; for a session, the session). A matched element never comes out
// unmatched. What one watermark step releases comes out by t + d (or window end), the left
// side first on ties, then in arrival order; for a window end, after that window's pairs.
// An unmatched result carries its own element's time, so an outer interval join holds its
// watermark back by d (what it releases is never behind what it passed on).
//
// A window join's results carry the later of their elements' times, but go out only when
// their window fires, after the watermark has passed those times. So that they are not late
// for what follows (a window, a join), the watermark a window join passes on is held back:
// to its own minus the window size (a window still open starts after that), and for
// sessions to the earliest open session's start (or its own minus the gap, if earlier).

import type { EmitFn, JoinSpec, MapKey } from "../api.js";
import { plainMapKey, RowOperator, type OperatorFactories } from "../operator.js";
import { MinHeap } from "./heap.js";

/** A session of a session-window join (both sides' elements, per key). */
interface Session {
  start: number;
  end: number;
  /** Order of the session's first element. */
  seq: number;
  sides: [Side, Side];
  /** Merged into another session, or fired. */
  dead: boolean;
  mk: MapKey;
  key: unknown;
}

interface Item {
  ts: number;
  seq: number;
  x: unknown;
  /** Outer joins only: it met an element of the other side (inner joins' items stay three fields). */
  matched?: boolean;
}

interface Side {
  items: Item[];
}

interface Group {
  key: unknown;
  sides: [Side, Side];
  /** Window joins: the window's bounds and order. */
  start: number;
  end: number;
  seq: number;
}

export class JoinOperator extends RowOperator {
  /** Interval and unbounded joins: one group per key. */
  private readonly groups = new Map<MapKey, Group>();
  /** Interval joins: items by t + d, then left first, then arrival order (the order unmatched ones are released in). */
  private readonly expiry = new MinHeap<{ time: number; gk: MapKey; side: number; item: Item }>((a, b) => a.time < b.time || (a.time === b.time && (a.side < b.side || (a.side === b.side && a.item.seq < b.item.seq))));
  /**
   * Tumbling and sliding window joins: window end -> key -> group, keys in the order of
   * their first element in the window (the order the window's pairs go out in); the ends
   * not fired yet.
   */
  private readonly byEnd = new Map<number, Map<MapKey, Group>>();
  private readonly endsToFire = new MinHeap<number>((a, b) => a < b);
  /** Session-window joins: per key, its open sessions; and the sessions by end to fire. */
  private readonly sessions = new Map<MapKey, Session[]>();
  private readonly sessionsToFire = new MinHeap<{ end: number; seq: number; s: Session }>((a, b) => a.end < b.end || (a.end === b.end && a.seq < b.seq));
  private readonly wms: [number, number] = [-Infinity, -Infinity];
  private wm = -Infinity;
  private seq = 0;
  /** Elements that arrived too late to join. */
  late = 0;

  override get lateDropped(): number {
    return this.late;
  }

  /** Outer joins: whether the left and the right side's unmatched elements come out. */
  private readonly unmatched: [boolean, boolean];
  /** Outer joins: the unmatched elements one window end releases (one list, reused). */
  private readonly released: { item: Item; side: number; key: unknown }[] = [];
  private readonly outer: boolean;

  constructor(
    readonly uid: string,
    private readonly spec: JoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: EmitFn,
  ) {
    super();
    this.unmatched = spec.unmatched ?? [false, false];
    this.outer = this.unmatched[0] || this.unmatched[1];
  }

  /** Groups held: keys (per window, for window joins). */
  override get size(): number {
    let n = this.groups.size + this.sessions.size;
    for (const b of this.byEnd.values()) n += b.size;
    return n;
  }

  /** All groups of interval, unbounded and window joins. */
  private allGroups(): Group[] {
    const all = [...this.groups.values()];
    for (const b of this.byEnd.values()) all.push(...b.values());
    return all;
  }

  /** Elements held, over all keys (the admin endpoint's `entries`). */
  override get held(): number {
    let n = 0;
    for (const g of this.allGroups()) n += g.sides[0].items.length + g.sides[1].items.length;
    for (const list of this.sessions.values()) for (const s of list) n += s.sides[0].items.length + s.sides[1].items.length;
    return n;
  }

  private group(gk: MapKey, key: unknown): Group {
    let g = this.groups.get(gk);
    if (!g) {
      g = { key, sides: [{ items: [] }, { items: [] }], start: 0, end: 0, seq: this.seq };
      this.groups.set(gk, g);
    }
    return g;
  }

  /** The group of a key in the window ending at `end`, created (and scheduled) on first use. */
  private windowGroup(mk: MapKey, key: unknown, start: number, end: number, seq: number): Group {
    let b = this.byEnd.get(end);
    if (b === undefined) {
      b = new Map();
      this.byEnd.set(end, b);
      this.endsToFire.push(end);
    }
    let g = b.get(mk);
    if (g === undefined) {
      g = { key, sides: [{ items: [] }, { items: [] }], start, end, seq };
      b.set(mk, g);
    }
    return g;
  }

  private pair(side: number, x: unknown, y: unknown): unknown {
    return side === 0 ? this.select(x, y) : this.select(y, x);
  }

  /** An element of the left (side 0) or right (side 1) input. */
  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const item: Item = this.outer ? { ts, seq: this.seq++, x, matched: false } : { ts, seq: this.seq++, x };
    if (this.spec.window?.kind === "session") {
      this.sessionElement(side, item, mk, key);
      return;
    }
    if (this.spec.kind === "window") {
      const w = this.spec.window!;
      let added = false;
      // The windows holding ts, earliest first: starts are multiples of `every` in (ts - size, ts].
      const last = Math.floor(ts / w.every) * w.every;
      let first = last;
      while (first - w.every > ts - w.size) first -= w.every;
      let contained = 0;
      for (let s = first; s <= last; s += w.every) {
        const end = s + w.size;
        if (end <= ts) continue; // between two windows (every > size)
        contained++;
        if (this.wm >= end) continue; // that window already fired
        this.windowGroup(mk, key, s, end, item.seq).sides[side]!.items.push(item);
        added = true;
      }
      if (!added && contained > 0) this.late++;
      return;
    }
    const d = this.spec.within;
    if (this.spec.kind === "interval" && this.wm > ts + d) {
      this.late++;
      return;
    }
    const g = this.group(mk, key);
    const other = g.sides[1 - side]!.items;
    for (const o of other) {
      if (this.spec.kind === "unbounded" || Math.abs(o.ts - ts) <= d) {
        if (this.outer) o.matched = item.matched = true;
        this.emit(this.pair(side, x, o.x), key, Math.max(ts, o.ts));
      }
    }
    g.sides[side]!.items.push(item);
    if (this.spec.kind === "interval") this.expiry.push({ time: ts + d, gk: mk, side, item });
  }

  private sessionElement(side: number, item: Item, mk: MapKey, key: unknown): void {
    const gap = this.spec.window!.size;
    const ts = item.ts;
    const list = this.sessions.get(mk) ?? [];
    const touching = list.filter((s) => ts <= s.end && ts + gap >= s.start);
    let start = ts;
    let end = ts + gap;
    for (const s of touching) {
      start = Math.min(start, s.start);
      end = Math.max(end, s.end);
    }
    if (this.wm >= end) {
      this.late++;
      return;
    }
    let s: Session;
    if (touching.length === 0) {
      s = { start, end, seq: item.seq, sides: [{ items: [] }, { items: [] }], dead: false, mk, key };
      list.push(s);
    } else {
      // Merge: one session holding every element of each side, in arrival order.
      const bySeq = (a: Item, b: Item) => a.seq - b.seq;
      const merged: [Side, Side] = [0, 1].map((i) => ({ items: touching.flatMap((t) => t.sides[i]!.items).sort(bySeq) })) as [Side, Side];
      s = { start, end, seq: Math.min(...touching.map((t) => t.seq)), sides: merged, dead: false, mk, key };
      for (const t of touching) t.dead = true;
      const kept = list.filter((t) => !t.dead);
      kept.push(s);
      list.length = 0;
      list.push(...kept);
    }
    s.sides[side]!.items.push(item);
    this.sessions.set(mk, list);
    this.sessionsToFire.push({ end, seq: s.seq, s });
    this.sessionStarts.push({ start: s.start, s });
  }

  private fireSessions(w: number): void {
    // Outer joins: the unmatched elements of the sessions ending at `end`, released after their pairs.
    let end = NaN;
    const released = this.released;
    for (let p = this.sessionsToFire.peek(); p && p.end <= w; p = this.sessionsToFire.peek()) {
      this.sessionsToFire.pop();
      const s = p.s;
      if (s.dead || s.end !== p.end) continue;
      if (p.end !== end) {
        this.release(released);
        end = p.end;
      }
      s.dead = true;
      const list = this.sessions.get(s.mk)!;
      list.splice(list.indexOf(s), 1);
      if (list.length === 0) this.sessions.delete(s.mk);
      for (const l of s.sides[0].items) for (const r of s.sides[1].items) this.emit(this.select(l.x, r.x), s.key, Math.max(l.ts, r.ts));
      // A session with elements of one side only: they found no partner.
      if (this.outer) {
        for (let side = 0; side < 2; side++) {
          if (this.unmatched[side] && s.sides[1 - side]!.items.length === 0) for (const item of s.sides[side]!.items) released.push({ item, side, key: s.key });
        }
      }
    }
    this.release(released);
  }

  /** Emits unmatched elements (outer joins) left side first, then in arrival order, each with null for the other side and its own time; empties the list. */
  private release(list: { item: Item; side: number; key: unknown }[]): void {
    if (list.length === 0) return;
    list.sort((a, b) => a.side - b.side || a.item.seq - b.item.seq);
    for (const { item, side, key } of list) this.emit(this.pair(side, item.x, null), key, item.ts);
    list.length = 0;
  }

  private readonly idle: [boolean, boolean] = [false, false];

  /** An input became idle (`idle d` on a live source) or active: whether the watermark advanced. */
  setIdle(side: number, on: boolean): boolean {
    this.idle[side] = on;
    return this.watermark(this.wms[side]!, side, true);
  }

  allIdle(): boolean {
    return this.idle[0] && this.idle[1];
  }

  /** One input's watermark advanced; the join's is the smaller of the two (idle ones left out). */
  watermark(w: number, side: number, force = false): boolean {
    if (w <= this.wms[side]! && !force) return false;
    if (w > this.wms[side]!) this.wms[side] = w;
    // The smaller of the inputs' watermarks, idle inputs left out.
    let next = Infinity;
    let active = false;
    for (let i = 0; i < 2; i++) {
      if (this.idle[i]) continue;
      active = true;
      if (this.wms[i]! < next) next = this.wms[i]!;
    }
    if (!active) next = -Infinity;
    if (next <= this.wm) return false;
    this.wm = next;
    if (this.spec.window?.kind === "session") this.fireSessions(next);
    else if (this.spec.kind === "window") {
      const released = this.released;
      for (let end = this.endsToFire.peek(); end !== undefined && end <= next; end = this.endsToFire.peek()) {
        this.endsToFire.pop();
        const b = this.byEnd.get(end)!;
        this.byEnd.delete(end);
        for (const g of b.values()) for (const l of g.sides[0].items) for (const r of g.sides[1].items) this.emit(this.select(l.x, r.x), g.key, Math.max(l.ts, r.ts));
        if (!this.outer) continue;
        // An element can no longer match once its last window fired (sliding windows hold it in several).
        for (const g of b.values()) {
          const met = g.sides[0].items.length > 0 && g.sides[1].items.length > 0;
          for (let side = 0; side < 2; side++) {
            for (const item of g.sides[side]!.items) {
              if (met) item.matched = true;
              else if (!item.matched && this.unmatched[side] && this.lastEnd(item.ts) === end) released.push({ item, side, key: g.key });
            }
          }
        }
        this.release(released);
      }
    } else if (this.spec.kind === "interval") {
      // Kept until the watermark passes t + d; then an unmatched element of an outer join comes out.
      for (let e = this.expiry.peek(); e && e.time < next; e = this.expiry.peek()) {
        this.expiry.pop();
        const g = this.groups.get(e.gk);
        if (!g) continue;
        const items = g.sides[e.side]!.items;
        const i = items.indexOf(e.item);
        if (i >= 0) items.splice(i, 1);
        if (g.sides[0].items.length === 0 && g.sides[1].items.length === 0) this.groups.delete(e.gk);
        if (!e.item.matched && this.unmatched[e.side]) this.emit(this.pair(e.side, e.item.x, null), g.key, e.item.ts);
      }
    }
    return true;
  }

  /** The end of the last window an element at `ts` falls in (tumbling and sliding window joins). */
  private lastEnd(ts: number): number {
    const w = this.spec.window!;
    return Math.floor(ts / w.every) * w.every + w.size;
  }

  /** The join's watermark, to pass downstream. */
  get watermarkValue(): number {
    const w = this.spec.window;
    // An outer interval join releases an element at t once the watermark passes t + d.
    if (this.spec.kind === "interval" && this.outer) return this.wm - this.spec.within;
    if (this.spec.kind !== "window" || !w || !Number.isFinite(this.wm)) return this.wm;
    let held = this.wm - w.size;
    if (w.kind === "session") {
      for (let top = this.sessionStarts.peek(); top; top = this.sessionStarts.peek()) {
        if (!top.s.dead && top.s.start === top.start) {
          held = Math.min(held, top.start - 1);
          break;
        }
        this.sessionStarts.pop();
      }
    }
    this.out = Math.max(this.out, held);
    return this.out;
  }

  /** The watermark passed on so far (window joins hold it back). */
  private out = -Infinity;
  /** Session joins: open sessions by start (stale entries skipped). */
  private readonly sessionStarts = new MinHeap<{ start: number; s: Session }>((a, b) => a.start < b.start);

  /** The watermark passed on (the admin endpoint shows it). */
  override currentWatermark(): number {
    return this.watermarkValue;
  }

  readonly partName = "join";

  /** Window joins keep a group per key and window: the window's start is in the data. */
  override savepointMapKey(key: unknown, data: unknown): MapKey {
    const mk = plainMapKey(key, "");
    if (this.spec.kind === "window" && this.spec.window?.kind !== "session") return windowGroupKey(mk, (data as [number])[0]);
    return mk;
  }

  /**
   * Per group (a key; per key and window for window joins): [start, end, order, [left
   * items, right items]], each item [time, order, element]. Session joins: per key, a list
   * of its sessions in that shape.
   */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    // Outer joins: whether each element met one of the other side.
    const side = this.outer ? (s: Side) => s.items.map((it) => [it.ts, it.seq, it.x, it.matched]) : (s: Side) => s.items.map((it) => [it.ts, it.seq, it.x]);
    const rows: [MapKey, unknown, unknown][] =
      this.spec.window?.kind === "session"
        ? [...this.sessions].map(([mk, list]) => [mk, list[0]!.key, list.map((s) => [s.start, s.end, s.seq, s.sides.map(side)])])
        : this.spec.kind === "window"
          ? [...this.byEnd.values()].flatMap((b) => [...b].map(([mk, g]): [MapKey, unknown, unknown] => [windowGroupKey(mk, g.start), g.key, [g.start, g.end, g.seq, g.sides.map(side)]]))
          : [...this.groups].map(([gk, g]) => [gk, g.key, [g.start, g.end, g.seq, g.sides.map(side)]]);
    return { rows, meta: { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    type Data = [number, number, number, [number, number, unknown, boolean?][][]];
    // One element in several windows (sliding) is one item again: its `matched` is shared.
    // By key and number: after a rescale, keys from several instances numbered apart.
    const bySeq = new Map<string, Item>();
    let keyOfRow = "";
    const item = ([ts, seq, x, matched]: [number, number, unknown, boolean?]): Item => {
      const id = `${keyOfRow}#${seq}`;
      let it = bySeq.get(id);
      if (!it) bySeq.set(id, (it = this.outer ? { ts, seq, x, matched: matched === true } : { ts, seq, x }));
      return it;
    };
    const items = (sides: [number, number, unknown, boolean?][][]): [Side, Side] => sides.map((list) => ({ items: list.map(item) })) as [Side, Side];
    const windowGroups: Group[] = [];
    for (const [gk, key, data] of rows) {
      const mk = plainMapKey(key, "");
      keyOfRow = `${typeof mk}:${String(mk)}`;
      if (this.spec.window?.kind === "session") {
        const list: Session[] = (data as Data[]).map(([start, end, seq, sides]) => ({ start, end, seq, sides: items(sides), dead: false, mk: gk, key }));
        this.sessions.set(gk, list);
        for (const s of list) {
          this.sessionsToFire.push({ end: s.end, seq: s.seq, s });
          this.sessionStarts.push({ start: s.start, s });
        }
        continue;
      }
      const [start, end, seq, sides] = data as Data;
      const g: Group = { key, start, end, seq, sides: items(sides) };
      if (this.spec.kind === "interval") {
        g.sides.forEach((s, side) => {
          for (const item of s.items) this.expiry.push({ time: item.ts + this.spec.within, gk, side, item });
        });
      }
      if (this.spec.kind === "window") windowGroups.push(g);
      else this.groups.set(gk, g);
    }
    // Each window's groups again in the order of their first elements.
    windowGroups.sort((a, b) => a.seq - b.seq);
    for (const g of windowGroups) {
      const w = this.windowGroup(plainMapKey(g.key, ""), g.key, g.start, g.end, g.seq);
      w.sides = g.sides;
    }
    const meta = metaIn as { wms: [number | null, number | null]; wm: number | null; seq: number; late: number } | undefined;
    if (meta) {
      this.wms[0] = meta.wms[0] ?? -Infinity;
      this.wms[1] = meta.wms[1] ?? -Infinity;
      this.wm = meta.wm ?? -Infinity;
      this.seq = meta.seq;
      this.late = meta.late;
    }
  }
}

/** The row key of a window join's group in checkpoints and savepoints: its key and window. */
function windowGroupKey(mk: MapKey, start: number): string {
  return `${typeof mk}:${String(mk)}@${start}`;
}

export const factory: NonNullable<OperatorFactories["join"]> = (uid, spec, select, emit) => new JoinOperator(uid, spec, select, emit);
