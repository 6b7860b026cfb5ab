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

/** A count window's number of elements: an int literal of at least 1; null after an error. */
function countArg(cx: CheckContext, e: A.Expr, what: string): number | null {
  expr(cx, e, new Scope(null));
  if (e.kind !== "Int" || e.value < 1) {
    const negative = e.kind === "Unary" && e.op === "-" && e.operand.kind === "Int";
    cx.diags.error("FLOW4010", e.span, e.kind === "Int" || negative ? `\`${what}\` must be at least 1 element` : `\`${what}\` is a number of elements, an integer literal such as 100`, {
      hints: [e.kind === "Duration" ? "a count window counts elements; for a span of time write tumbling(…) or sliding(…)" : undefined],
    });
    return null;
  }
  return e.value;
}

/**
 * tumbling(d) | sliding(d, every: d2) | session(gap: d), or with `counts`, count(n) |
 * count(n, every: m); null after an error.
 */
export function windowSpec(cx: CheckContext, spec: A.Expr, counts = false): Omit<WindowInfo, "allowedLateness" | "late"> | null {
  const kinds = counts ? ["tumbling", "sliding", "session", "count"] : ["tumbling", "sliding", "session"];
  const form = `tumbling(10s), sliding(1m, every: 10s)${counts ? ", session(gap: 5m), count(100) or count(100, every: 10)" : " or session(gap: 5m)"}`;
  if (spec.kind !== "Call" || spec.callee.kind !== "Name" || !kinds.includes(spec.callee.name)) {
    const name = spec.kind === "Call" && spec.callee.kind === "Name" ? spec.callee.name : null;
    cx.diags.error("FLOW4010", spec.span, name === "count" ? "a join's window is a span of event time: tumbling(10s), sliding(1m, every: 10s) or session(gap: 5m)" : `a window is ${form}`, {
      hints: [name === "count" ? "a count window groups the elements of one stream: `window(count(100))` before `aggregate`" : name !== null ? didYouMean(name, kinds) : undefined],
    });
    return null;
  }
  const kind = spec.callee.name as WindowInfo["kind"];
  const pos = spec.args.filter((a) => !a.name);
  const named = new Map(spec.args.filter((a) => a.name).map((a) => [a.name!.name, a]));
  const allowed = kind === "tumbling" ? [] : kind === "sliding" || kind === "count" ? ["every"] : ["gap"];
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
  if (kind === "count") {
    if (pos.length !== 1) {
      cx.diags.error("FLOW4010", spec.span, "a count window is count(n), or count(n, every: m) to fire every m elements over the last n");
      return null;
    }
    const size = countArg(cx, pos[0]!.value, "count");
    const everyArg = named.get("every");
    const every = everyArg ? countArg(cx, everyArg.value, "every") : size;
    if (size === null || every === null) return null;
    return { kind, size, every };
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
    cx.diags.error("FLOW4010", s.span, "window takes one window spec: window(tumbling(10s)), window(sliding(1m, every: 10s)), window(session(gap: 5m)) or window(count(100))");
  } else {
    const spec = windowSpec(cx, pos[0]!.value, true);
    if (spec) info = { ...spec, allowedLateness: 0, late: null };
  }
  for (const a of s.args.filter((x) => x.name)) {
    const n = a.name!.name;
    if (info?.kind === "count" && (n === "allowed_lateness" || n === "late")) {
      // Elements are counted as they arrive: none is ever late for a count window.
      cx.diags.error("FLOW4010", a.name!.span, `a count window has no \`${n}\`: it counts elements as they arrive, and none is late`, { hints: ["remove it, or use a window in event time (tumbling, sliding, session)"] });
      continue;
    }
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
