// Hand-written baseline for queries/q3.flow (Nexmark q3, local item suggestion): people in
// Oregon, Idaho or California joined with their auctions in category 10, as both arrive (an
// unbounded inner join on person id = auction seller). Both sides are kept forever in Maps
// by key; each arriving element is paired with the other side's elements of its key in
// arrival order, then stored. It reads the same stream as the flowc job, `nexmark(…)`: every
// event, bids included (they are generated and passed over). Output gathered in a string
// and written in large chunks.
// Usage: node q3.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { NexmarkGenerator, type Auction, type Person } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const gen = new NexmarkGenerator(seed);

const personsById = new Map<number, Person[]>();
const auctionsBySeller = new Map<number, Auction[]>();
let out = "";

function emit(p: Person, a: Auction): void {
  out += JSON.stringify({ name: p.name, city: p.city, state: p.state, id: a.id }) + "\n";
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
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
writeSync(1, out);
