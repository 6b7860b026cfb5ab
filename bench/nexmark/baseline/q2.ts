// Hand-written baseline for queries/q2.flow (Nexmark q2, selection): the auction and price
// of every bid on an auction whose id is a multiple of 123, printed as JSON lines. A plain
// loop over event indexes; output gathered in a string and written in large chunks.
// Usage: node q2.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const gen = new NexmarkGenerator(seed);

let out = "";
for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const b = gen.bid(i);
  if (b.auction % 123 !== 0) continue;
  out += JSON.stringify({ auction: b.auction, price: b.price }) + "\n";
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}
writeSync(1, out);
