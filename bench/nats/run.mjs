// `npm run bench:nats`: flowc's NATS JetStream source and exactly-once sink against
// hand-written programs using the same client (@nats-io/*), in the same run, against one
// nats-server started here (JetStream, a temporary store, a free loopback port), and the
// end-to-end latency of a job at a steady 10k messages per second with 1 s checkpoints.
// Prints a table and writes bench/results/nats.json. Needs nats-server (apt-get install
// nats-server, or NATS_SERVER=path). `-- --quick`: 200k messages, one run of each side.
//
//   source: a 1M-message stream read to its end into a keyed running count written to a file
//   sink:   1M records published exactly once (flowc: checkpoints every second) vs published
//           with a Nats-Msg-Id each, every acknowledgement awaited
//   latency: publish -> visible in the output stream, p50 and p99

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serverBin, startNatsServer } from "./server.mjs";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const build = join(here, "..", ".build", "nats");
mkdirSync(build, { recursive: true });
const quick = process.argv.includes("--quick");
const N = quick ? 200_000 : 1_000_000;
const runs = quick ? 1 : 3;
const log = (line) => process.stderr.write(`${line}\n`);
const fmt = (n) => Math.round(n).toLocaleString("en-US");

const { server, url, stop: stopServer } = await startNatsServer("flowc-bench-nats-");
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);

async function freshStream(name, subjects) {
  try {
    await jsm.streams.delete(name);
  } catch {
    // none yet
  }
  await jsm.streams.add({ name, subjects });
}

/** Publishes plain messages on one connection (in order) and waits until the stream holds them. */
async function fill(stream, count, make) {
  const before = (await jsm.streams.info(stream)).state.messages;
  for (let i = 0; i < count; i++) {
    const [s, p] = make(i);
    nc.publish(s, p);
    if (i % 5000 === 4999) await nc.flush();
  }
  await nc.flush();
  while ((await jsm.streams.info(stream)).state.messages < before + count) await new Promise((r) => setTimeout(r, 50));
}

/** Wall time of `node file args` in `cwd` (ms), node start included; stdout to /dev/null. */
function time(file, args, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [file, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${file} failed: ${r.stderr}`);
  return ms;
}

/** Compiles bench/nats/<name>.flow (its sequence scaled to N) into the build folder. */
function compile(name) {
  const src = join(build, `${name}.flow`);
  writeFileSync(src, readFileSync(join(here, `${name}.flow`), "utf8").replace("to: 1000000)", `to: ${N})`));
  execFileSync(join(root, "bin", "flowc"), ["compile", src, "-o", build], { stdio: ["ignore", "ignore", "inherit"] });
  return join(build, `nats_${name}.mjs`);
}

/** sha256 of a stream's messages (subject and payload), in order. */
async function streamHash(stream) {
  const info = await jsm.streams.info(stream);
  const h = createHash("sha256");
  if (info.state.messages === 0) return { hash: h.digest("hex"), count: 0 };
  const c = await js.consumers.get(stream);
  const msgs = await c.consume({ max_messages: 4096 });
  let count = 0;
  for await (const m of msgs) {
    h.update(`${m.subject} ${m.string()}\n`);
    count++;
    if (m.info.pending === 0) break;
  }
  await msgs.close();
  return { hash: h.digest("hex"), count };
}

try {
  log(`nats-server ${execFileSync(serverBin, ["--version"]).toString().trim()} on ${url}; ${fmt(N)} messages per side`);

  // 1. Source: a stream read to its end into a keyed running count.
  await freshStream("BENCH_ORDERS", ["orders.>"]);
  await fill("BENCH_ORDERS", N, (i) => [`orders.${i % 4}`, JSON.stringify({ id: i, customer: `c${i % 1000}`, amount: i % 97 })]);
  const sourceJob = compile("source_count");
  const work = mkdtempSync(join(tmpdir(), "flowc-bench-nats-run-"));
  let sourceFlowc = Infinity;
  let sourceBase = Infinity;
  for (let i = 0; i < runs; i++) {
    sourceFlowc = Math.min(sourceFlowc, time(sourceJob, ["--nats-url", url], work));
    sourceBase = Math.min(sourceBase, time(join(here, "source_baseline.mjs"), [url, "BENCH_ORDERS", join(work, "baseline.jsonl")], work));
  }
  const same = (a, b) => createHash("sha256").update(readFileSync(a)).digest("hex") === createHash("sha256").update(readFileSync(b)).digest("hex");
  if (!same(join(work, "counts.jsonl"), join(work, "baseline.jsonl"))) throw new Error("the source row's two sides wrote different counts");
  log(`source: flowc ${fmt(sourceFlowc)} ms, hand-written ${fmt(sourceBase)} ms`);

  // 2. Sink: N records published exactly once.
  const sinkJob = compile("sink_exactly_once");
  let sinkFlowc = Infinity;
  let sinkBase = Infinity;
  let sinkInbox = Infinity;
  const hashes = {};
  for (let i = 0; i < runs; i++) {
    await freshStream("BENCH_OUT", ["bench.>"]);
    rmSync(join(work, "checkpoints"), { recursive: true, force: true });
    sinkFlowc = Math.min(sinkFlowc, time(sinkJob, ["--nats-url", url], work));
    hashes.flowc = await streamHash("BENCH_OUT");
    await freshStream("BENCH_OUT", ["bench.>"]);
    sinkBase = Math.min(sinkBase, time(join(here, "sink_baseline.mjs"), [url, "bench.out", String(N)], work));
    hashes.baseline = await streamHash("BENCH_OUT");
    await freshStream("BENCH_OUT", ["bench.>"]);
    sinkInbox = Math.min(sinkInbox, time(join(here, "sink_baseline_inbox.mjs"), [url, "bench.out", String(N)], work));
    hashes.inbox = await streamHash("BENCH_OUT");
  }
  for (const side of ["baseline", "inbox"]) {
    if (hashes.flowc.hash !== hashes[side].hash || hashes.flowc.count !== N) throw new Error(`the sink row's sides published different streams (flowc ${hashes.flowc.count}, ${side} ${hashes[side].count} messages)`);
  }
  log(`sink: flowc ${fmt(sinkFlowc)} ms, hand-written ${fmt(sinkBase)} ms (js.publish), ${fmt(sinkInbox)} ms (one reply inbox)`);

  // 3. Latency at a steady 10k messages per second, 1 s checkpoints.
  await freshStream("LAT_IN", ["lat.in.>"]);
  await freshStream("LAT_OUT", ["lat.out"]);
  const latJob = compile("latency");
  rmSync(join(work, "checkpoints"), { recursive: true, force: true });
  const job = spawn(process.execPath, [latJob, "--nats-url", url], { cwd: work, stdio: ["ignore", "ignore", "inherit"] });
  await new Promise((r) => setTimeout(r, 1000));
  const seconds = quick ? 8 : 20;
  const rate = 10_000;
  const latencies = [];
  const warmup = 3000;
  const started = Date.now();
  const out = await js.consumers.get("LAT_OUT");
  const outMsgs = await out.consume({ max_messages: 4096 });
  const reading = (async () => {
    for await (const m of outMsgs) {
      const o = m.json();
      if (o.sent - started >= warmup) latencies.push(Date.now() - o.sent);
      if (o.id === seconds * rate - 1) break;
    }
  })();
  // 100 messages every 10 ms, on time (no catching up in bursts beyond the schedule).
  for (let i = 0; i < seconds * rate; ) {
    const due = started + (i / rate) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let k = 0; k < 100; k++, i++) nc.publish(`lat.in.${i % 4}`, JSON.stringify({ id: i, customer: `c${i % 1000}`, amount: i % 97, sent: Date.now() }));
  }
  await reading;
  await outMsgs.close();
  job.kill("SIGTERM");
  await new Promise((r) => job.once("exit", r));
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const p50 = pct(50);
  const p99 = pct(99);
  log(`latency: p50 ${p50} ms, p99 ${p99} ms over ${fmt(latencies.length)} messages`);

  const rows = [
    { name: `source: ${fmt(N)}-message stream -> keyed running count -> file`, flowcMs: sourceFlowc, baselineMs: sourceBase },
    { name: `sink: ${fmt(N)} records published exactly once, vs js.publish with msgID`, flowcMs: sinkFlowc, baselineMs: sinkBase },
    { name: `sink: ${fmt(N)} records published exactly once, vs acks counted on one reply inbox`, flowcMs: sinkFlowc, baselineMs: sinkInbox },
  ];
  const table = [
    "| benchmark | flowc msg/s | hand-written msg/s | flowc / hand-written |",
    "|---|---:|---:|---:|",
    ...rows.map((r) => `| ${r.name} | ${fmt((N / r.flowcMs) * 1000)} | ${fmt((N / r.baselineMs) * 1000)} | ${(r.baselineMs / r.flowcMs).toFixed(2)}× |`),
    "",
    `End-to-end latency (publish -> visible in the output stream), ${fmt(rate)} msg/s for ${seconds} s, checkpoints every 1 s, exactly once: p50 ${p50} ms, p99 ${p99} ms (${fmt(latencies.length)} messages after a ${warmup / 1000} s warm-up).`,
  ];
  process.stdout.write(table.join("\n") + "\n");
  writeFileSync(
    join(here, "..", "results", "nats.json"),
    JSON.stringify({ machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`, messages: N, runs, rows, latency: { rate, seconds, p50, p99, samples: latencies.length } }, null, 2) + "\n",
  );
} finally {
  await nc.close();
  await stopServer();
}
