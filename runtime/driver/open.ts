// Opening a job's sources and sinks from its manifest, through the connectors the bundle
// holds (runtime/connectors/table.ts). Sources are opened first, before anything is written
// (an input that cannot be read stops the job with every file as it was); sinks and
// dead-letter files once the run knows what it resumes from; and sources are bound to the
// generated code once the graph is built.

import type { BuiltJob, Manifest, SinkManifest } from "../api.js";
import type { CheckpointMetadata } from "../checkpoint/storage.js";
import { deadLetterOf, localPath, onErrorOf, type Connectors, type Sink, type SinkAt, type SinkConnector, type SinkRole, type Source, type SourceConnector, type TransactionalSink } from "../connectors/contract.js";
import { RecordErrors } from "../connectors/on-error.js";
import { DEAD_LETTER_CONNECTOR } from "../connectors/table.js";
import type { Log } from "../log.js";

/**
 * The connector a manifest entry names. The bundle holds every connector its manifest names;
 * the table's type ties each name to its entry's type, which a name known only at run time
 * cannot narrow: the connector is typed for any entry.
 */
function connectorFor<C>(table: Connectors["sources"] | Connectors["sinks"], name: string): C {
  const c: unknown = (table as Record<string, unknown>)[name];
  if (!c) throw new Error(`internal: this bundle has no ${name} connector, but its job uses one (compiler/bundle.ts chooses them from the manifest)`);
  return c as C;
}

/** The job's sources, and each one's on_error policy. */
export class Inputs {
  /** Sources in manifest order (those opened so far, when opening failed). */
  readonly sources: Source[] = [];
  readonly policies: RecordErrors[] = [];

  /** Opens every source (several instances: those this instance reads; the others are empty). */
  async open(m: Manifest, connectors: Connectors, log: Log, several?: { reads(i: number): boolean; empty(name: string): Source; instance: { index: number; count: number } }): Promise<void> {
    for (const [i, s] of m.sources.entries()) {
      const errors = new RecordErrors(onErrorOf(s), null, (message) => log.warn(message));
      this.policies.push(errors);
      if (several && !several.reads(i)) {
        this.sources.push(several.empty(s.name));
        continue;
      }
      const instance = several?.instance;
      const opened = connectorFor<SourceConnector>(connectors.sources, s.connector).open(s, { log, errors, ...(instance ? { instance } : {}) });
      this.sources.push(opened instanceof Promise ? await opened : opened);
    }
  }

  /** Gives each source the generated code's part of it. */
  bind(built: BuiltJob): void {
    this.sources.forEach((src, i) => src.bind?.(built.sources[i]!));
  }

  /** Reports the bad records skipped or written to dead-letter files. */
  report(m: Manifest, log: Log): void {
    this.policies.forEach((p, i) => {
      if (p.skipped === 0) return;
      const s = m.sources[i]!;
      log.warn(`source \`${s.name}\`: ${p.skipped} bad record${p.skipped === 1 ? "" : "s"} ${onErrorOf(s).policy === "dead_letter" ? "written to the dead-letter file" : "skipped"}`);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sources) {
      const p = s.close();
      if (p) await p;
    }
  }
}

/** Where a run starts from, as far as its outputs are concerned. */
export interface OutputStart {
  /** The checkpoint storage folder (output is staged there), or null without checkpoints. */
  staging: string | null;
  /** The checkpoint the run resumes from. */
  restored: CheckpointMetadata | null;
  /** The sinks of the savepoint the run starts from (null: none, or a checkpoint taken since wins). */
  savepoint: SinkAt[] | null;
  /** Whether the job checkpoints exactly once. */
  exactlyOnce: boolean;
  log: Log;
  /** Several instances: which one this is. */
  instance?: { index: number; count: number };
}

/** The first line of a sink's output: the csv header, if it has columns. */
function sinkHeader(m: SinkManifest): string | null {
  return m.format === "csv" && m.columns ? m.columns.join(",") : null;
}

/** The job's sinks and its sources' dead-letter files. */
export class Outputs {
  /** The job's sinks, in manifest order. */
  readonly sinks: Sink[] = [];
  /** Dead-letter files, in the order of their sources. */
  private readonly deadLetters: Sink[] = [];
  /** Everything opened so far, in order (what a failure must abort or close). */
  private readonly opened: Sink[] = [];

  /** Opens the dead-letter files, then the sinks; files are replaced, or cut back to where the run resumes. */
  async open(m: Manifest, connectors: Connectors, start: OutputStart, inputs: Inputs): Promise<void> {
    const fresh = !start.restored && !start.savepoint;
    const open = async (sm: SinkManifest, index: number, role: SinkRole, header: string | null): Promise<Sink> => {
      const path = localPath(sm);
      const opening = connectorFor<SinkConnector>(connectors.sinks, sm.connector).open(sm, {
        index,
        role,
        header,
        staging: start.staging,
        checkpointed: start.restored?.sinks.find((x) => x.index === index && x.role === role) ?? null,
        savepointed: start.savepoint?.find((x) => x.role === role && x.path === path) ?? null,
        fresh,
        exactlyOnce: start.exactlyOnce,
        job: m.job,
        log: start.log,
        ...(start.instance ? { instance: start.instance } : {}),
      });
      const sink = opening instanceof Promise ? await opening : opening;
      this.opened.push(sink);
      return sink;
    };
    for (const [i, s] of m.sources.entries()) {
      const path = deadLetterOf(s);
      if (path === null) continue;
      const dl = await open({ connector: DEAD_LETTER_CONNECTOR, path, format: "jsonl", columns: null }, i, "dead_letter", null);
      this.deadLetters.push(dl);
      inputs.policies[i]!.deadLetter = dl;
    }
    for (const [i, s] of m.sinks.entries()) this.sinks.push(await open(s, i, "sink", sinkHeader(s)));
  }

  /** Every output: the sinks, then the dead-letter files. */
  get all(): Sink[] {
    return [...this.sinks, ...this.deadLetters];
  }

  /** The outputs that commit with checkpoints, in the order they were opened. */
  get transactional(): TransactionalSink[] {
    return this.opened.flatMap((s) => (s.transaction ? [s.transaction] : []));
  }

  async close(): Promise<void> {
    for (const s of this.all) {
      const p = s.close();
      if (p) await p;
    }
  }

  /**
   * After a failure: nothing staged after the last checkpoint is committed; the outputs that
   * write through (stdout, files without checkpoints) keep what the records before the
   * failure produced, as a record-at-a-time system would have.
   */
  async abandon(): Promise<void> {
    for (const s of this.opened) s.transaction?.abort();
    for (const s of this.opened) {
      if (s.transaction) continue;
      try {
        const p = s.close();
        if (p) await p;
      } catch {
        // the run failed already: that failure is the one reported
      }
    }
  }
}
