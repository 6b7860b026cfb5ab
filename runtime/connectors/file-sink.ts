// `file(path)` as a sink. Without checkpoints the file is written as lines arrive and is
// complete when the job ends (FileSink). Under checkpoints it is transactional, committed
// by checkpoints (transactional-file.ts). A source's dead-letter file is opened the same way.

import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { SinkManifest } from "../api.js";
import { JobError, writeError } from "../errors.js";
import { makeFolders } from "../files.js";
import { FLUSH_AT, type Sink, type SinkAt, type SinkConnector, type SinkRole } from "./contract.js";
import { TransactionalFileSink } from "./transactional-file.js";

/**
 * A file written as lines arrive (no checkpoints): replaced at start, or, restoring a
 * savepoint, cut back to the length it had then and continued.
 */
export class FileSink implements Sink {
  private fd: number;
  private pending = "";
  readonly transaction = null;
  /** The file's length: what was written so far. */
  length = 0;
  lines = 0;
  bytes = 0;

  constructor(
    readonly index: number,
    readonly role: SinkRole,
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

  savepointAt(): SinkAt {
    return { index: this.index, role: this.role, path: this.path, length: this.length };
  }
}

export const connector: SinkConnector<Extract<SinkManifest, { connector: "file" }>> = {
  open(m, ctx) {
    if (ctx.staging === null) return new FileSink(ctx.index, ctx.role, m.path, ctx.header, ctx.savepointed ? ctx.savepointed.length : null);
    const t = new TransactionalFileSink(ctx.index, ctx.role, m.path, ctx.header, ctx.staging);
    if (ctx.checkpointed) t.restore(ctx.checkpointed);
    else if (ctx.savepointed) t.resumeAt(ctx.savepointed.length);
    else t.startFresh();
    return t;
  },
};
