// RxJS 7 version of queries/q1.flow (Nexmark q1, currency conversion): the generator's bids
// as an Observable, mapped to their price in euros (0.908 * price); the subscriber prints
// each as a JSON line, writing output in large chunks.
// Usage: node q1.mjs [events = 1000000] [seed = 42]
import { map } from "rxjs";
import { events, seed } from "../common.js";
import { nexmarkBids, printJsonLines } from "./common.js";

const euros$ = nexmarkBids(events, seed).pipe(
  map((b) => ({ auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime })),
);

printJsonLines(euros$);
