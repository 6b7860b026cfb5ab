// Sources hand out batches of typed records and keep their position (values index, sequence
// value, file byte offset and line, csv header) so that a checkpoint records where to resume
// and a restore seeks back there. Files are read synchronously in large chunks with
// positioned reads; stdin asynchronously (it cannot be replayed). Bad records go through the
// source's on_error policy.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parse as csvParse, type Parser } from "csv-parse";
import type { OnErrorManifest, SourceManifest } from "./api.js";
import { csvRowConverter, jsonConverter, type Converter } from "./convert.js";
import { BadRecordError, ConversionError, describeFsError, JobError } from "./errors.js";
import type { LineWriter } from "./sinks.js";

export const BATCH_SIZE = 1024;

/** How often a followed file (`follow: true`) is looked at again when it has nothing new (ms). */
export const FOLLOW_POLL_MS = 50;

/** A followed file has nothing new yet. */
const WAIT = Symbol("wait");

export type BatchResult = unknown[] | null;

export interface SourcePosition {
  /** Records handed out so far (values: the index; sequence: the count). */
  records: number;
  /** File sources: the byte offset after the last record handed out, and that line's number. */
  offset?: number;
  line?: number;
  /** csv: the header's cells (a resumed source does not read the header again). */
  header?: string[];
  /** Records to read again and drop after seeking (a batch consumed part way). */
  skip?: number;
  /** Jobs with event time: the source's watermark at the checkpoint (null: none yet). */
  watermark?: number | null;
}

export interface Source {
  readonly name: string;
  readonly replayable: boolean;
  /** The next batch, null at the end of the input; a promise for asynchronous inputs. */
  next(): BatchResult | Promise<BatchResult>;
  /** The position after the last record handed out. */
  position(): SourcePosition;
  /** Resumes at a position taken from a checkpoint. */
  seek(p: SourcePosition): void;
  close(): void;
}

/** What to do with a bad record: stop, count it, or write it to a dead-letter file. */
export class RecordErrors {
  skipped = 0;
  /**
   * With on_error "fail": the bad record, held until the records before it have gone
   * through the job (so the output does not depend on where batches end).
   */
  failure: BadRecordError | null = null;
  /** While re-reading records a checkpoint already covers: they were handled then. */
  replaying = false;

  constructor(
    private readonly policy: OnErrorManifest,
    /** Where dead letters go (set once the writer is open). */
    public deadLetter: LineWriter | null,
  ) {}

  handle(err: BadRecordError): void {
    if (this.replaying) return;
    if (this.policy.policy === "fail") {
      this.failure ??= err;
      return;
    }
    this.skipped++;
    if (this.deadLetter) {
      this.deadLetter.write(JSON.stringify({ source: err.source, file: err.file, line: err.line, field: err.field, error: err.problem, record: err.raw }));
    }
  }
}

export class ValuesSource implements Source {
  readonly replayable = true;
  private index = 0;

  constructor(
    readonly name: string,
    private readonly values: readonly unknown[],
  ) {}

  next(): BatchResult {
    if (this.index >= this.values.length) return null;
    const batch = this.values.slice(this.index, this.index + BATCH_SIZE);
    this.index += batch.length;
    return batch;
  }

  position(): SourcePosition {
    return { records: this.index };
  }

  seek(p: SourcePosition): void {
    this.index = p.records + (p.skip ?? 0);
  }

  close(): void {}
}

export class SequenceSource implements Source {
  readonly replayable = true;
  private nextValue: number;
  private records = 0;

  constructor(
    readonly name: string,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.nextValue = from;
  }

  next(): BatchResult {
    if (this.nextValue > this.to) return null;
    const n = Math.min(BATCH_SIZE, this.to - this.nextValue + 1);
    const batch = new Array<number>(n);
    for (let i = 0; i < n; i++) batch[i] = this.nextValue + i;
    this.nextValue += n;
    this.records += n;
    return batch;
  }

  position(): SourcePosition {
    return { records: this.records };
  }

  seek(p: SourcePosition): void {
    this.records = p.records + (p.skip ?? 0);
    this.nextValue = this.from + this.records;
  }

  close(): void {}
}

/**
 * Splits byte chunks into lines, tracking the byte offset after each line and its number.
 * The caller appends chunks and takes lines until it gets null (needs more input).
 */
export class LineBuffer {
  private buf: Buffer = Buffer.allocUnsafe(1 << 20);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private first = true;
  eof = false;
  lineNo = 0;
  /** Byte offset just after the last line taken. */
  offset = 0;

  /** Starts over at a file offset (after a seek); `lineNo` is the line before it. */
  reset(offset: number, lineNo: number): void {
    this.start = this.end = 0;
    this.base = this.offset = offset;
    this.lineNo = lineNo;
    this.first = offset === 0;
    this.eof = false;
  }

  /** Room to read into: [buffer, at, length]. Compacts or grows as needed. */
  space(min = 1 << 16): [Buffer, number, number] {
    if (this.start > 0 && this.buf.length - this.end < min) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (this.buf.length - this.end < min) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + min));
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    return [this.buf, this.end, this.buf.length - this.end];
  }

  /** Records that `n` bytes were written at the position `space` gave (0: the end). */
  wrote(n: number): void {
    if (n === 0) {
      this.eof = true;
      return;
    }
    this.end += n;
    if (this.first && this.end >= 3) {
      if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) {
        this.start = 3;
        this.offset = this.base + 3;
      }
      this.first = false;
    }
  }

  append(chunk: Buffer): void {
    const [buf, at] = this.space(chunk.length);
    chunk.copy(buf, at);
    this.wrote(chunk.length);
  }

  /** The next complete line (without \n or \r\n), or null when more input is needed / at the end. */
  nextLine(): string | null {
    if (this.start >= this.end) return null;
    let nl = this.buf.indexOf(10, this.start);
    if (nl < 0 || nl >= this.end) {
      if (!this.eof) return null;
      nl = this.end; // the last line has no line break
    }
    let stop = nl;
    if (stop > this.start && this.buf[stop - 1] === 13) stop--;
    const text = this.buf.toString("utf8", this.start, stop);
    this.start = Math.min(nl + 1, this.end);
    this.offset = this.base + this.start;
    this.lineNo++;
    return text;
  }
}

type LineFormat = "jsonl" | "text";

/** Turns lines of jsonl or text into typed records, through the on_error policy. */
class LineDecoder {
  private readonly convert: Converter;

  constructor(
    private readonly sourceName: string,
    private readonly file: string,
    private readonly format: LineFormat,
    m: SourceManifest,
    private readonly errors: RecordErrors,
  ) {
    this.convert = jsonConverter(m.type);
  }

  /** Decodes one line into `out`; blank jsonl lines are skipped. */
  decode(line: string, lineNo: number, out: unknown[]): void {
    if (this.format === "text") {
      out.push(line);
      return;
    }
    if (line.length === 0 || /^\s*$/.test(line)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      this.errors.handle(new BadRecordError(this.sourceName, this.file, lineNo, null, `not valid JSON (${(e as Error).message})`, line));
      return;
    }
    try {
      out.push(this.convert(raw, ""));
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      this.errors.handle(new BadRecordError(this.sourceName, this.file, lineNo, e.path || null, e.problem, line));
    }
  }
}

/** Turns csv records (the first one the header) into typed records, tracking byte offsets. */
class CsvDecoder {
  private parser!: Parser;
  private convert: ((cells: string[], line: number) => unknown) | null = null;
  private failed: Error | null = null;
  private width = 0;
  /** File offset where the current parser started, and the line before it. */
  private base = 0;
  private lineBase = 0;
  header: string[] | null = null;
  /** The position after the last row taken. */
  offset = 0;
  line = 0;

  constructor(
    private readonly sourceName: string,
    private readonly file: string,
    private readonly m: SourceManifest,
    private readonly errors: RecordErrors,
  ) {
    this.restart(0, 0);
  }

  /** A new parser reading from a file offset; with a known header, it is not read again. */
  restart(offset: number, line: number, header: string[] | null = this.header): void {
    this.base = this.offset = offset;
    this.lineBase = this.line = line;
    this.failed = null;
    this.parser = csvParse({ info: true, relax_column_count: true, bom: offset === 0, skip_empty_lines: true });
    this.parser.on("error", (e) => {
      this.failed = e;
    });
    if (header) this.useHeader(header, line);
  }

  write(chunk: Buffer, out: unknown[]): void {
    this.parser.write(chunk);
    this.drain(out);
  }

  end(out: unknown[]): void {
    this.parser.end();
    this.drain(out);
  }

  private drain(out: unknown[]): void {
    let r: { record: string[]; info: { lines: number; bytes: number } } | null;
    while ((r = this.parser.read()) !== null) {
      this.row(r.record, this.lineBase + r.info.lines, out);
      this.offset = this.base + r.info.bytes;
      this.line = this.lineBase + r.info.lines;
    }
    if (this.failed) {
      const e = this.failed as Error & { lines?: number };
      this.errors.handle(new BadRecordError(this.sourceName, this.file, this.lineBase + (e.lines ?? 0), null, `not valid csv (${e.message})`, ""));
      this.restart(this.offset, this.line);
    }
  }

  private useHeader(cells: string[], line: number): void {
    try {
      this.convert = csvRowConverter(this.m.type, cells);
      this.width = cells.length;
      this.header = cells;
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      throw new JobError("FLOW5001", `bad csv header in ${this.file}, line ${line}: ${e.problem}`);
    }
  }

  private row(cells: string[], line: number, out: unknown[]): void {
    if (this.errors.failure) return; // on_error "fail": nothing after the bad record
    if (!this.convert) {
      this.useHeader(cells, line);
      return;
    }
    if (cells.length !== this.width) {
      this.errors.handle(new BadRecordError(this.sourceName, this.file, line, null, `expected ${this.width} columns like the header, found ${cells.length}`, cells.join(",")));
      return;
    }
    try {
      out.push(this.convert(cells, line));
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      this.errors.handle(new BadRecordError(this.sourceName, this.file, line, e.path || null, e.problem, cells.join(",")));
    }
  }
}

/**
 * A file read synchronously in chunks: jsonl, csv (with header) or text lines. With
 * `follow: true` it never ends: at its end it waits for more to be appended (a last line
 * without its line break waits for it), and its position goes into checkpoints as usual.
 */
export class FileSource implements Source {
  readonly replayable = true;
  private readonly follow: boolean;
  private closed = false;
  private fd: number;
  /** The file offset of the next read. */
  private filePos = 0;
  private readonly lines = new LineBuffer();
  private readonly lineDecoder: LineDecoder | null;
  private readonly csv: CsvDecoder | null;
  private records = 0;
  private csvDone = false;
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
    private readonly m: Extract<SourceManifest, { connector: "file" }>,
    private readonly errors: RecordErrors,
  ) {
    try {
      this.fd = openSync(m.path, "r");
    } catch (e) {
      throw new JobError("FLOW5002", `cannot read ${m.path} for source \`${name}\`: ${describeFsError(e)}`, "paths in connectors are resolved against the working directory of the running job");
    }
    this.csv = m.format === "csv" ? new CsvDecoder(name, m.path, m, errors) : null;
    this.lineDecoder = m.format === "csv" ? null : new LineDecoder(name, m.path, m.format, m, errors);
    this.follow = m.follow === true;
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
      while (out.length < BATCH_SIZE && !this.csvDone && !this.errors.failure) {
        // A new buffer per read: the csv parser may keep a reference to the previous one.
        const chunk = Buffer.allocUnsafe(1 << 16);
        const n = this.read(chunk, 0, chunk.length);
        if (n === 0 && this.follow) {
          this.atEnd();
          waiting = true;
          break;
        }
        if (n === 0) {
          this.csv.end(out);
          this.csvDone = true;
        } else this.csv.write(chunk.subarray(0, n), out);
      }
      this.records += out.length;
      if (out.length === 0 && this.errors.failure) throw this.errors.failure;
      if (out.length === 0 && waiting) return WAIT;
      return out.length === 0 && this.csvDone ? null : out;
    }
    const decoder = this.lineDecoder!;
    const lines = this.lines;
    while (out.length < BATCH_SIZE && !this.errors.failure) {
      const line = lines.nextLine();
      if (line === null) {
        if (lines.eof) break;
        const [buf, at, len] = lines.space();
        const n = this.read(buf, at, len);
        if (n === 0 && this.follow) {
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

  position(): SourcePosition {
    // Before the replay, the position is still the one sought (with its skip).
    if (this.sought) return this.sought;
    if (this.csv) return { records: this.records, offset: this.csv.offset, line: this.csv.line, ...(this.csv.header ? { header: this.csv.header } : {}) };
    return { records: this.records, offset: this.lines.offset, line: this.lines.lineNo };
  }

  seek(p: SourcePosition): void {
    const offset = p.offset ?? 0;
    this.filePos = offset;
    if (this.csv) {
      this.csvDone = false;
      this.csv.restart(offset, p.line ?? 0, p.header ?? null);
    } else this.lines.reset(offset, p.line ?? 0);
    this.records = p.records + (p.skip ?? 0);
    this.replaySkip = p.skip ?? 0;
    this.sought = this.replaySkip > 0 ? { ...p } : null;
  }

  close(): void {
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Standard input, read asynchronously (it cannot be replayed). */
export class StdinSource implements Source {
  readonly replayable = false;
  private readonly lines = new LineBuffer();
  private readonly lineDecoder: LineDecoder | null;
  private readonly csv: CsvDecoder | null;
  private readonly chunks: AsyncIterator<Buffer>;
  private records = 0;
  private done = false;

  constructor(
    readonly name: string,
    m: Extract<SourceManifest, { connector: "stdin" }>,
    private readonly errors: RecordErrors,
  ) {
    this.chunks = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.csv = m.format === "csv" ? new CsvDecoder(name, "stdin", m, errors) : null;
    this.lineDecoder = m.format === "csv" ? null : new LineDecoder(name, "stdin", m.format, m, errors);
  }

  async next(): Promise<BatchResult> {
    if (this.errors.failure) throw this.errors.failure;
    const out: unknown[] = [];
    while (out.length === 0 && !this.done && !this.errors.failure) {
      if (!this.csv) {
        let line: string | null;
        while (out.length < BATCH_SIZE && !this.errors.failure && (line = this.lines.nextLine()) !== null) this.lineDecoder!.decode(line, this.lines.lineNo, out);
        if (out.length > 0 || this.errors.failure) break;
        if (this.lines.eof) {
          this.done = true;
          break;
        }
      }
      const r = await this.chunks.next();
      if (r.done) {
        if (this.csv) {
          this.csv.end(out);
          this.done = true;
        } else this.lines.wrote(0);
      } else if (this.csv) this.csv.write(r.value, out);
      else this.lines.append(r.value);
    }
    this.records += out.length;
    if (out.length === 0 && this.errors.failure) throw this.errors.failure;
    return out.length === 0 && this.done ? null : out;
  }

  position(): SourcePosition {
    return { records: this.records };
  }

  seek(): void {
    // stdin cannot be replayed: it goes on from wherever the new process's input starts.
  }

  close(): void {
    process.stdin.destroy();
  }
}
