// Operator state <-> savepoint parts. Keyed state (aggregate, reduce, process) is written
// per state name, one line per key; runtime structures (windows, timers, joins, dedup) as
// one internal part each. Capturing encodes every line at once, between two batches, so the
// savepoint is a consistent cut even though the files are written afterwards.

import type { MapKey, OperatorManifest, StateObject } from "../api.js";
import type { RowState, StatefulOperator } from "../operator.js";
import { decodeCanonical, encodeCanonical, encodeRow, migrate, sameType } from "./canonical.js";
import type { SavepointRow } from "./format.js";

export interface CapturedPart {
  name: string;
  internal: boolean;
  text: string;
  keys: number;
}

/** The operators of one uid: its state, and a process block's timers (`<uid>$timers`). */
export function operatorsWithUid(all: StatefulOperator[], uid: string): { main: StatefulOperator | null; timers: StatefulOperator | null } {
  return { main: all.find((s) => s.uid === uid) ?? null, timers: all.find((s) => s.uid === `${uid}$timers`) ?? null };
}

/** Where each state lives in the generated state class's fields (see compiler/emit.ts). */
function fieldIndex(op: OperatorManifest, name: string): number {
  return op.kind === "reduce" ? 0 : op.states.findIndex((s) => s.name === name);
}

function ttlField(op: OperatorManifest, name: string): number {
  const i = op.ttl.indexOf(name);
  return i < 0 ? -1 : op.states.length + i;
}

function fieldsOf(obj: StateObject, count: number): unknown[] {
  const cols: unknown[][] = [];
  for (let i = 0; i < count; i++) cols.push([]);
  obj.$saveTo(cols);
  return cols.map((c) => c[0]);
}

/**
 * Captures one operator's state as savepoint parts (encoded now), and the operator-wide
 * values of its runtime structures by part name (in the canonical encoding).
 */
export function captureOperator(op: OperatorManifest, operators: StatefulOperator[]): { parts: CapturedPart[]; meta: Record<string, unknown> } {
  const { main, timers } = operatorsWithUid(operators, op.uid);
  const parts: CapturedPart[] = [];
  const meta: Record<string, unknown> = {};
  const rowsPart = (s: RowState): CapturedPart => {
    const { rows, meta: m } = s.exportRows();
    meta[s.partName] = JSON.parse(encodeCanonical(m));
    return { name: s.partName, internal: true, text: rows.map(([, key, value]) => encodeRow(key, value) + "\n").join(""), keys: rows.length };
  };
  const objects = main?.objects;
  if (main?.rows) parts.push(rowsPart(main.rows));
  else if (objects) {
    const all = objects.entries().map((e) => ({ key: e.key, f: fieldsOf(e.obj, objects.fields) }));
    // A reduce keeps `has` beside its value: a key without a value yet has no line.
    const present = op.kind === "reduce" ? all.filter((e) => e.f[1] === true) : all;
    for (const s of op.states) {
      const fi = fieldIndex(op, s.name);
      const ti = ttlField(op, s.name);
      const lines = present.map((e) => encodeRow(e.key, e.f[fi], ti >= 0 ? e.f[ti] : undefined) + "\n");
      parts.push({ name: s.name, internal: false, text: lines.join(""), keys: lines.length });
    }
  }
  if (timers?.rows) parts.push(rowsPart(timers.rows));
  return { parts, meta };
}

export interface OperatorRestore {
  /** This job's operator. */
  op: OperatorManifest;
  /** The restored states: savepoint type -> this job's type. */
  states: Map<string, { from: OperatorManifest["states"][number]["type"]; to: OperatorManifest["states"][number]["type"] }>;
  timers: boolean;
  internal: boolean;
  /** The savepoint's part rows by part name. */
  rows: (part: string) => SavepointRow[] | null;
  /** Operator-wide values by part name. */
  meta: Record<string, unknown>;
}

/** Keys read back from one savepoint: primitives compare as they are, records by their JSON. */
function sameKey(a: unknown, b: unknown): boolean {
  return a === b || (a !== null && b !== null && typeof a === "object" && typeof b === "object" && encodeCanonical(a) === encodeCanonical(b));
}


/** Loads one operator's state from savepoint parts into its (empty) operators. */
export function restoreOperator(r: OperatorRestore, operators: StatefulOperator[]): number {
  const { main, timers } = operatorsWithUid(operators, r.op.uid);
  let keys = 0;
  const loadRows = (s: RowState): void => {
    const found = r.rows(s.partName);
    if (!found) return;
    const data = found.map((row): [MapKey, unknown, unknown] => [s.savepointMapKey(row.key, row.value), row.key, row.value]);
    keys += data.length;
    const meta = r.meta[s.partName];
    s.importRows(data, meta === null || meta === undefined ? undefined : decodeCanonical(JSON.stringify(meta)));
  };
  const objects = main?.objects;
  if (main?.rows && r.internal) loadRows(main.rows);
  else if (objects && !r.internal) {
    const op = r.op;
    const names = [...r.states.keys()];
    const parts = names.map((name) => r.rows(name) ?? []);
    // The parts of one operator were captured together, key by key in the same order: they
    // line up row for row. (Otherwise, from another writer, rows are matched by key.)
    const aligned = parts.every((p) => p.length === parts[0]!.length) && parts.every((p) => p.every((row, i) => sameKey(row.key, parts[0]![i]!.key)));
    const perKey: { key: unknown; rows: (SavepointRow | undefined)[] }[] = [];
    if (aligned) {
      for (let i = 0; i < (parts[0]?.length ?? 0); i++) perKey.push({ key: parts[0]![i]!.key, rows: parts.map((p) => p[i]) });
    } else {
      const byKey = new Map<unknown, { key: unknown; rows: (SavepointRow | undefined)[] }>();
      parts.forEach((p, j) => {
        for (const row of p) {
          const id = row.key !== null && typeof row.key === "object" ? encodeCanonical(row.key) : row.key;
          let e = byKey.get(id);
          if (!e) byKey.set(id, (e = { key: row.key, rows: names.map(() => undefined) }));
          e.rows[j] = row;
        }
      });
      perKey.push(...byKey.values());
    }
    const fi = names.map((name) => fieldIndex(op, name));
    const ti = names.map((name) => ttlField(op, name));
    const types = names.map((name) => r.states.get(name)!);
    const same = types.map((t) => sameType(t.from, t.to));
    const cols: unknown[][] = [];
    for (let c = 0; c < objects.fields; c++) cols.push([undefined]);
    for (const { key, rows: found } of perKey) {
      const obj = objects.objectFor(key);
      // Start from the object's own (initial) fields, then set the restored ones.
      for (const c of cols) c.length = 0;
      obj.$saveTo(cols);
      for (let j = 0; j < names.length; j++) {
        const row = found[j];
        if (!row) continue;
        cols[fi[j]!]![0] = same[j] ? row.value : migrate(row.value, types[j]!.from, types[j]!.to);
        // A state that gained a ttl keeps its value until it is written again.
        if (ti[j]! >= 0) cols[ti[j]!]![0] = typeof row.written === "number" ? row.written : Infinity;
      }
      if (op.kind === "reduce") cols[1]![0] = true;
      obj.$loadFrom(cols, 0);
      keys++;
    }
  }
  if (timers?.rows && r.timers) loadRows(timers.rows);
  return keys;
}
