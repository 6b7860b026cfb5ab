// The compiler's stages in order: parse -> check -> plan -> emit -> bundle. Each stage is a
// module with one entry function; this file only strings them together.

import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type * as A from "./ast.js";
import { check, type CheckOptions, type CheckedProgram } from "./check/index.js";
import { applyAllows } from "./diagnostics/allow.js";
import type { Diagnostic } from "./diagnostics/diagnostic.js";
import { checkTypeNesting } from "./limits.js";
import { parse } from "./parse.js";
import { graphData } from "./graph.js";
import { assignUids, plan, type JobGraph, type Uids } from "./plan.js";
import type { SourceFile } from "./source.js";
import { VERSION } from "./version.js";

export interface FrontEnd {
  source: SourceFile;
  program: A.Program | null;
  checked: CheckedProgram | null;
  /** The uids plan gives the stateful stages (the language server shows them). */
  uids: Uids | null;
  diagnostics: Diagnostic[];
  ok: boolean;
}

/** Parse and check: everything `flowc check` does. Never throws for bad input. */
/** For testing the internal-error path: FLOWC_DEBUG_CRASH=<stage> makes that stage throw. */
function debugCrash(stage: string): void {
  if (process.env.FLOWC_DEBUG_CRASH === stage) throw new Error(`crash in ${stage}, requested by FLOWC_DEBUG_CRASH`);
}

export interface FrontEndOptions extends CheckOptions {
  /** Warning codes silenced in the whole file (`--allow`). */
  allow?: readonly string[];
}

export function frontEnd(text: string, file: string, opts: FrontEndOptions = {}): FrontEnd {
  debugCrash("parse");
  const parsed = parse(text, file);
  debugCrash("check");
  const checked = parsed.program ? check(parsed.program, parsed.diagnostics, opts) : null;
  // Plan's uid rules run on every check, so that `flowc check` reports FLOW4006/FLOW4007.
  const uids = checked ? assignUids(checked, parsed.diagnostics) : null;
  if (checked) checkTypeNesting(checked, parsed.diagnostics);
  // `// allow FLOWnnnn` comments and `--allow`: silenced warnings stay, marked.
  applyAllows(parsed.diagnostics, parsed.source, parsed.program, new Set(opts.allow ?? []));
  const diagnostics = parsed.diagnostics.sorted();
  return { source: parsed.source, program: parsed.program, checked, uids, diagnostics, ok: !parsed.diagnostics.hasErrors };
}

export interface CompileOptions {
  outDir: string;
  emitTs: boolean;
  /** Warning codes silenced in the whole file (`--allow`). */
  allow?: readonly string[];
  /** Bundle the NATS client even when the job uses no NATS (for --checkpoint-dir nats:…). */
  nats?: boolean;
}

export interface CompileResult extends FrontEnd {
  graph?: JobGraph;
  outFile?: string;
  tsFile?: string;
  /** This compile's phase timings in ms, printed by the CLI when FLOWC_TIMINGS is set. */
  timings: Record<string, number>;
}

function timed<T>(timings: Record<string, number>, name: string, f: () => T): T {
  const t = performance.now();
  try {
    return f();
  } finally {
    timings[name] = (timings[name] ?? 0) + performance.now() - t;
  }
}

export async function compile(text: string, file: string, opts: CompileOptions): Promise<CompileResult> {
  const timings: Record<string, number> = {};
  const fe = timed(timings, "parse+check", () => frontEnd(text, file, { allow: opts.allow ?? [] }));
  if (!fe.ok || !fe.checked) return { ...fe, timings };
  debugCrash("plan");
  const graph = timed(timings, "plan", () => plan(fe.checked!, file));
  // esbuild's service is a process of its own: started now, it comes up while this one
  // emits and type-checks (a tenth of a second off a cold compile on two cores).
  const esbuildReady = import("esbuild").then((esbuild) => esbuild.transform("", {})).catch(() => undefined);
  const { emit } = await import("./emit.js");
  const { bundle } = await import("./bundle.js");
  const { code, manifest } = await emit(graph, { sourceName: basename(file), version: VERSION, timings, format: opts.emitTs });
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${graph.job}.mjs`);
  const tsFile = join(outDir, `${graph.job}.ts`);
  if (opts.emitTs) writeFileSync(tsFile, code);
  const t = performance.now();
  await esbuildReady;
  await bundle({ job: graph.job, code, outFile, modulePath: tsFile, sourceDir: dirname(resolve(file)), manifest, graph: graphData(graph), nats: opts.nats ?? false });
  timings["bundle"] = performance.now() - t;
  return { ...fe, graph, outFile, timings, ...(opts.emitTs ? { tsFile } : {}) };
}
