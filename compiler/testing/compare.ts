// Comparing what a job produced with what a test expects, and saying how they differ. Both
// sides are compared as JSON values guided by the stream's type (runtime/api.ts TypeDesc):
// records field by field, lists in order, maps by key whatever their order, numbers exactly
// as JSON prints them (so 0.1 + 0.2 is not 0.3). Records are shown as a test file writes
// them, `{ account: "a", amount: 600 }`, and a difference names the record and the field.

import type { TypeDesc } from "../../runtime/api.js";
import { toJson } from "../../runtime/lib.js";

/** A runtime value (Map, Set, records) as the JSON value its output line holds. */
export function asJson(v: unknown): unknown {
  const text = toJson(v);
  return text === undefined ? null : JSON.parse(text);
}

function inner(d: TypeDesc): TypeDesc {
  return d.t === "optional" ? d.of : d;
}

/** Whether two JSON values of type `d` are equal. */
export function equal(a: unknown, b: unknown, d: TypeDesc): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  const t = inner(d);
  switch (t.t) {
    case "list": {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      return a.every((x, i) => equal(x, b[i], t.of));
    }
    case "map": {
      if (typeof a !== "object" || typeof b !== "object") return false;
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], t.value));
    }
    case "record":
      if (typeof a !== "object" || typeof b !== "object") return false;
      return t.fields.every((f) => equal((a as Record<string, unknown>)[f.name], (b as Record<string, unknown>)[f.name], f.type));
    default:
      return a === b;
  }
}

/** A text that is the same for equal values (maps' keys sorted): for matching records without order. */
export function canonical(v: unknown, d: TypeDesc): string {
  if (v === null || v === undefined) return "null";
  const t = inner(d);
  switch (t.t) {
    case "list":
      return Array.isArray(v) ? `[${v.map((x) => canonical(x, t.of)).join(",")}]` : JSON.stringify(v);
    case "map": {
      const o = v as Record<string, unknown>;
      return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k], t.value)}`).join(",")}}`;
    }
    case "record": {
      const o = v as Record<string, unknown>;
      return `{${t.fields.map((f) => canonical(o[f.name], f.type)).join(",")}}`;
    }
    default:
      return JSON.stringify(v);
  }
}

const WORD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JSON value as a test file writes it: `{ a: 1, b: "x" }`, `[1, 2]`. */
export function show(v: unknown, d?: TypeDesc): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v !== "object") return String(v);
  const t = d ? inner(d) : undefined;
  if (Array.isArray(v)) return `[${v.map((x) => show(x, t?.t === "list" ? t.of : undefined)).join(", ")}]`;
  const o = v as Record<string, unknown>;
  const keys = t?.t === "record" ? t.fields.map((f) => f.name) : Object.keys(o);
  if (keys.length === 0) return "{}";
  const typeOf = (k: string): TypeDesc | undefined => (t?.t === "record" ? t.fields.find((f) => f.name === k)?.type : t?.t === "map" ? t.value : undefined);
  return `{ ${keys.map((k) => `${WORD.test(k) ? k : JSON.stringify(k)}: ${show(o[k], typeOf(k))}`).join(", ")} }`;
}

/** A leaf value in a difference; a timestamp also as a date. */
function showLeaf(v: unknown, d: TypeDesc): string {
  const s = show(v, d);
  if (inner(d).t === "timestamp" && typeof v === "number" && Number.isSafeInteger(v)) {
    const date = new Date(v);
    if (!Number.isNaN(date.getTime())) return `${s} (${date.toISOString()})`;
  }
  return s;
}

export interface FieldDifference {
  /** Where, as a test file would reach it: `amount`, `recent[2]`, `merchants["m1"]`; "" for the value itself. */
  path: string;
  expected: string;
  found: string;
}

/** The places two values of type `d` differ (at most `limit`). */
export function differences(expected: unknown, found: unknown, d: TypeDesc, limit = 8): FieldDifference[] {
  const out: FieldDifference[] = [];
  const walk = (a: unknown, b: unknown, t: TypeDesc, path: string): void => {
    if (out.length >= limit || equal(a, b, t)) return;
    const it = inner(t);
    const bothObjects = a !== null && b !== null && typeof a === "object" && typeof b === "object";
    if (bothObjects && it.t === "record") {
      for (const f of it.fields) walk((a as Record<string, unknown>)[f.name], (b as Record<string, unknown>)[f.name], f.type, path ? `${path}.${f.name}` : f.name);
      return;
    }
    if (bothObjects && it.t === "list" && Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((x, i) => walk(x, b[i], it.of, `${path}[${i}]`));
      return;
    }
    if (bothObjects && it.t === "map") {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
        const p = `${path}[${JSON.stringify(k)}]`;
        if (!(k in bo)) out.push({ path: p, expected: showLeaf(ao[k], it.value), found: "no such key" });
        else if (!(k in ao)) out.push({ path: p, expected: "no such key", found: showLeaf(bo[k], it.value) });
        else walk(ao[k], bo[k], it.value, p);
        if (out.length >= limit) return;
      }
      return;
    }
    out.push({ path, expected: showLeaf(a, t), found: showLeaf(b, t) });
  };
  walk(expected, found, d, "");
  return out;
}

/** One line of a stream's difference: a record in both, only expected (-) or only found (+). */
export interface DiffLine {
  op: " " | "-" | "+";
  /** 1-based index among the expected records (-, " ") or the found ones (+). */
  index: number;
  text: string;
  /** For a record found in place of an expected one: how they differ. */
  fields?: FieldDifference[];
}

export interface StreamDifference {
  expectedCount: number;
  foundCount: number;
  lines: DiffLine[];
}

/** Aligns the records in order (a longest common subsequence), or null when they are equal. */
export function diffOrdered(expected: unknown[], found: unknown[], d: TypeDesc): StreamDifference | null {
  const ka = expected.map((x) => canonical(x, d));
  const kb = found.map((x) => canonical(x, d));
  if (ka.length === kb.length && ka.every((k, i) => k === kb[i])) return null;
  // Trim the common start and end, so that long equal runs cost nothing.
  let start = 0;
  while (start < ka.length && start < kb.length && ka[start] === kb[start]) start++;
  let endA = ka.length;
  let endB = kb.length;
  while (endA > start && endB > start && ka[endA - 1] === kb[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  type Op = { op: " " | "-" | "+"; a: number; b: number };
  const ops: Op[] = [];
  for (let i = 0; i < start; i++) ops.push({ op: " ", a: i, b: i });
  if (n * m <= 4_000_000) {
    const lcs: Uint32Array[] = [];
    for (let i = 0; i <= n; i++) lcs.push(new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = ka[start + i] === kb[start + j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && ka[start + i] === kb[start + j]) ops.push({ op: " ", a: start + i++, b: start + j++ });
      else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ op: "+", a: -1, b: start + j++ });
      else ops.push({ op: "-", a: start + i++, b: -1 });
    }
  } else {
    // Too long to align: the middle as a whole.
    for (let i = start; i < endA; i++) ops.push({ op: "-", a: i, b: -1 });
    for (let j = start; j < endB; j++) ops.push({ op: "+", a: -1, b: j });
  }
  for (let i = endA, j = endB; i < ka.length; i++, j++) ops.push({ op: " ", a: i, b: j });
  // A run of - then + (or + then -) pairs up its records: found in place of expected.
  const lines: DiffLine[] = [];
  for (let k = 0; k < ops.length; ) {
    if (ops[k]!.op === " ") {
      lines.push({ op: " ", index: ops[k]!.a + 1, text: show(expected[ops[k]!.a], d) });
      k++;
      continue;
    }
    const minus: number[] = [];
    const plus: number[] = [];
    while (k < ops.length && ops[k]!.op !== " ") {
      if (ops[k]!.op === "-") minus.push(ops[k]!.a);
      else plus.push(ops[k]!.b);
      k++;
    }
    const pairs = Math.min(minus.length, plus.length);
    for (let p = 0; p < pairs; p++) {
      lines.push({ op: "-", index: minus[p]! + 1, text: show(expected[minus[p]!], d) });
      lines.push({ op: "+", index: plus[p]! + 1, text: show(found[plus[p]!], d), fields: differences(expected[minus[p]!], found[plus[p]!], d) });
    }
    for (const a of minus.slice(pairs)) lines.push({ op: "-", index: a + 1, text: show(expected[a], d) });
    for (const b of plus.slice(pairs)) lines.push({ op: "+", index: b + 1, text: show(found[b], d) });
  }
  return { expectedCount: expected.length, foundCount: found.length, lines };
}

/** Matches the records whatever their order, or null when the two are the same multiset. */
export function diffUnordered(expected: unknown[], found: unknown[], d: TypeDesc): StreamDifference | null {
  const left = new Map<string, number[]>();
  expected.forEach((x, i) => {
    const k = canonical(x, d);
    const list = left.get(k);
    if (list) list.push(i);
    else left.set(k, [i]);
  });
  const extra: number[] = [];
  found.forEach((x, j) => {
    const list = left.get(canonical(x, d));
    if (list && list.length) list.shift();
    else extra.push(j);
  });
  const missing = [...left.values()].flat().sort((a, b) => a - b);
  if (missing.length === 0 && extra.length === 0) return null;
  const lines: DiffLine[] = [];
  // With as many missing as unexpected (a few), each missing one beside the found one closest to it.
  const closest = missing.length === extra.length && missing.length <= 20;
  const unpaired = new Set(extra);
  for (const a of missing) {
    lines.push({ op: "-", index: a + 1, text: show(expected[a], d) });
    if (!closest) continue;
    let best = -1;
    let bestCount = Infinity;
    for (const b of unpaired) {
      const c = differences(expected[a], found[b], d, 100).length;
      if (c < bestCount) {
        best = b;
        bestCount = c;
      }
    }
    if (best >= 0) {
      unpaired.delete(best);
      lines.push({ op: "+", index: best + 1, text: show(found[best], d), fields: differences(expected[a], found[best], d) });
    }
  }
  for (const b of extra) if (unpaired.has(b)) lines.push({ op: "+", index: b + 1, text: show(found[b], d) });
  return { expectedCount: expected.length, foundCount: found.length, lines };
}
