// Hand-written baseline for queries/q0.flow (Nexmark q0, pass-through): every bid among the
// first `events` events of the Nexmark generator, printed as a JSON line. A plain loop over
// event indexes; output gathered in a string and written in large chunks.
// Usage: node q0.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const gen = new NexmarkGenerator(seed);

let out = "";
for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  out += JSON.stringify(gen.bid(i)) + "\n";
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}
writeSync(1, out);
