// Diagnostics are values: every stage appends to one list, the CLI renders them.
// A stage never throws for a user's mistake; a throw is a compiler bug.

import type { Span } from "../ast.js";
import type { Code, WarningCode } from "./catalogue.js";

export type Severity = "error" | "warning";

export interface Note {
  message: string;
  span: Span;
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  /** One line: what is wrong, e.g. "expected bool, found int". */
  message: string;
  span: Span;
  /** Words printed under the carets, e.g. "this is int". */
  label?: string;
  notes: Note[];
  hints: string[];
  /** A warning silenced by `// allow FLOWnnnn` or `--allow` (diagnostics/allow.ts): kept, not shown. */
  silenced?: true;
}

export interface DiagnosticOptions {
  label?: string;
  notes?: Note[];
  hints?: (string | undefined | null | false)[];
}

/**
 * Characters that show as nothing or as something else: control and format characters (a
 * byte order mark, zero-width spaces and joiners, bidirectional overrides), line and
 * paragraph separators, spaces other than the plain space, unassigned and private-use code
 * points, lone surrogates.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/**
 * A message with its invisible characters written as the language writes them in strings,
 * `\u{FEFF}`, so that `found \`\u{FEFF}\`` says what is there (docs/errors.md).
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`);
}

/** Collects diagnostics for one compilation. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];

  error(code: Code, span: Span, message: string, opts: DiagnosticOptions = {}): void {
    this.add("error", code, span, message, opts);
  }

  warning(code: WarningCode, span: Span, message: string, opts: DiagnosticOptions = {}): void {
    this.add("warning", code, span, message, opts);
  }

  private add(severity: Severity, code: Code, span: Span, message: string, opts: DiagnosticOptions): void {
    const diag: Diagnostic = {
      code,
      severity,
      message: visible(message),
      span,
      notes: (opts.notes ?? []).map((n) => ({ ...n, message: visible(n.message) })),
      hints: (opts.hints ?? []).filter((h): h is string => typeof h === "string" && h.length > 0).map(visible),
    };
    if (opts.label !== undefined) diag.label = visible(opts.label);
    this.list.push(diag);
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === "error");
  }

  get errorCount(): number {
    return this.list.filter((d) => d.severity === "error").length;
  }

  /** Diagnostics in source order (stable for equal positions). */
  sorted(): Diagnostic[] {
    return [...this.list].sort((a, b) => a.span.file.localeCompare(b.span.file) || a.span.start - b.span.start);
  }
}
