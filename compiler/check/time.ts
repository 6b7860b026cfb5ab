// Event time: durations, a source's `event_time(…) watermark … idle …`, window specs
// (tumbling, sliding, session), the `window(…)` stage, and the rule that what works in
// event time needs a stream that has it (FLOW4012).

import type * as A from "../ast.js";
import { didYouMean } from "../suggest.js";
import { T, type Type } from "../types.js";
import { local, type CheckContext } from "./context.js";
import { expect, expr } from "./expr.js";
import type { EventTimeInfo, StageInfo, StreamType, WindowInfo } from "./model.js";
import { Scope } from "./scope.js";

/** Reports a time-based construct on a stream without event time. */
export function needsTime(cx: CheckContext, input: StreamType, span: A.Span, what: string): void {
  if (input.time) return;
  cx.diags.error("FLOW4012", span, `${what} works in event time, and this stream has none`, {
    hints: ["declare event time on the source: `source s: T = … event_time(x => x.ts) watermark 5s`"],
  });
}

/** A windowed stream (`… |> window(…)`) only feeds an `aggregate`. */
export function notWindowed(cx: CheckContext, s: StreamType, span: A.Span, into: string): void {
  if (!s.window) return;
  cx.diags.error("FLOW4010", span, `a windowed stream cannot go into ${into}: \`window(…)\` must be followed by \`aggregate(…)\``, {
    hints: ["add `|> aggregate(x => { … })` after the window to say what each window produces"],
  });
}

/** A positive (or, with `zeroOk`, non-negative) duration literal; its ms, or null. */
export function durationArg(cx: CheckContext, e: A.Expr, what: string, zeroOk: boolean): number | null {
  expr(cx, e, new Scope(null));
  if (e.kind !== "Duration") {
    const negative = e.kind === "Unary" && e.op === "-" && e.operand.kind === "Duration";
    cx.diags.error("FLOW4010", e.span, negative ? `\`${what}\` cannot be negative` : `\`${what}\` must be a duration literal such as 10s`, { hints: [e.kind === "Int" ? `write a unit: ${e.text}s, ${e.text}ms, …` : undefined] });
    return null;
  }
  if (e.ms === 0 && !zeroOk) {
    cx.diags.error("FLOW4010", e.span, `\`${what}\` must be longer than zero`);
    return null;
  }
  return e.ms;
}

export function checkEventTime(cx: CheckContext, et: A.EventTimeClause, type: Type): EventTimeInfo | null {
  const delay = et.watermark ? durationArg(cx, et.watermark, "watermark", true) : 0;
  const idle = et.idle ? durationArg(cx, et.idle, "idle", false) : null;
  if (et.extract.kind !== "Lambda" || et.extract.params.length !== 1) {
    cx.diags.error("FLOW4010", et.extract.span, "event_time takes a lambda giving each element's time: event_time(x => x.ts)");
    return null;
  }
  const scope = new Scope(null);
  const p = local(cx, et.extract.params[0]!, type, "param", false);
  scope.vars.set(p.name, p);
  expect(cx, et.extract.body, scope, T.timestamp, "an element's event time");
  return { lambda: et.extract, param: p, delay: delay ?? 0, idle };
}

/** tumbling(d) | sliding(d, every: d2) | session(gap: d), or null after an error. */
export function windowSpec(cx: CheckContext, spec: A.Expr): Omit<WindowInfo, "allowedLateness" | "late"> | null {
  const form = "tumbling(10s), sliding(1m, every: 10s) or session(gap: 5m)";
  if (spec.kind !== "Call" || spec.callee.kind !== "Name" || !["tumbling", "sliding", "session"].includes(spec.callee.name)) {
    cx.diags.error("FLOW4010", spec.span, `a window is ${form}`, { hints: [spec.kind === "Call" && spec.callee.kind === "Name" ? didYouMean(spec.callee.name, ["tumbling", "sliding", "session"]) : undefined] });
    return null;
  }
  const kind = spec.callee.name as WindowInfo["kind"];
  const pos = spec.args.filter((a) => !a.name);
  const named = new Map(spec.args.filter((a) => a.name).map((a) => [a.name!.name, a]));
  const allowed = kind === "tumbling" ? [] : kind === "sliding" ? ["every"] : ["gap"];
  for (const [n, a] of named) if (!allowed.includes(n)) cx.diags.error("FLOW4010", a.span, `${kind}(…) has no argument \`${n}\``, { hints: [`the form is ${form}`] });
  if (kind === "session") {
    const gap = named.get("gap");
    if (!gap || pos.length) {
      cx.diags.error("FLOW4010", spec.span, "a session window is session(gap: d)");
      return null;
    }
    const ms = durationArg(cx, gap.value, "gap", false);
    return ms === null ? null : { kind, size: ms, every: ms };
  }
  if (pos.length !== 1 || (kind === "sliding" && !named.has("every"))) {
    cx.diags.error("FLOW4010", spec.span, kind === "tumbling" ? "a tumbling window is tumbling(size)" : "a sliding window is sliding(size, every: slide)");
    return null;
  }
  const size = durationArg(cx, pos[0]!.value, "size", false);
  const every = kind === "sliding" ? durationArg(cx, named.get("every")!.value, "every", false) : size;
  if (size === null || every === null) return null;
  // `every` longer than the size is allowed: windows with gaps between them (an element in a
  // gap belongs to no window and is dropped, as in Flink).
  return { kind, size, every };
}

/** `window(spec, allowed_lateness: d, late: name)`. */
export function checkWindowStage(cx: CheckContext, s: A.CallStage, input: StreamType): StageInfo {
  if (s.uid) cx.diags.error("FLOW4010", s.uid.span, "give the uid to the `aggregate` after the window: `aggregate(…) as name`");
  const pos = s.args.filter((a) => !a.name);
  let info: WindowInfo | null = null;
  if (pos.length !== 1) {
    cx.diags.error("FLOW4010", s.span, "window takes one window spec: window(tumbling(10s)), window(sliding(1m, every: 10s)) or window(session(gap: 5m))");
  } else {
    const spec = windowSpec(cx, pos[0]!.value);
    if (spec) info = { ...spec, allowedLateness: 0, late: null };
  }
  for (const a of s.args.filter((x) => x.name)) {
    const n = a.name!.name;
    if (n === "allowed_lateness") {
      const ms = durationArg(cx, a.value, "allowed_lateness", true);
      if (info && ms !== null) info.allowedLateness = ms;
    } else if (n === "late") {
      if (a.value.kind !== "Name") cx.diags.error("FLOW4010", a.value.span, "`late:` names a new stream for the late elements: late: late_bids");
      else {
        if (info) info.late = a.value.name;
        cx.lateTypes.set(a.value.name, { ...input, window: null });
      }
    } else {
      cx.diags.error("FLOW4010", a.name!.span, `window(…) has no argument \`${n}\``, { hints: [didYouMean(n, ["allowed_lateness", "late"]) ?? "its arguments: allowed_lateness, late"] });
    }
  }
  const window = info ?? { kind: "tumbling" as const, size: 1, every: 1, allowedLateness: 0, late: null };
  return { kind: "window", stage: s, window, input, output: { ...input, window }, key: null };
}
