// What `check` produces: the checked program, plain data that plan, emit, the manifest and
// the language server read. Stream types, resolved connectors and policies, and side tables
// keyed by AST node (expression types, what each name and call refers to, narrowed uses,
// record layouts). It records what later stages need (each stage's `key` binding, each
// aggregate function's state name, a pipeline's join) so they never re-derive it from spans.

import type * as A from "../ast.js";
import type { AggName, BuiltinName } from "../builtins.js";
import type { SinkConnector, SourceConnector } from "../connectors/index.js";
import type { ImportedFn } from "../imports.js";
import type { RecordType, Type } from "../types.js";
import type { CheckpointPolicy, RestartPolicy } from "./policies.js";
import type { StateManifest } from "../../runtime/api.js";

export type { SinkConnector, SourceConnector } from "../connectors/index.js";
export type { OnErrorPolicy } from "../connectors/records.js";
export type { CheckpointPolicy, RestartPolicy } from "./policies.js";

export type Binding =
  | { kind: "local"; id: number; name: string; type: Type; mutable: boolean; span: A.Span; role: "param" | "element" | "let" | "for" | "fnParam" }
  | { kind: "state"; id: number; name: string; type: Type; span: A.Span; decl: A.StateDecl }
  | { kind: "key"; id: number; name: "key"; type: Type };

export type LocalBinding = Extract<Binding, { kind: "local" }>;
export type StateBinding = Extract<Binding, { kind: "state" }>;
export type KeyBinding = Extract<Binding, { kind: "key" }>;

export type CallTarget =
  | { kind: "builtin"; name: BuiltinName; argTypes: Type[] }
  | { kind: "fn"; name: string }
  | { kind: "import"; name: string }
  | { kind: "agg"; index: number }
  | { kind: "push"; target: Binding };

export interface AggCall {
  fn: AggName;
  call: A.ExprOf<"Call">;
  /** The value argument (none for count, the second for top). */
  value: A.Expr | null;
  valueType: Type;
  /** top: how many, and the ranking expression. */
  n?: number;
  by?: A.Expr;
  byType?: Type;
  resultType: Type;
  /** The field of the aggregate's result record it is written in (null when the result is not a record literal). */
  field: string | null;
  /** The name its accumulator is kept under in savepoints (`flowc savepoint inspect`). */
  stateName: string;
}

export interface StreamType {
  elem: Type;
  /** The key type after key_by, null on a plain stream. */
  key: Type | null;
  /** Whether elements carry event time (a source with `event_time`, and what follows). */
  time: boolean;
  /** Set right after `window(…)`: the stream must go on with `aggregate`. */
  window: WindowInfo | null;
}

export interface WindowInfo {
  /** `count`: a count window (`count(n)`, `count(n, every: m)`), in arrival order, not event time. */
  kind: "tumbling" | "sliding" | "session" | "count";
  /** Size (tumbling, sliding) or gap (session), in ms; count: the elements per window. */
  size: number;
  /** sliding: the slide, in ms; count: fires every this many elements (the size, for `count(n)`). */
  every: number;
  allowedLateness: number;
  /** The stream of elements too late for every window (`late: name`). */
  late: string | null;
}

interface StageBase {
  stage: A.Stage;
  input: StreamType;
  output: StreamType;
  /** The `key` its expressions read (on a keyed stream), which generated code binds to the element's key. */
  key: KeyBinding | null;
}

export type StageInfo =
  | (StageBase & { kind: "filter" | "map" | "flat_map" | "key_by"; lambda: A.ExprOf<"Lambda">; param: LocalBinding })
  | (StageBase & { kind: "union"; others: string[] })
  | (StageBase & { kind: "window"; window: WindowInfo })
  | (StageBase & { kind: "aggregate"; lambda: A.ExprOf<"Lambda">; param: LocalBinding; aggs: AggCall[]; window: WindowInfo | null; windowBinding: LocalBinding | null })
  | (StageBase & { kind: "reduce"; lambda: A.ExprOf<"Lambda">; acc: LocalBinding; param: LocalBinding })
  | (StageBase & { kind: "process"; stage: A.ProcessStage; param: LocalBinding; states: StateBinding[]; timers: boolean; timerParam: LocalBinding | null; ttl: Map<string, number> })
  | (StageBase & { kind: "dedup"; lambda: A.ExprOf<"Lambda">; param: LocalBinding; within: number })
  /** A stage that was reported (unknown or not supported yet). */
  | (StageBase & { kind: "invalid" });

/** The stages that keep state (`stateful` in the stage table): plan gives each a uid. */
export type StatefulStage = Extract<StageInfo, { kind: "aggregate" | "reduce" | "process" | "dedup" }>;

export interface EventTimeInfo {
  lambda: A.ExprOf<"Lambda">;
  param: LocalBinding;
  /** The bounded out-of-orderness (ms): watermark = max(previous, ts - delay). */
  delay: number;
  idle: number | null;
}

export interface SourceInfo {
  name: string;
  decl: A.SourceDecl;
  type: Type;
  connector: SourceConnector | null;
  eventTime: EventTimeInfo | null;
}

export interface JoinInfo {
  join: A.Join;
  left: string;
  right: string;
  /** The aliases as `select` sees them: `T?` for an optional side (`b? as y`). */
  leftAlias: LocalBinding;
  rightAlias: LocalBinding;
  /** The aliases as `on` sees them: each side's element (the same bindings as above for a side that is not optional). */
  leftElem: LocalBinding;
  rightElem: LocalBinding;
  /** The equalities, each as (expression over the left side, expression over the right). */
  keys: { left: A.Expr; right: A.Expr }[];
  keyType: Type;
  /**
   * interval, window and unbounded joins (inner, or outer: `unmatched` says whose
   * unmatched elements come out with null for the other side, left and right); temporal
   * joins (`as of x`: `probe` is x's side, 0 left or 1 right; `eventTime` whether versions
   * are taken at the probe's event time, or the latest that arrived before it).
   */
  spec: {
    kind: "interval" | "window" | "unbounded" | "temporal";
    within: number;
    window: { kind: "tumbling" | "sliding" | "session"; size: number; every: number } | null;
    unmatched?: [boolean, boolean];
  };
  temporal: { probe: 0 | 1; eventTime: boolean } | null;
  output: StreamType;
}

export interface PipelineInfo {
  /** The stream the pipeline starts from (null when it starts with a join). */
  head: string | null;
  join: JoinInfo | null;
  stages: StageInfo[];
  output: StreamType;
}

export interface LetInfo extends PipelineInfo {
  name: string;
  decl: A.LetDecl;
}

export interface SinkInfo extends PipelineInfo {
  decl: A.SinkDecl;
  connector: SinkConnector | null;
}

export interface FnInfo {
  name: string;
  decl: A.FnDecl;
  params: LocalBinding[];
  result: Type;
}

export interface CheckedProgram {
  program: A.Program;
  job: string;
  types: Map<string, Type>;
  fns: Map<string, FnInfo>;
  /** Imported TypeScript functions, by name. */
  imports: Map<string, ImportedFn>;
  sources: SourceInfo[];
  /** In declaration order. */
  lets: LetInfo[];
  /** The same lets, each after the streams it reads (the order they were checked in): uids are claimed in this order. */
  letsByDependency: LetInfo[];
  sinks: SinkInfo[];
  checkpoint: CheckpointPolicy | null;
  restart: RestartPolicy | null;
  /** The `state` block's disk backend (null: memory), and its key groups (default 128). */
  state: StateManifest | null;
  keyGroups: number;
  /** Side tables, keyed by AST node. */
  exprTypes: Map<A.Expr, Type>;
  names: Map<A.Expr, Binding>;
  calls: Map<A.Expr, CallTarget>;
  /** Uses of a `T?` value that a null check has narrowed to `T`. */
  narrowed: Set<A.Expr>;
  /** Record literals built as a known record type (its field order, missing optionals as null). */
  recordLayouts: Map<A.Expr, RecordType>;
  /** `{}` literals that stand for an empty map. */
  emptyMaps: Set<A.Expr>;
  /** `let` statements and `for` loops: the local they declare. */
  declared: Map<A.Stmt, LocalBinding>;
  /** Assignments, `clear`, `delete`: the binding they change. */
  targets: Map<A.Stmt, Binding>;
}
