// The batch loop's cut: whenever a checkpoint (or savepoint) takes the sources' positions,
// each position covers exactly the records the graph has been given, not more. A live
// source's read that has arrived but not been pushed yet (its promise settled while the
// loop was doing its between-batch work) is not covered: a position past it would lose
// those records on a restore.

import { describe, expect, it } from "vitest";
import type { SourceBinding } from "../runtime/api.js";
import type { Coordinator } from "../runtime/checkpoint/coordinator.js";
import type { BatchResult, Sink, Source, SourcePosition } from "../runtime/connectors/contract.js";
import { adminJob } from "../runtime/driver/admin-job.js";
import { loop } from "../runtime/driver/loop.js";
import { Live, Stop, type Flags } from "../runtime/driver/live.js";
import type { Manifest } from "../runtime/api.js";
import { tempDir } from "./helpers.js";

/** A live source: each read arrives after `delayMs`; its position moves when it arrives. */
class SlowSource implements Source {
  readonly replayable = true;
  readonly live = true;
  read = 0;
  constructor(
    readonly name: string,
    protected readonly total: number,
    protected readonly batchSize: number,
    private readonly delayMs: () => number,
  ) {}
  next(): BatchResult | Promise<BatchResult> {
    if (this.read >= this.total) return null;
    return new Promise((resolve) =>
      setTimeout(() => {
        const n = Math.min(this.batchSize, this.total - this.read);
        const out = Array.from({ length: n }, (_, k) => this.read + k);
        this.read += n;
        resolve(out);
      }, this.delayMs()),
    );
  }
  position(): SourcePosition {
    return { records: this.read };
  }
  seek(): void {}
  close(): void {}
}

/** A finite source at hand: synchronous reads of `batch` numbers. */
class QuickSource extends SlowSource {
  override next(): BatchResult | Promise<BatchResult> {
    const n = Math.min(this.batchSize, this.total - this.read);
    if (n <= 0) return null;
    const out = Array.from({ length: n }, (_, k) => this.read + k);
    this.read += n;
    return out;
  }
}

/** Runs the loop with a checkpoint at every chance, and a sink whose flush takes `flushMs`; returns each checkpoint's positions against what the graph had seen. */
async function run(sources: SlowSource[], flushMs: number, poll: boolean, time?: ((x: number) => number)[], savepointAfter?: number) {
  const cuts = new Map<Source, SourcePosition>();
  const seen = sources.map(() => 0);
  const bindings: SourceBinding<unknown>[] = sources.map((_, i) => ({ push: (b: readonly unknown[]) => void (seen[i]! += b.length), ...(time ? { time: time[i] as (x: unknown) => number } : {}) }));
  const taken: { position: number; seen: number }[][] = [];
  const coordinator = {
    check() {},
    due: () => true,
    start() {
      taken.push(sources.map((s, i) => {
        const p = cuts.get(s) ?? s.position();
        return { position: p.records + (p.skip ?? 0), seen: seen[i]! };
      }));
      return Promise.resolve();
    },
  } as unknown as Coordinator;
  // The flush is where a read settles behind the loop's back.
  const sink = { flush: () => new Promise<void>((r) => setTimeout(r, flushMs)) } as unknown as Sink;
  // A savepoint asked for after `savepointAfter` records: taken in the between-batch work.
  let asked = false;
  const savepoints: { position: number; seen: number; skip: number }[][] = [];
  const extra = async (): Promise<void> => {
    if (!asked) return;
    asked = false;
    savepoints.push(sources.map((s, i) => {
      const p = cuts.get(s) ?? s.position();
      return { position: p.records + (p.skip ?? 0), seen: seen[i]!, skip: p.skip ?? 0 };
    }));
  };
  if (savepointAfter !== undefined) {
    const push = bindings.map((b) => b.push);
    bindings.forEach((b, i) => (b.push = (batch) => {
      push[i]!(batch);
      if (seen.reduce((x, y) => x + y, 0) >= savepointAfter && savepoints.length === 0) asked = true;
    }));
  }
  const result = await loop(sources, bindings, [sink], coordinator, new Stop(), cuts, sources.map(() => null), [], extra, poll, () => asked);
  return { result, taken, seen, savepoints };
}

describe("the batch loop's cut", () => {
  it("one live source: a read that arrives during the between-batch work is not in the checkpoint's position", async () => {
    // Reads take 90–130 ms, the loop's tick is 100 ms, a flush 40 ms: reads settle in the middle of it.
    let k = 0;
    const src = new SlowSource("a", 40, 4, () => 90 + ((k++ * 17) % 40));
    const { result, taken, seen } = await run([src], 40, false);
    expect(result.result).toBe("end");
    expect(seen[0]).toBe(40);
    expect(taken.length).toBeGreaterThan(5);
    // Some checkpoint came while a read had arrived and was not pushed yet.
    expect(taken.some(([a]) => a!.position === a!.seen && src.read > a!.seen)).toBe(true);
    for (const [a] of taken) expect(a!.position).toBe(a!.seen);
  }, 30_000);

  it.each([
    { how: "reads polled (instances): a settled read not taken yet", poll: true, flushMs: 30, total: 30, reads: [[3, 20, 13, 50], [5, 35, 7, 60]] },
    { how: "a read waited for: one under way", poll: false, flushMs: 40, total: 24, reads: [[3, 90, 11, 40], [4, 95, 5, 40]] },
  ])("several sources, $how is not in the position", async ({ poll, flushMs, total, reads }) => {
    // Per source: its batch size, and its reads' delays (base + k·step mod spread ms).
    let k = 0;
    const sources = reads.map(([size, base, step, spread], i) => new SlowSource(`s${i}`, total, size!, () => base! + ((k++ * step!) % spread!)));
    const { result, taken, seen } = await run(sources, flushMs, poll);
    expect(result.result).toBe("end");
    expect(seen).toEqual([total, total]);
    expect(taken.length).toBeGreaterThan(5);
    for (const cp of taken) for (const s of cp) expect(s.position).toBe(s.seen);
  }, 30_000);

  it("several sources merged by event time: a batch read and not taken yet is not in the position", async () => {
    // Every element of a comes before b's: b's first batch waits while a's 5,000 go through.
    const a = new QuickSource("a", 5000, 1000, () => 0);
    const b = new QuickSource("b", 3000, 1000, () => 0);
    const { result, taken, seen } = await run([a, b], 0, false, [(x) => x, (x) => 1e6 + x]);
    expect(result.result).toBe("end");
    expect(seen).toEqual([5000, 3000]);
    expect(taken.some(([, sb]) => sb!.seen === 0)).toBe(true);
    for (const cp of taken) for (const s of cp) expect(s.position).toBe(s.seen);
  });

  it("several instances: a savepoint asked for is taken once the batches at hand are used up, never in the middle of one", async () => {
    for (const time of [undefined, [(x: number) => x, (x: number) => x + 0.5]]) {
      const a = new QuickSource("a", 20_000, 1000, () => 0);
      const b = new QuickSource("b", 20_000, 700, () => 0);
      const { result, seen, savepoints } = await run([a, b], 0, true, time, 3000);
      expect(result.result).toBe("end");
      expect(seen).toEqual([20_000, 20_000]);
      expect(savepoints).toHaveLength(1);
      for (const s of savepoints[0]!) {
        expect(s.skip).toBe(0);
        expect(s.position).toBe(s.seen);
      }
    }
  });

  it("a savepoint that stops the job: the stop is asked for as the savepoint is taken, and nothing is read after it", async () => {
    // The admin endpoint's stop with a savepoint, asked for part way through the input.
    const live = new Live();
    const stop = new Stop();
    const flags = { savepointDir: tempDir("flowc-loop-sp-") } as Flags;
    const job = adminJob(live, { job: "t" } as Manifest, flags, stop, (m) => new Error(m), false);
    let stopped: Promise<string | null> | null = null;
    const a = new QuickSource("a", 20_000, 1000, () => 0);
    const b = new QuickSource("b", 20_000, 700, () => 0);
    const sources = [a, b];
    const cuts = new Map<Source, SourcePosition>();
    const seen = [0, 0];
    const bindings: SourceBinding<unknown>[] = sources.map((_, i) => ({
      push: (x: readonly unknown[]) => {
        seen[i]! += x.length;
        if (!stopped && seen[0]! + seen[1]! >= 5000) stopped = job.stop({ dir: "before" });
      },
    }));
    // The loop serves it in its between-batch work, as serveRequests does: taken, then resolved.
    let at: number[] | null = null;
    const extra = async (): Promise<void> => {
      const r = live.requests.shift();
      if (!r) return;
      expect(r.trigger).toBe("stop");
      at = sources.map((s) => {
        const p = cuts.get(s) ?? s.position();
        return p.records + (p.skip ?? 0);
      });
      r.taken?.();
      expect(stop.requested).toBe(true);
      r.resolve("savepoints/before/x");
    };
    const result = await loop(sources, bindings, [], null, stop, cuts, [null, null], [], extra, true, () => live.requests.length > 0);
    expect(await stopped).toBe("savepoints/before/x");
    expect(result.result).toBe("stopped");
    // What the final checkpoint would commit is what the savepoint holds.
    expect(at).not.toBeNull();
    expect(seen).toEqual(at);
    expect(seen[0]! + seen[1]!).toBeLessThan(40_000);
  });
});
