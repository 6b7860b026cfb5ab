// Type expressions -> types: primitives, `T?`, `list<T>`, `map<K, V>`, records, and named
// types (declared ones, found cycles in; the Nexmark prelude's when the file has no type of
// that name).

import * as A from "../ast.js";
import { PRELUDE } from "../connectors/nexmark.js";
import { didYouMean } from "../suggest.js";
import { PRIMITIVES, T, typeToString, type PrimitiveName, type RecordType, type Type } from "../types.js";
import { namesOfKind, type CheckContext } from "./context.js";

export function namedType(cx: CheckContext, name: string, useSpan: A.Span): Type {
  const cached = cx.typeCache.get(name);
  if (cached === "resolving") {
    cx.diags.error("FLOW2008", useSpan, `type \`${name}\` refers to itself`, { hints: ["recursive types are not supported"] });
    return T.error;
  }
  if (cached) return cached;
  const d = cx.top.get(name);
  if (d?.kind !== "type") return T.error;
  cx.typeCache.set(name, "resolving");
  let t = resolveType(cx, d.decl.type);
  if (t.kind === "record") t = { ...t, name };
  cx.typeCache.set(name, t);
  return t;
}

export function resolveType(cx: CheckContext, te: A.TypeExpr): Type {
  switch (te.kind) {
    case "NamedType": {
      const n = te.name.name;
      if ((PRIMITIVES as readonly string[]).includes(n)) return { kind: "prim", name: n as PrimitiveName };
      const d = cx.top.get(n);
      if (d?.kind === "type") return namedType(cx, n, te.span);
      // The Nexmark prelude, unless the file declares a type of that name.
      const prelude = d ? undefined : PRELUDE.get(n);
      if (prelude) {
        cx.out.types.set(n, prelude);
        for (const f of prelude.fields) {
          const inner = f.type.kind === "optional" ? f.type.inner : f.type;
          if (inner.kind === "record" && inner.name) cx.out.types.set(inner.name, inner);
        }
        return prelude;
      }
      const lower = n.toLowerCase();
      const hint =
        (PRIMITIVES as readonly string[]).includes(lower) ? `did you mean \`${lower}\`?`
        : n === "number" || n === "double" ? "numbers are `int` or `float`"
        : n === "boolean" ? "did you mean `bool`?"
        : n === "list" || n === "map" ? `\`${n}\` needs type arguments: ${n === "list" ? "list<T>" : "map<K, V>"}`
        : didYouMean(n, [...PRIMITIVES, ...namesOfKind(cx, "type")]);
      cx.diags.error("FLOW2003", te.span, d ? `\`${n}\` is not a type` : `unknown type \`${n}\``, {
        hints: [hint ?? (d ? undefined : "declare it with `type " + n + " = { … }`")],
      });
      return T.error;
    }
    case "OptionalType":
      return T.optional(resolveType(cx, te.inner));
    case "ListType":
      return T.list(resolveType(cx, te.elem));
    case "MapType": {
      const key = resolveType(cx, te.key);
      if (key.kind !== "prim" && key.kind !== "error") {
        cx.diags.error("FLOW3011", te.key.span, `map keys must be primitive, found ${typeToString(key)}`, {
          hints: ["use int, float, bool, string, timestamp or duration as the key type"],
        });
      }
      return T.map(key, resolveType(cx, te.value));
    }
    case "RecordType": {
      const fields: RecordType["fields"] = [];
      const seen = new Map<string, A.Span>();
      for (const f of te.fields) {
        const prev = seen.get(f.name.name);
        if (prev) {
          cx.diags.error("FLOW2002", f.name.span, `field \`${f.name.name}\` is declared twice`, { notes: [{ message: "first declared here", span: prev }] });
          continue;
        }
        seen.set(f.name.name, f.name.span);
        fields.push({ name: f.name.name, type: resolveType(cx, f.type) });
      }
      return { kind: "record", fields };
    }
    default:
      return A.assertNever(te, "type");
  }
}
