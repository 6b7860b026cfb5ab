// RxJS 7 version of bench/nexmark/queries/q8.flow (Nexmark q8, "monitor new users"): the
// people who opened an auction in the same 10 s tumbling window as they joined, a window
// join of persons and auctions on person id = seller. The generator is wrapped as an
// Observable; RxJS's own windows are processing-time, so the event-time window join is a
// `scan` carrying the open windows and the watermark (the largest event time seen, delay
// 0 s, advanced after every event), emitting the pairs of each window it fires (by window
// end, then each person id's first element in the window; a person with each of its
// auctions in arrival order). It reads the same stream as the flowc job, `nexmark(…)`:
// every event, bids included (q8 reads nothing of a bid but its time).
//
//   node q8.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";
import { Observable, endWith, filter, map, mergeMap, scan } from "rxjs";
import { NexmarkGenerator, type Auction, type NexmarkEvent, type Person } from "../../../runtime/nexmark.js";

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 42);
const size = 10_000;

type Event = NexmarkEvent;

/** Events 0 … n - 1 of the generator. */
function nexmark(n: number, seed: number): Observable<Event> {
  return new Observable<Event>((subscriber) => {
    const gen = new NexmarkGenerator(seed);
    for (let i = 0; i < n && !subscriber.closed; i++) {
      subscriber.next(gen.event(i));
    }
    subscriber.complete();
  });
}

interface Row {
  id: number;
  name: string;
  reserve: number;
}

/** One person id in one window. */
interface Group {
  persons: Person[];
  auctions: Auction[];
}

interface JoinState {
  windows: Map<number, Map<number, Group>>; // window end -> person id -> group, in first-seen order
  watermark: number;
  late: number;
  /** The rows of the windows the last step fired. */
  fired: Row[];
}

function fire(st: JoinState, end: number): void {
  for (const [id, g] of st.windows.get(end) ?? []) {
    for (const p of g.persons) for (const a of g.auctions) st.fired.push({ id, name: p.name, reserve: a.reserve });
  }
  st.windows.delete(end);
}

function add(st: JoinState, id: number, ts: number): Group | null {
  const end = Math.floor(ts / size) * size + size;
  if (st.watermark >= end) {
    st.late++; // its window already fired: too late, dropped
    return null;
  }
  let w = st.windows.get(end);
  if (!w) st.windows.set(end, (w = new Map()));
  let g = w.get(id);
  if (!g) w.set(id, (g = { persons: [], auctions: [] }));
  return g;
}

/** One event (null: the end of the input), then the watermark step after it. */
function step(st: JoinState, e: Event | null): JoinState {
  st.fired = [];
  if (e === null) {
    for (const end of [...st.windows.keys()].sort((a, b) => a - b)) fire(st, end);
    return st;
  }
  if (e.person) add(st, e.person.id, e.dateTime)?.persons.push(e.person);
  if (e.auction) add(st, e.auction.seller, e.dateTime)?.auctions.push(e.auction);
  if (e.dateTime > st.watermark) {
    st.watermark = e.dateTime;
    const due = [...st.windows.keys()].filter((end) => end <= st.watermark).sort((a, b) => a - b);
    for (const end of due) fire(st, end);
  }
  return st;
}

const state: JoinState = { windows: new Map(), watermark: -Infinity, late: 0, fired: [] };
let out = "";
nexmark(events, seed)
  .pipe(
    endWith(null),
    scan(step, state),
    filter((st) => st.fired.length > 0),
    mergeMap((st) => st.fired),
    map((row) => JSON.stringify(row) + "\n"),
  )
  .subscribe({
    next(line) {
      out += line;
      if (out.length > 65536) {
        writeSync(1, out);
        out = "";
      }
    },
    complete() {
      writeSync(1, out);
      const n = state.late;
      if (n > 0) process.stderr.write(`warn: q8: ${n} element${n === 1 ? "" : "s"} came too late and ${n === 1 ? "was" : "were"} dropped\n`);
    },
  });
