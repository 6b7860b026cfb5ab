// The job's manifest: what the compiler knows about a job as plain data (sources, sinks,
// operators with their state layout, policies). It is embedded in the bundle for the
// runtime, and `flowc check --against-savepoint` compares it with a savepoint without
// generating code.

import type { Manifest, SinkManifest, SourceManifest } from "../runtime/api.js";
import type { JobGraph } from "./plan.js";
import { toDesc } from "./types.js";

export function buildManifest(graph: JobGraph, opts: { sourceName: string; version: string }): Manifest {
  const sources: SourceManifest[] = graph.sources.map((s): SourceManifest => {
    const c = s.source.connector!;
    const type = toDesc(s.source.type);
    const et = s.source.eventTime;
    const eventTime = et ? { watermarkDelay: et.delay, idle: et.idle } : null;
    switch (c.kind) {
      case "values":
        return { name: s.label, connector: "values", type, eventTime };
      case "sequence":
        return { name: s.label, connector: "sequence", type, from: c.from, to: c.to, eventTime };
      case "file":
        return { name: s.label, connector: "file", type, path: c.path, format: c.format, onError: c.onError, follow: c.follow, eventTime };
      case "stdin":
        return { name: s.label, connector: "stdin", type, format: c.format, onError: c.onError, eventTime };
      case "nexmark":
        return { name: s.label, connector: "nexmark", type, of: c.of, events: c.events, seed: c.seed, eventTime };
    }
  });
  const sinks: SinkManifest[] = graph.sinks.map((s) => {
    const c = s.sink.connector!;
    const columns = c.format === "csv" && s.input.elem.kind === "record" ? s.input.elem.fields.map((f) => f.name) : null;
    return c.kind === "stdout" ? { connector: "stdout", format: c.format, columns } : { connector: "file", path: c.path, format: c.format, columns };
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
  };
}
