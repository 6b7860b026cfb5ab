// Reading a JetStream stream from a sequence, in order, with bounded memory: an ephemeral
// pull consumer (no acknowledgements: progress is the sequence the job keeps in its
// checkpoints), asked for one batch at a time only when what it delivered is nearly used up.
// Like the client's "ordered consumer", a gap in the delivery sequence, a lost consumer or a
// reconnection makes a new consumer that starts right after the last message received.
// Used by the NATS source and by the NATS sink's recovery (which reads headers only).
//
// The subject filter is applied here, not by the server: nats-server 2.9's filtered pull
// consumers stall when they start in the middle of a stream (seen with 2.9.10: a consumer
// with a filter and a start sequence delivers some thousand messages, then nothing), so
// the consumer reads every subject and the messages the filter does not match are dropped
// as they arrive (no work at all when the filter matches every subject of the stream).

import { createInbox, type Msg, type Subscription } from "@nats-io/transport-node";
import { describe, sleep, type NatsLink } from "./connection.js";
import { subjectMatches } from "./streams.js";

/** What the reader is asked for: a stream, a subject filter, where to start. */
export interface ReaderOptions {
  stream: string;
  /** A subject filter, or null for every message of the stream. */
  filter: string | null;
  /** The stream's subjects (a filter that matches all of them filters nothing). */
  streamSubjects?: readonly string[];
  /** The first stream sequence to read. */
  from: number;
  /** Messages asked for at a time. */
  batch?: number;
  /** Only the messages' headers (the sink's recovery). */
  headersOnly?: boolean;
  /** How long one pull waits on the server for messages (ms). */
  expires?: number;
  /** Messages after this sequence are not wanted (a finite source): no more is asked for past it. */
  until?: number | null;
}

/** The stream sequence and pending count of a delivered message, from its reply subject. */
function parseAck(reply: string): { sseq: number; dseq: number; pending: number } | null {
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>, or with a domain
  // and account hash: $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>.<token>
  const t = reply.split(".");
  if (t.length === 9) return { sseq: Number(t[5]), dseq: Number(t[6]), pending: Number(t[8]) };
  if (t.length >= 11) return { sseq: Number(t[7]), dseq: Number(t[8]), pending: Number(t[10]) };
  return null;
}

export class StreamReader {
  /** Delivered messages not taken yet, and their stream sequences. */
  private msgs: Msg[] = [];
  private seqs: number[] = [];
  private head = 0;
  private consumer: string | null = null;
  private sub: Subscription | null = null;
  private dseq = 0;
  /** The next stream sequence to ask for (one past the last delivered). */
  nextSeq: number;
  /** Messages matching the filter after the last one delivered, as the server last said (null: not known yet). */
  pending: number | null = null;
  private pulling = false;
  private outstanding = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private waiter: (() => void) | null = null;
  private closed = false;
  private remaking = false;
  /** A failure to hand to the reader's user (the server was away too long). */
  failure: Error | null = null;
  private readonly batch: number;
  private readonly expires: number;
  private readonly offEvent: () => void;
  /** Whether a subject passes the filter (null: every one does). */
  private readonly match: ((subject: string) => boolean) | null;

  constructor(
    private readonly link: NatsLink,
    private readonly opts: ReaderOptions,
  ) {
    this.nextSeq = Math.max(1, opts.from);
    this.batch = opts.batch ?? 4096;
    this.expires = opts.expires ?? 5000;
    this.match = matcher(opts.filter, opts.streamSubjects ?? null);
    this.offEvent = link.onEvent((ev) => {
      if (ev === "failed") {
        this.failure = link.failure;
        this.wake();
      } else void this.remake();
    });
  }

  /** Messages at hand. */
  get available(): number {
    return this.msgs.length - this.head;
  }

  /** Whether everything up to `until` has been delivered (a finite read). */
  get exhausted(): boolean {
    const until = this.opts.until;
    if (until === undefined || until === null) return false;
    return this.nextSeq > until || this.pending === 0;
  }

  async start(): Promise<void> {
    await this.make();
  }

  /** The next message at hand (call only when `available` > 0). */
  take(): Msg {
    const m = this.msgs[this.head]!;
    this.msgs[this.head] = undefined as unknown as Msg;
    this.head++;
    if (this.head === this.msgs.length) {
      this.msgs.length = 0;
      this.seqs.length = 0;
      this.head = 0;
    } else if (this.head >= 16384) {
      this.msgs = this.msgs.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    this.maybePull();
    return m;
  }

  /** The message `take` returns next (call only when `available` > 0). */
  peek(): Msg {
    return this.msgs[this.head]!;
  }

  /** The stream sequence of the message `take` returns next. */
  peekSeq(): number {
    return this.seqs[this.head]!;
  }

  /** Resolves when a message arrives, the read is exhausted, or it failed. */
  wait(): Promise<void> {
    if (this.available > 0 || this.failure || this.exhausted) return Promise.resolve();
    this.maybePull();
    return new Promise((r) => (this.waiter = r));
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async make(): Promise<void> {
    const nc = this.link.nc;
    const info = await this.link.retry(`read stream ${this.opts.stream}`, () =>
      this.link.jsm.consumers.add(this.opts.stream, {
        deliver_policy: "by_start_sequence" as never,
        opt_start_seq: this.nextSeq,
        ack_policy: "none" as never,
        replay_policy: "instant" as never,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: 30_000_000_000,
        ...(this.opts.headersOnly ? { headers_only: true } : {}),
      }),
    );
    if (this.closed) {
      void this.link.jsm.consumers.delete(this.opts.stream, info.name).catch(() => undefined);
      return;
    }
    this.consumer = info.name;
    this.dseq = 0;
    this.pending = info.num_pending;
    this.pulling = false;
    this.outstanding = 0;
    this.sub?.unsubscribe();
    const inbox = createInbox();
    this.sub = nc.subscribe(inbox, { callback: (err, msg) => (err ? this.lost(err) : this.onMsg(msg, inbox)) });
    this.maybePull();
    this.wake();
  }

  /** A new consumer from the message after the last one delivered. */
  private async remake(): Promise<void> {
    if (this.closed || this.remaking) return;
    this.remaking = true;
    this.clearWatchdog();
    const old = this.consumer;
    this.consumer = null;
    try {
      if (old) await this.link.jsm.consumers.delete(this.opts.stream, old).catch(() => undefined);
      await this.make();
    } catch (e) {
      this.failure = e as Error;
      this.wake();
    } finally {
      this.remaking = false;
    }
  }

  private lost(err: Error): void {
    if (this.closed) return;
    void err;
    void this.remake();
  }

  private onMsg(msg: Msg, inbox: string): void {
    if (this.closed || this.sub === null || this.sub.getSubject() !== inbox) return;
    const reply = msg.reply;
    if (reply && reply.startsWith("$JS.ACK.")) {
      const a = parseAck(reply);
      if (!a) return;
      if (a.dseq !== this.dseq + 1 || a.sseq < this.nextSeq) {
        // A message out of order (a consumer made again behind our back): start over after the last one.
        void this.remake();
        return;
      }
      this.dseq = a.dseq;
      this.nextSeq = a.sseq + 1;
      this.pending = a.pending;
      if (this.match === null || this.match(msg.subject)) {
        this.msgs.push(msg);
        this.seqs.push(a.sseq);
      }
      if (--this.outstanding <= 0) this.pullDone();
      this.wake();
      return;
    }
    // A status: 100 heartbeat, 404 no messages, 408 request expired, 409 (consumer deleted, limits…).
    const code = (msg.headers as unknown as { code?: number } | undefined)?.code ?? 0;
    if (code === 100) return;
    const description = (msg.headers as unknown as { description?: string } | undefined)?.description ?? "";
    if (code === 409 && /consumer (is )?deleted|consumer not found/i.test(description)) {
      void this.remake();
      return;
    }
    this.pullDone();
    this.wake();
  }

  private pullDone(): void {
    this.pulling = false;
    this.outstanding = 0;
    this.clearWatchdog();
    this.maybePull();
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private maybePull(): void {
    if (this.pulling || this.closed || this.consumer === null || this.failure) return;
    if (this.available >= this.batch / 2) return;
    const until = this.opts.until;
    if (until !== undefined && until !== null && this.exhausted) return;
    this.pulling = true;
    this.outstanding = this.batch;
    const subject = `$JS.API.CONSUMER.MSG.NEXT.${this.opts.stream}.${this.consumer}`;
    try {
      this.link.nc.publish(subject, JSON.stringify({ batch: this.batch, expires: this.expires * 1_000_000 }), { reply: this.sub!.getSubject() });
    } catch (e) {
      this.pulling = false;
      this.failure = new Error(`cannot read stream ${this.opts.stream}: ${describe(e)}`);
      this.wake();
      return;
    }
    // A pull the server never ends (it went away): a new consumer.
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (this.pulling && this.link.connected) void this.remake();
    }, this.expires + 5000);
    this.watchdog.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offEvent();
    this.clearWatchdog();
    this.sub?.unsubscribe();
    this.wake();
    const c = this.consumer;
    this.consumer = null;
    if (c && this.link.connected) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.link.jsm.consumers.delete(this.opts.stream, c).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
    }
  }
}

/** Waits a little, for loops that look again (exported for the sink's recovery). */
export { sleep };


/** Whether every subject `inner` matches is matched by `outer` too. */
function covers(outer: string, inner: string): boolean {
  const o = outer.split(".");
  const n = inner.split(".");
  for (let i = 0; i < o.length; i++) {
    if (o[i] === ">") return n.length > i;
    if (i >= n.length) return false;
    if (n[i] === ">") return false;
    if (o[i] !== "*" && o[i] !== n[i]) return false;
  }
  return o.length === n.length;
}

/** A fast test for a filter: null when it passes everything the stream holds. */
function matcher(filter: string | null, streamSubjects: readonly string[] | null): ((subject: string) => boolean) | null {
  if (filter === null || filter === ">") return null;
  if (streamSubjects && streamSubjects.length > 0 && streamSubjects.every((s) => covers(filter, s))) return null;
  if (!/[*>]/.test(filter)) return (s) => s === filter;
  if (filter.endsWith(".>") && !filter.slice(0, -2).includes("*")) {
    const prefix = filter.slice(0, -1);
    return (s) => s.startsWith(prefix) && s.length > prefix.length;
  }
  return (s) => subjectMatches(filter, s);
}
