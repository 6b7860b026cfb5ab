// `file(path, format: …)`: a regular file read synchronously in chunks with positioned
// reads, so that a checkpoint records a byte offset and line to resume from. Opened before
// any output is touched (a missing input, a folder or a FIFO stops the job: runtime/paths.ts).

import { closeSync, fstatSync, readSync } from "node:fs";
import type { SourceBinding, SourceManifest } from "../api.js";
import { describeFsError, JobError } from "../errors.js";
import { openInput } from "../paths.js";
import { BATCH_SIZE, type BadRecords, type BatchResult, type Source, type SourceConnector, type SourcePosition, type SourceProgress } from "./contract.js";
import { bindFastJson, textDecoders, type CsvDecoder, type LineBuffer, type LineDecoder } from "./lines.js";

/** How often a followed file (`follow: true`) is looked at again when it has nothing new (ms). */
export const FOLLOW_POLL_MS = 50;

/** A followed file has nothing new yet. */
const WAIT = Symbol("wait");

type FileManifest = Extract<SourceManifest, { connector: "file" }>;

/**
 * A file read synchronously in chunks: jsonl, csv (with header) or text lines. With
 * `follow: true` it never ends: at its end it waits for more to be appended (a last line
 * without its line break waits for it), and its position goes into checkpoints as usual.
 */
export class FileSource implements Source {
  readonly replayable = true;
  /** A followed file waits for more at its end. */
  readonly live: boolean;
  private closed = false;
  private fd: number;
  /** The file offset of the next read. */
  private filePos = 0;
  private readonly lines: LineBuffer;
  private readonly lineDecoder: LineDecoder | null;
  private readonly csv: CsvDecoder | null;
  private records = 0;
  /**
   * After a seek into a batch that was consumed part way: how many of its records to drop.
   * The batch is read again from the same position, so it is the same batch; its bad
   * records were handled (dead-lettered) before the checkpoint and are not handled again.
   */
  private replaySkip = 0;
  /** The position sought, while its skip is still to be replayed. */
  private sought: SourcePosition | null = null;

  constructor(
    readonly name: string,
    private readonly m: FileManifest,
    private readonly errors: BadRecords,
  ) {
    // A regular file, or FLOW5002 (a folder, a FIFO: runtime/paths.ts).
    this.fd = openInput(m.path, name);
    ({ lines: this.lines, csv: this.csv, lineDecoder: this.lineDecoder } = textDecoders(name, m.path, m, errors));
    this.live = m.follow === true;
  }

  /** A followed file at its end: nothing new yet (or it was cut, which cannot be followed). */
  private atEnd(): void {
    let size: number;
    try {
      size = fstatSync(this.fd).size;
    } catch (e) {
      throw new JobError("FLOW5002", `cannot read ${this.m.path}: ${describeFsError(e)}`);
    }
    if (size < this.filePos) {
      throw new JobError("FLOW5002", `${this.m.path} was cut to ${size} bytes while source \`${this.name}\` followed it (it had read ${this.filePos})`, "a followed file may only grow; start the job with --fresh to read it again from the beginning");
    }
  }

  private read(into: Buffer, at: number, length: number): number {
    try {
      const n = readSync(this.fd, into, at, length, this.filePos);
      this.filePos += n;
      return n;
    } catch (e) {
      throw new JobError("FLOW5002", `cannot read ${this.m.path}: ${describeFsError(e)}`);
    }
  }

  next(): BatchResult | Promise<BatchResult> {
    const r = this.next1();
    if (r !== WAIT) return r;
    // Followed and nothing new: look again a little later (until the source is closed).
    return new Promise<void>((resolve) => setTimeout(resolve, FOLLOW_POLL_MS)).then(() => (this.closed ? null : this.next()));
  }

  private next1(): BatchResult | typeof WAIT {
    if (this.replaySkip === 0) return this.read1();
    const skip = this.replaySkip;
    this.replaySkip = 0;
    this.sought = null;
    this.errors.replaying = true;
    try {
      const batch = this.read1();
      if (batch === null || batch === WAIT || batch.length < skip) throw new Error(`internal: the input of \`${this.name}\` changed since the checkpoint`);
      this.records -= skip;
      return batch.slice(skip);
    } finally {
      this.errors.replaying = false;
    }
  }

  private read1(): BatchResult | typeof WAIT {
    if (this.errors.failure) throw this.errors.failure;
    const out: unknown[] = [];
    let waiting = false;
    if (this.csv) {
      let ended = false;
      while (!this.errors.failure) {
        const r = this.csv.decode(out, BATCH_SIZE);
        if (r !== "input") {
          ended = r === "end";
          break;
        }
        const [buf, at, len] = this.lines.space();
        const n = this.read(buf, at, len);
        if (n === 0 && this.live) {
          this.atEnd();
          waiting = true;
          break;
        }
        this.lines.wrote(n);
      }
      this.records += out.length;
      if (out.length === 0 && this.errors.failure) throw this.errors.failure;
      if (out.length === 0 && waiting) return WAIT;
      return out.length === 0 && ended ? null : out;
    }
    const decoder = this.lineDecoder!;
    const lines = this.lines;
    while (out.length < BATCH_SIZE && !this.errors.failure) {
      const line = lines.nextLine();
      if (line === null) {
        if (lines.eof) break;
        const [buf, at, len] = lines.space();
        const n = this.read(buf, at, len);
        if (n === 0 && this.live) {
          this.atEnd();
          waiting = true;
          break;
        }
        lines.wrote(n);
        continue;
      }
      decoder.decode(line, lines.lineNo, out);
    }
    this.records += out.length;
    if (out.length === 0 && this.errors.failure) throw this.errors.failure;
    if (out.length === 0 && waiting) return WAIT;
    return out.length === 0 && lines.eof ? null : out;
  }

  bind(binding: SourceBinding<unknown>): void {
    bindFastJson(this.lineDecoder, binding);
  }

  position(): SourcePosition {
    // Before the replay, the position is still the one sought (with its skip).
    if (this.sought) return this.sought;
    if (this.csv) return { records: this.records, offset: this.csv.offset, line: this.csv.line, ...(this.csv.header ? { header: this.csv.header } : {}) };
    return { records: this.records, offset: this.lines.offset, line: this.lines.lineNo };
  }

  /** Bytes read of the file's size (now: a file may grow while it is read); none when followed. */
  progress(): SourceProgress | null {
    if (this.live || this.closed) return null;
    const done = this.position().offset ?? 0;
    return { done, total: Math.max(done, fstatSync(this.fd).size), unit: "bytes" };
  }

  seek(p: SourcePosition): void {
    const offset = p.offset ?? 0;
    this.filePos = offset;
    this.lines.reset(offset, p.line ?? 0);
    this.csv?.restart(offset, p.line ?? 0, p.header ?? null);
    this.records = p.records + (p.skip ?? 0);
    this.replaySkip = p.skip ?? 0;
    this.sought = this.replaySkip > 0 ? { ...p } : null;
  }

  close(): void {
    this.closed = true;
    closeSync(this.fd);
  }
}

export const connector: SourceConnector<FileManifest> = {
  open: (m, ctx) => new FileSource(m.name, m, ctx.errors),
};
