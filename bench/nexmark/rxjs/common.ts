// What the RxJS versions of the Nexmark queries share: the generator as an Observable (of its
// bids, or of all its events), printing a stream as JSON lines, and the event-time
// operators. RxJS's own windows (windowTime, bufferTime) are processing time, so event time
// is modelled here: elements and watermarks travel as messages, window state is kept by
// window end in a `scan`, and a watermark fires the windows it reaches (by end, then each
// key's first element in the window) before it is passed on, so a window's results (at
// end - 1 ms) can be windowed again downstream.
import { Observable, type OperatorFunction, type Subscription, defer, endWith, filter, map, mergeMap, scan } from "rxjs";
import { NexmarkGenerator, kindOf, type Bid, type NexmarkEvent } from "../../../runtime/nexmark.js";
import { flush, write } from "../common.js";

/** The bids among events 0 … n - 1 of the generator. */
export function nexmarkBids(n: number, seed: number): Observable<Bid> {
  return new Observable<Bid>((subscriber) => {
    const gen = new NexmarkGenerator(seed);
    for (let i = 0; i < n && !subscriber.closed; i++) {
      if (kindOf(i) === 2) subscriber.next(gen.bid(i));
    }
    subscriber.complete();
  });
}

/** Events 0 … n - 1 of the generator. */
export function nexmark(n: number, seed: number): Observable<NexmarkEvent> {
  return new Observable<NexmarkEvent>((subscriber) => {
    const gen = new NexmarkGenerator(seed);
    for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(gen.event(i));
    subscriber.complete();
  });
}

/** Subscribes to `rows$` and prints each row as a JSON line, in large chunks; `done` runs after the last write. */
export function printJsonLines<T>(rows$: Observable<T>, done?: () => void): Subscription {
  return rows$.subscribe({
    next: (row) => write(JSON.stringify(row) + "\n"),
    complete: () => {
      flush();
      done?.();
    },
  });
}

/**
 * A hand-made event-time operator as a `scan`: `step` takes each element, then null at the
 * end of input, updates `state` and sets its `rows` to what that step fired; the rows are
 * emitted in order.
 */
export function scanFiring<T, R, S extends { rows: R[] }>(step: (st: S, x: T | null) => S, state: S): OperatorFunction<T, R> {
  return (source) =>
    source.pipe(
      endWith(null),
      scan(step, state),
      filter((st) => st.rows.length > 0),
      mergeMap((st) => st.rows),
    );
}

/** An element with its event time and key, or a watermark. */
export type Msg<K, T> = { kind: "data"; ts: number; key: K; value: T } | { kind: "watermark"; watermark: number };

/** Event time and watermarks: after each element the watermark becomes max(watermark, ts - delay); +infinity at the end. */
export function withEventTime<T>(time: (x: T) => number, delay: number): OperatorFunction<T, Msg<null, T>> {
  return (source) =>
    defer(() => {
      let watermark = -Infinity;
      return source.pipe(
        mergeMap((value): Msg<null, T>[] => {
          const ts = time(value);
          const data: Msg<null, T> = { kind: "data", ts, key: null, value };
          if (ts - delay <= watermark) return [data];
          watermark = ts - delay;
          return [data, { kind: "watermark", watermark }];
        }),
        endWith<Msg<null, T>>({ kind: "watermark", watermark: Infinity }),
      );
    });
}

/** Re-keys the elements (watermarks pass unchanged). */
export function keyBy<K0, K, T>(f: (x: T) => K): OperatorFunction<Msg<K0, T>, Msg<K, T>> {
  return map((m) => (m.kind === "data" ? { kind: "data", ts: m.ts, key: f(m.value), value: m.value } : m));
}

/** The elements' values (the watermarks dropped). */
export function values<K, T>(): OperatorFunction<Msg<K, T>, T> {
  return (source) =>
    source.pipe(
      filter((m): m is Extract<Msg<K, T>, { kind: "data" }> => m.kind === "data"),
      map((m) => m.value),
    );
}

/** Window ends aligned to `every` (starts at multiples of it) whose [end - size, end) holds ts. */
export const sliding = (size: number, every: number) => (ts: number): number[] => {
  const ends: number[] = [];
  for (let start = Math.floor(ts / every) * every; start > ts - size; start -= every) ends.push(start + size);
  return ends;
};

/** The end of the window [start, start + size) holding ts, starts at multiples of size. */
export const tumbling = (size: number) => (ts: number): number[] => [Math.floor(ts / size) * size + size];

interface WindowState<K, A, R> {
  windows: Map<number, Map<K, A>>; // window end -> key -> accumulator (first-seen order)
  watermark: number;
  out: Msg<K, R>[];
}

/** An event-time windowed aggregate: results fire when the watermark reaches a window's end. */
export function windowAggregate<K, T, A, R>(
  ends: (ts: number) => number[],
  init: () => A,
  add: (acc: A, x: T) => void,
  result: (key: K, end: number, acc: A) => R,
): OperatorFunction<Msg<K, T>, Msg<K, R>> {
  const step = (st: WindowState<K, A, R>, m: Msg<K, T>): WindowState<K, A, R> => {
    st.out = [];
    if (m.kind === "data") {
      for (const end of ends(m.ts)) {
        if (end <= st.watermark) continue; // too late for this window
        let w = st.windows.get(end);
        if (w === undefined) st.windows.set(end, (w = new Map()));
        let acc = w.get(m.key);
        if (acc === undefined) w.set(m.key, (acc = init()));
        add(acc, m.value);
      }
    } else {
      st.watermark = m.watermark;
      const due = [...st.windows.keys()].filter((end) => end <= m.watermark).sort((a, b) => a - b);
      for (const end of due) {
        for (const [key, acc] of st.windows.get(end)!) st.out.push({ kind: "data", ts: end - 1, key, value: result(key, end, acc) });
        st.windows.delete(end);
      }
      st.out.push(m); // the watermark goes on after the results it fired
    }
    return st;
  };
  return (source) =>
    defer(() =>
      source.pipe(
        scan(step, { windows: new Map(), watermark: -Infinity, out: [] }),
        mergeMap((st) => st.out),
      ),
    );
}
