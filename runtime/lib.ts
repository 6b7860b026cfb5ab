// Helpers that generated code calls for built-ins and values: pure functions, no Node APIs,
// so the compiler can type-check generated modules against this file.

/** Raised by an expression that cannot produce a value (for example `%` by zero). */
export class FlowRuntimeError extends Error {
  /** For a failure inside an imported function: its own stack (shown at --log-level debug). */
  userStack?: string;

  constructor(
    message: string,
    /** `file:line:col` of the expression in the .flow file. */
    readonly location: string,
    readonly code: string = "FLOW5003",
  ) {
    super(message);
    this.name = "FlowRuntimeError";
  }
}

/** The largest `int`: ints are exact up to 2^53 − 1, and so is every int result (LANGUAGE.md 5). */
export const MAX_INT = 9007199254740991;

// The checks below are on the hot path of every job that does int arithmetic. They are one
// comparison of Math.abs (which V8 compiles to one instruction; two comparisons, `r > MAX ||
// r < -MAX`, cost several times as much in a micro-benchmark), with the number itself, not
// MAX_INT (a module variable, loaded at each check instead of folded), and build their error
// in a separate function. Generated code inlines checkInt's comparison in function bodies
// (compiler/emit/code.ts, inlineIntChecks) and calls it only elsewhere.

/**
 * An int result (`+ - *`, `sum`, `+=`, `-=` on ints, timestamps and durations), checked
 * against the int range: beyond ±(2^53 − 1) a JavaScript number is no longer exact, so the
 * job stops (FLOW5013) instead of going on with a rounded number.
 */
export function checkInt(r: number, what: string, location: string): number {
  if (Math.abs(r) > 9007199254740991) intOutOfRange(r, what, location);
  return r;
}

/** FLOW5013 for an int result `r` of `what` (generated code inlines the check before it). */
export function intOutOfRange(r: number, what: string, location: string): never {
  throw new FlowRuntimeError(`integer out of range: the result of ${what} (${r}) is ${BEYOND}`, location, "FLOW5013");
}

/** `floor(x)` of a float: an int, or FLOW5013 when x is beyond the int range (or NaN). */
export function floor(x: number, location: string): number {
  const r = Math.floor(x);
  if (!(Math.abs(r) <= 9007199254740991)) throw floatOutOfRange("floor", x, location);
  return r;
}

/** `ceil(x)` of a float: an int, or FLOW5013. */
export function ceil(x: number, location: string): number {
  const r = Math.ceil(x);
  if (!(Math.abs(r) <= 9007199254740991)) throw floatOutOfRange("ceil", x, location);
  return r;
}

/** `round(x)` of a float, halves up (as Java's Math.round): an int, or FLOW5013. */
export function round(x: number, location: string): number {
  const r = Math.round(x);
  if (!(Math.abs(r) <= 9007199254740991)) throw floatOutOfRange("round", x, location);
  return r;
}

const BEYOND = `beyond ±${MAX_INT}, where ints stop being exact`;

function floatOutOfRange(fn: string, x: number, location: string): FlowRuntimeError {
  const what = Number.isNaN(x) ? `\`${fn}\` of NaN has no int value` : `\`${fn}\` of ${x} is ${BEYOND}`;
  return new FlowRuntimeError(`integer out of range: ${what}`, location, "FLOW5013");
}

/** `undefined` (a missing map entry, list index or `?.` on null) as the language's null. */
export function nul<T>(v: T | undefined): T | null {
  return v === undefined ? null : v;
}

/** Integer remainder; `%` by zero is an error, not NaN. */
export function imod(a: number, b: number, location: string): number {
  if (b === 0) throw new FlowRuntimeError("remainder of a division by zero (`% 0`)", location);
  return a % b;
}

export function substr(s: string, start: number, length?: number): string {
  const from = start < 0 ? Math.max(0, s.length + start) : Math.min(start, s.length);
  return length === undefined ? s.slice(from) : s.slice(from, from + Math.max(0, length));
}

export function split(s: string, sep: string): string[] {
  return sep === "" ? Array.from(s) : s.split(sep);
}

export function parseInt(s: string): number | null {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseFloat(s: string): number | null {
  const t = s.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  return Number(t);
}

/** Deep equality of values (records, lists and maps compare by content). */
export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equals(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equals(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!equals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function listContains<T>(list: readonly T[], x: T): boolean {
  if (x === null || typeof x !== "object") return list.includes(x);
  for (const y of list) if (equals(x, y)) return true;
  return false;
}

/** Values as JSON, with maps as objects (JSON.stringify alone drops maps). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, jsonReplacer);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) {
    const o: Record<string, unknown> = Object.create(null);
    for (const [k, x] of value) o[String(k)] = x;
    return o;
  }
  if (value instanceof Set) return [...value];
  return value;
}

/** `to_string`: strings as they are, other values as JSON. */
export function toString(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return toJson(v);
}

/** A stable key for values that cannot be Map keys themselves (records). */
export function keyOf(v: unknown): string {
  return toJson(v);
}

/** `hash(x)`: a deterministic 32-bit FNV-1a hash of the value's JSON, as a non-negative int. */
export function hash(v: unknown): number {
  const s = typeof v === "string" ? v : toJson(v);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function minOf<T extends number | string>(a: T, b: T): T {
  return b < a ? b : a;
}

export function maxOf<T extends number | string>(a: T, b: T): T {
  return b > a ? b : a;
}

/** Whether an element of rank `r` would enter a top-n list (topInsert would add it). */
export function topAdmits<R extends number | string>(list: readonly { r: R }[], n: number, r: R): boolean {
  return list.length < n || list[n - 1]!.r < r;
}

/** Inserts into a top-n list kept sorted by rank, largest first; ties keep arrival order. */
export function topInsert<V, R extends number | string>(list: { v: V; r: R }[], n: number, v: V, r: R): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.r < r) i--;
  if (i >= n) return;
  // A full list drops its last entry: that entry object is reused for the new one.
  let e: { v: V; r: R };
  if (list.length >= n) {
    e = list[list.length - 1]!;
    e.v = v;
    e.r = r;
  } else {
    e = { v, r };
    list.push(e);
  }
  for (let j = list.length - 1; j > i; j--) list[j] = list[j - 1]!;
  list[i] = e;
}

/** One CSV line (RFC 4180 quoting). */
export function csvRow(cells: readonly unknown[]): string {
  let out = "";
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) out += ",";
    const c = cells[i];
    if (c === null || c === undefined) continue;
    const s = typeof c === "string" ? c : String(c);
    out += /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
  }
  return out;
}

/** stdout for a primitive: strings bare, numbers and booleans as JSON. */
export function formatPrimitive(v: string | number | boolean | null): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The watermark of a node with several inputs: the smallest of its inputs' that are not
 * idle (`idle d` on a live source). Only advances are passed on.
 */
export class WatermarkMerge {
  private readonly wms: number[];
  private readonly idle: boolean[];
  private out = -Infinity;

  constructor(inputs: number) {
    this.wms = new Array<number>(inputs).fill(-Infinity);
    this.idle = new Array<boolean>(inputs).fill(false);
  }

  private combined(): number {
    let m = Infinity;
    let any = false;
    for (let i = 0; i < this.wms.length; i++) {
      if (this.idle[i]) continue;
      any = true;
      if (this.wms[i]! < m) m = this.wms[i]!;
    }
    return any ? m : -Infinity;
  }

  /** Input i's watermark is now w; returns the node's new watermark if it advanced. */
  update(i: number, w: number): number | null {
    this.wms[i] = w;
    const m = this.combined();
    if (m <= this.out) return null;
    this.out = m;
    return m;
  }

  /** Input i became idle or active again: the new watermark if it advanced, and whether every input is idle now. */
  setIdle(i: number, on: boolean): { advanced: number | null; allIdle: boolean } {
    this.idle[i] = on;
    const allIdle = this.idle.every((x) => x);
    const m = this.combined();
    if (m <= this.out) return { advanced: null, allIdle };
    this.out = m;
    return { advanced: m, allIdle };
  }
}

/** Characters JSON.stringify escapes in a string (lone surrogates included). */
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON: quoted as it is when nothing in it needs escaping (the usual case). */
export function jsonString(s: string): string {
  return JSON_ESCAPED.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** A number as JSON (NaN and the infinities print as null, as JSON.stringify does). */
export function jsonNumber(x: number): string {
  return Number.isFinite(x) ? `${x}` : "null";
}
