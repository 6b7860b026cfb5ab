// `flowc/testing`: the JavaScript API for testing jobs from vitest, jest or any runner
// (declared in public.d.ts, documented in docs/testing.md). `loadJob` checks and compiles a
// job once, with probes on the streams a run returns (testing/load.ts); each `run` builds its
// graph afresh and drives it in this process on the given records (runtime/testing/harness.ts),
// exactly as `flowc test` runs a test file.

import { resolve } from "node:path";
import { renderDiagnostics } from "../diagnostics/render.js";
import { jsonConverter } from "../../runtime/convert.js";
import { ConversionError } from "../../runtime/errors.js";
import { plainMapKey } from "../../runtime/operator.js";
import { runJob, stateOf, type HarnessInput } from "../../runtime/testing/harness.js";
import { Jobs, shownPath } from "./check.js";
import { asJson } from "./compare.js";
import { loadForTest } from "./load.js";
import type * as Public from "./public.js";
import { jobTypesText } from "./types.js";

export type { AnyJob, FlowJob, Input, Inputs, JobFailure, JobRun, JobShape, LoadOptions } from "./public.js";

export const restart: typeof Public.restart = Symbol.for("flowc.testing.restart") as typeof Public.restart;

type Diag = Public.FlowCompileError["diagnostics"][number];

export class FlowCompileError extends Error implements Public.FlowCompileError {
  constructor(
    message: string,
    readonly diagnostics: readonly Diag[],
  ) {
    super(message);
    this.name = "FlowCompileError";
  }
}

export class FlowInputError extends Error implements Public.FlowInputError {
  constructor(
    message: string,
    readonly source: string,
    readonly index: number,
    readonly field: string,
  ) {
    super(message);
    this.name = "FlowInputError";
  }
}

/** Reads and checks a job; throws FlowCompileError when it has errors. */
function checkedJob(path: string) {
  const shown = shownPath(resolve(path));
  const job = new Jobs().get(resolve(path), shown);
  if ("error" in job) throw new FlowCompileError(job.error, []);
  if (!job.fe.ok || !job.fe.checked || !job.fe.uids) {
    const text = renderDiagnostics(job.fe.diagnostics, () => job.fe.source, false);
    throw new FlowCompileError(`${shown} does not compile:\n${text}`, job.fe.diagnostics.map((d) => ({ code: d.code, severity: d.severity, message: d.message, file: d.span.file, line: d.span.line, col: d.span.col })));
  }
  return job;
}

export const loadJob: typeof Public.loadJob = async <J extends Public.JobShape = Public.AnyJob>(path: string, options: Public.LoadOptions<J> = {}): Promise<Public.FlowJob<J>> => {
  const job = checkedJob(path);
  const checked = job.fe.checked!;
  const late = [...checked.lets, ...checked.sinks].flatMap((p) => p.stages.flatMap((st) => (st.kind === "window" && st.window.late ? [st.window.late] : [])));
  const all = [...checked.sources.map((s) => s.name), ...checked.lets.map((l) => l.name), ...late];
  const streams = options.streams ? [...options.streams] : all;
  for (const s of streams) if (!all.includes(s)) throw new FlowCompileError(`job \`${checked.job}\` has no stream \`${s}\` (its streams: ${all.join(", ")})`, []);
  const mod = await loadForTest(job, streams);
  const m = mod.job.manifest;
  const operators = m.operators.filter((o) => o.kind === "process" || o.kind === "reduce" || o.kind === "aggregate").map((o) => o.uid);
  const convert = new Map(m.sources.map((s) => [s.name, jsonConverter(s.type)]));

  const run = async (inputs: Public.Inputs<J>): Promise<Public.JobRun<J>> => {
    const given: HarnessInput[] = [];
    for (const [source, list] of Object.entries(inputs as Record<string, Public.Input<unknown> | undefined>)) {
      if (list === undefined) continue;
      const to = convert.get(source);
      if (!to) throw new FlowInputError(`job \`${m.job}\` has no source \`${source}\` (its sources: ${m.sources.map((s) => s.name).join(", ")})`, source, -1, "");
      const records: unknown[] = [];
      const restarts: number[] = [];
      for (const x of list) {
        if (x === restart) {
          restarts.push(records.length);
          continue;
        }
        try {
          records.push(to(x, ""));
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          throw new FlowInputError(`record ${records.length} of source \`${source}\`${e.path ? `, field \`${e.path}\`` : ""}: ${e.problem}`, source, records.length, e.path);
        }
      }
      given.push({ source, records, restarts });
    }
    const r = await runJob(mod.job, given);
    const out: Record<string, unknown[]> = {};
    for (const [name, index] of mod.probes) out[name] = r.sinkLines[index]!.map((l) => JSON.parse(l) as unknown);
    const failure = r.failure ? { code: r.failure.code, message: r.failure.message, location: "location" in r.failure ? (r.failure.location as string) : null } : null;
    return {
      streams: out as Public.JobRun<J>["streams"],
      state: (uid, key) => {
        const op = m.operators.find((o) => o.uid === uid);
        if (!op || !operators.includes(uid)) throw new Error(`job \`${m.job}\` has no stateful operator \`${uid}\` whose state can be read (its operators: ${operators.join(", ") || "none"})`);
        let typed: unknown = undefined;
        if (op.key) {
          if (key === undefined) throw new Error(`\`${uid}\` keeps its state per key: state("${uid}", key)`);
          try {
            typed = jsonConverter(op.key)(key, "key");
          } catch (e) {
            if (!(e instanceof ConversionError)) throw e;
            throw new Error(`not a key of \`${uid}\`: ${e.problem}`);
          }
        }
        const values = stateOf(mod.job, r.operators, uid, typed, (k) => plainMapKey(k, ""));
        if (!values) return null;
        const o: Record<string, unknown> = {};
        for (const [k, v] of values) o[k] = asJson(v);
        return o as J["state"][typeof uid]["value"];
      },
      failure,
      restarts: r.restarts,
      late: Object.fromEntries(r.late),
    };
  };
  return { name: m.job, sources: m.sources.map((s) => s.name), streams: [...mod.probes.keys()], operators, run };
};

export const jobTypes: typeof Public.jobTypes = (path: string): string => {
  const job = checkedJob(path);
  return jobTypesText(job.fe.checked!, job.fe.uids!, job.shown);
};
