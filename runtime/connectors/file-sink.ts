// `file(path)` as a sink. Without checkpoints the file is written as lines arrive and is
// complete when the job ends (FileSink). Under checkpoints it is transactional, committed
// by checkpoints (transactional-file.ts). A source's dead-letter file is opened the same way.

import { closeSync, existsSync, fsyncSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { SinkManifest } from "../api.js";
import { writeError } from "../errors.js";
import { makeFolders } from "../files.js";
import type { Sink, SinkConnector, SinkRole } from "./contract.js";
import { cutBack, FileOutput } from "./file-output.js";
import { TransactionalFileSink } from "./transactional-file.js";

/**
 * A file written as lines arrive (no checkpoints): replaced at start, or, restoring a
 * savepoint, cut back to the length it had then and continued.
 */
export class FileSink extends FileOutput implements Sink {
  private fd: number;
  readonly transaction = null;
  /** The file's length: what was written so far. */
  protected length = 0;

  constructor(index: number, role: SinkRole, path: string, header: string | null, resumeAt: number | null = null) {
    super(index, role, path);
    try {
      makeFolders(dirname(path));
      if (resumeAt === null) this.fd = openSync(path, "w");
      else {
        this.fd = openSync(path, existsSync(path) ? "r+" : "w+");
        cutBack(this.fd, path, resumeAt);
        this.length = resumeAt;
      }
    } catch (e) {
      throw writeError(path, e);
    }
    if (header !== null && resumeAt === null) this.pending = header + "\n";
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
