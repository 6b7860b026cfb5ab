// `flowc test [files or folders…] [--reporter default|junit] [--out FILE] [--watch]`: finds the
// test files (default: every `*.test.flow` below the working directory, outside node_modules
// and hidden folders), checks them against their jobs, compiles each job once, runs each test
// in this process and reports. Exit codes: 0 every test passed, 1 a test failed or could not
// run (errors in a test file or its job), 2 a usage error. `--watch` runs again whenever a
// test file, a job, a fixture file or an imported TypeScript file changes.

import { existsSync, readdirSync, readFileSync, statSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderDiagnostics } from "../diagnostics/render.js";
import { TypeScriptFiles } from "../imports.js";
import { checkTestFile, Jobs, type CheckedTestFile } from "./check.js";
import { isTestFile } from "./parse.js";
import { ConsoleReporter, diagnosticsText, junitXml } from "./report.js";
import { CompiledJobs, runFiles } from "./run.js";
import { jobTypesText } from "./types.js";

/** A mistake in the command line (exit 2). */
export class TestUsageError extends Error {}

export interface TestIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  color: boolean;
}

/** Folders never searched for tests. */
function skipped(name: string): boolean {
  return name === "node_modules" || name.startsWith(".");
}

/** The test files of the command line (sorted), and every folder searched (for --watch). */
export function findTestFiles(paths: string[]): { files: string[]; folders: string[] } {
  const files = new Set<string>();
  const folders: string[] = [];
  const walk = (dir: string): void => {
    folders.push(dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = dir === "." ? e.name : normalize(join(dir, e.name));
      if (e.isDirectory() && !skipped(e.name)) walk(p);
      else if (e.isFile() && isTestFile(e.name)) files.add(p);
    }
  };
  for (const p of paths.length ? paths : ["."]) {
    if (!existsSync(p)) throw new TestUsageError(`${p}: no such file or folder`);
    if (statSync(p).isDirectory()) walk(p);
    else if (isTestFile(p)) files.add(normalize(p));
    else throw new TestUsageError(`${p} is not a test file: test files end in .test.flow (flowc check ${p} checks a job)`);
  }
  return { files: [...files].sort(), folders };
}

interface RunOutcome {
  code: number;
  /** Every file the run read, absolute: what --watch watches. */
  inputs: string[];
  folders: string[];
}

async function runOnce(paths: string[], reporter: "default" | "junit", out: string | undefined, io: TestIo, compiled: CompiledJobs, typeScriptFiles: TypeScriptFiles): Promise<RunOutcome> {
  const started = performance.now();
  const when = new Date();
  const { files, folders } = findTestFiles(paths);
  if (files.length === 0) throw new TestUsageError(`no test files (*.test.flow) ${paths.length ? `in ${paths.join(", ")}` : "below the working directory"}`);
  // The human report goes to stdout, unless the JUnit XML does.
  const human = reporter === "default" || out !== undefined;
  const console = new ConsoleReporter(human ? io.stdout : () => {}, io.color);
  const jobs = new Jobs(typeScriptFiles);
  const checked: CheckedTestFile[] = files.map((f) => checkTestFile(readFileSync(f, "utf8"), f, jobs));
  // Diagnostics first (to stderr, as `flowc check` prints them), then the tests as they run.
  for (const f of checked) if (f.diagnostics.length) io.stderr(diagnosticsText(f, io.color));
  const results = await runFiles(checked, compiled, (f, r) => console.result(f.file, r));
  const compileMs = [...compiled.timings.values()].reduce((a, b) => a + b, 0);
  const jobCount = compiled.timings.size;
  compiled.timings.clear();
  const ms = performance.now() - started;
  console.summary(results, ms, compileMs, jobCount);
  if (reporter === "junit") {
    const text = junitXml(results, ms, when);
    if (out !== undefined) writeFileSync(out, text);
    else io.stdout(text);
  }
  const ok = checked.every((f) => f.ok) && results.every((f) => f.results.every((r) => r.status === "passed"));
  return { code: ok ? 0 : 1, inputs: [...new Set(checked.flatMap((f) => f.inputs))], folders: folders.map((d) => resolve(d)) };
}

export async function testCommand(args: string[], io: TestIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { reporter: { type: "string" }, out: { type: "string" }, watch: { type: "boolean" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new TestUsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const reporter = values.reporter ?? "default";
  if (reporter !== "default" && reporter !== "junit") throw new TestUsageError(`--reporter must be default or junit, not ${JSON.stringify(reporter)}`);
  if (values.out !== undefined && reporter !== "junit") throw new TestUsageError("--out names the JUnit XML file: use it with --reporter junit");
  if (values.out !== undefined && (!existsSync(dirname(resolve(values.out))) || (existsSync(values.out) && statSync(values.out).isDirectory()))) {
    throw new TestUsageError(`--out ${values.out}: ${existsSync(values.out) ? "is a folder" : "its folder does not exist"}`);
  }
  const compiled = new CompiledJobs();
  const typeScriptFiles = new TypeScriptFiles();
  if (!values.watch) return (await runOnce(positionals, reporter, values.out, io, compiled, typeScriptFiles)).code;
  return watchAndRun(positionals, reporter, values.out, io, compiled, typeScriptFiles);
}

/** Runs, then again whenever a file the run read (or a new test file) changes, until SIGINT or SIGTERM. */
async function watchAndRun(paths: string[], reporter: "default" | "junit", out: string | undefined, io: TestIo, compiled: CompiledJobs, typeScriptFiles: TypeScriptFiles): Promise<number> {
  let last = await runOnce(paths, reporter, out, io, compiled, typeScriptFiles);
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let changed = new Set<string>();
  const rerun = async (): Promise<void> => {
    if (running) return;
    running = true;
    const what = [...changed].map((p) => relative(process.cwd(), p) || p);
    // An imported TypeScript file changed: compile the jobs again (a job's own text is part
    // of the cache's key, and fixtures are read by the check).
    if (what.some((p) => /\.[cm]?[jt]s$/.test(p))) compiled = new CompiledJobs();
    changed = new Set();
    io.stdout(`\n${"─".repeat(8)} ${what.join(", ")} changed: running again\n\n`);
    try {
      last = await runOnce(paths, reporter, out, io, compiled, typeScriptFiles);
    } catch (e) {
      if (!(e instanceof TestUsageError)) throw e;
      io.stderr(`error: ${e.message}\n`);
      last = { ...last, code: 2 };
    }
    running = false;
    follow();
    io.stdout(`\nwatching for changes (Ctrl-C to stop)\n`);
    if (changed.size) schedule();
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void rerun(), 100);
  };
  /** Watches the folders of every input and every searched folder (not recursively: node_modules stays out). */
  const follow = (): void => {
    const inputs = new Set(last.inputs);
    const dirs = new Set([...last.folders, ...last.inputs.map((p) => dirname(p))]);
    for (const dir of dirs) {
      if (watchers.has(dir) || !existsSync(dir)) continue;
      try {
        const w = watch(dir, (_event, name) => {
          if (!name) return;
          const p = join(dir, name.toString());
          if (inputs.has(p) || isTestFile(p) || last.inputs.includes(p)) {
            changed.add(p);
            if (!running) schedule();
          }
        });
        watchers.set(dir, w);
      } catch {
        // A folder that went away: the next run says what is missing.
      }
    }
  };
  follow();
  io.stdout(`\nwatching for changes (Ctrl-C to stop)\n`);
  return new Promise<number>((done) => {
    const stop = (): void => {
      for (const w of watchers.values()) w.close();
      if (timer) clearTimeout(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done(last.code);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** `flowc types <job.flow> [-o <file>]`: the job's shape for the JavaScript API. */
export function typesCommand(args: string[], io: TestIo): number {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { out: { type: "string", short: "o" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new TestUsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new TestUsageError("types takes one .flow job: flowc types <job.flow> [-o <file.ts>]");
  const file = positionals[0]!;
  if (isTestFile(file)) throw new TestUsageError(`${file} is a test file: flowc types takes the job it tests`);
  const job = new Jobs().get(resolve(file), file);
  if ("error" in job) {
    io.stderr(`error: ${job.error}\n`);
    return 1;
  }
  if (job.fe.diagnostics.length) io.stderr(renderDiagnostics(job.fe.diagnostics, () => job.fe.source, io.color) + "\n");
  if (!job.fe.ok || !job.fe.checked || !job.fe.uids) return 1;
  const text = jobTypesText(job.fe.checked, job.fe.uids, file);
  if (values.out !== undefined) writeFileSync(values.out, text);
  else io.stdout(text);
  return 0;
}
