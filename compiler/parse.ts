// parse: .flow text -> AST. The grammar lives in grammar/flow.ohm; the build turns it into a
// bundle (grammar/flow.ohm-bundle.js) so the compiler does not re-compile the grammar at start.
// Every node gets a span. Syntax errors become FLOW1001 diagnostics, never exceptions.
// Ohm parses the scanned text (scan.ts: comments and string bodies taken out, nesting
// measured); spans and string values are read through the scan's map from the original.

import type { MatchResult, NonterminalNode, Node as OhmNode } from "ohm-js";
import type * as A from "./ast.js";
import type { FlowActionDict } from "./grammar/flow.ohm-bundle.js";
import grammar from "./grammar/flow.ohm-bundle.js";
import { Diagnostics } from "./diagnostics/diagnostic.js";
import { reportSyntaxError } from "./diagnostics/syntax.js";
import { checkNesting, reportTooDeep } from "./limits.js";
import { scan, type Scan } from "./scan.js";
import { SourceFile } from "./source.js";

export interface ParseResult {
  program: A.Program | null;
  source: SourceFile;
  diagnostics: Diagnostics;
}

/**
 * What the semantic actions of one parse read: the source, where its diagnostics go, and
 * `original`, which maps an offset in the text Ohm parsed to the offset in the source (the
 * pieces of a parse by declaration each set their own). One per `parse` call.
 */
export interface ParseContext {
  src: SourceFile;
  diags: Diagnostics;
  original: (offset: number) => number;
}

/** The `ast` operation for one parse: the semantic actions, closed over its context. */
function semanticsFor(cx: ParseContext) {
  return grammar.createSemantics().addOperation<unknown>("ast", flowActions(cx));
}

/** The semantic actions of the job grammar for one parse (test files extend them: testing/parse.ts). */
export function flowActions(cx: ParseContext): FlowActionDict<unknown> {
  function spanOf(node: OhmNode): A.Span {
    const { startIdx, endIdx } = node.source;
    return cx.src.span(cx.original(startIdx), cx.original(endIdx));
  }

  function ident(node: OhmNode): A.Ident {
    return { kind: "Ident", name: node.sourceString, span: spanOf(node) };
  }

  const MAX_INT = Number.MAX_SAFE_INTEGER;
  const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

  function intValue(node: OhmNode, digits: string): number {
    const clean = digits.replace(/_/g, "");
    const value = Number(clean);
    if (!Number.isSafeInteger(value)) {
      cx.diags.error("FLOW1003", spanOf(node), `integer literal ${digits} is too large`, {
        hints: [`integers are exact up to ${MAX_INT}; use a float (\`${clean}.0\`) if you need a larger, inexact number`],
      });
      return 0;
    }
    return value;
  }

  function floatValue(node: OhmNode): number {
    const value = Number(node.sourceString.replace(/_/g, ""));
    if (!Number.isFinite(value)) {
      cx.diags.error("FLOW1003", spanOf(node), `float literal ${node.sourceString} is too large`, {
        hints: ["floats go up to about 1.8e308"],
      });
      return 0;
    }
    return value;
  }

  /** Decodes the escapes of a string literal's body; reports unknown ones. */
  function decodeString(node: OhmNode): string {
    // The body as written: Ohm saw `""` for a non-empty string.
    const { start, end } = spanOf(node);
    const raw = cx.src.text.slice(start + 1, end - 1);
    if (!raw.includes("\\")) return raw;
    const base = start + 1;
    let out = "";
    for (let i = 0; i < raw.length; i++) {
      const ch = raw[i]!;
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const next = raw[i + 1] ?? "";
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
      if (next in simple) {
        out += simple[next];
        i++;
        continue;
      }
      if (next === "u") {
        const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(raw.slice(i + 2));
        const code = m ? parseInt(m[1]!, 16) : NaN;
        if (m && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) {
          out += String.fromCodePoint(code);
          i += 1 + m[0].length;
          continue;
        }
        const len = m ? 2 + m[0].length : 2;
        cx.diags.error("FLOW1002", cx.src.span(base + i, base + i + len), m ? `\\u{${m[1]}} is not a Unicode scalar value` : "invalid unicode escape", {
          hints: ["write a code point as \\u{1F600}: one to six hex digits in braces, at most 10FFFF and not a surrogate"],
        });
        i += len - 1;
        continue;
      }
      cx.diags.error("FLOW1002", cx.src.span(base + i, base + i + 2), `unknown escape \\${next}`, {
        hints: ['the escapes are \\n \\t \\r \\" \\\\ and \\u{…}; write \\\\ for a backslash'],
      });
      i++;
    }
    return out;
  }

  function binary(this: NonterminalNode, left: OhmNode, op: OhmNode, right: OhmNode): A.Expr {
    return { kind: "Binary", span: spanOf(this), op: op.sourceString as A.BinaryOp, left: left["ast"](), right: right["ast"](), opSpan: spanOf(op) };
  }

  const actions: FlowActionDict<unknown> = {
    Program(job, decls) {
      return { kind: "Program", span: spanOf(this), job: job["ast"](), decls: decls.children.map((d) => d["ast"]()) } satisfies A.Program;
    },
    JobDecl(_kw, name) {
      return ident(name);
    },
    CheckpointDecl(kw, _o, options, _c) {
      return { kind: "Checkpoint", span: spanOf(this), keyword: spanOf(kw), options: options.children.map((o) => o["ast"]()) } satisfies A.PolicyDecl;
    },
    RestartDecl(kw, _o, options, _c) {
      return { kind: "Restart", span: spanOf(this), keyword: spanOf(kw), options: options.children.map((o) => o["ast"]()) } satisfies A.PolicyDecl;
    },
    StateBlockDecl(kw, _o, options, _c) {
      return { kind: "State", span: spanOf(this), keyword: spanOf(kw), options: options.children.map((o) => o["ast"]()) } satisfies A.PolicyDecl;
    },
    PolicyOption(name, value) {
      return { kind: "PolicyOption", span: spanOf(this), name: ident(name), value: value["ast"]() } satisfies A.PolicyOption;
    },
    OptionValue_negative(_minus, lit) {
      return { kind: "OptionLiteral", span: spanOf(this), literal: lit["ast"](), negative: true } satisfies A.OptionValue;
    },
    OptionValue_literal(lit) {
      return { kind: "OptionLiteral", span: spanOf(this), literal: lit["ast"](), negative: false } satisfies A.OptionValue;
    },
    OptionValue_name(name) {
      return { kind: "OptionName", span: spanOf(this), name: name.sourceString } satisfies A.OptionValue;
    },
    optionLiteral(lit) {
      return lit["ast"]();
    },
    TypeDecl(_kw, name, _eq, type) {
      return { kind: "TypeDecl", span: spanOf(this), name: ident(name), type: type["ast"]() } satisfies A.TypeDecl;
    },
    FnDecl(_kw, name, _o, params, _c, _colon, result, _eq, body) {
      return {
        kind: "FnDecl",
        span: spanOf(this),
        name: ident(name),
        params: params.asIteration().children.map((p) => p["ast"]()),
        result: result["ast"](),
        body: body["ast"](),
      } satisfies A.FnDecl;
    },
    Param(name, _colon, type) {
      return { kind: "Param", span: spanOf(this), name: ident(name), type: type["ast"]() } satisfies A.Param;
    },
    ImportDecl(_kw, _o, names, _c, _from, path) {
      return { kind: "Import", span: spanOf(this), names: names.asIteration().children.map(ident), from: path["ast"]() } satisfies A.ImportDecl;
    },
    SourceDecl(_kw, name, _colon, type, _eq, connector, eventTime) {
      return {
        kind: "Source",
        span: spanOf(this),
        name: ident(name),
        type: type["ast"](),
        connector: connector["ast"](),
        eventTime: eventTime.children[0]?.["ast"]() ?? null,
      } satisfies A.SourceDecl;
    },
    EventTimeClause(_kw, _o, extract, _c, watermark, idle) {
      return {
        kind: "EventTime",
        span: spanOf(this),
        extract: extract["ast"](),
        watermark: watermark.children[0]?.["ast"]() ?? null,
        idle: idle.children[0]?.["ast"]() ?? null,
      } satisfies A.EventTimeClause;
    },
    WatermarkClause(_kw, value) {
      return value["ast"]();
    },
    IdleClause(_kw, value) {
      return value["ast"]();
    },
    LetDecl(_kw, name, _eq, pipeline) {
      return { kind: "Let", span: spanOf(this), name: ident(name), pipeline: pipeline["ast"]() } satisfies A.LetDecl;
    },
    SinkDecl(_kw, pipeline, _arrow, connector) {
      return { kind: "Sink", span: spanOf(this), pipeline: pipeline["ast"](), connector: connector["ast"]() } satisfies A.SinkDecl;
    },
    ConnectorCall(name, _o, args, _c) {
      return { kind: "Connector", span: spanOf(this), name: ident(name), args: args["ast"]() } satisfies A.ConnectorCall;
    },
    Args(list) {
      return list["ast"]();
    },
    CommaList_some(list, _comma) {
      return list.asIteration().children.map((c) => c["ast"]());
    },
    CommaList_none() {
      return [];
    },
    Arg_named(name, _colon, value) {
      return { kind: "Arg", span: spanOf(this), name: ident(name), value: value["ast"]() } satisfies A.Arg;
    },
    Arg_positional(value) {
      return { kind: "Arg", span: spanOf(this), name: null, value: value["ast"]() } satisfies A.Arg;
    },
    Pipeline(head, _pipes, stages) {
      return { kind: "Pipeline", span: spanOf(this), head: head["ast"](), stages: stages.children.map((s) => s["ast"]()) } satisfies A.Pipeline;
    },
    PipelineHead_stream(name) {
      return { kind: "StreamRef", span: spanOf(this), name: ident(name) } satisfies A.StreamRef;
    },
    Join(_kw, left, _comma, right, _on, on, bound, _select, select) {
      return {
        kind: "Join",
        span: spanOf(this),
        left: left["ast"](),
        right: right["ast"](),
        on: on["ast"](),
        bound: bound.children[0]?.["ast"]() ?? null,
        select: select["ast"](),
      } satisfies A.Join;
    },
    JoinSide(stream, optional, _as, alias) {
      const side: A.JoinSide = { kind: "JoinSide", span: spanOf(this), stream: ident(stream), alias: ident(alias) };
      if (optional.children.length > 0) side.optional = true;
      return side;
    },
    JoinBound_asOf(_as, _of, probe) {
      return { kind: "AsOf", span: spanOf(this), probe: ident(probe) };
    },
    JoinBound_within(_kw, d) {
      return { kind: "Within", span: spanOf(this), duration: d["ast"]() };
    },
    JoinBound_window(_kw, spec) {
      return { kind: "JoinWindow", span: spanOf(this), spec: spec["ast"]() };
    },
    Stage_call(name, _o, args, _c, uid) {
      return { kind: "CallStage", span: spanOf(this), name: ident(name), args: args["ast"](), uid: uid.children[0]?.["ast"]() ?? null } satisfies A.CallStage;
    },
    UidClause(_as, name) {
      return ident(name);
    },
    ProcessStage(kw, _o, param, _c, uid, _ob, items, _cb) {
      const stage: A.ProcessStage = {
        kind: "ProcessStage",
        span: spanOf(this),
        keyword: spanOf(kw),
        param: ident(param),
        uid: uid.children[0]?.["ast"]() ?? null,
        states: [],
        body: [],
        onTimer: null,
        extraTimers: [],
      };
      for (const item of items.children.map((i) => i["ast"]() as A.StateDecl | A.OnTimer | A.Stmt)) {
        if (item.kind === "StateDecl") stage.states.push(item);
        else if (item.kind === "OnTimer") {
          if (stage.onTimer) stage.extraTimers.push(item);
          else stage.onTimer = item;
        } else stage.body.push(item);
      }
      return stage;
    },
    StateDecl(_kw, name, _colon, type, _eq, init, ttl) {
      return {
        kind: "StateDecl",
        span: spanOf(this),
        name: ident(name),
        type: type["ast"](),
        init: init["ast"](),
        ttl: ttl.children[0]?.["ast"]() ?? null,
      } satisfies A.StateDecl;
    },
    TtlClause(_kw, d) {
      return d["ast"]();
    },
    OnTimer(_on, _timer, _o, param, _c, block) {
      return { kind: "OnTimer", span: spanOf(this), param: ident(param), body: block["ast"]() } satisfies A.OnTimer;
    },
    Block(_o, stmts, _c) {
      return stmts.children.map((s) => s["ast"]());
    },
    LetStmt(_kw, name, type, _eq, value) {
      return { kind: "LetStmt", span: spanOf(this), name: ident(name), type: type.children[0]?.["ast"]() ?? null, value: value["ast"]() } satisfies A.LetStmt;
    },
    LetType(_colon, type) {
      return type["ast"]();
    },
    IfStmt(_kw, cond, block, elseClause) {
      return {
        kind: "IfStmt",
        span: spanOf(this),
        cond: cond["ast"](),
        then: block["ast"](),
        else: elseClause.children[0]?.["ast"]() ?? null,
      } satisfies A.IfStmt;
    },
    ElseClause_if(_kw, ifStmt) {
      return [ifStmt["ast"]()];
    },
    ElseClause_block(_kw, block) {
      return block["ast"]();
    },
    ForStmt(_kw, name, _in, iterable, block) {
      return { kind: "ForStmt", span: spanOf(this), name: ident(name), iterable: iterable["ast"](), body: block["ast"]() } satisfies A.ForStmt;
    },
    EmitStmt(_kw, value) {
      return { kind: "EmitStmt", span: spanOf(this), value: value["ast"]() } satisfies A.EmitStmt;
    },
    TimerStmt(_kw, _at, at) {
      return { kind: "TimerStmt", span: spanOf(this), at: at["ast"]() } satisfies A.TimerStmt;
    },
    ClearStmt(_kw, name) {
      return { kind: "ClearStmt", span: spanOf(this), name: ident(name) } satisfies A.ClearStmt;
    },
    DeleteStmt(_kw, name, _o, index, _c) {
      return { kind: "DeleteStmt", span: spanOf(this), name: ident(name), index: index["ast"]() } satisfies A.DeleteStmt;
    },
    AssignStmt(target, op, value) {
      return { kind: "AssignStmt", span: spanOf(this), target: target["ast"](), op: op.sourceString as A.AssignStmt["op"], value: value["ast"]() } satisfies A.AssignStmt;
    },
    AssignTarget_index(name, _o, index, _c) {
      return { kind: "IndexTarget", span: spanOf(this), name: ident(name), index: index["ast"]() };
    },
    AssignTarget_name(name) {
      return { kind: "NameTarget", span: spanOf(this), name: ident(name) };
    },
    ExprStmt(expr) {
      return { kind: "ExprStmt", span: spanOf(this), expr: expr["ast"]() } satisfies A.ExprStmt;
    },

    // types
    Type_optional(inner, _q) {
      return { kind: "OptionalType", span: spanOf(this), inner: inner["ast"]() } satisfies A.TypeExpr;
    },
    NonOptionalType_list(_kw, _o, elem, _c) {
      return { kind: "ListType", span: spanOf(this), elem: elem["ast"]() } satisfies A.TypeExpr;
    },
    NonOptionalType_map(_kw, _o, key, _comma, value, _c) {
      return { kind: "MapType", span: spanOf(this), key: key["ast"](), value: value["ast"]() } satisfies A.TypeExpr;
    },
    NonOptionalType_record(_o, fields, _c) {
      return { kind: "RecordType", span: spanOf(this), fields: fields["ast"]() } satisfies A.TypeExpr;
    },
    NonOptionalType_name(name) {
      return { kind: "NamedType", span: spanOf(this), name: ident(name) } satisfies A.TypeExpr;
    },
    FieldType(name, _colon, type) {
      return { kind: "FieldType", span: spanOf(this), name: ident(name), type: type["ast"]() } satisfies A.FieldType;
    },

    // expressions
    Lambda(params, _arrow, body) {
      return { kind: "Lambda", span: spanOf(this), params: params["ast"](), body: body["ast"]() } satisfies A.Expr;
    },
    LambdaParams_one(name) {
      return [ident(name)];
    },
    LambdaParams_many(_o, names, _c) {
      return names.asIteration().children.map(ident);
    },
    CondExpr_if(_if, cond, _then, then, _else, otherwise) {
      return { kind: "Cond", span: spanOf(this), cond: cond["ast"](), then: then["ast"](), else: otherwise["ast"]() } satisfies A.Expr;
    },
    OrExpr_or: binary,
    AndExpr_and: binary,
    NotExpr_not(_kw, operand) {
      return { kind: "Unary", span: spanOf(this), op: "not", operand: operand["ast"]() } satisfies A.Expr;
    },
    CmpExpr_cmp: binary,
    CoalesceExpr_coalesce(left, op, right) {
      return binary.call(this, left, op, right);
    },
    AddExpr_add: binary,
    MulExpr_mul: binary,
    UnaryExpr_neg(_minus, operand) {
      return { kind: "Unary", span: spanOf(this), op: "-", operand: operand["ast"]() } satisfies A.Expr;
    },
    PostfixExpr_field(object, _dot, field) {
      return { kind: "Field", span: spanOf(this), object: object["ast"](), field: ident(field), optional: false } satisfies A.Expr;
    },
    PostfixExpr_optField(object, _dot, field) {
      return { kind: "Field", span: spanOf(this), object: object["ast"](), field: ident(field), optional: true } satisfies A.Expr;
    },
    PostfixExpr_index(object, _o, index, _c) {
      return { kind: "Index", span: spanOf(this), object: object["ast"](), index: index["ast"]() } satisfies A.Expr;
    },
    PostfixExpr_call(callee, _o, args, _c) {
      return { kind: "Call", span: spanOf(this), callee: callee["ast"](), args: args["ast"]() } satisfies A.Expr;
    },
    PrimaryExpr_paren(_o, expr, _c) {
      return expr["ast"]();
    },
    PrimaryExpr_list(_o, items, _c) {
      return { kind: "List", span: spanOf(this), items: items["ast"]() } satisfies A.Expr;
    },
    PrimaryExpr_record(_o, fields, _c) {
      return { kind: "Record", span: spanOf(this), fields: fields["ast"]() } satisfies A.Expr;
    },
    PrimaryExpr_name(name) {
      return { kind: "Name", span: spanOf(this), name: name.sourceString } satisfies A.Expr;
    },
    RecordField_full(name, _colon, value) {
      return { kind: "RecordField", span: spanOf(this), name: ident(name), value: value["ast"](), shorthand: false } satisfies A.RecordField;
    },
    RecordField_shorthand(name) {
      const id = ident(name);
      return { kind: "RecordField", span: id.span, name: id, value: { kind: "Name", span: id.span, name: id.name }, shorthand: true } satisfies A.RecordField;
    },

    // literals
    literal_true(_kw) {
      return { kind: "Bool", span: spanOf(this), value: true } satisfies A.Literal;
    },
    literal_false(_kw) {
      return { kind: "Bool", span: spanOf(this), value: false } satisfies A.Literal;
    },
    literal_null(_kw) {
      return { kind: "Null", span: spanOf(this) } satisfies A.Literal;
    },
    duration(digits, unit) {
      const n = intValue(this, digits.sourceString);
      const ms = n * UNIT_MS[unit.sourceString]!;
      if (!Number.isSafeInteger(ms)) {
        cx.diags.error("FLOW1003", spanOf(this), `duration ${this.sourceString} is too large`);
        return { kind: "Duration", span: spanOf(this), ms: 0, text: this.sourceString } satisfies A.Literal;
      }
      return { kind: "Duration", span: spanOf(this), ms, text: this.sourceString } satisfies A.Literal;
    },
    float_fraction(_d, _dot, _f, _e) {
      return { kind: "Float", span: spanOf(this), value: floatValue(this), text: this.sourceString } satisfies A.Literal;
    },
    float_exponent(_d, _e) {
      return { kind: "Float", span: spanOf(this), value: floatValue(this), text: this.sourceString } satisfies A.Literal;
    },
    int(digits) {
      return { kind: "Int", span: spanOf(this), value: intValue(this, digits.sourceString), text: this.sourceString } satisfies A.Literal;
    },
    string(_o, _chars, _c) {
      return { kind: "String", span: spanOf(this), value: decodeString(this) } satisfies A.Literal;
    },
    _iter(...children) {
      return children.map((c) => c["ast"]());
    },
    _terminal() {
      return this.sourceString;
    },
  };

  return actions;
}

type Failures = { getText(): string; isDescription(): boolean; isFluffy(): boolean }[];

export function expectations(match: MatchResult): { text: string; description: boolean }[] {
  const failures = (match as unknown as { getRightmostFailures(): Failures }).getRightmostFailures();
  return failures.filter((f) => !f.isFluffy()).map((f) => ({ text: f.getText(), description: f.isDescription() }));
}

/**
 * After a syntax error, parsing resumes at the next line that starts a declaration, so that
 * one run reports the syntax errors of several declarations (at most ten).
 */
function moreSyntaxErrors(src: SourceFile, firstFailure: number, diags: Diagnostics): void {
  const text = src.text;
  const declStart = /^(checkpoint|restart|state|type|fn|import|source|let|sink)\b/gm;
  let from = firstFailure;
  for (let n = 0; n < 10; n++) {
    declStart.lastIndex = text.indexOf("\n", from) + 1;
    if (declStart.lastIndex === 0) return;
    const next = declStart.exec(text);
    if (!next) return;
    const start = next.index;
    const rest = scan(text.slice(start));
    // A line inside a comment can start like a declaration; what follows it may then nest
    // deeper than the parser takes.
    if (rest.tooDeep) return;
    const m = grammar.match(rest.text, "DeclList");
    if (!m.failed()) return;
    const pos = start + rest.toOriginal(m.getRightmostFailurePosition());
    reportSyntaxError(diags, src, pos, expectations(m));
    from = pos;
  }
}

/** `byDeclaration: false` parses the text as one (the tests compare the two ways). */
export function parse(text: string, file: string, opts: { byDeclaration?: boolean } = {}): ParseResult {
  const src = new SourceFile(file, text);
  const diags = new Diagnostics();
  const scanned = scan(text);
  if (scanned.tooDeep) {
    reportTooDeep(diags, src, scanned.tooDeep);
    return { program: null, source: src, diagnostics: diags };
  }
  let program = opts.byDeclaration === false ? null : byDeclaration(src, diags, scanned);
  if (!program) {
    const match = grammar.match(scanned.text);
    if (match.failed()) {
      const pos = scanned.toOriginal(match.getRightmostFailurePosition());
      reportSyntaxError(diags, src, pos, expectations(match));
      moreSyntaxErrors(src, pos, diags);
      return { program: null, source: src, diagnostics: diags };
    }
    program = semanticsFor({ src, diags, original: scanned.toOriginal })(match)["ast"]() as A.Program;
  }
  // Later stages recurse once per level: a program nested deeper than they take stops here.
  if (!checkNesting(program, diags)) return { program: null, source: src, diagnostics: diags };
  return { program, source: src, diagnostics: diags };
}

/**
 * Parses the `job` line and then each top-level declaration on its own, so that Ohm's memo
 * table holds one declaration at a time (it holds hundreds of bytes per character; a
 * generated file of 40,000 `fn`s did not fit in the heap as one parse). The scan finds
 * where declarations start: a reserved declaration keyword outside brackets, which nothing
 * in a declaration can continue with, so each piece parses exactly as it does within the
 * whole file. When a piece does not parse (a syntax error, or a keyword where the scan was
 * wrong), this gives up and the whole text is parsed as one, for the usual messages.
 */
function byDeclaration(src: SourceFile, diags: Diagnostics, scanned: Scan): A.Program | null {
  const { text, declStarts, toOriginal } = scanned;
  if (declStarts.length < 2) return null;
  // The semantic actions' diagnostics (literals out of range, escapes) count once all pieces parsed.
  const found = new Diagnostics();
  const cx: ParseContext = { src, diags: found, original: toOriginal };
  const semantics = semanticsFor(cx);
  const bounds = [0, ...declStarts, text.length];
  let head: A.Program | null = null;
  const decls: A.Decl[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const start = bounds[i]!;
    const match = grammar.match(text.slice(start, bounds[i + 1]), i === 0 ? "Program" : "Decl");
    if (match.failed()) return null;
    cx.original = (p) => toOriginal(start + p);
    const node = semantics(match)["ast"]();
    if (i === 0) head = node as A.Program;
    else decls.push(node as A.Decl);
  }
  diags.list.push(...found.list);
  // As in the whole parse, the program's span runs to the end of the text.
  return { kind: "Program", span: src.span(head!.span.start, toOriginal(text.length)), job: head!.job, decls };
}
