// Event time (LANGUAGE.md section 6, "Time, precisely"): watermarks element by element,
// windows of every kind with lateness and late streams, timers, state ttl, joins and dedup,
// run end to end with node.

import { describe, expect, it } from "vitest";
import { compileAndRun, lines } from "./helpers.js";

async function run(body: string, files: Record<string, string> = {}, stderr = ""): Promise<string[]> {
  const r = await compileAndRun(`job t\n${body}\n`, files);
  expect(r.stderr).toBe(stderr);
  expect(r.exitCode).toBe(0);
  return lines(r.stdout);
}

const EVENTS = "type E = { k: string, v: int, ts: timestamp }";
const events = (rows: [string, number, number][]) => `values([${rows.map(([k, v, ts]) => `{ k: "${k}", v: ${v}, ts: ${ts} }`).join(", ")}])`;

describe("watermarks", () => {
  it("advance element by element: an element behind the watermark is late even inside one batch", async () => {
    // Per batch, the watermark would still be -infinity when 5000 arrives and it would count.
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 1, 12000], ["a", 1, 5000]])} event_time(x => x.ts) watermark 0s
let w = e |> key_by(x => x.k) |> window(tumbling(10s), late: too_late) |> aggregate(x => { k: key, n: count(), end: window.end })
sink w -> stdout()
sink too_late |> map(x => { late: x.ts }) -> stdout()`),
    ).toEqual(['{"k":"a","n":1,"end":10000}', '{"late":5000}', '{"k":"a","n":1,"end":20000}']);
  });

  it("allow out-of-order elements within the watermark delay", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 2, 7000], ["a", 3, 3000], ["a", 4, 16000], ["a", 5, 14000]])} event_time(x => x.ts) watermark 5s
let w = e |> key_by(x => x.k) |> window(tumbling(10s)) |> aggregate(x => { n: count(), vs: collect(x.v), end: window.end })
sink w -> stdout()`),
    ).toEqual(['{"n":3,"vs":[1,2,3],"end":10000}', '{"n":2,"vs":[4,5],"end":20000}']);
  });

  it("merge several event-time sources by smallest next time (ties: declaration order)", async () => {
    expect(
      await run(`${EVENTS}
source a: E = ${events([["a", 1, 1000], ["a", 2, 4000], ["a", 3, 4000]])} event_time(x => x.ts)
source b: E = ${events([["b", 1, 2000], ["b", 2, 3000], ["b", 3, 4000]])} event_time(x => x.ts)
let all = a |> union(b) |> map(x => x.k + to_string(x.v))
sink all -> stdout()`),
    ).toEqual(["a1", "b1", "b2", "a2", "a3", "b3"]);
  });
});

describe("windows", () => {
  it("re-emit an allowed-late window at once, free it after the lateness, and send what is later to the late stream", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 1, 12000], ["a", 1, 4000], ["a", 1, 16000], ["a", 1, 2000]])} event_time(x => x.ts) watermark 0s
let w = e |> key_by(x => x.k) |> window(tumbling(10s), allowed_lateness: 5s, late: lost) |> aggregate(x => { n: count(), end: window.end })
sink w -> stdout()
sink lost |> map(x => { lost: x.ts }) -> stdout()`),
    ).toEqual(['{"n":1,"end":10000}', '{"n":2,"end":10000}', '{"lost":2000}', '{"n":2,"end":20000}']);
  });

  it("the worked example of docs/language.md: a late element without a late stream is counted and reported", async () => {
    expect(
      await run(
        `type E = { id: string, ts: timestamp }
source e: E = values([{ id: "a", ts: 1000 }, { id: "b", ts: 8000 }, { id: "c", ts: 12000 }, { id: "d", ts: 7000 }, { id: "e", ts: 23000 }]) event_time(x => x.ts) watermark 2s
let w = e |> window(tumbling(10s)) |> aggregate(x => { start: window.start, ids: collect(x.id) })
sink w -> stdout()`,
        {},
        "[t] warn: `w`: 1 element came too late and was dropped",
      ),
    ).toEqual(['{"start":0,"ids":["a","b"]}', '{"start":10000,"ids":["c"]}', '{"start":20000,"ids":["e"]}']);
  });

  it("fire the windows one watermark step reaches by end, then by each key's first element", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["b", 1, 15000], ["b", 1, 1000], ["a", 1, 2000], ["a", 1, 11000], ["c", 1, 3000]])} event_time(x => x.ts) watermark 1h
let w = e |> key_by(x => x.k) |> window(tumbling(10s)) |> aggregate(x => { k: key, end: window.end })
sink w -> stdout()`),
    ).toEqual(['{"k":"b","end":10000}', '{"k":"a","end":10000}', '{"k":"c","end":10000}', '{"k":"b","end":20000}', '{"k":"a","end":20000}']);
  });

  it("slide: an element belongs to size/every windows, starting at multiples of every (negative too)", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 7000], ["a", 2, -2000]])} event_time(x => x.ts) watermark 1h
let w = e |> window(sliding(10s, every: 5s)) |> aggregate(x => { start: window.start, end: window.end, vs: collect(x.v) })
sink w -> stdout()`),
    ).toEqual([
      '{"start":-10000,"end":0,"vs":[2]}',
      '{"start":-5000,"end":5000,"vs":[2]}',
      '{"start":0,"end":10000,"vs":[1]}',
      '{"start":5000,"end":15000,"vs":[1]}',
    ]);
  });

  it("merge sessions an element connects, keeping arrival order inside", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 2, 4000], ["a", 3, 20000], ["a", 4, 12000], ["a", 5, 16000]])} event_time(x => x.ts) watermark 1h
let s = e |> key_by(x => x.k) |> window(session(gap: 5s)) |> aggregate(x => { start: window.start, end: window.end, vs: collect(x.v), first: first(x.v) })
sink s -> stdout()`),
    ).toEqual(['{"start":1000,"end":9000,"vs":[1,2],"first":1}', '{"start":12000,"end":25000,"vs":[3,4,5],"first":3}']);
  });

  it("merge sessions of order-free aggregates (count, min, max, sum, avg, count_distinct) without their elements, to the same results", async () => {
    const rows: [string, number, number][] = [["a", 1, 1000], ["a", 2, 4000], ["a", 3, 20000], ["a", 4, 12000], ["a", 5, 16000], ["a", 6, 14000]];
    const aggs = "n: count(), lo: min(x.v), hi: max(x.v), total: sum(x.v), mean: avg(x.v), kinds: count_distinct(x.v % 2)";
    const merged = await run(`${EVENTS}
source e: E = ${events(rows)} event_time(x => x.ts) watermark 1h
let s = e |> key_by(x => x.k) |> window(session(gap: 5s)) |> aggregate(x => { start: window.start, end: window.end, ${aggs} })
sink s -> stdout()`);
    expect(merged).toEqual([
      '{"start":1000,"end":9000,"n":2,"lo":1,"hi":2,"total":3,"mean":1.5,"kinds":2}',
      '{"start":12000,"end":25000,"n":4,"lo":3,"hi":6,"total":18,"mean":4.5,"kinds":2}',
    ]);
    // With `collect` beside them the sessions keep their elements and recompute: same numbers.
    const kept = await run(`${EVENTS}
source e: E = ${events(rows)} event_time(x => x.ts) watermark 1h
let s = e |> key_by(x => x.k) |> window(session(gap: 5s)) |> aggregate(x => { start: window.start, end: window.end, ${aggs}, vs: collect(x.v) })
sink s -> stdout()`);
    expect(kept.map((l) => l.replace(/,"vs":\[[^\]]*\]/, ""))).toEqual(merged);
  });

  it("an element that would merge into a session already freed is too late (its session's end + lateness was reached)", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["b", 2, 8000], ["a", 3, 5500], ["a", 4, 16000]])} event_time(x => x.ts) watermark 0s
let s = e |> key_by(x => x.k) |> window(session(gap: 5s), late: lt) |> aggregate(x => { k: key, start: window.start, vs: collect(x.v) })
sink s -> stdout()
sink lt |> map(x => { late: x.v }) -> stdout()`),
      // a@5500 connects to a's session [1000, 6000), freed at watermark 8000: late. a@16000
      // is far enough from it to start a session of its own.
    ).toEqual(['{"k":"a","start":1000,"vs":[1]}', '{"late":3}', '{"k":"b","start":8000,"vs":[2]}', '{"k":"a","start":16000,"vs":[4]}']);
  });

  it("slide with gaps (every longer than the size): an element between two windows is in none and is dropped", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 2, 3000], ["a", 3, 6000]])} event_time(x => x.ts) watermark 0s
let w = e |> window(sliding(2s, every: 5s), late: lt) |> aggregate(x => { start: window.start, vs: collect(x.v) })
sink w -> stdout()
sink lt |> map(x => { late: x.v }) -> stdout()`),
    ).toEqual(['{"start":0,"vs":[1]}', '{"start":5000,"vs":[3]}']);
  });

  it("fire an extended session again when the watermark reaches its new end", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 2, 8000], ["a", 3, 4000]])} event_time(x => x.ts) watermark 0s
let s = e |> key_by(x => x.k) |> window(session(gap: 5s), allowed_lateness: 10s) |> aggregate(x => { end: window.end, n: count() })
sink s -> stdout()`),
    ).toEqual(['{"end":6000,"n":1}', '{"end":13000,"n":3}']);
  });

  it("window a window's output again: its results carry end - 1 (the key goes on: key by a constant for one group)", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["b", 2, 5000], ["a", 3, 12000], ["b", 4, 25000], ["a", 5, 31000]])} event_time(x => x.ts) watermark 0s
let per_key = e |> key_by(x => x.k) |> window(tumbling(10s)) |> aggregate(x => { k: key, total: sum(x.v) })
let overall = per_key |> key_by(t => "all") |> window(tumbling(20s)) |> aggregate(t => { end: window.end, total: sum(t.total), keys: count() })
sink overall -> stdout()`),
    ).toEqual(['{"end":20000,"total":6,"keys":3}', '{"end":40000,"total":9,"keys":2}']);
  });
});

describe("timers and ttl", () => {
  it("fire in time order across keys, once per key and time, carrying the timer's time", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["b", 1, 2000], ["a", 1, 1500], ["b", 1, 30000]])} event_time(x => x.ts) watermark 0s
let t = e
  |> key_by(x => x.k)
  |> process(x) as reminders {
       state seen: int = 0
       seen += 1
       timer at 10000
       timer at x.ts + 5s
       on timer(when) {
         emit { k: key, at: when, seen: seen }
       }
     }
sink t -> stdout()`),
    ).toEqual([
      // b's second element goes through before the watermark it brings fires anything.
      '{"k":"a","at":6000,"seen":2}',
      '{"k":"a","at":6500,"seen":2}',
      '{"k":"b","at":7000,"seen":2}',
      '{"k":"a","at":10000,"seen":2}',
      '{"k":"b","at":10000,"seen":2}',
      '{"k":"b","at":35000,"seen":2}',
    ]);
  });

  it("expire state once the watermark reaches its last write + ttl (the event-time clock), and free the key", async () => {
    // b@16000 moves the watermark past a's last write (5000) + 10s: a@17000 starts again.
    // b@30000 moves it exactly to c's last write (20000) + 10s: reached, c@30500 starts again.
    // b itself was written at 16000; when b@30000 arrives the watermark is only 20000.
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 1, 5000], ["b", 1, 16000], ["a", 1, 17000], ["c", 1, 20000], ["b", 1, 30000], ["c", 1, 30500]])} event_time(x => x.ts) watermark 0s
let t = e
  |> key_by(x => x.k)
  |> process(x) as sessions {
       state n: int = 0 ttl 10s
       n += 1
       emit { k: key, n: n }
     }
sink t -> stdout()`),
    ).toEqual(['{"k":"a","n":1}', '{"k":"a","n":2}', '{"k":"b","n":1}', '{"k":"a","n":1}', '{"k":"c","n":1}', '{"k":"b","n":2}', '{"k":"c","n":1}']);
  });
});

describe("joins", () => {
  const ppl = "type P = { id: int, name: string, ts: timestamp }";
  const auc = "type Au = { id: int, seller: int, ts: timestamp }";

  it("interval join: pairs within d, the later time, late elements dropped", async () => {
    expect(
      await run(`${ppl}
${auc}
source persons: P = values([{ id: 1, name: "ann", ts: 1000 }, { id: 2, name: "bo", ts: 2000 }, { id: 1, name: "ann2", ts: 30000 }, { id: 2, name: "cy", ts: 5000 }]) event_time(p => p.ts) watermark 0s
source auctions: Au = values([{ id: 13, seller: 1, ts: 1500 }, { id: 10, seller: 1, ts: 5000 }, { id: 11, seller: 2, ts: 20000 }, { id: 12, seller: 1, ts: 31000 }]) event_time(a => a.ts) watermark 0s
let q = join persons as p, auctions as a on p.id == a.seller within 10s select { name: p.name, auction: a.id }
sink q -> stdout()`, {}, "[t] warn: `q`: 1 element came too late and was dropped"),
      // bo (2000) and auction 11 (20000) are 18 s apart; cy (5000) arrives after the join's
      // watermark passed 15000: late, dropped.
    ).toEqual(['{"name":"ann","auction":13}', '{"name":"ann","auction":10}', '{"name":"ann2","auction":12}']);
  });

  it("window join on a compound key: the pairs of each window when it fires", async () => {
    expect(
      await run(`type L = { a: int, b: string, v: int, ts: timestamp }
source l: L = values([{ a: 1, b: "x", v: 1, ts: 1000 }, { a: 1, b: "y", v: 2, ts: 2000 }, { a: 1, b: "x", v: 3, ts: 12000 }]) event_time(x => x.ts)
source r: L = values([{ a: 1, b: "x", v: 10, ts: 3000 }, { a: 1, b: "x", v: 20, ts: 4000 }, { a: 1, b: "x", v: 30, ts: 15000 }]) event_time(x => x.ts)
let j = join l as x, r as y on x.a == y.a and x.b == y.b window tumbling(10s) select { l: x.v, r: y.v }
sink j -> stdout()`),
    ).toEqual(['{"l":1,"r":10}', '{"l":1,"r":20}', '{"l":3,"r":30}']);
  });

  it("session window join: both sides' elements form the sessions; a session's pairs go out when it fires", async () => {
    // key 1: l1000, r2900 and the out-of-order r1200 form one session [1000, 4900); l5000
    // starts another. key 2: l1500, r4000, l9000 are each alone until r10000 joins l9000.
    expect(
      await run(`type L = { k: int, ts: timestamp }
source l: L = values([{ k: 1, ts: 1000 }, { k: 2, ts: 1500 }, { k: 1, ts: 5000 }, { k: 2, ts: 9000 }]) event_time(x => x.ts) watermark 0s
source r: L = values([{ k: 1, ts: 2900 }, { k: 2, ts: 4000 }, { k: 1, ts: 1200 }, { k: 2, ts: 10000 }]) event_time(x => x.ts) watermark 0s
let j = join l as x, r as y on x.k == y.k window session(gap: 2s) select { k: x.k, l: x.ts, r: y.ts }
sink j -> stdout()`),
    ).toEqual(['{"k":1,"l":1000,"r":2900}', '{"k":1,"l":1000,"r":1200}', '{"k":2,"l":9000,"r":10000}']);
  });

  it("window join results (at the later element's time) can be windowed again: the join holds back its watermark", async () => {
    expect(
      await run(`type L = { k: int, v: int, ts: timestamp }
source l: L = values([{ k: 1, v: 1, ts: 1000 }, { k: 9, v: 2, ts: 9000 }, { k: 9, v: 3, ts: 12000 }]) event_time(x => x.ts) watermark 0s
source r: L = values([{ k: 1, v: 10, ts: 3000 }, { k: 9, v: 20, ts: 9500 }, { k: 9, v: 30, ts: 13000 }]) event_time(x => x.ts) watermark 0s
let j = join l as x, r as y on x.k == y.k window tumbling(10s) select { p: x.v * 100 + y.v }
let w = j |> window(tumbling(2s), late: lj) |> aggregate(p => { start: window.start, ps: collect(p.p) })
sink w -> stdout()
sink lj |> map(p => { late: p.p }) -> stdout()`),
    ).toEqual(['{"start":2000,"ps":[110]}', '{"start":8000,"ps":[220]}', '{"start":12000,"ps":[330]}']);
  });

  it("unbounded join: every pair as soon as both are there", async () => {
    const r = await compileAndRun(`job t
type A = { k: int, v: string }
source l: A = values([{ k: 1, v: "a" }, { k: 2, v: "b" }])
source r: A = values([{ k: 1, v: "x" }, { k: 1, v: "y" }])
let j = join l as a, r as b on a.k == b.k select { a: a.v, b: b.v }
sink j -> stdout()
`);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"a":"a","b":"x"}', '{"a":"a","b":"y"}']);
  });
});

describe("dedup", () => {
  it("drops an element whose id was kept within d of its time", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 1000], ["a", 2, 4000], ["b", 3, 5000], ["a", 4, 9000], ["a", 5, 3000]])} event_time(x => x.ts) watermark 0s
let d = e |> dedup(x => x.k, within: 5s) |> map(x => x.v)
sink d -> stdout()`),
      // 5 (3000) is kept: a's entry for 1000 was freed when the watermark passed 6000.
    ).toEqual(["1", "3", "4", "5"]);
  });

  it("an element kept after the watermark passed its time + d has its entry freed at once", async () => {
    expect(
      await run(`${EVENTS}
source e: E = ${events([["a", 1, 20000], ["b", 2, 1000], ["b", 3, 3000]])} event_time(x => x.ts) watermark 0s
let d = e |> dedup(x => x.k, within: 5s) |> map(x => x.v)
sink d -> stdout()`),
    ).toEqual(["1", "2", "3"]);
  });
});

describe("state is bounded", () => {
  it("window, timer, ttl and dedup state stays flat over a long run (checkpoint sizes)", async () => {
    const r = await compileAndRun(`job bounded
checkpoint {
  every 100ms
  storage "./chk"
}
source n: int = sequence(from: 1, to: 600000) event_time(x => x * 10) watermark 1s
let w = n |> key_by(x => x % 50) |> window(sliding(2s, every: 1s)) |> aggregate(x => { k: key, c: count() })
let t = n
  |> key_by(x => x % 1000)
  |> process(x) as p {
       state c: int = 0 ttl 5s
       c += 1
       timer at x * 10 + 3000
       emit c
       on timer(when) { emit -1 }
     }
let d = n |> dedup(x => x % 100, within: 2s)
sink w |> filter(c => c.k == 0) -> file("out/w.jsonl")
sink t |> filter(c => c > 1) -> file("out/t.jsonl")
sink d |> filter(x => x % 100000 == 0) -> file("out/d.jsonl")
`);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const history = readFileSync(join(r.dir, "chk", "history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { keys: number; bytes: number });
    expect(history.length).toBeGreaterThan(8);
    const quarter = Math.max(1, Math.floor(history.length / 4));
    const early = Math.max(...history.slice(1, 1 + quarter).map((h) => h.bytes));
    const late = Math.max(...history.slice(-quarter).map((h) => h.bytes));
    // 6000 s of event time went by; what is held is a few windows, timers and entries per key.
    expect(Math.max(...history.map((h) => h.keys))).toBeLessThan(3000);
    expect(late).toBeLessThan(early * 1.5);
    // The ttl'd counts never grew past one: each key is idle 10 s between its elements.
    expect(readFileSync(join(r.dir, "out", "t.jsonl"), "utf8")).toBe("");
  });
});

describe("idle sources", () => {
  it("a live source idle for `idle d` stops holding back the watermark of the others", async () => {
    const { compileIn, tempDir, writeFiles } = await import("./helpers.js");
    const { execa } = await import("execa");
    const job = (idle: string) => `job idling
${EVENTS}
source live: E = stdin() event_time(x => x.ts) watermark 0s${idle}
source past: E = file("past.jsonl") event_time(x => x.ts) watermark 0s
let w = past |> union(live) |> key_by(x => x.k) |> window(tumbling(10s)) |> aggregate(x => { k: key, n: count(), end: window.end })
sink w -> stdout()
`;
    const dir = tempDir();
    writeFiles(dir, { "past.jsonl": ['{"k":"a","v":1,"ts":1000}', '{"k":"a","v":1,"ts":2000}', '{"k":"b","v":1,"ts":15000}'].join("\n") + "\n" });
    const firstLine = async (bundle: string, waitMs: number): Promise<string | null> => {
      const child = execa(process.execPath, [bundle], { cwd: dir, reject: false, stdin: "pipe" });
      const line = await new Promise<string | null>((resolve) => {
        const t = setTimeout(() => resolve(null), waitMs);
        child.stdout!.on("data", (d: Buffer) => {
          clearTimeout(t);
          resolve(d.toString().split("\n")[0]!);
        });
      });
      child.stdin!.end();
      await child;
      return line;
    };
    // Without `idle`, the silent stdin holds every window back until it ends.
    expect(await firstLine(await compileIn(dir, job("")), 1500)).toBeNull();
    // With `idle 200ms`, the file's windows fire while stdin is still open and silent.
    expect(await firstLine(await compileIn(dir, job(" idle 200ms")), 10_000)).toBe('{"k":"a","n":2,"end":10000}');
  });
});
