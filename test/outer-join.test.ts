// Outer joins (LANGUAGE.md section 6, "Outer joins"): `b? as y` makes a side optional; an
// element that found no partner comes out once, with null for the other side, when it can
// no longer match. Outputs are compared with a reference model written from the reference's
// rules alone (on input in time order, where nothing is late), and the order of release and
// the time of unmatched results with hand-worked examples.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileAndRun, diagnose, lines } from "./helpers.js";

interface El {
  k: number;
  id: number;
  ts: number;
}

/** Elements in time order: `count` of them, over `keys` keys, 0–`gap` ms apart; ids from `first`. */
function inOrder(count: number, seed: number, keys: number, gap: number, first: number): El[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  let ts = 0;
  return Array.from({ length: count }, (_, i) => {
    ts += Math.floor(rnd() * gap);
    return { k: Math.floor(rnd() * keys), id: first + i, ts };
  });
}

type Row = { l: number | null; r: number | null };
const sorted = (rows: Row[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

/** Interval join within d: pairs of one key at most d apart; the unmatched of the sides kept. */
function intervalModel(left: El[], right: El[], d: number, keep: [boolean, boolean]): Row[] {
  const out: Row[] = [];
  for (const l of left) for (const r of right) if (l.k === r.k && Math.abs(l.ts - r.ts) <= d) out.push({ l: l.id, r: r.id });
  if (keep[0]) for (const l of left) if (!right.some((r) => r.k === l.k && Math.abs(l.ts - r.ts) <= d)) out.push({ l: l.id, r: null });
  if (keep[1]) for (const r of right) if (!left.some((l) => l.k === r.k && Math.abs(l.ts - r.ts) <= d)) out.push({ l: null, r: r.id });
  return out;
}

/** Window join: pairs of one key in the same window [start, start + size), starts multiples of `every`; an element with no partner in any of its windows is unmatched. */
function windowModel(left: El[], right: El[], size: number, every: number, keep: [boolean, boolean]): Row[] {
  const windows = (ts: number): number[] => {
    const starts: number[] = [];
    for (let st = Math.floor(ts / every) * every; st > ts - size; st -= every) starts.push(st);
    return starts;
  };
  const share = (a: El, b: El): boolean => a.k === b.k && windows(a.ts).some((w) => windows(b.ts).includes(w));
  const out: Row[] = [];
  for (const l of left) for (const r of right) if (l.k === r.k) for (const w of windows(l.ts)) if (windows(r.ts).includes(w)) out.push({ l: l.id, r: r.id });
  if (keep[0]) for (const l of left) if (!right.some((r) => share(l, r))) out.push({ l: l.id, r: null });
  if (keep[1]) for (const r of right) if (!left.some((l) => share(l, r))) out.push({ l: null, r: r.id });
  return out;
}

/** Session join: per key, both sides' elements in time order form sessions where consecutive ones are at most `gap` apart; pairs within a session; a session with one side only has unmatched elements. */
function sessionModel(left: El[], right: El[], gap: number, keep: [boolean, boolean]): Row[] {
  const out: Row[] = [];
  const keys = new Set([...left, ...right].map((e) => e.k));
  for (const k of keys) {
    const all = [...left.filter((e) => e.k === k).map((e) => ({ e, side: 0 })), ...right.filter((e) => e.k === k).map((e) => ({ e, side: 1 }))].sort((a, b) => a.e.ts - b.e.ts);
    const sessions: (typeof all)[] = [];
    for (const x of all) {
      const last = sessions.at(-1);
      if (last && x.e.ts - last.at(-1)!.e.ts <= gap) last.push(x);
      else sessions.push([x]);
    }
    for (const s of sessions) {
      const ls = s.filter((x) => x.side === 0).map((x) => x.e);
      const rs = s.filter((x) => x.side === 1).map((x) => x.e);
      for (const l of ls) for (const r of rs) out.push({ l: l.id, r: r.id });
      if (rs.length === 0 && keep[0]) for (const l of ls) out.push({ l: l.id, r: null });
      if (ls.length === 0 && keep[1]) for (const r of rs) out.push({ l: null, r: r.id });
    }
  }
  return out;
}

describe("outer joins", () => {
  it("interval, tumbling, sliding and session outer joins agree with a reference model on random input in time order", async () => {
    const left = inOrder(600, 3, 40, 900, 1);
    const right = inOrder(500, 5, 40, 1100, 10_001);
    const jsonl = (xs: El[]) => xs.map((x) => JSON.stringify(x)).join("\n") + "\n";
    const r = await compileAndRun(`job outer
type E = { k: int, id: int, ts: timestamp }
source ls: E = file("l.jsonl") event_time(e => e.ts)
source rs: E = file("r.jsonl") event_time(e => e.ts)
let lo = join ls as l, rs? as r on l.k == r.k within 3s select { l: l.id, r: r?.id }
let fo = join ls? as l, rs? as r on l.k == r.k within 2s select { l: l?.id, r: r?.id }
let tw = join ls? as l, rs? as r on l.k == r.k window tumbling(10s) select { l: l?.id, r: r?.id }
let sw = join ls? as l, rs as r on l.k == r.k window sliding(10s, every: 5s) select { l: l?.id, r: r.id }
let se = join ls? as l, rs? as r on l.k == r.k window session(gap: 4s) select { l: l?.id, r: r?.id }
sink lo -> file("out/lo.jsonl")
sink fo -> file("out/fo.jsonl")
sink tw -> file("out/tw.jsonl")
sink sw -> file("out/sw.jsonl")
sink se -> file("out/se.jsonl")
`, { "l.jsonl": jsonl(left), "r.jsonl": jsonl(right) });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const got = (name: string): string[] => sorted(lines(readFileSync(join(r.dir, "out", `${name}.jsonl`), "utf8")).map((l) => ({ l: null, r: null, ...(JSON.parse(l) as Partial<Row>) })));
    const cases: [string, Row[]][] = [
      ["lo", intervalModel(left, right, 3000, [true, false])],
      ["fo", intervalModel(left, right, 2000, [true, true])],
      ["tw", windowModel(left, right, 10_000, 10_000, [true, true])],
      ["sw", windowModel(left, right, 10_000, 5000, [false, true])],
      ["se", sessionModel(left, right, 4000, [true, true])],
    ];
    for (const [name, want] of cases) {
      expect(want.some((x) => x.l === null || x.r === null), `${name} has unmatched elements`).toBe(true);
      expect(want.some((x) => x.l !== null && x.r !== null), `${name} has pairs`).toBe(true);
      expect(got(name), name).toEqual(sorted(want));
    }
  });

  it("hand-worked: released once each, by t + d, left first on ties, then in arrival order; at their own time, not late downstream", async () => {
    // Full outer interval join, within 2s, watermark 0 (the sources merge by time):
    //   l1 @1000 k1, r1 @1500 k1 -> pair (l1, r1) when r1 arrives; both matched, never unmatched.
    //   l2 @3000 k2, r2 @3000 k3 -> no partners; t + d = 5000 for both: released when the
    //     watermark passes 5000, l2 first (left side first on the tie).
    //   l3 @3500 k4 -> t + d = 5500: released after l2 and r2.
    //   r3 @9000 k9 moves both watermarks... the left one only to 3500 (its last element),
    //   so nothing is released until the left side ends (+infinity): then l2, r2, l3, r3.
    // Each unmatched result carries its own time, and the join holds its watermark back by
    // d, so a tumbling(5s) window after it counts them in the windows of their own times:
    // [0, 5s) holds the pair (at 1500) and l2, r2, l3; [5s, 10s) holds r3.
    const r = await compileAndRun(`job outer
type E = { k: int, id: string, ts: timestamp }
source ls: E = values([{ k: 1, id: "l1", ts: 1000 }, { k: 2, id: "l2", ts: 3000 }, { k: 4, id: "l3", ts: 3500 }]) event_time(e => e.ts)
source rs: E = values([{ k: 1, id: "r1", ts: 1500 }, { k: 3, id: "r2", ts: 3000 }, { k: 9, id: "r3", ts: 9000 }]) event_time(e => e.ts)
let j = join ls? as l, rs? as r on l.k == r.k within 2s select { l: l?.id, r: r?.id }
let w = j |> key_by(x => "all") |> window(tumbling(5s), late: too_late) |> aggregate(x => { start: window.start, n: count() })
sink j -> stdout()
sink w -> file("out/w.jsonl")
sink too_late -> file("out/late.jsonl")
`);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"l":"l1","r":"r1"}', '{"l":"l2","r":null}', '{"l":null,"r":"r2"}', '{"l":"l3","r":null}', '{"l":null,"r":"r3"}']);
    expect(lines(readFileSync(join(r.dir, "out", "w.jsonl"), "utf8"))).toEqual(['{"start":0,"n":4}', '{"start":5000,"n":1}']);
    expect(readFileSync(join(r.dir, "out", "late.jsonl"), "utf8")).toBe("");
  });

  it("hand-worked: an outer interval join holds its watermark back by d, so what it releases is not late for a window after it", async () => {
    // Left outer, within 2s. l2 @3000 (key 2) has no partner. l4 @5000 and r1 @5000 (key 5)
    // pair up; then the join's watermark is 5000, which does not pass 3000 + 2s: l2 waits.
    // l5 and r2 @6000 (key 6) pair up and move the watermark to 6000: l2 is released, at
    // its own time 3000. Had the join passed 5000 on, the window [0, 5s) after it would have
    // been closed (the watermark reached its end) and l2 late; it passes 5000 - 2s instead.
    const r = await compileAndRun(`job outer
type E = { k: int, id: string, ts: timestamp }
source ls: E = values([{ k: 2, id: "l2", ts: 3000 }, { k: 5, id: "l4", ts: 5000 }, { k: 6, id: "l5", ts: 6000 }]) event_time(e => e.ts)
source rs: E = values([{ k: 5, id: "r1", ts: 5000 }, { k: 6, id: "r2", ts: 6000 }]) event_time(e => e.ts)
let j = join ls as l, rs? as r on l.k == r.k within 2s select { l: l.id, r: r?.id }
let w = j |> key_by(x => "all") |> window(tumbling(5s), late: too_late) |> aggregate(x => { start: window.start, ids: collect(x.l) })
sink j -> stdout()
sink w -> file("out/w.jsonl")
sink too_late -> file("out/late.jsonl")
`);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"l":"l4","r":"r1"}', '{"l":"l5","r":"r2"}', '{"l":"l2","r":null}']);
    expect(lines(readFileSync(join(r.dir, "out", "w.jsonl"), "utf8"))).toEqual(['{"start":0,"ids":["l2"]}', '{"start":5000,"ids":["l4","l5"]}']);
    expect(readFileSync(join(r.dir, "out", "late.jsonl"), "utf8")).toBe("");
  });

  it("hand-worked: a window join releases a window's unmatched elements after its pairs; a sliding window's element once, after its last window", async () => {
    // sliding(4s, every: 2s): an element at 3000 is in [0, 4s) and [2s, 6s).
    //   key 1: l1 @1000 and r1 @3000 share [0, 4s): a pair when it fires. r1 is also in
    //   [2s, 6s), alone there, but it met l1: never unmatched.
    //   key 2: l2 @3000 has no partner in either window: released when [2s, 6s) fires, its last.
    //   key 3: l3 @500 only in [-2s, 2s) and [0, 4s) (no partner): released when [0, 4s) fires,
    //   after that window's pair.
    const r = await compileAndRun(`job outer
type E = { k: int, id: string, ts: timestamp }
source ls: E = values([{ k: 3, id: "l3", ts: 500 }, { k: 1, id: "l1", ts: 1000 }, { k: 2, id: "l2", ts: 3000 }]) event_time(e => e.ts)
source rs: E = values([{ k: 1, id: "r1", ts: 3000 }]) event_time(e => e.ts)
let j = join ls as l, rs? as r on l.k == r.k window sliding(4s, every: 2s) select { l: l.id, r: r?.id }
sink j -> stdout()
`);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"l":"l1","r":"r1"}', '{"l":"l3","r":null}', '{"l":"l2","r":null}']);
  });

  it("need a bound (FLOW4015); the optional side is `T?` in select", () => {
    const job = (joinText: string) => `job j
type O = { id: int, ts: timestamp }
source orders: O = values([]) event_time(o => o.ts)
source shipments: O = values([]) event_time(s => s.ts)
let j = ${joinText}
sink j -> stdout()
`;
    expect(diagnose(job("join orders as o, shipments? as s on o.id == s.id within 1d select { o: o.id, s: s?.ts }"))).toBe("");
    expect(diagnose(job("join orders as o, shipments? as s on o.id == s.id select { o: o.id, s: s?.ts }"))).toMatch(/error\[FLOW4015\]: an outer join needs `within` or a window/);
    expect(diagnose(job("join orders as o, shipments? as s on o.id == s.id within 1d select { o: o.id, s: s.ts }"))).toMatch(/error\[FLOW3004\]/);
    // Both optional: both are `T?`; `on` sees the elements themselves.
    expect(diagnose(job("join orders? as o, shipments? as s on o.id == s.id window tumbling(1h) select { o: o.id }"))).toMatch(/error\[FLOW3004\]/);
    expect(diagnose(job("join orders? as o, shipments? as s on o.id == s.id window tumbling(1h) select { o: o?.id ?? 0, s: s?.id ?? 0 }"))).toBe("");
  });
});
