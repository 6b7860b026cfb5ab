// RxJS 7 version of nexmark/queries/q5.flow (hot items): the Nexmark bids as an Observable,
// and the query as a pipe of operators. RxJS's own windowTime is processing time, so the
// event-time windows are a small operator built from scan + mergeMap: elements and
// watermarks travel as messages, window state is keyed by window end, and a watermark fires
// the windows it reaches (by end, then each key's first element in the window) before it is
// passed on, so a window's results (at end - 1 ms) can be windowed again downstream.
// Stage 1: per auction, bids per 10 s window sliding every 2 s; stage 2: per window end
// (tumbling 2 s), the auction with the most bids (top(1), the earliest on ties).
import { writeSync } from "node:fs";
import { Observable, defer, endWith, filter, map, mergeMap, scan, type OperatorFunction } from "rxjs";
import { NexmarkGenerator, kindOf, type Bid } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);

/** An element with its event time and key, or a watermark. */
type Msg<K, T> = { kind: "data"; ts: number; key: K; value: T } | { kind: "watermark"; watermark: number };

/** The bids among events 0..events-1. */
function nexmarkBids(events: number, seed: number): Observable<Bid> {
  return new Observable<Bid>((subscriber) => {
    const gen = new NexmarkGenerator(seed);
    for (let i = 0; i < events && !subscriber.closed; i++) {
      if (kindOf(i) === 2) subscriber.next(gen.bid(i));
    }
    subscriber.complete();
  });
}

/** Event time and watermarks: after each element the watermark becomes max(watermark, ts - delay); +infinity at the end. */
function withEventTime<T>(time: (x: T) => number, delay: number): OperatorFunction<T, Msg<null, T>> {
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

function keyBy<K0, K, T>(f: (x: T) => K): OperatorFunction<Msg<K0, T>, Msg<K, T>> {
  return map((m) => (m.kind === "data" ? { kind: "data", ts: m.ts, key: f(m.value), value: m.value } : m));
}

/** Window ends aligned to `every` (starts at multiples of it) whose [end - size, end) holds ts. */
const sliding = (size: number, every: number) => (ts: number): number[] => {
  const ends: number[] = [];
  for (let start = Math.floor(ts / every) * every; start > ts - size; start -= every) ends.push(start + size);
  return ends;
};
const tumbling = (size: number) => sliding(size, size);

interface WindowState<K, A, K2, R> {
  windows: Map<number, Map<K, A>>; // window end -> key -> accumulator (first-seen order)
  watermark: number;
  out: Msg<K2, R>[];
}

/** An event-time windowed aggregate: results fire when the watermark reaches a window's end. */
function windowAggregate<K, T, A, R>(
  ends: (ts: number) => number[],
  init: () => A,
  add: (acc: A, x: T) => void,
  result: (key: K, end: number, acc: A) => R,
): OperatorFunction<Msg<K, T>, Msg<K, R>> {
  const step = (st: WindowState<K, A, K, R>, m: Msg<K, T>): WindowState<K, A, K, R> => {
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

interface Count {
  auction: number;
  end: number;
  n: number;
}

let out = "";
nexmarkBids(events, seed)
  .pipe(
    withEventTime((b: Bid) => b.dateTime, 0),
    keyBy((b: Bid) => b.auction),
    windowAggregate(
      sliding(10_000, 2_000),
      () => ({ n: 0 }),
      (acc) => {
        acc.n += 1;
      },
      (auction, end, acc): Count => ({ auction, end, n: acc.n }),
    ),
    keyBy((c: Count) => c.end),
    windowAggregate(
      tumbling(2_000),
      () => ({ best: null as Count | null }),
      (acc, c: Count) => {
        if (acc.best === null || c.n > acc.best.n) acc.best = c; // top(1, c.auction, by: c.n): the earliest on ties
      },
      (end, _windowEnd, acc) => ({ end, top: acc.best === null ? [] : [acc.best.auction] }),
    ),
    filter((m) => m.kind === "data"),
    map((m) => JSON.stringify(m.value) + "\n"),
  )
  .subscribe({
    next: (line) => {
      out += line;
      if (out.length > 65536) {
        writeSync(1, out);
        out = "";
      }
    },
    complete: () => writeSync(1, out),
  });
