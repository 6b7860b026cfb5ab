// Streams: sources (their type, event time and connector), lets and sinks (pipelines: a head
// stream or a join, then stages), each named stream checked on first use so that cycles are
// found (FLOW2008) and a `late:` stream is typed by the window that declares it.

import type * as A from "../ast.js";
import { didYouMean } from "../suggest.js";
import { checkSinkConnector, checkSourceConnector } from "./connectors.js";
import { ERROR_STREAM, declName, namesOfKind, type CheckContext } from "./context.js";
import { checkJoin } from "./join.js";
import type { JoinInfo, PipelineInfo, SinkInfo, SourceInfo, StageInfo, StreamType } from "./model.js";
import { checkStage } from "./stages.js";
import { checkEventTime, notWindowed } from "./time.js";
import { resolveType } from "./type-exprs.js";

export function checkSource(cx: CheckContext, d: A.SourceDecl): void {
  const type = resolveType(cx, d.type);
  const info: SourceInfo = { name: d.name.name, decl: d, type, connector: null, eventTime: null };
  cx.out.sources.push(info);
  cx.streamCache.set(d.name.name, { elem: type, key: null, time: d.eventTime !== null, window: null });
  if (d.eventTime) info.eventTime = checkEventTime(cx, d.eventTime, type);
  info.connector = checkSourceConnector(cx, d, type);
}

export function checkSink(cx: CheckContext, d: A.SinkDecl): void {
  if (cx.sinkInfos.has(d)) return;
  const info: SinkInfo = { decl: d, connector: null, head: null, join: null, stages: [], output: ERROR_STREAM };
  cx.sinkInfos.set(d, info);
  const p = checkPipeline(cx, d.pipeline);
  Object.assign(info, p);
  cx.out.sinks.push(info);
  notWindowed(cx, p.output, d.pipeline.span, "a sink");
  info.connector = checkSinkConnector(cx, d, p.output.elem);
}

/** The type of a named stream, checking its `let` on first use (and finding cycles). */
export function streamOf(cx: CheckContext, name: string, useSpan: A.Span): StreamType {
  const cached = cx.streamCache.get(name);
  if (cached === "resolving") {
    const d = cx.top.get(name)!;
    cx.diags.error("FLOW2008", useSpan, `stream \`${name}\` depends on itself`, {
      notes: [{ message: `\`${name}\` is defined here`, span: declName(d).span }],
      hints: ["a job graph cannot have cycles: read from a source or an earlier stream instead"],
    });
    return ERROR_STREAM;
  }
  if (cached) return cached;
  const d = cx.top.get(name);
  if (!d) {
    const streams = namesOfKind(cx, "source", "let");
    cx.diags.error("FLOW2001", useSpan, `unknown stream \`${name}\``, {
      hints: [didYouMean(name, streams) ?? (streams.length ? `streams in this file: ${streams.join(", ")}` : "declare a `source` first")],
    });
    return ERROR_STREAM;
  }
  if (d.kind === "source") return ERROR_STREAM; // reported with the source
  if (d.kind === "late") {
    if (d.owner.kind === "Let") streamOf(cx, d.owner.name.name, d.owner.name.span);
    else checkSink(cx, d.owner);
    return cx.lateTypes.get(name) ?? ERROR_STREAM;
  }
  if (d.kind !== "let") {
    cx.diags.error("FLOW2001", useSpan, `\`${name}\` is a ${d.kind === "type" ? "type" : "function"}, not a stream`);
    return ERROR_STREAM;
  }
  cx.streamCache.set(name, "resolving");
  const p = checkPipeline(cx, d.decl.pipeline);
  cx.out.lets.push({ name, decl: d.decl, ...p });
  cx.streamCache.set(name, p.output);
  return p.output;
}

function checkPipeline(cx: CheckContext, p: A.Pipeline): PipelineInfo {
  let current: StreamType;
  let head: string | null = null;
  let join: JoinInfo | null = null;
  if (p.head.kind === "Join") {
    join = checkJoin(cx, p.head);
    current = join.output;
  } else {
    head = p.head.name.name;
    current = cx.streamOf(head, p.head.name.span);
  }
  const stages: StageInfo[] = [];
  for (const s of p.stages) {
    const info = checkStage(cx, s, current);
    stages.push(info);
    current = info.output;
  }
  return { head, join, stages, output: current };
}
