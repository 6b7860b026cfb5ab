// `file(path, follow: true)`: a followed file never ends; lines appended later are read, a
// last line without its line break waits for it, its position goes into checkpoints, and a
// file cut while followed is an error that names it.

import { execa } from "execa";
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileIn, STACK_LINE, tempDir } from "./helpers.js";

const JOB = `job tail
checkpoint {
  every 100ms
  storage "./chk"
}
type E = { k: string }
source e: E = file("in.jsonl", follow: true)
let c = e |> key_by(x => x.k) |> aggregate(x => { k: key, n: count() })
sink c -> file("out.jsonl")
`;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const out = (dir: string): string => (existsSync(join(dir, "out.jsonl")) ? readFileSync(join(dir, "out.jsonl"), "utf8") : "");

describe("follow: true", () => {
  it("reads what is appended, waits for a partial line, commits output while the input is quiet, and resumes after a restart", async () => {
    const dir = tempDir("flowc-follow-");
    writeFileSync(join(dir, "in.jsonl"), '{"k":"a"}\n{"k":"b"}\n{"k":"a');
    const bundle = await compileIn(dir, JOB);
    const job = execa(process.execPath, [bundle], { cwd: dir, reject: false, stdin: "ignore" });
    // Committed by a checkpoint although no more input comes: the loop keeps checkpointing.
    await until(() => out(dir) === '{"k":"a","n":1}\n{"k":"b","n":1}\n', "the first two lines");
    appendFileSync(join(dir, "in.jsonl"), '"}\n{"k":"a"}\n');
    await until(() => out(dir).endsWith('{"k":"a","n":3}\n'), "the completed line and the next");
    job.kill("SIGTERM");
    expect((await job).exitCode).toBe(0);
    expect(out(dir)).toBe('{"k":"a","n":1}\n{"k":"b","n":1}\n{"k":"a","n":2}\n{"k":"a","n":3}\n');

    // Started again, it resumes from its checkpoint: state and position.
    appendFileSync(join(dir, "in.jsonl"), '{"k":"b"}\n');
    const again = execa(process.execPath, [bundle], { cwd: dir, reject: false, stdin: "ignore" });
    await until(() => out(dir).endsWith('{"k":"b","n":2}\n'), "the resumed count");
    again.kill("SIGTERM");
    expect((await again).exitCode).toBe(0);
    expect(out(dir)).toBe('{"k":"a","n":1}\n{"k":"b","n":1}\n{"k":"a","n":2}\n{"k":"a","n":3}\n{"k":"b","n":2}\n');
  });

  it("a followed file that is cut stops the job with a message naming it", async () => {
    const dir = tempDir("flowc-follow-cut-");
    writeFileSync(join(dir, "in.jsonl"), '{"k":"a"}\n{"k":"b"}\n');
    const bundle = await compileIn(dir, JOB);
    const job = execa(process.execPath, [bundle], { cwd: dir, reject: false, stdin: "ignore" });
    await until(() => out(dir).length > 0, "output");
    truncateSync(join(dir, "in.jsonl"), 5);
    const r = await job;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error\[FLOW5002\]: in\.jsonl was cut to 5 bytes while source `e` followed it \(it had read 20\)/);
    expect(r.stderr).toMatch(/hint: a followed file may only grow/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
