// A short path for the bulk of a test file: its lists of fixture records. Ohm takes about
// 5 µs a character, and records pasted from a jsonl file make test files of hundreds of
// kilobytes (a second each, on every keystroke in the editor). Before Ohm parses a test
// file, this finds each `given <source> [ … ]` and `expect <stream> [unordered] [ … ]` list
// whose entries are plain values — literals, records (with word or quoted field names),
// lists, negated numbers, and `restart` in a given list — reads them by hand into the very
// tree the grammar's semantics would build (same node kinds, same spans), and hands Ohm the
// text with each such list emptied. Anything else in a list (an expression, a bad escape, a
// number out of range, a syntax error, deep nesting) leaves the whole list to Ohm, which
// reports it as it always does.

import type * as A from "../ast.js";
import type { SourceFile } from "../source.js";
import type * as T from "./ast.js";

/** A list read here: where it is in the original text, and its entries. */
export interface ReadList {
  /** Offsets of its `[` and just after its `]`. */
  start: number;
  end: number;
  entries: (A.Expr | T.Restart)[];
}

/** Deeper than this, a list is left to Ohm (and the scan's nesting limits). */
const MAX_DEPTH = 64;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const isIdentStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isIdentPart = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

class Bail extends Error {}

/** Reads values from the text at a position; throws Bail at anything it does not take. */
class Reader {
  i = 0;

  constructor(
    private readonly text: string,
    private readonly src: SourceFile,
  ) {}

  private bail(): never {
    throw new Bail();
  }

  /** Skips whitespace and comments. */
  space(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else if (c === 47 && t.charCodeAt(this.i + 1) === 47) {
        const nl = t.indexOf("\n", this.i);
        this.i = nl < 0 ? t.length : nl;
      } else if (c === 47 && t.charCodeAt(this.i + 1) === 42) {
        const close = t.indexOf("*/", this.i + 2);
        if (close < 0) this.bail();
        this.i = close + 2;
      } else return;
    }
  }

  private span(start: number): A.Span {
    return this.src.span(start, this.i);
  }

  private word(): string {
    const t = this.text;
    const start = this.i;
    if (!isIdentStart(t.charCodeAt(this.i))) this.bail();
    while (isIdentPart(t.charCodeAt(this.i))) this.i++;
    return t.slice(start, this.i);
  }

  /** A string literal: its value (simple escapes only; anything odd is Ohm's to report). */
  private string(): A.StringLit {
    const t = this.text;
    const start = this.i;
    this.i++;
    let out = "";
    for (;;) {
      const c = t[this.i];
      if (c === undefined || c === "\n") this.bail();
      if (c === '"') break;
      if (c === "\\") {
        const next = t[this.i + 1];
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
        if (next !== undefined && next in simple) {
          out += simple[next];
          this.i += 2;
          continue;
        }
        const m = next === "u" ? /^\{([0-9a-fA-F]{1,6})\}/.exec(t.slice(this.i + 2, this.i + 10)) : null;
        const code = m ? parseInt(m[1]!, 16) : NaN;
        if (!m || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.bail();
        out += String.fromCodePoint(code);
        this.i += 2 + m[0].length;
        continue;
      }
      out += c;
      this.i++;
    }
    this.i++;
    return { kind: "String", span: this.span(start), value: out };
  }

  private digits(): void {
    const t = this.text;
    if (!isDigit(t.charCodeAt(this.i))) this.bail();
    while (isDigit(t.charCodeAt(this.i))) this.i++;
    while (t[this.i] === "_" && isDigit(t.charCodeAt(this.i + 1))) {
      this.i++;
      while (isDigit(t.charCodeAt(this.i))) this.i++;
    }
  }

  /** A number or a duration, as the grammar's `literal` reads them (duration | float | int). */
  private number(): A.Expr {
    const t = this.text;
    const start = this.i;
    this.digits();
    const whole = t.slice(start, this.i);
    // A duration: digits and a unit, not followed by more of a name.
    const unit = /^(ms|s|m|h|d)/.exec(t.slice(this.i, this.i + 2));
    if (unit && !isIdentPart(t.charCodeAt(this.i + unit[1]!.length))) {
      this.i += unit[1]!.length;
      const n = Number(whole.replace(/_/g, ""));
      const ms = n * UNIT_MS[unit[1]!]!;
      if (!Number.isSafeInteger(n) || !Number.isSafeInteger(ms)) this.bail();
      return { kind: "Duration", span: this.span(start), ms, text: t.slice(start, this.i) };
    }
    let float = false;
    if (t[this.i] === "." && isDigit(t.charCodeAt(this.i + 1))) {
      float = true;
      this.i++;
      while (isDigit(t.charCodeAt(this.i))) this.i++;
    }
    const exp = /^[eE][+-]?\d+/.exec(t.slice(this.i, this.i + 24));
    if (exp) {
      float = true;
      this.i += exp[0].length;
    }
    if (isIdentPart(t.charCodeAt(this.i))) this.bail();
    const text = t.slice(start, this.i);
    const value = Number(text.replace(/_/g, ""));
    if (float) {
      if (!Number.isFinite(value)) this.bail();
      return { kind: "Float", span: this.span(start), value, text };
    }
    if (!Number.isSafeInteger(value)) this.bail();
    return { kind: "Int", span: this.span(start), value, text };
  }

  value(depth: number): A.Expr {
    if (depth > MAX_DEPTH) this.bail();
    const t = this.text;
    const start = this.i;
    const c = t.charCodeAt(this.i);
    if (c === 123 /* { */) {
      this.i++;
      const fields: A.RecordField[] = [];
      this.space();
      while (t[this.i] !== "}") {
        const fstart = this.i;
        let name: A.Ident;
        if (t[this.i] === '"') {
          const s = this.string();
          name = { kind: "Ident", name: s.value, span: s.span };
        } else {
          const w = this.word();
          name = { kind: "Ident", name: w, span: this.span(fstart) };
        }
        this.space();
        if (t[this.i] !== ":") this.bail();
        this.i++;
        this.space();
        const value = this.value(depth + 1);
        fields.push({ kind: "RecordField", span: this.src.span(fstart, value.span.end), name, value, shorthand: false });
        this.space();
        if (t[this.i] === ",") {
          this.i++;
          this.space();
        } else if (t[this.i] !== "}") this.bail();
      }
      this.i++;
      return { kind: "Record", span: this.span(start), fields };
    }
    if (c === 91 /* [ */) {
      this.i++;
      const items: A.Expr[] = [];
      this.space();
      while (t[this.i] !== "]") {
        items.push(this.value(depth + 1));
        this.space();
        if (t[this.i] === ",") {
          this.i++;
          this.space();
        } else if (t[this.i] !== "]") this.bail();
      }
      this.i++;
      return { kind: "List", span: this.span(start), items };
    }
    if (c === 45 /* - */) {
      this.i++;
      this.space();
      const operand = this.value(depth + 1);
      return { kind: "Unary", span: this.span(start), op: "-", operand };
    }
    if (c === 34 /* " */) return this.string();
    if (isDigit(c)) return this.number();
    if (isIdentStart(c)) {
      const w = this.word();
      if (w === "true" || w === "false") return { kind: "Bool", span: this.span(start), value: w === "true" };
      if (w === "null") return { kind: "Null", span: this.span(start) };
    }
    return this.bail();
  }

  /** A list of entries from its `[`; `restart` allowed between them in a given list. */
  list(restarts: boolean): (A.Expr | T.Restart)[] {
    const t = this.text;
    this.i++;
    const entries: (A.Expr | T.Restart)[] = [];
    this.space();
    while (t[this.i] !== "]") {
      const start = this.i;
      if (t.startsWith("restart", this.i) && !isIdentPart(t.charCodeAt(this.i + 7))) {
        if (!restarts) this.bail();
        this.i += 7;
        entries.push({ kind: "Restart", span: this.span(start) });
      } else entries.push(this.value(1));
      this.space();
      if (t[this.i] === ",") {
        this.i++;
        this.space();
      } else if (t[this.i] !== "]") this.bail();
    }
    this.i++;
    return entries;
  }
}

/** Skips a string literal from its opening quote (as the grammar reads one); the offset after it. */
function skipString(text: string, i: number): number {
  for (i++; i < text.length && text[i] !== '"' && text[i] !== "\n"; i++) if (text[i] === "\\") i++;
  return i + 1;
}

/**
 * The fixture lists of a test file that are plain values, read by hand. Looks for the words
 * `given` and `expect` outside comments and strings, each followed by a name (and for
 * expect, `unordered`) and a `[`.
 */
export function readFixtureLists(text: string, src: SourceFile): ReadList[] {
  const out: ReadList[] = [];
  const r = new Reader(text, src);
  const word = /\b(given|expect)\s+(?:\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z_][A-Za-z0-9_]*)\s*(unordered\s*)?\[/y;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      if (close < 0) return out;
      i = close + 2;
      continue;
    }
    if (c === '"') {
      i = skipString(text, i);
      continue;
    }
    if ((c === "g" || c === "e") && (i === 0 || !isIdentPart(text.charCodeAt(i - 1)))) {
      word.lastIndex = i;
      const m = word.exec(text);
      // `expect state x[…]` is not a list; nor is a stream named `state`, which is reserved.
      if (m && m[2] !== "state" && !(m[1] === "given" && m[3])) {
        const open = i + m[0].length - 1;
        r.i = open;
        try {
          const entries = r.list(m[1] === "given");
          out.push({ start: open, end: r.i, entries });
          i = r.i;
          continue;
        } catch (e) {
          if (!(e instanceof Bail)) throw e;
        }
        i = open + 1;
        continue;
      }
    }
    i++;
  }
  return out;
}

/**
 * The text with each read list emptied (`[…]` becomes `[]`), and the way back from an offset
 * in it to one in the original text.
 */
export function withoutLists(text: string, lists: ReadList[]): { text: string; toOriginal: (offset: number) => number } {
  if (lists.length === 0) return { text, toOriginal: (o) => o };
  const parts: string[] = [];
  // Per list: its `[` in the new text, and how far the original is ahead after its `]`.
  const at: { newStart: number; start: number; end: number; shift: number }[] = [];
  let copied = 0;
  let length = 0;
  for (const l of lists) {
    parts.push(text.slice(copied, l.start), "[]");
    length += l.start - copied;
    at.push({ newStart: length, start: l.start, end: l.end, shift: l.end - (length + 2) });
    length += 2;
    copied = l.end;
  }
  parts.push(text.slice(copied));
  return {
    text: parts.join(""),
    toOriginal(o: number): number {
      // The last list starting before o (binary search).
      let lo = 0;
      let hi = at.length - 1;
      let k = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (at[mid]!.newStart <= o) {
          k = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (k < 0) return o;
      const a = at[k]!;
      if (o === a.newStart) return a.start;
      if (o === a.newStart + 1) return a.end - 1;
      return o + a.shift;
    },
  };
}
