// Preloaded with `node --expose-gc --import ./bench/heap.mjs` by the benchmark runner: every
// 100 ms (the job's batch loop yields to the event loop between batches) collects garbage
// and notes the live heap; at exit writes the largest value seen (bytes) to the file named
// by FLOWC_BENCH_HEAP. Run on a job whose state reaches its full size early and stays there.
import { writeFileSync } from "node:fs";

const out = process.env.FLOWC_BENCH_HEAP;
if (out) {
  let peak = 0;
  const sample = () => {
    globalThis.gc?.();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  setInterval(sample, 100).unref();
  process.on("exit", () => writeFileSync(out, String(peak)));
}
