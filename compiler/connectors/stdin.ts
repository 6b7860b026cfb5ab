// `stdin(format:, on_error:, dead_letter:)`: standard input. It cannot be read again, so a
// job reading it cannot checkpoint exactly once (FLOW4005).

import type { SourceConnectorDef } from "./connector.js";
import { checkFormatType, deadLetterFiles, FORMATS_IN, formatSpan, ON_ERROR_ARGS, onErrorPolicy, type InFormat, type OnErrorPolicy } from "./records.js";

export interface StdinSource {
  kind: "stdin";
  format: InFormat;
  onError: OnErrorPolicy;
}

export const stdin: SourceConnectorDef<StdinSource> = {
  side: "source",
  name: "stdin",
  kind: "stdin",
  replayable: false,
  args: [{ name: "format", arg: { kind: "enum", values: FORMATS_IN } }, ...ON_ERROR_ARGS],
  summary: 'stdin(format: "jsonl" | "csv" | "text"): standard input',
  check({ diags, decl, type, args }) {
    const format = (args.get("format")?.lit as InFormat | undefined) ?? "jsonl";
    checkFormatType(diags, format, type, formatSpan(args, decl.connector), decl.type.span, "source");
    return { kind: "stdin", format, onError: onErrorPolicy(diags, args) };
  },
  files: (c, source) => deadLetterFiles(c.onError, source),
  manifest: (c, base) => ({ name: base.name, connector: "stdin", type: base.type, format: c.format, onError: c.onError, eventTime: base.eventTime }),
  generated: (c) => ({ fromJson: c.format === "jsonl", values: null }),
};
