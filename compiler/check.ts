// check: resolves names and types over the AST and enforces the language's rules.
// It never throws for a user's mistake: it reports a diagnostic, gives the bad part the
// `error` type (which fits everywhere, so one mistake is reported once) and carries on.
// Its result is plain data (side tables keyed by AST node) that `plan` reads.

import { dirname, resolve } from "node:path";
import * as A from "./ast.js";
import { AGG_ARITY, BUILTINS, NUMERIC_BUILTINS, SIGNATURES, isAggregate, isBuiltin, resolveBuiltin, type AggName, type BuiltinName } from "./builtins.js";
import {
  CHECKPOINT_OPTIONS, RESTART_OPTIONS, SINKS, SOURCES, defaultCheckpoint, defaultRestart,
  type ArgSpec, type CheckpointPolicy, type ConnectorSpec, type OptionKind, type RestartPolicy,
} from "./connectors.js";
import { checkPathCollisions } from "./collisions.js";
import type { Diagnostics } from "./diagnostics/diagnostic.js";
import { readImports, signatureText, type ImportedFn } from "./imports.js";
import { NEXMARK_SOURCES, PRELUDE } from "./nexmark.js";
import { closest, didYouMean, unknownFunctionHint } from "./suggest.js";
import {
  PRIMITIVES, T, assignable, isComparable, isKeyType, isNumeric, isOptional, isPrim, join, recordShape,
  sameType, stripOptional, typeToString, type PrimitiveName, type RecordType, type Type,
} from "./types.js";

// ---- what `check` produces ---------------------------------------------------------------

let nextBindingId = 1;

export type Binding =
  | { kind: "local"; id: number; name: string; type: Type; mutable: boolean; span: A.Span; role: "param" | "element" | "let" | "for" | "fnParam" }
  | { kind: "state"; id: number; name: string; type: Type; span: A.Span; decl: A.StateDecl }
  | { kind: "key"; id: number; name: "key"; type: Type };

export type LocalBinding = Extract<Binding, { kind: "local" }>;
export type StateBinding = Extract<Binding, { kind: "state" }>;

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
  kind: "tumbling" | "sliding" | "session";
  /** Size (tumbling, sliding) or gap (session), in ms. */
  size: number;
  /** sliding: the slide, in ms. */
  every: number;
  allowedLateness: number;
  /** The stream of elements too late for every window (`late: name`). */
  late: string | null;
}

const ERROR_STREAM: StreamType = { elem: T.error, key: null, time: true, window: null };

interface StageBase {
  stage: A.Stage;
  input: StreamType;
  output: StreamType;
}

export type StageInfo =
  | (StageBase & { kind: "filter" | "map" | "flat_map" | "key_by"; lambda: A.ExprOf<"Lambda">; param: LocalBinding })
  | (StageBase & { kind: "union"; others: string[] })
  | (StageBase & { kind: "window"; window: WindowInfo })
  | (StageBase & { kind: "aggregate"; uid: string; lambda: A.ExprOf<"Lambda">; param: LocalBinding; aggs: AggCall[]; window: WindowInfo | null; windowBinding: LocalBinding | null })
  | (StageBase & { kind: "reduce"; uid: string; lambda: A.ExprOf<"Lambda">; acc: LocalBinding; param: LocalBinding })
  | (StageBase & { kind: "process"; uid: string; stage: A.ProcessStage; param: LocalBinding; states: StateBinding[]; timers: boolean; timerParam: LocalBinding | null; ttl: Map<string, number> })
  | (StageBase & { kind: "dedup"; uid: string; lambda: A.ExprOf<"Lambda">; param: LocalBinding; within: number })
  /** A stage that was reported (unknown or not supported yet). */
  | (StageBase & { kind: "invalid" });

export type StatefulStage = Extract<StageInfo, { uid: string }>;

export interface OnErrorPolicy {
  policy: "fail" | "skip" | "dead_letter";
  deadLetter: string | null;
}

export type SourceConnector =
  | { kind: "values"; items: A.Expr[] }
  | { kind: "sequence"; from: number; to: number }
  | { kind: "file"; path: string; format: "jsonl" | "csv" | "text"; onError: OnErrorPolicy; follow: boolean }
  | { kind: "stdin"; format: "jsonl" | "csv" | "text"; onError: OnErrorPolicy }
  | { kind: "nexmark"; of: "event" | "person" | "auction" | "bid"; events: number; seed: number };

export type SinkConnector = { kind: "stdout"; format: "jsonl" | "csv" } | { kind: "file"; path: string; format: "jsonl" | "csv" };

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
  uid: string;
  left: string;
  right: string;
  leftAlias: LocalBinding;
  rightAlias: LocalBinding;
  /** The equalities, each as (expression over the left side, expression over the right). */
  keys: { left: A.Expr; right: A.Expr }[];
  keyType: Type;
  spec: { kind: "interval" | "window" | "unbounded"; within: number; window: { kind: "tumbling" | "sliding" | "session"; size: number; every: number } | null };
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
  lets: LetInfo[];
  sinks: SinkInfo[];
  checkpoint: CheckpointPolicy | null;
  restart: RestartPolicy | null;
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

// ---- scopes ------------------------------------------------------------------------------

type AggMode = "none" | "top" | "arg";

interface ProcessCtx {
  emits: { type: Type; span: A.Span }[];
  /** Whether the block's input has event time (timers need it). */
  time: boolean;
}

class Scope {
  readonly vars = new Map<string, Binding>();
  /** Narrowed types by path ("12" or "12.field"); null = narrowing undone here. */
  readonly narrow = new Map<string, Type | null>();
  aggMode: AggMode;
  aggCalls: AggCall[] | null;
  aggElement: Binding | null;
  process: ProcessCtx | null;

  constructor(readonly parent: Scope | null) {
    this.aggMode = parent?.aggMode ?? "none";
    this.aggCalls = parent?.aggCalls ?? null;
    this.aggElement = parent?.aggElement ?? null;
    this.process = parent?.process ?? null;
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
    }
    return undefined;
  }

  narrowed(path: string): Type | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.narrow.has(path)) return s.narrow.get(path) ?? undefined;
    }
    return undefined;
  }

  visibleNames(): string[] {
    const names: string[] = [];
    for (let s: Scope | null = this; s; s = s.parent) names.push(...s.vars.keys());
    return names;
  }

  child(): Scope {
    return new Scope(this);
  }
}

const STAGES = ["filter", "map", "flat_map", "key_by", "window", "aggregate", "reduce", "process", "union", "dedup"];
const STATEFUL_KINDS = new Set(["aggregate", "reduce", "process", "dedup"]);

type TopDecl =
  | { kind: "late"; name: A.Ident; owner: A.LetDecl | A.SinkDecl }
  | { kind: "type"; decl: A.TypeDecl }
  | { kind: "fn"; decl: A.FnDecl }
  | { kind: "import"; decl: A.ImportDecl; name: A.Ident }
  | { kind: "source"; decl: A.SourceDecl }
  | { kind: "let"; decl: A.LetDecl };

function declName(d: TopDecl): A.Ident {
  return d.kind === "import" || d.kind === "late" ? d.name : d.decl.name;
}

/** `window` inside a windowed aggregate. */
const WINDOW_TYPE: Type = { kind: "record", name: "window", fields: [{ name: "start", type: T.timestamp }, { name: "end", type: T.timestamp }] };

/** The `late: name` streams a pipeline declares. */
function lateStreams(p: A.Pipeline): A.Ident[] {
  const out: A.Ident[] = [];
  for (const st of p.stages) {
    if (st.kind !== "CallStage" || st.name.name !== "window") continue;
    for (const a of st.args) {
      if (a.name?.name === "late" && a.value.kind === "Name") out.push({ kind: "Ident", name: a.value.name, span: a.value.span });
    }
  }
  return out;
}

// ---- the checker -------------------------------------------------------------------------

export interface CheckOptions {
  /** The folder `import` paths are resolved against (default: the .flow file's folder). */
  baseDir?: string;
}

export function check(program: A.Program, diags: Diagnostics, opts: CheckOptions = {}): CheckedProgram {
  return new Checker(program, diags, opts.baseDir ?? dirname(resolve(program.span.file))).run();
}

class Checker {
  private readonly top = new Map<string, TopDecl>();
  private readonly typeCache = new Map<string, Type | "resolving">();
  private readonly streamCache = new Map<string, StreamType | "resolving">();
  private readonly fnCalls = new Map<string, Set<string>>();
  /** Streams of late elements declared by `window(…, late: name)`, once their window is checked. */
  private readonly lateTypes = new Map<string, StreamType>();
  private readonly sinkInfos = new Map<A.SinkDecl, SinkInfo>();
  /** The join checked last (checkPipeline picks it up). */
  private lastJoin: JoinInfo | null = null;
  private currentFn: string | null = null;
  private readonly out: CheckedProgram;

  constructor(
    private readonly program: A.Program,
    private readonly diags: Diagnostics,
    private readonly baseDir: string,
  ) {
    this.out = {
      program,
      job: program.job.name,
      types: new Map(),
      fns: new Map(),
      imports: new Map(),
      sources: [],
      lets: [],
      sinks: [],
      checkpoint: null,
      restart: null,
      exprTypes: new Map(),
      names: new Map(),
      calls: new Map(),
      narrowed: new Set(),
      recordLayouts: new Map(),
      emptyMaps: new Set(),
      declared: new Map(),
      targets: new Map(),
    };
  }

  /** Whether `decl` is the declaration that owns its name (not a duplicate). */
  private owns(name: string, decl: object): boolean {
    const d = this.top.get(name);
    return d !== undefined && d.kind !== "late" && d.decl === decl;
  }

  run(): CheckedProgram {
    this.collectDeclarations();
    for (const [name, d] of this.top) if (d.kind === "type") this.out.types.set(name, this.namedType(name, d.decl.name.span));
    for (const d of this.program.decls) {
      if (d.kind === "FnDecl" && this.owns(d.name.name, d)) this.checkFn(d);
      if (d.kind === "Import") {
        for (const f of readImports(d, this.baseDir, this.diags)) {
          if (this.top.get(f.name)?.kind === "import" && (this.top.get(f.name) as { name: A.Ident }).name === f.ident) this.out.imports.set(f.name, f);
        }
      }
    }
    this.checkRecursion();
    for (const d of this.program.decls) if (d.kind === "Source" && this.owns(d.name.name, d)) this.checkSource(d);
    for (const d of this.program.decls) if (d.kind === "Let" && this.owns(d.name.name, d)) this.streamOf(d.name.name, d.name.span);
    for (const d of this.program.decls) if (d.kind === "Sink") this.checkSink(d);
    checkPathCollisions(this.out, this.diags);
    this.checkPolicies();
    this.assignUids();
    // Lets in declaration order (streamOf may have visited them in dependency order).
    this.out.lets.sort((a, b) => a.decl.span.start - b.decl.span.start);
    return this.out;
  }

  // ---- declarations ----------------------------------------------------------------------

  private collectDeclarations(): void {
    for (const d of this.program.decls) {
      const entries: TopDecl[] = [];
      switch (d.kind) {
        case "TypeDecl":
          entries.push({ kind: "type", decl: d });
          break;
        case "FnDecl":
          entries.push({ kind: "fn", decl: d });
          break;
        case "Import":
          for (const name of d.names) entries.push({ kind: "import", decl: d, name });
          break;
        case "Source":
          entries.push({ kind: "source", decl: d });
          break;
        case "Let":
          entries.push({ kind: "let", decl: d });
          for (const name of lateStreams(d.pipeline)) entries.push({ kind: "late", name, owner: d });
          break;
        case "Sink":
          for (const name of lateStreams(d.pipeline)) entries.push({ kind: "late", name, owner: d });
          break;
        case "Checkpoint":
        case "Restart":
          break;
        default:
          A.assertNever(d, "declaration");
      }
      for (const e of entries) {
        const id = declName(e);
        const prev = this.top.get(id.name);
        if (prev) {
          this.diags.error("FLOW2002", id.span, `\`${id.name}\` is declared twice`, {
            label: "declared again here",
            notes: [{ message: `\`${id.name}\` is first declared here`, span: declName(prev).span }],
            hints: ["names are unique per file: rename one of them"],
          });
          continue;
        }
        if (e.kind === "type" && (PRIMITIVES as readonly string[]).includes(id.name)) {
          this.diags.error("FLOW2002", id.span, `\`${id.name}\` is a built-in type and cannot be redefined`);
          continue;
        }
        if (e.kind === "fn" && (isBuiltin(id.name) || isAggregate(id.name))) {
          this.diags.error("FLOW2002", id.span, `\`${id.name}\` is a built-in function and cannot be redefined`, { hints: ["give the helper another name"] });
          continue;
        }
        this.top.set(id.name, e);
      }
    }
  }

  private namesOfKind(...kinds: TopDecl["kind"][]): string[] {
    return [...this.top].filter(([, d]) => kinds.includes(d.kind)).map(([n]) => n);
  }

  // ---- types -----------------------------------------------------------------------------

  private namedType(name: string, useSpan: A.Span): Type {
    const cached = this.typeCache.get(name);
    if (cached === "resolving") {
      this.diags.error("FLOW2008", useSpan, `type \`${name}\` refers to itself`, { hints: ["recursive types are not supported"] });
      return T.error;
    }
    if (cached) return cached;
    const d = this.top.get(name);
    if (d?.kind !== "type") return T.error;
    this.typeCache.set(name, "resolving");
    let t = this.resolveType(d.decl.type);
    if (t.kind === "record") t = { ...t, name };
    this.typeCache.set(name, t);
    return t;
  }

  resolveType(te: A.TypeExpr): Type {
    switch (te.kind) {
      case "NamedType": {
        const n = te.name.name;
        if ((PRIMITIVES as readonly string[]).includes(n)) return { kind: "prim", name: n as PrimitiveName };
        const d = this.top.get(n);
        if (d?.kind === "type") return this.namedType(n, te.span);
        // The Nexmark prelude, unless the file declares a type of that name.
        const prelude = d ? undefined : PRELUDE.get(n);
        if (prelude) {
          this.out.types.set(n, prelude);
          for (const f of prelude.fields) {
            const inner = f.type.kind === "optional" ? f.type.inner : f.type;
            if (inner.kind === "record" && inner.name) this.out.types.set(inner.name, inner);
          }
          return prelude;
        }
        const lower = n.toLowerCase();
        const hint =
          (PRIMITIVES as readonly string[]).includes(lower) ? `did you mean \`${lower}\`?`
          : n === "number" || n === "double" ? "numbers are `int` or `float`"
          : n === "boolean" ? "did you mean `bool`?"
          : n === "list" || n === "map" ? `\`${n}\` needs type arguments: ${n === "list" ? "list<T>" : "map<K, V>"}`
          : didYouMean(n, [...PRIMITIVES, ...this.namesOfKind("type")]);
        this.diags.error("FLOW2003", te.span, d ? `\`${n}\` is not a type` : `unknown type \`${n}\``, {
          hints: [hint ?? (d ? undefined : "declare it with `type " + n + " = { … }`")],
        });
        return T.error;
      }
      case "OptionalType":
        return T.optional(this.resolveType(te.inner));
      case "ListType":
        return T.list(this.resolveType(te.elem));
      case "MapType": {
        const key = this.resolveType(te.key);
        if (key.kind !== "prim" && key.kind !== "error") {
          this.diags.error("FLOW3011", te.key.span, `map keys must be primitive, found ${typeToString(key)}`, {
            hints: ["use int, float, bool, string, timestamp or duration as the key type"],
          });
        }
        return T.map(key, this.resolveType(te.value));
      }
      case "RecordType": {
        const fields: RecordType["fields"] = [];
        const seen = new Map<string, A.Span>();
        for (const f of te.fields) {
          const prev = seen.get(f.name.name);
          if (prev) {
            this.diags.error("FLOW2002", f.name.span, `field \`${f.name.name}\` is declared twice`, { notes: [{ message: "first declared here", span: prev }] });
            continue;
          }
          seen.set(f.name.name, f.name.span);
          fields.push({ name: f.name.name, type: this.resolveType(f.type) });
        }
        return { kind: "record", fields };
      }
      default:
        return A.assertNever(te, "type");
    }
  }

  // ---- helper functions ------------------------------------------------------------------

  private checkFn(d: A.FnDecl): void {
    const scope = new Scope(null);
    const params: LocalBinding[] = [];
    for (const p of d.params) {
      if (scope.vars.has(p.name.name)) {
        this.diags.error("FLOW2002", p.name.span, `parameter \`${p.name.name}\` is declared twice`);
        continue;
      }
      const b = this.local(p.name, this.resolveType(p.type), "fnParam", false);
      scope.vars.set(p.name.name, b);
      params.push(b);
    }
    const result = this.resolveType(d.result);
    // Record the signature before the body, so calls from other helpers type-check.
    this.out.fns.set(d.name.name, { name: d.name.name, decl: d, params, result });
    this.currentFn = d.name.name;
    this.fnCalls.set(d.name.name, new Set());
    this.expect(d.body, scope, result, `the result of \`${d.name.name}\``);
    this.currentFn = null;
  }

  private checkRecursion(): void {
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, path: string[]): void => {
      if (state.get(name) === "done") return;
      if (state.get(name) === "visiting") {
        const cycle = path.slice(path.indexOf(name));
        const d = this.out.fns.get(name)!.decl;
        this.diags.error("FLOW2009", d.name.span, cycle.length === 1 ? `\`${name}\` calls itself` : `\`${name}\` calls itself through ${cycle.slice(1).map((n) => `\`${n}\``).join(" → ")}`, {
          hints: ["`fn` helpers are not recursive: write the computation without recursion"],
        });
        return;
      }
      state.set(name, "visiting");
      for (const callee of this.fnCalls.get(name) ?? []) visit(callee, [...path, name]);
      state.set(name, "done");
    };
    for (const name of this.fnCalls.keys()) visit(name, []);
  }

  // ---- sources and sinks -----------------------------------------------------------------

  private checkSource(d: A.SourceDecl): void {
    const type = this.resolveType(d.type);
    const info: SourceInfo = { name: d.name.name, decl: d, type, connector: null, eventTime: null };
    this.out.sources.push(info);
    this.streamCache.set(d.name.name, { elem: type, key: null, time: d.eventTime !== null, window: null });
    if (d.eventTime) info.eventTime = this.checkEventTime(d.eventTime, type);
    const spec = this.connectorSpec(d.connector, "source");
    if (!spec) return;
    const args = this.connectorArgs(d.connector, spec);
    if (!args) return;
    switch (spec.name) {
      case "values": {
        const list = args.get("elements")!.value;
        if (list.kind !== "List") {
          this.diags.error("FLOW4008", list.span, "values(…) takes a list literal such as [1, 2, 3]");
          return;
        }
        for (const item of list.items) this.expect(item, new Scope(null), type, `an element of \`${d.name.name}\``);
        info.connector = { kind: "values", items: list.items };
        return;
      }
      case "sequence": {
        if (!assignable(T.int, type) || type.kind !== "prim") {
          this.diags.error("FLOW3001", d.type.span, `sequence(…) produces int, but \`${d.name.name}\` is declared as ${typeToString(type)}`, { hints: [`declare it as \`source ${d.name.name}: int = sequence(…)\``] });
        }
        const from = args.get("from")!;
        const to = args.get("to")!;
        info.connector = { kind: "sequence", from: from.lit as number, to: to.lit as number };
        return;
      }
      case "nexmark":
      case "nexmark_persons":
      case "nexmark_auctions":
      case "nexmark_bids": {
        const made = NEXMARK_SOURCES[spec.name];
        const produced = PRELUDE.get(made.type)!;
        if (type.kind !== "error" && !sameType(type, produced)) {
          this.diags.error("FLOW3001", d.type.span, `${spec.name}(…) produces ${made.type} = ${recordShape(produced)}, but \`${d.name.name}\` is declared as ${typeToString(type)}`, {
            hints: [`declare it as \`source ${d.name.name}: ${made.type} = ${spec.name}(…)\` (the Nexmark types need no declaration)`],
          });
        }
        const events = args.get("events")!.lit as number;
        if (events < 0) this.diags.error("FLOW4003", args.get("events")!.value.span, "`events` cannot be negative");
        info.connector = { kind: "nexmark", of: made.kind, events, seed: (args.get("seed")?.lit as number | undefined) ?? 42 };
        return;
      }
      case "file":
      case "stdin": {
        const path = spec.name === "file" ? (args.get("path")!.lit as string) : "";
        const format = (args.get("format")?.lit as "jsonl" | "csv" | "text" | undefined) ?? formatFromPath(path);
        const formatSpan = args.get("format")?.value.span ?? d.connector.span;
        this.checkFormatType(format, type, formatSpan, d.type.span, "source");
        const follow = args.get("follow")?.lit === true;
        const onError = this.onErrorPolicy(args, d.connector);
        info.connector = spec.name === "file" ? { kind: "file", path, format, onError, follow } : { kind: "stdin", format, onError };
        return;
      }
      default:
        return;
    }
  }

  private onErrorPolicy(args: Map<string, ResolvedArg>, call: A.ConnectorCall): OnErrorPolicy {
    const policy = (args.get("on_error")?.lit as OnErrorPolicy["policy"] | undefined) ?? "fail";
    const dl = args.get("dead_letter");
    if (policy === "dead_letter" && !dl) {
      this.diags.error("FLOW4008", args.get("on_error")!.value.span, '`on_error: "dead_letter"` needs a file for the rejected records', {
        hints: ['add `dead_letter: "rejected.jsonl"`'],
      });
    }
    if (dl && policy !== "dead_letter") {
      this.diags.error("FLOW4008", dl.span, "`dead_letter:` is only used with `on_error: \"dead_letter\"`", {
        hints: [args.has("on_error") ? "remove `dead_letter:` or change on_error" : 'add `on_error: "dead_letter"`'],
        notes: args.has("on_error") ? [{ message: "the policy is set here", span: args.get("on_error")!.span }] : [],
      });
    }
    void call;
    return { policy, deadLetter: (dl?.lit as string | undefined) ?? null };
  }

  private checkFormatType(format: string, type: Type, formatSpan: A.Span, typeSpan: A.Span, side: "source" | "sink"): void {
    if (type.kind === "error") return;
    if (format === "text" && !isPrim(type, "string")) {
      this.diags.error("FLOW3013", typeSpan, `format "text" reads each line as a string, but the type is ${typeToString(type)}`, {
        notes: [{ message: "the format is chosen here", span: formatSpan }],
        hints: ['declare the source as `string`, or use format "jsonl" for JSON records'],
      });
    }
    if (format === "csv") {
      const flat = type.kind === "record" && type.fields.every((f) => stripOptional(f.type).kind === "prim");
      if (!flat) {
        this.diags.error("FLOW3013", typeSpan, `format "csv" needs a record of primitive fields, found ${typeToString(type)}${type.kind === "record" ? ` = ${recordShape(type)}` : ""}`, {
          notes: [{ message: "the format is chosen here", span: formatSpan }],
          hints: [side === "source" ? 'use format "jsonl" for nested data' : "map the elements to a flat record first, or use format \"jsonl\""],
        });
      }
    }
  }

  private connectorSpec(call: A.ConnectorCall, side: "source" | "sink"): ConnectorSpec | null {
    const list = side === "source" ? SOURCES : SINKS;
    const other = side === "source" ? SINKS : SOURCES;
    const name = call.name.name;
    const spec = list.find((c) => c.name === name);
    if (spec) {
      if (spec.notYet) {
        this.diags.error("FLOW9001", call.name.span, spec.notYet);
        return null;
      }
      return spec;
    }
    const wrongSide = other.find((c) => c.name === name);
    const supported = list.filter((c) => !c.notYet).map((c) => c.name);
    this.diags.error("FLOW2006", call.name.span, wrongSide ? `\`${name}\` is a ${wrongSide.side} connector, not a ${side}` : `unknown ${side} connector \`${name}\``, {
      hints: [wrongSide ? undefined : didYouMean(name, supported), `${side}s: ${supported.join(", ")}`],
    });
    return null;
  }

  /** Matches a call's arguments to the connector's schema; null after an error. */
  private connectorArgs(call: A.ConnectorCall, spec: ConnectorSpec): Map<string, ResolvedArg> | null {
    const result = new Map<string, ResolvedArg>();
    let ok = true;
    let position = 0;
    for (const arg of call.args) {
      let as: ArgSpec | undefined;
      if (arg.name) {
        as = spec.args.find((a) => a.name === arg.name!.name);
        if (!as) {
          this.diags.error("FLOW4008", arg.name.span, `${spec.name}(…) has no argument \`${arg.name.name}\``, {
            hints: [didYouMean(arg.name.name, spec.args.map((a) => a.name)), `its arguments: ${spec.args.map((a) => a.name).join(", ")}`],
          });
          ok = false;
          continue;
        }
      } else {
        as = spec.args.find((a) => a.position === position);
        position++;
        if (!as) {
          this.diags.error("FLOW4008", arg.span, `${spec.name}(…) takes ${spec.args.filter((a) => a.position !== undefined).length || "no"} positional argument${spec.args.filter((a) => a.position !== undefined).length === 1 ? "" : "s"}`, {
            hints: [`write the others by name: ${spec.args.filter((a) => a.position === undefined).map((a) => `${a.name}: …`).join(", ")}`],
          });
          ok = false;
          continue;
        }
      }
      if (result.has(as.name)) {
        this.diags.error("FLOW4008", arg.span, `argument \`${as.name}\` is given twice`, { notes: [{ message: "first given here", span: result.get(as.name)!.span }] });
        ok = false;
        continue;
      }
      const lit = this.argLiteral(arg, as, spec);
      if (lit === undefined) {
        ok = false;
        continue;
      }
      result.set(as.name, { span: arg.span, value: arg.value, lit });
    }
    for (const as of spec.args) {
      if (as.required && !result.has(as.name)) {
        this.diags.error("FLOW4008", call.span, `${spec.name}(…) needs the argument \`${as.name}\``, { hints: [`the form is ${spec.summary}`] });
        ok = false;
      }
    }
    return ok ? result : null;
  }

  /** The constant value of a connector argument, or undefined after reporting. */
  private argLiteral(arg: A.Arg, as: ArgSpec, spec: ConnectorSpec): string | number | boolean | null | undefined {
    const v = arg.value;
    const bad = (expected: string, hints: (string | undefined)[] = []): undefined => {
      this.diags.error("FLOW4008", v.span, `argument \`${as.name}\` of ${spec.name}(…) must be ${expected}`, { hints });
      return undefined;
    };
    switch (as.arg.kind) {
      case "elements":
        return null;
      case "string":
        return v.kind === "String" ? v.value : bad("a string literal");
      case "bool":
        return v.kind === "Bool" ? v.value : bad("true or false");
      case "int": {
        if (v.kind === "Int") return v.value;
        if (v.kind === "Unary" && v.op === "-" && v.operand.kind === "Int") return -v.operand.value;
        return bad("an integer literal");
      }
      case "enum": {
        const values = as.arg.values;
        if (v.kind === "String" && values.includes(v.value)) return v.value;
        const got = v.kind === "String" ? v.value : v.kind === "Name" ? v.name : undefined;
        return bad(`one of ${values.map((x) => `"${x}"`).join(", ")}`, [got !== undefined ? didYouMean(got, values) : undefined]);
      }
    }
  }

  private checkSink(d: A.SinkDecl): void {
    if (this.sinkInfos.has(d)) return;
    const info: SinkInfo = { decl: d, connector: null, head: null, join: null, stages: [], output: ERROR_STREAM };
    this.sinkInfos.set(d, info);
    const p = this.checkPipeline(d.pipeline, null);
    Object.assign(info, p);
    this.out.sinks.push(info);
    this.notWindowed(p.output, d.pipeline.span, "a sink");
    const spec = this.connectorSpec(d.connector, "sink");
    if (!spec) return;
    const args = this.connectorArgs(d.connector, spec);
    if (!args) return;
    if (spec.name === "stdout") {
      const format = (args.get("format")?.lit as "jsonl" | "csv" | undefined) ?? "jsonl";
      this.checkFormatType(format, p.output.elem, args.get("format")?.value.span ?? d.connector.span, d.pipeline.span, "sink");
      info.connector = { kind: "stdout", format };
    } else if (spec.name === "file") {
      const path = args.get("path")!.lit as string;
      const format = (args.get("format")?.lit as "jsonl" | "csv" | undefined) ?? (path.endsWith(".csv") ? "csv" : "jsonl");
      this.checkFormatType(format, p.output.elem, args.get("format")?.value.span ?? d.connector.span, d.pipeline.span, "sink");
      info.connector = { kind: "file", path, format };
    }
  }

  // ---- streams and pipelines -------------------------------------------------------------

  /** A windowed stream (`… |> window(…)`) only feeds an `aggregate`. */
  private notWindowed(s: StreamType, span: A.Span, into: string): void {
    if (!s.window) return;
    this.diags.error("FLOW4010", span, `a windowed stream cannot go into ${into}: \`window(…)\` must be followed by \`aggregate(…)\``, {
      hints: ["add `|> aggregate(x => { … })` after the window to say what each window produces"],
    });
  }

  /** The type of a named stream, checking its `let` on first use (and finding cycles). */
  private streamOf(name: string, useSpan: A.Span): StreamType {
    const cached = this.streamCache.get(name);
    if (cached === "resolving") {
      const d = this.top.get(name)!;
      this.diags.error("FLOW2008", useSpan, `stream \`${name}\` depends on itself`, {
        notes: [{ message: `\`${name}\` is defined here`, span: declName(d).span }],
        hints: ["a job graph cannot have cycles: read from a source or an earlier stream instead"],
      });
      return ERROR_STREAM;
    }
    if (cached) return cached;
    const d = this.top.get(name);
    if (!d) {
      const streams = this.namesOfKind("source", "let");
      this.diags.error("FLOW2001", useSpan, `unknown stream \`${name}\``, {
        hints: [didYouMean(name, streams) ?? (streams.length ? `streams in this file: ${streams.join(", ")}` : "declare a `source` first")],
      });
      return ERROR_STREAM;
    }
    if (d.kind === "source") return ERROR_STREAM; // reported with the source
    if (d.kind === "late") {
      if (d.owner.kind === "Let") this.streamOf(d.owner.name.name, d.owner.name.span);
      else this.checkSink(d.owner);
      return this.lateTypes.get(name) ?? ERROR_STREAM;
    }
    if (d.kind !== "let") {
      this.diags.error("FLOW2001", useSpan, `\`${name}\` is a ${d.kind === "type" ? "type" : "function"}, not a stream`);
      return ERROR_STREAM;
    }
    this.streamCache.set(name, "resolving");
    const p = this.checkPipeline(d.decl.pipeline, d.decl.name.name);
    this.out.lets.push({ name, decl: d.decl, ...p });
    this.streamCache.set(name, p.output);
    return p.output;
  }

  private checkPipeline(p: A.Pipeline, _letName: string | null): PipelineInfo {
    let current: StreamType;
    let head: string | null = null;
    let join: JoinInfo | null = null;
    if (p.head.kind === "Join") {
      this.lastJoin = null;
      current = this.checkJoin(p.head);
      join = this.lastJoin;
    } else {
      head = p.head.name.name;
      current = this.streamOf(head, p.head.name.span);
    }
    const stages: StageInfo[] = [];
    for (const s of p.stages) {
      const info = this.checkStage(s, current);
      stages.push(info);
      current = info.output;
    }
    return { head, join, stages, output: current };
  }

  private lambdaArg(stage: A.CallStage, arity: number, form: string): A.ExprOf<"Lambda"> | null {
    const args = stage.args;
    if (args.length !== 1 || args[0]!.name || args[0]!.value.kind !== "Lambda" || args[0]!.value.params.length !== arity) {
      const where = args.length === 1 ? args[0]!.span : stage.span;
      const got = args.length === 1 && args[0]!.value.kind === "Lambda" ? `a lambda with ${args[0]!.value.params.length} parameter${args[0]!.value.params.length === 1 ? "" : "s"}` : args.length === 0 ? "no arguments" : args.length === 1 ? "a value that is not a lambda" : `${args.length} arguments`;
      this.diags.error("FLOW4010", where, `${stage.name.name} takes one lambda, ${form}; found ${got}`, { hints: [`write it as ${stage.name.name}(${form})`] });
      return null;
    }
    return args[0]!.value as A.ExprOf<"Lambda">;
  }

  /** The scope a stage's lambda sees: `key` when the stream is keyed. */
  private stageScope(input: StreamType): Scope {
    const scope = new Scope(null);
    if (input.key) scope.vars.set("key", { kind: "key", id: nextBindingId++, name: "key", type: input.key });
    return scope;
  }

  private local(id: A.Ident, type: Type, role: LocalBinding["role"], mutable: boolean): LocalBinding {
    return { kind: "local", id: nextBindingId++, name: id.name, type, mutable, span: id.span, role };
  }

  private checkStage(s: A.Stage, input: StreamType): StageInfo {
    if (input.window && !(s.kind === "CallStage" && s.name.name === "aggregate")) {
      this.diags.error("FLOW4010", s.kind === "ProcessStage" ? s.keyword : s.name.span, "`window(…)` must be followed by `aggregate(…)`", {
        hints: ["a window groups elements; aggregate says what to compute per window"],
      });
      input = { ...input, window: null };
    }
    const invalid = (output: StreamType = { ...input, elem: T.error, window: null }): StageInfo => ({ kind: "invalid", stage: s, input, output });
    if (s.kind === "ProcessStage") return this.checkProcess(s, input);
    const name = s.name.name;
    const requireNoUid = (): void => {
      if (s.uid) this.diags.error("FLOW4010", s.uid.span, `\`as\` names a stateful stage, and ${name} keeps no state`, { hints: ["remove `as " + s.uid.name + "`"] });
    };
    switch (name) {
      case "filter":
      case "map":
      case "flat_map":
      case "key_by": {
        requireNoUid();
        const lambda = this.lambdaArg(s, 1, "x => …");
        if (!lambda) return invalid(name === "filter" ? input : undefined);
        const scope = this.stageScope(input);
        const param = this.local(lambda.params[0]!, input.elem, "param", false);
        scope.vars.set(param.name, param);
        let output: StreamType;
        if (name === "filter") {
          this.expect(lambda.body, scope, T.bool, "a filter condition");
          output = input;
        } else if (name === "map") {
          const t = this.expr(lambda.body, scope);
          output = { ...input, elem: this.valueType(t, lambda.body, "the result of map") };
        } else if (name === "flat_map") {
          const t = this.expr(lambda.body, scope);
          let elem: Type = T.error;
          if (t.kind === "list") elem = this.valueType(t.elem, lambda.body, "the elements of flat_map");
          else if (t.kind !== "error") {
            this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3001", lambda.body.span, `flat_map needs a list, found ${typeToString(t)}`, {
              hints: [isOptional(t) ? "give a default: `… ?? []`" : "return a list, e.g. `x => [x]` or `x => split(x, \" \")`; use map for one result per element"],
            });
          }
          output = { ...input, elem };
        } else {
          const t = this.expr(lambda.body, scope);
          if (!isKeyType(t)) {
            this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3011", lambda.body.span, `a key must be a primitive or a record of primitives, found ${typeToString(t)}`, {
              hints: [isOptional(t) ? "keys cannot be null: give a default with `??`" : "key by a field, e.g. `key_by(x => x.id)`, or by a record of fields `{ a: x.a, b: x.b }`"],
            });
          }
          output = { ...input, key: isKeyType(t) ? t : T.error };
        }
        return { kind: name, stage: s, lambda, param, input, output };
      }
      case "aggregate": {
        const lambda = this.lambdaArg(s, 1, "x => …");
        if (!lambda) return invalid();
        const scope = this.stageScope(input);
        const param = this.local(lambda.params[0]!, input.elem, "element", false);
        scope.vars.set(param.name, param);
        scope.aggMode = "top";
        scope.aggCalls = [];
        scope.aggElement = param;
        let windowBinding: LocalBinding | null = null;
        if (input.window) {
          windowBinding = { kind: "local", id: nextBindingId++, name: "window", type: WINDOW_TYPE, mutable: false, span: s.name.span, role: "param" };
          scope.vars.set("window", windowBinding);
        }
        const t = this.expr(lambda.body, scope);
        const elem = this.valueType(t, lambda.body, "the result of aggregate");
        return { kind: "aggregate", uid: "", stage: s, lambda, param, aggs: scope.aggCalls, window: input.window, windowBinding, input, output: { ...input, elem, window: null } };
      }
      case "reduce": {
        const lambda = this.lambdaArg(s, 2, "(acc, x) => …");
        if (!lambda) return invalid(input);
        const scope = this.stageScope(input);
        const acc = this.local(lambda.params[0]!, input.elem, "param", false);
        const param = this.local(lambda.params[1]!, input.elem, "param", false);
        if (acc.name === param.name) this.diags.error("FLOW2002", lambda.params[1]!.span, `parameter \`${acc.name}\` is declared twice`);
        scope.vars.set(acc.name, acc);
        scope.vars.set(param.name, param);
        this.expect(lambda.body, scope, input.elem, "the result of reduce (the stream's element type)");
        return { kind: "reduce", uid: "", stage: s, lambda, acc, param, input, output: input };
      }
      case "union": {
        requireNoUid();
        const others: string[] = [];
        if (s.args.length === 0) this.diags.error("FLOW4010", s.span, "union takes one or more streams: `union(b, c)`");
        let key = input.key;
        let time = input.time;
        for (const a of s.args) {
          if (a.name || a.value.kind !== "Name") {
            this.diags.error("FLOW4010", a.span, "union takes the names of streams");
            continue;
          }
          const other = this.streamOf(a.value.name, a.value.span);
          others.push(a.value.name);
          this.notWindowed(other, a.value.span, "a union");
          if (!assignable(other.elem, input.elem)) {
            this.diags.error("FLOW3001", a.value.span, `union needs streams of one type: expected ${typeToString(input.elem)}, found ${typeToString(other.elem)}`);
          }
          if (!other.key || !key || !assignable(other.key, key) || !assignable(key, other.key)) key = null;
          time &&= other.time;
        }
        return { kind: "union", stage: s, others, input, output: { ...input, key, time } };
      }
      case "window":
        return this.checkWindowStage(s, input);
      case "dedup": {
        requireNoUid();
        const lambda = s.args[0]?.value.kind === "Lambda" && !s.args[0].name ? (s.args[0].value as A.ExprOf<"Lambda">) : null;
        const within = s.args.find((a) => a.name?.name === "within");
        if (!lambda || lambda.params.length !== 1 || !within || s.args.length !== 2) {
          this.diags.error("FLOW4010", s.span, "dedup takes a lambda giving the id and `within:` a duration: dedup(x => x.id, within: 10m)");
          return invalid(input);
        }
        const scope = this.stageScope(input);
        const param = this.local(lambda.params[0]!, input.elem, "param", false);
        scope.vars.set(param.name, param);
        const t = this.expr(lambda.body, scope);
        if (!isKeyType(t)) this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3011", lambda.body.span, `a dedup id must be a primitive or a record of primitives, found ${typeToString(t)}`);
        const ms = this.durationArg(within.value, "within", false);
        this.needsTime(input, s.name.span, "dedup");
        return { kind: "dedup", uid: "", stage: s, lambda, param, within: ms ?? 0, input, output: input };
      }
      default:
        this.diags.error("FLOW2005", s.name.span, `unknown stage \`${name}\``, {
          hints: [didYouMean(name, STAGES), `the stages are ${STAGES.join(", ")}`],
        });
        return invalid();
    }
  }

  /** A stream's element type must be a value: not a function, not just null. */
  private valueType(t: Type, e: A.Expr, what: string): Type {
    if (t.kind === "null" || t.kind === "never") {
      this.diags.error("FLOW3001", e.span, `cannot tell the type of ${what}: it is always ${t.kind === "null" ? "null" : "an empty list"}`);
      return T.error;
    }
    if (t.kind === "fn") {
      this.diags.error("FLOW3005", e.span, `${what} cannot be a function`);
      return T.error;
    }
    return t;
  }

  // ---- time: event time, windows, joins ------------------------------------------------

  /** Reports a time-based construct on a stream without event time. */
  private needsTime(input: StreamType, span: A.Span, what: string): void {
    if (input.time) return;
    this.diags.error("FLOW4012", span, `${what} works in event time, and this stream has none`, {
      hints: ["declare event time on the source: `source s: T = … event_time(x => x.ts) watermark 5s`"],
    });
  }

  /** A positive (or, with `zeroOk`, non-negative) duration literal; its ms, or null. */
  private durationArg(e: A.Expr, what: string, zeroOk: boolean): number | null {
    this.expr(e, new Scope(null));
    if (e.kind !== "Duration") {
      const negative = e.kind === "Unary" && e.op === "-" && e.operand.kind === "Duration";
      this.diags.error("FLOW4010", e.span, negative ? `\`${what}\` cannot be negative` : `\`${what}\` must be a duration literal such as 10s`, { hints: [e.kind === "Int" ? `write a unit: ${e.text}s, ${e.text}ms, …` : undefined] });
      return null;
    }
    if (e.ms === 0 && !zeroOk) {
      this.diags.error("FLOW4010", e.span, `\`${what}\` must be longer than zero`);
      return null;
    }
    return e.ms;
  }

  private checkEventTime(et: A.EventTimeClause, type: Type): EventTimeInfo | null {
    const delay = et.watermark ? this.durationArg(et.watermark, "watermark", true) : 0;
    const idle = et.idle ? this.durationArg(et.idle, "idle", false) : null;
    if (et.extract.kind !== "Lambda" || et.extract.params.length !== 1) {
      this.diags.error("FLOW4010", et.extract.span, "event_time takes a lambda giving each element's time: event_time(x => x.ts)");
      return null;
    }
    const scope = new Scope(null);
    const p = this.local(et.extract.params[0]!, type, "param", false);
    scope.vars.set(p.name, p);
    this.expect(et.extract.body, scope, T.timestamp, "an element's event time");
    return { lambda: et.extract, param: p, delay: delay ?? 0, idle };
  }

  /** tumbling(d) | sliding(d, every: d2) | session(gap: d), or null after an error. */
  private windowSpec(spec: A.Expr): Omit<WindowInfo, "allowedLateness" | "late"> | null {
    const form = "tumbling(10s), sliding(1m, every: 10s) or session(gap: 5m)";
    if (spec.kind !== "Call" || spec.callee.kind !== "Name" || !["tumbling", "sliding", "session"].includes(spec.callee.name)) {
      this.diags.error("FLOW4010", spec.span, `a window is ${form}`, { hints: [spec.kind === "Call" && spec.callee.kind === "Name" ? didYouMean(spec.callee.name, ["tumbling", "sliding", "session"]) : undefined] });
      return null;
    }
    const kind = spec.callee.name as WindowInfo["kind"];
    const pos = spec.args.filter((a) => !a.name);
    const named = new Map(spec.args.filter((a) => a.name).map((a) => [a.name!.name, a]));
    const allowed = kind === "tumbling" ? [] : kind === "sliding" ? ["every"] : ["gap"];
    for (const [n, a] of named) if (!allowed.includes(n)) this.diags.error("FLOW4010", a.span, `${kind}(…) has no argument \`${n}\``, { hints: [`the form is ${form}`] });
    if (kind === "session") {
      const gap = named.get("gap");
      if (!gap || pos.length) {
        this.diags.error("FLOW4010", spec.span, "a session window is session(gap: d)");
        return null;
      }
      const ms = this.durationArg(gap.value, "gap", false);
      return ms === null ? null : { kind, size: ms, every: ms };
    }
    if (pos.length !== 1 || (kind === "sliding" && !named.has("every"))) {
      this.diags.error("FLOW4010", spec.span, kind === "tumbling" ? "a tumbling window is tumbling(size)" : "a sliding window is sliding(size, every: slide)");
      return null;
    }
    const size = this.durationArg(pos[0]!.value, "size", false);
    const every = kind === "sliding" ? this.durationArg(named.get("every")!.value, "every", false) : size;
    if (size === null || every === null) return null;
    // `every` longer than the size is allowed: windows with gaps between them (an element in a
    // gap belongs to no window and is dropped, as in Flink).
    return { kind, size, every };
  }

  private checkWindowStage(s: A.CallStage, input: StreamType): StageInfo {
    if (s.uid) this.diags.error("FLOW4010", s.uid.span, "give the uid to the `aggregate` after the window: `aggregate(…) as name`");
    const pos = s.args.filter((a) => !a.name);
    let info: WindowInfo | null = null;
    if (pos.length !== 1) {
      this.diags.error("FLOW4010", s.span, "window takes one window spec: window(tumbling(10s)), window(sliding(1m, every: 10s)) or window(session(gap: 5m))");
    } else {
      const spec = this.windowSpec(pos[0]!.value);
      if (spec) info = { ...spec, allowedLateness: 0, late: null };
    }
    for (const a of s.args.filter((x) => x.name)) {
      const n = a.name!.name;
      if (n === "allowed_lateness") {
        const ms = this.durationArg(a.value, "allowed_lateness", true);
        if (info && ms !== null) info.allowedLateness = ms;
      } else if (n === "late") {
        if (a.value.kind !== "Name") this.diags.error("FLOW4010", a.value.span, "`late:` names a new stream for the late elements: late: late_bids");
        else {
          if (info) info.late = a.value.name;
          this.lateTypes.set(a.value.name, { ...input, window: null });
        }
      } else {
        this.diags.error("FLOW4010", a.name!.span, `window(…) has no argument \`${n}\``, { hints: [didYouMean(n, ["allowed_lateness", "late"]) ?? "its arguments: allowed_lateness, late"] });
      }
    }
    this.needsTime(input, s.name.span, "a window");
    const window = info ?? { kind: "tumbling" as const, size: 1, every: 1, allowedLateness: 0, late: null };
    return { kind: "window", stage: s, window, input, output: { ...input, window } };
  }

  private checkJoin(j: A.Join): StreamType {
    const left = this.streamOf(j.left.stream.name, j.left.stream.span);
    const right = this.streamOf(j.right.stream.name, j.right.stream.span);
    this.notWindowed(left, j.left.stream.span, "a join");
    this.notWindowed(right, j.right.stream.span, "a join");
    const scope = new Scope(null);
    const a = this.local(j.left.alias, left.elem, "param", false);
    const b = this.local(j.right.alias, right.elem, "param", false);
    scope.vars.set(a.name, a);
    if (a.name === b.name) this.diags.error("FLOW2002", j.right.alias.span, `both sides of the join are called \`${a.name}\``, { hints: ["give each side its own alias"] });
    else scope.vars.set(b.name, b);
    // on: equalities between the two sides, joined with `and` (a compound key).
    const conjuncts: A.Expr[] = [];
    const split = (e: A.Expr): void => {
      if (e.kind === "Binary" && e.op === "and") {
        split(e.left);
        split(e.right);
      } else conjuncts.push(e);
    };
    split(j.on);
    this.expect(j.on, scope, T.bool, "a join condition");
    const sideOf = (e: A.Expr): Set<number> => {
      const ids = new Set<number>();
      const walk = (x: unknown): void => {
        if (Array.isArray(x)) x.forEach(walk);
        else if (x && typeof x === "object") {
          const node = x as A.Expr;
          if (node.kind === "Name") {
            const bnd = this.out.names.get(node);
            if (bnd) ids.add(bnd.id);
          }
          for (const [k, v] of Object.entries(x)) if (k !== "span") walk(v);
        }
      };
      walk(e);
      return ids;
    };
    for (const c of conjuncts) {
      const ok = c.kind === "Binary" && c.op === "==" && (() => {
        const l = sideOf(c.left);
        const r = sideOf(c.right);
        const one = (x: Set<number>, id: number): boolean => x.size === 1 && x.has(id);
        return (one(l, a.id) && one(r, b.id)) || (one(l, b.id) && one(r, a.id));
      })();
      if (!ok) {
        this.diags.error("FLOW3016", c.span, "a join condition is an equality between the two sides, or several joined with `and`", {
          hints: [`write it as \`${a.name}.field == ${b.name}.field\``, "filter the joined stream for other conditions"],
        });
      } else {
        const t = this.out.exprTypes.get((c as A.ExprOf<"Binary">).left);
        if (t && !isKeyType(t)) this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3011", c.span, `join keys must be primitives, found ${typeToString(t)}`);
      }
    }
    let time = left.time && right.time;
    if (j.bound?.kind === "Within") {
      this.durationArg(j.bound.duration, "within", false);
      if (!left.time) this.needsTime(left, j.left.span, "an interval join");
      else if (!right.time) this.needsTime(right, j.right.span, "an interval join");
    } else if (j.bound?.kind === "JoinWindow") {
      if (!left.time) this.needsTime(left, j.left.span, "a window join");
      else if (!right.time) this.needsTime(right, j.right.span, "a window join");
    } else {
      this.diags.warning("FLOW4013", j.span, "this join keeps every element of both sides forever", {
        hints: ["bound it in event time with `within 1h`, or join per window with `window tumbling(…)`"],
      });
      time = false;
    }
    const t = this.expr(j.select, scope);
    const elem = this.valueType(t, j.select, "the result of the join");
    // The compound key, each equality oriented (left side, right side).
    const keys: JoinInfo["keys"] = [];
    for (const c of conjuncts) {
      if (c.kind !== "Binary" || c.op !== "==") continue;
      const leftFirst = sideOf(c.left).has(a.id);
      keys.push(leftFirst ? { left: c.left, right: c.right } : { left: c.right, right: c.left });
    }
    const keyTypes = keys.map((k) => this.out.exprTypes.get(k.left) ?? T.error);
    const keyType: Type = keyTypes.length === 1 ? keyTypes[0]! : { kind: "record", fields: keyTypes.map((kt, i) => ({ name: `k${i}`, type: kt })) };
    let spec: JoinInfo["spec"] = { kind: "unbounded", within: 0, window: null };
    if (j.bound?.kind === "Within") spec = { kind: "interval", within: j.bound.duration.kind === "Duration" ? j.bound.duration.ms : 0, window: null };
    else if (j.bound?.kind === "JoinWindow") {
      const w = this.windowSpec(j.bound.spec);
      spec = { kind: "window", within: 0, window: w ? { kind: w.kind, size: w.size, every: w.every } : null };
    }
    const output: StreamType = { elem, key: null, time, window: null };
    this.lastJoin = { join: j, uid: "", left: j.left.stream.name, right: j.right.stream.name, leftAlias: a, rightAlias: b, keys, keyType, spec, output };
    return output;
  }

  // ---- process blocks --------------------------------------------------------------------

  private checkProcess(s: A.ProcessStage, input: StreamType): StageInfo {
    if (!input.key) {
      this.diags.error("FLOW4009", s.keyword, "process needs a keyed stream", {
        hints: ["put `|> key_by(x => …)` before it, so that state is kept per key"],
      });
    }
    // `key` and the states are seen by the body and by `on timer`; the element only by the body.
    const scope = this.stageScope(input);
    const param = this.local(s.param, input.elem, "param", false);
    const states: StateBinding[] = [];
    const ttl = new Map<string, number>();
    for (const st of s.states) {
      const type = this.resolveType(st.type);
      const prev = scope.vars.get(st.name.name);
      if (prev) {
        this.diags.error("FLOW2002", st.name.span, `\`${st.name.name}\` is already declared in this block`, {
          notes: prev.kind === "key" ? [] : [{ message: "first declared here", span: prev.span }],
        });
        continue;
      }
      this.expect(st.init, new Scope(null), type, `the initial value of \`${st.name.name}\``);
      if (st.ttl) {
        const ms = this.durationArg(st.ttl, "ttl", false);
        this.needsTime(input, st.ttl.span, "state `ttl`");
        if (ms !== null) ttl.set(st.name.name, ms);
      }
      const b: StateBinding = { kind: "state", id: nextBindingId++, name: st.name.name, type, span: st.name.span, decl: st };
      scope.vars.set(b.name, b);
      states.push(b);
    }
    for (const extra of s.extraTimers) this.diags.error("FLOW4011", extra.span, "a process block has at most one `on timer`", { notes: [{ message: "the first one", span: s.onTimer!.span }] });
    const body = scope.child();
    body.process = { emits: [], time: input.time };
    if (scope.vars.has(param.name)) {
      this.diags.error("FLOW2002", s.param.span, `\`${param.name}\` is already the name of a state or the key`);
    }
    body.vars.set(param.name, param);
    this.stmts(s.body, body);
    let timerParam: LocalBinding | null = null;
    if (s.onTimer) {
      const timerScope = scope.child();
      timerScope.process = body.process;
      timerParam = this.local(s.onTimer.param, T.timestamp, "param", false);
      timerScope.vars.set(timerParam.name, timerParam);
      this.stmts(s.onTimer.body, timerScope);
      this.needsTime(input, s.onTimer.span, "`on timer`");
    }
    const emits = body.process.emits;
    let out: Type | null = null;
    if (emits.length === 0) {
      this.diags.error("FLOW3010", s.keyword, "this process block never emits", { hints: ["add `emit <value>` where it should produce output"] });
      out = T.error;
    } else {
      out = emits[0]!.type;
      for (const e of emits.slice(1)) {
        const j = join(out, e.type);
        if (!j) {
          this.diags.error("FLOW3008", e.span, `this emit produces ${typeToString(e.type)}, but an earlier one produces ${typeToString(out)}`, {
            notes: [{ message: `the first emit, ${typeToString(emits[0]!.type)}`, span: emits[0]!.span }],
            hints: ["all emits of a block must produce the same type"],
          });
          break;
        }
        out = j;
      }
    }
    const timers = s.onTimer !== null || containsTimer(s.body);
    return { kind: "process", uid: "", stage: s, param, states, timers, timerParam, ttl, input, output: { ...input, elem: out } };
  }

  private stmts(list: A.Stmt[], scope: Scope): Set<Binding> {
    const assigned = new Set<Binding>();
    for (const st of list) for (const b of this.stmt(st, scope)) assigned.add(b);
    return assigned;
  }

  /** Checks one statement; returns the bindings it (or a nested block) assigns. */
  private stmt(st: A.Stmt, scope: Scope): Set<Binding> {
    const none = new Set<Binding>();
    switch (st.kind) {
      case "LetStmt": {
        const declared = st.type ? this.resolveType(st.type) : null;
        const t = declared ? this.expect(st.value, scope, declared, `\`${st.name.name}\``) : this.expr(st.value, scope);
        const existing = scope.lookup(st.name.name);
        if (existing) {
          this.diags.error("FLOW2002", st.name.span, `\`${st.name.name}\` is already declared`, {
            notes: existing.kind === "key" ? [] : [{ message: "first declared here", span: existing.span }],
            hints: [existing.kind === "state" ? `assign the state with \`${st.name.name} = …\`` : "pick another name"],
          });
        }
        const b = this.local(st.name, declared ?? this.valueType(t, st.value, `\`${st.name.name}\``), "let", true);
        scope.vars.set(b.name, b);
        this.out.declared.set(st, b);
        return none;
      }
      case "AssignStmt": {
        const b = scope.lookup(st.target.name.name);
        if (!b) {
          this.unknownName(st.target.name.name, st.target.name.span, scope);
          this.expr(st.value, scope);
          return none;
        }
        if (b.kind === "key" || (b.kind === "local" && !b.mutable)) {
          this.diags.error("FLOW3009", st.target.name.span, `cannot assign to \`${b.name}\`: ${b.kind === "key" ? "the key is fixed" : b.role === "for" ? "it is a loop variable" : "it is a parameter"}`, {
            hints: ["declare `state` for values kept per key, or `let` for a local"],
          });
          this.expr(st.value, scope);
          return none;
        }
        this.out.targets.set(st, b);
        if (st.target.kind === "IndexTarget") {
          if (b.type.kind !== "map") {
            if (b.type.kind !== "error") this.diags.error("FLOW3009", st.target.span, `only map entries can be assigned by index; \`${b.name}\` is ${typeToString(b.type)}`);
            this.expr(st.target.index, scope);
            this.expr(st.value, scope);
            return none;
          }
          this.expect(st.target.index, scope, b.type.key, "a map key");
          if (st.op === "=") this.expect(st.value, scope, b.type.value, `a value of \`${b.name}\``);
          else this.compound(st, b.type.value, scope, true);
          return new Set([b]);
        }
        if (st.op === "=") {
          const t = this.expect(st.value, scope, b.type, `\`${b.name}\``);
          this.setNarrowing(scope, b, isOptional(b.type) && !isOptional(t) && t.kind !== "error" ? stripOptional(b.type) : null);
        } else {
          const cur = this.readType(b, scope);
          if (isOptional(cur)) {
            this.diags.error("FLOW3004", st.target.span, `\`${b.name}\` may be null, so \`${st.op}\` cannot apply to it`, { hints: [`check it first: \`if ${b.name} != null { … }\`, or assign \`${b.name} = (${b.name} ?? 0) ${st.op[0]} …\``] });
            this.expr(st.value, scope);
          } else this.compound(st, cur, scope, false);
        }
        return new Set([b]);
      }
      case "IfStmt": {
        this.expect(st.cond, scope, T.bool, "an if condition");
        const thenScope = scope.child();
        this.applyFacts(thenScope, this.facts(st.cond, scope, true));
        const assigned = this.stmts(st.then, thenScope);
        if (st.else) {
          const elseScope = scope.child();
          this.applyFacts(elseScope, this.facts(st.cond, scope, false));
          for (const b of this.stmts(st.else, elseScope)) assigned.add(b);
        }
        for (const b of assigned) this.setNarrowing(scope, b, null);
        return assigned;
      }
      case "ForStmt": {
        const t = this.expr(st.iterable, scope);
        let elem: Type = T.error;
        if (t.kind === "list") elem = t.elem;
        else if (t.kind === "map") elem = t.key;
        else if (t.kind !== "error") {
          this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3001", st.iterable.span, `for … in needs a list or a map, found ${typeToString(t)}`);
        }
        const inner = scope.child();
        const b = this.local(st.name, elem, "for", false);
        inner.vars.set(b.name, b);
        this.out.declared.set(st, b);
        const assigned = this.stmts(st.body, inner);
        for (const a of assigned) this.setNarrowing(scope, a, null);
        return assigned;
      }
      case "EmitStmt": {
        const t = this.expr(st.value, scope);
        if (!scope.process) return none;
        scope.process.emits.push({ type: this.valueType(t, st.value, "an emitted value"), span: st.value.span });
        return none;
      }
      case "TimerStmt":
        this.expect(st.at, scope, T.timestamp, "a timer's time");
        if (scope.process && !scope.process.time) {
          this.diags.error("FLOW4012", st.span, "timers fire in event time, and this stream has none", { hints: ["declare event time on the source: `event_time(x => x.ts) watermark 5s`"] });
        }
        return none;
      case "ClearStmt": {
        const b = scope.lookup(st.name.name);
        if (!b) this.unknownName(st.name.name, st.name.span, scope);
        else if (b.kind !== "state") this.diags.error("FLOW3009", st.name.span, `\`clear\` resets state, and \`${b.name}\` is not state`);
        else {
          this.out.targets.set(st, b);
          this.setNarrowing(scope, b, null);
          return new Set([b]);
        }
        return none;
      }
      case "DeleteStmt": {
        const b = scope.lookup(st.name.name);
        if (!b) {
          this.unknownName(st.name.name, st.name.span, scope);
          return none;
        }
        if (b.type.kind !== "map") {
          if (b.type.kind !== "error") this.diags.error("FLOW3001", st.name.span, `\`delete\` removes a map entry, and \`${b.name}\` is ${typeToString(b.type)}`);
          return none;
        }
        if (b.kind === "key" || (b.kind === "local" && !b.mutable)) {
          this.diags.error("FLOW3009", st.name.span, `cannot change \`${b.name}\``);
          return none;
        }
        this.out.targets.set(st, b);
        this.expect(st.index, scope, b.type.key, "a map key");
        return new Set([b]);
      }
      case "ExprStmt": {
        const e = st.expr;
        if (e.kind === "Call" && e.callee.kind === "Field" && e.callee.field.name === "push" && e.callee.object.kind === "Name") {
          const b = scope.lookup(e.callee.object.name);
          if (!b) {
            this.unknownName(e.callee.object.name, e.callee.object.span, scope);
            return none;
          }
          if (b.type.kind !== "list") {
            if (b.type.kind !== "error") this.diags.error("FLOW3001", e.callee.object.span, `\`push\` adds to a list, and \`${b.name}\` is ${typeToString(b.type)}`);
            return none;
          }
          if (b.kind === "key" || (b.kind === "local" && !b.mutable)) {
            this.diags.error("FLOW3009", e.callee.object.span, `cannot change \`${b.name}\`: ${b.kind === "local" ? "it is a parameter" : "the key is fixed"}`);
            return none;
          }
          if (e.args.length !== 1 || e.args[0]!.name) {
            this.diags.error("FLOW3003", e.span, `push takes one value, found ${e.args.length}`);
            return none;
          }
          this.out.calls.set(e, { kind: "push", target: b });
          this.expect(e.args[0]!.value, scope, b.type.elem, `an element of \`${b.name}\``);
          return new Set([b]);
        }
        this.expr(e, scope);
        this.diags.error("FLOW3014", e.span, "this expression is computed and then thrown away", {
          hints: [e.kind === "Binary" && e.op === "==" ? "to assign, write `=`" : "use `emit` to output it, or `let` to keep it"],
        });
        return none;
      }
      default:
        return A.assertNever(st, "statement");
    }
  }

  /** `x += e` / `m[k] += e`: the result of `x + e` must fit x. */
  private compound(st: A.AssignStmt, cur: Type, scope: Scope, indexed: boolean): void {
    const op = st.op === "+=" ? "+" : "-";
    const vt = this.expr(st.value, scope);
    if (indexed && isOptional(cur)) {
      this.diags.error("FLOW3004", st.target.span, `the map's values may be null, so \`${st.op}\` cannot add to them`);
      return;
    }
    if (indexed && !(isNumeric(cur) || isPrim(cur, "duration") || isPrim(cur, "string"))) {
      this.diags.error("FLOW3002", st.target.span, `\`${st.op}\` needs a number, duration or string, found ${typeToString(cur)}`);
      return;
    }
    const result = this.arith(op, cur, vt);
    if (!result) {
      this.diags.error("FLOW3002", st.span, `cannot apply \`${st.op}\` to ${typeToString(cur)} and ${typeToString(vt)}`);
      return;
    }
    if (!assignable(result, cur)) {
      this.diags.error("FLOW3001", st.value.span, `\`${st.op}\` would make it ${typeToString(result)}, but it is ${typeToString(cur)}`);
    }
  }

  private setNarrowing(scope: Scope, b: Binding, t: Type | null): void {
    scope.narrow.set(String(b.id), t);
    for (let s: Scope | null = scope; s; s = s.parent) {
      for (const k of s.narrow.keys()) if (k.startsWith(`${b.id}.`)) scope.narrow.set(k, null);
    }
  }

  // ---- narrowing -------------------------------------------------------------------------

  /** A path for narrowing: `12` for a binding, `12.a.b` for its fields. */
  private pathOf(e: A.Expr, scope: Scope): string | null {
    if (e.kind === "Name") {
      const b = scope.lookup(e.name);
      return b ? String(b.id) : null;
    }
    if (e.kind === "Field" && !e.optional) {
      const base = this.pathOf(e.object, scope);
      return base ? `${base}.${e.field.name}` : null;
    }
    return null;
  }

  /** What is known when `cond` is true (or false): paths that are not null. */
  private facts(cond: A.Expr, scope: Scope, when: boolean): Map<string, A.Expr> {
    const out = new Map<string, A.Expr>();
    if (cond.kind === "Binary") {
      if ((cond.op === "!=" || cond.op === "==") && (cond.left.kind === "Null" || cond.right.kind === "Null")) {
        const subject = cond.left.kind === "Null" ? cond.right : cond.left;
        const path = this.pathOf(subject, scope);
        if (path && (cond.op === "!=") === when) out.set(path, subject);
      } else if (cond.op === "and" && when) {
        for (const [k, v] of this.facts(cond.left, scope, true)) out.set(k, v);
        for (const [k, v] of this.facts(cond.right, scope, true)) out.set(k, v);
      } else if (cond.op === "or" && !when) {
        for (const [k, v] of this.facts(cond.left, scope, false)) out.set(k, v);
        for (const [k, v] of this.facts(cond.right, scope, false)) out.set(k, v);
      }
    } else if (cond.kind === "Unary" && cond.op === "not") {
      return this.facts(cond.operand, scope, !when);
    }
    return out;
  }

  private applyFacts(scope: Scope, facts: Map<string, A.Expr>): void {
    for (const [path, subject] of facts) {
      const t = this.out.exprTypes.get(subject);
      if (t && isOptional(t)) scope.narrow.set(path, stripOptional(t));
    }
  }

  /** The type a binding has here, after narrowing. */
  private readType(b: Binding, scope: Scope): Type {
    return scope.narrowed(String(b.id)) ?? b.type;
  }

  // ---- expressions -----------------------------------------------------------------------

  /** Checks `e` where a value of type `want` is needed; reports a mismatch. */
  expect(e: A.Expr, scope: Scope, want: Type, what: string): Type {
    const t = this.expr(e, scope, want);
    if (!assignable(t, want)) {
      if (isOptional(t) && assignable(stripOptional(t), want)) {
        this.diags.error("FLOW3004", e.span, `${what} must be ${typeToString(want)}, but this may be null`, {
          label: `this is ${typeToString(t)}`,
          hints: [`give a default with \`?? …\`, or check it with \`if … != null\``],
        });
      } else {
        this.diags.error("FLOW3001", e.span, `expected ${typeToString(want)}, found ${typeToString(t)}`, {
          label: `this is ${typeToString(t)}`,
          hints: [mismatchHint(t, want, e), `${what} must be ${typeToString(want)}`],
        });
      }
      return T.error;
    }
    return t;
  }

  expr(e: A.Expr, scope: Scope, expected?: Type): Type {
    const t = this.exprInner(e, scope, expected);
    this.out.exprTypes.set(e, t);
    return t;
  }

  private exprInner(e: A.Expr, scope: Scope, expected?: Type): Type {
    switch (e.kind) {
      case "Int":
        return T.int;
      case "Float":
        return T.float;
      case "String":
        return T.string;
      case "Bool":
        return T.bool;
      case "Null":
        return T.null;
      case "Duration":
        return T.duration;
      case "Name":
        return this.name(e, scope);
      case "Field":
        return this.field(e, scope);
      case "Index": {
        const t = this.expr(e.object, scope);
        if (t.kind === "error") {
          this.expr(e.index, scope);
          return T.error;
        }
        if (t.kind === "map") {
          this.expect(e.index, scope, t.key, "a map key");
          return T.optional(t.value);
        }
        if (t.kind === "list") {
          this.expect(e.index, scope, T.int, "a list index");
          return T.optional(t.elem);
        }
        this.expr(e.index, scope);
        this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3001", e.object.span, isOptional(t) ? `cannot index ${typeToString(t)}: it may be null` : `only lists and maps can be indexed, found ${typeToString(t)}`);
        return T.error;
      }
      case "Call":
        return this.call(e, scope);
      case "Unary": {
        if (e.op === "not") {
          this.expect(e.operand, scope, T.bool, "the operand of `not`");
          return T.bool;
        }
        const t = this.expr(e.operand, scope);
        if (t.kind === "error" || isNumeric(t) || isPrim(t, "duration")) return t;
        this.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3002", e.span, `cannot negate ${typeToString(t)}`, { hints: [isOptional(t) ? "the value may be null: give a default with `??`" : undefined] });
        return T.error;
      }
      case "Binary":
        return this.binary(e, scope);
      case "Cond": {
        this.expect(e.cond, scope, T.bool, "an if condition");
        const thenScope = scope.child();
        this.applyFacts(thenScope, this.facts(e.cond, scope, true));
        const elseScope = scope.child();
        this.applyFacts(elseScope, this.facts(e.cond, scope, false));
        const a = this.expr(e.then, thenScope, expected);
        const b = this.expr(e.else, elseScope, expected);
        const j = join(a, b);
        if (!j) {
          this.diags.error("FLOW3001", e.else.span, `the branches of if/then/else differ: ${typeToString(a)} and ${typeToString(b)}`, {
            notes: [{ message: `the then branch is ${typeToString(a)}`, span: e.then.span }],
          });
          return T.error;
        }
        return j;
      }
      case "Record":
        return this.record(e, scope, expected);
      case "List": {
        const want = expected && stripOptional(expected).kind === "list" ? (stripOptional(expected) as { elem: Type }).elem : undefined;
        let elem: Type = T.never;
        let first: A.Expr | null = null;
        for (const item of e.items) {
          const t = this.expr(item, scope, want);
          const j = join(elem, t);
          if (!j) {
            this.diags.error("FLOW3001", item.span, `list elements must have one type: expected ${typeToString(elem)}, found ${typeToString(t)}`, {
              notes: first ? [{ message: `the first element is ${typeToString(this.out.exprTypes.get(first)!)}`, span: first.span }] : [],
            });
            return T.list(T.error);
          }
          elem = j;
          first ??= item;
        }
        if (elem.kind === "never" && want) return T.list(want);
        return T.list(elem);
      }
      case "Lambda":
        this.diags.error("FLOW3005", e.span, "a lambda can only be the argument of a stage such as map(x => …)");
        return T.error;
      default:
        return A.assertNever(e, "expression");
    }
  }

  private unknownName(name: string, span: A.Span, scope: Scope): void {
    const visible = scope.visibleNames();
    const top = this.top.get(name);
    if (top && (top.kind === "source" || top.kind === "let")) {
      this.diags.error("FLOW2001", span, `\`${name}\` is a stream and cannot be used inside an expression`, {
        hints: ["streams are combined with stages (`union`, `join`), not read as values"],
      });
      return;
    }
    if (name === "key") {
      this.diags.error("FLOW2001", span, "`key` is only defined after `key_by`", { hints: ["add `|> key_by(x => …)` earlier in the pipeline"] });
      return;
    }
    if (name === "window") {
      this.diags.error("FLOW2001", span, "`window` is only defined in a windowed aggregate", { hints: ["window.start and window.end name the window in `window(…) |> aggregate(…)`"] });
      return;
    }
    this.diags.error("FLOW2001", span, `unknown name \`${name}\``, { hints: [didYouMean(name, visible)] });
  }

  private name(e: A.ExprOf<"Name">, scope: Scope): Type {
    const b = scope.lookup(e.name);
    if (!b) {
      const top = this.top.get(e.name);
      if (top?.kind === "fn" || top?.kind === "import" || isBuiltin(e.name)) {
        this.diags.error("FLOW3005", e.span, `\`${e.name}\` is a function: call it with arguments, \`${e.name}(…)\``);
      } else this.unknownName(e.name, e.span, scope);
      return T.error;
    }
    this.out.names.set(e, b);
    if (scope.aggMode === "top" && b === scope.aggElement) {
      this.diags.error("FLOW3006", e.span, `\`${e.name}\` is used outside an aggregate function`, {
        hints: [`in aggregate, read the element only inside count(), sum(${e.name}…), last(${e.name}…) and the like; \`key\` may appear alone`],
      });
    }
    const narrowed = scope.narrowed(String(b.id));
    if (narrowed && narrowed !== b.type) {
      this.out.narrowed.add(e);
      return narrowed;
    }
    return b.type;
  }

  private field(e: A.ExprOf<"Field">, scope: Scope): Type {
    const objType = this.expr(e.object, scope);
    if (objType.kind === "error") return T.error;
    let rec: Type = objType;
    if (isOptional(objType)) {
      if (!e.optional) {
        this.diags.error("FLOW3004", e.object.span, `cannot read \`.${e.field.name}\`: the value may be null (${typeToString(objType)})`, {
          hints: [`use \`?.${e.field.name}\` to get null when it is null, or check it with \`if … != null\``],
        });
        return T.error;
      }
      rec = stripOptional(objType);
    }
    if (rec.kind !== "record") {
      this.diags.error("FLOW2007", e.field.span, `${typeToString(objType)} has no fields`, { hints: [isPrim(rec, "string") && e.field.name === "length" ? "use len(s)" : undefined] });
      return T.error;
    }
    const f = rec.fields.find((x) => x.name === e.field.name);
    if (!f) {
      this.diags.error("FLOW2007", e.field.span, `${typeToString(rec)} has no field \`${e.field.name}\``, {
        hints: [didYouMean(e.field.name, rec.fields.map((x) => x.name)) ?? `its fields: ${rec.fields.map((x) => x.name).join(", ") || "none"}`],
      });
      return T.error;
    }
    let t = e.optional || isOptional(objType) ? T.optional(f.type) : f.type;
    const path = this.pathOf(e, scope);
    const narrowed = path ? scope.narrowed(path) : undefined;
    if (narrowed && isOptional(t)) {
      this.out.narrowed.add(e);
      t = narrowed;
    }
    return t;
  }

  private record(e: A.ExprOf<"Record">, scope: Scope, expected?: Type): Type {
    const exp = expected ? stripOptional(expected) : undefined;
    if (e.fields.length === 0 && exp?.kind === "map") {
      this.out.emptyMaps.add(e);
      return exp;
    }
    const want = exp?.kind === "record" ? exp : undefined;
    const fields: RecordType["fields"] = [];
    const seen = new Map<string, A.Span>();
    for (const f of e.fields) {
      const prev = seen.get(f.name.name);
      const t = this.expr(f.value, scope, want?.fields.find((x) => x.name === f.name.name)?.type);
      if (prev) {
        this.diags.error("FLOW2002", f.name.span, `field \`${f.name.name}\` is given twice`, { notes: [{ message: "first given here", span: prev }] });
        continue;
      }
      seen.set(f.name.name, f.name.span);
      fields.push({ name: f.name.name, type: t.kind === "never" ? T.list(T.never) : t });
    }
    const own: RecordType = { kind: "record", fields };
    if (!want) return own;
    // Built as the expected record type: its field order; missing optional fields are null.
    let ok = true;
    for (const f of fields) {
      const wf = want.fields.find((x) => x.name === f.name);
      if (!wf) {
        const span = e.fields.find((x) => x.name.name === f.name)!.name.span;
        this.diags.error("FLOW2007", span, `${typeToString(want)} has no field \`${f.name}\``, {
          hints: [didYouMean(f.name, want.fields.map((x) => x.name)) ?? `its fields: ${want.fields.map((x) => x.name).join(", ")}`],
        });
        ok = false;
      } else if (!assignable(f.type, wf.type)) {
        const fe = e.fields.find((x) => x.name.name === f.name)!;
        const nullable = isOptional(f.type) && assignable(stripOptional(f.type), wf.type);
        this.diags.error(nullable ? "FLOW3004" : "FLOW3001", fe.value.span, `field \`${f.name}\` must be ${typeToString(wf.type)}, found ${typeToString(f.type)}`, {
          hints: [nullable ? "the value may be null: give a default with `??`" : mismatchHint(f.type, wf.type, fe.value)],
        });
        ok = false;
      }
    }
    const missing = want.fields.filter((wf) => !seen.has(wf.name) && !isOptional(wf.type));
    if (missing.length) {
      this.diags.error("FLOW3012", e.span, `missing field${missing.length > 1 ? "s" : ""} ${missing.map((m) => `\`${m.name}\``).join(", ")} of ${typeToString(want)}`, {
        hints: [`${typeToString(want)} is ${recordShape(want)}`],
      });
      ok = false;
    }
    if (!ok) return T.error;
    this.out.recordLayouts.set(e, want);
    return want;
  }

  private call(e: A.ExprOf<"Call">, scope: Scope): Type {
    const checkArgs = (s: Scope): Type[] => e.args.map((a) => this.expr(a.value, s));
    if (e.callee.kind !== "Name") {
      if (e.callee.kind === "Field" && e.callee.field.name === "push") {
        this.diags.error("FLOW3014", e.span, "`push` is a statement: write `list.push(x)` on its own in a process block");
      } else this.diags.error("FLOW3005", e.callee.span, "only functions can be called", { hints: ["the language has no methods: call `f(x)` instead of `x.f()`"] });
      checkArgs(scope);
      return T.error;
    }
    const name = e.callee.name;
    const local = scope.lookup(name);
    if (local) {
      this.diags.error("FLOW3005", e.callee.span, `\`${name}\` is a value of type ${typeToString(local.type)}, not a function`);
      checkArgs(scope);
      return T.error;
    }
    const aggArity = isAggregate(name) ? AGG_ARITY[name] : -1;
    if (aggArity >= 0 && !((name === "min" || name === "max") && e.args.length === 2)) {
      return this.aggCall(e, name as AggName, scope);
    }
    const named = e.args.find((a) => a.name);
    if (isBuiltin(name)) {
      if (named) this.diags.error("FLOW3003", named.span, `${name} takes no named arguments`, { hints: [SIGNATURES[name]] });
      const types = checkArgs(scope);
      const r = resolveBuiltin(name, types);
      if (!r.ok) {
        const span = r.problem.arg >= 0 ? e.args[r.problem.arg]!.span : e.span;
        this.diags.error(r.problem.code, span, `${name}: ${r.problem.message}`, {
          hints: [r.problem.code === "FLOW3004" ? "give a default with `?? …`, or check it first with `if … != null`" : undefined, SIGNATURES[name]],
        });
        return T.error;
      }
      this.out.calls.set(e, { kind: "builtin", name, argTypes: types });
      return r.type;
    }
    const top = this.top.get(name);
    if (top?.kind === "fn") {
      if (this.currentFn) this.fnCalls.get(this.currentFn)!.add(name);
      const fn = this.out.fns.get(name) ?? this.signatureOf(top.decl);
      if (named) this.diags.error("FLOW3003", named.span, `${name} takes no named arguments`);
      if (e.args.length !== fn.params.length) {
        this.diags.error("FLOW3003", e.span, `${name} takes ${fn.params.length} argument${fn.params.length === 1 ? "" : "s"}, found ${e.args.length}`, {
          notes: [{ message: `${name} is declared here`, span: top.decl.name.span }],
        });
        checkArgs(scope);
        return T.error;
      }
      e.args.forEach((a, i) => this.expect(a.value, scope, fn.params[i]!.type, `argument \`${fn.params[i]!.name}\` of ${name}`));
      this.out.calls.set(e, { kind: "fn", name });
      return fn.result;
    }
    if (top?.kind === "import") {
      const f = this.out.imports.get(name);
      if (!f) {
        checkArgs(scope);
        return T.error; // the import itself is reported
      }
      if (named) this.diags.error("FLOW3003", named.span, `${name} takes no named arguments`);
      if (e.args.length !== f.params.length) {
        this.diags.error("FLOW3003", e.span, `${name} takes ${f.params.length} argument${f.params.length === 1 ? "" : "s"}, found ${e.args.length}`, {
          notes: [{ message: `imported here as ${signatureText(f)}`, span: f.ident.span }],
        });
        checkArgs(scope);
        return T.error;
      }
      e.args.forEach((a, i) => this.expect(a.value, scope, f.params[i]!.type, `argument \`${f.params[i]!.name}\` of ${name}`));
      this.out.calls.set(e, { kind: "import", name });
      return f.result;
    }
    checkArgs(scope);
    const candidates = [...BUILTINS, ...this.namesOfKind("fn"), ...(scope.aggMode === "top" ? ["count", "sum", "avg", "first", "last", "count_distinct", "collect", "top"] : [])];
    this.diags.error("FLOW2004", e.callee.span, `unknown function \`${name}\``, { hints: [unknownFunctionHint(name, candidates, NUMERIC_BUILTINS)] });
    return T.error;
  }

  /** The declared signature of a helper whose body has not been checked yet. */
  private signatureOf(d: A.FnDecl): FnInfo {
    return {
      name: d.name.name,
      decl: d,
      params: d.params.map((p) => this.local(p.name, this.resolveType(p.type), "fnParam", false)),
      result: this.resolveType(d.result),
    };
  }

  private aggCall(e: A.ExprOf<"Call">, fn: AggName, scope: Scope): Type {
    if (scope.aggMode !== "top") {
      const nested = scope.aggMode === "arg";
      this.diags.error("FLOW3007", e.callee.span, nested ? `aggregate functions cannot be nested: \`${fn}\` inside another aggregate function` : `\`${fn}\` is an aggregate function and can only be used in \`aggregate(…)\``, {
        hints: [nested ? undefined : fn === "min" || fn === "max" ? `outside aggregate, ${fn} takes two values: ${fn}(a, b)` : "use it as `… |> aggregate(x => { total: sum(x.amount) })`"],
      });
      for (const a of e.args) this.expr(a.value, scope);
      return T.error;
    }
    const inner = scope.child();
    inner.aggMode = "arg";
    const positional = e.args.filter((a) => !a.name);
    const named = e.args.filter((a) => a.name);
    const arity = AGG_ARITY[fn];
    const badNamed = named.filter((a) => !(fn === "top" && a.name!.name === "by"));
    for (const a of badNamed) this.diags.error("FLOW3003", a.span, `${fn} has no argument \`${a.name!.name}\``, { hints: [fn === "top" ? "top(n, value, by: ranking)" : undefined] });
    if (positional.length !== arity) {
      this.diags.error("FLOW3003", e.span, `${fn} takes ${arity === 0 ? "no arguments" : arity === 1 ? "one argument" : "two arguments and `by:`"}, found ${positional.length}`, {
        hints: [fn === "count" ? "count() counts elements; to count non-null values use sum(if x != null then 1 else 0)" : undefined],
      });
      for (const a of e.args) this.expr(a.value, inner);
      return T.error;
    }
    const agg: AggCall = { fn, call: e, value: null, valueType: T.error, resultType: T.error };
    if (fn === "count") {
      agg.resultType = T.int;
    } else if (fn === "top") {
      const nArg = positional[0]!.value;
      this.expr(nArg, inner);
      if (nArg.kind !== "Int" || nArg.value < 1) {
        this.diags.error("FLOW3001", nArg.span, "top(n, …) needs n as a positive integer literal");
        return T.error;
      }
      const by = named.find((a) => a.name!.name === "by");
      if (!by) {
        this.diags.error("FLOW3003", e.span, "top needs `by:`, the value that ranks elements: top(3, x.item, by: x.price)");
        return T.error;
      }
      agg.n = nArg.value;
      agg.value = positional[1]!.value;
      agg.valueType = this.expr(agg.value, inner);
      agg.by = by.value;
      agg.byType = this.expr(by.value, inner);
      if (!isComparable(stripOptional(agg.byType))) {
        this.diags.error("FLOW3015", by.value.span, `top ranks by numbers, strings, timestamps or durations, found ${typeToString(agg.byType)}`);
        return T.error;
      }
      agg.resultType = T.list(stripOptional(this.valueType(agg.valueType, agg.value, "the value of top")));
    } else {
      agg.value = positional[0]!.value;
      const vt = this.expr(agg.value, inner);
      agg.valueType = vt;
      const base = stripOptional(vt);
      const opt = isOptional(vt);
      switch (fn) {
        case "sum":
          if (!(isNumeric(base) || isPrim(base, "duration") || base.kind === "error")) {
            this.diags.error("FLOW3001", agg.value.span, `sum adds numbers or durations, found ${typeToString(vt)}`);
            return T.error;
          }
          agg.resultType = base;
          break;
        case "avg":
          if (!(isNumeric(base) || base.kind === "error")) {
            this.diags.error("FLOW3001", agg.value.span, `avg needs numbers, found ${typeToString(vt)}`);
            return T.error;
          }
          agg.resultType = opt ? T.optional(T.float) : T.float;
          break;
        case "min":
        case "max":
          if (!isComparable(base)) {
            this.diags.error("FLOW3015", agg.value.span, `${fn} compares numbers, strings, timestamps or durations, found ${typeToString(vt)}`);
            return T.error;
          }
          agg.resultType = vt;
          break;
        case "first":
        case "last":
          agg.resultType = this.valueType(vt, agg.value, `the value of ${fn}`);
          break;
        case "count_distinct":
          agg.resultType = T.int;
          break;
        case "collect":
          agg.resultType = T.list(this.valueType(base, agg.value, "the value of collect"));
          break;
        default:
          break;
      }
    }
    this.out.calls.set(e, { kind: "agg", index: scope.aggCalls!.length });
    scope.aggCalls!.push(agg);
    return agg.resultType;
  }

  private binary(e: A.ExprOf<"Binary">, scope: Scope): Type {
    const op = e.op;
    if (op === "and" || op === "or") {
      this.expect(e.left, scope, T.bool, `the left side of \`${op}\``);
      const right = scope.child();
      this.applyFacts(right, this.facts(e.left, scope, op === "and"));
      this.expect(e.right, right, T.bool, `the right side of \`${op}\``);
      return T.bool;
    }
    const l = this.expr(e.left, scope);
    if (op === "??") {
      const r = this.expr(e.right, scope, stripOptional(l));
      if (l.kind === "error" || r.kind === "error") return T.error;
      const j = join(stripOptional(l), r);
      if (!j) {
        this.diags.error("FLOW3001", e.right.span, `the default must be ${typeToString(stripOptional(l))}, found ${typeToString(r)}`);
        return T.error;
      }
      return j;
    }
    const r = this.expr(e.right, scope, op === "==" || op === "!=" ? l : undefined);
    if (l.kind === "error" || r.kind === "error") return op === "==" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=" ? T.bool : T.error;
    if (op === "==" || op === "!=") {
      if (!assignable(l, r) && !assignable(r, l) && !join(l, r)) {
        this.diags.error("FLOW3002", e.opSpan, `cannot compare ${typeToString(l)} with ${typeToString(r)}`, { hints: [mismatchHint(r, l, e.right)] });
      } else if (l.kind === "fn" || r.kind === "fn") {
        this.diags.error("FLOW3015", e.opSpan, "functions cannot be compared");
      }
      return T.bool;
    }
    if (op === "<" || op === "<=" || op === ">" || op === ">=") {
      const nullable = isOptional(l) ? e.left : isOptional(r) ? e.right : null;
      if (nullable) {
        this.diags.error("FLOW3004", nullable.span, `cannot order a value that may be null (${typeToString(this.out.exprTypes.get(nullable)!)})`, {
          hints: ["check it first (`x != null and x > …`) or give a default with `??`"],
        });
        return T.bool;
      }
      if (!isComparable(l) || !isComparable(r) || (!assignable(l, r) && !assignable(r, l))) {
        this.diags.error(isComparable(l) && isComparable(r) ? "FLOW3002" : "FLOW3015", e.opSpan, `cannot compare ${typeToString(l)} ${op} ${typeToString(r)}`);
      }
      return T.bool;
    }
    const nullable = isOptional(l) ? e.left : isOptional(r) ? e.right : null;
    if (nullable) {
      this.diags.error("FLOW3004", nullable.span, `\`${op}\` cannot use a value that may be null (${typeToString(this.out.exprTypes.get(nullable)!)})`, {
        hints: ["give a default with `??`, or check it with `if … != null`"],
      });
      return T.error;
    }
    const t = this.arith(op, l, r);
    if (!t) {
      const hint =
        op === "+" && (isPrim(l, "string") || isPrim(r, "string")) ? "to join text, convert the other side with to_string(…)"
        : isPrim(l, "timestamp") && isNumeric(r) ? "add a duration to a timestamp, e.g. `t + 5s`"
        : undefined;
      this.diags.error("FLOW3002", e.opSpan, `cannot apply \`${op}\` to ${typeToString(l)} and ${typeToString(r)}`, { hints: [hint] });
      return T.error;
    }
    return t;
  }

  /** The result type of an arithmetic operator, or null when it does not apply. */
  private arith(op: string, l: Type, r: Type): Type | null {
    const p = (t: Type): string | null => (t.kind === "prim" ? t.name : null);
    const a = p(l);
    const b = p(r);
    if (a === null || b === null) return null;
    const num = (x: string): boolean => x === "int" || x === "float";
    switch (op) {
      case "+":
        if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
        if (a === "string" && b === "string") return T.string;
        if ((a === "timestamp" && b === "duration") || (a === "duration" && b === "timestamp")) return T.timestamp;
        if (a === "duration" && b === "duration") return T.duration;
        return null;
      case "-":
        if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
        if (a === "timestamp" && b === "duration") return T.timestamp;
        if (a === "timestamp" && b === "timestamp") return T.duration;
        if (a === "duration" && b === "duration") return T.duration;
        return null;
      case "*":
        if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
        if ((a === "duration" && b === "int") || (a === "int" && b === "duration")) return T.duration;
        return null;
      case "/":
        if (num(a) && num(b)) return T.float;
        return null;
      case "%":
        if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
        return null;
      default:
        return null;
    }
  }

  // ---- checkpoint and restart policies ---------------------------------------------------

  private checkPolicies(): void {
    const blocks = { Checkpoint: [] as A.PolicyDecl[], Restart: [] as A.PolicyDecl[] };
    for (const d of this.program.decls) if (d.kind === "Checkpoint" || d.kind === "Restart") blocks[d.kind].push(d);
    for (const kind of ["Checkpoint", "Restart"] as const) {
      for (const extra of blocks[kind].slice(1)) {
        this.diags.error("FLOW2002", extra.keyword, `a job has one \`${kind.toLowerCase()}\` block`, { notes: [{ message: "the first one", span: blocks[kind][0]!.keyword }] });
      }
    }
    const cp = blocks.Checkpoint[0];
    if (cp) {
      const values = this.policyOptions(cp, CHECKPOINT_OPTIONS, "checkpoint");
      const policy = defaultCheckpoint(this.out.job);
      if (values.has("every")) policy.every = values.get("every")!.value as number;
      if (values.has("mode")) policy.mode = values.get("mode")!.value as CheckpointPolicy["mode"];
      if (values.has("storage")) policy.storage = values.get("storage")!.value as string;
      if (values.has("retain")) policy.retain = values.get("retain")!.value as number;
      if (values.has("timeout")) policy.timeout = values.get("timeout")!.value as number;
      if (values.has("min_pause")) policy.minPause = values.get("min_pause")!.value as number;
      if (values.has("incremental")) policy.incremental = values.get("incremental")!.value as boolean;
      this.out.checkpoint = policy;
      if (policy.mode === "exactly_once") {
        for (const s of this.out.sources) {
          const spec = SOURCES.find((c) => c.name === s.decl.connector.name.name);
          if (spec && spec.replayable === false) {
            const modeOpt = values.get("mode");
            this.diags.error("FLOW4005", s.decl.connector.span, `\`mode exactly_once\` needs sources that can replay, and \`${spec.name}()\` cannot`, {
              notes: modeOpt ? [{ message: "exactly-once is chosen here", span: modeOpt.span }] : [{ message: "exactly_once is the default mode", span: cp.keyword }],
              hints: ["use `mode at_least_once`, or read the input from a file"],
            });
          }
        }
      }
    }
    const rs = blocks.Restart[0];
    if (rs) {
      const values = this.policyOptions(rs, RESTART_OPTIONS, "restart");
      const policy = defaultRestart();
      if (values.has("strategy")) policy.strategy = values.get("strategy")!.value as RestartPolicy["strategy"];
      if (values.has("attempts")) policy.attempts = values.get("attempts")!.value as number;
      if (values.has("delay")) policy.delay = values.get("delay")!.value as number;
      if (values.has("max_delay")) policy.maxDelay = values.get("max_delay")!.value as number;
      if (values.has("multiplier")) policy.multiplier = values.get("multiplier")!.value as number;
      if (values.has("max_delay") && policy.maxDelay < policy.delay) {
        this.diags.error("FLOW4003", values.get("max_delay")!.span, "max_delay is shorter than delay");
      }
      this.out.restart = policy;
    }
  }

  private policyOptions(block: A.PolicyDecl, schema: Record<string, OptionKind>, what: string): Map<string, { value: unknown; span: A.Span }> {
    const values = new Map<string, { value: unknown; span: A.Span }>();
    for (const opt of block.options) {
      const name = opt.name.name;
      const kind = schema[name];
      if (!kind) {
        const other = what === "checkpoint" ? RESTART_OPTIONS : CHECKPOINT_OPTIONS;
        this.diags.error("FLOW4001", opt.name.span, `unknown ${what} option \`${name}\``, {
          hints: [
            didYouMean(name, Object.keys(schema)),
            name in other ? `\`${name}\` belongs in the ${what === "checkpoint" ? "restart" : "checkpoint"} block` : undefined,
            `${what} options: ${Object.keys(schema).join(", ")}`,
          ],
        });
        continue;
      }
      if (values.has(name)) {
        this.diags.error("FLOW4004", opt.name.span, `\`${name}\` is given twice`, { notes: [{ message: "first given here", span: values.get(name)!.span }] });
        continue;
      }
      const v = this.optionValue(opt, kind);
      if (v !== undefined) values.set(name, { value: v, span: opt.span });
    }
    return values;
  }

  private optionValue(opt: A.PolicyOption, kind: OptionKind): unknown {
    const name = opt.name.name;
    const v = opt.value;
    const lit = v.kind === "OptionLiteral" ? v.literal : null;
    const sign = v.kind === "OptionLiteral" && v.negative ? -1 : 1;
    const found = v.kind === "OptionName" ? `\`${v.name}\`` : lit ? describeLiteral(lit, sign) : "?";
    const bad = (expected: string, hint?: string): undefined => {
      this.diags.error("FLOW4002", v.span, `\`${name}\` expects ${expected}, found ${found}`, { hints: [hint] });
      return undefined;
    };
    const impossible = (why: string): undefined => {
      this.diags.error("FLOW4003", v.span, `\`${name} ${found.replace(/`/g, "")}\` ${why}`);
      return undefined;
    };
    switch (kind.kind) {
      case "duration": {
        if (lit?.kind !== "Duration") return bad("a duration such as 10s", lit?.kind === "Int" ? `write a unit: \`${name} ${lit.text}s\` or \`${name} ${lit.text}ms\`` : undefined);
        const ms = sign * lit.ms;
        if (ms < kind.min || (ms === kind.min && !kind.minInclusive)) return impossible(kind.minInclusive ? "cannot be negative" : "must be longer than zero");
        return ms;
      }
      case "int": {
        if (lit?.kind !== "Int") return bad("an integer");
        const n = sign * lit.value;
        if (n < kind.min) return impossible(`must be at least ${kind.min}`);
        return n;
      }
      case "float": {
        if (lit?.kind !== "Int" && lit?.kind !== "Float") return bad("a number");
        const n = sign * lit.value;
        if (n < kind.min) return impossible(`must be at least ${kind.min}`);
        return n;
      }
      case "bool":
        return lit?.kind === "Bool" && sign === 1 ? lit.value : bad("true or false");
      case "string":
        return lit?.kind === "String" && sign === 1 ? lit.value : bad("a string");
      case "name": {
        const given = v.kind === "OptionName" ? v.name : lit?.kind === "String" ? lit.value : null;
        if (given !== null && kind.values.includes(given)) {
          if (v.kind !== "OptionName") return bad(`one of ${kind.values.join(", ")} (without quotes)`, `write \`${name} ${given}\``);
          return given;
        }
        return bad(`one of ${kind.values.join(", ")}`, given !== null ? didYouMean(given, kind.values) : undefined);
      }
    }
  }

  // ---- uids ------------------------------------------------------------------------------

  /** Gives each stateful stage its uid: `as name`, else the `let` name (section 10). */
  private assignUids(): void {
    const taken = new Map<string, A.Span>();
    const claim = (uid: string, span: A.Span): void => {
      const prev = taken.get(uid);
      if (prev) {
        this.diags.error("FLOW4007", span, `uid \`${uid}\` is used by two stateful stages`, {
          notes: [{ message: "the other one", span: prev }],
          hints: ["give one of them its own uid with `as other_name`"],
        });
        return;
      }
      taken.set(uid, span);
    };
    const pipelines: { name: string | null; info: PipelineInfo }[] = [
      ...this.out.lets.map((l) => ({ name: l.name, info: l as PipelineInfo })),
      ...this.out.sinks.map((s) => ({ name: null, info: s as PipelineInfo })),
    ];
    for (const { name, info } of pipelines) {
      let implicit: A.Span | null = null;
      if (info.join) {
        // A join keeps state: it takes the let's name (it cannot carry `as`).
        const span = info.join.join.span;
        if (!name) {
          this.diags.error("FLOW4006", span, "this join keeps state, so it needs a uid", { hints: ["move the join into a `let` (the let's name becomes its uid) and sink that stream"] });
        } else {
          implicit = span;
          info.join.uid = name;
          claim(name, span);
        }
      }
      for (const st of info.stages) {
        if (!STATEFUL_KINDS.has(st.kind) || !("uid" in st)) continue;
        const s = st.stage;
        const uidIdent = s.uid;
        const span = s.kind === "ProcessStage" ? s.keyword : s.name.span;
        if (uidIdent) {
          st.uid = uidIdent.name;
          claim(uidIdent.name, uidIdent.span);
          continue;
        }
        if (!name) {
          this.diags.error("FLOW4006", span, `this ${st.kind} keeps state, so it needs a uid`, {
            hints: [`name it with \`as some_name\` after the stage, or move it into a \`let\` (the let's name becomes its uid)`],
          });
          continue;
        }
        if (implicit) {
          this.diags.error("FLOW4006", span, `two stateful stages in \`let ${name}\` would both get the uid \`${name}\``, {
            notes: [{ message: `this one already takes the uid \`${name}\``, span: implicit }],
            hints: [`give this one its own uid: \`${s.kind === "ProcessStage" ? "process(…) as" : `${st.kind}(…) as`} ${name}_${st.kind}\``],
          });
          continue;
        }
        implicit = span;
        st.uid = name;
        claim(name, span);
      }
    }
  }
}

interface ResolvedArg {
  span: A.Span;
  value: A.Expr;
  lit: string | number | boolean | null;
}

/** Whether statements set a timer (`timer at …`), in nested blocks too. */
function containsTimer(list: A.Stmt[]): boolean {
  return list.some((st) => st.kind === "TimerStmt" || (st.kind === "IfStmt" && (containsTimer(st.then) || containsTimer(st.else ?? []))) || (st.kind === "ForStmt" && containsTimer(st.body)));
}

function formatFromPath(path: string): "jsonl" | "csv" | "text" {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(txt|log)$/i.test(path)) return "text";
  return "jsonl";
}

function describeLiteral(lit: A.Literal, sign: number): string {
  const minus = sign < 0 ? "-" : "";
  switch (lit.kind) {
    case "Int":
    case "Float":
    case "Duration":
      return `\`${minus}${lit.text}\``;
    case "String":
      return JSON.stringify(lit.value);
    case "Bool":
      return String(lit.value);
    case "Null":
      return "null";
  }
}

function mismatchHint(found: Type, want: Type, e: A.Expr): string | undefined {
  if (isPrim(want, "bool") && isNumeric(found)) return "compare it to get a bool, e.g. `… == 0` or `… != 0`";
  if (isPrim(want, "string") && found.kind === "prim") return "convert it with to_string(…)";
  if (isNumeric(want) && isPrim(found, "string")) return "parse it with parse_int(…) or parse_float(…)";
  if (isPrim(want, "int") && isPrim(found, "float")) return "round it with round(…), floor(…) or ceil(…)";
  if (isPrim(want, "duration") && e.kind === "Int") return `write a unit: ${e.text}s, ${e.text}ms, …`;
  if (want.kind === "record" && found.kind === "record") {
    const missing = want.fields.filter((f) => !found.fields.some((g) => g.name === f.name)).map((f) => f.name);
    const extra = found.fields.filter((f) => !want.fields.some((g) => g.name === f.name)).map((f) => f.name);
    const parts = [missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `extra ${extra.join(", ")}` : ""].filter(Boolean);
    return parts.length ? `the records differ: ${parts.join("; ")}` : undefined;
  }
  void closest;
  return undefined;
}
