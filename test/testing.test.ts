// `flowc test` end to end, as a user runs it (bin/flowc, real processes, real files): test
// files checked against their jobs, tests run in-process on the job's operators, time rules
// and checkpoint encoding, the report (✓/✗ lines, a readable diff), JUnit XML read back by an
// XML parser, exit codes, and --watch re-running on a change.

import { execa } from "execa";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkTestFile, Jobs } from "../compiler/testing/check.js";
import { loadForTest } from "../compiler/testing/load.js";
import { parseTestFile } from "../compiler/testing/parse.js";
import { readFixtureLists } from "../compiler/testing/values.js";
import { FLOWC, flowc, ROOT, STACK_LINE, tempDir, writeFiles } from "./helpers.js";

/** A job with a source, a stream no sink writes, a keyed running aggregate, a window and its late stream. */
const SHOP = `job shop
type Order = { id: int, customer: string, amount: float, ts: timestamp }
source orders: Order = file("orders.jsonl") event_time(o => o.ts) watermark 1s

// No sink writes this one: a test can still expect it.
let big = orders |> filter(o => o.amount >= 100.0) |> map(o => o.id)

let per_customer = orders
  |> key_by(o => o.customer)
  |> aggregate(o => { customer: key, n: count(), total: sum(o.amount) })

let per_minute = orders
  |> key_by(o => o.customer)
  |> window(tumbling(1m), late: too_late)
  |> aggregate(o => { customer: key, n: count(), end: window.end })

sink per_customer -> stdout()
sink per_minute -> file("out/per_minute.jsonl")
`;

const PASSING = `test "orders per customer, as they come" for "shop.flow" {
  given orders [
    { id: 1, customer: "ann", amount: 20.0, ts: 1000 },
    { id: 2, customer: "bob", amount: 150.0, ts: 2000 },
    { id: 3, customer: "ann", amount: 200.5, ts: "1970-01-01T00:00:03Z" },
  ]
  expect per_customer [
    { customer: "ann", n: 1, total: 20.0 },
    { customer: "bob", n: 1, total: 150.0 },
    { customer: "ann", n: 2, total: 220.5 },
  ]
  expect big [2, 3]
  expect state per_customer["ann"] { n: 2, total: 220.5 }
}

test "a window fires at the end of the input, and a late order goes to the late stream" for "shop.flow" {
  given orders [
    { id: 1, customer: "ann", amount: 1.0, ts: 10000 },
    { id: 2, customer: "ann", amount: 1.0, ts: 125000 },
    { id: 3, customer: "ann", amount: 1.0, ts: 20000 },
  ]
  expect per_minute [
    { customer: "ann", n: 1, end: 60000 },
    { customer: "ann", n: 1, end: 180000 },
  ]
  expect too_late [{ id: 3, customer: "ann", amount: 1.0, ts: 20000 }]
}

test "state survives a checkpoint and a restore between two records" for "shop.flow" {
  given orders [
    { id: 1, customer: "ann", amount: 20.0, ts: 1000 },
    restart,
    { id: 2, customer: "ann", amount: 30.0, ts: 2000 },
  ]
  expect per_customer [
    { customer: "ann", n: 1, total: 20.0 },
    { customer: "ann", n: 2, total: 50.0 },
  ]
  expect per_minute [{ customer: "ann", n: 2, end: 60000 }]
}
`;

const FAILING = `test "right" for "shop.flow" {
  given orders [{ id: 1, customer: "ann", amount: 20.0, ts: 1000 }]
  expect big []
}

test "wrong total and a missing record" for "shop.flow" {
  given orders [
    { id: 1, customer: "ann", amount: 0.1, ts: 1000 },
    { id: 2, customer: "ann", amount: 0.2, ts: 2000 },
    { id: 3, customer: "bob", amount: 5.0, ts: 3000 },
  ]
  expect per_customer [
    { customer: "ann", n: 1, total: 0.1 },
    { customer: "ann", n: 2, total: 0.3 },
    { customer: "bob", n: 1, total: 5.0 },
    { customer: "bob", n: 2, total: 10.0 },
  ]
  expect state per_customer["ann"] { n: 3 }
}
`;

function shop(tests: Record<string, string>): string {
  const dir = tempDir("flowc-test-");
  writeFiles(dir, { "shop.flow": SHOP, ...tests });
  return dir;
}

describe("flowc test", () => {
  it("runs every test of the examples: one ✓ line per test, and exit 0 (each example has a test file)", async () => {
    const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow") && !f.endsWith(".test.flow"));
    for (const e of examples) expect(existsSync(join(ROOT, "dsl-examples", e.replace(/\.flow$/, ".test.flow"))), `${e} has a test file`).toBe(true);
    const r = await flowc(["test", "dsl-examples"]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const files = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".test.flow"));
    const tests = files.reduce((n, f) => n + (readFileSync(join(ROOT, "dsl-examples", f), "utf8").match(/^test "/gm) ?? []).length, 0);
    expect(r.stdout.match(/^ {2}✓ .+ \(\d+(\.\d)? (ms|s)\)$/gm)).toHaveLength(tests);
    expect(r.stdout).toMatch(new RegExp(`^${tests} tests: ${tests} passed \\(`, "m"));
  });

  it("passes tests that expect a source, a let stream no sink writes, a late stream and a key's state, across a restart", async () => {
    const dir = shop({ "shop.test.flow": PASSING });
    const r = await flowc(["test"], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("shop.test.flow\n");
    expect(r.stdout).toMatch(/✓ orders per customer, as they come \(/);
    expect(r.stdout).toMatch(/✓ a window fires at the end of the input, and a late order goes to the late stream \(/);
    expect(r.stdout).toMatch(/✓ state survives a checkpoint and a restore between two records \(/);
    expect(r.stdout).toMatch(/^3 tests: 3 passed \(.*1 job compiled in/m);
    // Nothing written: not the job's file sink, nor anything else.
    expect(readdirSync(dir).sort()).toEqual(["shop.flow", "shop.test.flow"]);
  });

  it("prints which record and which field differ for a failing test, and exits 1", async () => {
    const dir = shop({ "shop.test.flow": FAILING });
    const r = await flowc(["test", "shop.test.flow"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/✓ right \(/);
    // 0.1 + 0.2 is 0.30000000000000004: floats compare as JSON prints them.
    expect(r.stdout).toContain(`  ✗ wrong total and a missing record (`);
    expect(r.stdout).toContain(`
      expect per_customer (shop.test.flow:12:3): 4 records expected, 3 found
        - expected  + found
          #1 { customer: "ann", n: 1, total: 0.1 }
        - #2 { customer: "ann", n: 2, total: 0.3 }
        + #2 { customer: "ann", n: 2, total: 0.30000000000000004 }
            total: expected 0.3, found 0.30000000000000004
          #3 { customer: "bob", n: 1, total: 5 }
        - #4 { customer: "bob", n: 2, total: 10 }
      expect state per_customer["ann"] (shop.test.flow:18:3)
          n: expected 3, found 2
`);
    expect(r.stdout).toMatch(/^2 tests: 1 passed, 1 failed/m);
    expect(r.stdout).not.toMatch(STACK_LINE);
  });

  it("reports a fixture that does not fit the source's type with its span in the test file, and runs nothing (exit 1)", async () => {
    const dir = shop({
      "shop.test.flow": `test "typo" for "shop.flow" {
  given orders [
    { id: 1, customer: "ann", amount: "20", ts: 1000 },
  ]
  expect big []
}
`,
    });
    const r = await flowc(["test"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error[FLOW3001]: expected float, found string
 --> shop.test.flow:3:39
  |
3 |     { id: 1, customer: "ann", amount: "20", ts: 1000 },
  |                                       ^^^^ this is string
`);
    expect(r.stdout).toMatch(/✗ typo \(not run: the test has errors\)/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("reports a job with errors in the job's file, and its tests as not run", async () => {
    const dir = tempDir("flowc-test-");
    writeFiles(dir, {
      "jobs/bad.flow": "job bad\nsource n: int = values([1])\nsink n |> filter(x => x + 1) -> stdout()\n",
      "tests/bad.test.flow": 'test "t" for "../jobs/bad.flow" { expect n [] }\n',
    });
    const r = await flowc(["test", "tests"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error[FLOW6001]: the job `jobs/bad.flow` has 1 error: its tests cannot run\n --> tests/bad.test.flow:1:14");
    expect(r.stderr).toContain("error[FLOW3001]: expected bool, found int\n --> jobs/bad.flow:3:23");
  });

  it("writes JUnit XML that an XML parser reads: a suite per file, a case per test, failures with their diff", async () => {
    const dir = shop({ "a.test.flow": PASSING, "b.test.flow": FAILING, "c.test.flow": 'test "x" for "shop.flow" { given orders [{ id: "one" }] expect big [] }\n' });
    const r = await flowc(["test", "--reporter", "junit", "--out", "report.xml"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    // The human report still goes to stdout.
    expect(r.stdout).toMatch(/✗ wrong total and a missing record/);
    const text = readFileSync(join(dir, "report.xml"), "utf8");
    expect(XMLValidator.validate(text)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => name === "testsuite" || name === "testcase" }).parse(text) as {
      testsuites: { tests: string; failures: string; errors: string; testsuite: { name: string; tests: string; failures: string; errors: string; testcase: { name: string; classname: string; line?: string; time: string; failure?: { message: string; "#text": string }; error?: { message: string; "#text": string } }[] }[] };
    };
    const root = doc.testsuites;
    expect([root.tests, root.failures, root.errors]).toEqual(["6", "1", "1"]);
    const [a, b, c] = root.testsuite;
    expect(a!.name).toBe("a.test.flow");
    expect(a!.testcase.map((t) => t.name)).toEqual(["orders per customer, as they come", "a window fires at the end of the input, and a late order goes to the late stream", "state survives a checkpoint and a restore between two records"]);
    expect(a!.testcase.every((t) => t.failure === undefined && t.error === undefined && /^\d+\.\d{3}$/.test(t.time))).toBe(true);
    expect([b!.tests, b!.failures, b!.errors]).toEqual(["2", "1", "0"]);
    const failed = b!.testcase[1]!;
    expect(failed.classname).toBe("b");
    expect(failed.line).toBe("6");
    expect(failed.failure!.message).toBe("expect per_customer (b.test.flow:12:3): 4 records expected, 3 found");
    expect(failed.failure!["#text"]).toContain("total: expected 0.3, found 0.30000000000000004");
    expect(failed.failure!["#text"]).toContain('- #4 { customer: "bob", n: 2, total: 10 }');
    expect(c!.testcase[0]!.error!.message).toBe("not run: the test has errors");
    expect(c!.testcase[0]!.error!["#text"]).toContain("error[FLOW3001]: expected int, found string");
  });

  it("writes the XML to stdout without --out, and nothing else there", async () => {
    const dir = shop({ "shop.test.flow": PASSING });
    const r = await flowc(["test", "--reporter", "junit"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    expect(r.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="flowc test" tests="3" failures="0" errors="0"/);
  });

  it("fails a test whose job fails, with the runtime error's code and .flow location", async () => {
    const dir = tempDir("flowc-test-");
    writeFiles(dir, {
      "div.flow": "job div\nsource n: int = values([1])\nlet r = n |> map(x => 10 % x)\nsink r -> stdout()\n",
      "div.test.flow": 'test "by zero" for "div.flow" {\n  given n [2, 0, 3]\n  expect r [0, 1]\n}\n',
    });
    const r = await flowc(["test"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("      the job failed: error[FLOW5003]: remainder of a division by zero (`% 0`)");
    expect(r.stdout).toContain("        --> div.flow:3:26");
    expect(r.stdout).toContain("      expect r (div.test.flow:3:3): 2 records expected, 1 found");
    expect(r.stdout).not.toMatch(STACK_LINE);
  });

  it("exits 2 for usage errors: an unknown flag, a missing path, a job given as a test, --out without junit, no test files", async () => {
    const dir = shop({ "shop.test.flow": PASSING, "empty/.keep": "" });
    for (const args of [["test", "--fast"], ["test", "nope"], ["test", "shop.flow"], ["test", "--out", "x.xml"], ["test", "--reporter", "tap"], ["test", "empty"]]) {
      const r = await flowc(args, { cwd: dir });
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/^error: .+\n\nRun `flowc --help` for usage\.$/);
    }
  });

  it("finds test files below the working directory, but not in node_modules or hidden folders", async () => {
    const dir = shop({ "a/b/deep.test.flow": PASSING.replace(/"shop.flow"/g, '"../../shop.flow"'), "node_modules/x/skip.test.flow": "not a test", ".hidden/skip.test.flow": "not a test" });
    const r = await flowc(["test"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("a/b/deep.test.flow\n");
    expect(r.stdout).not.toContain("skip");
  });

  it("flowc check checks a test file against its job; compile, run and graph refuse one (exit 2)", async () => {
    const dir = shop({ "ok.test.flow": PASSING, "bad.test.flow": 'test "x" for "shop.flow" {\n  given orders [{ id: 1.5, customer: "a", amount: 1.0, ts: 0 }]\n  expect big []\n}\n' });
    const ok = await flowc(["check", "ok.test.flow"], { cwd: dir });
    expect([ok.exitCode, ok.stderr]).toEqual([0, "ok.test.flow: ok (3 tests)"]);
    const bad = await flowc(["check", "bad.test.flow", "--json"], { cwd: dir });
    expect(bad.exitCode).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual([expect.objectContaining({ code: "FLOW3001", message: "expected int, found float (this is float)", file: "bad.test.flow", line: 2, column: 23 })]);
    for (const command of ["compile", "run", "graph"]) {
      const r = await flowc([command, "ok.test.flow"], { cwd: dir });
      expect(r.exitCode, command).toBe(2);
      expect(r.stderr, command).toContain("ok.test.flow is a test file: run its tests with flowc test ok.test.flow");
    }
  });

  it("expects the state of an operator whose stream no sink reads", async () => {
    const dir = tempDir("flowc-test-");
    writeFiles(dir, {
      "unread.flow": "job unread\nsource n: int = values([1])\nlet seen = n |> key_by(x => x % 2) |> aggregate(x => { k: key, c: count() })\nsink n -> stdout()\n",
      "unread.test.flow": 'test "counts" for "unread.flow" {\n  given n [1, 2, 3]\n  expect state seen[1] { c: 2 }\n  expect state seen[0] { c: 1 }\n}\n',
    });
    const r = await flowc(["test"], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  it("keeps test, given and expect ordinary names in a job", async () => {
    const dir = tempDir("flowc-test-");
    writeFiles(dir, {
      "names.flow": "job names\nsource given: int = values([1])\nlet expect = given |> map(test => test * 2)\nlet test = expect |> filter(x => x > 2)\nsink test -> stdout()\n",
      "names.test.flow": 'test "names" for "names.flow" {\n  given given [1, 2]\n  expect expect [2, 4]\n  expect test [4]\n}\n',
    });
    expect((await flowc(["check", "names.flow"], { cwd: dir })).exitCode).toBe(0);
    const r = await flowc(["test"], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  it("--watch runs again when the job changes, and stops on SIGTERM", async () => {
    const dir = shop({ "shop.test.flow": PASSING });
    const child = execa(FLOWC, ["test", "--watch"], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1" } });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 1200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(re);
    };
    try {
      await waitFor(/3 tests: 3 passed[^\n]*\n\nwatching for changes/);
      // The job changes: big orders from 1000 on, so `expect big [2, 3]` fails.
      writeFileSync(join(dir, "shop.flow"), SHOP.replace("o.amount >= 100.0", "o.amount >= 1000.0"));
      await waitFor(/shop\.flow changed: running again[\s\S]*3 tests: 2 passed, 1 failed/);
      expect(out).toMatch(/✗ orders per customer, as they come[\s\S]*expect big \(shop\.test\.flow:12:3\): 2 records expected, 0 found/);
    } finally {
      child.kill("SIGTERM");
    }
    const r = await child;
    expect(r.exitCode).toBe(1);
  });
});

describe("test files are checked like jobs", () => {
  it("a mutated test file gives diagnostics, never an exception", () => {
    const dir = tempDir("flowc-test-");
    writeFiles(dir, { "shop.flow": SHOP });
    const base = PASSING + FAILING;
    const jobs = new Jobs();
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 16807) % 2147483647;
      return seed % n;
    };
    const pieces = ["{", "}", "[", "]", ",", ":", "restart", "given", "expect", "state", "unordered", "from", '"x"', "1.5", "-", "null", "\n", "test", "for"];
    for (let i = 0; i < 300; i++) {
      let t = base;
      for (let k = 0; k < 1 + rnd(3); k++) {
        const at = rnd(t.length);
        t = rnd(2) ? t.slice(0, at) + pieces[rnd(pieces.length)]! + t.slice(at) : t.slice(0, at) + t.slice(at + 1 + rnd(8));
      }
      const r = checkTestFile(t, join(dir, "m.test.flow"), jobs);
      for (const d of r.diagnostics) expect(d.span.line).toBeGreaterThanOrEqual(1);
      if (!r.ok) expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
    }
  });
});

describe("fixture lists read without Ohm", () => {
  const tree = (text: string, fast: boolean): string => {
    const r = parseTestFile(text, "t.test.flow", { fast });
    return JSON.stringify({ tree: r.tree, diagnostics: r.diagnostics.list });
  };

  it("give the tree Ohm gives, for every example's test file", () => {
    for (const f of readdirSync(join(ROOT, "dsl-examples")).filter((x) => x.endsWith(".test.flow"))) {
      const text = readFileSync(join(ROOT, "dsl-examples", f), "utf8");
      const src = parseTestFile(text, f).source;
      // Every list of these files is read by the short path.
      expect(readFixtureLists(text, src).length, f).toBe((text.match(/\b(given|expect) \w+ (unordered )?\[/g) ?? []).length);
      expect(tree(text, true), f).toBe(tree(text, false));
    }
  });

  it("give the tree Ohm gives for any values, and leave what is not a value to Ohm", () => {
    const word = fc.constantFrom("a", "at", "null_", "x1", "_y");
    const leaf = fc.oneof(
      fc.integer({ min: -1e6, max: 1e6 }).map(String),
      fc.constantFrom("1_000", "2.5", "-0.5", "1e6", "2.5e-3", "5s", "250ms", "1h", "true", "false", "null", "9007199254740993", "1e999", "x", "1 + 2", "f(1)", '"a\\nb"', '"\\u{1F600}"', '"\\q"', "- 3", "--1", "[]", "{}", "{ a }"),
      fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
    );
    const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("v"), { maxLength: 3 }).map((xs) => `[${xs.join(", ")}]`),
        fc.array(fc.tuple(fc.oneof(word, fc.string({ maxLength: 4 }).map((s) => JSON.stringify(s))), tie("v")), { maxLength: 3 }).map((fs) => `{ ${fs.map(([k, v]) => `${k}: ${v}`).join(", ")} }`),
      ),
    })).v;
    const entries = fc.array(fc.oneof(value, fc.constant("restart"), fc.constant("// c\n")), { maxLength: 5 }).map((xs) => xs.join(",\n    "));
    let short = 0;
    fc.assert(
      fc.property(entries, entries, fc.boolean(), (given, expected, unordered) => {
        const text = `test "t" for "j.flow" {\n  given s [${given}]\n  expect out ${unordered ? "unordered " : ""}[${expected},]\n}\n`;
        if (readFixtureLists(text, parseTestFile("", "t.test.flow").source).length) short++;
        expect(tree(text, true)).toBe(tree(text, false));
      }),
      { numRuns: 400 },
    );
    // The short path took a good part of them (the others hold something only Ohm reads).
    expect(short).toBeGreaterThan(100);
  });
});

describe("the module a test runs", () => {
  it("type-checks for every example, with a probe on each of its streams (flowc test leaves that check to this test)", async () => {
    const jobs = new Jobs();
    for (const f of readdirSync(join(ROOT, "dsl-examples")).filter((x) => x.endsWith(".flow") && !x.endsWith(".test.flow"))) {
      const job = jobs.get(join(ROOT, "dsl-examples", f), f);
      if (!("fe" in job)) throw new Error(job.error);
      const c = job.fe.checked!;
      const late = [...c.lets, ...c.sinks].flatMap((p) => p.stages.flatMap((st) => (st.kind === "window" && st.window.late ? [st.window.late] : [])));
      const streams = [...c.sources.map((s) => s.name), ...c.lets.map((l) => l.name), ...late];
      // emit throws GeneratedCodeError when the module does not type-check.
      const mod = await loadForTest(job, streams, { typeCheck: true });
      expect([...mod.probes.keys()].sort(), f).toEqual([...streams].sort());
      expect(mod.job.manifest.sinks.length, f).toBe(c.sinks.length + streams.length);
    }
  });
});

describe("a job's own bundle", () => {
  it("is what it was: no probe sinks and none of the test harness, with a test file beside the job", async () => {
    const dir = shop({ "shop.test.flow": PASSING });
    const r = await flowc(["compile", "shop.flow", "-o", "dist", "--emit-ts"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const bundle = readFileSync(join(dir, "dist", "shop.mjs"), "utf8");
    const ts = readFileSync(join(dir, "dist", "shop.ts"), "utf8");
    expect(ts).not.toContain("probe:");
    expect((ts.match(/\$ctx\.sink\(/g) ?? []).length).toBe(2);
    for (const name of ["GivenSource", "runJob", "checkpointedWatermark"]) expect(bundle, name).not.toContain(name);
  });
});
