// What lasts across the runs of one job process (a failed run restarts from its last
// checkpoint): its flags, the stop request (SIGTERM, SIGINT, POST /stop), and what the
// admin endpoint sees and asks for.

import type { CheckpointStats, JobStatus, SavepointRecord } from "../admin.js";
import type { HistoryEntry } from "../checkpoint/storage.js";
import type { Level } from "../log.js";

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
  /** Called as soon as the savepoint is taken, before the job goes on (a stop). */
  taken?: () => void;
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
