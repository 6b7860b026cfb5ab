// Lean bundles (docs/architecture.md, "Lean bundles"): a bundle holds only the connectors and
// operators its job uses, and the admin endpoint with prom-client as a compressed chunk that
// is evaluated only with --admin-port; it stays one file that runs with plain node, without
// node_modules, wherever it is copied. (A job with the disk state backend is the exception:
// its store's native part is copied into node_modules/ beside the bundle.)

import type { ResultPromise } from "execa";
import { copyFileSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compileIn, flowc, ROOT, runBundle, startWithAdmin, tempDir } from "./helpers.js";

const children: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Classes of runtime parts that a job uses only if it has them. */
const PARTS = ["DiskKeyedState", "DiskStore", "JoinOperator", "TemporalJoinOperator", "SessionWindowOperator", "FixedWindowOperator", "CountWindowOperator", "DedupOperator", "TimerService", "NexmarkGenerator", "FileSource", "CsvDecoder", "TransactionalFileSink"];

/** The classes of PARTS a bundle defines (esbuild writes `var Name = class …`). */
const defined = (code: string): string[] => PARTS.filter((p) => code.includes(`var ${p} = class`));

describe("bundles", () => {
  it("running_sum compiles to at most 150 KB, without the joins, windows, timers, dedup, Nexmark, file connectors or prom-client it does not use, and with the dashboard and status line only in the compressed chunk", async () => {
    const dir = tempDir("flowc-lean-");
    const r = await flowc(["compile", join(ROOT, "dsl-examples", "running_sum.flow"), "-o", dir]);
    expect(r.exitCode).toBe(0);
    const bundle = join(dir, "running_sum.mjs");
    expect(statSync(bundle).size).toBeLessThanOrEqual(150_000);
    const code = readFileSync(bundle, "utf8");
    expect(defined(code)).toEqual([]);
    expect(code).not.toContain("prom-client");
    expect(code).not.toContain("@nats-io");
    // Nor the disk state backend: no lmdb, nothing copied beside it.
    expect(code).not.toContain("lmdb");
    expect(readdirSync(dir)).not.toContain("node_modules");
    expect(code).toContain("var ValuesSource = class");
    // The dashboard's page, its layout and the status line are in the chunk, not in plain text.
    expect(code).not.toContain("Take savepoint");
    expect(code).not.toContain("function layout(");
    expect(code).not.toContain("StatusLine = class");
    // So is the savepoint code (taken over the endpoint, or restored with --from-savepoint).
    expect(code).not.toContain("function planRestore(");
    expect(code).not.toContain("function captureOperator(");
    // The job graph the dashboard draws is carried as JSON text.
    expect(code).toMatch(/graph: '\{"job":"running_sum","eventTime":false,"nodes":\[\{"id":"n0","kind":"source"/);
  });

  it("a job without NATS carries none of the NATS client, refuses --checkpoint-dir nats:… saying how to get it, and holds it when compiled with --nats", async () => {
    const dir = tempDir("flowc-nats-lean-");
    const text = "job plain\nsource n: int = sequence(from: 1, to: 3)\nsink n -> stdout()\ncheckpoint { every 1s }\n";
    writeFileSync(join(dir, "plain.flow"), text);
    const lean = await compileIn(dir, text);
    const code = readFileSync(lean, "utf8");
    expect(code).not.toContain("@nats-io");
    expect(code).not.toContain("var CheckpointBucket = class");
    const refused = await runBundle(lean, { cwd: dir, args: ["--checkpoint-dir", "nats:chk"] });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("error: nats:chk is in a NATS object store, and this bundle has no NATS client (its job uses no nats connector or storage); compile it with `flowc compile --nats`");
    const out = tempDir("flowc-nats-with-");
    const r = await flowc(["compile", join(dir, "plain.flow"), "--nats", "-o", out]);
    expect(r.exitCode).toBe(0);
    const withNats = readFileSync(join(out, "plain.mjs"), "utf8");
    expect(withNats).toContain("@nats-io");
    expect(withNats).toContain("var CheckpointBucket = class");
  });

  it("a job with a NATS source and sink holds their connectors and the client", async () => {
    const dir = tempDir("flowc-nats-parts-");
    const bundle = await compileIn(dir, 'job n\ntype O = { id: int }\nsource o: O = nats("o.>", stream: "O")\nsink o -> nats(x => "p." + to_string(x.id), stream: "P")\n');
    const code = readFileSync(bundle, "utf8");
    expect(code).toContain("var NatsSource = class");
    expect(code).toContain("var NatsSink = class");
    expect(code).toContain("@nats-io/transport-node");
  });

  it("a job with joins (interval and temporal), windows (time and count), dedup, timers and csv files holds those parts", async () => {
    const dir = tempDir("flowc-parts-");
    writeFileSync(join(dir, "a.csv"), "k,ts\n1,1000\n");
    const bundle = await compileIn(
      dir,
      `job parts
checkpoint {
  every 1s
  storage "./chk"
}
type E = { k: int, ts: timestamp }
source a: E = file("a.csv") event_time(e => e.ts) watermark 1s
source bids: Bid = nexmark_bids(events: 10) event_time(b => b.dateTime) watermark 1s
let unique = a |> dedup(e => e.k, within: 5s)
let sessions = unique |> key_by(e => e.k) |> window(session(gap: 5s)) |> aggregate(e => { k: key, n: count() })
let fixed = bids |> key_by(b => b.auction) |> window(tumbling(10s)) |> aggregate(b => { auction: key, n: count() })
let timed = unique
  |> key_by(e => e.k)
  |> process(e) as later {
       timer at e.ts + 1s
       on timer(t) {
         emit { k: key, at: t }
       }
     }
let pairs = join unique as x, bids as b on x.k == b.auction within 5s select { k: x.k, price: b.price }
let latest = join unique as x, bids as b on x.k == b.auction as of x select { k: x.k, price: b.price }
let tens = bids |> window(count(10)) |> aggregate(b => { n: count() })
sink sessions -> file("s.jsonl")
sink latest -> stdout()
sink tens -> stdout()
sink fixed -> stdout()
sink timed -> stdout()
sink pairs -> stdout()
`,
    );
    const code = readFileSync(bundle, "utf8");
    expect(defined(code)).toEqual(PARTS.filter((p) => !p.startsWith("Disk")));
  });

  it("a job with an interval join only holds neither the temporal join nor count windows, nor time windows", async () => {
    const dir = tempDir("flowc-parts-join-");
    const bundle = await compileIn(dir, `job one_join
type E = { k: int, ts: timestamp }
source a: E = values([{ k: 1, ts: 0 }]) event_time(e => e.ts)
source b: E = values([{ k: 1, ts: 0 }]) event_time(e => e.ts)
let pairs = join a as x, b? as y on x.k == y.k within 5s select { k: x.k }
sink pairs -> stdout()
`);
    expect(defined(readFileSync(bundle, "utf8"))).toEqual(["JoinOperator"]);
  });

  it("serves the admin endpoint, /metrics included, from a bundle copied alone into an empty folder", async () => {
    const build = tempDir("flowc-copy-build-");
    const bundle = await compileIn(build, `job copied\ntype C = { user: string }\nsource c: C = file("clicks.jsonl", follow: true)\nlet n = c |> key_by(x => x.user) |> aggregate(x => { user: key, n: count() })\nsink n -> stdout()\n`);
    const dir = tempDir("flowc-copy-");
    expect(readdirSync(dir)).toEqual([]);
    copyFileSync(bundle, join(dir, "copied.mjs"));
    writeFileSync(join(dir, "clicks.jsonl"), '{"user":"a"}\n{"user":"b"}\n{"user":"a"}\n');
    const job = await startWithAdmin(join(dir, "copied.mjs"), dir, { started: children });
    const status = (await (await fetch(`${job.url}/status`)).json()) as { state: string; sources: { records: number }[] };
    expect(status.state).toBe("running");
    const page = await fetch(`${job.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Take savepoint");
    const metrics = await (await fetch(`${job.url}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total\{job="copied"\} [\d.e-]+$/m);
    expect(metrics).toMatch(/^flowc_operator_records_in_total\{operator="n",job="copied"\} \d+$/m);
    const stop = await fetch(`${job.url}/stop`, { method: "POST" });
    expect(stop.status).toBe(200);
    const done = await job.child;
    expect(done.exitCode).toBe(0);
    expect(done.stdout).toContain('{"user":"a","n":2}');
    expect(readdirSync(dir).sort()).toEqual(["clicks.jsonl", "copied.mjs"]);
  });

  it("a disk-backed job's bundle leaves lmdb out and loads it from the node_modules compile wrote beside it, also when both are copied elsewhere", async () => {
    const build = tempDir("flowc-disk-build-");
    const job = `job ondisk\nstate {\n  backend disk\n  cache 2\n}\ntype C = { user: string }\nsource c: C = file("clicks.jsonl")\nlet n = c |> key_by(x => x.user) |> aggregate(x => { user: key, n: count() })\nsink n -> stdout()\n`;
    const bundle = await compileIn(build, job);
    const code = readFileSync(bundle, "utf8");
    expect(defined(code)).toContain("DiskKeyedState");
    // lmdb itself is not bundled: it is imported at run time.
    expect(code).toMatch(/import\("lmdb"\)/);
    expect(readdirSync(join(build, "dist", "node_modules")).sort()).toEqual(expect.arrayContaining(["@lmdb", "lmdb", "msgpackr", "ordered-binary", "weak-lru-cache"]));
    expect(readdirSync(join(build, "dist", "node_modules", "@lmdb"))).toEqual([`lmdb-${process.platform}-${process.arch}`]);
    const dir = tempDir("flowc-disk-copy-");
    cpSync(join(build, "dist"), dir, { recursive: true });
    writeFileSync(join(dir, "clicks.jsonl"), '{"user":"a"}\n{"user":"b"}\n{"user":"c"}\n{"user":"a"}\n{"user":"b"}\n{"user":"a"}\n');
    const r = await runBundle(join(dir, "ondisk.mjs"), { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toBe('{"user":"a","n":3}');
    expect(r.stdout).toContain('{"user":"b","n":2}');
  });
});
