// The JobContext the generated `build(ctx)` is given: it creates each stateful operator's
// state and hands out the sinks. Windows, timers, joins and dedup come from the factories
// the bundle holds (only those its job uses: runtime/time/table.ts); a disk-backed job's
// run (driver/run.ts) puts the disk backend's in their place.

import type { KeyedState, ExchangeHandle, CountWindowHandle, CountWindowSpec, DedupHandle, EmitFn, JobContext, RoutedSinkWriter, JoinHandle, JoinSpec, TemporalJoinSpec, Manifest, StateObject, TimersHandle, WindowAggregateCode, WindowHandle, WindowSpec } from "../api.js";
import type { Sink } from "../connectors/contract.js";
import type { OperatorFactories, StatefulOperator } from "../operator.js";
import { setKeyGroups } from "../checkpoint/snapshot.js";
import { GlobalStateStore, KeyedStateStore } from "../state.js";
import type { StateBackendRun } from "../state/disk/backend.js";

export class Context implements JobContext {
  /** Every stateful operator, in the order the generated code created them. */
  readonly operators: StatefulOperator[] = [];
  readonly counts: Float64Array;

  constructor(
    private readonly manifest: Manifest,
    private readonly sinks: Sink[],
    private readonly factories: OperatorFactories,
    /** The disk state backend's run, when the job keeps its keyed state on disk. */
    private readonly disk: StateBackendRun | null = null,
  ) {
    this.counts = new Float64Array(manifest.operators.length * 2);
    setKeyGroups(manifest.keyGroups);
  }

  keyedState<S extends StateObject>(uid: string, fields: number, create: (key: unknown) => S): KeyedState<S> {
    const typedKeys = this.manifest.operators.find((o) => o.uid === uid)?.key?.t === "record";
    if (this.disk) return this.add(this.disk.keyedState(uid, fields, create, typedKeys));
    return this.add(new KeyedStateStore<S>(uid, fields, create, typedKeys, this.manifest.checkpoint?.incremental === true));
  }

  globalState<S extends StateObject>(uid: string, fields: number, create: () => S): S {
    return this.add(new GlobalStateStore<S>(uid, fields, create)).value;
  }

  sink(index: number): Sink {
    const s = this.sinks[index];
    if (!s) throw new Error(`internal: no sink ${index}`);
    return s;
  }

  routedSink(index: number): RoutedSinkWriter {
    const s = this.sink(index) as Sink & Partial<RoutedSinkWriter>;
    if (typeof s.writeTo !== "function") throw new Error(`internal: sink ${index} does not take a place per record`);
    return s as Sink & RoutedSinkWriter;
  }

  window<S extends StateObject>(uid: string, spec: WindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn, late: EmitFn | null): WindowHandle {
    return this.add(this.factory("window")(uid, spec, agg, emit, late));
  }

  countWindow<S extends StateObject>(uid: string, spec: CountWindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn): CountWindowHandle {
    return this.add(this.factory("countWindow")(uid, spec, agg, emit));
  }

  timers(uid: string): TimersHandle {
    if (this.disk) return this.add(this.disk.timers(uid, this.manifest.operators.find((o) => o.uid === uid)?.key?.t === "record"));
    return this.add(this.factory("timers")(uid));
  }

  join(uid: string, spec: JoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn): JoinHandle {
    return this.add(this.factory("join")(uid, spec, select, emit));
  }

  temporalJoin(uid: string, spec: TemporalJoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn): JoinHandle {
    return this.add(this.factory("temporalJoin")(uid, spec, select, emit));
  }

  dedup(uid: string, within: number): DedupHandle {
    return this.add(this.factory("dedup")(uid, within));
  }

  /** Several instances: makes each exchange's writer and registers its reader's targets (driver/instances.ts). */
  exchanges: ((index: number, entry: EmitFn, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null) => ExchangeHandle | null) | null = null;

  exchange(index: number, entry: EmitFn, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null): ExchangeHandle | null {
    return this.exchanges ? this.exchanges(index, entry, wm, status) : null;
  }

  private add<T extends StatefulOperator>(op: T): T {
    this.operators.push(op);
    return op;
  }

  private factory<K extends keyof OperatorFactories>(name: K): NonNullable<OperatorFactories[K]> {
    const f = this.factories[name];
    // compiler/bundle.ts chooses them from the manifest.
    if (!f) throw new Error(`internal: no ${name} operator in this bundle`);
    return f;
  }
}
