// Recovery: what a run starts from. The newest checkpoint that verifies (and is of this
// job), or a savepoint given with --from-savepoint, or the beginning; then, once the graph
// is built, the operators' state and the sources' positions restored from it.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BuiltJob, Manifest, OperatorManifest } from "../api.js";
import { ensureRoot, IncompleteCheckpoint, listCheckpoints, loadVerified, removeAll, retain, type CheckpointMetadata } from "../checkpoint/storage.js";
import { deadLetterOf, localPath, type Source, type SourcePosition } from "../connectors/contract.js";
import { JobError } from "../errors.js";
import type { Log } from "../log.js";
import type { StatefulOperator } from "../operator.js";
import { loadAdmin } from "../admin-load.js";
import type { RestorePlan } from "../savepoint/compat.js";
import type { SavepointMetadata } from "../savepoint/format.js";
import type * as SavepointOps from "../savepoint/ops.js";
import type { Flags } from "./live.js";

/** The checkpoint folder: resolved, and as the user gave it (for messages). */
export interface Storage {
  path: string;
  shown: string;
}

/** A savepoint to start from: its folder, metadata, and what of it this job takes over. */
export interface StartingSavepoint {
  dir: string;
  shown: string;
  meta: SavepointMetadata;
  plan: RestorePlan;
  /** The savepoint code (from the bundle's embedded chunk). */
  ops: typeof SavepointOps;
}

/** What a run starts from. */
export interface Start {
  /** The checkpoint it resumes from. */
  restored: CheckpointMetadata | null;
  /** The savepoint it starts from (null when a checkpoint taken since it wins). */
  savepoint: StartingSavepoint | null;
  /** The id of the next checkpoint. */
  nextId: number;
  /** The checksum of the savepoint this run of the job descends from, carried into its checkpoints. */
  fromSavepoint: string | null;
}

/** How a checkpoint's operators differ from this job's, in a few words. */
function layoutDifference(theirs: OperatorManifest[], ours: OperatorManifest[]): string {
  const parts: string[] = [];
  const states = (o: OperatorManifest): string => o.states.map((s) => s.name).join(", ") || "no state";
  for (const t of theirs) {
    const o = ours.find((x) => x.uid === t.uid);
    if (!o) parts.push(`operator \`${t.uid}\` is not in this job`);
    else if (JSON.stringify(t.key) !== JSON.stringify(o.key)) parts.push(`operator \`${t.uid}\` is keyed differently`);
    else if (JSON.stringify(t.states) !== JSON.stringify(o.states)) parts.push(`operator \`${t.uid}\` keeps ${states(o)} here, but the checkpoint has ${states(t)}`);
  }
  for (const o of ours) if (!theirs.some((t) => t.uid === o.uid)) parts.push(`operator \`${o.uid}\` is new`);
  return parts.join("; ") || "the job differs";
}

/** FLOW5023: state split by another key-group count cannot be read. */
function keyGroupsDiffer(what: string, theirs: number, ours: number): JobError {
  return new JobError("FLOW5023", `${what} was taken with ${theirs} key groups, and this job has ${ours} (\`key_groups\` in the state block)`, `keep \`key_groups ${theirs}\`, or start from the beginning with --fresh`);
}

/** Picks the newest checkpoint that verifies, reporting the ones it skips. */
function chooseCheckpoint(root: string, shown: string, m: Manifest, log: Log, checkMore?: (meta: CheckpointMetadata) => void): CheckpointMetadata | null {
  for (const id of listCheckpoints(root)) {
    try {
      const meta = loadVerified(root, id);
      checkMore?.(meta);
      const layout = JSON.stringify(meta.layout) !== JSON.stringify(m.operators);
      const disk = meta.stateBackend === "disk";
      if (meta.job !== m.job || layout || disk !== !!m.state) {
        throw new JobError(
          "FLOW5006",
          `checkpoint ${id} in ${shown} was taken by a different version of job \`${meta.job}\`: ${meta.job !== m.job ? `this job is \`${m.job}\`` : layout ? layoutDifference(meta.layout, m.operators) : `its state was ${disk ? "on disk" : "in memory"}; change backends through a savepoint`}`,
          "start from the beginning with --fresh, or point --checkpoint-dir elsewhere",
        );
      }
      const theirs = meta.keyGroups ?? 128;
      if (theirs !== m.keyGroups) throw keyGroupsDiffer(`checkpoint ${meta.id} in ${shown}`, theirs, m.keyGroups);
      return meta;
    } catch (e) {
      if (e instanceof JobError) throw e;
      if (e instanceof IncompleteCheckpoint) log.info(`checkpoint ${id} was not completed (the job stopped while taking it); using an older one`);
      else log.warn(`checkpoint ${id} in ${shown} is damaged (${(e as Error).message}); it is skipped for an older one`);
    }
  }
  return null;
}

/**
 * The warning when checkpoints exist but none can be used: the job starts from the
 * beginning, and what that does to its outputs.
 */
function startingOver(m: Manifest, shown: string, found: number): string {
  const files = [...m.sinks.flatMap((s) => localPath(s) ?? []), ...m.sources.flatMap((s) => deadLetterOf(s) ?? [])];
  const others = [...new Set(m.sinks.flatMap((s) => (localPath(s) === null ? [s.connector] : [])))];
  const effects = [
    files.length ? `${files.join(", ")} ${files.length === 1 ? "is" : "are"} replaced by this run's output (an exactly-once file holds what the run it belongs to commits)` : null,
    ...others.map((c) => (c === "nats" ? "NATS sinks publish the output again from the start (what earlier runs committed stays in their streams)" : `${c} prints the output again from the start`)),
  ].filter((x) => x !== null);
  return `no usable checkpoint in ${shown} (${found} found, none complete and intact): the job starts from the beginning of its input${effects.length ? `; ${effects.join("; ")}` : ""}`;
}

/** Reads and checks the savepoint of --from-savepoint: of this job, and one it can take over. */
export async function openSavepoint(flags: Flags, m: Manifest, local?: string): Promise<StartingSavepoint | null> {
  if (!flags.fromSavepoint) return null;
  const ops = (await loadAdmin()).savepoints;
  const shown = flags.fromSavepoint;
  // A savepoint in an object store bucket is read from the local copy it was downloaded to.
  const dir = local ?? resolve(shown);
  let meta: SavepointMetadata;
  try {
    meta = ops.readSavepoint(dir, true, shown);
  } catch (e) {
    if (e instanceof ops.SavepointError) throw new JobError("FLOW5009", `cannot restore savepoint ${shown}: ${e.message}`, "flowc savepoint inspect <dir> shows what a savepoint holds");
    throw e;
  }
  if (meta.job !== m.job) throw new JobError("FLOW5009", `savepoint ${shown} was taken by job \`${meta.job}\`, not \`${m.job}\``, "restore a savepoint of this job (the job's name is part of it)");
  const theirs = meta.keyGroups ?? 128;
  if (theirs !== m.keyGroups) throw keyGroupsDiffer(`savepoint ${shown}`, theirs, m.keyGroups);
  const plan = ops.planRestore(meta, m);
  const refused = ops.refusal(plan, flags.allowNonRestored);
  if (refused) {
    const lines = (refused.code === "FLOW5008" ? plan.incompatible : plan.dropped).map((l) => `\n  = not restored: ${l.what}: ${l.detail}`).join("");
    throw new JobError(refused.code, `cannot restore savepoint ${shown}: ${refused.message}${lines}`, refused.hint);
  }
  return { dir, shown, meta, plan, ops };
}

/**
 * Chooses what the run starts from, in a checkpoint folder that is checked and locked:
 * with --fresh, the beginning (its checkpoints are deleted); from a savepoint, the savepoint,
 * unless a checkpoint was taken since restoring this very savepoint (the job failed since);
 * else the newest usable checkpoint. Checkpoints not needed any more are deleted.
 */
export function chooseStart(storage: Storage | null, sp: StartingSavepoint | null, fresh: boolean, m: Manifest, log: Log, checkMore?: (meta: CheckpointMetadata) => void): Start {
  let restored: CheckpointMetadata | null = null;
  let nextId = 1;
  if (storage) {
    const root = storage.path;
    ensureRoot(root);
    if (fresh) removeAll(root);
    else if (sp) {
      // Older checkpoints (of the job before the change) go.
      let resumed: CheckpointMetadata | null = null;
      try {
        resumed = chooseCheckpoint(root, storage.shown, m, log, checkMore);
      } catch (e) {
        if (!(e instanceof JobError)) throw e;
      }
      if (resumed && resumed.fromSavepoint === sp.meta.checksum) {
        restored = resumed;
        log.info(`savepoint ${sp.shown} was restored before: resuming from checkpoint ${resumed.id} taken since`);
      } else removeAll(root);
    } else {
      restored = chooseCheckpoint(root, storage.shown, m, log, checkMore);
      if (!restored && listCheckpoints(root).length > 0) log.warn(startingOver(m, storage.shown, listCheckpoints(root).length));
    }
    nextId = (listCheckpoints(root)[0] ?? 0) + 1;
    retain(root, restored ? [restored] : []);
    if (restored) log.info(`resuming from checkpoint ${restored.id} in ${storage.shown}`);
  }
  const fromSavepoint = restored ? (restored.fromSavepoint ?? null) : (sp?.meta.checksum ?? null);
  return { restored, savepoint: restored ? null : sp, nextId, fromSavepoint };
}

/** Restores the operators' state and the sources' positions (and watermarks) from the start's checkpoint or savepoint. */
export function restoreState(start: Start, storage: Storage | null, operators: StatefulOperator[], sources: Source[], built: BuiltJob, m: Manifest, log: Log): void {
  const seek = (name: string, position: SourcePosition): void => {
    const i = sources.findIndex((s) => s.name === name);
    const src = sources[i];
    if (!src) return;
    if (!src.replayable) log.warn(`source \`${src.name}\` cannot be replayed: it goes on from the start of this process's input`);
    else src.seek(position);
    // Watermarks as they were (operators keep their own as well).
    const w = position.watermark;
    if (w !== undefined) built.sources[i]!.setWatermark?.(w === null ? -Infinity : w);
  };
  const { restored, savepoint: from } = start;
  if (restored && storage) {
    for (const op of restored.operators) {
      const store = operators.find((st) => st.uid === op.uid);
      if (!store) throw new Error(`internal: checkpoint operator ${op.uid} has no store`);
      for (const f of op.files) store.restore(readFileSync(join(storage.path, f)));
    }
    for (const p of restored.sources) seek(p.name, p.position);
  }
  if (from) {
    let keys = 0;
    for (const [uid, r] of from.plan.operators) {
      const op = m.operators.find((o) => o.uid === uid)!;
      keys += from.ops.restoreOperator(
        {
          op,
          states: r.states,
          timers: r.timers,
          internal: r.internal,
          rows: (part) => {
            const p = r.saved.parts.find((x) => x.name === part);
            return p ? from.ops.readPartRows(from.dir, p) : null;
          },
          meta: (r.saved.meta ?? {}) as Record<string, unknown>,
        },
        operators,
      );
    }
    for (const s of from.meta.sources) if (from.plan.sources.has(s.name)) seek(s.name, s.position);
    log.info(`restored savepoint ${from.shown}: ${from.plan.operators.size} operator(s), ${keys} key(s), ${from.plan.sources.size} source position(s)`);
    if (from.plan.dropped.length) log.warn(`not restored from savepoint ${from.shown} (--allow-non-restored-state): ${from.plan.dropped.map((l) => l.what).join(", ")}`);
  }
}
