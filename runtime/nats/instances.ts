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
  /** Per exchange of the manifest: its writer and reader, or null where no exchange is needed. */
  private readonly slots: ({ writer: ExchangeSink; reader: Source } | null)[] = [];
  readonly writers: ExchangeSink[] = [];
  readonly readers: Source[] = [];
  readonly bindings: SourceBinding<unknown>[] = [];
  private readonly targets: { entry: (v: unknown, k: unknown, t: number) => void; wm: ((w: number) => void) | null; status: ((on: boolean) => void) | null }[] = [];
  /** The loop's inputs that ended: the job's sources, then the readers. */
  private readonly ended = new Set<number>();

  constructor(
    private readonly m: Manifest,
    private readonly sourceCount: number,
  ) {}

  /**
   * Opens each exchange's writer (with the rest of an interrupted commit) and reader; none
   * for a key_by of a source partitioned by that key (`partition_key:`) when the number of
   * instances divides its partitions: its records are on their instance already.
   */
  async open(flags: Flags, ctx: Omit<SinkContext, "index" | "role" | "checkpointed">, restored: CheckpointMetadata | null, log: Log): Promise<void> {
    const rec = instanceRecord(this.m, flags);
    const info = { index: rec.index, count: rec.count, groups: rec.groups, run: rec.run, replicas: flags.instance?.replicas ?? 1 };
    const xs = this.m.exchanges ?? [];
    for (const [i, x] of xs.entries()) {
      if (x.partitionedBy && x.partitionedBy.partitions % info.count === 0) {
        log.info(`no exchange into \`${x.uid}\`: source \`${this.m.sources[x.partitionedBy.source]?.name}\` is partitioned by its key (${x.partitionedBy.partitions} partitions, ${info.count} instance(s))`);
        this.slots.push(null);
        continue;
      }
      const checkpointed = restored?.sinks.find((s) => s.role === "exchange" && s.index === 1000 + i) ?? null;
      const writer = await openWriter(x, i, info, { ...ctx, index: 1000 + i, role: "exchange", checkpointed }, flags.natsUrl ?? null);
      const reader = await openReader(x, info, this.m.job, flags.natsUrl ?? null, log);
      this.slots.push({ writer, reader });
      this.writers.push(writer);
      this.readers.push(reader);
    }
  }

  /** `$ctx.exchange(…)` of generated code: the writer, with the reader's targets noted (null: records go straight on). */
  handle(index: number, entry: (v: unknown, k: unknown, t: number) => void, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null): ExchangeHandle | null {
    if (index >= this.slots.length) throw new Error(`internal: exchange ${index} is not in the manifest`);
    this.targets[index] = { entry, wm, status };
    return this.slots[index]?.writer ?? null;
  }

  /** Once the graph is built: each reader's binding. */
  bind(): void {
    this.slots.forEach((slot, i) => {
      if (!slot) return;
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

  /** Whether exchange k's input on this instance has ended: its reader's, or (no exchange) its own inputs'. */
  private exchangeEnded(k: number): boolean {
    const slot = this.slots[k];
    if (slot) return this.ended.has(this.sourceCount + this.readers.indexOf(slot.reader));
    const x = this.m.exchanges![k]!;
    return x.sources.every((s) => this.ended.has(s)) && x.upstream.every((u) => this.exchangeEnded(u));
  }

  private inputEnded(i: number): void {
    this.ended.add(i);
    (this.m.exchanges ?? []).forEach((x, k) => {
      const w = this.slots[k]?.writer;
      if (!w || w.isEnded) return;
      if (x.sources.every((s) => this.ended.has(s)) && x.upstream.every((u) => this.exchangeEnded(u))) w.end();
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

