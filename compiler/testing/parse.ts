// parse for test files: `*.test.flow` text -> TestFile (testing/ast.ts). The grammar
// (grammar/flow-test.ohm) extends the job grammar, and so do the semantic actions: a
// fixture record is parsed exactly as a record in a job. Syntax errors are FLOW1001, as in a
// job; the scan (comments and string bodies out, nesting measured) is the job parser's.

import type { Node as OhmNode, NonterminalNode } from "ohm-js";
import type * as A from "../ast.js";
import { Diagnostics } from "../diagnostics/diagnostic.js";
import { reportSyntaxError } from "../diagnostics/syntax.js";
import grammar from "../grammar/flow-test.ohm-bundle.js";
import type { FlowTestActionDict } from "../grammar/flow-test.ohm-bundle.js";
import { checkNesting, reportTooDeep } from "../limits.js";
import { expectations, flowActions, type ParseContext } from "../parse.js";
import { scan } from "../scan.js";
import { SourceFile } from "../source.js";
import type * as T from "./ast.js";
import { readFixtureLists, withoutLists, type ReadList } from "./values.js";

export interface TestParseResult {
  tree: T.TestFile | null;
  source: SourceFile;
  diagnostics: Diagnostics;
}

/** Whether a path names a test file rather than a job. */
export function isTestFile(path: string): boolean {
  return path.endsWith(".test.flow");
}

function semanticsFor(cx: ParseContext, read: Map<number, ReadList>) {
  const spanOf = (node: OhmNode): A.Span => cx.src.span(cx.original(node.source.startIdx), cx.original(node.source.endIdx));
  const ident = (node: OhmNode): A.Ident => ({ kind: "Ident", name: node.sourceString, span: spanOf(node) });
  const records = (node: NonterminalNode): T.Records => node["ast"]() as T.Records;
  /** A list's entries: read already (testing/values.ts), or as Ohm parsed them. */
  const entries = (list: OhmNode, node: NonterminalNode): (A.Expr | T.Restart)[] => read.get(spanOf(list).start)?.entries ?? (node["ast"]() as (A.Expr | T.Restart)[]);
  const actions: FlowTestActionDict<unknown> = {
    ...flowActions(cx),
    TestFile(tests) {
      return { kind: "TestFile", span: spanOf(this), tests: tests.children.map((t) => t["ast"]()) } satisfies T.TestFile;
    },
    TestDecl(kw, name, _for, job, _o, items, _c) {
      return { kind: "Test", span: spanOf(this), keyword: spanOf(kw), name: name["ast"](), job: job["ast"](), items: items.children.map((i) => i["ast"]()) } satisfies T.TestDecl;
    },
    GivenItem(kw, source, recs) {
      return { kind: "Given", span: spanOf(this), keyword: spanOf(kw), source: ident(source), records: records(recs) } satisfies T.Given;
    },
    GivenRecords_list(_o, list, _c) {
      return { kind: "Inline", span: spanOf(this), entries: entries(this, list) } satisfies T.Records;
    },
    GivenRecords_file(_from, path) {
      return { kind: "FromFile", span: spanOf(this), path: path["ast"]() } satisfies T.Records;
    },
    GivenEntry_restart(kw) {
      return { kind: "Restart", span: spanOf(kw) } satisfies T.Restart;
    },
    GivenEntry_record(e) {
      return e["ast"]();
    },
    ExpectItem(kw, stream, unordered, recs) {
      return { kind: "Expect", span: spanOf(this), keyword: spanOf(kw), stream: ident(stream), unordered: unordered.children.length > 0, records: records(recs) } satisfies T.Expect;
    },
    ExpectRecords_list(_o, list, _c) {
      return { kind: "Inline", span: spanOf(this), entries: entries(this, list) } satisfies T.Records;
    },
    ExpectRecords_file(_from, path) {
      return { kind: "FromFile", span: spanOf(this), path: path["ast"]() } satisfies T.Records;
    },
    ExpectStateItem(kw, _state, uid, key, _o, fields, _c) {
      return { kind: "ExpectState", span: spanOf(this), keyword: spanOf(kw), uid: ident(uid), key: key.children[0]?.["ast"]() ?? null, fields: fields["ast"]() } satisfies T.ExpectState;
    },
    Fixture_value(value, _follow) {
      return value["ast"]();
    },
    Fixture_expr(e) {
      return e["ast"]();
    },
    Value_record(_o, fields, _c) {
      return { kind: "Record", span: spanOf(this), fields: fields["ast"]() } satisfies A.Expr;
    },
    Value_list(_o, items, _c) {
      return { kind: "List", span: spanOf(this), items: items["ast"]() } satisfies A.Expr;
    },
    Value_neg(_minus, operand) {
      return { kind: "Unary", span: spanOf(this), op: "-", operand: operand["ast"]() } satisfies A.Expr;
    },
    ValueField_word(name, _colon, value) {
      return { kind: "RecordField", span: spanOf(this), name: ident(name), value: value["ast"](), shorthand: false } satisfies A.RecordField;
    },
    ValueField_quoted(name, _colon, value) {
      const s = name["ast"]() as A.StringLit;
      return { kind: "RecordField", span: spanOf(this), name: { kind: "Ident", name: s.value, span: s.span }, value: value["ast"](), shorthand: false } satisfies A.RecordField;
    },
    StateKey(_o, key, _c) {
      return key["ast"]();
    },
    StateField(name, _colon, value) {
      return { kind: "RecordField", span: spanOf(this), name: ident(name), value: value["ast"](), shorthand: false } satisfies A.RecordField;
    },
    RecordField_quoted(name, _colon, value) {
      const s = name["ast"]() as A.StringLit;
      return { kind: "RecordField", span: spanOf(this), name: { kind: "Ident", name: s.value, span: s.span }, value: value["ast"](), shorthand: false } satisfies A.RecordField;
    },
  };
  return grammar.createSemantics().addOperation<unknown>("ast", actions);
}

/**
 * Parses a test file. Never throws for bad input: syntax errors are diagnostics.
 * `fast: false` leaves the fixture lists to Ohm too (the tests compare the two ways).
 */
export function parseTestFile(text: string, file: string, opts: { fast?: boolean } = {}): TestParseResult {
  const src = new SourceFile(file, text);
  const diags = new Diagnostics();
  // Lists of plain values are read by hand (testing/values.ts); Ohm parses the rest.
  const lists = opts.fast === false ? [] : readFixtureLists(text, src);
  const stripped = withoutLists(text, lists);
  const scanned = scan(stripped.text);
  const toOriginal = (o: number): number => stripped.toOriginal(scanned.toOriginal(o));
  if (scanned.tooDeep) {
    reportTooDeep(diags, src, { ...scanned.tooDeep, start: stripped.toOriginal(scanned.tooDeep.start), end: stripped.toOriginal(scanned.tooDeep.end) });
    return { tree: null, source: src, diagnostics: diags };
  }
  const match = grammar.match(scanned.text, "TestFile");
  if (match.failed()) {
    // Between tests, Ohm reports only the end of the file (a `test` that did not start is
    // not a failure it keeps): name the word a test starts with as well.
    const items = expectations(match);
    if (items.every((i) => i.text === "end of input")) items.unshift({ text: "test", description: false });
    reportSyntaxError(diags, src, toOriginal(match.getRightmostFailurePosition()), items, 'a test file holds tests: `test "name" for "job.flow" { given … expect … }`');
    return { tree: null, source: src, diagnostics: diags };
  }
  const tree = semanticsFor({ src, diags, original: toOriginal }, new Map(lists.map((l) => [l.start, l])))(match)["ast"]() as T.TestFile;
  // Fixture values nest like expressions: the job's limit applies (the walk reads any tree).
  if (!checkNesting(tree as unknown as A.Program, diags)) return { tree: null, source: src, diagnostics: diags };
  return { tree, source: src, diagnostics: diags };
}
