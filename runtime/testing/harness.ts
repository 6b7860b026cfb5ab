// Runs a job in this process on records given in memory, for `flowc test` and the JavaScript
// API (docs/testing.md). The job's generated module is the one flowc compiles (with a probe
// sink for each stream a test reads), and it runs on the runtime's own parts: its graph is
// built through the driver's JobContext, with the job's operators, and the driver's batch
// loop pulls the records from sources of the connector contract, merging several sources as
// a job does. Nothing is written: sinks gather their lines in memory.
//
// A `restart` in the input is a checkpoint and a restore: between two records, every
// operator's state is encoded as a checkpoint encodes it (snapshot files' bytes), the graph
// is thrown away, a new one is built, and the state and the sources' watermarks are restored
// into it as a job resuming from that checkpoint restores them. Sources go on after their
// last record; the sinks keep what was written (what the checkpoint committed).

import type { BuiltJob, JobModule, RoutedSinkWriter, SourceBinding } from "../api.js";
import { BATCH_SIZE, type BatchResult, type Sink, type SinkAt, type Source, type SourcePosition } from "../connectors/contract.js";
import { Context } from "../driver/context.js";
import { Stop } from "../driver/live.js";
import { loop } from "../driver/loop.js";
import { JobError } from "../errors.js";
import { FlowRuntimeError } from "../lib.js";
import type { OperatorFactories, StatefulOperator } from "../operator.js";
import { factory as window } from "../time/windows.js";
import { factory as timers } from "../time/timers.js";
import { factory as join } from "../time/join.js";
import { factory as dedup } from "../time/dedup.js";
import { factory as countWindow } from "../time/count-window.js";
import { factory as temporalJoin } from "../time/temporal-join.js";

/**
 * Every operator the runtime has: a test run builds whichever its job asks for. `Required`:
 * an operator added to OperatorFactories (runtime/time/table.ts) must be added here too.
 */
const OPERATORS: Required<OperatorFactories> = { window, countWindow, timers, join, temporalJoin, dedup };

/** One source's input: typed records, and restarts before record i for each i listed. */
export interface HarnessInput {
  source: string;
  records: readonly unknown[];
  restarts?: readonly number[];
}

export interface HarnessResult {
  /** What each sink wrote, in manifest order (the probes of the streams a test reads are sinks too). */
  sinkLines: string[][];
  /** The stateful operators after the run (after the last restart: restored ones). */
  operators: StatefulOperator[];
  /** The failure that stopped the job: bad input, or user code that failed. */
  failure: JobError | FlowRuntimeError | null;
  /** How many restarts were taken. */
  restarts: number;
  /** Elements counted as too late, per operator uid. */
  late: Map<string, number>;
}

/** A sink that gathers its lines (a routed sink's too: a test expects the records, not their subjects). */
class Gather implements Sink, RoutedSinkWriter {
  readonly out: string[] = [];
  bytes = 0;
  readonly transaction = null;
  get lines(): number {
    return this.out.length;
  }
  write(line: string): void {
    this.out.push(line);
    this.bytes += line.length + 1;
  }
  writeTo(_to: string, line: string): void {
    this.write(line);
  }
  flush(): void {}
  close(): void {}
  savepointAt(): SinkAt | null {
    return null;
  }
}

/** A source of records held in memory; it asks for the restarts its input names. */
class GivenSource implements Source {
  readonly replayable = true;
  private at = 0;
  private nextRestart = 0;

  constructor(
    readonly name: string,
    private readonly records: readonly unknown[],
    private readonly restarts: readonly number[],
    private readonly restart: () => void,
  ) {}

  next(): BatchResult {
    // Called by the loop between elements, when the graph holds nothing half done: the cut.
    while (this.nextRestart < this.restarts.length && this.restarts[this.nextRestart]! <= this.at) {
      this.nextRestart++;
      this.restart();
    }
    if (this.at >= this.records.length) return null;
    let end = Math.min(this.records.length, this.at + BATCH_SIZE);
    if (this.nextRestart < this.restarts.length) end = Math.min(end, this.restarts[this.nextRestart]!);
    const batch = this.records.slice(this.at, end);
    this.at = end;
    return batch;
  }

  position(): SourcePosition {
    return { records: this.at };
  }

  seek(p: SourcePosition): void {
    this.at = p.records;
  }

  close(): void {}
}

/** A source's watermark as a checkpoint keeps it, and as recovery sets it again (driver/run.ts, driver/recover.ts). */
function checkpointedWatermark(w: number): number {
  const kept = Number.isFinite(w) ? w : w > 0 ? Number.MAX_SAFE_INTEGER : null;
  return kept === null ? -Infinity : kept;
}

/** Runs `job` on the given inputs (sources not given are empty) until its input ends. */
export async function runJob(job: JobModule, inputs: readonly HarnessInput[]): Promise<HarnessResult> {
  const m = job.manifest;
  const sinks = m.sinks.map(() => new Gather());
  let ctx = new Context(m, sinks, OPERATORS);
  let built: BuiltJob = job.build(ctx);
  let restarts = 0;
  const restart = (): void => {
    const saved = new Map(ctx.operators.map((op) => [op.uid, Buffer.concat(op.snapshot("full").buffers)]));
    const watermarks = built.sources.map((b) => b.watermark?.());
    ctx = new Context(m, sinks, OPERATORS);
    built = job.build(ctx);
    for (const op of ctx.operators) {
      const bytes = saved.get(op.uid);
      if (!bytes) throw new Error(`internal: operator ${op.uid} was not in the checkpoint`);
      op.restore(bytes);
    }
    built.sources.forEach((b, i) => {
      const w = watermarks[i];
      if (w !== undefined) b.setWatermark?.(checkpointedWatermark(w));
    });
    restarts++;
  };
  const sources = m.sources.map((s) => {
    const given = inputs.find((x) => x.source === s.name);
    return new GivenSource(s.name, given?.records ?? [], given?.restarts ?? [], restart);
  });
  // The loop holds the bindings it was given: each one passes on to the graph of the moment.
  const bindings = m.sources.map((_, i): SourceBinding<unknown> => {
    const first = built.sources[i]!;
    const b: SourceBinding<unknown> = {
      push: (batch) => built.sources[i]!.push(batch),
      end: () => built.sources[i]!.end?.(),
    };
    if (first.time) b.time = (x) => built.sources[i]!.time!(x);
    if (first.watermark) b.watermark = () => built.sources[i]!.watermark!();
    return b;
  });
  let failure: JobError | FlowRuntimeError | null = null;
  try {
    await loop(sources, bindings, sinks, null, new Stop(), new Map());
  } catch (e) {
    if (!(e instanceof JobError) && !(e instanceof FlowRuntimeError)) throw e;
    failure = e;
  }
  const late = new Map<string, number>();
  for (const op of ctx.operators) if (op.lateDropped > 0) late.set(op.uid, op.lateDropped);
  return { sinkLines: sinks.map((s) => s.out), operators: ctx.operators, failure, restarts, late };
}

/** Where an operator keeps a state in its generated state objects (as savepoints read it: runtime/savepoint/capture.ts). */
function fieldIndex(kind: string, states: { name: string }[], name: string): number {
  return kind === "reduce" ? 0 : states.findIndex((s) => s.name === name);
}

/**
 * The states of one key of an operator after a run (`key` undefined for an operator on a
 * plain stream): by state name, as the runtime holds them; null when the key has no state.
 */
export function stateOf(job: JobModule, operators: StatefulOperator[], uid: string, key: unknown, mapKey: (key: unknown) => unknown): Map<string, unknown> | null {
  const op = job.manifest.operators.find((o) => o.uid === uid);
  const store = operators.find((o) => o.uid === uid);
  if (!op || !store?.objects) throw new Error(`internal: operator ${uid} keeps no state objects`);
  const objects = store.objects;
  const wanted = mapKey(key);
  const entry = objects.entries().find((e) => (op.key === null ? true : mapKey(e.key) === wanted));
  if (!entry) return null;
  const cols: unknown[][] = [];
  for (let i = 0; i < objects.fields; i++) cols.push([]);
  entry.obj.$saveTo(cols);
  const out = new Map<string, unknown>();
  for (const s of op.states) out.set(s.name, cols[fieldIndex(op.kind, op.states, s.name)]![0]);
  return out;
}

/** The keys an operator holds state for (at most `limit`), for messages. */
export function keysOf(operators: StatefulOperator[], uid: string, limit: number): { keys: unknown[]; total: number } {
  const store = operators.find((o) => o.uid === uid);
  const entries = store?.objects?.entries() ?? [];
  return { keys: entries.slice(0, limit).map((e) => e.key), total: entries.length };
}
