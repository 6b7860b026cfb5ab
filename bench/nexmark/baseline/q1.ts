// Hand-written baseline for queries/q1.flow (Nexmark q1, currency conversion): every bid
// with its price in euros (0.908 * price), printed as a JSON line. A plain loop over event
// indexes; output gathered in a string and written in large chunks.
// Usage: node q1.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const gen = new NexmarkGenerator(seed);

let out = "";
for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const b = gen.bid(i);
  out += JSON.stringify({ auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime }) + "\n";
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}
writeSync(1, out);
