// The language's semantics, end to end: each program is compiled, bundled and run with node,
// and its output compared with what LANGUAGE.md and docs/language.md specify.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileAndRun, lines, STACK_LINE } from "./helpers.js";

const job = (body: string): string => `job t\n${body}\n`;

async function out(body: string, files: Record<string, string> = {}, opts: { input?: string } = {}): Promise<string[]> {
  const r = await compileAndRun(job(body), files, opts);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return lines(r.stdout);
}

describe("stateless stages", () => {
  it("filter, map and flat_map run in order on each element", async () => {
    expect(
      await out(`
source lines: string = values(["a b", "", "c d e"])
let words = lines |> flat_map(l => split(l, " ")) |> filter(w => len(w) > 0) |> map(w => upper(w) + "!")
sink words -> stdout()`),
    ).toEqual(["A!", "B!", "C!", "D!", "E!"]);
  });

  it("flat_map of an empty list emits nothing; a filter inside a flat_map skips one element only", async () => {
    expect(
      await out(`
source n: int = values([0, 3, 1])
let xs = n |> flat_map(k => if k == 0 then [] else [k, k * 10]) |> filter(x => x != 10) |> map(x => x + 1)
sink xs -> stdout()`),
    ).toEqual(["4", "31", "2"]);
  });

  it("flat_map to at most one element (`[x]`, `[]`, `if c then [x] else []`) passes it on directly, filters after it included", async () => {
    expect(
      await out(`
source n: int = values([1, 2, 3, 4, 5, 6])
let xs = n
  |> flat_map(k => [k, k * 10])
  |> flat_map(k => if k % 3 == 0 then [] else [k + 1])
  |> filter(x => x != 11)
  |> flat_map(x => [x * 2])
  |> flat_map(x => if x > 40 then [x] else [])
sink xs -> stdout()`),
      // 1, 10, 2, 20, … → drop multiples of 3, add 1 → 2, 11, 3, 21, 5, 41, 6, 51 → not 11 → doubled → over 40.
    ).toEqual(["42", "82", "102"]);
  });

  it("a stream feeds every consumer, in the order they are declared", async () => {
    expect(
      await out(`
source n: int = values([1, 2])
let doubled = n |> map(x => x * 2)
sink doubled |> map(x => { first: x }) -> stdout()
sink doubled |> map(x => { second: x }) -> stdout()`),
    ).toEqual(['{"first":2}', '{"second":2}', '{"first":4}', '{"second":4}']);
  });

  it("union merges streams of one type, one element from each source in turn", async () => {
    expect(
      await out(`
source a: int = values([1, 2, 3])
source b: int = values([10, 20])
source c: int = sequence(from: 100, to: 101)
let all = a |> union(b, c)
sink all -> stdout()`),
    ).toEqual(["1", "10", "100", "2", "20", "101", "3"]);
  });

  it("union of differently keyed streams (or keyed and plain) is a plain stream: one global group after it", async () => {
    expect(
      await out(`
source a: int = values([1, 2])
source b: int = values([10, 20])
let ka = a |> key_by(x => to_string(x))
let kb = b |> key_by(x => x)
let total = ka |> union(kb, a) |> aggregate(x => sum(x))
sink total -> stdout()`),
    ).toEqual(["1", "2", "12", "14", "16", "36"]);
  });
});

describe("arithmetic and values", () => {
  it("follows the numeric rules: int ops stay int, / is float, ints widen", async () => {
    expect(
      await out(`
source n: int = values([7])
let r = n |> map(x => { sum: x + 2, div: x / 2, mod: x % 3, mixed: x * 1.5, neg: -x, prec: 1 + 2 * 3 - 4 })
sink r -> stdout()`),
    ).toEqual(['{"sum":9,"div":3.5,"mod":1,"mixed":10.5,"neg":-7,"prec":3}']);
  });

  it("adds durations to timestamps and subtracts timestamps into durations", async () => {
    expect(
      await out(`
type E = { at: timestamp }
source e: E = file("e.jsonl")
let r = e |> map(x => { later: x.at + 1h + 30s, since: x.at - (x.at - 5m), ms: 250ms })
sink r -> stdout()`, { "e.jsonl": '{"at":"2024-01-01T00:00:00Z"}\n{"at":1000}\n' }),
    ).toEqual(['{"later":1704070830000,"since":300000,"ms":250}', '{"later":3631000,"since":300000,"ms":250}']);
  });

  it("concatenates strings and keeps escapes, quotes, backticks and ${ intact", async () => {
    expect(
      await out(`
source s: string = values(["a\\"b", "\`\${x}\`", "*/ \\\\ \\u{1F600}", "tab\\tend"])
let r = s |> map(x => "[" + x + "]")
sink r -> stdout()`),
    ).toEqual(['[a"b]', "[`${x}`]", "[*/ \\ \u{1F600}]", "[tab\tend]"]);
  });

  it("compares records, lists and maps by content", async () => {
    expect(
      await out(`
type P = { x: int, tags: list<string> }
source p: P = values([{ x: 1, tags: ["a"] }, { x: 1, tags: ["b"] }])
let r = p |> map(v => { same: v == { x: 1, tags: ["a"] }, other: v != { x: 1, tags: ["a"] } })
sink r -> stdout()`),
    ).toEqual(['{"same":true,"other":false}', '{"same":false,"other":true}']);
  });
});

describe("built-in functions", () => {
  it("string functions", async () => {
    expect(
      await out(`
source s: string = values(["  Hello, World  "])
let r = s |> map(x => {
  len: len(x), lower: lower(x), upper: upper(x), trim: trim(x),
  has: contains(x, "World"), starts: starts_with(trim(x), "Hell"), ends: ends_with(x, "x"),
  sub: substr(trim(x), 7), sub2: substr(trim(x), 0, 5), parts: split(trim(x), ", ")
})
sink r -> stdout()`),
    ).toEqual(['{"len":16,"lower":"  hello, world  ","upper":"  HELLO, WORLD  ","trim":"Hello, World","has":true,"starts":true,"ends":false,"sub":"World","sub2":"Hello","parts":["Hello","World"]}']);
  });

  it("number functions", async () => {
    expect(
      await out(`
source n: float = values([-2.5, 3.7])
let r = n |> map(x => { abs: abs(x), round: round(x), floor: floor(x), ceil: ceil(x), min: min(x, 1), max: max(2, 3), imin: min(4, 9) })
sink r -> stdout()`),
    ).toEqual(['{"abs":2.5,"round":-2,"floor":-3,"ceil":-2,"min":-2.5,"max":3,"imin":4}', '{"abs":3.7,"round":4,"floor":3,"ceil":4,"min":1,"max":3,"imin":4}']);
  });

  it("math functions: float in, float out (an int widens); out of their domain NaN or ±Infinity, written as null", async () => {
    // Worked by hand: sqrt(16) = 4 and sqrt(2.25) = 1.5; sqrt(-1) is NaN. pow(2, 10) = 1024,
    // pow(2, -1) = 0.5, pow(-8, 1/3) is NaN (a negative base to a fraction), pow(0, -1) is
    // +Infinity. exp(0) = 1, ln(1) = 0, ln(0) is -Infinity, log10(1000) = 3, log10(-1) is NaN.
    // sign gives -1, 0 or 1 as a float; sign(-0.0) prints as 0.
    expect(
      await out(`
source n: int = values([16])
let r = n |> map(x => {
  s: sqrt(x), s2: sqrt(2.25), s3: sqrt(-1),
  p: pow(2, 10), p2: pow(2, -1), p3: pow(-8, 1 / 3), p4: pow(0, -1),
  e: exp(0), l: ln(1), l2: ln(0), t: log10(1000), t2: log10(-1),
  g: [sign(-2.5), sign(0), sign(x), sign(-0.0)],
  f: sqrt(x) / 8.0, r: round(sqrt(x * 1.0) * 10.0)
})
sink r -> stdout()`),
    ).toEqual(['{"s":4,"s2":1.5,"s3":null,"p":1024,"p2":0.5,"p3":null,"p4":null,"e":1,"l":0,"l2":null,"t":3,"t2":null,"g":[-1,0,1,0],"f":0.5,"r":40}']);
  });

  it("the 3-sigma detector of docs/language.md: sqrt of the variance of the readings before each one", async () => {
    // Worked in docs/language.md: before the fourth reading (10) the mean is 11 and the
    // deviation sqrt(365 / 3 - 121) = 0.816, 1 deviation away; before 30 the mean is 10.75
    // and the deviation sqrt(465 / 4 - 115.5625) = sqrt(0.6875), 23 deviations away.
    const rows = [10, 12, 11, 10, 30].map((v) => JSON.stringify({ sensor: "s1", value: v })).join("\n") + "\n";
    const got = await out(
      `
type Reading = { sensor: string, value: float }
source readings: Reading = file("readings.jsonl")
let anomalies = readings
  |> key_by(r => r.sensor)
  |> process(r) as detector {
       state n: int = 0
       state sum: float = 0.0
       state squares: float = 0.0
       if n >= 3 {
         let mean = sum / n
         let sd = sqrt(squares / n - mean * mean)
         if abs(r.value - mean) > 3.0 * sd { emit { sensor: key, value: r.value, mean, sd } }
       }
       n += 1
       sum += r.value
       squares += r.value * r.value
     }
sink anomalies -> stdout()`,
      { "readings.jsonl": rows },
    );
    expect(got).toEqual([JSON.stringify({ sensor: "s1", value: 30, mean: 10.75, sd: Math.sqrt(0.6875) })]);
  });

  it("conversions, hash and coalesce", async () => {
    const r = await out(`
type R = { a: string?, b: string? }
source rs: R = values([{ a: "12", b: null }, { a: "x", b: "1.5e1" }])
let r = rs |> map(x => {
  i: parse_int(x.a ?? ""), f: parse_float(x.b ?? "nope"), c: coalesce(x.b, x.a, "none"),
  s: to_string(len(x.a ?? "")), h: hash(x.a) == hash(x.a), hi: hash("abc")
})
sink r -> stdout()`);
    expect(r.map((l) => JSON.parse(l))).toEqual([
      { i: 12, f: null, c: "12", s: "2", h: true, hi: expect.any(Number) },
      { i: null, f: 15, c: "1.5e1", s: "1", h: true, hi: expect.any(Number) },
    ]);
    const first = JSON.parse(r[0]!) as { hi: number };
    expect(Number.isInteger(first.hi) && first.hi >= 0).toBe(true);
  });

  it("fn helpers call each other and built-ins", async () => {
    expect(
      await out(`
fn square(x: int): int = x * x
fn norm(a: int, b: int): float = square(a) + square(b) + 0.0
source n: int = values([3])
let r = n |> map(x => norm(x, 4))
sink r -> stdout()`),
    ).toEqual(["25"]);
  });
});

describe("optionals", () => {
  it("narrow after a null check, in if/then/else, and on the right of `and`", async () => {
    expect(
      await out(`
type U = { name: string, nick: string? }
source u: U = values([{ name: "Ann", nick: "an" }, { name: "Bo" }])
let r = u |> map(x => {
  shown: if x.nick != null then upper(x.nick) else x.name,
  long: x.nick != null and len(x.nick) > 1,
  dflt: x.nick ?? "-"
})
sink r -> stdout()`),
    ).toEqual(['{"shown":"AN","long":true,"dflt":"an"}', '{"shown":"Bo","long":false,"dflt":"-"}']);
  });

  it("read missing optional fields as null and ?. gives null on null", async () => {
    expect(
      await out(`
type Inner = { v: int }
type R = { id: int, inner: Inner? }
source rs: R = file("r.jsonl")
let r = rs |> map(x => { id: x.id, v: x.inner?.v, w: (x.inner?.v ?? 0) + 1 })
sink r -> stdout()`, { "r.jsonl": '{"id":1,"inner":{"v":5}}\n{"id":2}\n{"id":3,"inner":null,"extra":true}\n' }),
    ).toEqual(['{"id":1,"v":5,"w":6}', '{"id":2,"v":null,"w":1}', '{"id":3,"v":null,"w":1}']);
  });
});

describe("aggregates", () => {
  it("a running aggregate on a plain stream is one global group", async () => {
    expect(
      await out(`
source n: int = values([4, 1, 3])
let r = n |> aggregate(x => { n: count(), sum: sum(x), avg: avg(x), min: min(x), max: max(x), first: first(x), last: last(x) })
sink r -> stdout()`),
    ).toEqual([
      '{"n":1,"sum":4,"avg":4,"min":4,"max":4,"first":4,"last":4}',
      '{"n":2,"sum":5,"avg":2.5,"min":1,"max":4,"first":4,"last":1}',
      '{"n":3,"sum":8,"avg":2.6666666666666665,"min":1,"max":4,"first":4,"last":3}',
    ]);
  });

  it("skip null arguments, as SQL does; count() counts elements", async () => {
    expect(
      await out(`
type R = { k: string, v: int? }
source rs: R = values([{ k: "a", v: null }, { k: "a", v: 2 }, { k: "a", v: null }, { k: "a", v: 2 }])
let r = rs |> key_by(x => x.k) |> aggregate(x => { k: key, n: count(), s: sum(x.v), a: avg(x.v), lo: min(x.v), d: count_distinct(x.v), all: collect(x.v) })
sink r -> stdout()`),
    ).toEqual([
      '{"k":"a","n":1,"s":0,"a":null,"lo":null,"d":0,"all":[]}',
      '{"k":"a","n":2,"s":2,"a":2,"lo":2,"d":1,"all":[2]}',
      '{"k":"a","n":3,"s":2,"a":2,"lo":2,"d":1,"all":[2]}',
      '{"k":"a","n":4,"s":4,"a":2,"lo":2,"d":1,"all":[2,2]}',
    ]);
  });

  it("top(n, e, by: k) keeps the n largest by k, largest first, earlier first on ties", async () => {
    expect(
      await out(`
type B = { item: string, price: int }
source b: B = values([{ item: "a", price: 5 }, { item: "b", price: 9 }, { item: "c", price: 5 }, { item: "d", price: 7 }])
let r = b |> aggregate(x => top(3, x.item, by: x.price))
sink r -> stdout()`),
    ).toEqual(['["a"]', '["b","a"]', '["b","a","c"]', '["b","d","a"]']);
  });

  it("keyed by a record, with key fields and key outside aggregate functions", async () => {
    expect(
      await out(`
type V = { user: string, page: string }
source v: V = values([{ user: "a", page: "/" }, { user: "a", page: "/x" }, { user: "a", page: "/" }])
let r = v |> key_by(x => { u: x.user, p: x.page }) |> aggregate(x => { user: key.u, page: key.p, n: count(), label: key.u + key.p })
sink r -> stdout()`),
    ).toEqual(['{"user":"a","page":"/","n":1,"label":"a/"}', '{"user":"a","page":"/x","n":1,"label":"a/x"}', '{"user":"a","page":"/","n":2,"label":"a/"}']);
  });

  it("the key stays available after a stateful stage", async () => {
    expect(
      await out(`
source w: string = values(["x", "y", "x"])
let r = w |> key_by(s => s) |> aggregate(s => count()) |> map(n => { word: key, n: n })
sink r -> stdout()`),
    ).toEqual(['{"word":"x","n":1}', '{"word":"y","n":1}', '{"word":"x","n":2}']);
  });

  it("reduce emits each update per key, starting with the first element", async () => {
    expect(
      await out(`
type T = { k: string, v: int }
source t: T = values([{ k: "a", v: 1 }, { k: "b", v: 5 }, { k: "a", v: 3 }])
let r = t |> key_by(x => x.k) |> reduce((acc, x) => { k: x.k, v: acc.v + x.v })
sink r -> stdout()`),
    ).toEqual(['{"k":"a","v":1}', '{"k":"b","v":5}', '{"k":"a","v":4}']);
  });

  it("keeps counts right across many batches", async () => {
    const r = await out(`
source n: int = sequence(from: 1, to: 5000)
let c = n |> key_by(x => x % 3) |> aggregate(x => { k: key, n: count(), s: sum(x) })
sink c |> filter(x => x.n >= 1666) -> stdout()`);
    // The last elements are 4998, 4999 and 5000: keys 0, 1 and 2 with their final counts.
    expect(r.slice(-3).map((l) => JSON.parse(l))).toEqual([
      { k: 0, n: 1666, s: ((3 + 4998) * 1666) / 2 },
      { k: 1, n: 1667, s: ((1 + 4999) * 1667) / 2 },
      { k: 2, n: 1667, s: ((2 + 5000) * 1667) / 2 },
    ]);
  });
});

describe("process blocks", () => {
  it("keep value, list and map state per key; clear, delete, push, for and len", async () => {
    expect(
      await out(`
type E = { user: string, item: string }
source e: E = values([
  { user: "a", item: "x" }, { user: "b", item: "y" }, { user: "a", item: "x" },
  { user: "a", item: "z" }, { user: "a", item: "done" }
])
let r = e
  |> key_by(x => x.user)
  |> process(x) as baskets {
       state counts: map<string, int> = {}
       state order: list<string> = []
       state events: int = 0
       events += 1
       if x.item == "done" {
         let summary: list<string> = []
         for it in counts {
           summary.push(it + "=" + to_string(counts[it] ?? 0))
         }
         emit { user: key, events: events, summary: summary, order: order, distinct: len(counts) }
         clear order
         delete counts["x"]
         emit { user: key, events: events, summary: [], order: order, distinct: len(counts) }
       } else {
         counts[x.item] += 1
         if not contains(order, x.item) {
           order.push(x.item)
         }
       }
     }
sink r -> stdout()`),
    ).toEqual([
      '{"user":"a","events":4,"summary":["x=2","z=1"],"order":["x","z"],"distinct":2}',
      '{"user":"a","events":4,"summary":[],"order":[],"distinct":1}',
    ]);
  });

  it("emitted lists are copies: later pushes do not change what was emitted", async () => {
    expect(
      await out(`
source n: int = values([1, 2, 3])
let r = n
  |> key_by(x => "all")
  |> process(x) as seen {
       state xs: list<int> = []
       xs.push(x)
       emit xs
     }
  |> aggregate(l => collect(l))
  |> map(ls => ls)
sink r -> stdout()`),
    ).toEqual(["[[1]]", "[[1],[1,2]]", "[[1],[1,2],[1,2,3]]"]);
  });

  it("narrow optional state after a null check and after assignment", async () => {
    expect(
      await out(`
source n: int = values([5, 7])
let r = n
  |> key_by(x => 1)
  |> process(x) as last {
       state prev: int? = null
       if prev != null {
         emit x - prev
       }
       prev = x
       emit prev * 10
     }
sink r -> stdout()`),
    ).toEqual(["50", "2", "70"]);
  });
});

describe("names that are JavaScript's own", () => {
  it("fields named class, default, constructor and __proto__ compile and run, and input cannot pollute prototypes", async () => {
    const r = await compileAndRun(
      job(`
type R = { class: string, default: int, constructor: int, __proto__: string }
source rs: R = file("r.jsonl")
let m = rs |> map(r => { class: r.class, default: r.default + 1, constructor: r.constructor, __proto__: r.__proto__, polluted: to_string({}) })
sink m -> stdout()`),
      { "r.jsonl": '{"class":"c","default":1,"constructor":2,"__proto__":"p"}\n{"class":"d","default":2,"constructor":3,"__proto__":"q","extra":{"__proto__":{"polluted":"yes"}}}\n' },
    );
    expect(r.stderr).toBe("");
    expect(lines(r.stdout)).toEqual([
      '{"class":"c","default":2,"constructor":2,"__proto__":"p","polluted":"{}"}',
      '{"class":"d","default":3,"constructor":3,"__proto__":"q","polluted":"{}"}',
    ]);
  });

  it("locals and state named like JavaScript keywords and globals work", async () => {
    expect(
      await out(`
source n: int = values([1, 2])
let r = n
  |> key_by(this => 0)
  |> process(new) as var {
       state constructor: int = 0
       state Math: int = 0
       let undefined = new * 2
       constructor += undefined
       Math += 1
       emit { total: constructor, count: Math }
     }
sink r -> stdout()`),
    ).toEqual(['{"total":2,"count":1}', '{"total":6,"count":2}']);
  });
});

describe("sources and sinks", () => {
  it("read jsonl from stdin and text lines from stdin", async () => {
    expect(
      await out(`
type R = { v: int }
source rs: R = stdin()
sink rs |> map(r => r.v * 2) -> stdout()`, {}, { input: '{"v":1}\n\n{"v":2}' }),
    ).toEqual(["2", "4"]);
    expect(
      await out(`
source ls: string = stdin(format: "text")
sink ls |> map(l => len(l)) -> stdout()`, {}, { input: "ab\r\n\ncde\n" }),
    ).toEqual(["2", "0", "3"]);
  });

  it("read csv with quoted fields, typed columns and empty optional cells; write csv", async () => {
    expect(
      await out(`
type R = { name: string, n: int, ok: bool, note: string? }
source rs: R = file("r.csv")
sink rs |> map(r => { name: r.name, twice: r.n * 2, note: r.note ?? "-" }) -> stdout(format: "csv")`, {
        "r.csv": 'n,name,ok,note\n1,"Smith, J",true,\n2,"say ""hi""",false,fine\n',
      }),
    ).toEqual(["name,twice,note", '"Smith, J",2,-', '"say ""hi""",4,fine']);
  });

  it("read a file with a byte order mark, CRLF line ends and no final line break", async () => {
    expect(
      await out(`
type R = { v: int }
source rs: R = file("r.jsonl")
sink rs |> map(r => r.v) -> stdout()`, { "r.jsonl": '\uFEFF{"v":1}\r\n{"v":2}\r\n{"v":3}' }),
    ).toEqual(["1", "2", "3"]);
  });

  it("write a file sink, replacing the file at a fresh start", async () => {
    const r = await compileAndRun(
      job(`
source n: int = values([1, 2])
sink n |> map(x => { x: x }) -> file("out/n.jsonl")`),
      { "out/n.jsonl": "old content\n" },
    );
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(r.dir, "out", "n.jsonl"), "utf8")).toBe('{"x":1}\n{"x":2}\n');
  });
});

describe("bad input and failures", () => {
  const readings = '{"sensor":"a","value":1.5}\n{"sensor":"b","value":"hot"}\nnot json\n{"sensor":"c"}\n{"sensor":"d","value":4}\n';

  it('on_error "fail" (the default) stops at the first bad record, naming file, line and field, after the records before it', async () => {
    const r = await compileAndRun(
      job(`
type R = { sensor: string, value: float }
source rs: R = file("readings.jsonl")
sink rs -> stdout()`),
      { "readings.jsonl": readings },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('{"sensor":"a","value":1.5}');
    expect(r.stderr).toMatch(/error\[FLOW5001\]: bad input in readings\.jsonl, line 2, field `value`: expected float, found string "hot"/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('on_error "skip" drops bad records and counts them on stderr', async () => {
    const r = await compileAndRun(
      job(`
type R = { sensor: string, value: float }
source rs: R = file("readings.jsonl", on_error: "skip")
sink rs |> map(x => x.sensor) -> stdout()`),
      { "readings.jsonl": readings },
    );
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(["a", "d"]);
    expect(r.stderr).toMatch(/3 bad records skipped/);
  });

  it('on_error "dead_letter" writes each bad record with its line and reason', async () => {
    const r = await compileAndRun(
      job(`
type R = { sensor: string, value: float }
source rs: R = file("readings.jsonl", on_error: "dead_letter", dead_letter: "bad/rejected.jsonl")
sink rs |> map(x => x.sensor) -> stdout()`),
      { "readings.jsonl": readings },
    );
    expect(r.exitCode).toBe(0);
    const dead = lines(readFileSync(join(r.dir, "bad", "rejected.jsonl"), "utf8")).map((l) => JSON.parse(l) as { line: number; field: string | null; record: string });
    expect(dead.map((d) => [d.line, d.field])).toEqual([[2, "value"], [3, null], [4, "value"]]);
    expect(dead[1]!.record).toBe("not json");
  });

  it("bad csv rows go through on_error too", async () => {
    const r = await compileAndRun(
      job(`
type R = { a: int, b: string }
source rs: R = file("r.csv", on_error: "skip")
sink rs |> map(x => x.a) -> stdout()`),
      { "r.csv": "a,b\n1,x\ntwo,y\n3\n4,z\n" },
    );
    expect(lines(r.stdout)).toEqual(["1", "4"]);
    expect(r.stderr).toMatch(/2 bad records skipped/);
  });

  it("a missing input file is a clear error, and the output file is left alone", async () => {
    const r = await compileAndRun(
      job(`
source rs: string = file("nowhere.txt")
sink rs -> file("out.txt")`),
      { "out.txt": "keep me\n" },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error\[FLOW5002\]: cannot read nowhere\.txt for source `rs`: no such file/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readFileSync(join(r.dir, "out.txt"), "utf8")).toBe("keep me\n");
  });

  it("% by zero on ints fails with the .flow location, not NaN", async () => {
    const r = await compileAndRun(job(`
source n: int = values([3, 0])
sink n |> map(x => 10 % x) -> stdout()`));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("1");
    expect(r.stderr).toMatch(/error\[FLOW5003\]: remainder of a division by zero/);
    expect(r.stderr).toMatch(/--> job\.flow:4:23/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe("nexmark sources", () => {
  it("generate people, auctions and bids 1:3:46, deterministically by seed, with the prelude types", async () => {
    const job = (seed: number) => `
source events: NexmarkEvent = nexmark(events: 5000, seed: ${seed})
let kinds = events
  |> map(e => if e.person != null then "person" else if e.auction != null then "auction" else "bid")
  |> key_by(k => k)
  |> aggregate(k => { kind: key, n: count() })
sink kinds |> filter(k => k.n % 100 == 0 and k.n >= 100) -> stdout()
`;
    const a = await out(job(1));
    expect(a.at(-1)).toBe('{"kind":"bid","n":4600}');
    expect(a).toContain('{"kind":"person","n":100}');
    expect(a).toContain('{"kind":"auction","n":300}');
    const bids = (seed: number) => out(`
source bids: Bid = nexmark_bids(events: 200, seed: ${seed})
sink bids |> map(b => b.price) -> stdout()`);
    const [x, y, z] = await Promise.all([bids(1), bids(1), bids(2)]);
    expect(x).toEqual(y);
    expect(x).not.toEqual(z);
    expect(x.length).toBe(184);
  });

  it("nexmark_persons and nexmark_auctions agree with nexmark: the same ids and times", async () => {
    const split = await out(`
source people: Person = nexmark_persons(events: 500, seed: 3)
sink people |> map(p => { id: p.id, t: p.dateTime }) -> stdout()`);
    const all = await out(`
source events: NexmarkEvent = nexmark(events: 500, seed: 3)
sink events |> flat_map(e => if e.person != null then [{ id: e.person.id, t: e.person.dateTime }] else []) -> stdout()`);
    expect(split).toEqual(all);
    expect(split.length).toBe(10);
    expect(split[1]).toBe('{"id":1001,"t":1436918400005}');
  });
});

describe("jsonl in and out: the job's own converters and serializers", () => {
  it("read every record as the generic converter does and write it as JSON.stringify does", async () => {
    const { jsonConverter } = await import("../runtime/convert.js");
    const input: unknown[] = [
      { i: 1, f: 1.5, b: true, s: "plain", t: 1000, d: 5, o: "x", oi: 7 },
      { i: 2, f: -0, b: false, s: 'quote " back \\ slash', t: "2024-05-01T12:00:00Z", d: "5s", oi: null },
      { i: 3, f: 1e21, b: true, s: "ctl \u0001 tab \t nl \n", t: 3, d: 0, o: null, extra: [1, 2] },
      { i: 4, f: 5e-7, b: false, s: "lone \ud800 surrogate, é, 😀, \u2028", t: 4, d: 1 },
      { i: 5.5, f: 1, b: true, s: "", t: 5, d: 1 },
      { i: 6, f: "1", b: true, s: "", t: 6, d: 1 },
      { i: 7, f: 1, b: 1, s: "", t: 7, d: 1 },
      { i: 8, f: 1, b: true, s: 8, t: 8, d: 1 },
      { i: 9, f: 1, b: true, s: "", t: 9, d: 1, o: 9 },
      [1, 2, 3],
      { f: 1, b: true, s: "", t: 10, d: 1 },
      { constructor: 1, i: 11, f: 1, b: true, s: "toString", t: 11, d: 1, toString: "x" },
    ];
    const text = input.map((x) => JSON.stringify(x)).join("\n") + "\n";
    const r = await compileAndRun(
      job(`type R = { i: int, f: float, b: bool, s: string, t: timestamp, d: duration, o: string?, oi: int? }
source rs: R = file("in.jsonl", format: "jsonl", on_error: "skip")
sink rs -> stdout()`),
      { "in.jsonl": text },
    );
    expect(r.exitCode).toBe(0);
    const prim = (t: string) => ({ t }) as const;
    const convert = jsonConverter({
      t: "record",
      name: "R",
      fields: [
        { name: "i", type: prim("int") },
        { name: "f", type: prim("float") },
        { name: "b", type: prim("bool") },
        { name: "s", type: prim("string") },
        { name: "t", type: prim("timestamp") },
        { name: "d", type: prim("duration") },
        { name: "o", type: { t: "optional", of: prim("string") } },
        { name: "oi", type: { t: "optional", of: prim("int") } },
      ],
    } as Parameters<typeof jsonConverter>[0]);
    const expected: string[] = [];
    for (const x of input) {
      try {
        expected.push(JSON.stringify(convert(JSON.parse(JSON.stringify(x)), "")));
      } catch {
        // A bad record: skipped by the job too.
      }
    }
    expect(expected.length).toBe(5);
    expect(r.stdout).toBe(expected.join("\n"));
    expect(r.stderr).toMatch(/\b7\b.*bad|bad.*\b7\b/);
  });

  it("write nested records, lists and optional records as JSON.stringify does", async () => {
    const r = await compileAndRun(
      job(`type In = { a: int, name: string }
type Out = { id: int, inner: In, maybe: In?, tags: list<string>, ratio: float }
source xs: int = sequence(from: 1, to: 4)
let ys = xs |> map(x => { id: x, inner: { a: x, name: "n\\"${"$"}{x}" }, maybe: if x % 2 == 0 then { a: x * 10, name: "even" } else null, tags: ["t", "u\\\\"], ratio: x / 0 - x / 0 })
sink ys -> stdout()`),
    );
    expect(r.stderr).toBe("");
    const expected = [1, 2, 3, 4].map((x) => JSON.stringify({ id: x, inner: { a: x, name: `n"\${x}` }, maybe: x % 2 === 0 ? { a: x * 10, name: "even" } : null, tags: ["t", "u\\"], ratio: NaN }));
    expect(r.stdout).toBe(expected.join("\n"));
  });
});
