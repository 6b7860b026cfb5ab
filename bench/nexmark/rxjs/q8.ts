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
import type { Auction, NexmarkEvent as Event, Person } from "../../../runtime/nexmark.js";
import { events, seed, warnLate } from "../common.js";
import { nexmark, printJsonLines, scanFiring } from "./common.js";

const size = 10_000;

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
  rows: Row[];
}

function fire(st: JoinState, end: number): void {
  for (const [id, g] of st.windows.get(end) ?? []) {
    for (const p of g.persons) for (const a of g.auctions) st.rows.push({ id, name: p.name, reserve: a.reserve });
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
  st.rows = [];
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

const state: JoinState = { windows: new Map(), watermark: -Infinity, late: 0, rows: [] };
const rows$ = nexmark(events, seed).pipe(scanFiring(step, state));

printJsonLines(rows$, () => warnLate("q8", state.late, "element"));
