// Count windows, outer joins and temporal joins through failures: SIGKILLs mid-stream give
// byte-identical output after recovery from checkpoints, and a savepoint taken mid-stream,
// restored into the same job, gives the output of an uninterrupted run; the savepoint's
// state names are the uids and parts the docs name.

import { execa } from "execa";
import { appendFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bidRows, compileIn, flowc, lines, runBundle, startWithAdmin, tempDir, writeFiles } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BODY = `type Bid = { id: int, auction: int, bidder: int, price: float, ts: timestamp }
let per7 = bids |> key_by(b => b.auction % 20) |> window(count(7)) |> aggregate(b => { k: key, n: count(), top: max(b.price), ids: collect(b.id) })
let last5 = bids |> key_by(b => b.bidder % 30) |> window(count(5, every: 3)) |> aggregate(b => { k: key, ids: collect(b.id) })
let left_outer = join bids as b, asks? as a on b.auction == a.auction within 1s select { b: b.id, a: a?.id }
let full_outer = join bids? as b, asks? as a on b.bidder == a.bidder window sliding(10s, every: 5s) select { b: b?.id, a: a?.id }
let current = join bids as b, asks as a on b.auction == a.auction as of b select { b: b.id, price: a.price }
sink per7 -> file("out/per7.jsonl")
sink last5 |> filter(w => w.k < 5) -> file("out/last5.jsonl")
sink left_outer |> filter(p => p.b % 5 == 0) -> file("out/left_outer.jsonl")
sink full_outer |> filter(p => (p.b ?? 1) % 7 == 0 or (p.a ?? 1) % 7 == 0) -> file("out/full_outer.jsonl")
sink current |> filter(c => c.b % 3 == 0) -> file("out/current.jsonl")
`;
const OUTPUTS = ["out/per7.jsonl", "out/last5.jsonl", "out/left_outer.jsonl", "out/full_outer.jsonl", "out/current.jsonl"];

describe("count windows, outer and temporal joins recover", () => {
  it("through SIGKILLs mid-stream with byte-identical output (checkpoints), by arrival order too", async () => {
    const job = `job recover
checkpoint {
  every 100ms
  storage "./chk"
  retain 2
  incremental true
}
source bids: Bid = file("bids.jsonl") event_time(b => b.ts) watermark 2s
source asks: Bid = file("asks.jsonl") event_time(b => b.ts) watermark 2s
source plain: Bid = file("plain.jsonl")
let by_arrival = join plain as p, asks? as a on p.auction == a.auction as of p select { p: p.id, a: a?.id }
sink by_arrival |> filter(x => x.p % 4 == 0) -> file("out/by_arrival.jsonl")
${BODY}`;
    const files = {
      "bids.jsonl": bidRows(40_000, 7, { auctions: 300, bidders: 2000 }).join("\n") + "\n",
      "asks.jsonl": bidRows(30_000, 8, { auctions: 300, bidders: 2000 }).join("\n") + "\n",
      "plain.jsonl": bidRows(30_000, 9, { auctions: 300, bidders: 2000 }).join("\n") + "\n",
    };
    const outputs = [...OUTPUTS, "out/by_arrival.jsonl"];
    const base = tempDir("flowc-recover-");
    const bundle = await compileIn(base, job);
    const clean = tempDir("flowc-recover-clean-");
    writeFiles(clean, files);
    const ref = await runBundle(bundle, { cwd: clean });
    expect(ref.exitCode, ref.stderr).toBe(0);
    const expected = outputs.map((f) => readFileSync(join(clean, f)));
    for (const [i, e] of expected.entries()) expect(e.length, outputs[i]).toBeGreaterThan(0);
    // Outer joins did release unmatched elements, and matched ones.
    expect(readFileSync(join(clean, "out/left_outer.jsonl"), "utf8")).toMatch(/"a":null/);
    expect(readFileSync(join(clean, "out/full_outer.jsonl"), "utf8")).toMatch(/"b":null/);

    const work = tempDir("flowc-recover-crash-");
    writeFiles(work, files);
    let kills = 0;
    for (let run = 0; run < 60 && kills < 8; run++) {
      const child = execa(process.execPath, [bundle], { cwd: work, reject: false, stdin: "ignore" });
      await sleep(150 + Math.random() * 400);
      child.kill("SIGKILL");
      const r = await child;
      if (r.signal === "SIGKILL") kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(8);
    const last = await runBundle(bundle, { cwd: work });
    expect(last.exitCode, last.stderr).toBe(0);
    outputs.forEach((f, i) => {
      const got = readFileSync(join(work, f));
      expect(got.equals(expected[i]!), `${f} differs from the failure-free run (${got.length} vs ${expected[i]!.length} bytes)`).toBe(true);
    });
  });

  it("from a savepoint taken mid-stream, with the output of an uninterrupted run and stable state names", async () => {
    const job = `job recover
checkpoint {
  every 200ms
  storage "./chk"
}
source bids: Bid = file("bids.jsonl", follow: true) event_time(b => b.ts) watermark 2s
source asks: Bid = file("asks.jsonl", follow: true) event_time(b => b.ts) watermark 2s
${BODY}`;
    const bids = bidRows(20_000, 21, { auctions: 200, bidders: 1500 });
    const asks = bidRows(15_000, 22, { auctions: 200, bidders: 1500 });
    const bundle = await compileIn(tempDir("flowc-recover-sp-"), job);
    type Status = { sources: { records: number }[] };
    const status = async (url: string): Promise<Status> => (await (await fetch(`${url}/status`)).json()) as Status;
    /** Waits until the job stops reading (both followed files read as far as the merge can go). */
    const settle = async (url: string, least: number): Promise<void> => {
      let last = -1;
      let same = 0;
      for (let i = 0; i < 600 && same < 6; i++) {
        const s = await status(url);
        const n = s.sources[0]!.records + s.sources[1]!.records;
        same = n === last && n >= least ? same + 1 : 0;
        last = n;
        await sleep(50);
      }
    };

    // Uninterrupted: everything there from the start; stopped once all is read.
    const ref = tempDir("flowc-recover-sp-ref-");
    writeFileSync(join(ref, "bids.jsonl"), bids.join("\n") + "\n");
    writeFileSync(join(ref, "asks.jsonl"), asks.join("\n") + "\n");
    const r = await startWithAdmin(bundle, ref);
    await settle(r.url, 25_000);
    r.child.kill("SIGTERM");
    expect((await r.child).exitCode).toBe(0);
    const expected = OUTPUTS.map((f) => readFileSync(join(ref, f), "utf8"));
    for (const e of expected) expect(e.length).toBeGreaterThan(0);

    // A part of each, a savepoint and stop, the rest appended, restored from the savepoint.
    const work = tempDir("flowc-recover-sp-work-");
    writeFileSync(join(work, "bids.jsonl"), bids.slice(0, 9_001).join("\n") + "\n");
    writeFileSync(join(work, "asks.jsonl"), asks.slice(0, 7_003).join("\n") + "\n");
    const a = await startWithAdmin(bundle, work);
    await settle(a.url, 10_000);
    const sp = await flowc(["savepoint", a.url, "--stop"], { cwd: work });
    expect(sp.exitCode, sp.stderr).toBe(0);
    expect((await a.child).exitCode).toBe(0);
    const path = lines(sp.stdout).at(-1)!;
    const ins = await flowc(["savepoint", "inspect", path], { cwd: work });
    expect(ins.exitCode, ins.stderr).toBe(0);
    // The state names: each operator's uid and its part, as docs/savepoints.md lists them.
    for (const part of ["per7.windows", "last5.windows", "left_outer.join", "full_outer.join", "current.join"]) expect(ins.stdout).toContain(`    ${part} `);
    expect(ins.stdout).toMatch(/per7 \(count_window count\(7\)\)/);
    expect(ins.stdout).toMatch(/left_outer \(join within 1s \(left outer\)\)/);
    expect(ins.stdout).toMatch(/current \(temporal_join as of b \(event time\)\)/);
    appendFileSync(join(work, "bids.jsonl"), bids.slice(9_001).join("\n") + "\n");
    appendFileSync(join(work, "asks.jsonl"), asks.slice(7_003).join("\n") + "\n");
    const b = await startWithAdmin(bundle, work, { args: ["--from-savepoint", path] });
    await settle(b.url, 1);
    b.child.kill("SIGTERM");
    expect((await b.child).exitCode).toBe(0);
    OUTPUTS.forEach((f, i) => expect(readFileSync(join(work, f), "utf8"), f).toBe(expected[i]));
    cpSync(path, join(work, "kept-savepoint"), { recursive: true });
  });
});
