// `file(path, format:)` as a sink: a file, replaced at a fresh start; csv when the path ends
// in .csv unless the format is given.

import type { SinkConnectorDef } from "./connector.js";
import { checkFormatType, csvColumns, FORMATS_OUT, formatSpan, type OutFormat } from "./records.js";

export interface FileSink {
  kind: "file";
  path: string;
  format: OutFormat;
}

export const fileSink: SinkConnectorDef<FileSink> = {
  side: "sink",
  name: "file",
  kind: "file",
  args: [
    { name: "path", arg: { kind: "string" }, position: 0, required: true },
    { name: "format", arg: { kind: "enum", values: FORMATS_OUT } },
  ],
  summary: 'file(path, format: "jsonl" | "csv"): a file, replaced at a fresh start',
  check({ diags, decl, elem, args }) {
    const path = args.get("path")!.lit as string;
    const format = (args.get("format")?.lit as OutFormat | undefined) ?? (path.endsWith(".csv") ? "csv" : "jsonl");
    checkFormatType(diags, format, elem, formatSpan(args, decl.connector), decl.pipeline.span, "sink");
    return { kind: "file", path, format };
  },
  files: (c) => [{ access: "write", path: c.path, arg: "path", positional: true, what: `the sink file \`${c.path}\`` }],
  manifest: (c, elem) => ({ connector: "file", path: c.path, format: c.format, columns: csvColumns(c.format, elem) }),
  generated: (c) => ({ format: c.format, barePrimitives: false }),
};
