// Several instances of one job (LANGUAGE.md 10.1; docs/operations.md, "Running several
// instances"): `--instance i/N`. This module holds what a run does differently then:
//   - sources other than partitioned NATS sources are read by instance 0 only (the others
//     get an empty source), so each record enters the job once;
//   - each instance keeps its checkpoints apart (`<storage>/instance-<i>`, or a bucket of its
//     own) and records its number, N and the bundle in them: another one is refused (FLOW5030);
//   - every exchange of the manifest gets a writer (an exactly-once NATS sink, committed with
//     the instance's checkpoints) and a reader (a source of the instance);
//   - when every input of an exchange on this instance has ended, its writer publishes its end.
// All of that but the flags is in the NATS part of a bundle, reached through `JobParts.nats`
// (nats/instance-run.ts, nats/instances.ts, nats/exchange.ts, nats/rescale.ts): a job runs
// as several instances only with the NATS client, so other bundles carry none of it.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Manifest } from "../api.js";
import type { CheckpointMetadata } from "../checkpoint/storage.js";
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

/** A run without --instance that found a checkpoint taken by an instance (--checkpoint-dir into its folder): FLOW5030. */
export function checkNotInstance(meta: CheckpointMetadata, shown: string): void {
  const t = (meta as CheckpointMetadata & { instance?: { index: number; count: number } }).instance;
  if (t) throw new JobError("FLOW5030", `checkpoint ${meta.id} in ${shown} was taken by instance ${t.index} of ${t.count}; this run is not an instance`, `start it with --instance ${t.index}/${t.count}`);
}

/** Refuses what cannot run as several instances (FLOW5031). */
export function checkSeveral(m: Manifest, nats: NatsParts | undefined): void {
  if (!nats) {
    throw new JobError("FLOW5031", `job \`${m.job}\` cannot run as several instances: its bundle holds no NATS client, which carries the records between instances`, "compile it with `flowc compile --nats` (flowc run --instances does)");
  }
}

/** Whether `dir` is a folder of savepoints of several instances (no savepoint itself, savepoints inside). */
export function isSavepointSet(dir: string): boolean {
  if (!existsSync(dir) || existsSync(join(dir, "_savepoint.json"))) return false;
  return readdirSync(dir).some((f) => existsSync(join(dir, f, "_savepoint.json")));
}
