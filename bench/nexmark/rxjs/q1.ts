// RxJS 7 version of queries/q1.flow (Nexmark q1, currency conversion): the generator's bids
// as an Observable, mapped to their price in euros (0.908 * price); the subscriber prints
// each as a JSON line, writing output in large chunks.
// Usage: node q1.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { Observable, map } from "rxjs";
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

const euros$ = nexmarkBids(events, seed).pipe(
  map((b) => ({ auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime })),
);

let out = "";
euros$.subscribe({
  next: (e) => {
    out += JSON.stringify(e) + "\n";
    if (out.length > 65536) {
      writeSync(1, out);
      out = "";
    }
  },
  complete: () => writeSync(1, out),
});
