// Hand-written baseline for queries/q2.flow (Nexmark q2, selection): the auction and price
// of every bid on an auction whose id is a multiple of 123, printed as JSON lines. A plain
// loop over event indexes; output gathered in a string and written in large chunks.
// Usage: node q2.mjs [events = 1000000] [seed = 42]
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";
import { events, flush, seed, write } from "../common.js";

const gen = new NexmarkGenerator(seed);

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const b = gen.bid(i);
  if (b.auction % 123 !== 0) continue;
  write(JSON.stringify({ auction: b.auction, price: b.price }) + "\n");
}
flush();
