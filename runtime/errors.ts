// Errors the runtime reports to the user: bad input, unreadable files, failing expressions.
// Each carries a stable code (FLOW5xxx, listed in docs/errors.md) and prints without a stack.

export class JobError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "JobError";
  }
}

/** A record that does not parse or does not fit the declared type, located in its input. */
export class BadRecordError extends JobError {
  constructor(
    readonly source: string,
    readonly file: string,
    readonly line: number,
    readonly field: string | null,
    readonly problem: string,
    readonly raw: string,
    /** Where a record that is not a line of a file is: a message's stream, sequence and subject (shown in the message and the dead letter). */
    readonly at?: { stream: string; sequence: number; subject: string },
  ) {
    super("FLOW5001", `bad input in ${at ? `stream ${at.stream}, sequence ${at.sequence} (subject ${at.subject})` : `${file}, line ${line}`}${field ? `, field \`${field}\`` : ""}: ${problem}`, `the source \`${source}\` stops at the first bad record (on_error: "fail"); use on_error: "skip" or "dead_letter" to go on past them`);
  }
}

/** Raised by a converter: which field (dotted path) and what was wrong. */
export class ConversionError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** A file system error in a few words. */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    case "ENOSPC":
      return "no space left on the device";
    case "EROFS":
      return "the file system is read-only";
    default:
      return (e as Error).message;
  }
}

/** An output file that cannot be written (FLOW5004); a JobError, which says more already, as it is. */
export function writeError(path: string, e: unknown): JobError {
  return e instanceof JobError ? e : new JobError("FLOW5004", `cannot write ${path}: ${describeFsError(e)}`);
}
