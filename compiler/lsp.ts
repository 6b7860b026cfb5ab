// `flowc lsp`: the Language Server Protocol over stdio (vscode-languageserver), built on the
// real parser and checker, so an editor shows exactly what `flowc check` says.
//
// - diagnostics on open and on every change: the same codes, messages and spans as the CLI,
//   notes as related information, hints appended;
// - hover: the type of a name, field or expression; a stream's element type, key and event
//   time; a stage's input and output streams; a type's definition; a function's signature;
// - go to definition: streams, types, functions (and imported TypeScript functions), lambda
//   parameters, locals and states;
// - completion (compiler/completion.ts, from the parse tree and the checker's scopes): stage
//   names after `|>`, connectors after `source … =` and `->`, streams, types, the fields of
//   a record after `.`, the names in scope in an expression, otherwise keywords, built-ins
//   and the names in the file.
// - test files (`*.test.flow`): the same, from the test checker (compiler/testing/lsp.ts).

import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createConnection,
  DiagnosticSeverity,
  MarkupKind,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  CompletionItemKind,
  type CompletionItem,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type Hover,
  type Location,
} from "vscode-languageserver/node.js";
import { TextDocument } from "vscode-languageserver-textdocument";
import type * as A from "./ast.js";
import { SIGNATURES } from "./builtins.js";
import type { Binding, CheckedProgram, StageInfo, StreamType } from "./check/index.js";
import { frontEnd, type FrontEnd } from "./compile.js";
import { TypeScriptFiles } from "./imports.js";
import { isStateful } from "./plan.js";
import { completionAt } from "./completion.js";
import { SINKS, SOURCES } from "./connectors/index.js";
import { stripOptional, typeToString, recordShape, type Type } from "./types.js";
import { isTestFile } from "./testing/parse.js";
import { TestFiles, type TestFileAnalysis } from "./testing/lsp.js";
import { VERSION } from "./version.js";

interface Analysis {
  text: string;
  fe: FrontEnd;
  /** Every AST node with a span, for lookups by offset. */
  nodes: { node: { kind: string; span: A.Span }; parent: { kind: string } | null }[];
  stages: Map<A.Stage, StageInfo>;
}

/** The file path of a document (untitled documents resolve imports from the working directory). */
function pathOf(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

function collect(root: unknown): Analysis["nodes"] {
  const out: Analysis["nodes"] = [];
  const visit = (v: unknown, parent: { kind: string } | null): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, parent);
      return;
    }
    if (v === null || typeof v !== "object") return;
    const o = v as { kind?: unknown; span?: unknown };
    const isNode = typeof o.kind === "string" && typeof o.span === "object" && o.span !== null;
    if (isNode) out.push({ node: o as { kind: string; span: A.Span }, parent });
    for (const [k, x] of Object.entries(o)) {
      if (k === "span" || k === "keyword" || k === "opSpan") continue;
      if (x !== null && typeof x === "object") visit(x, isNode ? (o as { kind: string }) : parent);
    }
  };
  visit(root, null);
  return out;
}

/** Where a document's `import` paths are resolved from (untitled ones: the working directory). */
function baseDirOf(uri: string): string {
  return uri.startsWith("file:") ? dirname(pathOf(uri)) : process.cwd();
}

function analyze(uri: string, text: string, typeScriptFiles: TypeScriptFiles): Analysis {
  const fe = frontEnd(text, pathOf(uri), { baseDir: baseDirOf(uri), typeScriptFiles });
  const stages = new Map<A.Stage, StageInfo>();
  for (const p of [...(fe.checked?.lets ?? []), ...(fe.checked?.sinks ?? [])]) for (const s of p.stages) stages.set(s.stage, s);
  return { text, fe, nodes: fe.program ? collect(fe.program) : [], stages };
}

function streamText(s: StreamType): string {
  const parts = [typeToString(s.elem)];
  if (s.key) parts.push(`keyed by ${typeToString(s.key)}`);
  if (s.time) parts.push("event time");
  return parts.join(", ");
}

function code(text: string): Hover["contents"] {
  return { kind: MarkupKind.Markdown, value: "```flow\n" + text + "\n```" };
}

function typeDetail(t: Type): string {
  const base = stripOptional(t);
  return base.kind === "record" && base.name ? `${typeToString(t)} = ${recordShape(base)}` : typeToString(t);
}

export class FlowLanguageServer {
  private readonly docs = new TextDocuments(TextDocument);
  private readonly analyses = new Map<string, Analysis>();
  /** The last analysis that parsed, per document: hover and completion while the text does not. */
  private readonly lastGood = new Map<string, Analysis>();
  /** Imported TypeScript files, read again when they change. */
  private readonly typeScriptFiles = new TypeScriptFiles();
  /** Test files (`*.test.flow`): checked against their jobs by testing/lsp.ts. */
  private readonly tests = new TestFiles(this.typeScriptFiles);

  constructor(private readonly conn: Connection) {
    conn.onInitialize(() => ({
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        definitionProvider: true,
        completionProvider: { triggerCharacters: [".", ">", " "] },
      },
      serverInfo: { name: "flowc", version: VERSION },
    }));
    // Fired on open too.
    this.docs.onDidChangeContent((e) => this.validate(e.document));
    this.docs.onDidClose((e) => {
      this.analyses.delete(e.document.uri);
      this.lastGood.delete(e.document.uri);
      this.tests.close(e.document.uri);
      void conn.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });
    conn.onHover((p) => this.hover(p.textDocument.uri, p.position));
    conn.onDefinition((p) => this.definition(p.textDocument.uri, p.position));
    conn.onCompletion((p) => this.complete(p.textDocument.uri, p.position));
    this.docs.listen(conn);
  }

  private analysis(uri: string): Analysis | undefined {
    const doc = this.docs.get(uri);
    if (!doc) return undefined;
    let a = this.analyses.get(uri);
    if (!a || a.text !== doc.getText()) {
      a = analyze(uri, doc.getText(), this.typeScriptFiles);
      this.analyses.set(uri, a);
      if (a.fe.program) this.lastGood.set(uri, a);
    }
    return a;
  }

  /** A test file's analysis, or null for a job. */
  private testFile(uri: string): TestFileAnalysis | null {
    const doc = this.docs.get(uri);
    if (!doc || !isTestFile(pathOf(uri))) return null;
    return this.tests.analysis(uri, pathOf(uri), doc.getText());
  }

  private validate(doc: TextDocument): void {
    let a: Pick<Analysis, "fe">;
    try {
      const test = this.testFile(doc.uri);
      a = test ? { fe: { diagnostics: test.diagnostics } as FrontEnd } : this.analysis(doc.uri)!;
    } catch (e) {
      // A compiler bug: say so in the editor instead of failing silently.
      void this.conn.sendDiagnostics({ uri: doc.uri, diagnostics: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, severity: DiagnosticSeverity.Error, source: "flowc", message: `internal compiler error: ${(e as Error).message} (please report it with this file)` }] });
      return;
    }
    const path = pathOf(doc.uri);
    const range = (s: A.Span) => ({ start: doc.positionAt(s.start), end: doc.positionAt(Math.max(s.end, s.start + 1)) });
    const diagnostics: LspDiagnostic[] = a.fe.diagnostics
      .filter((d) => d.span.file === path && !d.silenced)
      .map((d) => ({
        range: range(d.span),
        severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        code: d.code,
        source: "flowc",
        message: [d.message + (d.label ? ` (${d.label})` : ""), ...d.hints.map((h) => `hint: ${h}`)].join("\n"),
        relatedInformation: d.notes.filter((n) => n.span.file === path).map((n) => ({ location: { uri: doc.uri, range: range(n.span) }, message: n.message })),
      }));
    void this.conn.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  }

  /** The nodes at an offset, innermost first. */
  private at(a: Analysis, offset: number): Analysis["nodes"] {
    const hits = a.nodes.filter(({ node }) => node.span.start <= offset && offset < node.span.end);
    if (hits.length === 0 && offset > 0) return this.at(a, offset - 1);
    return hits.sort((x, y) => x.node.span.end - x.node.span.start - (y.node.span.end - y.node.span.start));
  }

  private offsetOf(uri: string, pos: { line: number; character: number }): number {
    return this.docs.get(uri)!.offsetAt(pos);
  }

  /** What a name in stream position (a pipeline head, a join side, `union(b)`) refers to. */
  private streamDecl(checked: CheckedProgram, name: string): { span: A.Span; type: StreamType | null } | null {
    const src = checked.sources.find((s) => s.name === name);
    if (src) return { span: src.decl.name.span, type: { elem: src.type, key: null, time: src.eventTime !== null, window: null } };
    const l = checked.lets.find((x) => x.name === name);
    if (l) return { span: l.decl.name.span, type: l.output };
    // A `late: name` stream: declared by the argument of its window.
    for (const p of [...checked.lets, ...checked.sinks]) {
      for (const s of p.stages) {
        if (s.kind !== "window" || s.stage.kind !== "CallStage") continue;
        const arg = s.stage.args.find((x) => x.name?.name === "late" && x.value.kind === "Name" && x.value.name === name);
        if (arg) return { span: arg.value.span, type: { ...s.input, window: null } };
      }
    }
    return null;
  }

  private typeDecl(program: A.Program, name: string): A.TypeDecl | undefined {
    return program.decls.find((d): d is A.TypeDecl => d.kind === "TypeDecl" && d.name.name === name);
  }

  hover(uri: string, pos: { line: number; character: number }): Hover | null {
    const test = this.testFile(uri);
    if (test) {
      const text = test.hover(this.offsetOf(uri, pos));
      return text === null ? null : { contents: code(text) };
    }
    const a = this.analysis(uri);
    const checked = a?.fe.checked;
    if (!a || !checked) return null;
    const offset = this.offsetOf(uri, pos);
    for (const { node, parent } of this.at(a, offset)) {
      // A stage's name: the stream it takes and the one it gives.
      if ((node.kind === "CallStage" || node.kind === "ProcessStage") && a.stages.has(node as A.Stage)) {
        const st = a.stages.get(node as A.Stage)!;
        const nameSpan = node.kind === "CallStage" ? (node as A.CallStage).name.span : (node as A.ProcessStage).keyword;
        if (offset < nameSpan.start || offset > nameSpan.end) continue;
        const uid = isStateful(st) ? ` as ${a.fe.uids?.get(st) ?? ""}` : "";
        return { contents: code(`${st.kind}${uid}: ${streamText(st.input)}  →  ${streamText(st.output)}`) };
      }
      if (node.kind === "Ident") {
        const id = node as unknown as A.Ident;
        const p = parent as { kind: string } | null;
        if (p?.kind === "StreamRef" || p?.kind === "JoinSide" || p?.kind === "Let" || p?.kind === "Source") {
          const s = this.streamDecl(checked, id.name);
          if (s?.type) return { contents: code(`stream ${id.name}: ${streamText(s.type)}`) };
        }
        if (p?.kind === "NamedType" || p?.kind === "TypeDecl") {
          const t = checked.types.get(id.name);
          if (t) return { contents: code(`type ${id.name} = ${t.kind === "record" ? recordShape(t) : typeToString(t)}`) };
        }
        if (p?.kind === "FnDecl") {
          const f = checked.fns.get(id.name);
          if (f) return { contents: code(`fn ${f.name}(${f.params.map((x) => `${x.name}: ${typeToString(x.type)}`).join(", ")}): ${typeToString(f.result)}`) };
        }
        if (p?.kind === "Import") {
          const f = checked.imports.get(id.name);
          if (f) return { contents: code(`fn ${f.name}(${f.params.map((x) => `${x.name}: ${typeToString(x.type)}`).join(", ")}): ${typeToString(f.result)}  // from ${f.specifier}`) };
        }
        if (p?.kind === "Connector") {
          const spec = [...SOURCES, ...SINKS].find((c) => c.name === id.name);
          if (spec) return { contents: code(spec.summary) };
        }
        continue;
      }
      const expr = node as unknown as A.Expr;
      const t = checked.exprTypes.get(expr);
      if (!t) continue;
      if (expr.kind === "Name") {
        const b = checked.names.get(expr);
        if (b) return { contents: code(bindingText(b)) };
        const s = this.streamDecl(checked, expr.name);
        if (s?.type) return { contents: code(`stream ${expr.name}: ${streamText(s.type)}`) };
      }
      if (expr.kind === "Call") {
        const target = checked.calls.get(expr);
        if (target?.kind === "builtin" && target.name in SIGNATURES) return { contents: code(`${SIGNATURES[target.name]}  →  ${typeToString(t)}`) };
      }
      if (expr.kind === "Field") return { contents: code(`(field) ${expr.field.name}: ${typeDetail(t)}`) };
      return { contents: code(typeDetail(t)) };
    }
    return null;
  }

  definition(uri: string, pos: { line: number; character: number }): Location | null {
    const test = this.testFile(uri);
    if (test) {
      const place = test.definition(this.offsetOf(uri, pos));
      return place ? { uri: pathToFileURL(place.path).href, range: { start: place.start, end: place.end } } : null;
    }
    const a = this.analysis(uri);
    const checked = a?.fe.checked;
    if (!a || !checked) return null;
    const doc = this.docs.get(uri)!;
    const here = (s: A.Span): Location => ({ uri, range: { start: doc.positionAt(s.start), end: doc.positionAt(s.end) } });
    const offset = this.offsetOf(uri, pos);
    for (const { node, parent } of this.at(a, offset)) {
      if (node.kind === "Ident") {
        const id = node as unknown as A.Ident;
        const p = parent as { kind: string } | null;
        if (p?.kind === "StreamRef" || p?.kind === "JoinSide") {
          const s = this.streamDecl(checked, id.name);
          if (s) return here(s.span);
        }
        if (p?.kind === "NamedType") {
          const d = this.typeDecl(checked.program, id.name);
          if (d) return here(d.name.span);
        }
        continue;
      }
      const expr = node as unknown as A.Expr;
      if (expr.kind === "Name") {
        const b = checked.names.get(expr);
        if (b && b.kind !== "key") return here(b.span);
        const s = this.streamDecl(checked, expr.name);
        if (s) return here(s.span);
      }
      if (expr.kind === "Call") {
        const target = checked.calls.get(expr);
        if (target?.kind === "fn") return here(checked.fns.get(target.name)!.decl.name.span);
        if (target?.kind === "import") {
          const f = checked.imports.get(target.name)!;
          return { uri: pathToFileURL(f.path).href, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
        }
      }
    }
    return null;
  }

  complete(uri: string, pos: { line: number; character: number }): CompletionItem[] {
    const doc = this.docs.get(uri);
    if (!doc) return [];
    const test = this.testFile(uri);
    if (test) return test.complete(doc.offsetAt(pos)).map((c) => ({ label: c.label, kind: TEST_COMPLETION_KINDS[c.kind], ...(c.detail ? { detail: c.detail } : {}) }));
    const last = this.analyses.get(uri)?.fe.checked ?? this.lastGood.get(uri)?.fe.checked ?? null;
    return completionAt(doc.getText(), pathOf(uri), doc.offsetAt(pos), { baseDir: baseDirOf(uri), last, typeScriptFiles: this.typeScriptFiles });
  }
}

const TEST_COMPLETION_KINDS = { source: CompletionItemKind.Variable, stream: CompletionItemKind.Variable, operator: CompletionItemKind.Class, state: CompletionItemKind.Field, keyword: CompletionItemKind.Keyword } as const;

function bindingText(b: Binding): string {
  switch (b.kind) {
    case "key":
      return `key: ${typeToString(b.type)}`;
    case "state":
      return `(state) ${b.name}: ${typeDetail(b.type)}`;
    case "local":
      return `(${b.role === "param" || b.role === "fnParam" ? "parameter" : b.role === "for" ? "loop variable" : b.role === "element" ? "element" : "local"}) ${b.name}: ${typeDetail(b.type)}`;
  }
}

/** `flowc lsp`: serve over stdin/stdout until the client exits. */
export function startLanguageServer(): void {
  const conn = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  new FlowLanguageServer(conn);
  conn.listen();
}


