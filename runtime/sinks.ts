// Sinks write one line per element. Lines are gathered per batch and written once per batch.
// stdout prints as it goes (at-least-once). A file sink replaces its file at a fresh start
// and appends as it goes; the issue "checkpoints" turns it into a two-phase-commit sink.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { SinkManifest, SinkWriter } from "./api.js";
import { describeFsError, JobError } from "./errors.js";

export interface LineWriter extends SinkWriter {
  /** Writes what was gathered; may return a promise when the output is backed up. */
  flush(): void | Promise<void>;
  close(): void;
}

const FLUSH_AT = 1 << 16;

/**
 * Standard output. All stdout sinks of a job share one buffer, so that lines come out in
 * the order the job produced them.
 */
export class StdoutSink implements LineWriter {
  private static pending = "";

  constructor(header: string | null) {
    if (header !== null) StdoutSink.pending += header + "\n";
  }

  write(line: string): void {
    StdoutSink.pending += line + "\n";
    if (StdoutSink.pending.length > FLUSH_AT) void this.flush();
  }

  flush(): void | Promise<void> {
    if (StdoutSink.pending.length === 0) return;
    const ok = process.stdout.write(StdoutSink.pending);
    StdoutSink.pending = "";
    if (!ok) return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
  }

  close(): void {
    void this.flush();
  }
}

/** A file written as lines arrive; replaced at start. */
export class FileSink implements LineWriter {
  private fd: number;
  private pending = "";

  constructor(
    private readonly path: string,
    header: string | null,
  ) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, "w");
    } catch (e) {
      throw new JobError("FLOW5004", `cannot write ${path}: ${describeFsError(e)}`);
    }
    if (header !== null) this.pending = header + "\n";
  }

  write(line: string): void {
    this.pending += line + "\n";
    if (this.pending.length > FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    try {
      writeSync(this.fd, this.pending);
    } catch (e) {
      throw new JobError("FLOW5004", `cannot write ${this.path}: ${describeFsError(e)}`);
    }
    this.pending = "";
  }

  close(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

export function openSink(m: SinkManifest): LineWriter {
  const header = m.format === "csv" && m.columns ? m.columns.join(",") : null;
  return m.connector === "stdout" ? new StdoutSink(header) : new FileSink(m.path, header);
}
