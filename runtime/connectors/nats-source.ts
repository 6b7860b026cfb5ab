// `nats(subject, stream: …)` as a source (LANGUAGE.md 9.1): a JetStream stream, read in
// order from a stream sequence. The position is the sequence of the last message handed
// out; checkpoints keep it and recovery reads on after it, so the job never relies on
// acknowledgements for progress (its consumers acknowledge nothing). `until: "end"` reads
// what the stream holds when the job starts (up to its last sequence then), and ends.
//
// Each message is one record: JSON (the declared type, through the job's fast converter
// and the generic one, which says what is wrong) or text (a string). `subject_field:` and
// `sequence_field:` fill record fields from the message. A bad message goes through the
// on_error policy with its stream sequence. A bad message only ever starts a batch (the
// batch before it ends there): a checkpoint cut inside a batch then never falls between a
// bad message and the records before it, so a replay handles each bad message once.

import type { NatsSourceManifest, SourceBinding, SourceManifest } from "../api.js";
import { jsonConverter, type Converter } from "../convert.js";
import { BadRecordError, ConversionError, JobError } from "../errors.js";
import type { Log } from "../log.js";
import { describe, link, resolveUrl, shownUrl, type NatsLink } from "../nats/connection.js";
import { Cursor } from "../nats/cursor.js";
import { StreamReader } from "../nats/reader.js";
import { ensureStream } from "../nats/streams.js";
import { BATCH_SIZE, type BadRecords, type BatchResult, type NatsSourceStatus, type Source, type SourceConnector, type SourcePosition } from "./contract.js";

const BAD = Symbol("bad");

export class NatsSource implements Source {
  readonly replayable = true;
  readonly live: boolean;
  private reader: StreamReader | null = null;
  private starting: Promise<void> | null = null;
  /** The stream sequence of the last message handed out. */
  private seq = 0;
  private records = 0;
  /** Records to drop after seeking (a batch consumed part way), and the position sought meanwhile. */
  private replaySkip = 0;
  private sought: SourcePosition | null = null;
  private readonly convert: Converter | null;
  private fast: ((raw: unknown) => unknown) | null = null;
  private readonly text = new TextDecoder();
  private streamLast: number | null;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;
  private lastError: BadRecordError | null = null;
  /** `partitions:`: the partitions this instance owns, and where each stands (after a rescale). */
  private readonly own: boolean[] | null;
  private cursor = new Cursor(null);

  constructor(
    readonly name: string,
    private readonly m: NatsSourceManifest,
    private readonly link: NatsLink,
    private readonly errors: BadRecords,
    /** until "end": the stream's last sequence when the job started. */
    private readonly endSeq: number | null,
    streamLast: number,
    private readonly log: Log,
    private readonly streamSubjects: readonly string[],
    instance?: { index: number; count: number },
  ) {
    this.live = m.until === null;
    const parts = m.partitions ?? null;
    this.own = parts === null ? null : Array.from({ length: parts }, (_, p) => p % (instance?.count ?? 1) === (instance?.index ?? 0));
    this.convert = m.format === "json" ? jsonConverter(m.type) : null;
    this.streamLast = streamLast;
    // The stream's last sequence, for the lag the admin endpoint shows.
    this.poll = setInterval(() => {
      if (!this.link.connected) return;
      this.link.jsm.streams.info(this.m.stream).then((si) => (this.streamLast = si.state.last_seq), () => undefined);
    }, 5000);
    this.poll.unref();
  }

  bind(binding: SourceBinding<unknown>): void {
    if (binding.fromJson) this.fast = binding.fromJson.bind(binding);
  }

  position(): SourcePosition {
    if (this.sought) return this.sought;
    if (this.own === null) return { records: this.records, seq: this.seq };
    this.cursor.seq = this.seq;
    return { records: this.records, ...this.cursor.position };
  }

  /**
   * A partitioned source: whether the message at hand is of a partition this instance owns
   * and was not read before a rescale (subjects whose last token is no partition number
   * belong to partition 0).
   */
  private mine(subject: string, seq: number): boolean {
    if (this.own === null) return true;
    const p = Number(subject.slice(subject.lastIndexOf(".") + 1));
    const part = Number.isInteger(p) && p >= 0 && p < this.own.length ? p : 0;
    if (!this.own[part]) return false;
    if (!this.cursor.wants(part, seq)) return false;
    return true;
  }

  seek(p: SourcePosition): void {
    this.seq = p.seq ?? 0;
    if (this.own !== null) this.cursor = new Cursor(p as SourcePosition & { seq: number });
    this.records = p.records + (p.skip ?? 0);
    this.replaySkip = p.skip ?? 0;
    this.sought = this.replaySkip > 0 ? { ...p } : null;
  }

  natsStatus(): NatsSourceStatus {
    const last = this.streamLast === null ? null : Math.max(this.streamLast, this.seq);
    return { stream: this.m.stream, lastSequence: this.seq, streamLastSequence: last, lag: last === null ? null : last - this.seq };
  }

  private get finished(): boolean {
    return this.endSeq !== null && (this.seq >= this.endSeq || (this.reader !== null && this.reader.available === 0 && this.reader.exhausted));
  }

  next(): BatchResult | Promise<BatchResult> {
    if (this.errors.failure) throw this.errors.failure;
    if (this.endSeq !== null && this.seq >= this.endSeq && this.replaySkip === 0) return null;
    if (!this.reader) {
      this.starting ??= this.start();
      return this.starting.then(() => this.next());
    }
    const r = this.reader;
    if (r.failure) throw r.failure instanceof JobError ? r.failure : new JobError("FLOW5014", `cannot read stream ${this.m.stream} at ${shownUrl(this.link.url)}: ${describe(r.failure)}`);
    if (this.replaySkip > 0) {
      if (!this.skipReplayed()) return r.wait().then(() => this.next());
    }
    if (r.available === 0) {
      if (this.finished) return null;
      return r.wait().then(() => this.next());
    }
    const out: unknown[] = [];
    let taken = 0;
    while (out.length < BATCH_SIZE && r.available > 0) {
      const seq = r.peekSeq();
      if (this.endSeq !== null && seq > this.endSeq) {
        this.seq = this.endSeq;
        break;
      }
      if (this.passForeign(r, seq)) continue;
      const v = this.decode(r, seq);
      if (v === BAD) {
        // A bad message starts a batch of its own (see the top of this file).
        if (taken > 0) break;
        r.take();
        this.seq = seq;
        taken++;
        this.errors.handle(this.lastError!);
        if (this.errors.failure) break;
        continue;
      }
      r.take();
      this.seq = seq;
      taken++;
      out.push(v);
    }
    this.records += out.length;
    if (out.length === 0 && this.errors.failure) throw this.errors.failure;
    if (out.length === 0) return this.next();
    return out;
  }

  /**
   * Several instances: passes over the message at `seq` when it is of a partition another
   * instance reads (true); moves this instance's cursor past it either way.
   */
  private passForeign(r: StreamReader, seq: number): boolean {
    if (this.own === null) return false;
    const mine = this.mine(r.peek().subject, seq);
    this.cursor.advance(seq);
    if (mine) return false;
    r.take();
    this.seq = seq;
    return true;
  }

  /** Drops the records a checkpoint cut already covers; false when it must wait for messages. */
  private skipReplayed(): boolean {
    const r = this.reader!;
    this.errors.replaying = true;
    try {
      while (this.replaySkip > 0) {
        if (r.available === 0) {
          if (this.finished) throw new Error(`internal: stream ${this.m.stream} holds fewer messages than when source \`${this.name}\` was checkpointed`);
          return false;
        }
        const seq = r.peekSeq();
        if (this.passForeign(r, seq)) continue;
        const v = this.decode(r, seq);
        r.take();
        this.seq = seq;
        if (v !== BAD) this.replaySkip--;
      }
      this.sought = null;
      return true;
    } finally {
      this.errors.replaying = false;
    }
  }

  /** The record of the message at hand, or BAD (its error in `lastError`). */
  private decode(r: StreamReader, seq: number): unknown {
    const msg = r.peek();
    const text = this.text.decode(msg.data);
    if (this.convert === null) return text;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return this.bad(seq, msg.subject, null, `not valid JSON (${(e as Error).message})`, text);
    }
    if ((this.m.subjectField !== null || this.m.sequenceField !== null) && raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
      if (this.m.subjectField !== null) (raw as Record<string, unknown>)[this.m.subjectField] = msg.subject;
      if (this.m.sequenceField !== null) (raw as Record<string, unknown>)[this.m.sequenceField] = seq;
    }
    const fast = this.fast === null ? undefined : this.fast(raw);
    if (fast !== undefined) return fast;
    try {
      return this.convert(raw, "");
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      return this.bad(seq, msg.subject, e.path || null, e.problem, text);
    }
  }

  private bad(seq: number, subject: string, field: string | null, problem: string, raw: string): typeof BAD {
    this.lastError = new BadRecordError(this.name, `stream ${this.m.stream}`, seq, field, problem, raw, { stream: this.m.stream, sequence: seq, subject });
    return BAD;
  }

  private async start(): Promise<void> {
    const reader = new StreamReader(this.link, { stream: this.m.stream, filter: this.m.subject, streamSubjects: this.streamSubjects, from: this.seq + 1, until: this.endSeq });
    await reader.start();
    if (this.closed) {
      await reader.close();
      return;
    }
    this.reader = reader;
    this.log.info(`source \`${this.name}\`: reading stream ${this.m.stream} (${this.m.subject}) from sequence ${this.seq + 1}${this.endSeq !== null ? ` to ${this.endSeq}` : ""}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    await this.reader?.close();
  }
}

export const connector: SourceConnector<Extract<SourceManifest, { connector: "nats" }>> = {
  async open(m, ctx) {
    const l = await link(resolveUrl(m.url));
    const info = await ensureStream(l, m.stream, m.subject, m.create, `source \`${m.name}\``, ctx.log);
    const last = info.state.last_seq;
    return new NatsSource(m.name, m, l, ctx.errors, m.until === "end" ? last : null, last, ctx.log, info.config.subjects ?? [], ctx.instance);
  },
};
