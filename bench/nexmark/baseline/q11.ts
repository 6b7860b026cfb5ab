// Hand-written baseline for bench/nexmark/queries/q11.flow (Nexmark q11, "user sessions"):
// what a careful person writes in plain TypeScript for "per bidder, count the bids of each
// session (bids at most 10 s apart); print each session when the watermark reaches its
// end". Same generated bids, same watermark (the largest bid time seen, delay 0 s, advanced
// after every bid), same session rules (a session spans [first bid, last bid + gap); a bid
// that connects to a session already fired is too late and dropped), same output order
// (session end, then the order of each session's first bid).
//
//   node q11.mjs [events = 1000000] [seed = 42]
import { NexmarkGenerator, kindOf } from "../../../runtime/nexmark.js";
import { MinHeap, events, flush, seed, warnLate, write } from "../common.js";

const gap = 10_000;

class Session {
  constructor(
    readonly bidder: number,
    public start: number,
    public end: number,
    public bids: number,
    /** Order of the session's first bid (sessions ending together fire in this order). */
    readonly seq: number,
  ) {}
}

const gen = new NexmarkGenerator(seed);
// A bidder's sessions never connect (they would merge), so each starts more than a gap after
// the end of the one before. With a watermark delay of 0 s every bid seen so far is at or
// before the watermark, and an open session ends after it: when a bid arrives its bidder has
// at most one session open, and the bid can only connect to that one or to the latest fired.
const open = new Map<number, Session>(); // bidder -> its open session
const buckets = new Map<number, Session[]>(); // end -> the sessions filed under it (some since grown to a later end)
const ends = new MinHeap(); // the ends of the buckets, not fired yet
// Bidder -> its latest fired session, kept while a bid could connect to it without being too
// late by itself (until the watermark reaches end + gap). Older fired sessions of the bidder
// end more than a gap before it, so they can no longer matter.
const fired = new Map<number, Session>();
const forget: Session[] = []; // fired sessions in end order, to drop from `fired`
let forgotten = 0;
let watermark = -Infinity;
let seq = 0;
let late = 0;

function file(s: Session): void {
  let b = buckets.get(s.end);
  if (b === undefined) {
    b = [];
    buckets.set(s.end, b);
    ends.push(s.end);
  }
  b.push(s);
}

function bid(bidder: number, ts: number): void {
  const f = fired.get(bidder);
  if (f !== undefined && ts <= f.end && ts + gap >= f.start) {
    late++; // it would merge into a session already fired
    return;
  }
  const s = open.get(bidder);
  if (s !== undefined && ts <= s.end && ts + gap >= s.start) {
    s.bids++;
    if (ts < s.start) s.start = ts;
    if (ts + gap > s.end) {
      s.end = ts + gap;
      file(s); // its old entry is passed over: the end no longer matches
    }
  } else if (ts + gap <= watermark) {
    late++;
  } else {
    // A new session. If the bidder had another, this bid is more than a gap after its end,
    // so the watermark step after this bid fires it.
    const n = new Session(bidder, ts, ts + gap, 1, seq++);
    open.set(bidder, n);
    file(n);
  }
}

function advance(w: number): void {
  watermark = w;
  while (ends.size > 0 && ends.peek() <= w) {
    const end = ends.pop();
    const b = buckets.get(end)!;
    buckets.delete(end);
    if (b.length > 1) b.sort((x, y) => x.seq - y.seq);
    for (const s of b) {
      if (s.end !== end) continue; // grown since
      write(`{"bidder":${s.bidder},"bids":${s.bids},"start":${s.start},"end":${s.end}}\n`);
      if (open.get(s.bidder) === s) open.delete(s.bidder);
      fired.set(s.bidder, s);
      forget.push(s);
    }
  }
  while (forgotten < forget.length && forget[forgotten]!.end + gap <= w) {
    const s = forget[forgotten++]!;
    if (fired.get(s.bidder) === s) fired.delete(s.bidder);
  }
  if (forgotten > 4096 && forgotten * 2 > forget.length) {
    forget.splice(0, forgotten);
    forgotten = 0;
  }
}

for (let i = 0; i < events; i++) {
  if (kindOf(i) !== 2) continue;
  const b = gen.bid(i);
  bid(b.bidder, b.dateTime);
  if (b.dateTime > watermark) advance(b.dateTime);
}
advance(Infinity); // end of input: everything still open fires, in order
flush();
warnLate("q11", late, "bid");
