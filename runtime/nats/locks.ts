// Locks held on a NATS server (docs/operations.md, "Safety"): a job whose checkpoints are in
// an object store bucket, or that writes a NATS sink, must not run twice at once, and the
// local lock files of runtime/locks.ts do not reach a second machine. A lock is an entry in
// the key-value bucket `flowc_locks`, one key per thing locked:
//
//   checkpoints.<bucket>                 the checkpoint bucket
//   sink.<stream>.<job>.<sink index>     a NATS sink (its messages are named after the job)
//
// Taking it is a create that the server refuses when the key exists. The holder rewrites it
// every HEARTBEAT_MS with a revision check (a compare-and-set), and the bucket's entries
// expire TTL_MS after their last write, so the lock of a job that died with its machine
// frees itself. A holder on this machine whose process is gone (killed with SIGKILL) is
// recognised at once, as for lock files (pid, start time, boot id), and its entry is taken
// over by a revision-checked update: of two copies starting over it, one wins. A holder
// that finds its entry taken by another (it was away longer than the TTL) stops the job
// (FLOW5010) rather than write on.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Kvm, type KV } from "@nats-io/kv";
import { JobError } from "../errors.js";
import { bootId, holderRuns, processStart, type Holder } from "../locks.js";
import { currentSettings, type NatsLink } from "./connection.js";

export const LOCK_BUCKET = "flowc_locks";
export const TTL_MS = 30_000;
const HEARTBEAT_MS = 5_000;

interface Held {
  key: string;
  what: string;
  revision: number;
  text: string;
  kv: KV;
  link: NatsLink;
}

const held = new Map<string, Held>();
let timer: NodeJS.Timeout | null = null;
/** A lock that was lost: the job stops with it at its next step. */
let lost: JobError | null = null;

/** A key-value key from parts that may hold other characters. */
export function lockKey(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^-\w=]/g, "_")).join(".");
}

function record(job: string): string {
  const h: Holder = { pid: process.pid, start: processStart("self"), boot: bootId(), host: hostname(), job, since: new Date().toISOString(), nonce: randomBytes(8).toString("hex") };
  return JSON.stringify(h);
}

function parse(text: string): Holder | null {
  try {
    const o = JSON.parse(text) as Holder;
    return typeof o.pid === "number" ? o : null;
  } catch {
    return null;
  }
}

async function bucket(link: NatsLink): Promise<KV> {
  const kvm = new Kvm(link.nc);
  return link.retry("open the lock bucket", () => kvm.create(LOCK_BUCKET, { ttl: TTL_MS, history: 1, replicas: currentSettings().replicas ?? 1 }));
}

/** Takes the lock on `key` for the process's life (held already: nothing to do). */
export async function acquire(link: NatsLink, key: string, what: string): Promise<void> {
  if (held.has(key)) return;
  const { job } = currentSettings();
  const kv = await bucket(link);
  const text = record(job);
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const revision = await link.retry(`lock ${what}`, () => kv.create(key, text));
      held.set(key, { key, what, revision, text, kv, link });
      startHeartbeat();
      return;
    } catch (e) {
      if (e instanceof JobError) throw e;
    }
    const entry = await link.retry(`lock ${what}`, () => kv.get(key));
    if (!entry || entry.operation !== "PUT") continue; // released meanwhile
    const h = parse(entry.string());
    if (h && (holderRuns(h) || h.host !== hostname()) && !(h.pid === process.pid && h.host === hostname())) {
      const who = `${h.job === job ? `another copy of job \`${h.job}\`` : h.job ? `job \`${h.job}\`` : "another job"} (pid ${h.pid}${h.host && h.host !== hostname() ? ` on host ${h.host}` : ""}${h.since ? `, running since ${h.since}` : ""})`;
      throw new JobError(
        "FLOW5010",
        `${what} is in use by ${who}; lock ${LOCK_BUCKET}/${key} on the NATS server`,
        h.host && h.host !== hostname()
          ? `stop the other job first; a lock whose holder stopped without releasing it expires ${TTL_MS / 1000} s after its last heartbeat`
          : "two jobs must not share a checkpoint bucket or a NATS sink: stop the other one first, or give this one its own",
      );
    }
    // Its holder is gone (this machine, a process that no longer runs): take it over, if nobody did meanwhile.
    try {
      const revision = await kv.update(key, text, entry.revision);
      held.set(key, { key, what, revision, text, kv, link });
      startHeartbeat();
      return;
    } catch {
      // taken meanwhile: look again
    }
  }
  throw new JobError("FLOW5010", `cannot lock ${what}: the lock ${LOCK_BUCKET}/${key} keeps changing (other copies of the job are starting)`, "start one copy of the job at a time");
}

function startHeartbeat(): void {
  if (timer) return;
  timer = setInterval(() => void beat(), HEARTBEAT_MS);
  timer.unref();
}

async function beat(): Promise<void> {
  for (const h of held.values()) {
    if (!h.link.connected) continue;
    try {
      h.revision = await h.kv.update(h.key, h.text, h.revision);
    } catch {
      // Expired while the server was away, or taken over by another copy.
      try {
        h.revision = await h.kv.create(h.key, h.text);
      } catch {
        const entry = await h.kv.get(h.key).catch(() => null);
        if (entry && entry.string() === h.text) {
          h.revision = entry.revision;
          continue;
        }
        if (entry || !h.link.connected) {
          lost ??= new JobError("FLOW5010", `${h.what} was taken over by another copy of the job while this one could not renew its lock (${LOCK_BUCKET}/${h.key})`, "run one copy of the job at a time; this copy stops");
        }
      }
    }
  }
}

/** Raises a lock lost meanwhile. */
export function checkLocks(): void {
  if (lost) throw lost;
}

/** Releases every lock (the process is ending). */
export async function releaseAll(): Promise<void> {
  if (timer) clearInterval(timer);
  timer = null;
  for (const h of held.values()) {
    if (!h.link.connected) continue;
    try {
      await h.kv.delete(h.key, { previousSeq: h.revision });
    } catch {
      // expired or taken: nothing to release
    }
  }
  held.clear();
}
