// Hand-written baseline for queries/q1.flow (Nexmark q1, currency conversion): every bid
// with its price in euros (0.908 * price), printed as a JSON line. A plain loop over event
// indexes; output gathered in a string and written in large chunks.
// Usage: node q1.mjs [events = 1000000] [seed = 42]
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";
import { events, flush, seed, write } from "../common.js";

const gen = new NexmarkGenerator(seed);

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const b = gen.bid(i);
  write(JSON.stringify({ auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime }) + "\n");
}
flush();
