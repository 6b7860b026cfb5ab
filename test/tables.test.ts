// The stage table (compiler/stages.ts) and the connector table (compiler/connectors/index.ts)
// are the one source of what they list: the checker's hints, plan's uids, the manifest,
// path collisions and the language server's completion all come from them, and the
// catalogue's fix texts (kept as written, for docs/errors.md) name the same entries.

import { afterEach, describe, expect, it } from "vitest";
import { frontEnd } from "../compiler/compile.js";
import { completionAt } from "../compiler/completion.js";
import type { ConnectorSchema, SourceConnectorDef } from "../compiler/connectors/connector.js";
import { SINKS, SOURCES, type SourceEntry } from "../compiler/connectors/index.js";
import { catalogue } from "../compiler/diagnostics/catalogue.js";
import { buildManifest } from "../compiler/manifest.js";
import { plan } from "../compiler/plan.js";
import { STAGE_NAMES, STAGES } from "../compiler/stages.js";

function hintsOf(text: string, code: string): string[] {
  const d = frontEnd(text, "job.flow").diagnostics.find((x) => x.code === code);
  expect(d, `${code} for:\n${text}`).toBeDefined();
  return d!.hints;
}

/** Completion with the cursor where `‸` is in `text`. */
function completion(text: string) {
  const at = text.indexOf("‸");
  return completionAt(text.slice(0, at) + text.slice(at + 1), "job.flow", at, { baseDir: process.cwd(), last: null });
}

function complete(text: string): string[] {
  return completion(text).map((i) => i.label);
}

/** The names of the connectors of a side that this version runs. */
const running = (table: readonly ConnectorSchema[]): string[] => table.map((c) => c.name);

describe("the stage table", () => {
  it("gives FLOW2005's hint, and the catalogue's fix names the same stages in the same order", () => {
    const hints = hintsOf("job j\nsource n: int = values([1])\nsink n |> filtr(x => x > 0) -> stdout()\n", "FLOW2005");
    expect(hints).toContain(`the stages are ${STAGE_NAMES.join(", ")}`);
    expect(hints).toContain("did you mean `filter`?");
    expect(catalogue.FLOW2005.fix).toBe(`Use one of the stages: ${STAGE_NAMES.join(", ")}.`);
  });

  it("gives completion after |> its stages, each with its form and summary", () => {
    const items = completion("job j\nsource n: int = values([1])\nsink n |> ‸ -> stdout()\n");
    expect(items.map((i) => i.label)).toEqual([...STAGE_NAMES]);
    expect(items.map((i) => i.detail)).toEqual(STAGES.map((s) => `${s.form}: ${s.summary}`));
  });

  it("decides which stages plan gives a uid and an operator: exactly the stateful ones", () => {
    const fe = frontEnd(
      `job j
type E = { id: int, ts: timestamp }
source e: E = values([{ id: 1, ts: 0 }]) event_time(x => x.ts)
let keyed = e |> filter(x => x.id > 0) |> map(x => x) |> flat_map(x => [x]) |> key_by(x => x.id)
let agg = keyed |> aggregate(x => { n: count() })
let red = keyed |> reduce((a, b) => b)
let pro = keyed |> process(x) { emit x }
let ded = keyed |> union(keyed) |> dedup(x => x.id, within: 1m)
sink agg -> stdout()
sink red -> stdout()
sink pro -> stdout()
sink ded -> stdout()
`,
      "job.flow",
    );
    expect(fe.diagnostics).toEqual([]);
    const g = plan(fe.checked!, "job.flow");
    expect(g.operators.map((o) => `${o.kind} ${o.uid}`).sort()).toEqual(["aggregate agg", "dedup ded", "process pro", "reduce red"]);
    expect(STAGES.filter((s) => s.stateful).map((s) => s.name).sort()).toEqual(["aggregate", "dedup", "process", "reduce"]);
  });

  it("decides which stages need event time (FLOW4012)", () => {
    for (const s of STAGES.filter((x) => x.eventTime !== null)) {
      const stage = s.name === "window" ? "window(tumbling(1m)) |> aggregate(x => count())" : "dedup(x => x, within: 1m)";
      const d = frontEnd(`job j\nsource n: int = values([1])\nlet w = n |> ${stage}\nsink w -> stdout()\n`, "job.flow").diagnostics.find((x) => x.code === "FLOW4012");
      expect(d?.message).toBe(`${s.eventTime} works in event time, and this stream has none`);
    }
  });
});

describe("the connector table", () => {
  it("gives FLOW2006's hints: every connector that runs, on its side", () => {
    expect(hintsOf("job j\nsource n: int = valuez([1])\nsink n -> stdout()\n", "FLOW2006")).toContain(`sources: ${running(SOURCES).join(", ")}`);
    expect(hintsOf("job j\nsource n: int = values([1])\nsink n -> stdot()\n", "FLOW2006")).toContain(`sinks: ${running(SINKS).join(", ")}`);
  });

  it("gives completion its connectors, by side", () => {
    expect(complete("job j\nsource n: int = ‸\nsink n -> stdout()\n")).toEqual(SOURCES.map((c) => c.name));
    expect(complete("job j\nsource n: int = values([1])\nsink n -> ‸\n")).toEqual(SINKS.map((c) => c.name));
  });

  it("has every connector that runs named by the catalogue's FLOW2006 fix (the nexmark variants as one)", () => {
    const [sources, sinks] = catalogue.FLOW2006.fix.split("and a sink connector");
    for (const name of running(SOURCES)) expect(sources, name).toContain(name.replace(/_.*/, ""));
    for (const name of running(SINKS)) expect(sinks, name).toContain(name);
  });

  describe("with a connector added as a module and a row, and nothing else", () => {
    // A source of the ints 1..count that also writes a log file: a test connector.
    const numbers: SourceConnectorDef<{ kind: "numbers"; count: number; log: string }> = {
      side: "source",
      name: "numbers",
      kind: "numbers",
      replayable: false,
      args: [
        { name: "count", arg: { kind: "int" }, position: 0, required: true },
        { name: "log", arg: { kind: "string" } },
      ],
      summary: "numbers(count, log: path): the ints 1 to count",
      check: ({ args }) => ({ kind: "numbers", count: args.get("count")!.lit as number, log: (args.get("log")?.lit as string | undefined) ?? "numbers.log" }),
      files: (c, source) => [{ access: "write", path: c.log, arg: "log", positional: false, what: `the log \`${c.log}\` of source \`${source}\`` }],
      manifest: (c, base) => ({ name: base.name, connector: "sequence", type: base.type, from: 1, to: c.count, eventTime: base.eventTime }),
      generated: () => ({ fromJson: false, values: null }),
    };
    const table = SOURCES as SourceEntry[];
    afterEach(() => {
      table.splice(table.indexOf(numbers as unknown as SourceEntry), 1);
    });

    it("checks, completes, hints, collision-checks and writes the manifest from that module", () => {
      table.push(numbers as unknown as SourceEntry);
      expect(complete("job j\nsource n: int = ‸\nsink n -> stdout()\n")).toContain("numbers");
      expect(hintsOf("job j\nsource n: int = numberz(3)\nsink n -> stdout()\n", "FLOW2006")).toContain(`sources: ${running(SOURCES).join(", ")}`);
      expect(hintsOf("job j\nsource n: int = numbers(3, lines: 2)\nsink n -> stdout()\n", "FLOW4008")).toContain("its arguments: count, log");
      // Not replayable: no exactly-once checkpoints.
      expect(frontEnd("job j\ncheckpoint { every 1s }\nsource n: int = numbers(3)\nsink n -> stdout()\n", "job.flow").diagnostics.map((d) => d.code)).toEqual(["FLOW4005"]);
      // The files it writes collide with a sink's.
      const collide = frontEnd('job j\nsource n: int = numbers(3, log: "out.jsonl")\nsink n -> file("out.jsonl")\n', "job.flow").diagnostics;
      expect(collide.map((d) => d.message)).toEqual(["paths collide: the sink file `out.jsonl` is the same file as the log `out.jsonl` of source `n`"]);
      // Its manifest entry.
      const fe = frontEnd("job j\nsource n: int = numbers(3)\nsink n -> stdout()\n", "job.flow");
      expect(fe.diagnostics).toEqual([]);
      const manifest = buildManifest(plan(fe.checked!, "job.flow"), { sourceName: "job.flow", version: "test" });
      expect(manifest.sources).toEqual([{ name: "n", connector: "sequence", type: { t: "int" }, from: 1, to: 3, eventTime: null }]);
    });
  });
});
