// Hand-written baseline for queries/q0.flow (Nexmark q0, pass-through): every bid among the
// first `events` events of the Nexmark generator, printed as a JSON line. A plain loop over
// event indexes; output gathered in a string and written in large chunks.
// Usage: node q0.mjs [events = 1000000] [seed = 42]
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";
import { events, flush, seed, write } from "../common.js";

const gen = new NexmarkGenerator(seed);

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  write(JSON.stringify(gen.bid(i)) + "\n");
}
flush();
