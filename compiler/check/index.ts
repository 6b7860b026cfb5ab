// check: resolves names and types over the AST and enforces the language's rules.
// It never throws for a user's mistake: it reports a diagnostic, gives the bad part the
// `error` type (which fits everywhere, so one mistake is reported once) and carries on.
// Its result is plain data (side tables keyed by AST node, check/model.ts) that `plan` reads.
//
// The parts share one context (check/context.ts): declarations.ts (top-level names),
// type-exprs.ts, fns.ts, expr.ts (expressions and calls), narrowing.ts, scope.ts,
// pipelines.ts (sources, lets, sinks), stages.ts, time.ts (event time and windows), join.ts,
// process.ts, connectors.ts (calls checked against the connector table) and policies.ts.
// Uids are plan's (plan.ts, `assignUids`).

import { dirname, resolve } from "node:path";
import type * as A from "../ast.js";
import { checkPathCollisions } from "../collisions.js";
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { readImports, TypeScriptFiles } from "../imports.js";
import { owns, type CheckContext } from "./context.js";
import { collectDeclarations } from "./declarations.js";
import { checkFn, checkRecursion } from "./fns.js";
import type { Binding, CheckedProgram } from "./model.js";
import { checkSink, checkSource, streamOf } from "./pipelines.js";
import { checkPolicies } from "./policies.js";
import { namedType } from "./type-exprs.js";

export type * from "./model.js";
export { accumulatorName } from "./expr.js";

export interface CheckOptions {
  /** The folder `import` paths are resolved against (default: the .flow file's folder). */
  baseDir?: string;
  /** For completion: called with the bindings in scope wherever a name that is not declared is used. */
  onUnknownName?: (name: string, visible: Binding[]) => void;
  /** The imported TypeScript files, kept between checks (the language server); else read for this check. */
  typeScriptFiles?: TypeScriptFiles;
}

export function check(program: A.Program, diags: Diagnostics, opts: CheckOptions = {}): CheckedProgram {
  const cx: CheckContext = {
    program,
    diags,
    baseDir: opts.baseDir ?? dirname(resolve(program.span.file)),
    out: {
      program,
      job: program.job.name,
      types: new Map(),
      fns: new Map(),
      imports: new Map(),
      sources: [],
      lets: [],
      letsByDependency: [],
      sinks: [],
      checkpoint: null,
      restart: null,
      state: null,
      keyGroups: 128,
      exprTypes: new Map(),
      names: new Map(),
      calls: new Map(),
      narrowed: new Set(),
      recordLayouts: new Map(),
      emptyMaps: new Set(),
      declared: new Map(),
      targets: new Map(),
    },
    top: new Map(),
    typeCache: new Map(),
    streamCache: new Map(),
    lateTypes: new Map(),
    sinkInfos: new Map(),
    fnCalls: new Map(),
    currentFn: null,
    nextBindingId: 1,
    onUnknownName: opts.onUnknownName ?? null,
    streamOf: (name, span) => streamOf(cx, name, span),
  };
  const out = cx.out;
  const typeScriptFiles = opts.typeScriptFiles ?? new TypeScriptFiles();
  collectDeclarations(cx);
  for (const [name, d] of cx.top) if (d.kind === "type") out.types.set(name, namedType(cx, name, d.decl.name.span));
  for (const d of program.decls) {
    if (d.kind === "FnDecl" && owns(cx, d.name.name, d)) checkFn(cx, d);
    if (d.kind === "Import") {
      for (const f of readImports(d, cx.baseDir, diags, typeScriptFiles)) {
        const top = cx.top.get(f.name);
        if (top?.kind === "import" && top.name === f.ident) out.imports.set(f.name, f);
      }
    }
  }
  checkRecursion(cx);
  for (const d of program.decls) if (d.kind === "Source" && owns(cx, d.name.name, d)) checkSource(cx, d);
  for (const d of program.decls) if (d.kind === "Let" && owns(cx, d.name.name, d)) cx.streamOf(d.name.name, d.name.span);
  for (const d of program.decls) if (d.kind === "Sink") checkSink(cx, d);
  checkPolicies(cx);
  // After the policies: the checkpoint and state folders take part.
  checkPathCollisions(out, diags);
  // Lets in declaration order (streamOf may have visited them in dependency order).
  out.letsByDependency = [...out.lets];
  out.lets.sort((a, b) => a.decl.span.start - b.decl.span.start);
  return out;
}

