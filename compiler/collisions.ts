// check, continued: connector paths that name one file (FLOW4014). A sink or dead-letter
// file that is also the job's input would erase it; two outputs on one file lose one's
// lines. Each connector module says which files it reads and writes (connectors/). Literal
// paths are compared after normalisation (`./`, `a/../`, doubled slashes); relative paths
// are relative to the folder the job runs in, so a relative and an absolute path are not
// compared here. The runtime compares the resolved files too (symbolic and hard links, the
// checkpoint folder: FLOW5011 in runtime/paths.ts).

import { posix } from "node:path";
import type * as A from "./ast.js";
import type { CheckedProgram } from "./check/index.js";
import type { FileUse } from "./connectors/connector.js";
import { sinkModule, sourceModule } from "./connectors/index.js";
import type { Diagnostics } from "./diagnostics/diagnostic.js";

interface Use extends FileUse {
  span: A.Span;
}

/** The span of a connector argument's value: by name, or the first positional one. */
function argSpan(call: A.ConnectorCall, name: string, positional: boolean): A.Span {
  const named = call.args.find((a) => a.name?.name === name);
  const arg = named ?? (positional ? call.args.find((a) => a.name === null) : undefined);
  return arg ? arg.value.span : call.span;
}

/** Every file the job's connectors read or write, where its path is written. */
function fileUses(out: CheckedProgram): Use[] {
  const uses: Use[] = [];
  const add = (files: FileUse[], call: A.ConnectorCall): void => {
    for (const f of files) uses.push({ ...f, span: argSpan(call, f.arg, f.positional) });
  };
  for (const s of out.sources) if (s.connector) add(sourceModule(s.connector).files(s.connector, s.name), s.decl.connector);
  for (const s of out.sinks) if (s.connector) add(sinkModule(s.connector).files(s.connector), s.decl.connector);
  return uses.sort((a, b) => a.span.start - b.span.start);
}

export function checkPathCollisions(out: CheckedProgram, diags: Diagnostics): void {
  const first = new Map<string, Use>();
  /** The first writer of each file (a second input of a file is fine, a writer is not). */
  const writer = new Map<string, Use>();
  for (const u of fileUses(out)) {
    const key = posix.normalize(u.path).replace(/(.)\/$/, "$1");
    const earlier = u.access === "read" ? writer.get(key) : (writer.get(key) ?? first.get(key));
    if (earlier) {
      const input = u.access === "read" ? u : earlier.access === "read" ? earlier : null;
      diags.error("FLOW4014", u.span, `paths collide: ${u.what} is the same file as ${earlier.what}`, {
        label: u.access === "read" ? "read here" : "written here",
        notes: [{ message: `${earlier.access === "read" ? "read" : "written"} here first`, span: earlier.span }],
        hints: [
          input ? "writing the job's own input would erase it: give the output a file of its own" : "each sink and dead-letter file needs a file of its own, or one's output is lost",
          u.path !== earlier.path ? "paths are relative to the folder the job runs in, and `./`, `a/../` and doubled slashes do not make another file" : null,
        ],
      });
      continue;
    }
    if (!first.has(key)) first.set(key, u);
    if (u.access !== "read" && !writer.has(key)) writer.set(key, u);
  }
}
