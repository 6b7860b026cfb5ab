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
import { ROOT } from "./helpers.js";

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
    const covered = new Set(cases.map((c) => c.slice(0, 8)));
    const compileTime = Object.keys(catalogue).filter((c) => !c.startsWith("FLOW5"));
    expect(compileTime.filter((c) => !covered.has(c))).toEqual([]);
  });
});

describe("the examples", () => {
  const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow"));
  it.each(examples)("%s checks without diagnostics", (name) => {
    const fe = frontEnd(readFileSync(join(ROOT, "dsl-examples", name), "utf8"), name);
    expect(renderDiagnostics(fe.diagnostics, () => fe.source)).toBe("\n");
  });
});
