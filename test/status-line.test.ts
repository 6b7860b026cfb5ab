// The status line of `flowc run` on a terminal (runtime/status-line.ts): drawn on stderr and
// redrawn in place while the job runs, cleared before log lines and at the end; nothing of
// it with --quiet or when stderr is not a terminal. A real pseudo-terminal comes from
// util-linux's `script` (Debian's bsdutils, always installed).

import { execa, type ResultPromise } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JobStatus } from "../runtime/admin.js";
import type { Manifest } from "../runtime/api.js";
import { StatusLine } from "../runtime/status-line.js";
import { compileIn, FLOWC, runBundle, tempDir, writeFiles } from "./helpers.js";

const children: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** Runs a shell command line in a pseudo-terminal (stdin, stdout and stderr all on it). */
function inTerminal(command: string, cwd: string): { child: ResultPromise; output: () => string } {
  const child = execa("script", ["-q", "-e", "-c", command, "/dev/null"], { cwd, reject: false, stdin: "pipe", env: { NO_COLOR: "1", COLUMNS: "200" } });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function until(what: string, ok: () => boolean, child: ResultPromise, output: () => string): Promise<void> {
  for (let i = 0; !ok(); i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`never saw ${what}:\n${JSON.stringify(output())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const flowcRun = (args: string): string => `exec ${quote(process.execPath)} ${quote(FLOWC)} run ${args}`;

/** The status line as drawn: carriage return, the line, erase to the end of the line. */
const DRAWN = /\r(\d+:\d\d \| [^\r\n\x1b]*)\x1b\[K/g;
const CLEAR = "\r\x1b[K";

const TWO = `job two
checkpoint {
  every 300ms
  storage "./chk"
}
type E = { user: string }
source old: E = file("old.jsonl")
source fresh: E = file("live.jsonl", follow: true)
let n = old |> key_by(e => e.user) |> aggregate(e => { user: key, n: count() })
let m = fresh |> key_by(e => e.user) |> aggregate(e => { user: key, n: count() })
sink n -> file("out/n.jsonl")
sink m -> file("out/m.jsonl")
`;

describe("the status line of flowc run", () => {
  it("is drawn on a terminal and redrawn in place: records/s per source, a finite file's bytes read of its size, the last checkpoint; log lines clear it first, and it is cleared at the end", async () => {
    const dir = tempDir("flowc-status-");
    const rows = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ user: `u${i % 3}` }) + "\n").join("");
    writeFiles(dir, { "two.flow": TWO, "old.jsonl": rows(50), "live.jsonl": rows(20) });
    const size = readFileSync(join(dir, "old.jsonl")).length;
    const { child, output } = inTerminal(flowcRun("two.flow -- --admin-port 0 --log-level info"), dir);
    const drawn = () => [...output().matchAll(DRAWN)].map((m) => m[1]!);
    await until("the admin endpoint", () => /admin endpoint on http:\/\/127\.0\.0\.1:\d+/.test(output()), child, output);
    // Redrawn: the finite file read to its end, the followed one without an end, then a checkpoint.
    const full = new RegExp(`^\\d+:\\d\\d \\| old [\\d.,]+ rec/s ${size} of ${size} B \\(100%\\) \\| fresh [\\d.,]+ rec/s \\| checkpoint \\d+ \\d+s ago$`);
    await until("a status line with a checkpoint", () => drawn().some((l) => full.test(l)), child, output);
    const url = /admin endpoint on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!;
    expect((await fetch(`${url}/stop`, { method: "POST" })).status).toBe(200);
    const done = await child;
    expect(done.exitCode).toBe(0);

    const out = output();
    const lines = drawn();
    expect(lines[0]).toBe("0:00 | starting | no checkpoint yet");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    // Every log line written while the status line was up begins by clearing it.
    const running = out.indexOf("[two] info: running:");
    expect(running).toBeGreaterThan(out.indexOf(lines[0]!));
    expect(out.slice(running - CLEAR.length, running)).toBe(CLEAR);
    // The last thing drawn after the last status line is the clearing of it.
    const lastDraw = out.lastIndexOf("\x1b[K");
    expect(out.slice(lastDraw - 1, lastDraw + 3)).toBe(CLEAR);
    expect(out.slice(lastDraw + 3)).not.toMatch(/rec\/s/);
  });

  it("shows nothing with --quiet or when stderr is not a terminal, and a job run without flowc run draws it only when asked", async () => {
    const dir = tempDir("flowc-status-quiet-");
    writeFiles(dir, { "job.flow": `job seq\nsource s: int = sequence(from: 1, to: 200000)\nlet t = s |> aggregate(x => { n: count() })\nsink t -> file("out.jsonl")\n` });
    const status = /\x1b\[K|rec\/s|starting/;

    // On a terminal, without --quiet: drawn (at least once, as the job starts), then cleared.
    const shown = inTerminal(flowcRun("job.flow"), dir);
    expect((await shown.child).exitCode).toBe(0);
    expect(shown.output()).toMatch(/\r0:00 \| starting\x1b\[K/);
    expect(shown.output()).toMatch(/\r\x1b\[K$/);

    const quiet = inTerminal(flowcRun("--quiet job.flow"), dir);
    expect((await quiet.child).exitCode).toBe(0);
    expect(quiet.output()).not.toMatch(status);
    const q = inTerminal(flowcRun("-q job.flow"), dir);
    expect((await q.child).exitCode).toBe(0);
    expect(q.output()).not.toMatch(status);

    // stdout on the terminal, stderr to a file: nothing on either.
    const redirected = inTerminal(`${flowcRun("job.flow")} 2>err.txt`, dir);
    expect((await redirected.child).exitCode).toBe(0);
    expect(redirected.output()).not.toMatch(status);
    expect(readFileSync(join(dir, "err.txt"), "utf8")).not.toMatch(status);

    // No terminal at all.
    const piped = await execa(FLOWC, ["run", "job.flow", "--", "--log-level", "info"], { cwd: dir, reject: false, stdin: "ignore" });
    expect(piped.exitCode).toBe(0);
    expect(piped.stderr).toMatch(/finished: 200000 record/);
    expect(piped.stderr).not.toMatch(status);

    // The bundle itself: --status-line draws only on a terminal.
    const bundle = await compileIn(dir, readFileSync(join(dir, "job.flow"), "utf8"));
    const direct = await runBundle(bundle, { cwd: dir, args: ["--status-line"] });
    expect(direct.exitCode).toBe(0);
    expect(direct.stderr).toBe("");
    const asked = inTerminal(`exec ${quote(process.execPath)} ${quote(bundle)} --status-line`, dir);
    expect((await asked.child).exitCode).toBe(0);
    expect(asked.output()).toMatch(/\r0:00 \| starting\x1b\[K/);
    const unasked = inTerminal(`exec ${quote(process.execPath)} ${quote(bundle)}`, dir);
    expect((await unasked.child).exitCode).toBe(0);
    expect(unasked.output()).not.toMatch(status);
  });

  it("says per source its records per second over the last second, how far a finite input is read, the watermark and the last checkpoint", () => {
    const m = { checkpoint: { every: 1000 } } as unknown as Manifest;
    const writes: string[] = [];
    const line = new StatusLine(() => st, m, { columns: 200, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream);
    const t0 = Date.parse("2026-11-28T10:00:00Z");
    const source = (name: string, records: number, bytes: number, watermark: number | null) => ({
      name,
      connector: "file",
      records,
      bytes,
      watermark,
      newestEventTime: null,
      progress: { done: bytes, total: 28_311_552, unit: "bytes" as const },
    });
    let st: JobStatus = {
      job: "j",
      state: "running",
      startedAt: new Date(t0).toISOString(),
      uptimeSeconds: 61,
      sources: [source("bids", 0, 0, null), { ...source("people", 0, 0, null), progress: { done: 0, total: 5000, unit: "records" } }],
      operators: [],
      sinks: [],
      lastCheckpoint: null,
    };
    expect(line.format(st, t0)).toBe("1:01 | bids 0 rec/s 0.0 of 27.0 MiB (0%) | people 0 rec/s 0 of 5,000 records (0%) | no checkpoint yet");
    st = {
      ...st,
      uptimeSeconds: 3723,
      sources: [source("bids", 1500, 1_572_864, Date.parse("2026-11-28T09:59:58Z")), { ...source("people", 5, 0, Date.parse("2026-11-28T09:59:50.250Z")), progress: { done: 5, total: 5000, unit: "records" } }],
      lastCheckpoint: { id: 4, createdAt: new Date(t0 - 3000).toISOString() },
    };
    expect(line.format(st, t0 + 500)).toBe(
      "1:02:03 | bids 3,000 rec/s 1.5 of 27.0 MiB (5%) | people 10 rec/s 5 of 5,000 records (0%) | watermark 2026-11-28 09:59:50.250Z | checkpoint 4 4s ago",
    );
    // Drawn in place; cleared, and not drawn again, once stopped.
    line.draw();
    expect(writes.at(-1)).toMatch(/^\r1:02:03 \| bids .*\x1b\[K$/);
    line.stop();
    expect(writes.at(-1)).toBe("\r\x1b[K");
    line.redraw();
    expect(writes.at(-1)).toBe("\r\x1b[K");
  });
});
