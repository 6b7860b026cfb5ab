// Hand-written baseline for jobs/sliding_count.flow and jobs/tumbling_max.flow: what a
// careful person writes in plain TypeScript for "per auction and event-time window, count
// the bids (or take the highest price); print each window's results when the watermark
// reaches its end". Same generated bids, same watermark rule (max(ts) - 1 s, advanced after
// each element), same output order (window end, then each auction's first bid in the
// window): one Map of per-auction state per window end, output written in large chunks.
import { writeSync } from "node:fs";

const kind = process.argv[2] ?? "sliding"; // "sliding" (10 s every 2 s, count) | "tumbling" (10 s, max price)
const events = Number(process.argv[3] ?? 5_000_000);
const size = 10_000;
const every = kind === "sliding" ? 2_000 : 10_000;
const delay = 1_000;

class Acc {
  n = 0;
  max = -Infinity;
}

const windows = new Map<number, Map<number, Acc>>(); // window end -> auction -> state
let lowest = Infinity; // smallest window end not yet fired
let watermark = -Infinity;
let out = "";

function write(line: string): void {
  out += line;
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}

function fire(end: number): void {
  const w = windows.get(end);
  if (w === undefined) return;
  for (const [auction, acc] of w) {
    write(kind === "sliding" ? JSON.stringify({ auction, end, bids: acc.n }) + "\n" : JSON.stringify({ auction, end, max_price: acc.max }) + "\n");
  }
  windows.delete(end);
}

for (let i = 1; i <= events; i++) {
  const ts = i + ((i * 7919) % 500);
  const auction = (i * 7919) % 1000;
  const price = (i * 31337) % 10000;
  // Every window [end - size, end) holding ts, ends aligned to `every`; skip the ones the
  // watermark has already reached (the element is late for them).
  const first = Math.floor(ts / every) * every + every;
  for (let end = first; end - size <= ts; end += every) {
    if (watermark >= end) continue;
    let w = windows.get(end);
    if (w === undefined) {
      w = new Map();
      windows.set(end, w);
      if (end < lowest) lowest = end;
    }
    let acc = w.get(auction);
    if (acc === undefined) {
      acc = new Acc();
      w.set(auction, acc);
    }
    acc.n += 1;
    if (price > acc.max) acc.max = price;
  }
  if (ts - delay > watermark) {
    watermark = ts - delay;
    while (lowest <= watermark) {
      fire(lowest);
      lowest += every;
    }
  }
}
for (const end of [...windows.keys()].sort((a, b) => a - b)) fire(end);
writeSync(1, out);
