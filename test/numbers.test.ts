// Number ranges (LANGUAGE.md section 5): an int is exact up to 2^53 − 1, so an input value
// beyond that (or a float beyond the float range, which reads as Infinity) is a bad record
// through the source's on_error policy, and an int result beyond it (arithmetic, `sum`,
// `+=`, `floor`/`ceil`/`round` of a float) stops the job with FLOW5013 and its location.
// Floats stay IEEE: float arithmetic may give Infinity or NaN, which prints as null.
// Every case is a compiled bundle run with node on real files.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileAndRun, lines, STACK_LINE } from "./helpers.js";

const job = (body: string): string => `job t\n${body}\n`;

/** Runs a job that must stop with FLOW5013; returns what it printed before. */
async function outOfRange(body: string, files: Record<string, string>, where: RegExp, what: RegExp): Promise<string[]> {
  const r = await compileAndRun(job(body), files);
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/error\[FLOW5013\]: integer out of range: /);
  expect(r.stderr).toMatch(what);
  expect(r.stderr).toMatch(where);
  expect(r.stderr).not.toMatch(STACK_LINE);
  return lines(r.stdout);
}

const MAX = 9007199254740991;

describe("numbers beyond the range in input are bad records", () => {
  // R is a flat record: read by the job's generated converter, which falls back to the
  // generic one to report. L has a list field: read by the generic converter alone.
  const types = `
type R = { id: int, n: int, x: float }
type L = { id: int, n: int, x: float, tags: list<string> }`;
  const rows = [
    `{"id":1,"n":${MAX},"x":1.5,"tags":[]}`,
    `{"id":2,"n":9007199254740993,"x":1.5,"tags":[]}`,
    `{"id":3,"n":-9007199254740992,"x":1.5,"tags":[]}`,
    `{"id":4,"n":1e400,"x":1.5,"tags":[]}`,
    `{"id":5,"n":1,"x":1e400,"tags":[]}`,
    `{"id":6,"n":1,"x":-1e400,"tags":[]}`,
    `{"id":7,"n":-${MAX},"x":1e308,"tags":[]}`,
  ];
  const file = rows.join("\n") + "\n";

  it.each(["R", "L"])('jsonl (type %s): ints beyond ±(2^53 − 1) and floats beyond the float range fail with on_error "fail", naming file, line and field', async (t) => {
    const r = await compileAndRun(job(`${types}\nsource rs: ${t} = file("in.jsonl")\nsink rs |> map(r => r.id) -> stdout()`), { "in.jsonl": file });
    expect(r.exitCode).toBe(1);
    expect(lines(r.stdout)).toEqual(["1"]);
    expect(r.stderr).toMatch(/error\[FLOW5001\]: bad input in in\.jsonl, line 2, field `n`: expected int, found a number beyond ±9007199254740991, where ints stop being exact/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it.each(["R", "L"])('jsonl (type %s): with on_error "dead_letter" each such record is written with its field and reason, the good ones go on', async (t) => {
    const r = await compileAndRun(
      job(`${types}\nsource rs: ${t} = file("in.jsonl", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs |> map(r => { id: r.id, n: r.n, x: r.x }) -> stdout()`),
      { "in.jsonl": file },
    );
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([`{"id":1,"n":${MAX},"x":1.5}`, `{"id":7,"n":-${MAX},"x":1e+308}`]);
    expect(r.stderr).toMatch(/source `rs`: 5 bad records written to the dead-letter file/);
    const dead = lines(readFileSync(join(r.dir, "bad.jsonl"), "utf8")).map((l) => JSON.parse(l) as { line: number; field: string; error: string; record: string });
    expect(dead.map((d) => [d.line, d.field])).toEqual([[2, "n"], [3, "n"], [4, "n"], [5, "x"], [6, "x"]]);
    expect(dead[2]!.error).toBe("expected int, found a number beyond the float range (±1.8e308)");
    expect(dead[3]!.error).toBe("expected float, found a number beyond the float range (±1.8e308)");
    expect(dead[3]!.record).toBe(rows[4]);
  });

  it("jsonl: timestamps and durations beyond the range are bad records too", async () => {
    const r = await compileAndRun(
      job(`type E = { at: timestamp, d: duration }\nsource es: E = file("e.jsonl", on_error: "skip")\nsink es |> map(e => e.at) -> stdout()`),
      { "e.jsonl": `{"at":1,"d":2}\n{"at":1e17,"d":2}\n{"at":3,"d":99999999999999999}\n{"at":4,"d":"99999999999999999s"}\n{"at":5,"d":"5s"}\n` },
    );
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(["1", "5"]);
    expect(r.stderr).toMatch(/3 bad records skipped/);
  });

  it("csv: ints beyond the range, floats beyond the float range and non-decimal floats are bad records", async () => {
    const r = await compileAndRun(
      job(`type R = { id: int, n: int, x: float }\nsource rs: R = file("in.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs -> stdout()`),
      { "in.csv": `id,n,x\n1,${MAX},2.5\n2,9007199254740992,1\n3,1,1e400\n4,1,Infinity\n5,1,0x10\n6,-${MAX},-1e-5\n` },
    );
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([`{"id":1,"n":${MAX},"x":2.5}`, `{"id":6,"n":-${MAX},"x":-0.00001}`]);
    const dead = lines(readFileSync(join(r.dir, "bad.jsonl"), "utf8")).map((l) => JSON.parse(l) as { line: number; field: string; error: string });
    expect(dead.map((d) => [d.line, d.field])).toEqual([[3, "n"], [4, "x"], [5, "x"], [6, "x"]]);
    expect(dead[0]!.error).toBe('expected int, found string "9007199254740992", beyond ±9007199254740991, where ints stop being exact');
    expect(dead[1]!.error).toBe('expected float, found string "1e400", beyond the float range (±1.8e308)');
  });

  it('csv: with on_error "fail" a value beyond the range stops the job, naming file, line and field', async () => {
    const r = await compileAndRun(job(`type R = { id: int, n: int }\nsource rs: R = file("in.csv")\nsink rs |> map(r => r.id) -> stdout()`), { "in.csv": "id,n\n1,1\n2,-9007199254740992\n3,3\n" });
    expect(r.exitCode).toBe(1);
    expect(lines(r.stdout)).toEqual(["1"]);
    expect(r.stderr).toMatch(/error\[FLOW5001\]: bad input in in\.csv, line 3, field `n`: expected int, found string "-9007199254740992", beyond/);
  });
});

describe("int results beyond the range stop the job with FLOW5013", () => {
  const ints = (...xs: (number | string)[]): Record<string, string> => ({ "n.jsonl": xs.map((x) => `{"v":${x}}`).join("\n") + "\n" });
  const src = `type N = { v: int }\nsource n: N = file("n.jsonl")`;

  it("+, - and * on ints, at the operator; results up to ±(2^53 − 1) are fine", async () => {
    expect(await outOfRange(`${src}\nsink n |> map(x => x.v + 1) -> stdout()`, ints(MAX - 1, MAX), /--> job\.flow:4:24$/m, /the result of `\+` \(9007199254740992\) is beyond ±9007199254740991, where ints stop being exact/)).toEqual([String(MAX)]);
    expect(await outOfRange(`${src}\nsink n |> map(x => x.v - 1) -> stdout()`, ints(-MAX + 1, -MAX), /--> job\.flow:4:24$/m, /the result of `-` \(-9007199254740992\)/)).toEqual([String(-MAX)]);
    expect(await outOfRange(`${src}\nsink n |> map(x => x.v * x.v) -> stdout()`, ints(94906265, 94906266), /--> job\.flow:4:24$/m, /the result of `\*` \(9007199326062756\)/)).toEqual(["9007199136250225"]);
  });

  it("an intermediate result counts too, even when the final one would be back in range", async () => {
    expect(await outOfRange(`${src}\nsink n |> map(x => x.v * 4 - x.v * 3) -> stdout()`, ints(5, MAX), /--> job\.flow:4:24$/m, /the result of `\*`/)).toEqual(["5"]);
  });

  it("unary minus is exact over the whole range (it is symmetric)", async () => {
    const r = await compileAndRun(job(`${src}\nsink n |> map(x => -x.v) -> stdout()`), ints(MAX, -MAX));
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([String(-MAX), String(MAX)]);
  });

  it("timestamp and duration arithmetic (integer milliseconds)", async () => {
    expect(
      await outOfRange(`type E = { at: timestamp }\nsource e: E = file("e.jsonl")\nsink e |> map(x => x.at + 1h) -> stdout()`, { "e.jsonl": `{"at":0}\n{"at":${MAX - 1000}}\n` }, /--> job\.flow:4:25$/m, /the result of `\+` \(900719925833999\d\)/),
    ).toEqual(["3600000"]);
  });

  it("a running sum of ints, at the `sum` call", async () => {
    expect(await outOfRange(`${src}\nlet s = n |> aggregate(x => { total: sum(x.v) })\nsink s -> stdout()`, ints(MAX, -1, 2), /--> job\.flow:4:38$/m, /the result of `sum` \(9007199254740992\)/)).toEqual([`{"total":${MAX}}`, `{"total":${MAX - 1}}`]);
  });

  it("a windowed sum of ints, and session windows merging their sums", async () => {
    const events = (vs: [number, number][]): Record<string, string> => ({ "e.jsonl": vs.map(([at, v]) => `{"at":${at},"v":${v}}`).join("\n") + "\n" });
    const t = `type E = { at: timestamp, v: int }\nsource e: E = file("e.jsonl") event_time(x => x.at) watermark 30s`;
    expect(await outOfRange(`${t}\nlet s = e |> window(tumbling(10s)) |> aggregate(x => { total: sum(x.v) })\nsink s -> stdout()`, events([[1000, MAX], [2000, 1]]), /--> job\.flow:4:63$/m, /`sum`/)).toEqual([]);
    // Two sessions (gaps under 10 s from each side), then one element that joins them.
    expect(
      await outOfRange(`${t}\nlet s = e |> key_by(x => 1) |> window(session(gap: 10s)) |> aggregate(x => { total: sum(x.v) })\nsink s -> stdout()`, events([[0, MAX - 5], [16000, 10], [8000, 0]]), /--> job\.flow:4:\d+$/m, /the result of `sum` \(9007199254740996\)/),
    ).toEqual([]);
  });

  it("+= and -= on int state and on map entries in a process block", async () => {
    const body = (stmt: string) => `${src}
let r = n |> key_by(x => 1) |> process(x) as p {
  state total: int = 0
  state per: map<string, int> = {}
  ${stmt}
  emit total + 0
}
sink r -> stdout()`;
    expect(await outOfRange(body("total += x.v"), ints(MAX, 1), /--> job\.flow:7:3$/m, /the result of `\+=` \(9007199254740992\)/)).toEqual([String(MAX)]);
    expect(await outOfRange(body("total -= x.v"), ints(MAX, 1), /--> job\.flow:7:3$/m, /the result of `-=` \(-9007199254740992\)/)).toEqual([String(-MAX)]);
    expect(await outOfRange(body('per["a"] += x.v\n  total = per["a"] ?? 0'), ints(MAX, 1), /--> job\.flow:7:3$/m, /the result of `\+=`/)).toEqual([String(MAX)]);
  });

  it("a state's initial value (computed outside any function of the job)", async () => {
    const body = `source n: int = values([1, 2])
let r = n |> key_by(x => x) |> process(x) as p {
  state total: int = 9007199254740991 + 1
  emit total
}
sink r -> stdout()`;
    expect(await outOfRange(body, {}, /--> job\.flow:4:39$/m, /the result of `\+` \(9007199254740992\)/)).toEqual([]);
  });

  it("floor, ceil and round of a float beyond the range (or NaN), at the call", async () => {
    const fl = `type F = { x: float }\nsource f: F = file("f.jsonl")`;
    const floats = (...xs: string[]): Record<string, string> => ({ "f.jsonl": xs.map((x) => `{"x":${x}}`).join("\n") + "\n" });
    expect(await outOfRange(`${fl}\nsink f |> map(v => ceil(v.x)) -> stdout()`, floats("2.5", "1e300"), /--> job\.flow:4:20$/m, /`ceil` of 1e\+300 is beyond ±9007199254740991, where ints stop being exact/)).toEqual(["3"]);
    expect(await outOfRange(`${fl}\nsink f |> map(v => floor(v.x)) -> stdout()`, floats("-9007199254740991.0", "-9007199254740992.0"), /--> job\.flow:4:20$/m, /`floor` of -9007199254740992 is beyond/)).toEqual([String(-MAX)]);
    expect(await outOfRange(`${fl}\nsink f |> map(v => round(v.x)) -> stdout()`, floats("-2.5", "1e16"), /--> job\.flow:4:20$/m, /`round` of 10000000000000000 is beyond/)).toEqual(["-2"]);
    // Infinity − Infinity is NaN.
    expect(await outOfRange(`${fl}\nsink f |> map(v => floor(v.x * v.x - v.x * v.x)) -> stdout()`, floats("2", "1e300"), /--> job\.flow:4:20$/m, /`floor` of NaN has no int value/)).toEqual(["0"]);
  });
});

describe("parse_int and parse_float", () => {
  it("parse_int of a number beyond the range is null, as for text that is no number; parse_float may give infinity", async () => {
    const r = await compileAndRun(job(`source s: string = values(["9007199254740991", "9007199254740992", "-9007199254740992", "1e400"])\nsink s |> map(x => { i: parse_int(x), f: parse_float(x) }) -> stdout()`));
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([`{"i":${MAX},"f":${MAX}}`, '{"i":null,"f":9007199254740992}', '{"i":null,"f":-9007199254740992}', '{"i":null,"f":null}']);
  });
});

describe("floats stay IEEE", () => {
  it("float arithmetic beyond the float range gives Infinity, printed as null, without an error", async () => {
    const r = await compileAndRun(
      job(`type F = { x: float, n: int }\nsource f: F = file("f.jsonl")\nsink f |> map(v => { big: v.x * v.x, nan: v.x * v.x - v.x * v.x, mixed: v.n * 1.0 * v.n }) -> stdout()`),
      { "f.jsonl": `{"x":1e300,"n":${MAX}}\n` },
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"big":null,"nan":null,"mixed":8.112963841460666e+31}']);
  });
});
