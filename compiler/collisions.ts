// check, continued: connector paths that name one file (FLOW4014). A sink or dead-letter
// file that is also the job's input would erase it; two outputs on one file lose one's
// lines. Literal paths are compared after normalisation (`./`, `a/../`, doubled slashes);
// relative paths are relative to the folder the job runs in, so a relative and an absolute
// path are not compared here. The runtime compares the resolved files too (symbolic and
// hard links, the checkpoint folder: FLOW5011 in runtime/paths.ts).

import { posix } from "node:path";
import type * as A from "./ast.js";
import type { CheckedProgram } from "./check.js";
import type { Diagnostics } from "./diagnostics/diagnostic.js";

interface Use {
  role: "input" | "sink" | "dead_letter";
  path: string;
  span: A.Span;
  source: string | null;
}

/** The span of a connector argument's value: by name, or the first positional one. */
function argSpan(call: A.ConnectorCall, name: string, positional: boolean): A.Span {
  const named = call.args.find((a) => a.name?.name === name);
  const arg = named ?? (positional ? call.args.find((a) => a.name === null) : undefined);
  return arg ? arg.value.span : call.span;
}

function describe(u: Use): string {
  switch (u.role) {
    case "input":
      return `the input \`${u.path}\` of source \`${u.source}\``;
    case "sink":
      return `the sink file \`${u.path}\``;
    case "dead_letter":
      return `the dead-letter file \`${u.path}\` of source \`${u.source}\``;
  }
}

export function checkPathCollisions(out: CheckedProgram, diags: Diagnostics): void {
  const uses: Use[] = [];
  for (const s of out.sources) {
    const c = s.connector;
    if (c?.kind === "file") uses.push({ role: "input", path: c.path, span: argSpan(s.decl.connector, "path", true), source: s.name });
    if ((c?.kind === "file" || c?.kind === "stdin") && c.onError.policy === "dead_letter" && c.onError.deadLetter !== null) {
      uses.push({ role: "dead_letter", path: c.onError.deadLetter, span: argSpan(s.decl.connector, "dead_letter", false), source: s.name });
    }
  }
  for (const s of out.sinks) if (s.connector?.kind === "file") uses.push({ role: "sink", path: s.connector.path, span: argSpan(s.decl.connector, "path", true), source: null });
  uses.sort((a, b) => a.span.start - b.span.start);
  const first = new Map<string, Use>();
  /** The first writer of each file (a second input of a file is fine, a writer is not). */
  const writer = new Map<string, Use>();
  for (const u of uses) {
    const key = posix.normalize(u.path).replace(/(.)\/$/, "$1");
    const earlier = u.role === "input" ? writer.get(key) : (writer.get(key) ?? first.get(key));
    if (earlier) {
      const input = u.role === "input" ? u : earlier.role === "input" ? earlier : null;
      diags.error("FLOW4014", u.span, `paths collide: ${describe(u)} is the same file as ${describe(earlier)}`, {
        label: u.role === "input" ? "read here" : "written here",
        notes: [{ message: `${earlier.role === "input" ? "read" : "written"} here first`, span: earlier.span }],
        hints: [
          input ? "writing the job's own input would erase it: give the output a file of its own" : "each sink and dead-letter file needs a file of its own, or one's output is lost",
          u.path !== earlier.path ? "paths are relative to the folder the job runs in, and `./`, `a/../` and doubled slashes do not make another file" : null,
        ],
      });
      continue;
    }
    if (!first.has(key)) first.set(key, u);
    if (u.role !== "input" && !writer.has(key)) writer.set(key, u);
  }
}
