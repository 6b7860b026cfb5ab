// What the parts of one `check` run share: the program, where diagnostics go, the checked
// program being built (its types table and side tables), the top-level names, and the
// caches that find cycles. One per run: nothing here outlives a check (the language server
// checks on every keystroke), binding ids included.

import type * as A from "../ast.js";
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { T, type Type } from "../types.js";
import type { Binding, CheckedProgram, LocalBinding, SinkInfo, StreamType } from "./model.js";

/** A top-level name and what declares it. */
export type TopDecl =
  | { kind: "late"; name: A.Ident; owner: A.LetDecl | A.SinkDecl }
  | { kind: "type"; decl: A.TypeDecl }
  | { kind: "fn"; decl: A.FnDecl }
  | { kind: "import"; decl: A.ImportDecl; name: A.Ident }
  | { kind: "source"; decl: A.SourceDecl }
  | { kind: "let"; decl: A.LetDecl };

export function declName(d: TopDecl): A.Ident {
  return d.kind === "import" || d.kind === "late" ? d.name : d.decl.name;
}

export interface CheckContext {
  readonly program: A.Program;
  readonly diags: Diagnostics;
  /** The folder `import` paths are resolved against. */
  readonly baseDir: string;
  /** The result, filled as the program is checked. */
  readonly out: CheckedProgram;
  readonly top: Map<string, TopDecl>;
  /** Named types: resolved, or being resolved (a reference back is a cycle). */
  readonly typeCache: Map<string, Type | "resolving">;
  /** Named streams: their type, or being checked (a reference back is a cycle). */
  readonly streamCache: Map<string, StreamType | "resolving">;
  /** Streams of late elements declared by `window(…, late: name)`, once their window is checked. */
  readonly lateTypes: Map<string, StreamType>;
  readonly sinkInfos: Map<A.SinkDecl, SinkInfo>;
  /** The helpers each helper calls (FLOW2009 finds cycles in them). */
  readonly fnCalls: Map<string, Set<string>>;
  /** The helper whose body is being checked. */
  currentFn: string | null;
  nextBindingId: number;
  /** For completion: called with the bindings in scope where an undeclared name is used. */
  readonly onUnknownName: ((name: string, visible: Binding[]) => void) | null;
  /** The type of a named stream, checking its `let` on first use (check/pipelines.ts). */
  streamOf(name: string, useSpan: A.Span): StreamType;
}

export const ERROR_STREAM: StreamType = { elem: T.error, key: null, time: true, window: null };

export function newBindingId(cx: CheckContext): number {
  return cx.nextBindingId++;
}

export function local(cx: CheckContext, id: A.Ident, type: Type, role: LocalBinding["role"], mutable: boolean): LocalBinding {
  return { kind: "local", id: newBindingId(cx), name: id.name, type, mutable, span: id.span, role };
}

export function namesOfKind(cx: CheckContext, ...kinds: TopDecl["kind"][]): string[] {
  return [...cx.top].filter(([, d]) => kinds.includes(d.kind)).map(([n]) => n);
}

/** Whether `decl` is the declaration that owns its name (not a duplicate). */
export function owns(cx: CheckContext, name: string, decl: object): boolean {
  const d = cx.top.get(name);
  return d !== undefined && d.kind !== "late" && d.decl === decl;
}
