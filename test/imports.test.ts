// Imported TypeScript functions (section 8): signatures read with ts-morph and mapped to
// .flow types, calls type-checked, the function bundled into the job, results checked at
// run time, and what a function throws reported as a runtime error.

import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frontEnd } from "../compiler/compile.js";
import { compileIn, lines, runBundle, STACK_LINE, tempDir, writeFiles } from "./helpers.js";

const udf = `
import { helper } from "./lib/helper.ts";
export interface Scored { label: string; score: number; tags: string[]; note?: string }
export function score(amount: number, merchant: string): number {
  return helper(merchant) ? amount * 2 : amount;
}
export const classify = (amount: number, hint: string | null): Scored =>
  ({ label: amount > 100 ? "big" : "small", score: amount / 10, tags: hint ? [hint] : [] });
export function firstOr(xs: readonly string[], d: "none" | "empty"): string { return xs[0] ?? d; }
export function explode(x: number): number { if (x > 500) throw new RangeError("too big: " + x); return x; }
export function lie(): number { return "not a number" as any; }
`;

describe("imported TypeScript functions", () => {
  it("map their signatures to .flow types", () => {
    const dir = tempDir();
    writeFiles(dir, { "udf.ts": udf, "lib/helper.ts": "export const helper = (m: string): boolean => m.startsWith('web');\n" });
    const fe = frontEnd('job j\nimport { score, classify, firstOr } from "./udf.ts"\n', join(dir, "job.flow"));
    expect(fe.diagnostics).toEqual([]);
    const sig = (n: string) => {
      const f = fe.checked!.imports.get(n)!;
      return `(${f.params.map((p) => JSON.stringify(p.type)).join(", ")}) => ${JSON.stringify(f.result)}`;
    };
    expect(sig("score")).toBe('({"kind":"prim","name":"float"}, {"kind":"prim","name":"string"}) => {"kind":"prim","name":"float"}');
    expect(fe.checked!.imports.get("classify")!.result).toEqual({
      kind: "record",
      name: "Scored",
      fields: [
        { name: "label", type: { kind: "prim", name: "string" } },
        { name: "score", type: { kind: "prim", name: "float" } },
        { name: "tags", type: { kind: "list", elem: { kind: "prim", name: "string" } } },
        { name: "note", type: { kind: "optional", inner: { kind: "prim", name: "string" } } },
      ],
    });
    expect(fe.checked!.imports.get("firstOr")!.params.map((p) => p.type.kind)).toEqual(["list", "prim"]);
  });

  it("type-check calls against the mapped signature", () => {
    const dir = tempDir();
    writeFiles(dir, { "udf.ts": udf, "lib/helper.ts": "export const helper = (m: string): boolean => true;\n" });
    const fe = frontEnd('job j\nimport { score } from "./udf.ts"\nsource n: int = values([1])\nsink n |> map(x => score(x, 5)) -> stdout()\n', join(dir, "job.flow"));
    expect(fe.diagnostics.map((d) => [d.code, d.message, d.span.line, d.span.col])).toEqual([["FLOW3001", "expected string, found int", 4, 29]]);
  });

  it("are bundled into the job, which runs without the TypeScript files", async () => {
    const dir = tempDir();
    writeFiles(dir, { "src/udf.ts": udf, "src/lib/helper.ts": "export const helper = (m: string): boolean => m.startsWith('web');\n" });
    const bundle = await compileIn(
      dir,
      `job scoring
import { score, classify } from "./src/udf.ts"
type Txn = { amount: float, merchant: string }
source t: Txn = values([{ amount: 10.0, merchant: "web-shop" }, { amount: 200.0, merchant: "cafe" }])
sink t |> map(x => { s: score(x.amount, x.merchant), c: classify(x.amount, if x.amount > 100.0 then "hi" else null) }) -> stdout()
`,
      { file: join(dir, "job.flow") },
    );
    rmSync(join(dir, "src"), { recursive: true });
    const elsewhere = tempDir();
    cpSync(bundle, join(elsewhere, "scoring.mjs"));
    const r = await runBundle(join(elsewhere, "scoring.mjs"), { cwd: elsewhere });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout)).toEqual([
      '{"s":20,"c":{"label":"small","score":1,"tags":[],"note":null}}',
      '{"s":200,"c":{"label":"big","score":20,"tags":["hi"],"note":null}}',
    ]);
  });

  it("report what a function throws, and a result that does not fit its type, as FLOW5005", async () => {
    const dir = tempDir();
    writeFiles(dir, { "udf.ts": udf, "lib/helper.ts": "export const helper = (m: string): boolean => false;\n" });
    const thrower = await compileIn(dir, 'job thrower\nimport { explode } from "./udf.ts"\nsource n: float = values([1.0, 900.0])\nsink n |> map(x => explode(x)) -> stdout()\n', { file: join(dir, "job.flow") });
    const r = await runBundle(thrower, { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("1");
    expect(r.stderr).toMatch(/error\[FLOW5005\]: imported function `explode` threw RangeError: too big: 900/);
    expect(r.stderr).toMatch(/--> job\.flow:2:10/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).toMatch(/--log-level debug/);
    const debug = await runBundle(thrower, { cwd: dir, args: ["--log-level", "debug"] });
    expect(debug.stderr).toMatch(/at explode \(/);

    const liar = await compileIn(dir, 'job liar\nimport { lie } from "./udf.ts"\nsource n: int = values([1])\nsink n |> map(x => lie() + 1.0) -> stdout()\n', { file: join(dir, "job.flow") });
    const l = await runBundle(liar, { cwd: dir });
    expect(l.exitCode).toBe(1);
    expect(l.stderr).toMatch(/imported function `lie` returned a value that does not fit its type: expected float, found string "not a number"/);
  });
});
