// Keyed state: one state object per key, created on first use by the operator's generated
// state class. All of an operator's state for a key lives in that one object. Stores know
// which keys changed since the last checkpoint, for incremental checkpoints.

import type { KeyedState, MapKey, StateObject } from "./api.js";
import { decodeSnapshot, encodeSnapshot } from "./checkpoint/snapshot.js";
import { keyOf } from "./lib.js";

/**
 * Operators whose state is a runtime structure (windows, timers, joins, dedup) give it as
 * rows: (map key, typed key, data) per key, and operator-wide values. Checkpoints and
 * savepoints are both written from these rows.
 */
export interface RowState {
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown };
  importRows(rows: [MapKey, unknown, unknown][], meta: unknown): void;
  /** Savepoints: the name of the part these rows go to (`windows`, `timers`, …). */
  readonly partName: string;
  /** Savepoints: the map key of a typed key read back (the data may say more: a window). */
  savepointMapKey(key: unknown, data: unknown): MapKey;
}

/** A full snapshot file of a RowState's rows. */
export function snapshotRows(uid: string, state: RowState): { buffers: Buffer[]; keys: number; bytes: number } {
  const { rows, meta } = state.exportRows();
  return encodeSnapshot(uid, "full", 1, true, rows.map((r) => r[0]).values(), rows.map((r) => new RowObject(r[1], r[2])).values(), rows.length, true, meta);
}

/** A row seen as a state object of one field (its data), for encodeSnapshot. */
class RowObject {
  $dirty = false;
  constructor(
    readonly $key: unknown,
    private readonly data: unknown,
  ) {}
  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.data);
  }
  $loadFrom(): void {}
}

/** Loads a snapshot file written by snapshotRows. */
export function restoreRows(bytes: Buffer, state: RowState): void {
  const rows: [MapKey, unknown, unknown][] = [];
  const index = decodeSnapshot(bytes, (mk, key, columns, i) => rows.push([mk, key, columns[0]![i]]));
  state.importRows(rows, index.meta);
}

/** The map key of a typed key read back from a savepoint: records by their JSON text. */
export function plainMapKey(key: unknown, unkeyed: MapKey | undefined): MapKey {
  if (key === null || key === undefined) return unkeyed as MapKey;
  return typeof key === "object" ? keyOf(key) : (key as MapKey);
}

/** What the checkpoint coordinator needs from any operator state. */
export interface StateStore {
  readonly uid: string;
  /** Whether the store can write deltas (false: every snapshot is full). */
  readonly incremental?: boolean;
  /** Keys held, and keys changed since the last snapshot. */
  readonly size: number;
  readonly changed: number;
  /** Encodes all keys (full) or the changed ones (delta), resetting the changed set. */
  snapshot(kind: "full" | "delta"): { buffers: Buffer[]; keys: number; bytes: number };
  /** Applies a snapshot file (a full one first, then deltas in order). */
  restore(bytes: Buffer): void;
}

export class KeyedStateStore<S extends StateObject> implements KeyedState<S>, StateStore {
  readonly map = new Map<MapKey, S>();
  /** Keys changed since the last snapshot, and their state objects (no lookups at snapshot time). */
  private dirtyKeys: MapKey[] = [];
  private dirtyObjs: S[] = [];
  /** Keys freed since the last snapshot (written as deletions in a delta). */
  private deleted: MapKey[] = [];

  constructor(
    readonly uid: string,
    readonly fields: number,
    private readonly create: (key: unknown) => S,
    /** Whether keys are records (encoded map keys, typed keys kept apart). */
    private readonly typedKeys = false,
    /** Whether changed keys are tracked (only incremental checkpoints need them). */
    private readonly tracking = true,
  ) {}

  get(mapKey: MapKey, key: unknown): S {
    let s = this.map.get(mapKey);
    if (s === undefined) {
      s = this.create(key);
      // Without tracking, every object counts as changed already: nothing is recorded.
      if (!this.tracking) s.$dirty = true;
      this.map.set(mapKey, s);
    }
    if (!s.$dirty) {
      s.$dirty = true;
      this.dirtyKeys.push(mapKey);
      this.dirtyObjs.push(s);
    }
    return s;
  }

  /** A key's state object for a restore from a savepoint (created fresh, counted as changed). */
  restoreKey(mapKey: MapKey, key: unknown): S {
    let s = this.map.get(mapKey);
    if (s === undefined) {
      s = this.create(key);
      this.map.set(mapKey, s);
    }
    s.$dirty = true;
    if (this.tracking) {
      this.dirtyKeys.push(mapKey);
      this.dirtyObjs.push(s);
    }
    return s;
  }

  delete(mapKey: MapKey): void {
    const s = this.map.get(mapKey);
    if (s === undefined) return;
    this.map.delete(mapKey);
    if (this.tracking) {
      this.deleted.push(mapKey);
      // A changed key freed again: drop it from the changes.
      if (s.$dirty) {
        const i = this.dirtyObjs.indexOf(s);
        if (i >= 0) {
          this.dirtyObjs.splice(i, 1);
          this.dirtyKeys.splice(i, 1);
        }
      }
    }
  }

  get size(): number {
    return this.map.size;
  }

  get changed(): number {
    return this.dirtyKeys.length + this.deleted.length;
  }

  snapshot(kind: "full" | "delta"): { buffers: Buffer[]; keys: number; bytes: number } {
    const r =
      kind === "full"
        ? encodeSnapshot(this.uid, kind, this.fields, this.typedKeys, this.map.keys(), this.map.values(), this.map.size, this.tracking)
        : encodeSnapshot(this.uid, kind, this.fields, this.typedKeys, this.dirtyKeys.values(), this.dirtyObjs.values(), this.dirtyKeys.length, this.tracking, undefined, this.deleted);
    this.dirtyKeys = [];
    this.dirtyObjs = [];
    this.deleted = [];
    return r;
  }

  restore(bytes: Buffer): void {
    decodeSnapshot(
      bytes,
      (mk, typedKey, columns, i) => {
        let s = this.map.get(mk);
        if (s === undefined) {
          s = this.create(typedKey);
          this.map.set(mk, s);
        }
        s.$loadFrom(columns, i);
        s.$dirty = !this.tracking;
      },
      (mk) => this.map.delete(mk),
    );
  }
}

/** The state of an operator on an unkeyed stream: a single object (always written). */
export class GlobalStateStore<S extends StateObject> implements StateStore {
  readonly value: S;

  constructor(
    readonly uid: string,
    readonly fields: number,
    create: () => S,
  ) {
    this.value = create();
  }

  get size(): number {
    return 1;
  }

  get changed(): number {
    return 1;
  }

  snapshot(kind: "full" | "delta"): { buffers: Buffer[]; keys: number; bytes: number } {
    return encodeSnapshot(this.uid, kind, this.fields, false, [""].values(), [this.value].values(), 1);
  }

  restore(bytes: Buffer): void {
    decodeSnapshot(bytes, (_mk, _key, columns, i) => this.value.$loadFrom(columns, i));
  }
}
