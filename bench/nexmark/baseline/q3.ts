// Hand-written baseline for queries/q3.flow (Nexmark q3, local item suggestion): people in
// Oregon, Idaho or California joined with their auctions in category 10, as both arrive (an
// unbounded inner join on person id = auction seller). Both sides are kept forever in Maps
// by key; each arriving element is paired with the other side's elements of its key in
// arrival order, then stored. It reads the same stream as the flowc job, `nexmark(…)`: every
// event, bids included (they are generated and passed over). Output gathered in a string
// and written in large chunks.
// Usage: node q3.mjs [events = 1000000] [seed = 42]
import { NexmarkGenerator, type Auction, type Person } from "../../../runtime/nexmark.js";
import { events, flush, seed, write } from "../common.js";

const gen = new NexmarkGenerator(seed);

const personsById = new Map<number, Person[]>();
const auctionsBySeller = new Map<number, Auction[]>();

function emit(p: Person, a: Auction): void {
  write(JSON.stringify({ name: p.name, city: p.city, state: p.state, id: a.id }) + "\n");
}

for (let i = 0; i < events; i++) {
  const e = gen.event(i);
  if (e.person !== null) {
    const p = e.person;
    if (p.state !== "OR" && p.state !== "ID" && p.state !== "CA") continue;
    const matches = auctionsBySeller.get(p.id);
    if (matches !== undefined) for (const a of matches) emit(p, a);
    const list = personsById.get(p.id);
    if (list === undefined) personsById.set(p.id, [p]);
    else list.push(p);
  } else if (e.auction !== null) {
    const a = e.auction;
    if (a.category !== 10) continue;
    const matches = personsById.get(a.seller);
    if (matches !== undefined) for (const p of matches) emit(p, a);
    const list = auctionsBySeller.get(a.seller);
    if (list === undefined) auctionsBySeller.set(a.seller, [a]);
    else list.push(a);
  }
}
flush();
