// Temporal (versioned) joins, `join orders as o, customers as c on o.cust == c.id as of o`
// (LANGUAGE.md section 6, "Temporal (versioned) joins"): each element of the probe side (o)
// is joined with the version of the other side (c) for its key that was current at o's time.
//
// - In event time (both sides have it): the version with the greatest time <= o's time; of
//   versions with equal times, the one that arrived last. An o waits until no version it
//   could meet is still to come: until the versioned side's watermark passes its time. (The
//   reference says "reaches"; but an element at exactly the watermark is on time — the
//   watermark is the largest time minus the delay, without Flink's extra millisecond — so
//   at "reaches" a version with o's very time may still arrive, and the answer would not
//   be final.) The o's one watermark step releases go out by their time, then in arrival
//   order. An o that arrives behind that watermark is joined at once, with the versions
//   still kept.
// - By arrival (otherwise): the latest version that arrived before o, as a Kafka Streams
//   stream–table join. With several sources the merge order is deterministic (LANGUAGE.md,
//   "Determinism"), so this is too.
// - Each o gives at most one result, at o's time; with the versioned side optional
//   (`customers? as c`), an o without a version comes out with null for c.
//
// State is bounded: per key, the versions a future o can still meet — the newest version at
// or below the smaller of the two sides' watermarks, and any newer ones (event time) or the
// latest one (by arrival) — and the o's waiting for the versioned side's watermark. (The probe
// side's watermark counts because the sides may run apart, as across instances: an o behind
// the versioned watermark but not late still needs the version of its time.) A version that
// is older than the newest one at or below that watermark when it arrives can meet no o of
// the future: it is dropped at once and counted as late.

import type { EmitFn, MapKey, TemporalJoinSpec } from "../api.js";
import { RowOperator, type OperatorFactories } from "../operator.js";
import { MinHeap } from "./heap.js";

interface Entry {
  ts: number;
  /** Arrival order. */
  seq: number;
  x: unknown;
}

interface KeyState {
  key: unknown;
  /** Versions by time (ties: by arrival), oldest first. By arrival: just the latest. */
  versions: Entry[];
  /** Event time: this key's probes waiting for the versioned side's watermark, by time then arrival. */
  waiting: Entry[];
}

export class TemporalJoinOperator extends RowOperator {
  readonly partName = "join";
  private readonly keys = new Map<MapKey, KeyState>();
  /** Event time: the waiting probes of all keys, by time then arrival (each key's are the first of its list). */
  private readonly waiting = new MinHeap<{ ts: number; seq: number; mk: MapKey }>((a, b) => a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq));
  /** Event time: each kept version's time, per key, to prune the key once the watermark reaches it. */
  private readonly prune = new MinHeap<{ ts: number; mk: MapKey }>((a, b) => a.ts < b.ts);
  private readonly probe: number;
  private readonly versioned: number;
  private readonly wms: [number, number] = [-Infinity, -Infinity];
  private readonly idle: [boolean, boolean] = [false, false];
  private wm = -Infinity;
  private seq = 0;
  /** Versions that arrived too old to meet any probe of the future. */
  late = 0;

  constructor(
    readonly uid: string,
    private readonly spec: TemporalJoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: EmitFn,
  ) {
    super();
    this.probe = spec.probe;
    this.versioned = 1 - spec.probe;
  }

  override get lateDropped(): number {
    return this.late;
  }

  /** Keys with versions or waiting probes. */
  override get size(): number {
    return this.keys.size;
  }

  /** Versions kept and probes waiting, over all keys. */
  override get held(): number {
    let n = 0;
    for (const k of this.keys.values()) n += k.versions.length + k.waiting.length;
    return n;
  }

  /**
   * How far versions are known: the versioned side's watermark; while that side is idle
   * (`idle d`), it holds nothing back, and the probe side's watermark counts instead.
   */
  private get versionWatermark(): number {
    const w = this.wms[this.versioned]!;
    return this.idle[this.versioned] ? Math.max(w, this.wms[this.probe]!) : w;
  }

  /**
   * Below this, a key needs only its newest version: the smaller of the versioned side's
   * watermark and the probe side's (probes not yet late may be older than the versioned
   * watermark when the sides run apart, as across instances).
   */
  private get pruneWatermark(): number {
    return Math.min(this.versionWatermark, this.wms[this.probe]!);
  }

  private state(mk: MapKey, key: unknown): KeyState {
    let k = this.keys.get(mk);
    if (k === undefined) {
      k = { key, versions: [], waiting: [] };
      this.keys.set(mk, k);
    }
    return k;
  }

  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const seq = this.seq++;
    if (side === this.versioned) {
      const k = this.state(mk, key);
      if (!this.spec.eventTime) {
        k.versions[0] = { ts, seq, x };
        return;
      }
      const vs = k.versions;
      const w = this.pruneWatermark;
      if (ts <= w) {
        // Behind the watermark: older than the key's newest version at or below it, no probe
        // of the future can meet it.
        if (vs.length > 0 && vs[0]!.ts <= w && ts < vs[0]!.ts) {
          this.late++;
          return;
        }
      } else this.prune.push({ ts, mk });
      // Into its place by time, after versions of the same time (the later arrival wins).
      let i = vs.length;
      while (i > 0 && vs[i - 1]!.ts > ts) i--;
      vs.splice(i, 0, { ts, seq, x });
      if (ts <= w) this.pruneKey(k);
      return;
    }
    if (!this.spec.eventTime || ts < this.versionWatermark) {
      this.probeNow(mk, key, x, ts);
      return;
    }
    const list = this.state(mk, key).waiting;
    let i = list.length;
    while (i > 0 && list[i - 1]!.ts > ts) i--;
    list.splice(i, 0, { ts, seq, x });
    this.waiting.push({ ts, seq, mk });
  }

  /** Joins a probe with its key's version at its time (or the latest, by arrival). */
  private probeNow(mk: MapKey, key: unknown, x: unknown, ts: number): void {
    const k = this.keys.get(mk);
    let version: Entry | undefined;
    if (k) {
      const vs = k.versions;
      if (!this.spec.eventTime) version = vs[0];
      else for (let i = vs.length - 1; i >= 0; i--) if (vs[i]!.ts <= ts) {
        version = vs[i];
        break;
      }
    }
    if (version !== undefined) this.emit(this.pair(x, version.x), key, ts);
    else if (this.spec.unmatched) this.emit(this.pair(x, null), key, ts);
  }

  private pair(probe: unknown, version: unknown): unknown {
    return this.probe === 0 ? this.select(probe, version) : this.select(version, probe);
  }

  /** Keeps a key's newest version at or below the versioned watermark, and the newer ones. */
  private pruneKey(k: KeyState): void {
    const vs = k.versions;
    const w = this.pruneWatermark;
    let newestBelow = -1;
    for (let i = 0; i < vs.length && vs[i]!.ts <= w; i++) newestBelow = i;
    if (newestBelow > 0) vs.splice(0, newestBelow);
  }

  /** An input became idle (`idle d` on a live source) or active: whether the watermark advanced. */
  setIdle(side: number, on: boolean): boolean {
    this.idle[side] = on;
    return this.watermark(this.wms[side]!, side, true);
  }

  allIdle(): boolean {
    return this.idle[0] && this.idle[1];
  }

  /**
   * One input's watermark advanced. In event time, the probes the versioned side's watermark
   * reached are released and versions pruned; the join's own (passed on) is the smaller of
   * the two, idle ones left out — by arrival, the probe side's alone (the versioned side may
   * have no time at all).
   */
  watermark(w: number, side: number, force = false): boolean {
    if (w <= this.wms[side]! && !force) return false;
    if (w > this.wms[side]!) this.wms[side] = w;
    if (this.spec.eventTime) {
      const vw = this.versionWatermark;
      for (let p = this.waiting.peek(); p && p.ts < vw; p = this.waiting.peek()) {
        this.waiting.pop();
        const k = this.keys.get(p.mk)!;
        const probe = k.waiting.shift()!;
        this.probeNow(p.mk, k.key, probe.x, probe.ts);
        if (k.waiting.length === 0 && k.versions.length === 0) this.keys.delete(p.mk);
      }
      const pw = this.pruneWatermark;
      for (let e = this.prune.peek(); e && e.ts <= pw; e = this.prune.peek()) {
        this.prune.pop();
        const k = this.keys.get(e.mk);
        if (k) this.pruneKey(k);
      }
    }
    let next = Infinity;
    let active = false;
    for (let i = 0; i < 2; i++) {
      if (this.idle[i] || (!this.spec.eventTime && i === this.versioned)) continue;
      active = true;
      if (this.wms[i]! < next) next = this.wms[i]!;
    }
    if (!active) next = -Infinity;
    if (next <= this.wm) return false;
    this.wm = next;
    return true;
  }

  get watermarkValue(): number {
    return this.wm;
  }

  override currentWatermark(): number {
    return this.wm;
  }

  // ---- checkpoints and savepoints ----------------------------------------------------------

  /** Per key: [versions, waiting probes], each [time, order, element], oldest first. */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const entries = (list: Entry[]) => list.map((v) => [v.ts, v.seq, v.x]);
    const rows: [MapKey, unknown, unknown][] = [...this.keys].map(([mk, k]) => [mk, k.key, [entries(k.versions), entries(k.waiting)]]);
    return { rows, meta: { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as { wms: [number | null, number | null]; wm: number | null; seq: number; late: number } | undefined;
    if (meta) {
      this.wms[0] = meta.wms[0] ?? -Infinity;
      this.wms[1] = meta.wms[1] ?? -Infinity;
      this.wm = meta.wm ?? -Infinity;
      this.seq = meta.seq;
      this.late = meta.late;
    }
    const pw = this.pruneWatermark;
    for (const [mk, key, data] of rows) {
      const [versions, waiting] = data as [[number, number, unknown][], [number, number, unknown][]];
      const entry = ([ts, seq, x]: [number, number, unknown]): Entry => ({ ts, seq, x });
      const k: KeyState = { key, versions: versions.map(entry), waiting: waiting.map(entry) };
      this.keys.set(mk, k);
      // As element() does: a version above the prune watermark (the smaller of both sides')
      // waits in the prune queue; one at or below it was pruned before the checkpoint.
      for (const v of k.versions) if (v.ts > pw) this.prune.push({ ts: v.ts, mk });
      for (const p of k.waiting) this.waiting.push({ ts: p.ts, seq: p.seq, mk });
    }
  }
}

export const factory: NonNullable<OperatorFactories["temporalJoin"]> = (uid, spec, select, emit) => new TemporalJoinOperator(uid, spec, select, emit);
