// The Nexmark benchmark's three sides agree: for each query in bench/nexmark/queries, the
// compiled flowc job, the hand-written baseline and the RxJS version print the same bytes
// (on fewer events than `npm run bench` uses, and a second seed).

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/compile.js";
import { ROOT, tempDir } from "./helpers.js";

const dir = join(ROOT, "bench", "nexmark");
const queries = readdirSync(join(dir, "queries"))
  .filter((f) => f.endsWith(".flow"))
  .map((f) => f.replace(/\.flow$/, ""));

describe("the Nexmark benchmark", () => {
  it("has every query of the issue, each with a baseline and an RxJS version", () => {
    expect([...queries].sort()).toEqual(["q0", "q1", "q11", "q2", "q3", "q5", "q7", "q8"]);
    for (const q of queries) {
      expect(readdirSync(join(dir, "baseline"))).toContain(`${q}.ts`);
      expect(readdirSync(join(dir, "rxjs"))).toContain(`${q}.ts`);
    }
  });

  it.each(queries)("%s: flowc, the baseline and RxJS print the same output", async (q) => {
    const work = tempDir();
    const outputs: string[] = [];
    for (const [events, seed] of [[30000, 42], [12345, 7]] as const) {
      const text = readFileSync(join(dir, "queries", `${q}.flow`), "utf8").replace(/events: 1000000\b/g, `events: ${events}, seed: ${seed}`);
      const file = join(work, `${q}.flow`);
      writeFileSync(file, text);
      const r = await compile(text, file, { outDir: join(work, "dist"), emitTs: false });
      expect(r.ok).toBe(true);
      const flowc = execFileSync(process.execPath, [r.outFile!], { cwd: work, maxBuffer: 1 << 28 });
      expect(flowc.length).toBeGreaterThan(0);
      for (const side of ["baseline", "rxjs"]) {
        const bundle = join(work, `${q}.${side}.mjs`);
        await esbuild.build({ entryPoints: [join(dir, side, `${q}.ts`)], outfile: bundle, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });
        const got = execFileSync(process.execPath, [bundle, String(events), String(seed)], { maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] });
        expect(got.equals(flowc), `${q} ${side} at ${events} events, seed ${seed}`).toBe(true);
      }
      outputs.push(flowc.toString("utf8"));
    }
    // The seed matters: the two runs are different streams.
    expect(outputs[0]).not.toBe(outputs[1]);
  }, 60_000);
});
