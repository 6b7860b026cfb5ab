// Sinks write one line per element. Lines are gathered per batch and written once per batch.
//
// - stdout prints as it goes: at-least-once (after a crash, lines after the last checkpoint
//   are printed again).
// - A file sink without checkpoints writes through and is complete when the job ends.
// - Under checkpoints a file sink is transactional (two-phase commit): output is staged in
//   segment files under the checkpoint storage; a checkpoint fsyncs the staged segments
//   (pre-commit) and, once the checkpoint is complete, appends them to the target file
//   (commit). A commit is idempotent: recovery cuts the target back to the length before the
//   checkpoint's commit and appends its segments again, so nothing is lost or doubled.

import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SinkManifest, SinkWriter } from "./api.js";
import { createHash, type Hash } from "node:crypto";
import type { FileRef, SinkTransaction } from "./checkpoint/storage.js";
import { describeFsError, JobError } from "./errors.js";
import { makeFolders } from "./files.js";

export interface LineWriter extends SinkWriter {
  /** Writes what was gathered; may return a promise when the output is backed up. */
  flush(): void | Promise<void>;
  close(): void;
  /** Lines written, and bytes (stdout: all stdout sinks together). */
  readonly lines: number;
  readonly bytes: number;
}

const FLUSH_AT = 1 << 16;

function writeError(path: string, e: unknown): JobError {
  return new JobError("FLOW5004", `cannot write ${path}: ${describeFsError(e)}`);
}

/**
 * Standard output. All stdout sinks of a job share one buffer, so that lines come out in
 * the order the job produced them.
 */
export class StdoutSink implements LineWriter {
  private static pending = "";
  private static written = 0;
  /** Set when the reader of stdout went away (EPIPE): further output is dropped. */
  static closed = false;
  lines = 0;

  constructor(header: string | null) {
    if (header !== null) StdoutSink.pending += header + "\n";
  }

  get bytes(): number {
    return StdoutSink.written;
  }

  write(line: string): void {
    StdoutSink.pending += line + "\n";
    this.lines++;
    if (StdoutSink.pending.length > FLUSH_AT) void this.flush();
  }

  flush(): void | Promise<void> {
    if (StdoutSink.pending.length === 0) return;
    if (StdoutSink.closed) {
      StdoutSink.pending = "";
      return;
    }
    StdoutSink.written += Buffer.byteLength(StdoutSink.pending);
    const ok = process.stdout.write(StdoutSink.pending);
    StdoutSink.pending = "";
    if (!ok) return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
  }

  close(): void {
    void this.flush();
  }
}

/**
 * A file written as lines arrive (no checkpoints): replaced at start, or, restoring a
 * savepoint, cut back to the length it had then and continued.
 */
export class FileSink implements LineWriter {
  private fd: number;
  private pending = "";
  /** The file's length: what was written so far. */
  length = 0;
  lines = 0;
  bytes = 0;

  constructor(
    readonly path: string,
    header: string | null,
    resumeAt: number | null = null,
  ) {
    try {
      makeFolders(dirname(path));
      if (resumeAt === null) this.fd = openSync(path, "w");
      else {
        this.fd = openSync(path, existsSync(path) ? "r+" : "w+");
        const size = fstatSync(this.fd).size;
        if (size < resumeAt) throw new JobError("FLOW5004", `cannot continue ${path}: it is shorter (${size} bytes) than when the savepoint was taken (${resumeAt} bytes); was it changed outside the job?`);
        ftruncateSync(this.fd, resumeAt);
        this.length = resumeAt;
      }
    } catch (e) {
      if (e instanceof JobError) throw e;
      throw writeError(path, e);
    }
    if (header !== null && resumeAt === null) this.pending = header + "\n";
  }

  write(line: string): void {
    this.pending += line + "\n";
    this.lines++;
    if (this.pending.length > FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending);
    try {
      writeSync(this.fd, buf, 0, buf.length, this.length);
    } catch (e) {
      throw writeError(this.path, e);
    }
    this.length += buf.length;
    this.bytes += buf.length;
    this.pending = "";
  }

  close(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

/** A file sink under checkpoints: staged segments, committed when a checkpoint completes. */
export class TransactionalFileSink implements LineWriter {
  private target: number;
  private committed = 0;
  private pending = "";
  private segment: { fd: number; rel: string; bytes: number; hash: Hash } | null = null;
  /** Sealed segments (fsynced) that no completed checkpoint has committed yet. */
  private sealed: { rel: string; bytes: number; sha256: string }[] = [];
  private header: string | null;
  private counter = 0;
  /** Which checkpoint the next segment is staged for (names only). */
  nextCheckpoint = 1;
  lines = 0;
  bytes = 0;

  /** The length of the file's committed output. */
  get length(): number {
    return this.committed;
  }

  constructor(
    readonly index: number,
    readonly role: "sink" | "dead_letter",
    readonly path: string,
    header: string | null,
    private readonly root: string,
  ) {
    this.header = header;
    try {
      makeFolders(dirname(path));
      this.target = openSync(path, existsSync(path) ? "r+" : "w+");
    } catch (e) {
      throw writeError(path, e);
    }
  }

  /** A fresh start: the file is replaced. */
  startFresh(): void {
    try {
      ftruncateSync(this.target, 0);
      fsyncSync(this.target);
    } catch (e) {
      throw writeError(this.path, e);
    }
    this.committed = 0;
    if (this.header !== null) this.pending = this.header + "\n";
  }

  /** Restoring a savepoint: the file is cut back to the length it had when the savepoint was taken. */
  resumeAt(length: number): void {
    try {
      const size = fstatSync(this.target).size;
      if (size < length) throw new JobError("FLOW5004", `cannot continue ${this.path}: it is shorter (${size} bytes) than when the savepoint was taken (${length} bytes); was it changed outside the job?`);
      ftruncateSync(this.target, length);
      fsyncSync(this.target);
    } catch (e) {
      if (e instanceof JobError) throw e;
      throw writeError(this.path, e);
    }
    this.committed = length;
  }

  /**
   * Resuming from a checkpoint: the file is cut back to that checkpoint's committed length,
   * re-committing its transaction if the commit was interrupted.
   */
  restore(txn: SinkTransaction): void {
    try {
      const size = fstatSync(this.target).size;
      if (size >= txn.length) {
        ftruncateSync(this.target, txn.length);
      } else {
        if (size < txn.baseLength) throw new JobError("FLOW5004", `cannot resume ${this.path}: it is shorter (${size} bytes) than the output committed before the checkpoint (${txn.baseLength} bytes); was it changed outside the job?`, "start with --fresh to write it again from the beginning");
        ftruncateSync(this.target, txn.baseLength);
        this.committed = txn.baseLength;
        for (const rel of txn.segments) this.appendSegment(rel);
      }
      fsyncSync(this.target);
    } catch (e) {
      if (e instanceof JobError) throw e;
      throw writeError(this.path, e);
    }
    this.committed = txn.length;
  }

  write(line: string): void {
    this.pending += line + "\n";
    this.lines++;
    if (this.pending.length > FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending);
    this.pending = "";
    this.bytes += buf.length;
    try {
      if (!this.segment) {
        const rel = join("sinks", `${this.role}-${this.index}`, `seg-${String(this.nextCheckpoint).padStart(6, "0")}-${this.counter++}`);
        makeFolders(dirname(join(this.root, rel)));
        this.segment = { fd: openSync(join(this.root, rel), "w"), rel, bytes: 0, hash: createHash("sha256") };
      }
      writeSync(this.segment.fd, buf);
      this.segment.bytes += buf.length;
      this.segment.hash.update(buf);
    } catch (e) {
      throw writeError(this.path, e);
    }
  }

  /** Paths of segments not committed yet (kept by retention while in progress). */
  openSegments(): string[] {
    return [...this.sealed.map((s) => s.rel), ...(this.segment ? [this.segment.rel] : [])];
  }

  /** Pre-commit: stage everything written so far durably; return the transaction and its files. */
  preCommit(): { txn: SinkTransaction; files: Record<string, FileRef> } {
    this.flush();
    if (this.segment) {
      try {
        fsyncSync(this.segment.fd);
        closeSync(this.segment.fd);
      } catch (e) {
        throw writeError(this.path, e);
      }
      this.sealed.push({ rel: this.segment.rel, bytes: this.segment.bytes, sha256: this.segment.hash.digest("hex") });
      this.segment = null;
    }
    const bytes = this.sealed.reduce((n, s) => n + s.bytes, 0);
    const files: Record<string, FileRef> = {};
    for (const s of this.sealed) files[s.rel] = { sha256: s.sha256, bytes: s.bytes };
    return {
      txn: { index: this.index, role: this.role, path: this.path, baseLength: this.committed, length: this.committed + bytes, segments: this.sealed.map((s) => s.rel) },
      files,
    };
  }

  /** Commit: after the checkpoint is complete, its staged output becomes visible. */
  commit(txn: SinkTransaction): void {
    try {
      for (const rel of txn.segments) this.appendSegment(rel);
      fsyncSync(this.target);
    } catch (e) {
      if (e instanceof JobError) throw e;
      throw writeError(this.path, e);
    }
    this.committed = txn.length;
    this.sealed = this.sealed.filter((s) => !txn.segments.includes(s.rel));
  }

  private appendSegment(rel: string): void {
    const fd = openSync(join(this.root, rel), "r");
    const buf = Buffer.allocUnsafe(1 << 20);
    try {
      let n: number;
      while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) {
        writeSync(this.target, buf, 0, n, this.committed);
        this.committed += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Gives up what was staged and not committed (a restart after a failure). */
  abort(): void {
    this.pending = "";
    if (this.segment) {
      closeSync(this.segment.fd);
      this.segment = null;
    }
    this.sealed = [];
    closeSync(this.target);
  }

  close(): void {
    if (this.segment) closeSync(this.segment.fd);
    this.segment = null;
    closeSync(this.target);
  }
}

export function sinkHeader(m: SinkManifest): string | null {
  return m.format === "csv" && m.columns ? m.columns.join(",") : null;
}

export function openSink(m: SinkManifest): LineWriter {
  const header = sinkHeader(m);
  return m.connector === "stdout" ? new StdoutSink(header) : new FileSink(m.path, header);
}
