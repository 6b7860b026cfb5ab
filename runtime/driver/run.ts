// One run of a job (docs/architecture.md, "The runtime"): check and open what it reads and
// writes, choose what it starts from, build the generated graph and restore its state, run
// the batch loop, and finish with a final checkpoint. A failure of user code or of a sink
// ends the run with the failure, for the supervisor in main.ts to restart from.

import { join, resolve } from "node:path";
import type { BuiltJob, JobModule, Manifest } from "../api.js";
import { Coordinator } from "../checkpoint/coordinator.js";
import { checkStorage, removeAll } from "../checkpoint/storage.js";
import { localPath, type Connectors, type Source, type SourcePosition } from "../connectors/contract.js";
import type { NatsParts } from "../nats/parts.js";
import type { CheckpointBucket } from "../nats/store.js";
import { JobError } from "../errors.js";
import { FlowRuntimeError } from "../lib.js";
import type { LockSet } from "../locks.js";
import type { Log } from "../log.js";
import type { OperatorFactories, StatefulOperator } from "../operator.js";
import { checkPaths, lockTargets } from "../paths.js";
import { Context } from "./context.js";
import type { Flags, Live, RunStatus, Stop } from "./live.js";
import { checkNotInstance, checkSeveral, isSavepointSet, several } from "./instances.js";
import type { Exchanges } from "../nats/instances.js";
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
  /** The NATS client, object store and locks: only in bundles of jobs that use NATS. */
  nats?: NatsParts;
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
  const many = several(flags);
  // Several instances (the NATS part of the bundle): each keeps its checkpoints (and file outputs) apart.
  const ip = many ? (env.parts.nats?.instance ?? null) : null;
  const where = cp ? (ip ? ip.instanceStorage(flags.checkpointDir ?? cp.storage, flags) : (flags.checkpointDir ?? cp.storage)) : null;
  const mo = ip ? ip.instancePaths(m, flags.instance!.index) : m;
  let exchanges: Exchanges | null = null;
  let storage: Storage | null = where ? { path: resolve(where), shown: where } : null;
  const inputs = new Inputs();
  const outputs = new Outputs();
  let coordinator: Coordinator | null = null;
  /** Checkpoints in an object store bucket: worked on in a local copy (runtime/nats/store.ts). */
  let bucket: CheckpointBucket | null = null;
  let disk: StateBackendRun | null = null;
  let finished = false;
  try {
    // Nothing is written before every check has passed (docs/operations.md, "Safety"): paths
    // that collide, inputs that cannot be read, a checkpoint folder that is not one, and
    // locks held by another copy of the job all stop it with every file as it was.
    let spLocal = flags.fromSavepoint?.startsWith("nats:") ? await env.parts.nats!.downloadSavepoint(flags.fromSavepoint) : undefined;
    // A folder of savepoints of every instance (rescaling): this instance's part of them.
    let spRun: string | null = null;
    if (flags.fromSavepoint && isSavepointSet(spLocal ?? resolve(flags.fromSavepoint))) {
      if (!many) throw new JobError("FLOW5032", `${flags.fromSavepoint} holds savepoints of several instances: start instances from it with --instance i/N (--instance 0/1 for one)`, "each instance takes the key groups it owns: start every one of the new instances with --instance i/N --from-savepoint " + flags.fromSavepoint);
      checkSeveral(m, env.parts.nats);
      const made = await env.parts.nats!.savepointForInstance(spLocal ?? resolve(flags.fromSavepoint), flags.fromSavepoint, m, flags.instance!.index, flags.instance!.count);
      spLocal = made.path;
      spRun = made.run;
      log.info(`savepoints of several instances in ${flags.fromSavepoint}: instance ${flags.instance!.index} of ${flags.instance!.count} takes the key groups g with g mod ${flags.instance!.count} = ${flags.instance!.index}`);
    }
    const savepoint = await openSavepoint(flags, m, spLocal);
    if (savepoint) live.restoredFrom ??= { path: savepoint.dir, createdAt: savepoint.meta.createdAt, trigger: "restored", durationMs: null };
    if (where?.startsWith("nats:")) {
      bucket = await env.parts.nats!.checkpoints(where);
      storage = { path: bucket.localDir, shown: where };
    }
    live.historyFile = storage ? join(storage.path, "history.jsonl") : null;
    if (many) checkSeveral(m, env.parts.nats);
    checkPaths(mo, storage);
    await inputs.open(m, env.parts.connectors, log, ip ? { reads: (i) => ip.readsSource(m, i, flags), empty: (name) => new ip.EmptySource(name), instance: { index: flags.instance!.index, count: flags.instance!.count } } : undefined);
    if (storage) checkStorage(storage.path, storage.shown, env.fresh);
    // A bucket is locked on the NATS server; its local copy is this process's own.
    const stateDir = m.state ? { path: resolve(m.state.dir), shown: m.state.dir } : null;
    if (stateDir) env.parts.state!.check(stateDir);
    env.locks.acquireAll(lockTargets(mo, bucket ? null : storage, stateDir));
    const start = chooseStart(storage, savepoint, env.fresh, m, log, storage ? (meta) => (ip ? ip.checkInstance(meta, m, flags, storage!.shown) : checkNotInstance(meta, storage!.shown)) : undefined);
    if (bucket) await bucket.sync(true);
    // The store is a working copy: opened empty, and filled from what the run starts from.
    if (m.state && stateDir) disk = await env.parts.state!.open(m.state, stateDir, storage !== null);
    const instance = many ? { index: flags.instance!.index, count: flags.instance!.count } : undefined;
    // The run the exchanges' messages belong to: the checkpoint's, the savepoints', the flag's.
    const restoredRun = (start.restored as { instance?: { run?: string } } | null)?.instance?.run;
    const spMetaRun = (start.savepoint?.meta as { instance?: { run?: string } } | undefined)?.instance?.run;
    const runFlags: Flags = many ? { ...flags, instance: { ...flags.instance!, run: restoredRun ?? spRun ?? spMetaRun ?? flags.instance!.run } } : flags;
    const outputStart = { staging: storage?.path ?? null, restored: start.restored, savepoint: start.savepoint?.meta.sinks ?? null, exactlyOnce: cp?.mode === "exactly_once", log, ...(instance ? { instance } : {}) };
    await outputs.open(mo, env.parts.connectors, outputStart, inputs);
    if (many && m.exchanges?.length) {
      exchanges = env.parts.nats!.exchanges(m, m.sources.length);
      await exchanges.open(runFlags, { header: null, staging: outputStart.staging, savepointed: null, fresh: !start.restored && !start.savepoint, exactlyOnce: outputStart.exactlyOnce, job: m.job, log, instance }, start.restored, log);
    }
    const ctx = new Context(m, outputs.sinks, { ...env.parts.operators, ...disk?.operators }, disk);
    const xs = exchanges;
    if (xs) ctx.exchanges = (i, entry, wm, status) => xs.handle(i, entry, wm, status);
    const built0 = job.build(ctx);
    inputs.bind(built0);
    xs?.bind();
    // The instance's inputs: the job's sources, then the exchanges' readers.
    const sources = xs ? [...inputs.sources, ...xs.readers] : inputs.sources;
    const built: BuiltJob = xs ? { sources: [...built0.sources, ...xs.bindings] } : built0;
    restoreState(start, storage, ctx.operators, sources, built, m, log);
    if (xs && start.savepoint) xs.fromSavepoint(start.savepoint);

    const cuts = new Map<Source, SourcePosition>();
    const positions = () => positionsAt(sources, built, cuts);
    const transactional = [...outputs.transactional, ...(xs ? xs.writers.flatMap((w) => (w.transaction ? [w.transaction] : [])) : [])];
    if (storage && cp) {
      coordinator = new Coordinator(cp, storage.path, m, { operators: ctx.operators, positions, sinks: transactional }, log, start.restored, start.nextId);
      if (ip) coordinator.extra = { instance: ip.instanceRecord(m, runFlags) };
      coordinator.fromSavepoint = start.fromSavepoint;
      coordinator.mirror = bucket;
      coordinator.onHistory = (e) => live.onHistory(e);
    }
    const sourceRecords = sources.map(() => 0);
    const savepoints: SavepointParts = { m, operators: ctx.operators, positions, outputs, coordinator, root: flags.savepointDir, log, nats: env.parts.nats ?? null, ...(ip ? { instance: ip.instanceRecord(m, runFlags) } : {}) };
    live.status = () => runStatus(m, inputs.sources, built, sourceRecords, ctx, outputs, coordinator, disk);
    live.state = "running";

    log.info(`running: ${inputs.sources.length} source(s), ${m.sinks.length} sink(s), ${m.operators.length} stateful operator(s)${coordinator ? `, checkpoints every ${cp!.every} ms in ${storage!.path}` : ""}`);
    const started = performance.now();
    // `idle d` applies to live sources: stdin and followed files.
    const idleTimes = sources.map((s, i) => (s.live && i < m.sources.length ? (m.sources[i]!.eventTime?.idle ?? null) : null));
    const writers = xs ? [...outputs.all, ...xs.writers] : outputs.all;
    const bindings = xs ? xs.watchEnds(built.sources) : built.sources;
    const { result, records } = await loop(sources, bindings, writers, coordinator, env.stop, cuts, idleTimes, sourceRecords, () => serveRequests(savepoints, live), many, () => live.requests.length > 0);
    live.dropRequests(`the job ${result === "end" ? "reached the end of its input" : "stopped"} before the savepoint could be taken`);
    if (coordinator) {
      await coordinator.settle();
      await coordinator.start(result === "end" ? "final" : "stop");
      coordinator.check();
      if (result === "end") {
        removeAll(storage!.path);
        if (bucket) await bucket.sync();
      }
    }
    finished = result === "end";
    await outputs.close();
    if (xs) for (const w of xs.writers) await w.close();
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
    await outputs.abandon();
    for (const w of exchanges?.writers ?? []) w.transaction?.abort();
    return { kind: "failed", error: e };
  } finally {
    live.state = "restarting";
    live.status = null;
    await inputs.close();
    await exchanges?.close();
    if (bucket) {
      // The local copy goes; the bucket keeps the history.
      live.historyFile = null;
      bucket.dispose();
    }
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
      return { name: s.name, connector: m.sources[i]!.connector, records: sourceRecords[i]!, bytes: s.position().offset ?? null, watermark, newestEventTime, progress: s.progress?.() ?? null, ...(s.natsStatus ? { nats: s.natsStatus() } : {}) };
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
    sinks: m.sinks.map((s, i) => {
      const sink = outputs.sinks[i]!;
      return { index: i, connector: s.connector, path: localPath(s), records: sink.lines, bytes: sink.bytes, ...(sink.natsStatus ? { nats: sink.natsStatus() } : {}) };
    }),
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
