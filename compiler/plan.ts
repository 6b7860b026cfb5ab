// plan: lowers the checked program into a job graph: sources, fused chains of stateless
// stages, stateful operators with their uids and state layout, and sinks. Every node lists
// the nodes it feeds; the graph is plain data (tests print it) and `emit` turns it into code.
// Uids are given here (`assignUids`); the front end runs that part on every check, so
// `flowc check` reports a missing or doubled uid.

import type * as A from "./ast.js";
import type {
  CheckedProgram, CheckpointPolicy, FnInfo, JoinInfo, PipelineInfo, RestartPolicy, SinkInfo, SourceInfo, StageInfo, StatefulStage, StreamType,
} from "./check/index.js";
import { Diagnostics } from "./diagnostics/diagnostic.js";
import { stageSpec } from "./stages.js";
import { T, toDesc, type Type, type TypeDesc } from "./types.js";
import type { ExchangeManifest, OperatorManifest as RuntimeOperatorManifest } from "../runtime/api.js";

export { accumulatorName } from "./check/index.js";

export type StatelessStage = Extract<StageInfo, { kind: "filter" | "map" | "flat_map" | "key_by" }>;

interface NodeBase {
  id: number;
  /** A readable name for generated code and graphs (from the user's stream names). */
  label: string;
  /** The stream type this node's outputs carry. */
  output: StreamType;
  /** Ids of the nodes this one feeds, in declaration order of the consumers. */
  outputs: number[];
  /** Windows with `late: name`: the nodes fed with the elements too late for every window. */
  lateOutputs: number[];
  /** How many edges come in. */
  inputs: number;
  /** The nodes feeding this one, in order (a node's watermark is the minimum of theirs). */
  inputIds: number[];
}

export type GraphNode =
  | (NodeBase & { kind: "source"; source: SourceInfo; index: number })
  /** `dead`: merged into the chain before it by fusion, and dropped from the graph. */
  | (NodeBase & { kind: "chain"; input: StreamType; stages: StatelessStage[]; dead: boolean })
  | (NodeBase & { kind: "operator"; input: StreamType; stage: StatefulStage; uid: string })
  | (NodeBase & { kind: "join"; input: StreamType; join: JoinInfo; left: StreamType; right: StreamType; uid: string })
  | (NodeBase & { kind: "sink"; input: StreamType; sink: SinkInfo; index: number });

/** As in the runtime's manifest (runtime/api.ts). */
export type OperatorManifest = RuntimeOperatorManifest;

export interface JobGraph {
  job: string;
  file: string;
  nodes: GraphNode[];
  sources: Extract<GraphNode, { kind: "source" }>[];
  sinks: Extract<GraphNode, { kind: "sink" }>[];
  operators: OperatorManifest[];
  namedTypes: Map<string, Type>;
  fns: FnInfo[];
  checkpoint: CheckpointPolicy | null;
  restart: RestartPolicy | null;
  /** Whether any source declares event time (then watermarks flow through the graph). */
  eventTime: boolean;
  /**
   * The edges that go through an exchange when the job runs as several instances
   * (LANGUAGE.md 10.1): into a stateful operator from a stateless chain or a source (a
   * `key_by` may send its records to any instance; an unkeyed operator runs on instance 0).
   * An operator feeding an operator keyed the same way keeps its records on their instance.
   */
  exchanges: Exchange[];
  checked: CheckedProgram;
}

/** An edge through an exchange: `from` feeds input `input` of operator `to`; the rest is what the manifest carries. */
export interface Exchange extends ExchangeManifest {
  index: number;
  from: number;
  to: number;
}

export function plan(checked: CheckedProgram, file: string): JobGraph {
  const uids = assignUids(checked);
  const uidOf = (x: StatefulStage | JoinInfo): string => {
    const uid = uids.get(x);
    if (uid === undefined) throw new Error("internal: a stateful stage without a uid");
    return uid;
  };
  const nodes: GraphNode[] = [];
  /** Which node (and which of its outputs) produces each named stream. */
  const producers = new Map<string, { id: number; port: "main" | "late" }>();
  const add = <N extends GraphNode>(n: Omit<N, "id" | "outputs" | "lateOutputs" | "inputs" | "inputIds">): N => {
    const node = { ...n, id: nodes.length, outputs: [], lateOutputs: [], inputs: 0, inputIds: [] } as unknown as N;
    nodes.push(node);
    return node;
  };
  const connect = (from: { id: number; port: "main" | "late" } | number, to: number): void => {
    const f = typeof from === "number" ? { id: from, port: "main" as const } : from;
    (f.port === "main" ? nodes[f.id]!.outputs : nodes[f.id]!.lateOutputs).push(to);
    nodes[to]!.inputs++;
    nodes[to]!.inputIds.push(f.id);
  };

  checked.sources.forEach((s, index) => {
    const n = add<Extract<GraphNode, { kind: "source" }>>({ kind: "source", label: s.name, source: s, index, output: { elem: s.type, key: null, time: s.decl.eventTime !== null, window: null } });
    producers.set(s.name, { id: n.id, port: "main" });
  });

  const letsByName = new Map(checked.lets.map((l) => [l.name, l]));
  const building = new Set<string>();
  /** Late streams: which let or sink declares them. */
  const lateOwners = new Map<string, PipelineInfo & { name?: string }>();
  for (const p of [...checked.lets, ...checked.sinks]) {
    for (const st of p.stages) if (st.kind === "window" && st.window.late) lateOwners.set(st.window.late, p);
  }
  const loweredSinks = new Map<PipelineInfo, number>();
  const producerOf = (name: string): { id: number; port: "main" | "late" } => {
    const known = producers.get(name);
    if (known !== undefined) return known;
    const owner = lateOwners.get(name);
    if (owner) {
      // Lowering the pipeline that declares the late stream registers it.
      if ("name" in owner && owner.name) producerOf(owner.name);
      else lowerSink(owner as SinkInfo);
      const p = producers.get(name);
      if (!p) throw new Error(`internal: late stream ${name} has no producer`);
      return p;
    }
    const l = letsByName.get(name);
    if (!l || building.has(name)) throw new Error(`internal: stream ${name} has no producer`);
    building.add(name);
    const id = lower(l, l.name);
    building.delete(name);
    producers.set(name, { id, port: "main" });
    return { id, port: "main" };
  };

  /** Lowers a pipeline; returns the id of the node producing its output. */
  function lower(p: PipelineInfo, label: string): number {
    let current: { id: number; port: "main" | "late" };
    if (p.join) {
      const j = p.join;
      const side = (t: Type): StreamType => ({ elem: t, key: null, time: j.output.time, window: null });
      const uid = uidOf(j);
      const node = add<Extract<GraphNode, { kind: "join" }>>({ kind: "join", label: uid, uid, input: j.output, join: j, left: side(j.leftElem.type), right: side(j.rightElem.type), output: j.output });
      connect(producerOf(j.left), node.id);
      connect(producerOf(j.right), node.id);
      current = { id: node.id, port: "main" };
    } else current = producerOf(p.head!);
    let open: Extract<GraphNode, { kind: "chain" }> | null = null;
    let pendingWindow: Extract<StageInfo, { kind: "window" }> | null = null;
    for (const st of p.stages) {
      switch (st.kind) {
        case "filter":
        case "map":
        case "flat_map":
        case "key_by": {
          if (!open) {
            open = add<Extract<GraphNode, { kind: "chain" }>>({ kind: "chain", label, input: st.input, stages: [], output: st.output, dead: false });
            connect(current, open.id);
            current = { id: open.id, port: "main" };
          }
          open.stages.push(st);
          open.output = st.output;
          break;
        }
        case "union": {
          const merge = add<Extract<GraphNode, { kind: "chain" }>>({ kind: "chain", label: `${label}_union`, input: st.output, stages: [], output: st.output, dead: false });
          connect(current, merge.id);
          for (const other of st.others) connect(producerOf(other), merge.id);
          current = { id: merge.id, port: "main" };
          open = null;
          break;
        }
        case "window":
          // A window is part of the aggregate that follows it.
          pendingWindow = st;
          break;
        case "aggregate":
        case "reduce":
        case "process":
        case "dedup": {
          const uid = uidOf(st);
          const op = add<Extract<GraphNode, { kind: "operator" }>>({ kind: "operator", label: uid, uid, input: pendingWindow ? pendingWindow.input : st.input, stage: st, output: st.output });
          connect(current, op.id);
          if (pendingWindow?.window.late) producers.set(pendingWindow.window.late, { id: op.id, port: "late" });
          pendingWindow = null;
          current = { id: op.id, port: "main" };
          open = null;
          break;
        }
        case "invalid":
          throw new Error("internal: planning a program with errors");
      }
    }
    if (current.port !== "main") {
      // A pipeline that is just a late stream: pass it through a chain so it has a node.
      const pass = add<Extract<GraphNode, { kind: "chain" }>>({ kind: "chain", label, input: p.output, stages: [], output: p.output, dead: false });
      connect(current, pass.id);
      return pass.id;
    }
    return current.id;
  }

  const sinkNodes: Extract<GraphNode, { kind: "sink" }>[] = [];
  function lowerSink(s: SinkInfo): number {
    const known = loweredSinks.get(s);
    if (known !== undefined) return known;
    const index = checked.sinks.indexOf(s);
    loweredSinks.set(s, -1);
    const from = lower(s, `sink${index}`);
    loweredSinks.set(s, from);
    return from;
  }
  for (const l of checked.lets) producerOf(l.name);
  checked.sinks.forEach((s, index) => {
    const from = lowerSink(s);
    const sink = add<Extract<GraphNode, { kind: "sink" }>>({ kind: "sink", label: `sink${index}`, input: s.output, sink: s, index, output: s.output });
    connect(from, sink.id);
    sinkNodes.push(sink);
  });

  fuse(nodes);
  const live = reachable(nodes);
  const ordered = topological(nodes.filter((n) => live.has(n.id)));

  const operators: OperatorManifest[] = [];
  for (const n of ordered) {
    if (n.kind === "join") {
      operators.push(joinManifest(n.uid, n.join));
      continue;
    }
    if (n.kind !== "operator") continue;
    const windowed = n.stage.kind === "aggregate" && n.stage.window !== null;
    const counted = n.stage.kind === "aggregate" && n.stage.window?.kind === "count";
    const st = n.stage;
    const spec = st.kind === "aggregate" && st.window ? `${showWindow(st.window)}${st.window.allowedLateness ? `, allowed_lateness: ${showMs(st.window.allowedLateness)}` : ""}` : st.kind === "dedup" ? `within: ${showMs(st.within)}` : null;
    const process = st.kind === "process" ? st : null;
    operators.push({
      uid: n.uid,
      kind: counted ? "count_window" : windowed ? "window" : st.kind,
      key: n.input.key ? toDesc(n.input.key) : null,
      states: stateLayout(st),
      spec,
      timers: process !== null && (process.timers || process.ttl.size > 0),
      ttl: process ? process.states.filter((s) => process.ttl.has(s.name)).map((s) => s.name) : [],
    });
  }

  const exchanges = findExchanges(ordered);
  return {
    job: checked.job,
    file,
    nodes: ordered,
    sources: ordered.filter((n): n is Extract<GraphNode, { kind: "source" }> => n.kind === "source").sort((a, b) => a.index - b.index),
    sinks: sinkNodes,
    operators,
    namedTypes: checked.types,
    fns: [...checked.fns.values()],
    checkpoint: checked.checkpoint,
    restart: checked.restart,
    eventTime: checked.sources.some((s) => s.eventTime !== null),
    exchanges,
    checked,
  };
}

/** The exchange edges of a graph (see `JobGraph.exchanges`), in topological order. */
function findExchanges(nodes: GraphNode[]): Exchange[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out: Exchange[] = [];
  for (const a of nodes) {
    const seen = new Map<number, number>();
    for (const to of a.outputs) {
      const b = byId.get(to)!;
      const k = seen.get(to) ?? 0;
      seen.set(to, k + 1);
      if (b.kind === "join") {
        // Each side goes to the instance owning its join key's group (both sides of a key meet
        // there): the side's entry computes the key and sends (compiler/emit/graph.ts).
        const input = b.inputIds.flatMap((id, i) => (id === a.id ? [i] : []))[k] ?? 0;
        const side = input === 0 ? b.left.elem : b.right.elem;
        out.push({ index: out.length, uid: `${b.uid}_${input === 0 ? "left" : "right"}`, from: a.id, to: b.id, input, keyed: true, sources: [], upstream: [], codec: exchangeCodec(side, b.join.keyType) });
        continue;
      }
      if (b.kind !== "operator") continue;
      const keyed = b.input.key !== null;
      // An operator's output stays on the instance that owns its key: an operator keyed the
      // same way (or, unkeyed, on instance 0) after it needs no exchange.
      if (a.kind === "operator" && (a.output.key !== null) === keyed) continue;
      const input = b.inputIds.flatMap((id, i) => (id === a.id ? [i] : []))[k] ?? 0;
      const partitionedBy = keyed ? partitionedSource(a, byId) : null;
      out.push({ index: out.length, uid: b.uid, from: a.id, to: b.id, input, keyed, sources: [], upstream: [], codec: exchangeCodec(b.input.elem, b.input.key), ...(partitionedBy ? { partitionedBy } : {}) });
    }
  }
  // Each exchange's inputs on an instance: the sources and exchanges its records come from.
  for (const x of out) {
    const sources = new Set<number>();
    const upstream = new Set<number>();
    const visit = (id: number, seen: Set<number>): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const n = byId.get(id);
      if (!n) return;
      if (n.kind === "source") sources.add(n.index);
      for (const p of n.inputIds) {
        const through = out.find((e) => e.from === p && e.to === id);
        if (through) upstream.add(through.index);
        else visit(p, seen);
      }
    };
    const from = byId.get(x.from)!;
    if (from.kind === "source") sources.add(from.index);
    else {
      const seen = new Set<number>();
      visit(x.from, seen);
    }
    x.sources = [...sources].sort((p, q) => p - q);
    x.upstream = [...upstream].sort((p, q) => p - q);
  }
  return out;
}

/**
 * A chain that reads a source declaring `partition_key: f` and does nothing but filter, then
 * `key_by` with the same function (the same expression, up to the parameter's name): its
 * records are in the partition of their key group. Null otherwise.
 */
function partitionedSource(chain: GraphNode, byId: Map<number, GraphNode>): { source: number; partitions: number } | null {
  if (chain.kind !== "chain" || chain.inputIds.length !== 1) return null;
  const src = byId.get(chain.inputIds[0]!);
  if (src?.kind !== "source") return null;
  const c = src.source.connector;
  if (c?.kind !== "nats" || c.partitions === null || c.partitionKey === null) return null;
  const last = chain.stages[chain.stages.length - 1];
  if (last?.kind !== "key_by" || !chain.stages.slice(0, -1).every((st) => st.kind === "filter")) return null;
  const same = sameFunction(c.partitionKey.param.name, c.partitionKey.body, last.param.name, last.lambda.body);
  return same ? { source: src.index, partitions: c.partitions } : null;
}

/** Whether two lambda bodies are the same expression, their parameters' names aside. */
function sameFunction(pa: string, a: A.Expr, pb: string, b: A.Expr): boolean {
  const norm = (param: string, e: A.Expr): string =>
    JSON.stringify(e, (k, v: unknown) => {
      if (k === "span") return undefined;
      const n = v as { kind?: string; name?: unknown } | null;
      if (n && typeof n === "object" && n.kind === "Name" && n.name === param) return { kind: "Name", name: "$param" };
      return v;
    });
  return norm(pa, a) === norm(pb, b);
}

/**
 * How an exchange encodes values of these types (ExchangeManifest.codec): maps need V8's
 * serialization (JSON has none); floats may be NaN, ±Infinity or -0, which math gives
 * (LANGUAGE.md 5) and JSON cannot write, so a message that holds one goes as V8's; the
 * rest as JSON.
 */
function exchangeCodec(...types: (Type | null)[]): "json" | "v8" | "floats" {
  const has = (kind: "map" | "float"): boolean => types.some((t) => t !== null && holds(t, kind));
  return has("map") ? "v8" : has("float") ? "floats" : "json";
}

function holds(t: Type, kind: "map" | "float"): boolean {
  const walk = (d: TypeDesc): boolean => {
    if (d.t === kind) return true;
    switch (d.t) {
      case "optional":
      case "list":
        return walk(d.of);
      case "record":
        return d.fields.some((f) => walk(f.type));
      default:
        return false;
    }
  };
  return walk(toDesc(t));
}

/** A join's manifest entry: its spec as written (and which sides are outer), its state. */
function joinManifest(uid: string, j: JoinInfo): OperatorManifest {
  const sp = j.spec;
  const l = j.leftElem.type;
  const r = j.rightElem.type;
  if (j.temporal) {
    const probe = j.temporal.probe === 0 ? j.leftElem : j.rightElem;
    const versioned = j.temporal.probe === 0 ? r : l;
    const outer = (j.temporal.probe === 0 ? j.rightAlias : j.leftAlias).type.kind === "optional" ? ", outer" : "";
    // Event time: per key the versions a probe can still meet, and the probes waiting for the
    // versioned side's watermark; by arrival: per key the latest version.
    const states = j.temporal.eventTime
      ? [{ name: "versions", type: toDesc(T.list(versioned)) }, { name: "waiting", type: toDesc(T.list(probe.type)) }]
      : [{ name: "version", type: toDesc(T.optional(versioned)) }];
    return { uid, kind: "temporal_join", key: toDesc(j.keyType), states, spec: `as of ${probe.name} (${j.temporal.eventTime ? "event time" : "arrival order"}${outer})`, timers: false, ttl: [] };
  }
  let spec = sp.kind === "interval" ? `within ${showMs(sp.within)}` : sp.kind === "window" && sp.window ? `window ${showWindow(sp.window)}` : "unbounded";
  if (sp.unmatched) spec += sp.unmatched[0] && sp.unmatched[1] ? " (full outer)" : sp.unmatched[0] ? " (left outer)" : " (right outer)";
  return { uid, kind: "join", key: toDesc(j.keyType), states: [{ name: "left", type: toDesc(T.list(l)) }, { name: "right", type: toDesc(T.list(r)) }], spec, timers: false, ttl: [] };
}

/** The state an operator keeps, by name and type: what a savepoint stores. */
export function stateLayout(st: StatefulStage): { name: string; type: TypeDesc }[] {
  switch (st.kind) {
    case "process":
      return st.states.map((s) => ({ name: s.name, type: toDesc(s.type) }));
    case "reduce":
      return [{ name: "acc", type: toDesc(T.optional(st.input.elem)) }];
    case "aggregate":
      // A sliding count window keeps each key's last n elements (its aggregate is computed
      // from them when it fires); other windows and running aggregates, the accumulators.
      if (st.window?.kind === "count" && st.window.every !== st.window.size) return [{ name: "elements", type: toDesc(T.list(st.input.elem)) }];
      return st.aggs.map((a) => ({ name: a.stateName, type: toDesc(accumulatorType(a)) }));
    case "dedup":
      return [{ name: "kept", type: toDesc(T.list(T.timestamp)) }];
  }
}

export function showMs(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function showWindow(w: { kind: "tumbling" | "sliding" | "session" | "count"; size: number; every: number }): string {
  if (w.kind === "count") return w.every === w.size ? `count(${w.size})` : `count(${w.size}, every: ${w.every})`;
  return w.kind === "tumbling" ? `tumbling(${showMs(w.size)})` : w.kind === "sliding" ? `sliding(${showMs(w.size)}, every: ${showMs(w.every)})` : `session(gap: ${showMs(w.size)})`;
}

/** What an aggregate function keeps between elements. */
export function accumulatorType(a: StatefulAgg): Type {
  switch (a.fn) {
    case "count":
      return T.int;
    case "count_distinct": {
      // The distinct values seen (records by their JSON text).
      const v = a.valueType.kind === "optional" ? a.valueType.inner : a.valueType;
      return T.list(v.kind === "prim" ? v : T.string);
    }
    case "sum":
      return a.resultType;
    case "avg":
      return { kind: "record", fields: [{ name: "sum", type: T.float }, { name: "n", type: T.int }] };
    case "min":
    case "max":
    case "first":
    case "last":
      return T.optional(a.resultType.kind === "optional" ? a.resultType.inner : a.resultType);
    case "collect":
      return a.resultType;
    case "top": {
      // The n best so far, each with its rank value.
      const v = a.valueType.kind === "optional" ? a.valueType.inner : a.valueType;
      const by = a.byType ? (a.byType.kind === "optional" ? a.byType.inner : a.byType) : T.int;
      return T.list({ kind: "record", fields: [{ name: "v", type: v }, { name: "r", type: by }] });
    }
  }
}

type StatefulAgg = Extract<StatefulStage, { kind: "aggregate" }>["aggs"][number];

/** Merges a chain into the chain it alone feeds, when that chain has no other input. */
function fuse(nodes: GraphNode[]): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const a of nodes) {
      if (a.kind !== "chain" || a.outputs.length !== 1) continue;
      const b = nodes[a.outputs[0]!]!;
      if (b.kind !== "chain" || b.inputs !== 1 || a.id === b.id) continue;
      a.stages.push(...b.stages);
      a.output = b.output;
      a.outputs = b.outputs;
      for (const o of b.outputs) {
        const ids = nodes[o]!.inputIds;
        ids[ids.indexOf(b.id)] = a.id;
      }
      b.outputs = [];
      b.inputs = 0;
      b.stages = [];
      b.dead = true;
      changed = true;
    }
  }
}

/** Nodes that lead to a sink (the others do work nobody sees). */
function reachable(nodes: GraphNode[]): Set<number> {
  const live = new Set<number>();
  const visit = (n: GraphNode): boolean => {
    if (n.kind === "chain" && n.dead) return false;
    let any = n.kind === "sink";
    for (const o of [...n.outputs, ...n.lateOutputs]) if (visit(nodes[o]!)) any = true;
    if (any) live.add(n.id);
    return any;
  };
  for (const n of nodes) visit(n);
  return live;
}

function topological(nodes: GraphNode[]): GraphNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out: GraphNode[] = [];
  const seen = new Set<number>();
  const visit = (n: GraphNode): void => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    for (const o of [...n.outputs, ...n.lateOutputs]) {
      const next = byId.get(o);
      if (next) visit(next);
    }
    out.push(n);
  };
  for (const n of nodes) visit(n);
  out.reverse();
  for (const n of out) {
    n.outputs = n.outputs.filter((o) => byId.has(o));
    n.lateOutputs = n.lateOutputs.filter((o) => byId.has(o));
  }
  return out;
}

/** A printable summary of the graph (for tests and `--emit-plan`). */
export function describeGraph(g: JobGraph): string {
  const lines: string[] = [`job ${g.job}`];
  const via = (from: number, to: number): string => {
    const x = g.exchanges.find((e) => e.from === from && e.to === to);
    return x ? (x.partitionedBy ? ` (exchange unless N divides ${x.partitionedBy.partitions})` : " (exchange)") : "";
  };
  for (const n of g.nodes) {
    const outs = (n.outputs.length ? ` -> ${n.outputs.map((o) => `#${o}${via(n.id, o)}`).join(", ")}` : "") + (n.lateOutputs.length ? ` late -> ${n.lateOutputs.map((o) => `#${o}`).join(", ")}` : "");
    switch (n.kind) {
      case "source":
        lines.push(`#${n.id} source ${n.label} (${n.source.connector?.kind})${outs}`);
        break;
      case "chain":
        lines.push(`#${n.id} chain ${n.label} [${n.stages.map((s) => s.kind).join(", ") || "merge"}]${outs}`);
        break;
      case "operator":
        lines.push(`#${n.id} ${n.stage.kind === "aggregate" && n.stage.window ? `window ${n.stage.window.kind} aggregate` : n.stage.kind} uid=${n.uid}${n.input.key ? " keyed" : ""}${outs}`);
        break;
      case "join":
        lines.push(`#${n.id} join ${n.join.spec.kind}${n.join.spec.unmatched ? " outer" : ""} uid=${n.uid}${outs}`);
        break;
      case "sink":
        lines.push(`#${n.id} sink ${n.sink.connector?.kind}${outs}`);
        break;
    }
  }
  return lines.join("\n");
}

// ---- uids --------------------------------------------------------------------------------

/** The uid of each stateful stage and join. */
export type Uids = Map<StatefulStage | JoinInfo, string>;

/**
 * Gives each stateful stage its uid: `as name`, else the `let` name (LANGUAGE.md section
 * 10); a join takes its let's name. Reports to `diags` what leaves a stage without a uid
 * (FLOW4006) and a uid used twice (FLOW4007). Lets are taken each after the streams it
 * reads, so of two stages with one uid the downstream one is reported.
 */
export function assignUids(checked: CheckedProgram, diags: Diagnostics = new Diagnostics()): Uids {
  const uids: Uids = new Map();
  const taken = new Map<string, A.Span>();
  const claim = (uid: string, span: A.Span): void => {
    const prev = taken.get(uid);
    if (prev) {
      diags.error("FLOW4007", span, `uid \`${uid}\` is used by two stateful stages`, {
        notes: [{ message: "the other one", span: prev }],
        hints: ["give one of them its own uid with `as other_name`"],
      });
      return;
    }
    taken.set(uid, span);
  };
  const pipelines: { name: string | null; info: PipelineInfo }[] = [
    ...checked.letsByDependency.map((l) => ({ name: l.name, info: l as PipelineInfo })),
    ...checked.sinks.map((s) => ({ name: null, info: s as PipelineInfo })),
  ];
  for (const { name, info } of pipelines) {
    let implicit: A.Span | null = null;
    if (info.join) {
      // A join keeps state: it takes the let's name (it cannot carry `as`).
      const span = info.join.join.span;
      if (!name) {
        diags.error("FLOW4006", span, "this join keeps state, so it needs a uid", { hints: ["move the join into a `let` (the let's name becomes its uid) and sink that stream"] });
      } else {
        implicit = span;
        uids.set(info.join, name);
        claim(name, span);
      }
    }
    for (const st of info.stages) {
      if (!isStateful(st)) continue;
      const s = st.stage;
      const uidIdent = s.uid;
      const span = s.kind === "ProcessStage" ? s.keyword : s.name.span;
      if (uidIdent) {
        uids.set(st, uidIdent.name);
        claim(uidIdent.name, uidIdent.span);
        continue;
      }
      if (!name) {
        diags.error("FLOW4006", span, `this ${st.kind} keeps state, so it needs a uid`, {
          hints: [`name it with \`as some_name\` after the stage, or move it into a \`let\` (the let's name becomes its uid)`],
        });
        continue;
      }
      if (implicit) {
        diags.error("FLOW4006", span, `two stateful stages in \`let ${name}\` would both get the uid \`${name}\``, {
          notes: [{ message: `this one already takes the uid \`${name}\``, span: implicit }],
          hints: [`give this one its own uid: \`${s.kind === "ProcessStage" ? "process(…) as" : `${st.kind}(…) as`} ${name}_${st.kind}\``],
        });
        continue;
      }
      implicit = span;
      uids.set(st, name);
      claim(name, span);
    }
  }
  return uids;
}

/** Whether a checked stage keeps state (the stage table's `stateful`). */
export function isStateful(st: StageInfo): st is StatefulStage {
  return st.kind !== "invalid" && stageSpec(st.kind)?.stateful === true;
}
