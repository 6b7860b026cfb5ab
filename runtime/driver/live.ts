// What lasts across the runs of one job process (a failed run restarts from its last
// checkpoint): its flags, the stop request (SIGTERM, SIGINT, POST /stop), and what the
// admin endpoint sees and asks for.

import { existsSync, readFileSync } from "node:fs";
import type { AdminJob, CheckpointStats, JobStatus, SavepointRecord } from "../admin.js";
import type { Manifest } from "../api.js";
import type { HistoryEntry } from "../checkpoint/storage.js";
import type { Level } from "../log.js";
import { SavepointDirError, savepointTarget } from "../savepoint/root.js";

export interface Flags {
  logLevel: Level;
  checkpointDir: string | undefined;
  fresh: boolean;
  fromSavepoint: string | undefined;
  allowNonRestored: boolean;
  savepointDir: string;
  /** --nats-url and --nats-timeout (ms). */
  natsUrl: string | undefined;
  natsTimeoutMs: number;
  /** --instance i/N (with --run-id and --exchange-replicas), or null: one instance. */
  instance?: import("./instances.js").InstanceFlags | null;
}

/** SIGTERM / SIGINT: finish the batch, final checkpoint, commit, exit 0. */
export class Stop {
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

/** A savepoint asked for over the admin endpoint, taken at the next batch boundary. */
export interface SavepointRequest {
  dir: string;
  trigger: "request" | "stop";
  resolve(path: string): void;
  reject(e: Error): void;
}

/** A run's part of the job's status. */
export type RunStatus = Omit<JobStatus, "job" | "state" | "startedAt" | "uptimeSeconds">;

/** What the admin endpoint sees of the job, across restarts. */
export class Live {
  readonly startedAt = Date.now();
  state: JobStatus["state"] = "restarting";
  /** The current run's status (null between runs). */
  status: (() => RunStatus) | null = null;
  readonly requests: SavepointRequest[] = [];
  readonly stats: CheckpointStats = { completed: 0, failed: 0, abandoned: 0, lastDurationSeconds: null, lastBytes: null };
  historyFile: string | null = null;
  /** The savepoints this process took, newest first (the last SAVEPOINTS_KEPT), and the one it started from. */
  readonly savepoints: SavepointRecord[] = [];
  restoredFrom: SavepointRecord | null = null;

  constructor(
    /** The job graph as JSON text, when the bundle carries it (the dashboard's GET /graph). */
    readonly graph: string | null = null,
  ) {}

  onSavepoint(r: SavepointRecord): void {
    this.savepoints.unshift(r);
    this.savepoints.length = Math.min(this.savepoints.length, SAVEPOINTS_KEPT);
  }

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

/** Savepoints remembered for GET /savepoints. */
const SAVEPOINTS_KEPT = 20;

/** The job as the admin endpoint asks it; `refused` makes the endpoint's 400 answers. */
export function adminJob(live: Live, m: Manifest, flags: Flags, stop: Stop, refused: (message: string) => Error, nats: boolean): AdminJob {
  const savepoint = async (dir: string | null, trigger: "request" | "stop" = "request"): Promise<string> => {
    if (stop.requested) throw new Error("the job is stopping");
    let target: string;
    try {
      // Checked now, so a refused folder is answered at once (400), not after the batch.
      if (dir?.startsWith("nats:")) {
        if (!nats) throw new SavepointDirError(`"dir" ${JSON.stringify(dir)} is in a NATS object store, and this job's bundle has no NATS client (its job uses no nats connector or storage); compile it with \`flowc compile --nats\``);
        if (!/^nats:[A-Za-z0-9_-]+(\/[^\0]*)?$/.test(dir) || dir.split("/").some((p) => p === ".." || p === ".")) throw new SavepointDirError(`"dir" ${JSON.stringify(dir)} is not nats:<bucket>/<name> (a bucket of letters, digits, - and _; no . or .. in the name)`);
        target = dir;
      } else target = savepointTarget(flags.savepointDir, dir);
    } catch (e) {
      if (e instanceof SavepointDirError) throw refused(e.message);
      throw e;
    }
    try {
      return await new Promise<string>((resolveP, reject) => live.requests.push({ dir: target, trigger, resolve: resolveP, reject }));
    } catch (e) {
      if (e instanceof SavepointDirError) throw refused(e.message);
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
    historyFile: () => live.historyFile,
    graph: () => live.graph,
    savepoints: () => [...live.savepoints, ...(live.restoredFrom ? [live.restoredFrom] : [])],
    checkpointStats: () => live.stats,
    savepoint,
    stop: async (sp) => {
      const path = sp ? await savepoint(sp.dir, "stop") : null;
      stop.request();
      return path;
    },
  };
}
