// Fault injection: a real bundle over a real input file is SIGKILLed at random moments (at
// least ten times) and restarted until it finishes; once the newest checkpoint is corrupted,
// once the job is stopped with SIGTERM. The committed output must be byte-for-byte the
// output of a run without failures: exactly-once through crashes. Each case runs with the
// memory backend and with the disk backend (`state { backend disk }`, a cache far smaller
// than the keys, so that state goes through the store), whose output must be byte-for-byte
// the memory backend's failure-free output.

import { execa } from "execa";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bidRows, compileIn, runBundle, tempDir, writeFiles } from "./helpers.js";

const JOB = `job faults
checkpoint {
  every 100ms
  mode exactly_once
  storage "./chk"
  retain 3
  incremental true
}
type Visit = { user: string, page: string, ms: int }
source visits: Visit = file("visits.jsonl", on_error: "dead_letter", dead_letter: "out/bad.jsonl")
let per_user = visits
  |> key_by(v => v.user)
  |> aggregate(v => { user: key, n: count(), total: sum(v.ms), pages: count_distinct(v.page), last: last(v.page) })
let per_page = visits
  |> key_by(v => v.page)
  |> process(v) as slow_pages {
       state n: int = 0
       state slow: int = 0
       n += 1
       if v.ms > 900 { slow += 1 }
       if n % 1000 == 0 { emit { page: key, n: n, slow: slow } }
     }
sink per_user |> filter(u => u.n % 10 == 0) -> file("out/users.jsonl")
sink per_page -> file("out/pages.jsonl")
`;

/** A deterministic input: 400k visits, a few of them broken lines. */
function input(): string {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const lines: string[] = [];
  for (let i = 0; i < 400_000; i++) {
    if (i % 50_000 === 7) lines.push(`{broken line ${i}`);
    else lines.push(JSON.stringify({ user: `u${Math.floor(rnd() * 20_000)}`, page: `/p${Math.floor(rnd() * 300)}`, ms: Math.floor(rnd() * 1000) }));
  }
  return lines.join("\n") + "\n";
}

const OUTPUTS = ["out/users.jsonl", "out/pages.jsonl", "out/bad.jsonl"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Flips bytes in a state file of the newest completed checkpoint; returns its id. */
/** Whether a completed checkpoint is in the job's folder. */
function hasCompleted(dir: string): boolean {
  const chk = join(dir, "chk");
  return existsSync(chk) && readdirSync(chk).some((n) => /^chk-\d+$/.test(n) && existsSync(join(chk, n, "_metadata")));
}

function corruptNewest(dir: string): number | null {
  const chk = join(dir, "chk");
  if (!existsSync(chk)) return null; // every run so far was killed before it got this far
  const ids = readdirSync(chk).filter((n) => /^chk-\d+$/.test(n) && existsSync(join(chk, n, "_metadata"))).sort().reverse();
  const newest = ids[0];
  if (!newest) return null;
  const state = readdirSync(join(chk, newest)).find((f) => /\.(full|delta)$/.test(f))!;
  const p = join(chk, newest, state);
  const bytes = readFileSync(p);
  for (let i = 20; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0xff;
  writeFileSync(p, bytes);
  return Number(newest.slice(4));
}

/** The disk backend's state block: a cache much smaller than the keys. */
const DISK = `state {
  backend disk
  dir "./state"
  cache 500
}
`;

/** The job with the backend's state block (none for memory) after its checkpoint block. */
function withBackend(job: string, backend: string): string {
  return backend === "disk" ? job.replace(/^(checkpoint \{[^}]*\}\n)/m, `$1${DISK}`) : job;
}

/** Compiles a job with the memory backend for the failure-free reference run, and with the backend under test. */
async function compileBoth(base: string, job: string, backend: string): Promise<{ reference: string; bundle: string }> {
  const reference = await compileIn(join(base, "memory"), job);
  if (backend === "memory") return { reference, bundle: reference };
  const text = withBackend(job, backend);
  expect(text).toContain("backend disk");
  return { reference, bundle: await compileIn(join(base, backend), text) };
}

describe.each(["memory", "disk"])("fault injection, %s backend", (backend) => {
  it("survives SIGKILLs, a corrupted checkpoint and a SIGTERM with byte-identical output", async () => {
    const base = tempDir("flowc-faults-");
    writeFiles(base, { "job.flow": JOB, "visits.jsonl": input() });
    const { reference, bundle } = await compileBoth(base, JOB, backend);

    const clean = tempDir("flowc-faults-clean-");
    cpSync(join(base, "visits.jsonl"), join(clean, "visits.jsonl"));
    const ref = await runBundle(reference, { cwd: clean });
    expect(ref.exitCode).toBe(0);
    const expected = OUTPUTS.map((f) => readFileSync(join(clean, f)));
    expect(expected[0]!.length).toBeGreaterThan(100_000);
    expect(readFileSync(join(clean, "out/bad.jsonl"), "utf8").split("\n").length).toBe(9);

    const work = tempDir("flowc-faults-crash-");
    cpSync(join(base, "visits.jsonl"), join(work, "visits.jsonl"));
    let kills = 0;
    let corrupted: number | null = null;
    let termed = false;
    const stderr: string[] = [];
    for (let run = 0; run < 60; run++) {
      const finishNow = kills >= 10 && corrupted !== null && termed;
      const graceful = kills === 6 && !termed;
      const child = execa(process.execPath, [bundle, ...(graceful ? ["--log-level", "info"] : [])], { cwd: work, reject: false, stdin: "ignore", env: { NO_COLOR: "1" } });
      if (finishNow) {
        const r = await child;
        stderr.push(r.stderr);
        expect(r.exitCode, r.stderr).toBe(0);
        break;
      }
      if (graceful) {
        // SIGTERM once the job is running (before its handlers exist, node's default applies).
        await new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => d.toString().includes("running:") && resolve()));
        await sleep(50 + Math.random() * 200);
        child.kill("SIGTERM");
        const r = await child;
        stderr.push(r.stderr);
        expect(r.exitCode, r.stderr).toBe(0);
        termed = true;
        continue;
      }
      await sleep(60 + Math.random() * 400);
      // The run whose newest checkpoint gets damaged is killed once it has one.
      if (kills >= 4 && corrupted === null) {
        for (let i = 0; i < 300 && child.exitCode === null && !hasCompleted(work); i++) await sleep(100);
      }
      child.kill("SIGKILL");
      const r = await child;
      stderr.push(r.stderr);
      if (r.signal === "SIGKILL") kills++;
      else expect(r.exitCode, r.stderr).toBe(0); // it finished before the kill: it starts over next time
      if (kills >= 4 && corrupted === null) corrupted = corruptNewest(work);
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(termed).toBe(true);
    expect(corrupted).not.toBeNull();
    const log = stderr.join("\n");
    expect(log).toMatch(new RegExp(`checkpoint ${corrupted} in .* is damaged \\(chk-0*${corrupted}/.* does not match its checksum\\); it is skipped for an older one`));
    OUTPUTS.forEach((f, i) => {
      const got = readFileSync(join(work, f));
      expect(got.equals(expected[i]!), `${f} differs from the failure-free run (${got.length} vs ${expected[i]!.length} bytes)`).toBe(true);
    });
    // The job finished: its checkpoints are gone, its history stays.
    expect(readdirSync(join(work, "chk")).filter((n) => n.startsWith("chk-"))).toEqual([]);
    const history = readFileSync(join(work, "chk", "history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { kind: string; status: string });
    expect(history.some((h) => h.kind === "incremental" && h.status === "completed")).toBe(true);
  });

  it("a windowed job (sliding, session and count windows) with timers, ttl, an interval join, a session join and a temporal join gives byte-identical output through SIGKILLs and a corrupted checkpoint", async () => {
    const job = `job timed
checkpoint {
  every 100ms
  storage "./chk"
  retain 2
  incremental true
}
type Bid = { auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl") event_time(b => b.ts) watermark 2s
let hot = bids
  |> key_by(b => b.auction)
  |> window(sliding(10s, every: 5s), allowed_lateness: 1s, late: late_bids)
  |> aggregate(b => { auction: key, end: window.end, n: count(), top: max(b.price) })
let quiet = bids
  |> key_by(b => b.bidder)
  |> process(b) as idle_bidders {
       state spent: float = 0.0 ttl 30s
       state bids: int = 0
       spent += b.price
       bids += 1
       timer at b.ts + 20s
       on timer(t) {
         emit { bidder: key, at: t, spent: spent, bids: bids }
       }
     }
let sessions = bids
  |> key_by(b => b.bidder % 500)
  |> window(session(gap: 3s))
  |> aggregate(b => { k: key, start: window.start, n: count(), auctions: collect(b.auction) })
let fives = bids
  |> key_by(b => b.auction)
  |> window(count(5, every: 2))
  |> aggregate(b => { a: key, top: max(b.price), first: first(b.bidder) })
let pairs = join hot as h, quiet as q on h.n == q.bids within 5s select { n: h.n, auction: h.auction, bidder: q.bidder }
let visits = join bids as x, quiet as q on x.bidder == q.bidder window session(gap: 25s) select { bidder: q.bidder, price: x.price, spent: q.spent }
let asof = join bids as x, quiet? as q on x.bidder == q.bidder as of x select { id: x.price, spent: q?.spent }
sink hot -> file("out/hot.jsonl")
sink quiet -> file("out/quiet.jsonl")
sink late_bids |> map(b => b.ts) -> file("out/late.jsonl")
sink pairs |> filter(p => p.auction % 7 == 0) -> file("out/pairs.jsonl")
sink visits |> filter(v => v.bidder % 50 == 0) -> file("out/visits.jsonl")
sink sessions |> filter(s => s.k % 7 == 0) -> file("out/sessions.jsonl")
sink fives |> filter(f => f.a % 11 == 0) -> file("out/fives.jsonl")
sink asof |> filter(a => a.id > 99.0) -> file("out/asof.jsonl")
`;
    const rows = bidRows(150_000, 7, { auctions: 400, bidders: 3000 });
    const base = tempDir("flowc-faults-timed-");
    writeFiles(base, { "job.flow": job, "bids.jsonl": rows.join("\n") + "\n" });
    const { reference, bundle } = await compileBoth(base, job, backend);
    const outputs = ["out/hot.jsonl", "out/quiet.jsonl", "out/late.jsonl", "out/pairs.jsonl", "out/visits.jsonl", "out/sessions.jsonl", "out/fives.jsonl", "out/asof.jsonl"];
    const clean = tempDir("flowc-faults-timed-clean-");
    cpSync(join(base, "bids.jsonl"), join(clean, "bids.jsonl"));
    const ref = await runBundle(reference, { cwd: clean });
    expect(ref.exitCode, ref.stderr).toBe(0);
    const expected = outputs.map((f) => readFileSync(join(clean, f)));
    for (const e of expected) expect(e.length).toBeGreaterThan(0);

    const work = tempDir("flowc-faults-timed-crash-");
    cpSync(join(base, "bids.jsonl"), join(work, "bids.jsonl"));
    let kills = 0;
    let corrupted: number | null = null;
    const stderr: string[] = [];
    for (let run = 0; run < 60 && (kills < 10 || corrupted === null); run++) {
      const child = execa(process.execPath, [bundle], { cwd: work, reject: false, stdin: "ignore", env: { NO_COLOR: "1" } });
      // Long enough for checkpoints to complete (the disk backend's first, a full one, takes seconds here), so that runs resume from them.
      await sleep(200 + Math.random() * (backend === "disk" ? 8000 : 1800));
      // The run whose newest checkpoint gets damaged is killed once it has one (a slow,
      // busy machine may not have completed one by the random time).
      if (kills >= 4 && corrupted === null) {
        for (let i = 0; i < 300 && child.exitCode === null && !hasCompleted(work); i++) await sleep(100);
      }
      child.kill("SIGKILL");
      const r = await child;
      stderr.push(r.stderr);
      if (r.signal === "SIGKILL") kills++;
      // Once, the newest checkpoint is damaged: the next run resumes from an older one.
      if (kills >= 4 && corrupted === null) corrupted = corruptNewest(work);
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(corrupted).not.toBeNull();
    const last = await runBundle(bundle, { cwd: work });
    expect(last.exitCode, last.stderr).toBe(0);
    stderr.push(last.stderr);
    expect(stderr.join("\n")).toMatch(new RegExp(`checkpoint ${corrupted} in .* is damaged \\(chk-0*${corrupted}/.* does not match its checksum\\); it is skipped for an older one`));
    outputs.forEach((f, i) => {
      const got = readFileSync(join(work, f));
      expect(got.equals(expected[i]!), `${f} differs from the failure-free run (${got.length} vs ${expected[i]!.length} bytes)`).toBe(true);
    });
    // About 90 s alone with the disk backend on a 2-core machine; more beside other tests.
  }, 300_000);
});
