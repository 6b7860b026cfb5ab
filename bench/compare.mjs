// Before and after a change of the runtime, in the same run: the jobs compiled by another
// flowc checkout (the "before", e.g. `git worktree add /tmp/before main && (cd /tmp/before &&
// npm ci)`) and by this one, run interleaved on the same machine.
//
//   node bench/compare.mjs <before-checkout> [--runs N] [--starts N] [--events N] [--queries q5,q8] [--jobs keyed_count,…]
//
// 1. Start-up: dsl-examples/running_sum.flow, each bundle's size and N cold starts of
//    `node running_sum.mjs` (a new process each, stdout to /dev/null), before and after in
//    turn: the best and the median; then the same with `--admin-port 0` (the endpoint is
//    started and closed again: the embedded chunk is inflated and evaluated).
// 2. Nexmark: each query of bench/nexmark/queries/ for `--events` events, compiled by both;
//    both must print the same bytes; then best of `--runs` interleaved runs each.
// 3. The other benchmark jobs that need no input file (bench/jobs/: the keyed running
//    count, sliding and tumbling windows), the same way (`--jobs none` leaves them out).
// Prints markdown tables (bench/README.md, "Before and after").
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, outputHash, root, timeRun } from "./common.mjs";
import { QUERIES } from "./nexmark/run.mjs";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: "string" }, starts: { type: "string" }, events: { type: "string" }, queries: { type: "string" }, jobs: { type: "string" } } });
if (positionals.length !== 1) {
  process.stderr.write("usage: node bench/compare.mjs <before-checkout> [--runs N] [--starts N] [--events N] [--queries q5,q8] [--jobs keyed_count,sliding_count]\n");
  process.exit(2);
}
const before = resolve(positionals[0]);
const RUNS = Number(values.runs ?? 5);
const STARTS = Number(values.starts ?? 20);
const EVENTS = Number(values.events ?? 1_000_000);
const queries = values.queries === "none" ? [] : values.queries ? values.queries.split(",") : QUERIES;
/** bench/jobs/ that run without an input file, with how many events each reads. */
const JOBS = { keyed_count: 5_000_000, sliding_count: 5_000_000, tumbling_max: 5_000_000 };
const jobs = values.jobs === "none" ? [] : values.jobs ? values.jobs.split(",") : Object.keys(JOBS);
const log = (line) => process.stderr.write(`${line}\n`);
const fmt = (n) => n.toLocaleString("en-US");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sides = [
  { name: "before", flowc: join(before, "bin", "flowc"), out: join(build, "compare", "before") },
  { name: "after", flowc: join(root, "bin", "flowc"), out: join(build, "compare", "after") },
];

/** Compiles `file` (text changed by `transform`) with each side's flowc; the bundles' paths. */
function compileBoth(file, transform = (t) => t) {
  return sides.map((side) => {
    mkdirSync(side.out, { recursive: true });
    const src = join(side.out, file.split("/").pop());
    writeFileSync(src, transform(readFileSync(file, "utf8")));
    execFileSync(side.flowc, ["compile", src, "-o", side.out], { stdio: ["ignore", "ignore", "pipe"] });
    const job = /^job (\w+)/m.exec(readFileSync(src, "utf8"))[1];
    return join(side.out, `${job}.mjs`);
  });
}

/** One cold start: `node bundle args` as a new process, wall time in ms. */
function start(bundle, args = []) {
  const devnull = openSync("/dev/null", "w");
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bundle, ...args], { stdio: ["ignore", devnull, "pipe"] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(devnull);
  if (r.status !== 0) throw new Error(`${bundle} failed: ${r.stderr}`);
  return ms;
}

// 1. Start-up of the smallest example.
log(`start-up: ${STARTS} cold starts of running_sum each, interleaved`);
const sumBundles = compileBoth(join(root, "dsl-examples", "running_sum.flow"));
console.log(`Start-up of dsl-examples/running_sum.flow (${STARTS} cold starts each, interleaved)\n`);
console.log("| bundle | flags | size | best | median |\n|---|---|---:|---:|---:|");
for (const args of [[], ["--admin-port", "0"]]) {
  const startMs = sumBundles.map(() => []);
  for (const b of sumBundles) start(b, args); // the file cache warm for both
  for (let i = 0; i < STARTS; i++) sumBundles.forEach((b, s) => startMs[s].push(start(b, args)));
  sides.forEach((side, s) => console.log(`| ${side.name} | ${args.join(" ") || "none"} | ${fmt(statSync(sumBundles[s]).size)} bytes | ${Math.min(...startMs[s]).toFixed(1)} ms | ${median(startMs[s]).toFixed(1)} ms |`));
}

// 2. Nexmark, before and after.
log(`nexmark: ${fmt(EVENTS)} events per query, best of ${RUNS} interleaved runs`);
const rows = [];
for (const q of queries) {
  const bundles = compileBoth(join(root, "bench", "nexmark", "queries", `${q}.flow`), (t) => t.replace(/events: 1000000\b/g, `events: ${EVENTS}`));
  const [a, b] = bundles.map((f) => outputHash(f));
  if (a.hash !== b.hash) throw new Error(`${q}: before and after print different output (${a.bytes} vs ${b.bytes} bytes)`);
  const best = [Infinity, Infinity];
  for (let i = 0; i < RUNS; i++) bundles.forEach((f, s) => (best[s] = Math.min(best[s], timeRun(f).ms)));
  log(`${q}: before ${best[0].toFixed(0)} ms, after ${best[1].toFixed(0)} ms`);
  rows.push({ q, before: best[0], after: best[1] });
}
if (rows.length) console.log(`\nNexmark (${fmt(EVENTS)} events per query; best of ${RUNS} interleaved runs; same output checked)\n`);
if (rows.length) console.log("| query | before events/s | after events/s | after/before |\n|---|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.q} | ${fmt(Math.round(EVENTS / (r.before / 1000)))} | ${fmt(Math.round(EVENTS / (r.after / 1000)))} | ${(r.before / r.after).toFixed(2)} |`);

// 3. The other benchmark jobs, before and after.
const jobRows = [];
for (const name of jobs) {
  if (!(name in JOBS)) throw new Error(`--jobs: no job ${name} (${Object.keys(JOBS).join(", ")})`);
  log(`${name}: best of ${RUNS} interleaved runs`);
  const bundles = compileBoth(join(root, "bench", "jobs", `${name}.flow`));
  const [a, b] = bundles.map((f) => outputHash(f));
  if (a.hash !== b.hash) throw new Error(`${name}: before and after print different output (${a.bytes} vs ${b.bytes} bytes)`);
  const best = [Infinity, Infinity];
  for (let i = 0; i < RUNS; i++) bundles.forEach((f, s) => (best[s] = Math.min(best[s], timeRun(f).ms)));
  log(`${name}: before ${best[0].toFixed(0)} ms, after ${best[1].toFixed(0)} ms`);
  jobRows.push({ name, events: JOBS[name], before: best[0], after: best[1] });
}
if (jobRows.length) console.log(`\nOther benchmark jobs (bench/jobs/; best of ${RUNS} interleaved runs; same output checked)\n`);
if (jobRows.length) console.log("| job | events | before events/s | after events/s | after/before |\n|---|---:|---:|---:|---:|");
for (const r of jobRows) console.log(`| ${r.name} | ${fmt(r.events)} | ${fmt(Math.round(r.events / (r.before / 1000)))} | ${fmt(Math.round(r.events / (r.after / 1000)))} | ${(r.before / r.after).toFixed(2)} |`);
