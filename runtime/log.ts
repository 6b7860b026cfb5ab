// The job's log on stderr, filtered by --log-level.

export type Level = "error" | "warn" | "info" | "debug";
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** A line drawn in place at the bottom of a terminal (the status line). */
export interface InPlaceLine {
  clear(): void;
  redraw(): void;
}

export class Log {
  /** The status line while one is drawn on stderr: a log line clears it first and draws it again after. */
  static line: InPlaceLine | null = null;
  /** Several instances: which one this is (`[1/3] `), before every line. */
  prefix = "";

  constructor(
    private readonly job: string,
    private readonly level: Level,
  ) {}

  enabled(level: Level): boolean {
    return ORDER[level] <= ORDER[this.level];
  }

  write(level: Level, message: string): void {
    if (!this.enabled(level)) return;
    Log.line?.clear();
    process.stderr.write(`${this.prefix}[${this.job}] ${level}: ${message}\n`);
    Log.line?.redraw();
  }

  warn(message: string): void {
    this.write("warn", message);
  }

  info(message: string): void {
    this.write("info", message);
  }

  debug(message: string): void {
    this.write("debug", message);
  }
}
