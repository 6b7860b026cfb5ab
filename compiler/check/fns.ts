// `fn` helpers: their signatures, their bodies against the declared result, and no
// recursion (FLOW2009).

import type * as A from "../ast.js";
import { local, type CheckContext } from "./context.js";
import { expect } from "./expr.js";
import type { LocalBinding } from "./model.js";
import { Scope } from "./scope.js";
import { resolveType } from "./type-exprs.js";

export function checkFn(cx: CheckContext, d: A.FnDecl): void {
  const scope = new Scope(null);
  const params: LocalBinding[] = [];
  for (const p of d.params) {
    if (scope.vars.has(p.name.name)) {
      cx.diags.error("FLOW2002", p.name.span, `parameter \`${p.name.name}\` is declared twice`);
      continue;
    }
    const b = local(cx, p.name, resolveType(cx, p.type), "fnParam", false);
    scope.vars.set(p.name.name, b);
    params.push(b);
  }
  const result = resolveType(cx, d.result);
  // Record the signature before the body, so calls from other helpers type-check.
  cx.out.fns.set(d.name.name, { name: d.name.name, decl: d, params, result });
  cx.currentFn = d.name.name;
  cx.fnCalls.set(d.name.name, new Set());
  expect(cx, d.body, scope, result, `the result of \`${d.name.name}\``);
  cx.currentFn = null;
}

export function checkRecursion(cx: CheckContext): void {
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = path.slice(path.indexOf(name));
      const d = cx.out.fns.get(name)!.decl;
      cx.diags.error("FLOW2009", d.name.span, cycle.length === 1 ? `\`${name}\` calls itself` : `\`${name}\` calls itself through ${cycle.slice(1).map((n) => `\`${n}\``).join(" → ")}`, {
        hints: ["`fn` helpers are not recursive: write the computation without recursion"],
      });
      return;
    }
    state.set(name, "visiting");
    for (const callee of cx.fnCalls.get(name) ?? []) visit(callee, [...path, name]);
    state.set(name, "done");
  };
  for (const name of cx.fnCalls.keys()) visit(name, []);
}
