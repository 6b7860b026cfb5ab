// Pipeline stages: each stage's lambda checked against its input stream, and the stream it
// gives. Which stages exist, which keep state and which need event time come from the
// stage table (compiler/stages.ts).

import type * as A from "../ast.js";
import { didYouMean } from "../suggest.js";
import { STAGE_NAMES, stageSpec, type StageName } from "../stages.js";
import { T, assignable, isKeyType, isOptional, typeToString, type Type } from "../types.js";
import { local, newBindingId, type CheckContext } from "./context.js";
import { expect, expr, nameAccumulators, valueType } from "./expr.js";
import type { LocalBinding, StageInfo, StreamType } from "./model.js";
import { checkProcess } from "./process.js";
import { stageScope } from "./scope.js";
import { checkWindowStage, durationArg, needsTime, notWindowed } from "./time.js";

/** `window` inside a windowed aggregate. */
const WINDOW_RECORD: Type = { kind: "record", name: "window", fields: [{ name: "start", type: T.timestamp }, { name: "end", type: T.timestamp }] };

export function checkStage(cx: CheckContext, s: A.Stage, input: StreamType): StageInfo {
  if (input.window && !(s.kind === "CallStage" && s.name.name === "aggregate")) {
    cx.diags.error("FLOW4010", s.kind === "ProcessStage" ? s.keyword : s.name.span, "`window(…)` must be followed by `aggregate(…)`", {
      hints: ["a window groups elements; aggregate says what to compute per window"],
    });
    input = { ...input, window: null };
  }
  if (s.kind === "ProcessStage") return checkProcess(cx, s, input);
  const spec = stageSpec(s.name.name);
  // `process` is a keyword: never the name of a call stage.
  if (!spec || spec.name === "process") {
    const name = s.name.name;
    cx.diags.error("FLOW2005", s.name.span, `unknown stage \`${name}\``, {
      hints: [didYouMean(name, STAGE_NAMES), `the stages are ${STAGE_NAMES.join(", ")}`],
    });
    return { kind: "invalid", stage: s, input, output: { ...input, elem: T.error, window: null }, key: null };
  }
  const info = checkCallStage(cx, s, spec.name, input);
  // Count windows count elements in arrival order: they need no event time.
  const counts = info.kind === "window" && info.window.kind === "count";
  if (spec.eventTime !== null && info.kind !== "invalid" && !counts) needsTime(cx, input, s.name.span, spec.eventTime);
  return info;
}

function checkCallStage(cx: CheckContext, s: A.CallStage, name: Exclude<StageName, "process">, input: StreamType): StageInfo {
  const invalid = (output: StreamType = { ...input, elem: T.error, window: null }): StageInfo => ({ kind: "invalid", stage: s, input, output, key: null });
  const requireNoUid = (): void => {
    if (s.uid) cx.diags.error("FLOW4010", s.uid.span, `\`as\` names a stateful stage, and ${name} keeps no state`, { hints: ["remove `as " + s.uid.name + "`"] });
  };
  switch (name) {
    case "filter":
    case "map":
    case "flat_map":
    case "key_by": {
      requireNoUid();
      const lambda = lambdaArg(cx, s, 1, "x => …");
      if (!lambda) return invalid(name === "filter" ? input : undefined);
      const { scope, key } = stageScope(cx, input);
      const param = local(cx, lambda.params[0]!, input.elem, "param", false);
      scope.vars.set(param.name, param);
      let output: StreamType;
      if (name === "filter") {
        expect(cx, lambda.body, scope, T.bool, "a filter condition");
        output = input;
      } else if (name === "map") {
        const t = expr(cx, lambda.body, scope);
        output = { ...input, elem: valueType(cx, t, lambda.body, "the result of map") };
      } else if (name === "flat_map") {
        const t = expr(cx, lambda.body, scope);
        let elem: Type = T.error;
        if (t.kind === "list") elem = valueType(cx, t.elem, lambda.body, "the elements of flat_map");
        else if (t.kind !== "error") {
          cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3001", lambda.body.span, `flat_map needs a list, found ${typeToString(t)}`, {
            hints: [isOptional(t) ? "give a default: `… ?? []`" : "return a list, e.g. `x => [x]` or `x => split(x, \" \")`; use map for one result per element"],
          });
        }
        output = { ...input, elem };
      } else {
        const t = expr(cx, lambda.body, scope);
        if (!isKeyType(t)) {
          cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3011", lambda.body.span, `a key must be a primitive or a record of primitives, found ${typeToString(t)}`, {
            hints: [isOptional(t) ? "keys cannot be null: give a default with `??`" : "key by a field, e.g. `key_by(x => x.id)`, or by a record of fields `{ a: x.a, b: x.b }`"],
          });
        }
        output = { ...input, key: isKeyType(t) ? t : T.error };
      }
      return { kind: name, stage: s, lambda, param, input, output, key };
    }
    case "aggregate": {
      const lambda = lambdaArg(cx, s, 1, "x => …");
      if (!lambda) return invalid();
      const { scope, key } = stageScope(cx, input);
      const param = local(cx, lambda.params[0]!, input.elem, "element", false);
      scope.vars.set(param.name, param);
      scope.aggMode = "top";
      scope.aggCalls = [];
      scope.aggElement = param;
      scope.aggRecord = lambda.body.kind === "Record" ? lambda.body : null;
      let windowBinding: LocalBinding | null = null;
      if (input.window?.kind === "count") scope.countWindow = true;
      else if (input.window) {
        windowBinding = { kind: "local", id: newBindingId(cx), name: "window", type: WINDOW_RECORD, mutable: false, span: s.name.span, role: "param" };
        scope.vars.set("window", windowBinding);
      }
      const t = expr(cx, lambda.body, scope);
      const elem = valueType(cx, t, lambda.body, "the result of aggregate");
      return { kind: "aggregate", stage: s, lambda, param, aggs: nameAccumulators(scope.aggCalls), window: input.window, windowBinding, input, output: { ...input, elem, window: null }, key };
    }
    case "reduce": {
      const lambda = lambdaArg(cx, s, 2, "(acc, x) => …");
      if (!lambda) return invalid(input);
      const { scope, key } = stageScope(cx, input);
      const acc = local(cx, lambda.params[0]!, input.elem, "param", false);
      const param = local(cx, lambda.params[1]!, input.elem, "param", false);
      if (acc.name === param.name) cx.diags.error("FLOW2002", lambda.params[1]!.span, `parameter \`${acc.name}\` is declared twice`);
      scope.vars.set(acc.name, acc);
      scope.vars.set(param.name, param);
      expect(cx, lambda.body, scope, input.elem, "the result of reduce (the stream's element type)");
      return { kind: "reduce", stage: s, lambda, acc, param, input, output: input, key };
    }
    case "union": {
      requireNoUid();
      const others: string[] = [];
      if (s.args.length === 0) cx.diags.error("FLOW4010", s.span, "union takes one or more streams: `union(b, c)`");
      let key = input.key;
      let time = input.time;
      for (const a of s.args) {
        if (a.name || a.value.kind !== "Name") {
          cx.diags.error("FLOW4010", a.span, "union takes the names of streams");
          continue;
        }
        const other = cx.streamOf(a.value.name, a.value.span);
        others.push(a.value.name);
        notWindowed(cx, other, a.value.span, "a union");
        if (!assignable(other.elem, input.elem)) {
          cx.diags.error("FLOW3001", a.value.span, `union needs streams of one type: expected ${typeToString(input.elem)}, found ${typeToString(other.elem)}`);
        }
        if (!other.key || !key || !assignable(other.key, key) || !assignable(key, other.key)) key = null;
        time &&= other.time;
      }
      return { kind: "union", stage: s, others, input, output: { ...input, key, time }, key: null };
    }
    case "window":
      return checkWindowStage(cx, s, input);
    case "dedup": {
      requireNoUid();
      const lambda = s.args[0]?.value.kind === "Lambda" && !s.args[0].name ? (s.args[0].value as A.ExprOf<"Lambda">) : null;
      const within = s.args.find((a) => a.name?.name === "within");
      if (!lambda || lambda.params.length !== 1 || !within || s.args.length !== 2) {
        cx.diags.error("FLOW4010", s.span, "dedup takes a lambda giving the id and `within:` a duration: dedup(x => x.id, within: 10m)");
        return invalid(input);
      }
      const { scope, key } = stageScope(cx, input);
      const param = local(cx, lambda.params[0]!, input.elem, "param", false);
      scope.vars.set(param.name, param);
      const t = expr(cx, lambda.body, scope);
      if (!isKeyType(t)) cx.diags.error(isOptional(t) ? "FLOW3004" : "FLOW3011", lambda.body.span, `a dedup id must be a primitive or a record of primitives, found ${typeToString(t)}`);
      const ms = durationArg(cx, within.value, "within", false);
      return { kind: "dedup", stage: s, lambda, param, within: ms ?? 0, input, output: input, key };
    }
  }
}

function lambdaArg(cx: CheckContext, stage: A.CallStage, arity: number, form: string): A.ExprOf<"Lambda"> | null {
  const args = stage.args;
  if (args.length !== 1 || args[0]!.name || args[0]!.value.kind !== "Lambda" || args[0]!.value.params.length !== arity) {
    const where = args.length === 1 ? args[0]!.span : stage.span;
    const got = args.length === 1 && args[0]!.value.kind === "Lambda" ? `a lambda with ${args[0]!.value.params.length} parameter${args[0]!.value.params.length === 1 ? "" : "s"}` : args.length === 0 ? "no arguments" : args.length === 1 ? "a value that is not a lambda" : `${args.length} arguments`;
    cx.diags.error("FLOW4010", where, `${stage.name.name} takes one lambda, ${form}; found ${got}`, { hints: [`write it as ${stage.name.name}(${form})`] });
    return null;
  }
  return args[0]!.value as A.ExprOf<"Lambda">;
}
