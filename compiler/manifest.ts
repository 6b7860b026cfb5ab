// The job's manifest: what the compiler knows about a job as plain data (sources, sinks,
// operators with their state layout, policies). It is embedded in the bundle for the
// runtime, and `flowc check --against-savepoint` compares it with a savepoint without
// generating code. Each connector module writes its own entry (compiler/connectors/).

import type { Manifest, SinkManifest, SourceManifest } from "../runtime/api.js";
import { sinkModule, sourceModule } from "./connectors/index.js";
import type { JobGraph } from "./plan.js";
import { toDesc } from "./types.js";

export function buildManifest(graph: JobGraph, opts: { sourceName: string; version: string }): Manifest {
  const sources: SourceManifest[] = graph.sources.map((s): SourceManifest => {
    const c = s.source.connector!;
    const et = s.source.eventTime;
    return sourceModule(c).manifest(c, { name: s.label, type: toDesc(s.source.type), eventTime: et ? { watermarkDelay: et.delay, idle: et.idle } : null });
  });
  const sinks: SinkManifest[] = graph.sinks.map((s) => {
    const c = s.sink.connector!;
    return sinkModule(c).manifest(c, s.input.elem);
  });
  return {
    formatVersion: 1,
    job: graph.job,
    flowFile: opts.sourceName,
    compiler: `flowc ${opts.version}`,
    sources,
    sinks,
    operators: graph.operators,
    checkpoint: graph.checkpoint,
    restart: graph.restart,
    state: graph.checked.state,
    keyGroups: graph.checked.keyGroups,
    ...(graph.exchanges.length ? { exchanges: graph.exchanges.map(({ uid, input, keyed, sources, upstream, codec, partitionedBy }) => ({ uid, input, keyed, sources, upstream, codec, ...(partitionedBy ? { partitionedBy } : {}) })) } : {}),
  };
}
