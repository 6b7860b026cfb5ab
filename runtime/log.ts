// The job's log on stderr, filtered by --log-level.

export type Level = "error" | "warn" | "info" | "debug";
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Log {
  constructor(
    private readonly job: string,
    private readonly level: Level,
  ) {}

  enabled(level: Level): boolean {
    return ORDER[level] <= ORDER[this.level];
  }

  write(level: Level, message: string): void {
    if (this.enabled(level)) process.stderr.write(`[${this.job}] ${level}: ${message}\n`);
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
