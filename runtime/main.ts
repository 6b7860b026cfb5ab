// The job driver: parses the bundle's flags, then runs the job under a supervisor that
// restarts it from its last checkpoint when user code fails (the `restart` policy).
// One run: choose the checkpoint to resume from, open sources and sinks, build the
// generated operator graph, restore state and positions, and run the batch loop of
// docs/architecture.md, taking checkpoints between batches.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { HttpError, startAdmin, type AdminJob, type AdminServer, type CheckpointStats, type JobStatus } from "./admin.js";
import { resolveToken, TOKEN_ENV, TokenError } from "./admin-token.js";
import { captureOperator, restoreOperator } from "./savepoint/capture.js";
import { planRestore, refusal, type RestorePlan } from "./savepoint/compat.js";
import { readPartRows, readSavepoint, SavepointError, writeSavepoint, type SavepointMetadata } from "./savepoint/format.js";
import { newSavepointFolder, SavepointDirError, savepointTarget } from "./savepoint/root.js";
import { parseArgs } from "node:util";
import type { BuiltJob, EmitFn, JobContext, JobModule, JoinSpec, Manifest, OperatorManifest, RestartManifest, SourceBinding, StateObject, WindowAggregateCode, WindowSpec } from "./api.js";
import { DedupOperator } from "./time/dedup.js";
import { JoinOperator } from "./time/join.js";
import { TimerService } from "./time/timers.js";
import { FixedWindowOperator } from "./time/fixed.js";
import { SessionWindowOperator, type WindowAggregate } from "./time/window.js";
import { Coordinator } from "./checkpoint/coordinator.js";
import { checkStorage, ensureRoot, IncompleteCheckpoint, listCheckpoints, loadVerified, removeAll, retain, type CheckpointMetadata, type HistoryEntry } from "./checkpoint/storage.js";
import { BadRecordError, JobError } from "./errors.js";
import { FlowRuntimeError } from "./lib.js";
import { LockSet } from "./locks.js";
import { Log, type Level } from "./log.js";
import { checkPaths, lockTargets } from "./paths.js";
import { FileSink, sinkHeader, StdoutSink, TransactionalFileSink, type LineWriter } from "./sinks.js";
import { FileSource, NexmarkSource, RecordErrors, SequenceSource, StdinSource, ValuesSource, type BatchResult, type Source, type SourcePosition } from "./sources.js";
import { GlobalStateStore, KeyedStateStore, type StateStore } from "./state.js";

const USAGE = (job: string): string => `Usage: node ${job}.mjs [options]

Runs the compiled flowc job \`${job}\` until its input ends (or SIGTERM / SIGINT, which
finish the batch, take a final checkpoint, commit the sinks and exit 0).

Options:
  --checkpoint-dir <dir>        where checkpoints are kept (overrides the job's \`storage\`)
  --fresh                       ignore (and delete) existing checkpoints: start from the beginning
  --from-savepoint <dir>        start from a savepoint (state by operator uid and state name)
  --allow-non-restored-state    start even when some of the savepoint's state has no place in this job
  --savepoint-dir <dir>         the savepoint root: savepoints go here, or to a folder a request
                                names inside it (default ./savepoints/<job>)
  --admin-port <port>           serve the admin endpoint on 127.0.0.1:<port> (0: any free port)
  --admin-token <token>         require \`Authorization: Bearer <token>\` on the admin endpoint
  --admin-token-file <path>     the same, the token being the file's first line (not shown by ps)
  --log-level <level>           error, warn (default), info or debug; the log goes to stderr
  -h, --help                    show this help
  --version                     show the compiler that built this job

With a checkpoint block, the job resumes from its newest complete checkpoint.
Admin endpoint: GET /status, /checkpoints, /metrics; POST /savepoints, /stop. Without a
token flag, ${TOKEN_ENV} is the token if set. Requests from web pages are refused.
Exit codes: 0 done or stopped, 1 bad input or a failing job, 2 usage error, 70 internal error.
`;

export function main(job: JobModule): void {
  run(job, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      process.stdin.destroy();
    },
    (e: unknown) => {
      process.stderr.write(`internal error in job ${job.manifest.job}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nThis is a bug in flowc's runtime; please report it with the .flow file and the input.\n`);
      process.exitCode = 70;
      process.stdin.destroy();
    },
  );
}

class Context implements JobContext {
  readonly stores: StateStore[] = [];
  readonly counts: Float64Array;

  constructor(
    private readonly manifest: Manifest,
    private readonly sinks: LineWriter[],
  ) {
    this.counts = new Float64Array(manifest.operators.length * 2);
  }

  keyedState<S extends StateObject>(uid: string, fields: number, create: (key: unknown) => S): KeyedStateStore<S> {
    const typedKeys = this.manifest.operators.find((o) => o.uid === uid)?.key?.t === "record";
    const store = new KeyedStateStore<S>(uid, fields, create, typedKeys, this.manifest.checkpoint?.incremental === true);
    this.stores.push(store as unknown as StateStore);
    return store;
  }

  globalState<S extends StateObject>(uid: string, fields: number, create: () => S): S {
    const g = new GlobalStateStore<S>(uid, fields, create);
    this.stores.push(g as unknown as StateStore);
    return g.value;
  }

  sink(index: number): LineWriter {
    const s = this.sinks[index];
    if (!s) throw new Error(`internal: no sink ${index}`);
    return s;
  }

  window<S extends StateObject>(uid: string, spec: WindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn, late: EmitFn | null): SessionWindowOperator<S> | FixedWindowOperator<S> {
    const code = agg as unknown as WindowAggregate<S>;
    const op = spec.kind === "session" ? new SessionWindowOperator<S>(uid, spec, code, emit, late) : new FixedWindowOperator<S>(uid, spec, code, emit, late);
    this.stores.push(op);
    return op;
  }

  timers(uid: string): TimerService {
    const t = new TimerService(`${uid}$timers`);
    this.stores.push(t);
    return t;
  }

  join(uid: string, spec: JoinSpec, select: (left: unknown, right: unknown) => unknown, emit: EmitFn): JoinOperator {
    const j = new JoinOperator(uid, spec, select, emit);
    this.stores.push(j);
    this.joins.push(j);
    return j;
  }

  dedup(uid: string, within: number): DedupOperator {
    const d = new DedupOperator(uid, within);
    this.stores.push(d);
    return d;
  }

  readonly joins: JoinOperator[] = [];
}

type Failure = JobError | FlowRuntimeError;

function printError(e: Failure, log: Log): void {
  if (e instanceof FlowRuntimeError) {
    process.stderr.write(`error[${e.code}]: ${e.message}\n  --> ${e.location}\n`);
    if (e.userStack) {
      if (log.enabled("debug")) process.stderr.write(`${e.userStack}\n`);
      else process.stderr.write("  = hint: run with --log-level debug to see where it was thrown (and node --enable-source-maps for TypeScript line numbers)\n");
    }
    return;
  }
  process.stderr.write(`error[${e.code}]: ${e.message}\n${e.hint ? `  = hint: ${e.hint}\n` : ""}`);
}

/** Failures of user code and of sink writes restart the job; bad input does not. */
function restartable(e: Failure): boolean {
  return e instanceof FlowRuntimeError || (e instanceof JobError && e.code === "FLOW5004");
}

function restartDelay(p: RestartManifest, attempt: number): number {
  return p.strategy === "exponential_delay" ? Math.min(p.maxDelay, p.delay * p.multiplier ** attempt) : p.delay;
}

/** SIGTERM / SIGINT: finish the batch, final checkpoint, commit, exit 0. */
class Stop {
  requested = false;
  readonly promise: Promise<"stop">;
  private resolve!: (v: "stop") => void;

  constructor() {
    this.promise = new Promise((r) => (this.resolve = r));
  }

  request(): void {
    this.requested = true;
    this.resolve("stop");
  }
}

interface Flags {
  logLevel: Level;
  checkpointDir: string | undefined;
  fresh: boolean;
  fromSavepoint: string | undefined;
  allowNonRestored: boolean;
  savepointDir: string;
}

/** A savepoint asked for over the admin endpoint, taken at the next batch boundary. */
interface SavepointRequest {
  dir: string;
  resolve(path: string): void;
  reject(e: Error): void;
}

/** What the admin endpoint sees of the job, across restarts. */
class Live {
  readonly startedAt = Date.now();
  state: JobStatus["state"] = "restarting";
  /** The current run's status (null between runs). */
  status: (() => Omit<JobStatus, "job" | "state" | "startedAt" | "uptimeSeconds">) | null = null;
  readonly requests: SavepointRequest[] = [];
  readonly stats: CheckpointStats = { completed: 0, failed: 0, abandoned: 0, lastDurationSeconds: null, lastBytes: null };
  historyFile: string | null = null;

  onHistory(e: HistoryEntry): void {
    this.stats[e.status]++;
    if (e.status === "completed") {
      this.stats.lastDurationSeconds = e.durationMs / 1000;
      this.stats.lastBytes = e.bytes;
    }
  }

  /** Fails the savepoint requests still waiting (the job ended first). */
  dropRequests(why: string): void {
    for (const r of this.requests.splice(0)) r.reject(new Error(why));
  }
}

function adminJob(live: Live, m: Manifest, flags: Flags, stop: Stop): AdminJob {
  const savepoint = async (dir: string | null): Promise<string> => {
    if (stop.requested) throw new Error("the job is stopping");
    let target: string;
    try {
      // Checked now, so a refused folder is answered at once (400), not after the batch.
      target = savepointTarget(flags.savepointDir, dir);
    } catch (e) {
      if (e instanceof SavepointDirError) throw new HttpError(400, e.message);
      throw e;
    }
    try {
      return await new Promise<string>((resolveP, reject) => live.requests.push({ dir: target, resolve: resolveP, reject }));
    } catch (e) {
      if (e instanceof SavepointDirError) throw new HttpError(400, e.message);
      throw e;
    }
  };
  return {
    status: () => {
      const now = Date.now();
      const base = { job: m.job, state: stop.requested ? "stopping" : live.state, startedAt: new Date(live.startedAt).toISOString(), uptimeSeconds: (now - live.startedAt) / 1000 } as const;
      return { ...base, ...(live.status?.() ?? { sources: [], operators: [], sinks: [], lastCheckpoint: null }) };
    },
    history: () => {
      if (!live.historyFile || !existsSync(live.historyFile)) return [];
      return readFileSync(live.historyFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
    },
    checkpointStats: () => live.stats,
    savepoint,
    stop: async (sp) => {
      const path = sp ? await savepoint(sp.dir) : null;
      stop.request();
      return path;
    },
  };
}

export async function run(job: JobModule, argv: string[]): Promise<number> {
  const m: Manifest = job.manifest;
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
        "log-level": { type: "string" },
        "checkpoint-dir": { type: "string" },
        fresh: { type: "boolean" },
        "from-savepoint": { type: "string" },
        "allow-non-restored-state": { type: "boolean" },
        "savepoint-dir": { type: "string" },
        "admin-port": { type: "string" },
        "admin-token": { type: "string" },
        "admin-token-file": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${USAGE(m.job)}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE(m.job));
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${m.job} (compiled by ${m.compiler} from ${m.flowFile})\n`);
    return 0;
  }
  const level = (values["log-level"] ?? "warn") as Level;
  if (!["error", "warn", "info", "debug"].includes(level)) {
    process.stderr.write(`error: --log-level must be error, warn, info or debug, not ${JSON.stringify(level)}\n`);
    return 2;
  }
  const log = new Log(m.job, level);
  const flags: Flags = {
    logLevel: level,
    checkpointDir: values["checkpoint-dir"],
    fresh: values.fresh ?? false,
    fromSavepoint: values["from-savepoint"],
    allowNonRestored: values["allow-non-restored-state"] ?? false,
    savepointDir: resolve(values["savepoint-dir"] ?? join("savepoints", m.job)),
  };
  if (!m.checkpoint && (flags.checkpointDir || flags.fresh)) log.warn("the job has no checkpoint block: --checkpoint-dir and --fresh have no effect");
  if (flags.fresh && flags.fromSavepoint) {
    process.stderr.write("error: --fresh and --from-savepoint cannot be used together (a savepoint is a start of its own)\n");
    return 2;
  }
  if (flags.allowNonRestored && !flags.fromSavepoint) log.warn("--allow-non-restored-state has no effect without --from-savepoint");
  const adminPort = values["admin-port"];
  if (adminPort !== undefined && !/^\d{1,5}$/.test(adminPort)) {
    process.stderr.write(`error: --admin-port must be a port number (0 to 65535), not ${JSON.stringify(adminPort)}\n`);
    return 2;
  }
  let token: string | null;
  try {
    // The environment variable only matters when there is an endpoint to protect.
    token = resolveToken({ flag: values["admin-token"], flagName: "--admin-token", file: values["admin-token-file"], fileFlagName: "--admin-token-file", env: adminPort === undefined ? undefined : process.env[TOKEN_ENV] });
  } catch (e) {
    if (!(e instanceof TokenError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  for (const flag of ["admin-token", "admin-token-file"] as const) if (values[flag] !== undefined && adminPort === undefined) log.warn(`--${flag} has no effect without --admin-port`);

  const stop = new Stop();
  const live = new Live();
  // The checkpoint folder and output files, locked for the process's life (runtime/locks.ts).
  const locks = new LockSet(m.job);
  let admin: AdminServer | null = null;
  if (adminPort !== undefined) {
    const port = Number(adminPort);
    if (port > 65535) {
      process.stderr.write(`error: --admin-port must be a port number (0 to 65535), not ${port}\n`);
      return 2;
    }
    try {
      admin = await startAdmin(port, token, adminJob(live, m, flags, stop), m.job, log);
    } catch (e) {
      process.stderr.write(`error: cannot serve the admin endpoint on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code === "EADDRINUSE" ? "the port is in use" : (e as Error).message}\n`);
      return 1;
    }
    log.info(`admin endpoint on ${admin.url}`);
  }
  const onSignal = (sig: string) => () => {
    if (stop.requested) return;
    log.info(`${sig}: finishing the batch, then a final checkpoint`);
    stop.request();
  };
  const onTerm = onSignal("SIGTERM");
  const onInt = onSignal("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  // The reader of stdout went away (`… | head`): stop like SIGTERM, quietly.
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    if (e.code !== "EPIPE") throw e;
    StdoutSink.closed = true;
    if (!stop.requested) stop.request();
  };
  process.stdout.on("error", onStdoutError);
  try {
    const policy = m.restart;
    for (let attempt = 0; ; attempt++) {
      const outcome = await runOnce(job, flags, attempt === 0 && flags.fresh, log, stop, live, locks);
      if (outcome.kind !== "failed") return 0;
      const e = outcome.error;
      const canRestart = policy && policy.strategy !== "none" && attempt < policy.attempts && restartable(e) && !stop.requested;
      if (!canRestart) {
        printError(e, log);
        if (policy && policy.strategy !== "none" && restartable(e) && attempt >= policy.attempts) {
          process.stderr.write(`  = note: gave up after ${attempt} restart${attempt === 1 ? "" : "s"} (restart policy: ${policy.attempts} attempts)\n`);
        }
        return 1;
      }
      const delay = restartDelay(policy, attempt);
      log.warn(`${e.message} — restarting from the last checkpoint in ${delay} ms (restart ${attempt + 1} of ${policy.attempts})`);
      // SIGTERM ends the wait (and its timer, which would otherwise keep the process alive).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, delay))), stop.promise]);
      clearTimeout(timer);
    }
  } finally {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    live.dropRequests("the job ended before the savepoint could be taken");
    await admin?.close();
    locks.releaseAll();
  }
  void onStdoutError;
}

type Outcome = { kind: "done" } | { kind: "stopped" } | { kind: "failed"; error: Failure };

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

/** Picks the newest checkpoint that verifies, reporting the ones it skips. */
function chooseCheckpoint(root: string, shown: string, m: Manifest, log: Log): CheckpointMetadata | null {
  for (const id of listCheckpoints(root)) {
    try {
      const meta = loadVerified(root, id);
      if (meta.job !== m.job || JSON.stringify(meta.layout) !== JSON.stringify(m.operators)) {
        throw new JobError(
          "FLOW5006",
          `checkpoint ${id} in ${shown} was taken by a different version of job \`${meta.job}\`: ${meta.job !== m.job ? `this job is \`${m.job}\`` : layoutDifference(meta.layout, m.operators)}`,
          "start from the beginning with --fresh, or point --checkpoint-dir elsewhere",
        );
      }
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
  const files = [
    ...m.sinks.flatMap((s) => (s.connector === "file" ? [s.path] : [])),
    ...m.sources.flatMap((s) => ((s.connector === "file" || s.connector === "stdin") && s.onError.policy === "dead_letter" && s.onError.deadLetter ? [s.onError.deadLetter] : [])),
  ];
  const stdout = m.sinks.some((s) => s.connector === "stdout");
  const effects = [
    files.length ? `${files.join(", ")} ${files.length === 1 ? "is" : "are"} replaced by this run's output (an exactly-once file holds what the run it belongs to commits)` : null,
    stdout ? "stdout prints the output again from the start" : null,
  ].filter((x) => x !== null);
  return `no usable checkpoint in ${shown} (${found} found, none complete and intact): the job starts from the beginning of its input${effects.length ? `; ${effects.join("; ")}` : ""}`;
}

/** A savepoint to start from: its folder, metadata, and what of it this job takes over. */
interface StartingSavepoint {
  dir: string;
  shown: string;
  meta: SavepointMetadata;
  plan: RestorePlan;
}

function openSavepoint(flags: Flags, m: Manifest): StartingSavepoint | null {
  if (!flags.fromSavepoint) return null;
  const shown = flags.fromSavepoint;
  const dir = resolve(shown);
  let meta: SavepointMetadata;
  try {
    meta = readSavepoint(dir, true, shown);
  } catch (e) {
    if (e instanceof SavepointError) throw new JobError("FLOW5009", `cannot restore savepoint ${shown}: ${e.message}`, "flowc savepoint inspect <dir> shows what a savepoint holds");
    throw e;
  }
  if (meta.job !== m.job) throw new JobError("FLOW5009", `savepoint ${shown} was taken by job \`${meta.job}\`, not \`${m.job}\``, "restore a savepoint of this job (the job's name is part of it)");
  const plan = planRestore(meta, m);
  const refused = refusal(plan, flags.allowNonRestored);
  if (refused) {
    const lines = (refused.code === "FLOW5008" ? plan.incompatible : plan.dropped).map((l) => `\n  = not restored: ${l.what}: ${l.detail}`).join("");
    throw new JobError(refused.code, `cannot restore savepoint ${shown}: ${refused.message}${lines}`, refused.hint);
  }
  return { dir, shown, meta, plan };
}

async function runOnce(job: JobModule, flags: Flags, fresh: boolean, log: Log, stop: Stop, live: Live, locks: LockSet): Promise<Outcome> {
  const m = job.manifest;
  const cp = m.checkpoint;
  const root = cp ? resolve(flags.checkpointDir ?? cp.storage) : null;
  const shownRoot = cp ? (flags.checkpointDir ?? cp.storage) : null;
  const sources: Source[] = [];
  /** Inputs opened before the graph is built (closed with `sources`). */
  const opened: Source[] = [];
  const writers: LineWriter[] = [];
  const transactional: TransactionalFileSink[] = [];
  const policies: { name: string; errors: RecordErrors; deadLetter: boolean }[] = [];
  let coordinator: Coordinator | null = null;
  live.historyFile = root ? join(root, "history.jsonl") : null;
  try {
    let sp = openSavepoint(flags, m);
    // Nothing is written before every check has passed (docs/operations.md, "Safety"): paths
    // that collide, inputs that cannot be read, a checkpoint folder that is not one, and
    // locks held by another copy of the job all stop it with every file as it was.
    const rootAt = root ? { path: root, shown: shownRoot! } : null;
    checkPaths(m, rootAt);
    // Inputs first: each must be a readable regular file.
    const pending: (Source | null)[] = m.sources.map((s) => {
      if (s.connector !== "file" && s.connector !== "stdin") return null;
      const errors = new RecordErrors(s.onError, null, (message) => log.warn(message));
      policies.push({ name: s.name, errors, deadLetter: s.onError.policy === "dead_letter" });
      const src = s.connector === "file" ? new FileSource(s.name, s, errors) : new StdinSource(s.name, s, errors);
      opened.push(src); // closed in `finally` if a later check fails
      return src;
    });
    if (root) checkStorage(root, shownRoot!, fresh);
    locks.acquireAll(lockTargets(m, rootAt));
    // Which checkpoint to resume from.
    let restored: CheckpointMetadata | null = null;
    let nextId = 1;
    if (root) {
      ensureRoot(root);
      if (fresh) removeAll(root);
      else if (sp) {
        // Starting from a savepoint: a checkpoint taken after restoring this very savepoint
        // (the job failed since) wins; older checkpoints (of the job before the change) go.
        let resumed: CheckpointMetadata | null = null;
        try {
          resumed = chooseCheckpoint(root, flags.checkpointDir ?? cp!.storage, m, log);
        } catch (e) {
          if (!(e instanceof JobError)) throw e;
        }
        if (resumed && resumed.fromSavepoint === sp.meta.checksum) {
          restored = resumed;
          log.info(`savepoint ${sp.shown} was restored before: resuming from checkpoint ${resumed.id} taken since`);
        } else removeAll(root);
      } else {
        restored = chooseCheckpoint(root, shownRoot!, m, log);
        if (!restored && listCheckpoints(root).length > 0) log.warn(startingOver(m, shownRoot!, listCheckpoints(root).length));
      }
      nextId = (listCheckpoints(root)[0] ?? 0) + 1;
      retain(root, restored ? [restored] : []);
      if (restored) log.info(`resuming from checkpoint ${restored.id} in ${flags.checkpointDir ?? cp!.storage}`);
    }
    const fromSavepoint = restored ? (restored.fromSavepoint ?? null) : (sp?.meta.checksum ?? null);
    if (restored) sp = null;
    const savedSink = (role: "sink" | "dead_letter", path: string) => sp?.meta.sinks.find((s) => s.role === role && s.path === path) ?? null;
    const openWriter = (path: string, header: string | null, index: number, role: "sink" | "dead_letter"): LineWriter => {
      const saved = savedSink(role, path);
      if (!root) return new FileSink(path, header, saved ? saved.length : null);
      const t = new TransactionalFileSink(index, role, path, header, root);
      const txn = restored?.sinks.find((x) => x.index === index && x.role === role);
      if (txn) t.restore(txn);
      else if (saved) t.resumeAt(saved.length);
      else t.startFresh();
      transactional.push(t);
      return t;
    };
    m.sources.forEach((s, i) => {
      if ((s.connector === "file" || s.connector === "stdin") && s.onError.policy === "dead_letter" && s.onError.deadLetter) {
        const dl = openWriter(s.onError.deadLetter, null, i, "dead_letter");
        writers.push(dl);
        policies.find((x) => x.name === s.name)!.errors.deadLetter = dl;
      }
    });
    const sinks = m.sinks.map((s, i) => (s.connector === "stdout" ? new StdoutSink(restored || sp ? null : sinkHeader(s)) : openWriter(s.path, sinkHeader(s), i, "sink")));
    writers.unshift(...sinks);
    const ctx = new Context(m, sinks);
    const built: BuiltJob = job.build(ctx);
    m.sources.forEach((s, i) => {
      let src = pending[i]!;
      const binding = built.sources[i]!;
      if (src instanceof FileSource || src instanceof StdinSource) src.setFastJson(binding.fromJson?.bind(binding));
      if (s.connector === "values") src = new ValuesSource(s.name, built.sources[i]!.values ?? []);
      else if (s.connector === "sequence") src = new SequenceSource(s.name, s.from, s.to);
      else if (s.connector === "nexmark") src = new NexmarkSource(s.name, s.of, s.events, s.seed);
      sources.push(src);
    });
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

    // Restore state and positions: from a checkpoint, or from a savepoint.
    if (restored && root) {
      for (const op of restored.operators) {
        const store = ctx.stores.find((st) => st.uid === op.uid);
        if (!store) throw new Error(`internal: checkpoint operator ${op.uid} has no store`);
        for (const f of op.files) store.restore(readFileSync(join(root, f)));
      }
      for (const p of restored.sources) seek(p.name, p.position);
    }
    if (sp) {
      const from = sp;
      let keys = 0;
      for (const [uid, r] of from.plan.operators) {
        const op = m.operators.find((o) => o.uid === uid)!;
        keys += restoreOperator(
          {
            op,
            states: r.states,
            timers: r.timers,
            internal: r.internal,
            rows: (part) => {
              const p = r.saved.parts.find((x) => x.name === part);
              return p ? readPartRows(from.dir, p) : null;
            },
            meta: (r.saved.meta ?? {}) as Record<string, unknown>,
          },
          ctx.stores,
        );
      }
      for (const s of from.meta.sources) if (from.plan.sources.has(s.name)) seek(s.name, s.position);
      log.info(`restored savepoint ${from.shown}: ${from.plan.operators.size} operator(s), ${keys} key(s), ${from.plan.sources.size} source position(s)`);
      if (from.plan.dropped.length) log.warn(`not restored from savepoint ${from.shown} (--allow-non-restored-state): ${from.plan.dropped.map((l) => l.what).join(", ")}`);
    }

    const cuts = new Map<Source, SourcePosition>();
    const positions = () =>
      sources.map((s, i) => {
        const wm = built.sources[i]!.watermark?.();
        const position = cuts.get(s) ?? s.position();
        return { name: s.name, position: wm === undefined ? position : { ...position, watermark: Number.isFinite(wm) ? wm : wm > 0 ? Number.MAX_SAFE_INTEGER : null } };
      });
    if (root && cp) {
      coordinator = new Coordinator(cp, root, m, { stores: ctx.stores, positions, sinks: transactional }, log, restored, nextId);
      coordinator.fromSavepoint = fromSavepoint;
      coordinator.onHistory = (e) => live.onHistory(e);
    }
    const sourceRecords = sources.map(() => 0);

    /** A savepoint: the state and positions at this batch boundary, written to a new folder. */
    const takeSavepoint = async (dir: string): Promise<string> => {
      // Under checkpoints, a checkpoint at the same cut commits the output the savepoint covers.
      let committed: Promise<void> | null = null;
      if (coordinator) {
        await coordinator.settle();
        committed = coordinator.start("savepoint");
      }
      const operators = m.operators.map((op) => ({ op, ...captureOperator(op, ctx.stores) }));
      const at = positions();
      if (committed) {
        await committed;
        coordinator!.check();
      }
      for (const w of writers) await w.flush();
      const path = newSavepointFolder(flags.savepointDir, dir, m.job);
      const fileWriters = writers.filter((w): w is FileSink | TransactionalFileSink => w instanceof FileSink || w instanceof TransactionalFileSink);
      await writeSavepoint(path, {
        format: "flowc-savepoint",
        version: 1,
        job: m.job,
        createdAt: new Date().toISOString(),
        compiler: m.compiler,
        flowFile: m.flowFile,
        sources: at.map((p, i) => {
          const s = m.sources[i]!;
          return { name: p.name, connector: s.connector, path: s.connector === "file" ? s.path : null, position: p.position };
        }),
        operators: operators.map(({ op, parts, meta }) => ({
          uid: op.uid,
          kind: op.kind,
          key: op.key,
          states: op.states,
          spec: op.spec,
          timers: op.timers,
          ttl: op.ttl,
          meta,
          parts: parts.map((p) => ({ name: p.name, internal: p.internal, file: join(op.uid, `${p.internal ? "_" : ""}${p.name}.jsonl`), keys: p.keys, text: p.text })),
        })),
        sinks: fileWriters.map((w) => {
          const role = w instanceof TransactionalFileSink ? w.role : writers.indexOf(w) < m.sinks.length ? "sink" : "dead_letter";
          const index = w instanceof TransactionalFileSink ? w.index : writers.indexOf(w);
          return { index, role, path: w.path, length: w.length };
        }),
      });
      log.info(`savepoint taken: ${path}`);
      return path;
    };
    const serveRequests = async (): Promise<void> => {
      while (live.requests.length) {
        const r = live.requests.shift()!;
        try {
          r.resolve(await takeSavepoint(r.dir));
        } catch (e) {
          r.reject(e as Error);
          if (e instanceof JobError || e instanceof FlowRuntimeError) throw e;
          log.warn(`savepoint failed: ${(e as Error).message}`);
        }
      }
    };
    live.status = () => ({
      sources: sources.map((s, i) => {
        const wm = built.sources[i]!.watermark?.();
        const pos = s.position();
        return { name: s.name, connector: m.sources[i]!.connector, records: sourceRecords[i]!, bytes: pos.offset ?? null, watermark: wm !== undefined && Number.isFinite(wm) ? wm : null };
      }),
      operators: m.operators.map((op, i) => {
        const store = ctx.stores.find((st) => st.uid === op.uid);
        const timers = ctx.stores.find((st) => st.uid === `${op.uid}$timers`);
        const wm = ((store ?? timers) as { watermarkValue?: number } | undefined)?.watermarkValue ?? (timers as { watermarkValue?: number } | undefined)?.watermarkValue;
        return { uid: op.uid, kind: op.kind, recordsIn: ctx.counts[2 * i]!, recordsOut: ctx.counts[2 * i + 1]!, keys: store?.size ?? 0, watermark: wm !== undefined && Number.isFinite(wm) ? wm : null };
      }),
      sinks: m.sinks.map((s, i) => ({ index: i, connector: s.connector, path: s.connector === "file" ? s.path : null, records: sinks[i]!.lines, bytes: sinks[i]!.bytes })),
      lastCheckpoint: coordinator?.latest ? { id: coordinator.latest.id, createdAt: coordinator.latest.createdAt } : null,
    });
    live.state = "running";

    log.info(`running: ${sources.length} source(s), ${m.sinks.length} sink(s), ${m.operators.length} stateful operator(s)${coordinator ? `, checkpoints every ${cp!.every} ms in ${root}` : ""}`);
    const started = performance.now();
    // `idle d` applies to live sources: stdin and followed files.
    const idleTimes = m.sources.map((s) => (s.connector === "stdin" || (s.connector === "file" && s.follow) ? (s.eventTime?.idle ?? null) : null));
    const { result, records } = await loop(sources, built.sources, writers, coordinator, stop, cuts, idleTimes, sourceRecords, serveRequests);
    live.dropRequests(`the job ${result === "end" ? "reached the end of its input" : "stopped"} before the savepoint could be taken`);
    if (coordinator) {
      await coordinator.settle();
      await coordinator.start(result === "end" ? "final" : "stop");
      coordinator.check();
      if (result === "end") removeAll(root!);
    }
    for (const w of writers) w.close();
    for (const p of policies) {
      if (p.errors.skipped > 0) log.warn(`source \`${p.name}\`: ${p.errors.skipped} bad record${p.errors.skipped === 1 ? "" : "s"} ${p.deadLetter ? "written to the dead-letter file" : "skipped"}`);
    }
    for (const st of ctx.stores) {
      const late = (st as { lateDropped?: number }).lateDropped ?? 0;
      if (late > 0) log.warn(`\`${st.uid}\`: ${late} element${late === 1 ? "" : "s"} came too late and ${late === 1 ? "was" : "were"} dropped`);
    }
    const cpu = process.cpuUsage();
    log.info(`${result === "end" ? "finished" : "stopped"}: ${records} record(s) in ${((performance.now() - started) / 1000).toFixed(3)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(3)} s)`);
    return result === "end" ? { kind: "done" } : { kind: "stopped" };
  } catch (e) {
    if (!(e instanceof JobError) && !(e instanceof FlowRuntimeError)) throw e;
    // Nothing staged after the last checkpoint is committed. stdout (at-least-once) prints what
    // the records before the failure produced, as a record-at-a-time system would have.
    try {
      await coordinator?.settle();
    } catch {
      // the original failure is the one to report
    }
    for (const t of transactional) t.abort();
    for (const w of writers) if (w instanceof StdoutSink) w.close();
    for (const w of writers) if (w instanceof FileSink) w.close();
    return { kind: "failed", error: e };
  } finally {
    live.state = "restarting";
    live.status = null;
    for (const s of new Set([...sources, ...opened])) s.close();
  }
}

/** Runs every source to its end (or a stop request), taking checkpoints between batches. */
async function loop(
  sources: Source[],
  bindings: SourceBinding<unknown>[],
  writers: LineWriter[],
  coordinator: Coordinator | null,
  stop: Stop,
  cuts: Map<Source, SourcePosition>,
  /** Per source: `idle d` of a live source (ms), or null. */
  idleTimes: (number | null)[] = [],
  /** Per source: records taken so far (for the admin endpoint). */
  sourceRecords: number[] = [],
  /** More work between batches (savepoints asked for over the admin endpoint). */
  extra: () => Promise<void> = async () => undefined,
): Promise<{ result: "end" | "stopped"; records: number }> {
  let records = 0;
  const between = async (): Promise<void> => {
    for (const w of writers) {
      const p = w.flush();
      if (p) await p;
    }
    if (coordinator) {
      coordinator.check();
      if (coordinator.due()) void coordinator.start("interval");
    }
    await yieldToEventLoop();
    await extra();
  };
  /**
   * Waits for a live source's read (stdin, a followed file). Every TICK_MS meanwhile the
   * loop does its between-batch work, so checkpoints (which commit the output so far) and
   * admin requests go on while the input is quiet. With `idleAfter`, gives up after that
   * long and returns "idle" (the read stays pending).
   */
  const wait = async (read: Promise<BatchResult>, idleAfter: number | null = null): Promise<BatchResult | "stop" | "idle"> => {
    const started = Date.now();
    const settled = read.then((b) => ({ b }));
    for (;;) {
      const left = idleAfter === null ? TICK_MS : Math.min(TICK_MS, started + idleAfter - Date.now());
      if (left <= 0) return "idle";
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<"tick">((r) => (timer = setTimeout(() => r("tick"), left)));
      const won = await Promise.race([settled, stop.promise, tick]);
      clearTimeout(timer);
      if (won === "stop") return "stop";
      if (won !== "tick") return won.b;
      await between();
      if (stop.requested) return "stop";
    }
  };
  if (sources.length === 1) {
    const src = sources[0]!;
    const binding = bindings[0]!;
    for (;;) {
      if (stop.requested) return { result: "stopped", records };
      let batch: BatchResult | Promise<BatchResult> | "stop" | "idle" = src.next();
      if (batch instanceof Promise) batch = await wait(batch);
      if (batch === "stop" || batch === "idle") return { result: "stopped", records };
      if (batch === null) {
        // The end of a finite input: its watermark is +infinity (every window fires).
        binding.end?.();
        await between();
        return { result: "end", records };
      }
      binding.push(batch);
      records += batch.length;
      sourceRecords[0] = records;
      await between();
    }
  }
  // Several sources: merged deterministically. With event time on every source, the
  // element with the smallest time goes next (ties: declaration order); otherwise one
  // element from each source in turn. A checkpoint records, for a batch consumed part way,
  // where it began and how far it got.
  const buffers = sources.map(() => ({
    batch: [] as unknown[],
    at: 0,
    done: false,
    before: null as SourcePosition | null,
    /** A live source's read still under way, and whether it has settled. */
    pending: null as { promise: Promise<BatchResult>; result?: BatchResult; settled: boolean } | null,
    idle: false,
  }));
  const byTime = bindings.every((b) => b.time !== undefined);
  const one: unknown[] = [undefined];
  let active = sources.length;
  const idleAfter = idleTimes;
  let sinceFlush = 0;
  /** Makes sure source i has an element at hand; false when it ended. */
  const fill = async (i: number): Promise<boolean | "stop" | "idle"> => {
    const b = buffers[i]!;
    const src = sources[i]!;
    if (b.done) return false;
    if (b.at < b.batch.length) return true;
    const before = b.pending ? b.before! : src.position();
    let next: BatchResult | Promise<BatchResult> | "stop";
    do {
      if (b.pending) {
        // A live source read started earlier: take it if it has arrived, else it is idle.
        if (!b.pending.settled) return "idle";
        next = b.pending.result!;
        b.pending = null;
        if (b.idle) {
          b.idle = false;
          bindings[i]!.idle?.(false);
        }
      } else next = src.next();
      if (next instanceof Promise) {
        const idleMs = idleAfter[i];
        if (idleMs === null || idleMs === undefined) {
          const won = await wait(next);
          next = won === "idle" ? "stop" : won;
        } else {
          // `idle d`: a live source without input for d stops holding the watermark back.
          const p: { promise: Promise<BatchResult>; result?: BatchResult; settled: boolean } = { promise: next, settled: false };
          void next.then((r) => {
            p.result = r;
            p.settled = true;
          });
          const won = await wait(next, idleMs);
          if (won === "idle") {
            b.pending = p;
            b.before = before;
            if (!b.idle) {
              b.idle = true;
              bindings[i]!.idle?.(true);
            }
            return "idle";
          }
          next = won;
        }
      }
      if (next === "stop") return "stop";
    } while (next !== null && next.length === 0);
    if (next === null) {
      b.done = true;
      active--;
      cuts.delete(src);
      bindings[i]!.end?.();
      return false;
    }
    b.batch = next;
    b.at = 0;
    b.before = before;
    return true;
  };
  const take = (i: number): void => {
    const b = buffers[i]!;
    const src = sources[i]!;
    one[0] = b.batch[b.at++];
    bindings[i]!.push(one);
    records++;
    sourceRecords[i] = (sourceRecords[i] ?? 0) + 1;
    sinceFlush++;
    if (b.at < b.batch.length) cuts.set(src, { ...b.before!, skip: (b.before!.skip ?? 0) + b.at });
    else cuts.delete(src);
  };
  while (active > 0) {
    if (stop.requested) return { result: "stopped", records };
    let idle = 0;
    if (byTime) {
      let best = -1;
      let bestTs = Infinity;
      for (let i = 0; i < sources.length; i++) {
        const has = await fill(i);
        if (has === "stop") return { result: "stopped", records };
        if (has === "idle") idle++;
        if (has !== true) continue;
        const b = buffers[i]!;
        const t = bindings[i]!.time!(b.batch[b.at] as never);
        if (best < 0 || t < bestTs) {
          best = i;
          bestTs = t;
        }
      }
      if (best >= 0) take(best);
    } else {
      for (let i = 0; i < sources.length; i++) {
        const has = await fill(i);
        if (has === "stop") return { result: "stopped", records };
        if (has === "idle") idle++;
        if (has === true) take(i);
      }
    }
    if (idle > 0 && idle === active) {
      // Every source still running is idle: wait for one of them (or a stop), doing the
      // between-batch work every tick.
      await between();
      while (!stop.requested && !buffers.some((b) => b.pending?.settled)) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([stop.promise, ...buffers.flatMap((b) => (b.pending ? [b.pending.promise] : [])), new Promise((r) => (timer = setTimeout(r, TICK_MS)))]);
        clearTimeout(timer);
        await between();
      }
    }
    if (sinceFlush >= 1024) {
      sinceFlush = 0;
      await between();
    }
  }
  await between();
  return { result: "end", records };
}

/** While waiting for live input, the between-batch work (checkpoints, admin requests) runs this often (ms). */
const TICK_MS = 100;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export { BadRecordError };
