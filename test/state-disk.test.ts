// The disk state backend (LANGUAGE.md 7.1, docs/operations.md "State on disk"), end to end
// with real bundles and processes: savepoints stay canonical, so a savepoint taken with one
// backend restores into the other, mid-stream, with the output of an uninterrupted run; the
// state folder belongs to one job; the store holds what the checkpoint it resumed from holds.
// (SIGKILLs and corrupted checkpoints on disk-backed jobs: faults.test.ts.)

import { execa, type ResultPromise } from "execa";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bidRows, compileIn, flowc, lines, runBundle, STACK_LINE, startWithAdmin, tempDir } from "./helpers.js";

const children: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

async function waitForRecords(url: string, n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const s = (await (await fetch(`${url}/status`)).json()) as { sources: { records: number }[] };
    if (s.sources[0] && s.sources[0].records >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the job did not read ${n} records`);
}

const TIMED = `job timed
checkpoint {
  every 100ms
  storage "./chk"
}
STATE
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 2s
let totals = bids
  |> key_by(b => b.auction)
  |> aggregate(b => { auction: key, n: count(), top: max(b.price), who: count_distinct(b.bidder) })
let best = bids
  |> key_by(b => b.bidder)
  |> reduce((a, b) => if a.price >= b.price then a else b)
let quiet = bids
  |> key_by(b => b.bidder)
  |> process(b) as idle_bidders {
       state spent: float = 0.0 ttl 30s
       state seen: map<int, int> = {}
       state last: list<int> = []
       spent += b.price
       seen[b.auction] += 1
       last.push(b.auction)
       timer at b.ts + 20s
       on timer(t) {
         emit { bidder: key, at: t, spent: spent, auctions: len(seen), n: len(last) }
       }
     }
let hot = bids
  |> key_by(b => b.auction)
  |> window(tumbling(10s))
  |> aggregate(b => { auction: key, end: window.end, n: count() })
let unique = bids |> dedup(b => b.id, within: 10s)
sink totals |> filter(t => t.n % 10 == 0) -> file("out/totals.jsonl")
sink best |> filter(b => b.id % 17 == 0) -> file("out/best.jsonl")
sink quiet -> file("out/quiet.jsonl")
sink hot -> file("out/hot.jsonl")
sink unique |> map(b => b.id) -> file("out/unique.jsonl")
`;
const OUTPUTS = ["out/totals.jsonl", "out/best.jsonl", "out/quiet.jsonl", "out/hot.jsonl", "out/unique.jsonl"];
const DISK = 'state {\n  backend disk\n  dir "./state"\n  cache 300\n}';

/** A disk-backed keyed count of in.jsonl's integers over `keys` keys, checkpointed every 100 ms, the counts that pass `filter` to out/counts.jsonl. */
const countingJob = (name: string, keys: number, filter: string): string => `job ${name}
checkpoint {
  every 100ms
  storage "./chk"
}
${DISK}
source n: int = file("in.jsonl")
let counts = n |> key_by(x => x % ${keys}) |> aggregate(x => { k: key, n: count() })
sink counts |> filter(c => ${filter}) -> file("out/counts.jsonl")
`;

describe("the disk state backend", () => {
  it("a savepoint taken with the memory backend restores into the disk backend and back, mid-stream, with the output of an uninterrupted run; inspect reads both; a job with another key-group count is refused", async () => {
    const rows = bidRows(24_000, 5, { auctions: 500, bidders: 3000, dupEvery: 7 });
    const memory = await compileIn(tempDir("flowc-disk-sp-mem-"), TIMED.replace("STATE", ""));
    const disk = await compileIn(tempDir("flowc-disk-sp-disk-"), TIMED.replace("STATE", DISK));

    // Uninterrupted, with the memory backend (the followed file never ends: stopped once all was read).
    const ref = tempDir("flowc-disk-sp-ref-");
    writeFileSync(join(ref, "bids.jsonl"), rows.join("\n") + "\n");
    const r = await startWithAdmin(memory, ref, { started: children });
    await waitForRecords(r.url, rows.length);
    r.child.kill("SIGTERM");
    expect((await r.child).exitCode).toBe(0);
    const expected = OUTPUTS.map((f) => readFileSync(join(ref, f), "utf8"));
    for (const e of expected) expect(e.length).toBeGreaterThan(0);

    // A third with memory, a savepoint; a third with disk from it, a savepoint; the rest with memory from that.
    const work = tempDir("flowc-disk-sp-work-");
    const cuts = [7_919, 16_001, rows.length];
    writeFileSync(join(work, "bids.jsonl"), rows.slice(0, cuts[0]).join("\n") + "\n");
    let from: string | null = null;
    const inspected: string[] = [];
    for (const [i, bundle] of [memory, disk, memory].entries()) {
      if (i > 0) appendFileSync(join(work, "bids.jsonl"), rows.slice(cuts[i - 1], cuts[i]).join("\n") + "\n");
      const job = await startWithAdmin(bundle, work, { started: children, args: from ? ["--from-savepoint", from] : [] });
      await waitForRecords(job.url, cuts[i]! - (i > 0 ? cuts[i - 1]! : 0));
      if (i === 2) {
        job.child.kill("SIGTERM");
        expect((await job.child).exitCode).toBe(0);
        break;
      }
      const sp = await flowc(["savepoint", job.url, "--stop"], { cwd: work });
      expect(sp.exitCode, sp.stderr).toBe(0);
      expect((await job.child).exitCode).toBe(0);
      from = lines(sp.stdout).at(-1)!;
      if (i === 0) {
        // A job with another key-group count is refused, by `flowc check --against-savepoint` and at start (FLOW5023).
        writeFileSync(join(work, "regrouped.flow"), TIMED.replace("STATE", DISK.replace("cache 300", "cache 300\n  key_groups 64")));
        const check = await flowc(["check", "regrouped.flow", "--against-savepoint", from], { cwd: work });
        expect(check.exitCode).not.toBe(0);
        expect(check.stdout).toContain("refused (FLOW5023): the savepoint was taken with 128 key groups, and this job has 64");
        const regrouped = await compileIn(tempDir("flowc-disk-sp-regrouped-"), TIMED.replace("STATE", DISK.replace("cache 300", "cache 300\n  key_groups 64")));
        const refused = await runBundle(regrouped, { cwd: work, args: ["--from-savepoint", from] });
        expect(refused.exitCode).toBe(1);
        expect(refused.stderr).toContain("error[FLOW5023]");
        expect(refused.stderr).not.toMatch(STACK_LINE);
      }
      const ins = await flowc(["savepoint", "inspect", from], { cwd: work });
      expect(ins.exitCode, ins.stderr).toBe(0);
      inspected.push(ins.stdout);
    }
    // Both savepoints hold the same parts, whichever backend took them.
    const parts = (text: string): string[] => [...text.matchAll(/^ {4}(\S+\.\S+) /gm)].map((m) => m[1]!).sort();
    expect(parts(inspected[0]!)).toEqual(parts(inspected[1]!));
    for (const p of ["totals.who", "best.acc", "idle_bidders.spent", "idle_bidders.seen", "idle_bidders.last", "idle_bidders.timers", "unique.dedup"]) expect(parts(inspected[1]!)).toContain(p);
    OUTPUTS.forEach((f, i) => expect(readFileSync(join(work, f), "utf8"), f).toBe(expected[i]));
  });

  it("record keys, float keys, list and map state and dedup of record ids go through the store and back: the output through a stop and a resume, and the keys each operator holds at the end, are the memory backend's", async () => {
    const job = (state: string): string => `job shapes
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 2s
let pairs = bids
  |> key_by(b => { a: b.auction % 40, p: b.bidder % 7 })
  |> aggregate(b => { k: key, n: count(), top: max(b.price), who: count_distinct(b.bidder) })
let prices = bids
  |> key_by(b => b.price)
  |> aggregate(b => { price: key, n: count() })
let seen = bids
  |> key_by(b => "bidder-" + to_string(b.bidder))
  |> process(b) as history {
       state last: list<int> = []
       state per: map<int, float> = {}
       last.push(b.auction)
       per[b.auction] += b.price
       if len(last) % 5 == 0 { emit { who: key, n: len(last), auctions: len(per) } }
     }
let once = bids |> dedup(b => { a: b.auction, p: b.bidder % 10 }, within: 5s)
sink pairs |> filter(p => p.n % 3 == 0) -> file("out/pairs.jsonl")
sink prices |> filter(p => p.n > 1) -> file("out/prices.jsonl")
sink seen -> file("out/seen.jsonl")
sink once |> map(b => b.id) -> file("out/once.jsonl")
`;
    const rows = bidRows(6000, 9, { auctions: 600, bidders: 500 });
    const outputs = ["out/pairs.jsonl", "out/prices.jsonl", "out/seen.jsonl", "out/once.jsonl"];
    const run = async (bundle: string, cwd: string): Promise<Record<string, number>> => {
      // Half, a stop (final checkpoint), the rest, resumed from the checkpoint.
      writeFileSync(join(cwd, "bids.jsonl"), rows.slice(0, 2500).join("\n") + "\n");
      const a = await startWithAdmin(bundle, cwd, { started: children });
      await waitForRecords(a.url, 2500);
      a.child.kill("SIGTERM");
      expect((await a.child).exitCode).toBe(0);
      appendFileSync(join(cwd, "bids.jsonl"), rows.slice(2500).join("\n") + "\n");
      const b = await startWithAdmin(bundle, cwd, { started: children });
      expect(b.stderr()).toContain("resuming from checkpoint");
      await waitForRecords(b.url, rows.length - 2500);
      // The keys each operator holds at the end: dedup's ids are freed as the watermark passes them.
      const status = (await (await fetch(`${b.url}/status`)).json()) as { operators: { uid: string; keys: number }[] };
      b.child.kill("SIGTERM");
      expect((await b.child).exitCode).toBe(0);
      return Object.fromEntries(status.operators.map((o) => [o.uid, o.keys]));
    };
    const mem = tempDir("flowc-disk-shapes-mem-");
    const memKeys = await run(await compileIn(mem, job("")), mem);
    const disk = tempDir("flowc-disk-shapes-disk-");
    const diskKeys = await run(await compileIn(disk, job('state {\n  backend disk\n  dir "./state"\n  cache 8\n}')), disk);
    expect(diskKeys).toEqual(memKeys);
    expect(memKeys["once"]).toBeLessThan(1000);
    for (const f of outputs) {
      const want = readFileSync(join(mem, f), "utf8");
      expect(want.length).toBeGreaterThan(100);
      expect(readFileSync(join(disk, f), "utf8"), f).toBe(want);
    }
  });

  it("a second job on the same state folder is refused while the first runs (FLOW5010), naming the folder", async () => {
    const dir = tempDir("flowc-disk-lock-");
    writeFileSync(join(dir, "bids.jsonl"), bidRows(2000, 3, { auctions: 50, bidders: 100 }).join("\n") + "\n");
    const bundle = await compileIn(dir, TIMED.replace("STATE", DISK));
    const first = await startWithAdmin(bundle, dir, { started: children });
    await waitForRecords(first.url, 2000);
    const second = await runBundle(bundle, { cwd: dir, args: ["--checkpoint-dir", "./chk2"] });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain("error[FLOW5010]");
    expect(second.stderr).toContain("the state folder ./state");
    expect(second.stderr).not.toMatch(STACK_LINE);
    first.child.kill("SIGTERM");
    expect((await first.child).exitCode).toBe(0);
  });

  it("/status and /metrics show the store: keys, cache hits and misses, size on disk, bytes written; the history the bytes of each checkpoint", async () => {
    const dir = tempDir("flowc-disk-metrics-");
    const rows = bidRows(5000, 3, { auctions: 800, bidders: 1000 });
    writeFileSync(join(dir, "bids.jsonl"), rows.join("\n") + "\n");
    const distinct = (f: "auction" | "bidder"): number => new Set(rows.map((r) => (JSON.parse(r) as Record<string, number>)[f])).size;
    const bundle = await compileIn(dir, TIMED.replace("STATE", DISK));
    const job = await startWithAdmin(bundle, dir, { started: children });
    await waitForRecords(job.url, 5000);
    for (let i = 0; i < 100 && !existsSync(join(dir, "chk", "history.jsonl")); i++) await new Promise((r) => setTimeout(r, 50));
    const status = (await (await fetch(`${job.url}/status`)).json()) as { stateStore: { backend: string; dir: string; keys: number; cacheHits: number; cacheMisses: number; sizeOnDiskBytes: number; writtenBytes: number }; operators: { uid: string; keys: number }[] };
    const st = status.stateStore;
    expect(st.backend).toBe("disk");
    expect(st.dir).toBe("./state");
    // Keys of totals (one per auction) and best (one per bidder); idle_bidders' expire (ttl).
    const keys = (uid: string): number => status.operators.find((o) => o.uid === uid)!.keys;
    expect(keys("totals")).toBe(distinct("auction"));
    expect(keys("best")).toBe(distinct("bidder"));
    // The store's keys: those of the three, and of idle_bidders' timers (a table of their own).
    expect(st.keys).toBeGreaterThan(keys("totals") + keys("best") + keys("idle_bidders"));
    // Every element looks up three keyed states; with 300 keys cached of each, some hit, some miss.
    expect(st.cacheHits + st.cacheMisses).toBeGreaterThanOrEqual(3 * 5000);
    expect(st.cacheHits).toBeGreaterThan(0);
    expect(st.cacheMisses).toBeGreaterThan(st.keys);
    expect(st.sizeOnDiskBytes).toBeGreaterThan(0);
    expect(st.writtenBytes).toBeGreaterThan(0);
    const metrics = await (await fetch(`${job.url}/metrics`)).text();
    expect(metrics).toMatch(/^flowc_state_store_keys\{job="timed"\} \d+$/m);
    expect(metrics).toMatch(new RegExp(`^flowc_state_cache_hits_total\\{job="timed"\\} ${st.cacheHits}$`, "m"));
    expect(metrics).toMatch(/^flowc_state_cache_misses_total\{job="timed"\} \d+$/m);
    expect(metrics).toMatch(/^flowc_state_store_size_bytes\{job="timed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^flowc_state_store_written_bytes_total\{job="timed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^flowc_checkpoint_last_size_bytes\{job="timed"\} [1-9]\d*$/m);
    job.child.kill("SIGTERM");
    expect((await job.child).exitCode).toBe(0);
    const history = readFileSync(join(dir, "chk", "history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { bytes: number; keys: number });
    expect(history.every((h) => h.bytes > 0)).toBe(true);
  });

  it("checkpoints of a disk-backed job are deltas after a full snapshot whatever `incremental` says (a new full one only when the deltas outgrow it); retention keeps only the files the retained checkpoint needs", async () => {
    const dir = tempDir("flowc-disk-chain-");
    // Without `incremental true`: the memory backend would write full snapshots only.
    const job = `job chained
checkpoint {
  every 50ms
  storage "./chk"
  retain 1
}
${DISK}
source n: int = file("in.jsonl", follow: true)
let counts = n |> key_by(x => x % 50000) |> aggregate(x => { k: key, n: count() })
sink counts |> filter(c => c.n % 1000 == 0) -> file("out/counts.jsonl")
`;
    let text = "";
    for (let i = 1; i <= 100_000; i++) text += `${i}\n`;
    writeFileSync(join(dir, "in.jsonl"), text);
    const bundle = await compileIn(dir, job);
    const history = (): { kind: string; keys: number; status: string }[] => (existsSync(join(dir, "chk", "history.jsonl")) ? readFileSync(join(dir, "chk", "history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { kind: string; keys: number; status: string }) : []);
    const running = await startWithAdmin(bundle, dir, { started: children });
    await waitForRecords(running.url, 100_000);
    // A few more checkpoints, each with a few changed keys.
    for (let round = 0; round < 6; round++) {
      const seen = history().length;
      appendFileSync(join(dir, "in.jsonl"), `${round + 1}\n${round + 7}\n`);
      for (let i = 0; i < 200 && history().length < seen + 2; i++) await new Promise((r) => setTimeout(r, 25));
    }
    running.child.kill("SIGTERM");
    expect((await running.child).exitCode).toBe(0);
    const h = history();
    expect(h[0]!.kind).toBe("full");
    // While the input was read, the deltas may outgrow the full snapshot (then a new full one); once it is read, small deltas.
    expect(h.length).toBeGreaterThanOrEqual(12);
    expect(h.slice(-6).every((e) => e.kind === "incremental" && e.status === "completed" && e.keys <= 2)).toBe(true);
    // One checkpoint retained: its chain (the full snapshot and every delta since) and nothing else.
    const chk = readdirSync(join(dir, "chk")).filter((n) => /^chk-\d+$/.test(n));
    const newest = chk.sort().at(-1)!;
    const meta = JSON.parse(readFileSync(join(dir, "chk", newest, "_metadata"), "utf8")) as { operators: { files: string[] }[]; files: Record<string, unknown> };
    const chain = meta.operators[0]!.files;
    expect(chain[0]).toMatch(/\.full$/);
    expect(chain.length).toBeGreaterThan(3);
    const onDisk = chk.flatMap((c) => readdirSync(join(dir, "chk", c)).map((f) => `${c}/${f}`)).filter((f) => !f.endsWith("_metadata")).sort();
    expect(onDisk).toEqual([...chain].sort());
    expect(chk.filter((c) => existsSync(join(dir, "chk", c, "_metadata")))).toEqual([newest]);
  });

  it("a restart empties the store and fills it from the checkpoint it resumes from; a job that ends removes its working copy", async () => {
    const dir = tempDir("flowc-disk-live-");
    const job = countingJob("counting", 2000, "c.n % 50 == 0");
    let text = "";
    for (let i = 1; i <= 300_000; i++) text += `${i}\n`;
    writeFileSync(join(dir, "in.jsonl"), text);
    const bundle = await compileIn(dir, job);
    const ref = tempDir("flowc-disk-live-ref-");
    writeFileSync(join(ref, "in.jsonl"), text);
    expect((await runBundle(bundle, { cwd: ref })).exitCode).toBe(0);
    // The job that ended left no working copy (and no lock) behind.
    expect(readdirSync(join(ref, "state")).sort()).toEqual(["FORMAT"]);

    // Stopped with a checkpoint, then the store is damaged: it is a working copy, never read back.
    const first = await startWithAdmin(bundle, dir, { started: children });
    await waitForRecords(first.url, 50_000);
    first.child.kill("SIGTERM");
    expect((await first.child).exitCode).toBe(0);
    expect(existsSync(join(dir, "state", "live", "data.mdb"))).toBe(true);
    writeFileSync(join(dir, "state", "live", "data.mdb"), "not a store");
    const last = await runBundle(bundle, { cwd: dir, args: ["--log-level", "info"] });
    expect(last.exitCode, last.stderr).toBe(0);
    expect(last.stderr).toContain("resuming from checkpoint");
    expect(readFileSync(join(dir, "out/counts.jsonl"), "utf8")).toBe(readFileSync(join(ref, "out/counts.jsonl"), "utf8"));
  });

  it("a store that cannot be written (a limit on the size of files) stops the job with FLOW5004 naming the state folder, not an internal error; started again without the limit, it resumes and the output is an uninterrupted run's", async () => {
    const job = countingJob("filling", 150_000, "c.n == 2 and c.k % 100 == 0");
    const input = Array.from({ length: 300_000 }, (_, i) => `${i}`).join("\n") + "\n";
    const clean = tempDir("flowc-disk-full-clean-");
    const bundle = await compileIn(clean, job);
    writeFileSync(join(clean, "in.jsonl"), input);
    const ref = await runBundle(bundle, { cwd: clean });
    expect(ref.exitCode, ref.stderr).toBe(0);
    const expected = readFileSync(join(clean, "out/counts.jsonl"), "utf8");
    expect(lines(expected)).toHaveLength(1500);

    const work = tempDir("flowc-disk-full-");
    writeFileSync(join(work, "in.jsonl"), input);
    // 150,000 keys take about 6 MB of store; a checkpoint of them about 1 MB. Files may
    // grow to 3 MB: the store's writes fail (EFBIG), as on a full disk.
    const limited = await execa("bash", ["-c", `ulimit -f 3072 && exec "${process.execPath}" "${bundle}"`], { cwd: work, reject: false, stdin: "ignore", env: { NO_COLOR: "1" } });
    if (limited.signal === undefined || limited.signal === null) {
      expect(limited.exitCode, limited.stderr).toBe(1);
      expect(limited.stderr).toMatch(/error\[FLOW5004\]: cannot write the disk state backend's store in \.\/state: /);
      expect(limited.stderr).toMatch(/hint: make room on the file system that holds the state folder/);
      expect(limited.stderr).not.toMatch(/internal error|Commit failed|unhandled/i);
      // The only stack lines are lmdb-js's own report of the failed commit (its console.error).
      for (const l of limited.stderr.split("\n").filter((x) => STACK_LINE.test(x))) expect(l).toMatch(/node_modules[\\/]lmdb[\\/]/);
    } else {
      // lmdb-js 3.5.6 can end the process itself when a write fails inside one of its
      // transactions ("txn has failed/finished, can't commit", then SIGSEGV; docs/operations.md):
      // what matters then is what follows — nothing past the last checkpoint was committed.
      expect(limited.signal, limited.stderr).toBe("SIGSEGV");
    }
    const resumed = await runBundle(bundle, { cwd: work });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(readFileSync(join(work, "out/counts.jsonl"), "utf8")).toBe(expected);
  });
});

/**
 * A job run four ways over the same rows: uninterrupted with the memory backend; and a
 * quarter with memory, a savepoint; a quarter with disk from it, a stop (its final
 * checkpoint); a quarter with disk resumed from that checkpoint, a savepoint; the rest with
 * memory from it. Returns both runs' outputs, and /status of the resumed disk run once it
 * had read its quarter (whose operators hold as many keys, and entries, as the memory run's
 * at that point).
 */
async function throughBothBackends(name: string, job: (state: string) => string, rows: string[], outputs: string[]): Promise<{ expected: string[]; got: string[]; diskStatus: { stateStore: { keys: number; cacheMisses: number }; operators: { uid: string; kind: string; keys: number; entries?: number; lateDropped: number }[] } }> {
  const memory = await compileIn(tempDir(`flowc-${name}-mem-`), job(""));
  const disk = await compileIn(tempDir(`flowc-${name}-disk-`), job(DISK.replace("cache 300", "cache 16")));
  const ref = tempDir(`flowc-${name}-ref-`);
  const q = Math.floor(rows.length / 4);
  const cuts = [q + 13, 2 * q - 7, 3 * q + 5, rows.length];
  // The keys each operator holds once the first three quarters are read, then the rest.
  writeFileSync(join(ref, "bids.jsonl"), rows.slice(0, cuts[2]).join("\n") + "\n");
  const r = await startWithAdmin(memory, ref, { started: children });
  await waitForRecords(r.url, cuts[2]!);
  const memStatus = (await (await fetch(`${r.url}/status`)).json()) as { operators: { uid: string; keys: number; entries?: number }[] };
  appendFileSync(join(ref, "bids.jsonl"), rows.slice(cuts[2]).join("\n") + "\n");
  await waitForRecords(r.url, rows.length);
  r.child.kill("SIGTERM");
  expect((await r.child).exitCode).toBe(0);
  const expected = outputs.map((f) => readFileSync(join(ref, f), "utf8"));

  const work = tempDir(`flowc-${name}-work-`);
  writeFileSync(join(work, "bids.jsonl"), rows.slice(0, cuts[0]).join("\n") + "\n");
  let from: string | null = null;
  let diskStatus: Awaited<ReturnType<typeof throughBothBackends>>["diskStatus"] | null = null;
  for (const [i, bundle] of [memory, disk, disk, memory].entries()) {
    if (i > 0) appendFileSync(join(work, "bids.jsonl"), rows.slice(cuts[i - 1], cuts[i]).join("\n") + "\n");
    const args = from && i !== 2 ? ["--from-savepoint", from] : [];
    const run = await startWithAdmin(bundle, work, { started: children, args });
    if (i === 2) expect(run.stderr()).toContain("resuming from checkpoint");
    await waitForRecords(run.url, cuts[i]! - (i > 0 ? cuts[i - 1]! : 0));
    if (i === 1 || i === 3) {
      run.child.kill("SIGTERM");
      expect((await run.child).exitCode).toBe(0);
      continue;
    }
    if (i === 2) {
      diskStatus = (await (await fetch(`${run.url}/status`)).json()) as typeof diskStatus;
      // What each operator holds after a restore into the store is what the memory backend holds at that point (windows freed, ids expired).
      const held = (ops: { uid: string; keys: number; entries?: number }[]): Record<string, [number, number | null]> => Object.fromEntries(ops.map((o) => [o.uid, [o.keys, o.entries ?? null]]));
      expect(held(diskStatus!.operators)).toEqual(held(memStatus.operators));
    }
    const sp = await flowc(["savepoint", run.url, "--stop"], { cwd: work });
    expect(sp.exitCode, sp.stderr).toBe(0);
    expect((await run.child).exitCode).toBe(0);
    from = lines(sp.stdout).at(-1)!;
  }
  return { expected, got: outputs.map((f) => readFileSync(join(work, f), "utf8")), diskStatus: diskStatus! };
}

describe("tumbling and sliding windows on disk", () => {
  it("tumbling and sliding windows (record keys, collect, allowed lateness, a late stream) are kept in the store: memory -> disk -> stop and resume -> disk -> memory gives the output of an uninterrupted run", async () => {
    const job = (state: string): string => `job fixedwin
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 500ms
let slide = bids
  |> key_by(b => b.auction)
  |> window(sliding(10s, every: 5s), allowed_lateness: 1s, late: late_bids)
  |> aggregate(b => { auction: key, end: window.end, n: count(), top: max(b.price), who: collect(b.bidder) })
let tumble = bids
  |> key_by(b => { a: b.auction % 30, p: b.bidder % 3 })
  |> window(tumbling(4s))
  |> aggregate(b => { k: key, start: window.start, n: count(), sum: sum(b.price) })
// One window per key: a window kept for its allowed lateness is a key held.
let single = bids
  |> key_by(b => b.id)
  |> window(tumbling(4s), allowed_lateness: 3s)
  |> aggregate(b => { id: key, end: window.end, n: count() })
sink slide -> file("out/slide.jsonl")
sink single |> filter(s => s.id % 50 == 0) -> file("out/single.jsonl")
sink late_bids |> map(b => b.id) -> file("out/late.jsonl")
sink tumble -> file("out/tumble.jsonl")
`;
    const outputs = ["out/slide.jsonl", "out/late.jsonl", "out/tumble.jsonl", "out/single.jsonl"];
    const { expected, got, diskStatus } = await throughBothBackends("fixedwin", job, bidRows(12_000, 11, { auctions: 200, bidders: 400 }), outputs);
    // Late bids: those 9 s behind (one in 997 rows).
    for (const e of expected) expect(e.length).toBeGreaterThan(40);
    outputs.forEach((f, i) => expect(got[i], f).toBe(expected[i]));
    // The windows' keys are in the store (its keys are those of the window operators), and most of them not in the 16-key cache.
    const keys = diskStatus.operators.filter((o) => o.kind === "window").reduce((n, o) => n + o.keys, 0);
    expect(keys).toBeGreaterThan(32);
    expect(diskStatus.stateStore.keys).toBe(keys);
    expect(diskStatus.stateStore.cacheMisses).toBeGreaterThan(0);
  });
});

describe("session windows on disk", () => {
  it("session windows (merging accumulators and kept elements, record keys, allowed lateness, a late stream, remembered bounds) are kept in the store: memory -> disk -> stop and resume -> disk -> memory gives the output of an uninterrupted run", async () => {
    const job = (state: string): string => `job sesswin
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 500ms
// count and max merge their accumulators; collect and first keep the session's elements.
let merging = bids
  |> key_by(b => b.bidder)
  |> window(session(gap: 5s), allowed_lateness: 1s, late: late_bids)
  |> aggregate(b => { bidder: key, start: window.start, end: window.end, n: count(), top: max(b.price) })
let keeping = bids
  |> key_by(b => { b: b.bidder % 150, odd: b.auction % 2 == 1 })
  |> window(session(gap: 3s))
  |> aggregate(b => { k: key, start: window.start, end: window.end, first: first(b.id), ids: collect(b.auction) })
// One session per key: a session kept for its allowed lateness, or its bounds remembered, is a key held.
let single = bids
  |> key_by(b => b.id)
  |> window(session(gap: 2s), allowed_lateness: 2s)
  |> aggregate(b => { id: key, end: window.end, n: count() })
sink merging -> file("out/merging.jsonl")
sink late_bids |> map(b => b.id) -> file("out/late.jsonl")
sink keeping -> file("out/keeping.jsonl")
sink single |> filter(s => s.id % 50 == 0) -> file("out/single.jsonl")
`;
    const outputs = ["out/merging.jsonl", "out/late.jsonl", "out/keeping.jsonl", "out/single.jsonl"];
    const { expected, got, diskStatus } = await throughBothBackends("sesswin", job, bidRows(12_000, 13, { auctions: 200, bidders: 400 }), outputs);
    for (const e of expected) expect(e.length).toBeGreaterThan(40);
    outputs.forEach((f, i) => expect(got[i], f).toBe(expected[i]));
    const keys = diskStatus.operators.filter((o) => o.kind === "window").reduce((n, o) => n + o.keys, 0);
    expect(keys).toBeGreaterThan(32);
    expect(diskStatus.stateStore.keys).toBe(keys);
    expect(diskStatus.stateStore.cacheMisses).toBeGreaterThan(0);
  });
});

describe("count windows on disk", () => {
  it("tumbling and sliding count windows (record keys, collect, a ring of elements) are kept in the store: memory -> disk -> stop and resume -> disk -> memory gives the output of an uninterrupted run, holding the memory backend's keys and elements", async () => {
    const job = (state: string): string => `job countwin
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true)
let fives = bids
  |> key_by(b => b.auction)
  |> window(count(5))
  |> aggregate(b => { auction: key, n: count(), top: max(b.price), first: first(b.id) })
let recent = bids
  |> key_by(b => { b: b.bidder % 90, odd: b.id % 2 == 1 })
  |> window(count(4, every: 3))
  |> aggregate(b => { k: key, ids: collect(b.id), sum: sum(b.price) })
sink fives -> file("out/fives.jsonl")
sink recent -> file("out/recent.jsonl")
`;
    const outputs = ["out/fives.jsonl", "out/recent.jsonl"];
    const { expected, got, diskStatus } = await throughBothBackends("countwin", job, bidRows(12_000, 17, { auctions: 300, bidders: 400 }), outputs);
    for (const e of expected) expect(e.length).toBeGreaterThan(1000);
    outputs.forEach((f, i) => expect(got[i], f).toBe(expected[i]));
    const ops = diskStatus.operators.filter((o) => o.kind === "count_window");
    expect(ops.length).toBe(2);
    const keys = ops.reduce((n, o) => n + o.keys, 0);
    expect(keys).toBeGreaterThan(32);
    expect(diskStatus.stateStore.keys).toBe(keys);
    expect(diskStatus.stateStore.cacheMisses).toBeGreaterThan(0);
  });
});

describe("joins on disk", () => {
  it("interval joins (inner, left and full outer) and an unbounded join are kept in the store: memory -> disk -> stop and resume -> disk -> memory gives the output of an uninterrupted run, holding the memory backend's keys and elements", async () => {
    const job = (state: string): string => `job joins
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 500ms
let lows = bids |> filter(b => b.price < 40.0)
let highs = bids |> filter(b => b.price >= 60.0)
let near = join lows as l, highs as h on l.auction == h.auction within 2s select { l: l.id, h: h.id }
let left = join lows as l, highs? as h on l.auction == h.auction within 1s select { l: l.id, h: h?.id }
let both = join lows? as l, highs? as h on l.bidder == h.bidder within 1s select { l: l?.id, h: h?.id }
let ever = join lows as l, highs as h on l.bidder == h.bidder select { l: l.id, h: h.id }
sink near -> file("out/near.jsonl")
sink left -> file("out/left.jsonl")
sink both -> file("out/both.jsonl")
sink ever |> filter(p => p.l % 13 == 0) -> file("out/ever.jsonl")
`;
    const outputs = ["out/near.jsonl", "out/left.jsonl", "out/both.jsonl", "out/ever.jsonl"];
    const { expected, got, diskStatus } = await throughBothBackends("joins", job, bidRows(12_000, 19, { auctions: 300, bidders: 400 }), outputs);
    for (const e of expected) expect(e.length).toBeGreaterThan(1000);
    // The outer joins' unmatched elements come out (with null for the other side).
    expect(expected[1]).toContain('"h":null');
    expect(expected[2]).toContain('"l":null');
    outputs.forEach((f, i) => expect(got[i], f).toBe(expected[i]));
    const ops = diskStatus.operators.filter((o) => o.kind === "join");
    expect(ops.length).toBe(4);
    const keys = ops.reduce((n, o) => n + o.keys, 0);
    expect(keys).toBeGreaterThan(32);
    expect(diskStatus.stateStore.keys).toBe(keys);
    expect(diskStatus.stateStore.cacheMisses).toBeGreaterThan(0);
  });
});

describe("temporal joins on disk", () => {
  it("temporal joins in event time (inner and with an optional versioned side) and by arrival are kept in the store: memory -> disk -> stop and resume -> disk -> memory gives the output of an uninterrupted run, holding the memory backend's keys and elements", async () => {
    const job = (state: string): string => `job versions
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 500ms
let lows = bids |> filter(b => b.price < 40.0)
let highs = bids |> filter(b => b.price >= 60.0)
let current = join lows as l, highs as h on l.auction == h.auction as of l select { l: l.id, h: h.id }
let maybe = join lows as l, highs? as h on l.bidder == h.bidder as of l select { l: l.id, h: h?.id }
// The same bids again, without event time: joined with the latest version by arrival.
source quotes: Bid = file("bids.jsonl", follow: true)
let latest = join lows as l, quotes as q on l.bidder == q.bidder as of l select { l: l.id, q: q.id, p: q.price }
sink current -> file("out/current.jsonl")
sink maybe -> file("out/maybe.jsonl")
sink latest |> filter(p => p.l % 3 == 0) -> file("out/latest.jsonl")
`;
    const outputs = ["out/current.jsonl", "out/maybe.jsonl", "out/latest.jsonl"];
    const { expected, got, diskStatus } = await throughBothBackends("versions", job, bidRows(12_000, 23, { auctions: 300, bidders: 400 }), outputs);
    for (const e of expected) expect(e.length).toBeGreaterThan(1000);
    expect(expected[1]).toContain('"h":null');
    outputs.forEach((f, i) => expect(got[i], f).toBe(expected[i]));
    const ops = diskStatus.operators.filter((o) => o.kind === "temporal_join");
    expect(ops.length).toBe(3);
    const keys = ops.reduce((n, o) => n + o.keys, 0);
    expect(keys).toBeGreaterThan(32);
    expect(diskStatus.stateStore.keys).toBe(keys);
    expect(diskStatus.stateStore.cacheMisses).toBeGreaterThan(0);
  });
});

describe("window joins on disk", () => {
  it("tumbling, sliding and session window joins (inner, left and full outer) are kept in the store: memory -> disk -> stop and resume -> disk -> memory gives the output of an uninterrupted run, holding the memory backend's windows and elements", async () => {
    const job = (state: string): string => `job winjoins
checkpoint {
  every 50ms
  storage "./chk"
}
${state}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 500ms
let lows = bids |> filter(b => b.price < 40.0)
let highs = bids |> filter(b => b.price >= 60.0)
let tumble = join lows as l, highs as h on l.auction == h.auction window tumbling(2s) select { l: l.id, h: h.id }
let slide = join lows as l, highs? as h on l.auction == h.auction window sliding(3s, every: 1s) select { l: l.id, h: h?.id }
let both = join lows? as l, highs? as h on l.bidder == h.bidder window sliding(2s, every: 1s) select { l: l?.id, h: h?.id }
let visits = join lows as l, highs as h on l.bidder == h.bidder window session(gap: 3s) select { l: l.id, h: h.id }
let alone = join lows? as l, highs? as h on l.auction == h.auction window session(gap: 1s) select { l: l?.id, h: h?.id }
// Windows downstream: a window join's watermark is held back (by its window size; a session join's to its earliest open session).
let counted = slide
  |> key_by(p => p.l % 10)
  |> window(tumbling(5s))
  |> aggregate(p => { k: key, n: count() })
let met = visits
  |> key_by(p => p.l % 10)
  |> window(tumbling(5s))
  |> aggregate(p => { k: key, n: count() })
sink tumble -> file("out/tumble.jsonl")
sink slide -> file("out/slide.jsonl")
sink both -> file("out/both.jsonl")
sink counted -> file("out/counted.jsonl")
sink visits |> filter(v => v.l % 5 == 0) -> file("out/visits.jsonl")
sink alone -> file("out/alone.jsonl")
sink met -> file("out/met.jsonl")
`;
    const outputs = ["out/tumble.jsonl", "out/slide.jsonl", "out/both.jsonl", "out/counted.jsonl", "out/visits.jsonl", "out/alone.jsonl", "out/met.jsonl"];
    const { expected, got, diskStatus } = await throughBothBackends("winjoins", job, bidRows(12_000, 29, { auctions: 300, bidders: 400 }), outputs);
    for (const e of expected) expect(e.length).toBeGreaterThan(200);
    expect(expected[1]).toContain('"h":null');
    expect(expected[2]).toContain('"l":null');
    outputs.forEach((f, i) => expect(got[i], f).toBe(expected[i]));
    const ops = diskStatus.operators.filter((o) => o.kind === "join" || o.kind === "window");
    expect(ops.length).toBe(7);
    // The store holds the joins' keys besides the windows'.
    const windows = ops.filter((o) => o.kind === "window").reduce((n, o) => n + o.keys, 0);
    expect(diskStatus.stateStore.keys).toBeGreaterThan(windows + 32);
    expect(diskStatus.stateStore.cacheMisses).toBeGreaterThan(0);
  });
});
