// The contract between generated job modules and the runtime. Generated code imports only
// types from here (and helpers from ./lib.ts), so the compiler can type-check a generated
// module against this file alone, without Node's types. Keep it free of imports.

/** Plain-data type descriptions (the compiler's `TypeDesc`). */
export type TypeDesc =
  | { t: "int" | "float" | "bool" | "string" | "timestamp" | "duration" }
  | { t: "optional"; of: TypeDesc }
  | { t: "list"; of: TypeDesc }
  | { t: "map"; key: TypeDesc; value: TypeDesc }
  | { t: "record"; name?: string; fields: { name: string; type: TypeDesc }[] };

export interface OnErrorManifest {
  policy: "fail" | "skip" | "dead_letter";
  deadLetter: string | null;
}

/** A source's event time: its bounded out-of-orderness and idle timeout (ms). */
export interface EventTimeManifest {
  watermarkDelay: number;
  idle: number | null;
}

export type SourceManifest = (
  | { name: string; connector: "values"; type: TypeDesc }
  | { name: string; connector: "sequence"; type: TypeDesc; from: number; to: number }
  | { name: string; connector: "file"; type: TypeDesc; path: string; format: "jsonl" | "csv" | "text"; onError: OnErrorManifest; follow: boolean }
  | { name: string; connector: "stdin"; type: TypeDesc; format: "jsonl" | "csv" | "text"; onError: OnErrorManifest }
  | { name: string; connector: "nexmark"; type: TypeDesc; of: "event" | "person" | "auction" | "bid"; events: number; seed: number }
  | NatsSourceManifest
) & { eventTime: EventTimeManifest | null };

/** `nats(subject, stream: …)` as a source (LANGUAGE.md 9.1). */
export interface NatsSourceManifest {
  name: string;
  connector: "nats";
  type: TypeDesc;
  /** The subject filter (wildcards allowed). */
  subject: string;
  stream: string;
  format: "json" | "text";
  /** "end": read what the stream holds when the job starts, then end. */
  until: "end" | null;
  onError: OnErrorManifest;
  /** Create the stream when it is missing. */
  create: boolean;
  /** The server, as written in the connector (the job's --nats-url and NATS_URL win). */
  url: string | null;
  /** Record fields the connector fills from the message: its subject and its stream sequence. */
  subjectField: string | null;
  sequenceField: string | null;
  /** `partitions: P`: subjects whose last token is a partition number (LANGUAGE.md 10.1); absent: not partitioned. */
  partitions?: number;
}

export type SinkManifest =
  | { connector: "stdout"; format: "jsonl" | "csv"; columns: string[] | null }
  | { connector: "file"; path: string; format: "jsonl" | "csv"; columns: string[] | null }
  | NatsSinkManifest;

/** `nats(subject or x => subject, stream: …)` as a sink (LANGUAGE.md 9.1). */
export interface NatsSinkManifest {
  connector: "nats";
  /** The subject every message is published to; null: each record's own (generated code calls `writeTo`). */
  subject: string | null;
  stream: string;
  format: "json" | "text";
  create: boolean;
  url: string | null;
  columns: null;
}

export interface OperatorManifest {
  uid: string;
  kind: "aggregate" | "reduce" | "process" | "window" | "count_window" | "join" | "temporal_join" | "dedup";
  key: TypeDesc | null;
  /** What the operator keeps per key, by name and type (savepoints map state by these). */
  states: { name: string; type: TypeDesc }[];
  /** Windows, joins and dedup: their window or bound, as written (`tumbling(10s)`). */
  spec: string | null;
  /** Process blocks: whether it keeps timers (`timer at`, or a state ttl). */
  timers: boolean;
  /** Process blocks: the states with a ttl, in declaration order. */
  ttl: string[];
}

export interface CheckpointManifest {
  every: number;
  mode: "exactly_once" | "at_least_once";
  storage: string;
  retain: number;
  timeout: number;
  minPause: number;
  incremental: boolean;
}

export interface RestartManifest {
  strategy: "fixed_delay" | "exponential_delay" | "none";
  attempts: number;
  delay: number;
  maxDelay: number;
  multiplier: number;
}

/** The `state` block with `backend disk` (LANGUAGE.md 7.1); memory-backed jobs have none. */
export interface StateManifest {
  backend: "disk";
  /** Where the store lives, as written (resolved against the job's working folder). */
  dir: string;
  /** Keys whose state stays decoded in memory, per operator (LRU, write-back). */
  cache: number;
}

/** What the compiler knows about the job, as data: sources, sinks, operators and policies. */
export interface Manifest {
  formatVersion: 1;
  job: string;
  /** The .flow file the job was compiled from, as given to the compiler. */
  flowFile: string;
  compiler: string;
  sources: SourceManifest[];
  sinks: SinkManifest[];
  operators: OperatorManifest[];
  checkpoint: CheckpointManifest | null;
  restart: RestartManifest | null;
  /** The disk state backend (null: state on the heap). */
  state: StateManifest | null;
  /** hash(key) mod keyGroups: the unit of checkpoints and rescaling, fixed for the job's life (default 128). */
  keyGroups: number;
  /**
   * The edges that go through an exchange when the job runs as several instances (LANGUAGE.md
   * 10.1), in the order generated code registers them; absent when there are none.
   */
  exchanges?: ExchangeManifest[];
}

/** An exchange: records into operator `uid` (its input `input`), by key group, through a JetStream stream. */
export interface ExchangeManifest {
  /** The operator it feeds (its stream is named after it); into a join `<uid>_left` or `<uid>_right`: each side has its own stream. */
  uid: string;
  input: number;
  /** Keyed: by the key's group; unkeyed: every record to instance 0. */
  keyed: boolean;
  /** The sources and exchanges (by index) its records come from on an instance. */
  sources: number[];
  upstream: number[];
  /**
   * JSON; V8's serialization when values hold maps; "floats" when they hold floats: JSON,
   * except a message with a number JSON cannot write (NaN, ±Infinity, -0), which goes as
   * V8's serialization. A reader tells the two apart by the first character.
   */
  codec: "json" | "v8" | "floats";
  /** Keyed as its partitioned source declares (`partition_key:`): no exchange when N divides `partitions`. */
  partitionedBy?: { source: number; partitions: number };
}

/** What generated code hands records to when the job runs as several instances. */
export interface ExchangeHandle {
  send(value: unknown, key: unknown, ts: number): void;
  watermark(w: number): void;
  idle(on: boolean): void;
}

/** Keys of keyed state: primitives as they are, records encoded as strings. */
export type MapKey = string | number | boolean;

/**
 * What every generated state class provides: a flag set when the key's state may have
 * changed since the last checkpoint, and column-wise save and load of its fields.
 */
export interface StateObject {
  $dirty: boolean;
  /** Pushes each state field onto its column. */
  $saveTo(columns: unknown[][]): void;
  /** Sets each state field from row `index` of the columns. */
  $loadFrom(columns: readonly unknown[][], index: number): void;
}

/** The state objects of one keyed operator: one object per key. */
export interface KeyedState<S> {
  /** The state object of a key, created on first use with the typed key. */
  get(mapKey: MapKey, key: unknown): S;
  /** Frees a key's state (all of it expired). */
  delete(mapKey: MapKey): void;
  readonly size: number;
}

export interface WindowSpec {
  kind: "tumbling" | "sliding" | "session";
  size: number;
  every: number;
  allowedLateness: number;
}

/** An aggregate's generated code, used per window. */
export interface WindowAggregateCode<S> {
  create(key: unknown): S;
  add(s: S, x: never, key: never): void;
  result(s: S, key: never, start: number, end: number): unknown;
  fields: number;
  /**
   * Session windows whose aggregate functions do not depend on the order of elements
   * (count, min, max, count_distinct, and sum and avg of ints): adds `from`'s aggregate into
   * `into`, so that merged sessions need not keep their elements.
   */
  merge?(into: S, from: S): void;
}

/** A count window: `size` elements per window, firing every `every` elements (per key, in arrival order). */
export interface CountWindowSpec {
  size: number;
  every: number;
}

export interface CountWindowHandle {
  element(x: unknown, mapKey: MapKey, key: unknown, ts: number): void;
}

export interface WindowHandle {
  element(x: unknown, mapKey: MapKey, key: unknown, ts: number): void;
  watermark(w: number): void;
}

export interface TimersHandle {
  /** kind 0: a user timer; 1: a state ttl check. */
  set(kind: number, mapKey: MapKey, key: unknown, time: number): void;
  hasTimers(mapKey: MapKey): boolean;
  watermark(w: number): void;
  /** The operator's watermark: the event-time clock of its state ttl. */
  readonly watermarkValue: number;
  onTimer: (kind: number, mapKey: MapKey, key: unknown, time: number) => void;
}

export interface JoinSpec {
  kind: "interval" | "window" | "unbounded";
  within: number;
  window: { kind: "tumbling" | "sliding" | "session"; size: number; every: number } | null;
  /** Outer joins: whether the left and the right side's unmatched elements come out, with null for the other side. */
  unmatched?: [boolean, boolean];
}

/** A temporal join (`as of x`). */
export interface TemporalJoinSpec {
  /** The probe side (0 left, 1 right): each of its elements looks up the other side's version. */
  probe: number;
  /** Versions current at the probe's event time (both sides have event time), or the latest that arrived before it. */
  eventTime: boolean;
  /** The versioned side is optional: a probe without a version comes out with null. */
  unmatched: boolean;
}

export interface JoinHandle {
  element(side: number, x: unknown, mapKey: MapKey, key: unknown, ts: number): void;
  /** Whether the join's watermark (the smaller of its inputs') advanced. */
  watermark(w: number, side: number): boolean;
  setIdle(side: number, on: boolean): boolean;
  allIdle(): boolean;
  readonly watermarkValue: number;
}

export interface DedupHandle {
  keep(mapKey: MapKey, id: unknown, ts: number): boolean;
  watermark(w: number): void;
}

export type EmitFn = (value: unknown, key: unknown, ts: number) => void;

export interface SinkWriter {
  /** Writes one line (without its line break). */
  write(line: string): void;
}

/** A sink whose records each go to a place of their own (a NATS subject per record). */
export interface RoutedSinkWriter extends SinkWriter {
  /** Writes one record's text to `to` (a subject). */
  writeTo(to: string, line: string): void;
}

export interface SourceBinding<T> {
  /** Pushes one batch through the job graph, synchronously (watermarks element by element). */
  push(batch: readonly T[]): void;
  /**
   * jsonl sources: a fast converter from a parsed line to a record of the source's type, or
   * undefined to leave it to the generic converter (which also reports what is wrong).
   */
  fromJson?(raw: unknown): T | undefined;
  /** The elements of a `values([…])` source. */
  values?: readonly T[];
  /** Event time: an element's time. */
  time?(x: T): number;
  /** Jobs with event time: the source's watermark, setting it (restore), its end (+infinity). */
  watermark?(): number;
  setWatermark?(w: number): void;
  end?(): void;
  /** `idle d`: while idle, the source does not hold the watermark of what it feeds back. */
  idle?(on: boolean): void;
}

export interface BuiltJob {
  sources: SourceBinding<unknown>[];
}

export interface JobContext {
  /** Records into and out of each stateful operator: [in, out] per operator, in manifest order. */
  readonly counts: Float64Array;
  /** The per-key state of an operator whose state class has `fields` fields. */
  keyedState<S extends StateObject>(uid: string, fields: number, create: (key: unknown) => S): KeyedState<S>;
  /** The state of an operator on a plain (unkeyed) stream: one object. */
  globalState<S extends StateObject>(uid: string, fields: number, create: () => S): S;
  sink(index: number): SinkWriter;
  /** A sink that writes each record to a place the job computes (a NATS subject per record). */
  routedSink(index: number): RoutedSinkWriter;
  /** A windowed aggregate. */
  window<S extends StateObject>(uid: string, spec: WindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn, late: EmitFn | null): WindowHandle;
  /** A count window's aggregate. */
  countWindow<S extends StateObject>(uid: string, spec: CountWindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn): CountWindowHandle;
  /** Event-time timers (and state ttl) of a process block. */
  timers(uid: string): TimersHandle;
  join(uid: string, spec: JoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn): JoinHandle;
  temporalJoin(uid: string, spec: TemporalJoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn): JoinHandle;
  dedup(uid: string, within: number): DedupHandle;
  /**
   * Exchange `index` of the manifest: null when the job runs as one instance (records go
   * straight on); else the writer records are handed to. `entry`, `wm` and `status` are what
   * the exchange's reader calls on the instance that owns a record's key group.
   */
  exchange(index: number, entry: EmitFn, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null): ExchangeHandle | null;
}

/** The shape of a generated job module. */
export interface JobModule {
  manifest: Manifest;
  build(ctx: JobContext): BuiltJob;
}
