// `flowc graph`: the planned job graph as Mermaid (default) or Graphviz dot. Sources,
// fused stateless chains, stateful operators with their uid, key and state, joins, sinks,
// and the edges between them (late streams dashed).

import type { OperatorManifest } from "../runtime/api.js";
import type { GraphData, GraphDataNode } from "../runtime/graph-data.js";
import { showType } from "../runtime/savepoint/canonical.js";
import { showMs, type GraphNode, type JobGraph } from "./plan.js";
import { typeToString } from "./types.js";

interface Box {
  id: string;
  lines: string[];
  shape: "source" | "chain" | "operator" | "sink";
}

function connectorText(c: { kind: string; path?: string } | null | undefined): string {
  if (!c) return "?";
  if (c.kind === "nats") {
    // A NATS stream: the subject (or the lambda that computes one per record) and the stream.
    const n = c as unknown as { subject: string | null; stream: string; until?: string | null; route?: { param: { name: string } } | null };
    const subject = n.subject !== null ? JSON.stringify(n.subject) : `${n.route?.param.name ?? "x"} => …`;
    return `nats(${subject}, stream: ${JSON.stringify(n.stream)}${n.until ? `, until: ${JSON.stringify(n.until)}` : ""})`;
  }
  return c.path !== undefined ? `${c.kind}(${JSON.stringify(c.path)})` : `${c.kind}()`;
}

function boxOf(n: GraphNode, ops: OperatorManifest[]): Box {
  const id = `n${n.id}`;
  const state = (uid: string): string[] => {
    const op = ops.find((o) => o.uid === uid);
    if (!op) return [];
    const lines = [op.key ? `key: ${showType(op.key, true)}` : "no key: one group"];
    if (op.spec) lines.push(op.spec);
    if (op.states.length) lines.push(`state: ${op.states.map((s) => `${s.name} ${showType(s.type, true)}${op.ttl.includes(s.name) ? " (ttl)" : ""}`).join(", ")}`);
    if (op.timers) lines.push("timers");
    return lines;
  };
  switch (n.kind) {
    case "source": {
      const et = n.source.eventTime;
      const extra = et ? [`event time, watermark ${showMs(et.delay)}${et.idle !== null ? `, idle ${showMs(et.idle)}` : ""}`] : [];
      return { id, shape: "source", lines: [`source ${n.label}: ${typeToString(n.source.type)}`, connectorText(n.source.connector as { kind: string; path?: string }), ...extra] };
    }
    case "chain":
      return { id, shape: "chain", lines: n.stages.length ? [n.stages.map((s) => s.kind).join(" → ")] : ["union"] };
    case "operator": {
      const st = n.stage;
      const kind = st.kind === "aggregate" && st.window ? (st.window.kind === "count" ? "count window aggregate" : "window aggregate") : st.kind;
      return { id, shape: "operator", lines: [`${kind} ${n.uid}`, ...state(n.uid)] };
    }
    case "join":
      return { id, shape: "operator", lines: [`${n.join.temporal ? "temporal join" : "join"} ${n.uid}`, ...state(n.uid)] };
    case "sink":
      return { id, shape: "sink", lines: [`sink ${n.index}: ${connectorText(n.sink.connector as { kind: string; path?: string })}`] };
  }
}

/**
 * The edges; `exchange`: one that goes through an exchange when the job runs as several
 * instances (`unless`: not when N divides the partitions of a source partitioned by the key).
 */
function edges(g: JobGraph): { from: string; to: string; late: boolean; exchange?: true; unless?: number }[] {
  const through = (from: number, to: number) => g.exchanges.find((x) => x.from === from && x.to === to);
  return g.nodes.flatMap((n) => [
    ...n.outputs.map((o) => {
      const x = through(n.id, o);
      return { from: `n${n.id}`, to: `n${o}`, late: false, ...(x ? { exchange: true as const } : {}), ...(x?.partitionedBy ? { unless: x.partitionedBy.partitions } : {}) };
    }),
    ...n.lateOutputs.map((o) => ({ from: `n${n.id}`, to: `n${o}`, late: true })),
  ]);
}

function exchangeLabel(e: { unless?: number }): string {
  return e.unless !== undefined ? `exchange unless N divides ${e.unless}` : "exchange";
}

/** Mermaid text in a quoted label: quotes and markup characters as entity codes. */
function mermaidText(s: string): string {
  return s.replace(/[#"<>&]/g, (c) => `#${c.charCodeAt(0)};`);
}

export function mermaid(g: JobGraph): string {
  const out = ["flowchart LR"];
  const open: Record<Box["shape"], [string, string]> = { source: ["[/", "/]"], chain: ["(", ")"], operator: ["[", "]"], sink: ["[\\", "\\]"] };
  for (const n of g.nodes) {
    const b = boxOf(n, g.operators);
    const [l, r] = open[b.shape];
    out.push(`  ${b.id}${l}"${b.lines.map(mermaidText).join("<br/>")}"${r}`);
  }
  for (const e of edges(g)) out.push(e.late ? `  ${e.from} -. late .-> ${e.to}` : e.exchange ? `  ${e.from} == ${exchangeLabel(e)} ==> ${e.to}` : `  ${e.from} --> ${e.to}`);
  return out.join("\n") + "\n";
}

/**
 * The graph as plain data for the dashboard of a running job (runtime/graph-data.ts): the
 * boxes `flowc graph` draws, with what ties each to the job's /status (source and sink
 * index, operator uid).
 */
export function graphData(g: JobGraph): GraphData {
  const nodes = g.nodes.map((n): GraphDataNode => {
    const [title, ...lines] = boxOf(n, g.operators).lines;
    const node: GraphDataNode = { id: `n${n.id}`, kind: n.kind, title: title!, lines };
    if (n.kind === "source") node.source = n.index;
    if (n.kind === "sink") node.sink = n.index;
    if (n.kind === "operator" || n.kind === "join") node.uid = n.uid;
    return node;
  });
  return { job: g.job, eventTime: g.eventTime, nodes, edges: edges(g) };
}

function dotText(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`);
}

export function dot(g: JobGraph): string {
  const shape: Record<Box["shape"], string> = { source: "parallelogram", chain: "box, style=rounded", operator: "box", sink: "invhouse" };
  const out = [`digraph "${dotText(g.job)}" {`, "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];'];
  for (const n of g.nodes) {
    const b = boxOf(n, g.operators);
    out.push(`  ${b.id} [shape=${shape[b.shape]}, label="${b.lines.map(dotText).join("\\n")}"];`);
  }
  for (const e of edges(g)) out.push(`  ${e.from} -> ${e.to}${e.late ? ' [style=dashed, label="late"]' : e.exchange ? ` [style=bold, label="${exchangeLabel(e)}"]` : ""};`);
  out.push("}");
  return out.join("\n") + "\n";
}
