// Temporal (versioned) joins (LANGUAGE.md section 6): `join orders as o, customers as c on
// o.cust == c.id as of o` joins each o with the version of c current at o's time — in event
// time the c with the greatest time <= o's (o waits for c's watermark), without event time
// the latest c that arrived before o. Outputs are compared with reference models written
// from those rules, and with hand-worked examples.

import type { ResultPromise } from "execa";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compileAndRun, compileIn, diagnose, lines, startWithAdmin, tempDir } from "./helpers.js";

const children: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === undefined) c.kill("SIGKILL");
});

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

interface Version {
  id: number;
  v: number;
  ts: number;
}
interface Probe {
  o: number;
  cust: number;
  ts: number;
}

const jsonl = (xs: object[]) => xs.map((x) => JSON.stringify(x)).join("\n") + "\n";

describe("temporal joins in event time", () => {
  it("join each probe with the version of greatest time <= its own (ties: the later arrival), on random input in time order", async () => {
    const rnd = random(9);
    // Versions of 20 customers, and orders, each source in time order (many equal times).
    let t = 0;
    const versions: Version[] = Array.from({ length: 800 }, (_, i) => ({ id: Math.floor(rnd() * 20), v: i, ts: (t += Math.floor(rnd() * 3) * 500) }));
    t = 0;
    const probes: Probe[] = Array.from({ length: 900 }, (_, i) => ({ o: i, cust: Math.floor(rnd() * 25), ts: (t += Math.floor(rnd() * 3) * 450) }));
    // The model: per probe, of the versions of its key at or before its time, the latest
    // time; of equal times, the one later in the versions' file (it arrives later).
    const model = (outer: boolean): { o: number; v: number | null }[] =>
      probes.flatMap((p): { o: number; v: number | null }[] => {
        let best: Version | null = null;
        for (const v of versions) if (v.id === p.cust && v.ts <= p.ts && (best === null || v.ts >= best.ts)) best = v;
        return best ? [{ o: p.o, v: best.v }] : outer ? [{ o: p.o, v: null }] : [];
      });
    const r = await compileAndRun(`job tj
type C = { id: int, v: int, ts: timestamp }
type O = { o: int, cust: int, ts: timestamp }
source orders: O = file("o.jsonl") event_time(x => x.ts)
source customers: C = file("c.jsonl") event_time(x => x.ts)
let inner = join orders as o, customers as c on o.cust == c.id as of o select { o: o.o, v: c.v }
let outer = join customers? as c, orders as o on c.id == o.cust as of o select { o: o.o, v: c?.v }
sink inner -> file("out/inner.jsonl")
sink outer -> file("out/outer.jsonl")
`, { "o.jsonl": jsonl(probes), "c.jsonl": jsonl(versions) });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const read = (f: string) => lines(readFileSync(join(r.dir, "out", f), "utf8")).map((l) => ({ v: null, ...(JSON.parse(l) as { o: number; v?: number }) }));
    const byOrder = (a: { o: number }, b: { o: number }) => a.o - b.o;
    const inner = model(false);
    const outer = model(true);
    expect(inner.length).toBeGreaterThan(500);
    expect(outer.length).toBe(probes.length);
    expect(read("inner.jsonl").sort(byOrder)).toEqual(inner);
    expect(read("outer.jsonl").sort(byOrder)).toEqual(outer);
  });

  it("hand-worked: a probe waits for the versioned side's watermark; a version too old to be met is dropped and counted; each probe gives one result", async () => {
    // Watermarks 1 s behind. Merged by smallest next time (ties: customers, declared first):
    // v1@1000, v2@2000, o1@2500, v3@3000, o2@3000, v4@4700, v0@1500, o3@6000, end.
    // o1@2500 waits until c's watermark passes 2500: after v3 it is 2000, after v4 3700, and
    // o1 meets v2, the latest at or before 2500. o2@3000 is released in the same step: v3.
    // v0@1500 arrives when c's watermark is 3700 and v3 (3000) is the newest version at or
    // below it: v0 can meet no order still to come; dropped and counted. At the end (the
    // watermarks go to +infinity) o3@6000 meets v4.
    const r = await compileAndRun(`job tj
type C = { id: int, v: string, ts: timestamp }
type O = { o: string, cust: int, ts: timestamp }
source customers: C = values([{ id: 1, v: "v1", ts: 1000 }, { id: 1, v: "v2", ts: 2000 }, { id: 1, v: "v3", ts: 3000 }, { id: 1, v: "v4", ts: 4700 }, { id: 1, v: "v0", ts: 1500 }]) event_time(x => x.ts) watermark 1s
source orders: O = values([{ o: "o1", cust: 1, ts: 2500 }, { o: "o2", cust: 1, ts: 3000 }, { o: "o3", cust: 1, ts: 6000 }]) event_time(x => x.ts) watermark 1s
let named = join orders as o, customers as c on o.cust == c.id as of o select { o: o.o, v: c.v }
sink named -> stdout()
`);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"o":"o1","v":"v2"}', '{"o":"o2","v":"v3"}', '{"o":"o3","v":"v4"}']);
    expect(r.stderr).toBe("[tj] warn: `named`: 1 element came too late and was dropped");
  });

  it("the issue's case: 2 orders and 2 versions of one customer give 2 rows, not 4", async () => {
    const r = await compileAndRun(`job tj
type C = { id: int, name: string, ts: timestamp }
type O = { id: int, cust: int, ts: timestamp }
source customers: C = values([{ id: 7, name: "Ann", ts: 0 }, { id: 7, name: "Ann B.", ts: 5000 }]) event_time(c => c.ts)
source orders: O = values([{ id: 1, cust: 7, ts: 1000 }, { id: 2, cust: 7, ts: 6000 }]) event_time(o => o.ts)
let named = join orders as o, customers as c on o.cust == c.id as of o select { order: o.id, name: c.name }
sink named -> stdout()
`);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"order":1,"name":"Ann"}', '{"order":2,"name":"Ann B."}']);
  });
});

describe("temporal joins by arrival order", () => {
  it("join each probe with the latest version that arrived before it, sources merged one element from each in turn", async () => {
    const rnd = random(17);
    const versions: Version[] = Array.from({ length: 700 }, (_, i) => ({ id: Math.floor(rnd() * 15), v: i, ts: 0 }));
    const probes: Probe[] = Array.from({ length: 1000 }, (_, i) => ({ o: i, cust: Math.floor(rnd() * 18), ts: 0 }));
    // The model: the merge of LANGUAGE.md "Determinism" (declaration order: orders, then
    // customers; one element of each in turn while both last), a table of latest versions.
    const model = (outer: boolean) => {
      const out: { o: number; v: number | null }[] = [];
      const table = new Map<number, number>();
      for (let i = 0; i < Math.max(probes.length, versions.length); i++) {
        const p = probes[i];
        if (p) {
          const v = table.get(p.cust);
          if (v !== undefined) out.push({ o: p.o, v });
          else if (outer) out.push({ o: p.o, v: null });
        }
        const c = versions[i];
        if (c) table.set(c.id, c.v);
      }
      return out;
    };
    const r = await compileAndRun(`job tj
type C = { id: int, v: int }
type O = { o: int, cust: int }
source orders: O = file("o.jsonl")
source customers: C = file("c.jsonl")
let inner = join orders as o, customers as c on o.cust == c.id as of o select { o: o.o, v: c.v }
let outer = join orders as o, customers? as c on o.cust == c.id as of o select { o: o.o, v: c?.v }
sink inner -> file("out/inner.jsonl")
sink outer -> file("out/outer.jsonl")
`, { "o.jsonl": jsonl(probes.map(({ o, cust }) => ({ o, cust }))), "c.jsonl": jsonl(versions.map(({ id, v }) => ({ id, v }))) });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const read = (f: string) => lines(readFileSync(join(r.dir, "out", f), "utf8")).map((l) => ({ v: null, ...(JSON.parse(l) as object) }));
    // Exactly in this order: each result comes out when its probe arrives.
    expect(read("inner.jsonl")).toEqual(model(false));
    expect(read("outer.jsonl")).toEqual(model(true));
  });

  it("with event time on the probe side only, results carry the probe's time and can be windowed", async () => {
    // orders has event time, rates none: by arrival (one from each in turn: o1, r1, o2, r2, o3).
    // o1 finds no rate yet (dropped: inner join); o2 meets 2.0; o3 meets 3.0.
    const r = await compileAndRun(`job tj
type R = { cur: string, rate: float }
type O = { id: int, cur: string, amount: float, ts: timestamp }
source orders: O = values([{ id: 1, cur: "EUR", amount: 1.0, ts: 1000 }, { id: 2, cur: "EUR", amount: 1.0, ts: 2000 }, { id: 3, cur: "EUR", amount: 1.0, ts: 12000 }]) event_time(o => o.ts)
source rates: R = values([{ cur: "EUR", rate: 2.0 }, { cur: "EUR", rate: 3.0 }])
let valued = join orders as o, rates as r on o.cur == r.cur as of o select { id: o.id, value: o.amount * r.rate }
let per_10s = valued |> window(tumbling(10s)) |> aggregate(v => { start: window.start, total: sum(v.value) })
sink per_10s -> stdout()
`);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"start":0,"total":2}', '{"start":10000,"total":3}']);
  });
});

describe("temporal join errors", () => {
  const job = (joinText: string) => `job j
type O = { id: int, cust: int, ts: timestamp }
type C = { id: int, name: string, ts: timestamp }
source orders: O = values([]) event_time(o => o.ts)
source customers: C = values([]) event_time(c => c.ts)
let j = ${joinText}
sink j -> stdout()
`;
  it("as of names a side that is not optional (FLOW4016); the versioned side may be; no FLOW4013 for a temporal join", () => {
    expect(diagnose(job("join orders as o, customers as c on o.cust == c.id as of o select { name: c.name }"))).toBe("");
    expect(diagnose(job("join orders as o, customers? as c on o.cust == c.id as of o select { name: c?.name ?? \"?\" }"))).toBe("");
    expect(diagnose(job("join orders as o, customers as c on o.cust == c.id as of x select { name: c.name }"))).toMatch(/error\[FLOW4016\]: `as of` names the side whose elements look up a version: `o` or `c`, not `x`/);
    expect(diagnose(job("join orders? as o, customers as c on o.cust == c.id as of o select { name: c.name }"))).toMatch(/error\[FLOW4016\]: the probe side of a temporal join \(`as of o`\) cannot be optional[\s\S]*hint: to keep `o`s without a version, make the other side optional: `customers\? as c`/);
    // `of` is not reserved: a name like any other.
    expect(diagnose(job("join orders as of, customers as c on of.cust == c.id as of of select { name: c.name }"))).toBe("");
  });
});

describe("the state of temporal and outer joins is bounded", () => {
  it("1M versions over 1k keys: the joins' keys and held versions (/status) stay bounded while they run and after", async () => {
    // Versions: 1,000,000 of them, one per ms, key x % 1000. Probes: 2,000, one every 500 ms.
    // A temporal join keeps per key the newest version at or below the smaller of the two
    // watermarks, the probes' here (which moves every 500 ms), and the newer ones: at most
    // 1,000 keys and 1,000 + 500 versions.
    // A left outer interval join of the versions with the probes keeps a version until the
    // join's watermark passes its time + 50ms; that watermark is the smaller of its inputs',
    // and the probes' moves every 500 ms: some 550 at a time. A third source, a followed file
    // that idles, keeps the job running once the others ended, so /status can be read then.
    const dir = tempDir("flowc-bounded-tj-");
    writeFileSync(join(dir, "tick.jsonl"), "");
    const bundle = await compileIn(
      dir,
      `job bounded
type T = { ts: timestamp }
source versions: int = sequence(from: 1, to: 1000000) event_time(x => x)
source probes: int = sequence(from: 1, to: 2000) event_time(x => x * 500)
source tick: T = file("tick.jsonl", follow: true) event_time(t => t.ts) idle 100ms
let vs = versions |> map(x => { k: x % 1000, v: x, ts: x })
let ps = probes |> map(x => { k: x % 1000, ts: x * 500 })
let current = join ps as p, vs as v on p.k == v.k as of p select { k: p.k, v: v.v }
let unmatched = join vs as v, ps? as p on v.k == p.k within 50ms select { v: v.v, p: p?.ts }
sink current |> filter(c => c.k == 0) -> file("out/current.jsonl")
sink unmatched |> filter(u => u.p != null) -> file("out/matched.jsonl")
sink tick -> file("out/tick.jsonl")
`,
    );
    const job = await startWithAdmin(bundle, dir, { started: children });
    type Op = { uid: string; keys: number; entries?: number; recordsIn: number };
    type Status = { sources: { records: number }[]; operators: Op[] };
    const peak = { current: { keys: 0, entries: 0 }, unmatched: { keys: 0, entries: 0 } };
    let samples = 0;
    let st: Status;
    for (;;) {
      st = (await (await fetch(`${job.url}/status`)).json()) as Status;
      for (const uid of ["current", "unmatched"] as const) {
        const op = st.operators.find((o) => o.uid === uid)!;
        peak[uid].keys = Math.max(peak[uid].keys, op.keys);
        peak[uid].entries = Math.max(peak[uid].entries, op.entries ?? 0);
      }
      samples++;
      if (st.sources[0]!.records === 1_000_000 && st.sources[1]!.records === 2000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(samples).toBeGreaterThan(3);
    const current = st.operators.find((o) => o.uid === "current")!;
    const unmatched = st.operators.find((o) => o.uid === "unmatched")!;
    expect(unmatched.recordsIn).toBe(1_002_000);
    // After a million versions: one per key, all of them at or below the watermark.
    expect(current.keys).toBeLessThanOrEqual(1000);
    expect(current.entries).toBeLessThanOrEqual(1000);
    expect(unmatched.entries).toBe(0);
    // While it ran: never more than the keys plus what was in flight.
    expect(peak.current.keys).toBeLessThanOrEqual(1000);
    expect(peak.current.entries).toBeLessThanOrEqual(1600);
    expect(peak.unmatched.entries).toBeLessThanOrEqual(600);
    expect(peak.unmatched.keys).toBeLessThanOrEqual(600);
    // The same figures as metrics.
    const metrics = await (await fetch(`${job.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^flowc_state_entries\\{[^}]*operator="current"[^}]*\\} ${current.entries}$`, "m"));
    expect(metrics).toMatch(/^flowc_state_keys\{[^}]*operator="current"[^}]*\} \d+$/m);
    job.child.kill("SIGTERM");
    expect((await job.child).exitCode).toBe(0);
    // The probes found their versions: probe k=0 at 500000 ms is x = 1000 (k 0), value 500000.
    expect(lines(readFileSync(join(dir, "out", "current.jsonl"), "utf8"))).toContain('{"k":0,"v":500000}');
  });
});
