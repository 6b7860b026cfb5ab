// The exchanges of one run of an instance (driver/instances.ts has the rest of what a run
// does differently as one of several instances): each exchange's writer and reader opened,
// generated code's `$ctx.exchange(…)` answered, and the end of an exchange's inputs on this
// instance turned into the end its writer publishes.

import type { ExchangeHandle, Manifest, SourceBinding } from "../api.js";
import type { CheckpointMetadata } from "../checkpoint/storage.js";
import type { Sink, SinkContext, Source, SourcePosition, TransactionalSink } from "../connectors/contract.js";
import { instanceRecord } from "./instance-run.js";
import type { Flags } from "../driver/live.js";
import type { Log } from "../log.js";
import { openReader, openWriter, readerBinding } from "./exchange.js";

/** A writer of an exchange, as the driver sees it. */
export type ExchangeSink = Sink & ExchangeHandle & { end(): void; readonly isEnded: boolean; readonly transaction: TransactionalSink | null };

/** The exchanges of one run of an instance. */
export class Exchanges {
  readonly writers: ExchangeSink[] = [];
  readonly readers: Source[] = [];
  readonly bindings: SourceBinding<unknown>[] = [];
  private readonly targets: { entry: (v: unknown, k: unknown, t: number) => void; wm: ((w: number) => void) | null; status: ((on: boolean) => void) | null }[] = [];
  private readonly ended = new Set<number>();

  constructor(
    private readonly m: Manifest,
    private readonly sourceCount: number,
  ) {}

  /** Opens each exchange's writer (with the rest of an interrupted commit) and reader. */
  async open(flags: Flags, ctx: Omit<SinkContext, "index" | "role" | "checkpointed">, restored: CheckpointMetadata | null, log: Log): Promise<void> {
    const rec = instanceRecord(this.m, flags);
    const info = { index: rec.index, count: rec.count, groups: rec.groups, run: rec.run, replicas: flags.instance?.replicas ?? 1 };
    const xs = this.m.exchanges ?? [];
    for (const [i, x] of xs.entries()) {
      const checkpointed = restored?.sinks.find((s) => s.role === "exchange" && s.index === 1000 + i) ?? null;
      this.writers.push(await openWriter(x, i, info, { ...ctx, index: 1000 + i, role: "exchange", checkpointed }, flags.natsUrl ?? null));
      this.readers.push(await openReader(x, info, this.m.job, flags.natsUrl ?? null, log));
    }
  }

  /** `$ctx.exchange(…)` of generated code: the writer, with the reader's targets noted. */
  handle(index: number, entry: (v: unknown, k: unknown, t: number) => void, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null): ExchangeHandle {
    this.targets[index] = { entry, wm, status };
    const w = this.writers[index];
    if (!w) throw new Error(`internal: exchange ${index} is not in the manifest`);
    return w;
  }

  /** Once the graph is built: each reader's binding. */
  bind(): void {
    (this.m.exchanges ?? []).forEach((_, i) => {
      const t = this.targets[i];
      if (!t) throw new Error(`internal: generated code registered no exchange ${i}`);
      this.bindings.push(readerBinding(t.entry, t.wm, t.status));
    });
  }

  /**
   * The bindings the loop gets: each one's end noted, so that an exchange whose inputs on
   * this instance have all ended publishes its end.
   */
  watchEnds(bindings: SourceBinding<unknown>[]): SourceBinding<unknown>[] {
    return bindings.map((b, i) => {
      const w = Object.create(b) as SourceBinding<unknown>;
      w.end = () => {
        b.end?.();
        this.inputEnded(i);
      };
      return w;
    });
  }

  private inputEnded(i: number): void {
    this.ended.add(i);
    (this.m.exchanges ?? []).forEach((x, k) => {
      const w = this.writers[k]!;
      if (w.isEnded) return;
      if (x.sources.every((s) => this.ended.has(s)) && x.upstream.every((u) => this.ended.has(this.sourceCount + u))) w.end();
    });
  }

  /** Starting from a savepoint: the readers' positions (a savepoint of several instances: merged, see rescale.ts). */
  fromSavepoint(sp: { meta: { sources: { name: string; position: SourcePosition }[] } }): void {
    for (const r of this.readers) {
      const p = sp.meta.sources.find((s) => s.name === r.name);
      if (p) r.seek(p.position);
    }
  }

  async close(): Promise<void> {
    for (const r of this.readers) await r.close();
  }
}

