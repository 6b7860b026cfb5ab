// The connectors of section 9 and the schema of their arguments. `check` validates calls
// against these tables; the resolved values go into the job manifest for the runtime.

export type ArgKind =
  | { kind: "string" }
  | { kind: "bool" }
  | { kind: "int" }
  | { kind: "enum"; values: readonly string[] }
  /** `values([...])`: a list expression typed by the source's declared type. */
  | { kind: "elements" };

export interface ArgSpec {
  name: string;
  arg: ArgKind;
  /** May be given by position, at this index. */
  position?: number;
  required?: boolean;
}

export interface ConnectorSpec {
  name: string;
  side: "source" | "sink";
  args: ArgSpec[];
  /** A source that can be read again from a position (needed by exactly_once). */
  replayable?: boolean;
  /** Parsed and checked, but not run by this version. */
  notYet?: string;
  summary: string;
}

const onError: ArgSpec[] = [
  { name: "on_error", arg: { kind: "enum", values: ["fail", "skip", "dead_letter"] } },
  { name: "dead_letter", arg: { kind: "string" } },
];

export const FORMATS_IN = ["jsonl", "csv", "text"] as const;
export const FORMATS_OUT = ["jsonl", "csv"] as const;

export const SOURCES: ConnectorSpec[] = [
  {
    name: "values",
    side: "source",
    replayable: true,
    args: [{ name: "elements", arg: { kind: "elements" }, position: 0, required: true }],
    summary: "values([…]): the listed elements, typed by the source's declared type",
  },
  {
    name: "sequence",
    side: "source",
    replayable: true,
    args: [
      { name: "from", arg: { kind: "int" }, position: 0, required: true },
      { name: "to", arg: { kind: "int" }, position: 1, required: true },
    ],
    summary: "sequence(from: a, to: b): the ints from a to b, both included",
  },
  {
    name: "file",
    side: "source",
    replayable: true,
    args: [
      { name: "path", arg: { kind: "string" }, position: 0, required: true },
      { name: "format", arg: { kind: "enum", values: FORMATS_IN } },
      { name: "follow", arg: { kind: "bool" } },
      ...onError,
    ],
    summary: 'file(path, format: "jsonl" | "csv" | "text", follow: bool): a file read from start to end, or followed as it grows',
  },
  {
    name: "stdin",
    side: "source",
    replayable: false,
    args: [{ name: "format", arg: { kind: "enum", values: FORMATS_IN } }, ...onError],
    summary: 'stdin(format: "jsonl" | "csv" | "text"): standard input',
  },
  ...(["nexmark", "nexmark_persons", "nexmark_auctions", "nexmark_bids"] as const).map(
    (name): ConnectorSpec => ({
      name,
      side: "source",
      replayable: true,
      args: [
        { name: "events", arg: { kind: "int" }, position: 0, required: true },
        { name: "seed", arg: { kind: "int" } },
      ],
      summary:
        name === "nexmark"
          ? "nexmark(events: n, seed: s): the first n events of the Nexmark generator (type NexmarkEvent: dateTime, and one of person, auction, bid)"
          : `${name}(events: n, seed: s): the ${name.slice(8)} among the first n events of the Nexmark generator (type ${name === "nexmark_bids" ? "Bid" : name === "nexmark_persons" ? "Person" : "Auction"})`,
    }),
  ),
  {
    name: "nats",
    side: "source",
    replayable: true,
    notYet: "the nats connector is not supported yet",
    args: [{ name: "subject", arg: { kind: "string" }, position: 0, required: true }],
    summary: "nats(subject): NATS JetStream",
  },
];

export const SINKS: ConnectorSpec[] = [
  {
    name: "stdout",
    side: "sink",
    args: [{ name: "format", arg: { kind: "enum", values: FORMATS_OUT } }],
    summary: 'stdout(format: "jsonl" | "csv"): standard output; primitives printed bare',
  },
  {
    name: "file",
    side: "sink",
    args: [
      { name: "path", arg: { kind: "string" }, position: 0, required: true },
      { name: "format", arg: { kind: "enum", values: FORMATS_OUT } },
    ],
    summary: 'file(path, format: "jsonl" | "csv"): a file, replaced at a fresh start',
  },
  {
    name: "nats",
    side: "sink",
    notYet: "the nats connector is not supported yet",
    args: [{ name: "subject", arg: { kind: "string" }, position: 0, required: true }],
    summary: "nats(subject): NATS JetStream",
  },
];

/** Options of the `checkpoint` and `restart` blocks (section 7). */
export type OptionKind =
  | { kind: "duration"; min: number; minInclusive: boolean }
  | { kind: "int"; min: number }
  | { kind: "float"; min: number }
  | { kind: "bool" }
  | { kind: "string" }
  | { kind: "name"; values: readonly string[] };

export const CHECKPOINT_OPTIONS: Record<string, OptionKind> = {
  every: { kind: "duration", min: 0, minInclusive: false },
  mode: { kind: "name", values: ["exactly_once", "at_least_once"] },
  storage: { kind: "string" },
  retain: { kind: "int", min: 1 },
  timeout: { kind: "duration", min: 0, minInclusive: false },
  min_pause: { kind: "duration", min: 0, minInclusive: true },
  incremental: { kind: "bool" },
};

export const RESTART_OPTIONS: Record<string, OptionKind> = {
  strategy: { kind: "name", values: ["fixed_delay", "exponential_delay", "none"] },
  attempts: { kind: "int", min: 0 },
  delay: { kind: "duration", min: 0, minInclusive: true },
  max_delay: { kind: "duration", min: 0, minInclusive: true },
  multiplier: { kind: "float", min: 1 },
};

export interface CheckpointPolicy {
  every: number;
  mode: "exactly_once" | "at_least_once";
  storage: string;
  retain: number;
  timeout: number;
  minPause: number;
  incremental: boolean;
}

export interface RestartPolicy {
  strategy: "fixed_delay" | "exponential_delay" | "none";
  attempts: number;
  delay: number;
  maxDelay: number;
  multiplier: number;
}

export function defaultCheckpoint(job: string): CheckpointPolicy {
  return { every: 10_000, mode: "exactly_once", storage: `./checkpoints/${job}`, retain: 1, timeout: 600_000, minPause: 0, incremental: false };
}

export function defaultRestart(): RestartPolicy {
  return { strategy: "fixed_delay", attempts: 3, delay: 1000, maxDelay: 60_000, multiplier: 2 };
}
