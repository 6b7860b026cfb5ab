// Input records -> typed values, guided by the declared type (TypeDesc from the manifest).
// Converters are built once per source as closures, so checking a record costs one call per
// field. Fields not in the type are ignored; a missing optional field reads as null; the
// result is a fresh object with the declared field order (and no inherited keys).

import type { TypeDesc } from "./api.js";
import { ConversionError } from "./errors.js";

export type Converter = (raw: unknown, path: string) => unknown;

/** Ints (and timestamps, durations) are exact up to this, in both directions (LANGUAGE.md 5). */
const MAX_INT = 9007199254740991;

/** A number that JSON.parse or Number() read as ±Infinity: its text was beyond the float range. */
const HUGE = "a number beyond the float range (±1.8e308)";

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : HUGE;
  if (v === undefined) return "nothing (the field is missing)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return `${typeof v} ${String(v)}`;
}

function typeName(d: TypeDesc): string {
  switch (d.t) {
    case "optional":
      return `${typeName(d.of)}?`;
    case "list":
      return `list<${typeName(d.of)}>`;
    case "map":
      return `map<${typeName(d.key)}, ${typeName(d.value)}>`;
    case "record":
      return d.name ?? "a record";
    default:
      return d.t;
  }
}

const fail = (path: string, d: TypeDesc, v: unknown): never => {
  throw new ConversionError(path, `expected ${typeName(d)}, found ${describe(v)}`);
};

/** Milliseconds since the epoch from an RFC 3339 timestamp, or NaN. */
export function parseTimestamp(s: string): number {
  if (!/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(s)) return NaN;
  return Date.parse(s);
}

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from "250ms", "5s", "10m", "1h", "7d". */
export function parseDuration(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim());
  return m ? Number(m[1]) * UNIT[m[2]!]! : NaN;
}

/** Sets a field; one named __proto__ becomes an own field, never the object's prototype. */
function setField(out: Record<string, unknown>, name: string, value: unknown): void {
  if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  else out[name] = value;
}

/** An integer (int, timestamp, duration) beyond ±(2^53 − 1), or one too large for a float. */
function outOfRange(p: string, d: TypeDesc, v: number): never {
  // Not the number itself: JSON.parse has already rounded it (9007199254740993 reads as …992).
  throw new ConversionError(p, `expected ${typeName(d)}, found ${Number.isFinite(v) ? `a number beyond ±${MAX_INT}, where ints stop being exact` : HUGE}`);
}

/** Whether a number that is not a safe integer is out of the int range (not a fraction). */
const beyond = (v: number): boolean => !Number.isFinite(v) || (Number.isInteger(v) && Math.abs(v) > MAX_INT);

/**
 * A converter for JSON values. Input (`input`, the default) takes floats that are finite
 * only: JSON.parse reads a number beyond the float range as Infinity, which is a bad
 * record. Results of imported functions may be any IEEE float.
 */
export function jsonConverter(d: TypeDesc, input = true): Converter {
  switch (d.t) {
    case "int":
      return (v, p) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return v;
        if (typeof v === "number" && beyond(v)) return outOfRange(p, d, v);
        return fail(p, d, v);
      };
    case "float":
      if (!input) return (v, p) => (typeof v === "number" ? v : fail(p, d, v));
      return (v, p) => {
        if (Number.isFinite(v)) return v;
        if (typeof v === "number") throw new ConversionError(p, `expected float, found ${HUGE}`);
        return fail(p, d, v);
      };
    case "bool":
      return (v, p) => (typeof v === "boolean" ? v : fail(p, d, v));
    case "string":
      return (v, p) => (typeof v === "string" ? v : fail(p, d, v));
    case "timestamp":
      return (v, p) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return v;
        if (typeof v === "number" && beyond(v)) return outOfRange(p, d, v);
        if (typeof v === "string") {
          const ms = parseTimestamp(v);
          if (!Number.isNaN(ms)) return ms;
          throw new ConversionError(p, `expected a timestamp (integer milliseconds or RFC 3339 such as "2024-05-01T12:00:00Z"), found ${describe(v)}`);
        }
        return fail(p, d, v);
      };
    case "duration":
      return (v, p) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return v;
        if (typeof v === "number" && beyond(v)) return outOfRange(p, d, v);
        if (typeof v === "string" && Number.isSafeInteger(parseDuration(v))) return parseDuration(v);
        return fail(p, d, v);
      };
    case "optional": {
      const inner = jsonConverter(d.of, input);
      return (v, p) => (v === null || v === undefined ? null : inner(v, p));
    }
    case "list": {
      const inner = jsonConverter(d.of, input);
      return (v, p) => {
        if (!Array.isArray(v)) return fail(p, d, v);
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = inner(v[i], `${p}[${i}]`);
        return out;
      };
    }
    case "map": {
      const key = textConverter(d.key);
      const value = jsonConverter(d.value, input);
      return (v, p) => {
        if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(p, d, v);
        const out = new Map<unknown, unknown>();
        for (const k of Object.keys(v)) out.set(key(k, `${p}.${k} (key)`), value((v as Record<string, unknown>)[k], `${p}.${k}`));
        return out;
      };
    }
    case "record": {
      const fields = d.fields.map((f) => ({ name: f.name, convert: jsonConverter(f.type, input), optional: f.type.t === "optional" }));
      return (v, p) => {
        if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(p, d, v);
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const f of fields) {
          const has = Object.prototype.hasOwnProperty.call(src, f.name);
          const fp = p ? `${p}.${f.name}` : f.name;
          if (!has && !f.optional) throw new ConversionError(fp, `the field is missing (expected ${typeName(d.fields.find((x) => x.name === f.name)!.type)})`);
          setField(out, f.name, f.convert(has ? src[f.name] : null, fp));
        }
        return out;
      };
    }
  }
}

/** A float written in decimal: `1`, `-2.5`, `.5`, `1e-3` (as `parse_float` reads them). */
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A converter for text cells (csv fields, map keys): strings to primitives. */
export function textConverter(d: TypeDesc): (s: string, path: string) => unknown {
  switch (d.t) {
    case "string":
      return (s) => s;
    case "int":
      return (s, p) => {
        const t = s.trim();
        const n = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
        if (Number.isSafeInteger(n)) return n;
        if (!Number.isNaN(n)) throw new ConversionError(p, `expected int, found ${describe(s)}, beyond ±${MAX_INT}, where ints stop being exact`);
        throw new ConversionError(p, `expected int, found ${describe(s)}`);
      };
    case "float":
      // Decimal notation only (as parse_float): not hex, "Infinity" or "NaN".
      return (s, p) => {
        const t = s.trim();
        const n = FLOAT_TEXT.test(t) ? Number(t) : NaN;
        if (Number.isFinite(n)) return n;
        if (!Number.isNaN(n)) throw new ConversionError(p, `expected float, found ${describe(s)}, beyond the float range (±1.8e308)`);
        throw new ConversionError(p, `expected float, found ${describe(s)}`);
      };
    case "bool":
      return (s, p) => {
        const t = s.trim().toLowerCase();
        if (t === "true") return true;
        if (t === "false") return false;
        throw new ConversionError(p, `expected bool (true or false), found ${describe(s)}`);
      };
    case "timestamp":
      return (s, p) => {
        const t = s.trim();
        const n = /^[+-]?\d+$/.test(t) ? Number(t) : parseTimestamp(t);
        if (Number.isSafeInteger(n)) return n;
        if (!Number.isNaN(n)) throw new ConversionError(p, `expected a timestamp, found ${describe(s)}, beyond ±${MAX_INT}, where ints stop being exact`);
        throw new ConversionError(p, `expected a timestamp (integer milliseconds or RFC 3339), found ${describe(s)}`);
      };
    case "duration":
      return (s, p) => {
        const t = s.trim();
        const n = /^\d+$/.test(t) ? Number(t) : parseDuration(t);
        if (Number.isSafeInteger(n)) return n;
        if (!Number.isNaN(n)) throw new ConversionError(p, `expected a duration, found ${describe(s)}, beyond ±${MAX_INT} milliseconds, where ints stop being exact`);
        throw new ConversionError(p, `expected a duration (milliseconds or such as 5s), found ${describe(s)}`);
      };
    case "optional": {
      const inner = textConverter(d.of);
      return (s, p) => (s === "" ? null : inner(s, p));
    }
    default:
      return (_s, p) => {
        throw new ConversionError(p, `${typeName(d)} cannot be read from text`);
      };
  }
}

/** A converter for csv rows, given the header's column names. */
export function csvRowConverter(d: TypeDesc, header: string[]): (cells: string[], line: number) => unknown {
  if (d.t !== "record") throw new Error("internal: csv needs a record type");
  const fields = d.fields.map((f) => ({ name: f.name, index: header.indexOf(f.name), convert: textConverter(f.type), optional: f.type.t === "optional" }));
  const missing = fields.filter((f) => f.index < 0 && !f.optional).map((f) => f.name);
  if (missing.length) throw new ConversionError(missing[0]!, `the header has no column ${missing.map((m) => `\`${m}\``).join(", ")} (columns: ${header.join(", ")})`);
  return (cells) => {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const cell = f.index < 0 ? "" : (cells[f.index] ?? "");
      setField(out, f.name, f.convert(cell, f.name));
    }
    return out;
  };
}
