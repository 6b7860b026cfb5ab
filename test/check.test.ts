// check: one golden case per diagnostic code. Each file under test/golden/errors/ starts
// with `// fail: FLOWnnnn` (or `// warn: FLOWnnnn` for a warning); the rendered diagnostics (source lines and carets included) are
// snapshotted beside it as <name>.txt. Also: the examples check clean, and no compile-time
// code of the catalogue lacks a golden case.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frontEnd } from "../compiler/compile.js";
import { catalogue } from "../compiler/diagnostics/catalogue.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { checkTestFile, Jobs } from "../compiler/testing/check.js";
import { diagnose, ROOT } from "./helpers.js";

const dir = join(ROOT, "test", "golden", "errors");
const cases = readdirSync(dir).filter((f) => f.endsWith(".flow")).sort();

describe("golden diagnostics", () => {
  it.each(cases)("%s reports its code with the snapshotted message", async (name) => {
    const text = readFileSync(join(dir, name), "utf8");
    const [, kind, code] = /^\/\/ (fail|warn): (FLOW\d{4})/.exec(text) ?? [];
    expect(code, "first line must be // fail: FLOWnnnn (or // warn: for a warning)").toBeDefined();
    const fe = frontEnd(text, name, { baseDir: dir });
    // A warning alone does not fail the compile.
    expect(fe.ok).toBe(kind === "warn");
    expect(fe.diagnostics.map((d) => d.code)).toContain(code);
    const rendered = renderDiagnostics(fe.diagnostics, () => fe.source, false);
    expect(rendered).not.toMatch(/internal/);
    await expect(rendered).toMatchFileSnapshot(join(dir, name.replace(/\.flow$/, ".txt")));
  });

  it("every compile-time code in the catalogue has a golden case", () => {
    const covered = new Set([...cases, ...testCases].map((c) => c.slice(0, 8)));
    const compileTime = Object.keys(catalogue).filter((c) => !c.startsWith("FLOW5"));
    expect(compileTime.filter((c) => !covered.has(c))).toEqual([]);
  });
});

// Test files (`*.test.flow`): one folder per case under test/golden/tests/, holding the test
// file (its first line `// fail: FLOWnnnn` or `// warn: …`), the job it tests and any fixture
// files; the rendered diagnostics are snapshotted as expected.txt.
const testsDir = join(ROOT, "test", "golden", "tests");
const testCases = readdirSync(testsDir).sort();

describe("golden diagnostics of test files", () => {
  it.each(testCases)("%s reports its code with the snapshotted message", async (name) => {
    const dir = join(testsDir, name);
    const file = readdirSync(dir).find((f) => f.endsWith(".test.flow"))!;
    const text = readFileSync(join(dir, file), "utf8");
    const [, kind, code] = /^\/\/ (fail|warn): (FLOW\d{4})/.exec(text) ?? [];
    expect(code, "first line must be // fail: FLOWnnnn (or // warn: for a warning)").toBeDefined();
    const r = checkTestFile(text, file, new Jobs(), dir);
    expect(r.ok).toBe(kind === "warn");
    expect(r.diagnostics.map((d) => d.code)).toContain(code);
    const rendered = renderDiagnostics(r.diagnostics, r.sources, false);
    expect(rendered).not.toMatch(/internal/);
    await expect(rendered).toMatchFileSnapshot(join(dir, "expected.txt"));
  });
});

describe("the examples", () => {
  const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow") && !f.endsWith(".test.flow"));
  it.each(examples)("%s checks without diagnostics", (name) => {
    const fe = frontEnd(readFileSync(join(ROOT, "dsl-examples", name), "utf8"), name);
    expect(renderDiagnostics(fe.diagnostics, () => fe.source)).toBe("\n");
  });
});

describe("literals in messages", () => {
  it("are quoted as written: underscores kept, a too-large integer not rounded or replaced", () => {
    const job = (size: string) => `job j\nsource n: int = values([1]) event_time(x => x) watermark 1s\nsink n |> key_by(x => 1) |> window(tumbling(${size})) |> aggregate(x => count()) as c -> stdout()\n`;
    expect(diagnose(job("1_000"))).toMatch(/`size` must be a duration literal such as 10s\n[\s\S]*hint: write a unit: 1_000s, 1_000ms, …/);
    const big = diagnose(job("9007199254740993"));
    expect(big).toMatch(/integer literal 9007199254740993 is too large/);
    expect(big).toMatch(/hint: write a unit: 9007199254740993s, 9007199254740993ms, …/);
    expect(big).not.toMatch(/9007199254740992|\b0s\b/);
    const option = diagnose("job j\ncheckpoint { every 1_500 }\nsource n: int = values([1])\nsink n -> stdout()\n");
    expect(option).toMatch(/`every` expects a duration such as 10s, found `1_500`\n[\s\S]*hint: write a unit: `every 1_500s` or `every 1_500ms`/);
  });
});

describe("math built-ins", () => {
  it("take and give floats (an int argument widens), so a result needs round to be an int", () => {
    const job = (e: string) => `job j\nsource n: int = values([4])\nsink n |> map(x => { r: ${e} }) -> stdout()\n`;
    expect(diagnose(job("round(sqrt(x)) + round(pow(x, 2)) + round(exp(1)) + round(ln(x)) + round(log10(x)) + round(sign(x))"))).toBe("");
    expect(diagnose(`job j\nfn half(x: int): int = sqrt(x)\nsource n: int = values([4])\nsink n |> map(x => half(x)) -> stdout()\n`)).toMatch(/expected int, found float/);
    expect(diagnose(`job j\nsource n: string = values(["4"])\nsink n |> map(x => sqrt(x)) -> stdout()\n`)).toMatch(/sqrt: expected float, found string[\s\S]*hint: sqrt\(float\): float/);
    expect(diagnose(`job j\nsource n: float = values([4.0])\nsink n |> map(x => pow(x)) -> stdout()\n`)).toMatch(/pow: expected 2 arguments, found 1/);
  });

  it("another language's name of one gets the built-in's name as a hint", () => {
    expect(diagnose(`job j\nsource n: float = values([4.0])\nsink n |> map(x => log(x)) -> stdout()\n`)).toMatch(/unknown function `log`[\s\S]*hint: the built-in is called `ln` \(the natural logarithm\) or `log10`/);
    expect(diagnose(`job j\nsource n: float = values([4.0])\nsink n |> map(x => signum(x)) -> stdout()\n`)).toMatch(/hint: the built-in is called `sign`/);
  });
});
