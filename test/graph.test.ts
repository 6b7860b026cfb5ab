// `flowc graph` draws count windows, outer joins and temporal joins with what they keep.

import { describe, expect, it } from "vitest";
import { flowc, tempDir, writeFiles } from "./helpers.js";

const JOB = `job shapes
type O = { id: int, cust: int, ts: timestamp }
type C = { id: int, name: string, ts: timestamp }
source orders: O = file("orders.jsonl") event_time(o => o.ts)
source customers: C = file("customers.jsonl") event_time(c => c.ts)
let named = join orders as o, customers? as c on o.cust == c.id as of o select { id: o.id, name: c?.name }
let paired = join orders? as o, customers? as c on o.cust == c.id window tumbling(1h) select { id: o?.id, name: c?.name }
let batches = orders |> key_by(o => o.cust) |> window(count(10, every: 5)) |> aggregate(o => { cust: key, n: count() })
sink named -> stdout()
sink paired -> stdout()
sink batches -> stdout()
`;

describe("flowc graph", () => {
  it("shows a temporal join's probe side and state, an outer join's kind and a count window's spec", async () => {
    const dir = tempDir("flowc-graph-");
    writeFiles(dir, { "shapes.flow": JOB });
    const m = await flowc(["graph", "shapes.flow"], { cwd: dir });
    expect(m.exitCode, m.stderr).toBe(0);
    expect(m.stdout).toContain('["temporal join named<br/>key: int<br/>as of o (event time, outer)<br/>state: versions list#60;C#62;, waiting list#60;O#62;"]');
    expect(m.stdout).toContain('["join paired<br/>key: int<br/>window tumbling(1h) (full outer)<br/>state: left list#60;O#62;, right list#60;C#62;"]');
    expect(m.stdout).toContain('["count window aggregate batches<br/>key: int<br/>count(10, every: 5)<br/>state: elements list#60;O#62;"]');
    const d = await flowc(["graph", "shapes.flow", "--format", "dot"], { cwd: dir });
    expect(d.stdout).toContain('label="temporal join named\\nkey: int\\nas of o (event time, outer)\\nstate: versions list<C>, waiting list<O>"');
  });

  it("shows which edges go through an exchange when the job runs as several instances", async () => {
    const dir = tempDir("flowc-graph-");
    writeFiles(dir, {
      "x.flow": `job x
type T = { k: string, v: int }
source a: T = values([{ k: "x", v: 1 }])
let sums = a |> key_by(t => t.k) |> aggregate(t => { k: key, s: sum(t.v) })
let best = sums |> reduce((p, q) => if p.s > q.s then p else q)
sink best -> stdout()
`,
    });
    const m = await flowc(["graph", "x.flow"], { cwd: dir });
    expect(m.exitCode, m.stderr).toBe(0);
    // The key_by into `sums` is an exchange; `best` keeps the key of `sums`, so no exchange before it.
    const lines = m.stdout.split("\n");
    expect(lines.filter((l) => l.includes("== exchange ==>"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(" --> "))).toHaveLength(3);
    const d = await flowc(["graph", "x.flow", "--format", "dot"], { cwd: dir });
    expect(d.stdout.match(/label="exchange"/g)).toHaveLength(1);
  });

  it("shows both sides of a join as exchanges", async () => {
    const dir = tempDir("flowc-graph-");
    writeFiles(dir, {
      "j.flow": `job j
type O = { id: int, ts: timestamp }
type P = { order: int, ts: timestamp }
source orders: O = values([{ id: 1, ts: 1 }]) event_time(o => o.ts)
source payments: P = values([{ order: 1, ts: 2 }]) event_time(p => p.ts)
let paid = join orders as o, payments as p on o.id == p.order within 1s select { id: o.id }
sink paid -> stdout()
`,
    });
    const m = await flowc(["graph", "j.flow"], { cwd: dir });
    expect(m.exitCode, m.stderr).toBe(0);
    // Each source feeds its side of the join through an exchange; the join's output stays.
    expect(m.stdout.split("\n").filter((l) => l.includes("== exchange ==>"))).toHaveLength(2);
    const d = await flowc(["graph", "j.flow", "--format", "dot"], { cwd: dir });
    expect(d.stdout.match(/label="exchange"/g)).toHaveLength(2);
  });
});
