// The newest entries of the checkpoint history (history.jsonl), read from the file's end:
// the dashboard asks for them every few seconds (GET /checkpoints?last=N), and the history
// of a job that has run for weeks is long.

import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";

/** The newest `last` lines of a file of JSON lines, parsed; none when there is no file. */
export function lastLines(path: string | null, last: number): unknown[] {
  if (path === null || !existsSync(path)) return [];
  const fd = openSync(path, "r");
  try {
    let end = fstatSync(fd).size;
    let text = "";
    // Back from the end, 64 KiB at a time, until more than `last` lines are in hand.
    while (end > 0) {
      const n = Math.min(65536, end);
      const buf = Buffer.alloc(n);
      readSync(fd, buf, 0, n, end - n);
      end -= n;
      text = buf.toString("latin1") + text;
      if (text.split("\n").filter((l) => l.trim()).length > last) break;
    }
    const lines = Buffer.from(text, "latin1").toString("utf8").split("\n").filter((l) => l.trim());
    // Reading stopped inside the file: its first line may be cut, and only whole ones count.
    return lines.slice(end > 0 ? 1 : 0).slice(-last).map((l) => JSON.parse(l) as unknown);
  } finally {
    closeSync(fd);
  }
}
