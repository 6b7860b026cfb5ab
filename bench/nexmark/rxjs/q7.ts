// RxJS 7 version of nexmark/queries/q7.flow (highest bid): the Nexmark bids as an
// Observable, and the query as a pipe of operators. RxJS's own windowTime is processing
// time, so the event-time window is a small operator built from scan + mergeMap
// (windowAggregate, in common.ts): elements and watermarks travel as messages, window state
// is keyed by window end, and a watermark fires the windows it reaches, in order of end.
// Per 10 s tumbling window over all bids (one global group), the highest bid:
// top(1, { auction, bidder, price }, by: price), the earliest on ties.
import type { Bid } from "../../../runtime/nexmark.js";
import { events, seed } from "../common.js";
import { nexmarkBids, printJsonLines, tumbling, values, windowAggregate, withEventTime } from "./common.js";

interface Best {
  auction: number;
  bidder: number;
  price: number;
}

const highest$ = nexmarkBids(events, seed).pipe(
  withEventTime((b: Bid) => b.dateTime, 0),
  windowAggregate(
    tumbling(10_000),
    () => ({ best: null as Best | null }),
    (acc, b: Bid) => {
      if (acc.best === null || b.price > acc.best.price) acc.best = { auction: b.auction, bidder: b.bidder, price: b.price }; // the earliest on ties
    },
    (_key, end, acc) => ({ end, best: acc.best === null ? [] : [acc.best] }),
  ),
  values(),
);

printJsonLines(highest$);
