// A job compiled for tests: the stages a compile runs (plan, emit with its type check), on the
// job's checked program plus one probe sink for each stream the tests read, so that any
// `let` stream, source or `late:` stream can be expected, not only what the job sinks. The
// probes exist only here: `flowc compile` never sees them, and the job's own bundle is
// unchanged. The module is bundled by esbuild in memory (with the job's imported TypeScript)
// and evaluated in this process, sharing this process's runtime (runtime/testing/harness.ts
// runs it): no file is written, no process started.

import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { runInThisContext } from "node:vm";
import type * as A from "../ast.js";
import type { CheckedProgram, SinkInfo, StreamType } from "../check/index.js";
import { plan } from "../plan.js";
import { VERSION } from "../version.js";
import type { JobModule } from "../../runtime/api.js";
import * as lib from "../../runtime/lib.js";
import * as udf from "../../runtime/udf.js";
import type { JobUnderTest } from "./check.js";

export interface TestModule {
  job: JobModule;
  /** The sink index of each probed stream's probe. */
  probes: Map<string, number>;
}

/** A compiler bug: the generated module of a job under test does not bundle or load. */
export class TestLoadError extends Error {}

/** The type of a stream the job names (a source, a `let`, a `late:` stream). */
function streamOf(c: CheckedProgram, name: string): StreamType | null {
  const src = c.sources.find((s) => s.name === name);
  if (src) return { elem: src.type, key: null, time: src.eventTime !== null, window: null };
  const l = c.lets.find((x) => x.name === name);
  if (l) return l.output;
  for (const p of [...c.lets, ...c.sinks]) for (const st of p.stages) if (st.kind === "window" && st.window.late === name) return { ...st.input, window: null };
  return null;
}

/** The checked program with a probe sink (JSON lines) on each of `streams`. */
function withProbes(c: CheckedProgram, streams: string[]): { checked: CheckedProgram; probes: Map<string, number> } {
  const probes = new Map<string, number>();
  const sinks: SinkInfo[] = [...c.sinks];
  for (const name of streams) {
    const output = streamOf(c, name);
    if (!output) throw new Error(`internal: no stream ${name} to probe`);
    probes.set(name, sinks.length);
    const span = c.program.job.span;
    const decl: A.SinkDecl = {
      kind: "Sink",
      span,
      pipeline: { kind: "Pipeline", span, head: { kind: "StreamRef", span, name: { kind: "Ident", name, span } }, stages: [] },
      connector: { kind: "Connector", span, name: { kind: "Ident", name: "file", span }, args: [] },
    };
    // A file sink's JSON lines (every value as JSON, primitives too); the harness gathers them.
    sinks.push({ decl, head: name, join: null, stages: [], output, connector: { kind: "file", path: `probe:${name}`, format: "jsonl" } });
  }
  return { checked: { ...c, sinks }, probes };
}

/** What the generated code imports from the runtime, as this process has it. */
const RUNTIME_MODULES: Record<string, unknown> = { "@flowc/runtime/lib": lib, "@flowc/runtime/udf": udf };

/** Compiles a job for tests, with probes on `streams`, and loads it into this process. */
export async function loadForTest(job: JobUnderTest, streams: string[], opts: { timings?: Record<string, number>; typeCheck?: boolean } = {}): Promise<TestModule> {
  const { timings } = opts;
  const { checked, probes } = withProbes(job.fe.checked!, [...new Set(streams)].sort());
  const graph = plan(checked, job.shown);
  const { emit } = await import("../emit.js");
  // The type check of generated code is the compiler's check of itself; `flowc compile`
  // does it for the job's module, and the test suite for the modules with probes.
  const { code } = await emit(graph, { sourceName: basename(job.shown), version: VERSION, typeCheck: opts.typeCheck ?? false, ...(timings ? { timings } : {}) });
  const t = performance.now();
  const esbuild = await import("esbuild");
  let out: string;
  try {
    const r = await esbuild.build({
      stdin: { contents: code, loader: "ts", resolveDir: dirname(job.path), sourcefile: `${graph.job}.ts` },
      bundle: true,
      write: false,
      platform: "node",
      format: "cjs",
      target: "node20",
      logLevel: "silent",
      // The runtime is this process's: the generated code's imports of it are passed in below.
      external: ["@flowc/runtime/*"],
    });
    out = r.outputFiles[0]!.text;
  } catch (e) {
    throw new TestLoadError(`esbuild could not bundle job ${graph.job} for its tests: ${(e as Error).message}`);
  }
  const nodeRequire = createRequire(join(dirname(job.path), "job.js"));
  const require = (id: string): unknown => (id in RUNTIME_MODULES ? RUNTIME_MODULES[id] : nodeRequire(id));
  const module = { exports: {} as Record<string, unknown> };
  // The CommonJS wrapper, as Node's loader writes it; the file name shows in stack traces.
  const wrapper = runInThisContext(`(function (exports, require, module) {${out}\n})`, { filename: `${job.shown} (compiled for tests)` }) as (exports: object, require: (id: string) => unknown, module: { exports: object }) => void;
  wrapper(module.exports, require, module);
  if (timings) timings["load"] = (timings["load"] ?? 0) + performance.now() - t;
  const loaded = module.exports as unknown as JobModule;
  if (typeof loaded.build !== "function" || !loaded.manifest) throw new TestLoadError(`the module of job ${graph.job} has no build() or manifest`);
  return { job: loaded, probes };
}
