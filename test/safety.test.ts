// Safety of the files a job touches, with real bundles, real files and real processes:
// two copies of a job on one checkpoint folder or output (locks, FLOW5010), paths that
// collide (FLOW4014 at compile time, FLOW5011 at run time), inputs validated before any
// output is touched, recovery that starts over, the checkpoint folder's FORMAT (FLOW5012),
// and inputs that are not regular files (a FIFO). docs/operations.md, "Safety".

import { execa, type ResultPromise } from "execa";
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { compileIn, diagnose, lines, runBundle, STACK_LINE, tempDir, writeFiles } from "./helpers.js";

/** Every file under a folder (hidden ones too), with its bytes; `dist/` left out. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (rel === "dist") continue;
      if (e.isDirectory()) {
        out[`${rel}/`] = "";
        walk(p);
      } else if (e.isSymbolicLink()) out[rel] = `-> link`;
      else if (e.isFile()) out[rel] = readFileSync(p).toString("base64");
      else out[rel] = "(special)";
    }
  };
  walk(dir);
  return out;
}

/** Lock files left anywhere under a folder. */
function lockFiles(dir: string): string[] {
  return Object.keys(tree(dir)).filter((p) => /(^|\/)(LOCK|\.[^/]+\.flowc-lock)$/.test(p));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (or fails the test after `ms`). */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Started {
  child: ResultPromise<{ cwd: string; reject: false; stdin: "ignore" }>;
  stderr(): string;
  exited: boolean;
}

/** Starts a bundle; its stderr is collected as it comes. */
function start(bundle: string, cwd: string, args: string[] = []): Started {
  const child = execa(process.execPath, [bundle, ...args], { cwd, reject: false, stdin: "ignore", env: { NO_COLOR: "1" } });
  let err = "";
  const s: Started = { child, stderr: () => err, exited: false };
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  void child.then(() => (s.exited = true));
  return s;
}

function outLines(path: string): number {
  return existsSync(path) ? lines(readFileSync(path, "utf8")).length : 0;
}

/** A job that follows its input (so it runs until stopped) and copies it to a file. */
const copying = (checkpoint: string | null, name = "copier", follow = true) => `job ${name}
${checkpoint === null ? "" : `checkpoint {\n  ${checkpoint}\n  storage "./chk"\n}\n`}type R = { n: int, d: int }
source r: R = file("in.jsonl"${follow ? ", follow: true" : ""}, on_error: "dead_letter", dead_letter: "out/bad.jsonl")
sink r |> map(x => { n: x.n, q: x.n % x.d }) -> file("out/copy.jsonl")
`;

function input(n: number, zeroAt = -1): string {
  let s = "";
  for (let i = 1; i <= n; i++) s += `{"n":${i},"d":${i === zeroAt ? 0 : (i % 7) + 1}}\n`;
  return s + "{broken\n";
}

function expected(n: number): string {
  let s = "";
  for (let i = 1; i <= n; i++) s += `{"n":${i},"q":${i % ((i % 7) + 1)}}\n`;
  return s;
}

describe("two copies of one job", () => {
  it("a second copy refuses with FLOW5010, naming the running copy's pid and the lock file, and touches nothing (with --fresh too)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(5000) });
    // A first run reads the whole input and stops with a checkpoint at its end.
    const quick = await compileIn(tempDir(), copying("every 50ms\n  mode exactly_once"));
    const first = start(quick, dir, ["--log-level", "info"]);
    await until(() => first.stderr().includes("running:") && outLines(join(dir, "out/copy.jsonl")) >= 5000, "the first run's output");
    first.child.kill("SIGTERM");
    expect((await first.child).exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(5000));

    // The same job checkpointing only when it stops: resumed at the end of its input, the
    // first copy waits for more and changes nothing meanwhile.
    const bundle = await compileIn(dir, copying("every 1h\n  mode exactly_once"));
    const holder = start(bundle, dir, ["--log-level", "info"]);
    await until(() => holder.stderr().includes("running:"), "the first copy to run");
    const before = tree(dir);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(["chk/LOCK", "out/.copy.jsonl.flowc-lock", "out/.bad.jsonl.flowc-lock"]));
    for (const args of [[], ["--fresh"]]) {
      const second = await runBundle(bundle, { cwd: dir, args });
      expect(second.exitCode, second.stderr).toBe(1);
      expect(second.stderr).toContain(`error[FLOW5010]: the checkpoint folder ./chk is in use by another copy of job \`copier\` (pid ${holder.child.pid}, running since `);
      expect(second.stderr).toContain("lock file chk/LOCK");
      expect(second.stderr).not.toMatch(STACK_LINE);
      expect(tree(dir)).toEqual(before);
    }
    holder.child.kill("SIGTERM");
    const r = await holder.child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(5000));
    expect(lockFiles(dir)).toEqual([]);
  });

  it("of two copies started at the same moment exactly one runs, the other refuses, and the output is exact", async () => {
    const base = tempDir();
    const n = 60_000;
    const bundle = await compileIn(base, copying("every 50ms\n  mode exactly_once"));
    for (let round = 0; round < 4; round++) {
      const dir = tempDir();
      writeFiles(dir, { "in.jsonl": input(n) });
      const a = start(bundle, dir);
      const b = start(bundle, dir);
      // The loser exits at once; the winner follows its input until it is stopped.
      await until(() => a.exited || b.exited, "one copy to refuse");
      const [loser, winner] = a.exited ? [a, b] : [b, a];
      const lost = await loser.child;
      expect(lost.exitCode, lost.stderr).toBe(1);
      expect(lost.stderr).toMatch(new RegExp(`error\\[FLOW5010\\]: .* is in use by another copy of job \`copier\` \\(pid ${winner.child.pid}, `));
      await until(() => outLines(join(dir, "out/copy.jsonl")) >= n, "the winner's output");
      expect(winner.exited).toBe(false);
      winner.child.kill("SIGTERM");
      const won = await winner.child;
      expect(won.exitCode, won.stderr).toBe(0);
      expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(n));
      expect(readFileSync(join(dir, "out/bad.jsonl"), "utf8")).toContain('"record":"{broken"');
      expect(lines(readFileSync(join(dir, "out/bad.jsonl"), "utf8"))).toHaveLength(1);
      expect(lockFiles(dir)).toEqual([]);
    }
  });

  it("a lock left by a copy killed with SIGKILL does not block the restart, which resumes from its checkpoint", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(20_000) });
    const bundle = await compileIn(dir, copying("every 50ms\n  mode exactly_once"));
    const first = start(bundle, dir);
    await until(() => outLines(join(dir, "out/copy.jsonl")) > 0, "committed output");
    first.child.kill("SIGKILL");
    expect((await first.child).signal).toBe("SIGKILL");
    expect(lockFiles(dir).sort()).toEqual(["chk/LOCK", "out/.bad.jsonl.flowc-lock", "out/.copy.jsonl.flowc-lock"]);
    const again = start(bundle, dir, ["--log-level", "info"]);
    await until(() => again.stderr().includes("running:"), "the restarted copy");
    await until(() => outLines(join(dir, "out/copy.jsonl")) >= 20_000, "the restarted copy's output");
    again.child.kill("SIGTERM");
    const r = await again.child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming from checkpoint \d+/);
    expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(20_000));
    expect(lockFiles(dir)).toEqual([]);
  });

  it("a lock whose pid now belongs to another process (started at another time) is stale; one naming that very process is not", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(100) });
    const bundle = await compileIn(dir, copying("every 50ms\n  mode exactly_once", "copier", false));
    const other = execa(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { reject: false });
    try {
      const pid = other.pid!;
      await until(() => existsSync(`/proc/${pid}/stat`), "the other process");
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
      const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      mkdirSync(join(dir, "chk"));
      writeFileSync(join(dir, "chk/FORMAT"), "flowc-checkpoints 1\n");
      // The same pid, another start time: the pid was reused after the holder died.
      writeFileSync(join(dir, "chk/LOCK"), JSON.stringify({ pid, start: String(Number(started) + 1), boot, job: "copier" }));
      const r = await runBundle(bundle, { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(100));
      expect(lockFiles(dir)).toEqual([]);
      // The very process: held.
      writeFileSync(join(dir, "chk/LOCK"), JSON.stringify({ pid, start: started, boot, job: "copier" }));
      const before = tree(dir);
      const held = await runBundle(bundle, { cwd: dir });
      expect(held.exitCode).toBe(1);
      expect(held.stderr).toContain(`(pid ${pid})`);
      expect(tree(dir)).toEqual(before);
    } finally {
      other.kill("SIGKILL");
      await other;
    }
  });

  it("a job without a checkpoint block locks its file sinks: another job writing the same file refuses and leaves it as it is", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(3000) });
    const bundle = await compileIn(dir, copying(null));
    const holder = start(bundle, dir);
    await until(() => outLines(join(dir, "out/copy.jsonl")) >= 3000, "the first job's output");
    const otherDir = tempDir();
    const other = await compileIn(otherDir, 'job other\nsource n: int = values([1, 2, 3])\nsink n |> map(x => { n: x, q: 0 }) -> file("out/copy.jsonl")\n');
    const before = tree(dir);
    const r = await runBundle(other, { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error[FLOW5010]: the sink file out/copy.jsonl is in use by job \`copier\` (pid ${holder.child.pid}, running since `);
    expect(r.stderr).toContain("lock file out/.copy.jsonl.flowc-lock");
    expect(tree(dir)).toEqual(before);
    holder.child.kill("SIGTERM");
    expect((await holder.child).exitCode).toBe(0);
    expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(3000));
    expect(lockFiles(dir)).toEqual([]);
  });

  it("a job keeps its locks while it waits to restart; SIGTERM ends the wait, and every lock file is gone when it exits", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(2000, 1500) });
    const bundle = await compileIn(dir, copying("every 20ms\n  mode exactly_once", "copier", false).replace("type R", "restart {\n  attempts 1\n  delay 60s\n}\ntype R"));
    const run = start(bundle, dir);
    await until(() => run.stderr().includes("restarting from the last checkpoint"), "the first failure");
    const second = await runBundle(bundle, { cwd: dir });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`is in use by another copy of job \`copier\` (pid ${run.child.pid}, `);
    // SIGTERM ends the wait: the job restarts, stops at once with a checkpoint, and exits 0.
    run.child.kill("SIGTERM");
    const r = await run.child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("FLOW5010");
    expect(lockFiles(dir)).toEqual([]);
  });
});

describe("paths that collide", () => {
  const job = (sinks: string, source = 'file("in.jsonl")') => `job paths\ntype R = { n: int }\nsource r: R = ${source}\n${sinks}`;

  it("are a compile error when literal paths name one file (FLOW4014), with a note at the first use", () => {
    const cases: [string, string][] = [
      ['sink r -> file("out.jsonl")\nsink r -> file("./out.jsonl")\n', "the sink file `./out.jsonl` is the same file as the sink file `out.jsonl`"],
      ['sink r -> file("out/a.jsonl")\nsink r -> file("out/x/../a.jsonl")\n', "the sink file `out/x/../a.jsonl` is the same file as the sink file `out/a.jsonl`"],
      ['sink r -> file("out//a.jsonl")\nsink r -> file("out/a.jsonl")\n', "the sink file `out/a.jsonl` is the same file as the sink file `out//a.jsonl`"],
      ['sink r -> file("./in.jsonl")\n', "the sink file `./in.jsonl` is the same file as the input `in.jsonl` of source `r`"],
    ];
    for (const [sinks, message] of cases) {
      const d = diagnose(job(sinks));
      expect(d).toContain(`error[FLOW4014]: paths collide: ${message}`);
      expect(d).toMatch(/note: (written|read) here first/);
    }
    const dl = diagnose(job('sink r -> file("bad.jsonl")\n', 'file("in.jsonl", on_error: "dead_letter", dead_letter: "in.jsonl")'));
    expect(dl).toContain("the dead-letter file `in.jsonl` of source `r` is the same file as the input `in.jsonl` of source `r`");
    const sinkDl = diagnose(job('sink r -> file("bad.jsonl")\n', 'file("in.jsonl", on_error: "dead_letter", dead_letter: "./bad.jsonl")'));
    expect(sinkDl).toContain("the sink file `bad.jsonl` is the same file as the dead-letter file `./bad.jsonl` of source `r`");
    // Two sources may read one file; other files do not collide.
    expect(diagnose(`job paths\ntype R = { n: int }\nsource a: R = file("in.jsonl")\nsource b: R = file("./in.jsonl")\nsink a -> file("in.jsonl.out")\nsink b -> file("out/in.jsonl")\n`)).toBe("");
  });

  it("are refused at run time through symbolic and hard links, before anything is written (FLOW5011)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": '{"n":1}\n{"n":2}\n', "other.jsonl": "earlier output\n", "real/out.jsonl": "real output\n" });
    symlinkSync("in.jsonl", join(dir, "link.jsonl"));
    linkSync(join(dir, "in.jsonl"), join(dir, "hard.jsonl"));
    symlinkSync("real", join(dir, "alias"));
    const cases: [string, RegExp][] = [
      ['sink r -> file("other.jsonl")\nsink r -> file("link.jsonl")\n', /paths collide: the sink file link\.jsonl and the input of source `r` \(in\.jsonl\) are the same file \(both are in\.jsonl\)/],
      ['sink r -> file("other.jsonl")\nsink r -> file("hard.jsonl")\n', /paths collide: the sink file hard\.jsonl and the input of source `r` \(in\.jsonl\) are the same file \(hard links to one file: device \d+, inode \d+\)/],
      ['sink r -> file("other.jsonl")\nsink r -> file("real/out.jsonl")\nsink r -> file("alias/out.jsonl")\n', /paths collide: the sink file alias\/out\.jsonl and the sink file real\/out\.jsonl are the same file \(both are real\/out\.jsonl\)/],
      ['sink r -> file("other.jsonl")\nsink r -> file("x.jsonl")\n', /paths collide: the checkpoint folder \. contains the input of source `r` \(in\.jsonl\)/],
      ['sink r -> file("other.jsonl")\nsink r -> file("x.jsonl")\n', /paths collide: the checkpoint folder other\.jsonl is the sink file other\.jsonl/],
      ['sink r -> file("other.jsonl")\nsink r -> file("real/out.jsonl")\n', /paths collide: the checkpoint folder real contains the sink file real\/out\.jsonl/],
    ];
    const dirs = [null, null, null, ".", "other.jsonl", "real"];
    for (let i = 0; i < cases.length; i++) {
      const [sinks, message] = cases[i]!;
      const checkpoint = dirs[i];
      const text = job(sinks).replace("type R", checkpoint ? 'checkpoint {\n  every 1s\n  storage "./chk"\n}\ntype R' : "type R");
      const bundle = await compileIn(tempDir(), text);
      const before = tree(dir);
      const r = await runBundle(bundle, { cwd: dir, args: checkpoint ? ["--checkpoint-dir", checkpoint] : [] });
      expect(r.exitCode, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/error\[FLOW5011\]/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(tree(dir)).toEqual(before);
    }
  });

  it("a sink that is a folder or a FIFO is refused before any other sink is touched", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": '{"n":1}\n', "a.jsonl": "earlier output\n", "results/keep.txt": "x" });
    await execa("mkfifo", [join(dir, "pipe.jsonl")]);
    for (const [path, message] of [
      ["results", "error[FLOW5004]: cannot write results: it is a directory"],
      ["pipe.jsonl", "error[FLOW5004]: cannot write pipe.jsonl: it is a FIFO (named pipe), not a regular file"],
    ]) {
      const bundle = await compileIn(tempDir(), job(`sink r -> file("a.jsonl")\nsink r -> file("${path}")\n`));
      const before = tree(dir);
      const r = await runBundle(bundle, { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(message);
      expect(tree(dir)).toEqual(before);
    }
  });
  it("a checkpoint folder or sink under /proc is refused at once: making folders never loops (the job never hangs)", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": '{"n":1}\n' });
    const withCheckpoints = await compileIn(tempDir(), copying("every 1s", "copier", false));
    const r = await runBundle(withCheckpoints, { cwd: dir, args: ["--checkpoint-dir", "/proc/self/flowc-x/chk"] });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error\[FLOW5004\]: cannot lock the checkpoint folder \/proc\/self\/flowc-x\/chk: .*cannot create the folder \/proc\/\d+\/flowc-x: ENOENT/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    const toProc = await compileIn(tempDir(), job(`sink r -> file("/proc/self/flowc-y/out.jsonl")\n`));
    const s = await runBundle(toProc, { cwd: dir });
    expect(s.exitCode).toBe(1);
    expect(s.stderr).toMatch(/error\[FLOW5004\]: .*\/proc\/(self|\d+)\/flowc-y/);
    expect(s.stderr).not.toMatch(STACK_LINE);
  });
});

describe("inputs are validated before any output is touched", () => {
  const job = (checkpoint: boolean, input: string) => `job reader
${checkpoint ? 'checkpoint {\n  every 50ms\n  storage "./chk"\n}\n' : ""}type R = { n: int }
source r: R = file("${input}", on_error: "dead_letter", dead_letter: "out/bad.jsonl")
sink r -> file("out/copy.jsonl")
`;

  it("an input that is a folder or missing stops the job with FLOW5002 and leaves outputs and checkpoints byte-identical", async () => {
    for (const checkpoint of [false, true]) {
      const dir = tempDir();
      writeFiles(dir, { "in.jsonl": '{"n":1}\n{"n":2}\n', "data/x": "" });
      const good = await compileIn(tempDir(), job(checkpoint, "in.jsonl"));
      // Output from an earlier run, and (with checkpoints) a checkpoint folder holding a checkpoint.
      expect((await runBundle(good, { cwd: dir })).exitCode).toBe(0);
      if (checkpoint) writeFiles(dir, { "chk/chk-000003/_metadata": "{}" });
      for (const [input, message] of [
        ["data", "cannot read data for source `r`: it is a directory, not a regular file"],
        ["missing.jsonl", "cannot read missing.jsonl for source `r`: no such file or folder"],
      ]) {
        const bundle = await compileIn(tempDir(), job(checkpoint, input!));
        for (const args of checkpoint ? [[], ["--fresh"]] : [[]]) {
          const before = tree(dir);
          expect(before["out/copy.jsonl"]).toBe(Buffer.from('{"n":1}\n{"n":2}\n').toString("base64"));
          const r = await runBundle(bundle, { cwd: dir, args });
          expect(r.exitCode).toBe(1);
          expect(r.stderr).toContain(`error[FLOW5002]: ${message}`);
          expect(tree(dir)).toEqual(before);
        }
      }
    }
  });

  it("a restart that finds its input gone stops before the output is replaced", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(3000, 2500) });
    const bundle = await compileIn(dir, copying(null, "copier", false).replace("type R", "restart {\n  attempts 1\n  delay 5s\n}\ntype R"));
    const run = start(bundle, dir);
    await until(() => run.stderr().includes("restarting"), "the failure");
    const written = readFileSync(join(dir, "out/copy.jsonl"), "utf8");
    expect(lines(written).length).toBeGreaterThan(0);
    // The input becomes a folder while the job waits to restart.
    rmSync(join(dir, "in.jsonl"));
    mkdirSync(join(dir, "in.jsonl"));
    const r = await run.child;
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("error[FLOW5002]: cannot read in.jsonl for source `r`: it is a directory, not a regular file");
    expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(written);
  });

  it("an input that is a FIFO without a writer is refused at once (FLOW5002), and the job never hangs", async () => {
    for (const checkpoint of [false, true]) {
      const dir = tempDir();
      writeFiles(dir, { "out/copy.jsonl": "earlier output\n" });
      await execa("mkfifo", [join(dir, "in.jsonl")]);
      const bundle = await compileIn(tempDir(), job(checkpoint, "in.jsonl"));
      const before = tree(dir);
      const run = start(bundle, dir);
      // Were it blocked in open(), SIGTERM would have to stop it (and SIGKILL would show it did not).
      const term = setTimeout(() => run.child.kill("SIGTERM"), 15_000);
      const kill = setTimeout(() => run.child.kill("SIGKILL"), 30_000);
      const r = await run.child;
      clearTimeout(term);
      clearTimeout(kill);
      expect(r.signal).toBeUndefined();
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("error[FLOW5002]: cannot read in.jsonl for source `r`: it is a FIFO (named pipe), not a regular file");
      expect(r.stderr).toContain("read a pipe or a device with stdin() instead");
      expect(tree(dir)).toEqual(before);
    }
  });
});

describe("recovery", () => {
  it("says so, at the default log level, when no checkpoint can be used and the job starts from the beginning", async () => {
    const dir = tempDir();
    writeFiles(dir, { "in.jsonl": input(4000) });
    const following = await compileIn(tempDir(), copying("every 50ms\n  mode exactly_once"));
    const first = start(following, dir);
    await until(() => outLines(join(dir, "out/copy.jsonl")) >= 4000, "committed output");
    first.child.kill("SIGTERM");
    expect((await first.child).exitCode).toBe(0);
    const chk = readdirSync(join(dir, "chk")).filter((n) => n.startsWith("chk-"));
    expect(chk.length).toBeGreaterThan(0);
    for (const c of chk) writeFileSync(join(dir, "chk", c, "_metadata"), "{ damaged");
    // The same job reading to the end (the same operators, so the same checkpoints).
    const finite = await compileIn(tempDir(), copying("every 50ms\n  mode exactly_once", "copier", false));
    const r = await runBundle(finite, { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is damaged \(its _metadata is not valid JSON\); it is skipped/);
    expect(r.stderr).toContain(
      `warn: no usable checkpoint in ./chk (${chk.length} found, none complete and intact): the job starts from the beginning of its input; out/copy.jsonl, out/bad.jsonl are replaced by this run's output`,
    );
    expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(4000));
  });

  it("refuses a checkpoint folder whose FORMAT is not flowc's, or missing beside checkpoints, or a folder of other files (FLOW5012), touching nothing", async () => {
    const job = copying("every 50ms\n  mode exactly_once", "copier", false);
    const bundle = await compileIn(tempDir(), job);
    const prepare = (files: Record<string, string>): string => {
      const dir = tempDir();
      writeFiles(dir, { "in.jsonl": input(10), "out/copy.jsonl": "earlier output\n", ...files });
      return dir;
    };
    const cases: [Record<string, string>, string, boolean][] = [
      [{ "chk/FORMAT": "hello\n", "chk/chk-000002/_metadata": "{}" }, 'the FORMAT file of checkpoint folder ./chk does not hold "flowc-checkpoints 1" but "hello"', true],
      [{ "chk/FORMAT": "", "chk/chk-000002/_metadata": "{}" }, 'the FORMAT file of checkpoint folder ./chk does not hold "flowc-checkpoints 1" but nothing', true],
      [{ "chk/FORMAT": "flowc-checkpoints 7\n" }, "the checkpoint folder ./chk is in checkpoint format 7, and this job reads format 1", true],
      [{ "chk/chk-000002/_metadata": "{}", "chk/history.jsonl": "" }, "the checkpoint folder ./chk holds chk-000002, history.jsonl but no FORMAT file", true],
      [{ "chk/notes.txt": "mine", "chk/sinks/a": "mine too" }, "./chk is not a checkpoint folder: it has no FORMAT file and holds notes.txt", false],
    ];
    for (const [files, message, freshStarts] of cases) {
      const dir = prepare(files);
      const before = tree(dir);
      const r = await runBundle(bundle, { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`error[FLOW5012]: ${message}`);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(tree(dir)).toEqual(before);
      // --fresh starts over in a folder of this job's, and never in a folder of other files.
      const fresh = await runBundle(bundle, { cwd: dir, args: ["--fresh"] });
      if (freshStarts) {
        expect(fresh.exitCode, fresh.stderr).toBe(0);
        expect(readFileSync(join(dir, "chk/FORMAT"), "utf8")).toBe("flowc-checkpoints 1\n");
        expect(readFileSync(join(dir, "out/copy.jsonl"), "utf8")).toBe(expected(10));
      } else {
        expect(fresh.exitCode).toBe(1);
        expect(fresh.stderr).toContain(`error[FLOW5012]: ${message}`);
        expect(tree(dir)).toEqual(before);
      }
    }
    // An empty folder is a new one.
    const empty = prepare({});
    mkdirSync(join(empty, "chk"));
    expect((await runBundle(bundle, { cwd: empty })).exitCode).toBe(0);
    expect(statSync(join(empty, "chk/FORMAT")).isFile()).toBe(true);
  });
});
