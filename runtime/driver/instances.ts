// Several instances of one job (LANGUAGE.md 10.1; docs/operations.md, "Running several
// instances"): `--instance i/N`. This module holds what a run does differently then:
//   - sources other than partitioned NATS sources are read by instance 0 only (the others
//     get an empty source), so each record enters the job once;
//   - each instance keeps its checkpoints apart (`<storage>/instance-<i>`, or a bucket of its
//     own) and records its number, N and the bundle in them: another one is refused (FLOW5030);
//   - every exchange of the manifest gets a writer (an exactly-once NATS sink, committed with
//     the instance's checkpoints) and a reader (a source of the instance);
//   - when every input of an exchange on this instance has ended, its writer publishes its end.
// The exchanges themselves (runtime/nats/exchange.ts, nats/instances.ts) and rescaling
// (nats/rescale.ts) are reached through `JobParts.nats`: a job runs as several instances only
// with the NATS client, so other bundles carry none of it.

import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Manifest } from "../api.js";
import type { CheckpointMetadata } from "../checkpoint/storage.js";
import type { BatchResult, Source, SourcePosition } from "../connectors/contract.js";
import { JobError } from "../errors.js";
import type { NatsParts } from "../nats/parts.js";
import type { Flags } from "./live.js";

/** `--instance i/N`, and what goes with it. */
export interface InstanceFlags {
  index: number;
  count: number;
  run: string | null;
  replicas: number;
}

/** Parses `i/N` (0 ≤ i < N); null when it is not that. */
export function parseInstance(text: string): { index: number; count: number } | null {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1024 || index >= count) return null;
  return { index, count };
}

/**
 * Whether the run is an instance of a job of several (`--instance i/N`; also `0/1`, one
 * instance that reads and writes exchanges, as after rescaling down to one).
 */
export function several(flags: Flags): boolean {
  return flags.instance !== null && flags.instance !== undefined;
}

/** A hash of the job's manifest: the bundle's identity as far as instances are concerned. */
export function bundleId(m: Manifest): string {
  return createHash("sha256").update(JSON.stringify(m)).digest("hex").slice(0, 16);
}

/** Whether a source is read on this instance: partitioned NATS sources everywhere, the others by instance 0. */
export function readsSource(m: Manifest, i: number, flags: Flags): boolean {
  if (!several(flags)) return true;
  const s = m.sources[i]!;
  if (s.connector === "nats" && s.partitions !== undefined) return true;
  return flags.instance!.index === 0;
}

/** A source this instance does not read: it ends at once. */
export class EmptySource implements Source {
  readonly replayable = true;
  readonly live = false;
  constructor(readonly name: string) {}
  next(): BatchResult {
    return null;
  }
  position(): SourcePosition {
    return { records: 0 };
  }
  seek(): void {}
  close(): void {}
}

/** The checkpoint folder of this instance. */
export function instanceStorage(where: string, flags: Flags): string {
  if (!several(flags)) return where;
  const i = flags.instance!.index;
  if (where.startsWith("nats:")) {
    const rest = where.slice(5);
    const slash = rest.indexOf("/");
    return slash < 0 ? `nats:${rest}_i${i}` : `nats:${rest.slice(0, slash)}_i${i}${rest.slice(slash)}`;
  }
  return `${where.replace(/\/+$/, "")}/instance-${i}`;
}

/** `out/x.jsonl` as instance i writes it: `out/x.i.jsonl` (each instance its own file). */
export function instanceFile(path: string, i: number): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}.${i}${path.slice(dot)}` : `${path}.${i}`;
}

/** The manifest as instance i writes its local files: file sinks and dead-letter files of its own. */
export function instancePaths(m: Manifest, i: number): Manifest {
  return {
    ...m,
    sinks: m.sinks.map((s) => (s.connector === "file" ? { ...s, path: instanceFile(s.path, i) } : s)),
    sources: m.sources.map((s) => ("onError" in s && s.onError.deadLetter !== null ? { ...s, onError: { ...s.onError, deadLetter: instanceFile(s.onError.deadLetter, i) } } : s)) as Manifest["sources"],
  };
}

/** What an instance records in its checkpoints. */
export function instanceRecord(m: Manifest, flags: Flags): { index: number; count: number; groups: number; bundle: string; run: string } {
  const f = flags.instance ?? { index: 0, count: 1, run: null };
  return { index: f.index, count: f.count, groups: m.keyGroups ?? 128, bundle: bundleId(m), run: f.run ?? bundleId(m) };
}

/** Refuses a checkpoint of another instance number, another N or another bundle (FLOW5030). */
export function checkInstance(meta: CheckpointMetadata, m: Manifest, flags: Flags, shown: string): void {
  const theirs = (meta as CheckpointMetadata & { instance?: ReturnType<typeof instanceRecord> }).instance;
  if (!several(flags) && !theirs) return;
  const ours = instanceRecord(m, flags);
  const t = theirs ?? { index: 0, count: 1, groups: ours.groups, bundle: ours.bundle, run: ours.run };
  if (t.count !== ours.count || t.index !== ours.index) {
    throw new JobError(
      "FLOW5030",
      `checkpoint ${meta.id} in ${shown} was taken by instance ${t.index} of ${t.count}; this is instance ${ours.index} of ${ours.count}`,
      "start it as the instance its checkpoints belong to; to change the number of instances, take a savepoint of every instance (flowc savepoint URL… --stop --dir D) and start the new ones with --from-savepoint D",
    );
  }
  if (t.bundle !== ours.bundle || t.groups !== ours.groups) {
    throw new JobError(
      "FLOW5030",
      `checkpoint ${meta.id} in ${shown} was taken by another bundle of job \`${m.job}\` (${t.bundle}, this one is ${ours.bundle}): all instances run one bundle`,
      "run the bundle the other instances run; to change the job, stop every instance with a savepoint and start the new bundle from it",
    );
  }
}

/** Refuses what cannot run as several instances (FLOW5031). */
export function checkSeveral(m: Manifest, nats: NatsParts | undefined): void {
  if (!nats) {
    throw new JobError("FLOW5031", `job \`${m.job}\` cannot run as several instances: its bundle holds no NATS client, which carries the records between instances`, "compile it with `flowc compile --nats` (flowc run --instances does)");
  }
  const join = m.operators.find((o) => o.kind === "join" || o.kind === "temporal_join");
  if (join) throw new JobError("FLOW5031", `job \`${m.job}\` cannot run as several instances: join \`${join.uid}\` does not run across instances yet`, "run the job as one instance");
}

/** Whether `dir` is a folder of savepoints of several instances (no savepoint itself, savepoints inside). */
export function isSavepointSet(dir: string): boolean {
  if (!existsSync(dir) || existsSync(join(dir, "_savepoint.json"))) return false;
  return readdirSync(dir).some((f) => existsSync(join(dir, f, "_savepoint.json")));
}
