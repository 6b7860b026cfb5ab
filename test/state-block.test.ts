// The `state` block (LANGUAGE.md 7.1): `key_groups` splits checkpointed state by
// hash(key) mod key_groups, is carried in the manifest as `keyGroups`, and a checkpoint taken
// with another count is refused. Real bundles, real processes.

import { execa } from "execa";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileIn, runBundle, STACK_LINE, tempDir } from "./helpers.js";

const job = (state: string) => `job counting
checkpoint {
  every 200ms
  storage "./chk"
}
${state}
source n: int = file("in.jsonl", follow: true)
let counts = n |> key_by(x => x % 1000) |> aggregate(x => { k: key, n: count() })
sink counts -> file("out/counts.jsonl")
`;

function numbers(n: number): string {
  let t = "";
  for (let i = 1; i <= n; i++) t += `${i}\n`;
  return t;
}

function completed(root: string): string[] {
  return existsSync(root) ? readdirSync(root).filter((n) => /^chk-\d+$/.test(n) && existsSync(join(root, n, "_metadata"))) : [];
}

/** Runs a following job until a checkpoint completed, then stops it with SIGTERM (a final checkpoint). */
async function runUntilCheckpoint(bundle: string, cwd: string): Promise<void> {
  const child = execa(process.execPath, [bundle], { cwd, reject: false, stdin: "ignore" });
  for (let i = 0; i < 600 && completed(join(cwd, "chk")).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  child.kill("SIGTERM");
  const r = await child;
  expect(r.exitCode, r.stderr).toBe(0);
}

/** The index of a snapshot file (runtime/checkpoint/snapshot.ts). */
function snapshotIndex(path: string): { keyGroups: { kg: number }[]; groups?: number } {
  const b = readFileSync(path);
  return JSON.parse(b.subarray(16, 16 + b.readUInt32LE(12)).toString("utf8")) as { keyGroups: { kg: number }[]; groups?: number };
}

describe("the state block's key groups", () => {
  it.each(["memory", "disk"])("splits checkpointed state into key_groups groups, and the manifest carries keyGroups (%s backend)", async (backend) => {
    const dir = tempDir("flowc-kg-");
    writeFileSync(join(dir, "in.jsonl"), numbers(5000));
    const bundle = await compileIn(dir, job(`state {\n  key_groups 4\n${backend === "disk" ? "  backend disk\n  cache 10\n" : ""}}`));
    expect(readFileSync(bundle, "utf8")).toMatch(/keyGroups: 4\b/);
    await runUntilCheckpoint(bundle, dir);
    const chk = completed(join(dir, "chk")).sort().at(-1)!;
    const meta = JSON.parse(readFileSync(join(dir, "chk", chk, "_metadata"), "utf8")) as { keyGroups: number; operators: { files: string[] }[] };
    expect(meta.keyGroups).toBe(4);
    const index = snapshotIndex(join(dir, "chk", meta.operators[0]!.files[0]!));
    expect(index.groups).toBe(4);
    expect(index.keyGroups.map((g) => g.kg).sort()).toEqual([0, 1, 2, 3]);
  });

  it("refuses a checkpoint taken with the other state backend (FLOW5006), both ways, without a stack trace", async () => {
    const disk = "state {\n  backend disk\n  cache 10\n}";
    for (const [first, then, was] of [[disk, "", "on disk"], ["", disk, "in memory"]] as const) {
      const dir = tempDir("flowc-backend-switch-");
      writeFileSync(join(dir, "in.jsonl"), numbers(3000));
      await runUntilCheckpoint(await compileIn(dir, job(first)), dir);
      const r = await runBundle(await compileIn(dir, job(then)), { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("error[FLOW5006]");
      expect(r.stderr).toContain(`its state was ${was}; change backends through a savepoint`);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it("refuses a checkpoint taken with another number of key groups, naming both, without a stack trace", async () => {
    const dir = tempDir("flowc-kg-");
    writeFileSync(join(dir, "in.jsonl"), numbers(3000));
    await runUntilCheckpoint(await compileIn(dir, job("")), dir);
    const again = await compileIn(dir, job("state {\n  key_groups 64\n}"));
    const r = await runBundle(again, { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error[FLOW5023]");
    expect(r.stderr).toMatch(/taken with 128 key groups, and this job has 64/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    // Keeping the count resumes.
    const same = await compileIn(dir, job("state {\n  key_groups 128\n}"));
    const child = execa(process.execPath, [same, "--log-level", "info"], { cwd: dir, reject: false, stdin: "ignore" });
    await new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => d.toString().includes("running:") && resolve()));
    child.kill("SIGTERM");
    const ok = await child;
    expect(ok.exitCode).toBe(0);
    expect(ok.stderr).toContain("resuming from checkpoint");
  });
});
