// Programs at the size and nesting limits (docs/language.md, "Limits"), through the real CLI:
// deep nesting a person or a generator writes compiles and runs; anything deeper is FLOW1004
// with a place in the file, never a crash; megabytes of comments or of one string literal
// parse in linear memory (a child process with a heap limit is the memory assertion).

import { execa } from "execa";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FLOWC, flowc, lines, runBundle, STACK_LINE, tempDir } from "./helpers.js";

const HEAD = "job deep\nsource numbers: int = values([0, 1, 299, 599, 700])\n";

/** `map(x => ((…(x + 1)…)))` with `depth` parentheses around the body. */
function parens(depth: number): string {
  return `${HEAD}sink numbers |> map(x => ${"(".repeat(depth)}x + 1${")".repeat(depth)}) -> stdout()\n`;
}

/** `if x == 0 then 0 else if x == 1 then 10 else … else -1` with `branches` branches. */
function ifChain(branches: number): string {
  const chain = Array.from({ length: branches }, (_, i) => `if x == ${i} then ${i * 10} else `).join("\n    ");
  return `${HEAD}sink numbers |> map(x =>\n    ${chain}-1) -> stdout()\n`;
}

/** The same chain as statements in a process block. */
function ifStatements(branches: number): string {
  const chain = Array.from({ length: branches }, (_, i) => `if x == ${i} { emit ${i * 10} }`).join(" else\n    ");
  return `${HEAD}sink numbers |> key_by(x => x % 2) |> process(x) as pick {\n    ${chain} else { emit -1 }\n  } -> stdout()\n`;
}

/** Compiles with bin/flowc (as a user does) and runs the bundle. */
async function compileAndRunCli(dir: string, name: string, text: string): Promise<string[]> {
  writeFileSync(join(dir, name), text);
  const c = await flowc(["compile", name, "-o", "out"], { cwd: dir });
  expect(c.stderr).not.toMatch(/internal|Maximum call stack/);
  expect(c.exitCode).toBe(0);
  const run = await runBundle(join(dir, "out", "deep.mjs"), { cwd: dir });
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
  return lines(run.stdout);
}

/** `flowc check` of a program that is too deep: FLOW1004 at line:col, exit 1, no crash. */
async function tooDeep(dir: string, name: string, text: string): Promise<string> {
  writeFileSync(join(dir, name), text);
  for (const command of ["check", "compile"]) {
    const r = await flowc([command, name, ...(command === "compile" ? ["-o", "out"] : [])], { cwd: dir });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^error\[FLOW1004\]: nesting too deep/);
  }
  return (await flowc(["check", name], { cwd: dir })).stderr;
}

describe("nesting a person or a generator writes", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("flowc-limits-");
  });

  it("300 nested parentheses compile and the bundle computes through them", async () => {
    expect(await compileAndRunCli(dir, "parens.flow", parens(300))).toEqual(["1", "2", "300", "600", "701"]);
  });

  it("a 600-branch if … then … else if … expression compiles and picks the right branch", async () => {
    expect(await compileAndRunCli(dir, "chain.flow", ifChain(600))).toEqual(["0", "10", "2990", "5990", "-1"]);
  });

  it("a 600-branch if … { } else if … { } chain in a process block compiles and picks the right branch", async () => {
    expect(await compileAndRunCli(dir, "statements.flow", ifStatements(600))).toEqual(["0", "10", "2990", "5990", "-1"]);
  });

  it("flowc run and flowc graph take a program nested 300 deep too", async () => {
    writeFileSync(join(dir, "run.flow"), parens(300));
    const run = await flowc(["run", "run.flow"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(lines(run.stdout)).toEqual(["1", "2", "300", "600", "701"]);
    const graph = await flowc(["graph", "run.flow"], { cwd: dir });
    expect(graph.exitCode).toBe(0);
    expect(graph.stdout).toMatch(/^flowchart/);
  });

  it("calls nested 790 deep and sums nested 395 deep (each `+` counts two levels) compile, and the job's own stack takes the generated code", async () => {
    const calls = `fn f(x: int): int = x + 1\nsink numbers |> map(x => ${"f(".repeat(790)}x${")".repeat(790)}) -> stdout()\n`;
    const sums = `sink numbers |> map(x => ${"1 + (".repeat(395)}x${")".repeat(395)}) -> file("sums.jsonl")\n`;
    expect(await compileAndRunCli(dir, "calls.flow", HEAD + calls + sums)).toEqual(["790", "791", "1089", "1389", "1490"]);
    expect(lines(readFileSync(join(dir, "sums.jsonl"), "utf8"))).toEqual(["395", "396", "694", "994", "1095"]);
  });

  it("records and lists 16 levels deep compile and print", async () => {
    const text = `${HEAD}sink numbers |> filter(x => x == 1) |> map(x => { r: ${"{ a: ".repeat(15)}x${" }".repeat(15)}, l: ${"[".repeat(15)}x${"]".repeat(15)} }) -> stdout()\n`;
    const [out] = await compileAndRunCli(dir, "nested.flow", text);
    expect(JSON.parse(out!)).toEqual({ r: JSON.parse(`${'{"a":'.repeat(15)}1${"}".repeat(15)}`), l: JSON.parse(`${"[".repeat(15)}1${"]".repeat(15)}`) });
  });
});

describe("nesting deeper than the limits", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("flowc-limits-");
  });

  it("more than 1000 brackets is FLOW1004 at the bracket that goes past the limit", async () => {
    // `map(` is the first bracket: the 1000th parenthesis is bracket 1001.
    const out = await tooDeep(dir, "brackets.flow", parens(1000));
    expect(out).toMatch(/more than 1000 brackets are open here\n --> brackets\.flow:3:1025\n/);
    expect(out).toMatch(/\^ bracket 1001/);
  });

  it("an else-if chain of more than 800 levels is FLOW1004 at the branch that goes past the limit", async () => {
    const out = await tooDeep(dir, "chain.flow", ifChain(800));
    // The lambda is level 1, branch i level i + 2: the `x` in the condition of branch 797 is level 801.
    expect(out).toMatch(/expressions and statements nest more than 800 levels here\n   --> chain\.flow:801:8\n/);
    expect(out).toMatch(/801 \|     if x == 797 then 7970 else \n {4}\| {8}\^ level 801\n/);
    expect(out).toMatch(/each `else if` branch nests one level deeper/);
  });

  it("sums nested 401 deep are FLOW1004 (each `+` counts two levels), not a job whose own parser overflows", async () => {
    const out = await tooDeep(dir, "sums.flow", `${HEAD}sink numbers |> map(x => ${"1 + (".repeat(401)}x${")".repeat(401)}) -> stdout()\n`);
    expect(out).toMatch(/expressions and statements nest more than 800 levels here\n --> sums\.flow:3:/);
  });

  it("an operator chain too long to parse is FLOW1004 at the token where the scan stops it", async () => {
    const out = await tooDeep(dir, "nots.flow", `${HEAD}sink numbers |> filter(x => ${"not ".repeat(25_000)}(x > 1)) -> stdout()\n`);
    expect(out).toMatch(/this expression chains too many operators and keywords to parse\n --> nots\.flow:3:/);
  });

  it("a record nested 17 deep is FLOW1004 at the record", async () => {
    const out = await tooDeep(dir, "records.flow", `${HEAD}sink numbers |> map(x => ${"{ a: ".repeat(17)}x${" }".repeat(17)}) -> stdout()\n`);
    expect(out).toMatch(/this type nests records, lists, maps and optionals more than 16 levels deep\n --> records\.flow:3:26\n/);
  });

  it("a declared type nested 30 deep is FLOW1004 at the declaration, not a failure to type-check the generated code", async () => {
    const type = `${"{ a: ".repeat(30)}int${" }".repeat(30)}`;
    const out = await tooDeep(dir, "declared.flow", `job deep\ntype D = ${type}\nsource s: D = file("in.jsonl")\nsink s -> stdout()\n`);
    expect(out).toMatch(/--> declared\.flow:2:10\n/);
  });
});

describe("size", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("flowc-size-");
  });

  /** bin/flowc under a heap limit: it fails with an out-of-memory crash if parsing is not linear. */
  async function limitedFlowc(args: string[], heapMb: number) {
    return execa(process.execPath, [`--max-old-space-size=${heapMb}`, FLOWC, ...args], { cwd: dir, reject: false, env: { NO_COLOR: "1" }, timeout: 120_000 });
  }

  it("5 MB of comments check within a 1 GB heap", async () => {
    const comments = `// ${"x".repeat(77)}\n/* ${"y".repeat(76)} */\n`.repeat(Math.ceil(5_000_000 / 160));
    writeFileSync(join(dir, "comments.flow"), `job commented\n${comments}source n: int = values([1])\nsink n -> stdout()\n`);
    const r = await limitedFlowc(["check", "comments.flow"], 1024);
    expect(r.stderr).toBe("comments.flow: ok (job commented)");
    expect(r.exitCode).toBe(0);
  });

  it("a 5 MB string literal compiles within a 1 GB heap and the job prints it", async () => {
    const big = "flow".repeat(1_250_000);
    writeFileSync(join(dir, "string.flow"), `job big_string\nsource s: string = values(["${big}", "end"])\nsink s |> map(x => len(x)) -> stdout()\nsink s |> filter(x => len(x) > 3) -> file("out.txt")\n`);
    const r = await limitedFlowc(["compile", "string.flow", "-o", "out"], 1024);
    expect(r.stderr).toMatch(/^compiled string\.flow/);
    expect(r.exitCode).toBe(0);
    const run = await runBundle(join(dir, "out", "big_string.mjs"), { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(lines(run.stdout)).toEqual(["5000000", "3"]);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe(`${JSON.stringify(big)}\n`);
  });

  it("10,000 fn declarations check within a 512 MB heap", async () => {
    const fns = Array.from({ length: 10_000 }, (_, i) => `fn f${i}(x: int): int = x + ${i}`).join("\n");
    writeFileSync(join(dir, "fns.flow"), `job many_fns\n${fns}\nsource n: int = values([1])\nsink n |> map(x => f9999(x)) -> stdout()\n`);
    const r = await limitedFlowc(["check", "fns.flow"], 512);
    expect(r.stderr).toBe("fns.flow: ok (job many_fns)");
    expect(r.exitCode).toBe(0);
  });
});
