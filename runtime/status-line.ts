// The status line: one line at the bottom of the terminal, redrawn in place on stderr four
// times a second while the job runs: the time since it started, records per second of each
// source (with how far a finite input has been read), the watermark, the last checkpoint.
// The job draws it when started with --status-line and its stderr is a terminal; `flowc
// run` passes the flag when its own stderr is one and --quiet is not given
// (docs/operations.md, "The status line"). Log lines and stdout output on the same
// terminal clear it first and draw it again after (Log.line, StdoutSink.line).

import type { JobStatus } from "./admin.js";
import type { Manifest } from "./api.js";
import type { InPlaceLine } from "./log.js";
import { fraction } from "./progress.js";

const EVERY_MS = 250;

const num = (n: number): string => (n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US"));
const clock = (s: number): string => {
  const t = Math.floor(s);
  const mmss = `${Math.floor((t / 60) % 60)}:${String(t % 60).padStart(2, "0")}`;
  return t >= 3600 ? `${Math.floor(t / 3600)}:${mmss.padStart(5, "0")}` : mmss;
};

export class StatusLine implements InPlaceLine {
  private timer: NodeJS.Timeout | null = null;
  private text = "";
  private shown = false;
  private ran = false;
  /** Records of each source over the last second or so, for the rates. */
  private samples: { at: number; records: number[] }[] = [];

  constructor(
    private readonly status: () => JobStatus,
    private readonly m: Manifest,
    private readonly out: NodeJS.WriteStream,
  ) {}

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), EVERY_MS);
    this.timer.unref();
  }

  /** The line for a status, at `now` (ms since the epoch). */
  format(st: JobStatus, now: number): string {
    const parts = [clock(st.uptimeSeconds)];
    if (st.state === "running") this.ran = true;
    // Before its first run the job is "restarting" to the admin endpoint; here it is starting.
    if (st.state !== "running" || !st.sources.length) parts.push(this.ran ? st.state : "starting");
    const s = this.samples;
    s.push({ at: now, records: st.sources.map((x) => x.records) });
    while (s.length > 2 && s[1]!.at <= now - 1000) s.shift();
    const first = s[0]!;
    st.sources.forEach((src, i) => {
      const dt = (now - first.at) / 1000;
      const before = first.records[i] ?? 0;
      let text = `${src.name} ${dt > 0 && src.records >= before ? num((src.records - before) / dt) : "0"} rec/s`;
      if (src.progress) text += ` ${fraction(src.progress)}`;
      parts.push(text);
    });
    const marks = st.sources.map((x) => x.watermark).filter((w): w is number => w !== null);
    if (marks.length) parts.push(`watermark ${new Date(Math.min(...marks)).toISOString().replace("T", " ").replace(".000Z", "Z")}`);
    if (this.m.checkpoint) {
      const c = st.lastCheckpoint as { id: number; createdAt: string } | null;
      parts.push(c ? `checkpoint ${c.id} ${Math.max(0, Math.round((now - Date.parse(c.createdAt)) / 1000))}s ago` : "no checkpoint yet");
    }
    return parts.join(" | ");
  }

  draw(): void {
    const line = this.format(this.status(), Date.now());
    // One line, never wrapped: a wrapped line could not be redrawn in place.
    this.text = line.slice(0, Math.max(10, (this.out.columns || 80) - 1));
    this.redraw();
  }

  redraw(): void {
    if (this.text === "") return;
    this.out.write(`\r${this.text}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.out.write("\r\x1b[K");
    this.shown = false;
  }

  /** Stops redrawing and clears the line (before the job's last words, and at its end). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
    this.text = "";
  }
}
