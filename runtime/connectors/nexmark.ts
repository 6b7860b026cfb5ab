// `nexmark(events: n, seed: s)` and its one-kind variants: the Nexmark generator
// (runtime/nexmark.ts) read by event index, so a position is one number.

import type { SourceManifest } from "../api.js";
import { NexmarkGenerator, type NexmarkKind } from "../nexmark.js";
import { BATCH_SIZE, type BatchResult, type Source, type SourceConnector, type SourcePosition, type SourceProgress } from "./contract.js";

export class NexmarkSource implements Source {
  readonly replayable = true;
  private readonly gen: NexmarkGenerator;
  /** The index of the next generator event to look at. */
  private index = 0;

  constructor(
    readonly name: string,
    private readonly kind: NexmarkKind,
    private readonly events: number,
    seed: number,
  ) {
    this.gen = new NexmarkGenerator(seed);
  }

  next(): BatchResult {
    if (this.index >= this.events) return null;
    const out: unknown[] = [];
    this.index = this.gen.batch(this.kind, this.index, this.events, BATCH_SIZE, out);
    return out;
  }

  /** `records`: generator events consumed (not elements handed out), so a seek is one step. */
  position(): SourcePosition {
    return { records: this.index };
  }

  /** Generator events looked at, of the events asked for. */
  progress(): SourceProgress {
    return { done: this.index, total: this.events, unit: "records" };
  }

  seek(p: SourcePosition): void {
    this.index = p.records;
    // A batch consumed part way: skip that many elements of this kind again.
    if (p.skip) {
      const dropped: unknown[] = [];
      this.index = this.gen.batch(this.kind, this.index, this.events, p.skip, dropped);
    }
  }

  close(): void {}
}

export const connector: SourceConnector<Extract<SourceManifest, { connector: "nexmark" }>> = {
  open: (m) => new NexmarkSource(m.name, m.of, m.events, m.seed),
};
