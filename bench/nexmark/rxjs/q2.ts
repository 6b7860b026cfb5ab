// RxJS 7 version of queries/q2.flow (Nexmark q2, selection): the generator's bids as an
// Observable, filtered to the auctions whose id is a multiple of 123 and mapped to
// { auction, price }; the subscriber prints each as a JSON line, writing output in large
// chunks.
// Usage: node q2.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { Observable, filter, map } from "rxjs";
import { NexmarkGenerator, kindOf, type Bid } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);

/** The bids among events 0 … n-1. */
function nexmarkBids(n: number, seed: number): Observable<Bid> {
  return new Observable<Bid>((sub) => {
    const gen = new NexmarkGenerator(seed);
    for (let i = 0; i < n && !sub.closed; i++) if (kindOf(i) === 2) sub.next(gen.bid(i));
    sub.complete();
  });
}

const picked$ = nexmarkBids(events, seed).pipe(
  filter((b) => b.auction % 123 === 0),
  map((b) => ({ auction: b.auction, price: b.price })),
);

let out = "";
picked$.subscribe({
  next: (p) => {
    out += JSON.stringify(p) + "\n";
    if (out.length > 65536) {
      writeSync(1, out);
      out = "";
    }
  },
  complete: () => writeSync(1, out),
});
