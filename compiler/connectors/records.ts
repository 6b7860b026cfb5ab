// What the connectors that read or write records as text share: the formats (jsonl, csv,
// text), the rule between a format and the element type, and the `on_error` policy of
// sources that decode records (file, stdin).

import type * as A from "../ast.js";
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { isPrim, recordShape, stripOptional, typeToString, type Type } from "../types.js";
import type { Args, ArgSpec, FileUse } from "./connector.js";

export const FORMATS_IN = ["jsonl", "csv", "text"] as const;
export const FORMATS_OUT = ["jsonl", "csv"] as const;

export type InFormat = (typeof FORMATS_IN)[number];
export type OutFormat = (typeof FORMATS_OUT)[number];

/** A source's format when not given: from the path's extension. */
export function formatFromPath(path: string): InFormat {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(txt|log)$/i.test(path)) return "text";
  return "jsonl";
}

/** The `format:` argument's value, or the call, for messages about the format. */
export function formatSpan(args: Args, call: A.ConnectorCall): A.Span {
  return args.get("format")?.value.span ?? call.span;
}

/** text reads strings; csv needs a record of primitive fields (FLOW3013). */
export function checkFormatType(diags: Diagnostics, format: string, type: Type, formatSpan: A.Span, typeSpan: A.Span, side: "source" | "sink"): void {
  if (type.kind === "error") return;
  if (format === "text" && !isPrim(type, "string")) {
    diags.error("FLOW3013", typeSpan, `format "text" reads each line as a string, but the type is ${typeToString(type)}`, {
      notes: [{ message: "the format is chosen here", span: formatSpan }],
      hints: ['declare the source as `string`, or use format "jsonl" for JSON records'],
    });
  }
  if (format === "csv") {
    const flat = type.kind === "record" && type.fields.every((f) => stripOptional(f.type).kind === "prim");
    if (!flat) {
      diags.error("FLOW3013", typeSpan, `format "csv" needs a record of primitive fields, found ${typeToString(type)}${type.kind === "record" ? ` = ${recordShape(type)}` : ""}`, {
        notes: [{ message: "the format is chosen here", span: formatSpan }],
        hints: [side === "source" ? 'use format "jsonl" for nested data' : "map the elements to a flat record first, or use format \"jsonl\""],
      });
    }
  }
}

/** A sink's csv header: the record's field names. */
export function csvColumns(format: OutFormat, elem: Type): string[] | null {
  return format === "csv" && elem.kind === "record" ? elem.fields.map((f) => f.name) : null;
}

// ---- on_error ------------------------------------------------------------------------------

export interface OnErrorPolicy {
  policy: "fail" | "skip" | "dead_letter";
  deadLetter: string | null;
}

export const ON_ERROR_ARGS: ArgSpec[] = [
  { name: "on_error", arg: { kind: "enum", values: ["fail", "skip", "dead_letter"] } },
  { name: "dead_letter", arg: { kind: "string" } },
];

/** `on_error:` and `dead_letter:` go together (FLOW4008). */
export function onErrorPolicy(diags: Diagnostics, args: Args): OnErrorPolicy {
  const policy = (args.get("on_error")?.lit as OnErrorPolicy["policy"] | undefined) ?? "fail";
  const dl = args.get("dead_letter");
  if (policy === "dead_letter" && !dl) {
    diags.error("FLOW4008", args.get("on_error")!.value.span, '`on_error: "dead_letter"` needs a file for the rejected records', {
      hints: ['add `dead_letter: "rejected.jsonl"`'],
    });
  }
  if (dl && policy !== "dead_letter") {
    diags.error("FLOW4008", dl.span, "`dead_letter:` is only used with `on_error: \"dead_letter\"`", {
      hints: [args.has("on_error") ? "remove `dead_letter:` or change on_error" : 'add `on_error: "dead_letter"`'],
      notes: args.has("on_error") ? [{ message: "the policy is set here", span: args.get("on_error")!.span }] : [],
    });
  }
  return { policy, deadLetter: (dl?.lit as string | undefined) ?? null };
}

/** The file rejected records go to, when the policy is dead_letter. */
export function deadLetterFiles(onError: OnErrorPolicy, source: string): FileUse[] {
  if (onError.policy !== "dead_letter" || onError.deadLetter === null) return [];
  return [{ access: "write", path: onError.deadLetter, arg: "dead_letter", positional: false, what: `the dead-letter file \`${onError.deadLetter}\` of source \`${source}\`` }];
}
