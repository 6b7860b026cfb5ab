// Keyed state on disk (docs/operations.md, "State on disk"): the same contract as the memory
// backend's KeyedStateStore (runtime/state.ts) — one generated state object per key, handed
// out by get() for the generated code to change in place — with the objects in a bounded
// LRU cache (`cache` keys) in front of one table of the job's store (store.ts).
//
//   - get(): a hit moves the key to the cache's young end; a miss reads the key's state from
//     the pending writes or the store (one synchronous point read) and decodes it into a new
//     state object, or creates the key. Either way the object counts as changed (the code
//     that asked for it may change it).
//   - An object pushed out of the cache is encoded and kept as a pending write if it changed;
//     once there are FLUSH_AT of them they go to the store in one transaction that lmdb-js
//     runs on a thread of its own (store.ts), and stay readable here until it commits. A
//     miss looks at the writes not in the store yet first.
//   - Checkpoints: a checkpoint writes back every changed object it caches, then a delta: the
//     keys changed since the checkpoint before (written back or deleted), read back from the
//     store, in the snapshot format of the memory backend (checkpoint/snapshot.ts). So its
//     pause grows with the change, not with the state. A full snapshot (the first, and when
//     the deltas since grow bigger than it) reads the whole table in key-group order.
//   - Restore writes a checkpoint's files (a full snapshot, then deltas in order) into the
//     empty store, in transactions of RESTORE_BATCH keys.

import type { KeyedState, MapKey, StateObject } from "../../api.js";
import { decodeSnapshot, encodeSnapshot, keyGroup, type Snapshottable } from "../../checkpoint/snapshot.js";
import { encodeGroupedSnapshot, encodeGroupedSnapshotLater, type GroupRows } from "./grouped.js";
import { OperatorBase, plainMapKey, type ObjectState, type Snapshot } from "../../operator.js";
import { decodeInto, decodeValues, encodeValues, mapKeyOf, prefixEnd, tableKey, tableKeyScratch, tablePrefix } from "./codec.js";
import type { DiskStore, StoreTable } from "./store.js";
import { Lru } from "./lru.js";
import { KeyFilter } from "./filter.js";

/** Pending writes are written to the store once a table has this many. */
export const FLUSH_AT = 10_000;
const RESTORE_BATCH = 100_000;

/** A key's state read back from the store, as a state object for encodeSnapshot. */
class StoredRow {
  $dirty = false;
  constructor(
    readonly $key: unknown,
    private readonly values: unknown[],
    private readonly from: number,
  ) {}
  $saveTo(c: unknown[][]): void {
    for (let i = 0; i < c.length; i++) c[i]!.push(this.values[this.from + i]);
  }
  $loadFrom(): void {}
}

export class DiskKeyedState<S extends StateObject> extends OperatorBase implements KeyedState<S>, ObjectState, StoreTable {
  /** Decoded state objects, oldest use first. */
  private readonly cache: Lru<S>;
  /** The keys written to the store (filter.ts): a miss of a key never written reads nothing. */
  private readonly inStore = new KeyFilter();
  /** Encoded states (null: deleted) not yet in the store. */
  private pending = new Map<MapKey, Buffer | null>();
  /** Batches being written in the background (store.flush), oldest first: readable until committed. */
  private inFlight: { batch: number; writes: Map<MapKey, Buffer | null> }[] = [];
  /** Keys made dirty in the cache since the last checkpoint (under checkpoints; some may be written back since, or listed twice). */
  private dirtyKeys: MapKey[] = [];
  /** Keys changed since the last checkpoint that are no longer in the cache (written back or deleted). */
  private changed = new Set<MapKey>();
  private readonly table: number;
  private readonly prefix: Buffer;
  private readonly cols: unknown[][] = [];
  /** Columns of one row each, that a decoded state is read from. */
  private readonly readCols: unknown[][] = [];
  /** Keys of the table; -1 after a restore until it is counted (once, not once per file of a chain). */
  private keyCount = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: DiskStore,
    readonly uid: string,
    readonly fields: number,
    private readonly create: (key: unknown) => S,
    /** Whether keys are records (their typed key is stored with the state). */
    private readonly typedKeys: boolean,
  ) {
    super();
    this.table = store.register(this);
    this.prefix = tablePrefix(this.table);
    this.cache = new Lru<S>(store.opts.cache);
    for (let i = 0; i < fields; i++) {
      this.cols.push([]);
      this.readCols.push([undefined]);
    }
  }

  override get incremental(): boolean {
    return true;
  }

  /** A disk-backed operator's checkpoints are deltas whatever the policy (the coordinator asks). */
  get onDisk(): boolean {
    return true;
  }

  override get objects(): ObjectState {
    return this;
  }

  override get size(): number {
    return this.counted();
  }

  get cached(): number {
    return this.cache.size;
  }

  // ---- the hot path -------------------------------------------------------------------------

  get(mapKey: MapKey, key: unknown): S {
    let s = this.cache.get(mapKey);
    if (s !== undefined) this.hits++;
    else {
      this.misses++;
      s = this.load(mapKey, key);
      this.cache.add(mapKey, s, this.evicted);
    }
    if (!s.$dirty) {
      s.$dirty = true;
      // Under checkpoints, the keys made dirty are listed, so that a checkpoint finds the
      // cached ones without going through the whole cache.
      if (this.store.opts.checkpoints) {
        this.dirtyKeys.push(mapKey);
        if (this.dirtyKeys.length > 2 * this.store.opts.cache + 1024) this.compactDirty();
      }
    }
    return s;
  }

  /** Drops the listed keys that are no longer cached or no longer dirty (written back since). */
  private compactDirty(): void {
    this.dirtyKeys = this.dirtyKeys.filter((mk) => this.cache.peek(mk)?.$dirty === true);
  }

  /**
   * A map key's store key in a shared buffer, valid until the next call: for reads, and for
   * lmdb-js's writes, which copy keys as they are handed them.
   */
  private scratchKey(mapKey: MapKey): Buffer {
    return tableKeyScratch(this.table, keyGroup(mapKey ?? ""), mapKey);
  }

  private storeKey(mapKey: MapKey): Buffer {
    // A null key (an optional key that is null) hashes as the empty string.
    return tableKey(this.table, keyGroup(mapKey ?? ""), mapKey);
  }

  /** A key's state from the pending writes or the store, or a new key's. */
  private load(mapKey: MapKey, key: unknown): S {
    const bytes = this.stored(mapKey);
    if (bytes === null) {
      this.keyCount = this.counted() + 1;
      return this.create(key);
    }
    return this.decode(bytes, key);
  }

  /** A key's encoded state from the writes not in the store yet or the store; null: it has none. */
  private stored(mapKey: MapKey): Buffer | null {
    const bytes = this.unwritten(mapKey);
    if (bytes !== undefined) return bytes;
    if (!this.inStore.mayHave(mapKey)) return null;
    return this.store.db.getBinaryFast(this.scratchKey(mapKey)) ?? null;
  }

  private decode(bytes: Buffer, key: unknown): S {
    const cols = this.readCols;
    const typed = decodeInto(bytes, cols, this.typedKeys ? 1 : 0);
    const s = this.create(this.typedKeys ? typed : key);
    s.$loadFrom(cols, 0);
    return s;
  }

  private encode(s: S): Buffer {
    const cols = this.cols;
    for (let i = 0; i < cols.length; i++) cols[i]!.length = 0;
    s.$saveTo(cols);
    const values: unknown[] = this.typedKeys ? [(s as { $key?: unknown }).$key] : [];
    for (let i = 0; i < cols.length; i++) values.push(cols[i]![0]);
    return encodeValues(values);
  }

  /** The key the cache pushed out: written back if it changed. */
  private readonly evicted = (mk: MapKey, s: S): void => {
    if (s.$dirty) this.writeBack(mk, s);
  };

  private writeBack(mk: MapKey, s: S): void {
    s.$dirty = false;
    this.pending.set(mk, this.encode(s));
    if (this.store.opts.checkpoints) this.changed.add(mk);
    if (this.pending.size >= FLUSH_AT) this.store.flush();
  }

  delete(mapKey: MapKey): void {
    const inCache = this.cache.delete(mapKey);
    let exists = inCache !== undefined;
    if (inCache === undefined) exists = this.stored(mapKey) !== null;
    if (!exists) return;
    this.keyCount = this.counted() - 1;
    this.pending.set(mapKey, null);
    if (this.store.opts.checkpoints) this.changed.add(mapKey);
    if (this.pending.size >= FLUSH_AT) this.store.flush();
  }

  /** StoreTable: hands the pending writes to the store; a background batch stays readable until it settles. */
  drain(put: (key: Buffer, value: Buffer) => void, remove: (key: Buffer) => void, batch: number | null): number {
    let bytes = 0;
    if (batch === null) {
      // A transaction of our own (store.sync) writes the background batches not known to be
      // committed again, oldest first: one of them may have failed without the job knowing
      // yet (its failure is reported on the event loop), and whoever reads the store after
      // sync() — a full checkpoint, a savepoint — must find every write in it.
      for (const f of this.inFlight) {
        for (const [mk, v] of f.writes) {
          const k = this.scratchKey(mk);
          if (v === null) remove(k);
          else put(k, v);
        }
      }
    }
    for (const [mk, v] of this.pending) {
      // (Values lmdb-js reads where they are until the transaction commits: the pending
      // writes keep them.)
      const k = this.scratchKey(mk);
      if (v === null) remove(k);
      else {
        put(k, v);
        this.inStore.add(mk);
        bytes += v.length;
      }
      bytes += k.length;
    }
    if (batch !== null && this.pending.size > 0) this.inFlight.push({ batch, writes: this.pending });
    this.pending = new Map();
    return bytes;
  }

  settled(batch: number): void {
    let n = 0;
    while (n < this.inFlight.length && this.inFlight[n]!.batch <= batch) n++;
    if (n > 0) this.inFlight.splice(0, n);
  }

  /** A key's state among the writes not in the store yet (null: deleted; undefined: not there). */
  private unwritten(mk: MapKey): Buffer | null | undefined {
    const p = this.pending.get(mk);
    if (p !== undefined) return p;
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const w = this.inFlight[i]!.writes.get(mk);
      if (w !== undefined) return w;
    }
    return undefined;
  }

  /** Writes back every changed object of the cache (they stay cached). */
  private writeBackCached(): void {
    if (this.store.opts.checkpoints) this.cutDirty(null);
    else {
      this.cache.forEach((s, mk) => {
        if (!s.$dirty) return;
        s.$dirty = false;
        this.pending.set(mk, this.encode(s));
      });
    }
    this.store.sync();
  }

  /**
   * Under checkpoints: writes back the dirty cached objects (as pending writes), each also
   * handed to `also` (a checkpoint's delta takes them as they are), and takes them out of the
   * keys changed since the checkpoint before (they are accounted for).
   */
  private cutDirty(also: ((mk: MapKey, s: S) => void) | null): void {
    const keys = this.dirtyKeys;
    this.dirtyKeys = [];
    for (let i = 0; i < keys.length; i++) {
      const mk = keys[i]!;
      const s = this.cache.peek(mk);
      if (s === undefined || !s.$dirty) continue;
      s.$dirty = false;
      this.pending.set(mk, this.encode(s));
      if (also) {
        also(mk, s);
        this.changed.delete(mk);
      } else this.changed.add(mk);
    }
  }

  private counted(): number {
    if (this.keyCount < 0) {
      this.store.sync();
      this.keyCount = this.store.db.getKeysCount({ start: this.prefix, end: prefixEnd(this.prefix) });
    }
    return this.keyCount;
  }

  // ---- checkpoints --------------------------------------------------------------------------

  /** Operator-wide values written with each snapshot (timers: their order counter and watermark). */
  meta: (() => unknown) | null = null;
  /** Called with a restored snapshot's operator-wide values. */
  onMeta: ((meta: unknown) => void) | null = null;

  snapshot(kind: "full" | "delta", deferred = false): Snapshot {
    this.store.check();
    const db = this.store.db;
    const from = this.typedKeys ? 1 : 0;
    const keys: MapKey[] = [];
    const rows: Snapshottable[] = [];
    const deleted: MapKey[] = [];
    if (kind === "delta") {
      // The dirty cached objects go into the delta as they are; the other changed keys were
      // written back (or deleted) since the checkpoint before: read from the pending writes
      // or the store.
      this.cutDirty((mk, s) => {
        keys.push(mk);
        rows.push(s);
      });
      for (const mk of this.changed) {
        let bytes = this.unwritten(mk);
        if (bytes === undefined) bytes = db.getBinary(this.storeKey(mk)) ?? null;
        if (bytes === null) {
          deleted.push(mk);
          continue;
        }
        const values = decodeValues(bytes);
        keys.push(mk);
        rows.push(new StoredRow(this.typedKeys ? values[0] : mk, values, from));
      }
      // The pending writes reach the store later, with the next batch of write-backs: the
      // checkpoint does not wait for them (a miss reads them from the pending writes).
    } else {
      this.writeBackCached();
      this.changed = new Set();
      const meta = this.meta?.();
      const range = this.store.db.getRange({ start: this.prefix, end: prefixEnd(this.prefix) })[Symbol.iterator]();
      // The range's first read opens its read transaction: LMDB keeps that view of the store
      // while the job goes on and later writes commit.
      const first = range.next();
      if (!deferred) return encodeGroupedSnapshot(this.uid, "full", this.fields, this.typedKeys, this.groups(range, first), meta);
      // A checkpoint's full snapshot is read after the pause, from that view. The store ends
      // the scan before it closes (and a scan cut short fails the checkpoint).
      const scan = this.store.scanStarted(range);
      return {
        buffers: [],
        keys: 0,
        bytes: 0,
        later: () =>
          encodeGroupedSnapshotLater(this.uid, "full", this.fields, this.typedKeys, this.groups(range, first), meta, () => this.store.scanEnded(scan)),
      };
    }
    this.changed = new Set();
    return encodeSnapshot(this.uid, kind, this.fields, this.typedKeys, keys.values(), rows.values(), keys.length, false, this.meta?.(), kind === "delta" ? deleted : undefined);
  }

  /**
   * The table's keys and states from a range of the store (its first entry read already),
   * one key group at a time (keys are in key-group order).
   */
  private *groups(range: Iterator<{ key: unknown; value: unknown }>, first: IteratorResult<{ key: unknown; value: unknown }>): Generator<GroupRows> {
    let g: GroupRows | null = null;
    const from = this.typedKeys ? 1 : 0;
    for (let r = first; !r.done; r = range.next()) {
      const { key, value } = r.value;
      const k = key as Buffer;
      const kg = k.readUInt16BE(3);
      if (g === null || g.kg !== kg) {
        if (g !== null) yield g;
        g = { kg, mapKeys: [], typedKeys: this.typedKeys ? [] : null, columns: Array.from({ length: this.fields }, () => []) };
      }
      const values = decodeValues(value as Buffer);
      g.mapKeys.push(mapKeyOf(k) as MapKey);
      if (g.typedKeys) g.typedKeys.push(values[0]);
      for (let i = 0; i < this.fields; i++) g.columns[i]!.push(values[from + i]);
    }
    if (g !== null) yield g;
  }

  restore(bytes: Buffer): void {
    const db = this.store.db;
    const cols = this.cols;
    let batch: [Buffer, Buffer | null][] = [];
    const write = (): void => {
      const b = batch;
      batch = [];
      this.store.writeSync(() => {
        for (const [k, v] of b) void (v === null ? db.remove(k) : db.put(k, v));
      });
    };
    // What the cache holds is of no use against a checkpoint: restore starts from an empty store.
    this.cache.clear();
    this.pending = new Map();
    this.inFlight = [];
    this.dirtyKeys = [];
    const index = decodeSnapshot(
      bytes,
      (mk, typedKey, columns, i) => {
        const values: unknown[] = this.typedKeys ? [typedKey] : [];
        for (let c = 0; c < cols.length; c++) values.push(columns[c]![i]);
        batch.push([this.storeKey(mk), encodeValues(values)]);
        this.inStore.add(mk);
        if (batch.length >= RESTORE_BATCH) write();
      },
      (mk) => {
        batch.push([this.storeKey(mk), null]);
      },
    );
    write();
    this.keyCount = -1;
    if (index.meta !== undefined) this.onMeta?.(index.meta);
  }

  /** A key's state object to change, like get(), but undefined (nothing created) when the key has none. */
  getIfExists(mapKey: MapKey): S | undefined {
    let s = this.cache.get(mapKey);
    if (s === undefined) {
      const bytes = this.stored(mapKey);
      if (bytes === null) return undefined;
      this.misses++;
      s = this.decode(bytes, mapKey);
      this.cache.add(mapKey, s, this.evicted);
    } else this.hits++;
    if (!s.$dirty) {
      s.$dirty = true;
      if (this.store.opts.checkpoints) {
        this.dirtyKeys.push(mapKey);
        if (this.dirtyKeys.length > 2 * this.store.opts.cache + 1024) this.compactDirty();
      }
    }
    return s;
  }

  /** A key's state if it has any, without creating it or making it the most recently used (changes go through get()). */
  find(mapKey: MapKey): S | undefined {
    const s = this.cache.peek(mapKey);
    if (s !== undefined) return s;
    const bytes = this.stored(mapKey);
    return bytes === null ? undefined : this.decode(bytes, mapKey);
  }

  // ---- savepoints ---------------------------------------------------------------------------

  /** Every key's state (a savepoint): written back first, then read from the store in key order. */
  entries(): { key: unknown; obj: StateObject; mk: MapKey }[] {
    return [...this.scan()];
  }

  /** entries(), one key at a time (rebuilding a queue need not hold every key's state at once). */
  *scan(): Generator<{ key: unknown; obj: S; mk: MapKey }> {
    this.writeBackCached();
    for (const { key, value } of this.store.db.getRange({ start: this.prefix, end: prefixEnd(this.prefix) })) {
      const mk = mapKeyOf(key as Buffer) as MapKey;
      const obj = this.decode(value as Buffer, mk);
      const typed = (obj as { $key?: unknown }).$key;
      yield { key: typed !== undefined ? typed : mk, obj, mk };
    }
  }

  /** The object a savepoint's state for `key` is restored into: cached, and written back like any other. */
  objectFor(key: unknown): StateObject {
    return this.get(plainMapKey(key, ""), key);
  }
}
