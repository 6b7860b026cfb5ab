// Several instances of one job (LANGUAGE.md 10.1): real nats-server processes (a three-node
// JetStream cluster for the fault test), real bundles run with node as `--instance i/N`,
// SIGKILLs, a killed server, rescaling through savepoints. Per key, the output must equal a
// single-instance run's, nothing lost or repeated.

import { execa, type ResultPromise } from "execa";
import { createWriteStream, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/compile.js";
import { flowc, tempDir, writeFiles } from "./helpers.js";
import { client, makeStream, NatsCluster, NatsServer, publish, readStream, freePort } from "./nats-helpers.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { savepointForInstance } from "../runtime/nats/rescale.js";
import type { Manifest } from "../runtime/api.js";
import { frontEnd } from "../compiler/compile.js";
import { plan } from "../compiler/plan.js";
import { buildManifest } from "../compiler/manifest.js";

/** A job's manifest, as its bundle holds it. */
function manifestOf(text: string): Manifest {
  return buildManifest(plan(frontEnd(text, "job.flow").checked!, "job.flow"), { sourceName: "job.flow", version: "test" });
}

const REGIONS = ["eu", "us", "ap", "sa", "af"];

/** The job: a partitioned source, a key_by to the customer and one to the region (another key), a keyed aggregate and a windowed one. */
function job(opts: { until: boolean; idle?: string; every?: string; files?: boolean }): string {
  return `job scale
type Order = { id: int, customer: string, region: string, amount: float, ts: timestamp }
source orders: Order = nats("orders.*", stream: "ORDERS", partitions: 6${opts.until ? ', until: "end"' : ""})
  event_time(o => o.ts) watermark 1s${opts.idle ? ` idle ${opts.idle}` : ""}
let totals = orders
  |> key_by(o => o.customer)
  |> aggregate(o => { customer: key, n: count(), total: sum(o.amount) })
let per_region = orders
  |> key_by(o => o.region)
  |> window(tumbling(10s))
  |> aggregate(o => { region: key, end: window.end, n: count() })
sink totals -> nats(t => "totals." + t.customer, stream: "TOTALS")
sink per_region -> nats("regions", stream: "REGIONS")${opts.files ? '\nsink totals -> file("out/totals.jsonl")' : ""}
checkpoint {
  every ${opts.every ?? "200ms"}
  mode exactly_once
}
`;
}

/** Orders `from` … `to - 1`: a customer's orders all in one partition (so their order is kept); regions across partitions. */
function orders(from: number, to: number): [string, string][] {
  const out: [string, string][] = [];
  for (let i = from; i < to; i++) {
    const c = i % 41;
    out.push([`orders.${c % 6}`, JSON.stringify({ id: i, customer: `c${c}`, region: REGIONS[i % 5], amount: (i % 10) + 0.5, ts: 1000 + i * 20 })]);
  }
  return out;
}

async function compileJob(dir: string, text: string): Promise<string> {
  writeFiles(dir, { "job.flow": text });
  const r = await compile(text, join(dir, "job.flow"), { outDir: join(dir, "dist"), emitTs: false });
  if (!r.ok || !r.outFile) throw new Error("compile failed");
  return r.outFile;
}

/** One running instance (or the single-instance run): a node process with its log in a file. */
class Proc {
  proc: ResultPromise | null = null;
  exits: (number | null)[] = [];
  constructor(
    private readonly bundle: string,
    private readonly cwd: string,
    private readonly args: string[],
    private readonly url: string,
    private readonly logName: string,
  ) {}

  start(extra: string[] = []): void {
    const log = createWriteStream(join(this.cwd, this.logName), { flags: "a" });
    this.proc = execa(process.execPath, [this.bundle, ...this.args, ...extra], { cwd: this.cwd, reject: false, stdin: "ignore", env: { NATS_URL: this.url, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe", buffer: false });
    this.proc.stdout?.pipe(log);
    this.proc.stderr?.pipe(log);
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  kill(): void {
    if (this.proc?.pid !== undefined && this.running) process.kill(this.proc.pid, "SIGKILL");
  }

  term(): void {
    if (this.proc?.pid !== undefined && this.running) process.kill(this.proc.pid, "SIGTERM");
  }

  async wait(): Promise<number | null> {
    const r = await this.proc!;
    this.exits.push(r.exitCode ?? null);
    return r.exitCode ?? null;
  }

  /** After kill(): waits for the process; whether its run had finished (exit 0, or "finished:" logged) rather than being cut short. */
  async finishedAfterKill(): Promise<boolean> {
    const code = await this.wait();
    // The log is piped to its file: give the last lines a moment to land.
    await new Promise((r) => setTimeout(r, 100));
    const runs = this.log().split(/\n(?=.*\] info: running: )/);
    return code === 0 || /\] info: finished: /.test(runs[runs.length - 1] ?? "");
  }

  log(): string {
    const p = join(this.cwd, this.logName);
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }
}

/** The sink streams' contents per key: each customer's totals in order; the windows as a sorted list. */
async function outputs(url: string): Promise<{ totals: Record<string, string[]>; regions: string[] }> {
  const totals: Record<string, string[]> = {};
  for (const line of await read(url, "TOTALS")) {
    const [subject, payload] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
    (totals[subject] ??= []).push(payload);
  }
  const regions = (await read(url, "REGIONS")).sort();
  return { totals, regions };
}

/** A stream's messages, all of them; tried again while a cluster is still electing leaders. */
async function read(url: string, stream: string): Promise<string[]> {
  for (let i = 0; ; i++) {
    try {
      const want = await count(url, stream);
      const got = await readStream(url, stream);
      if (got.length === want) return got;
      throw new Error(`read ${got.length} of the ${want} messages of ${stream}`);
    } catch (e) {
      if (i >= 10) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function makeStreams(url: string, replicas: number): Promise<void> {
  await makeStream(url, "ORDERS", ["orders.*"], { num_replicas: replicas });
  await makeStream(url, "TOTALS", ["totals.>"], { num_replicas: replicas });
  await makeStream(url, "REGIONS", ["regions"], { num_replicas: replicas });
  // Exchange streams of earlier runs go.
  const nc = await client(url);
  try {
    const jsm = await jetstreamManager(nc);
    // The lock bucket too: the instances make it again with as many replicas as the streams.
    for (const name of ["FLOWC_scale_totals", "FLOWC_scale_per_region", "KV_flowc_locks"]) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

async function count(url: string, stream: string): Promise<number> {
  const nc = await client(url);
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The same job and data as one process: the reference output. */
async function singleRun(url: string, text: string, data: [string, string][], replicas: number): Promise<{ totals: Record<string, string[]>; regions: string[] }> {
  const dir = tempDir("flowc-single-");
  const bundle = await compileJob(dir, text);
  await makeStreams(url, replicas);
  await publish(url, data, "ORDERS");
  const p = new Proc(bundle, dir, [], url, "single.log");
  p.start();
  expect(await p.wait(), p.log()).toBe(0);
  return outputs(url);
}

/** A job with joins: an interval (left outer) join of orders with payments, a temporal join of orders with their customer's name as of the order's time, and a window join. */
function joinJob(opts: { until: boolean }): string {
  const until = opts.until ? ', until: "end"' : "";
  return `job joins
type Order = { id: int, customer: string, amount: float, ts: timestamp }
type Payment = { order: int, method: string, ts: timestamp }
type Customer = { id: string, name: string, ts: timestamp }
source orders: Order = nats("orders.*", stream: "ORDERS", partitions: 6${until})
  event_time(o => o.ts) watermark 1s
source payments: Payment = nats("payments.*", stream: "PAYMENTS", partitions: 4${until})
  event_time(p => p.ts) watermark 1s
source customers: Customer = nats("customers", stream: "CUSTOMERS"${until})
  event_time(c => c.ts) watermark 1s
let paid = join orders as o, payments? as p on o.id == p.order within 1s
  select { order: o.id, customer: o.customer, method: p?.method }
let named = join orders as o, customers? as c on o.customer == c.id as of o
  select { order: o.id, customer: o.customer, name: c?.name ?? "unknown", amount: o.amount }
let windowed = join orders as o, payments as p on o.id == p.order window tumbling(2s)
  select { order: o.id, customer: o.customer, method: p.method }
sink paid -> nats(x => "paid." + x.customer, stream: "PAID")
sink named -> nats(x => "named." + x.customer, stream: "NAMED")
sink windowed -> nats(x => "windowed." + x.customer, stream: "WINDOWED")
checkpoint {
  every 200ms
  mode exactly_once
}
`;
}

/** Orders, payments (two of three orders paid, in time order) and customer versions for orders `from` … `to - 1`. */
function joinData(from: number, to: number): { orders: [string, string][]; payments: [string, string][]; customers: [string, string][] } {
  const orders: [string, string][] = [];
  const payments: { ts: number; m: [string, string] }[] = [];
  const customers: [string, string][] = [];
  for (let i = from; i < to; i++) {
    const c = `c${i % 23}`;
    const ts = 1000 + i * 20;
    orders.push([`orders.${i % 6}`, JSON.stringify({ id: i, customer: c, amount: (i % 10) + 0.5, ts })]);
    if (i % 3 !== 0) payments.push({ ts: ts + (i % 7) * 100, m: [`payments.${(i * 5) % 4}`, JSON.stringify({ order: i, method: i % 2 ? "card" : "cash", ts: ts + (i % 7) * 100 })] });
    // A new name for one customer every 7 orders, a little before the order.
    if (i % 7 === 0) customers.push(["customers", JSON.stringify({ id: `c${(i * 3) % 23}`, name: `name${i}`, ts: ts - 10 })]);
  }
  payments.sort((a, b) => a.ts - b.ts);
  return { orders, payments: payments.map((p) => p.m), customers };
}

/** The join job's outputs per key (customer), each key's lines sorted: a join's matches of one key may come in another order. */
async function joinOutputs(url: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const stream of ["PAID", "NAMED", "WINDOWED"]) {
    for (const line of await read(url, stream)) (out[line.slice(0, line.indexOf(" "))] ??= []).push(line.slice(line.indexOf(" ") + 1));
  }
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

async function makeJoinStreams(url: string): Promise<void> {
  for (const [name, subjects] of [["ORDERS", ["orders.*"]], ["PAYMENTS", ["payments.*"]], ["CUSTOMERS", ["customers"]], ["PAID", ["paid.>"]], ["NAMED", ["named.>"]], ["WINDOWED", ["windowed.>"]]] as [string, string[]][]) await makeStream(url, name, subjects);
  const nc = await client(url);
  try {
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith("FLOWC_joins_")) await jsm.streams.delete(s.config.name);
  } finally {
    await nc.close();
  }
}

async function publishJoinData(url: string, d: ReturnType<typeof joinData>): Promise<void> {
  await publish(url, d.customers, "CUSTOMERS");
  await publish(url, d.orders, "ORDERS");
  await publish(url, d.payments, "PAYMENTS");
}

describe("several instances over NATS JetStream", () => {
  describe("on a three-node JetStream cluster", () => {
    let cluster: NatsCluster;
    beforeAll(async () => {
      cluster = await NatsCluster.start(3);
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });

    it("three instances give per key the output of one, nothing lost or repeated, while instances are SIGKILLed and restarted and one nats-server is killed", async () => {
      const url = cluster.urls[0]!;
      const text = job({ until: true });
      const data = orders(0, 8000);
      const reference = await singleRun(url, text, data, 3);
      expect(Object.values(reference.totals).flat()).toHaveLength(8000);

      const dir = tempDir("flowc-instances-");
      const bundle = await compileJob(dir, text);
      await makeStreams(url, 3);
      await publish(url, data, "ORDERS");
      // Each instance talks to another server of the cluster (and fails over to the others).
      const servers = (i: number): string => [0, 1, 2].map((k) => cluster.urls[(i + k) % 3]!).join(",");
      const procs = [0, 1, 2].map((i) => new Proc(bundle, dir, ["--instance", `${i}/3`, "--run-id", "faults", "--exchange-replicas", "3", "--log-level", "info", "--nats-timeout", "120s"], servers(i), `instance-${i}.log`));
      for (const p of procs) p.start();
      // SIGKILL an instance now and then and start it again; kill server 2 on the way.
      let kills = 0;
      let serverKilled = false;
      let seed = 7;
      const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      while (procs.some((p) => p.running) && kills < 6) {
        await new Promise((r) => setTimeout(r, 300 + random() * 500));
        const alive = procs.filter((p) => p.running);
        if (alive.length === 0) break;
        const victim = alive[Math.floor(random() * alive.length)]!;
        victim.kill();
        // One that finished on its own just before (or was killed as it exited) is not started
        // again: a finished run keeps no checkpoint, so it would read its input again.
        if (await victim.finishedAfterKill()) continue;
        kills++;
        victim.start();
        if (kills === 2 && !serverKilled) {
          await cluster.kill(2);
          serverKilled = true;
        }
      }
      const codes = await Promise.all(procs.map((p) => p.wait()));
      for (const [i, p] of procs.entries()) expect(codes[i], p.log()).toBe(0);
      expect(kills).toBeGreaterThan(0);
      expect(serverKilled).toBe(true);
      // The whole cluster again, to read the results.
      await cluster.restart(2);
      const got = await outputs(url);
      // Per customer: the same totals in the same order; the same windows.
      expect(got.totals).toEqual(reference.totals);
      expect(got.regions).toEqual(reference.regions);
      // Each instance ended with its share: the logs say which key groups each read.
      expect(procs[1]!.log()).toContain("key groups g with g mod 3 = 1");
    }, 300_000);
  });

  describe("on one server", () => {
    let server: NatsServer;
    beforeAll(async () => {
      server = await NatsServer.start();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("rescales 2 → 3 → 1 through savepoints taken mid-stream, with per key the output of an uninterrupted single instance", async () => {
      const url = server.url;
      const all = orders(0, 40_000);
      const reference = await singleRun(url, job({ until: true }), all, 1);

      const dir = tempDir("flowc-rescaling-");
      const bundle = await compileJob(dir, job({ until: false, files: true }));
      await makeStreams(url, 1);
      const start = async (n: number, from: string | null): Promise<{ procs: Proc[]; urls: string[] }> => {
        const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
        const procs = ports.map((port, i) => new Proc(bundle, dir, ["--instance", `${i}/${n}`, "--admin-port", String(port), "--log-level", "info", ...(from ? ["--from-savepoint", from] : [])], url, `rescale-${n}-${i}.log`));
        for (const p of procs) p.start();
        return { procs, urls: ports.map((p) => `http://127.0.0.1:${p}`) };
      };
      const stopAll = async (s: { procs: Proc[]; urls: string[] }, into: string): Promise<void> => {
        // The admin endpoints answer once the instances run.
        await until("the admin endpoints", async () => (await Promise.all(s.urls.map((u) => fetch(`${u}/status`).then((r) => r.ok, () => false)))).every((x) => x));
        const r = await flowc(["savepoint", ...s.urls, "--stop", "--dir", into], { cwd: dir });
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stdout.trim().split("\n")).toHaveLength(s.urls.length);
        for (const p of s.procs) expect(await p.wait(), p.log()).toBe(0);
      };

      // Two instances read the first part; savepoints of both, stopped.
      await publish(url, all.slice(0, 2000), "ORDERS");
      const two = await start(2, null);
      await until("the first part", async () => (await count(url, "TOTALS")) >= 2000);
      await stopAll(two, "two");
      // Three instances from them, with a third of the second part waiting in the stream and
      // the rest coming 2,000 orders every 300 ms; their savepoints as soon as they answer,
      // while they work through it (records at hand, in the exchanges, in the operators).
      const second = all.slice(2000, 38_000);
      await publish(url, second.slice(0, 12_000), "ORDERS");
      const three = await start(3, join("savepoints", "scale", "two"));
      const publishing = (async () => {
        for (let k = 12_000; k < second.length; k += 2000) {
          await publish(url, second.slice(k, k + 2000), "ORDERS");
          await new Promise((r) => setTimeout(r, 300));
        }
      })();
      await stopAll(three, "three");
      await publishing;
      // Where each instance's savepoint has it in the orders stream.
      const setDir = join(dir, "savepoints", "scale", "three");
      const read3 = readdirSync(setDir).map((f) => (JSON.parse(readFileSync(join(setDir, f, "_savepoint.json"), "utf8")) as { sources: { name: string; position: { seq: number } }[] }).sources.find((x) => x.name === "orders")!.position.seq);
      expect(three.procs[2]!.log()).toContain("instance 2 of 3 takes the key groups g with g mod 3 = 2");
      // One instance from those, and the rest.
      const one = await start(1, join("savepoints", "scale", "three"));
      await publish(url, all.slice(38_000), "ORDERS");
      await until("the rest", async () => (await count(url, "TOTALS")) >= 40_000);
      // Windows fire as the watermark passes them: wait for the last one that must fire.
      const lastWindow = Math.floor((1000 + 39_999 * 20 - 1000) / 10_000) * 10_000;
      await until("the windows", async () => (await readStream(url, "REGIONS")).some((l) => l.includes(`"end":${lastWindow}`)));
      one.procs[0]!.term();
      expect(await one.procs[0]!.wait(), one.procs[0]!.log()).toBe(0);

      const got = await outputs(url);
      // The savepoints were taken part way through the second part.
      expect(Math.max(...read3)).toBeGreaterThan(2000);
      expect(Math.min(...read3)).toBeLessThan(38_000);
      expect(got.totals).toEqual(reference.totals);
      // The live run fires the windows its watermark passed; the finite one every window at its end.
      expect(got.regions).toEqual(reference.regions.filter((l) => Number(/"end":(\d+)/.exec(l)![1]) <= lastWindow));
      // Each instance's file went on after its savepoint: together they hold every update once.
      const files = [0, 1, 2].flatMap((i) => readFileSync(join(dir, "out", `totals.${i}.jsonl`), "utf8").split("\n").filter((l) => l));
      expect(files.sort()).toEqual(Object.values(reference.totals).flat().sort());
    }, 180_000);

    it("rescales 2 → 1 through savepoints in a NATS object store bucket", async () => {
      const url = server.url;
      const all = orders(0, 1200);
      const reference = await singleRun(url, job({ until: true }), all, 1);
      const dir = tempDir("flowc-rescaling-bucket-");
      const bundle = await compileJob(dir, job({ until: false }));
      await makeStreams(url, 1);
      await publish(url, all.slice(0, 600), "ORDERS");
      const ports = [await freePort(), await freePort()];
      const two = ports.map((port, i) => new Proc(bundle, dir, ["--instance", `${i}/2`, "--admin-port", String(port)], url, `bucket-2-${i}.log`));
      for (const p of two) p.start();
      await until("the first half", async () => (await count(url, "TOTALS")) >= 600);
      await until("the admin endpoints", async () => (await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/status`).then((r) => r.ok, () => false)))).every((x) => x));
      const r = await flowc(["savepoint", ...ports.map((p) => `http://127.0.0.1:${p}`), "--stop", "--dir", "nats:flowcsp/two"], { cwd: dir, env: { NATS_URL: url } });
      expect(r.exitCode, r.stderr).toBe(0);
      // Side by side in the bucket, named by instance.
      expect(r.stdout).toMatch(/nats:flowcsp\/two\/savepoint-scale-i0-/);
      expect(r.stdout).toMatch(/nats:flowcsp\/two\/savepoint-scale-i1-/);
      for (const p of two) expect(await p.wait(), p.log()).toBe(0);
      await publish(url, all.slice(600), "ORDERS");
      const one = new Proc(bundle, dir, ["--instance", "0/1", "--from-savepoint", "nats:flowcsp/two", "--log-level", "info"], url, "bucket-1-0.log");
      one.start();
      await until("the rest", async () => (await count(url, "TOTALS")) >= 1200);
      one.term();
      expect(await one.wait(), one.log()).toBe(0);
      expect((await outputs(url)).totals).toEqual(reference.totals);
    }, 120_000);

    it("runs an interval join, a temporal join and a window join as 2 instances with per key the output of one, while instances are SIGKILLed", async () => {
      const url = server.url;
      const data = joinData(0, 3000);
      const dir = tempDir("flowc-joins-");
      const bundle = await compileJob(dir, joinJob({ until: true }));
      await makeJoinStreams(url);
      await publishJoinData(url, data);
      const single = new Proc(bundle, dir, [], url, "joins-single.log");
      single.start();
      expect(await single.wait(), single.log()).toBe(0);
      const reference = await joinOutputs(url);
      // Every order once in each join; a customer name other than "unknown" for most.
      expect(Object.entries(reference).filter(([k]) => k.startsWith("paid.")).flatMap(([, v]) => v)).toHaveLength(3000);
      expect(Object.entries(reference).filter(([k]) => k.startsWith("named.")).flatMap(([, v]) => v).filter((l) => !l.includes('"unknown"')).length).toBeGreaterThan(2500);

      await makeJoinStreams(url);
      await publishJoinData(url, data);
      const procs = [0, 1].map((i) => new Proc(bundle, dir, ["--instance", `${i}/2`, "--run-id", "joins", "--log-level", "info"], url, `joins-${i}.log`));
      for (const p of procs) p.start();
      let kills = 0;
      let seed = 11;
      const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      while (procs.some((p) => p.running) && kills < 4) {
        await new Promise((r) => setTimeout(r, 200 + random() * 400));
        const alive = procs.filter((p) => p.running);
        if (alive.length === 0) break;
        const victim = alive[Math.floor(random() * alive.length)]!;
        victim.kill();
        // One that finished on its own just before (or was killed as it exited) is not started
        // again: a finished run keeps no checkpoint, so it would read its input again.
        if (await victim.finishedAfterKill()) continue;
        kills++;
        victim.start();
      }
      const codes = await Promise.all(procs.map((p) => p.wait()));
      for (const [i, p] of procs.entries()) expect(codes[i], p.log()).toBe(0);
      expect(kills).toBeGreaterThan(0);
      expect(await joinOutputs(url)).toEqual(reference);
      // Each side of each join went through its own exchange.
      expect(Object.entries(reference).filter(([k]) => k.startsWith("windowed.")).flatMap(([, v]) => v).length).toBeGreaterThan(1500);
      for (const side of ["paid_left", "paid_right", "named_left", "named_right", "windowed_left", "windowed_right"]) expect(procs[1]!.log()).toContain(`reading stream FLOWC_joins_${side}`);
    }, 180_000);

    it("rescales a job with joins 2 → 1 through savepoints taken mid-stream, with per key the output of one uninterrupted instance", async () => {
      const url = server.url;
      const data = joinData(0, 3000);
      const dir = tempDir("flowc-joins-rescale-");
      // The reference: the finite job in one process.
      const finite = await compileJob(join(dir, "finite"), joinJob({ until: true }));
      await makeJoinStreams(url);
      await publishJoinData(url, data);
      const single = new Proc(finite, dir, [], url, "reference.log");
      single.start();
      expect(await single.wait(), single.log()).toBe(0);
      // A live run fires what its watermarks passed: the orders up to 2,800 (ts 57 s; the
      // last ones are at 61 s, the watermarks 1 s behind, the interval 1 s).
      const early = (lines: Record<string, string[]>): Record<string, string[]> =>
        Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, v.filter((l) => (JSON.parse(l) as { order: number }).order < 2800)]));
      const reference = early(await joinOutputs(url));
      const total = Object.values(reference).flat().length;

      const bundle = await compileJob(dir, joinJob({ until: false }));
      await makeJoinStreams(url);
      const half = joinData(0, 1500);
      await publishJoinData(url, half);
      const ports = [await freePort(), await freePort()];
      const two = ports.map((port, i) => new Proc(bundle, dir, ["--instance", `${i}/2`, "--admin-port", String(port), "--log-level", "info"], url, `rescale-joins-2-${i}.log`));
      for (const p of two) p.start();
      await until("output of the first half", async () => (await count(url, "NAMED")) >= 1000);
      await until("the admin endpoints", async () => (await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/status`).then((r) => r.ok, () => false)))).every((x) => x));
      const r = await flowc(["savepoint", ...ports.map((p) => `http://127.0.0.1:${p}`), "--stop", "--dir", "two"], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      for (const p of two) expect(await p.wait(), p.log()).toBe(0);
      // What the new instance starts from: per join, each side's watermark the smaller of
      // the two instances', the element counter the larger.
      const setDir = join(dir, "savepoints", "joins", "two");
      type JoinMeta = { join: { wms: number[]; seq: number } };
      const metaOf = (file: string): Map<string, JoinMeta> =>
        new Map((JSON.parse(readFileSync(file, "utf8")) as { operators: { uid: string; meta: JoinMeta }[] }).operators.map((o) => [o.uid, o.meta]));
      const olds = readdirSync(setDir).map((f) => metaOf(join(setDir, f, "_savepoint.json")));
      const merged = metaOf(join((await savepointForInstance(setDir, "two", manifestOf(joinJob({ until: false })), 0, 1)).path, "_savepoint.json"));
      for (const uid of ["paid", "named", "windowed"]) {
        const [a, b] = olds.map((m) => m.get(uid)!.join);
        expect(merged.get(uid)!.join.wms).toEqual([Math.min(a!.wms[0]!, b!.wms[0]!), Math.min(a!.wms[1]!, b!.wms[1]!)]);
        expect(merged.get(uid)!.join.seq).toBe(Math.max(a!.seq, b!.seq));
      }
      // The rest, read by one instance that took over both instances' join state.
      const rest = joinData(1500, 3000);
      await publishJoinData(url, rest);
      const one = new Proc(bundle, dir, ["--instance", "0/1", "--from-savepoint", join("savepoints", "joins", "two"), "--log-level", "info"], url, "rescale-joins-1-0.log");
      one.start();
      await until("every early result", async () => Object.values(early(await joinOutputs(url))).flat().length >= total, 90_000);
      one.term();
      expect(await one.wait(), one.log()).toBe(0);
      const got = await joinOutputs(url);
      expect(early(got)).toEqual(reference);
      // Nothing twice, the later results included: per key, each order once.
      for (const lines of Object.values(got)) expect(new Set(lines.map((l) => (JSON.parse(l) as { order: number }).order)).size).toBe(lines.length);
    }, 180_000);

    it("fires windows across an exchange at the watermark of every instance, and an idle instance stops holding them back once `idle` applies", async () => {
      const url = server.url;
      const dir = tempDir("flowc-event-time-");
      const bundle = await compileJob(dir, job({ until: false, idle: "1s", every: "100ms" }));
      await makeStreams(url, 1);
      const procs = [0, 1].map((i) => new Proc(bundle, dir, ["--instance", `${i}/2`, "--log-level", "info"], url, `et-${i}.log`));
      for (const p of procs) p.start();
      try {
        // Both instances read orders up to ts 12 s (partitions 0-5; instance 0 reads 0, 2, 4):
        // the watermark of each is 11 s, so the window ending at 10 s fires, and no later one.
        const first: [string, string][] = [];
        for (let i = 0; i < 600; i++) first.push([`orders.${i % 6}`, JSON.stringify({ id: i, customer: `c${i % 6}`, region: REGIONS[i % 5], amount: 1, ts: i * 20 })]);
        await publish(url, first, "ORDERS");
        const expected = REGIONS.map((r) => JSON.stringify({ region: r, end: 10000, n: 100 })).sort();
        await until("the first window", async () => (await readStream(url, "REGIONS")).length >= 5);
        // The watermark of both was needed: nothing later than 10 s fired.
        await new Promise((r) => setTimeout(r, 1000));
        expect((await readStream(url, "REGIONS")).map((l) => l.slice("regions ".length)).sort()).toEqual(expected);
        // Now only instance 0's partitions get orders, up to 25 s. Instance 1 reads nothing:
        // after `idle 1s` it no longer holds the watermark back, and the window ending at 20 s fires.
        const more: [string, string][] = [];
        for (let i = 600; i < 1250; i++) more.push([`orders.${(i % 3) * 2}`, JSON.stringify({ id: i, customer: `c${(i % 3) * 2}`, region: REGIONS[i % 5], amount: 1, ts: i * 20 })]);
        await publish(url, more, "ORDERS");
        await until("the window at 20 s", async () => (await readStream(url, "REGIONS")).some((l) => l.includes('"end":20000')), 30_000);
        const ends = (await readStream(url, "REGIONS")).map((l) => Number(/"end":(\d+)/.exec(l)![1]));
        expect(Math.max(...ends)).toBe(20000);
      } finally {
        for (const p of procs) p.term();
        for (const p of procs) await p.wait();
      }
      expect(procs[1]!.log()).toContain("exchange into `per_region`");
    }, 120_000);

    it("reads a file on instance 0 only and exchanges its records, runs the unkeyed aggregate on instance 0, and writes a file per instance", async () => {
      const url = server.url;
      const dir = tempDir("flowc-file-instances-");
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) lines.push(JSON.stringify({ k: `k${(i * 13) % 50}`, v: i % 7, x: (i % 11) - 4 + 0.5 }));
      // roots: floats that math makes NaN cross the exchange as NaN (JSON would make them
      // null, which sum() and max() skip: other results than one process's).
      const text = `job files
type R = { k: string, v: int, x: float }
source rs: R = file("in.jsonl")
let sums = rs |> key_by(r => r.k) |> aggregate(r => { k: key, s: sum(r.v), n: count() })
let total = rs |> aggregate(r => { n: count(), s: sum(r.v) })
let roots = rs |> map(r => { k: r.k, y: sqrt(r.x) }) |> key_by(r => r.k) |> aggregate(r => { k: key, n: count(), s: sum(r.y), m: max(r.y) })
sink sums -> file("out/sums.jsonl")
sink total -> file("out/total.jsonl")
sink roots -> file("out/roots.jsonl")
checkpoint { every 200ms }
`;
      writeFiles(dir, { "in.jsonl": lines.join("\n") + "\n", "files.flow": text });
      const single = await flowc(["run", "files.flow"], { cwd: dir });
      expect(single.exitCode, single.stderr).toBe(0);
      const perKey = (texts: string[]): Record<string, string[]> => {
        const out: Record<string, string[]> = {};
        for (const t of texts) for (const l of t.split("\n").filter((x) => x)) (out[(JSON.parse(l) as { k: string }).k] ??= []).push(l);
        return out;
      };
      const reference = perKey([readFileSync(join(dir, "out", "sums.jsonl"), "utf8")]);
      const referenceTotal = readFileSync(join(dir, "out", "total.jsonl"), "utf8");
      const referenceRoots = perKey([readFileSync(join(dir, "out", "roots.jsonl"), "utf8")]);
      // Every key saw a NaN (its sum is null from then on).
      expect(Object.values(referenceRoots).every((rows) => rows.at(-1)!.includes('"s":null'))).toBe(true);
      const run = await flowc(["run", "files.flow", "--instances", "2", "--", "--log-level", "info"], { cwd: dir, env: { NATS_URL: url } });
      expect(run.exitCode, run.stderr).toBe(0);
      const parts = [0, 1].map((i) => readFileSync(join(dir, "out", `sums.${i}.jsonl`), "utf8"));
      // Both instances own keys; per key, the same sums in the same order as one process.
      expect(parts.every((p) => p.length > 0)).toBe(true);
      expect(perKey(parts)).toEqual(reference);
      expect(perKey([0, 1].map((i) => readFileSync(join(dir, "out", `roots.${i}.jsonl`), "utf8")))).toEqual(referenceRoots);
      // The unkeyed aggregate ran on instance 0, over every record.
      expect(readFileSync(join(dir, "out", "total.0.jsonl"), "utf8")).toBe(referenceTotal);
      expect(readFileSync(join(dir, "out", "total.1.jsonl"), "utf8")).toBe("");
    }, 120_000);

    it("makes no exchange after a source partitioned by the key when N divides its partitions, and one when it does not", async () => {
      const url = server.url;
      const text = `job keyed
type Order = { id: int, customer: string, amount: float }
source orders: Order = nats("orders.*", stream: "ORDERS", partitions: 6, partition_key: o => o.customer, until: "end")
let totals = orders |> key_by(o => o.customer) |> aggregate(o => { customer: key, n: count(), total: sum(o.amount) })
sink totals -> nats(t => "totals." + t.customer, stream: "TOTALS")
checkpoint { every 200ms  mode exactly_once }
`;
      // The producer puts each order into the partition of its customer's key group, as
      // `flowc partition` tells it (a wrong partition would split a customer's count).
      const customers = Array.from({ length: 37 }, (_, k) => `c${k}`);
      const told = await flowc(["partition", ...customers, "--partitions", "6"]);
      expect(told.exitCode, told.stderr).toBe(0);
      const partitionOf = new Map(told.stdout.trim().split("\n").map((l) => l.split("\t") as [string, string]));
      expect(partitionOf.size).toBe(37);
      expect(new Set(partitionOf.values()).size).toBeGreaterThan(3);
      const data: [string, string][] = [];
      for (let i = 0; i < 3000; i++) {
        const c = `c${(i * 7) % 37}`;
        data.push([`orders.${partitionOf.get(c)!}`, JSON.stringify({ id: i, customer: c, amount: i % 5 })]);
      }
      const reference = await singleRun(url, text, data, 1);
      const dir = tempDir("flowc-partition-key-");
      writeFiles(dir, { "keyed.flow": text });
      const exchangeStream = async (): Promise<boolean> => {
        const nc = await client(url);
        try {
          return await (await jetstreamManager(nc)).streams.info("FLOWC_keyed_totals").then(() => true, () => false);
        } finally {
          await nc.close();
        }
      };
      for (const n of [2, 4]) {
        await makeStreams(url, 1);
        const nc = await client(url);
        await (await jetstreamManager(nc)).streams.delete("FLOWC_keyed_totals").catch(() => undefined);
        await nc.close();
        await publish(url, data, "ORDERS");
        const run = await flowc(["run", "keyed.flow", "--instances", String(n), "--", "--log-level", "info"], { cwd: dir, env: { NATS_URL: url } });
        expect(run.exitCode, run.stderr).toBe(0);
        expect((await outputs(url)).totals).toEqual(reference.totals);
        if (n === 2) {
          // 2 divides 6: each instance's partitions hold exactly the customers it owns.
          expect(run.stderr).toContain("no exchange into `totals`: source `orders` is partitioned by its key (6 partitions, 2 instance(s))");
          expect(await exchangeStream()).toBe(false);
        } else {
          expect(run.stderr).toContain("exchange into `totals`: reading stream FLOWC_keyed_totals");
          expect(await exchangeStream()).toBe(true);
        }
      }
    }, 120_000);

    it("refuses an instance started with another N than its checkpoints, and runs N local instances with prefixed output", async () => {
      const url = server.url;
      const dir = tempDir("flowc-refuse-");
      const bundle = await compileJob(dir, job({ until: false }));
      await makeStreams(url, 1);
      await publish(url, orders(0, 600), "ORDERS");
      const p = new Proc(bundle, dir, ["--instance", "0/2"], url, "a.log");
      const q = new Proc(bundle, dir, ["--instance", "1/2"], url, "b.log");
      p.start();
      q.start();
      await until("the output", async () => (await count(url, "TOTALS")) >= 600);
      p.term();
      q.term();
      expect(await p.wait()).toBe(0);
      expect(await q.wait()).toBe(0);
      const r = new Proc(bundle, dir, ["--instance", "0/3"], url, "c.log");
      r.start();
      expect(await r.wait()).toBe(1);
      expect(r.log()).toContain("error[FLOW5030]: checkpoint");
      expect(r.log()).toContain("was taken by instance 0 of 2; this is instance 0 of 3");

      // flowc run --instances: every line says which instance wrote it.
      await makeStreams(url, 1);
      await publish(url, orders(0, 300), "ORDERS");
      const other = tempDir("flowc-run-instances-");
      writeFiles(other, { "finite.flow": job({ until: true }) });
      const run = await flowc(["run", "finite.flow", "--instances", "2", "--", "--log-level", "info"], { cwd: other, env: { NATS_URL: url } });
      expect(run.exitCode, run.stderr).toBe(0);
      const lines = run.stderr.trim().split("\n");
      expect(lines.every((l) => l.startsWith("[0/2] ") || l.startsWith("[1/2] "))).toBe(true);
      expect(lines.filter((l) => l.includes("finished")).length).toBe(2);
      expect(Object.values((await outputs(url)).totals).flat()).toHaveLength(300);
    }, 120_000);
  });
});
