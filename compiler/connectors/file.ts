// `file(path, format:, follow:, on_error:, dead_letter:)` as a source: a file read from start
// to end, or followed as it grows; the format from the extension unless given.

import type { SourceConnectorDef } from "./connector.js";
import { checkFormatType, deadLetterFiles, FORMATS_IN, formatFromPath, formatSpan, ON_ERROR_ARGS, onErrorPolicy, type InFormat, type OnErrorPolicy } from "./records.js";

export interface FileSource {
  kind: "file";
  path: string;
  format: InFormat;
  onError: OnErrorPolicy;
  follow: boolean;
}

export const fileSource: SourceConnectorDef<FileSource> = {
  side: "source",
  name: "file",
  kind: "file",
  replayable: true,
  args: [
    { name: "path", arg: { kind: "string" }, position: 0, required: true },
    { name: "format", arg: { kind: "enum", values: FORMATS_IN } },
    { name: "follow", arg: { kind: "bool" } },
    ...ON_ERROR_ARGS,
  ],
  summary: 'file(path, format: "jsonl" | "csv" | "text", follow: bool): a file read from start to end, or followed as it grows',
  check({ diags, decl, type, args }) {
    const path = args.get("path")!.lit as string;
    const format = (args.get("format")?.lit as InFormat | undefined) ?? formatFromPath(path);
    checkFormatType(diags, format, type, formatSpan(args, decl.connector), decl.type.span, "source");
    const follow = args.get("follow")?.lit === true;
    return { kind: "file", path, format, onError: onErrorPolicy(diags, args), follow };
  },
  files: (c, source) => [
    { access: "read", path: c.path, arg: "path", positional: true, what: `the input \`${c.path}\` of source \`${source}\`` },
    ...deadLetterFiles(c.onError, source),
  ],
  manifest: (c, base) => ({ name: base.name, connector: "file", type: base.type, path: c.path, format: c.format, onError: c.onError, follow: c.follow, eventTime: base.eventTime }),
  generated: (c) => ({ fromJson: c.format === "jsonl", values: null }),
};
