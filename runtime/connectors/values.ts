// `values([…])`: the elements the generated code computes, handed out in batches.

import type { SourceBinding, SourceManifest } from "../api.js";
import { BATCH_SIZE, type BatchResult, type Source, type SourceConnector, type SourcePosition, type SourceProgress } from "./contract.js";

export class ValuesSource implements Source {
  readonly replayable = true;
  private index = 0;
  private values: readonly unknown[] = [];

  constructor(readonly name: string) {}

  bind(binding: SourceBinding<unknown>): void {
    this.values = binding.values ?? [];
  }

  next(): BatchResult {
    if (this.index >= this.values.length) return null;
    const batch = this.values.slice(this.index, this.index + BATCH_SIZE);
    this.index += batch.length;
    return batch;
  }

  position(): SourcePosition {
    return { records: this.index };
  }

  progress(): SourceProgress {
    return { done: this.index, total: this.values.length, unit: "records" };
  }

  seek(p: SourcePosition): void {
    this.index = p.records + (p.skip ?? 0);
  }

  close(): void {}
}

export const connector: SourceConnector<Extract<SourceManifest, { connector: "values" }>> = {
  open: (m) => new ValuesSource(m.name),
};
