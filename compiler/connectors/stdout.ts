// `stdout(format:)`: standard output; primitives printed bare.

import type { SinkConnectorDef } from "./connector.js";
import { checkFormatType, csvColumns, FORMATS_OUT, formatSpan, type OutFormat } from "./records.js";

export interface StdoutSink {
  kind: "stdout";
  format: OutFormat;
}

export const stdout: SinkConnectorDef<StdoutSink> = {
  side: "sink",
  name: "stdout",
  kind: "stdout",
  args: [{ name: "format", arg: { kind: "enum", values: FORMATS_OUT } }],
  summary: 'stdout(format: "jsonl" | "csv"): standard output; primitives printed bare',
  check({ diags, decl, elem, args }) {
    const format = (args.get("format")?.lit as OutFormat | undefined) ?? "jsonl";
    checkFormatType(diags, format, elem, formatSpan(args, decl.connector), decl.pipeline.span, "sink");
    return { kind: "stdout", format };
  },
  files: () => [],
  manifest: (c, elem) => ({ connector: "stdout", format: c.format, columns: csvColumns(c.format, elem) }),
  generated: (c) => ({ format: c.format, barePrimitives: true }),
};
