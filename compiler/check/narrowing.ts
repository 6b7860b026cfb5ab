// Narrowing: after `x != null` (in `if`, `and`, `or`, `if … then … else`) a `T?` reads as
// `T`, for a binding or a path of fields on one. Assigning the binding undoes it.

import type * as A from "../ast.js";
import { isOptional, stripOptional, type Type } from "../types.js";
import type { CheckContext } from "./context.js";
import type { Binding } from "./model.js";
import type { Scope } from "./scope.js";

/** A path for narrowing: `12` for a binding, `12.a.b` for its fields. */
function pathOf(e: A.Expr, scope: Scope): string | null {
  if (e.kind === "Name") {
    const b = scope.lookup(e.name);
    return b ? String(b.id) : null;
  }
  if (e.kind === "Field" && !e.optional) {
    const base = pathOf(e.object, scope);
    return base ? `${base}.${e.field.name}` : null;
  }
  return null;
}

/** The narrowed type of a field path, if a null check narrowed it here. */
export function narrowedPath(e: A.Expr, scope: Scope): Type | undefined {
  const path = pathOf(e, scope);
  return path ? scope.narrowed(path) : undefined;
}

/** What is known when `cond` is true (or false): paths that are not null. */
function facts(cond: A.Expr, scope: Scope, when: boolean): Map<string, A.Expr> {
  const out = new Map<string, A.Expr>();
  if (cond.kind === "Binary") {
    if ((cond.op === "!=" || cond.op === "==") && (cond.left.kind === "Null" || cond.right.kind === "Null")) {
      const subject = cond.left.kind === "Null" ? cond.right : cond.left;
      const path = pathOf(subject, scope);
      if (path && (cond.op === "!=") === when) out.set(path, subject);
    } else if (cond.op === "and" && when) {
      for (const [k, v] of facts(cond.left, scope, true)) out.set(k, v);
      for (const [k, v] of facts(cond.right, scope, true)) out.set(k, v);
    } else if (cond.op === "or" && !when) {
      for (const [k, v] of facts(cond.left, scope, false)) out.set(k, v);
      for (const [k, v] of facts(cond.right, scope, false)) out.set(k, v);
    }
  } else if (cond.kind === "Unary" && cond.op === "not") {
    return facts(cond.operand, scope, !when);
  }
  return out;
}

function applyFacts(cx: CheckContext, scope: Scope, known: Map<string, A.Expr>): void {
  for (const [path, subject] of known) {
    const t = cx.out.exprTypes.get(subject);
    if (t && isOptional(t)) scope.narrow.set(path, stripOptional(t));
  }
}

/** A child of `scope` that knows what `cond` being `when` tells. */
export function scopeWhen(cx: CheckContext, scope: Scope, cond: A.Expr, when: boolean): Scope {
  const inner = scope.child();
  applyFacts(cx, inner, facts(cond, scope, when));
  return inner;
}

/** The type a binding has here, after narrowing. */
export function readType(b: Binding, scope: Scope): Type {
  return scope.narrowed(String(b.id)) ?? b.type;
}

export function setNarrowing(scope: Scope, b: Binding, t: Type | null): void {
  scope.narrow.set(String(b.id), t);
  for (let s: Scope | null = scope; s; s = s.parent) {
    for (const k of s.narrow.keys()) if (k.startsWith(`${b.id}.`)) scope.narrow.set(k, null);
  }
}
