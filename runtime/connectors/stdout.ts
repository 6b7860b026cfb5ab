// `stdout()`: at-least-once (after a crash, lines after the last checkpoint are printed
// again). All stdout sinks of a job share one buffer, so that lines come out in the order
// the job produced them.

import type { SinkManifest } from "../api.js";
import type { InPlaceLine } from "../log.js";
import { FLUSH_AT, type Sink, type SinkConnector } from "./contract.js";

export class StdoutSink implements Sink {
  private static pending = "";
  private static written = 0;
  /** Set when the reader of stdout went away (EPIPE): further output is dropped. */
  static closed = false;
  /** The status line, when stdout is the terminal it is drawn on: cleared before output, drawn again after. */
  static line: InPlaceLine | null = null;
  readonly transaction = null;
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
    StdoutSink.line?.clear();
    const ok = process.stdout.write(StdoutSink.pending);
    StdoutSink.line?.redraw();
    StdoutSink.pending = "";
    if (!ok) return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
  }

  close(): void {
    void this.flush();
  }

  savepointAt(): null {
    return null;
  }
}

export const connector: SinkConnector<Extract<SinkManifest, { connector: "stdout" }>> = {
  // The header only at the start of the output: a resumed job goes on with what it printed.
  open: (_m, ctx) => new StdoutSink(ctx.fresh ? ctx.header : null),
};
