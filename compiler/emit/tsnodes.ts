// Building TypeScript through the compiler API's node factory, so that identifiers and
// string literals reach the generated code only as AST nodes and are escaped by TypeScript's
// printer, never pasted as text. Also the .flow type -> TypeScript type mapping.

import type { ts as TS } from "ts-morph";
import type { Type } from "../types.js";

/** Words that cannot name a local binding in the generated module. */
const RESERVED = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
  "let", "static", "implements", "interface", "package", "private", "protected", "public", "await", "async",
  "arguments", "eval", "undefined", "NaN", "Infinity", "globalThis", "Math", "JSON", "Map", "Set", "Array",
  "Object", "Number", "String", "Boolean", "Symbol", "Error", "Date", "Promise", "constructor", "__proto__",
  "prototype", "of", "get", "set", "type", "as", "any", "unknown", "never", "object", "number", "string", "boolean",
]);

/** Class fields that JavaScript forbids or treats specially. */
const BAD_FIELDS = new Set(["constructor", "__proto__", "prototype"]);

/** A user name as a safe local identifier: unchanged unless it is reserved (then `name$`). */
export function localName(name: string): string {
  return RESERVED.has(name) ? `${name}$` : name;
}

/** A user name as a class field name of a generated state class. */
export function fieldName(name: string): string {
  return BAD_FIELDS.has(name) || name.startsWith("$") ? `${name}$` : name;
}

export class Nodes {
  readonly f: typeof TS.factory;
  private readonly printer: TS.Printer;
  private readonly blank: TS.SourceFile;

  constructor(readonly ts: typeof TS) {
    this.f = ts.factory;
    this.printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
    this.blank = ts.createSourceFile("gen.ts", "", ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  }

  print(node: TS.Node): string {
    return this.printer.printNode(this.ts.EmitHint.Unspecified, node, this.blank);
  }

  printAll(nodes: readonly TS.Node[]): string[] {
    return nodes.map((n) => this.print(n));
  }

  id(name: string): TS.Identifier {
    return this.f.createIdentifier(name);
  }

  str(value: string): TS.StringLiteral {
    return this.f.createStringLiteral(value);
  }

  num(value: number): TS.Expression {
    if (!Number.isFinite(value)) throw new Error(`internal: cannot emit number ${value}`);
    if (value < 0 || Object.is(value, -0)) return this.f.createPrefixUnaryExpression(this.ts.SyntaxKind.MinusToken, this.f.createNumericLiteral(String(-value)));
    return this.f.createNumericLiteral(String(value));
  }

  bool(value: boolean): TS.Expression {
    return value ? this.f.createTrue() : this.f.createFalse();
  }

  null(): TS.Expression {
    return this.f.createNull();
  }

  undef(): TS.Expression {
    return this.f.createVoidZero();
  }

  /** A property name for an object literal or type: identifier, or string for `__proto__`. */
  propName(name: string): TS.PropertyName {
    if (name === "__proto__") return this.f.createComputedPropertyName(this.str(name));
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? this.id(name) : this.str(name);
  }

  /** `obj.name`, or `obj["__proto__"]`, which reads the own field rather than the prototype. */
  prop(obj: TS.Expression, name: string): TS.Expression {
    if (name === "__proto__" || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return this.f.createElementAccessExpression(obj, this.str(name));
    return this.f.createPropertyAccessExpression(obj, name);
  }

  call(fn: TS.Expression | string, args: TS.Expression[]): TS.CallExpression {
    return this.f.createCallExpression(typeof fn === "string" ? this.id(fn) : fn, undefined, args);
  }

  method(obj: TS.Expression, name: string, args: TS.Expression[]): TS.CallExpression {
    return this.f.createCallExpression(this.f.createPropertyAccessExpression(obj, name), undefined, args);
  }

  bin(l: TS.Expression, op: TS.BinaryOperator, r: TS.Expression): TS.Expression {
    return this.f.createBinaryExpression(l, op, r);
  }

  not(e: TS.Expression): TS.Expression {
    return this.f.createLogicalNot(this.f.createParenthesizedExpression(e));
  }

  paren(e: TS.Expression): TS.Expression {
    return this.f.createParenthesizedExpression(e);
  }

  nonNull(e: TS.Expression): TS.Expression {
    return this.f.createNonNullExpression(e);
  }

  cond(c: TS.Expression, a: TS.Expression, b: TS.Expression): TS.Expression {
    return this.f.createConditionalExpression(c, this.f.createToken(this.ts.SyntaxKind.QuestionToken), a, this.f.createToken(this.ts.SyntaxKind.ColonToken), b);
  }

  object(fields: [string, TS.Expression][], multiLine = false): TS.Expression {
    return this.f.createObjectLiteralExpression(fields.map(([n, v]) => this.f.createPropertyAssignment(this.propName(n), v)), multiLine);
  }

  array(items: TS.Expression[], multiLine = false): TS.Expression {
    return this.f.createArrayLiteralExpression(items, multiLine);
  }

  /** A JSON-like value (manifest data) as a literal. */
  literal(v: unknown): TS.Expression {
    if (v === null || v === undefined) return this.null();
    if (typeof v === "string") return this.str(v);
    if (typeof v === "number") return this.num(v);
    if (typeof v === "boolean") return this.bool(v);
    if (Array.isArray(v)) return this.array(v.map((x) => this.literal(x)), v.some((x) => typeof x === "object" && x !== null));
    const entries = Object.entries(v as Record<string, unknown>);
    return this.object(entries.map(([k, x]) => [k, this.literal(x)]), entries.some(([, x]) => typeof x === "object" && x !== null));
  }

  constDecl(name: string, init: TS.Expression, type?: TS.TypeNode): TS.Statement {
    return this.f.createVariableStatement(undefined, this.f.createVariableDeclarationList([this.f.createVariableDeclaration(name, undefined, type, init)], this.ts.NodeFlags.Const));
  }

  letDecl(name: string, init: TS.Expression, type?: TS.TypeNode): TS.Statement {
    return this.f.createVariableStatement(undefined, this.f.createVariableDeclarationList([this.f.createVariableDeclaration(name, undefined, type, init)], this.ts.NodeFlags.Let));
  }

  expr(e: TS.Expression): TS.Statement {
    return this.f.createExpressionStatement(e);
  }

  assign(target: TS.Expression, value: TS.Expression, op: "=" | "+=" | "-=" = "="): TS.Statement {
    const k = op === "=" ? this.ts.SyntaxKind.EqualsToken : op === "+=" ? this.ts.SyntaxKind.PlusEqualsToken : this.ts.SyntaxKind.MinusEqualsToken;
    return this.expr(this.f.createBinaryExpression(target, k, value));
  }

  if(c: TS.Expression, then: TS.Statement[], otherwise?: TS.Statement[]): TS.Statement {
    return this.f.createIfStatement(c, this.f.createBlock(then, true), otherwise ? (otherwise.length === 1 && this.ts.isIfStatement(otherwise[0]!) ? otherwise[0] : this.f.createBlock(otherwise, true)) : undefined);
  }

  forOf(name: string, iterable: TS.Expression, body: TS.Statement[]): TS.Statement {
    return this.f.createForOfStatement(undefined, this.f.createVariableDeclarationList([this.f.createVariableDeclaration(name)], this.ts.NodeFlags.Const), iterable, this.f.createBlock(body, true));
  }

  block(body: TS.Statement[]): TS.Statement {
    return this.f.createBlock(body, true);
  }

  ret(e?: TS.Expression): TS.Statement {
    return this.f.createReturnStatement(e);
  }

  continue(): TS.Statement {
    return this.f.createContinueStatement();
  }

  arrow(params: string[], body: TS.Expression): TS.Expression {
    return this.f.createArrowFunction(undefined, undefined, params.map((p) => this.f.createParameterDeclaration(undefined, undefined, p)), undefined, this.f.createToken(this.ts.SyntaxKind.EqualsGreaterThanToken), body);
  }

  newExpr(cls: string, args: TS.Expression[]): TS.Expression {
    return this.f.createNewExpression(this.id(cls), undefined, args);
  }

  // ---- types -----------------------------------------------------------------------------

  /** The TypeScript type of a .flow type; named records refer to their interface. */
  type(t: Type, recordName: (name: string, t: Type) => string | null): TS.TypeNode {
    const f = this.f;
    const K = this.ts.SyntaxKind;
    switch (t.kind) {
      case "prim":
        return f.createKeywordTypeNode(t.name === "bool" ? K.BooleanKeyword : t.name === "string" ? K.StringKeyword : K.NumberKeyword);
      case "optional":
        return f.createUnionTypeNode([this.type(t.inner, recordName), f.createLiteralTypeNode(f.createNull())]);
      case "list":
        return f.createArrayTypeNode(this.wrapForArray(this.type(t.elem, recordName)));
      case "map":
        return f.createTypeReferenceNode("Map", [this.type(t.key, recordName), this.type(t.value, recordName)]);
      case "record": {
        const named = t.name ? recordName(t.name, t) : null;
        if (named) return f.createTypeReferenceNode(named);
        return this.recordLiteralType(t.fields, recordName);
      }
      case "null":
        return f.createLiteralTypeNode(f.createNull());
      case "never":
        return f.createKeywordTypeNode(K.NeverKeyword);
      case "fn":
      case "error":
        return f.createKeywordTypeNode(K.UnknownKeyword);
    }
  }

  recordLiteralType(fields: { name: string; type: Type }[], recordName: (name: string, t: Type) => string | null): TS.TypeNode {
    return this.f.createTypeLiteralNode(fields.map((x) => this.f.createPropertySignature(undefined, this.propName(x.name), undefined, this.type(x.type, recordName))));
  }

  private wrapForArray(t: TS.TypeNode): TS.TypeNode {
    return this.ts.isUnionTypeNode(t) || this.ts.isFunctionTypeNode(t) ? this.f.createParenthesizedType(t) : t;
  }
}
