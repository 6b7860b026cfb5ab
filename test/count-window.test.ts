// Count windows (LANGUAGE.md section 6, "Count windows"): `window(count(n))` and
// `window(count(n, every: m))`, per key, in arrival order, with the semantics of Flink's
// `countWindow` (a trigger every m elements over the last n, an evictor keeping n). Outputs
// are compared with a reference model written here from that description alone, and with
// hand-worked examples.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileAndRun, diagnose, lines } from "./helpers.js";

/**
 * Flink's countWindow(size, slide) on a keyed stream, as its documentation describes it: a
 * trigger fires a key's window every `slide` elements, and an evictor keeps the key's last
 * `size` elements. (countWindow(n) is the same with slide = n: each firing then sees exactly
 * the n elements since the last one.) Nothing fires for an incomplete count at the end.
 */
function model(elems: { k: string; v: number }[], size: number, slide: number): { k: string; items: number[] }[] {
  const keys = new Map<string, { since: number; kept: number[] }>();
  const out: { k: string; items: number[] }[] = [];
  for (const e of elems) {
    let s = keys.get(e.k);
    if (!s) keys.set(e.k, (s = { since: 0, kept: [] }));
    s.kept.push(e.v);
    if (s.kept.length > size) s.kept.shift();
    s.since++;
    if (s.since === slide) {
      s.since = 0;
      out.push({ k: e.k, items: [...s.kept] });
    }
  }
  return out;
}

function randomElements(count: number, seed: number): { k: string; v: number }[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return Array.from({ length: count }, (_, i) => ({ k: `k${Math.floor(rnd() * 7)}`, v: i }));
}

describe("count windows", () => {
  it("count(n) and count(n, every: m) agree with a model of Flink's countWindow on random keyed input", async () => {
    const elems = randomElements(2000, 42);
    const shapes: [number, number][] = [[5, 5], [5, 2], [3, 4], [1, 1], [4, 1]];
    const lets = shapes
      .map(([n, m], i) => `let w${i} = xs |> key_by(x => x.k) |> window(count(${n}${m !== n ? `, every: ${m}` : ""})) |> aggregate(x => { k: key, items: collect(x.v), sum: sum(x.v), first: first(x.v), last: last(x.v), n: count() })
sink w${i} -> file("out/w${i}.jsonl")`)
      .join("\n");
    const r = await compileAndRun(`job cw
type X = { k: string, v: int }
source xs: X = file("xs.jsonl")
${lets}
`, { "xs.jsonl": elems.map((e) => JSON.stringify(e)).join("\n") + "\n" });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    shapes.forEach(([n, m], i) => {
      const got = lines(readFileSync(join(r.dir, "out", `w${i}.jsonl`), "utf8")).map((l) => JSON.parse(l) as unknown);
      const want = model(elems, n, m).map(({ k, items }) => ({ k, items, sum: items.reduce((a, b) => a + b, 0), first: items[0], last: items.at(-1), n: items.length }));
      expect(want.length).toBeGreaterThan(100);
      expect(got, `count(${n}, every: ${m})`).toEqual(want);
    });
  });

  it("hand-worked: per key in arrival order, nothing for an incomplete window, a result at its last element's time", async () => {
    // Key a gets 1, 2, 3, 4, 5, 6, 7 and key b gets 10, 20, interleaved (a1 b10 a2 a3 b20 a4 …).
    // count(3): a fires at its 3rd element {1,2,3} and its 6th {4,5,6}; 7 and b's {10,20}
    // are incomplete at the end and never come out.
    // count(3, every: 2): a fires at its 2nd {1,2} (fewer than 3 so far), 4th {2,3,4} and
    // 6th {4,5,6}; b at its 2nd {10,20}.
    // Each result carries the time of the element that completed it, so windowing the
    // results again by tumbling(10s) puts a's {4,5,6} (completed by 6 at 12s) and the
    // windows completed at 5s and 8s into different windows.
    const rows = [["a", 1, 1000], ["b", 10, 2000], ["a", 2, 3000], ["a", 3, 4000], ["b", 20, 5000], ["a", 4, 8000], ["a", 5, 9000], ["a", 6, 12000], ["a", 7, 13000]] as const;
    const r = await compileAndRun(`job cw
type X = { k: string, v: int, ts: timestamp }
source xs: X = values([${rows.map(([k, v, ts]) => `{ k: "${k}", v: ${v}, ts: ${ts} }`).join(", ")}]) event_time(x => x.ts)
let tumbling = xs |> key_by(x => x.k) |> window(count(3)) |> aggregate(x => { k: key, vs: collect(x.v) })
let sliding = xs |> key_by(x => x.k) |> window(count(3, every: 2)) |> aggregate(x => { k: key, vs: collect(x.v) })
let again = sliding |> key_by(s => "all") |> window(tumbling(10s)) |> aggregate(s => { start: window.start, ks: collect(s.k), n: count() })
sink tumbling -> stdout()
sink sliding -> file("out/sliding.jsonl")
sink again -> file("out/again.jsonl")
`);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"k":"a","vs":[1,2,3]}', '{"k":"a","vs":[4,5,6]}']);
    expect(lines(readFileSync(join(r.dir, "out", "sliding.jsonl"), "utf8"))).toEqual(['{"k":"a","vs":[1,2]}', '{"k":"b","vs":[10,20]}', '{"k":"a","vs":[2,3,4]}', '{"k":"a","vs":[4,5,6]}']);
    // {1,2} at 3s, {10,20} at 5s, {2,3,4} at 8s: window [0, 10s); {4,5,6} at 12s: [10s, 20s).
    expect(lines(readFileSync(join(r.dir, "out", "again.jsonl"), "utf8"))).toEqual(['{"start":0,"ks":["a","b","a"],"n":3}', '{"start":10000,"ks":["a"],"n":1}']);
  });

  it("need no event time; on a plain stream they count all elements as one group", async () => {
    const r = await compileAndRun(`job cw
source n: int = sequence(from: 1, to: 10)
let sums = n |> window(count(4)) |> aggregate(x => { sum: sum(x), avg: avg(x) })
sink sums -> stdout()
`);
    expect(r.exitCode).toBe(0);
    // {1..4} and {5..8}; 9 and 10 never make a window.
    expect(lines(r.stdout)).toEqual(['{"sum":10,"avg":2.5}', '{"sum":26,"avg":6.5}']);
  });

  it("have no window bounds (FLOW3018), no lateness, and count whole elements", () => {
    const job = (stage: string, agg = "count()") => `job j\nsource n: int = values([1])\nsink n |> ${stage} |> aggregate(x => ${agg}) as c -> stdout()\n`;
    expect(diagnose(job("window(count(2))"))).toBe("");
    expect(diagnose(job("window(count(2))", "{ n: count(), end: window.end }"))).toMatch(/error\[FLOW3018\]: a count window has no start or end/);
    expect(diagnose(job("window(count(2), allowed_lateness: 1s)"))).toMatch(/error\[FLOW4010\]: a count window has no `allowed_lateness`/);
    expect(diagnose(job("window(count(2), late: l)"))).toMatch(/error\[FLOW4010\]: a count window has no `late`/);
    expect(diagnose(job("window(count(0))"))).toMatch(/`count` must be at least 1 element/);
    expect(diagnose(job("window(count(2, every: 0))"))).toMatch(/`every` must be at least 1 element/);
    expect(diagnose(job("window(count(10s))"))).toMatch(/`count` is a number of elements[\s\S]*hint: a count window counts elements; for a span of time write tumbling/);
    expect(diagnose(job("window(count(2, gap: 3))"))).toMatch(/count\(…\) has no argument `gap`/);
    // A join's window is a span of event time.
    expect(diagnose(`job j\ntype A = { k: int, ts: timestamp }\nsource a: A = values([]) event_time(x => x.ts)\nlet j = join a as x, a as y on x.k == y.k window count(2) select { k: x.k }\nsink j -> stdout()\n`)).toMatch(/a join's window is a span of event time/);
  });
});
