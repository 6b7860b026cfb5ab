// A time queue in the disk backend's store (timers.ts, dedup.ts): entries ordered by (time,
// order), each with a few primitive values, in a part of the store of their own:
// [table][part 1][time][order] -> values, both numbers written so that their bytes compare
// as the numbers do. New entries wait in a small heap in memory and are written to the store
// QUEUE_BATCH at a time (never while entries are being taken); taking the due entries takes
// the smaller of the heap's first and the store's first (read READ_CHUNK at a time) and
// deletes what was taken from the store. A queue is not checkpointed: its owner rebuilds it
// from its per-key table when a run starts (`load`).

import { MinHeap } from "../../time/heap.js";
import { decodeValues, encodeValues } from "./codec.js";
import type { DiskStore } from "./store.js";

const QUEUE_BATCH = 10_000;
const READ_CHUNK = 1024;

export interface QueueEntry {
  time: number;
  seq: number;
  values: unknown[];
}

const less = (a: QueueEntry, b: QueueEntry): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq);

/** Writes a number so that the bytes of numbers compare as the numbers do. */
function writeOrdered(b: Buffer, x: number, at: number): void {
  b.writeDoubleBE(x === 0 ? 0 : x, at);
  if (b[at]! & 0x80) for (let i = at; i < at + 8; i++) b[i] = ~b[i]! & 0xff;
  else b[at] = b[at]! | 0x80;
}

function readOrdered(b: Buffer, at: number): number {
  const t = Buffer.from(b.subarray(at, at + 8));
  if (t[0]! & 0x80) t[0] = t[0]! & 0x7f;
  else for (let i = 0; i < 8; i++) t[i] = ~t[i]! & 0xff;
  return t.readDoubleBE(0);
}

export class DiskQueue {
  private readonly prefix: Buffer;
  private fresh = new MinHeap<QueueEntry>(less);
  /** Entries read from the store, in order, not taken yet; and the store keys taken. */
  private head: { e: QueueEntry; k: Buffer }[] = [];
  private at = 0;
  private taken: Buffer[] = [];
  private taking = false;

  constructor(
    private readonly store: DiskStore,
    uid: string,
  ) {
    const id = store.register({ uid, drain: () => 0, settled: () => undefined, hits: 0, misses: 0, size: 0 });
    this.prefix = Buffer.alloc(3);
    this.prefix.writeUInt16BE(id, 0);
    this.prefix[2] = 1;
  }

  push(time: number, seq: number, values: unknown[]): void {
    this.fresh.push({ time, seq, values });
    if (!this.taking && this.fresh.size >= QUEUE_BATCH) this.writeFresh();
  }

  /**
   * Takes the entries due at `w` (time ≤ w, or < w when not `inclusive`) in order, calling
   * `f` with each; entries pushed meanwhile are taken too when they are due.
   */
  take(w: number, inclusive: boolean, f: (e: QueueEntry) => void): void {
    const due = (t: number): boolean => (inclusive ? t <= w : t < w);
    this.taking = true;
    try {
      for (;;) {
        const stored = this.nextStored(w, due);
        const h = this.fresh.peek();
        if (h !== undefined && due(h.time) && (stored === null || less(h, stored))) f(this.fresh.pop()!);
        else if (stored !== null) {
          this.taken.push(this.head[this.at]!.k);
          this.at++;
          f(stored);
        } else break;
      }
    } finally {
      this.taking = false;
      this.dropTaken();
    }
    if (this.fresh.size >= QUEUE_BATCH) this.writeFresh();
  }

  /** The first entry, not taken (undefined when the queue is empty). */
  peek(): QueueEntry | undefined {
    const stored = this.nextStored(Infinity, () => true);
    const h = this.fresh.peek();
    if (h !== undefined && (stored === null || less(h, stored))) return h;
    return stored ?? undefined;
  }

  /** Takes the first entry (the one peek() gives). */
  dropFirst(): void {
    const stored = this.nextStored(Infinity, () => true);
    const h = this.fresh.peek();
    if (h !== undefined && (stored === null || less(h, stored))) this.fresh.pop();
    else if (stored !== null) {
      this.taken.push(this.head[this.at]!.k);
      this.at++;
    }
  }

  /** Forgets what is in memory (the store is emptied at the start of a run). */
  reset(): void {
    this.fresh = new MinHeap<QueueEntry>(less);
    this.head = [];
    this.at = 0;
    this.taken = [];
  }

  /** Writes entries straight to the store, in batches (a rebuild at the start of a run). */
  load(entries: Iterable<QueueEntry>): void {
    const db = this.store.db;
    let batch: [Buffer, Buffer][] = [];
    const write = (): void => {
      const b = batch;
      batch = [];
      this.store.writeSync(() => {
        for (const [k, v] of b) void db.put(k, v);
      });
    };
    for (const e of entries) {
      batch.push([this.key(e.time, e.seq), encodeValues(e.values)]);
      if (batch.length >= QUEUE_BATCH) write();
    }
    write();
  }

  private key(time: number, seq: number): Buffer {
    const k = Buffer.allocUnsafe(19);
    this.prefix.copy(k, 0);
    writeOrdered(k, time, 3);
    writeOrdered(k, seq, 11);
    return k;
  }

  /** The store's first entry not taken yet, if due (a chunk read when the last one is used up). */
  private nextStored(w: number, due: (t: number) => boolean): QueueEntry | null {
    if (this.at >= this.head.length) {
      this.dropTaken();
      this.head = [];
      this.at = 0;
      const end = Buffer.alloc(19);
      this.prefix.copy(end, 0);
      writeOrdered(end, w, 3);
      end.fill(0xff, 11);
      for (const { key, value } of this.store.db.getRange({ start: this.prefix, end, limit: READ_CHUNK })) {
        const k = Buffer.from(key as Buffer);
        this.head.push({ e: { time: readOrdered(k, 3), seq: readOrdered(k, 11), values: decodeValues(value as Buffer) }, k });
      }
    }
    const h = this.head[this.at];
    return h !== undefined && due(h.e.time) ? h.e : null;
  }

  /** Deletes the store's entries that were taken. */
  private dropTaken(): void {
    if (this.taken.length === 0) return;
    const db = this.store.db;
    const gone = this.taken;
    this.taken = [];
    this.store.writeSync(() => {
      for (const k of gone) void db.remove(k);
    });
  }

  /** Writes the new entries to the store, in one transaction. */
  private writeFresh(): void {
    const db = this.store.db;
    const fresh = this.fresh;
    this.fresh = new MinHeap<QueueEntry>(less);
    // Entries read ahead are read again after the write (a new one may come before them).
    this.dropTaken();
    this.head = [];
    this.at = 0;
    this.store.writeSync(() => {
      for (let e = fresh.pop(); e !== undefined; e = fresh.pop()) void db.put(this.key(e.time, e.seq), encodeValues(e.values));
    });
  }
}
