// The `flowc` command line: compile, check, run. Exit codes: 0 ok, 1 the user's mistake
// (diagnostics, a failing job), 2 a usage error, 70 a bug in flowc itself.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { constants, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { resolveToken, TOKEN_ENV, TokenError } from "../runtime/admin-token.js";
import { groupOf } from "../runtime/keygroups.js";
import { compile, frontEnd, type FrontEnd } from "./compile.js";
import { dot, mermaid } from "./graph.js";
import { plan } from "./plan.js";
import { againstSavepoint, inspect, triggerSavepoint, UserError, withSavepoint } from "./savepoints.js";
import { catalogue, isWarningCode, type Code } from "./diagnostics/catalogue.js";
import { diagnosticToJson, renderDiagnostics, wantsColor } from "./diagnostics/render.js";
import { VERSION } from "./version.js";

export const EXIT = { ok: 0, user: 1, usage: 2, internal: 70 } as const;

const HELP = `flowc ${VERSION}: compiles .flow stream jobs into self-contained Node.js bundles

Usage:
  flowc compile <file.flow> [-o <dir>] [--emit-ts] [--allow <code>] [--nats]
                                                     write <dir>/<job>.mjs (default dir: dist)
  flowc check <file.flow> [--json] [--allow <code>]  report errors and warnings, write nothing (a test file:
                                                     checked against its jobs)
  flowc check <file.flow> --against-savepoint <dir>  what restoring that savepoint into this job would do
                                                     (<dir>: a folder, or nats:<bucket>/<path>)
  flowc run <file.flow> [-q] [-- <job args>]         compile to a temporary folder and run the job; on a
                                                     terminal, with a live status line (-q, --quiet: without)
  flowc run <file.flow> --instances <n> [-- <job args>]
                                                     run n local instances of the job (NATS_URL), each line
                                                     of their output prefixed, stopped together
  flowc graph <file.flow> [--format mermaid|dot]     draw the job graph (sources, operators, sinks)
  flowc partition <key>… --partitions <p> [--key-groups <g>] [--int]
                                                     for a producer: the partition of each key under a NATS
                                                     source's \`partitions: p\` and \`partition_key:\` (its key
                                                     group mod p), a line \`<key><tab><partition>\` each
  flowc savepoint <admin-url>… [--stop] [--dir <dir> | --dir nats:<bucket>/<name>] [--token <t> | --token-file <f>]
                                                     take a savepoint of a running job; prints its path (several
                                                     URLs: one of every instance of a job, into one folder)
  flowc savepoint inspect <dir> [--json] [--dump <uid>.<state>]
                                                     what a savepoint holds (a folder, or nats:<bucket>/<path>);
                                                     one state's keys and values
  flowc test [files or folders…] [--reporter junit --out <file>] [--watch]
                                                     run the tests of *.test.flow files (default: all below
                                                     the working directory); docs/testing.md
  flowc types <file.flow> [-o <file.ts>]             the job's records and state as TypeScript types,
                                                     for the JavaScript API (flowc/testing)
  flowc lsp                                          the language server (LSP over stdio), for editors
  flowc --help | --version

Options:
  -o, --out-dir <dir>   where compile writes the bundle (default: dist)
  --emit-ts             also keep the generated TypeScript as <dir>/<job>.ts
  --allow <code>        compile, check, run, graph: silence a warning (FLOW4013) in the whole file;
                        repeat it or separate codes with commas. In the file, \`// allow FLOW4013\`
                        on the line before a construct silences it there. Errors cannot be silenced.
  --nats                bundle the NATS client although the job uses no NATS, so that it can keep
                        checkpoints and savepoints in a NATS object store (--checkpoint-dir nats:…)
  --json                check: diagnostics as JSON (silenced warnings with "silenced": true);
                        savepoint inspect: the metadata as JSON
  --allow-non-restored-state
                        check --against-savepoint: accept dropping state that does not map
  -q, --quiet           run: no status line on the terminal
  --stop                savepoint: stop the job after the savepoint (it exits 0)
  --dir <dir>           savepoint: the folder for the savepoint, inside the job's savepoint root
                        (--savepoint-dir); relative to that root; or nats:<bucket>/<name>, a place
                        in a NATS object store bucket (the job puts it there)
  --nats-url <url>      savepoint inspect, check --against-savepoint: the NATS server of a
                        nats:<bucket>/<path> savepoint (else NATS_URL, else nats://127.0.0.1:4222)
  --token <t>           savepoint: the job's admin token (else FLOWC_ADMIN_TOKEN)
  --token-file <f>      savepoint: the token is the first line of <f>
  --partitions <p>      partition: the source's partitions: p
  --key-groups <g>      partition: the job's key groups (\`key_groups\` in its state block; default 128)
  --int                 partition: the keys are integers (default: strings)
  --reporter junit      test: also write the results as JUnit XML (to --out <file>, else stdout)
  --out <file>          test: the JUnit XML file; types (also -o): the .ts file to write
  --watch               test: run again whenever a test file, a job or a fixture changes
  -h, --help            this help
  -v, --version         the version

The bundle runs with plain node: node dist/<job>.mjs --help lists its own options.
Exit codes: 0 ok, 1 errors in the .flow file, a failing job or a failing test, 2 usage error, 70 internal error.
`;

class UsageError extends Error {}

// ---- a bigger stack -------------------------------------------------------------------------
//
// Parsing, checking and emitting recurse once per level of nesting, and the main thread's
// stack (about 1 MB) holds some 60 nested brackets. A command that runs out of it starts
// again in a worker thread with a stack of WORKER_STACK_MB, which holds everything the
// nesting limits let through (docs/language.md, "Limits"); the language server always runs
// there. Ordinary programs never pay for the worker (about 30 ms to start).

/** The worker's stack. The deepest programs the limits let through need about 32 MB of it. */
export const WORKER_STACK_MB = 256;

/** What a worker is told: the command line, and what the main thread knows about its terminal. */
interface WorkerData {
  flowcArgv: string[];
  stderrIsTTY: boolean;
}

const fromMain = (isMainThread ? null : (workerData as WorkerData | null)?.flowcArgv ? (workerData as WorkerData) : null);

/** Whether stderr is a terminal (in a worker: the process's stderr, not the worker's pipe). */
function stderrIsTTY(): boolean {
  return fromMain ? fromMain.stderrIsTTY : process.stderr.isTTY === true;
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack size/i.test(e.message);
}

/** Runs `main(argv)` in a worker thread with a big stack; resolves to its exit code. */
function inWorker(argv: string[], opts: { stdin: boolean }): Promise<number> {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { flowcArgv: argv, stderrIsTTY: process.stderr.isTTY === true } satisfies WorkerData,
    resourceLimits: { stackSizeMb: WORKER_STACK_MB },
    stdin: opts.stdin,
  });
  if (opts.stdin) process.stdin.pipe(worker.stdin!);
  // `flowc run` in the worker: signals reach this thread only, so they are passed on to the job.
  let child: number | null = null;
  const forward = (sig: NodeJS.Signals) => (): void => {
    if (child !== null) process.kill(child, sig);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  worker.on("message", (m: { forwardSignalsTo?: number | null }) => {
    if (m.forwardSignalsTo === undefined) return;
    child = m.forwardSignalsTo;
    if (child !== null) {
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
    } else {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    }
  });
  return new Promise((resolve) => {
    let failed = false;
    worker.on("error", (e) => {
      failed = true;
      process.stderr.write(internalError(e));
    });
    worker.on("exit", (code) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      if (opts.stdin) {
        process.stdin.unpipe(worker.stdin!);
        process.stdin.destroy();
      }
      resolve(failed ? EXIT.internal : code);
    });
  });
}

function internalError(e: unknown): string {
  return (
    `internal compiler error: ${(e as Error).message}\n` +
    `This is a bug in flowc ${VERSION}, not in your job. Please report it with the .flow file and this output:\n` +
    `${(e as Error).stack ?? ""}\n`
  );
}

function readSource(file: string): string | null {
  try {
    if (statSync(file).isDirectory()) {
      process.stderr.write(`error: ${file} is a directory, not a .flow file\n`);
      return null;
    }
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    process.stderr.write(`error: cannot read ${file}: ${code === "ENOENT" ? "no such file" : (e as Error).message}\n`);
    return null;
  }
}

function printDiagnostics(fe: FrontEnd): void {
  if (fe.diagnostics.every((d) => d.silenced)) return;
  process.stderr.write(renderDiagnostics(fe.diagnostics, (f) => (f === fe.source.name ? fe.source : undefined), wantsColor({ isTTY: stderrIsTTY() })));
}

/** The warning codes of `--allow` (repeated, or separated by commas); a usage error for anything else. */
function allowed(values: string[] | undefined): string[] {
  const codes = (values ?? []).flatMap((v) => v.split(",")).map((c) => c.trim()).filter((c) => c.length > 0);
  const warnings = (Object.keys(catalogue) as Code[]).filter(isWarningCode);
  for (const c of codes) {
    if (!(c in catalogue)) throw new UsageError(`--allow: \`${c}\` is not a diagnostic code (the warnings are ${warnings.join(", ")})`);
    if (!isWarningCode(c as Code)) throw new UsageError(`--allow: ${c} is an error, and errors cannot be silenced (the warnings are ${warnings.join(", ")})`);
  }
  return codes;
}

const ALLOW_OPTION = { allow: { type: "string", multiple: true } } as const;

function silencedNote(fe: FrontEnd): string {
  const n = fe.diagnostics.filter((d) => d.silenced).length;
  return n ? `, ${n} warning${n === 1 ? "" : "s"} silenced` : "";
}

function oneFile(positionals: string[], command: string): string {
  if (positionals.length === 0) throw new UsageError(`${command} needs a .flow file: flowc ${command} <file.flow>`);
  if (positionals.length > 1) throw new UsageError(`${command} takes one .flow file, got ${positionals.length}: ${positionals.join(" ")}`);
  const file = positionals[0]!;
  // A test file is checked by `flowc check` and run by `flowc test`; the other commands take jobs.
  if (command !== "check" && file.endsWith(".test.flow")) throw new UsageError(`${file} is a test file: run its tests with flowc test ${file}, or ${command} the job it tests`);
  return file;
}

async function cmdCompile(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "out-dir": { type: "string", short: "o" }, "emit-ts": { type: "boolean" }, nats: { type: "boolean" }, ...ALLOW_OPTION },
    allowPositionals: true,
    strict: true,
  });
  const file = oneFile(positionals, "compile");
  const allow = allowed(values.allow);
  const text = readSource(file);
  if (text === null) return EXIT.user;
  const started = performance.now();
  const result = await compile(text, file, { outDir: values["out-dir"] ?? "dist", emitTs: values["emit-ts"] ?? false, allow, nats: values.nats ?? false });
  printDiagnostics(result);
  if (!result.ok || !result.outFile) return EXIT.user;
  const shown = relative(process.cwd(), result.outFile) || result.outFile;
  if (process.env.FLOWC_TIMINGS) process.stderr.write(`timings (ms): ${Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}\n`);
  process.stderr.write(`compiled ${file} -> ${shown}${result.tsFile ? ` (+ ${relative(process.cwd(), result.tsFile)})` : ""} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  return EXIT.ok;
}

/** `flowc check x.test.flow`: the test file checked against its jobs, as `flowc test` does before running. */
async function checkTests(text: string, file: string, json: boolean): Promise<number> {
  const { checkTestFile, Jobs } = await import("./testing/check.js");
  const r = checkTestFile(text, file, new Jobs());
  if (json) process.stdout.write(JSON.stringify(r.diagnostics.map((d) => diagnosticToJson(d, r.sources)), null, 2) + "\n");
  else {
    if (r.diagnostics.length) process.stderr.write(renderDiagnostics(r.diagnostics, r.sources, wantsColor({ isTTY: stderrIsTTY() })));
    if (r.ok) process.stderr.write(`${file}: ok (${r.tests.length} test${r.tests.length === 1 ? "" : "s"})\n`);
  }
  return r.ok ? EXIT.ok : EXIT.user;
}

async function cmdCheck(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: "boolean" }, "against-savepoint": { type: "string" }, "allow-non-restored-state": { type: "boolean" }, "nats-url": { type: "string" }, ...ALLOW_OPTION },
    allowPositionals: true,
    strict: true,
  });
  const file = oneFile(positionals, "check");
  const allow = allowed(values.allow);
  const text = readSource(file);
  if (text === null) return EXIT.user;
  if (file.endsWith(".test.flow")) {
    if (values["against-savepoint"] !== undefined) throw new UsageError(`${file} is a test file: check the job it tests against a savepoint`);
    return await checkTests(text, file, values.json ?? false);
  }
  const fe = frontEnd(text, file, { allow });
  const against = values["against-savepoint"];
  if (against !== undefined) {
    if (values.json) throw new UsageError("--json and --against-savepoint cannot be used together");
    printDiagnostics(fe);
    if (!fe.ok || !fe.checked) return EXIT.user;
    const graph = plan(fe.checked, file);
    return (await withSavepoint(against, values["nats-url"], (dir) => againstSavepoint(graph, file, dir, values["allow-non-restored-state"] ?? false, against))) ? EXIT.ok : EXIT.user;
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(fe.diagnostics.map((d) => diagnosticToJson(d, () => fe.source)), null, 2) + "\n");
  } else {
    printDiagnostics(fe);
    if (fe.ok) process.stderr.write(`${file}: ok${fe.checked ? ` (job ${fe.checked.job}${silencedNote(fe)})` : ""}\n`);
  }
  return fe.ok ? EXIT.ok : EXIT.user;
}

async function cmdRun(args: string[]): Promise<number> {
  const dashes = args.indexOf("--");
  const own = dashes < 0 ? args : args.slice(0, dashes);
  const jobArgs = dashes < 0 ? [] : args.slice(dashes + 1);
  const { values, positionals } = parseArgs({ args: own, options: { quiet: { type: "boolean", short: "q" }, instances: { type: "string" }, ...ALLOW_OPTION }, allowPositionals: true, strict: true });
  const file = oneFile(positionals, "run");
  const allow = allowed(values.allow);
  let instances = 1;
  if (values.instances !== undefined) {
    instances = Number(values.instances);
    if (!/^\d+$/.test(values.instances) || instances < 1 || instances > 64) throw new UsageError(`--instances must be a count from 1 to 64, not ${JSON.stringify(values.instances)}`);
  }
  if (instances > 1) {
    if (jobArgs.some((a) => a === "--instance" || a.startsWith("--instance="))) throw new UsageError("--instances starts the instances itself: leave --instance out of the job's arguments");
    const text = readSource(file);
    if (text === null) return EXIT.user;
    const dir = mkdtempSync(join(tmpdir(), "flowc-run-"));
    try {
      const result = await compile(text, file, { outDir: dir, emitTs: false, allow, nats: true });
      printDiagnostics(result);
      if (!result.ok || !result.outFile) return EXIT.user;
      return await runInstances(result.outFile, instances, jobArgs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // On a terminal the job draws a live status line on stderr (runtime/status-line.ts).
  const status = stderrIsTTY() && !values.quiet ? ["--status-line"] : [];
  const text = readSource(file);
  if (text === null) return EXIT.user;
  const dir = mkdtempSync(join(tmpdir(), "flowc-run-"));
  try {
    const result = await compile(text, file, { outDir: dir, emitTs: false, allow });
    printDiagnostics(result);
    if (!result.ok || !result.outFile) return EXIT.user;
    const { execa } = await import("execa");
    const child = execa(process.execPath, ["--enable-source-maps", result.outFile, ...status, ...jobArgs], { stdio: "inherit", reject: false });
    // The job handles SIGINT/SIGTERM itself; the launcher waits for it. In a worker, the
    // main thread gets the signals and passes them on.
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    if (fromMain) parentPort!.postMessage({ forwardSignalsTo: child.pid ?? null });
    else {
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
    }
    const r = await child;
    if (fromMain) parentPort!.postMessage({ forwardSignalsTo: null });
    else {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    }
    // Ended by a signal: 128 + its number, as a shell reports it (130 for SIGINT, 137 for SIGKILL).
    return r.exitCode ?? (r.signal ? 128 + constants.signals[r.signal] : EXIT.internal);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `flowc run job.flow --instances N`: N local instances of one bundle (LANGUAGE.md 10.1),
 * each line of their output prefixed with its instance, stopped together: a signal goes to
 * every one, and when one fails the others are stopped (SIGTERM: a final checkpoint each).
 * A fresh run id for the exchanges (instances that resume take theirs from their checkpoints).
 */
async function runInstances(bundleFile: string, n: number, jobArgs: string[]): Promise<number> {
  const { execa } = await import("execa");
  const { randomBytes } = await import("node:crypto");
  const run = `run-${randomBytes(4).toString("hex")}`;
  const children = Array.from({ length: n }, (_, i) => {
    const child = execa(process.execPath, ["--enable-source-maps", bundleFile, "--instance", `${i}/${n}`, "--run-id", run, ...jobArgs], { stdin: "ignore", stdout: "pipe", stderr: "pipe", reject: false, buffer: false });
    const prefix = `[${i}/${n}] `;
    const pipe = (from: NodeJS.ReadableStream | null, to: NodeJS.WriteStream): void => {
      if (!from) return;
      let rest = "";
      from.setEncoding("utf8");
      from.on("data", (chunk: string) => {
        const text = rest + chunk;
        const lines = text.split("\n");
        rest = lines.pop()!;
        if (lines.length) to.write(lines.map((l) => (l.startsWith(prefix) ? l : prefix + l)).join("\n") + "\n");
      });
      from.on("end", () => {
        if (rest) to.write((rest.startsWith(prefix) ? rest : prefix + rest) + "\n");
      });
    };
    pipe(child.stdout, process.stdout);
    pipe(child.stderr, process.stderr);
    return child;
  });
  let stopping = false;
  const stopAll = (sig: NodeJS.Signals): void => {
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill(sig);
  };
  const onInt = () => stopAll("SIGINT");
  const onTerm = () => stopAll("SIGTERM");
  if (fromMain) parentPort!.postMessage({ forwardSignalsTo: null });
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const codes = await Promise.all(
    children.map(async (c) => {
      const r = await c;
      const code = r.exitCode ?? (r.signal ? 128 + constants.signals[r.signal] : EXIT.internal);
      // One instance failed: the others cannot finish without it.
      if (code !== 0 && !stopping) stopAll("SIGTERM");
      return code;
    }),
  );
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);
  return codes.find((c) => c !== 0) ?? 0;
}

function cmdGraph(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { format: { type: "string" }, ...ALLOW_OPTION }, allowPositionals: true, strict: true });
  const file = oneFile(positionals, "graph");
  const allow = allowed(values.allow);
  const format = values.format ?? "mermaid";
  if (format !== "mermaid" && format !== "dot") throw new UsageError(`--format must be mermaid or dot, not ${JSON.stringify(format)}`);
  const text = readSource(file);
  if (text === null) return EXIT.user;
  const fe = frontEnd(text, file, { allow });
  printDiagnostics(fe);
  if (!fe.ok || !fe.checked) return EXIT.user;
  const g = plan(fe.checked, file);
  process.stdout.write(format === "dot" ? dot(g) : mermaid(g));
  return EXIT.ok;
}

/**
 * `flowc partition`: the partition a producer puts a key's messages in, for a source with
 * `partitions: p` and `partition_key:` (docs/language.md): the key's group (runtime/keygroups.ts,
 * the same function the instances own key groups by) mod p.
 */
function cmdPartition(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { partitions: { type: "string" }, "key-groups": { type: "string" }, int: { type: "boolean" } }, allowPositionals: true, strict: true });
  const count = (name: string, text: string | undefined, fallback: number | null, max: number): number => {
    if (text === undefined) {
      if (fallback === null) throw new UsageError(`partition needs --${name}: flowc partition <key>… --partitions <p>`);
      return fallback;
    }
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(text)}`);
    return n;
  };
  const partitions = count("partitions", values.partitions, null, 1_000_000);
  const groups = count("key-groups", values["key-groups"], 128, 32768);
  if (positionals.length === 0) throw new UsageError("partition takes the keys: flowc partition <key>… --partitions <p>");
  const lines = positionals.map((text) => {
    let key: string | number = text;
    if (values.int) {
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--int: ${JSON.stringify(text)} is not an integer`);
      key = Number(text);
    }
    return `${text}\t${groupOf(key, groups) % partitions}\n`;
  });
  process.stdout.write(lines.join(""));
  return EXIT.ok;
}

async function cmdSavepoint(args: string[]): Promise<number> {
  if (args[0] === "inspect") {
    const { values, positionals } = parseArgs({ args: args.slice(1), options: { json: { type: "boolean" }, dump: { type: "string" }, "nats-url": { type: "string" } }, allowPositionals: true, strict: true });
    if (positionals.length !== 1) throw new UsageError("savepoint inspect takes one savepoint folder: flowc savepoint inspect <dir>");
    if (values.json && values.dump !== undefined) throw new UsageError("--json and --dump cannot be used together");
    const where = positionals[0]!;
    await withSavepoint(where, values["nats-url"], (dir) => inspect(dir, { json: values.json ?? false, dump: values.dump ?? null }, where));
    return EXIT.ok;
  }
  const { values, positionals } = parseArgs({ args, options: { stop: { type: "boolean" }, dir: { type: "string" }, token: { type: "string" }, "token-file": { type: "string" } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) throw new UsageError("savepoint takes the job's admin URL: flowc savepoint http://127.0.0.1:<port> [--stop] [--dir <dir>] (or: flowc savepoint inspect <dir>)");
  // Several URLs: every instance of one job (LANGUAGE.md 10.1), stopped, into one folder.
  if (positionals.length > 1 && (!values.stop || values.dir === undefined)) throw new UsageError("savepoints of several instances are taken with --stop into one folder: flowc savepoint URL1 URL2 … --stop --dir <dir>");
  let token: string | null;
  try {
    token = resolveToken({ flag: values.token, flagName: "--token", file: values["token-file"], fileFlagName: "--token-file", env: process.env[TOKEN_ENV] });
  } catch (e) {
    if (e instanceof TokenError) throw new UsageError(e.message);
    throw e;
  }
  if (positionals.length === 1) await triggerSavepoint(positionals[0]!, { stop: values.stop ?? false, dir: values.dir ?? null, token });
  else {
    // All at once: each instance takes its savepoint at its next batch boundary and stops.
    const results = await Promise.allSettled(positionals.map((url) => triggerSavepoint(url, { stop: true, dir: values.dir!, token })));
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${positionals[i]}: ${(r.reason as Error).message}`] : []));
    if (failed.length) throw new UserError(`${failed.length} of ${positionals.length} instances took no savepoint:\n  ${failed.join("\n  ")}`);
  }
  return EXIT.ok;
}

async function cmdTest(args: string[], command: "test" | "types" = "test"): Promise<number> {
  // The test runner (and the runtime it runs jobs on) loads only for these commands.
  const { testCommand, typesCommand, TestUsageError } = await import("./testing/cli.js");
  try {
    const io = { stdout: (s: string) => void process.stdout.write(s), stderr: (s: string) => void process.stderr.write(s), color: wantsColor({ isTTY: fromMain ? false : process.stdout.isTTY === true }) };
    return command === "types" ? typesCommand(args, io) : await testCommand(args, io);
  } catch (e) {
    if (e instanceof TestUsageError) throw new UsageError(e.message);
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    if (command === "--version" || command === "-v" || command === "version") {
      process.stdout.write(`flowc ${VERSION}\n`);
      return EXIT.ok;
    }
    const own = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
    if (own.includes("--help") || own.includes("-h")) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    switch (command) {
      case "compile":
        return await cmdCompile(rest);
      case "check":
        return await cmdCheck(rest);
      case "run":
        return await cmdRun(rest);
      case "graph":
        return cmdGraph(rest);
      case "lsp": {
        if (rest.length && !(rest.length === 1 && rest[0] === "--stdio")) throw new UsageError("lsp takes no arguments: it speaks LSP on stdin and stdout");
        // The server keeps running on whatever the editor sends: it gets the big stack from the start.
        if (isMainThread) return await inWorker(argv, { stdin: true });
        (await import("./lsp.js")).startLanguageServer();
        // Runs until the client exits (the connection ends the process).
        return await new Promise<number>(() => undefined);
      }
      case "partition":
        return cmdPartition(rest);
      case "savepoint":
        return await cmdSavepoint(rest);
      case "test":
        return await cmdTest(rest);
      case "types":
        return await cmdTest(rest, "types");
      default:
        throw new UsageError(`unknown command \`${command}\`${existsSync(command) ? ` (to run a file: flowc run ${command})` : ""}; the commands are compile, check, run, graph, partition, test, types, savepoint and lsp`);
    }
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT.user;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`error: ${(e as Error).message}\n\nRun \`flowc --help\` for usage.\n`);
      return EXIT.usage;
    }
    // Nesting the main thread's stack cannot hold (but the limits allow): again, with more stack.
    if (isStackOverflow(e) && isMainThread && (["compile", "check", "run", "graph"].includes(argv[0]!) || (argv[0] === "test" && !argv.includes("--watch")))) return await inWorker(argv, { stdin: false });
    process.stderr.write(internalError(e));
    return EXIT.internal;
  }
}

// In a worker started by inWorker: run the command (v8-compile-cache as bin/flowc does).
if (fromMain) {
  try {
    createRequire(import.meta.url)("v8-compile-cache");
  } catch {
    // Only slower without it.
  }
  process.exitCode = await main(fromMain.flowcArgv);
}
