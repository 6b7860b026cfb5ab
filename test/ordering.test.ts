// Orders that docs/language.md promises: how `top` breaks ties, and how the lines of several
// `stdout()` sinks interleave. Compiled bundles run with node.

import { describe, expect, it } from "vitest";
import { compileAndRun, lines } from "./helpers.js";

const job = (body: string): string => `job t\n${body}\n`;

async function out(body: string, files: Record<string, string> = {}): Promise<string[]> {
  const r = await compileAndRun(job(body), files);
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  return lines(r.stdout);
}

describe("top(n, e, by: k) on ties", () => {
  it("an equal rank ranks after the ones already there; in a full list it does not displace the last", async () => {
    expect(
      await out(`
type B = { item: string, price: int }
source b: B = values([{ item: "a", price: 5 }, { item: "b", price: 7 }, { item: "c", price: 5 }, { item: "d", price: 7 }, { item: "e", price: 5 }, { item: "f", price: 6 }])
let r = b |> aggregate(x => top(2, x.item, by: x.price))
sink r -> stdout()`),
    ).toEqual(['["a"]', '["b","a"]', '["b","a"]', '["b","d"]', '["b","d"]', '["b","d"]']);
  });

  it("in a window, by the order elements reach it, not by their time", async () => {
    const events = [
      { at: 3000, item: "late-time-first", price: 5 },
      { at: 1000, item: "early-time-second", price: 5 },
      { at: 2000, item: "third", price: 5 },
    ];
    expect(
      await out(
        `type E = { at: timestamp, item: string, price: int }
source e: E = file("e.jsonl") event_time(x => x.at) watermark 5s
let r = e |> window(tumbling(10s)) |> aggregate(x => top(2, x.item, by: x.price))
sink r -> stdout()`,
        { "e.jsonl": events.map((x) => JSON.stringify(x)).join("\n") + "\n" },
      ),
    ).toEqual(['["late-time-first","early-time-second"]']);
  });

  it("in session windows that merge, by arrival across the merged sessions", async () => {
    // Sessions [0, 10 s) and [16 s, 26 s), then an element at 8 s that joins them.
    const events = [
      { at: 0, item: "a", price: 5 },
      { at: 16000, item: "b", price: 5 },
      { at: 8000, item: "c", price: 5 },
    ];
    expect(
      await out(
        `type E = { at: timestamp, item: string, price: int }
source e: E = file("e.jsonl") event_time(x => x.at) watermark 30s
let r = e |> key_by(x => 1) |> window(session(gap: 10s)) |> aggregate(x => top(3, x.item, by: x.price))
sink r -> stdout()`,
        { "e.jsonl": events.map((x) => JSON.stringify(x)).join("\n") + "\n" },
      ),
    ).toEqual(['["a","b","c"]']);
  });
});

describe("several stdout() sinks", () => {
  it("interleave line by line in the order records reach them: element by element, sources in turn, consumers in declaration order", async () => {
    expect(
      await out(`
source a: int = values([1, 2, 3])
source b: int = values([10, 20])
sink a |> map(x => "a " + to_string(x)) -> stdout()
sink b |> map(x => "b " + to_string(x)) -> stdout()
sink a |> filter(x => x != 2) |> map(x => "a*100 " + to_string(x * 100)) -> stdout()`),
    ).toEqual(["a 1", "a*100 100", "b 10", "a 2", "b 20", "a 3", "a*100 300"]);
  });

  it("the results a watermark fires come when it passes, after the element that moved it", async () => {
    expect(
      await out(
        `type E = { at: timestamp }
source e: E = file("e.jsonl") event_time(x => x.at) watermark 0s
sink e |> map(x => "element " + to_string(x.at)) -> stdout()
sink e |> window(tumbling(10s)) |> aggregate(x => "window ending " + to_string(window.end) + ": " + to_string(count())) as w -> stdout()`,
        { "e.jsonl": '{"at":0}\n{"at":1000}\n{"at":11000}\n{"at":12000}\n' },
      ),
    ).toEqual(["element 0", "element 1000", "element 11000", "window ending 10000: 2", "element 12000", "window ending 20000: 2"]);
  });

  it("with format csv, each sink's header comes first, in declaration order", async () => {
    expect(
      await out(`
type P = { x: int }
type Q = { y: string }
source a: int = values([1, 2])
sink a |> map(v => { x: v }) -> stdout(format: "csv")
sink a |> map(v => { y: to_string(v) }) -> stdout(format: "csv")`),
    ).toEqual(["x", "y", "1", "1", "2", "2"]);
  });
});
