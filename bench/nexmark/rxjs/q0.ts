// RxJS 7 version of queries/q0.flow (Nexmark q0, pass-through): the generator's bids as an
// Observable, passed through unchanged; the subscriber prints each as a JSON line, writing
// output in large chunks.
// Usage: node q0.mjs [events = 1000000] [seed = 42]
import { events, seed } from "../common.js";
import { nexmarkBids, printJsonLines } from "./common.js";

const bids$ = nexmarkBids(events, seed);

printJsonLines(bids$);
