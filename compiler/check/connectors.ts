// Connector calls: the connector looked up in the table (compiler/connectors/), the call's
// arguments matched to its schema (names, positions, repeats, constant values), then the
// connector module's own checks, which give the resolved connector.

import type * as A from "../ast.js";
import type { ArgSpec, Args, ConnectorSchema, ResolvedArg } from "../connectors/connector.js";
import { SINKS, SOURCES, type SinkConnector, type SourceConnector } from "../connectors/index.js";
import { didYouMean } from "../suggest.js";
import type { Type } from "../types.js";
import { local, type CheckContext } from "./context.js";
import type { LocalBinding } from "./model.js";
import { expect, expr } from "./expr.js";
import { Scope } from "./scope.js";

export function checkSourceConnector(cx: CheckContext, decl: A.SourceDecl, type: Type): SourceConnector | null {
  const spec = connectorSpec(cx, decl.connector, "source", SOURCES, SINKS);
  const args = spec && connectorArgs(cx, decl.connector, spec);
  if (!spec || !args) return null;
  const expectIn = (e: A.Expr, want: Type, what: string): void => {
    expect(cx, e, new Scope(null), want, what);
  };
  const keyFn = (e: A.Expr, what: string): { param: LocalBinding; body: A.Expr; type: Type } | null => {
    if (e.kind !== "Lambda" || e.params.length !== 1) {
      cx.diags.error("FLOW4008", e.span, `${spec.name}(…) takes ${what} as a lambda of one element, \`x => …\``, { hints: [`e.g. ${spec.name}(…, partition_key: o => o.customer)`] });
      return null;
    }
    const scope = new Scope(null);
    const p = local(cx, e.params[0]!, type, "param", false);
    scope.vars.set(p.name, p);
    return { param: p, body: e.body, type: expr(cx, e.body, scope) };
  };
  return spec.check({ diags: cx.diags, decl, type, args, expect: expectIn, keyFn });
}

export function checkSinkConnector(cx: CheckContext, decl: A.SinkDecl, elem: Type): SinkConnector | null {
  const spec = connectorSpec(cx, decl.connector, "sink", SINKS, SOURCES);
  const args = spec && connectorArgs(cx, decl.connector, spec);
  if (!spec || !args) return null;
  const lambda = (e: A.Expr, param: Type, want: Type, what: string): { param: LocalBinding; body: A.Expr } | null => {
    if (e.kind !== "Lambda" || e.params.length !== 1) {
      cx.diags.error("FLOW4008", e.span, `${spec.name}(…) takes ${what} here as a string or a lambda of one element, \`x => …\``, { hints: [`e.g. ${spec.name}(x => "alerts." + x.region, …)`] });
      return null;
    }
    const scope = new Scope(null);
    const p = local(cx, e.params[0]!, param, "param", false);
    scope.vars.set(p.name, p);
    expect(cx, e.body, scope, want, what);
    return { param: p, body: e.body };
  };
  return spec.check({ diags: cx.diags, decl, elem, args, lambda });
}

/** The connector a call names on its side: FLOW2006 when there is none. */
function connectorSpec<E extends ConnectorSchema>(cx: CheckContext, call: A.ConnectorCall, side: "source" | "sink", list: readonly E[], other: readonly ConnectorSchema[]): E | null {
  const name = call.name.name;
  const spec = list.find((c) => c.name === name);
  if (spec) return spec;
  const wrongSide = other.find((c) => c.name === name);
  const supported = list.map((c) => c.name);
  cx.diags.error("FLOW2006", call.name.span, wrongSide ? `\`${name}\` is a ${wrongSide.side} connector, not a ${side}` : `unknown ${side} connector \`${name}\``, {
    hints: [wrongSide ? undefined : didYouMean(name, supported), `${side}s: ${supported.join(", ")}`],
  });
  return null;
}

/** Matches a call's arguments to the connector's schema; null after an error. */
function connectorArgs(cx: CheckContext, call: A.ConnectorCall, spec: ConnectorSchema): Args | null {
  const result = new Map<string, ResolvedArg>();
  let ok = true;
  let position = 0;
  for (const arg of call.args) {
    let as: ArgSpec | undefined;
    if (arg.name) {
      as = spec.args.find((a) => a.name === arg.name!.name);
      if (!as) {
        cx.diags.error("FLOW4008", arg.name.span, `${spec.name}(…) has no argument \`${arg.name.name}\``, {
          hints: [didYouMean(arg.name.name, spec.args.map((a) => a.name)), `its arguments: ${spec.args.map((a) => a.name).join(", ")}`],
        });
        ok = false;
        continue;
      }
    } else {
      as = spec.args.find((a) => a.position === position);
      position++;
      if (!as) {
        cx.diags.error("FLOW4008", arg.span, `${spec.name}(…) takes ${spec.args.filter((a) => a.position !== undefined).length || "no"} positional argument${spec.args.filter((a) => a.position !== undefined).length === 1 ? "" : "s"}`, {
          hints: [`write the others by name: ${spec.args.filter((a) => a.position === undefined).map((a) => `${a.name}: …`).join(", ")}`],
        });
        ok = false;
        continue;
      }
    }
    if (result.has(as.name)) {
      cx.diags.error("FLOW4008", arg.span, `argument \`${as.name}\` is given twice`, { notes: [{ message: "first given here", span: result.get(as.name)!.span }] });
      ok = false;
      continue;
    }
    const lit = argLiteral(cx, arg, as, spec);
    if (lit === undefined) {
      ok = false;
      continue;
    }
    result.set(as.name, { span: arg.span, value: arg.value, lit });
  }
  for (const as of spec.args) {
    if (as.required && !result.has(as.name)) {
      cx.diags.error("FLOW4008", call.span, `${spec.name}(…) needs the argument \`${as.name}\``, { hints: [`the form is ${spec.summary}`] });
      ok = false;
    }
  }
  return ok ? result : null;
}

/** The constant value of a connector argument, or undefined after reporting. */
function argLiteral(cx: CheckContext, arg: A.Arg, as: ArgSpec, spec: ConnectorSchema): string | number | boolean | null | undefined {
  const v = arg.value;
  const bad = (expected: string, hints: (string | undefined)[] = []): undefined => {
    cx.diags.error("FLOW4008", v.span, `argument \`${as.name}\` of ${spec.name}(…) must be ${expected}`, { hints });
    return undefined;
  };
  switch (as.arg.kind) {
    case "elements":
      return null;
    case "string":
      return v.kind === "String" ? v.value : bad("a string literal");
    case "string_or_lambda":
      return v.kind === "String" ? v.value : v.kind === "Lambda" ? null : bad("a string literal or a lambda `x => …`");
    case "lambda":
      return v.kind === "Lambda" ? null : bad("a lambda `x => …`");
    case "bool":
      return v.kind === "Bool" ? v.value : bad("true or false");
    case "int": {
      if (v.kind === "Int") return v.value;
      if (v.kind === "Unary" && v.op === "-" && v.operand.kind === "Int") return -v.operand.value;
      return bad("an integer literal");
    }
    case "enum": {
      const values = as.arg.values;
      if (v.kind === "String" && values.includes(v.value)) return v.value;
      const got = v.kind === "String" ? v.value : v.kind === "Name" ? v.name : undefined;
      return bad(`one of ${values.map((x) => `"${x}"`).join(", ")}`, [got !== undefined ? didYouMean(got, values) : undefined]);
    }
  }
}
