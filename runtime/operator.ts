// What every stateful operator is to the driver, the checkpoint coordinator, savepoints and
// the admin endpoint, in the manner of Arroyo's operator trait: a few hooks, each with a
// default in OperatorBase, so an operator writes only what it has. Keyed and global state
// (state.ts) keep generated state objects; windows, timers, joins and dedup (time/) keep
// runtime structures, which they give as rows (RowOperator), and checkpoints and savepoints
// are written from those rows. Elements and watermarks reach operators from generated code,
// through the handles of runtime/api.ts.

import type { CountWindowHandle, CountWindowSpec, DedupHandle, EmitFn, JoinHandle, JoinSpec, TemporalJoinSpec, MapKey, StateObject, TimersHandle, WindowAggregateCode, WindowHandle, WindowSpec } from "./api.js";
import { decodeSnapshot, encodeSnapshot } from "./checkpoint/snapshot.js";
import { keyOf } from "./lib.js";

/** One snapshot file's contents, with the keys it holds and its size. */
export interface Snapshot {
  buffers: Buffer[];
  keys: number;
  bytes: number;
  /**
   * A snapshot made after the pause (the disk backend's full snapshot, read from a read
   * transaction of its store opened in the pause): the file's contents, keys and bytes come
   * from this; the fields above are then empty.
   */
  later?: () => Promise<{ buffers: Buffer[]; keys: number; bytes: number }>;
}

/**
 * State as rows: (map key, typed key, data) per key, and operator-wide values (a
 * watermark, counters).
 */
export interface RowState {
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown };
  importRows(rows: [MapKey, unknown, unknown][], meta: unknown): void;
  /** Savepoints: the name of the part these rows go to (`windows`, `timers`, …). */
  readonly partName: string;
  /** Savepoints: the map key of a typed key read back (the data may say more: a window). */
  savepointMapKey(key: unknown, data: unknown): MapKey;
}

/** State as the generated state objects: one per key, `fields` fields each. */
export interface ObjectState {
  readonly fields: number;
  /** Every key's state object, with its typed key (null on an unkeyed stream). */
  entries(): { key: unknown; obj: StateObject }[];
  /** The object to restore a key's state into (created fresh, counted as changed). */
  objectFor(key: unknown): StateObject;
}

export interface StatefulOperator {
  readonly uid: string;
  /** Whether snapshots may be deltas (false: every snapshot is full). */
  readonly incremental: boolean;
  /** Disk-backed state: its snapshots are deltas whatever the policy says (checkpoint/coordinator.ts). */
  readonly onDisk?: boolean;
  /** Keys held. */
  readonly size: number;
  /**
   * What its keys hold, where that is more than one thing per key: the elements a join or a
   * count window keeps, the versions of a temporal join (the admin endpoint shows it, so
   * that bounded state can be watched); null otherwise.
   */
  readonly held: number | null;
  /** Elements dropped as too late (reported when the job ends). */
  readonly lateDropped: number;
  /** The operator's event-time watermark (for the admin endpoint); null when it keeps none. */
  currentWatermark(): number | null;
  /**
   * Encodes all keys (full) or the changed ones (delta). With `deferred`, a checkpoint's
   * snapshot may leave the encoding to after the pause (Snapshot.later).
   */
  snapshot(kind: "full" | "delta", deferred?: boolean): Snapshot;
  /** Applies a snapshot file (a full one first, then deltas in order). */
  restore(bytes: Buffer): void;
  /** For savepoints: the state as rows, or as state objects (one of them). */
  readonly rows: RowState | null;
  readonly objects: ObjectState | null;
}

/** The defaults: no deltas, no keys or entries, no watermark, nothing late, nothing for savepoints. */
export abstract class OperatorBase implements StatefulOperator {
  abstract readonly uid: string;
  abstract snapshot(kind: "full" | "delta", deferred?: boolean): Snapshot;
  abstract restore(bytes: Buffer): void;

  get incremental(): boolean {
    return false;
  }

  get size(): number {
    return 0;
  }

  get held(): number | null {
    return null;
  }

  get lateDropped(): number {
    return 0;
  }

  currentWatermark(): number | null {
    return null;
  }

  get rows(): RowState | null {
    return null;
  }

  get objects(): ObjectState | null {
    return null;
  }
}

/** An operator whose state is a runtime structure: checkpoints and savepoints go through its rows. */
export abstract class RowOperator extends OperatorBase implements RowState {
  abstract readonly partName: string;
  abstract exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown };
  abstract importRows(rows: [MapKey, unknown, unknown][], meta: unknown): void;

  /** By default a row's map key is its typed key's (records by their JSON text). */
  savepointMapKey(key: unknown, _data?: unknown): MapKey {
    return plainMapKey(key, "");
  }

  override get rows(): RowState {
    return this;
  }

  /** A full snapshot file of the rows (rows are never written as deltas). */
  snapshot(): Snapshot {
    const { rows, meta } = this.exportRows();
    return encodeSnapshot(this.uid, "full", 1, true, rows.map((r) => r[0]).values(), rows.map((r) => new RowObject(r[1], r[2])).values(), rows.length, true, meta);
  }

  restore(bytes: Buffer): void {
    const rows: [MapKey, unknown, unknown][] = [];
    const index = decodeSnapshot(bytes, (mk, key, columns, i) => rows.push([mk, key, columns[0]![i]]));
    this.importRows(rows, index.meta);
  }
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

/** The map key of a typed key read back from a savepoint: records by their JSON text. */
export function plainMapKey(key: unknown, unkeyed: MapKey | undefined): MapKey {
  if (key === null || key === undefined) return unkeyed as MapKey;
  return typeof key === "object" ? keyOf(key) : (key as MapKey);
}

/**
 * The operators a bundle holds only when its job has them (the generated code asks the
 * JobContext for them by these names): each comes from its module in time/ (table.ts).
 */
export interface OperatorFactories {
  window?: <S extends StateObject>(uid: string, spec: WindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn, late: EmitFn | null) => WindowHandle & StatefulOperator;
  countWindow?: <S extends StateObject>(uid: string, spec: CountWindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn) => CountWindowHandle & StatefulOperator;
  timers?: (uid: string) => TimersHandle & StatefulOperator;
  join?: (uid: string, spec: JoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn) => JoinHandle & StatefulOperator;
  temporalJoin?: (uid: string, spec: TemporalJoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn) => JoinHandle & StatefulOperator;
  dedup?: (uid: string, within: number) => DedupHandle & StatefulOperator;
}
