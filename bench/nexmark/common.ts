// What the Nexmark baselines (baseline/) and RxJS versions (rxjs/) share: the command line,
// output gathered in a string and written to stdout in large chunks, the "too late" warning,
// and two small data structures of the plain TypeScript programs. No RxJS here.
//
//   node qN.mjs [events = 1000000] [seed = 42]
import { writeSync } from "node:fs";

/** How many events of the generator to read (its bids, or all of them). */
export const events = Number(process.argv[2] ?? 1_000_000);
/** The generator's seed. */
export const seed = Number(process.argv[3] ?? 42);

let out = "";

/** Adds `text` to the output, writing it to stdout once more than 64 KiB have gathered. */
export function write(text: string): void {
  out += text;
  if (out.length > 65536) {
    writeSync(1, out);
    out = "";
  }
}

/** Writes what is left of the output (at the end of the input). */
export function flush(): void {
  writeSync(1, out);
  out = "";
}

/** The warning of a query that dropped `n` late elements (`what`: "bid", "element"), as flowc's runtime words it. */
export function warnLate(query: string, n: number, what: string): void {
  if (n > 0) process.stderr.write(`warn: ${query}: ${n} ${what}${n === 1 ? "" : "s"} came too late and ${n === 1 ? "was" : "were"} dropped\n`);
}

/** A binary min-heap of numbers. */
export class MinHeap {
  private readonly a: number[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): number {
    return this.a[0]!;
  }

  push(x: number): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }

  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const x = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1]! < a[c]!) c++;
        if (a[c]! >= x) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = x;
    }
    return top;
  }
}

/**
 * The event-time windows of a baseline, by window end (the ends `every` ms apart), with the
 * watermark: the largest event time seen (delay 0), advanced after each element. `at(end)`
 * is the window ending at `end`, opened by `create` when new, or undefined when the
 * watermark has already reached its end (too late for it); `advance(ts)` moves the
 * watermark and fires each window it reaches, in order of end; `close()` at the end of input
 * (the watermark goes to +infinity) fires every window still open, in order of end.
 */
export class EventTimeWindows<W> {
  private readonly open = new Map<number, W>(); // window end -> its state
  private lowest = Infinity; // smallest window end not yet fired
  watermark = -Infinity;

  constructor(
    private readonly every: number,
    private readonly create: () => W,
    private readonly fire: (end: number, w: W) => void,
  ) {}

  at(end: number): W | undefined {
    if (end <= this.watermark) return undefined;
    let w = this.open.get(end);
    if (w === undefined) {
      w = this.create();
      this.open.set(end, w);
      if (end < this.lowest) this.lowest = end;
    }
    return w;
  }

  advance(ts: number): void {
    if (ts <= this.watermark) return;
    this.watermark = ts;
    while (this.lowest <= ts) {
      this.fireAt(this.lowest);
      this.lowest += this.every;
    }
  }

  close(): void {
    for (const end of [...this.open.keys()].sort((a, b) => a - b)) this.fireAt(end);
  }

  private fireAt(end: number): void {
    const w = this.open.get(end);
    if (w === undefined) return;
    this.open.delete(end);
    this.fire(end, w);
  }
}
