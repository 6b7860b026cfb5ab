// `npm run bench:instances`: one job as 1 and as 2 instances (LANGUAGE.md 10.1) against one
// nats-server started here (JetStream, a temporary store, a free loopback port). The job
// (instances.flow) reads a partitioned stream to its end, keys by customer (an exchange when
// it runs as instances), keeps a running count and sum per customer and publishes every
// update exactly once to a NATS stream. Rows:
//   1 process            node job.mjs                         (no exchange)
//   1 instance of 1      node job.mjs --instance 0/1          (every record through the exchange)
//   2 instances          node job.mjs --instance 0/2 and 1/2  (at once)
// Wall time of the whole run (node start included), records per second, the CPU time of
// the job's processes (their "cpu" at exit) and of nats-server (from /proc), best of `runs`.
// Prints a table and writes bench/results/instances.json. `-- --quick`: 100k records, one run.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNatsServer } from "./server.mjs";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const build = join(here, "..", ".build", "instances");
mkdirSync(build, { recursive: true });
const quick = process.argv.includes("--quick");
const N = quick ? 100_000 : 400_000;
const runs = quick ? 1 : 3;
const log = (line) => process.stderr.write(`${line}\n`);
const fmt = (n) => Math.round(n).toLocaleString("en-US");

const { server, url, stop: stopServer } = await startNatsServer("flowc-bench-instances-");
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);

/** nats-server's CPU seconds so far (utime + stime from /proc). */
function serverCpu() {
  const f = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function fresh(name, subjects) {
  await jsm.streams.delete(name).catch(() => undefined);
  await jsm.streams.add({ name, subjects });
}

// The input: N orders over 4 partitions, 1000 customers.
await fresh("ORDERS", ["orders.*"]);
for (let i = 0; i < N; i++) {
  nc.publish(`orders.${i % 4}`, JSON.stringify({ id: i, customer: `c${(i * 7919) % 1000}`, amount: (i % 100) / 4 }));
  if (i % 5000 === 4999) await nc.flush();
}
await nc.flush();
for (let i = 0; (await jsm.streams.info("ORDERS")).state.messages < N; i++) {
  if (i > 600) throw new Error("the stream did not take the input");
  await new Promise((r) => setTimeout(r, 50));
}

log("compiling bench/nats/instances.flow …");
execFileSync(join(root, "bin", "flowc"), ["compile", join(here, "instances.flow"), "-o", build], { stdio: "inherit" });
const bundle = join(build, "instances.mjs");

/** Runs the job as the given processes at once; wall time, the processes' CPU, the server's. */
async function once(argsList) {
  await fresh("TOTALS", ["totals.>"]);
  for (const s of (await jsm.streams.list().next()).map((x) => x.config.name)) if (s.startsWith("FLOWC_")) await jsm.streams.delete(s);
  const work = mkdtempSync(join(tmpdir(), "flowc-bench-run-"));
  const cpu0 = serverCpu();
  const t0 = performance.now();
  const results = await Promise.all(
    argsList.map(
      (args) =>
        new Promise((resolve, reject) => {
          const p = spawn(process.execPath, [bundle, ...args, "--log-level", "info"], { cwd: work, env: { ...process.env, NATS_URL: url }, stdio: ["ignore", "ignore", "pipe"] });
          let err = "";
          p.stderr.on("data", (d) => (err += d));
          p.on("exit", (code) => (code === 0 ? resolve(err) : reject(new Error(`job exited ${code}:\n${err}`))));
        }),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  const serverSeconds = serverCpu() - cpu0;
  const jobCpu = results.reduce((s, err) => s + Number(/\(cpu ([\d.]+) s\)/.exec(err)?.[1] ?? NaN), 0);
  const out = (await jsm.streams.info("TOTALS")).state.messages;
  if (out !== N) throw new Error(`TOTALS holds ${out} messages, not ${N}`);
  rmSync(work, { recursive: true, force: true });
  return { wall, jobCpu, serverSeconds };
}

const rows = [
  { name: "1 process (no exchange)", args: [[]] },
  { name: "1 instance of 1 (every record through the exchange)", args: [["--instance", "0/1"]] },
  { name: "2 instances", args: [["--instance", "0/2"], ["--instance", "1/2"]] },
];
const best = rows.map(() => null);
for (let r = 0; r < runs; r++) {
  for (const [i, row] of rows.entries()) {
    const m = await once(row.args);
    log(`${row.name}: ${m.wall.toFixed(2)} s, job cpu ${m.jobCpu.toFixed(2)} s, server cpu ${m.serverSeconds.toFixed(2)} s`);
    if (!best[i] || m.wall < best[i].wall) best[i] = m;
  }
}
await nc.close();
await stopServer();

const base = best[0].wall;
console.log(`\n${N.toLocaleString("en-US")} records, ${cpus().length} cores, best of ${runs}\n`);
console.log("| run | wall s | records/s | vs 1 process | job CPU s | nats-server CPU s | CPU µs/record (job + server) |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const [i, row] of rows.entries()) {
  const b = best[i];
  console.log(`| ${row.name} | ${b.wall.toFixed(2)} | ${fmt(N / b.wall)} | ${(base / b.wall).toFixed(2)}× | ${b.jobCpu.toFixed(2)} | ${b.serverSeconds.toFixed(2)} | ${(((b.jobCpu + b.serverSeconds) / N) * 1e6).toFixed(1)} |`);
}
mkdirSync(join(here, "..", "results"), { recursive: true });
writeFileSync(join(here, "..", "results", "instances.json"), JSON.stringify({ records: N, cores: cpus().length, runs, rows: rows.map((r, i) => ({ name: r.name, ...best[i], recordsPerSecond: N / best[i].wall })) }, null, 2) + "\n");
