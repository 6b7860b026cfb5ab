// Hand-written baseline for nexmark/queries/q7.flow (highest bid): per 10 s event-time
// tumbling window over all bids, the highest-priced bid (the earliest on ties), printed as
// { end, best: [{ auction, bidder, price }] } when the watermark reaches the window end.
// Same semantics as the flowc job: watermark = max event time seen (delay 0), advanced after
// each bid; at the end of input every open window fires, in order of end.
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";
import { EventTimeWindows, events, flush, seed, write } from "../common.js";

const size = 10_000;

interface Best {
  auction: number;
  bidder: number;
  price: number;
}

function fire(end: number, b: Best): void {
  write(`{"end":${end},"best":[{"auction":${b.auction},"bidder":${b.bidder},"price":${b.price}}]}\n`);
}

const gen = new NexmarkGenerator(seed);
// Window end -> highest bid so far (a new window's first bid beats its price of -infinity).
const windows = new EventTimeWindows<Best>(size, () => ({ auction: 0, bidder: 0, price: -Infinity }), fire);

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const bid = gen.bid(i);
  const ts = bid.dateTime;
  const b = windows.at(Math.floor(ts / size) * size + size); // undefined: too late for its window
  if (b !== undefined && bid.price > b.price) {
    b.auction = bid.auction;
    b.bidder = bid.bidder;
    b.price = bid.price;
  }
  windows.advance(ts);
}
windows.close(); // end of input: every open window fires, in order of end
flush();
