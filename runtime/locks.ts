// Exclusive locks on what a job writes: its checkpoint folder, every file sink and every
// dead-letter file, held for the life of the process (across restart-policy restarts) so
// that a second copy of the job refuses to start instead of corrupting them (FLOW5010).
//
// Node has no flock(), so a lock is a small file created atomically: the holder's record is
// written under a temporary name and link()ed to the lock's name, which fails when the lock
// exists, so of two copies starting at once exactly one creates it. The record says who
// holds it: pid, the process's start time (Linux: field 22 of /proc/<pid>/stat) and the
// boot id. A lock whose holder is gone — the pid does not exist, belongs to a process started
// at another time (the pid was reused), or the machine was rebooted since — is stale: a job
// killed with SIGKILL does not block its restart. A stale lock is removed only under a
// short-lived "breaker" file (`<lock>.break`, itself created with O_EXCL) and only if it
// still holds the record that was judged stale, so two copies starting over one stale lock
// cannot both take it over.
//
// Where the lock files are (docs/operations.md, "Safety"):
//   <checkpoint folder>/LOCK                 the checkpoint storage
//   <folder of the file>/.<name>.flowc-lock  a file sink or dead-letter file, beside the file
//                                            it locks (symbolic links resolved first)

import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, linkSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, relative, sep } from "node:path";
import { JobError, describeFsError } from "./errors.js";
import { makeFolders, writeFileSynced } from "./files.js";

/** Who holds a lock, as written in the lock file (one JSON object). */
export interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), or null where unknown. */
  start: string | null;
  /** /proc/sys/kernel/random/boot_id (Linux), or null. */
  boot: string | null;
  host: string | null;
  job: string | null;
  since: string | null;
  /** Makes every record unique, so a lock judged stale is recognised when it is removed. */
  nonce: string | null;
}

/** The start time of a process (field 22 of /proc/<pid>/stat), or null where unknown. */
export function processStart(pid: number | "self"): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

let bootIdCache: string | null | undefined;
export function bootId(): string | null {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache;
}

function parseHolder(text: string): Holder | null {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (typeof o.pid !== "number" || !Number.isInteger(o.pid) || o.pid <= 0) return null;
    const str = (k: string): string | null => (typeof o[k] === "string" ? (o[k] as string) : null);
    return { pid: o.pid, start: str("start"), boot: str("boot"), host: str("host"), job: str("job"), since: str("since"), nonce: str("nonce") };
  } catch {
    return null;
  }
}

/**
 * Whether the holder of a lock still runs. A holder on another host, or one whose start
 * time cannot be read, is taken to run while its pid exists (a lock is never broken on a
 * guess).
 */
export function holderRuns(h: Holder): boolean {
  if (h.host !== null && h.host !== hostname()) return true;
  const boot = bootId();
  if (h.boot !== null && boot !== null && h.boot !== boot) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: it exists, owned by another user.
  }
  if (h.start !== null) {
    const now = processStart(h.pid);
    if (now !== null && now !== h.start) return false; // the pid was reused
  }
  return true;
}

/** Blocks the thread for a few milliseconds (only while another process breaks a stale lock). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A path for messages: relative to the working directory when it is below it. */
export function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !rel.startsWith(sep) && rel !== p ? rel : p;
}

/** What a lock protects, for messages. */
export interface LockTarget {
  /** "the checkpoint folder ./chk", "the sink file out/a.jsonl", … */
  what: string;
  /** The lock file's path. */
  lockFile: string;
  /** Folders created to hold the lock file (removed again if empty when it is released). */
  created: string[];
}


/** The locks a job holds, taken once and kept until the process ends. */
export class LockSet {
  private readonly held = new Map<string, { text: string; target: LockTarget }>();
  private readonly onExit = (): void => this.releaseAll();
  private readonly record: Omit<Holder, "nonce">;

  constructor(job: string) {
    this.record = { pid: process.pid, start: processStart("self"), boot: bootId(), host: hostname(), job, since: new Date().toISOString() };
  }

  /** Whether this process holds the lock file already (a restart inside one process). */
  holds(lockFile: string): boolean {
    return this.held.has(lockFile);
  }

  /**
   * Takes the locks not held yet, all or none: on a refusal (FLOW5010) the ones taken by
   * this call are released and nothing else was touched.
   */
  acquireAll(targets: { what: string; lockFile: string }[]): void {
    const taken: string[] = [];
    try {
      for (const t of targets) {
        if (this.held.has(t.lockFile)) continue;
        this.acquire(t);
        taken.push(t.lockFile);
      }
    } catch (e) {
      for (const f of taken) this.release(f);
      throw e;
    }
  }

  private acquire(t: { what: string; lockFile: string }): void {
    let created: string[];
    try {
      created = makeFolders(dirname(t.lockFile));
    } catch (e) {
      throw new JobError("FLOW5004", `cannot lock ${t.what}: cannot create ${shownPath(dirname(t.lockFile))}: ${describeFsError(e)}`);
    }
    const target: LockTarget = { ...t, created };
    const text = JSON.stringify({ ...this.record, nonce: randomBytes(8).toString("hex") }) + "\n";
    try {
      for (let attempt = 0; attempt < 200; attempt++) {
        if (createExclusive(t.lockFile, text)) {
          if (this.held.size === 0) process.once("exit", this.onExit);
          this.held.set(t.lockFile, { text, target });
          return;
        }
        let seen: string;
        try {
          seen = readFileSync(t.lockFile, "utf8");
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // released meanwhile
          throw e;
        }
        const h = parseHolder(seen);
        if (!h && youngerThan(t.lockFile, 2000)) {
          pause(20); // being written (only on file systems without hard links)
          continue;
        }
        if (h && holderRuns(h) && !(h.pid === process.pid && h.start === this.record.start)) {
          const who = `${h.job === this.record.job ? `another copy of job \`${h.job}\`` : h.job ? `job \`${h.job}\`` : "another job"} (pid ${h.pid}${h.host && h.host !== hostname() ? ` on host ${h.host}` : ""}${h.since ? `, running since ${h.since}` : ""})`;
          throw new JobError(
            "FLOW5010",
            `${t.what} is in use by ${who}; lock file ${shownPath(t.lockFile)}`,
            h.host && h.host !== hostname()
              ? `stop the other job first; if it no longer runs on ${h.host}, delete the lock file`
              : "two jobs must not share a checkpoint folder or an output file: stop the other one first, or give this one its own --checkpoint-dir and output paths",
          );
        }
        // Stale (its process is gone), unreadable, or a leftover of this very process.
        breakStale(t.lockFile, seen, text);
      }
      throw new JobError("FLOW5010", `cannot lock ${t.what}: the lock file ${shownPath(t.lockFile)} keeps changing (other copies of the job are starting)`, "start one copy of the job at a time");
    } catch (e) {
      removeFolders(created);
      if (e instanceof JobError) throw e;
      throw new JobError("FLOW5004", `cannot lock ${t.what}: ${shownPath(t.lockFile)}: ${describeFsError(e)}`);
    }
  }

  private release(lockFile: string): void {
    const h = this.held.get(lockFile);
    if (!h) return;
    this.held.delete(lockFile);
    try {
      // Only our own record: never a lock another process holds.
      if (readFileSync(lockFile, "utf8") === h.text) unlinkSync(lockFile);
    } catch {
      // gone already
    }
    removeFolders(h.target.created);
    if (this.held.size === 0) process.off("exit", this.onExit);
  }

  /** Releases every lock (the job ended, or the process exits). */
  releaseAll(): void {
    for (const f of [...this.held.keys()].reverse()) this.release(f);
  }
}

/** Creates the lock file with `text` if it does not exist; false if it does. */
function createExclusive(lockFile: string, text: string): boolean {
  const tmp = `${lockFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSynced(tmp, text, "wx");
  try {
    linkSync(tmp, lockFile);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw e;
    // A file system without hard links: O_EXCL creation (a reader may briefly see it empty).
    try {
      writeFileSynced(lockFile, text, "wx");
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e2;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

/** A breaker file older than this was left by a process killed while breaking a lock. */
const BREAKER_STALE_MS = 10_000;

/**
 * Removes a stale lock, if it still holds the record `seen`, under the breaker file; when
 * another process is breaking it, waits a moment instead (the caller looks again).
 */
function breakStale(lockFile: string, seen: string, record: string): void {
  const breaker = `${lockFile}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    // Another process is breaking the lock, or was killed while doing so.
    try {
      const bfd = openSync(breaker, "r");
      let st, text;
      try {
        st = fstatSync(bfd);
        text = readFileSync(bfd, "utf8");
      } finally {
        closeSync(bfd);
      }
      const h = parseHolder(text);
      const gone = h ? !holderRuns(h) : Date.now() - st.mtimeMs > BREAKER_STALE_MS;
      if (gone && statSync(breaker).ino === st.ino) unlinkSync(breaker);
    } catch {
      // removed meanwhile
    }
    pause(5);
    return;
  }
  try {
    writeSync(fd, record);
    closeSync(fd);
    let now: string | null = null;
    try {
      now = readFileSync(lockFile, "utf8");
    } catch {
      // gone already
    }
    if (now === seen) unlinkSync(lockFile);
  } finally {
    unlinkSync(breaker);
  }
}

function youngerThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}

/** Removes folders made for a lock file, innermost first, while they are empty. */
function removeFolders(created: string[]): void {
  for (const d of [...created].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (the job wrote into it): it stays
    }
  }
}
