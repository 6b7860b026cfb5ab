// The flowc command line and the bundle's own flags, run as real processes: exit codes
// (0 ok, 1 user error, 2 usage error), messages, output locations, any working directory.

import { execa } from "execa";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { groupOf } from "../runtime/keygroups.js";
import { FLOWC, flowc, lines, ROOT, runBundle, STACK_LINE, tempDir, writeFiles } from "./helpers.js";

const good = `job hello
source n: int = values([1, 2, 3])
sink n |> map(x => x * 10) -> stdout()
`;
const bad = `job broken
source n: int = values([1, 2, 3])
let odd = n |> filter(x => x % 2)
sink odd -> stdout()
`;

/** The pid of a child process of `pid` whose command line matches, once it has started. */
async function childOf(pid: number, matches: (cmdline: string) => boolean): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean).map(Number)) {
        let cmdline = "";
        try {
          cmdline = readFileSync(`/proc/${child}/cmdline`, "utf8");
        } catch {
          continue; // it has ended meanwhile
        }
        if (matches(cmdline)) return child;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`process ${pid} started no such child`);
}

describe("flowc", () => {
  let work: string;
  beforeAll(() => {
    work = tempDir("flowc-cli-");
    writeFiles(work, { "hello.flow": good, "broken.flow": bad, "sub/dir/.keep": "" });
  });

  it("--version prints the version and exits 0", async () => {
    const r = await flowc(["--version"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^flowc \d+\.\d+\.\d+$/);
  });

  it("--help prints usage and exits 0; no arguments print usage and exit 2", async () => {
    const help = await flowc(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/flowc compile <file\.flow>/);
    const none = await flowc([]);
    expect(none.exitCode).toBe(2);
  });

  it("partition tells a producer each key's partition: its key group mod the partitions, for string and integer keys and another key-group count; mistakes are usage errors", async () => {
    const keys = ["c17", "kunde-ü", "", "42"];
    const r = await flowc(["partition", ...keys, "--partitions", "6"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(keys.map((k) => `${k}\t${groupOf(k, 128) % 6}`).join("\n"));
    const ints = ["5", "4096", "--", "-3"];
    const i = await flowc(["partition", "--int", "--partitions", "4", "--key-groups", "16", ...ints]);
    expect(i.exitCode, i.stderr).toBe(0);
    expect(i.stdout).toBe([5, 4096, -3].map((k) => `${k}\t${groupOf(k, 16) % 4}`).join("\n"));
    // The string "42" and the integer 42 are other keys.
    expect(groupOf("42", 128)).not.toBe(groupOf(42, 128));
    for (const [args, message] of [
      [["partition", "c1"], /needs --partitions/],
      [["partition", "--partitions", "6"], /takes the keys/],
      [["partition", "c1", "--partitions", "0"], /--partitions must be a whole number from 1/],
      [["partition", "c1", "--partitions", "6", "--key-groups", "40000"], /--key-groups must be a whole number from 1 to 32768/],
      [["partition", "1.5", "--int", "--partitions", "6"], /--int: "1\.5" is not an integer/],
    ] as const) {
      const bad = await flowc([...args]);
      expect(bad.exitCode, bad.stderr).toBe(2);
      expect(bad.stderr).toMatch(message);
    }
  });

  it("an unknown command or flag is a usage error (exit 2)", async () => {
    const r = await flowc(["complie", "x.flow"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown command `complie`/);
    const f = await flowc(["compile", "--fast", "x.flow"]);
    expect(f.exitCode).toBe(2);
    expect(f.stderr).toMatch(/--fast/);
    const missing = await flowc(["compile"]);
    expect(missing.exitCode).toBe(2);
  });

  it("a missing .flow file is a user error (exit 1) without a stack trace", async () => {
    const r = await flowc(["compile", "nope.flow"], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot read nope\.flow: no such file/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("compile works from any working directory and writes dist/<job>.mjs there", async () => {
    const r = await flowc(["compile", "../../hello.flow"], { cwd: join(work, "sub", "dir") });
    expect(r.exitCode).toBe(0);
    const bundle = join(work, "sub", "dir", "dist", "hello.mjs");
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(bundle + ".map")).toBe(true);
    const run = await runBundle(bundle, { cwd: work });
    expect(lines(run.stdout)).toEqual(["10", "20", "30"]);
  });

  it("-o chooses the folder and --emit-ts keeps the readable TypeScript", async () => {
    const r = await flowc(["compile", "hello.flow", "-o", "build-here", "--emit-ts"], { cwd: work });
    expect(r.exitCode).toBe(0);
    const ts = readFileSync(join(work, "build-here", "hello.ts"), "utf8");
    expect(ts).toMatch(/^\/\/ Generated by flowc .* from hello\.flow/);
    expect(ts).toMatch(/export function build\(\$ctx: \$rt\.JobContext\)/);
    expect(existsSync(join(work, "build-here", "hello.mjs"))).toBe(true);
  });

  it("a compile error exits 1 with file:line:col, a code frame and no stack trace", async () => {
    const r = await flowc(["compile", "broken.flow"], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error\[FLOW3001\]: expected bool, found int/);
    expect(r.stderr).toMatch(/--> broken\.flow:3:28/);
    expect(r.stderr).toMatch(/3 \| let odd = n \|> filter\(x => x % 2\)\n\s+\|\s+\^\^\^\^\^/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(join(work, "dist", "broken.mjs"))).toBe(false);
  });

  it("check reports without writing; --json gives machine-readable records", async () => {
    const ok = await flowc(["check", "hello.flow"], { cwd: work });
    expect(ok.exitCode).toBe(0);
    const r = await flowc(["check", "--json", "broken.flow"], { cwd: work });
    expect(r.exitCode).toBe(1);
    const diags = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(diags).toEqual([
      expect.objectContaining({ code: "FLOW3001", severity: "error", file: "broken.flow", line: 3, column: 28, endLine: 3, endColumn: 33 }),
    ]);
  });

  it("run compiles and runs a job, passing arguments after -- to it", async () => {
    const r = await flowc(["run", "hello.flow"], { cwd: work });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(["10", "20", "30"]);
    const help = await flowc(["run", "hello.flow", "--", "--help"], { cwd: work });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/Usage: node hello\.mjs/);
  });

  it("run passes on the job's exit code", async () => {
    writeFiles(work, { "fails.flow": 'job fails\ntype R = { v: int }\nsource r: R = file("in.jsonl")\nsink r -> stdout()\n', "in.jsonl": '{"v":"x"}\n' });
    const r = await flowc(["run", "fails.flow"], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/bad input in in\.jsonl, line 1, field `v`/);
  });

  it("run reports a job ended by a signal as 128 + that signal's number, as a shell does", async () => {
    writeFiles(work, { "waits.flow": 'job waits\nsource lines: string = stdin(format: "text")\nsink lines -> stdout()\n' });
    for (const [signal, code] of [["SIGKILL", 137], ["SIGHUP", 129]] as const) {
      // The job waits for input on the launcher's stdin; it is killed, not the launcher.
      const launcher = execa(FLOWC, ["run", "waits.flow"], { cwd: work, reject: false, stdin: "pipe", env: { NO_COLOR: "1" } });
      const job = await childOf(launcher.pid!, (cmdline) => cmdline.includes("waits.mjs"));
      process.kill(job, signal);
      const r = await launcher;
      expect(r.exitCode).toBe(code);
    }
  });

  it("reports several independent mistakes in one run, in source order", async () => {
    writeFiles(work, {
      "many.flow": `job many
type R = { a: int }
source r: R = values([{ a: 1 }])
let x = r |> map(v => v.b)
let y = r |> filter(v => v.a)
let z = q |> map(v => v)
sink x -> stdout()
sink y -> stdout()
sink z -> stdout()
`,
    });
    const r = await flowc(["check", "many.flow"], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect([...r.stderr.matchAll(/error\[(FLOW\d+)\][^\n]*\n\s*--> many\.flow:(\d+)/g)].map((m) => `${m[1]}@${m[2]}`)).toEqual(["FLOW2007@4", "FLOW3001@5", "FLOW2001@6"]);
    expect(r.stderr).toMatch(/3 errors/);
  });

  it("a float literal too large to be finite is FLOW1003 for check and compile alike, not an internal error", async () => {
    writeFiles(work, { "huge.flow": "job huge\nsource n: float = values([1.5])\nsink n |> map(x => x * 1e400) -> stdout()\n" });
    for (const args of [["check", "huge.flow"], ["compile", "huge.flow", "-o", "huge-out"]]) {
      const r = await flowc(args, { cwd: work });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/^error\[FLOW1003\]: float literal 1e400 is too large\n --> huge\.flow:3:24\n/);
      expect(r.stderr).not.toMatch(/internal/);
    }
  });

  it("a file that starts with a byte order mark checks, and columns count from the character after it", async () => {
    writeFiles(work, { "bom.flow": "\uFEFF" + bad, "bom-ok.flow": "\uFEFF" + good });
    expect((await flowc(["check", "bom-ok.flow"], { cwd: work })).exitCode).toBe(0);
    const r = await flowc(["check", "--json", "bom.flow"], { cwd: work });
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ code: "FLOW3001", line: 3, column: 28, endLine: 3, endColumn: 33 })]);
    writeFiles(work, { "bom-first-line.flow": "\uFEFFjob 1x\n" });
    const first = await flowc(["check", "bom-first-line.flow"], { cwd: work });
    expect(first.stderr).toMatch(/^error\[FLOW1001\]: expected an identifier, found `1x`\n --> bom-first-line\.flow:1:5\n  \|\n1 \| job 1x\n  \|     \^\^ /);
  });

  it("colours diagnostics only on a terminal: never when piped or with NO_COLOR, on request with FORCE_COLOR", async () => {
    const piped = await flowc(["check", "broken.flow"], { cwd: work, env: { NO_COLOR: undefined } });
    expect(piped.stderr).not.toMatch(/\x1b\[/);
    const forced = await flowc(["check", "broken.flow"], { cwd: work, env: { NO_COLOR: undefined, FORCE_COLOR: "1" } });
    expect(forced.stderr).toMatch(/\x1b\[/);
    const both = await flowc(["check", "broken.flow"], { cwd: work, env: { NO_COLOR: "1", FORCE_COLOR: "1" } });
    expect(both.stderr).not.toMatch(/\x1b\[/);
  });

  it("a bug in the compiler is an internal compiler error, exit 70, with what to report", async () => {
    for (const stage of ["parse", "check", "plan"]) {
      const r = await flowc(["compile", "hello.flow"], { cwd: work, env: { FLOWC_DEBUG_CRASH: stage } });
      expect(r.exitCode).toBe(70);
      expect(r.stderr).toMatch(/^internal compiler error: crash in/);
      expect(r.stderr).toMatch(/This is a bug in flowc .*Please report it with the \.flow file/);
    }
  });

  it("is an executable file", () => {
    expect(existsSync(FLOWC)).toBe(true);
  });
});

describe("a compiled job's flags", () => {
  let bundle: string;
  let work: string;
  beforeAll(async () => {
    work = tempDir("flowc-flags-");
    writeFiles(work, { "hello.flow": good });
    const r = await flowc(["compile", "hello.flow"], { cwd: work });
    expect(r.exitCode).toBe(0);
    bundle = join(work, "dist", "hello.mjs");
  });

  it("--help lists the options and exits 0", async () => {
    const r = await runBundle(bundle, { cwd: work, args: ["--help"] });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--log-level/);
  });

  it("--version names the compiler and the .flow file", async () => {
    const r = await runBundle(bundle, { cwd: work, args: ["--version"] });
    expect(r.stdout).toMatch(/compiled by flowc \d+\.\d+\.\d+ from hello\.flow/);
  });

  it("an unknown flag is a usage error (exit 2)", async () => {
    const r = await runBundle(bundle, { cwd: work, args: ["--bogus"] });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--bogus/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("--log-level info reports the run on stderr, keeping stdout for data", async () => {
    const r = await runBundle(bundle, { cwd: work, args: ["--log-level", "info"] });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(["10", "20", "30"]);
    expect(r.stderr).toMatch(/\[hello\] info: finished: 3 record\(s\)/);
  });
});

describe("flowc graph", () => {
  it("draws sources, fused chains, operators with uid, key and state, and sinks as Mermaid", async () => {
    const r = await flowc(["graph", "dsl-examples/new_sellers.flow"]);
    expect(r.exitCode).toBe(0);
    await expect(r.stdout + "\n").toMatchFileSnapshot(join(ROOT, "test", "snapshots", "graph", "new_sellers.mmd"));
    const hot = await flowc(["graph", "dsl-examples/hot_items.flow"]);
    expect(hot.stdout).toMatch(/window aggregate counts<br\/>key: int<br\/>sliding\(10s, every: 2s\)/);
  });

  it("writes Graphviz dot with --format dot, late streams dashed", async () => {
    const dir = tempDir();
    writeFiles(dir, {
      "late.flow": `job late_demo
type E = { k: string, ts: timestamp }
source e: E = values([{ k: "a", ts: 1 }]) event_time(x => x.ts) watermark 1s
let w = e |> key_by(x => x.k) |> window(tumbling(10s), late: too_late) |> aggregate(x => { k: key, n: count() })
sink w -> stdout()
sink too_late -> file("late.jsonl")
`,
    });
    const r = await flowc(["graph", "late.flow", "--format", "dot"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^digraph "late_demo" \{/);
    expect(r.stdout).toMatch(/label="window aggregate w\\nkey: string\\ntumbling\(10s\)\\nstate: n int"/);
    expect(r.stdout).toMatch(/-> n\d+ \[style=dashed, label="late"\];/);
    expect(r.stdout).toMatch(/label="sink 1: file\(\\"late\.jsonl\\"\)"/);
    const bad = await flowc(["graph", "late.flow", "--format", "svg"], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--format must be mermaid or dot/);
  });
});
