// plan: pipelines become a job graph with fused stateless chains, stateful operators with
// stable uids and their state layout, and sinks.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frontEnd } from "../compiler/compile.js";
import { describeGraph, plan } from "../compiler/plan.js";
import { ROOT } from "./helpers.js";

function graphOf(text: string) {
  const fe = frontEnd(text, "job.flow");
  expect(fe.diagnostics.map((d) => d.message)).toEqual([]);
  return plan(fe.checked!, "job.flow");
}

describe("plan", () => {
  it("fuses stateless stages across let boundaries into one chain before the keyed operator", () => {
    const text = readFileSync(join(ROOT, "dsl-examples", "word_count.flow"), "utf8");
    expect(describeGraph(graphOf(text))).toBe(
      ["job word_count", "#0 source lines (file) -> #1", "#1 chain words [flat_map, map, filter, key_by] -> #3 (exchange)", "#3 aggregate uid=counts keyed -> #4", "#4 sink stdout"].join("\n"),
    );
  });

  it("puts an exchange on every edge into a stateful operator that may cross instances, and none after an operator keyed the same way", () => {
    const g = graphOf(`job j
type T = { k: string, v: int }
source a: T = values([{ k: "x", v: 1 }])
let sums = a |> key_by(t => t.k) |> aggregate(t => { k: key, s: sum(t.v) })
let again = sums |> reduce((x, y) => if x.s > y.s then x else y)
let total = a |> aggregate(t => { n: count() })
sink again -> stdout()
sink total -> stdout()
`);
    // The key_by into `sums` and the unkeyed `total` (instance 0) go through exchanges;
    // `again` keeps the key of `sums`, so its records stay on their instance.
    expect(describeGraph(g)).toBe(
      ["job j", "#0 source a (values) -> #1, #4 (exchange)", "#4 aggregate uid=total -> #6", "#6 sink stdout", "#1 chain sums [key_by] -> #2 (exchange)", "#2 aggregate uid=sums keyed -> #3", "#3 reduce uid=again keyed -> #5", "#5 sink stdout"].join("\n"),
    );
    expect(g.exchanges.map((x) => [x.uid, x.keyed, x.sources, x.upstream])).toEqual([
      ["total", false, [0], []],
      ["sums", true, [0], []],
    ]);
  });

  it("puts each side of a join on an exchange of its own, keyed by the join key, and one after the join into a keyed operator", () => {
    const g = graphOf(`job j
type O = { id: int, customer: string, ts: timestamp }
type C = { id: string, name: string, ts: timestamp }
source orders: O = nats("orders.*", stream: "ORDERS", partitions: 6) event_time(o => o.ts)
source customers: C = nats("customers", stream: "CUSTOMERS") event_time(c => c.ts)
let named = join orders as o, customers? as c on o.customer == c.id as of o select { id: o.id, name: c?.name ?? "?" }
let counts = named |> key_by(n => n.name) |> aggregate(n => { name: key, n: count() })
sink counts -> stdout()
`);
    const text = describeGraph(g);
    expect(text).toContain("#0 source orders (nats) -> #2 (exchange)");
    expect(text).toContain("#1 source customers (nats) -> #2 (exchange)");
    // In the graph's topological order (the customers first here); the aggregate after the
    // join gets its records from the instance's two join exchanges.
    expect(g.exchanges.map((x) => [x.uid, x.input, x.keyed, x.sources, x.upstream])).toEqual([
      ["named_right", 1, true, [1], []],
      ["named_left", 0, true, [0], []],
      ["counts", 0, true, [], [0, 1]],
    ]);
  });

  it("needs no exchange after a source partitioned by the key_by's function, when N divides its partitions", () => {
    const g = graphOf(`job j
type O = { id: int, customer: string, region: string }
source orders: O = nats("orders.*", stream: "ORDERS", partitions: 6, partition_key: o => o.customer)
let totals = orders |> filter(x => x.id > 0) |> key_by(x => x.customer) |> aggregate(o => { customer: key, n: count() })
let regions = orders |> key_by(o => o.region) |> aggregate(o => { region: key, n: count() })
let mapped = orders |> map(o => { id: o.id, customer: o.customer }) |> key_by(o => o.customer) |> aggregate(o => { customer: key, n: count() })
sink totals -> stdout()
sink regions -> stdout()
sink mapped -> stdout()
`);
    const text = describeGraph(g);
    // Same function (another parameter name, a filter before): exchange only when N does not divide 6.
    expect(text).toContain("chain totals [filter, key_by] -> #2 (exchange unless N divides 6)");
    // Another key, or a map before the key_by: an exchange.
    expect(text).toMatch(/chain regions \[key_by\] -> #\d+ \(exchange\)/);
    expect(text).toMatch(/chain mapped \[map, key_by\] -> #\d+ \(exchange\)/);
    expect(g.exchanges.filter((x) => x.partitionedBy).map((x) => [x.uid, x.partitionedBy])).toEqual([["totals", { source: 0, partitions: 6 }]]);
  });

  it("keeps a chain that feeds two consumers apart, and merges union inputs", () => {
    const g = graphOf(`job j
source a: int = values([1])
source b: int = values([2])
let both = a |> union(b) |> map(x => x + 1)
sink both |> filter(x => x > 1) -> stdout()
sink both -> stdout()
`);
    // The merge point absorbs the map after it (one input), then fans out to both sinks.
    expect(describeGraph(g)).toBe(
      ["job j", "#1 source b (values) -> #2", "#0 source a (values) -> #2", "#2 chain both_union [map] -> #4, #6", "#6 sink stdout", "#4 chain sink0 [filter] -> #5", "#5 sink stdout"].join("\n"),
    );
  });

  it("gives stateful operators the let's name as uid, or their own `as` name, and records their state", () => {
    const g = graphOf(`job j
source w: string = values(["a"])
let counts = w |> key_by(x => x) |> aggregate(x => { n: count(), last: last(x) })
let seen = counts |> key_by(c => c.n) |> process(c) as novelty {
  state first: bool = true
  state names: list<string> = []
  emit first
}
sink seen -> stdout()
`);
    expect(g.operators).toEqual([
      { uid: "counts", kind: "aggregate", key: { t: "string" }, states: [{ name: "n", type: { t: "int" } }, { name: "last", type: { t: "optional", of: { t: "string" } } }], spec: null, timers: false, ttl: [] },
      { uid: "novelty", kind: "process", key: { t: "int" }, states: [{ name: "first", type: { t: "bool" } }, { name: "names", type: { t: "list", of: { t: "string" } } }], spec: null, timers: false, ttl: [] },
    ]);
  });

  it("names aggregate state by result field, with the function when a field holds several", () => {
    const g = graphOf(`job j
source w: int = values([1])
let a = w |> aggregate(x => { mean: sum(x) / count(), hi: max(x), both: sum(x) + sum(x * 2) })
let b = w |> aggregate(x => count())
sink a -> stdout()
sink b -> stdout()
`);
    expect(g.operators.map((o) => o.states.map((s) => s.name))).toEqual([["a0_count"], ["mean_sum", "mean_count", "hi", "both_sum_3", "both_sum_4"]]);
  });

  it("drops streams that reach no sink", () => {
    const g = graphOf(`job j
source n: int = values([1])
let unused = n |> map(x => x * 2)
sink n -> stdout()
`);
    expect(g.nodes.map((n) => n.kind)).toEqual(["source", "sink"]);
  });
});
