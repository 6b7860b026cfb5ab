// Diagnostics are values: every stage appends to one list, the CLI renders them.
// A stage never throws for a user's mistake; a throw is a compiler bug.

import type { Span } from "../ast.js";
import type { Code } from "./catalogue.js";

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
}

export interface DiagnosticOptions {
  label?: string;
  notes?: Note[];
  hints?: (string | undefined | null | false)[];
}

/** Collects diagnostics for one compilation. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];

  error(code: Code, span: Span, message: string, opts: DiagnosticOptions = {}): void {
    this.add("error", code, span, message, opts);
  }

  warning(code: Code, span: Span, message: string, opts: DiagnosticOptions = {}): void {
    this.add("warning", code, span, message, opts);
  }

  private add(severity: Severity, code: Code, span: Span, message: string, opts: DiagnosticOptions): void {
    const diag: Diagnostic = {
      code,
      severity,
      message,
      span,
      notes: opts.notes ?? [],
      hints: (opts.hints ?? []).filter((h): h is string => typeof h === "string" && h.length > 0),
    };
    if (opts.label !== undefined) diag.label = opts.label;
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
