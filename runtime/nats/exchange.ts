// Exchanges (LANGUAGE.md 10.1; docs/operations.md, "Running several instances"): when a job
// runs as N instances, the records on an edge into a stateful operator go to the instance
// that owns their key group (g mod N), through a JetStream stream named after the job and
// the operator's uid, `FLOWC_<job>_<uid>`, with one subject per key group
// (`flowc.<job>.<uid>.<g>`) and one for watermarks, idleness and end of input
// (`flowc.<job>.<uid>.wm`).
//
// The writer is an exactly-once NATS sink (nats-sink.ts): what a batch sends to one key group
// becomes one message, staged with the checkpoint and published when it commits, with
// message ids and recovery by reading the stream. After the records of a batch, a writer
// whose watermark, idleness or end changed publishes it (with its instance number and N).
//
// The reader is a source of the instance: it reads the whole stream in order (filtered here,
// see reader.ts), keeps the records of the key groups it owns, and hands them to the
// operator; its watermark is the smallest of the writers' (idle writers left out), and its
// input ends when every writer has ended. Its position (the last sequence read, and per
// writer its watermark, idleness and end) is in the instance's checkpoints; a rescale gives
// each key group the position of its previous owner (cursor.ts).

import { deserialize, serialize } from "node:v8";
export { groupOf };
import type { ExchangeHandle, ExchangeManifest, NatsSinkManifest, SourceBinding } from "../api.js";
import { NatsSink } from "../connectors/nats-sink.js";
import type { BatchResult, Sink, SinkContext, SinkTransaction, Source, SourcePosition, Staged, TransactionalSink } from "../connectors/contract.js";
import { JobError } from "../errors.js";
import { groupOf } from "../keygroups.js";
import type { Log } from "../log.js";
import { describe, link, resolveUrl, shownUrl, type NatsLink } from "./connection.js";
import { Cursor, type PartsPosition } from "./cursor.js";
import { acquire, lockKey } from "./locks.js";
import { StreamReader } from "./reader.js";

/** Whether JSON writes a value as it is: no NaN, ±Infinity or -0 in it (records, lists, primitives). */
function jsonSafe(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0);
  if (v === null || typeof v !== "object") return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!jsonSafe(v[i])) return false;
    return true;
  }
  for (const k in v) if (!jsonSafe((v as Record<string, unknown>)[k])) return false;
  return true;
}

/** This process's place among the job's instances, and the job's key groups. */
export interface InstanceInfo {
  index: number;
  count: number;
  groups: number;
  /** Messages of other runs of the job (another --run-id) are not read. */
  run: string;
  /** Replicas of the exchange streams (a JetStream cluster: 3). */
  replicas: number;
}

export function streamName(job: string, uid: string): string {
  return `FLOWC_${job}_${uid}`;
}

function subjectBase(job: string, uid: string): string {
  return `flowc.${job}.${uid}`;
}

/** The exchange's stream: looked up, or made (by whichever instance comes first). */
async function ensureExchangeStream(l: NatsLink, name: string, base: string, replicas: number, log: Log): Promise<void> {
  try {
    await l.retry(`look up stream ${name}`, () => l.jsm.streams.info(name));
    return;
  } catch (e) {
    if (!/not found/i.test((e as Error).message ?? "") && (e as Error).name !== "StreamNotFoundError") throw e;
  }
  log.info(`creating the exchange stream ${name} (subjects ${base}.>, ${replicas} replica(s))`);
  try {
    await l.retry(`create stream ${name}`, () => l.jsm.streams.add({ name, subjects: [`${base}.>`], num_replicas: replicas }));
  } catch (e) {
    try {
      await l.jsm.streams.info(name);
    } catch {
      throw new JobError("FLOW5030", `cannot create the exchange stream ${name} on ${shownUrl(l.url)}: ${describe(e)}`, "a JetStream cluster needs as many servers as --exchange-replicas asks for");
    }
  }
}

/** What a writer publishes on the watermark subject. */
interface WmMessage {
  run: string;
  w: number;
  n: number;
  /** null: no watermark yet; "inf": +infinity. */
  wm: number | null | "inf";
  idle: boolean;
  end: boolean;
}

// ---- writer -------------------------------------------------------------------------------

export class ExchangeWriter implements Sink, ExchangeHandle, TransactionalSink {
  private readonly groups: unknown[][];
  private used: number[] = [];
  private wm = -Infinity;
  private sentWm = -Infinity;
  private idleOn = false;
  private sentIdle = false;
  private ended = false;
  private sentEnd = false;
  private readonly base: string;
  lines = 0;
  bytes = 0;

  constructor(
    private readonly x: ExchangeManifest,
    private readonly inner: NatsSink,
    private readonly inst: InstanceInfo,
    job: string,
  ) {
    this.groups = Array.from({ length: inst.groups }, () => []);
    this.base = subjectBase(job, x.uid);
  }

  send(value: unknown, key: unknown, ts: number): void {
    const g = this.x.keyed ? groupOf(key, this.inst.groups) : 0;
    const buf = this.groups[g]!;
    if (buf.length === 0) this.used.push(g);
    buf.push(value, key, ts);
    this.lines++;
  }

  watermark(w: number): void {
    if (w > this.wm) this.wm = w;
  }

  idle(on: boolean): void {
    this.idleOn = on;
  }

  /** Every input of this exchange on this instance has ended. */
  end(): void {
    this.ended = true;
    this.wm = Infinity;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The records gathered since the last flush, one message per key group, then the watermark if it changed. */
  private pack(): void {
    if (this.used.length) {
      for (const g of this.used) {
        const r = this.groups[g]!;
        const msg = { run: this.inst.run, w: this.inst.index, r };
        const text = this.x.codec === "v8" || (this.x.codec === "floats" && !jsonSafe(r)) ? serialize(msg).toString("base64") : JSON.stringify(msg);
        this.bytes += text.length;
        this.inner.writeTo(`${this.base}.${g}`, text);
        this.groups[g] = [];
      }
      this.used = [];
    }
    if (this.wm !== this.sentWm || this.idleOn !== this.sentIdle || this.ended !== this.sentEnd) {
      const m: WmMessage = { run: this.inst.run, w: this.inst.index, n: this.inst.count, wm: this.wm === Infinity ? "inf" : this.wm === -Infinity ? null : this.wm, idle: this.idleOn, end: this.ended };
      this.inner.writeTo(`${this.base}.wm`, JSON.stringify(m));
      this.sentWm = this.wm;
      this.sentIdle = this.idleOn;
      this.sentEnd = this.ended;
    }
  }

  write(): void {
    throw new Error("internal: an exchange takes records through send()");
  }

  flush(): void | Promise<void> {
    this.pack();
    return this.inner.flush();
  }

  get transaction(): TransactionalSink | null {
    return this.inner.transaction ? this : null;
  }

  wantsCheckpoint(): boolean {
    // An end not yet published holds up the other instances: commit it soon.
    return this.inner.wantsCheckpoint() || (this.ended && !this.sentEnd);
  }

  stageFor(id: number): void {
    this.inner.stageFor(id);
  }

  uncommitted(): string[] {
    return this.inner.uncommitted();
  }

  preCommit(): Staged | Promise<Staged> {
    this.pack();
    return this.inner.preCommit();
  }

  commit(txn: SinkTransaction): void | Promise<void> {
    return this.inner.commit(txn);
  }

  abort(): void {
    this.inner.abort();
  }

  close(): void | Promise<void> {
    return this.inner.close();
  }

  savepointAt(): null {
    return null;
  }
}

/** Opens exchange `index`'s writer on this instance: its stream, its lock, the rest of an interrupted commit. */
export async function openWriter(x: ExchangeManifest, index: number, inst: InstanceInfo, ctx: SinkContext, url: string | null): Promise<ExchangeWriter> {
  const l = await link(resolveUrl(url));
  const name = streamName(ctx.job, x.uid);
  const base = subjectBase(ctx.job, x.uid);
  await ensureExchangeStream(l, name, base, inst.replicas, ctx.log);
  await acquire(l, lockKey("exchange", name, ctx.job, String(inst.index)), `instance ${inst.index}'s writer of exchange ${name}`);
  const m: NatsSinkManifest = { connector: "nats", subject: null, stream: name, format: "json", create: false, url, columns: null };
  const exactlyOnce = ctx.exactlyOnce && ctx.staging !== null;
  const resumed = ctx.checkpointed?.nats;
  const epoch = resumed?.epoch ?? `${inst.run}-${inst.index}-${Date.now().toString(36)}`;
  const sink = new NatsSink(m, { ...ctx, index: 1000 + index }, l, exactlyOnce, epoch, [`${base}.>`], ctx.log);
  if (exactlyOnce && ctx.checkpointed && resumed) await sink.recommit(ctx.checkpointed);
  return new ExchangeWriter(x, sink, inst, ctx.job);
}

// ---- reader -------------------------------------------------------------------------------

/** The elements of a reader's batches: a message's records for the operator, or a watermark or idle status from the writers. */
/** The records of one message: value, key, time, value, key, time, … (one element of the reader's batches). */
class Records {
  constructor(readonly r: unknown[]) {}
}
class Mark {
  constructor(
    readonly wm: number | null,
    readonly idle: boolean | null,
  ) {}
}

/** The writers as a reader saw them: per writer its watermark, idleness, end. */
interface WritersState {
  n: number;
  wm: (number | null)[];
  idle: boolean[];
  ended: boolean[];
  /** The watermark handed on so far, and whether all writers were idle. */
  out: number | null;
  allIdle: boolean;
  /** Per writer, its transaction being read (exactly once; see `admit`). */
  tx?: (TxState | null)[];
  /**
   * After a rescale: the stream's last sequence when this reader started. The old
   * instances' transactions up to it may be read from the middle (their start lies before
   * this reader's position): one first seen there at an index past 0 is taken as it comes.
   */
  lax?: number;
}

/**
 * A writer's transaction as a reader has read it: its id (epoch/checkpoint), the lowest
 * message index not read yet, the higher ones read (of key groups of other instances), and
 * the messages of this reader's key groups read ahead of `next`, held back until every
 * message before them was read.
 */
interface TxState {
  txn: string;
  next: number;
  applied: number[];
  /** Written by an older flowc: one watermark message waiting (now in `held`). */
  wm?: { m: WmMessage; idx: number } | null;
  held?: Held[];
  /** Read from the middle, after a rescale (see `WritersState.lax`): messages taken as they come. */
  lax?: boolean;
}

/** A message read ahead of its turn: records (the message's text, and its key group) or a watermark. */
interface Held {
  idx: number;
  g?: number;
  text?: string;
  m?: WmMessage;
}

export interface ExchangePosition extends PartsPosition {
  writers?: WritersState;
  /**
   * After a rescale: messages of key groups this instance took over that their previous
   * owner had read ahead of their turn and held (rescale.ts); handed on first.
   */
  carried?: string[];
}

/** A copy of a reader's writers state (positions are kept while the reader goes on). */
function copyWriters(w: WritersState): WritersState {
  return { ...w, wm: [...w.wm], idle: [...w.idle], ended: [...w.ended], ...(w.tx ? { tx: w.tx.map((t) => (t ? copyTx(t) : null)) } : {}) };
}

function copyTx(t: TxState): TxState {
  const held = [...(t.held ?? []), ...(t.wm ? [{ idx: t.wm.idx, m: t.wm.m }] : [])];
  return { txn: t.txn, next: t.next, applied: [...t.applied], ...(held.length ? { held } : {}), ...(t.lax ? { lax: true } : {}) };
}

/** The held messages of key groups `owned` in a reader's position, each writer's in index order (rescale.ts). */
export function heldMessages(p: ExchangePosition, owned: (g: number) => boolean): string[] {
  const out: string[] = [...(p.carried ?? [])];
  for (const t of p.writers?.tx ?? []) {
    if (!t) continue;
    for (const h of [...(t.held ?? [])].sort((a, b) => a.idx - b.idx)) if (h.text !== undefined && h.g !== undefined && owned(h.g)) out.push(h.text);
  }
  return out;
}

export class ExchangeReader implements Source {
  readonly replayable = true;
  readonly live = true;
  readonly name: string;
  private reader: StreamReader | null = null;
  private starting: Promise<void> | null = null;
  private cursor = new Cursor(null);
  private records = 0;
  private writers: WritersState;
  private replaySkip = 0;
  private sought: SourcePosition | null = null;
  /** After a rescale: held messages of the previous owners, handed on first. */
  private carried: string[] = [];
  private rescaled = false;
  private done = false;
  private readonly own: boolean[];
  private readonly text = new TextDecoder();
  private readonly base: string;
  private readonly stream: string;

  constructor(
    x: ExchangeManifest,
    private readonly inst: InstanceInfo,
    private readonly link: NatsLink,
    job: string,
    private readonly log: Log,
  ) {
    this.name = `exchange into \`${x.uid}\``;
    this.stream = streamName(job, x.uid);
    this.base = subjectBase(job, x.uid);
    this.own = Array.from({ length: inst.groups }, (_, g) => g % inst.count === inst.index);
    this.writers = this.freshWriters();
  }

  private freshWriters(): WritersState {
    const n = this.inst.count;
    return { n, wm: new Array(n).fill(null), idle: new Array(n).fill(false), ended: new Array(n).fill(false), out: null, allIdle: false };
  }

  position(): SourcePosition {
    if (this.sought) return this.sought;
    const p: SourcePosition & ExchangePosition = { records: this.records, ...this.cursor.position, writers: copyWriters(this.writers), ...(this.carried.length ? { carried: [...this.carried] } : {}) };
    return p;
  }

  seek(p: SourcePosition): void {
    const e = p as SourcePosition & ExchangePosition;
    this.cursor = new Cursor(e);
    this.records = p.records + (p.skip ?? 0);
    // Writers' state of another N (a rescale) does not apply: the new writers report afresh.
    this.rescaled = !(e.writers && e.writers.n === this.inst.count);
    this.writers = this.rescaled ? this.freshWriters() : copyWriters(e.writers!);
    this.carried = [...(e.carried ?? [])];
    this.replaySkip = p.skip ?? 0;
    this.sought = this.replaySkip > 0 ? { ...p } : null;
    this.done = false;
  }

  private get allEnded(): boolean {
    return this.writers.ended.every((e) => e);
  }

  next(): BatchResult | Promise<BatchResult> {
    if (this.done) return null;
    if (!this.reader) {
      this.starting ??= this.start();
      return this.starting.then(() => this.next());
    }
    const r = this.reader;
    if (r.failure) throw r.failure instanceof JobError ? r.failure : new JobError("FLOW5014", `cannot read exchange stream ${this.stream} at ${shownUrl(this.link.url)}: ${describe(r.failure)}`);
    const out: unknown[] = [];
    if (this.carried.length) {
      for (const text of this.carried.splice(0)) this.deliver(text, out);
    }
    while (r.available > 0 && out.length < 1024 && !this.allEnded) {
      const seq = r.peekSeq();
      const msg = r.take();
      const subject = msg.subject;
      const tok = subject.slice(this.base.length + 1);
      const g = tok === "wm" ? -1 : Number(tok);
      // Of this instance's key groups, and not read by their previous owner (a rescale):
      // asked before the cursor moves past this message.
      const mine = g >= 0 && this.own[g] === true && this.cursor.wants(g, seq);
      this.cursor.advance(seq);
      const t = txnOf(msg.headers?.get("Nats-Msg-Id"));
      const lax = this.writers.lax !== undefined && seq <= this.writers.lax;
      if (tok === "wm") {
        const m = JSON.parse(this.text.decode(msg.data)) as WmMessage;
        if (m.run !== this.inst.run || m.n !== this.writers.n || m.w < 0 || m.w >= this.writers.n) continue;
        if (t) this.admit(m.w, t, { idx: t.idx, m }, lax, out);
        else this.onWatermark(m, out);
        continue;
      }
      if (!mine) {
        // Not this instance's: still counts for its writer's transaction.
        if (t && t.w < this.writers.n) this.admit(t.w, t, null, lax, out);
        continue;
      }
      const text = this.text.decode(msg.data);
      if (t && t.w < this.writers.n) this.admit(t.w, t, { idx: t.idx, g, text }, lax, out);
      else this.deliver(text, out);
    }
    if (this.replaySkip > 0) {
      const drop = Math.min(this.replaySkip, out.length);
      out.splice(0, drop);
      this.replaySkip -= drop;
      if (this.replaySkip === 0) this.sought = null;
    }
    if (out.length > 0) {
      this.records += out.length;
      return out;
    }
    if (this.allEnded) {
      this.done = true;
      return null;
    }
    return r.wait().then(() => this.next());
  }

  /**
   * Exactly once, in order, across an exchange: a writer's transaction is published in
   * order, but a server that went away with messages in flight can lose some and keep later
   * ones, and a message sent again after a timeout can land after later ones; the writer
   * then deletes the later ones and publishes them again under other ids (nats-sink.ts).
   * A reader may have read them already. Each message's index in its transaction (from its
   * Nats-Msg-Id) says whether it was read before (then it is dropped), and a message read
   * ahead of its turn is held until every message before it was read: a key's records reach
   * the operator in the order the writer sent them, and a watermark never passes records
   * sent before it. A writer's next transaction starts only when the last one is complete.
   * `m`: the message (records of this reader's key groups, or a watermark), or null for one
   * that only counts (records of other instances' key groups).
   */
  private admit(w: number, t: { txn: string; idx: number }, m: Held | null, lax: boolean, out: unknown[]): void {
    const tx: (TxState | null)[] = (this.writers.tx ??= new Array<TxState | null>(this.writers.n).fill(null));
    let s: TxState | null = tx[w] ?? null;
    if (s === null || s.txn !== t.txn) {
      // A new transaction: the last one is complete, whatever of it is still held goes on.
      if (s) for (const h of (s.held ?? []).sort((a, b) => a.idx - b.idx)) this.release(h, out);
      s = tx[w] = { txn: t.txn, next: 0, applied: [] };
      // After a rescale, an old instance's transaction whose start lies before this reader's position.
      if (lax && t.idx > 0) s.lax = true;
    }
    if (t.idx < s.next || s.applied.includes(t.idx) || (s.held?.some((h) => h.idx === t.idx) ?? false)) return;
    if (t.idx === s.next) {
      s.next++;
      if (m) this.release(m, out);
      // The messages after it that were read already, in index order.
      for (;;) {
        const k = s.applied.indexOf(s.next);
        if (k >= 0) {
          s.applied.splice(k, 1);
          s.next++;
          continue;
        }
        const h = s.held ? s.held.findIndex((x) => x.idx === s!.next) : -1;
        if (h < 0) break;
        const held = s.held!.splice(h, 1)[0]!;
        if (s.held!.length === 0) delete s.held;
        s.next++;
        this.release(held, out);
      }
      return;
    }
    if (m === null || s.lax) {
      // Counted (and, after a rescale, for the old instances' transactions, taken as it comes).
      s.applied.push(t.idx);
      if (m) this.release(m, out);
      return;
    }
    (s.held ??= []).push(m);
  }

  /** A message's turn: its records to the operator, or its watermark. */
  private release(h: Held, out: unknown[]): void {
    if (h.m) this.onWatermark(h.m, out);
    else if (h.text !== undefined) this.deliver(h.text, out);
  }

  /** A message of records (JSON is an object, `{…}`; V8's serialization in base64 never holds a `{`). */
  private deliver(text: string, out: unknown[]): void {
    const body = (text.charCodeAt(0) === 0x7b ? JSON.parse(text) : deserialize(Buffer.from(text, "base64"))) as { run: string; w: number; r: unknown[] };
    if (body.run !== this.inst.run) return;
    if (body.r.length > 0) out.push(new Records(body.r));
  }

  private onWatermark(m: WmMessage, out: unknown[]): void {
    const w = this.writers;
    if (m.run !== this.inst.run || m.n !== w.n || m.w < 0 || m.w >= w.n) return;
    w.wm[m.w] = m.wm === "inf" ? Number.MAX_VALUE : m.wm;
    w.idle[m.w] = m.idle;
    w.ended[m.w] = m.end;
    // The smallest watermark of the writers that are not idle (ended ones are at +infinity).
    let min = Infinity;
    let active = 0;
    for (let i = 0; i < w.n; i++) {
      if (w.ended[i]) continue;
      if (w.idle[i]) continue;
      active++;
      const v = w.wm[i] ?? null;
      if (v === null) {
        min = -Infinity;
        break;
      }
      if (v < min) min = v;
    }
    const allIdle = active === 0 && !w.ended.every((e) => e);
    if (allIdle !== w.allIdle) {
      w.allIdle = allIdle;
      out.push(new Mark(null, allIdle));
    }
    if (active === 0 && !w.ended.every((e) => e)) return;
    const value = min === Infinity || min === Number.MAX_VALUE ? Number.MAX_VALUE : min;
    if (value !== -Infinity && (w.out === null || value > w.out)) {
      w.out = value;
      out.push(new Mark(value === Number.MAX_VALUE ? Infinity : value, null));
    }
  }

  private async start(): Promise<void> {
    if (this.rescaled && this.writers.lax === undefined) {
      // The old instances have stopped: their messages are in the stream by now.
      const info = await this.link.retry(`look up stream ${this.stream}`, () => this.link.jsm.streams.info(this.stream));
      this.writers.lax = info.state.last_seq;
    }
    const reader = new StreamReader(this.link, { stream: this.stream, filter: null, from: this.cursor.seq + 1 });
    await reader.start();
    this.reader = reader;
    this.log.info(`${this.name}: reading stream ${this.stream} from sequence ${this.cursor.seq + 1} (key groups g with g mod ${this.inst.count} = ${this.inst.index})`);
  }

  async close(): Promise<void> {
    await this.reader?.close();
  }
}

/**
 * A message's writer, transaction and index from its Nats-Msg-Id
 * (`<job>/<sink>/i<writer>/<epoch>/<checkpoint>/<index>[~n]`; one instance: no `i<writer>`), or null.
 */
function txnOf(id: string | undefined): { w: number; txn: string; idx: number } | null {
  if (!id) return null;
  const parts = id.split("/");
  if (parts.length < 5) return null;
  const last = parts[parts.length - 1]!;
  const tilde = last.indexOf("~");
  const idx = Number(tilde < 0 ? last : last.slice(0, tilde));
  const wp = parts[parts.length - 4]!;
  const w = /^i\d+$/.test(wp) ? Number(wp.slice(1)) : 0;
  return Number.isInteger(idx) ? { w, txn: `${parts[parts.length - 3]}/${parts[parts.length - 2]}`, idx } : null;
}

/** The generated code's side of a reader: records to the operator, marks to its watermark and status. */
export function readerBinding(entry: (v: unknown, k: unknown, t: number) => void, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null): SourceBinding<unknown> {
  return {
    push(batch: readonly unknown[]): void {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        if (e instanceof Records) {
          const r = e.r;
          for (let k = 0; k < r.length; k += 3) entry(r[k], r[k + 1], r[k + 2] as number);
        }
        else {
          const m = e as Mark;
          if (m.idle !== null) status?.(m.idle);
          if (m.wm !== null) wm?.(m.wm);
        }
      }
    },
    end(): void {
      wm?.(Infinity);
    },
  };
}

export async function openReader(x: ExchangeManifest, inst: InstanceInfo, job: string, url: string | null, log: Log): Promise<ExchangeReader> {
  const l = await link(resolveUrl(url));
  await ensureExchangeStream(l, streamName(job, x.uid), subjectBase(job, x.uid), inst.replicas, log);
  return new ExchangeReader(x, inst, l, job, log);
}
