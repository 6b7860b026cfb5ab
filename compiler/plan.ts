// plan: lowers the checked program into a job graph: sources, fused chains of stateless
// stages, stateful operators with their uids and state layout, and sinks. Every node lists
// the nodes it feeds; the graph is plain data (tests print it) and `emit` turns it into code.

import type * as A from "./ast.js";
import type {
  CheckedProgram, FnInfo, PipelineInfo, SinkInfo, SourceInfo, StageInfo, StatefulStage, StreamType,
} from "./check.js";
import type { CheckpointPolicy, RestartPolicy } from "./connectors.js";
import { T, toDesc, type Type, type TypeDesc } from "./types.js";

export type StatelessStage = Extract<StageInfo, { kind: "filter" | "map" | "flat_map" | "key_by" }>;

interface NodeBase {
  id: number;
  /** A readable name for generated code and graphs (from the user's stream names). */
  label: string;
  /** The stream type this node's outputs carry. */
  output: StreamType;
  /** Ids of the nodes this one feeds, in declaration order of the consumers. */
  outputs: number[];
  /** How many edges come in. */
  inputs: number;
}

export type GraphNode =
  | (NodeBase & { kind: "source"; source: SourceInfo; index: number })
  | (NodeBase & { kind: "chain"; input: StreamType; stages: StatelessStage[] })
  | (NodeBase & { kind: "operator"; input: StreamType; stage: StatefulStage })
  | (NodeBase & { kind: "sink"; input: StreamType; sink: SinkInfo; index: number });

export interface OperatorManifest {
  uid: string;
  kind: StatefulStage["kind"];
  key: TypeDesc | null;
  states: { name: string; type: TypeDesc }[];
}

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
  checked: CheckedProgram;
}

export function plan(checked: CheckedProgram, file: string): JobGraph {
  const nodes: GraphNode[] = [];
  const producers = new Map<string, number>();
  const add = <N extends GraphNode>(n: Omit<N, "id" | "outputs" | "inputs">): N => {
    const node = { ...n, id: nodes.length, outputs: [], inputs: 0 } as unknown as N;
    nodes.push(node);
    return node;
  };
  const connect = (from: number, to: number): void => {
    nodes[from]!.outputs.push(to);
    nodes[to]!.inputs++;
  };

  checked.sources.forEach((s, index) => {
    const n = add<Extract<GraphNode, { kind: "source" }>>({ kind: "source", label: s.name, source: s, index, output: { elem: s.type, key: null, time: s.decl.eventTime !== null, window: null } });
    producers.set(s.name, n.id);
  });

  const letsByName = new Map(checked.lets.map((l) => [l.name, l]));
  const building = new Set<string>();
  const producerOf = (name: string): number => {
    const known = producers.get(name);
    if (known !== undefined) return known;
    const l = letsByName.get(name);
    if (!l || building.has(name)) throw new Error(`internal: stream ${name} has no producer`);
    building.add(name);
    const id = lower(l, l.name);
    building.delete(name);
    producers.set(name, id);
    return id;
  };

  /** Lowers a pipeline; returns the id of the node producing its output. */
  function lower(p: PipelineInfo, label: string): number {
    let current = producerOf(p.head!);
    let open: Extract<GraphNode, { kind: "chain" }> | null = null;
    for (const st of p.stages) {
      switch (st.kind) {
        case "filter":
        case "map":
        case "flat_map":
        case "key_by": {
          if (!open) {
            open = add<Extract<GraphNode, { kind: "chain" }>>({ kind: "chain", label, input: st.input, stages: [], output: st.output });
            connect(current, open.id);
            current = open.id;
          }
          open.stages.push(st);
          open.output = st.output;
          break;
        }
        case "union": {
          const merge = add<Extract<GraphNode, { kind: "chain" }>>({ kind: "chain", label: `${label}_union`, input: st.output, stages: [], output: st.output });
          connect(current, merge.id);
          for (const other of st.others) connect(producerOf(other), merge.id);
          current = merge.id;
          open = null;
          break;
        }
        case "aggregate":
        case "reduce":
        case "process": {
          const op = add<Extract<GraphNode, { kind: "operator" }>>({ kind: "operator", label: st.uid, input: st.input, stage: st, output: st.output });
          connect(current, op.id);
          current = op.id;
          open = null;
          break;
        }
        case "invalid":
          throw new Error("internal: planning a program with errors");
      }
    }
    return current;
  }

  for (const l of checked.lets) producerOf(l.name);
  const sinkNodes: Extract<GraphNode, { kind: "sink" }>[] = [];
  checked.sinks.forEach((s, index) => {
    const from = lower(s, `sink${index}`);
    const sink = add<Extract<GraphNode, { kind: "sink" }>>({ kind: "sink", label: `sink${index}`, input: s.output, sink: s, index, output: s.output });
    connect(from, sink.id);
    sinkNodes.push(sink);
  });

  fuse(nodes);
  const live = reachable(nodes);
  const ordered = topological(nodes.filter((n) => live.has(n.id)));

  const operators: OperatorManifest[] = [];
  for (const n of ordered) {
    if (n.kind !== "operator") continue;
    operators.push({ uid: n.stage.uid, kind: n.stage.kind, key: n.input.key ? toDesc(n.input.key) : null, states: stateLayout(n.stage) });
  }

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
    checked,
  };
}

/** The state an operator keeps, by name and type: what a savepoint stores. */
export function stateLayout(st: StatefulStage): { name: string; type: TypeDesc }[] {
  switch (st.kind) {
    case "process":
      return st.states.map((s) => ({ name: s.name, type: toDesc(s.type) }));
    case "reduce":
      return [{ name: "acc", type: toDesc(T.optional(st.input.elem)) }];
    case "aggregate":
      return st.aggs.map((a, i) => ({ name: accumulatorName(i, a.fn), type: toDesc(accumulatorType(a)) }));
  }
}

export function accumulatorName(index: number, fn: string): string {
  return `a${index}_${fn}`;
}

/** What an aggregate function keeps between elements. */
export function accumulatorType(a: StatefulAgg): Type {
  switch (a.fn) {
    case "count":
    case "count_distinct":
      return T.int;
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
    case "top":
      return a.resultType;
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
      b.outputs = [];
      b.inputs = 0;
      b.stages = [];
      (b as { dead?: boolean }).dead = true;
      changed = true;
    }
  }
}

/** Nodes that lead to a sink (the others do work nobody sees). */
function reachable(nodes: GraphNode[]): Set<number> {
  const live = new Set<number>();
  const visit = (n: GraphNode): boolean => {
    if ((n as { dead?: boolean }).dead) return false;
    let any = n.kind === "sink";
    for (const o of n.outputs) if (visit(nodes[o]!)) any = true;
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
    for (const o of n.outputs) {
      const next = byId.get(o);
      if (next) visit(next);
    }
    out.push(n);
  };
  for (const n of nodes) visit(n);
  out.reverse();
  for (const n of out) n.outputs = n.outputs.filter((o) => byId.has(o));
  return out;
}

/** A printable summary of the graph (for tests and `--emit-plan`). */
export function describeGraph(g: JobGraph): string {
  const lines: string[] = [`job ${g.job}`];
  for (const n of g.nodes) {
    const outs = n.outputs.length ? ` -> ${n.outputs.map((o) => `#${o}`).join(", ")}` : "";
    switch (n.kind) {
      case "source":
        lines.push(`#${n.id} source ${n.label} (${n.source.connector?.kind})${outs}`);
        break;
      case "chain":
        lines.push(`#${n.id} chain ${n.label} [${n.stages.map((s) => s.kind).join(", ") || "merge"}]${outs}`);
        break;
      case "operator":
        lines.push(`#${n.id} ${n.stage.kind} uid=${n.stage.uid}${n.input.key ? " keyed" : ""}${outs}`);
        break;
      case "sink":
        lines.push(`#${n.id} sink ${n.sink.connector?.kind}${outs}`);
        break;
    }
  }
  return lines.join("\n");
}

export type { A };
