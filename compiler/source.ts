// Source text and positions: offsets are kept until a message needs a line and column.

import type { Span } from "./ast.js";

export class SourceFile {
  readonly lineStarts: number[];

  constructor(
    /** The path as the user gave it; used in every message. */
    readonly name: string,
    readonly text: string,
  ) {
    // A byte order mark is not part of the first line: column 1 is the character after it.
    const starts = [text.charCodeAt(0) === 0xfeff ? 1 : 0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    this.lineStarts = starts;
  }

  /** 1-based line and column (in UTF-16 units, as editors count) of an offset. */
  position(offset: number): { line: number; col: number } {
    offset = Math.max(offset, this.lineStarts[0]!);
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }

  span(start: number, end: number): Span {
    const { line, col } = this.position(start);
    return { file: this.name, start, end, line, col };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    let end = next === undefined ? this.text.length : next - 1;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, end);
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }
}
