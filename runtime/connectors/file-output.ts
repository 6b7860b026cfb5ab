// What the two file sinks share (file-sink.ts writes through, transactional-file.ts commits
// with checkpoints; both also write dead-letter files): lines gathered and written once per
// batch or once they are many, and a file cut back to where a savepoint left it.

import { fstatSync, ftruncateSync } from "node:fs";
import { JobError } from "../errors.js";
import { FLUSH_AT, type SinkAt, type SinkRole } from "./contract.js";

export abstract class FileOutput {
  protected pending = "";
  lines = 0;
  bytes = 0;

  constructor(
    readonly index: number,
    readonly role: SinkRole,
    readonly path: string,
  ) {}

  write(line: string): void {
    this.pending += line + "\n";
    this.lines++;
    if (this.pending.length > FLUSH_AT) this.flush();
  }

  abstract flush(): void;

  /** The length of the output up to now (what a savepoint records). */
  protected abstract get length(): number;

  savepointAt(): SinkAt {
    return { index: this.index, role: this.role, path: this.path, length: this.length };
  }
}

/** Restoring a savepoint: the file is cut back to the length it had when the savepoint was taken. */
export function cutBack(fd: number, path: string, length: number): void {
  const size = fstatSync(fd).size;
  if (size < length) throw new JobError("FLOW5004", `cannot continue ${path}: it is shorter (${size} bytes) than when the savepoint was taken (${length} bytes); was it changed outside the job?`);
  ftruncateSync(fd, length);
}
