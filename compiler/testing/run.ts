// Running checked tests: each job is compiled once for all the tests that name it (with
// probes on every stream they expect: testing/load.ts), then each test runs in this process
// on its given records (runtime/testing/harness.ts) and its expectations are compared with
// what the job produced (testing/compare.ts).

import type { FlowRuntimeError } from "../../runtime/lib.js";
import type { JobError } from "../../runtime/errors.js";
import { plainMapKey } from "../../runtime/operator.js";
import { keysOf, runJob, stateOf } from "../../runtime/testing/harness.js";
import type { JobModule } from "../../runtime/api.js";
import type { CheckedTest, CheckedTestFile, ExpectedState, ExpectedStream, JobUnderTest } from "./check.js";
import { asJson, diffOrdered, diffUnordered, differences, show, type FieldDifference, type StreamDifference } from "./compare.js";
import { loadForTest, type TestModule } from "./load.js";

/** Why a test failed: one part per expectation that did not hold, and the job's own failure. */
export type Failure =
  | { kind: "stream"; stream: string; unordered: boolean; line: number; col: number; diff: StreamDifference }
  | { kind: "state"; uid: string; key: string | null; line: number; col: number; fields: FieldDifference[]; missing: string | null }
  | { kind: "job"; code: string; message: string; location: string | null };

export interface TestResult {
  name: string;
  /** The test file as the user named it, and the test's line in it. */
  file: string;
  line: number;
  /** passed; failed (an expectation did not hold, or the job failed); error (the test could not run: its file or job has errors). */
  status: "passed" | "failed" | "error";
  ms: number;
  failures: Failure[];
  /** For status "error": why, in a few words. */
  error?: string;
}

export interface FileResult {
  checked: CheckedTestFile;
  results: TestResult[];
}

/** The compiled jobs of one run, by absolute path and the streams they probe. */
export class CompiledJobs {
  private readonly modules = new Map<string, Promise<TestModule>>();
  /** Compile time per job, in ms (for the summary). */
  readonly timings = new Map<string, number>();

  get(job: JobUnderTest, streams: string[]): Promise<TestModule> {
    const key = `${job.path}\0${job.text}\0${[...new Set(streams)].sort().join(",")}`;
    let m = this.modules.get(key);
    if (!m) {
      const t = performance.now();
      m = loadForTest(job, streams).then((x) => {
        this.timings.set(job.path, (this.timings.get(job.path) ?? 0) + performance.now() - t);
        return x;
      });
      this.modules.set(key, m);
    }
    return m;
  }
}

function describeFailure(e: JobError | FlowRuntimeError): Failure {
  const location = "location" in e ? (e as FlowRuntimeError).location : null;
  return { kind: "job", code: e.code, message: e.message, location };
}

/** Runs one test on its compiled job. */
export async function runTest(test: CheckedTest, mod: TestModule): Promise<Failure[]> {
  const run = await runJob(mod.job, test.given);
  const failures: Failure[] = [];
  if (run.failure) failures.push(describeFailure(run.failure));
  for (const e of test.expects) {
    const f = compareStream(e, run.sinkLines[mod.probes.get(e.stream)!]!);
    if (f) failures.push(f);
  }
  for (const s of test.states) {
    const f = compareState(s, mod.job, run.operators);
    if (f) failures.push(f);
  }
  return failures;
}

function compareStream(e: ExpectedStream, lines: string[]): Failure | null {
  const found = lines.map((l) => JSON.parse(l) as unknown);
  const expected = e.records.map(asJson);
  const diff = e.unordered ? diffUnordered(expected, found, e.desc) : diffOrdered(expected, found, e.desc);
  return diff ? { kind: "stream", stream: e.stream, unordered: e.unordered, line: e.span.line, col: e.span.col, diff } : null;
}

function compareState(s: ExpectedState, job: JobModule, operators: Parameters<typeof stateOf>[1]): Failure | null {
  const keyText = s.keyDesc ? show(asJson(s.key), s.keyDesc) : null;
  const values = stateOf(job, operators, s.uid, s.keyDesc ? s.key : undefined, (k) => plainMapKey(k, ""));
  const base = { kind: "state" as const, uid: s.uid, key: keyText, line: s.span.line, col: s.span.col };
  if (!values) {
    const { keys, total } = keysOf(operators, s.uid, 5);
    const held = total === 0 ? "it holds no state" : `it holds state for ${total} key${total === 1 ? "" : "s"}: ${keys.map((k) => show(asJson(k), s.keyDesc ?? undefined)).join(", ")}${total > keys.length ? ", …" : ""}`;
    return { ...base, fields: [], missing: `no state for key ${keyText}: ${held}` };
  }
  const fields: FieldDifference[] = [];
  for (const f of s.fields) {
    for (const d of differences(asJson(f.value), asJson(values.get(f.name)), f.desc)) fields.push({ ...d, path: d.path ? `${f.name}${d.path.startsWith("[") ? "" : "."}${d.path}` : f.name });
  }
  return fields.length ? { ...base, fields, missing: null } : null;
}

/**
 * Runs every runnable test of the files (compiling each job once); a test that cannot run
 * (its file or its job has errors) is an error result.
 */
export async function runFiles(files: CheckedTestFile[], compiled = new CompiledJobs(), onResult?: (file: CheckedTestFile, r: TestResult) => void): Promise<FileResult[]> {
  // Every stream each job's tests expect, so that each job compiles once.
  const streams = new Map<string, string[]>();
  // (And the streams of the operators whose state they expect, which may feed no sink.)
  for (const f of files) {
    for (const t of f.tests) {
      if (!t.runnable || !t.job) continue;
      streams.set(t.job.path, [...(streams.get(t.job.path) ?? []), ...t.expects.map((e) => e.stream), ...t.states.flatMap((s) => (s.stream ? [s.stream] : []))]);
    }
  }
  const out: FileResult[] = [];
  for (const f of files) {
    const results: TestResult[] = [];
    for (const t of f.tests) {
      const base = { name: t.name, file: f.file, line: t.decl.span.line };
      let r: TestResult;
      if (!t.runnable || !t.job || !f.ok) {
        r = { ...base, status: "error", ms: 0, failures: [], error: !t.job ? "its job cannot be used" : !t.runnable ? "the test has errors" : "its test file has errors" };
      } else {
        const mod = await compiled.get(t.job, streams.get(t.job.path) ?? []);
        const started = performance.now();
        const failures = await runTest(t, mod);
        r = { ...base, status: failures.length ? "failed" : "passed", ms: performance.now() - started, failures };
      }
      results.push(r);
      onResult?.(f, r);
    }
    out.push({ checked: f, results });
  }
  return out;
}
