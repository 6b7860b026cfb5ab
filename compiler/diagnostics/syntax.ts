// Syntax errors worth reading: what Ohm expected at the failing position, grouped into a few
// words ("an expression", "an operator") instead of a list of thirty tokens; a note at a
// bracket that was never closed; and hints for common slips (`=` for `==`, `&&`, quotes).

import type { SourceFile } from "../source.js";
import { closest } from "../suggest.js";
import type { Diagnostics, Note } from "./diagnostic.js";

export const KEYWORDS = [
  "job", "checkpoint", "restart", "type", "fn", "import", "from", "source", "let", "sink", "join", "as", "on", "within", "select",
  "process", "state", "ttl", "timer", "at", "if", "then", "else", "for", "in", "emit", "clear", "delete", "and", "or", "not",
  "true", "false", "null",
];

/** One thing Ohm would have accepted: a literal token or a rule's description. */
export interface Expectation {
  text: string;
  description: boolean;
}

const OPERATORS = new Set(["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "??", ".", "?.", "[", "(", "=>"]);
const EXPRESSION_STARTS = new Set(["an identifier", "null", "false", "true", "a string", "an integer", "a number", "a duration such as 5s", "{", "[", "(", "-", "not", "if"]);
const STATEMENT_STARTS = new Set(["let", "if", "for", "emit", "timer", "clear", "delete", "state", "on"]);
const DECLARATION_STARTS = new Set(["checkpoint", "restart", "type", "fn", "import", "source", "let", "sink"]);
const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** "expected …" in a few words. */
export function describeExpected(items: Expectation[]): string {
  const texts = new Set(items.map((i) => i.text));
  const has = (set: Set<string>): number => [...texts].filter((t) => set.has(t)).length;
  const parts: string[] = [];
  const used = new Set<string>();
  const take = (t: string, shown = `\`${t}\``): void => {
    if (texts.has(t) && !used.has(t)) {
      parts.push(shown);
      used.add(t);
    }
  };
  for (const c of [")", "]", "}", ","]) take(c);
  const groups: [Set<string>, string, number][] = [
    [DECLARATION_STARTS, "a declaration (source, let, sink, type, fn, checkpoint, …)", 4],
    [STATEMENT_STARTS, "a statement (let, if, emit, …)", 4],
    [EXPRESSION_STARTS, "an expression", 4],
  ];
  for (const [set, words, min] of groups) {
    if (has(set) >= min) {
      parts.push(words);
      for (const t of set) used.add(t);
    }
  }
  const operators = has(OPERATORS) >= 4;
  if (operators) for (const t of OPERATORS) used.add(t);
  for (const i of items) {
    if (used.has(i.text) || i.text === "end of input") continue;
    used.add(i.text);
    parts.push(i.description ? i.text : `\`${i.text}\``);
  }
  if (operators) parts.push("an operator");
  if (texts.has("end of input")) parts.push("the end of the file");
  if (parts.length === 0) return "something else";
  if (parts.length === 1) return parts[0]!;
  return `${parts.slice(0, -1).join(", ")} or ${parts[parts.length - 1]}`;
}

/** What stands at `offset`, for "found …". */
export function foundAt(text: string, offset: number): string {
  if (offset >= text.length) return "the end of the file";
  const rest = text.slice(offset);
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ?? /^[0-9][0-9_.]*[A-Za-z]*/.exec(rest);
  if (word) return `\`${word[0]}\``;
  if (rest[0] === '"') return "a string";
  if (rest[0] === "\n" || rest[0] === "\r") return "the end of the line";
  const op = /^(\|>|->|=>|==|!=|<=|>=|\?\?|\?\.|\+=|-=|&&|\|\|)/.exec(rest);
  return `\`${op ? op[0] : String.fromCodePoint(rest.codePointAt(0)!)}\``;
}

/** Brackets opened before `end` and not closed, innermost last (strings and comments skipped). */
export function unclosedBrackets(text: string, end: number): { char: string; at: number }[] {
  const stack: { char: string; at: number }[] = [];
  for (let i = 0; i < end; i++) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") {
      while (i < end && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      i = close < 0 ? end : close + 1;
    } else if (c === '"') {
      for (i++; i < end && text[i] !== '"' && text[i] !== "\n"; i++) if (text[i] === "\\") i++;
    } else if (c in CLOSERS) stack.push({ char: c, at: i });
    else if (c === ")" || c === "]" || c === "}") {
      if (stack.length && CLOSERS[stack[stack.length - 1]!.char] === c) stack.pop();
    }
  }
  return stack;
}

/** `startHint`: what the file starts with, for an error at its start (test files differ). */
export function reportSyntaxError(diags: Diagnostics, src: SourceFile, pos: number, items: Expectation[], startHint = "a .flow file starts with `job <name>`"): void {
  const text = src.text;
  const found = foundAt(text, pos);
  const texts = new Set(items.map((i) => i.text));
  const notes: Note[] = [];
  const hints: string[] = [];
  const open = unclosedBrackets(text, pos);
  const innermost = open[open.length - 1];
  // An unclosed bracket is the likely cause when the error shows up on a later line.
  if (innermost && texts.has(CLOSERS[innermost.char]!) && src.position(innermost.at).line < src.position(pos).line) {
    notes.push({ message: `this \`${innermost.char}\` is not closed`, span: src.span(innermost.at, innermost.at + 1) });
  }
  const rest = text.slice(pos);
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0];
  const nameExpected = texts.has("an identifier") && ![...texts].some((t) => OPERATORS.has(t));
  if (word && KEYWORDS.includes(word) && nameExpected && !notes.length) hints.push(`\`${word}\` is a reserved keyword and cannot be used as a name here`);
  if (word && !KEYWORDS.includes(word)) {
    const expectedKeywords = [...texts].filter((t) => KEYWORDS.includes(t));
    const near = closest(word, expectedKeywords);
    if (near) hints.push(`did you mean \`${near}\`?`);
  }
  if (pos === 0 || /^\s*(\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*$/.test(text.slice(0, pos))) hints.push(startHint);
  if (/^=(?![=>])/.test(rest) && texts.has("==")) hints.push("to compare, write `==`; `=` assigns, in process blocks only");
  if (/^&&|^\|\|/.test(rest)) hints.push("write `and` / `or` for logic");
  if (/^!(?!=)/.test(rest)) hints.push("write `not x` for negation");
  if (rest.startsWith("'")) hints.push('strings are written in double quotes: "text"');
  if (/^\|(?!>)/.test(rest)) hints.push("stages are chained with `|>`");
  if (/^;/.test(rest)) hints.push("statements and declarations need no `;`");
  // `10x` (an unknown unit) or the `5s` of `1.5s` (a fraction): durations are whole numbers.
  const unit = /^(\d+)([A-Za-z]+)/.exec(rest);
  if (unit && !/^(ms|s|m|h|d)$/.test(unit[2]!)) hints.push(`a duration is a whole number and a unit: ms, s, m, h or d (\`${unit[1]}s\`, \`${unit[1]}ms\`)`);
  else if (unit) {
    const whole = /(\d+)\.$/.exec(text.slice(0, pos))?.[1];
    const ms = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit[2] as "ms"];
    const value = Number(`${whole}.${unit[1]}`) * ms;
    if (whole !== undefined && Number.isInteger(value)) hints.push(`a duration is a whole number and a unit: write ${whole}.${unit[1]}${unit[2]} as ${value}ms`);
  }
  diags.error("FLOW1001", src.span(pos, Math.min(text.length, pos + Math.max(1, found.startsWith("`") ? found.length - 2 : 1))), `expected ${describeExpected(items)}, found ${found}`, {
    label: `unexpected ${found}`,
    notes,
    hints,
  });
}
