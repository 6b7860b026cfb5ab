// A source's on_error policy: stop at a bad record, count it, or write it to a dead-letter
// file. The driver makes one per source and opens its dead-letter file with the outputs.

import type { OnErrorManifest } from "../api.js";
import type { BadRecordError } from "../errors.js";
import type { BadRecords, Sink } from "./contract.js";

export class RecordErrors implements BadRecords {
  skipped = 0;
  /**
   * With on_error "fail": the bad record, held until the records before it have gone
   * through the job (so the output does not depend on where batches end).
   */
  failure: BadRecordError | null = null;
  /** While re-reading records a checkpoint already covers: they were handled then. */
  replaying = false;

  constructor(
    private readonly policy: OnErrorManifest,
    /** Where dead letters go (set once the writer is open). */
    public deadLetter: Pick<Sink, "write"> | null,
    /** The job's log at warn level, for what is odd in the input but not bad (a csv column named twice). */
    readonly warn: (message: string) => void = () => {},
  ) {}

  handle(err: BadRecordError): void {
    if (this.replaying) return;
    if (this.policy.policy === "fail") {
      this.failure ??= err;
      return;
    }
    this.skipped++;
    if (this.deadLetter) {
      this.deadLetter.write(JSON.stringify(err.at ? { source: err.source, ...err.at, field: err.field, error: err.problem, record: err.raw } : { source: err.source, file: err.file, line: err.line, field: err.field, error: err.problem, record: err.raw }));
    }
  }
}
