// Session window joins on disk (`join … window session(gap: d)`): the contract of
// runtime/time/join.ts (its header: a join session is formed by the elements of both sides
// together and merges as a session window's do; its pairs go out when the watermark
// reaches its end, by end and then by the order of its first element; an outer join
// releases the elements of a session with one side only, after that end's pairs; the
// watermark passed on is held back to the earliest open session's start) with its
// structures in the job's store:
//
//   - per key, its open sessions (start, end, order, both sides' elements) as one state
//     object of a keyed table (keyed.ts), stored as the memory backend's savepoint row;
//   - two time queues (queue.ts): sessions to fire by (end, order), and open sessions by
//     start (its first valid entry holds the watermark back). Entries are hints: one whose
//     session merged away, grew or fired is passed over. Rebuilt from the table when a run
//     starts after a restore.
//
// The elements held are counted as they come and go (checkpointed with the table).

import type { EmitFn, JoinHandle, JoinSpec, MapKey, StateObject } from "../../api.js";
import { plainMapKey, type RowState } from "../../operator.js";
import { DiskJoinBase, type JoinMeta } from "./join-base.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

interface Item {
  ts: number;
  seq: number;
  x: unknown;
  matched: boolean;
}

interface Session {
  start: number;
  end: number;
  seq: number;
  sides: [Item[], Item[]];
}

type ItemRow = [number, number, unknown, boolean?];
type SessionRow = [number, number, number, ItemRow[][]];

class KeySessions implements StateObject {
  $dirty = false;
  sessions: Session[] = [];
  constructor(
    readonly $key: unknown,
    private readonly outer: boolean,
  ) {}

  bySeq(seq: number): Session | undefined {
    const ss = this.sessions;
    for (let i = 0; i < ss.length; i++) if (ss[i]!.seq === seq) return ss[i];
    return undefined;
  }

  row(): SessionRow[] {
    const outer = this.outer;
    const side = (items: Item[]): ItemRow[] => items.map((it) => (outer ? [it.ts, it.seq, it.x, it.matched] : [it.ts, it.seq, it.x]));
    return this.sessions.map((s) => [s.start, s.end, s.seq, [side(s.sides[0]), side(s.sides[1])]]);
  }

  load(rows: SessionRow[]): void {
    const item = ([ts, seq, x, matched]: ItemRow): Item => ({ ts, seq, x, matched: matched === true });
    this.sessions = rows.map(([start, end, seq, sides]) => ({ start, end, seq, sides: [sides[0]!.map(item), sides[1]!.map(item)] }));
  }

  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.row());
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.load(c[0]![i] as SessionRow[]);
  }
}

export class DiskSessionJoin extends DiskJoinBase<KeySessions> implements JoinHandle, RowState {
  private readonly toFire: DiskQueue;
  private readonly starts: DiskQueue;
  private out = -Infinity;
  private readonly unmatched: [boolean, boolean];
  private readonly outer: boolean;
  private readonly released: { item: Item; side: number; key: unknown }[] = [];

  constructor(
    store: DiskStore,
    uid: string,
    private readonly spec: JoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: EmitFn,
  ) {
    const unmatched = spec.unmatched ?? [false, false];
    const outer = unmatched[0] || unmatched[1];
    super(store, uid, (key) => new KeySessions(key, outer));
    this.unmatched = unmatched;
    this.outer = outer;
    this.toFire = new DiskQueue(store, `${uid}#fire`);
    this.starts = new DiskQueue(store, `${uid}#starts`);
  }



  override get rows(): RowState {
    return this;
  }

  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    this.rebuild();
    const item: Item = { ts, seq: this.seq++, x, matched: false };
    const gap = this.spec.window!.size;
    const existing = this.keys.getIfExists(mk);
    const touching = existing ? existing.sessions.filter((s) => ts <= s.end && ts + gap >= s.start) : [];
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
    const ks = existing ?? this.keys.get(mk, key);
    let s: Session;
    // Queue entries only for a new start or end (the session's others stay valid).
    let moved = true;
    let grew = true;
    if (touching.length === 0) {
      s = { start, end, seq: item.seq, sides: [[], []] };
      ks.sessions.push(s);
    } else if (touching.length === 1) {
      // Extends one session: in place (the element is the newest, so arrival order holds).
      s = touching[0]!;
      grew = s.start !== start;
      moved = s.end !== end;
      s.start = start;
      s.end = end;
    } else {
      // Merge: one session holding every element of each side, in arrival order.
      const bySeq = (a: Item, b: Item): number => a.seq - b.seq;
      const sides = [0, 1].map((i) => touching.flatMap((t) => t.sides[i]!).sort(bySeq)) as [Item[], Item[]];
      s = { start, end, seq: Math.min(...touching.map((t) => t.seq)), sides };
      const dead = new Set(touching);
      ks.sessions = ks.sessions.filter((t) => !dead.has(t));
      ks.sessions.push(s);
    }
    s.sides[side]!.push(item);
    this.elements++;
    if (moved) this.toFire.push(end, s.seq, [mk]);
    if (grew) this.starts.push(s.start, s.seq, [mk]);
  }

  private pair(side: number, x: unknown, y: unknown): unknown {
    return side === 0 ? this.select(x, y) : this.select(y, x);
  }

  private release(): void {
    const list = this.released;
    if (list.length === 0) return;
    list.sort((a, b) => a.side - b.side || a.item.seq - b.item.seq);
    for (const { item, side, key } of list) this.emit(this.pair(side, item.x, null), key, item.ts);
    list.length = 0;
  }

  watermark(w: number, side: number, force = false): boolean {
    const next = this.advance(w, side, force);
    if (next === null) return false;
    this.rebuild();
    this.wm = next;
    let end = NaN;
    this.toFire.take(next, true, (e) => {
      const mk = e.values[0] as MapKey;
      const ks = this.keys.getIfExists(mk);
      const s = ks?.bySeq(e.seq);
      // Merged away, grown to a later end, or fired: passed over.
      if (ks === undefined || s === undefined || s.end !== e.time) return;
      if (e.time !== end) {
        this.release();
        end = e.time;
      }
      ks.sessions.splice(ks.sessions.indexOf(s), 1);
      this.elements -= s.sides[0].length + s.sides[1].length;
      const key = ks.$key;
      for (const l of s.sides[0]) for (const r of s.sides[1]) this.emit(this.select(l.x, r.x), key, Math.max(l.ts, r.ts));
      if (this.outer) {
        // A session with elements of one side only: they found no partner.
        for (let sd = 0; sd < 2; sd++) {
          if (this.unmatched[sd] && s.sides[1 - sd]!.length === 0) for (const item of s.sides[sd]!) this.released.push({ item, side: sd, key });
        }
      }
      if (ks.sessions.length === 0) this.keys.delete(mk);
    });
    this.release();
    return true;
  }

  get watermarkValue(): number {
    if (!Number.isFinite(this.wm)) return this.wm;
    let held = this.wm - this.spec.window!.size;
    // The earliest open session's start: the first entry of the starts queue whose session is still open with that start.
    for (let top = this.starts.peek(); top !== undefined; top = this.starts.peek()) {
      const s = this.keys.find(top.values[0] as MapKey)?.bySeq(top.seq);
      if (s !== undefined && s.start === top.time) {
        held = Math.min(held, top.time - 1);
        break;
      }
      this.starts.dropFirst();
    }
    this.out = Math.max(this.out, held);
    return this.out;
  }

  override currentWatermark(): number {
    return this.watermarkValue;
  }

  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    this.toFire.reset();
    this.starts.reset();
    const fire: QueueEntry[] = [];
    const starts: QueueEntry[] = [];
    for (const { mk, obj } of this.keys.scan()) {
      for (const s of obj.sessions) {
        fire.push({ time: s.end, seq: s.seq, values: [mk] });
        starts.push({ time: s.start, seq: s.seq, values: [mk] });
      }
    }
    this.toFire.load(fire);
    this.starts.load(starts);
  }

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows: [MapKey, unknown, unknown][] = [];
    for (const { mk, key, obj } of this.keys.scan()) rows.push([mk, key, obj.row()]);
    return { rows, meta: { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as JoinMeta | undefined;
    if (meta) this.setMeta({ ...meta, held: undefined });
    let held = 0;
    for (const [mk, key, data] of rows) {
      const ks = this.keys.get(mk, key);
      ks.load(data as SessionRow[]);
      for (const s of ks.sessions) held += s.sides[0].length + s.sides[1].length;
    }
    this.elements = held;
    this.stale = true;
  }
}
