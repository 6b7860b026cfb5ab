// The batch loop (docs/architecture.md, "The runtime"): take a batch from the source, push it
// through the graph synchronously, flush the sinks, start a checkpoint if one is due, yield
// to the event loop, and again until every source ends or the job is asked to stop. Several
// sources are merged deterministically. Live sources (stdin, followed files) are waited for
// while the between-batch work (checkpoints, admin requests) goes on.

import type { SourceBinding } from "../api.js";
import type { Coordinator } from "../checkpoint/coordinator.js";
import type { BatchResult, Sink, Source, SourcePosition } from "../connectors/contract.js";
import type { Stop } from "./live.js";

/** Runs every source to its end (or a stop request), taking checkpoints between batches. */
export async function loop(
  sources: Source[],
  bindings: SourceBinding<unknown>[],
  writers: Sink[],
  coordinator: Coordinator | null,
  stop: Stop,
  cuts: Map<Source, SourcePosition>,
  /** Per source: `idle d` of a live source (ms), or null. */
  idleTimes: (number | null)[] = [],
  /** Per source: records taken so far (for the admin endpoint). */
  sourceRecords: number[] = [],
  /** More work between batches (savepoints asked for over the admin endpoint). */
  extra: () => Promise<void> = async () => undefined,
  /**
   * Several instances (driver/instances.ts): a read that has to wait never holds up the
   * other sources (an exchange's records may be what another instance waits for); a
   * source's `idle d` still applies after d.
   */
  poll = false,
  /**
   * Several instances: a savepoint is asked for. It is taken once the batches at hand are
   * used up (nothing new read meanwhile), so that no position lies in the middle of a batch:
   * a rescale splits positions among instances by key group (nats/rescale.ts).
   */
  wantsCut: () => boolean = () => false,
): Promise<{ result: "end" | "stopped"; records: number }> {
  let records = 0;
  /** Whether no batch at hand is taken part way (several sources; see `wantsCut`). */
  let clean = (): boolean => true;
  const between = async (): Promise<void> => {
    for (const w of writers) {
      const p = w.flush();
      if (p) await p;
    }
    if (coordinator) {
      coordinator.check();
      if (coordinator.due()) void coordinator.start("interval");
    }
    await yieldToEventLoop();
    // A savepoint asked for meanwhile waits for the batches at hand to be used up.
    if (!poll || clean()) await extra();
  };
  /**
   * Waits for a live source's read (stdin, a followed file). Every TICK_MS meanwhile the
   * loop does its between-batch work, so checkpoints (which commit the output so far) and
   * admin requests go on while the input is quiet. With `idleAfter`, gives up after that
   * long and returns "idle" (the read stays pending).
   */
  const wait = async (read: Promise<BatchResult>, idleAfter: number | null = null): Promise<BatchResult | "stop" | "idle"> => {
    const started = Date.now();
    const settled = read.then((b) => ({ b }));
    for (;;) {
      const left = idleAfter === null ? TICK_MS : Math.min(TICK_MS, started + idleAfter - Date.now());
      if (left <= 0) return "idle";
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<"tick">((r) => (timer = setTimeout(() => r("tick"), left)));
      const won = await Promise.race([settled, stop.promise, tick]);
      clearTimeout(timer);
      if (won === "stop") return "stop";
      if (won !== "tick") return won.b;
      await between();
      if (stop.requested) return "stop";
    }
  };
  if (sources.length === 1) {
    const src = sources[0]!;
    const binding = bindings[0]!;
    for (;;) {
      if (stop.requested) return { result: "stopped", records };
      const before = src.position();
      let batch: BatchResult | Promise<BatchResult> | "stop" | "idle" = src.next();
      if (batch instanceof Promise) {
        // A checkpoint while the read is under way records where it began: the source may
        // have moved past records it has read and the graph has not seen yet.
        cuts.set(src, before);
        batch = await wait(batch);
      }
      if (batch === "stop" || batch === "idle") return { result: "stopped", records };
      cuts.delete(src);
      if (batch === null) {
        // The end of a finite input: its watermark is +infinity (every window fires).
        binding.end?.();
        await between();
        return { result: "end", records };
      }
      binding.push(batch);
      records += batch.length;
      sourceRecords[0] = records;
      await between();
    }
  }
  // Several sources: merged deterministically. With event time on every source, the
  // element with the smallest time goes next (ties: declaration order); otherwise one
  // element from each source in turn. A checkpoint records, for a batch consumed part way,
  // where it began and how far it got.
  const buffers = sources.map(() => ({
    batch: [] as unknown[],
    at: 0,
    done: false,
    before: null as SourcePosition | null,
    /** A live source's read still under way, and whether it has settled. */
    pending: null as { promise: Promise<BatchResult>; result?: BatchResult; settled: boolean; error?: unknown; since?: number } | null,
    idle: false,
  }));
  clean = () => buffers.every((b) => b.done || b.at >= b.batch.length);
  const byTime = bindings.every((b) => b.time !== undefined);
  const one: unknown[] = [undefined];
  let active = sources.length;
  const idleAfter = idleTimes;
  let sinceFlush = 0;
  /** Makes sure source i has an element at hand; false when it ended. */
  const fill = async (i: number): Promise<boolean | "stop" | "idle"> => {
    const b = buffers[i]!;
    const src = sources[i]!;
    if (b.done) return false;
    if (b.at < b.batch.length) return true;
    const before = b.pending ? b.before! : src.position();
    let next: BatchResult | Promise<BatchResult> | "stop";
    do {
      if (b.pending) {
        // A live source read started earlier: take it if it has arrived, else it is idle.
        if (!b.pending.settled) {
          const idleMs = idleAfter[i];
          if (poll && idleMs !== null && idleMs !== undefined && !b.idle && Date.now() - (b.pending.since ?? 0) >= idleMs) {
            b.idle = true;
            bindings[i]!.idle?.(true);
          }
          return "idle";
        }
        if (b.pending.error !== undefined) throw b.pending.error;
        next = b.pending.result!;
        b.pending = null;
        if (b.idle) {
          b.idle = false;
          bindings[i]!.idle?.(false);
        }
      } else next = src.next();
      if (next instanceof Promise && poll) {
        // Waiting for this source does not hold up the others.
        const p: { promise: Promise<BatchResult>; result?: BatchResult; settled: boolean; error?: unknown; since: number } = { promise: next, settled: false, since: Date.now() };
        next.then(
          (r) => {
            p.result = r;
            p.settled = true;
          },
          (e: unknown) => {
            p.error = e;
            p.settled = true;
          },
        );
        b.pending = p;
        b.before = before;
        cuts.set(src, before);
        return "idle";
      }
      if (next instanceof Promise) {
        const idleMs = idleAfter[i];
        cuts.set(src, before);
        if (idleMs === null || idleMs === undefined) {
          const won = await wait(next);
          next = won === "idle" ? "stop" : won;
        } else {
          // `idle d`: a live source without input for d stops holding the watermark back.
          const p: { promise: Promise<BatchResult>; result?: BatchResult; settled: boolean } = { promise: next, settled: false };
          void next.then((r) => {
            p.result = r;
            p.settled = true;
          });
          const won = await wait(next, idleMs);
          if (won === "idle") {
            b.pending = p;
            b.before = before;
            if (!b.idle) {
              b.idle = true;
              bindings[i]!.idle?.(true);
            }
            return "idle";
          }
          next = won;
        }
      }
      if (next === "stop") return "stop";
    } while (next !== null && next.length === 0);
    if (next === null) {
      b.done = true;
      active--;
      cuts.delete(src);
      bindings[i]!.end?.();
      return false;
    }
    b.batch = next;
    b.at = 0;
    b.before = before;
    // Until its first element is taken, the batch is the source's cut: the source has moved
    // past it, the graph has not seen it.
    cuts.set(src, before);
    return true;
  };
  const take = (i: number): void => {
    const b = buffers[i]!;
    const src = sources[i]!;
    one[0] = b.batch[b.at++];
    bindings[i]!.push(one);
    records++;
    sourceRecords[i] = (sourceRecords[i] ?? 0) + 1;
    sinceFlush++;
    if (b.at < b.batch.length) cuts.set(src, { ...b.before!, skip: (b.before!.skip ?? 0) + b.at });
    else cuts.delete(src);
  };
  /** Takes the rest of every batch at hand, in the usual order, reading nothing new. */
  const useUp = (): void => {
    for (;;) {
      let best = -1;
      let bestTs = Infinity;
      let took = false;
      for (let i = 0; i < sources.length; i++) {
        const b = buffers[i]!;
        if (b.done || b.at >= b.batch.length) continue;
        if (!byTime) {
          take(i);
          took = true;
          continue;
        }
        const t = bindings[i]!.time!(b.batch[b.at] as never);
        if (best < 0 || t < bestTs) {
          best = i;
          bestTs = t;
        }
      }
      if (best >= 0) take(best);
      else if (!took) return;
    }
  };
  while (active > 0) {
    if (stop.requested) return { result: "stopped", records };
    if (poll && wantsCut()) {
      useUp();
      await between();
      continue;
    }
    let idle = 0;
    if (byTime) {
      let best = -1;
      let bestTs = Infinity;
      for (let i = 0; i < sources.length; i++) {
        const has = await fill(i);
        if (has === "stop") return { result: "stopped", records };
        if (has === "idle") idle++;
        if (has !== true) continue;
        const b = buffers[i]!;
        const t = bindings[i]!.time!(b.batch[b.at] as never);
        if (best < 0 || t < bestTs) {
          best = i;
          bestTs = t;
        }
      }
      if (best >= 0) take(best);
    } else {
      for (let i = 0; i < sources.length; i++) {
        const has = await fill(i);
        if (has === "stop") return { result: "stopped", records };
        if (has === "idle") idle++;
        if (has === true) take(i);
      }
    }
    if (idle > 0 && idle === active) {
      // Every source still running is idle: wait for one of them (or a stop), doing the
      // between-batch work every tick.
      await between();
      while (!stop.requested && !buffers.some((b) => b.pending?.settled)) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([stop.promise, ...buffers.flatMap((b) => (b.pending ? [b.pending.promise.catch(() => undefined)] : [])), new Promise((r) => (timer = setTimeout(r, TICK_MS)))]);
        clearTimeout(timer);
        await between();
        // Several instances: look at every source again (idle timeouts, failures).
        if (poll) break;
      }
    }
    if (sinceFlush >= 1024) {
      sinceFlush = 0;
      await between();
    }
  }
  await between();
  return { result: "end", records };
}

/** While waiting for live input, the between-batch work (checkpoints, admin requests) runs this often (ms). */
const TICK_MS = 100;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
