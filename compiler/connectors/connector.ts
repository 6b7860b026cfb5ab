// What a connector module holds (LANGUAGE.md section 9). One module per connector, listed in
// ONE table (connectors/index.ts): its argument schema, its checks beyond the schema, whether
// it can replay, the files it reads and writes, its summary for hints and the editor, and its
// part of the job's manifest. The checker matches a call's arguments to the schema
// (check/connectors.ts) and hands the module the constant values; plan, emit and the
// manifest ask the module, never the connector's name.

import type * as A from "../ast.js";
import type { LocalBinding } from "../check/model.js";
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import type { Type } from "../types.js";
import type { EventTimeManifest, SinkManifest, SourceManifest, TypeDesc } from "../../runtime/api.js";

export type ArgKind =
  | { kind: "string" }
  | { kind: "bool" }
  | { kind: "int" }
  | { kind: "enum"; values: readonly string[] }
  /** A string literal, or a lambda computing one per record (its `lit` is null). */
  | { kind: "string_or_lambda" }
  /** A lambda of one element (`o => o.customer`), checked by the connector. */
  | { kind: "lambda" }
  /** `values([...])`: a list expression typed by the source's declared type. */
  | { kind: "elements" };

export interface ArgSpec {
  name: string;
  arg: ArgKind;
  /** May be given by position, at this index. */
  position?: number;
  required?: boolean;
}

/** A connector argument matched to the schema: where it is written and its constant value. */
export interface ResolvedArg {
  span: A.Span;
  value: A.Expr;
  lit: string | number | boolean | null;
}

export type Args = ReadonlyMap<string, ResolvedArg>;

/** What every connector declares: its name in a .flow file, its arguments, its summary. */
export interface ConnectorSchema {
  side: "source" | "sink";
  name: string;
  args: readonly ArgSpec[];
  /** Its form and what it does: in hints (the form is …), hover and completion. */
  summary: string;
}

/** A file a connector reads or writes, for FLOW4014 (compiler/collisions.ts). */
export interface FileUse {
  /** `read`: the job's input; `write`: a file the job writes (a sink, rejected records). */
  access: "read" | "write";
  path: string;
  /** The argument naming it: its value is underlined (by name, else the first positional one when `positional`). */
  arg: string;
  positional: boolean;
  /** How a message names it: "the input `in.jsonl` of source `s`". */
  what: string;
}

/** What a source connector's checks see. */
export interface SourceCall {
  diags: Diagnostics;
  /** The declaration: its name, its declared type and the call. */
  decl: A.SourceDecl;
  /** The declared element type. */
  type: Type;
  args: Args;
  /** Checks an expression written in the call (the elements of `values`) as a `want`. */
  expect(e: A.Expr, want: Type, what: string): void;
  /** Checks a one-parameter lambda of an element of the declared type (`o => o.customer`); null after an error. */
  keyFn(e: A.Expr, what: string): { param: LocalBinding; body: A.Expr; type: Type } | null;
}

/** What a source's manifest entry shares with every other: its name, type and event time. */
export interface SourceBase {
  name: string;
  type: TypeDesc;
  eventTime: EventTimeManifest | null;
}

export interface SourceConnectorDef<C extends { kind: string }> extends ConnectorSchema {
  side: "source";
  /** The kind of its resolved form, which is the manifest's `connector` (the nexmark variants share one). */
  kind: C["kind"];
  /** Can be read again from a position: `mode exactly_once` needs it (FLOW4005). */
  replayable: boolean;
  /** The checks beyond the argument schema; the resolved connector, or null after an error. */
  check(call: SourceCall): C | null;
  /** The files it reads and writes. */
  files(c: C, source: string): FileUse[];
  /** Its entry in the job's manifest (the runtime opens the source from it). */
  manifest(c: C, base: SourceBase): SourceManifest;
  /** What the generated source binding adds: a decoder for records read as JSON lines, the elements written in the job. */
  generated(c: C): { fromJson: boolean; values: readonly A.Expr[] | null };
}

/** What a sink connector's checks see. */
export interface SinkCall {
  diags: Diagnostics;
  decl: A.SinkDecl;
  /** The element type of the stream it writes. */
  elem: Type;
  args: Args;
  /**
   * Checks a one-parameter lambda written in the call (`x => …`), its parameter of type
   * `param`, its body a `want`: the parameter's binding and the body, or null after an error.
   */
  lambda(e: A.Expr, param: Type, want: Type, what: string): { param: LocalBinding; body: A.Expr } | null;
}

export interface SinkConnectorDef<C extends { kind: string }> extends ConnectorSchema {
  side: "sink";
  kind: C["kind"];
  check(call: SinkCall): C | null;
  files(c: C): FileUse[];
  /** Its entry in the job's manifest; `elem` is the type of what it writes. */
  manifest(c: C, elem: Type): SinkManifest;
  /**
   * How generated code writes an element: as a line of this format, primitives bare or as
   * JSON; with `route`, to a place (a subject) the lambda computes per element.
   */
  generated(c: C): { format: "jsonl" | "csv"; barePrimitives: boolean; route?: { param: LocalBinding; body: A.Expr } | null };
}

