// The types of the language (section 4) and the rules between them: printing, assignability
// (int widens to float and timestamp, T to T?), joins, and which types are primitives.

import type { TypeDesc } from "../runtime/api.js";

export type { TypeDesc };

export type PrimitiveName = "int" | "float" | "bool" | "string" | "timestamp" | "duration";

export type Type =
  | { kind: "prim"; name: PrimitiveName }
  | { kind: "optional"; inner: Type }
  | { kind: "list"; elem: Type }
  | { kind: "map"; key: Type; value: Type }
  | RecordType
  | { kind: "fn"; params: Type[]; result: Type }
  /** The type of `null`. */
  | { kind: "null" }
  /** The element type of `[]`: fits any list. */
  | { kind: "never" }
  /** After an error: fits everywhere, so one mistake is reported once. */
  | { kind: "error" };

export interface RecordType {
  kind: "record";
  fields: { name: string; type: Type }[];
  /** The declared name, for messages (`type Bid = …`). Structural: ignored by assignability. */
  name?: string;
}

export const T = {
  int: { kind: "prim", name: "int" } as Type,
  float: { kind: "prim", name: "float" } as Type,
  bool: { kind: "prim", name: "bool" } as Type,
  string: { kind: "prim", name: "string" } as Type,
  timestamp: { kind: "prim", name: "timestamp" } as Type,
  duration: { kind: "prim", name: "duration" } as Type,
  null: { kind: "null" } as Type,
  never: { kind: "never" } as Type,
  error: { kind: "error" } as Type,
  optional(inner: Type): Type {
    if (inner.kind === "optional" || inner.kind === "null" || inner.kind === "error") return inner;
    return { kind: "optional", inner };
  },
  list(elem: Type): Type {
    return { kind: "list", elem };
  },
  map(key: Type, value: Type): Type {
    return { kind: "map", key, value };
  },
};

export const PRIMITIVES: readonly PrimitiveName[] = ["int", "float", "bool", "string", "timestamp", "duration"];

export function isPrim(t: Type, name?: PrimitiveName): boolean {
  return t.kind === "prim" && (name === undefined || t.name === name);
}

export function isNumeric(t: Type): boolean {
  return t.kind === "prim" && (t.name === "int" || t.name === "float");
}

export function isOptional(t: Type): boolean {
  return t.kind === "optional" || t.kind === "null";
}

/** T for T?, T otherwise. */
export function stripOptional(t: Type): Type {
  return t.kind === "optional" ? t.inner : t;
}

export function typeToString(t: Type): string {
  switch (t.kind) {
    case "prim":
      return t.name;
    case "optional":
      return `${typeToString(t.inner)}?`;
    case "list":
      return `list<${typeToString(t.elem)}>`;
    case "map":
      return `map<${typeToString(t.key)}, ${typeToString(t.value)}>`;
    case "record":
      return t.name ?? recordShape(t);
    case "fn":
      return `(${t.params.map(typeToString).join(", ")}) => ${typeToString(t.result)}`;
    case "null":
      return "null";
    case "never":
      return "never";
    case "error":
      return "{unknown}";
  }
}

/** `{ a: int, b: string? }` even for a named record. */
export function recordShape(t: RecordType): string {
  if (t.fields.length === 0) return "{}";
  return `{ ${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(", ")} }`;
}

/** Whether a value of type `from` may be used where `to` is expected. */
export function assignable(from: Type, to: Type): boolean {
  if (from.kind === "error" || to.kind === "error" || from.kind === "never") return true;
  if (to.kind === "optional") {
    if (from.kind === "null") return true;
    if (from.kind === "optional") return assignable(from.inner, to.inner);
    return assignable(from, to.inner);
  }
  switch (from.kind) {
    case "prim":
      if (to.kind !== "prim") return false;
      if (from.name === to.name) return true;
      return from.name === "int" && (to.name === "float" || to.name === "timestamp");
    case "list":
      return to.kind === "list" && assignable(from.elem, to.elem);
    case "map":
      return to.kind === "map" && sameType(from.key, to.key) && assignable(from.value, to.value);
    case "record": {
      if (to.kind !== "record" || to.fields.length !== from.fields.length) return false;
      return to.fields.every((tf) => {
        const ff = from.fields.find((f) => f.name === tf.name);
        return ff !== undefined && assignable(ff.type, tf.type);
      });
    }
    case "fn":
      return false;
    case "null":
    case "optional":
      return false;
  }
}

export function sameType(a: Type, b: Type): boolean {
  return assignable(a, b) && assignable(b, a);
}

/**
 * The least type both fit into (for `if … then a else b`, list items, emits, `??`),
 * or null when there is none.
 */
export function join(a: Type, b: Type): Type | null {
  if (a.kind === "error" || b.kind === "never") return a;
  if (b.kind === "error" || a.kind === "never") return b;
  if (a.kind === "null") return b.kind === "null" ? a : T.optional(b);
  if (b.kind === "null") return T.optional(a);
  if (a.kind === "optional" || b.kind === "optional") {
    const inner = join(stripOptional(a), stripOptional(b));
    return inner ? T.optional(inner) : null;
  }
  if (assignable(a, b)) return b;
  if (assignable(b, a)) return a;
  if (a.kind === "list" && b.kind === "list") {
    const elem = join(a.elem, b.elem);
    return elem ? T.list(elem) : null;
  }
  if (a.kind === "record" && b.kind === "record" && a.fields.length === b.fields.length) {
    const fields: RecordType["fields"] = [];
    for (const fa of a.fields) {
      const fb = b.fields.find((f) => f.name === fa.name);
      const jt = fb && join(fa.type, fb.type);
      if (!jt) return null;
      fields.push({ name: fa.name, type: jt });
    }
    return a.name && a.name === b.name ? { kind: "record", fields, name: a.name } : { kind: "record", fields };
  }
  return null;
}

/** Primitives, and records of primitives, can be keys (section 6). */
export function isKeyType(t: Type): boolean {
  if (t.kind === "prim") return true;
  if (t.kind === "record") return t.fields.length > 0 && t.fields.every((f) => f.type.kind === "prim");
  return t.kind === "error";
}

/** Types that `<`, `min`, `max` and sorting accept. */
export function isComparable(t: Type): boolean {
  return (t.kind === "prim" && t.name !== "bool") || t.kind === "error";
}

/** Whether a type holds a map anywhere (maps need a serializer; JSON.stringify drops them). */
export function containsMap(t: Type): boolean {
  switch (t.kind) {
    case "map":
      return true;
    case "optional":
      return containsMap(t.inner);
    case "list":
      return containsMap(t.elem);
    case "record":
      return t.fields.some((f) => containsMap(f.type));
    default:
      return false;
  }
}

/** A type as plain data, stored in the job manifest and read by the runtime (declared in runtime/api.ts). */
export function toDesc(t: Type): TypeDesc {
  switch (t.kind) {
    case "prim":
      return { t: t.name };
    case "optional":
      return { t: "optional", of: toDesc(t.inner) };
    case "list":
      return { t: "list", of: toDesc(t.elem) };
    case "map":
      return { t: "map", key: toDesc(t.key), value: toDesc(t.value) };
    case "record":
      return t.name ? { t: "record", name: t.name, fields: t.fields.map((f) => ({ name: f.name, type: toDesc(f.type) })) } : { t: "record", fields: t.fields.map((f) => ({ name: f.name, type: toDesc(f.type) })) };
    case "null":
      return { t: "optional", of: { t: "int" } };
    case "never":
    case "error":
    case "fn":
      throw new Error(`internal: no runtime description for type ${typeToString(t)}`);
  }
}
