// Renders diagnostics the way rustc and Gleam do: a title with the code, `--> file:line:col`,
// a code frame with carets under the span, notes pointing at related places, then hints.
// Also the JSON form for editors (`flowc check --json`).

import pc from "picocolors";
import type { Span } from "../ast.js";
import type { SourceFile } from "../source.js";
import { visible, type Diagnostic } from "./diagnostic.js";

export type SourceLookup = (file: string) => SourceFile | undefined;

type Colors = ReturnType<typeof pc.createColors>;

/** Whether to colour output written to a stream: a TTY, and no NO_COLOR. */
export function wantsColor(stream: { isTTY?: boolean }): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

export function renderDiagnostic(d: Diagnostic, sources: SourceLookup, color = false): string {
  const c = pc.createColors(color);
  const sevColor = d.severity === "error" ? c.red : c.yellow;
  const out: string[] = [];
  out.push(`${c.bold(sevColor(`${d.severity}[${d.code}]`))}${c.bold(`: ${d.message}`)}`);
  const frameWidth = gutterWidth([d.span, ...d.notes.map((n) => n.span)]);
  out.push(...frame(d.span, d.label, sources, c, frameWidth, sevColor));
  for (const note of d.notes) {
    out.push(`${c.bold(c.cyan("note"))}: ${note.message}`);
    out.push(...frame(note.span, undefined, sources, c, frameWidth, c.cyan));
  }
  for (const hint of d.hints) out.push(`${" ".repeat(frameWidth)}${c.cyan("=")} ${c.bold("hint")}: ${hint}`);
  return out.join("\n");
}

/** Renders the diagnostics to show (silenced warnings are left out) and a count. */
export function renderDiagnostics(all: Diagnostic[], sources: SourceLookup, color = false): string {
  const list = all.filter((d) => !d.silenced);
  const parts = list.map((d) => renderDiagnostic(d, sources, color));
  const errors = list.filter((d) => d.severity === "error").length;
  const warnings = list.length - errors;
  if (errors > 0 || warnings > 0) {
    const c = pc.createColors(color);
    const bits: string[] = [];
    if (errors) bits.push(c.red(`${errors} error${errors === 1 ? "" : "s"}`));
    if (warnings) bits.push(c.yellow(`${warnings} warning${warnings === 1 ? "" : "s"}`));
    parts.push(bits.join(", "));
  }
  return parts.join("\n\n") + "\n";
}

function gutterWidth(spans: Span[]): number {
  return Math.max(2, ...spans.map((s) => String(s.line).length + 1));
}

/** `--> file:line:col` and the code frame for one span. */
function frame(span: Span, label: string | undefined, sources: SourceLookup, c: Colors, width: number, mark: (s: string) => string): string[] {
  const pad = " ".repeat(width);
  const lines = [`${pad.slice(1)}${c.cyan("-->")} ${span.file}:${span.line}:${span.col}`];
  const src = sources(span.file);
  if (!src || span.line > src.lineCount) return lines;
  const { line: endLine, col: endCol } = src.position(Math.max(span.start, span.end - 1));
  const raw = src.lineText(span.line);
  const text = shownLine(raw);
  const startCol = visualColumn(raw, span.col);
  // An escaped invisible character at the end gets carets under all of its escape.
  const last = raw.codePointAt(endCol - 1);
  const lastWidth = last !== undefined && last >= 0x7f ? Math.max(1, shownChar(String.fromCodePoint(last)).length) : 1;
  const lastCol = endLine === span.line ? visualColumn(raw, endCol) + (lastWidth > 2 ? lastWidth - 1 : 0) : text.length;
  const carets = "^".repeat(Math.max(1, lastCol - startCol + 1));
  const gutter = `${String(span.line).padStart(width - 1)} `;
  lines.push(`${pad}${c.cyan("|")}`);
  lines.push(`${c.cyan(gutter)}${c.cyan("|")} ${text}`);
  lines.push(`${pad}${c.cyan("|")} ${" ".repeat(Math.max(0, startCol - 1))}${mark(carets)}${label ? " " + mark(label) : ""}`);
  if (endLine > span.line) lines.push(`${pad}${c.cyan("|")} ${c.dim(`… (continues to line ${endLine})`)}`);
  return lines;
}

/** How a character of a source line is shown: a tab as four spaces, an invisible one escaped. */
function shownChar(ch: string): string {
  return ch === "\t" ? "    " : visible(ch);
}

/** A source line as shown in a code frame. */
function shownLine(raw: string): string {
  return raw.replace(/\t/g, "    ").replace(/[^\x20-\x7e]/gu, visible);
}

/** The column a character lands on once the line is shown (shownLine). */
function visualColumn(raw: string, col: number): number {
  let v = 1;
  for (let i = 0; i < col - 1 && i < raw.length; i++) {
    const code = raw.codePointAt(i)!;
    if (code < 0x7f && code !== 9) {
      v++;
      continue;
    }
    const ch = String.fromCodePoint(code);
    const shown = shownChar(ch);
    // Visible characters keep counting UTF-16 units, as columns do.
    v += shown === ch ? ch.length : shown.length;
    i += ch.length - 1;
  }
  return v;
}

export interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hints: string[];
  notes: { message: string; file: string; line: number; column: number }[];
  /** A warning silenced by `// allow` or `--allow` (only present then). */
  silenced?: true;
}

export function diagnosticToJson(d: Diagnostic, sources: SourceLookup): JsonDiagnostic {
  const src = sources(d.span.file);
  const end = src ? src.position(d.span.end) : { line: d.span.line, col: d.span.col };
  return {
    code: d.code,
    severity: d.severity,
    message: d.label ? `${d.message} (${d.label})` : d.message,
    file: d.span.file,
    line: d.span.line,
    column: d.span.col,
    endLine: end.line,
    endColumn: end.col,
    hints: d.hints,
    notes: d.notes.map((n) => ({ message: n.message, file: n.span.file, line: n.span.line, column: n.span.col })),
    ...(d.silenced ? { silenced: true as const } : {}),
  };
}
