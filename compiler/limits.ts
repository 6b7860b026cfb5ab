// The nesting limits (docs/language.md, "Limits") and their diagnostic, FLOW1004. Every stage
// — the parser, check, plan, emit, the type check of the generated code — recurses once
// per level of nesting, so a program nested deeper than they have been measured to take
// stops here with a diagnostic instead of overflowing the stack:
//
// - brackets, counted by the scan before parsing (scan.ts, MAX_BRACKETS);
// - expressions and statements, counted on the syntax tree right after parsing (MAX_NESTING);
// - types: records, lists, maps and optionals inside each other, counted after check
//   (MAX_TYPE_NESTING; TypeScript gives up comparing types nested much deeper).

import type * as A from "./ast.js";
import type { CheckedProgram } from "./check/index.js";
import type { Diagnostics } from "./diagnostics/diagnostic.js";
import { MAX_BRACKETS, MAX_NESTING, MAX_TYPE_NESTING, type TooDeep } from "./scan.js";
import type { SourceFile } from "./source.js";
import type { Type } from "./types.js";

export { MAX_BRACKETS, MAX_NESTING, MAX_TYPE_NESTING };

const SPLIT_HINT = "split it up: compute parts in `fn` helpers, or in `let`s of a process block";

/** The scan found nesting the parser cannot take. */
export function reportTooDeep(diags: Diagnostics, src: SourceFile, at: TooDeep): void {
  const span = src.span(at.start, at.end);
  if (at.kind === "brackets") {
    diags.error("FLOW1004", span, `nesting too deep: more than ${MAX_BRACKETS} brackets are open here`, {
      label: `bracket ${MAX_BRACKETS + 1}`,
      hints: [`brackets nest at most ${MAX_BRACKETS} deep; ${SPLIT_HINT}`],
    });
  } else {
    diags.error("FLOW1004", span, "nesting too deep: this expression chains too many operators and keywords to parse", {
      hints: [`expressions nest at most ${MAX_NESTING} levels; ${SPLIT_HINT}`],
    });
  }
}

/** The kinds of node that count as a level: expressions, statements and types. */
const LEVELS = new Set([
  "Int", "Float", "String", "Bool", "Null", "Duration", "Name", "Field", "Index", "Call", "Unary", "Binary", "Cond", "Record", "List", "Lambda",
  "LetStmt", "AssignStmt", "IfStmt", "ForStmt", "EmitStmt", "TimerStmt", "ClearStmt", "DeleteStmt", "ExprStmt",
  "NamedType", "OptionalType", "ListType", "MapType", "RecordType",
]);

/**
 * How many levels a node counts. `+`, `-` and `*` count two: on ints the generated code
 * checks each result against the int range inline, which nests about twice as deep in the
 * job's own parser (plain `node`, 1 MB of stack) as the operator alone.
 */
function levelsOf(node: { kind?: string; op?: string }): number {
  return node.kind === "Binary" && (node.op === "+" || node.op === "-" || node.op === "*") ? 2 : 1;
}

/**
 * Whether the program nests at most MAX_NESTING levels; otherwise reports FLOW1004 at the
 * first node (in source order) one level too deep. Walks the tree without recursing.
 */
export function checkNesting(program: A.Program, diags: Diagnostics): boolean {
  // Each entry: a value, the level of the node it is in, and how many of those levels are
  // `if`s (a long `else if` chain gets its own hint).
  const stack: { v: unknown; level: number; ifs: number }[] = [{ v: program, level: 0, ifs: 0 }];
  while (stack.length > 0) {
    const { v, level, ifs } = stack.pop()!;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], level, ifs });
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    const node = v as { kind?: string; span?: A.Span };
    const here = typeof node.kind === "string" && LEVELS.has(node.kind) ? level + levelsOf(node) : level;
    if (here > MAX_NESTING) {
      const chain = ifs > here / 2;
      diags.error("FLOW1004", node.span!, `nesting too deep: expressions and statements nest more than ${MAX_NESTING} levels here`, {
        label: `level ${here}`,
        hints: [
          chain ? "each `else if` branch nests one level deeper than the one before; for many cases, look the value up in a map, or split the chain into `fn` helpers" : undefined,
          `expressions and statements nest at most ${MAX_NESTING} levels; ${SPLIT_HINT}`,
        ],
      });
      return false;
    }
    const children = Object.entries(node).filter(([k]) => k !== "span" && k !== "keyword" && k !== "opSpan");
    const ifsHere = node.kind === "Cond" || node.kind === "IfStmt" ? ifs + 1 : ifs;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ v: children[i]![1], level: here, ifs: ifsHere });
  }
  return true;
}

/** How deep records, lists, maps and optionals nest in a type, counted up to `limit + 1`. */
function typeDepth(t: Type, limit: number): number {
  if (limit < 0) return 0;
  switch (t.kind) {
    case "optional":
      return 1 + typeDepth(t.inner, limit - 1);
    case "list":
      return 1 + typeDepth(t.elem, limit - 1);
    case "map":
      return 1 + Math.max(typeDepth(t.key, limit - 1), typeDepth(t.value, limit - 1));
    case "record":
      return 1 + t.fields.reduce((m, f) => Math.max(m, typeDepth(f.type, limit - 1)), 0);
    case "fn":
      return Math.max(typeDepth(t.result, limit), ...t.params.map((p) => typeDepth(p, limit)));
    default:
      return 0;
  }
}

/**
 * Reports FLOW1004 when a type nests more than MAX_TYPE_NESTING levels: at the first
 * declaration with such a type (a `type`, source, state, `fn` or import), else at the
 * innermost expression that goes past the limit.
 */
export function checkTypeNesting(checked: CheckedProgram, diags: Diagnostics): void {
  // Many expressions share one type object (a stream's element type): each is measured once.
  const measured = new WeakMap<Type, boolean>();
  const tooDeep = (t: Type): boolean => {
    let deep = measured.get(t);
    if (deep === undefined) measured.set(t, (deep = typeDepth(t, MAX_TYPE_NESTING) > MAX_TYPE_NESTING));
    return deep;
  };
  const report = (span: A.Span): void =>
    diags.error("FLOW1004", span, `nesting too deep: this type nests records, lists, maps and optionals more than ${MAX_TYPE_NESTING} levels deep`, {
      hints: [`types nest at most ${MAX_TYPE_NESTING} levels; flatten the data, for example into records with more fields`],
    });
  const declared: { type: Type; span: A.Span }[] = [];
  for (const d of checked.program.decls) {
    const t = d.kind === "TypeDecl" ? checked.types.get(d.name.name) : undefined;
    if (t && d.kind === "TypeDecl") declared.push({ type: t, span: d.type.span });
  }
  for (const s of checked.sources) declared.push({ type: s.type, span: s.decl.type.span });
  for (const f of checked.fns.values()) declared.push(...f.params.map((p) => ({ type: p.type, span: p.span })), { type: f.result, span: f.decl.result.span });
  for (const f of checked.imports.values()) declared.push(...f.params.map((p) => ({ type: p.type, span: f.ident.span })), { type: f.result, span: f.ident.span });
  for (const p of [...checked.lets, ...checked.sinks]) {
    for (const st of p.stages) if (st.kind === "process") declared.push(...st.states.map((b) => ({ type: b.type, span: b.decl.type.span })));
  }
  const first = declared.filter((d) => tooDeep(d.type)).sort((a, b) => a.span.start - b.span.start)[0];
  if (first) return report(first.span);
  let worst: A.Expr | null = null;
  const width = (e: A.Expr): number => e.span.end - e.span.start;
  for (const [e, t] of checked.exprTypes) {
    if (!tooDeep(t)) continue;
    // The innermost: the shortest span, the first in the file.
    if (!worst || width(e) < width(worst) || (width(e) === width(worst) && e.span.start < worst.span.start)) worst = e;
  }
  if (worst) report(worst.span);
}
