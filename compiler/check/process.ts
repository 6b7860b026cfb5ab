// Process blocks: states (with ttl), the body's statements, `on timer`, and the type of what
// they emit. Statements return the bindings they assign, so that narrowing is undone where
// a branch or loop may have changed them.

import * as A from "../ast.js";
import { T, assignable, isNumeric, isOptional, isPrim, join, stripOptional, typeToString, type Type } from "../types.js";
import { local, newBindingId, type CheckContext } from "./context.js";
import { arith, expect, expr, unknownName, valueType } from "./expr.js";
import type { Binding, LocalBinding, StageInfo, StateBinding, StreamType } from "./model.js";
import { readType, scopeWhen, setNarrowing } from "./narrowing.js";
import { Scope, stageScope } from "./scope.js";
import { durationArg, needsTime } from "./time.js";
import { resolveType } from "./type-exprs.js";

export function checkProcess(cx: CheckContext, s: A.ProcessStage, input: StreamType): StageInfo {
  if (!input.key) {
    cx.diags.error("FLOW4009", s.keyword, "process needs a keyed stream", {
      hints: ["put `|> key_by(x => …)` before it, so that state is kept per key"],
    });
  }
  // `key` and the states are seen by the body and by `on timer`; the element only by the body.
  const { scope, key } = stageScope(cx, input);
  const param = local(cx, s.param, input.elem, "param", false);
  const states: StateBinding[] = [];
  const ttl = new Map<string, number>();
  for (const st of s.states) {
    const type = resolveType(cx, st.type);
    const prev = scope.vars.get(st.name.name);
    if (prev) {
      cx.diags.error("FLOW2002", st.name.span, `\`${st.name.name}\` is already declared in this block`, {
        notes: prev.kind === "key" ? [] : [{ message: "first declared here", span: prev.span }],
      });
      continue;
    }
    expect(cx, st.init, new Scope(null), type, `the initial value of \`${st.name.name}\``);
    if (st.ttl) {
      const ms = durationArg(cx, st.ttl, "ttl", false);
      needsTime(cx, input, st.ttl.span, "state `ttl`");
      if (ms !== null) ttl.set(st.name.name, ms);
    }
    const b: StateBinding = { kind: "state", id: newBindingId(cx), name: st.name.name, type, span: st.name.span, decl: st };
    scope.vars.set(b.name, b);
    states.push(b);
  }
  for (const extra of s.extraTimers) cx.diags.error("FLOW4011", extra.span, "a process block has at most one `on timer`", { notes: [{ message: "the first one", span: s.onTimer!.span }] });
  const body = scope.child();
  body.process = { emits: [], time: input.time };
  if (scope.vars.has(param.name)) {
    cx.diags.error("FLOW2002", s.param.span, `\`${param.name}\` is already the name of a state or the key`);
  }
  body.vars.set(param.name, param);
  stmts(cx, s.body, body);
  let timerParam: LocalBinding | null = null;
  if (s.onTimer) {
    const timerScope = scope.child();
    timerScope.process = body.process;
    timerParam = local(cx, s.onTimer.param, T.timestamp, "param", false);
    timerScope.vars.set(timerParam.name, timerParam);
    stmts(cx, s.onTimer.body, timerScope);
    needsTime(cx, input, s.onTimer.span, "`on timer`");
  }
  const emits = body.process.emits;
  let out: Type | null = null;
  if (emits.length === 0) {
    cx.diags.error("FLOW3010", s.keyword, "this process block never emits", { hints: ["add `emit <value>` where it should produce output"] });
    out = T.error;
  } else {
    out = emits[0]!.type;
    for (const e of emits.slice(1)) {
      const j = join(out, e.type);
      if (!j) {
        cx.diags.error("FLOW3008", e.span, `this emit produces ${typeToString(e.type)}, but an earlier one produces ${typeToString(out)}`, {
          notes: [{ message: `the first emit, ${typeToString(emits[0]!.type)}`, span: emits[0]!.span }],
          hints: ["all emits of a block must produce the same type"],
        });
        break;
      }
      out = j;
    }
  }
  const timers = s.onTimer !== null || containsTimer(s.body);
  return { kind: "process", stage: s, param, states, timers, timerParam, ttl, input, output: { ...input, elem: out }, key };
}

function stmts(cx: CheckContext, list: A.Stmt[], scope: Scope): Set<Binding> {
  const assigned = new Set<Binding>();
  for (const st of list) for (const b of stmt(cx, st, scope)) assigned.add(b);
  return assigned;
}

/** Checks one statement; returns the bindings it (or a nested block) assigns. */
function stmt(cx: CheckContext, st: A.Stmt, scope: Scope): Set<Binding> {
  const none = new Set<Binding>();
  switch (st.kind) {
    case "LetStmt": {
      const declared = st.type ? resolveType(cx, st.type) : null;
      const t = declared ? expect(cx, st.value, scope, declared, `\`${st.name.name}\``) : expr(cx, st.value, scope);
      const existing = scope.lookup(st.name.name);
      if (existing) {
        cx.diags.error("FLOW2002", st.name.span, `\`${st.name.name}\` is already declared`, {
          notes: existing.kind === "key" ? [] : [{ message: "first declared here", span: existing.span }],
          hints: [existing.kind === "state" ? `assign the state with \`${st.name.name} = …\`` : "pick another name"],
        });
      }
      const b = local(cx, st.name, declared ?? valueType(cx, t, st.value, `\`${st.name.name}\``), "let", true);
      scope.vars.set(b.name, b);
      cx.out.declared.set(st, b);
      return none;
    }
    case "AssignStmt": {
      const b = scope.lookup(st.target.name.name);
      if (!b) {
        unknownName(cx, st.target.name.name, st.target.name.span, scope);
        expr(cx, st.value, scope);
        return none;
      }
      if (b.kind === "key" || (b.kind === "local" && !b.mutable)) {
        cx.diags.error("FLOW3009", st.target.name.span, `cannot assign to \`${b.name}\`: ${b.kind === "key" ? "the key is fixed" : b.role === "for" ? "it is a loop variable" : "it is a parameter"}`, {
          hints: ["declare `state` for values kept per key, or `let` for a local"],
        });
        expr(cx, st.value, scope);
        return none;
      }
      cx.out.targets.set(st, b);
      if (st.target.kind === "IndexTarget") {
        if (b.type.kind !== "map") {
          if (b.type.kind !== "error") cx.diags.error("FLOW3009", st.target.span, `only map entries can be assigned by index; \`${b.name}\` is ${typeToString(b.type)}`);
          expr(cx, st.target.index, scope);
          expr(cx, st.value, scope);
          return none;
        }
        expect(cx, st.target.index, scope, b.type.key, "a map key");
        if (st.op === "=") expect(cx, st.value, scope, b.type.value, `a value of \`${b.name}\``);
        else compound(cx, st, b.type.value, scope, true);
        return new Set([b]);
      }
      if (st.op === "=") {
        const t = expect(cx, st.value, scope, b.type, `\`${b.name}\``);
        setNarrowing(scope, b, isOptional(b.type) && !isOptional(t) && t.kind !== "error" ? stripOptional(b.type) : null);
      } else {
        const cur = readType(b, scope);
        if (isOptional(cur)) {
          cx.diags.error("FLOW3004", st.target.span, `\`${b.name}\` may be null, so \`${st.op}\` cannot apply to it`, { hints: [`check it first: \`if ${b.name} != null { … }\`, or assign \`${b.name} = (${b.name} ?? 0) ${st.op[0]} …\``] });
          expr(cx, st.value, scope);
        } else compound(cx, st, cur, scope, false);
      }
      return new Set([b]);
    }
    case "IfStmt": {
      expect(cx, st.cond, scope, T.bool, "an if condition");
      const assigned = stmts(cx, st.then, scopeWhen(cx, scope, st.cond, true));
      if (st.else) {
        for (const b of stmts(cx, st.else, scopeWhen(cx, scope, st.cond, false))) assigned.add(b);
      }
      for (const b of assigned) setNarrowing(scope, b, null);
      return assigned;
    }
    case "ForStmt": {
      const t = expr(cx, st.iterable, scope);
      let elem: Type = T.error;
      if (t.kind === "list") elem = t.elem;
      else if (t.kind === "map") elem = t.key;
      else if (t.kind !== "error") {
        cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3001", st.iterable.span, `for … in needs a list or a map, found ${typeToString(t)}`);
      }
      const inner = scope.child();
      const b = local(cx, st.name, elem, "for", false);
      inner.vars.set(b.name, b);
      cx.out.declared.set(st, b);
      const assigned = stmts(cx, st.body, inner);
      for (const a of assigned) setNarrowing(scope, a, null);
      return assigned;
    }
    case "EmitStmt": {
      const t = expr(cx, st.value, scope);
      if (!scope.process) return none;
      scope.process.emits.push({ type: valueType(cx, t, st.value, "an emitted value"), span: st.value.span });
      return none;
    }
    case "TimerStmt":
      expect(cx, st.at, scope, T.timestamp, "a timer's time");
      if (scope.process && !scope.process.time) {
        cx.diags.error("FLOW4012", st.span, "timers fire in event time, and this stream has none", { hints: ["declare event time on the source: `event_time(x => x.ts) watermark 5s`"] });
      }
      return none;
    case "ClearStmt": {
      const b = scope.lookup(st.name.name);
      if (!b) unknownName(cx, st.name.name, st.name.span, scope);
      else if (b.kind !== "state") cx.diags.error("FLOW3009", st.name.span, `\`clear\` resets state, and \`${b.name}\` is not state`);
      else {
        cx.out.targets.set(st, b);
        setNarrowing(scope, b, null);
        return new Set([b]);
      }
      return none;
    }
    case "DeleteStmt": {
      const b = scope.lookup(st.name.name);
      if (!b) {
        unknownName(cx, st.name.name, st.name.span, scope);
        return none;
      }
      if (b.type.kind !== "map") {
        if (b.type.kind !== "error") cx.diags.error("FLOW3001", st.name.span, `\`delete\` removes a map entry, and \`${b.name}\` is ${typeToString(b.type)}`);
        return none;
      }
      if (b.kind === "key" || (b.kind === "local" && !b.mutable)) {
        cx.diags.error("FLOW3009", st.name.span, `cannot change \`${b.name}\``);
        return none;
      }
      cx.out.targets.set(st, b);
      expect(cx, st.index, scope, b.type.key, "a map key");
      return new Set([b]);
    }
    case "ExprStmt": {
      const e = st.expr;
      if (e.kind === "Call" && e.callee.kind === "Field" && e.callee.field.name === "push" && e.callee.object.kind === "Name") {
        const b = scope.lookup(e.callee.object.name);
        if (!b) {
          unknownName(cx, e.callee.object.name, e.callee.object.span, scope);
          return none;
        }
        if (b.type.kind !== "list") {
          if (b.type.kind !== "error") cx.diags.error("FLOW3001", e.callee.object.span, `\`push\` adds to a list, and \`${b.name}\` is ${typeToString(b.type)}`);
          return none;
        }
        if (b.kind === "key" || (b.kind === "local" && !b.mutable)) {
          cx.diags.error("FLOW3009", e.callee.object.span, `cannot change \`${b.name}\`: ${b.kind === "local" ? "it is a parameter" : "the key is fixed"}`);
          return none;
        }
        if (e.args.length !== 1 || e.args[0]!.name) {
          cx.diags.error("FLOW3003", e.span, `push takes one value, found ${e.args.length}`);
          return none;
        }
        cx.out.calls.set(e, { kind: "push", target: b });
        expect(cx, e.args[0]!.value, scope, b.type.elem, `an element of \`${b.name}\``);
        return new Set([b]);
      }
      expr(cx, e, scope);
      cx.diags.error("FLOW3014", e.span, "this expression is computed and then thrown away", {
        hints: [e.kind === "Binary" && e.op === "==" ? "to assign, write `=`" : "use `emit` to output it, or `let` to keep it"],
      });
      return none;
    }
    default:
      return A.assertNever(st, "statement");
  }
}

/** `x += e` / `m[k] += e`: the result of `x + e` must fit x. */
function compound(cx: CheckContext, st: A.AssignStmt, cur: Type, scope: Scope, indexed: boolean): void {
  const op = st.op === "+=" ? "+" : "-";
  const vt = expr(cx, st.value, scope);
  if (indexed && isOptional(cur)) {
    cx.diags.error("FLOW3004", st.target.span, `the map's values may be null, so \`${st.op}\` cannot add to them`);
    return;
  }
  if (indexed && !(isNumeric(cur) || isPrim(cur, "duration") || isPrim(cur, "string"))) {
    cx.diags.error("FLOW3002", st.target.span, `\`${st.op}\` needs a number, duration or string, found ${typeToString(cur)}`);
    return;
  }
  const result = arith(op, cur, vt);
  if (!result) {
    cx.diags.error("FLOW3002", st.span, `cannot apply \`${st.op}\` to ${typeToString(cur)} and ${typeToString(vt)}`);
    return;
  }
  if (!assignable(result, cur)) {
    cx.diags.error("FLOW3001", st.value.span, `\`${st.op}\` would make it ${typeToString(result)}, but it is ${typeToString(cur)}`);
  }
}

/** Whether statements set a timer (`timer at …`), in nested blocks too. */
function containsTimer(list: A.Stmt[]): boolean {
  return list.some((st) => st.kind === "TimerStmt" || (st.kind === "IfStmt" && (containsTimer(st.then) || containsTimer(st.else ?? []))) || (st.kind === "ForStmt" && containsTimer(st.body)));
}
