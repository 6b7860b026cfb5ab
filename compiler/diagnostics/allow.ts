// Silencing warnings (LANGUAGE.md section 6, "Warnings"): a comment `// allow FLOW4013` on
// a line of its own before a construct silences that warning there; `flowc check|compile
// --allow FLOW4013` silences it in the whole file. A silenced warning is kept, marked
// `silenced`: the CLI does not print it, `--json` gives it with `"silenced": true`, the
// language server does not show it. Errors cannot be silenced: an allow comment naming one
// (or a code that does not exist, or placed at the end of a line) is itself a warning,
// FLOW4017, and `--allow` with one is a usage error (compiler/cli.ts).

import type * as A from "../ast.js";
import type { SourceFile } from "../source.js";
import { catalogue, isWarningCode, type Code } from "./catalogue.js";
import type { Diagnostic, Diagnostics } from "./diagnostic.js";

/** `// allow FLOW4013` or `// allow FLOW4013, FLOW4017: a reason` (after `//`). */
const ALLOW = /^\s*allow\b\s*(FLOW\d{4}(?:\s*,\s*FLOW\d{4})*)?/;

interface AllowComment {
  /** 1-based line of the comment. */
  line: number;
  codes: { code: string; start: number; end: number }[];
  /** Whether code comes before it on its line (then it silences nothing). */
  trailing: boolean;
  start: number;
  end: number;
}

/**
 * The line comments of a text (not those inside strings or block comments): their start
 * offset, the offset after `//`, their end, and whether only whitespace precedes them on
 * their line.
 */
function lineComments(text: string): { start: number; body: number; end: number; alone: boolean }[] {
  const out: { start: number; body: number; end: number; alone: boolean }[] = [];
  let code = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      code = false;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      let end = text.indexOf("\n", i);
      if (end < 0) end = text.length;
      out.push({ start: i, body: i + 2, end, alone: !code });
      i = end - 1;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf("*/", i + 2);
      const end = close < 0 ? text.length : close + 2;
      // What follows a block comment on its line is not on a line of its own.
      code = true;
      i = end - 1;
    } else if (c === 34) {
      // A string (one line; escapes skip the next character).
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 34 && text.charCodeAt(j) !== 10) j += text.charCodeAt(j) === 92 ? 2 : 1;
      code = true;
      i = Math.min(j, text.length - 1);
      if (text.charCodeAt(i) === 10) i--;
    } else if (c !== 32 && c !== 9 && c !== 13 && c !== 0xfeff) code = true;
  }
  return out;
}

function allowComments(source: SourceFile): AllowComment[] {
  const out: AllowComment[] = [];
  for (const c of lineComments(source.text)) {
    const body = source.text.slice(c.body, c.end);
    const m = ALLOW.exec(body);
    if (!m) continue;
    const codes: AllowComment["codes"] = [];
    if (m[1]) {
      const at = c.body + body.indexOf(m[1]);
      for (const cm of m[1].matchAll(/FLOW\d{4}/g)) codes.push({ code: cm[0], start: at + cm.index, end: at + cm.index + cm[0].length });
    }
    out.push({ line: source.position(c.start).line, codes, trailing: !c.alone, start: c.start, end: c.end });
  }
  return out;
}

/**
 * Reports allow comments that cannot work (FLOW4017), then marks each warning that an allow
 * comment or `allow` (the `--allow` codes) covers as silenced. A comment covers the line
 * after it — or after the run of full-line comments it starts — and the declaration that
 * starts on that line: a warning whose span, or whose top-level declaration, starts there.
 */
export function applyAllows(diags: Diagnostics, source: SourceFile, program: A.Program | null, allow: ReadonlySet<string>): void {
  const comments = allowComments(source);
  /** Line -> the codes allowed on it. */
  const allowedOn = new Map<number, Set<string>>();
  const commentLines = new Set(lineComments(source.text).filter((c) => c.alone).map((c) => source.position(c.start).line));
  for (const c of comments) {
    const span = source.span(c.start, c.end);
    if (c.trailing) {
      diags.warning("FLOW4017", span, "an allow comment goes on a line of its own, before what it silences", { hints: ["move it to the line above"] });
      continue;
    }
    if (c.codes.length === 0) {
      diags.warning("FLOW4017", span, "this allow comment names no code", { hints: ["write the warning's code: `// allow FLOW4013`"] });
      continue;
    }
    // The construct: the first line after the comment that is not a comment line itself.
    let target = c.line + 1;
    while (commentLines.has(target)) target++;
    for (const k of c.codes) {
      const at = source.span(k.start, k.end);
      if (!(k.code in catalogue)) {
        diags.warning("FLOW4017", at, `\`${k.code}\` is not a diagnostic code`, { hints: ["the codes are listed in docs/errors.md"] });
        continue;
      }
      if (!isWarningCode(k.code as Code)) {
        diags.warning("FLOW4017", at, `\`${k.code}\` is an error, and errors cannot be silenced`, { hints: ["fix what the error says; only warnings can be allowed"] });
        continue;
      }
      let set = allowedOn.get(target);
      if (!set) allowedOn.set(target, (set = new Set()));
      set.add(k.code);
    }
  }
  if (allowedOn.size === 0 && allow.size === 0) return;
  const declLine = (d: Diagnostic): number | null => {
    const decl = program?.decls.find((x) => x.span.start <= d.span.start && d.span.start < x.span.end);
    return decl ? decl.span.line : null;
  };
  for (const d of diags.list) {
    if (d.severity !== "warning" || d.span.file !== source.name) continue;
    const here = allowedOn.get(d.span.line);
    const line = declLine(d);
    const decl = line !== null ? allowedOn.get(line) : undefined;
    if (allow.has(d.code) || here?.has(d.code) || decl?.has(d.code)) d.silenced = true;
  }
}
