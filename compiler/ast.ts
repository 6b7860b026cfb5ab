// The syntax tree of a .flow file: what `parse` produces and every later stage reads.
// Every node is `{ kind, span, … }`; unions are switched on `kind` with `assertNever`.

export interface Span {
  /** The file as the user named it (used in messages). */
  file: string;
  /** Offsets into the source text, end exclusive. */
  start: number;
  end: number;
  /** 1-based line and column of `start`. */
  line: number;
  col: number;
}

export interface Ident {
  kind: "Ident";
  name: string;
  span: Span;
}

export interface Program {
  kind: "Program";
  span: Span;
  job: Ident;
  decls: Decl[];
}

export type Decl =
  | PolicyDecl
  | TypeDecl
  | FnDecl
  | ImportDecl
  | SourceDecl
  | LetDecl
  | SinkDecl;

export interface PolicyDecl {
  kind: "Checkpoint" | "Restart" | "State";
  span: Span;
  /** The span of the `checkpoint` / `restart` / `state` keyword. */
  keyword: Span;
  options: PolicyOption[];
}

export interface PolicyOption {
  kind: "PolicyOption";
  span: Span;
  name: Ident;
  value: OptionValue;
}

export type OptionValue =
  | { kind: "OptionLiteral"; span: Span; literal: Literal; negative: boolean }
  | { kind: "OptionName"; span: Span; name: string };

export interface TypeDecl {
  kind: "TypeDecl";
  span: Span;
  name: Ident;
  type: TypeExpr;
}

export interface Param {
  kind: "Param";
  span: Span;
  name: Ident;
  type: TypeExpr;
}

export interface FnDecl {
  kind: "FnDecl";
  span: Span;
  name: Ident;
  params: Param[];
  result: TypeExpr;
  body: Expr;
}

export interface ImportDecl {
  kind: "Import";
  span: Span;
  names: Ident[];
  from: StringLit;
}

export interface SourceDecl {
  kind: "Source";
  span: Span;
  name: Ident;
  type: TypeExpr;
  connector: ConnectorCall;
  eventTime: EventTimeClause | null;
}

export interface EventTimeClause {
  kind: "EventTime";
  span: Span;
  extract: Expr;
  watermark: Expr | null;
  idle: Expr | null;
}

export interface LetDecl {
  kind: "Let";
  span: Span;
  name: Ident;
  pipeline: Pipeline;
}

export interface SinkDecl {
  kind: "Sink";
  span: Span;
  pipeline: Pipeline;
  connector: ConnectorCall;
}

export interface ConnectorCall {
  kind: "Connector";
  span: Span;
  name: Ident;
  args: Arg[];
}

export interface Arg {
  kind: "Arg";
  span: Span;
  /** `name: value` for a named argument, null for a positional one. */
  name: Ident | null;
  value: Expr;
}

// ---- pipelines ---------------------------------------------------------------------------

export interface Pipeline {
  kind: "Pipeline";
  span: Span;
  head: StreamRef | Join;
  stages: Stage[];
}

export interface StreamRef {
  kind: "StreamRef";
  span: Span;
  name: Ident;
}

export interface JoinSide {
  kind: "JoinSide";
  span: Span;
  stream: Ident;
  alias: Ident;
  /** `stream? as x`: the side is optional (an outer join); absent otherwise. */
  optional?: true;
}

export interface Join {
  kind: "Join";
  span: Span;
  left: JoinSide;
  right: JoinSide;
  on: Expr;
  /** `within d`, `window spec`, or `as of x` (a temporal join probed by the side called x). */
  bound: { kind: "Within"; span: Span; duration: Expr } | { kind: "JoinWindow"; span: Span; spec: Expr } | { kind: "AsOf"; span: Span; probe: Ident } | null;
  select: Expr;
}

export type Stage = CallStage | ProcessStage;

export interface CallStage {
  kind: "CallStage";
  span: Span;
  name: Ident;
  args: Arg[];
  uid: Ident | null;
}

export interface ProcessStage {
  kind: "ProcessStage";
  span: Span;
  /** The span of the `process` keyword. */
  keyword: Span;
  param: Ident;
  uid: Ident | null;
  states: StateDecl[];
  body: Stmt[];
  onTimer: OnTimer | null;
  /** Where items appeared out of place (a second `on timer`), for diagnostics. */
  extraTimers: OnTimer[];
}

export interface StateDecl {
  kind: "StateDecl";
  span: Span;
  name: Ident;
  type: TypeExpr;
  init: Expr;
  ttl: Expr | null;
}

export interface OnTimer {
  kind: "OnTimer";
  span: Span;
  param: Ident;
  body: Stmt[];
}

// ---- statements --------------------------------------------------------------------------

export type Stmt =
  | LetStmt
  | AssignStmt
  | IfStmt
  | ForStmt
  | EmitStmt
  | TimerStmt
  | ClearStmt
  | DeleteStmt
  | ExprStmt;

export interface LetStmt {
  kind: "LetStmt";
  span: Span;
  name: Ident;
  /** `let x: T = …` (an extension: needed for `[]` and `{}`). */
  type: TypeExpr | null;
  value: Expr;
}

export interface AssignStmt {
  kind: "AssignStmt";
  span: Span;
  target: { kind: "NameTarget"; span: Span; name: Ident } | { kind: "IndexTarget"; span: Span; name: Ident; index: Expr };
  op: "=" | "+=" | "-=";
  value: Expr;
}

export interface IfStmt {
  kind: "IfStmt";
  span: Span;
  cond: Expr;
  then: Stmt[];
  else: Stmt[] | null;
}

export interface ForStmt {
  kind: "ForStmt";
  span: Span;
  name: Ident;
  iterable: Expr;
  body: Stmt[];
}

export interface EmitStmt {
  kind: "EmitStmt";
  span: Span;
  value: Expr;
}

export interface TimerStmt {
  kind: "TimerStmt";
  span: Span;
  at: Expr;
}

export interface ClearStmt {
  kind: "ClearStmt";
  span: Span;
  name: Ident;
}

export interface DeleteStmt {
  kind: "DeleteStmt";
  span: Span;
  name: Ident;
  index: Expr;
}

export interface ExprStmt {
  kind: "ExprStmt";
  span: Span;
  expr: Expr;
}

// ---- types -------------------------------------------------------------------------------

export type TypeExpr =
  | { kind: "NamedType"; span: Span; name: Ident }
  | { kind: "OptionalType"; span: Span; inner: TypeExpr }
  | { kind: "ListType"; span: Span; elem: TypeExpr }
  | { kind: "MapType"; span: Span; key: TypeExpr; value: TypeExpr }
  | { kind: "RecordType"; span: Span; fields: FieldType[] };

export interface FieldType {
  kind: "FieldType";
  span: Span;
  name: Ident;
  type: TypeExpr;
}

// ---- expressions -------------------------------------------------------------------------

export type Literal = IntLit | FloatLit | StringLit | BoolLit | NullLit | DurationLit;

export interface IntLit {
  kind: "Int";
  span: Span;
  /** The value; `Number.isSafeInteger` is checked by `check`. */
  value: number;
  text: string;
}
export interface FloatLit {
  kind: "Float";
  span: Span;
  value: number;
  text: string;
}
export interface StringLit {
  kind: "String";
  span: Span;
  /** The decoded value (escapes applied). */
  value: string;
}
export interface BoolLit {
  kind: "Bool";
  span: Span;
  value: boolean;
}
export interface NullLit {
  kind: "Null";
  span: Span;
}
export interface DurationLit {
  kind: "Duration";
  span: Span;
  /** Milliseconds. */
  ms: number;
  text: string;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or" | "??";

export type Expr =
  | Literal
  | { kind: "Name"; span: Span; name: string }
  | { kind: "Field"; span: Span; object: Expr; field: Ident; optional: boolean }
  | { kind: "Index"; span: Span; object: Expr; index: Expr }
  | { kind: "Call"; span: Span; callee: Expr; args: Arg[] }
  | { kind: "Unary"; span: Span; op: "-" | "not"; operand: Expr }
  | { kind: "Binary"; span: Span; op: BinaryOp; left: Expr; right: Expr; opSpan: Span }
  | { kind: "Cond"; span: Span; cond: Expr; then: Expr; else: Expr }
  | { kind: "Record"; span: Span; fields: RecordField[] }
  | { kind: "List"; span: Span; items: Expr[] }
  | { kind: "Lambda"; span: Span; params: Ident[]; body: Expr };

export interface RecordField {
  kind: "RecordField";
  span: Span;
  name: Ident;
  value: Expr;
  shorthand: boolean;
}

export type ExprOf<K extends Expr["kind"]> = Extract<Expr, { kind: K }>;

export function assertNever(x: never, what = "value"): never {
  throw new Error(`internal: unexpected ${what}: ${JSON.stringify(x)}`);
}
