// RxJS 7 version of nexmark/queries/q5.flow (hot items): the Nexmark bids as an Observable,
// and the query as a pipe of operators. RxJS's own windowTime is processing time, so the
// event-time windows are a small operator built from scan + mergeMap (windowAggregate, in
// common.ts): elements and watermarks travel as messages, window state is keyed by window
// end, and a watermark fires the windows it reaches (by end, then each key's first element
// in the window) before it is passed on, so a window's results (at end - 1 ms) can be
// windowed again downstream.
// Stage 1: per auction, bids per 10 s window sliding every 2 s; stage 2: per window end
// (tumbling 2 s), the auction with the most bids (top(1), the earliest on ties).
import type { Bid } from "../../../runtime/nexmark.js";
import { events, seed } from "../common.js";
import { keyBy, nexmarkBids, printJsonLines, sliding, tumbling, values, windowAggregate, withEventTime } from "./common.js";

interface Count {
  auction: number;
  end: number;
  n: number;
}

const hot$ = nexmarkBids(events, seed).pipe(
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
  values(),
);

printJsonLines(hot$);
