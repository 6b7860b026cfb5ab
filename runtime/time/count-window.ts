// Count windows (LANGUAGE.md section 6, "Count windows"), with the semantics of Flink's
// `countWindow`:
//
// - `count(n)` (tumbling): each key's elements n at a time, in arrival order; a window fires
//   when it holds its n-th element, and the next one starts empty (Flink's CountTrigger with
//   a purge).
// - `count(n, every: m)` (sliding): every m-th element of a key fires a window over that
//   key's last n elements (Flink's CountEvictor(n) and CountTrigger(m)). Until a key has n
//   elements, a window holds all of them: `count(4, every: 2)` fires over elements 1–2, then
//   1–4, 3–6, 5–8, …; with m > n, the elements between windows are in none.
// - A result carries the time of the element that completed its window; the watermark
//   passes through unchanged (a count window holds no element back in time). An incomplete
//   window is never emitted, not even at the end of the input.
//
// State per key: the open window's accumulator and how many elements it holds (tumbling; a
// key whose window just fired holds nothing and is freed), or the last n elements in a ring
// and how many arrived since the last firing (sliding).

import type { CountWindowSpec, EmitFn, MapKey, StateObject } from "../api.js";
import { RowOperator, type OperatorFactories } from "../operator.js";
import type { WindowAggregate } from "./window.js";

interface KeyWindow<S> {
  key: unknown;
  /** Elements since the key's window last fired. */
  n: number;
  /** Tumbling: the open window's accumulator. */
  acc: S | null;
  /** Sliding: the last `size` elements, a ring whose oldest element is at `head` once full. */
  ring: unknown[] | null;
  head: number;
}

export class CountWindowOperator<S extends StateObject> extends RowOperator {
  readonly partName = "windows";
  private readonly keys = new Map<MapKey, KeyWindow<S>>();
  private readonly tumbling: boolean;

  constructor(
    readonly uid: string,
    private readonly spec: CountWindowSpec,
    private readonly agg: WindowAggregate<S>,
    private readonly emit: EmitFn,
  ) {
    super();
    this.tumbling = spec.every === spec.size;
  }

  /** Keys with an open window (tumbling) or elements kept (sliding). */
  override get size(): number {
    return this.keys.size;
  }

  /** Elements held: counted in open windows (tumbling), kept in rings (sliding). */
  override get held(): number {
    let n = 0;
    for (const k of this.keys.values()) n += k.ring ? k.ring.length : k.n;
    return n;
  }

  element(x: unknown, mk: MapKey, key: unknown, ts: number): void {
    let k = this.keys.get(mk);
    if (k === undefined) {
      k = { key, n: 0, acc: null, ring: null, head: 0 };
      this.keys.set(mk, k);
    }
    const { size, every } = this.spec;
    if (this.tumbling) {
      if (k.acc === null) k.acc = this.agg.create(key);
      this.agg.add(k.acc, x, key);
      if (++k.n === size) {
        // The window is complete: the key holds nothing until its next element.
        this.keys.delete(mk);
        this.emit(this.agg.result(k.acc, key, 0, 0), key, ts);
      }
      return;
    }
    const ring = k.ring ?? (k.ring = []);
    if (ring.length < size) ring.push(x);
    else {
      ring[k.head] = x;
      k.head = k.head + 1 === size ? 0 : k.head + 1;
    }
    if (++k.n === every) {
      k.n = 0;
      // The aggregate over the last n elements, oldest first (first, last and collect follow arrival order).
      const acc = this.agg.create(key);
      for (let i = 0, len = ring.length; i < len; i++) this.agg.add(acc, ring[(k.head + i) % len], key);
      this.emit(this.agg.result(acc, key, 0, 0), key, ts);
    }
  }

  // ---- checkpoints and savepoints ----------------------------------------------------------

  /** Per key: [elements since the last firing, then the accumulator's fields] (tumbling), or [that count, the kept elements oldest first] (sliding). */
  exportRows(): { rows: [MapKey, unknown, unknown][]; meta: unknown } {
    const fields = this.agg.fields;
    const cols: unknown[][] = [];
    for (let i = 0; i < fields; i++) cols.push([]);
    const rows: [MapKey, unknown, unknown][] = [];
    for (const [mk, k] of this.keys) {
      if (k.ring) {
        const len = k.ring.length;
        const kept: unknown[] = [];
        for (let i = 0; i < len; i++) kept.push(k.ring[(k.head + i) % len]);
        rows.push([mk, k.key, [k.n, kept]]);
        continue;
      }
      for (let i = 0; i < fields; i++) cols[i]!.length = 0;
      k.acc!.$saveTo(cols);
      rows.push([mk, k.key, [k.n, ...cols.map((c) => c[0])]]);
    }
    return { rows, meta: null };
  }

  importRows(rows: [MapKey, unknown, unknown][]): void {
    const fields = this.agg.fields;
    for (const [mk, key, data] of rows) {
      const [n, ...rest] = data as [number, ...unknown[]];
      if (this.tumbling) {
        const acc = this.agg.create(key);
        acc.$loadFrom(rest.slice(0, fields).map((v) => [v]), 0);
        this.keys.set(mk, { key, n, acc, ring: null, head: 0 });
      } else {
        this.keys.set(mk, { key, n, acc: null, ring: [...(rest[0] as unknown[])], head: 0 });
      }
    }
  }
}

export const factory: NonNullable<OperatorFactories["countWindow"]> = <S extends StateObject>(uid: string, spec: CountWindowSpec, agg: unknown, emit: EmitFn) =>
  // The generated functions take typed elements and keys; the operator passes them on as it got them.
  new CountWindowOperator<S>(uid, spec, agg as WindowAggregate<S>, emit);
