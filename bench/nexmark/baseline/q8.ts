// Hand-written baseline for bench/nexmark/queries/q8.flow (Nexmark q8, "monitor new users"):
// what a careful person writes in plain TypeScript for "the people who opened an auction in
// the same 10 s tumbling window as they joined" (a window join of persons and auctions on
// person id = seller). Same generated events, same watermark (the largest event time seen,
// delay 0 s, advanced after every event, bids included), same output order (window end,
// then each person id's first element in the window; a person with each of its auctions in
// arrival order). It reads the same stream as the flowc job, `nexmark(…)`: every event, bids
// included (q8 reads nothing of a bid but its time).
//
//   node q8.mjs [events = 1000000] [seed = 42]
import { NexmarkGenerator } from "../../../runtime/nexmark.js";
import { EventTimeWindows, events, flush, seed, warnLate, write } from "../common.js";

const size = 10_000;

/** One person id in one window: the names of its people (ids are unique: one at most) and the reserves of its auctions. */
class Group {
  names: string[] = [];
  reserves: number[] = [];
}

/** Prints the pairs of a window: per person id in first-seen order, each person with each of its auctions. */
function fire(_end: number, w: Map<number, Group>): void {
  for (const [id, g] of w) {
    if (g.reserves.length === 0) continue;
    for (const name of g.names) {
      const head = `{"id":${id},"name":${JSON.stringify(name)},"reserve":`;
      for (const reserve of g.reserves) write(head + reserve + "}\n");
    }
  }
}

const gen = new NexmarkGenerator(seed);
// Window end -> person id -> group, in first-seen order.
const windows = new EventTimeWindows<Map<number, Group>>(size, () => new Map(), fire);
let late = 0;

/** The group of `id` in the window holding `ts`, or null when that window already fired (the element is late). */
function group(id: number, ts: number): Group | null {
  const w = windows.at(Math.floor(ts / size) * size + size);
  if (w === undefined) {
    late++;
    return null;
  }
  let g = w.get(id);
  if (g === undefined) {
    g = new Group();
    w.set(id, g);
  }
  return g;
}

for (let i = 0; i < events; i++) {
  const e = gen.event(i);
  if (e.person !== null) {
    const p = e.person;
    group(p.id, p.dateTime)?.names.push(p.name);
  } else if (e.auction !== null) {
    const a = e.auction;
    group(a.seller, a.dateTime)?.reserves.push(a.reserve);
  }
  windows.advance(e.dateTime);
}
windows.close(); // end of input: the watermark goes to +infinity, everything still open fires in order
flush();
warnLate("q8", late, "element");
