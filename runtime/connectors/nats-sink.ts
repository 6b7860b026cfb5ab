// `nats(subject or x => subject, stream: …)` as a sink (LANGUAGE.md 9.1; the design in
// docs/operations.md, "An exactly-once NATS sink").
//
// Under `mode exactly_once` it is a two-phase commit driven by the checkpoints:
//   - records are gathered in memory while a checkpoint interval runs;
//   - pre-commit (in the checkpoint's cut) seals them; in the checkpoint's background part
//     they are written as a staged segment file that the checkpoint lists with its checksum
//     (in the object store too with `storage "nats:…"`), together with the transaction:
//     this sink's epoch (a name for its output since its fresh start), the checkpoint id,
//     the number of messages and the stream's last sequence before any of them is published;
//   - commit (once the checkpoint is complete) publishes them in order, each with the
//     message id `<job>/<sink>/<epoch>/<checkpoint>/<n>` (Nats-Msg-Id), and waits for every
//     acknowledgement. Only then are they visible to readers of the stream, as a file sink's
//     output is visible when its checkpoint commits.
// A run that resumes from a checkpoint opens the sink with that checkpoint's transaction and
// reads the stream after its recorded sequence (headers only) to find which of its messages
// are there: they are a prefix, and only the rest is published, in order. The server's
// duplicate window is not relied on for that; it only drops a message sent twice around a
// reconnection. If the server lost a message but kept later ones (it went away with
// messages in flight), the later ones are deleted from the stream and published again in
// order, under ids of their own.
//
// Under `mode at_least_once`, or without checkpoints, records are published as they come
// (a window of unacknowledged messages, sent again after a reconnection).

import type { NatsSinkManifest } from "../api.js";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeDurable } from "../checkpoint/storage.js";
import { JobError } from "../errors.js";
import type { Log } from "../log.js";
import { link, resolveUrl, shownUrl, sleep, type NatsLink } from "../nats/connection.js";
import { acquire, checkLocks, lockKey } from "../nats/locks.js";
import { Publisher, WINDOW } from "../nats/publisher.js";
import { StreamReader } from "../nats/reader.js";
import { captures, ensureStream } from "../nats/streams.js";
import type { FileRef, NatsSinkStatus, NatsTransaction, Sink, SinkAt, SinkConnector, SinkContext, SinkTransaction, Staged, TransactionalSink } from "./contract.js";

/** Records staged and waiting for a commit beyond which the job's loop waits (exactly once). */
const MAX_STAGED = 262_144;
/** Records gathered for the next checkpoint beyond which it asks for the checkpoint early. */
const EARLY_CHECKPOINT = 65_536;

/** Records sealed by a checkpoint's pre-commit and not published yet. */
interface Segment {
  rel: string;
  subjects: string[] | null;
  payloads: string[];
  ref: FileRef | null;
}

export class NatsSink implements Sink, TransactionalSink {
  /** Records written since the last flush / pre-commit. */
  private payloads: string[] = [];
  private subjects: string[] | null;
  lines = 0;
  bytes = 0;
  private published = 0;
  private sealed: Segment[] = [];
  private nextCheckpoint = 1;
  private counter = 0;
  private publisher: Publisher | null = null;
  /** At least once: published records not acknowledged yet, kept to be sent again. */
  private unacked: { subject: string; payload: string }[] = [];
  /** flush() calls waiting for a commit (backpressure). */
  private committedWaiters: (() => void)[] = [];
  /** Subjects already checked against the stream's (a subject per record). */
  private readonly known = new Map<string, boolean>();
  private readonly prefix: string;

  constructor(
    private readonly m: NatsSinkManifest,
    private readonly ctx: SinkContext,
    private readonly link: NatsLink,
    private readonly exactlyOnce: boolean,
    private epoch: string,
    private readonly streamSubjects: readonly string[],
    private readonly log: Log,
  ) {
    this.subjects = m.subject === null ? [] : null;
    this.prefix = `${ctx.job}/${ctx.index}/${ctx.instance && ctx.instance.count > 1 ? `i${ctx.instance.index}/` : ""}`;
  }

  get transaction(): TransactionalSink | null {
    return this.exactlyOnce ? this : null;
  }

  write(line: string): void {
    this.payloads.push(line);
    this.lines++;
    this.bytes += line.length;
  }

  writeTo(subject: string, line: string): void {
    let ok = this.known.get(subject);
    if (ok === undefined) {
      ok = validSubject(subject) && this.streamSubjects.some((f) => matches(f, subject));
      if (this.known.size < 10_000) this.known.set(subject, ok);
    }
    if (!ok) {
      throw new JobError(
        "FLOW5016",
        validSubject(subject) ? `sink ${this.ctx.index} publishes to subject ${JSON.stringify(subject)}, which stream ${this.m.stream} does not capture (its subjects: ${this.streamSubjects.join(", ")})` : `sink ${this.ctx.index} computed ${JSON.stringify(subject)}, which is not a NATS subject`,
        "compute subjects the stream captures, or add them to the stream's subjects",
      );
    }
    this.subjects!.push(subject);
    this.write(line);
  }

  private subjectOf(subjects: string[] | null, i: number): string {
    return subjects === null ? this.m.subject! : subjects[i]!;
  }

  // ---- at least once: published as records come ------------------------------------------

  flush(): void | Promise<void> {
    checkLocks();
    if (this.exactlyOnce) {
      // Backpressure: while more than MAX_STAGED records wait for a checkpoint's commit, the
      // job's loop waits here (a little at a time, so that checkpoints still start) instead
      // of reading on into memory.
      if (this.sealed.length > 0 && this.stagedCount() + this.payloads.length > (this.payloads.length >= EARLY_CHECKPOINT ? EARLY_CHECKPOINT : MAX_STAGED)) {
        return new Promise((r) => {
          this.committedWaiters.push(r);
          setTimeout(r, 100);
        });
      }
      return;
    }
    if (this.payloads.length === 0) return;
    const pub = (this.publisher ??= new Publisher(this.link, this.m.stream));
    const subjects = this.subjects;
    for (let i = 0; i < this.payloads.length; i++) {
      const subject = this.subjectOf(subjects, i);
      this.unacked.push({ subject, payload: this.payloads[i]! });
      pub.publish(subject, this.payloads[i]!, null);
    }
    this.payloads = [];
    if (subjects) this.subjects = [];
    this.forget();
    if (pub.failure) throw pub.failure;
    if (pub.outstanding >= WINDOW || pub.troubled) return this.catchUp();
  }

  /** Drops the acknowledged records from `unacked`. */
  private forget(): void {
    const pub = this.publisher!;
    const done = this.unacked.length - pub.outstanding;
    if (done > 0) {
      this.unacked.splice(0, done);
      this.published += done;
      pub.sent -= done;
      pub.acked -= done;
    }
  }

  /** Waits for acknowledgements; after trouble, sends what was not acknowledged again (at least once). */
  private async catchUp(all = false): Promise<void> {
    for (let round = 0; ; round++) {
      const pub = this.publisher!;
      await pub.settle(all);
      this.forget();
      if (pub.failure) throw pub.failure;
      if (this.link.failure) throw this.link.failure;
      if (!pub.troubled) return;
      if (pub.unavailable) {
        // JetStream said "no responders" (a cluster electing a leader): again after a pause.
        if (round > 30) throw pub.unavailableError!;
        await sleep(Math.min(2000, 250 * (round + 1)));
      }
      // Lost acknowledgements: wait for the server, then send the rest again.
      pub.close();
      await this.waitForServer();
      const again = new Publisher(this.link, this.m.stream);
      this.publisher = again;
      for (const r of this.unacked) again.publish(r.subject, r.payload, null);
      if (round > 100) throw this.link.unreachable(`cannot publish to stream ${this.m.stream}`);
    }
  }

  private async waitForServer(): Promise<void> {
    const started = Date.now();
    while (!this.link.connected) {
      if (this.link.failure) throw this.link.failure;
      await sleep(100);
      if (Date.now() - started > 3_600_000) throw this.link.unreachable("waiting for the server");
    }
    await this.link.retry("reach the server", () => this.link.nc.flush());
  }

  // ---- exactly once: two-phase commit ----------------------------------------------------

  wantsCheckpoint(): boolean {
    return this.payloads.length >= EARLY_CHECKPOINT;
  }

  stageFor(id: number): void {
    this.nextCheckpoint = id;
  }

  uncommitted(): string[] {
    return this.sealed.map((s) => s.rel);
  }

  preCommit(): Promise<Staged> {
    const id = this.nextCheckpoint;
    const seg: Segment = {
      rel: join("sinks", `nats-${this.ctx.index}`, `seg-${String(id).padStart(6, "0")}-${this.counter++}.json`),
      subjects: this.subjects,
      payloads: this.payloads,
      ref: null,
    };
    this.payloads = [];
    this.subjects = this.m.subject === null ? [] : null;
    this.sealed.push(seg);
    const sealed = [...this.sealed];
    return (async () => {
      const buf = Buffer.from(JSON.stringify({ subjects: seg.subjects, payloads: seg.payloads }));
      await writeDurable(join(this.ctx.staging!, seg.rel), [buf]);
      seg.ref = { sha256: createHash("sha256").update(buf).digest("hex"), bytes: buf.length };
      const info = await this.link.retry(`look up stream ${this.m.stream}`, () => this.link.jsm.streams.info(this.m.stream));
      const count = sealed.reduce((n, s) => n + s.payloads.length, 0);
      const files: Record<string, FileRef> = {};
      for (const s of sealed) files[s.rel] = s.ref!;
      const txn: SinkTransaction = {
        index: this.ctx.index,
        role: this.ctx.role,
        path: `nats:${this.m.stream}`,
        baseLength: 0,
        length: count,
        segments: sealed.map((s) => s.rel),
        nats: { stream: this.m.stream, epoch: this.epoch, checkpoint: id, count, after: info.state.last_seq },
      };
      return { txn, files };
    })();
  }

  async commit(txn: SinkTransaction): Promise<void> {
    const segs = this.sealed.filter((s) => txn.segments.includes(s.rel));
    try {
      await this.publishTransaction(txn.nats!, segs, 0);
      this.sealed = this.sealed.filter((s) => !txn.segments.includes(s.rel));
    } finally {
      for (const w of this.committedWaiters.splice(0)) w();
    }
  }

  private stagedCount(): number {
    let n = 0;
    for (const s of this.sealed) n += s.payloads.length;
    return n;
  }

  /** Re-commits a checkpoint's transaction on resuming: publishes what of it the stream does not hold yet. */
  async recommit(txn: SinkTransaction): Promise<void> {
    const n = txn.nats!;
    const segs: Segment[] = txn.segments.map((rel) => {
      const o = JSON.parse(readFileSync(join(this.ctx.staging!, rel), "utf8")) as { subjects: string[] | null; payloads: string[] };
      return { rel, subjects: o.subjects, payloads: o.payloads, ref: null };
    });
    const held = await this.alreadyPublished(n);
    if (held < n.count) this.log.info(`sink ${this.ctx.index}: checkpoint ${n.checkpoint}'s output was ${held === 0 ? "not published" : `published in part (${held} of ${n.count} messages)`} when the job stopped: publishing ${held === 0 ? "it" : "the rest"}`);
    await this.publishTransaction(n, segs, held);
  }

  /**
   * Publishes a transaction's messages from `from` on, in order, and waits until the server
   * has them all. After trouble (a lost connection, silence), finds out from the stream
   * what it holds and goes on after that.
   */
  private async publishTransaction(n: NatsTransaction, segs: Segment[], from: number): Promise<void> {
    const base = `${this.prefix}${n.epoch}/${n.checkpoint}/`;
    let suffix = "";
    let at = from;
    /** Rounds in a row in which JetStream answered "no responders" (a cluster electing a leader). */
    let unavailable = 0;
    for (let round = 0; at < n.count; round++) {
      if (round > 50) throw this.link.unreachable(`cannot publish checkpoint ${n.checkpoint}'s output to stream ${n.stream}`);
      const pub = new Publisher(this.link, n.stream);
      try {
        let i = 0;
        let segIndex = 0;
        let offset = 0;
        // Find the segment of message `at`.
        for (; segIndex < segs.length; segIndex++) {
          const len = segs[segIndex]!.payloads.length;
          if (offset + len > at) break;
          offset += len;
        }
        i = at;
        let troubled = false;
        for (; segIndex < segs.length && !troubled; segIndex++) {
          const s = segs[segIndex]!;
          const payloads = s.payloads;
          for (let k = i - offset; k < payloads.length; k++, i++) {
            if (pub.outstanding >= WINDOW) {
              await pub.settle();
              if (pub.troubled) {
                troubled = true;
                break;
              }
            }
            pub.publish(this.subjectOf(s.subjects, k), payloads[k]!, `${base}${i}${suffix}`);
          }
          offset += payloads.length;
        }
        if (!troubled) await pub.settle(true);
        if (pub.failure) throw pub.failure;
        if (pub.unavailable) {
          // Still so after about a minute: the stream does not capture the subject after all.
          if (++unavailable > 30) throw pub.unavailableError!;
          this.log.warn(`sink ${this.ctx.index}: JetStream did not take messages for stream ${n.stream} (no responders); trying again`);
          await sleep(Math.min(2000, 250 * unavailable));
        } else unavailable = 0;
        if (!pub.troubled && pub.acked === pub.sent) {
          at = n.count;
          break;
        }
      } finally {
        pub.close();
      }
      // Trouble: wait for the server, then count what the stream holds.
      await this.waitForServer();
      await sleep(200);
      const r = await this.scan(n, true);
      at = r.held;
      if (r.removed > 0) suffix = `~${round + 1}`;
    }
    this.published += n.count - from;
  }

  private async alreadyPublished(n: NatsTransaction): Promise<number> {
    return (await this.scan(n, true)).held;
  }

  /**
   * Reads the stream after the transaction's recorded sequence, headers only, for this
   * transaction's messages: how many of them are there as a prefix in order. Messages of it
   * found after a gap (the server lost one but kept later ones) are deleted, when `repair`.
   */
  private async scan(n: NatsTransaction, repair: boolean): Promise<{ held: number; removed: number }> {
    const base = `${this.prefix}${n.epoch}/${n.checkpoint}/`;
    const info = await this.link.retry(`look up stream ${n.stream}`, () => this.link.jsm.streams.info(n.stream));
    const last = info.state.last_seq;
    const found: { index: number; seq: number }[] = [];
    if (last > n.after) {
      const reader = new StreamReader(this.link, { stream: n.stream, filter: null, from: n.after + 1, headersOnly: true, until: last, expires: 2000 });
      await reader.start();
      try {
        for (;;) {
          if (reader.available === 0) {
            if (reader.exhausted) break;
            await reader.wait();
            if (reader.failure) throw reader.failure;
            continue;
          }
          const seq = reader.peekSeq();
          const msg = reader.take();
          if (seq > last) break;
          const id = msg.headers?.get("Nats-Msg-Id") ?? "";
          if (id.startsWith(base)) {
            const rest = id.slice(base.length);
            const tilde = rest.indexOf("~");
            found.push({ index: Number(tilde < 0 ? rest : rest.slice(0, tilde)), seq });
          }
          if (seq >= last) break;
        }
      } finally {
        await reader.close();
      }
    }
    let held = 0;
    while (held < found.length && found[held]!.index === held) held++;
    const extra = found.slice(held);
    if (extra.length && repair) {
      this.log.warn(`sink ${this.ctx.index}: stream ${n.stream} holds ${extra.length} message(s) of checkpoint ${n.checkpoint} after one it lost (the server went away with messages in flight); they are removed and published again in order`);
      for (const e of extra) await this.link.retry(`delete a message of stream ${n.stream}`, () => this.link.jsm.streams.deleteMessage(n.stream, e.seq, false));
    }
    return { held, removed: extra.length };
  }

  abort(): void {
    for (const w of this.committedWaiters.splice(0)) w();
    this.payloads = [];
    if (this.subjects) this.subjects = [];
    this.sealed = [];
    this.publisher?.close();
    this.publisher = null;
  }

  async close(): Promise<void> {
    if (!this.exactlyOnce && this.publisher) {
      await this.flush();
      await this.catchUp(true);
    }
    this.publisher?.close();
    this.publisher = null;
  }

  savepointAt(): SinkAt | null {
    return null;
  }

  natsStatus(): NatsSinkStatus {
    const waiting = this.sealed.reduce((n, s) => n + s.payloads.length, 0) + this.payloads.length + this.unacked.length;
    return { stream: this.m.stream, published: this.published, pending: waiting };
  }
}

/** A subject one can publish to: tokens without wildcards or spaces. */
function validSubject(s: string): boolean {
  return s.length > 0 && !/[\s*>]/.test(s) && !s.split(".").some((t) => t === "");
}

function matches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length || (f[i] !== "*" && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

export const connector: SinkConnector<NatsSinkManifest> = {
  async open(m, ctx) {
    const l = await link(resolveUrl(m.url));
    const who = `sink ${ctx.index} of job \`${ctx.job}\``;
    const info = await ensureStream(l, m.stream, m.subject ?? "", m.create && m.subject !== null, who, ctx.log);
    if (m.subject !== null && !captures(info, m.subject)) {
      throw new JobError("FLOW5016", `sink ${ctx.index} publishes to subject ${m.subject}, which stream ${m.stream} on ${shownUrl(l.url)} does not capture (its subjects: ${(info.config.subjects ?? []).join(", ") || "none"})`, "publish to a subject the stream captures, or add the subject to the stream");
    }
    // One writer per sink: a second copy of the job would publish the same output again.
    // Several instances: one writer per sink and instance.
    const inst = ctx.instance && ctx.instance.count > 1 ? [String(ctx.instance.index)] : [];
    await acquire(l, lockKey("sink", m.stream, ctx.job, String(ctx.index), ...inst), `sink ${ctx.index} (stream ${m.stream})${inst.length ? ` of instance ${inst[0]}` : ""}`);
    const exactlyOnce = ctx.exactlyOnce && ctx.staging !== null;
    const resumed = ctx.checkpointed?.nats;
    const epoch = resumed?.epoch ?? randomBytes(6).toString("base64url");
    const sink = new NatsSink(m, ctx, l, exactlyOnce, epoch, info.config.subjects ?? [], ctx.log);
    if (exactlyOnce && ctx.checkpointed && resumed) await sink.recommit(ctx.checkpointed);
    return sink;
  },
};
