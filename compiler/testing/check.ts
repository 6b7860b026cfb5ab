// check for test files: each test's job is parsed and checked (once per job, shared by the
// tests of a run), and the test is checked against it: `given` names a source of the job and
// its records fit the source's type; `expect` names a stream (a source, a `let`, a `late:`
// stream) and its records fit that stream's type; `expect state` names a stateful operator
// by uid, a key of its key type and states of their types. Values are read by
// testing/fixtures.ts; files named with `from` are read now, with the runtime's own readers.
// Diagnostics carry spans in the test file (or in the job, for the job's own errors).

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import type * as A from "../ast.js";
import type { JoinInfo, StatefulStage } from "../check/index.js";
import { frontEnd, type FrontEnd } from "../compile.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SourceLookup } from "../diagnostics/render.js";
import type { TypeScriptFiles } from "../imports.js";
import { accumulatorType } from "../plan.js";
import type { SourceFile } from "../source.js";
import { didYouMean } from "../suggest.js";
import { T, toDesc, typeToString, type Type, type TypeDesc } from "../types.js";
import type { Source, SourceContext } from "../../runtime/connectors/contract.js";
import { connector as fileSource } from "../../runtime/connectors/file-source.js";
import { RecordErrors } from "../../runtime/connectors/on-error.js";
import { BadRecordError, JobError } from "../../runtime/errors.js";
import { keyOf } from "../../runtime/lib.js";
import { Log } from "../../runtime/log.js";
import type * as TA from "./ast.js";
import { BAD, Fixtures } from "./fixtures.js";
import { isTestFile, parseTestFile } from "./parse.js";

/** A job named by tests: read and checked once per run. */
export interface JobUnderTest {
  /** The .flow file as messages name it (the test file's folder joined with its `for` path). */
  shown: string;
  /** Its absolute path. */
  path: string;
  text: string;
  fe: FrontEnd;
}

/** A source's records for one test, with the places to checkpoint and restore. */
export interface GivenInput {
  source: string;
  /** Typed values, as the source's connector would hand them out. */
  records: unknown[];
  /** A restart before record i, for each i listed (in order; i may repeat or equal the count). */
  restarts: number[];
}

export interface ExpectedStream {
  stream: string;
  desc: TypeDesc;
  unordered: boolean;
  /** Typed values. */
  records: unknown[];
  span: A.Span;
}

export interface ExpectedState {
  uid: string;
  /** The `let` stream the operator is part of (a test probes it, so that the operator runs even when no sink reads it). */
  stream: string | null;
  /** The key's type (null: an operator on a plain stream, which has one state). */
  keyDesc: TypeDesc | null;
  key: unknown;
  span: A.Span;
  fields: { name: string; desc: TypeDesc; value: unknown; span: A.Span }[];
}

export interface CheckedTest {
  name: string;
  decl: TA.TestDecl;
  /** The job (null when it cannot be used: FLOW6001). */
  job: JobUnderTest | null;
  given: GivenInput[];
  expects: ExpectedStream[];
  states: ExpectedState[];
  /** Checked without errors: it can run. */
  runnable: boolean;
}

export interface CheckedTestFile {
  /** The test file as the user named it. */
  file: string;
  source: SourceFile;
  tree: TA.TestFile | null;
  tests: CheckedTest[];
  /** The test file's diagnostics, then its jobs' errors (in the jobs' files). */
  diagnostics: Diagnostic[];
  ok: boolean;
  /** Every file this check read (the test file, jobs, fixture files, imported TypeScript): what `--watch` watches. */
  inputs: string[];
  /** The sources of every file a diagnostic may point into, for rendering. */
  sources: SourceLookup;
  /** The type each fixture value and record field name was read as (the language server's hover). */
  valueTypes: Map<A.Expr | A.Ident, Type>;
}

/** The jobs of one run, each read and checked once, by absolute path. */
export class Jobs {
  private readonly byPath = new Map<string, JobUnderTest | { error: string }>();

  constructor(private readonly typeScriptFiles?: TypeScriptFiles) {}

  get(path: string, shown: string): JobUnderTest | { error: string } {
    let j = this.byPath.get(path);
    if (!j) {
      j = this.load(path, shown);
      this.byPath.set(path, j);
    }
    return j;
  }

  all(): JobUnderTest[] {
    return [...this.byPath.values()].filter((j): j is JobUnderTest => "fe" in j);
  }

  private load(path: string, shown: string): JobUnderTest | { error: string } {
    if (isTestFile(path)) return { error: `\`${shown}\` is a test file, not a job` };
    if (!existsSync(path)) return { error: `cannot read \`${shown}\`: no such file` };
    if (statSync(path).isDirectory()) return { error: `\`${shown}\` is a folder, not a .flow job` };
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      return { error: `cannot read \`${shown}\`: ${(e as Error).message}` };
    }
    return { shown, path, text, fe: frontEnd(text, shown, { baseDir: dirname(path), ...(this.typeScriptFiles ? { typeScriptFiles: this.typeScriptFiles } : {}) }) };
  }
}

/** What `for "job.flow"` names, from a test file named `testFile` (relative to `cwd`). */
export function jobPaths(testFile: string, job: string, cwd = process.cwd()): { path: string; shown: string } {
  const path = resolve(dirname(resolve(cwd, testFile)), job);
  const shown = normalize(join(dirname(testFile), job));
  return { path, shown };
}

/** The element type of a stream the job names: a source, a `let`, or a `late:` stream. */
export function streamType(fe: FrontEnd, name: string): Type | null {
  const c = fe.checked!;
  const src = c.sources.find((s) => s.name === name);
  if (src) return src.type;
  const l = c.lets.find((x) => x.name === name);
  if (l) return l.output.elem;
  for (const p of [...c.lets, ...c.sinks]) for (const st of p.stages) if (st.kind === "window" && st.window.late === name) return st.input.elem;
  return null;
}

export function streamNames(fe: FrontEnd): string[] {
  const c = fe.checked!;
  const late = [...c.lets, ...c.sinks].flatMap((p) => p.stages.flatMap((st) => (st.kind === "window" && st.window.late ? [st.window.late] : [])));
  return [...c.sources.map((s) => s.name), ...c.lets.map((l) => l.name), ...late];
}

/** A stateful operator's states by name, with their types (null: its state is not values per key). */
export function statesOf(st: StatefulStage | JoinInfo): { states: { name: string; type: Type }[]; key: Type | null } | { not: string } {
  if ("leftAlias" in st) return { not: "a join keeps the elements of both sides, not values per key" };
  switch (st.kind) {
    case "process":
      return { states: st.states.map((s) => ({ name: s.name, type: s.type })), key: st.input.key };
    case "reduce":
      return { states: [{ name: "acc", type: T.optional(st.input.elem) }], key: st.input.key };
    case "aggregate":
      if (st.window) return { not: "a windowed aggregate keeps one accumulator per key and window, until the window is freed" };
      return { states: st.aggs.map((a) => ({ name: a.stateName, type: accumulatorType(a) })), key: st.input.key };
    case "dedup":
      return { not: "dedup keeps the ids it has seen with their times, not values per key" };
  }
}

/** Reads a fixture file with the runtime's file reader, as the job would read it. */
function readFixtureFile(path: string, type: Type): { records: unknown[] } | { line: number | null; problem: string } {
  const lower = path.toLowerCase();
  const format = lower.endsWith(".csv") ? "csv" : lower.endsWith(".txt") && type.kind === "prim" && type.name === "string" ? "text" : "jsonl";
  const errors = new RecordErrors({ policy: "fail", deadLetter: null }, null);
  const ctx: SourceContext = { log: new Log("flowc test", "error"), errors };
  let src: Source | null = null;
  try {
    const opened = fileSource.open({ name: "fixture", connector: "file", type: toDesc(type), path, format, onError: { policy: "fail", deadLetter: null }, follow: false, eventTime: null }, ctx);
    if (opened instanceof Promise) throw new Error("internal: a fixture file opened asynchronously");
    src = opened;
    const records: unknown[] = [];
    for (;;) {
      const batch = src.next();
      if (batch instanceof Promise) throw new Error("internal: a fixture file read asynchronously");
      if (batch === null) break;
      records.push(...batch);
    }
    return { records };
  } catch (e) {
    if (e instanceof BadRecordError) return { line: e.line, problem: `${e.field ? `field \`${e.field}\`: ` : ""}${e.problem}` };
    if (e instanceof JobError) return { line: null, problem: e.message.replace(path, "it") };
    throw e;
  } finally {
    src?.close();
  }
}

/**
 * Checks one test file's text; `jobs` is shared by the files of one run. `file` is the name
 * messages give it, relative to `cwd` (where paths are resolved from).
 */
export function checkTestFile(text: string, file: string, jobs: Jobs, cwd = process.cwd()): CheckedTestFile {
  const parsed = parseTestFile(text, file);
  const diags = parsed.diagnostics;
  const fixtures = new Fixtures(diags);
  const inputs = new Set<string>([resolve(cwd, file)]);
  const sources = new Map<string, SourceFile>([[file, parsed.source]]);
  const jobErrors: Diagnostic[] = [];
  const reportedJobs = new Set<string>();
  const tests: CheckedTest[] = [];
  const names = new Map<string, TA.TestDecl>();

  for (const decl of parsed.tree?.tests ?? []) {
    const before = diags.errorCount;
    const test: CheckedTest = { name: decl.name.value, decl, job: null, given: [], expects: [], states: [], runnable: false };
    tests.push(test);
    const same = names.get(decl.name.value);
    if (same) diags.error("FLOW6007", decl.name.span, `two tests are named ${JSON.stringify(decl.name.value)}`, { notes: [{ message: "the other one", span: same.name.span }] });
    else names.set(decl.name.value, decl);
    if (!decl.items.some((i) => i.kind !== "Given")) {
      diags.warning("FLOW6008", decl.keyword, `test ${JSON.stringify(decl.name.value)} expects nothing: it passes whatever the job does`, { hints: ["add `expect <stream> [ … ]` or `expect state …`; `expect <stream> []` checks that a stream stays empty"] });
    }

    const { path, shown } = jobPaths(file, decl.job.value, cwd);
    const job = jobs.get(path, shown);
    inputs.add(path);
    if ("error" in job) {
      diags.error("FLOW6001", decl.job.span, job.error, { hints: ["the path is relative to the test file"] });
      continue;
    }
    sources.set(job.shown, job.fe.source);
    for (const f of job.fe.checked?.imports.values() ?? []) inputs.add(f.path);
    if (!job.fe.ok || !job.fe.checked) {
      const errors = job.fe.diagnostics.filter((d) => d.severity === "error");
      diags.error("FLOW6001", decl.job.span, `the job \`${job.shown}\` has ${errors.length} error${errors.length === 1 ? "" : "s"}: its tests cannot run`, { hints: [`\`flowc check ${job.shown}\` lists them`] });
      if (!reportedJobs.has(job.path)) {
        reportedJobs.add(job.path);
        jobErrors.push(...errors);
      }
      continue;
    }
    test.job = job;
    const fe = job.fe;
    const checked = fe.checked!;
    const testDir = dirname(resolve(cwd, file));

    const givenAt = new Map<string, TA.Given>();
    const expectAt = new Map<string, TA.Expect>();
    const stateAt = new Map<string, TA.ExpectState>();
    for (const item of decl.items) {
      switch (item.kind) {
        case "Given": {
          const name = item.source.name;
          const src = checked.sources.find((s) => s.name === name);
          if (!src) {
            const known = checked.sources.map((s) => s.name);
            const isStream = streamType(fe, name) !== null;
            diags.error("FLOW2001", item.source.span, isStream ? `\`${name}\` is not a source of job \`${checked.job}\`` : `job \`${checked.job}\` has no source \`${name}\``, {
              hints: [isStream ? "`given` replaces a source's input; a `let` stream is computed from the sources" : didYouMean(name, known), `the job's sources: ${known.join(", ")}`],
            });
            break;
          }
          const prev = givenAt.get(name);
          if (prev) {
            diags.error("FLOW6004", item.source.span, `source \`${name}\` is given twice`, { notes: [{ message: "given here first", span: prev.source.span }], hints: ["put all of its records into one `given`"] });
            break;
          }
          givenAt.set(name, item);
          const input: GivenInput = { source: name, records: [], restarts: [] };
          if (item.records.kind === "Inline") {
            for (const entry of item.records.entries) {
              if (entry.kind === "Restart") input.restarts.push(input.records.length);
              else input.records.push(fixtures.value(entry, src.type, `a record of \`${name}\``));
            }
          } else input.records = readFile(item.records.path, src.type, `\`${name}\``);
          test.given.push(input);
          break;
        }
        case "Expect": {
          const name = item.stream.name;
          const type = streamType(fe, name);
          if (!type) {
            const known = streamNames(fe);
            diags.error("FLOW2001", item.stream.span, `job \`${checked.job}\` has no stream \`${name}\``, { hints: [didYouMean(name, known), `its streams: ${known.join(", ")}`] });
            break;
          }
          const prev = expectAt.get(name);
          if (prev) {
            diags.error("FLOW6004", item.stream.span, `stream \`${name}\` is expected twice`, { notes: [{ message: "expected here first", span: prev.stream.span }], hints: ["put all of its records into one `expect`"] });
            break;
          }
          expectAt.set(name, item);
          const records = item.records.kind === "Inline"
            ? item.records.entries.map((e) => fixtures.value(e as A.Expr, type, `a record of \`${name}\``))
            : readFile(item.records.path, type, `\`${name}\``);
          test.expects.push({ stream: name, desc: toDesc(type), unordered: item.unordered, records, span: item.span });
          break;
        }
        case "ExpectState":
          checkState(item);
          break;
      }
    }
    test.runnable = diags.errorCount === before;

    function readFile(pathLit: A.StringLit, type: Type, what: string): unknown[] {
      const path = resolve(testDir, pathLit.value);
      inputs.add(path);
      const shownPath = normalize(join(dirname(file), pathLit.value));
      const r = readFixtureFile(path, type);
      if ("records" in r) return r.records;
      diags.error("FLOW6006", pathLit.span, `${shownPath}${r.line !== null ? `, line ${r.line}` : ""}: ${r.problem}`, {
        hints: [`the records of ${what} are ${typeToString(type)}; the path is relative to the test file`],
      });
      return [BAD];
    }

    function checkState(item: TA.ExpectState): void {
      const uid = item.uid.name;
      let stage: StatefulStage | JoinInfo | null = null;
      for (const [st, u] of fe.uids ?? []) if (u === uid) stage = st;
      if (!stage) {
        const known = [...(fe.uids?.values() ?? [])];
        diags.error("FLOW2001", item.uid.span, `job \`${checked.job}\` has no stateful operator with uid \`${uid}\``, {
          hints: [didYouMean(uid, known), known.length ? `its stateful operators: ${known.join(", ")}` : "the job keeps no state"],
        });
        return;
      }
      const info = statesOf(stage);
      if ("not" in info) {
        diags.error("FLOW6005", item.uid.span, `the state of \`${uid}\` cannot be expected: ${info.not}`, { hints: ["expect the stream it produces instead"] });
        return;
      }
      let key: unknown = undefined;
      if (info.key && !item.key) {
        diags.error("FLOW6005", item.uid.span, `\`${uid}\` keeps its state per key: name the key, \`${uid}[…]\``, { hints: [`its key is ${typeToString(info.key)}`] });
        return;
      }
      if (!info.key && item.key) {
        diags.error("FLOW6005", item.key.span, `\`${uid}\` is on a plain stream and keeps one state: it has no keys`, { hints: [`write \`expect state ${uid} { … }\``] });
        return;
      }
      if (info.key && item.key) key = fixtures.value(item.key, info.key, "a key");
      const id = `${uid}[${key === undefined || key === BAD ? "" : keyOf(key)}]`;
      const prev = stateAt.get(id);
      if (prev) {
        diags.error("FLOW6004", item.uid.span, `the state of \`${uid}\`${item.key ? " for this key" : ""} is expected twice`, { notes: [{ message: "expected here first", span: prev.uid.span }] });
        return;
      }
      stateAt.set(id, item);
      const owner = checked.lets.find((l) => l.stages.includes(stage as StatefulStage));
      const expected: ExpectedState = { uid, stream: owner?.name ?? null, keyDesc: info.key ? toDesc(info.key) : null, key: key ?? null, span: item.span, fields: [] };
      const seen = new Set<string>();
      for (const f of item.fields) {
        const s = info.states.find((x) => x.name === f.name.name);
        if (!s) {
          const known = info.states.map((x) => x.name);
          diags.error("FLOW2001", f.name.span, `\`${uid}\` has no state \`${f.name.name}\``, { hints: [didYouMean(f.name.name, known), `its states: ${known.join(", ")}`] });
          continue;
        }
        if (seen.has(s.name)) {
          diags.error("FLOW2002", f.name.span, `state \`${s.name}\` is written twice`);
          continue;
        }
        seen.add(s.name);
        expected.fields.push({ name: s.name, desc: toDesc(s.type), value: fixtures.value(f.value, s.type, `state \`${s.name}\``), span: f.span });
      }
      test.states.push(expected);
    }
  }

  const own = diags.sorted();
  const all = [...own, ...jobErrors];
  return {
    file,
    source: parsed.source,
    tree: parsed.tree,
    tests,
    diagnostics: all,
    ok: !all.some((d) => d.severity === "error"),
    inputs: [...inputs],
    sources: (f) => sources.get(f),
    valueTypes: fixtures.types,
  };
}

/** A path for messages: relative to the working directory when inside it. */
export function shownPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith("..") ? r : path;
}
