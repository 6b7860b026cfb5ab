// parse: every example becomes an AST (snapshotted, with spans), and syntax errors point at
// the right place and say what was expected.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type * as A from "../compiler/ast.js";
import { parse } from "../compiler/parse.js";
import { printAst } from "../compiler/print.js";
import { diagnose, ROOT } from "./helpers.js";

const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow") && !f.endsWith(".test.flow")).sort();

describe("parsing the examples", () => {
  it.each(examples)("%s parses into the snapshotted AST", async (name) => {
    const file = `dsl-examples/${name}`;
    const r = parse(readFileSync(join(ROOT, file), "utf8"), file);
    expect(r.diagnostics.list).toEqual([]);
    await expect(printAst(r.program)).toMatchFileSnapshot(join(ROOT, "test", "snapshots", "ast", name.replace(/\.flow$/, ".ast.txt")));
  });
});

/** All nodes of a tree. */
function nodes(v: unknown, out: { kind: string; span?: A.Span }[] = []): { kind: string; span?: A.Span }[] {
  if (Array.isArray(v)) v.forEach((x) => nodes(x, out));
  else if (v && typeof v === "object") {
    if ("kind" in v) out.push(v as { kind: string; span?: A.Span });
    for (const [k, x] of Object.entries(v)) if (k !== "span") nodes(x, out);
  }
  return out;
}

describe("spans", () => {
  it("every node of every example carries a span that lies inside the file", () => {
    for (const name of examples) {
      const text = readFileSync(join(ROOT, "dsl-examples", name), "utf8");
      const r = parse(text, name);
      const all = nodes(r.program);
      expect(all.length).toBeGreaterThan(20);
      for (const n of all) {
        expect(n.span, `${n.kind} in ${name}`).toBeDefined();
        expect(n.span!.start).toBeGreaterThanOrEqual(0);
        expect(n.span!.end).toBeLessThanOrEqual(text.length);
        expect(n.span!.file).toBe(name);
      }
    }
  });

  it("a name's span covers exactly its text", () => {
    const text = "job j\nsource nums: int = values([1])\nlet doubled = nums |> map(n => n * 2)\nsink doubled -> stdout()\n";
    const r = parse(text, "j.flow");
    const let_ = r.program!.decls[1] as A.LetDecl;
    expect(text.slice(let_.name.span.start, let_.name.span.end)).toBe("doubled");
    expect([let_.name.span.line, let_.name.span.col]).toEqual([3, 5]);
  });
});

describe("literals", () => {
  const expr = (src: string): A.Expr => {
    const r = parse(`job j\nfn f(): int = ${src}`, "j.flow");
    expect(r.diagnostics.list.map((d) => d.message)).toEqual([]);
    return (r.program!.decls[0] as A.FnDecl).body;
  };

  it("reads integers with underscores, floats, durations and escapes", () => {
    expect(expr("1_000_000")).toMatchObject({ kind: "Int", value: 1000000 });
    expect(expr("2.5e-3")).toMatchObject({ kind: "Float", value: 0.0025 });
    expect(expr("1e6")).toMatchObject({ kind: "Float", value: 1e6 });
    expect(expr("250ms")).toMatchObject({ kind: "Duration", ms: 250 });
    expect(expr("10m")).toMatchObject({ kind: "Duration", ms: 600000 });
    expect(expr("7d")).toMatchObject({ kind: "Duration", ms: 7 * 86400000 });
    expect(expr('"a\\tb\\n\\"q\\" \\\\ \\u{1F600}"')).toMatchObject({ kind: "String", value: 'a\tb\n"q" \\ \u{1F600}' });
  });

  it("binds operators by precedence: * over +, comparison over and, ?? over comparison", () => {
    const e = expr("a + b * c > d ?? 0 and not e or f") as A.ExprOf<"Binary">;
    expect(e.op).toBe("or");
    const and = e.left as A.ExprOf<"Binary">;
    expect(and.op).toBe("and");
    const cmp = and.left as A.ExprOf<"Binary">;
    expect(cmp.op).toBe(">");
    expect((cmp.left as A.ExprOf<"Binary">).op).toBe("+");
    expect((cmp.right as A.ExprOf<"Binary">).op).toBe("??");
    expect((and.right as A.ExprOf<"Unary">).op).toBe("not");
  });

  it("accepts keywords as record field names", () => {
    expect(expr("{ at: 1, in: 2, state: 3 }.at")).toMatchObject({ kind: "Field", field: { name: "at" } });
  });
});

describe("syntax errors", () => {
  const error = (text: string) => {
    const r = parse(text, "bad.flow");
    expect(r.program).toBeNull();
    expect(r.diagnostics.list).toHaveLength(1);
    return r.diagnostics.list[0]!;
  };

  it("name the line, the column and what was expected", () => {
    const d = error("job j\nsource n: int = values([1, 2)\n");
    expect(d.code).toBe("FLOW1001");
    expect([d.span.line, d.span.col]).toEqual([2, 29]);
    expect(d.message).toMatch(/expected `\]`/);
    expect(d.message).toMatch(/found `\)`/);
  });

  it("explain a reserved keyword used as a name", () => {
    const d = error("job j\nlet state = x\n");
    expect(d.message).toMatch(/found `state`/);
    expect(d.hints.join(" ")).toMatch(/reserved keyword/);
  });

  it("report the end of the file", () => {
    const d = error("job j\nlet x = y |>");
    expect(d.message).toMatch(/found the end of the file/);
  });

  it("report unknown escapes and keep parsing", () => {
    const r = parse('job j\nfn f(): string = "a\\qb"\n', "e.flow");
    expect(r.program).not.toBeNull();
    expect(r.diagnostics.list[0]).toMatchObject({ code: "FLOW1002", message: "unknown escape \\q" });
    expect(r.diagnostics.list[0]!.span.col).toBe(20);
  });

  it("report integers that are too large to be exact", () => {
    const r = parse("job j\nfn f(): int = 9007199254740993\n", "e.flow");
    expect(r.diagnostics.list[0]).toMatchObject({ code: "FLOW1003" });
  });

  it("report float literals too large to be finite, quoting them as written", () => {
    const r = parse("job j\nfn f(): float = 1.5 + 1_0e400 - 1e308\n", "e.flow");
    expect(r.diagnostics.list.map((d) => [d.code, d.message, d.span.col])).toEqual([["FLOW1003", "float literal 1_0e400 is too large", 23]]);
  });

  it("show an invisible character in the message escaped, with carets under the escape", () => {
    const d = error("job j\nlet x = y \u200B|> map(v => v)\n");
    expect(d.message).toMatch(/, found `\\u\{200B\}`$/);
    expect(diagnose("job j\nlet x = y \u200B|> map(v => v)\n")).toContain("2 | let x = y \\u{200B}|> map(v => v)\n  |           ^^^^^^^^ unexpected `\\u{200B}`");
  });
});

describe("the text around the code", () => {
  const program = "job j\nsource n: int = values([1])\nlet d = n |> map(x => y)\nsink d -> stdout()\n";

  it("a byte order mark at the start is not part of the first line: columns count from the character after it", () => {
    const plain = parse(program, "j.flow");
    const marked = parse("\uFEFF" + program, "j.flow");
    expect(marked.diagnostics.list).toEqual([]);
    expect(printAst(marked.program)).toBe(printAst(plain.program));
    expect(diagnose("\uFEFFjob 1x\n")).toBe(diagnose("job 1x\n"));
    expect(diagnose("\uFEFF" + program)).toBe(diagnose(program));
  });

  it("a byte order mark anywhere else is an error that shows the mark escaped", () => {
    expect(diagnose("job j\n\uFEFFsink n -> stdout()\n")).toMatch(/^error\[FLOW1001\]: expected .*, found `\\u\{FEFF\}`\n --> job\.flow:2:1\n/);
  });

  it("spans and string values read through comments and long strings as written", () => {
    const long = "x".repeat(10_000);
    const text = `job j /* a\nblock */ // line\nsource s: string = values(["${long}", "a\\tb", ""])\n\n\n   // more\nlet d = s |> map(v => v + "!")\nsink d -> stdout()\n`;
    const r = parse(text, "j.flow");
    expect(r.diagnostics.list).toEqual([]);
    const all = nodes(r.program);
    for (const n of all) if (n.kind === "Ident") expect(text.slice(n.span!.start, n.span!.end)).toBe((n as A.Ident).name);
    const strings = all.filter((n): n is A.StringLit => n.kind === "String");
    expect(strings.map((n) => n.value)).toEqual([long, "a\tb", "", "!"]);
    expect(strings.map((n) => text.slice(n.span.start, n.span.end))).toEqual([`"${long}"`, '"a\\tb"', '""', '"!"']);
    expect([strings[3]!.span.line, strings[3]!.span.col]).toEqual([7, 27]);
  });

  it("declarations parsed one by one give the program, spans and diagnostics the whole text gives", () => {
    const goldens = readdirSync(join(ROOT, "test", "golden", "errors")).filter((f) => f.endsWith(".flow")).map((f) => join("test", "golden", "errors", f));
    for (const file of [...examples.map((f) => join("dsl-examples", f)), ...goldens]) {
      const text = readFileSync(join(ROOT, file), "utf8");
      const pieces = parse(text, file);
      const whole = parse(text, file, { byDeclaration: false });
      expect(JSON.stringify(pieces.program), file).toBe(JSON.stringify(whole.program));
      expect(pieces.diagnostics.list, file).toEqual(whole.diagnostics.list);
    }
  });
});

describe("recovery", () => {
  it("reports the syntax errors of several declarations in one run", () => {
    const r = parse("job j\nsource n: int = values([1, 2)\nlet x = n |> filter(m => m > 2\nsink x -> stdout()\nlet y = n |> map(v => v +)\nsink y -> stdout()\n", "r.flow");
    expect(r.program).toBeNull();
    expect(r.diagnostics.list.map((d) => `${d.code} ${d.span.line}:${d.span.col}`)).toEqual(["FLOW1001 2:29", "FLOW1001 4:1", "FLOW1001 5:26"]);
  });
});
