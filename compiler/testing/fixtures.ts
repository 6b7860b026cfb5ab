// Fixture values: a test file's records, state values and keys, read as values of the job's
// types at compile time, with a diagnostic at the exact place a value does not fit. The
// result is the value as the running job holds it (what runtime/convert.ts makes of input):
// timestamps and durations in milliseconds, maps as Map, records with their fields in type
// order and missing optional fields as null.

import type * as A from "../ast.js";
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { closest } from "../suggest.js";
import { recordShape, typeToString, type Type } from "../types.js";
import { parseTimestamp, textConverter } from "../../runtime/convert.js";
import { ConversionError } from "../../runtime/errors.js";
import { toDesc } from "../types.js";

/** A value that did not fit (reported): the test it belongs to does not run. */
export const BAD: unique symbol = Symbol("bad fixture");

/** What a fixture expression is, for "found …". */
function found(e: A.Expr): string {
  switch (e.kind) {
    case "Int":
      return "int";
    case "Float":
      return "float";
    case "String":
      return "string";
    case "Bool":
      return "bool";
    case "Null":
      return "null";
    case "Duration":
      return "duration";
    case "Record":
      return "a record";
    case "List":
      return "a list";
    case "Unary":
      return e.op === "-" && (e.operand.kind === "Int" || e.operand.kind === "Float") ? found(e.operand) : "an expression";
    default:
      return "an expression";
  }
}

/** A number literal, possibly negated: its value, or null for anything else. */
function numberOf(e: A.Expr): { value: number; int: boolean } | null {
  if (e.kind === "Int") return { value: e.value, int: true };
  if (e.kind === "Float") return { value: e.value, int: false };
  if (e.kind === "Unary" && e.op === "-") {
    const inner = numberOf(e.operand);
    return inner ? { value: -inner.value || 0, int: inner.int } : null;
  }
  return null;
}

/** Sets a field; one named __proto__ becomes an own field (as runtime/convert.ts does). */
function setField(out: Record<string, unknown>, name: string, value: unknown): void {
  if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  else out[name] = value;
}

/** Reads fixture values of one test file, reporting to `diags`. */
export class Fixtures {
  /** The type each value (and each record field's name) was read as: the language server's hover. */
  readonly types = new Map<A.Expr | A.Ident, Type>();

  constructor(private readonly diags: Diagnostics) {}

  /** The value of `e` as a `t`, or BAD (reported). `what` says where it stands, for hints. */
  value(e: A.Expr, t: Type, what: string): unknown {
    if (t.kind === "error") return BAD;
    this.types.set(e, t);
    if (!this.isValue(e)) {
      this.diags.error("FLOW6002", e.span, `a fixture is a value, found ${e.kind === "Name" ? `the name \`${e.name}\`` : "an expression"}`, {
        label: `${what} must be written as a value`,
        hints: [e.kind === "Name" ? "fixtures cannot refer to names; write the value itself (a string is written in double quotes)" : "write the value itself: a literal, a record `{ … }`, a list `[ … ]` or null"],
      });
      return BAD;
    }
    if (t.kind === "optional") return e.kind === "Null" ? null : this.value(e, t.inner, what);
    if (e.kind === "Null") return this.mismatch(e, t, "write a value, or make the field optional (`T?`) in the job");
    switch (t.kind) {
      case "prim":
        return this.primitive(e, t.name, t);
      case "list": {
        if (e.kind !== "List") return this.mismatch(e, t);
        const out: unknown[] = [];
        let bad = false;
        for (const item of e.items) {
          const v = this.value(item, t.elem, what);
          if (v === BAD) bad = true;
          out.push(v);
        }
        return bad ? BAD : out;
      }
      case "map":
        return this.map(e, t.key, t.value, t, what);
      case "record":
        return this.record(e, t, what);
      default:
        return this.mismatch(e, t);
    }
  }

  /** Literals, records, lists and negated numbers: what a fixture may be written as. */
  private isValue(e: A.Expr): boolean {
    switch (e.kind) {
      case "Int":
      case "Float":
      case "String":
      case "Bool":
      case "Null":
      case "Duration":
        return true;
      case "Unary":
        return numberOf(e) !== null;
      case "Record":
        return e.fields.every((f) => !f.shorthand);
      case "List":
        return true;
      default:
        return false;
    }
  }

  private mismatch(e: A.Expr, t: Type, ...hints: string[]): typeof BAD {
    this.diags.error("FLOW3001", e.span, `expected ${typeToString(t)}, found ${found(e)}`, { label: `this is ${found(e)}`, hints });
    return BAD;
  }

  private primitive(e: A.Expr, name: string, t: Type): unknown {
    const num = numberOf(e);
    switch (name) {
      case "int":
        if (num?.int) return num.value;
        return this.mismatch(e, t, num ? "an int is written without a fraction" : "");
      case "float":
        // int widens to float, as in a job.
        if (num) return num.value;
        return this.mismatch(e, t);
      case "bool":
        if (e.kind === "Bool") return e.value;
        return this.mismatch(e, t);
      case "string":
        if (e.kind === "String") return e.value;
        return this.mismatch(e, t, "a string is written in double quotes");
      case "timestamp": {
        if (num?.int) return num.value;
        if (e.kind === "String") {
          const ms = parseTimestamp(e.value);
          if (Number.isSafeInteger(ms)) return ms;
          this.diags.error("FLOW6003", e.span, `${JSON.stringify(e.value)} is not a timestamp`, {
            label: "not an RFC 3339 date and time",
            hints: ['write integer milliseconds since the epoch, or an RFC 3339 string such as "2024-05-01T12:00:00Z"'],
          });
          return BAD;
        }
        return this.mismatch(e, t, "a timestamp is integer milliseconds since the epoch, or an RFC 3339 string such as \"2024-05-01T12:00:00Z\"");
      }
      case "duration":
        if (e.kind === "Duration") return e.ms;
        if (num?.int) return num.value;
        return this.mismatch(e, t, "a duration is written with a unit, such as 5s, or as integer milliseconds");
      default:
        return this.mismatch(e, t);
    }
  }

  private map(e: A.Expr, key: Type, value: Type, t: Type, what: string): unknown {
    if (e.kind !== "Record") return this.mismatch(e, t, `a map is written as a record of its entries: \`{ key: value, "other key": value }\``);
    const readKey = textConverter(toDesc(key));
    const out = new Map<unknown, unknown>();
    let bad = false;
    for (const f of e.fields) {
      let k: unknown;
      try {
        k = readKey(f.name.name, f.name.name);
      } catch (err) {
        if (!(err instanceof ConversionError)) throw err;
        this.diags.error("FLOW3001", f.name.span, `this map's keys are ${typeToString(key)}: ${err.problem}`);
        bad = true;
        continue;
      }
      if (out.has(k)) {
        this.diags.error("FLOW6004", f.name.span, `key \`${f.name.name}\` is written twice`);
        bad = true;
        continue;
      }
      this.types.set(f.name, key);
      const v = this.value(f.value, value, what);
      if (v === BAD) bad = true;
      out.set(k, v);
    }
    return bad ? BAD : out;
  }

  private record(e: A.Expr, t: Extract<Type, { kind: "record" }>, what: string): unknown {
    if (e.kind !== "Record") return this.mismatch(e, t, `${typeToString(t)} is ${recordShape(t)}`);
    const given = new Map<string, A.RecordField>();
    let bad = false;
    for (const f of e.fields) {
      if (given.has(f.name.name)) {
        this.diags.error("FLOW2002", f.name.span, `field \`${f.name.name}\` is written twice`, { notes: [{ message: "first written here", span: given.get(f.name.name)!.name.span }] });
        bad = true;
        continue;
      }
      given.set(f.name.name, f);
      const field = t.fields.find((x) => x.name === f.name.name);
      if (field) this.types.set(f.name, field.type);
      if (!field) {
        this.diags.error("FLOW2007", f.name.span, `${typeToString(t)} has no field \`${f.name.name}\``, {
          hints: [closest(f.name.name, t.fields.map((x) => x.name)) ? `did you mean \`${closest(f.name.name, t.fields.map((x) => x.name))}\`?` : `${typeToString(t)} is ${recordShape(t)}`],
        });
        bad = true;
      }
    }
    const missing = t.fields.filter((f) => !given.has(f.name) && f.type.kind !== "optional");
    if (missing.length) {
      this.diags.error("FLOW3012", e.span, `missing field${missing.length > 1 ? "s" : ""} ${missing.map((m) => `\`${m.name}\``).join(", ")} of ${typeToString(t)}`, {
        hints: [`${typeToString(t)} is ${recordShape(t)}`],
      });
      bad = true;
    }
    const out: Record<string, unknown> = {};
    for (const f of t.fields) {
      const g = given.get(f.name);
      const v = g ? this.value(g.value, f.type, what) : null;
      if (v === BAD) bad = true;
      setField(out, f.name, v);
    }
    return bad ? BAD : out;
  }
}
