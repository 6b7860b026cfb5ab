// The job driver: parses the bundle's flags, opens sources and sinks, builds the generated
// operator graph and runs the batch loop of docs/architecture.md. Each batch goes through
// the graph synchronously; between batches the loop yields to the event loop.

import { parseArgs } from "node:util";
import type { BuiltJob, JobContext, JobModule, Manifest, SourceBinding } from "./api.js";
import { BadRecordError, JobError } from "./errors.js";
import { FlowRuntimeError } from "./lib.js";
import { Log, type Level } from "./log.js";
import { FileSink, openSink, type LineWriter } from "./sinks.js";
import { FileSource, RecordErrors, SequenceSource, StdinSource, ValuesSource, type BatchResult, type Source } from "./sources.js";
import { GlobalState, KeyedStateStore } from "./state.js";

const USAGE = (job: string): string => `Usage: node ${job}.mjs [options]

Runs the compiled flowc job \`${job}\` until its input ends.

Options:
  --log-level <level>   error, warn (default), info or debug; the log goes to stderr
  -h, --help            show this help
  --version             show the compiler that built this job

Exit codes: 0 done, 1 bad input or a failing expression, 2 usage error, 70 internal error.
`;

export function main(job: JobModule): void {
  run(job, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error in job ${job.manifest.job}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nThis is a bug in flowc's runtime; please report it with the .flow file and the input.\n`);
      process.exitCode = 70;
    },
  );
}

class Context implements JobContext {
  readonly keyed: KeyedStateStore<unknown>[] = [];
  readonly globals: GlobalState<unknown>[] = [];

  constructor(private readonly sinks: LineWriter[]) {}

  keyedState<S>(uid: string, create: (key: unknown) => S): KeyedStateStore<S> {
    const store = new KeyedStateStore<S>(uid, create);
    this.keyed.push(store as KeyedStateStore<unknown>);
    return store;
  }

  globalState<S>(uid: string, create: () => S): S {
    const g = new GlobalState<S>(uid, create());
    this.globals.push(g as GlobalState<unknown>);
    return g.value;
  }

  sink(index: number): LineWriter {
    const s = this.sinks[index];
    if (!s) throw new Error(`internal: no sink ${index}`);
    return s;
  }
}

function printError(e: JobError | FlowRuntimeError, log: Log | null): void {
  if (e instanceof FlowRuntimeError) {
    process.stderr.write(`error[${e.code}]: ${e.message}\n  --> ${e.location}\n`);
    if (e.userStack) {
      if (log?.enabled("debug")) process.stderr.write(`${e.userStack}\n`);
      else process.stderr.write("  = hint: run with --log-level debug to see where it was thrown (and node --enable-source-maps for TypeScript line numbers)\n");
    }
    return;
  }
  process.stderr.write(`error[${e.code}]: ${e.message}\n${e.hint ? `  = hint: ${e.hint}\n` : ""}`);
}

let logRef: Log | null = null;

export async function run(job: JobModule, argv: string[]): Promise<number> {
  const m: Manifest = job.manifest;
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean" }, "log-level": { type: "string" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${USAGE(m.job)}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(USAGE(m.job));
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`${m.job} (compiled by ${m.compiler} from ${m.flowFile})\n`);
    return 0;
  }
  const level = (flags["log-level"] ?? "warn") as Level;
  if (!["error", "warn", "info", "debug"].includes(level)) {
    process.stderr.write(`error: --log-level must be error, warn, info or debug, not ${JSON.stringify(level)}\n`);
    return 2;
  }
  const log = new Log(m.job, level);
  logRef = log;

  const sources: Source[] = [];
  const sinks: LineWriter[] = [];
  const deadLetters: LineWriter[] = [];
  const errorPolicies: { name: string; errors: RecordErrors }[] = [];
  try {
    // Inputs first: a missing input file stops the job before any output is replaced.
    const pending: (Source | null)[] = m.sources.map((s) => {
      if (s.connector !== "file" && s.connector !== "stdin") return null;
      let dl: LineWriter | null = null;
      if (s.onError.policy === "dead_letter" && s.onError.deadLetter) {
        dl = new FileSink(s.onError.deadLetter, null);
        deadLetters.push(dl);
      }
      const errors = new RecordErrors(s.onError, dl);
      errorPolicies.push({ name: s.name, errors });
      return s.connector === "file" ? new FileSource(s.name, s, errors) : new StdinSource(s.name, s, errors);
    });
    for (const s of m.sinks) sinks.push(openSink(s));
    const ctx = new Context(sinks);
    const built: BuiltJob = job.build(ctx);
    m.sources.forEach((s, i) => {
      let src = pending[i]!;
      if (s.connector === "values") src = new ValuesSource(s.name, built.sources[i]!.values ?? []);
      else if (s.connector === "sequence") src = new SequenceSource(s.name, s.from, s.to);
      sources.push(src);
    });
    log.info(`running: ${sources.length} source(s), ${sinks.length} sink(s), ${m.operators.length} stateful operator(s)`);
    const started = performance.now();
    const records = await loop(sources, built.sources, [...sinks, ...deadLetters]);
    for (const s of sinks) s.close();
    for (const d of deadLetters) d.close();
    for (const { name, errors } of errorPolicies) {
      if (errors.skipped > 0) log.warn(`source \`${name}\`: ${errors.skipped} bad record${errors.skipped === 1 ? "" : "s"} ${m.sources.find((s) => s.name === name && s.connector !== "values" && s.connector !== "sequence" && s.onError.policy === "dead_letter") ? "written to the dead-letter file" : "skipped"}`);
    }
    log.info(`finished: ${records} record(s) in ${((performance.now() - started) / 1000).toFixed(3)} s`);
    return 0;
  } catch (e) {
    if (e instanceof JobError || e instanceof FlowRuntimeError) {
      for (const s of [...sinks, ...deadLetters]) {
        try {
          s.close();
        } catch {
          // the original error is the one to report
        }
      }
      printError(e, logRef);
      return 1;
    }
    throw e;
  } finally {
    for (const s of sources) s.close();
  }
}

/** Runs every source to its end; returns how many records were read. */
async function loop(sources: Source[], bindings: SourceBinding<unknown>[], writers: LineWriter[]): Promise<number> {
  let records = 0;
  const flush = async (): Promise<void> => {
    for (const w of writers) {
      const p = w.flush();
      if (p) await p;
    }
  };
  if (sources.length === 1) {
    const src = sources[0]!;
    const binding = bindings[0]!;
    for (;;) {
      let batch: BatchResult | Promise<BatchResult> = src.next();
      if (batch instanceof Promise) batch = await batch;
      if (batch === null) break;
      binding.push(batch);
      records += batch.length;
      await flush();
      await yieldToEventLoop();
    }
    return records;
  }
  // Several sources without event time: one element from each in turn (deterministic).
  const buffers: { batch: unknown[]; at: number; done: boolean }[] = sources.map(() => ({ batch: [], at: 0, done: false }));
  const one: unknown[] = [undefined];
  let active = sources.length;
  while (active > 0) {
    let handed = 0;
    for (let i = 0; i < sources.length; i++) {
      const b = buffers[i]!;
      if (b.done) continue;
      if (b.at >= b.batch.length) {
        let next: BatchResult | Promise<BatchResult>;
        do {
          next = sources[i]!.next();
          if (next instanceof Promise) next = await next;
        } while (next !== null && next.length === 0);
        if (next === null) {
          b.done = true;
          active--;
          continue;
        }
        b.batch = next;
        b.at = 0;
      }
      one[0] = b.batch[b.at++];
      bindings[i]!.push(one);
      records++;
      handed++;
    }
    if (handed > 0 && records % 1024 < handed) {
      await flush();
      await yieldToEventLoop();
    }
  }
  await flush();
  return records;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export { BadRecordError };
