// Hand-written baseline for nexmark/queries/q5.flow (hot items): per auction, count the bids
// in each 10 s event-time window sliding every 2 s; when a window fires, print the auction
// with the most bids in it (ties: the auction whose first bid in the window came first).
// Same semantics as the flowc job: watermark = max event time seen (delay 0), advanced after
// each bid; a window [end - 10 s, end) fires when the watermark reaches its end; at the end
// of input every open window fires, in order of end. The job's second stage (key by end,
// tumbling 2 s, top(1)) sees exactly one window's counts per 2 s window and fires in the
// same watermark step, so the top is taken right when a window fires. One Map of counts
// per window end.
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";
import { EventTimeWindows, events, flush, seed, write } from "../common.js";

const size = 10_000;
const every = 2_000;

function fire(end: number, counts: Map<number, number>): void {
  let best = 0;
  let bestN = -1;
  for (const [auction, n] of counts) {
    if (n > bestN) {
      best = auction;
      bestN = n;
    }
  }
  write(`{"end":${end},"top":[${best}]}\n`);
}

const gen = new NexmarkGenerator(seed);
// Window end -> auction -> bids (first-seen order).
const windows = new EventTimeWindows<Map<number, number>>(every, () => new Map(), fire);

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const bid = gen.bid(i);
  const ts = bid.dateTime;
  // Windows holding ts start at multiples of `every` in (ts - size, ts]; those the watermark
  // has already reached are too late for it (`at` gives undefined).
  const lastStart = Math.floor(ts / every) * every;
  for (let start = lastStart; start > ts - size; start -= every) {
    const counts = windows.at(start + size);
    if (counts !== undefined) counts.set(bid.auction, (counts.get(bid.auction) ?? 0) + 1);
  }
  windows.advance(ts);
}
windows.close(); // end of input: every open window fires, in order of end
flush();
