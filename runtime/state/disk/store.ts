// The disk state backend's store (docs/operations.md, "State on disk"): one LMDB environment
// per job, in `<dir>/live`, that every disk-backed operator keeps its per-key state in (a
// table each: keyed.ts). The operators keep a bounded cache of decoded state in front of it
// and write back what they evict in batches, one transaction each, in the background.
//
// The live store is a working copy, a cache of the state whose truth is the checkpoints: it
// is never trusted after a restart. A run empties it and fills it from the checkpoint (or
// savepoint) it starts from, so that it holds a checkpoint's exact state, never a later,
// uncommitted one. It is written without fsync.
//
//   <dir>/
//     FORMAT            "flowc-state 1"
//     LOCK              the job's lock (runtime/locks.ts): one job per folder
//     live/             data.mdb, lock.mdb: the LMDB environment

import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describeFsError, JobError } from "../../errors.js";
import { makeFolders } from "../../files.js";
import { writeFileAtomic } from "../../checkpoint/storage.js";
import { openLmdb, type Lmdb, type loadLmdb } from "./native.js";

export const STATE_FORMAT = "flowc-state 1";
/** Background write batches in flight at most (each up to a table's FLUSH_AT writes). */
export const MAX_IN_FLIGHT = 4;

/** A table of the store (keyed.ts): what it caches that the store does not have yet. */
export interface StoreTable {
  readonly uid: string;
  /**
   * Hands its pending writes to `put` and `remove`; with a batch id, they are written in the
   * background and the table keeps them readable until settled(id); without, they are in the
   * store when the call returns. Returns the bytes (keys and values).
   */
  drain(put: (key: Buffer, value: Buffer) => void, remove: (key: Buffer) => void, batch: number | null): number;
  /** The background batches up to `batch` are in the store (all of them: Infinity). */
  settled(batch: number): void;
  readonly hits: number;
  readonly misses: number;
  /** Keys of the table. */
  readonly size: number;
}

export interface StoreOptions {
  /** The state folder, resolved, and as the user gave it. */
  dir: string;
  shown: string;
  /** Keys whose state stays decoded in memory, per table. */
  cache: number;
  /** Whether checkpoints are taken (then tables track the keys changed since the last one). */
  checkpoints: boolean;
}

/** Names the backend writes in its folder. */
const OURS = /^(FORMAT(\.tmp)?|LOCK(\..+)?|live)$/;

export class DiskStore {
  readonly db: Lmdb;
  private readonly tables: StoreTable[] = [];
  /** Bytes written to the store since the job started (keys and values). */
  written = 0;
  /** Background write batches: the last id given, those not committed yet, the first failure. */
  private batches = 0;
  private inFlight = 0;
  private failure: Error | null = null;
  /** What lmdb-js gives as the reason of a failed commit (its error names only "Commit failed"). */
  private cause: Error | null = null;

  constructor(
    lib: Awaited<ReturnType<typeof loadLmdb>>,
    readonly opts: StoreOptions,
  ) {
    checkStateFolder(opts.dir, opts.shown);
    makeFolders(opts.dir);
    if (readFormat(opts.dir) !== STATE_FORMAT) writeFileAtomic(join(opts.dir, "FORMAT"), STATE_FORMAT + "\n");
    // A new, empty working copy: whatever an earlier run left is not trusted.
    rmSync(join(opts.dir, "live"), { recursive: true, force: true });
    this.db = openLmdb(lib, join(opts.dir, "live"));
  }

  /** Registers a table; its id in the store's keys. */
  register(t: StoreTable): number {
    this.tables.push(t);
    if (this.tables.length > 0xffff) throw new Error("internal: more than 65535 state tables");
    return this.tables.length - 1;
  }

  /**
   * Writes every table's pending changes to the store in the background: lmdb-js runs the
   * transaction on a thread of its own (the other core), while the job goes on; the tables
   * keep a batch readable until it is committed. At most MAX_IN_FLIGHT batches are in
   * flight; beyond, the job waits for them (sync).
   */
  flush(): void {
    this.check();
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.sync();
      return;
    }
    const id = ++this.batches;
    const db = this.db;
    let last: Promise<boolean> | null = null;
    // lmdb-js hands out one promise per transaction it cuts the writes into: each is watched
    // (a failure is then the job's, not an unhandled rejection), the last one settles the batch.
    const watch = (p: Promise<boolean>): void => {
      if (p === last) return;
      if (last !== null) last.then(undefined, this.failed);
      last = p;
    };
    let bytes = 0;
    for (const t of this.tables) {
      bytes += t.drain(
        (k, v) => watch(db.put(k, v)),
        (k) => watch(db.remove(k)),
        id,
      );
    }
    this.written += bytes;
    if (last === null) {
      for (const t of this.tables) t.settled(id);
      return;
    }
    this.inFlight++;
    (last as Promise<boolean>).then(
      () => {
        this.inFlight--;
        // After a failed transaction, later ones may still commit (into free pages): the
        // failed batch's writes stay readable in the tables until the job stops, so that
        // nothing (a checkpoint's delta above all) reads the store without them.
        if (this.failure === null) for (const t of this.tables) t.settled(id);
      },
      (e: unknown) => {
        this.inFlight--;
        this.failed(e);
      },
    );
  }

  /** A background write failed: the next write (or check) stops the job with FLOW5004. */
  private readonly failed = (e: unknown): void => {
    this.failure ??= e instanceof Error ? e : new Error(String(e));
    const detail = (e as { commitError?: Promise<unknown> } | null)?.commitError;
    if (detail && typeof detail.then === "function") {
      detail.then(undefined, (c: unknown) => {
        this.cause ??= c instanceof Error ? c : new Error(String(c));
      });
    }
  };

  /**
   * One synchronous transaction of `write`'s puts and removes, after the background ones; a
   * store that cannot be written stops the job with FLOW5004.
   */
  writeSync(write: () => void): void {
    this.check();
    try {
      this.db.transactionSync(write);
    } catch (e) {
      throw this.writeError(e);
    }
  }

  private writeError(e: unknown): JobError {
    const reason = String((e as Error)?.message ?? e).split("\n")[0];
    return new JobError(
      "FLOW5004",
      `cannot write the disk state backend's store in ${this.opts.shown}: ${reason}`,
      "make room on the file system that holds the state folder (or raise the limit on the size of files), then start the job again: it resumes from its last checkpoint and rebuilds the store",
    );
  }

  /**
   * Writes every table's pending changes in one synchronous transaction, which lmdb-js runs
   * after the background ones: when it returns, the store holds every write (a full
   * checkpoint, a savepoint, the end of a run).
   */
  sync(): void {
    const db = this.db;
    let bytes = 0;
    this.writeSync(() => {
      for (const t of this.tables) bytes += t.drain((k, v) => void db.put(k, v), (k) => void db.remove(k), null);
    });
    this.written += bytes;
    for (const t of this.tables) t.settled(Infinity);
    this.check();
  }

  /** A background write that failed stops the job (before the next write, and before a checkpoint reads the store). */
  check(): void {
    if (this.failure) throw this.writeError(this.cause ?? this.failure);
  }

  // ---- metrics ------------------------------------------------------------------------------

  /** Keys in the store's tables (those still only in a cache included). */
  keys(): number {
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  /** Bytes the store's files take on disk. */
  sizeOnDisk(): number {
    let n = 0;
    for (const f of ["data.mdb", "lock.mdb"]) {
      try {
        const st = statSync(join(this.opts.dir, "live", f));
        n += Math.min(st.size, st.blocks * 512);
      } catch {
        // not there
      }
    }
    return n;
  }

  /** Cache hits and misses over every table. */
  cacheStats(): { hits: number; misses: number } {
    let hits = 0;
    let misses = 0;
    for (const t of this.tables) {
      hits += t.hits;
      misses += t.misses;
    }
    return { hits, misses };
  }

  // ---- full snapshots read after the pause (keyed.ts) ----------------------------------------

  /** Ranges of the store being read by a checkpoint, each holding a read transaction. */
  private readonly scans = new Set<Iterator<unknown>>();
  private closed = false;

  /** A checkpoint began reading a range (in the pause); scanEnded() when it is through. */
  scanStarted(range: Iterator<unknown>): Iterator<unknown> {
    this.scans.add(range);
    return range;
  }

  /** The scan is over: whether it read its range whole (false: the store closed under it). */
  scanEnded(range: Iterator<unknown>): boolean {
    this.scans.delete(range);
    return !this.closed;
  }

  /** Closes the store (its files stay; the next run starts a new working copy). */
  close(): void {
    this.closed = true;
    // A scan still reading ends here (its read transaction with it): its checkpoint fails.
    for (const r of this.scans) r.return?.();
    this.scans.clear();
    try {
      // Waits for the background writes, so that nothing writes into a closed environment.
      this.db.transactionSync(() => undefined);
    } catch {
      // closing anyway
    }
    void this.db.close();
  }

  /** Closes and removes the working copy (a job that reached its end). */
  remove(): void {
    this.close();
    rmSync(join(this.opts.dir, "live"), { recursive: true, force: true });
  }
}

function readFormat(dir: string): string | null {
  try {
    return readFileSync(join(dir, "FORMAT"), "utf8").trim();
  } catch {
    return null;
  }
}

/**
 * Refuses (FLOW5022) a state folder that is not one: not a folder, a FORMAT of another kind,
 * or a folder of other files. Before anything in it changes.
 */
export function checkStateFolder(dir: string, shown: string): void {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new JobError("FLOW5022", `the state folder ${shown} is not a folder`, "point `dir` in the state block at a folder of its own");
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof JobError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new JobError("FLOW5022", `cannot read the state folder ${shown}: ${describeFsError(e)}`);
  }
  const format = existsSync(join(dir, "FORMAT")) ? readFormat(dir) : null;
  if (format !== null && format !== STATE_FORMAT) {
    const version = /^flowc-state (\d+)$/.exec(format);
    throw new JobError("FLOW5022", version ? `the state folder ${shown} is in state format ${version[1]}, and this job writes ${STATE_FORMAT.split(" ")[1]}` : `the state folder ${shown} holds a FORMAT file that is not flowc's state format`, "point `dir` in the state block at a folder of its own (its content is rebuilt from the checkpoints at every start)");
  }
  const foreign = names.filter((n) => !OURS.test(n));
  if (foreign.length) {
    const listed = foreign.sort().slice(0, 5).join(", ") + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : "");
    throw new JobError("FLOW5022", `${shown} is not a state folder: it holds ${listed}`, "point `dir` in the state block at an empty or new folder: the job replaces what it keeps there at every start");
  }
}
