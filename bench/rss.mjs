// Preloaded with `node --import ./bench/rss.mjs` by the benchmark runner: at exit, writes the
// process's peak resident set size (KiB) to the file named by FLOWC_BENCH_RSS.
import { writeFileSync } from "node:fs";

const out = process.env.FLOWC_BENCH_RSS;
if (out) process.on("exit", () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
