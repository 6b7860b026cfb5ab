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
import { writeSync } from "node:fs";
import { NexmarkGenerator } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const size = 10_000;

/** One person id in one window: the names of its people (ids are unique: one at most) and the reserves of its auctions. */
class Group {
  names: string[] = [];
  reserves: number[] = [];
}

const gen = new NexmarkGenerator(seed);
const windows = new Map<number, Map<number, Group>>(); // window end -> person id -> group, in first-seen order
let lowest = Infinity; // smallest window end not yet fired
let watermark = -Infinity;
let late = 0;
let out = "";

function write(line: string): void {
  out += line;
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}

/** The group of `id` in the window holding `ts`, or null when that window already fired (the element is late). */
function group(id: number, ts: number): Group | null {
  const end = Math.floor(ts / size) * size + size;
  if (watermark >= end) {
    late++;
    return null;
  }
  let w = windows.get(end);
  if (w === undefined) {
    w = new Map();
    windows.set(end, w);
    if (end < lowest) lowest = end;
  }
  let g = w.get(id);
  if (g === undefined) {
    g = new Group();
    w.set(id, g);
  }
  return g;
}

function fire(end: number): void {
  const w = windows.get(end);
  if (w === undefined) return;
  for (const [id, g] of w) {
    if (g.reserves.length === 0) continue;
    for (const name of g.names) {
      const head = `{"id":${id},"name":${JSON.stringify(name)},"reserve":`;
      for (const reserve of g.reserves) write(head + reserve + "}\n");
    }
  }
  windows.delete(end);
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
  const ts = e.dateTime;
  if (ts > watermark) {
    watermark = ts;
    while (lowest <= watermark) {
      fire(lowest);
      lowest += size;
    }
  }
}
// End of input: the watermark goes to +infinity, everything still open fires in order.
for (const end of [...windows.keys()].sort((a, b) => a - b)) fire(end);
writeSync(1, out);
if (late > 0) process.stderr.write(`warn: q8: ${late} element${late === 1 ? "" : "s"} came too late and ${late === 1 ? "was" : "were"} dropped\n`);
