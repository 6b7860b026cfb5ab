// Savepoints and operating a running job, end to end with real processes: a job follows a
// growing file with the admin endpoint on; /status and /metrics are read while it runs; it
// is stopped with a savepoint (`flowc savepoint --stop`), the savepoint is inspected, a
// changed job is checked against it and restored (counts go on, new operators start
// empty), a renamed uid is refused (and accepted with --allow-non-restored-state), and a
// changed state type is refused naming both types.

import { execa } from "execa";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bidRows, compileIn, flowc, lines, STACK_LINE, startWithAdmin, tempDir, type RunningJob } from "./helpers.js";


/** Starts a bundle with the admin endpoint on a free port; resolves once it serves. */
function start(bundle: string, cwd: string, args: string[] = []): Promise<RunningJob> {
  return startWithAdmin(bundle, cwd, { args });
}

async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as unknown };
}

interface Status {
  state: string;
  sources: { name: string; records: number }[];
  operators: { uid: string; recordsIn: number; recordsOut: number; keys: number }[];
  sinks: { records: number }[];
}

/** Waits until the job has read `n` records from its first source. */
async function waitForRecords(url: string, n: number, token?: string): Promise<Status> {
  for (let i = 0; i < 300; i++) {
    const s = (await getJson(`${url}/status`, token)).body as Status;
    if (s.sources[0] && s.sources[0].records >= n) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the job did not read ${n} records`);
}

const clicks = (rows: [string, string][]) => rows.map(([user, page]) => JSON.stringify({ user, page })).join("\n") + "\n";

const V1 = `job clicks
checkpoint {
  every 200ms
  storage "./chk"
}
type Click = { user: string, page: string }
source clicks: Click = file("clicks.jsonl", follow: true)
let counts = clicks
  |> key_by(c => c.user)
  |> aggregate(c => { user: key, n: count() })
sink counts -> file("out/counts.jsonl")
`;

describe("savepoints", () => {
  it("stop with a savepoint, inspect it, check and restore a changed job; renamed and retyped state is refused", async () => {
    const dir = tempDir("flowc-savepoints-");
    writeFileSync(join(dir, "clicks.jsonl"), clicks([["ann", "/"], ["bo", "/a"], ["ann", "/b"]]));
    const v1 = await compileIn(dir, V1);

    // Run, follow the file as it grows, read /status and /metrics while it runs.
    const job = await start(v1, dir);
    let st = await waitForRecords(job.url, 3);
    expect(st.state).toBe("running");
    expect(st.operators).toEqual([{ uid: "counts", kind: "aggregate", recordsIn: 3, recordsOut: 3, keys: 2, watermark: null, lateDropped: 0 }]);
    appendFileSync(join(dir, "clicks.jsonl"), clicks([["ann", "/c"]]));
    st = await waitForRecords(job.url, 4);
    expect(st.operators[0]!.recordsIn).toBe(4);
    const metrics = await (await fetch(`${job.url}/metrics`)).text();
    expect(metrics).toMatch(/^flowc_operator_records_in_total\{operator="counts",job="clicks"\} 4$/m);
    expect(metrics).toMatch(/^flowc_state_keys\{operator="counts",job="clicks"\} 2$/m);
    expect(metrics).toMatch(/^flowc_source_records_total\{source="clicks",job="clicks"\} 4$/m);
    expect(metrics).toMatch(/^# TYPE flowc_checkpoints_total counter$/m);
    expect((await getJson(`${job.url}/nope`)).status).toBe(404);

    // Stop with a savepoint: the path is the last line of stdout, and the job exits 0.
    const sp = await flowc(["savepoint", job.url, "--stop", "--dir", "sps"], { cwd: dir });
    expect(sp.exitCode, sp.stderr).toBe(0);
    const path = lines(sp.stdout).at(-1)!;
    expect(path).toMatch(/sps\/savepoint-clicks-\d{8}T\d{6}Z$/);
    const ended = await job.child;
    expect(ended.exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/counts.jsonl"), "utf8")).toBe(['{"user":"ann","n":1}', '{"user":"bo","n":1}', '{"user":"ann","n":2}', '{"user":"ann","n":3}', ""].join("\n"));

    // Inspect: operators, states with types, keys, source positions; dump one state.
    const ins = await flowc(["savepoint", "inspect", path], { cwd: dir });
    expect(ins.exitCode).toBe(0);
    expect(ins.stdout).toMatch(/clicks +file "clicks\.jsonl" +after record 4, byte \d+, line 4/);
    expect(ins.stdout).toMatch(/counts\.n +int +2 keys/);
    const dump = await flowc(["savepoint", "inspect", path, "--dump", "counts.n"], { cwd: dir });
    expect(lines(dump.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([{ key: "ann", value: 3 }, { key: "bo", value: 1 }]);
    const asJson = JSON.parse((await flowc(["savepoint", "inspect", path, "--json"], { cwd: dir })).stdout) as { job: string; operators: { uid: string; states: unknown[] }[] };
    expect(asJson.job).toBe("clicks");
    expect(asJson.operators[0]!.states).toEqual([{ name: "n", type: { t: "int" } }]);

    // A changed job: a new aggregate function in `counts`, a new operator. Checked first.
    const v2text = V1.replace("{ user: key, n: count() })", "{ user: key, n: count(), last_page: last(c.page) })").replace(
      'sink counts -> file("out/counts.jsonl")',
      'let pages = clicks |> key_by(c => c.page) |> aggregate(c => { page: key, views: count() })\nsink counts -> file("out/counts.jsonl")\nsink pages -> file("out/pages.jsonl")',
    );
    writeFileSync(join(dir, "v2.flow"), v2text);
    const check = await flowc(["check", "v2.flow", "--against-savepoint", path], { cwd: dir });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/restore +counts\.n: int, 2 keys/);
    expect(check.stdout).toMatch(/new +counts\.last_page: string\?, starts with its initial value/);
    expect(check.stdout).toMatch(/new +pages: aggregate `pages` is new: it starts empty/);
    expect(check.stdout).toMatch(/restore +source clicks: goes on after record 4/);
    expect(check.stdout).toMatch(/^result: restores$/m);

    // Restore it: counts go on from where they stopped, the new operator starts empty.
    const v2dir = tempDir("flowc-savepoints-v2-");
    const v2 = await compileIn(v2dir, v2text);
    appendFileSync(join(dir, "clicks.jsonl"), clicks([["bo", "/a"], ["cy", "/"]]));
    const job2 = await start(v2, dir, ["--from-savepoint", path]);
    expect(job2.stderr()).toMatch(/restored savepoint .*: 1 operator\(s\), 2 key\(s\), 1 source position\(s\)/);
    await waitForRecords(job2.url, 2);
    job2.child.kill("SIGTERM");
    expect((await job2.child).exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/counts.jsonl"), "utf8")).toBe(
      ['{"user":"ann","n":1}', '{"user":"bo","n":1}', '{"user":"ann","n":2}', '{"user":"ann","n":3}', '{"user":"bo","n":2,"last_page":"/a"}', '{"user":"cy","n":1,"last_page":"/"}', ""].join("\n"),
    );
    expect(readFileSync(join(dir, "out/pages.jsonl"), "utf8")).toBe(['{"page":"/a","views":1}', '{"page":"/","views":1}', ""].join("\n"));

    // A renamed uid: refused by check and by the job, naming the state; accepted when allowed.
    const v3text = V1.replace("|> aggregate(c => { user: key, n: count() })", "|> aggregate(c => { user: key, n: count() }) as per_user");
    writeFileSync(join(dir, "v3.flow"), v3text);
    const check3 = await flowc(["check", "v3.flow", "--against-savepoint", path], { cwd: dir });
    expect(check3.exitCode).toBe(1);
    expect(check3.stdout).toMatch(/drop +counts\.n: operator `counts` is not in this job/);
    expect(check3.stdout).toMatch(/result: refused \(FLOW5007\)/);
    const v3dir = tempDir("flowc-savepoints-v3-");
    const v3 = await compileIn(v3dir, v3text);
    const refused = await execa(process.execPath, [v3, "--from-savepoint", path], { cwd: dir, reject: false, stdin: "ignore" });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/error\[FLOW5007\]: cannot restore savepoint .*: the savepoint has state this job would not restore: counts\.n/);
    expect(refused.stderr).toMatch(/--allow-non-restored-state/);
    expect(refused.stderr).not.toMatch(STACK_LINE);
    const allowed = await start(v3, dir, ["--from-savepoint", path, "--allow-non-restored-state"]);
    expect(allowed.stderr()).toMatch(/not restored from savepoint .* \(--allow-non-restored-state\): counts\.n/);
    await waitForRecords(allowed.url, 2);
    allowed.child.kill("SIGTERM");
    expect((await allowed.child).exitCode).toBe(0);
    // per_user started empty; the source went on after record 4.
    expect(lines(readFileSync(join(dir, "out/counts.jsonl"), "utf8")).slice(-2)).toEqual(['{"user":"bo","n":1}', '{"user":"cy","n":1}']);

    // A changed state type: refused with both types named.
    const v4text = V1.replace("{ user: key, n: count() }", "{ user: key, n: last(c.page) }");
    const v4 = await compileIn(tempDir("flowc-savepoints-v4-"), v4text);
    const retyped = await execa(process.execPath, [v4, "--from-savepoint", path], { cwd: dir, reject: false, stdin: "ignore" });
    expect(retyped.exitCode).toBe(1);
    expect(retyped.stderr).toMatch(/error\[FLOW5008\]: cannot restore savepoint .*: the savepoint's state does not fit this job: counts\.n$/m);
    expect(retyped.stderr).toMatch(/not restored: counts\.n: the savepoint keeps int, this job keeps string\?$/m);
    expect(retyped.stderr).not.toMatch(STACK_LINE);
  });

  it("the admin endpoint demands its token; a savepoint without --stop leaves the job running", async () => {
    const dir = tempDir("flowc-admin-");
    writeFileSync(join(dir, "clicks.jsonl"), clicks([["ann", "/"]]));
    const bundle = await compileIn(dir, V1.replace(/checkpoint \{[^}]*\}\n/, ""));
    const job = await start(bundle, dir, ["--admin-token", "s3cret"]);
    expect((await getJson(`${job.url}/status`)).status).toBe(401);
    expect((await getJson(`${job.url}/status`, "wrong")).status).toBe(401);
    await waitForRecords(job.url, 1, "s3cret");
    const denied = await flowc(["savepoint", job.url], { cwd: dir });
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toMatch(/the job did not take a savepoint: .*Authorization: Bearer/);
    const sp = await flowc(["savepoint", job.url, "--token", "s3cret"], { cwd: dir });
    expect(sp.exitCode, sp.stderr).toBe(0);
    expect(lines(sp.stdout).at(-1)).toMatch(/savepoints\/clicks\/savepoint-clicks-/);
    // Still running: more input is read.
    appendFileSync(join(dir, "clicks.jsonl"), clicks([["ann", "/x"]]));
    const st = await waitForRecords(job.url, 2, "s3cret");
    expect(st.state).toBe("running");
    const history = (await getJson(`${job.url}/checkpoints`, "s3cret")).body as { checkpoints: unknown[] };
    expect(history.checkpoints).toEqual([]);
    job.child.kill("SIGTERM");
    expect((await job.child).exitCode).toBe(0);
    // Without checkpoints, the file sink is written as the job goes.
    expect(readFileSync(join(dir, "out/counts.jsonl"), "utf8")).toBe('{"user":"ann","n":1}\n{"user":"ann","n":2}\n');
    const unreachable = await flowc(["savepoint", job.url], { cwd: dir });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the job's admin endpoint at http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  it("a windowed job with timers, ttl, joins and dedup restored from a savepoint gives the output of an uninterrupted run", async () => {
    const job = `job timed
checkpoint {
  every 100ms
  storage "./chk"
}
type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 2s
let unique = bids |> dedup(b => b.id, within: 10s)
let hot = unique
  |> key_by(b => b.auction)
  |> window(sliding(10s, every: 5s), allowed_lateness: 1s, late: late_bids)
  |> aggregate(b => { auction: key, end: window.end, n: count(), top: max(b.price), who: count_distinct(b.bidder) })
let quiet = unique
  |> key_by(b => b.bidder)
  |> process(b) as idle_bidders {
       state spent: float = 0.0 ttl 30s
       state seen: map<int, int> = {}
       spent += b.price
       seen[b.auction] += 1
       timer at b.ts + 20s
       on timer(t) {
         emit { bidder: key, at: t, spent: spent, auctions: len(seen) }
       }
     }
let pairs = join hot as h, quiet as q on h.n == q.auctions within 5s select { n: h.n, auction: h.auction, bidder: q.bidder }
let visits = join unique as x, quiet as q on x.bidder == q.bidder window session(gap: 25s) select { bidder: q.bidder, price: x.price }
sink hot -> file("out/hot.jsonl")
sink quiet -> file("out/quiet.jsonl")
sink late_bids |> map(b => b.ts) -> file("out/late.jsonl")
sink pairs |> filter(p => p.auction % 7 == 0) -> file("out/pairs.jsonl")
sink visits |> filter(v => v.bidder % 50 == 0) -> file("out/visits.jsonl")
`;
    const rows = bidRows(30_000, 11, { auctions: 300, bidders: 2000, dupEvery: 13 });
    const outputs = ["out/hot.jsonl", "out/quiet.jsonl", "out/late.jsonl", "out/pairs.jsonl", "out/visits.jsonl"];
    const bundle = await compileIn(tempDir("flowc-sp-timed-"), job);

    // Uninterrupted (the followed file never ends: stopped once everything was read).
    const ref = tempDir("flowc-sp-timed-ref-");
    writeFileSync(join(ref, "bids.jsonl"), rows.join("\n") + "\n");
    const r = await start(bundle, ref);
    await waitForRecords(r.url, rows.length);
    r.child.kill("SIGTERM");
    expect((await r.child).exitCode).toBe(0);
    const expected = outputs.map((f) => readFileSync(join(ref, f), "utf8"));
    for (const e of expected) expect(e.length).toBeGreaterThan(0);

    // Half the input, a savepoint and stop, the rest appended, restored from the savepoint.
    const work = tempDir("flowc-sp-timed-work-");
    const half = 13_337;
    writeFileSync(join(work, "bids.jsonl"), rows.slice(0, half).join("\n") + "\n");
    const a = await start(bundle, work);
    await waitForRecords(a.url, half);
    const sp = await flowc(["savepoint", a.url, "--stop"], { cwd: work });
    expect(sp.exitCode, sp.stderr).toBe(0);
    expect((await a.child).exitCode).toBe(0);
    const path = lines(sp.stdout).at(-1)!;
    const ins = await flowc(["savepoint", "inspect", path], { cwd: work });
    for (const part of ["hot.windows", "idle_bidders.spent", "idle_bidders.seen", "idle_bidders.timers", "pairs.join", "visits.join", "unique.dedup"]) expect(ins.stdout).toContain(`    ${part} `);
    appendFileSync(join(work, "bids.jsonl"), rows.slice(half).join("\n") + "\n");
    const b = await start(bundle, work, ["--from-savepoint", path]);
    await waitForRecords(b.url, rows.length - half);
    b.child.kill("SIGTERM");
    expect((await b.child).exitCode).toBe(0);
    outputs.forEach((f, i) => expect(readFileSync(join(work, f), "utf8"), f).toBe(expected[i]));
  });

  it("records each dead-letter file under its source's index, with checkpoints or without", async () => {
    const text = (checkpoints: boolean) => `job dl
${checkpoints ? 'checkpoint {\n  every 100ms\n  storage "./chk"\n}\n' : ""}type Click = { user: string, page: string }
source first: Click = file("first.jsonl", follow: true)
source second: Click = file("second.jsonl", follow: true, on_error: "dead_letter", dead_letter: "bad.jsonl")
sink first -> file("out/first.jsonl")
sink second -> file("out/second.jsonl")
`;
    for (const checkpoints of [false, true]) {
      const dir = tempDir("flowc-sp-dl-");
      writeFileSync(join(dir, "first.jsonl"), clicks([["ann", "/"]]));
      writeFileSync(join(dir, "second.jsonl"), clicks([["bo", "/a"]]) + "not json\n");
      const job = await start(await compileIn(dir, text(checkpoints)), dir);
      for (let i = 0; i < 300 && !readFileSync(join(dir, "bad.jsonl"), "utf8").includes("not json"); i++) await new Promise((r) => setTimeout(r, 50));
      const sp = await flowc(["savepoint", job.url, "--stop"], { cwd: dir });
      expect(sp.exitCode, sp.stderr).toBe(0);
      expect((await job.child).exitCode).toBe(0);
      const ins = await flowc(["savepoint", "inspect", lines(sp.stdout).at(-1)!], { cwd: dir });
      expect(ins.stdout).toMatch(/^ {2}dead letters of source 1 {2}"bad\.jsonl" {2}\d+ bytes$/m);
    }
  });
});
