// File-system helpers of the runtime: writing a file durably, and making folders without
// Node's recursive mkdir. `mkdirSync(p, { recursive: true })` loops
// for ever (at full CPU, on the main thread; the async one in a libuv worker) when mkdir
// answers ENOENT for a path whose parent exists, which is what /proc does (`/proc/self/x`):
// a job given such a path would hang and ignore SIGTERM. Here each missing path component
// costs one plain mkdir, so any path costs a bounded number of file-system calls.

import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.code === "ENOENT" ? " (no such file or folder)" : err.code === "EACCES" ? " (permission denied)" : ""}` : err.message;
}

/** lstat or stat, undefined when nothing is there (also when a parent is a file: ENOTDIR). */
export function statOrNone(path: string, follow: boolean) {
  try {
    return follow ? statSync(path, { throwIfNoEntry: false }) : lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw e;
  }
}

/**
 * Makes `path` and its missing parents, one plain mkdir each; returns the folders it made,
 * outermost first. Throws an Error whose message names the folder and the reason.
 */
export function makeFolders(path: string): string[] {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    let st;
    let link;
    try {
      st = statOrNone(p, true);
      link = st ? undefined : statOrNone(p, false);
      // Made between the two looks by another process (two copies of a job starting at once).
      if (link && !link.isSymbolicLink()) {
        st = link;
        link = undefined;
      }
    } catch (e) {
      throw new Error(`cannot use the folder ${p}: ${errorText(e)}`);
    }
    if (link) throw new Error(`${p} is a symbolic link that leads nowhere`);
    if (st) {
      if (!st.isDirectory()) throw new Error(`${p} is not a folder`);
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  const made = missing.reverse();
  for (const p of made) {
    try {
      mkdirSync(p);
    } catch (e) {
      // Made meanwhile by someone else: fine if it is a folder.
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && statOrNone(p, true)?.isDirectory()) continue;
      throw new Error(`cannot create the folder ${p}: ${errorText(e)}`);
    }
  }
  return made;
}

/**
 * Writes `text` into a file opened with `flags` ("w", or "wx": only a new file) and fsyncs
 * it before closing; the open's error (EEXIST with "wx") goes to the caller.
 */
export function writeFileSynced(path: string, text: string, flags: "w" | "wx"): void {
  const fd = openSync(path, flags);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
