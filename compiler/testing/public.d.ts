// The JavaScript API for testing jobs from vitest, jest or any test runner: `flowc/testing`
// (docs/testing.md, "From JavaScript"). These declarations are what the package publishes;
// compiler/testing/api.ts implements them, and the type check holds it to them.

/**
 * What a job's records and state look like, to type the API. `flowc types job.flow` writes
 * one for a job; without one, records and state are `unknown`.
 */
export interface JobShape {
  /** Each source's input records (a timestamp may be an RFC 3339 string, as in input). */
  sources: Record<string, unknown>;
  /** Each stream's records as the job writes them (timestamps in milliseconds, maps as objects). */
  streams: Record<string, unknown>;
  /** Each stateful operator's key and states, by uid. */
  state: Record<string, { key: unknown; value: Record<string, unknown> }>;
}

/** Any job: records and state untyped. */
export interface AnyJob extends JobShape {
  sources: Record<string, unknown>;
  streams: Record<string, unknown>;
  state: Record<string, { key: unknown; value: Record<string, unknown> }>;
}

/**
 * A marker between two records of an input: the job takes a checkpoint there and is
 * restored from it (every operator's state, the sources' watermarks) before it goes on, as
 * `restart` does in a test file.
 */
export declare const restart: unique symbol;

/** A source's input: its records, with `restart` markers between them. */
export type Input<R> = readonly (R | typeof restart)[];

export type Inputs<J extends JobShape> = { [S in keyof J["sources"]]?: Input<J["sources"][S]> };

/** The job failed while it ran (bad input, or an expression or imported function that failed). */
export interface JobFailure {
  /** FLOW5xxx (docs/errors.md). */
  code: string;
  message: string;
  /** `job.flow:line:col` of the expression that failed, when it was one. */
  location: string | null;
}

export interface JobRun<J extends JobShape> {
  /** The records each stream produced, in order: every stream the job was loaded with. */
  streams: { [S in keyof J["streams"]]: J["streams"][S][] };
  /**
   * The states of one key of a stateful operator after the run (no key for an operator on a
   * plain stream), or null when it keeps nothing for that key. Windows, joins and dedup keep
   * no values per key and cannot be read here.
   */
  state<U extends keyof J["state"] & string>(uid: U, key?: J["state"][U]["key"]): J["state"][U]["value"] | null;
  /** The job's own failure, or null when it ran to the end of its input. */
  failure: JobFailure | null;
  /** How many `restart` markers were taken. */
  restarts: number;
  /** Elements that came too late and were dropped, by operator uid. */
  late: Record<string, number>;
}

export interface FlowJob<J extends JobShape = AnyJob> {
  /** The job's name (its `job` line). */
  readonly name: string;
  readonly sources: readonly string[];
  /** The streams whose records a run returns. */
  readonly streams: readonly string[];
  /** The uids of the stateful operators whose state `state()` reads. */
  readonly operators: readonly string[];
  /**
   * Runs the job on the given records (a source not given is empty) until its input ends,
   * in this process. Records are checked against the sources' types: a record that does not
   * fit throws a FlowInputError naming the source, the record and the field.
   */
  run(inputs: Inputs<J>): Promise<JobRun<J>>;
}

export interface LoadOptions<J extends JobShape = AnyJob> {
  /** The streams a run returns (default: every source, `let` and `late:` stream). */
  streams?: readonly (keyof J["streams"] & string)[];
}

/**
 * Compiles a job (a .flow file, relative to the working directory) for running in this
 * process. A job with errors rejects with a FlowCompileError holding flowc's diagnostics.
 */
export declare function loadJob<J extends JobShape = AnyJob>(path: string, options?: LoadOptions<J>): Promise<FlowJob<J>>;

/** The job does not compile: `message` holds the diagnostics as `flowc check` prints them. */
export declare class FlowCompileError extends Error {
  readonly diagnostics: readonly { code: string; severity: "error" | "warning"; message: string; file: string; line: number; col: number }[];
}

/** A given record does not fit its source's type. */
export declare class FlowInputError extends Error {
  readonly source: string;
  /** The record's index in its input (0-based, `restart` markers not counted). */
  readonly index: number;
  /** The field, as a path (`price`, `items[2].name`), or "" for the record itself. */
  readonly field: string;
}

/** The TypeScript declarations of a job's shape (what `flowc types` prints), for `loadJob<…>`. */
export declare function jobTypes(path: string): string;
