// Checks on the files a job reads and writes, made before anything is opened for writing:
// no sink or dead-letter file may be an input or another writer's file, and the checkpoint
// folder may neither be nor contain any of them (FLOW5011). The compiler refuses literal
// paths that collide (FLOW4014); here paths are compared as the file system resolves them:
// symbolic links followed (realpath), hard links found by device and inode. A sink path
// that is a folder or another non-regular file (a FIFO, a device) is refused (FLOW5004).

import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Manifest } from "./api.js";
import { deadLetterOf, localPath } from "./connectors/contract.js";
import { describeFsError, JobError } from "./errors.js";
import { shownPath } from "./locks.js";

/** One path a job uses, and what for. */
export interface PathUse {
  role: "input" | "sink" | "dead_letter";
  /** As written in the .flow file. */
  path: string;
  /** For messages: "the input of source `visits`", "the sink file `out.jsonl`", … */
  what: string;
}

/** A path as the file system resolves it: every symbolic link followed, and the file's identity if it exists. */
interface Resolved {
  canonical: string;
  stat: Stats | null;
}

/** The paths a job reads (file sources) and writes (file sinks, dead-letter files), in declaration order. */
export function pathUses(m: Manifest): PathUse[] {
  const uses: PathUse[] = [];
  for (const s of m.sources) {
    const input = localPath(s);
    if (input !== null) uses.push({ role: "input", path: input, what: `the input of source \`${s.name}\` (${input})` });
    const dead = deadLetterOf(s);
    if (dead !== null) uses.push({ role: "dead_letter", path: dead, what: `the dead-letter file of source \`${s.name}\` (${dead})` });
  }
  for (const s of m.sinks) {
    const output = localPath(s);
    if (output !== null) uses.push({ role: "sink", path: output, what: `the sink file ${output}` });
  }
  return uses;
}

/**
 * Resolves a path like realpath, also when the file (or some folders above it) does not
 * exist yet: the longest part that exists is resolved, the rest appended; a dangling
 * symbolic link is followed to where it points.
 */
export function resolvePath(p: string): Resolved {
  let abs = resolve(p);
  for (let hops = 0; hops < 40; hops++) {
    try {
      return { canonical: realpathSync(abs), stat: statSync(abs) };
    } catch {
      // does not exist, or a dangling link
    }
    try {
      if (lstatSync(abs).isSymbolicLink()) {
        abs = resolve(dirname(abs), readlinkSync(abs));
        continue;
      }
    } catch {
      // does not exist
    }
    let dir = dirname(abs);
    const rest = [basename(abs)];
    while (dir !== dirname(dir)) {
      try {
        return { canonical: join(realpathSync(dir), ...rest), stat: null };
      } catch {
        rest.unshift(basename(dir));
        dir = dirname(dir);
      }
    }
    return { canonical: abs, stat: null };
  }
  return { canonical: abs, stat: null };
}

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** What kind of file a non-regular file is, in a few words. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a regular file";
}

/**
 * Opens a file source's input for reading, or stops the job (FLOW5002) when it cannot be
 * read or is not a regular file. Opened without blocking, so that a FIFO without a writer
 * is refused at once instead of hanging the job (and its SIGTERM handler) in open().
 */
export function openInput(path: string, source: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new JobError("FLOW5002", `cannot read ${path} for source \`${source}\`: ${describeFsError(e)}`, "paths in connectors are resolved against the working directory of the running job");
  }
  const st = fstatSync(fd);
  if (st.isFile()) return fd;
  closeSync(fd);
  throw new JobError(
    "FLOW5002",
    `cannot read ${path} for source \`${source}\`: it is ${fileKind(st)}, not a regular file`,
    st.isDirectory()
      ? "give the path of a file"
      : "a file source reads a regular file, which it can read again from a position after a failure; read a pipe or a device with stdin() instead (node job.mjs < path)",
  );
}

/**
 * Refuses, before anything is written: an output that is a folder or not a regular file
 * (FLOW5004), two uses of one file where one of them writes it, and a checkpoint folder that
 * is, contains or lies inside an input or output (FLOW5011).
 */
export function checkPaths(m: Manifest, checkpointRoot: { path: string; shown: string } | null): void {
  const uses = pathUses(m).map((u) => ({ ...u, at: resolvePath(u.path) }));
  for (const u of uses) {
    if (u.role === "input" || !u.at.stat || u.at.stat.isFile()) continue;
    if (u.at.stat.isDirectory()) throw new JobError("FLOW5004", `cannot write ${u.path}: it is a directory`);
    throw new JobError("FLOW5004", `cannot write ${u.path}: it is ${fileKind(u.at.stat)}, not a regular file`, "a sink or dead-letter file must be a regular file: it is replaced at a fresh start and cut back on recovery");
  }
  for (let i = 0; i < uses.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = uses[j]!;
      const b = uses[i]!;
      if (a.role === "input" && b.role === "input") continue;
      const sameName = a.at.canonical === b.at.canonical;
      const sameFile = a.at.stat !== null && b.at.stat !== null && a.at.stat.dev === b.at.stat.dev && a.at.stat.ino === b.at.stat.ino;
      if (!sameName && !sameFile) continue;
      const how = sameName ? (a.path === b.path ? "" : ` (both are ${shownPath(a.at.canonical)})`) : ` (hard links to one file: device ${a.at.stat!.dev}, inode ${a.at.stat!.ino})`;
      const input = a.role === "input" ? a : b.role === "input" ? b : null;
      throw new JobError(
        "FLOW5011",
        `paths collide: ${b.what} and ${a.what} are the same file${how}`,
        input ? "writing it would erase the input: give the output a file of its own" : "each sink and dead-letter file needs a file of its own, or one output's lines are lost",
      );
    }
  }
  if (!checkpointRoot) return;
  const root = resolvePath(checkpointRoot.path);
  for (const u of uses) {
    if (inside(u.at.canonical, root.canonical)) {
      throw new JobError(
        "FLOW5011",
        `paths collide: the checkpoint folder ${checkpointRoot.shown} ${u.at.canonical === root.canonical ? "is" : "contains"} ${u.what}`,
        "keep checkpoints in a folder of their own (--checkpoint-dir or `storage` in the checkpoint block): the job deletes what it does not need there",
      );
    }
    if (inside(root.canonical, u.at.canonical)) {
      throw new JobError("FLOW5011", `paths collide: the checkpoint folder ${checkpointRoot.shown} is inside ${u.what}`, "keep checkpoints in a folder of their own (--checkpoint-dir or `storage` in the checkpoint block)");
    }
  }
}

/** A file sink's (or dead-letter file's) lock file: beside the file, symbolic links resolved. */
export function fileLockPath(target: string): string {
  const c = resolvePath(target).canonical;
  return join(dirname(c), `.${basename(c)}.flowc-lock`);
}

/** The locks a job takes: its checkpoint folder, then each file it writes. */
export function lockTargets(m: Manifest, checkpointRoot: { path: string; shown: string } | null, stateDir: { path: string; shown: string } | null = null): { what: string; lockFile: string }[] {
  const targets: { what: string; lockFile: string }[] = [];
  if (checkpointRoot) {
    const root = resolvePath(checkpointRoot.path).canonical;
    targets.push({ what: `the checkpoint folder ${checkpointRoot.shown}`, lockFile: join(root, "LOCK") });
  }
  // The disk backend's folder: one job per folder.
  if (stateDir) targets.push({ what: `the state folder ${stateDir.shown}`, lockFile: join(resolvePath(stateDir.path).canonical, "LOCK") });
  for (const u of pathUses(m)) if (u.role !== "input") targets.push({ what: u.what, lockFile: fileLockPath(u.path) });
  return targets;
}
