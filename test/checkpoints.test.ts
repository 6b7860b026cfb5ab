// Checkpoint options, recovery flags, restarts and graceful stops, with real bundles and
// real processes. (Crash safety under SIGKILL is in faults.test.ts.)

import { execa } from "execa";
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileIn, lines, runBundle, STACK_LINE, tempDir, writeFiles } from "./helpers.js";

interface History {
  id: number;
  kind: string;
  status: string;
  startedAt: string;
  durationMs: number;
  pauseMs: number;
  bytes: number;
  keys: number;
}

function history(dir: string): History[] {
  const p = join(dir, "history.jsonl");
  return existsSync(p) ? readFileSync(p, "utf8").trim().split("\n").map((l) => JSON.parse(l) as History) : [];
}

function completedDirs(root: string): string[] {
  return readdirSync(root).filter((n) => /^chk-\d+$/.test(n) && existsSync(join(root, n, "_metadata")));
}

const counting = (policy: string, to = 3_000_000) => `job counting
checkpoint {
${policy}
}
source n: int = sequence(from: 1, to: ${to})
let counts = n |> key_by(x => x % 5000) |> aggregate(x => { k: key, n: count(), s: sum(x) })
sink counts |> filter(c => c.n % 20 == 0) -> file("out/counts.jsonl")
`;

/** The counting job on a followed file of numbers: it runs until it is stopped. */
const following = (policy: string) =>
  counting(policy).replace(/source n: int = sequence\(from: 1, to: \d+\)/, 'source n: int = file("in.jsonl", follow: true)');

const numbers = (from: number, to: number): string => {
  let t = "";
  for (let i = from; i <= to; i++) t += `${i}\n`;
  return t;
};

/**
 * Runs a job on a followed file, appending more numbers every 20 ms, until its checkpoint
 * history satisfies `done`; then stops it with SIGTERM. Waits on the job's progress, not on
 * the clock, so a fast or a slow machine sees the same test.
 */
async function feedUntil(bundle: string, cwd: string, done: (h: History[]) => boolean, args: string[] = []) {
  const child = execa(process.execPath, [bundle, ...args], { cwd, reject: false, stdin: "ignore" });
  let next = 1_000_000;
  for (let i = 0; i < 1500 && !done(history(join(cwd, "chk"))); i++) {
    appendFileSync(join(cwd, "in.jsonl"), numbers(next, next + 499));
    next += 500;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGTERM");
  const run = await child;
  return { run, entries: history(join(cwd, "chk")) };
}

/** Starts a job, waits until it runs and a little more, sends a signal; returns the result. */
async function stopWith(bundle: string, cwd: string, signal: "SIGTERM" | "SIGINT", after: number, args: string[] = []) {
  const child = execa(process.execPath, [bundle, "--log-level", "info", ...args], { cwd, reject: false, stdin: "ignore" });
  await new Promise<void>((resolve) => child.stderr!.on("data", (d: Buffer) => d.toString().includes("running:") && resolve()));
  await new Promise((r) => setTimeout(r, after));
  child.kill(signal);
  return child;
}

describe("checkpoints", () => {
  it("SIGINT and SIGTERM finish the batch, take a final checkpoint, commit and exit 0; the next start resumes", async () => {
    const dir = tempDir();
    // Enough records that the second run is still reading when its SIGTERM comes (a signal
    // to a job that already ended can find it in Node's own teardown, and kill it).
    const job = counting('  every 50ms\n  storage "./chk"\n  retain 2', 10_000_000);
    const bundle = await compileIn(dir, job);
    const clean = tempDir();
    expect((await runBundle(bundle, { cwd: clean })).exitCode).toBe(0);
    const want = readFileSync(join(clean, "out/counts.jsonl"), "utf8");

    const first = await stopWith(bundle, dir, "SIGINT", 150);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/SIGINT: finishing the batch, then a final checkpoint/);
    expect(first.stderr).toMatch(/info: stopped: \d+ record/);
    const partial = readFileSync(join(dir, "out/counts.jsonl"), "utf8");
    expect(partial.length).toBeGreaterThan(0);
    expect(want.startsWith(partial)).toBe(true);
    // retain 2: two completed checkpoints kept, not more.
    expect(completedDirs(join(dir, "chk")).length).toBe(2);

    const second = await stopWith(bundle, dir, "SIGTERM", 30);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resuming from checkpoint \d+/);
    expect(second.stderr).toMatch(/SIGTERM: finishing the batch, then a final checkpoint/);
    const rest = await runBundle(bundle, { cwd: dir });
    expect(rest.exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/counts.jsonl"), "utf8")).toBe(want);
    expect(completedDirs(join(dir, "chk"))).toEqual([]);
  });

  it("--fresh ignores existing checkpoints and starts over; --checkpoint-dir moves them", async () => {
    const dir = tempDir();
    const bundle = await compileIn(dir, counting('  every 50ms\n  storage "./chk"'));
    const stopped = await stopWith(bundle, dir, "SIGTERM", 150, ["--checkpoint-dir", "elsewhere"]);
    expect(stopped.exitCode).toBe(0);
    expect(existsSync(join(dir, "chk"))).toBe(false);
    expect(completedDirs(join(dir, "elsewhere")).length).toBe(1);
    const fresh = await runBundle(bundle, { cwd: dir, args: ["--checkpoint-dir", "elsewhere", "--fresh", "--log-level", "info"] });
    expect(fresh.exitCode).toBe(0);
    expect(fresh.stderr).not.toMatch(/resuming/);
    expect(fresh.stderr).toMatch(/finished: 3000000 record/);
  });

  it("logs each checkpoint at debug and appends it to history.jsonl; incremental ones write only changed keys", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "in.jsonl"), numbers(1, 200_000));
    const bundle = await compileIn(dir, following('  every 20ms\n  storage "./chk"\n  incremental true'));
    const h = await feedUntil(bundle, dir, (h) => h.length > 3 && h.some((e) => e.kind === "incremental" && e.keys < 5000), ["--log-level", "debug"]);
    expect(h.run.exitCode).toBe(0);
    expect(h.run.stderr).toMatch(/debug: checkpoint 1 \(full\) complete: [\d.]+ ms, pause [\d.]+ ms, \d+ bytes, \d+ keys/);
    expect(h.entries.length).toBeGreaterThan(3);
    for (const e of h.entries) expect(e).toMatchObject({ status: "completed", id: expect.any(Number), durationMs: expect.any(Number), pauseMs: expect.any(Number), bytes: expect.any(Number), keys: expect.any(Number) });
    expect(h.entries[0]!.kind).toBe("full");
    // An incremental checkpoint writes the keys changed since the one before: fewer than all.
    expect(h.entries.some((e) => e.kind === "incremental" && e.keys < 5000), JSON.stringify(h.entries)).toBe(true);
  });

  it("min_pause spaces checkpoints; timeout abandons a slow one, and the output is still complete", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "in.jsonl"), numbers(1, 1000));
    const spaced = await compileIn(dir, following('  every 1ms\n  min_pause 100ms\n  storage "./chk"'));
    const fed = await feedUntil(spaced, dir, (h) => h.length > 3);
    expect(fed.run.exitCode).toBe(0);
    const h = fed.entries;
    expect(h.length).toBeGreaterThan(3);
    for (let i = 1; i < h.length - 1; i++) {
      const gap = Date.parse(h[i]!.startedAt) - (Date.parse(h[i - 1]!.startedAt) + h[i - 1]!.durationMs);
      expect(gap).toBeGreaterThanOrEqual(95);
    }

    const dir2 = tempDir();
    const slow = await compileIn(dir2, counting('  every 20ms\n  timeout 1ms\n  storage "./chk"'));
    const r = await runBundle(slow, { cwd: dir2 });
    expect(r.exitCode).toBe(0);
    const h2 = history(join(dir2, "chk"));
    expect(h2.some((e) => e.status === "abandoned")).toBe(true);
    // A checkpoint ends once: abandoned or completed, never both (a timeout while its
    // _metadata is put in place waits for it).
    expect(new Set(h2.map((e) => e.id)).size, JSON.stringify(h2)).toBe(h2.length);
    const clean = tempDir();
    expect((await runBundle(slow, { cwd: clean, args: ["--checkpoint-dir", "c2"] })).exitCode).toBe(0);
    expect(readFileSync(join(dir2, "out/counts.jsonl"), "utf8")).toBe(readFileSync(join(clean, "out/counts.jsonl"), "utf8"));
  });

  it("refuses a checkpoint taken by a different version of the job (FLOW5006)", async () => {
    const dir = tempDir();
    const v1 = await compileIn(dir, counting('  every 50ms\n  storage "./chk"'));
    expect((await stopWith(v1, dir, "SIGTERM", 100)).exitCode).toBe(0);
    const v2 = await compileIn(dir, counting('  every 50ms\n  storage "./chk"').replace("s: sum(x)", "s: sum(x), m: max(x)"));
    const r = await runBundle(v2, { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error\[FLOW5006\]: checkpoint \d+ in \.\/chk was taken by a different version of job `counting`: operator `counts` keeps n, s, m here, but the checkpoint has n, s/);
    expect(r.stderr).toMatch(/--fresh/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect((await runBundle(v2, { cwd: dir, args: ["--fresh"] })).exitCode).toBe(0);
  });

  it("resumes csv sources and several sources merged in turn at the right record", async () => {
    const rows = ["id,name"];
    for (let i = 0; i < 200_000; i++) rows.push(`${i},"n ${i % 97}${i % 13 === 0 ? ", with comma" : ""}"`);
    const job = `job merged
checkpoint {
  every 20ms
  storage "./chk"
}
type R = { id: int, name: string }
source a: R = file("a.csv")
source b: int = sequence(from: 1, to: 150000)
let both = a |> map(r => r.id) |> union(b) |> key_by(x => x % 1000) |> aggregate(x => { k: key, n: count(), s: sum(x) })
sink both |> filter(c => c.n % 50 == 0) -> file("out/m.jsonl")
`;
    const base = tempDir();
    writeFiles(base, { "a.csv": rows.join("\n") + "\n" });
    const bundle = await compileIn(base, job);
    const clean = tempDir();
    cpSync(join(base, "a.csv"), join(clean, "a.csv"));
    expect((await runBundle(bundle, { cwd: clean })).exitCode).toBe(0);
    const want = readFileSync(join(clean, "out/m.jsonl"), "utf8");
    const work = tempDir();
    cpSync(join(base, "a.csv"), join(work, "a.csv"));
    for (let i = 0; i < 6; i++) {
      const child = execa(process.execPath, [bundle], { cwd: work, reject: false, stdin: "ignore" });
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      child.kill("SIGKILL");
      await child;
    }
    const last = await runBundle(bundle, { cwd: work, args: ["--log-level", "info"] });
    expect(last.exitCode, last.stderr).toBe(0);
    expect(readFileSync(join(work, "out/m.jsonl"), "utf8")).toBe(want);
  });
});

describe("restart policy", () => {
  const udf = `import { existsSync, unlinkSync } from "node:fs";
export function check(x: number): number {
  if (x === 250000 && existsSync("fail-once")) { unlinkSync("fail-once"); throw new Error("a transient failure"); }
  if (x === 250000 && existsSync("fail-always")) throw new Error("a lasting failure");
  return x;
}
`;
  const job = (restart: string) => `job restarting
import { check } from "./udf.ts"
checkpoint {
  every 20ms
  storage "./chk"
}
restart {
${restart}
}
source n: float = values([])
source m: int = sequence(from: 1, to: 300000)
let counts = m |> map(x => check(x + 0.0)) |> key_by(x => round(x) % 100) |> aggregate(x => { k: key, n: count() })
sink counts |> filter(c => c.n % 100 == 0) -> file("out/c.jsonl")
`;

  it("restores the last checkpoint in-process after user code throws, and the output is exact", async () => {
    const dir = tempDir();
    writeFiles(dir, { "udf.ts": udf });
    const bundle = await compileIn(dir, job("  strategy fixed_delay\n  attempts 3\n  delay 10ms"), { file: join(dir, "job.flow") });
    const clean = tempDir();
    expect((await runBundle(bundle, { cwd: clean })).exitCode).toBe(0);
    writeFileSync(join(dir, "fail-once"), "");
    const r = await runBundle(bundle, { cwd: dir, args: ["--log-level", "info"] });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/imported function `check` threw Error: a transient failure — restarting from the last checkpoint in 10 ms \(restart 1 of 3\)/);
    expect(r.stderr).toMatch(/resuming from checkpoint \d+/);
    expect(readFileSync(join(dir, "out/c.jsonl"), "utf8")).toBe(readFileSync(join(clean, "out/c.jsonl"), "utf8"));
  });

  it("exits 1 with the cause when the attempts run out (exponential delays)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "udf.ts": udf, "fail-always": "" });
    const bundle = await compileIn(dir, job("  strategy exponential_delay\n  attempts 2\n  delay 5ms\n  multiplier 3"), { file: join(dir, "job.flow") });
    const r = await runBundle(bundle, { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(lines(r.stderr).filter((l) => /restarting from the last checkpoint in/.test(l)).map((l) => /in (\d+) ms/.exec(l)![1])).toEqual(["5", "15"]);
    expect(r.stderr).toMatch(/error\[FLOW5005\]: imported function `check` threw Error: a lasting failure/);
    expect(r.stderr).toMatch(/gave up after 2 restarts/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("does not restart for bad input, which follows on_error", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": '{"v":1}\n{"v":"x"}\n' });
    const bundle = await compileIn(dir, 'job badin\ncheckpoint { every 10ms storage "./chk" }\nrestart { attempts 5 delay 1s }\ntype R = { v: int }\nsource r: R = file("in.jsonl")\nsink r -> file("out.jsonl")\n');
    const started = Date.now();
    const r = await runBundle(bundle, { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(900);
    expect(r.stderr).toMatch(/FLOW5001/);
    expect(r.stderr).not.toMatch(/restarting/);
  });
});
