// The contract between the driver (runtime/driver/) and the connectors: what a source and a
// sink are, how they are opened, and the types checkpoints and savepoints keep of them.
// Every connector is one module in this folder, found by the manifest's `connector` name in
// table.ts; the driver and the checkpoint coordinator know connectors only through these
// interfaces. The checkpoint storage imports its types from here too, so this module
// imports only types (from api.ts, errors.ts and log.ts).
//
// Two conventions on manifest entries (runtime/api.ts) that the driver relies on:
// - `path`: the local file a connector reads (a source) or writes (a sink). Path checks,
//   locks, savepoints and the admin endpoint use it.
// - `onError`: a source's on_error policy. Its dead-letter file is opened like a file sink
//   (role "dead_letter") and handed to the source's policy.

import type { OnErrorManifest, SinkManifest, SinkWriter, SourceBinding, SourceManifest } from "../api.js";
import type { BadRecordError } from "../errors.js";
import type { Log } from "../log.js";

/** Records a source hands out at a time (at most). */
export const BATCH_SIZE = 1024;

/** Sinks write what they gathered once it is longer than this (characters), else once per batch. */
export const FLUSH_AT = 1 << 16;

/** A batch of records, or null at the end of the input. */
export type BatchResult = unknown[] | null;

/** Where a source stands: kept in checkpoints and savepoints, given back to `seek`. */
export interface SourcePosition {
  /** Records handed out so far (values: the index; sequence: the count). */
  records: number;
  /** File sources: the byte offset after the last record handed out, and that line's number. */
  offset?: number;
  line?: number;
  /** csv: the header's cells (a resumed source does not read the header again). */
  header?: string[];
  /** Records to read again and drop after seeking (a batch consumed part way). */
  skip?: number;
  /** Jobs with event time: the source's watermark at the checkpoint (null: none yet). */
  watermark?: number | null;
  /** NATS sources: the stream sequence of the last message handed out. */
  seq?: number;
}

/** A NATS source's progress, for the admin endpoint and /metrics. */
export interface NatsSourceStatus {
  stream: string;
  /** The stream sequence of the last message handed out. */
  lastSequence: number;
  /** The stream's last sequence as last seen (null: not known yet). */
  streamLastSequence: number | null;
  /** Messages of the stream after the last one handed out (any subject). */
  lag: number | null;
}

/** A NATS sink's progress. */
export interface NatsSinkStatus {
  stream: string;
  /** Messages published (and acknowledged by the server) by this run. */
  published: number;
  /** Records written and not published yet (staged for a checkpoint, or waiting for the server). */
  pending: number;
}

/**
 * An open source. Its life: opened (before any output is touched), bound to the generated
 * code once the job graph is built, then read batch by batch; `seek` before the first read
 * when the job resumes; closed when the run ends.
 */
export interface Source {
  readonly name: string;
  /** Whether `seek` can go back to a position (stdin cannot: it goes on from where it is). */
  readonly replayable: boolean;
  /** Whether a read may wait for input that has not come yet (stdin, a followed file): `idle d` applies. */
  readonly live?: boolean;
  /** The generated code's part of this source: its values, its fast jsonl converter. */
  bind?(binding: SourceBinding<unknown>): void;
  /**
   * The next batch, null at the end of the input. Synchronous for inputs at hand (files,
   * generators); a promise for inputs that arrive (stdin, a broker's client).
   */
  next(): BatchResult | Promise<BatchResult>;
  /** The position after the last record handed out. */
  position(): SourcePosition;
  /** Resumes at a position taken from a checkpoint or a savepoint. */
  seek(p: SourcePosition): void;
  /**
   * A finite input: how far it has been read, of how much (a file's bytes, a generator's
   * records); absent or null for inputs without an end (stdin, a followed file). Read by
   * the status line and the dashboard, a few times a second.
   */
  progress?(): SourceProgress | null;
  close(): void | Promise<void>;
  /** NATS sources: where the source stands in its stream. */
  natsStatus?(): NatsSourceStatus;
}

/** How far a finite source has been read. */
export interface SourceProgress {
  done: number;
  total: number;
  unit: "bytes" | "records";
}

/** What a source reports bad records to: its on_error policy. */
export interface BadRecords {
  /** With on_error "fail": the bad record, raised once the records before it went through. */
  failure: BadRecordError | null;
  /** While re-reading records a checkpoint already covers: they were handled then. */
  replaying: boolean;
  handle(err: BadRecordError): void;
  /** The job's log at warn level, for what is odd in the input but not bad. */
  warn(message: string): void;
}

/** What a source is opened with. */
/** Several instances of one job (`--instance i/N`, LANGUAGE.md 10.1). */
export interface InstanceOf {
  index: number;
  count: number;
}

export interface SourceContext {
  readonly log: Log;
  /** Several instances: which one this is (a partitioned source reads its partitions). */
  readonly instance?: InstanceOf;
  /** The source's on_error policy (fail, when its manifest entry has none). */
  readonly errors: BadRecords;
}

export interface SourceConnector<M extends SourceManifest = SourceManifest> {
  /**
   * Opens the source. Runs before the checkpoint folder and the outputs are touched: an
   * input that cannot be read stops the job here, with every file as it was. A promise for
   * a source that must ask a server first (a broker's stream).
   */
  open(m: M, ctx: SourceContext): Source | Promise<Source>;
}

/** A file that a checkpoint needs, with its checksum. */
export interface FileRef {
  sha256: string;
  bytes: number;
}

/** A sink file's output, or a source's dead-letter file's. */
export type SinkRole = "sink" | "dead_letter" | "exchange";

/** What a checkpoint commits of one transactional sink. */
export interface SinkTransaction {
  index: number;
  role: SinkRole;
  path: string;
  /** Length of the target file before this checkpoint's output, and after it. */
  baseLength: number;
  length: number;
  /** Staged output this checkpoint commits, in order (paths relative to the storage folder). */
  segments: string[];
  /** A NATS sink's transaction: what recovery needs to publish the rest of it exactly once. */
  nats?: NatsTransaction;
}

/** A NATS sink's transaction (runtime/connectors/nats-sink.ts). */
export interface NatsTransaction {
  stream: string;
  /** Names this sink's output since its fresh start: part of every message id. */
  epoch: string;
  /** The checkpoint whose completion publishes it: part of every message id. */
  checkpoint: number;
  /** Messages in it. */
  count: number;
  /** The stream's last sequence before any of them was published (recovery reads after it). */
  after: number;
}

/** A sink's pre-commit: its transaction and the staged files the checkpoint must keep. */
export interface Staged {
  txn: SinkTransaction;
  files: Record<string, FileRef>;
}

/**
 * The two-phase commit the checkpoint coordinator drives. `preCommit` runs in the
 * checkpoint's cut, between two batches: it takes what was written so far (a promise may
 * settle later, in the checkpoint's background part); `commit` runs once the checkpoint is
 * complete; `abort` gives up what was staged and not committed (a failed run).
 */
export interface TransactionalSink {
  /** Output written from now on belongs to checkpoint `id` (it names the staged files). */
  stageFor(id: number): void;
  preCommit(): Staged | Promise<Staged>;
  commit(txn: SinkTransaction): void | Promise<void>;
  abort(): void;
  /** Staged files not committed yet (retention keeps them). */
  uncommitted(): string[];
  /** Whether it holds so much for its next commit that a checkpoint should start before its interval is up. */
  wantsCheckpoint?(): boolean;
}

/** Where a sink's output stood at a savepoint: files are cut back to `length` to continue. */
export interface SinkAt {
  index: number;
  role: SinkRole;
  path: string;
  /** The file's length holding exactly the output up to the savepoint. */
  length: number;
}

/** An open sink: lines in (from generated code), gathered and written once per batch. */
export interface Sink extends SinkWriter {
  /** Writes what was gathered; may return a promise when the output is backed up. */
  flush(): void | Promise<void>;
  /** A promise when the output needs time to finish (a broker's acknowledgements). */
  close(): void | Promise<void>;
  /** Lines written, and bytes (stdout: all stdout sinks together). */
  readonly lines: number;
  readonly bytes: number;
  /** Set when the sink commits with checkpoints (exactly once); null: it writes through. */
  readonly transaction: TransactionalSink | null;
  /** For a savepoint: where its output stands (null: nothing to record, as for stdout). */
  savepointAt(): SinkAt | null;
  /** NATS sinks: published and pending counts. */
  natsStatus?(): NatsSinkStatus;
}

/** What a sink is opened with. */
export interface SinkContext {
  index: number;
  role: SinkRole;
  /** The first line of the output when it starts from the beginning (a csv header), or null. */
  header: string | null;
  /** The checkpoint storage folder, where output is staged until a checkpoint commits it; null without checkpoints. */
  staging: string | null;
  /** This sink's transaction in the checkpoint the run resumes from. */
  checkpointed: SinkTransaction | null;
  /** This sink's place in the savepoint the run starts from. */
  savepointed: SinkAt | null;
  /** Whether the run starts from the beginning (no checkpoint, no savepoint). */
  fresh: boolean;
  /** Whether the job checkpoints exactly once (`mode exactly_once`); false without checkpoints. */
  exactlyOnce: boolean;
  /** The job's name (a NATS sink names its messages after it). */
  job: string;
  log: Log;
  /** Several instances: which one this is (a NATS sink's lock and message ids are per instance). */
  instance?: InstanceOf;
}

export interface SinkConnector<M extends SinkManifest = SinkManifest> {
  /**
   * Opens the sink, once the run knows what it resumes from (files are replaced or cut back
   * here; a broker's sink publishes the rest of an interrupted commit): a promise for a sink
   * that must ask a server first.
   */
  open(m: M, ctx: SinkContext): Sink | Promise<Sink>;
}

/** The connectors a bundle holds, by the manifest's `connector` name (those its job names). */
export interface Connectors {
  sources: { [K in SourceManifest["connector"]]?: SourceConnector<Extract<SourceManifest, { connector: K }>> };
  sinks: { [K in SinkManifest["connector"]]?: SinkConnector<Extract<SinkManifest, { connector: K }>> };
}

/** The local file a manifest entry reads or writes (its `path`), or null. */
export function localPath(m: SourceManifest | SinkManifest): string | null {
  return "path" in m ? m.path : null;
}

/** A source's on_error policy: its own, or "fail" for sources without one. */
export function onErrorOf(m: SourceManifest): OnErrorManifest {
  return "onError" in m ? m.onError : { policy: "fail", deadLetter: null };
}

/** A source's dead-letter file, if its policy writes one. */
export function deadLetterOf(m: SourceManifest): string | null {
  const p = onErrorOf(m);
  return p.policy === "dead_letter" && p.deadLetter ? p.deadLetter : null;
}
