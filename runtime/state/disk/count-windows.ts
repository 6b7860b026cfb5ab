// Count windows on disk: the contract of runtime/time/count-window.ts (tumbling `count(n)`
// and sliding `count(n, every: m)`, Flink's countWindow) with each key's open window (the
// count since its last firing and the accumulator, or the ring of its last n elements) as
// one state object of a keyed table (keyed.ts: cache, write-back, checkpoints as deltas).
// Count windows have no timers: nothing else is kept. The elements held over all keys are
// counted as they come and go (checkpointed with the table), not by reading every key.
// Savepoints hold the memory backend's rows (part `windows`).

import type { CountWindowSpec, EmitFn, MapKey, StateObject } from "../../api.js";
import { OperatorBase, plainMapKey, type RowState, type Snapshot } from "../../operator.js";
import type { WindowAggregate } from "../../time/window.js";
import { DiskKeyedState } from "./keyed.js";
import type { DiskStore } from "./store.js";

/** A key's open window, as one state object of the keyed table. */
class KeyCount<S extends StateObject> implements StateObject {
  $dirty = false;
  /** Elements since the key's window last fired. */
  n = 0;
  /** Tumbling: the open window's accumulator. */
  acc: S | null = null;
  /** Sliding: the last `size` elements, a ring whose oldest element is at `head` once full. */
  ring: unknown[] | null = null;
  head = 0;
  constructor(
    readonly $key: unknown,
    private readonly agg: WindowAggregate<S>,
    private readonly tumbling: boolean,
  ) {}

  /** The memory backend's row: [n, the accumulator's fields…] (tumbling) or [n, the kept elements oldest first] (sliding). */
  row(): unknown[] {
    if (!this.tumbling) {
      const ring = this.ring ?? [];
      const len = ring.length;
      const kept: unknown[] = [];
      for (let i = 0; i < len; i++) kept.push(ring[(this.head + i) % len]);
      return [this.n, kept];
    }
    const cols: unknown[][] = Array.from({ length: this.agg.fields }, () => []);
    this.acc?.$saveTo(cols);
    return [this.n, ...cols.map((c) => c[0])];
  }

  load(row: readonly unknown[]): void {
    const [n, ...rest] = row as [number, ...unknown[]];
    this.n = n;
    this.head = 0;
    if (this.tumbling) {
      this.acc = this.agg.create(this.$key);
      this.acc.$loadFrom(
        rest.slice(0, this.agg.fields).map((v) => [v]),
        0,
      );
    } else this.ring = [...(rest[0] as unknown[])];
  }

  /** Elements this key holds. */
  get held(): number {
    return this.ring ? this.ring.length : this.n;
  }

  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.row());
  }

  $loadFrom(c: readonly unknown[][], i: number): void {
    this.load(c[0]![i] as unknown[]);
  }
}

export class DiskCountWindows<S extends StateObject> extends OperatorBase implements RowState {
  readonly partName = "windows";
  private readonly keys: DiskKeyedState<KeyCount<S>>;
  private readonly tumbling: boolean;
  /** Elements held over all keys. */
  private elements = 0;

  constructor(
    store: DiskStore,
    readonly uid: string,
    private readonly spec: CountWindowSpec,
    private readonly agg: WindowAggregate<S>,
    private readonly emit: EmitFn,
  ) {
    super();
    const tumbling = spec.every === spec.size;
    this.tumbling = tumbling;
    this.keys = new DiskKeyedState(store, uid, 1, (key) => new KeyCount<S>(key, agg, tumbling), true);
    this.keys.meta = () => ({ held: this.elements });
    this.keys.onMeta = (m) => {
      this.elements = (m as { held: number }).held;
    };
  }

  override get incremental(): boolean {
    return true;
  }

  get onDisk(): boolean {
    return true;
  }

  override get size(): number {
    return this.keys.size;
  }

  override get held(): number {
    return this.elements;
  }

  override get rows(): RowState {
    return this;
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    const k = this.keys.get(mk, key);
    const { size, every } = this.spec;
    if (this.tumbling) {
      if (k.acc === null) k.acc = this.agg.create(key);
      this.agg.add(k.acc, x, key);
      this.elements++;
      if (++k.n === size) {
        // The window is complete: the key holds nothing until its next element.
        this.elements -= size;
        this.keys.delete(mk);
        this.emit(this.agg.result(k.acc, key, 0, 0), key, ts);
      }
      return;
    }
    const ring = k.ring ?? (k.ring = []);
    if (ring.length < size) {
      ring.push(x);
      this.elements++;
    } else {
      ring[k.head] = x;
      k.head = k.head + 1 === size ? 0 : k.head + 1;
    }
    if (++k.n === every) {
      k.n = 0;
      const acc = this.agg.create(key);
      for (let i = 0, len = ring.length; i < len; i++) this.agg.add(acc, ring[(k.head + i) % len], key);
      this.emit(this.agg.result(acc, key, 0, 0), key, ts);
    }
  }

  snapshot(kind: "full" | "delta", deferred = false): Snapshot {
    return this.keys.snapshot(kind, deferred);
  }

  restore(bytes: Buffer): void {
    this.keys.restore(bytes);
  }

  savepointMapKey(key: unknown): MapKey {
    return plainMapKey(key, "");
  }

  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const rows = this.keys.entries().map(({ mk, key, obj }): [MapKey, unknown, unknown] => [mk, key, (obj as KeyCount<S>).row()]);
    return { rows, meta: null };
  }

  importRows(rows: [MapKey, unknown, unknown][]): void {
    for (const [mk, key, data] of rows) {
      const k = this.keys.get(mk, key);
      k.load(data as unknown[]);
      this.elements += k.held;
    }
  }
}
