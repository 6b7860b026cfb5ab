// Silencing a warning (LANGUAGE.md section 6, "Warnings"): `// allow FLOW4013` on the line
// before a construct, `--allow FLOW4013` for the file; silenced warnings stay in `--json`
// with "silenced": true; errors cannot be silenced.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frontEnd } from "../compiler/compile.js";
import { flowc, tempDir, writeFiles } from "./helpers.js";

/** Two unbounded joins (FLOW4013 each), with `above1` and `above2` on the lines before them. */
const twoJoins = (above1: string, above2: string): string => `job tables
type Rate = { cur: string, rate: float }
source rates: Rate = values([{ cur: "EUR", rate: 1.5 }])
source trades: Rate = values([{ cur: "EUR", rate: 2.0 }])
${above1}
let valued = join trades as t, rates as r on t.cur == r.cur select { value: t.rate * r.rate }
${above2}
let again = join trades as t, rates as r on t.cur == r.cur select { value: t.rate }
sink valued -> stdout()
sink again -> stdout()
`;

const shown = (text: string, allow: string[] = []): string[] =>
  frontEnd(text, "job.flow", { allow })
    .diagnostics.filter((d) => !d.silenced)
    .map((d) => `${d.code}@${d.span.line}`);

describe("// allow FLOWnnnn", () => {
  it("silences that warning on the line after it, and only there", () => {
    expect(shown(twoJoins("", ""))).toEqual(["FLOW4013@6", "FLOW4013@8"]);
    expect(shown(twoJoins("// allow FLOW4013", ""))).toEqual(["FLOW4013@8"]);
    expect(shown(twoJoins("", "// allow FLOW4013: the rates table is small and fixed"))).toEqual(["FLOW4013@6"]);
    // Both: nothing is shown, and both are still there, marked.
    const fe = frontEnd(twoJoins("// allow FLOW4013", "  //allow FLOW4013, FLOW4017"), "job.flow");
    expect(fe.diagnostics.map((d) => [d.code, d.silenced])).toEqual([["FLOW4013", true], ["FLOW4013", true]]);
    expect(fe.ok).toBe(true);
  });

  it("covers the declaration that starts on the next line, through a run of comment lines", () => {
    const text = twoJoins("// allow FLOW4013\n// (the rates table is small)", "").replace("let valued = join", "let valued =\n  join");
    expect(shown(text)).toEqual(["FLOW4013@10"]);
    // A blank line ends the run: the comment is not before the construct.
    expect(shown(twoJoins("// allow FLOW4013\n", ""))).toEqual(["FLOW4013@7", "FLOW4013@9"]);
  });

  it("cannot silence an error; an allow comment that can do nothing is a warning itself (FLOW4017)", () => {
    const text = `job j
source n: int = values([1])
// allow FLOW3001
sink n |> filter(x => x + 1) -> stdout()
`;
    const fe = frontEnd(text, "job.flow");
    expect(fe.ok).toBe(false);
    expect(fe.diagnostics.map((d) => [d.code, d.span.line, d.silenced ?? false])).toEqual([
      ["FLOW4017", 3, false],
      ["FLOW3001", 4, false],
    ]);
    expect(shown(twoJoins("// allow FLOW9999", ""))).toEqual(["FLOW4017@5", "FLOW4013@6", "FLOW4013@8"]);
    expect(shown(twoJoins("// allow", ""))).toEqual(["FLOW4017@5", "FLOW4013@6", "FLOW4013@8"]);
    // Not an allow comment: a word that only starts with it, or text in a string.
    expect(shown(twoJoins("// allowed to grow", "source s: string = values([\"// allow FLOW4013\"])"))).toEqual(["FLOW4013@6", "FLOW4013@8"]);
  });

  it("--allow silences a code in the whole file", () => {
    expect(shown(twoJoins("", ""), ["FLOW4013"])).toEqual([]);
    expect(shown(twoJoins("// allow FLOW9999", ""), ["FLOW4013", "FLOW4017"])).toEqual([]);
  });
});

describe("flowc check|compile --allow", () => {
  const work = tempDir();
  writeFiles(work, { "tables.flow": twoJoins("// allow FLOW4013", "") });

  it("check prints only what is not silenced, says how many were, and --json keeps them with silenced: true", async () => {
    const r = await flowc(["check", "tables.flow"], { cwd: work });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.match(/warning\[FLOW4013\]/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/--> tables\.flow:8:13/);
    expect(r.stderr).toMatch(/^1 warning$/m);
    expect(r.stderr).toMatch(/tables\.flow: ok \(job tables, 1 warning silenced\)/);
    const json = JSON.parse((await flowc(["check", "--json", "tables.flow"], { cwd: work })).stdout) as { code: string; line: number; silenced?: boolean }[];
    expect(json.map((d) => [d.code, d.line, d.silenced])).toEqual([["FLOW4013", 6, true], ["FLOW4013", 8, undefined]]);
    const all = await flowc(["check", "tables.flow", "--allow", "FLOW4013"], { cwd: work });
    expect(all.stderr).toBe("tables.flow: ok (job tables, 2 warnings silenced)");
    const allJson = JSON.parse((await flowc(["check", "--json", "--allow=FLOW4013,FLOW4017", "tables.flow"], { cwd: work })).stdout) as { silenced?: boolean }[];
    expect(allJson.map((d) => d.silenced)).toEqual([true, true]);
  });

  it("compile --allow prints nothing for silenced warnings and writes the bundle", async () => {
    const r = await flowc(["compile", "tables.flow", "--allow", "FLOW4013", "-o", "dist"], { cwd: work });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/warning/);
    expect(existsSync(join(work, "dist", "tables.mjs"))).toBe(true);
  });

  it("refuses an error's code or an unknown one: usage errors (exit 2)", async () => {
    const err = await flowc(["check", "tables.flow", "--allow", "FLOW3001"], { cwd: work });
    expect(err.exitCode).toBe(2);
    expect(err.stderr).toMatch(/--allow: FLOW3001 is an error, and errors cannot be silenced \(the warnings are FLOW4013, FLOW4017, FLOW6008\)/);
    const unknown = await flowc(["compile", "tables.flow", "--allow", "FLOW4099"], { cwd: work });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/--allow: `FLOW4099` is not a diagnostic code/);
  });
});
