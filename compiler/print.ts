// Plain-text views of stage outputs for tests and debugging: the AST as an indented tree.

import type { Span } from "./ast.js";

const SCALARS = ["name", "value", "op", "text", "ms", "optional", "negative", "shorthand"];

/** Prints any AST node: `Kind key=value @line:col`, children indented below. */
export function printAst(node: unknown, indent = ""): string {
  const lines: string[] = [];
  const walk = (v: unknown, pad: string, label: string): void => {
    if (Array.isArray(v)) {
      if (v.length === 0) return;
      lines.push(`${pad}${label}[${v.length}]`);
      for (const x of v) walk(x, pad + "  ", "");
      return;
    }
    if (v === null || typeof v !== "object" || !("kind" in v)) return;
    const n = v as Record<string, unknown> & { kind: string; span?: Span };
    const scalars = SCALARS.filter((k) => k in n && (typeof n[k] !== "object" || n[k] === null)).map((k) => `${k}=${JSON.stringify(n[k])}`);
    if (n.kind === "Ident") scalars.splice(0, scalars.length, `name=${JSON.stringify(n.name)}`);
    const at = n.span ? ` @${n.span.line}:${n.span.col}` : "";
    lines.push(`${pad}${label}${n.kind}${scalars.length ? " " + scalars.join(" ") : ""}${at}`);
    for (const [k, x] of Object.entries(n)) {
      if (k === "span" || k === "kind" || k === "keyword" || k === "opSpan") continue;
      if (x !== null && typeof x === "object") walk(x, pad + "  ", `${k}: `);
    }
  };
  walk(node, indent, "");
  return lines.join("\n") + "\n";
}
