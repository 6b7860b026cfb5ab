// A file sink under checkpoints (two-phase commit): output is staged in segment files under
// the checkpoint storage; a checkpoint fsyncs the staged segments (pre-commit) and, once the
// checkpoint is complete, appends them to the target file (commit). A commit is idempotent:
// recovery cuts the target back to the length before the checkpoint's commit and appends its
// segments again, so nothing is lost or doubled.

import { createHash, type Hash } from "node:crypto";
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { JobError, writeError } from "../errors.js";
import { makeFolders } from "../files.js";
import type { FileRef, Sink, SinkRole, SinkTransaction, Staged, TransactionalSink } from "./contract.js";
import { cutBack, FileOutput } from "./file-output.js";

/** A file sink under checkpoints: staged segments, committed when a checkpoint completes. */
export class TransactionalFileSink extends FileOutput implements Sink, TransactionalSink {
  private target: number;
  private committed = 0;
  private segment: { fd: number; rel: string; bytes: number; hash: Hash } | null = null;
  /** Sealed segments (fsynced) that no completed checkpoint has committed yet. */
  private sealed: { rel: string; bytes: number; sha256: string }[] = [];
  private header: string | null;
  private counter = 0;
  /** Which checkpoint the next segment is staged for (names only). */
  private nextCheckpoint = 1;

  constructor(
    index: number,
    role: SinkRole,
    path: string,
    header: string | null,
    private readonly root: string,
  ) {
    super(index, role, path);
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
      cutBack(this.target, this.path, length);
      fsyncSync(this.target);
    } catch (e) {
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
      throw writeError(this.path, e);
    }
    this.committed = txn.length;
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

  get transaction(): TransactionalSink {
    return this;
  }

  stageFor(id: number): void {
    this.nextCheckpoint = id;
  }

  /** Paths of segments not committed yet (kept by retention while in progress). */
  uncommitted(): string[] {
    return [...this.sealed.map((s) => s.rel), ...(this.segment ? [this.segment.rel] : [])];
  }

  /** Pre-commit: stage everything written so far durably; return the transaction and its files. */
  preCommit(): Staged {
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

  /** The committed output's length (a savepoint is taken once a checkpoint committed it). */
  protected get length(): number {
    return this.committed;
  }
}
