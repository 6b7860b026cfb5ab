// `npm test` ends with the language conformance cases from ../shared/conformance. A user's
// clone has no ../shared: there the step says in one line that it was skipped and passes.

import { execa } from "execa";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDir } from "./helpers.js";

describe("the conformance step of npm test", () => {
  it("is the last step of npm test", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toMatch(/vitest run && node scripts\/conformance\.mjs$/);
  });

  it("skips with one line and exits 0 in a checkout with no ../shared beside it", async () => {
    const clone = join(tempDir("flowc-bare-"), "flowc");
    mkdirSync(join(clone, "scripts"), { recursive: true });
    copyFileSync(join(ROOT, "scripts", "conformance.mjs"), join(clone, "scripts", "conformance.mjs"));
    const r = await execa(process.execPath, [join(clone, "scripts", "conformance.mjs")], { cwd: clone, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["conformance: skipped (no ../shared/conformance beside this checkout)"]);
  });

});
