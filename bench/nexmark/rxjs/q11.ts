// RxJS 7 version of bench/nexmark/queries/q11.flow (Nexmark q11, "user sessions"): per
// bidder, the number of bids in each session (bids at most 10 s apart). The generator's bids
// are wrapped as an Observable; RxJS's own windows are processing-time, so the event-time
// session windows are a `scan` carrying the open sessions and the watermark (the largest bid
// time seen, delay 0 s, advanced after every bid), emitting the sessions each step fires (by
// session end, then the order of each session's first bid). A session spans [first bid,
// last bid + gap); a bid that connects to a session already fired is too late and dropped.
//
//   node q11.mjs [events = 1000000] [seed = 42]
import type { Bid } from "../../../runtime/nexmark.js";
import { MinHeap, events, seed, warnLate } from "../common.js";
import { nexmarkBids, printJsonLines, scanFiring } from "./common.js";

const gap = 10_000;

interface Session {
  bidder: number;
  start: number;
  end: number;
  bids: number;
  /** Order of the first bid (sessions ending together fire in this order). */
  seq: number;
}

interface Row {
  bidder: number;
  bids: number;
  start: number;
  end: number;
}

interface SessionState {
  // A bidder's sessions never connect (they would merge), so each starts more than a gap
  // after the end of the one before. With a watermark delay of 0 s every bid seen so far is
  // at or before the watermark, and an open session ends after it: when a bid arrives its
  // bidder has at most one session open, and the bid can only connect to that one or to the
  // latest fired.
  open: Map<number, Session>; // bidder -> its open session
  byEnd: Map<number, Session[]>; // end -> the sessions filed under it (some since grown to a later end)
  ends: MinHeap; // the ends of `byEnd`
  /** Bidder -> its latest fired session, while a bid could still connect to it (until the watermark reaches end + gap). */
  fired: Map<number, Session>;
  watermark: number;
  seq: number;
  late: number;
  /** The rows of the sessions the last step fired. */
  rows: Row[];
}

const connects = (s: Session | undefined, ts: number): s is Session => s !== undefined && ts <= s.end && ts + gap >= s.start;

function file(st: SessionState, s: Session): void {
  const list = st.byEnd.get(s.end);
  if (list) list.push(s);
  else {
    st.byEnd.set(s.end, [s]);
    st.ends.push(s.end);
  }
}

function addBid(st: SessionState, bidder: number, ts: number): void {
  const s = st.open.get(bidder);
  if (connects(st.fired.get(bidder), ts)) {
    st.late++; // it would merge into a session already fired
  } else if (connects(s, ts)) {
    s.bids++;
    s.start = Math.min(s.start, ts);
    if (ts + gap > s.end) {
      s.end = ts + gap;
      file(st, s); // its old entry is passed over: the end no longer matches
    }
  } else if (ts + gap <= st.watermark) {
    st.late++;
  } else {
    // A new session. If the bidder had another, this bid is more than a gap after its end,
    // so the watermark step after this bid fires it.
    const n: Session = { bidder, start: ts, end: ts + gap, bids: 1, seq: st.seq++ };
    st.open.set(bidder, n);
    file(st, n);
  }
}

/** Fires the sessions the watermark `w` reached, by end and then first bid. */
function advance(st: SessionState, w: number): void {
  st.watermark = w;
  while (st.ends.size > 0 && st.ends.peek() <= w) {
    const end = st.ends.pop();
    const due = st.byEnd.get(end)!.filter((s) => s.end === end).sort((x, y) => x.seq - y.seq);
    st.byEnd.delete(end);
    for (const s of due) {
      st.rows.push({ bidder: s.bidder, bids: s.bids, start: s.start, end: s.end });
      if (st.open.get(s.bidder) === s) st.open.delete(s.bidder);
      // Re-inserted, so that `fired` stays in end order (oldest first) for the sweep below.
      st.fired.delete(s.bidder);
      st.fired.set(s.bidder, s);
    }
  }
  for (const [bidder, s] of st.fired) {
    if (s.end + gap > w) break;
    st.fired.delete(bidder);
  }
}

/** One bid (null: the end of the input), then the watermark step after it. */
function step(st: SessionState, b: Bid | null): SessionState {
  st.rows = [];
  if (b === null) advance(st, Infinity);
  else {
    addBid(st, b.bidder, b.dateTime);
    if (b.dateTime > st.watermark) advance(st, b.dateTime);
  }
  return st;
}

const state: SessionState = { open: new Map(), byEnd: new Map(), ends: new MinHeap(), fired: new Map(), watermark: -Infinity, seq: 0, late: 0, rows: [] };
const rows$ = nexmarkBids(events, seed).pipe(scanFiring(step, state));

printJsonLines(rows$, () => warnLate("q11", state.late, "bid"));
