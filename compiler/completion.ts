// What the language server completes, found in the parse tree: the word at the cursor is
// replaced by a placeholder name (alone, then as a call `name()`, for the places that need
// parentheses), the text is parsed and checked, and the node holding the placeholder says
// what belongs there: a stage after `|>`, a source connector after `source x: T =`, a sink
// connector after `->`, a stream name where a stream is read, a type, the fields of the
// record before a `.` (its type from the checker), or in an expression the names the
// checker's scope holds there. When neither text parses: keywords and the file's names.

import { CompletionItemKind, type CompletionItem } from "vscode-languageserver/node.js";
import type * as A from "./ast.js";
import { AGGREGATES, BUILTINS, SIGNATURES } from "./builtins.js";
import type { Binding, CheckedProgram } from "./check/index.js";
import { frontEnd } from "./compile.js";
import { SINKS, SOURCES } from "./connectors/index.js";
import { KEYWORDS } from "./diagnostics/syntax.js";
import type { TypeScriptFiles } from "./imports.js";
import { STAGES, stageDetail } from "./stages.js";
import { PRIMITIVES, stripOptional, typeToString, type Type } from "./types.js";

/** A name no .flow file uses (names with `$` are not .flow names, but `__` ones are). */
const PLACEHOLDER = "__flowc_complete__";

const EXPRESSION_KEYWORDS = ["if", "then", "else", "not", "and", "or", "true", "false", "null"];

type Site =
  | { kind: "stage" }
  | { kind: "source" }
  | { kind: "sink" }
  | { kind: "stream" }
  | { kind: "type" }
  | { kind: "field"; of: Type | undefined }
  | { kind: "expr"; visible: Binding[] };

export interface CompletionOptions {
  /** Where `import` paths are resolved from. */
  baseDir: string;
  /** The imported TypeScript files the language server keeps. */
  typeScriptFiles?: TypeScriptFiles;
  /** The file as last checked: names for the fallback when the text at the cursor does not parse. */
  last: CheckedProgram | null;
}

export function completionAt(text: string, file: string, offset: number, opts: CompletionOptions): CompletionItem[] {
  const found = siteAt(text, file, offset, opts);
  if (!found) return general(opts.last, offset);
  const { site, checked } = found;
  switch (site.kind) {
    case "stage":
      return STAGES.map((s) => ({ label: s.name, kind: CompletionItemKind.Function, detail: stageDetail(s) }));
    case "source":
      return SOURCES.map((c) => ({ label: c.name, kind: CompletionItemKind.Function, detail: c.summary }));
    case "sink":
      return SINKS.map((c) => ({ label: c.name, kind: CompletionItemKind.Function, detail: c.summary }));
    case "stream":
      return streams(checked);
    case "type":
      return [...items(PRIMITIVES, CompletionItemKind.Keyword), ...items([...checked.types.keys()], CompletionItemKind.Struct, () => "type")];
    case "field": {
      const rec = site.of ? stripOptional(site.of) : undefined;
      if (rec?.kind !== "record") return [];
      return rec.fields.map((f) => ({ label: f.name, kind: CompletionItemKind.Field, detail: typeToString(f.type) }));
    }
    case "expr":
      return [
        ...site.visible.map(bindingItem),
        ...items([...checked.fns.keys(), ...checked.imports.keys()], CompletionItemKind.Function, () => "fn"),
        ...functions(),
        ...items(EXPRESSION_KEYWORDS, CompletionItemKind.Keyword),
      ];
  }
}

/** The word at `offset` replaced by the placeholder, parsed and checked; where it ended up. */
function siteAt(text: string, file: string, offset: number, opts: CompletionOptions): { site: Site; checked: CheckedProgram } | null {
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1]!)) start--;
  let end = offset;
  while (end < text.length && /[A-Za-z0-9_]/.test(text[end]!)) end++;
  for (const placeholder of [PLACEHOLDER, `${PLACEHOLDER}()`]) {
    let visible: Binding[] = [];
    const onUnknownName = (name: string, bindings: Binding[]): void => {
      if (name === PLACEHOLDER) visible = bindings;
    };
    const fe = frontEnd(text.slice(0, start) + placeholder + text.slice(end), file, { baseDir: opts.baseDir, onUnknownName, ...(opts.typeScriptFiles ? { typeScriptFiles: opts.typeScriptFiles } : {}) });
    if (!fe.program || !fe.checked) continue;
    const site = findSite(fe.program, fe.checked, () => visible);
    if (site) return { site, checked: fe.checked };
  }
  return null;
}

/** What the node holding the placeholder takes. */
function findSite(program: A.Program, checked: CheckedProgram, visible: () => Binding[]): Site | null {
  const is = (id: A.Ident): boolean => id.name === PLACEHOLDER;
  for (const d of program.decls) {
    if (d.kind === "Source" && is(d.connector.name)) return { kind: "source" };
    if (d.kind === "Sink" && is(d.connector.name)) return { kind: "sink" };
    if (d.kind !== "Let" && d.kind !== "Sink") continue;
    const p = d.pipeline;
    if (p.head.kind === "StreamRef" && is(p.head.name)) return { kind: "stream" };
    if (p.head.kind === "Join" && (is(p.head.left.stream) || is(p.head.right.stream))) return { kind: "stream" };
    for (const st of p.stages) {
      if (st.kind !== "CallStage") continue;
      if (is(st.name)) return { kind: "stage" };
      if (st.name.name === "union" && st.args.some((a) => a.value.kind === "Name" && a.value.name === PLACEHOLDER)) return { kind: "stream" };
    }
  }
  // Anywhere else: a field after a dot, a name in an expression, a type.
  let site: Site | null = null;
  const visit = (v: unknown): void => {
    if (site || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const node = v as { kind?: string };
    if (node.kind === "Field" && is((node as A.ExprOf<"Field">).field)) site = { kind: "field", of: checked.exprTypes.get((node as A.ExprOf<"Field">).object) };
    else if (node.kind === "Name" && (node as A.ExprOf<"Name">).name === PLACEHOLDER) site = { kind: "expr", visible: visible() };
    else if (node.kind === "NamedType" && is((node as { name: A.Ident }).name)) site = { kind: "type" };
    else for (const [k, x] of Object.entries(node)) if (k !== "span") visit(x);
  };
  visit(program.decls);
  return site;
}

function items(names: readonly string[], kind: CompletionItemKind, detail: (n: string) => string | undefined = () => undefined): CompletionItem[] {
  return names.map((label) => ({ label, kind, ...(detail(label) ? { detail: detail(label) } : {}) }));
}

function streams(checked: CheckedProgram | null): CompletionItem[] {
  return checked ? items([...checked.sources.map((s) => s.name), ...checked.lets.map((l) => l.name)], CompletionItemKind.Variable, () => "stream") : [];
}

function functions(): CompletionItem[] {
  return items([...new Set([...BUILTINS, ...AGGREGATES])], CompletionItemKind.Function, (n) => (n in SIGNATURES ? SIGNATURES[n as keyof typeof SIGNATURES] : `aggregate function ${n}`));
}

function bindingItem(b: Binding): CompletionItem {
  return { label: b.name, kind: b.kind === "state" ? CompletionItemKind.Field : CompletionItemKind.Variable, detail: typeToString(b.type) };
}

/** Keywords, built-ins and the file's names, as last checked (with the bindings of the declaration at the cursor). */
function general(checked: CheckedProgram | null, offset: number): CompletionItem[] {
  const names: CompletionItem[] = [];
  if (checked) {
    names.push(...streams(checked));
    names.push(...items([...checked.types.keys()], CompletionItemKind.Struct, () => "type"));
    names.push(...items([...checked.fns.keys(), ...checked.imports.keys()], CompletionItemKind.Function, () => "fn"));
    // Lambda parameters, locals and states declared in the same declaration, before the cursor.
    const decl = checked.program.decls.find((d) => d.span.start <= offset && offset <= d.span.end);
    const seen = new Set(names.map((n) => n.label));
    for (const b of checked.names.values()) {
      if (b.kind === "key" || seen.has(b.name) || !decl || b.span.start < decl.span.start || b.span.start > offset) continue;
      seen.add(b.name);
      names.push(bindingItem(b));
    }
  }
  return [...names, ...items(KEYWORDS, CompletionItemKind.Keyword), ...items(["key", "event_time", "watermark", "idle"], CompletionItemKind.Keyword), ...functions()];
}
