// `sequence(from: a, to: b)`: the ints from a to b.

import type { SourceManifest } from "../api.js";
import { BATCH_SIZE, type BatchResult, type Source, type SourceConnector, type SourcePosition, type SourceProgress } from "./contract.js";

export class SequenceSource implements Source {
  readonly replayable = true;
  private nextValue: number;
  private records = 0;

  constructor(
    readonly name: string,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.nextValue = from;
  }

  next(): BatchResult {
    if (this.nextValue > this.to) return null;
    const n = Math.min(BATCH_SIZE, this.to - this.nextValue + 1);
    const batch = new Array<number>(n);
    for (let i = 0; i < n; i++) batch[i] = this.nextValue + i;
    this.nextValue += n;
    this.records += n;
    return batch;
  }

  position(): SourcePosition {
    return { records: this.records };
  }

  progress(): SourceProgress {
    return { done: this.records, total: Math.max(0, this.to - this.from + 1), unit: "records" };
  }

  seek(p: SourcePosition): void {
    this.records = p.records + (p.skip ?? 0);
    this.nextValue = this.from + this.records;
  }

  close(): void {}
}

export const connector: SourceConnector<Extract<SourceManifest, { connector: "sequence" }>> = {
  open: (m) => new SequenceSource(m.name, m.from, m.to),
};
