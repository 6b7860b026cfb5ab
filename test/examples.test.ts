// End to end: every example in dsl-examples/ is compiled, its generated TypeScript is
// snapshotted, and the bundle runs with plain node in a fresh folder (no node_modules) and
// prints exactly its golden output (dsl-examples/expected/: stdout, stderr when it has
// something to say, and files written to out/). An example that needs a server (NATS) has a
// script that starts one on loopback and prints what the job wrote (dsl-examples/<name>.mjs).

import { execa } from "execa";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/compile.js";
import { ROOT, runBundle, tempDir } from "./helpers.js";

const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow") && !f.endsWith(".test.flow")).map((f) => f.replace(/\.flow$/, "")).sort();

describe("examples", () => {
  it("include the running sum, a keyed word count and a fraud alert with a process block", () => {
    expect(examples).toEqual(expect.arrayContaining(["running_sum", "word_count", "fraud_alert"]));
  });

  it.each(examples)("%s compiles, runs with node and prints its golden output", async (name) => {
    const work = tempDir(`flowc-example-${name}-`);
    cpSync(join(ROOT, "dsl-examples"), join(work, "dsl-examples"), { recursive: true });
    const file = `dsl-examples/${name}.flow`;
    const r = await compile(readFileSync(join(ROOT, file), "utf8"), file, { outDir: join(work, "dist"), emitTs: true });
    expect(r.diagnostics).toEqual([]);
    await expect(readFileSync(r.tsFile!, "utf8")).toMatchFileSnapshot(join(ROOT, "test", "snapshots", "emit", `${name}.ts.txt`));

    // An example with a script of its own (dsl-examples/<name>.mjs) needs a server: the script
    // starts one on loopback, runs the job against it and prints what the job wrote there.
    const script = join(ROOT, "dsl-examples", `${name}.mjs`);
    if (existsSync(script)) {
      const sr = await execa(process.execPath, [script], { cwd: ROOT, reject: false, stdin: "ignore", timeout: 60_000 });
      expect(sr.exitCode, sr.stderr).toBe(0);
      expect(sr.stdout + "\n").toBe(readFileSync(join(ROOT, "dsl-examples", "expected", `${name}.stdout`), "utf8"));
      return;
    }

    // The bundle alone, in a folder with no node_modules anywhere above it.
    const bundleDir = tempDir(`flowc-bundle-${name}-`);
    cpSync(r.outFile!, join(bundleDir, `${name}.mjs`));
    const run = await runBundle(join(bundleDir, `${name}.mjs`), { cwd: work });
    // What the job tells on stderr (a count of late elements, say) is golden too.
    const stderrFile = join(ROOT, "dsl-examples", "expected", `${name}.stderr`);
    expect(run.stderr).toBe(existsSync(stderrFile) ? readFileSync(stderrFile, "utf8").trimEnd() : "");
    expect(run.exitCode).toBe(0);
    expect(run.stdout + "\n").toBe(readFileSync(join(ROOT, "dsl-examples", "expected", `${name}.stdout`), "utf8"));

    for (const produced of readdirSync(join(ROOT, "dsl-examples", "expected")).filter((f) => f.startsWith(`${name}.out.`))) {
      const got = join(work, "out", `${name}.${produced.slice(name.length + 5)}`);
      expect(existsSync(got), `${got} written`).toBe(true);
      expect(readFileSync(got, "utf8")).toBe(readFileSync(join(ROOT, "dsl-examples", "expected", produced), "utf8"));
    }
  });
});
