// RxJS 7 version of queries/q2.flow (Nexmark q2, selection): the generator's bids as an
// Observable, filtered to the auctions whose id is a multiple of 123 and mapped to
// { auction, price }; the subscriber prints each as a JSON line, writing output in large
// chunks.
// Usage: node q2.mjs [events = 1000000] [seed = 42]
import { filter, map } from "rxjs";
import { events, seed } from "../common.js";
import { nexmarkBids, printJsonLines } from "./common.js";

const picked$ = nexmarkBids(events, seed).pipe(
  filter((b) => b.auction % 123 === 0),
  map((b) => ({ auction: b.auction, price: b.price })),
);

printJsonLines(picked$);
