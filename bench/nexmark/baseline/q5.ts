// Hand-written baseline for nexmark/queries/q5.flow (hot items): per auction, count the bids
// in each 10 s event-time window sliding every 2 s; when a window fires, print the auction
// with the most bids in it (ties: the auction whose first bid in the window came first).
// Same semantics as the flowc job: watermark = max event time seen (delay 0), advanced after
// each bid; a window [end - 10 s, end) fires when the watermark reaches its end; at the end
// of input every open window fires, in order of end. The job's second stage (key by end,
// tumbling 2 s, top(1)) sees exactly one window's counts per 2 s window and fires in the
// same watermark step, so the top is taken right when a window fires. One Map of counts
// per window end.
import { writeSync } from "node:fs";
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const size = 10_000;
const every = 2_000;

const gen = new NexmarkGenerator(seed);
const windows = new Map<number, Map<number, number>>(); // window end -> auction -> bids (first-seen order)
let lowest = Infinity; // smallest window end not yet fired
let watermark = -Infinity;
let out = "";

function fire(end: number): void {
  const counts = windows.get(end);
  if (counts === undefined) return;
  windows.delete(end);
  let best = 0;
  let bestN = -1;
  for (const [auction, n] of counts) {
    if (n > bestN) {
      best = auction;
      bestN = n;
    }
  }
  out += `{"end":${end},"top":[${best}]}\n`;
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const bid = gen.bid(i);
  const ts = bid.dateTime;
  // Windows holding ts start at multiples of `every` in (ts - size, ts]; skip those the
  // watermark has already reached (too late for them).
  const lastStart = Math.floor(ts / every) * every;
  for (let start = lastStart; start > ts - size; start -= every) {
    const end = start + size;
    if (end <= watermark) continue;
    let counts = windows.get(end);
    if (counts === undefined) {
      counts = new Map();
      windows.set(end, counts);
      if (end < lowest) lowest = end;
    }
    counts.set(bid.auction, (counts.get(bid.auction) ?? 0) + 1);
  }
  if (ts > watermark) {
    watermark = ts;
    while (lowest <= watermark) {
      fire(lowest);
      lowest += every;
    }
  }
}
// End of input: the watermark goes to +infinity and every open window fires.
for (const end of [...windows.keys()].sort((a, b) => a - b)) fire(end);
writeSync(1, out);
