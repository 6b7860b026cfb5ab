// Hand-written baseline for jobs/jsonl_count.flow: what a careful person writes to read a
// jsonl file of bids and keep a running count per auction — the file read in 1 MiB chunks,
// split into lines, JSON.parse of each line, a Map of counts; every 10th count printed.
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

const path = process.argv[2]!;
const fd = openSync(path, "r");
const buf = Buffer.allocUnsafe(1 << 20);
const decoder = new StringDecoder("utf8");
const counts = new Map<number, number>();
let rest = "";
let out = "";

function line(text: string): void {
  if (text.length === 0) return;
  const bid = JSON.parse(text) as { auction: number };
  const n = (counts.get(bid.auction) ?? 0) + 1;
  counts.set(bid.auction, n);
  if (n % 10 === 0) {
    out += `{"auction":${bid.auction},"bids":${n}}\n`;
    if (out.length > 65536) {
      writeSync(1, out);
      out = "";
    }
  }
}

for (;;) {
  const got = readSync(fd, buf, 0, buf.length, null);
  if (got === 0) break;
  const text = rest + decoder.write(buf.subarray(0, got));
  let start = 0;
  for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
    line(text.slice(start, nl));
    start = nl + 1;
  }
  rest = text.slice(start);
}
line(rest + decoder.end());
closeSync(fd);
writeSync(1, out);
