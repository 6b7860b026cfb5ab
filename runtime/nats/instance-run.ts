// What a run does differently as one instance of several (driver/instances.ts has the
// flags): which sources it reads, where it keeps its checkpoints and files, what its
// checkpoints record, and the refusal of another instance's or bundle's checkpoints
// (FLOW5030). In the NATS part of a bundle (nats/parts.ts).

import { createHash } from "node:crypto";
import type { Manifest } from "../api.js";
import type { CheckpointMetadata } from "../checkpoint/storage.js";
import type { BatchResult, Source, SourcePosition } from "../connectors/contract.js";
import { several } from "../driver/instances.js";
import type { Flags } from "../driver/live.js";
import { JobError } from "../errors.js";

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
