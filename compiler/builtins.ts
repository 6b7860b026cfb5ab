// The built-in functions and aggregate functions (section 5) and their signatures.
// `check` asks `resolveBuiltin` for a call's result type; `emit` maps each name to code.

import { T, assignable, isComparable, isNumeric, isOptional, isPrim, join, stripOptional, typeToString, type Type } from "./types.js";

export const BUILTINS = [
  "len", "lower", "upper", "trim", "contains", "starts_with", "ends_with", "substr", "split",
  "abs", "round", "floor", "ceil", "min", "max", "to_string", "parse_int", "parse_float",
  "hash", "coalesce", "sqrt", "pow", "exp", "ln", "log10", "sign",
] as const;
export type BuiltinName = (typeof BUILTINS)[number];

/** The built-ins that compute with numbers: the hint for an unknown maths function lists them. */
export const NUMERIC_BUILTINS: readonly BuiltinName[] = ["abs", "round", "floor", "ceil", "min", "max", "sqrt", "pow", "exp", "ln", "log10", "sign"];

export const AGGREGATES = ["count", "sum", "avg", "min", "max", "first", "last", "count_distinct", "collect", "top"] as const;
export type AggName = (typeof AGGREGATES)[number];

export function isBuiltin(name: string): name is BuiltinName {
  return (BUILTINS as readonly string[]).includes(name);
}

export function isAggregate(name: string): name is AggName {
  return (AGGREGATES as readonly string[]).includes(name);
}

/** How many positional arguments an aggregate takes (min and max also name 2-argument built-ins). */
export const AGG_ARITY: Record<AggName, number> = {
  count: 0, sum: 1, avg: 1, min: 1, max: 1, first: 1, last: 1, count_distinct: 1, collect: 1, top: 2,
};

export const SIGNATURES: Record<BuiltinName, string> = {
  len: "len(string | list<T> | map<K, V>): int",
  lower: "lower(string): string",
  upper: "upper(string): string",
  trim: "trim(string): string",
  contains: "contains(string, string): bool  or  contains(list<T>, T): bool",
  starts_with: "starts_with(string, string): bool",
  ends_with: "ends_with(string, string): bool",
  substr: "substr(string, start: int, length?: int): string",
  split: "split(string, separator: string): list<string>",
  abs: "abs(int | float | duration): same type",
  round: "round(float): int",
  floor: "floor(float): int",
  ceil: "ceil(float): int",
  min: "min(a, b): the smaller of two values of one type",
  max: "max(a, b): the larger of two values of one type",
  to_string: "to_string(any): string",
  parse_int: "parse_int(string): int?",
  parse_float: "parse_float(string): float?",
  hash: "hash(any): int",
  coalesce: "coalesce(a?, b?, …, z): the first non-null argument",
  sqrt: "sqrt(float): float",
  pow: "pow(x: float, y: float): float",
  exp: "exp(float): float",
  ln: "ln(float): float (the natural logarithm)",
  log10: "log10(float): float",
  sign: "sign(float): float (-1.0, 0.0 or 1.0)",
};

/** A problem with one argument (index) or with the call as a whole (-1). */
export interface ArgProblem {
  arg: number;
  message: string;
  code: "FLOW3001" | "FLOW3003" | "FLOW3004" | "FLOW3015";
}

export type BuiltinResult = { ok: true; type: Type } | { ok: false; problem: ArgProblem };

const fail = (arg: number, message: string, code: ArgProblem["code"] = "FLOW3001"): BuiltinResult => ({ ok: false, problem: { arg, message, code } });
const ok = (type: Type): BuiltinResult => ({ ok: true, type });

function arity(args: Type[], min: number, max = min): BuiltinResult | null {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} or ${max}`;
    return fail(-1, `expected ${want} argument${min === 1 && max === 1 ? "" : "s"}, found ${args.length}`, "FLOW3003");
  }
  return null;
}

/** Checks that argument i fits `want`, with the "may be null" case told apart. */
function want(args: Type[], i: number, wantType: Type): BuiltinResult | null {
  const t = args[i]!;
  if (assignable(t, wantType)) return null;
  if (isOptional(t) && assignable(stripOptional(t), wantType)) return fail(i, `expected ${typeToString(wantType)}, found ${typeToString(t)} (the value may be null)`, "FLOW3004");
  return fail(i, `expected ${typeToString(wantType)}, found ${typeToString(t)}`);
}

export function resolveBuiltin(name: BuiltinName, args: Type[]): BuiltinResult {
  switch (name) {
    case "len": {
      const a = arity(args, 1);
      if (a) return a;
      const t = args[0]!;
      if (t.kind === "error" || isPrim(t, "string") || t.kind === "list" || t.kind === "map") return ok(T.int);
      if (isOptional(t)) return fail(0, `expected a string, list or map, found ${typeToString(t)} (the value may be null)`, "FLOW3004");
      return fail(0, `expected a string, list or map, found ${typeToString(t)}`);
    }
    case "lower":
    case "upper":
    case "trim":
      return arity(args, 1) ?? want(args, 0, T.string) ?? ok(T.string);
    case "starts_with":
    case "ends_with":
      return arity(args, 2) ?? want(args, 0, T.string) ?? want(args, 1, T.string) ?? ok(T.bool);
    case "contains": {
      const a = arity(args, 2);
      if (a) return a;
      const t = args[0]!;
      if (t.kind === "list") return want(args, 1, t.elem.kind === "never" ? args[1]! : t.elem) ?? ok(T.bool);
      return want(args, 0, T.string) ?? want(args, 1, T.string) ?? ok(T.bool);
    }
    case "substr":
      return arity(args, 2, 3) ?? want(args, 0, T.string) ?? want(args, 1, T.int) ?? (args.length === 3 ? want(args, 2, T.int) : null) ?? ok(T.string);
    case "split":
      return arity(args, 2) ?? want(args, 0, T.string) ?? want(args, 1, T.string) ?? ok(T.list(T.string));
    case "abs": {
      const a = arity(args, 1);
      if (a) return a;
      const t = args[0]!;
      if (t.kind === "error" || isNumeric(t) || isPrim(t, "duration")) return ok(t);
      return fail(0, `expected int, float or duration, found ${typeToString(t)}`, isOptional(t) ? "FLOW3004" : "FLOW3001");
    }
    case "round":
    case "floor":
    case "ceil":
      return arity(args, 1) ?? want(args, 0, T.float) ?? ok(T.int);
    case "min":
    case "max": {
      const a = arity(args, 2);
      if (a) return a;
      for (let i = 0; i < 2; i++) {
        if (isOptional(args[i]!)) return fail(i, `expected a value, found ${typeToString(args[i]!)} (the value may be null)`, "FLOW3004");
        if (!isComparable(args[i]!)) return fail(i, `${name} compares numbers, strings, timestamps or durations, found ${typeToString(args[i]!)}`, "FLOW3015");
      }
      const j = join(args[0]!, args[1]!);
      if (!j || j.kind === "optional") return fail(1, `expected ${typeToString(args[0]!)}, found ${typeToString(args[1]!)}`);
      return ok(j);
    }
    case "to_string":
      return arity(args, 1) ?? ok(T.string);
    case "parse_int":
      return arity(args, 1) ?? want(args, 0, T.string) ?? ok(T.optional(T.int));
    case "parse_float":
      return arity(args, 1) ?? want(args, 0, T.string) ?? ok(T.optional(T.float));
    case "hash":
      return arity(args, 1) ?? ok(T.int);
    case "sqrt":
    case "exp":
    case "ln":
    case "log10":
    case "sign":
      return arity(args, 1) ?? want(args, 0, T.float) ?? ok(T.float);
    case "pow":
      return arity(args, 2) ?? want(args, 0, T.float) ?? want(args, 1, T.float) ?? ok(T.float);
    case "coalesce": {
      const a = arity(args, 2, Infinity);
      if (a) return a;
      let acc: Type = stripOptional(args[0]!);
      for (let i = 1; i < args.length; i++) {
        const j = join(acc, stripOptional(args[i]!));
        if (!j) return fail(i, `expected ${typeToString(acc)}, found ${typeToString(args[i]!)}`);
        acc = j;
      }
      const last = args[args.length - 1]!;
      return ok(isOptional(last) ? T.optional(acc) : acc);
    }
  }
}
