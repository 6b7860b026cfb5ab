// Hand-written baseline for jobs/keyed_count*.flow: what a careful person writes in plain
// TypeScript for "count events per key, print every update as JSON": one Map of per-key
// state objects, output gathered and written in large chunks.
import { writeSync } from "node:fs";

const events = Number(process.argv[2] ?? 5_000_000);
const every = Number(process.argv[3] ?? 1); // print every n-th update of a key

class KeyState {
  count = 0;
  constructor(readonly key: number) {}
}

const state = new Map<number, KeyState>();
let out = "";
for (let e = 1; e <= events; e++) {
  const key = e % 10000;
  let s = state.get(key);
  if (s === undefined) {
    s = new KeyState(key);
    state.set(key, s);
  }
  s.count += 1;
  if (s.count % every === 0) {
    out += JSON.stringify({ key: s.key, count: s.count }) + "\n";
    if (out.length > 65536) {
      writeSync(1, out);
      out = "";
    }
  }
}
writeSync(1, out);
