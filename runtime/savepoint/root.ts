// The savepoint root: the one folder (`--savepoint-dir`, default ./savepoints/<job>) under
// which the admin endpoint writes savepoints. A request's `dir` is relative to the root (or
// absolute and inside it); a folder that lies outside, by `..`, an absolute path or a
// symbolic link anywhere on the way, is refused before anything is written.
//
// Folders are made one at a time with plain mkdir (runtime/folders.ts), never with Node's
// recursive mkdir, which can loop for ever on a path such as `/proc/self/x`.

import { mkdirSync, realpathSync } from "node:fs";
import { makeFolders, statOrNone } from "../files.js";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** A request's folder is refused: the admin endpoint answers 400 with this message. */
export class SavepointDirError extends Error {
  override name = "SavepointDirError";
}

/** Whether `path` is `root` or lies under it (both absolute and normalised). */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.code === "ENOENT" ? " (no such file or folder)" : err.code === "EACCES" ? " (permission denied)" : ""}` : err.message;
}

/** The nearest of `path` and its parents that exists (symbolic links are not followed). */
function nearestExisting(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    if (statOrNone(p, false)) return p;
    if (dirname(p) === p) return null;
  }
}

/** Throws `refuse()` unless the real path of `path` (its nearest existing part) is inside the root's. */
function checkReal(root: string, path: string, refuse: () => SavepointDirError): void {
  const at = nearestExisting(path);
  // Nothing of the root exists yet: nothing below it can lead elsewhere.
  if (at === null || !inside(root, at)) return;
  let real: string;
  let realRoot: string;
  try {
    real = realpathSync.native(at);
    realRoot = realpathSync.native(root);
  } catch {
    // A symbolic link that leads nowhere (or in a circle).
    throw refuse();
  }
  if (!inside(realRoot, real)) throw refuse();
}

/**
 * The absolute folder a savepoint request names: the root for null, else `dir` resolved
 * against the root. Throws SavepointDirError when it is not inside the root, also when a
 * symbolic link on the way leads out of it.
 */
export function savepointTarget(root: string, dir: string | null): string {
  if (dir === null) return root;
  const refuse = (why = "") =>
    new SavepointDirError(`"dir" ${JSON.stringify(dir)} is outside the job's savepoint root ${root}${why}: a request's folder is relative to the root (--savepoint-dir) and must stay inside it`);
  if (dir.includes("\0")) throw new SavepointDirError(`"dir" must not contain a NUL character`);
  const target = resolve(root, dir);
  if (!inside(root, target)) throw refuse();
  try {
    checkReal(root, target, () => refuse(" (through a symbolic link)"));
  } catch (e) {
    if (e instanceof SavepointDirError) throw e;
    throw new SavepointDirError(`"dir" ${JSON.stringify(dir)} cannot be used: ${errorText(e)}`);
  }
  return target;
}

/**
 * Makes a new, empty folder savepoint-<job>-<time> (a -2, -3… suffix when taken) in
 * `dir`, a folder from savepointTarget, making `dir` first if needed. Checks once more that
 * what was made is inside the root.
 */
export function newSavepointFolder(root: string, dir: string, jobName: string): string {
  if (!inside(root, dir)) throw new SavepointDirError(`${dir} is outside the job's savepoint root ${root}`);
  makeFolders(dir);
  checkReal(root, dir, () => new SavepointDirError(`${dir} leads outside the job's savepoint root ${root} (through a symbolic link)`));
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  for (let i = 1; i <= 1000; i++) {
    const path = join(dir, `savepoint-${jobName}-${stamp}${i === 1 ? "" : `-${i}`}`);
    try {
      // Not recursive: fails on anything already there, a dangling symbolic link too.
      mkdirSync(path);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot create the folder ${path}: ${errorText(e)}`);
    }
  }
  throw new Error(`cannot create a savepoint folder in ${dir}: 1000 of this second's names are taken`);
}
