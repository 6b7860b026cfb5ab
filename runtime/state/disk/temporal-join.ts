// Temporal (versioned) joins on disk: the contract of runtime/time/temporal-join.ts (its
// header: each probe joined with its key's version current at its time, in event time once
// the versioned side's watermark passes it, or by arrival) with its structures in the job's
// store:
//
//   - per key, the versions a future probe can still meet and the probes waiting, as one
//     state object of a keyed table (keyed.ts), stored as the memory backend's savepoint row
//     [versions, waiting probes], each [time, order, element];
//   - event time: the waiting probes by (time, order) and the versions to prune by time, in
//     two time queues (queue.ts), rebuilt from the table when a run starts after a restore.
//
// The versions and probes held over all keys are counted as they come and go (checkpointed
// with the table).

import type { EmitFn, JoinHandle, MapKey, StateObject, TemporalJoinSpec } from "../../api.js";
import { plainMapKey, type RowState } from "../../operator.js";
import { DiskJoinBase, type JoinMeta } from "./join-base.js";
import { DiskQueue, type QueueEntry } from "./queue.js";
import type { DiskStore } from "./store.js";

interface Entry {
  ts: number;
  seq: number;
  x: unknown;
}

type EntryRow = [number, number, unknown];

class KeyVersions implements StateObject {
  $dirty = false;
  /** Versions by time (ties: by arrival), oldest first. By arrival: just the latest. */
  versions: Entry[] = [];
  /** Event time: the probes waiting for the versioned side's watermark, by time then arrival. */
  waiting: Entry[] = [];
  constructor(readonly $key: unknown) {}

  row(): [EntryRow[], EntryRow[]] {
    const rows = (list: Entry[]): EntryRow[] => list.map((v) => [v.ts, v.seq, v.x]);
    return [rows(this.versions), rows(this.waiting)];
  }

  load(row: [EntryRow[], EntryRow[]]): void {
    const entry = ([ts, seq, x]: EntryRow): Entry => ({ ts, seq, x });
    this.versions = row[0].map(entry);
    this.waiting = row[1].map(entry);
  }

  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.row());
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.load(c[0]![i] as [EntryRow[], EntryRow[]]);
  }
}

export class DiskTemporalJoin extends DiskJoinBase<KeyVersions> implements JoinHandle, RowState {
  private readonly waiting: DiskQueue;
  private readonly prune: DiskQueue;
  private pruneSeq = 0;
  private readonly probe: number;
  private readonly versioned: number;

  constructor(
    store: DiskStore,
    uid: string,
    private readonly spec: TemporalJoinSpec,
    private readonly select: (left: unknown, right: unknown) => unknown,
    private readonly emit: EmitFn,
  ) {
    super(store, uid, (key) => new KeyVersions(key));
    this.probe = spec.probe;
    this.versioned = 1 - spec.probe;
    this.waiting = new DiskQueue(store, `${uid}#waiting`);
    this.prune = new DiskQueue(store, `${uid}#prune`);
  }



  override get rows(): RowState {
    return this;
  }

  private get versionWatermark(): number {
    const w = this.wms[this.versioned]!;
    return this.idle[this.versioned] ? Math.max(w, this.wms[this.probe]!) : w;
  }

  /** Below this a key needs only its newest version: the smaller of the versioned and the probe side's watermarks (as time/temporal-join.ts). */
  private get pruneWatermark(): number {
    return Math.min(this.versionWatermark, this.wms[this.probe]!);
  }

  element(side: number, x: unknown, mk: MapKey, key: unknown, ts: number): void {
    this.rebuild();
    const seq = this.seq++;
    if (side === this.versioned) {
      const k = this.keys.get(mk, key);
      if (!this.spec.eventTime) {
        if (k.versions.length === 0) this.elements++;
        k.versions[0] = { ts, seq, x };
        return;
      }
      const vs = k.versions;
      const w = this.pruneWatermark;
      if (ts <= w) {
        if (vs.length > 0 && vs[0]!.ts <= w && ts < vs[0]!.ts) {
          this.late++;
          return;
        }
      } else this.prune.push(ts, this.pruneSeq++, [mk]);
      let i = vs.length;
      while (i > 0 && vs[i - 1]!.ts > ts) i--;
      vs.splice(i, 0, { ts, seq, x });
      this.elements++;
      if (ts <= w) this.pruneKey(k);
      return;
    }
    if (!this.spec.eventTime || ts < this.versionWatermark) {
      this.probeNow(this.keys.find(mk), key, x, ts);
      return;
    }
    const list = this.keys.get(mk, key).waiting;
    let i = list.length;
    while (i > 0 && list[i - 1]!.ts > ts) i--;
    list.splice(i, 0, { ts, seq, x });
    this.elements++;
    this.waiting.push(ts, seq, [mk]);
  }

  private probeNow(k: KeyVersions | undefined, key: unknown, x: unknown, ts: number): void {
    let version: Entry | undefined;
    if (k) {
      const vs = k.versions;
      if (!this.spec.eventTime) version = vs[0];
      else
        for (let i = vs.length - 1; i >= 0; i--)
          if (vs[i]!.ts <= ts) {
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

  private pruneKey(k: KeyVersions): void {
    const vs = k.versions;
    const w = this.pruneWatermark;
    let newestBelow = -1;
    for (let i = 0; i < vs.length && vs[i]!.ts <= w; i++) newestBelow = i;
    if (newestBelow > 0) {
      vs.splice(0, newestBelow);
      this.elements -= newestBelow;
    }
  }

  watermark(w: number, side: number, force = false): boolean {
    if (w <= this.wms[side]! && !force) return false;
    if (w > this.wms[side]!) this.wms[side] = w;
    if (this.spec.eventTime) {
      this.rebuild();
      const vw = this.versionWatermark;
      this.waiting.take(vw, false, (e) => {
        const mk = e.values[0] as MapKey;
        const k = this.keys.getIfExists(mk);
        if (k === undefined) return;
        const i = k.waiting.findIndex((p) => p.seq === e.seq);
        if (i < 0) return;
        const probe = k.waiting[i]!;
        k.waiting.splice(i, 1);
        this.elements--;
        this.probeNow(k, k.$key, probe.x, probe.ts);
        if (k.waiting.length === 0 && k.versions.length === 0) this.keys.delete(mk);
      });
      this.prune.take(this.pruneWatermark, true, (e) => {
        const k = this.keys.getIfExists(e.values[0] as MapKey);
        if (k) this.pruneKey(k);
      });
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

  /** After a restore: both queues again, from every key's versions and waiting probes. */
  private rebuild(): void {
    if (!this.stale) return;
    this.stale = false;
    if (!this.spec.eventTime) return;
    this.waiting.reset();
    this.prune.reset();
    const pw = this.pruneWatermark;
    const waiting: QueueEntry[] = [];
    const prune: QueueEntry[] = [];
    for (const { mk, obj } of this.keys.scan()) {
      for (const v of obj.versions) if (v.ts > pw) prune.push({ time: v.ts, seq: this.pruneSeq++, values: [mk] });
      for (const p of obj.waiting) waiting.push({ time: p.ts, seq: p.seq, values: [mk] });
    }
    this.waiting.load(waiting);
    this.prune.load(prune);
  }

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = this.keys.entries().map(({ mk, key, obj }): [MapKey, unknown, unknown] => [mk, key, (obj as KeyVersions).row()]);
    return { rows, meta: { wms: this.wms, wm: this.wm, seq: this.seq, late: this.late } };
  }

  importRows(rows: [MapKey, unknown, unknown][], metaIn: unknown): void {
    const meta = metaIn as JoinMeta | undefined;
    if (meta) this.setMeta({ ...meta, held: undefined });
    let held = 0;
    for (const [mk, key, data] of rows) {
      const k = this.keys.get(mk, key);
      k.load(data as [EntryRow[], EntryRow[]]);
      held += k.versions.length + k.waiting.length;
    }
    this.elements = held;
    this.stale = true;
  }
}
