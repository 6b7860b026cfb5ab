// `join a as x, b? as y on x.k == y.k [within d | window w | as of x] select …`: the two
// sides (a `?` makes one optional: an outer join), the key (equalities between the sides,
// joined with `and`), the bound in event time or the temporal join's probe side, and the
// joined stream's type.

import type * as A from "../ast.js";
import { T, isKeyType, isOptional, typeToString, type Type } from "../types.js";
import { local, type CheckContext } from "./context.js";
import { expect, expr, valueType } from "./expr.js";
import type { JoinInfo, StreamType } from "./model.js";
import { Scope } from "./scope.js";
import { durationArg, needsTime, notWindowed, windowSpec } from "./time.js";

export function checkJoin(cx: CheckContext, j: A.Join): JoinInfo {
  const left = cx.streamOf(j.left.stream.name, j.left.stream.span);
  const right = cx.streamOf(j.right.stream.name, j.right.stream.span);
  notWindowed(cx, left, j.left.stream.span, "a join");
  notWindowed(cx, right, j.right.stream.span, "a join");
  // `on` sees each side's element; `select` sees an optional side as `T?`.
  const scope = new Scope(null);
  const a = local(cx, j.left.alias, left.elem, "param", false);
  const b = local(cx, j.right.alias, right.elem, "param", false);
  const optional: [boolean, boolean] = [j.left.optional === true, j.right.optional === true];
  const aSel = optional[0] ? local(cx, j.left.alias, T.optional(left.elem), "param", false) : a;
  const bSel = optional[1] ? local(cx, j.right.alias, T.optional(right.elem), "param", false) : b;
  const selectScope = new Scope(null);
  scope.vars.set(a.name, a);
  selectScope.vars.set(aSel.name, aSel);
  if (a.name === b.name) cx.diags.error("FLOW2002", j.right.alias.span, `both sides of the join are called \`${a.name}\``, { hints: ["give each side its own alias"] });
  else {
    scope.vars.set(b.name, b);
    selectScope.vars.set(bSel.name, bSel);
  }
  // on: equalities between the two sides, joined with `and` (a compound key).
  const conjuncts: A.Expr[] = [];
  const split = (e: A.Expr): void => {
    if (e.kind === "Binary" && e.op === "and") {
      split(e.left);
      split(e.right);
    } else conjuncts.push(e);
  };
  split(j.on);
  expect(cx, j.on, scope, T.bool, "a join condition");
  const sideOf = (e: A.Expr): Set<number> => {
    const ids = new Set<number>();
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === "object") {
        const node = x as A.Expr;
        if (node.kind === "Name") {
          const bnd = cx.out.names.get(node);
          if (bnd) ids.add(bnd.id);
        }
        for (const [k, v] of Object.entries(x)) if (k !== "span") walk(v);
      }
    };
    walk(e);
    return ids;
  };
  for (const c of conjuncts) {
    const ok = c.kind === "Binary" && c.op === "==" && (() => {
      const l = sideOf(c.left);
      const r = sideOf(c.right);
      const one = (x: Set<number>, id: number): boolean => x.size === 1 && x.has(id);
      return (one(l, a.id) && one(r, b.id)) || (one(l, b.id) && one(r, a.id));
    })();
    if (!ok) {
      cx.diags.error("FLOW3016", c.span, "a join condition is an equality between the two sides, or several joined with `and`", {
        hints: [`write it as \`${a.name}.field == ${b.name}.field\``, "filter the joined stream for other conditions"],
      });
    } else {
      const t = cx.out.exprTypes.get((c as A.ExprOf<"Binary">).left);
      if (t && !isKeyType(t)) cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3011", c.span, `join keys must be primitives, found ${typeToString(t)}`);
    }
  }
  let time = left.time && right.time;
  let temporal: JoinInfo["temporal"] = null;
  const outer = optional[0] || optional[1];
  if (j.bound?.kind === "Within") {
    durationArg(cx, j.bound.duration, "within", false);
    if (!left.time) needsTime(cx, left, j.left.span, "an interval join");
    else if (!right.time) needsTime(cx, right, j.right.span, "an interval join");
  } else if (j.bound?.kind === "JoinWindow") {
    if (!left.time) needsTime(cx, left, j.left.span, "a window join");
    else if (!right.time) needsTime(cx, right, j.right.span, "a window join");
  } else if (j.bound?.kind === "AsOf") {
    temporal = temporalProbe(cx, j, j.bound, a.name, b.name, optional);
    // Versions at the probe's event time when both sides have event time; otherwise the latest
    // version that arrived before the probe (the result carries the probe's time, if it has one).
    if (temporal) temporal.eventTime = left.time && right.time;
    time = temporal?.eventTime || (temporal?.probe === 1 ? right.time : left.time);
  } else if (outer) {
    const side = optional[0] ? j.left : j.right;
    cx.diags.error("FLOW4015", side.span, "an outer join needs `within` or a window: it emits an element without a partner once it can no longer match, and without a bound that is never", {
      hints: ["bound it in event time: `… within 1h select …`, or per window: `… window tumbling(1m) select …`", "to join each element with the current version of a table, or null: `… as of x` (a temporal join)"],
    });
    time = false;
  } else {
    cx.diags.warning("FLOW4013", j.span, "this join keeps every element of both sides forever", {
      hints: [
        "bound it in event time with `within 1h`, or join per window with `window tumbling(…)`",
        `to join each element with the current version of the other side (a table), write a temporal join: \`… as of ${a.name}\``,
        "if keeping everything is intended (a small, fixed table), say so with `// allow FLOW4013` on the line before",
      ],
    });
    time = false;
  }
  const t = expr(cx, j.select, selectScope);
  const elem = valueType(cx, t, j.select, "the result of the join");
  // The compound key, each equality oriented (left side, right side).
  const keys: JoinInfo["keys"] = [];
  for (const c of conjuncts) {
    if (c.kind !== "Binary" || c.op !== "==") continue;
    const leftFirst = sideOf(c.left).has(a.id);
    keys.push(leftFirst ? { left: c.left, right: c.right } : { left: c.right, right: c.left });
  }
  const keyTypes = keys.map((k) => cx.out.exprTypes.get(k.left) ?? T.error);
  const keyType: Type = keyTypes.length === 1 ? keyTypes[0]! : { kind: "record", fields: keyTypes.map((kt, i) => ({ name: `k${i}`, type: kt })) };
  let spec: JoinInfo["spec"] = { kind: "unbounded", within: 0, window: null };
  if (j.bound?.kind === "Within") spec = { kind: "interval", within: j.bound.duration.kind === "Duration" ? j.bound.duration.ms : 0, window: null };
  else if (j.bound?.kind === "JoinWindow") {
    const w = windowSpec(cx, j.bound.spec);
    // (Without `counts`, windowSpec gives time windows only.)
    spec = { kind: "window", within: 0, window: w && w.kind !== "count" ? { kind: w.kind, size: w.size, every: w.every } : null };
  } else if (j.bound?.kind === "AsOf") spec = { kind: "temporal", within: 0, window: null };
  // An outer join emits the unmatched elements of the side whose partner is optional.
  if (outer && spec.kind !== "temporal") spec.unmatched = [optional[1], optional[0]];
  const output: StreamType = { elem, key: null, time, window: null };
  return { join: j, left: j.left.stream.name, right: j.right.stream.name, leftAlias: aSel, rightAlias: bSel, leftElem: a, rightElem: b, keys, keyType, spec, temporal, output };
}

/** `as of x`: x names one side, the probe, which is not optional. */
function temporalProbe(cx: CheckContext, j: A.Join, bound: { probe: A.Ident }, left: string, right: string, optional: [boolean, boolean]): JoinInfo["temporal"] {
  const name = bound.probe.name;
  if (name !== left && name !== right) {
    cx.diags.error("FLOW4016", bound.probe.span, `\`as of\` names the side whose elements look up a version: \`${left}\` or \`${right}\`, not \`${name}\``, {
      hints: [`write \`as of ${left}\` to join each \`${left}\` with the \`${right}\` current at its time`],
    });
    return null;
  }
  const probe: 0 | 1 = name === left ? 0 : 1;
  if (optional[probe]) {
    const side = probe === 0 ? j.left : j.right;
    cx.diags.error("FLOW4016", side.span, `the probe side of a temporal join (\`as of ${name}\`) cannot be optional: each of its elements gives one result, or none`, {
      hints: [`to keep \`${name}\`s without a version, make the other side optional: \`${probe === 0 ? j.right.stream.name : j.left.stream.name}? as ${probe === 0 ? right : left}\``],
    });
  }
  return { probe, eventTime: false };
}
