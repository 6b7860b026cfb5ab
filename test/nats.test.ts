// NATS JetStream (LANGUAGE.md 9.1) against real nats-server processes, each on a free
// loopback port with a store of its own (test/nats-helpers.ts): the source and the
// exactly-once sink under SIGKILL at random moments, a server that goes away and comes back,
// checkpoints in an object store bucket resumed from another folder, bad payloads, a missing
// server and stream, a live source stopped and resumed, savepoints in a bucket, locks, and
// what the admin endpoint shows. Needs Debian's nats-server (.ci/run installs it).

import { execa, type ResultPromise } from "execa";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { compileIn, flowc, runBundle, STACK_LINE, startWithAdmin, tempDir, writeFiles } from "./helpers.js";
import { freePort, makeStream, NatsServer, publish, readStream, streamInfo } from "./nats-helpers.js";

let server: NatsServer;
const children: ResultPromise[] = [];

beforeAll(async () => {
  server = await NatsServer.start();
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === undefined && c.pid !== undefined) c.kill("SIGKILL");
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Orders as NATS messages: subject orders.<i mod 4>, customers c0…c<customers-1>. */
function orders(from: number, count: number, customers = 40): [string, string][] {
  const out: [string, string][] = [];
  for (let i = from; i < from + count; i++) out.push([`orders.${i % 4}`, JSON.stringify({ id: i, customer: `c${i % customers}`, amount: i % 97 })]);
  return out;
}

/** What the keyed running total writes for those orders, as "subject payload" lines. */
function expectedTotals(msgs: [string, string][]): string[] {
  const acc = new Map<string, { total: number; n: number }>();
  return msgs.map(([, p]) => {
    const o = JSON.parse(p) as { customer: string; amount: number };
    const a = acc.get(o.customer) ?? { total: 0, n: 0 };
    a.total += o.amount;
    a.n++;
    acc.set(o.customer, a);
    return `totals.${o.customer} ${JSON.stringify({ customer: o.customer, total: a.total, n: a.n })}`;
  });
}

const TOTALS = (opts: { until?: boolean; storage?: string; every?: string; idle?: boolean } = {}) => `job nats_totals
type Order = { id: int, customer: string, amount: int }
source orders: Order = nats("orders.>", stream: "ORDERS"${opts.until === false ? "" : ', until: "end"'})
let totals = orders
  |> key_by(o => o.customer)
  |> aggregate(o => { customer: key, total: sum(o.amount), n: count() })
sink totals -> nats(t => "totals." + t.customer, stream: "TOTALS")
checkpoint { every ${opts.every ?? "200ms"}${opts.storage ? ` storage "${opts.storage}"` : ""} }
`;

describe("a NATS source and an exactly-once NATS sink", () => {
  it(
    "SIGKILLed at random moments at least ten times and restarted until it ends, the job leaves the sink stream equal to a failure-free run's, byte for byte and in order",
    async () => {
      const dir = tempDir("flowc-nats-kill-");
      const bundle = await compileIn(dir, TOTALS({ every: "100ms" }));
      const input = orders(0, 300_000);
      await makeStream(server.url, "ORDERS", ["orders.>"]);
      await publish(server.url, input, "ORDERS");
      const args = ["--nats-url", server.url];

      // The failure-free run.
      await makeStream(server.url, "TOTALS", ["totals.>"]);
      const t0 = performance.now();
      const clean = await runBundle(bundle, { cwd: dir, args });
      const cleanMs = performance.now() - t0;
      expect(clean.stderr).toBe("");
      expect(clean.exitCode).toBe(0);
      const reference = await readStream(server.url, "TOTALS");
      expect(reference).toEqual(expectedTotals(input));

      // The same, SIGKILLed twelve times at random moments once it runs (up to a sixth of
      // a clean run's time in: some before its first checkpoint, some while it commits, some
      // while it reads), then run to its end.
      await makeStream(server.url, "TOTALS", ["totals.>"]);
      let kills = 0;
      let resumed = 0;
      for (let round = 0; round < 40; round++) {
        const child = execa(process.execPath, [bundle, ...args, "--log-level", "info"], { cwd: dir, reject: false, stdin: "ignore" });
        children.push(child);
        let err = "";
        child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        if (kills >= 12) {
          const r = await child;
          expect(r.exitCode).toBe(0);
          expect(r.stderr).not.toMatch(/error|warn/);
          break;
        }
        for (let i = 0; i < 400 && !/running:/.test(err) && child.exitCode === undefined; i++) await sleep(10);
        await sleep(Math.floor((Math.random() * cleanMs) / 6));
        child.kill("SIGKILL");
        const r = await child;
        if (/resuming from checkpoint/.test(r.stderr)) resumed++;
        if (r.signal === "SIGKILL") kills++;
        else if (r.exitCode === 0) break;
        else throw new Error(`the job failed instead of being killed: ${r.stderr}`);
      }
      expect(resumed).toBeGreaterThan(0);
      expect(kills).toBeGreaterThanOrEqual(10);
      const after = await readStream(server.url, "TOTALS");
      expect(after.length).toBe(reference.length);
      expect(after).toEqual(reference);
      // A finite job that ended removed its checkpoints.
      expect(existsSync(join(dir, "checkpoints", "nats_totals", "chk-000001"))).toBe(false);
    },
    240_000,
  );

  it(
    "rides out the server stopped for a few seconds and started again with the same store, and its output is still exactly-once",
    async () => {
      const own = await NatsServer.start();
      try {
        const dir = tempDir("flowc-nats-restart-");
        const bundle = await compileIn(dir, TOTALS({ every: "100ms" }));
        const input = orders(0, 60_000);
        await makeStream(own.url, "ORDERS", ["orders.>"]);
        await makeStream(own.url, "TOTALS", ["totals.>"]);
        await publish(own.url, input);
        const child = execa(process.execPath, [bundle, "--nats-url", own.url, "--nats-timeout", "30s"], { cwd: dir, reject: false, stdin: "ignore" });
        children.push(child);
        for (let i = 0; i < 200 && (await streamInfo(own.url, "TOTALS")).messages === 0; i++) await sleep(25);
        await own.stop();
        await sleep(3000);
        await own.restart();
        const r = await child;
        expect(r.stderr).toMatch(/NATS server nats:\/\/127\.0\.0\.1:\d+ went away/);
        expect(r.stderr).toMatch(/is back after/);
        expect(r.stderr).not.toMatch(STACK_LINE);
        expect(r.exitCode).toBe(0);
        expect(await readStream(own.url, "TOTALS")).toEqual(expectedTotals(input));
      } finally {
        await own.stop();
      }
    },
    120_000,
  );

  it(
    "keeps checkpoints in an object store bucket, and a killed job resumes from them in another working folder",
    async () => {
      const first = tempDir("flowc-nats-bucket-a-");
      const second = tempDir("flowc-nats-bucket-b-");
      const text = TOTALS({ storage: "nats:ckpt_totals", every: "100ms" });
      const bundleA = await compileIn(first, text);
      const bundleB = await compileIn(second, text);
      const input = orders(0, 30_000);
      await makeStream(server.url, "ORDERS", ["orders.>"]);
      await makeStream(server.url, "TOTALS", ["totals.>"]);
      await publish(server.url, input);
      const child = execa(process.execPath, [bundleA, "--nats-url", server.url], { cwd: first, reject: false, stdin: "ignore" });
      children.push(child);
      for (let i = 0; i < 200 && (await streamInfo(server.url, "TOTALS")).messages === 0; i++) await sleep(25);
      await sleep(150);
      child.kill("SIGKILL");
      expect((await child).signal).toBe("SIGKILL");
      // Nothing of the checkpoints is on the first machine's disk.
      expect(existsSync(join(first, "checkpoints"))).toBe(false);
      const r = await runBundle(bundleB, { cwd: second, args: ["--nats-url", server.url, "--log-level", "info"] });
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/resuming from checkpoint \d+ in nats:ckpt_totals/);
      expect(await readStream(server.url, "TOTALS")).toEqual(expectedTotals(input));
      expect(existsSync(join(second, "checkpoints"))).toBe(false);
    },
    120_000,
  );

  it(
    "a live source stopped with SIGTERM takes a final checkpoint, and started again goes on after the last message it read",
    async () => {
      const dir = tempDir("flowc-nats-live-");
      const bundle = await compileIn(dir, TOTALS({ until: false, every: "10s" }));
      await makeStream(server.url, "ORDERS", ["orders.>"]);
      await makeStream(server.url, "TOTALS", ["totals.>"]);
      const part1 = orders(0, 500);
      const part2 = orders(500, 300);
      await publish(server.url, part1);
      const start = () => {
        const c = execa(process.execPath, [bundle, "--nats-url", server.url], { cwd: dir, reject: false, stdin: "ignore" });
        children.push(c);
        return c;
      };
      const a = start();
      // Live: it reads what there is and waits; its output is committed only by a checkpoint (every 10 s), here the final one.
      await sleep(1500);
      expect((await streamInfo(server.url, "TOTALS")).messages).toBe(0);
      a.kill("SIGTERM");
      const ra = await a;
      expect(ra.exitCode).toBe(0);
      expect(await readStream(server.url, "TOTALS")).toEqual(expectedTotals(part1));
      await publish(server.url, part2);
      const b = start();
      for (let i = 0; i < 100 && (await streamInfo(server.url, "TOTALS")).messages < 800; i++) {
        await sleep(100);
        if (i === 10) b.kill("SIGTERM");
      }
      expect((await b).exitCode).toBe(0);
      expect(await readStream(server.url, "TOTALS")).toEqual(expectedTotals([...part1, ...part2]));
    },
    60_000,
  );
});

describe("bad payloads, a missing server, a missing stream", () => {
  const JOB = (policy: string) => `job orders_in
type Order = { id: int, amount: float }
source orders: Order = nats("in.>", stream: "BADIN", until: "end"${policy})
sink orders -> file("out.jsonl")
`;
  const messages: [string, string][] = [
    ["in.a", '{"id":1,"amount":1.5}'],
    ["in.b", "not json"],
    ["in.a", '{"id":3,"amount":"lots"}'],
    ["in.c", '{"id":4,"amount":4}'],
  ];

  beforeAll(async () => {
    await makeStream(server.url, "BADIN", ["in.>"]);
    await publish(server.url, messages);
  });

  it("on_error fail stops at the first bad message, naming its stream sequence and subject, without a stack trace", async () => {
    const dir = tempDir("flowc-nats-bad-");
    const r = await runBundle(await compileIn(dir, JOB("")), { cwd: dir, args: ["--nats-url", server.url] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error[FLOW5001]: bad input in stream BADIN, sequence 2 (subject in.b): not valid JSON");
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readFileSync(join(dir, "out.jsonl"), "utf8")).toBe('{"id":1,"amount":1.5}\n');
  });

  it("on_error skip goes past bad messages and counts them", async () => {
    const dir = tempDir("flowc-nats-skip-");
    const r = await runBundle(await compileIn(dir, JOB(', on_error: "skip"')), { cwd: dir, args: ["--nats-url", server.url] });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("source `orders`: 2 bad records skipped");
    expect(readFileSync(join(dir, "out.jsonl"), "utf8")).toBe('{"id":1,"amount":1.5}\n{"id":4,"amount":4}\n');
  });

  it("on_error dead_letter writes each bad message with its stream, sequence and subject", async () => {
    const dir = tempDir("flowc-nats-dl-");
    const r = await runBundle(await compileIn(dir, JOB(', on_error: "dead_letter", dead_letter: "bad.jsonl"')), { cwd: dir, args: ["--nats-url", server.url] });
    expect(r.exitCode).toBe(0);
    const dead = readFileSync(join(dir, "bad.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dead).toEqual([
      { source: "orders", stream: "BADIN", sequence: 2, subject: "in.b", field: null, error: expect.stringMatching(/^not valid JSON/), record: "not json" },
      { source: "orders", stream: "BADIN", sequence: 3, subject: "in.a", field: "amount", error: expect.stringMatching(/float/), record: '{"id":3,"amount":"lots"}' },
    ]);
  });

  it("without a server the job fails after --nats-timeout with FLOW5014 naming the URL", async () => {
    const dir = tempDir("flowc-nats-none-");
    const url = `nats://127.0.0.1:${await freePort()}`;
    const r = await runBundle(await compileIn(dir, JOB("")), { cwd: dir, args: ["--nats-url", url, "--nats-timeout", "1500ms"] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error[FLOW5014]: no NATS server at ${url} for 1.5 s (--nats-timeout)`);
    expect(r.stderr).toContain(`NATS server ${url} cannot be reached (connection refused); trying again`);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(join(dir, "out.jsonl"))).toBe(false);
  });

  it("a missing stream stops the job at start with FLOW5015 naming it; create: true creates it", async () => {
    const dir = tempDir("flowc-nats-missing-");
    const missing = `job orders_in
type Order = { id: int }
source orders: Order = nats("nothere.>", stream: "NOT_THERE", until: "end")
sink orders -> stdout()
`;
    const r = await runBundle(await compileIn(dir, missing), { cwd: dir, args: ["--nats-url", server.url] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error[FLOW5015]: the NATS stream NOT_THERE that source `orders` uses does not exist");
    expect(r.stderr).toContain("create: true");
    const created = await runBundle(await compileIn(dir, missing.replace('until: "end"', 'until: "end", create: true')), { cwd: dir, args: ["--nats-url", server.url] });
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toBe("");
    expect((await streamInfo(server.url, "NOT_THERE")).messages).toBe(0);
  });
});

describe("messages in the job: subject, sequence, text, subjects per record", () => {
  it("fills subject_field and sequence_field from each message, and a text sink publishes strings to computed subjects", async () => {
    const dir = tempDir("flowc-nats-meta-");
    await makeStream(server.url, "META_IN", ["meta.>"]);
    await makeStream(server.url, "META_OUT", ["out.>"]);
    await publish(server.url, [
      ["meta.eu", '{"id":1}'],
      ["meta.us", '{"id":2,"subject":"ignored"}'],
    ]);
    const bundle = await compileIn(
      dir,
      `job meta
type Msg = { id: int, subject: string, seq: int }
source msgs: Msg = nats("meta.>", stream: "META_IN", until: "end", subject_field: "subject", sequence_field: "seq")
let lines = msgs |> map(m => m.subject + "#" + to_string(m.seq) + "#" + to_string(m.id))
sink lines -> nats(l => "out." + to_string(len(l)), stream: "META_OUT", format: "text")
sink msgs -> stdout()
checkpoint { every 1s }
`,
    );
    const r = await runBundle(bundle, { cwd: dir, args: ["--nats-url", server.url] });
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual(['{"id":1,"subject":"meta.eu","seq":1}', '{"id":2,"subject":"meta.us","seq":2}']);
    expect(await readStream(server.url, "META_OUT")).toEqual(["out.11 meta.eu#1#1", "out.11 meta.us#2#2"]);
  });
});

describe("several NATS sources", () => {
  it("merge deterministically by event time, the same in every run", async () => {
    const dir = tempDir("flowc-nats-merge-");
    await makeStream(server.url, "MERGE_A", ["ma.>"]);
    await makeStream(server.url, "MERGE_B", ["mb.>"]);
    await publish(server.url, [1000, 4000, 5000, 9000].map((t) => ["ma.x", JSON.stringify({ from: "a", ts: t })] as [string, string]));
    await publish(server.url, [2000, 3000, 6000, 7000].map((t) => ["mb.x", JSON.stringify({ from: "b", ts: t })] as [string, string]));
    const bundle = await compileIn(
      dir,
      `job merged
type E = { from: string, ts: timestamp }
source a: E = nats("ma.>", stream: "MERGE_A", until: "end") event_time(e => e.ts) watermark 0s
source b: E = nats("mb.>", stream: "MERGE_B", until: "end") event_time(e => e.ts) watermark 0s
let all = a |> union(b) |> map(e => e.from + to_string(e.ts))
sink all -> stdout()
`,
    );
    const runs = await Promise.all([0, 1].map(() => runBundle(bundle, { cwd: dir, args: ["--nats-url", server.url] })));
    for (const r of runs) {
      expect(r.stderr).toBe("");
      expect(r.stdout.split("\n")).toEqual(["a1000", "b2000", "b3000", "a4000", "a5000", "b6000", "b7000", "a9000"]);
    }
  });
});

describe("operations", () => {
  it("the admin endpoint and /metrics show each NATS source's last sequence and lag and each sink's published and pending counts; promtool accepts them", async () => {
    const dir = tempDir("flowc-nats-admin-");
    await makeStream(server.url, "ORDERS", ["orders.>"]);
    await makeStream(server.url, "TOTALS", ["totals.>"]);
    await publish(server.url, orders(0, 1000));
    const bundle = await compileIn(dir, TOTALS({ until: false, every: "300ms" }));
    const job = await startWithAdmin(bundle, dir, { args: ["--nats-url", server.url], started: children });
    let status: { sources: { nats?: { lastSequence: number; lag: number | null; stream: string } }[]; sinks: { nats?: { published: number; pending: number } }[] } = { sources: [], sinks: [] };
    for (let i = 0; i < 100; i++) {
      status = (await (await fetch(`${job.url}/status`)).json()) as typeof status;
      if (status.sources[0]?.nats?.lastSequence === 1000 && status.sinks[0]?.nats?.published === 1000) break;
      await sleep(100);
    }
    expect(status.sources[0]!.nats).toEqual({ stream: "ORDERS", lastSequence: 1000, streamLastSequence: 1000, lag: 0 });
    expect(status.sinks[0]!.nats).toEqual({ stream: "TOTALS", published: 1000, pending: 0 });
    const metrics = await (await fetch(`${job.url}/metrics`)).text();
    expect(metrics).toMatch(/^flowc_nats_source_last_sequence\{source="orders",stream="ORDERS",job="nats_totals"\} 1000$/m);
    expect(metrics).toMatch(/^flowc_nats_source_lag_messages\{source="orders",stream="ORDERS",job="nats_totals"\} 0$/m);
    expect(metrics).toMatch(/^flowc_nats_sink_published_total\{sink="0",stream="TOTALS",job="nats_totals"\} 1000$/m);
    expect(metrics).toMatch(/^flowc_nats_sink_pending_messages\{sink="0",stream="TOTALS",job="nats_totals"\} 0$/m);
    const lint = await execa(process.env.PROMTOOL ?? "promtool", ["check", "metrics"], { input: metrics, reject: false });
    expect({ exitCode: lint.exitCode, problems: `${lint.stdout}${lint.stderr}` }).toEqual({ exitCode: 0, problems: "" });
    await fetch(`${job.url}/stop`, { method: "POST" });
    expect((await job.child).exitCode).toBe(0);
  });

  it("a savepoint goes into an object store bucket, and the job starts from it there", async () => {
    const dir = tempDir("flowc-nats-sp-");
    await makeStream(server.url, "ORDERS", ["orders.>"]);
    await makeStream(server.url, "TOTALS", ["totals.>"]);
    const part1 = orders(0, 400);
    await publish(server.url, part1);
    const bundle = await compileIn(dir, TOTALS({ until: false, every: "10s" }));
    const job = await startWithAdmin(bundle, dir, { args: ["--nats-url", server.url], started: children });
    for (let i = 0; i < 100; i++) {
      const st = (await (await fetch(`${job.url}/status`)).json()) as { sources: { nats?: { lastSequence: number } }[] };
      if (st.sources[0]?.nats?.lastSequence === 400) break;
      await sleep(50);
    }
    const sp = await flowc(["savepoint", job.url, "--stop", "--dir", "nats:savepoints13/before-upgrade"]);
    expect(sp.stderr).toBe("the job is stopping");
    expect(sp.exitCode).toBe(0);
    const where = sp.stdout.trim();
    expect(where).toMatch(/^nats:savepoints13\/before-upgrade\/savepoint-nats_totals-\d{8}T\d{6}Z$/);
    expect((await job.child).exitCode).toBe(0);
    // flowc reads it where it is: inspect, and check the job against it.
    const seen = await flowc(["savepoint", "inspect", where, "--nats-url", server.url]);
    expect(seen.stderr).toBe("");
    expect(seen.exitCode).toBe(0);
    expect(seen.stdout).toMatch(/^savepoint of job `nats_totals`/);
    expect(seen.stdout).toMatch(/^ {2}orders {2}nats {2}after record 400/m);
    expect(seen.stdout).toMatch(/ 40 keys /);
    expect(seen.stdout).toContain(`flowc savepoint inspect ${where} --dump <uid>.<state>`);
    writeFileSync(join(dir, "job.flow"), TOTALS({ until: false, every: "10s" }));
    const checked = await flowc(["check", join(dir, "job.flow"), "--against-savepoint", where, "--nats-url", server.url]);
    expect(checked.stdout).toContain(`against savepoint ${where} (taken `);
    expect(checked.stdout).toContain("result: restores");
    expect(checked.exitCode).toBe(0);
    const missing = await flowc(["savepoint", "inspect", "nats:nosuchbucket/x", "--nats-url", server.url]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("cannot read savepoint nats:nosuchbucket/x: there is no object store bucket nosuchbucket on nats://127.0.0.1:");
    expect(missing.stderr).not.toMatch(STACK_LINE);
    await publish(server.url, orders(400, 100));
    // Started elsewhere, without its checkpoints: the savepoint holds the state and the position.
    const other = tempDir("flowc-nats-sp-b-");
    const b = execa(process.execPath, [bundle, "--nats-url", server.url, "--from-savepoint", where, "--log-level", "info"], { cwd: other, reject: false, stdin: "ignore" });
    children.push(b);
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      if (/restored savepoint/.test(b.stderr?.toString() ?? "") || i === 30) break;
    }
    await sleep(500);
    b.kill("SIGTERM");
    const rb = await b;
    expect(rb.exitCode).toBe(0);
    expect(rb.stderr).toContain(`restored savepoint ${where}: 1 operator(s), 40 key(s), 1 source position(s)`);
    expect(await readStream(server.url, "TOTALS")).toEqual(expectedTotals(orders(0, 500)));
  });

  it("a second copy of a job on the same checkpoint bucket is refused with FLOW5010 while the first runs", async () => {
    const dir = tempDir("flowc-nats-lock-");
    await makeStream(server.url, "ORDERS", ["orders.>"]);
    await makeStream(server.url, "TOTALS", ["totals.>"]);
    const bundle = await compileIn(dir, TOTALS({ until: false, storage: "nats:ckpt_lock" }));
    const first = await startWithAdmin(bundle, dir, { args: ["--nats-url", server.url], started: children });
    const other = tempDir("flowc-nats-lock-b-");
    const second = await runBundle(bundle, { cwd: other, args: ["--nats-url", server.url] });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/error\[FLOW5010\]: the checkpoint bucket nats:ckpt_lock \(on nats:\/\/127\.0\.0\.1:\d+\) is in use by another copy of job `nats_totals` \(pid \d+/);
    expect(second.stderr).not.toMatch(STACK_LINE);
    await fetch(`${first.url}/stop`, { method: "POST" });
    expect((await first.child).exitCode).toBe(0);
  });

  it("a NATS job's bundle copied alone into an empty folder runs with plain node, the client inside it", async () => {
    const build = tempDir("flowc-nats-copy-build-");
    await makeStream(server.url, "COPY_IN", ["copy.>"]);
    await publish(server.url, [["copy.a", '{"id":1}'], ["copy.b", '{"id":2}']]);
    const bundle = await compileIn(build, 'job copied\ntype M = { id: int }\nsource m: M = nats("copy.>", stream: "COPY_IN", until: "end")\nsink m -> stdout()\n');
    const dir = tempDir("flowc-nats-copy-");
    copyFileSync(bundle, join(dir, "copied.mjs"));
    const r = await runBundle(join(dir, "copied.mjs"), { cwd: dir, args: ["--nats-url", server.url] });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('{"id":1}\n{"id":2}');
    expect(r.exitCode).toBe(0);
  });

  it("flowc graph shows NATS sources and sinks with their subjects and streams", async () => {
    const dir = tempDir("flowc-nats-graph-");
    writeFiles(dir, { "job.flow": TOTALS() });
    const r = await flowc(["graph", join(dir, "job.flow")]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('n0[/"source orders: Order<br/>nats(#34;orders.#62;#34;, stream: #34;ORDERS#34;, until: #34;end#34;)"/]');
    expect(r.stdout).toContain('n3[\\"sink 0: nats(t =#62; …, stream: #34;TOTALS#34;)"\\]');
  });
});
