// Keyed state: one state object per key, created on first use by the operator's generated
// state class. All of an operator's state for a key lives in that one object. Stores know
// which keys changed since the last checkpoint, for incremental checkpoints.

import type { KeyedState, MapKey, StateObject } from "./api.js";
import { decodeSnapshot, encodeSnapshot } from "./checkpoint/snapshot.js";
import { OperatorBase, plainMapKey, type ObjectState, type Snapshot } from "./operator.js";

export class KeyedStateStore<S extends StateObject> extends OperatorBase implements KeyedState<S>, ObjectState {
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
  ) {
    super();
  }

  override get incremental(): boolean {
    return true;
  }

  override get objects(): ObjectState {
    return this;
  }

  entries(): { key: unknown; obj: StateObject }[] {
    return [...this.map].map(([mk, obj]) => {
      const key = (obj as { $key?: unknown }).$key;
      return { key: key !== undefined ? key : mk, obj };
    });
  }

  objectFor(key: unknown): StateObject {
    return this.restoreKey(plainMapKey(key, ""), key);
  }

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

  override get size(): number {
    return this.map.size;
  }

  /** Keys changed since the last snapshot. */
  get changed(): number {
    return this.dirtyKeys.length + this.deleted.length;
  }

  snapshot(kind: "full" | "delta"): Snapshot {
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
export class GlobalStateStore<S extends StateObject> extends OperatorBase implements ObjectState {
  readonly value: S;

  constructor(
    readonly uid: string,
    readonly fields: number,
    create: () => S,
  ) {
    super();
    this.value = create();
  }

  override get incremental(): boolean {
    return true;
  }

  override get size(): number {
    return 1;
  }

  override get objects(): ObjectState {
    return this;
  }

  entries(): { key: unknown; obj: StateObject }[] {
    return [{ key: null, obj: this.value }];
  }

  objectFor(): StateObject {
    return this.value;
  }

  snapshot(kind: "full" | "delta"): Snapshot {
    return encodeSnapshot(this.uid, kind, this.fields, false, [""].values(), [this.value].values(), 1);
  }

  restore(bytes: Buffer): void {
    decodeSnapshot(bytes, (_mk, _key, columns, i) => this.value.$loadFrom(columns, i));
  }
}
