// THE table of connectors (LANGUAGE.md section 9): every source and sink the language knows,
// one module each. The checker, FLOW2006's hints, the path collisions (FLOW4014), the
// manifest, generated code and the language server read this table and nothing else. Adding
// a connector: a module beside these (see connector.ts), a row here, and its runtime side.

import type { ConnectorSchema, SinkConnectorDef, SourceConnectorDef } from "./connector.js";
import { fileSink, type FileSink } from "./file-sink.js";
import { fileSource, type FileSource } from "./file.js";
import { natsSink, natsSource, type NatsSink, type NatsSource } from "./nats.js";
import { NEXMARK, type NexmarkSource } from "./nexmark.js";
import { sequence, type SequenceSource } from "./sequence.js";
import { stdin, type StdinSource } from "./stdin.js";
import { stdout, type StdoutSink } from "./stdout.js";
import { values, type ValuesSource } from "./values.js";

/** A source's connector after checking: what plan, emit and the manifest read. */
export type SourceConnector = ValuesSource | SequenceSource | FileSource | StdinSource | NexmarkSource | NatsSource;
export type SinkConnector = StdoutSink | FileSink | NatsSink;

export type SourceEntry = SourceConnectorDef<SourceConnector>;
export type SinkEntry = SinkConnectorDef<SinkConnector>;

export const SOURCES: readonly SourceEntry[] = [values, sequence, fileSource, stdin, ...NEXMARK, natsSource];

export const SINKS: readonly SinkEntry[] = [stdout, fileSink, natsSink];

/** The source connector called `name` in a .flow file. */
export function sourceEntry(name: string): SourceEntry | undefined {
  return SOURCES.find((c) => c.name === name);
}

/** The module that resolved a source connector. */
export function sourceModule(c: SourceConnector): SourceConnectorDef<SourceConnector> {
  return moduleOf(SOURCES, c.kind);
}

/** The module that resolved a sink connector. */
export function sinkModule(c: SinkConnector): SinkConnectorDef<SinkConnector> {
  return moduleOf(SINKS, c.kind);
}

function moduleOf<D extends ConnectorSchema & { kind: string }>(table: readonly D[], kind: string): D {
  const def = table.find((d) => d.kind === kind);
  if (!def) throw new Error(`internal: no connector resolves to ${kind}`);
  return def;
}

