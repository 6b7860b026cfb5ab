// Shared by the test suites: compile .flow text in-process, run bundles and the CLI as real
// processes, and make temporary folders.

import { execa, type ResultPromise } from "execa";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile, frontEnd } from "../compiler/compile.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const FLOWC = join(ROOT, "bin", "flowc");

export function tempDir(prefix = "flowc-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes files (path -> content) under a folder. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** Diagnostics of a program as the CLI renders them (no colour). */
export function diagnose(text: string, file = "job.flow"): string {
  const fe = frontEnd(text, file);
  return fe.diagnostics.length ? renderDiagnostics(fe.diagnostics, () => fe.source, false) : "";
}

/** Compiles .flow text in this process into dir/dist; throws with the diagnostics on errors. */
export async function compileIn(dir: string, text: string, opts: { emitTs?: boolean; file?: string } = {}): Promise<string> {
  const file = opts.file ?? "job.flow";
  const r = await compile(text, file, { outDir: join(dir, "dist"), emitTs: opts.emitTs ?? false });
  if (!r.ok || !r.outFile) throw new Error(`compile failed:\n${renderDiagnostics(r.diagnostics, () => r.source, false)}`);
  return r.outFile;
}

export interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a bundle with plain node in `cwd`. */
export async function runBundle(bundle: string, opts: { cwd: string; args?: string[]; input?: string; env?: Record<string, string> }): Promise<Run> {
  const r = await execa(process.execPath, [bundle, ...(opts.args ?? [])], {
    cwd: opts.cwd,
    reject: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" as const }),
    env: { NO_COLOR: "1", ...opts.env },
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

/** Compiles and runs a program with the given input files; returns the run. */
export async function compileAndRun(text: string, files: Record<string, string> = {}, opts: { args?: string[]; input?: string } = {}): Promise<Run & { dir: string }> {
  const dir = tempDir();
  writeFiles(dir, files);
  const bundle = await compileIn(dir, text);
  return { ...(await runBundle(bundle, { cwd: dir, ...opts })), dir };
}

/** Runs bin/flowc as a user would. */
export async function flowc(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {}): Promise<Run> {
  const r = await execa(FLOWC, args, {
    cwd: opts.cwd ?? ROOT,
    reject: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: "ignore" as const }),
    env: { NO_COLOR: "1", ...opts.env },
    timeout: 120_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

/**
 * Generated bids as JSON lines, the same for a seed: times 20 ms apart with up to 4 s of
 * disorder, one in 997 nine seconds late; `dupEvery`: every n-th bid repeats the previous id.
 */
export function bidRows(count: number, seed: number, opts: { auctions: number; bidders: number; dupEvery?: number }): string[] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const ts = i * 20 + Math.floor(rnd() * 4000) - (i % 997 === 0 ? 9000 : 0);
    const id = opts.dupEvery && i % opts.dupEvery === 0 && i > 0 ? i - 1 : i;
    rows.push(JSON.stringify({ id, auction: Math.floor(rnd() * opts.auctions), bidder: Math.floor(rnd() * opts.bidders), price: Math.round(rnd() * 10000) / 100, ts }));
  }
  return rows;
}

/** Lines of output, for comparisons. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.length > 0);
}

/** A JavaScript stack trace line, which a user's own mistake must never show. */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** A job started with its admin endpoint on a free port. */
export interface RunningJob {
  child: ResultPromise;
  /** The admin endpoint, http://127.0.0.1:<port>. */
  url: string;
  port: number;
  /** The job's stderr so far. */
  stderr: () => string;
}

/**
 * Starts a bundle with `--admin-port 0 --log-level info` in `cwd`; resolves once it runs and
 * serves (the URL is read from its log). `started`, when given, collects the child so that
 * a test's cleanup can kill it.
 */
export async function startWithAdmin(bundle: string, cwd: string, opts: { args?: string[]; env?: Record<string, string>; started?: ResultPromise[] } = {}): Promise<RunningJob> {
  const child = execa(process.execPath, [bundle, "--admin-port", "0", "--log-level", "info", ...(opts.args ?? [])], { cwd, reject: false, stdin: "ignore", env: { NO_COLOR: "1", ...opts.env } });
  opts.started?.push(child);
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /admin endpoint on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m && /running:/.test(err)) resolve(m[1]!);
    });
    void child.then((r) => reject(new Error(`the job exited (${r.exitCode}) before serving:\n${err}`)));
  });
  return { child, url, port: Number(new URL(url).port), stderr: () => err };
}
