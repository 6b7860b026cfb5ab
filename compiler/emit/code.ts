// Expressions and process-block statements of the checked program, as TypeScript nodes.
// Names of the user's locals map to generated identifiers through an environment; the user's
// strings become string literal nodes. Nothing here concatenates user text into code.

import type { ts as TS } from "ts-morph";
import * as A from "../ast.js";
import type { Binding, CheckedProgram, LocalBinding } from "../check/index.js";
import { containsMap, isOptional, stripOptional, type RecordType, type Type } from "../types.js";
import { fieldName, localName, type Nodes } from "./tsnodes.js";

/** Unique identifiers within one generated function. */
export class Names {
  private readonly used = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }

  /** A fresh identifier based on a user's name (or an internal `$` name). */
  fresh(base: string): string {
    let name = base.startsWith("$") ? base : localName(base);
    for (let i = 1; this.used.has(name); i++) name = `${base.startsWith("$") ? base : localName(base)}_${i}`;
    this.used.add(name);
    return name;
  }
}

export interface Env {
  /** Each binding's generated expression (identifier, `$s.field`, `$k`). */
  vars: Map<number, TS.Expression>;
  names: Names;
  /** Reads of aggregate results in an aggregate's output expression. */
  aggRead?: (index: number) => TS.Expression;
  /** For `emit` in a process block: the statements that hand a value downstream. */
  emit?: (value: TS.Expression) => TS.Statement[];
  /** The state object of a process block, for `clear`. */
  state?: TS.Expression;
  /** After a statement that writes state (ttl bookkeeping): the statements to add. */
  afterWrite?: (bindingId: number) => TS.Statement[];
  /** `timer at t`: the statements that set the timer. */
  timer?: (at: TS.Expression) => TS.Statement[];
}

export class CodeGen {
  constructor(
    readonly n: Nodes,
    readonly checked: CheckedProgram,
    readonly recordName: (name: string, t: Type) => string | null,
    readonly fnName: (name: string) => string,
    /** The .flow file name, for locations in runtime errors. */
    readonly file: string,
  ) {}

  private get ts(): typeof TS {
    return this.n.ts;
  }

  typeOf(e: A.Expr): Type {
    const t = this.checked.exprTypes.get(e);
    if (!t) throw new Error(`internal: no type for expression at ${e.span.line}:${e.span.col}`);
    return t;
  }

  tsType(t: Type): TS.TypeNode {
    return this.n.type(t, this.recordName);
  }

  /** Binds a local and returns its generated name. */
  bindLocal(b: LocalBinding, env: Env): string {
    const name = env.names.fresh(b.name);
    env.vars.set(b.id, this.n.id(name));
    return name;
  }

  private location(span: A.Span): string {
    return `${this.file}:${span.line}:${span.col}`;
  }

  private binding(e: A.Expr): Binding | undefined {
    return this.checked.names.get(e);
  }

  /** Whether an expression names list/map state, which must be copied when read as a value. */
  private isMutableCollection(e: A.Expr): boolean {
    if (e.kind !== "Name") return false;
    const b = this.binding(e);
    return !!b && (b.kind === "state" || (b.kind === "local" && b.mutable)) && (b.type.kind === "list" || b.type.kind === "map");
  }

  /** An expression read in place (not copied): receivers of len, index, for, contains. */
  exprInPlace(e: A.Expr, env: Env): TS.Expression {
    return this.isMutableCollection(e) ? this.nameRef(e as A.ExprOf<"Name">, env) : this.expr(e, env);
  }

  private nameRef(e: A.ExprOf<"Name">, env: Env): TS.Expression {
    const b = this.binding(e);
    if (!b) throw new Error(`internal: unresolved name ${e.name}`);
    const v = env.vars.get(b.id);
    if (!v) throw new Error(`internal: no generated name for ${e.name}`);
    return this.checked.narrowed.has(e) ? this.n.nonNull(v) : v;
  }

  expr(e: A.Expr, env: Env): TS.Expression {
    const n = this.n;
    const K = this.ts.SyntaxKind;
    switch (e.kind) {
      case "Int":
      case "Float":
        return n.num(e.value);
      case "Duration":
        return n.num(e.ms);
      case "String":
        return n.str(e.value);
      case "Bool":
        return n.bool(e.value);
      case "Null":
        return n.null();
      case "Name": {
        const ref = this.nameRef(e, env);
        if (this.isMutableCollection(e)) {
          // State lists and maps change later: hand out a copy, never the live object.
          return this.typeOf(e).kind === "list" ? n.method(ref, "slice", []) : n.f.createNewExpression(n.id("Map"), undefined, [ref]);
        }
        return ref;
      }
      case "Field": {
        const obj = this.expr(e.object, env);
        const objType = this.typeOf(e.object);
        let out: TS.Expression;
        if (isOptional(objType)) {
          const chain = e.field.name === "__proto__" || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(e.field.name)
            ? n.f.createElementAccessChain(obj, n.f.createToken(K.QuestionDotToken), n.str(e.field.name))
            : n.f.createPropertyAccessChain(obj, n.f.createToken(K.QuestionDotToken), e.field.name);
          out = n.call(n.prop(n.id("$lib"), "nul"), [chain]);
        } else out = n.prop(obj, e.field.name);
        return this.checked.narrowed.has(e) ? n.nonNull(out) : out;
      }
      case "Index": {
        const objType = this.typeOf(e.object);
        const obj = this.exprInPlace(e.object, env);
        const idx = this.expr(e.index, env);
        const read = objType.kind === "map" ? n.method(obj, "get", [idx]) : n.f.createElementAccessExpression(obj, idx);
        return n.call(n.prop(n.id("$lib"), "nul"), [read]);
      }
      case "Call":
        return this.callExpr(e, env);
      case "Unary":
        return e.op === "not" ? n.f.createLogicalNot(this.expr(e.operand, env)) : n.f.createPrefixUnaryExpression(K.MinusToken, this.expr(e.operand, env));
      case "Binary":
        return this.binary(e, env);
      case "Cond":
        return n.cond(this.expr(e.cond, env), this.expr(e.then, env), this.expr(e.else, env));
      case "Record":
        return this.record(e, env);
      case "List":
        return n.array(e.items.map((i) => this.expr(i, env)));
      case "Lambda":
        throw new Error("internal: a lambda outside a stage");
      default:
        return A.assertNever(e, "expression");
    }
  }

  private record(e: A.ExprOf<"Record">, env: Env): TS.Expression {
    const n = this.n;
    if (this.checked.emptyMaps.has(e)) return n.f.createNewExpression(n.id("Map"), undefined, []);
    const layout: RecordType | undefined = this.checked.recordLayouts.get(e);
    const given = new Map(e.fields.map((f) => [f.name.name, f]));
    const order = layout ? layout.fields.map((f) => f.name) : e.fields.map((f) => f.name.name);
    return n.object(order.map((name) => {
      const f = given.get(name);
      return [name, f ? this.expr(f.value, env) : n.null()];
    }));
  }

  private binary(e: A.ExprOf<"Binary">, env: Env): TS.Expression {
    const n = this.n;
    const K = this.ts.SyntaxKind;
    const l = this.expr(e.left, env);
    const r = this.expr(e.right, env);
    switch (e.op) {
      case "+":
      case "-":
      case "*": {
        const op = e.op === "+" ? K.PlusToken : e.op === "-" ? K.MinusToken : K.AsteriskToken;
        return this.intChecked(n.bin(l, op, r), this.typeOf(e), `\`${e.op}\``, e.opSpan);
      }
      case "/":
        return n.bin(l, K.SlashToken, r);
      case "%": {
        const lt = this.typeOf(e.left);
        const rt = this.typeOf(e.right);
        const ints = lt.kind === "prim" && lt.name === "int" && rt.kind === "prim" && rt.name === "int";
        const safe = e.right.kind === "Int" && e.right.value !== 0;
        return ints && !safe ? n.call(n.prop(n.id("$lib"), "imod"), [l, r, n.str(this.location(e.opSpan))]) : n.bin(l, K.PercentToken, r);
      }
      case "==":
      case "!=": {
        const deep = needsDeepEquality(this.typeOf(e.left)) || needsDeepEquality(this.typeOf(e.right));
        // A record, list or map against the literal null: a null check, not a deep comparison
        // (absent optionals are null, never undefined, but `==` covers both).
        if (deep && (e.left.kind === "Null" || e.right.kind === "Null")) {
          const other = e.left.kind === "Null" ? r : l;
          return n.bin(other, e.op === "==" ? K.EqualsEqualsToken : K.ExclamationEqualsToken, n.null());
        }
        if (deep) {
          const eq = n.call(n.prop(n.id("$lib"), "equals"), [l, r]);
          return e.op === "==" ? eq : n.f.createLogicalNot(eq);
        }
        return n.bin(l, e.op === "==" ? K.EqualsEqualsEqualsToken : K.ExclamationEqualsEqualsToken, r);
      }
      case "<":
        return n.bin(l, K.LessThanToken, r);
      case "<=":
        return n.bin(l, K.LessThanEqualsToken, r);
      case ">":
        return n.bin(l, K.GreaterThanToken, r);
      case ">=":
        return n.bin(l, K.GreaterThanEqualsToken, r);
      case "and":
        return n.bin(l, K.AmpersandAmpersandToken, r);
      case "or":
        return n.bin(l, K.BarBarToken, r);
      case "??":
        return n.bin(l, K.QuestionQuestionToken, r);
    }
  }

  /**
   * An arithmetic result of type int (or timestamp, duration: integer milliseconds) checked
   * against the int range (FLOW5013, at `span`); other types (float, string) as they are.
   * Unary minus needs no check: the range is symmetric and every int in it.
   */
  intChecked(result: TS.Expression, t: Type, what: string, span: A.Span): TS.Expression {
    if (!isIntLike(t)) return result;
    return this.lib("checkInt", [result, this.n.str(what), this.n.str(this.location(span))]);
  }

  private lib(name: string, args: TS.Expression[]): TS.Expression {
    return this.n.call(this.n.prop(this.n.id("$lib"), name), args);
  }

  private callExpr(e: A.ExprOf<"Call">, env: Env): TS.Expression {
    const n = this.n;
    const target = this.checked.calls.get(e);
    if (!target) throw new Error(`internal: unresolved call at ${e.span.line}:${e.span.col}`);
    switch (target.kind) {
      case "agg": {
        if (!env.aggRead) throw new Error("internal: aggregate read outside aggregate");
        return env.aggRead(target.index);
      }
      case "fn":
        return n.call(this.fnName(target.name), e.args.map((a) => this.expr(a.value, env)));
      case "import":
        return n.call(`udf$${target.name}`, e.args.map((a) => this.expr(a.value, env)));
      case "push":
        throw new Error("internal: push in an expression");
      case "builtin":
        break;
    }
    const args = e.args.map((a) => a.value);
    const v = (i: number): TS.Expression => this.expr(args[i]!, env);
    const inPlace = (i: number): TS.Expression => this.exprInPlace(args[i]!, env);
    const K = this.ts.SyntaxKind;
    switch (target.name) {
      case "len": {
        const t = stripOptional(target.argTypes[0]!);
        return n.prop(inPlace(0), t.kind === "map" ? "size" : "length");
      }
      case "lower":
        return n.method(v(0), "toLowerCase", []);
      case "upper":
        return n.method(v(0), "toUpperCase", []);
      case "trim":
        return n.method(v(0), "trim", []);
      case "contains":
        return target.argTypes[0]!.kind === "list" ? this.lib("listContains", [inPlace(0), v(1)]) : n.method(v(0), "includes", [v(1)]);
      case "starts_with":
        return n.method(v(0), "startsWith", [v(1)]);
      case "ends_with":
        return n.method(v(0), "endsWith", [v(1)]);
      case "substr":
        return this.lib("substr", args.map((_, i) => v(i)));
      case "split":
        return this.lib("split", [v(0), v(1)]);
      case "abs":
        return n.call(n.prop(n.id("Math"), "abs"), [v(0)]);
      case "round":
      case "floor":
      case "ceil":
        // Of an int: the int itself. Of a float: an int, or FLOW5013 beyond the int range.
        return isIntLike(target.argTypes[0]!) ? n.call(n.prop(n.id("Math"), target.name), [v(0)]) : this.lib(target.name, [v(0), n.str(this.location(e.span))]);
      case "min":
      case "max": {
        const numeric = target.argTypes.every((t) => t.kind === "prim" && t.name !== "string");
        return numeric ? n.call(n.prop(n.id("Math"), target.name), [v(0), v(1)]) : this.lib(target.name === "min" ? "minOf" : "maxOf", [v(0), v(1)]);
      }
      case "to_string":
        return this.lib("toString", [v(0)]);
      case "parse_int":
        return this.lib("parseInt", [v(0)]);
      case "parse_float":
        return this.lib("parseFloat", [v(0)]);
      case "hash":
        return this.lib("hash", [v(0)]);
      case "sqrt":
      case "exp":
      case "log10":
      case "sign":
        return n.call(n.prop(n.id("Math"), target.name), [v(0)]);
      case "ln":
        return n.call(n.prop(n.id("Math"), "log"), [v(0)]);
      case "pow":
        return n.call(n.prop(n.id("Math"), "pow"), [v(0), v(1)]);
      case "coalesce":
        return args.slice(1).reduce<TS.Expression>((acc, _a, i) => n.bin(acc, K.QuestionQuestionToken, v(i + 1)), v(0));
    }
  }

  // ---- process-block statements ----------------------------------------------------------

  stmts(list: A.Stmt[], env: Env): TS.Statement[] {
    return list.flatMap((s) => {
      const out = this.stmt(s, env);
      const written = s.kind === "ExprStmt" ? this.checked.calls.get(s.expr) : null;
      const b = this.checked.targets.get(s) ?? (written?.kind === "push" ? written.target : undefined);
      if (b && b.kind === "state" && env.afterWrite) out.push(...env.afterWrite(b.id));
      return out;
    });
  }

  private targetRef(b: Binding, env: Env): TS.Expression {
    const v = env.vars.get(b.id);
    if (!v) throw new Error(`internal: no generated name for ${b.name}`);
    return v;
  }

  stmt(s: A.Stmt, env: Env): TS.Statement[] {
    const n = this.n;
    const K = this.ts.SyntaxKind;
    switch (s.kind) {
      case "LetStmt": {
        const b = this.checked.declared.get(s)!;
        const value = this.expr(s.value, env);
        const name = this.bindLocal(b, env);
        return [n.letDecl(name, value, this.tsType(b.type))];
      }
      case "AssignStmt": {
        const b = this.checked.targets.get(s)!;
        const target = this.targetRef(b, env);
        const value = this.expr(s.value, env);
        if (s.target.kind === "IndexTarget") {
          const key = this.expr(s.target.index, env);
          if (s.op === "=") return [n.expr(n.method(target, "set", [key, value]))];
          const valueType = b.type.kind === "map" ? b.type.value : b.type;
          const zero = valueType.kind === "prim" && valueType.name === "string" ? n.str("") : n.num(0);
          const keyName = env.names.fresh("$key");
          const current = n.paren(n.bin(n.method(target, "get", [n.id(keyName)]), K.QuestionQuestionToken, zero));
          const updated = this.intChecked(n.bin(current, s.op === "+=" ? K.PlusToken : K.MinusToken, value), valueType, `\`${s.op}\``, s.span);
          return [n.block([n.constDecl(keyName, key), n.expr(n.method(target, "set", [n.id(keyName), updated]))])];
        }
        // `x += v` on an int: `x = $lib.checkInt(x + v, …)` (x is a local or a state field).
        if (s.op !== "=" && isIntLike(stripOptional(b.type))) return [n.assign(target, this.intChecked(n.bin(target, s.op === "+=" ? K.PlusToken : K.MinusToken, value), stripOptional(b.type), `\`${s.op}\``, s.span))];
        return [n.assign(target, value, s.op)];
      }
      case "IfStmt":
        return [n.if(this.expr(s.cond, env), this.scoped(s.then, env), s.else ? this.scoped(s.else, env) : undefined)];
      case "ForStmt": {
        const b = this.checked.declared.get(s)!;
        const iterType = this.typeOf(s.iterable);
        let iterable = this.exprInPlace(s.iterable, env);
        // Iterate over a snapshot, so that the body may change the collection.
        iterable = iterType.kind === "map" ? n.call(n.prop(n.id("Array"), "from"), [n.method(iterable, "keys", [])]) : n.method(iterable, "slice", []);
        const inner: Env = { ...env, vars: new Map(env.vars) };
        const name = this.bindLocal(b, inner);
        return [n.forOf(name, iterable, this.stmts(s.body, inner))];
      }
      case "EmitStmt": {
        if (!env.emit) throw new Error("internal: emit outside a process block");
        return env.emit(this.expr(s.value, env));
      }
      case "ClearStmt": {
        const b = this.checked.targets.get(s)!;
        if (b.kind !== "state") throw new Error("internal: clear of a non-state");
        return [n.assign(this.targetRef(b, env), this.expr(b.decl.init, { ...env, vars: new Map() }))];
      }
      case "DeleteStmt": {
        const b = this.checked.targets.get(s)!;
        return [n.expr(n.method(this.targetRef(b, env), "delete", [this.expr(s.index, env)]))];
      }
      case "ExprStmt": {
        const target = this.checked.calls.get(s.expr);
        if (s.expr.kind !== "Call" || target?.kind !== "push") throw new Error("internal: unexpected expression statement");
        return [n.expr(n.method(this.targetRef(target.target, env), "push", [this.expr(s.expr.args[0]!.value, env)]))];
      }
      case "TimerStmt":
        if (!env.timer) throw new Error("internal: a timer outside a process block with timers");
        return env.timer(this.expr(s.at, env));
      default:
        return A.assertNever(s, "statement");
    }
  }

  /** Statements of a nested block: its locals do not leak out. */
  private scoped(list: A.Stmt[], env: Env): TS.Statement[] {
    return this.stmts(list, { ...env, vars: new Map(env.vars) });
  }

  /** The line a sink writes for a value. */
  serialize(value: TS.Expression, t: Type, format: "jsonl" | "csv", bare: boolean): TS.Expression {
    const n = this.n;
    if (format === "csv") {
      const rec = t as RecordType;
      return this.lib("csvRow", [n.array(rec.fields.map((f) => n.prop(value, f.name)))]);
    }
    const base = stripOptional(t);
    if (bare && base.kind === "prim") {
      if (base.name === "string" && !isOptional(t)) return value;
      return this.lib("formatPrimitive", [value]);
    }
    if (containsMap(t)) return this.lib("toJson", [value]);
    if (base.kind === "record" && !isOptional(t)) return this.jsonOf(value, t);
    return n.call(n.prop(n.id("JSON"), "stringify"), [value]);
  }

  /**
   * The body of a fast converter from a parsed jsonl value to a record of type `t`, when
   * every field is a primitive (or an optional one): reads each field once, checks its
   * type, and builds the record with one object literal (one shape for every record).
   * Anything unusual (a missing or mistyped field, a timestamp written as text) returns
   * undefined, and the runtime's generic converter decides and reports. Null when the
   * type has other fields (the generic converter handles those alone).
   */
  fromJsonBody(t: Type, v: TS.Expression): TS.Statement[] | null {
    const n = this.n;
    const K = this.ts.SyntaxKind;
    if (t.kind !== "record" || t.fields.length === 0) return null;
    const prims = t.fields.map((f) => {
      const inner = stripOptional(f.type);
      return inner.kind === "prim" && f.name !== "__proto__" ? inner.name : null;
    });
    if (prims.some((p) => p === null)) return null;
    const typeOf = (x: TS.Expression, what: string): TS.Expression => n.bin(n.f.createTypeOfExpression(x), K.EqualsEqualsEqualsToken, n.str(what));
    const check = (x: TS.Expression, p: string): TS.Expression => {
      switch (p) {
        case "string":
          return typeOf(x, "string");
        case "bool":
          return typeOf(x, "boolean");
        case "float": // finite: JSON.parse reads a number beyond the float range as Infinity
          return n.method(n.id("Number"), "isFinite", [x]);
        default: // int, timestamp, duration: exact integers
          return n.bin(typeOf(x, "number"), K.AmpersandAmpersandToken, n.method(n.id("Number"), "isSafeInteger", [x]));
      }
    };
    const undef = n.ret(n.undef());
    const out: TS.Statement[] = [
      n.if(n.bin(n.bin(n.bin(n.f.createTypeOfExpression(v), K.ExclamationEqualsEqualsToken, n.str("object")), K.BarBarToken, n.bin(v, K.EqualsEqualsEqualsToken, n.null())), K.BarBarToken, n.method(n.id("Array"), "isArray", [v])), [undef]),
    ];
    const locals = t.fields.map((_f, i) => `$f${i}`);
    t.fields.forEach((f, i) => {
      const x = n.id(locals[i]!);
      if (isOptional(f.type)) {
        // Absent or null: null; otherwise it must have the inner type.
        out.push(n.letDecl(locals[i]!, n.prop(v, f.name), n.f.createKeywordTypeNode(K.UnknownKeyword)));
        out.push(n.if(n.bin(x, K.EqualsEqualsEqualsToken, n.undef()), [n.assign(x, n.null())], [n.if(n.bin(n.bin(x, K.ExclamationEqualsEqualsToken, n.null()), K.AmpersandAmpersandToken, n.not(n.paren(check(x, prims[i]!)))), [undef])]));
      } else {
        out.push(n.constDecl(locals[i]!, n.prop(v, f.name), n.f.createKeywordTypeNode(K.UnknownKeyword)));
        out.push(n.if(n.not(n.paren(check(x, prims[i]!))), [undef]));
      }
    });
    out.push(n.ret(n.f.createAsExpression(n.object(t.fields.map((f, i) => [f.name, n.id(locals[i]!)])), n.f.createKeywordTypeNode(K.AnyKeyword))));
    return out;
  }

  /**
   * JSON text of a value of a known type, as one string concatenation: field names are
   * constants, numbers and strings go through small helpers (a string without characters
   * to escape is quoted as it is), so a flat record costs no generic walk of its object.
   * The result equals JSON.stringify's for the same value, fields in the type's order.
   * Values of other shapes (lists, values that may be absent) use JSON.stringify.
   */
  private jsonOf(value: TS.Expression, t: Type): TS.Expression {
    const n = this.n;
    if (t.kind === "optional") {
      const inner = this.jsonOf(value, t.inner);
      return n.paren(n.cond(n.bin(value, this.ts.SyntaxKind.EqualsEqualsToken, n.null()), n.str("null"), inner));
    }
    if (t.kind === "prim") {
      if (t.name === "string") return this.lib("jsonString", [value]);
      if (t.name === "bool") return n.cond(value, n.str("true"), n.str("false"));
      return this.lib("jsonNumber", [value]);
    }
    if (t.kind === "record") {
      const plus = this.ts.SyntaxKind.PlusToken;
      // Constant text is gathered into one literal between values: `{"a":` + x + `,"b":` + y + `}`.
      let text = "{";
      let out: TS.Expression | null = null;
      for (const [i, f] of t.fields.entries()) {
        text += `${i > 0 ? "," : ""}${JSON.stringify(f.name)}:`;
        const v = this.jsonOf(n.prop(value, f.name), f.type);
        out = out === null ? n.bin(n.str(text), plus, v) : n.bin(n.bin(out, plus, n.str(text)), plus, v);
        text = "";
      }
      return out === null ? n.str("{}") : n.paren(n.bin(out, plus, n.str("}")));
    }
    return n.call(n.prop(n.id("JSON"), "stringify"), [value]);
  }
}

/** The temporary that inlined int checks assign to (a name with `$`: none of the user's). */
const INT_TEMP = "$int";

/**
 * Inlines the int range checks of function bodies: `$lib.checkInt(e, what, where)` becomes
 * `(Math.abs($int = e) > 9007199254740991 ? $lib.intOutOfRange($int, what, where) : $int)`
 * with `let $int = 0;` at the top of the nearest enclosing function (nested checks may share
 * it: each assigns only after its operand, inner checks included, is computed). `statements`
 * are a function's body. Even inlined by V8, the call measured a few percent slower on
 * int-heavy jobs than no check, the inline form about as fast. Checks outside any function
 * (state initial values) stay calls.
 */
export function inlineIntChecks(n: Nodes, statements: TS.Statement[]): TS.Statement[] {
  const ts = n.ts;
  const f = n.f;
  let ctx!: TS.TransformationContext;
  let used = false;
  const temp = (): TS.Statement => n.letDecl(INT_TEMP, n.num(0));
  const visit = (node: TS.Node): TS.Node => {
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node)) && node.body) {
      const outer = used;
      used = false;
      let out = ts.visitEachChild(node, visit, ctx);
      if (used) {
        const body = out.body!;
        const block = ts.isBlock(body) ? f.updateBlock(body, [temp(), ...body.statements]) : f.createBlock([temp(), f.createReturnStatement(body as TS.Expression)], true);
        if (ts.isFunctionDeclaration(out)) out = f.updateFunctionDeclaration(out, out.modifiers, out.asteriskToken, out.name, out.typeParameters, out.parameters, out.type, block);
        else if (ts.isFunctionExpression(out)) out = f.updateFunctionExpression(out, out.modifiers, out.asteriskToken, out.name, out.typeParameters, out.parameters, out.type, block);
        else if (ts.isArrowFunction(out)) out = f.updateArrowFunction(out, out.modifiers, out.typeParameters, out.parameters, out.type, out.equalsGreaterThanToken, block);
        else if (ts.isMethodDeclaration(out)) out = f.updateMethodDeclaration(out, out.modifiers, out.asteriskToken, out.name, out.questionToken, out.typeParameters, out.parameters, out.type, block);
      }
      used = outer;
      return out;
    }
    const out = ts.visitEachChild(node, visit, ctx);
    if (ts.isCallExpression(out) && ts.isPropertyAccessExpression(out.expression) && ts.isIdentifier(out.expression.expression) && out.expression.expression.text === "$lib" && out.expression.name.text === "checkInt" && out.arguments.length === 3) {
      used = true;
      const [value, what, where] = out.arguments as unknown as [TS.Expression, TS.Expression, TS.Expression];
      const K = ts.SyntaxKind;
      const tooBig = n.bin(n.call(n.prop(n.id("Math"), "abs"), [f.createAssignment(n.id(INT_TEMP), value)]), K.GreaterThanToken, n.num(9007199254740991));
      return n.paren(n.cond(tooBig, n.call(n.prop(n.id("$lib"), "intOutOfRange"), [n.id(INT_TEMP), what, where]), n.id(INT_TEMP)));
    }
    return out;
  };
  const result = ts.transform(statements, [
    (context) => {
      ctx = context;
      return (root) => visit(root) as TS.Statement;
    },
  ]);
  const out = result.transformed.slice();
  result.dispose();
  return used ? [temp(), ...out] : out;
}

/** int, timestamp and duration: integers, exact only within ±(2^53 − 1). */
export function isIntLike(t: Type): boolean {
  return t.kind === "prim" && (t.name === "int" || t.name === "timestamp" || t.name === "duration");
}

/** Records, lists and maps compare by content, primitives with ===. */
function needsDeepEquality(t: Type): boolean {
  const b = stripOptional(t);
  return b.kind === "record" || b.kind === "list" || b.kind === "map";
}

export { fieldName };
