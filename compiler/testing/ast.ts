// The syntax tree of a test file (`*.test.flow`, docs/testing.md): tests, each naming the
// job it tests and holding its inputs (`given`) and expectations (`expect`). Fixture values
// are the job language's expressions (compiler/ast.ts); testing/fixtures.ts reads them as
// values of the job's types.

import type { Expr, Ident, RecordField, Span, StringLit } from "../ast.js";

export interface TestFile {
  kind: "TestFile";
  span: Span;
  tests: TestDecl[];
}

export interface TestDecl {
  kind: "Test";
  span: Span;
  /** The `test` word. */
  keyword: Span;
  name: StringLit;
  /** The job's .flow file, relative to the test file. */
  job: StringLit;
  items: TestItem[];
}

export type TestItem = Given | Expect | ExpectState;

/** `restart` between two given records: a checkpoint of the job, then a restore from it. */
export interface Restart {
  kind: "Restart";
  span: Span;
}

export type Records =
  | { kind: "Inline"; span: Span; entries: (Expr | Restart)[] }
  | { kind: "FromFile"; span: Span; path: StringLit };

export interface Given {
  kind: "Given";
  span: Span;
  keyword: Span;
  source: Ident;
  records: Records;
}

export interface Expect {
  kind: "Expect";
  span: Span;
  keyword: Span;
  stream: Ident;
  unordered: boolean;
  /** Never holds a `restart` (the grammar allows it in `given` only). */
  records: Records;
}

export interface ExpectState {
  kind: "ExpectState";
  span: Span;
  keyword: Span;
  uid: Ident;
  key: Expr | null;
  fields: RecordField[];
}
