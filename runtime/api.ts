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

export type SourceManifest =
  | { name: string; connector: "values"; type: TypeDesc }
  | { name: string; connector: "sequence"; type: TypeDesc; from: number; to: number }
  | { name: string; connector: "file"; type: TypeDesc; path: string; format: "jsonl" | "csv" | "text"; onError: OnErrorManifest }
  | { name: string; connector: "stdin"; type: TypeDesc; format: "jsonl" | "csv" | "text"; onError: OnErrorManifest };

export type SinkManifest =
  | { connector: "stdout"; format: "jsonl" | "csv"; columns: string[] | null }
  | { connector: "file"; path: string; format: "jsonl" | "csv"; columns: string[] | null };

export interface OperatorManifest {
  uid: string;
  kind: "aggregate" | "reduce" | "process";
  key: TypeDesc | null;
  states: { name: string; type: TypeDesc }[];
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
  readonly size: number;
}

export interface SinkWriter {
  /** Writes one line (without its line break). */
  write(line: string): void;
}

export interface SourceBinding<T> {
  /** Pushes one batch through the job graph, synchronously. */
  push(batch: readonly T[]): void;
  /** The elements of a `values([…])` source. */
  values?: readonly T[];
}

export interface BuiltJob {
  sources: SourceBinding<unknown>[];
}

export interface JobContext {
  /** The per-key state of an operator whose state class has `fields` fields. */
  keyedState<S extends StateObject>(uid: string, fields: number, create: (key: unknown) => S): KeyedState<S>;
  /** The state of an operator on a plain (unkeyed) stream: one object. */
  globalState<S extends StateObject>(uid: string, fields: number, create: () => S): S;
  sink(index: number): SinkWriter;
}

/** The shape of a generated job module. */
export interface JobModule {
  manifest: Manifest;
  build(ctx: JobContext): BuiltJob;
}
