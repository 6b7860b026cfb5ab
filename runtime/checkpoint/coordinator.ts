// The checkpoint coordinator (docs/architecture.md, "A checkpoint"). All operators run on
// one thread and a checkpoint starts only between batches, so the state at a batch boundary
// is already a consistent cut. A checkpoint:
//
//   1. records every source's position;
//   2. captures operator state: a full snapshot, or with `incremental` only the keys changed
//      since the last checkpoint (a full one every FULL_EVERY checkpoints keeps chains short);
//   3. pre-commits each transactional sink (fsyncs its staged output);
//   -- the batch loop goes on here: the pause ends --
//   4. writes the state files in the background, then _metadata last and atomically, with
//      checksums of every file it needs;
//   5. marks the checkpoint complete, commits the sinks, drops what is no longer retained,
//      and appends a line to history.jsonl.

import { join } from "node:path";
import type { CheckpointManifest, Manifest } from "../api.js";
import type { Log } from "../log.js";
import type { FileRef, SinkTransaction, SourcePosition, Staged, TransactionalSink } from "../connectors/contract.js";
import type { Snapshot, StatefulOperator } from "../operator.js";
import { appendHistory, checkpointDirName, METADATA, retain, sha256, writeDurable, writeMetadataInBackground, type CheckpointMetadata, type HistoryEntry } from "./storage.js";

/** A full snapshot at least every this many checkpoints, so delta chains stay short. */
export const FULL_EVERY = 10;

/** A copy of the checkpoint folder kept elsewhere (an object store bucket). */
export interface Mirror {
  /** Puts these files of the folder there (relative names), in order. */
  put(rels: string[]): Promise<void>;
  /** Deletes there what the folder no longer has; puts FORMAT and the history. */
  sync(): Promise<void>;
}

export interface CheckpointParts {
  operators: StatefulOperator[];
  /** Each source's position at the cut. */
  positions: () => { name: string; position: SourcePosition }[];
  sinks: TransactionalSink[];
}

interface Chain {
  files: string[];
  refs: Record<string, FileRef>;
  fullBytes: number;
  deltaBytes: number;
}

export class Coordinator {
  private nextId: number;
  private lastStart = 0;
  private lastEnd = 0;
  private inFlight: Promise<void> | null = null;
  private readonly chains = new Map<string, Chain>();
  /** Completed checkpoints, oldest first (the last `retain` are kept on disk). */
  private readonly completed: CheckpointMetadata[] = [];
  /** The pause of the last checkpoint taken (ms): how long the batch loop waited. */
  lastPauseMs = 0;
  /** A failure of the background part (writing, committing), raised at the next batch. */
  private failure: Error | null = null;
  /** Called with each history entry (for metrics). */
  onHistory: (e: HistoryEntry) => void = () => undefined;
  /** The checksum of the savepoint this run started from, carried into every checkpoint. */
  fromSavepoint: string | null = null;
  /** More fields of every checkpoint's metadata (several instances: which instance took it). */
  extra: Record<string, unknown> = {};
  /**
   * Checkpoints kept in an object store bucket (runtime/nats/store.ts): every file written
   * here is put there too, a checkpoint's _metadata after its files; deletions follow.
   */
  mirror: Mirror | null = null;

  /** The newest completed checkpoint. */
  get latest(): CheckpointMetadata | null {
    return this.completed[this.completed.length - 1] ?? null;
  }

  constructor(
    private readonly policy: CheckpointManifest,
    private readonly root: string,
    private readonly manifest: Manifest,
    private readonly parts: CheckpointParts,
    private readonly log: Log,
    /** The checkpoint this run resumed from, if any. */
    restored: CheckpointMetadata | null,
    nextId: number,
  ) {
    this.nextId = nextId;
    this.lastStart = this.lastEnd = Date.now();
    if (restored) {
      this.completed.push(restored);
      for (const op of restored.operators) {
        const refs: Record<string, FileRef> = {};
        for (const f of op.files) refs[f] = restored.files[f]!;
        const full = refs[op.files[0]!]?.bytes ?? 0;
        const deltas = op.files.slice(1).reduce((n, f) => n + (refs[f]?.bytes ?? 0), 0);
        this.chains.set(op.uid, { files: op.files, refs, fullBytes: full, deltaBytes: deltas });
      }
    }
    for (const s of parts.sinks) s.stageFor(this.nextId);
  }

  /** Whether a checkpoint should start now (between batches). */
  due(now = Date.now()): boolean {
    if (this.inFlight !== null || now - this.lastEnd < this.policy.minPause) return false;
    // Early when a sink holds much output for its next commit (a NATS sink: the commit stays small).
    return now - this.lastStart >= this.policy.every || this.parts.sinks.some((s) => s.wantsCheckpoint?.() === true);
  }

  /** Raises a failure of an earlier checkpoint's background part (a sink commit that failed). */
  check(): void {
    if (this.failure) {
      const f = this.failure;
      this.failure = null;
      throw f;
    }
  }

  /** Waits for the checkpoint in flight, if any. */
  async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    this.check();
  }

  /**
   * Takes a checkpoint: the capture runs now, synchronously (the pause); the rest runs in
   * the background. Returns a promise that settles when the checkpoint is complete and its
   * sinks committed (or abandoned).
   */
  start(reason: "interval" | "final" | "stop" | "savepoint"): Promise<void> {
    if (this.inFlight) throw new Error("internal: a checkpoint is already in flight");
    const id = this.nextId++;
    const started = Date.now();
    const t0 = performance.now();
    this.lastStart = started;
    const dir = checkpointDirName(id);

    // 1. source positions, 2. operator state, 3. sink pre-commit: the consistent cut.
    const sources = this.parts.positions();
    const writes: { rel: string; buffers: Buffer[]; later?: Snapshot["later"] }[] = [];
    const operators: { uid: string; files: string[] }[] = [];
    let keys = 0;
    let bytes = 0;
    let anyDelta = false;
    for (const store of this.parts.operators) {
      const chain = this.chains.get(store.uid);
      // A disk-backed operator always writes the changes since the last checkpoint (its pause
      // grows with the change): a full snapshot only when it has none, or when its deltas add
      // up to more than the full one they follow (recovery then reads less).
      const full = !chain || chain.deltaBytes > chain.fullBytes || (store.onDisk !== true && (!this.policy.incremental || store.incremental === false || chain.files.length >= FULL_EVERY));
      const snap = store.snapshot(full ? "full" : "delta", true);
      const rel = join(dir, `${store.uid}.${full ? "full" : "delta"}`);
      writes.push({ rel, buffers: snap.buffers, ...(snap.later ? { later: snap.later } : {}) });
      operators.push({ uid: store.uid, files: full ? [rel] : [...chain!.files, rel] });
      keys += snap.keys;
      bytes += snap.bytes;
      if (!full) anyDelta = true;
    }
    const staged = this.parts.sinks.map((s) => s.preCommit());
    for (const s of this.parts.sinks) s.stageFor(this.nextId);
    const pauseMs = performance.now() - t0;
    this.lastPauseMs = pauseMs;

    const entry: HistoryEntry = { id, kind: anyDelta ? "incremental" : "full", status: "completed", startedAt: new Date(started).toISOString(), durationMs: 0, pauseMs, bytes, keys };
    const work = this.complete(id, sources, writes, operators, staged, entry, t0);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.policy.timeout);
      timer.unref?.();
    });
    // A final checkpoint (end of input, stop) must complete: it commits the last output; so
    // must the one under a savepoint, which commits the output the savepoint covers.
    const raced = reason === "interval" ? Promise.race([work.then(() => "done" as const), timeout]) : work.then(() => "done" as const);
    this.inFlight = raced
      .then(async (result) => {
        if (result === "timeout") {
          if (this.decided.has(id)) {
            // Past its point of no return (its _metadata is being renamed into place): it
            // completes, late, rather than be abandoned half way.
            await work;
            return;
          }
          // Abandoned: its staged sink output stays uncommitted and goes into the next one.
          this.abandon(id, entry, `not complete after ${this.policy.timeout} ms`, t0);
          await work.catch(() => undefined);
        }
      })
      .catch((e: unknown) => {
        this.abandon(id, entry, (e as Error).message, t0, "failed");
        this.failure = e as Error;
      })
      .finally(() => {
        clearTimeout(timer);
        this.decided.delete(id);
        this.inFlight = null;
        this.lastEnd = Date.now();
      });
    return this.inFlight;
  }

  private abandon(id: number, entry: HistoryEntry, reason: string, t0: number, status: HistoryEntry["status"] = "abandoned"): void {
    this.abandoned.add(id);
    // Its deltas never become part of a chain, but the changed keys were reset when it was
    // captured: the next checkpoint writes full snapshots.
    this.chains.clear();
    const e = { ...entry, status, durationMs: performance.now() - t0, reason };
    this.log.warn(`checkpoint ${id} ${status}: ${reason}`);
    appendHistory(this.root, e);
    this.onHistory(e);
  }

  private readonly abandoned = new Set<number>();
  /** Checkpoints past their point of no return: their _metadata is being put in place. */
  private readonly decided = new Set<number>();

  private async complete(
    id: number,
    sources: { name: string; position: SourcePosition }[],
    writes: { rel: string; buffers: Buffer[]; later?: Snapshot["later"] }[],
    operators: { uid: string; files: string[] }[],
    /** Each sink's pre-commit, in the order of `parts.sinks` (a promise from an asynchronous sink). */
    staged: (Staged | Promise<Staged>)[],
    entry: HistoryEntry,
    t0: number,
  ): Promise<void> {
    // Snapshots made after the pause (the disk backend's full ones) start at once, beside
    // the sinks' pre-commits, and each ends on its own even when this checkpoint fails.
    const later = writes.map((w) => {
      if (!w.later) return null;
      const p = w.later();
      p.catch(() => undefined);
      return p;
    });
    const sinks: SinkTransaction[] = [];
    const sinkFiles: Record<string, FileRef> = {};
    for (const x of staged) {
      const s = x instanceof Promise ? await x : x;
      sinks.push(s.txn);
      Object.assign(sinkFiles, s.files);
    }
    // 4. state files in the background, then the metadata, atomically.
    const written: Record<string, FileRef> = {};
    for (const [i, w] of writes.entries()) {
      const made = later[i];
      if (made) {
        const snap = await made;
        w.buffers = snap.buffers;
        entry.keys += snap.keys;
        entry.bytes += snap.bytes;
      }
      await writeDurable(join(this.root, w.rel), w.buffers);
      written[w.rel] = { sha256: sha256(w.buffers), bytes: w.buffers.reduce((n, b) => n + b.length, 0) };
    }
    if (this.abandoned.has(id)) return;
    if (this.mirror) await this.mirror.put([...writes.map((w) => w.rel), ...Object.keys(sinkFiles)]);
    if (this.abandoned.has(id)) return;
    const files: Record<string, FileRef> = {};
    for (const op of operators) {
      const chain = this.chains.get(op.uid);
      for (const f of op.files) files[f] = written[f] ?? chain?.refs[f] ?? (() => { throw new Error(`internal: no checksum for ${f}`); })();
    }
    Object.assign(files, sinkFiles);
    const meta = await writeMetadataInBackground(this.root, {
      formatVersion: 1,
      job: this.manifest.job,
      id,
      createdAt: new Date().toISOString(),
      mode: this.policy.mode,
      layout: this.manifest.operators,
      sources,
      operators,
      sinks,
      fromSavepoint: this.fromSavepoint,
      keyGroups: this.manifest.keyGroups,
      ...(this.manifest.state ? { stateBackend: "disk" as const } : {}),
      ...this.extra,
      files,
    }, () => {
      // Abandoned (timed out) while its files were written: it never completes. Otherwise
      // it is decided now, and a timeout from here on waits for it.
      if (this.abandoned.has(id)) return false;
      this.decided.add(id);
      return true;
    });
    if (!meta) return;
    // In a bucket, the checkpoint is complete once its metadata is there.
    if (this.mirror) await this.mirror.put([join(checkpointDirName(id), METADATA)]);
    // 5. complete: update the chains, commit the sinks, retain, history.
    for (const op of operators) {
      const refs: Record<string, FileRef> = {};
      for (const f of op.files) refs[f] = files[f]!;
      const full = op.files.length === 1;
      const prev = this.chains.get(op.uid);
      this.chains.set(op.uid, {
        files: op.files,
        refs,
        fullBytes: full ? refs[op.files[0]!]!.bytes : (prev?.fullBytes ?? 0),
        deltaBytes: full ? 0 : (prev?.deltaBytes ?? 0) + refs[op.files[op.files.length - 1]!]!.bytes,
      });
    }
    this.completed.push(meta);
    for (let i = 0; i < sinks.length; i++) {
      const committed = this.parts.sinks[i]!.commit(sinks[i]!);
      if (committed) await committed;
    }
    const keep = this.completed.slice(-this.policy.retain);
    this.completed.splice(0, this.completed.length - keep.length);
    retain(this.root, keep, new Set(this.parts.sinks.flatMap((s) => s.uncommitted())));
    const done = { ...entry, durationMs: performance.now() - t0 };
    appendHistory(this.root, done);
    this.onHistory(done);
    if (this.mirror) await this.mirror.sync();
    this.log.debug(`checkpoint ${id} (${done.kind}) complete: ${done.durationMs.toFixed(1)} ms, pause ${done.pauseMs.toFixed(1)} ms, ${done.bytes} bytes, ${done.keys} keys`);
  }
}
