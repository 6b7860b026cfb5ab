// Text inputs (file and stdin sources): bytes split into lines with their offsets and
// numbers (LineBuffer), and lines decoded into typed records: jsonl and text (LineDecoder),
// csv with its header (CsvDecoder). Bad records go through the source's on_error policy.

import type { SourceBinding, SourceManifest } from "../api.js";
import { csvRowConverter, jsonConverter, type Converter } from "../convert.js";
import { BadRecordError, ConversionError, JobError } from "../errors.js";
import type { BadRecords } from "./contract.js";

/**
 * Splits byte chunks into lines, tracking the byte offset after each line and its number.
 * The caller appends chunks and takes lines until it gets null (needs more input).
 */
export class LineBuffer {
  private buf: Buffer = Buffer.allocUnsafe(1 << 20);
  private start = 0;
  private end = 0;
  /**
   * With `decodeChunks`: the complete lines after `start`, decoded in one call when they are
   * all ASCII (then a character offset in it is a byte offset too), and the next line's
   * place in it. Lines are slices of it: cheap, but they keep it alive, so this is only for
   * lines that are parsed and dropped (jsonl), not ones that may be kept as they are (text).
   */
  private text = "";
  private textPos = 0;
  /** Lines before this buffer index are not all ASCII: decoded one by one. */
  private slowUntil = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private first = true;
  eof = false;
  lineNo = 0;
  /** Byte offset just after the last line taken. */
  offset = 0;
  /** Whether the last line taken ended with \r\n (rather than \n). */
  cr = false;

  constructor(private readonly decodeChunks = false) {}

  /** Starts over at a file offset (after a seek); `lineNo` is the line before it. */
  reset(offset: number, lineNo: number): void {
    this.text = "";
    this.textPos = this.slowUntil = 0;
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
      this.slowUntil = Math.max(0, this.slowUntil - this.start);
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
    if (this.textPos < this.text.length) return this.decodedLine();
    if (this.start >= this.end) return null;
    if (this.decodeChunks && this.start >= this.slowUntil) {
      const last = this.buf.lastIndexOf(10, this.end - 1);
      if (last >= this.start) {
        const text = this.buf.toString("utf8", this.start, last + 1);
        // As many characters as bytes: every byte decoded to one character (ASCII).
        if (text.length === last + 1 - this.start) {
          this.text = text;
          this.textPos = 0;
          return this.decodedLine();
        }
        this.slowUntil = last + 1;
      }
    }
    let nl = this.buf.indexOf(10, this.start);
    if (nl < 0 || nl >= this.end) {
      if (!this.eof) return null;
      nl = this.end; // the last line has no line break
    }
    let stop = nl;
    if (stop > this.start && this.buf[stop - 1] === 13) stop--;
    this.cr = stop < nl;
    const text = this.buf.toString("utf8", this.start, stop);
    this.start = Math.min(nl + 1, this.end);
    this.offset = this.base + this.start;
    this.lineNo++;
    return text;
  }

  /** The next line of `text` (which ends with a line break). */
  private decodedLine(): string {
    const text = this.text;
    const from = this.textPos;
    const nl = text.indexOf("\n", from);
    const stop = nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    this.cr = stop < nl;
    const line = text.slice(from, stop);
    this.start += nl + 1 - from;
    this.textPos = nl + 1;
    if (this.textPos >= text.length) {
      this.text = "";
      this.textPos = 0;
    }
    this.offset = this.base + this.start;
    this.lineNo++;
    return line;
  }
}

type LineFormat = "jsonl" | "text";

/** Turns lines of jsonl or text into typed records, through the on_error policy. */
export class LineDecoder {
  private readonly convert: Converter;
  /** The job's own converter for this source's records (see SourceBinding.fromJson). */
  fast: ((raw: unknown) => unknown) | null = null;

  constructor(
    private readonly sourceName: string,
    private readonly file: string,
    private readonly format: LineFormat,
    m: SourceManifest,
    private readonly errors: BadRecords,
  ) {
    this.convert = jsonConverter(m.type);
  }

  /** Decodes one line into `out`; blank jsonl lines are skipped. */
  decode(line: string, lineNo: number, out: unknown[]): void {
    if (this.format === "text") {
      out.push(line);
      return;
    }
    const c = line.charCodeAt(0);
    if (line.length === 0 || ((c <= 32 || c >= 127) && /^\s*$/.test(line))) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      this.errors.handle(new BadRecordError(this.sourceName, this.file, lineNo, null, `not valid JSON (${(e as Error).message})`, line));
      return;
    }
    const fast = this.fast === null ? undefined : this.fast(raw);
    if (fast !== undefined) {
      out.push(fast);
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

/**
 * How far a csv record may go on past the end of its first line (a quoted field with line
 * breaks), in bytes from its start. A quote still open by then is taken to be a mistake:
 * the record is the first line alone, and is bad.
 */
export const CSV_SPAN_LIMIT = 1 << 20;

/** A line of a record that goes on past its first line: its text, number, the offset after it and its line break. */
interface CsvLine {
  text: string;
  no: number;
  end: number;
  cr: boolean;
}

/** What `parseCsvRecord` found wrong: a problem, and whether it is a quote still open at the end. */
interface CsvProblem {
  problem: string;
  /** The 1-based field where a quote opens and is not closed (unclosed), else 0. */
  unclosed: number;
  /** The character index the problem is at. */
  at: number;
}

/**
 * The cells of one csv record (RFC 4180): fields separated by commas; a field that starts
 * with a quote is quoted, may hold commas, line breaks and doubled quotes, and ends at its
 * closing quote, which a comma or the end of the record follows; a field that does not start
 * with a quote holds no quote. Anything else is a problem.
 */
export function parseCsvRecord(text: string): string[] | CsvProblem {
  if (text.indexOf('"') < 0) return text.split(",");
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    const field = cells.length + 1;
    if (text.charCodeAt(i) === 34) {
      let value = "";
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return { problem: `the quote that opens field ${field} is not closed`, unclosed: field, at: i };
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 34) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cells.push(value);
      if (i >= text.length) return cells;
      if (text.charCodeAt(i) !== 44) return { problem: `field ${field} goes on after its closing quote (a quoted field ends at a comma or the end of the line)`, unclosed: 0, at: i };
      i++;
    } else {
      const comma = text.indexOf(",", i);
      const cell = text.slice(i, comma < 0 ? text.length : comma);
      const q = cell.indexOf('"');
      if (q >= 0) return { problem: `field ${field} has a quote but does not start with one (quote the whole field and double its quotes: "a""b" for a"b)`, unclosed: 0, at: i + q };
      cells.push(cell);
      if (comma < 0) return cells;
      i = comma + 1;
    }
    if (i >= text.length) {
      cells.push(""); // a comma at the end: one more, empty field
      return cells;
    }
  }
}

/** How many double quotes a line holds. */
function quoteCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n;
}

/** Columns whose header name is used more than once: `warned` keeps each warning to once per process. */
const warned = new Set<string>();

/**
 * Turns csv lines (the first record the header) into typed records. A record is one line,
 * or more while a quoted field is open (RFC 4180 allows line breaks inside quotes), up to
 * CSV_SPAN_LIMIT bytes. A record that is not valid csv, or whose quote is still open at the
 * end of the input or at that limit, is bad: the bad record is its first line alone, and
 * reading goes on with the next line (so an unclosed quote costs one line, not the rest of
 * the file). Keeps the position after the last record taken: the byte offset and line.
 */
export class CsvDecoder {
  private convert: ((cells: string[], line: number) => unknown) | null = null;
  private width = 0;
  header: string[] | null = null;
  /** The position after the last record taken (or bad line passed). */
  offset = 0;
  line = 0;
  /** The lines so far of a record whose quoted field goes on past its first line. */
  private open: CsvLine[] = [];
  private openQuotes = 0;
  /** The field whose quote is open (for messages). */
  private openField = 0;
  /** Lines to read again, from `againAt`: those after the first line of a bad record that spanned lines. */
  private again: CsvLine[] = [];
  private againAt = 0;

  constructor(
    private readonly sourceName: string,
    private readonly file: string,
    private readonly m: SourceManifest,
    private readonly errors: BadRecords,
    private readonly lines: LineBuffer,
  ) {}

  /** Starts over at a position (after a seek; the line buffer is reset by the caller); with a known header, it is not read again. */
  restart(offset: number, line: number, header: string[] | null): void {
    this.offset = offset;
    this.line = line;
    this.open = [];
    this.again = [];
    this.againAt = 0;
    this.convert = null;
    this.header = null;
    if (header) this.useHeader(header, line);
  }

  /**
   * Takes lines into `out` until it holds `max` records or a record fails the job:
   * "input" when the line buffer needs more input first, "end" at the end of the input.
   */
  decode(out: unknown[], max: number): "input" | "end" | "full" {
    const lines = this.lines;
    while (out.length < max && !this.errors.failure) {
      if (this.againAt < this.again.length) {
        const l = this.again[this.againAt++]!;
        if (this.againAt === this.again.length) {
          this.again = [];
          this.againAt = 0;
        }
        this.take(l.text, l.no, l.end, l.cr, out);
        continue;
      }
      const text = lines.nextLine();
      if (text === null) {
        if (!lines.eof) return "input";
        if (this.open.length === 0) return "end";
        this.unclosed("is never closed (a quoted field may span lines, but this one reaches the end of the input)");
        continue;
      }
      this.take(text, lines.lineNo, lines.offset, lines.cr, out);
    }
    return "full";
  }

  /** One line: a record of its own, the start of one that spans lines, or the next line of one. */
  private take(text: string, no: number, end: number, cr: boolean, out: unknown[]): void {
    const quotes = text.indexOf('"') < 0 ? 0 : quoteCount(text);
    if (this.open.length === 0) {
      if ((quotes & 1) === 0) {
        // The usual case: a record on one line (an empty line is no record).
        if (text.length > 0) {
          const cells = parseCsvRecord(text);
          if (Array.isArray(cells)) this.record(cells, text, no, out);
          else this.bad(no, `not valid csv: ${cells.problem}`, text);
        }
        this.offset = end;
        this.line = no;
        return;
      }
      // An odd number of quotes: a quoted field goes on to the next line, unless the line
      // is wrong before that quote.
      const p = parseCsvRecord(text);
      if (Array.isArray(p) || p.unclosed === 0) {
        this.bad(no, `not valid csv: ${Array.isArray(p) ? "unbalanced quotes" : p.problem}`, text);
        this.offset = end;
        this.line = no;
        return;
      }
      this.open = [{ text, no, end, cr }];
      this.openQuotes = quotes;
      this.openField = p.unclosed;
      return;
    }
    this.open.push({ text, no, end, cr });
    this.openQuotes += quotes;
    if ((this.openQuotes & 1) === 0) {
      const lines = this.open;
      let all = lines[0]!.text;
      for (let i = 1; i < lines.length; i++) all += (lines[i - 1]!.cr ? "\r\n" : "\n") + lines[i]!.text;
      const cells = parseCsvRecord(all);
      if (!Array.isArray(cells)) {
        const at = lines[0]!.no + (all.slice(0, cells.at).match(/\n/g)?.length ?? 0);
        this.unclosed(`is not closed on this line, and the lines after it do not complete the record (line ${at}: ${cells.problem})`);
        return;
      }
      this.open = [];
      this.record(cells, all, lines[0]!.no, out);
      this.offset = end;
      this.line = no;
      return;
    }
    if (end - this.offset > CSV_SPAN_LIMIT) this.unclosed("is not closed within 1 MiB (a quoted field may span lines, up to 1 MiB from the start of its record)");
  }

  /** The open record is bad: its first line alone; the lines after it are read again. */
  private unclosed(how: string): void {
    const [first, ...rest] = this.open;
    this.open = [];
    this.bad(first!.no, `not valid csv: the quote that opens field ${this.openField} ${how}; the record is taken to be this line alone`, first!.text);
    this.offset = first!.end;
    this.line = first!.no;
    this.again = rest.concat(this.again.slice(this.againAt));
    this.againAt = 0;
  }

  private bad(no: number, problem: string, raw: string, field: string | null = null): void {
    if (!this.convert) throw new JobError("FLOW5001", `bad csv header in ${this.file}, line ${no}: ${problem}`);
    this.errors.handle(new BadRecordError(this.sourceName, this.file, no, field, problem, raw));
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
    // A column named twice: the type reads the first of them (a warning, once).
    if (this.m.type.t !== "record") return;
    for (const f of this.m.type.fields) {
      const first = cells.indexOf(f.name);
      if (first < 0 || cells.indexOf(f.name, first + 1) < 0) continue;
      const at = cells.flatMap((c, i) => (c === f.name ? [i + 1] : []));
      const message = `source \`${this.sourceName}\`: the header of ${this.file} has the column \`${f.name}\` ${at.length} times (columns ${at.join(", ")}); field \`${f.name}\` reads the first, column ${at[0]}`;
      if (warned.has(message)) continue;
      warned.add(message);
      this.errors.warn(message);
    }
  }

  private record(cells: string[], raw: string, line: number, out: unknown[]): void {
    if (this.errors.failure) return; // on_error "fail": nothing after the bad record
    if (!this.convert) {
      this.useHeader(cells, line);
      return;
    }
    if (cells.length !== this.width) {
      this.bad(line, `expected ${this.width} columns like the header, found ${cells.length}`, raw);
      return;
    }
    try {
      out.push(this.convert(cells, line));
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      this.bad(line, e.problem, raw, e.path || null);
    }
  }
}

/** The manifest entry of a source that reads text: jsonl, csv or text lines. */
export type TextSourceManifest = Extract<SourceManifest, { format: "jsonl" | "csv" | "text" }>;

/** A text source's decoders: its line buffer, and a csv decoder or a line decoder by format. */
export interface TextDecoders {
  lines: LineBuffer;
  csv: CsvDecoder | null;
  lineDecoder: LineDecoder | null;
}

export function textDecoders(source: string, file: string, m: TextSourceManifest, errors: BadRecords): TextDecoders {
  const lines = new LineBuffer(m.format === "jsonl");
  return {
    lines,
    csv: m.format === "csv" ? new CsvDecoder(source, file, m, errors, lines) : null,
    lineDecoder: m.format === "csv" ? null : new LineDecoder(source, file, m.format, m, errors),
  };
}

/** Installs the job's fast converter for jsonl records (SourceBinding.fromJson). */
export function bindFastJson(decoder: LineDecoder | null, binding: SourceBinding<unknown>): void {
  if (decoder && binding.fromJson) decoder.fast = binding.fromJson.bind(binding);
}
