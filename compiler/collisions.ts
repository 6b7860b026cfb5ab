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

/** A folder the job owns: the checkpoint folder and the disk state backend's folder. */
interface Folder {
  path: string;
  /** "checkpoint folder" or "state folder". */
  kind: string;
  what: string;
  span: A.Span;
}

/** The span of a policy block's option value, or of the block's keyword (a default). */
function optionSpan(out: CheckedProgram, kind: A.PolicyDecl["kind"], name: string): A.Span | null {
  const block = out.program.decls.find((d): d is A.PolicyDecl => d.kind === kind);
  if (!block) return null;
  return block.options.find((o) => o.name.name === name)?.value.span ?? block.keyword;
}

function ownFolders(out: CheckedProgram): Folder[] {
  const folders: Folder[] = [];
  const cp = out.checkpoint;
  const cpSpan = optionSpan(out, "Checkpoint", "storage");
  if (cp && cpSpan && !cp.storage.startsWith("nats:")) folders.push({ path: cp.storage, kind: "checkpoint folder", what: `the checkpoint folder \`${cp.storage}\``, span: cpSpan });
  const st = out.state;
  const stSpan = optionSpan(out, "State", "dir");
  if (st && stSpan) folders.push({ path: st.dir, kind: "state folder", what: `the state folder \`${st.dir}\``, span: stSpan });
  return folders;
}

const norm = (p: string): string => posix.normalize(p).replace(/(.)\/$/, "$1");
/** Whether path `inner` is `outer` or lies below it (both normalised). */
const within = (inner: string, outer: string): boolean => inner === outer || (outer === "." ? !inner.startsWith("../") && !inner.startsWith("/") : inner.startsWith(outer.endsWith("/") ? outer : outer + "/"));

/**
 * The folders the job owns hold nothing else: no input or output lies in one (or holds
 * one), and the checkpoint and state folders are apart. The runtime refuses such a folder
 * too (FLOW5011, FLOW5022), but only when it starts.
 */
function checkFolders(out: CheckedProgram, uses: Use[], diags: Diagnostics): void {
  const folders = ownFolders(out);
  for (const f of folders) {
    const fp = norm(f.path);
    for (const u of uses) {
      const up = norm(u.path);
      if (!within(up, fp) && !within(fp, up)) continue;
      diags.error("FLOW4014", u.span, `paths collide: ${u.what} ${within(up, fp) ? "lies in" : "holds"} ${f.what}`, {
        label: u.access === "read" ? "read here" : "written here",
        notes: [{ message: `the ${f.kind} is set here`, span: f.span }],
        hints: [`the job keeps its ${f.kind} to itself (it replaces what is in it): give inputs and outputs paths outside it`],
      });
    }
  }
  const [a, b] = folders;
  if (a && b && (within(norm(a.path), norm(b.path)) || within(norm(b.path), norm(a.path)))) {
    diags.error("FLOW4014", b.span, `paths collide: ${b.what} ${norm(a.path) === norm(b.path) ? "is" : within(norm(b.path), norm(a.path)) ? "lies in" : "holds"} ${a.what}`, {
      label: "set here",
      notes: [{ message: "the checkpoint folder is set here", span: a.span }],
      hints: ["give the checkpoints and the state folders of their own, neither inside the other: the job replaces what is in each"],
    });
  }
}

export function checkPathCollisions(out: CheckedProgram, diags: Diagnostics): void {
  checkFolders(out, fileUses(out), diags);
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
