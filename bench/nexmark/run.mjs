// The Nexmark benchmark: each query in queries/ compiled by flowc, against a hand-written
// TypeScript baseline (baseline/) and an RxJS version (rxjs/) of the same query, all three
// fed by the same generator (runtime/nexmark.ts) and run as whole `node` processes. Before
// timing, the runner checks that the three print byte-identical output.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, bundle, here as benchDir, outputHash, root, timeRun } from "../common.mjs";

export const QUERIES = ["q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11"];
const dir = join(benchDir, "nexmark");
const out = join(build, "nexmark");

/** Compiles queries/<q>.flow for `events` events (as job `name`, changed by `transform`); the bundle's path. */
export function compileQuery(q, events, { name = q, transform = (text) => text } = {}) {
  mkdirSync(out, { recursive: true });
  const text = readFileSync(join(dir, "queries", `${q}.flow`), "utf8");
  if (!/events: 1000000\b/.test(text)) throw new Error(`${q}.flow: no "events: 1000000" to scale`);
  const src = join(out, `${name}.flow`);
  writeFileSync(src, transform(text.replace(/events: 1000000\b/g, `events: ${events}`)).replace(/^job \w+/m, `job ${name}`));
  execFileSync(join(root, "bin", "flowc"), ["compile", src, "-o", out], { stdio: ["ignore", "ignore", "inherit"] });
  return join(out, `${name}.mjs`);
}

/**
 * Runs every query: `runs` interleaved runs of (flowc, baseline, rxjs), best time of each;
 * peak RSS of the best flowc run. Returns one row per query.
 */
export async function runNexmark({ events, runs, log = () => {} }) {
  const rows = [];
  for (const q of QUERIES) {
    const flowc = compileQuery(q, events);
    const base = await bundle(join(dir, "baseline", `${q}.ts`), join(out, `${q}.baseline.mjs`));
    const rx = await bundle(join(dir, "rxjs", `${q}.ts`), join(out, `${q}.rxjs.mjs`));
    const args = [String(events)];
    const expected = outputHash(flowc);
    for (const [what, file] of [["baseline", base], ["rxjs", rx]]) {
      const got = outputHash(file, args);
      if (got.hash !== expected.hash) throw new Error(`nexmark ${q}: flowc and the ${what} print different output (${expected.bytes} vs ${got.bytes} bytes)`);
    }
    const best = { flowc: { ms: Infinity, rssMb: 0 }, baseline: { ms: Infinity, rssMb: 0 }, rxjs: { ms: Infinity, rssMb: 0 } };
    for (let i = 0; i < runs; i++) {
      for (const [side, file, a] of [["flowc", flowc, []], ["baseline", base, args], ["rxjs", rx, args]]) {
        const r = timeRun(file, a);
        if (r.ms < best[side].ms) best[side] = r;
      }
    }
    const eps = (ms) => Math.round(events / (ms / 1000));
    const row = {
      name: q,
      events,
      flowc_eps: eps(best.flowc.ms),
      baseline_eps: eps(best.baseline.ms),
      rxjs_eps: eps(best.rxjs.ms),
      rss_mb: Math.round(best.flowc.rssMb),
      baseline_rss_mb: Math.round(best.baseline.rssMb),
      rxjs_rss_mb: Math.round(best.rxjs.rssMb),
      output_bytes: expected.bytes,
    };
    log(`${q}: flowc ${best.flowc.ms.toFixed(0)} ms, baseline ${best.baseline.ms.toFixed(0)} ms, rxjs ${best.rxjs.ms.toFixed(0)} ms`);
    rows.push(row);
  }
  return rows;
}

const fmt = (n) => n.toLocaleString("en-US");

/** The table of `npm run bench`. */
export function nexmarkTable(rows) {
  return [
    "| query | events | flowc events/s | baseline events/s | rxjs events/s | flowc/baseline | flowc/rxjs | peak RSS flowc / baseline / rxjs |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.events)} | ${fmt(r.flowc_eps)} | ${fmt(r.baseline_eps)} | ${fmt(r.rxjs_eps)} | ${(r.flowc_eps / r.baseline_eps).toFixed(2)} | ${(r.flowc_eps / r.rxjs_eps).toFixed(2)} | ${r.rss_mb} / ${r.baseline_rss_mb} / ${r.rxjs_rss_mb} MB |`,
    ),
  ].join("\n");
}
