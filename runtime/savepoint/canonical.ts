// The canonical encoding of state values in savepoints (docs/savepoints.md), independent of
// the runtime's in-memory layout: JSON, with three tagged forms for what JSON lacks.
//
//   null, booleans, strings, finite numbers   as themselves
//   lists, records                            JSON arrays, JSON objects (fields in type order)
//   maps                                      {"$map": [[key, value], …]}   (insertion order)
//   sets (count_distinct's values)            {"$set": [value, …]}
//   NaN, Infinity, -Infinity                  {"$float": "NaN" | "Infinity" | "-Infinity"}
//
// Record fields are .flow identifiers, which never start with `$`, so the tags cannot clash.

import type { TypeDesc } from "../api.js";

function replacer(this: unknown, _key: string, v: unknown): unknown {
  if (v instanceof Map) return { $map: [...v] };
  if (v instanceof Set) return { $set: [...v] };
  if (typeof v === "number" && !Number.isFinite(v)) return { $float: String(v) };
  if (v === undefined) return null;
  return v;
}

/** Whether a value is written the same in plain JSON (a string, a bool, a finite number, null). */
function plain(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
}

/** One value (or row) as canonical JSON text. */
export function encodeCanonical(v: unknown): string {
  if (plain(v)) return JSON.stringify(v);
  return JSON.stringify(v, replacer) ?? "null";
}

/** A savepoint line `{"key":…,"value":…[,"written":…]}`; plain keys and values skip the replacer. */
export function encodeRow(key: unknown, value: unknown, written?: unknown): string {
  const w = written === undefined ? "" : `,"written":${encodeCanonical(written)}`;
  return `{"key":${encodeCanonical(key)},"value":${encodeCanonical(value)}${w}}`;
}

function reviver(_key: string, v: unknown): unknown {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      if (keys[0] === "$map" && Array.isArray(o.$map)) return new Map(o.$map as [unknown, unknown][]);
      if (keys[0] === "$set" && Array.isArray(o.$set)) return new Set(o.$set as unknown[]);
      if (keys[0] === "$float" && typeof o.$float === "string") return Number(o.$float);
    }
  }
  return v;
}

/** Canonical JSON text back to a runtime value. */
export function decodeCanonical(text: string): unknown {
  // Text without a tag needs no reviver (much faster for large savepoints).
  return text.includes('{"$') ? JSON.parse(text, reviver) : JSON.parse(text);
}

/** A type as .flow writes it (`list<{ id: int, name: string? }>`; `named`: records by their type name). */
export function showType(t: TypeDesc | null, named = false): string {
  if (t === null) return "no key";
  switch (t.t) {
    case "optional":
      return `${showType(t.of, named)}?`;
    case "list":
      return `list<${showType(t.of, named)}>`;
    case "map":
      return `map<${showType(t.key, named)}, ${showType(t.value, named)}>`;
    case "record":
      if (named && t.name) return t.name;
      return `{ ${t.fields.map((f) => `${f.name}: ${showType(f.type, named)}`).join(", ")} }`;
    default:
      return t.t;
  }
}

/** Types compared structurally: record names do not matter, field order does. */
export function sameType(a: TypeDesc | null, b: TypeDesc | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.t !== b.t) return false;
  switch (a.t) {
    case "optional":
    case "list":
      return sameType(a.of, (b as typeof a).of);
    case "map":
      return sameType(a.key, (b as typeof a).key) && sameType(a.value, (b as typeof a).value);
    case "record": {
      const bf = (b as typeof a).fields;
      return a.fields.length === bf.length && a.fields.every((f, i) => bf[i]!.name === f.name && sameType(f.type, bf[i]!.type));
    }
    default:
      return true;
  }
}

/**
 * How a value kept as type `from` becomes a value of type `to`, or why it cannot. Allowed,
 * as in Flink's schema evolution for POJOs: the same type; a record that gained optional
 * fields (they read as null), lost fields (their values are dropped) or has its fields in
 * another order; a value that became optional; and these inside lists, maps and optionals.
 */
export function evolution(from: TypeDesc, to: TypeDesc): { ok: true; changes: string[] } | { ok: false } {
  if (sameType(from, to)) return { ok: true, changes: [] };
  if (to.t === "optional" && from.t !== "optional") {
    const inner = evolution(from, to.of);
    return inner.ok ? { ok: true, changes: ["becomes optional", ...inner.changes] } : inner;
  }
  if (from.t !== to.t) return { ok: false };
  switch (from.t) {
    case "optional":
    case "list":
      return evolution(from.of, (to as typeof from).of);
    case "map": {
      const t = to as typeof from;
      if (!sameType(from.key, t.key)) return { ok: false };
      return evolution(from.value, t.value);
    }
    case "record": {
      const t = to as typeof from;
      const changes: string[] = [];
      for (const f of t.fields) {
        const old = from.fields.find((g) => g.name === f.name);
        if (!old) {
          if (f.type.t !== "optional") return { ok: false };
          changes.push(`new field \`${f.name}\` is null`);
          continue;
        }
        const inner = evolution(old.type, f.type);
        if (!inner.ok) return inner;
        changes.push(...inner.changes.map((c) => `\`${f.name}\` ${c}`));
      }
      for (const g of from.fields) if (!t.fields.some((f) => f.name === g.name)) changes.push(`field \`${g.name}\` is dropped`);
      return { ok: true, changes };
    }
    default:
      return { ok: false };
  }
}

/** Converts a value along an allowed evolution (see `evolution`). */
export function migrate(v: unknown, from: TypeDesc, to: TypeDesc): unknown {
  if (v === null || v === undefined) return null;
  if (sameType(from, to)) return v;
  if (to.t === "optional") return migrate(v, from.t === "optional" ? from.of : from, to.of);
  switch (to.t) {
    case "list":
      return (v as unknown[]).map((x) => migrate(x, (from as typeof to).of, to.of));
    case "map":
      return new Map([...(v as Map<unknown, unknown>)].map(([k, x]) => [k, migrate(x, (from as typeof to).value, to.value)]));
    case "record": {
      const o = v as Record<string, unknown>;
      const f = from as typeof to;
      const out: Record<string, unknown> = {};
      for (const field of to.fields) {
        const old = f.fields.find((g) => g.name === field.name);
        out[field.name] = old ? migrate(o[field.name], old.type, field.type) : null;
      }
      return out;
    }
    default:
      return v;
  }
}
