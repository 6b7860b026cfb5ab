// Hand-written baseline for nexmark/queries/q7.flow (highest bid): per 10 s event-time
// tumbling window over all bids, the highest-priced bid (the earliest on ties), printed as
// { end, best: [{ auction, bidder, price }] } when the watermark reaches the window end.
// Same semantics as the flowc job: watermark = max event time seen (delay 0), advanced after
// each bid; at the end of input every open window fires, in order of end.
import { writeSync } from "node:fs";
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const size = 10_000;

interface Best {
  auction: number;
  bidder: number;
  price: number;
}

const gen = new NexmarkGenerator(seed);
const windows = new Map<number, Best>(); // window end -> highest bid so far
let lowest = Infinity; // smallest window end not yet fired
let watermark = -Infinity;
let out = "";

function fire(end: number): void {
  const b = windows.get(end);
  if (b === undefined) return;
  windows.delete(end);
  out += `{"end":${end},"best":[{"auction":${b.auction},"bidder":${b.bidder},"price":${b.price}}]}\n`;
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const bid = gen.bid(i);
  const ts = bid.dateTime;
  const end = Math.floor(ts / size) * size + size;
  // Too late when the watermark has already reached the window's end.
  if (end > watermark) {
    const b = windows.get(end);
    if (b === undefined) {
      windows.set(end, { auction: bid.auction, bidder: bid.bidder, price: bid.price });
      if (end < lowest) lowest = end;
    } else if (bid.price > b.price) {
      b.auction = bid.auction;
      b.bidder = bid.bidder;
      b.price = bid.price;
    }
  }
  if (ts > watermark) {
    watermark = ts;
    while (lowest <= watermark) {
      fire(lowest);
      lowest += size;
    }
  }
}
// End of input: the watermark goes to +infinity and every open window fires.
for (const end of [...windows.keys()].sort((a, b) => a - b)) fire(end);
writeSync(1, out);
