// One run of a job (docs/architecture.md, "The runtime"): check and open what it reads and
// writes, choose what it starts from, build the generated graph and restore its state, run
// the batch loop, and finish with a final checkpoint. A failure of user code or of a sink
// ends the run with the failure, for the supervisor in main.ts to restart from.

import { join, resolve } from "node:path";
import type { BuiltJob, JobModule, Manifest } from "../api.js";
import { Coordinator } from "../checkpoint/coordinator.js";
import { checkStorage, removeAll } from "../checkpoint/storage.js";
import { localPath, type Connectors, type Source, type SourcePosition } from "../connectors/contract.js";
import { JobError } from "../errors.js";
import { FlowRuntimeError } from "../lib.js";
import type { LockSet } from "../locks.js";
import type { Log } from "../log.js";
import type { OperatorFactories, StatefulOperator } from "../operator.js";
import { checkPaths, lockTargets } from "../paths.js";
import { Context } from "./context.js";
import type { Flags, Live, RunStatus, Stop } from "./live.js";
import { loop } from "./loop.js";
import { Inputs, Outputs } from "./open.js";
import { chooseStart, openSavepoint, restoreState, type Storage } from "./recover.js";
import { serveRequests, type SavepointParts } from "./savepoint.js";
import type { StateBackend, StateBackendRun } from "../state/disk/backend.js";

/** The parts of the runtime a bundle holds for its job: its connectors and operators. */
export interface JobParts {
  connectors: Connectors;
  operators: OperatorFactories;
  /** The job graph as JSON text (runtime/graph-data.ts), for the admin endpoint's dashboard. */
  graph?: string;
  /** The disk state backend: only in the bundles of jobs with `state { backend disk }`. */
  state?: StateBackend;
}

export type Failure = JobError | FlowRuntimeError;

export type Outcome = { kind: "done" } | { kind: "stopped" } | { kind: "failed"; error: Failure };

/** What one run is given. */
export interface RunEnv {
  job: JobModule;
  parts: JobParts;
  flags: Flags;
  /** Start from the beginning (--fresh, first run only). */
  fresh: boolean;
  log: Log;
  stop: Stop;
  live: Live;
  /** The checkpoint folder's and outputs' locks, held for the process's life. */
  locks: LockSet;
}

export async function runOnce(env: RunEnv): Promise<Outcome> {
  const { job, flags, log, live } = env;
  const m = job.manifest;
  const cp = m.checkpoint;
  const storage: Storage | null = cp ? { path: resolve(flags.checkpointDir ?? cp.storage), shown: flags.checkpointDir ?? cp.storage } : null;
  live.historyFile = storage ? join(storage.path, "history.jsonl") : null;
  const inputs = new Inputs();
  const outputs = new Outputs();
  let coordinator: Coordinator | null = null;
  let disk: StateBackendRun | null = null;
  let finished = false;
  try {
    // Nothing is written before every check has passed (docs/operations.md, "Safety"): paths
    // that collide, inputs that cannot be read, a checkpoint folder that is not one, and
    // locks held by another copy of the job all stop it with every file as it was.
    const savepoint = openSavepoint(flags, m);
    if (savepoint) live.restoredFrom ??= { path: savepoint.dir, createdAt: savepoint.meta.createdAt, trigger: "restored", durationMs: null };
    checkPaths(m, storage);
    inputs.open(m, env.parts.connectors, log);
    if (storage) checkStorage(storage.path, storage.shown, env.fresh);
    const stateDir = m.state ? { path: resolve(m.state.dir), shown: m.state.dir } : null;
    if (stateDir) env.parts.state!.check(stateDir);
    env.locks.acquireAll(lockTargets(m, storage, stateDir));
    const start = chooseStart(storage, savepoint, env.fresh, m, log);
    // The store is a working copy: opened empty, and filled from what the run starts from.
    if (m.state && stateDir) disk = await env.parts.state!.open(m.state, stateDir, storage !== null);
    outputs.open(m, env.parts.connectors, { staging: storage?.path ?? null, restored: start.restored, savepoint: start.savepoint?.meta.sinks ?? null }, inputs);
    const ctx = new Context(m, outputs.sinks, { ...env.parts.operators, ...disk?.operators }, disk);
    const built = job.build(ctx);
    inputs.bind(built);
    restoreState(start, storage, ctx.operators, inputs.sources, built, m, log);

    const cuts = new Map<Source, SourcePosition>();
    const positions = () => positionsAt(inputs.sources, built, cuts);
    if (storage && cp) {
      coordinator = new Coordinator(cp, storage.path, m, { operators: ctx.operators, positions, sinks: outputs.transactional }, log, start.restored, start.nextId);
      coordinator.fromSavepoint = start.fromSavepoint;
      coordinator.onHistory = (e) => live.onHistory(e);
    }
    const sourceRecords = inputs.sources.map(() => 0);
    const savepoints: SavepointParts = { m, operators: ctx.operators, positions, outputs, coordinator, root: flags.savepointDir, log };
    live.status = () => runStatus(m, inputs.sources, built, sourceRecords, ctx, outputs, coordinator, disk);
    live.state = "running";

    log.info(`running: ${inputs.sources.length} source(s), ${m.sinks.length} sink(s), ${m.operators.length} stateful operator(s)${coordinator ? `, checkpoints every ${cp!.every} ms in ${storage!.path}` : ""}`);
    const started = performance.now();
    // `idle d` applies to live sources: stdin and followed files.
    const idleTimes = inputs.sources.map((s, i) => (s.live ? (m.sources[i]!.eventTime?.idle ?? null) : null));
    const { result, records } = await loop(inputs.sources, built.sources, outputs.all, coordinator, env.stop, cuts, idleTimes, sourceRecords, () => serveRequests(savepoints, live));
    live.dropRequests(`the job ${result === "end" ? "reached the end of its input" : "stopped"} before the savepoint could be taken`);
    if (coordinator) {
      await coordinator.settle();
      await coordinator.start(result === "end" ? "final" : "stop");
      coordinator.check();
      if (result === "end") removeAll(storage!.path);
    }
    finished = result === "end";
    outputs.close();
    inputs.report(m, log);
    reportLate(ctx.operators, log);
    const cpu = process.cpuUsage();
    log.info(`${result === "end" ? "finished" : "stopped"}: ${records} record(s) in ${((performance.now() - started) / 1000).toFixed(3)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s)`);
    return result === "end" ? { kind: "done" } : { kind: "stopped" };
  } catch (e) {
    if (!(e instanceof JobError) && !(e instanceof FlowRuntimeError)) throw e;
    try {
      await coordinator?.settle();
    } catch {
      // the original failure is the one to report
    }
    outputs.abandon();
    return { kind: "failed", error: e };
  } finally {
    live.state = "restarting";
    live.status = null;
    inputs.close();
    // A job that reached its end needs its working copy no more; otherwise it stays for
    // inspection (the next start empties it anyway).
    disk?.store[finished ? "remove" : "close"]();
  }
}

/**
 * Each source's position for a checkpoint or savepoint: where a batch consumed part way
 * began and how far it got (`cuts`), with the source's watermark.
 */
function positionsAt(sources: Source[], built: BuiltJob, cuts: Map<Source, SourcePosition>): { name: string; position: SourcePosition }[] {
  return sources.map((s, i) => {
    const wm = built.sources[i]!.watermark?.();
    const position = cuts.get(s) ?? s.position();
    return { name: s.name, position: wm === undefined ? position : { ...position, watermark: Number.isFinite(wm) ? wm : wm > 0 ? Number.MAX_SAFE_INTEGER : null } };
  });
}

/** The run's status for the admin endpoint. */
function runStatus(m: Manifest, sources: Source[], built: BuiltJob, sourceRecords: number[], ctx: Context, outputs: Outputs, coordinator: Coordinator | null, disk: StateBackendRun | null): RunStatus {
  const finite = (w: number | null | undefined): number | null => (w !== undefined && w !== null && Number.isFinite(w) ? w : null);
  return {
    sources: sources.map((s, i) => {
      const watermark = finite(built.sources[i]!.watermark?.());
      // A source's watermark is the newest event time it has seen less its delay.
      const et = m.sources[i]!.eventTime;
      const newestEventTime = watermark !== null && et ? watermark + et.watermarkDelay : null;
      return { name: s.name, connector: m.sources[i]!.connector, records: sourceRecords[i]!, bytes: s.position().offset ?? null, watermark, newestEventTime, progress: s.progress?.() ?? null };
    }),
    operators: m.operators.map((op, i) => {
      const main = ctx.operators.find((st) => st.uid === op.uid);
      // A process block's watermark is its timers'.
      const timers = ctx.operators.find((st) => st.uid === `${op.uid}$timers`);
      const wm = main?.currentWatermark() ?? timers?.currentWatermark();
      const lateDropped = (main?.lateDropped ?? 0) + (timers?.lateDropped ?? 0);
      // Joins and count windows: the elements or versions they hold (others leave it out).
      const held = main?.held ?? null;
      return { uid: op.uid, kind: op.kind, recordsIn: ctx.counts[2 * i]!, recordsOut: ctx.counts[2 * i + 1]!, keys: main?.size ?? 0, ...(held !== null ? { entries: held } : {}), watermark: finite(wm), lateDropped };
    }),
    sinks: m.sinks.map((s, i) => ({ index: i, connector: s.connector, path: localPath(s), records: outputs.sinks[i]!.lines, bytes: outputs.sinks[i]!.bytes })),
    lastCheckpoint: coordinator?.latest ? { id: coordinator.latest.id, createdAt: coordinator.latest.createdAt } : null,
    ...(disk ? { stateStore: disk.status() } : {}),
  };
}

/** Warns of elements dropped as too late, per operator. */
function reportLate(operators: StatefulOperator[], log: Log): void {
  for (const st of operators) {
    const late = st.lateDropped;
    if (late > 0) log.warn(`\`${st.uid}\`: ${late} element${late === 1 ? "" : "s"} came too late and ${late === 1 ? "was" : "were"} dropped`);
  }
}
