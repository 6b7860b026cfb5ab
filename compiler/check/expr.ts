// Expressions: their types, recorded in the side tables (exprTypes, names, calls, narrowed,
// recordLayouts, emptyMaps). A bad expression is reported once and gets the `error` type,
// which fits everywhere.

import * as A from "../ast.js";
import { AGG_ARITY, BUILTINS, NUMERIC_BUILTINS, SIGNATURES, isAggregate, isBuiltin, resolveBuiltin, type AggName } from "../builtins.js";
import { signatureText } from "../imports.js";
import { didYouMean, unknownFunctionHint } from "../suggest.js";
import {
  T, assignable, isComparable, isNumeric, isOptional, isPrim, join, recordShape, stripOptional, typeToString, type RecordType, type Type,
} from "../types.js";
import { local, namesOfKind, type CheckContext } from "./context.js";
import type { AggCall, FnInfo } from "./model.js";
import { narrowedPath, scopeWhen } from "./narrowing.js";
import type { PendingAgg, Scope } from "./scope.js";
import { resolveType } from "./type-exprs.js";

/** Checks `e` where a value of type `want` is needed; reports a mismatch. */
export function expect(cx: CheckContext, e: A.Expr, scope: Scope, want: Type, what: string): Type {
  const t = expr(cx, e, scope, want);
  if (!assignable(t, want)) {
    if (isOptional(t) && assignable(stripOptional(t), want)) {
      cx.diags.error("FLOW3004", e.span, `${what} must be ${typeToString(want)}, but this may be null`, {
        label: `this is ${typeToString(t)}`,
        hints: [`give a default with \`?? …\`, or check it with \`if … != null\``],
      });
    } else {
      cx.diags.error("FLOW3001", e.span, `expected ${typeToString(want)}, found ${typeToString(t)}`, {
        label: `this is ${typeToString(t)}`,
        hints: [mismatchHint(t, want, e), `${what} must be ${typeToString(want)}`],
      });
    }
    return T.error;
  }
  return t;
}

export function expr(cx: CheckContext, e: A.Expr, scope: Scope, expected?: Type): Type {
  const t = exprInner(cx, e, scope, expected);
  cx.out.exprTypes.set(e, t);
  return t;
}

/** The type of each kind of literal. */
const LITERAL_TYPES: Record<A.Literal["kind"], Type> = { Int: T.int, Float: T.float, String: T.string, Bool: T.bool, Null: T.null, Duration: T.duration };

function isLiteral(e: A.Expr): e is A.Literal {
  return e.kind in LITERAL_TYPES;
}

function exprInner(cx: CheckContext, e: A.Expr, scope: Scope, expected?: Type): Type {
  if (isLiteral(e)) return LITERAL_TYPES[e.kind];
  switch (e.kind) {
    case "Name":
      return name(cx, e, scope);
    case "Field":
      return field(cx, e, scope);
    case "Index": {
      const t = expr(cx, e.object, scope);
      if (t.kind === "error") {
        expr(cx, e.index, scope);
        return T.error;
      }
      if (t.kind === "map") {
        expect(cx, e.index, scope, t.key, "a map key");
        return T.optional(t.value);
      }
      if (t.kind === "list") {
        expect(cx, e.index, scope, T.int, "a list index");
        return T.optional(t.elem);
      }
      expr(cx, e.index, scope);
      cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3001", e.object.span, isOptional(t) ? `cannot index ${typeToString(t)}: it may be null` : `only lists and maps can be indexed, found ${typeToString(t)}`);
      return T.error;
    }
    case "Call":
      return call(cx, e, scope);
    case "Unary": {
      if (e.op === "not") {
        expect(cx, e.operand, scope, T.bool, "the operand of `not`");
        return T.bool;
      }
      const t = expr(cx, e.operand, scope);
      if (t.kind === "error" || isNumeric(t) || isPrim(t, "duration")) return t;
      cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3002", e.span, `cannot negate ${typeToString(t)}`, { hints: [isOptional(t) ? "the value may be null: give a default with `??`" : undefined] });
      return T.error;
    }
    case "Binary":
      return binary(cx, e, scope);
    case "Cond": {
      expect(cx, e.cond, scope, T.bool, "an if condition");
      const thenScope = scopeWhen(cx, scope, e.cond, true);
      const elseScope = scopeWhen(cx, scope, e.cond, false);
      const a = expr(cx, e.then, thenScope, expected);
      const b = expr(cx, e.else, elseScope, expected);
      const j = join(a, b);
      if (!j) {
        cx.diags.error("FLOW3001", e.else.span, `the branches of if/then/else differ: ${typeToString(a)} and ${typeToString(b)}`, {
          notes: [{ message: `the then branch is ${typeToString(a)}`, span: e.then.span }],
        });
        return T.error;
      }
      return j;
    }
    case "Record":
      return record(cx, e, scope, expected);
    case "List": {
      const want = expected && stripOptional(expected).kind === "list" ? (stripOptional(expected) as { elem: Type }).elem : undefined;
      let elem: Type = T.never;
      let first: A.Expr | null = null;
      for (const item of e.items) {
        const t = expr(cx, item, scope, want);
        const j = join(elem, t);
        if (!j) {
          cx.diags.error("FLOW3001", item.span, `list elements must have one type: expected ${typeToString(elem)}, found ${typeToString(t)}`, {
            notes: first ? [{ message: `the first element is ${typeToString(cx.out.exprTypes.get(first)!)}`, span: first.span }] : [],
          });
          return T.list(T.error);
        }
        elem = j;
        first ??= item;
      }
      if (elem.kind === "never" && want) return T.list(want);
      return T.list(elem);
    }
    case "Lambda":
      cx.diags.error("FLOW3005", e.span, "a lambda can only be the argument of a stage such as map(x => …)");
      return T.error;
    default:
      return A.assertNever(e, "expression");
  }
}

/** A stream's element type must be a value: not a function, not just null. */
export function valueType(cx: CheckContext, t: Type, e: A.Expr, what: string): Type {
  if (t.kind === "null" || t.kind === "never") {
    cx.diags.error("FLOW3001", e.span, `cannot tell the type of ${what}: it is always ${t.kind === "null" ? "null" : "an empty list"}`);
    return T.error;
  }
  if (t.kind === "fn") {
    cx.diags.error("FLOW3005", e.span, `${what} cannot be a function`);
    return T.error;
  }
  return t;
}

export function unknownName(cx: CheckContext, name: string, span: A.Span, scope: Scope): void {
  cx.onUnknownName?.(name, scope.visibleBindings());
  const visible = scope.visibleNames();
  const top = cx.top.get(name);
  if (top && (top.kind === "source" || top.kind === "let")) {
    cx.diags.error("FLOW2001", span, `\`${name}\` is a stream and cannot be used inside an expression`, {
      hints: ["streams are combined with stages (`union`, `join`), not read as values"],
    });
    return;
  }
  if (name === "key") {
    cx.diags.error("FLOW2001", span, "`key` is only defined after `key_by`", { hints: ["add `|> key_by(x => …)` earlier in the pipeline"] });
    return;
  }
  if (name === "window" && scope.countWindow) {
    cx.diags.error("FLOW3018", span, "a count window has no start or end: it is a number of elements, not a span of time", {
      hints: ["take times from the elements: `min(x.ts)`, `max(x.ts)`", "for a span of time, window by tumbling(…) or sliding(…)"],
    });
    return;
  }
  if (name === "window") {
    cx.diags.error("FLOW2001", span, "`window` is only defined in a windowed aggregate", { hints: ["window.start and window.end name the window in `window(…) |> aggregate(…)`"] });
    return;
  }
  cx.diags.error("FLOW2001", span, `unknown name \`${name}\``, { hints: [didYouMean(name, visible)] });
}

function name(cx: CheckContext, e: A.ExprOf<"Name">, scope: Scope): Type {
  const b = scope.lookup(e.name);
  if (!b) {
    const top = cx.top.get(e.name);
    if (top?.kind === "fn" || top?.kind === "import" || isBuiltin(e.name)) {
      cx.diags.error("FLOW3005", e.span, `\`${e.name}\` is a function: call it with arguments, \`${e.name}(…)\``);
    } else unknownName(cx, e.name, e.span, scope);
    return T.error;
  }
  cx.out.names.set(e, b);
  if (scope.aggMode === "top" && b === scope.aggElement) {
    cx.diags.error("FLOW3006", e.span, `\`${e.name}\` is used outside an aggregate function`, {
      hints: [`in aggregate, read the element only inside count(), sum(${e.name}…), last(${e.name}…) and the like; \`key\` may appear alone`],
    });
  }
  const narrowed = scope.narrowed(String(b.id));
  if (narrowed && narrowed !== b.type) {
    cx.out.narrowed.add(e);
    return narrowed;
  }
  return b.type;
}

function field(cx: CheckContext, e: A.ExprOf<"Field">, scope: Scope): Type {
  const objType = expr(cx, e.object, scope);
  if (objType.kind === "error") return T.error;
  let rec: Type = objType;
  if (isOptional(objType)) {
    if (!e.optional) {
      cx.diags.error("FLOW3004", e.object.span, `cannot read \`.${e.field.name}\`: the value may be null (${typeToString(objType)})`, {
        hints: [`use \`?.${e.field.name}\` to get null when it is null, or check it with \`if … != null\``],
      });
      return T.error;
    }
    rec = stripOptional(objType);
  }
  if (rec.kind !== "record") {
    cx.diags.error("FLOW2007", e.field.span, `${typeToString(objType)} has no fields`, { hints: [isPrim(rec, "string") && e.field.name === "length" ? "use len(s)" : undefined] });
    return T.error;
  }
  const f = rec.fields.find((x) => x.name === e.field.name);
  if (!f) {
    cx.diags.error("FLOW2007", e.field.span, `${typeToString(rec)} has no field \`${e.field.name}\``, {
      hints: [didYouMean(e.field.name, rec.fields.map((x) => x.name)) ?? `its fields: ${rec.fields.map((x) => x.name).join(", ") || "none"}`],
    });
    return T.error;
  }
  let t = e.optional || isOptional(objType) ? T.optional(f.type) : f.type;
  const narrowed = narrowedPath(e, scope);
  if (narrowed && isOptional(t)) {
    cx.out.narrowed.add(e);
    t = narrowed;
  }
  return t;
}

function record(cx: CheckContext, e: A.ExprOf<"Record">, scope: Scope, expected?: Type): Type {
  const exp = expected ? stripOptional(expected) : undefined;
  if (e.fields.length === 0 && exp?.kind === "map") {
    cx.out.emptyMaps.add(e);
    return exp;
  }
  const want = exp?.kind === "record" ? exp : undefined;
  const fields: RecordType["fields"] = [];
  const seen = new Map<string, A.Span>();
  for (const f of e.fields) {
    const prev = seen.get(f.name.name);
    const t = expr(cx, f.value, scope.aggRecord === e ? aggregateField(scope, f.name.name) : scope, want?.fields.find((x) => x.name === f.name.name)?.type);
    if (prev) {
      cx.diags.error("FLOW2002", f.name.span, `field \`${f.name.name}\` is given twice`, { notes: [{ message: "first given here", span: prev }] });
      continue;
    }
    seen.set(f.name.name, f.name.span);
    fields.push({ name: f.name.name, type: t.kind === "never" ? T.list(T.never) : t });
  }
  const own: RecordType = { kind: "record", fields };
  if (!want) return own;
  // Built as the expected record type: its field order; missing optional fields are null.
  let ok = true;
  for (const f of fields) {
    const wf = want.fields.find((x) => x.name === f.name);
    if (!wf) {
      const span = e.fields.find((x) => x.name.name === f.name)!.name.span;
      cx.diags.error("FLOW2007", span, `${typeToString(want)} has no field \`${f.name}\``, {
        hints: [didYouMean(f.name, want.fields.map((x) => x.name)) ?? `its fields: ${want.fields.map((x) => x.name).join(", ")}`],
      });
      ok = false;
    } else if (!assignable(f.type, wf.type)) {
      const fe = e.fields.find((x) => x.name.name === f.name)!;
      const nullable = isOptional(f.type) && assignable(stripOptional(f.type), wf.type);
      cx.diags.error(nullable ? "FLOW3004" : "FLOW3001", fe.value.span, `field \`${f.name}\` must be ${typeToString(wf.type)}, found ${typeToString(f.type)}`, {
        hints: [nullable ? "the value may be null: give a default with `??`" : mismatchHint(f.type, wf.type, fe.value)],
      });
      ok = false;
    }
  }
  const missing = want.fields.filter((wf) => !seen.has(wf.name) && !isOptional(wf.type));
  if (missing.length) {
    cx.diags.error("FLOW3012", e.span, `missing field${missing.length > 1 ? "s" : ""} ${missing.map((m) => `\`${m.name}\``).join(", ")} of ${typeToString(want)}`, {
      hints: [`${typeToString(want)} is ${recordShape(want)}`],
    });
    ok = false;
  }
  if (!ok) return T.error;
  cx.out.recordLayouts.set(e, want);
  return want;
}

/** The scope of one field of an aggregate's result record: its aggregate functions keep their state under its name. */
function aggregateField(scope: Scope, name: string): Scope {
  const inner = scope.child();
  inner.aggField = name;
  return inner;
}

// ---- calls -------------------------------------------------------------------------------

function call(cx: CheckContext, e: A.ExprOf<"Call">, scope: Scope): Type {
  const checkArgs = (s: Scope): Type[] => e.args.map((a) => expr(cx, a.value, s));
  if (e.callee.kind !== "Name") {
    if (e.callee.kind === "Field" && e.callee.field.name === "push") {
      cx.diags.error("FLOW3014", e.span, "`push` is a statement: write `list.push(x)` on its own in a process block");
    } else cx.diags.error("FLOW3005", e.callee.span, "only functions can be called", { hints: ["the language has no methods: call `f(x)` instead of `x.f()`"] });
    checkArgs(scope);
    return T.error;
  }
  const name = e.callee.name;
  const local = scope.lookup(name);
  if (local) {
    cx.diags.error("FLOW3005", e.callee.span, `\`${name}\` is a value of type ${typeToString(local.type)}, not a function`);
    checkArgs(scope);
    return T.error;
  }
  const aggArity = isAggregate(name) ? AGG_ARITY[name] : -1;
  if (aggArity >= 0 && !((name === "min" || name === "max") && e.args.length === 2)) {
    return aggCall(cx, e, name as AggName, scope);
  }
  const named = e.args.find((a) => a.name);
  if (isBuiltin(name)) {
    if (named) cx.diags.error("FLOW3003", named.span, `${name} takes no named arguments`, { hints: [SIGNATURES[name]] });
    const types = checkArgs(scope);
    const r = resolveBuiltin(name, types);
    if (!r.ok) {
      const span = r.problem.arg >= 0 ? e.args[r.problem.arg]!.span : e.span;
      cx.diags.error(r.problem.code, span, `${name}: ${r.problem.message}`, {
        hints: [r.problem.code === "FLOW3004" ? "give a default with `?? …`, or check it first with `if … != null`" : undefined, SIGNATURES[name]],
      });
      return T.error;
    }
    cx.out.calls.set(e, { kind: "builtin", name, argTypes: types });
    return r.type;
  }
  const top = cx.top.get(name);
  if (top?.kind === "fn") {
    if (cx.currentFn) cx.fnCalls.get(cx.currentFn)!.add(name);
    const fn = cx.out.fns.get(name) ?? signatureOf(cx, top.decl);
    if (named) cx.diags.error("FLOW3003", named.span, `${name} takes no named arguments`);
    if (e.args.length !== fn.params.length) {
      cx.diags.error("FLOW3003", e.span, `${name} takes ${fn.params.length} argument${fn.params.length === 1 ? "" : "s"}, found ${e.args.length}`, {
        notes: [{ message: `${name} is declared here`, span: top.decl.name.span }],
      });
      checkArgs(scope);
      return T.error;
    }
    e.args.forEach((a, i) => expect(cx, a.value, scope, fn.params[i]!.type, `argument \`${fn.params[i]!.name}\` of ${name}`));
    cx.out.calls.set(e, { kind: "fn", name });
    return fn.result;
  }
  if (top?.kind === "import") {
    const f = cx.out.imports.get(name);
    if (!f) {
      checkArgs(scope);
      return T.error; // the import itself is reported
    }
    if (named) cx.diags.error("FLOW3003", named.span, `${name} takes no named arguments`);
    if (e.args.length !== f.params.length) {
      cx.diags.error("FLOW3003", e.span, `${name} takes ${f.params.length} argument${f.params.length === 1 ? "" : "s"}, found ${e.args.length}`, {
        notes: [{ message: `imported here as ${signatureText(f)}`, span: f.ident.span }],
      });
      checkArgs(scope);
      return T.error;
    }
    e.args.forEach((a, i) => expect(cx, a.value, scope, f.params[i]!.type, `argument \`${f.params[i]!.name}\` of ${name}`));
    cx.out.calls.set(e, { kind: "import", name });
    return f.result;
  }
  cx.onUnknownName?.(name, scope.visibleBindings());
  checkArgs(scope);
  const candidates = [...BUILTINS, ...namesOfKind(cx, "fn"), ...(scope.aggMode === "top" ? ["count", "sum", "avg", "first", "last", "count_distinct", "collect", "top"] : [])];
  cx.diags.error("FLOW2004", e.callee.span, `unknown function \`${name}\``, { hints: [unknownFunctionHint(name, candidates, NUMERIC_BUILTINS)] });
  return T.error;
}

/** The declared signature of a helper whose body has not been checked yet. */
function signatureOf(cx: CheckContext, d: A.FnDecl): FnInfo {
  return {
    name: d.name.name,
    decl: d,
    params: d.params.map((p) => local(cx, p.name, resolveType(cx, p.type), "fnParam", false)),
    result: resolveType(cx, d.result),
  };
}

function aggCall(cx: CheckContext, e: A.ExprOf<"Call">, fn: AggName, scope: Scope): Type {
  if (scope.aggMode !== "top") {
    const nested = scope.aggMode === "arg";
    cx.diags.error("FLOW3007", e.callee.span, nested ? `aggregate functions cannot be nested: \`${fn}\` inside another aggregate function` : `\`${fn}\` is an aggregate function and can only be used in \`aggregate(…)\``, {
      hints: [nested ? undefined : fn === "min" || fn === "max" ? `outside aggregate, ${fn} takes two values: ${fn}(a, b)` : "use it as `… |> aggregate(x => { total: sum(x.amount) })`"],
    });
    for (const a of e.args) expr(cx, a.value, scope);
    return T.error;
  }
  const inner = scope.child();
  inner.aggMode = "arg";
  const positional = e.args.filter((a) => !a.name);
  const named = e.args.filter((a) => a.name);
  const arity = AGG_ARITY[fn];
  const badNamed = named.filter((a) => !(fn === "top" && a.name!.name === "by"));
  for (const a of badNamed) cx.diags.error("FLOW3003", a.span, `${fn} has no argument \`${a.name!.name}\``, { hints: [fn === "top" ? "top(n, value, by: ranking)" : undefined] });
  if (positional.length !== arity) {
    cx.diags.error("FLOW3003", e.span, `${fn} takes ${arity === 0 ? "no arguments" : arity === 1 ? "one argument" : "two arguments and `by:`"}, found ${positional.length}`, {
      hints: [fn === "count" ? "count() counts elements; to count non-null values use sum(if x != null then 1 else 0)" : undefined],
    });
    for (const a of e.args) expr(cx, a.value, inner);
    return T.error;
  }
  const agg: PendingAgg = { fn, call: e, value: null, valueType: T.error, resultType: T.error, field: scope.aggField };
  if (fn === "count") {
    agg.resultType = T.int;
  } else if (fn === "top") {
    const nArg = positional[0]!.value;
    expr(cx, nArg, inner);
    if (nArg.kind !== "Int" || nArg.value < 1) {
      cx.diags.error("FLOW3001", nArg.span, "top(n, …) needs n as a positive integer literal");
      return T.error;
    }
    const by = named.find((a) => a.name!.name === "by");
    if (!by) {
      cx.diags.error("FLOW3003", e.span, "top needs `by:`, the value that ranks elements: top(3, x.item, by: x.price)");
      return T.error;
    }
    agg.n = nArg.value;
    agg.value = positional[1]!.value;
    agg.valueType = expr(cx, agg.value, inner);
    agg.by = by.value;
    agg.byType = expr(cx, by.value, inner);
    if (!isComparable(stripOptional(agg.byType))) {
      cx.diags.error("FLOW3015", by.value.span, `top ranks by numbers, strings, timestamps or durations, found ${typeToString(agg.byType)}`);
      return T.error;
    }
    agg.resultType = T.list(stripOptional(valueType(cx, agg.valueType, agg.value, "the value of top")));
  } else {
    agg.value = positional[0]!.value;
    const vt = expr(cx, agg.value, inner);
    agg.valueType = vt;
    const base = stripOptional(vt);
    const opt = isOptional(vt);
    switch (fn) {
      case "sum":
        if (!(isNumeric(base) || isPrim(base, "duration") || base.kind === "error")) {
          cx.diags.error("FLOW3001", agg.value.span, `sum adds numbers or durations, found ${typeToString(vt)}`);
          return T.error;
        }
        agg.resultType = base;
        break;
      case "avg":
        if (!(isNumeric(base) || base.kind === "error")) {
          cx.diags.error("FLOW3001", agg.value.span, `avg needs numbers, found ${typeToString(vt)}`);
          return T.error;
        }
        agg.resultType = opt ? T.optional(T.float) : T.float;
        break;
      case "min":
      case "max":
        if (!isComparable(base)) {
          cx.diags.error("FLOW3015", agg.value.span, `${fn} compares numbers, strings, timestamps or durations, found ${typeToString(vt)}`);
          return T.error;
        }
        agg.resultType = vt;
        break;
      case "first":
      case "last":
        agg.resultType = valueType(cx, vt, agg.value, `the value of ${fn}`);
        break;
      case "count_distinct":
        agg.resultType = T.int;
        break;
      case "collect":
        agg.resultType = T.list(valueType(cx, base, agg.value, "the value of collect"));
        break;
      default:
        break;
    }
  }
  cx.out.calls.set(e, { kind: "agg", index: scope.aggCalls!.length });
  scope.aggCalls!.push(agg);
  return agg.resultType;
}

/** Where an aggregate's accumulators are kept in generated code: `a<i>_<fn>`. */
export function accumulatorName(index: number, fn: string): string {
  return `a${index}_${fn}`;
}

/**
 * Names the accumulators of an aggregate for savepoints and inspect: the result field that
 * holds the aggregate function (`count: count()` keeps `count`), with the function added
 * when a field holds several (`avg2: sum(x) / count()` keeps `avg2_sum` and `avg2_count`);
 * `a<i>_<fn>` when the result is not a record literal.
 */
export function nameAccumulators(aggs: PendingAgg[]): AggCall[] {
  const names = aggs.map((a, i) => {
    const f = a.field;
    if (f === null) return accumulatorName(i, a.fn);
    return aggs.filter((x) => x.field === f).length === 1 ? f : `${f}_${a.fn}`;
  });
  // Still the same name twice (`f: sum(x) + sum(y)`): number them.
  return aggs.map((a, i) => {
    const name = names[i]!;
    return { ...a, stateName: names.indexOf(name) !== i || names.lastIndexOf(name) !== i ? `${name}_${i}` : name };
  });
}

// ---- operators ---------------------------------------------------------------------------

function binary(cx: CheckContext, e: A.ExprOf<"Binary">, scope: Scope): Type {
  const op = e.op;
  if (op === "and" || op === "or") {
    expect(cx, e.left, scope, T.bool, `the left side of \`${op}\``);
    expect(cx, e.right, scopeWhen(cx, scope, e.left, op === "and"), T.bool, `the right side of \`${op}\``);
    return T.bool;
  }
  const l = expr(cx, e.left, scope);
  if (op === "??") {
    const r = expr(cx, e.right, scope, stripOptional(l));
    if (l.kind === "error" || r.kind === "error") return T.error;
    const j = join(stripOptional(l), r);
    if (!j) {
      cx.diags.error("FLOW3001", e.right.span, `the default must be ${typeToString(stripOptional(l))}, found ${typeToString(r)}`);
      return T.error;
    }
    return j;
  }
  const r = expr(cx, e.right, scope, op === "==" || op === "!=" ? l : undefined);
  if (l.kind === "error" || r.kind === "error") return op === "==" || op === "!=" || op === "<" || op === "<=" || op === ">" || op === ">=" ? T.bool : T.error;
  if (op === "==" || op === "!=") {
    if (!assignable(l, r) && !assignable(r, l) && !join(l, r)) {
      cx.diags.error("FLOW3002", e.opSpan, `cannot compare ${typeToString(l)} with ${typeToString(r)}`, { hints: [mismatchHint(r, l, e.right)] });
    } else if (l.kind === "fn" || r.kind === "fn") {
      cx.diags.error("FLOW3015", e.opSpan, "functions cannot be compared");
    }
    return T.bool;
  }
  if (op === "<" || op === "<=" || op === ">" || op === ">=") {
    const nullable = isOptional(l) ? e.left : isOptional(r) ? e.right : null;
    if (nullable) {
      cx.diags.error("FLOW3004", nullable.span, `cannot order a value that may be null (${typeToString(cx.out.exprTypes.get(nullable)!)})`, {
        hints: ["check it first (`x != null and x > …`) or give a default with `??`"],
      });
      return T.bool;
    }
    if (!isComparable(l) || !isComparable(r) || (!assignable(l, r) && !assignable(r, l))) {
      cx.diags.error(isComparable(l) && isComparable(r) ? "FLOW3002" : "FLOW3015", e.opSpan, `cannot compare ${typeToString(l)} ${op} ${typeToString(r)}`);
    }
    return T.bool;
  }
  const nullable = isOptional(l) ? e.left : isOptional(r) ? e.right : null;
  if (nullable) {
    cx.diags.error("FLOW3004", nullable.span, `\`${op}\` cannot use a value that may be null (${typeToString(cx.out.exprTypes.get(nullable)!)})`, {
      hints: ["give a default with `??`, or check it with `if … != null`"],
    });
    return T.error;
  }
  const t = arith(op, l, r);
  if (!t) {
    const hint =
      op === "+" && (isPrim(l, "string") || isPrim(r, "string")) ? "to join text, convert the other side with to_string(…)"
      : isPrim(l, "timestamp") && isNumeric(r) ? "add a duration to a timestamp, e.g. `t + 5s`"
      : undefined;
    cx.diags.error("FLOW3002", e.opSpan, `cannot apply \`${op}\` to ${typeToString(l)} and ${typeToString(r)}`, { hints: [hint] });
    return T.error;
  }
  return t;
}

/** The result type of an arithmetic operator, or null when it does not apply. */
export function arith(op: string, l: Type, r: Type): Type | null {
  const p = (t: Type): string | null => (t.kind === "prim" ? t.name : null);
  const a = p(l);
  const b = p(r);
  if (a === null || b === null) return null;
  const num = (x: string): boolean => x === "int" || x === "float";
  switch (op) {
    case "+":
      if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
      if (a === "string" && b === "string") return T.string;
      if ((a === "timestamp" && b === "duration") || (a === "duration" && b === "timestamp")) return T.timestamp;
      if (a === "duration" && b === "duration") return T.duration;
      return null;
    case "-":
      if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
      if (a === "timestamp" && b === "duration") return T.timestamp;
      if (a === "timestamp" && b === "timestamp") return T.duration;
      if (a === "duration" && b === "duration") return T.duration;
      return null;
    case "*":
      if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
      if ((a === "duration" && b === "int") || (a === "int" && b === "duration")) return T.duration;
      return null;
    case "/":
      if (num(a) && num(b)) return T.float;
      return null;
    case "%":
      if (num(a) && num(b)) return a === "int" && b === "int" ? T.int : T.float;
      return null;
    default:
      return null;
  }
}

function mismatchHint(found: Type, want: Type, e: A.Expr): string | undefined {
  if (isPrim(want, "bool") && isNumeric(found)) return "compare it to get a bool, e.g. `… == 0` or `… != 0`";
  if (isPrim(want, "string") && found.kind === "prim") return "convert it with to_string(…)";
  if (isNumeric(want) && isPrim(found, "string")) return "parse it with parse_int(…) or parse_float(…)";
  if (isPrim(want, "int") && isPrim(found, "float")) return "round it with round(…), floor(…) or ceil(…)";
  if (isPrim(want, "duration") && e.kind === "Int") return `write a unit: ${e.text}s, ${e.text}ms, …`;
  if (want.kind === "record" && found.kind === "record") {
    const missing = want.fields.filter((f) => !found.fields.some((g) => g.name === f.name)).map((f) => f.name);
    const extra = found.fields.filter((f) => !want.fields.some((g) => g.name === f.name)).map((f) => f.name);
    const parts = [missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `extra ${extra.join(", ")}` : ""].filter(Boolean);
    return parts.length ? `the records differ: ${parts.join("; ")}` : undefined;
  }
  return undefined;
}
