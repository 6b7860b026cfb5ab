// Every connector, by the manifest's `connector` name: the module under runtime/connectors/
// that implements it (contract.ts). A bundle imports only the connectors its manifest names
// (compiler/bundle.ts reads this table); the driver opens sources and sinks through them.
// Adding a connector: its module, and its line here.

import type { Manifest, SinkManifest, SourceManifest } from "../api.js";
import { deadLetterOf } from "./contract.js";

export const SOURCE_CONNECTORS = {
  values: "values",
  sequence: "sequence",
  file: "file-source",
  stdin: "stdin",
  nexmark: "nexmark",
  nats: "nats-source",
} as const satisfies Record<SourceManifest["connector"], string>;

export const SINK_CONNECTORS = {
  stdout: "stdout",
  file: "file-sink",
  nats: "nats-sink",
} as const satisfies Record<SinkManifest["connector"], string>;

/** The sink connector that writes a source's dead-letter file. */
export const DEAD_LETTER_CONNECTOR = "file" satisfies keyof typeof SINK_CONNECTORS;

/** Whether a job needs the NATS client: a nats connector, or checkpoints in an object store bucket. */
export function usesNats(m: Manifest): boolean {
  return m.sources.some((s) => s.connector === "nats") || m.sinks.some((s) => s.connector === "nats") || (m.checkpoint?.storage.startsWith("nats:") ?? false);
}

/** The connectors a job's manifest names (and the file sink for dead-letter files). */
export function connectorsOf(m: Manifest): { sources: (keyof typeof SOURCE_CONNECTORS)[]; sinks: (keyof typeof SINK_CONNECTORS)[] } {
  const sinks = new Set<keyof typeof SINK_CONNECTORS>(m.sinks.map((s) => s.connector));
  if (m.sources.some((s) => deadLetterOf(s) !== null)) sinks.add(DEAD_LETTER_CONNECTOR);
  return { sources: [...new Set(m.sources.map((s) => s.connector))], sinks: [...sinks] };
}
