// The stages of a pipeline (LANGUAGE.md section 6), as one table: how each is written, what
// it does, whether it keeps state and whether it works in event time. The checker takes the
// names (and FLOW2005's hint), the event-time rule and which stages are stateful from here;
// plan gives the stateful ones their uids; the language server completes and describes
// stages from it. A new stage is a row here, its check in check/stages.ts, its lowering in
// plan.ts and its code in emit/.

export type StageName = "filter" | "map" | "flat_map" | "key_by" | "window" | "aggregate" | "reduce" | "process" | "union" | "dedup";

export interface StageSpec {
  name: StageName;
  /** How it is written (completion, hover). */
  form: string;
  /** What it does, in a few words. */
  summary: string;
  /** Keeps state: it gets a uid (`as name`, or its `let`'s name) and its state is checkpointed. */
  stateful: boolean;
  /** Works in event time: what FLOW4012 calls it on a stream without event time; null if not. */
  eventTime: string | null;
}

export const STAGES: readonly StageSpec[] = [
  { name: "filter", form: "filter(x => cond)", summary: "keeps the elements for which cond is true", stateful: false, eventTime: null },
  { name: "map", form: "map(x => value)", summary: "one output per element", stateful: false, eventTime: null },
  { name: "flat_map", form: "flat_map(x => list)", summary: "zero or more outputs per element", stateful: false, eventTime: null },
  { name: "key_by", form: "key_by(x => key)", summary: "a keyed stream", stateful: false, eventTime: null },
  {
    name: "window",
    form: "window(tumbling(d) | sliding(d, every: e) | session(gap: g), allowed_lateness: d, late: name) or window(count(n) | count(n, every: m))",
    summary: "groups elements by event time, or n at a time per key; aggregate(…) follows",
    stateful: false,
    eventTime: "a window",
  },
  { name: "aggregate", form: "aggregate(x => { … count(), sum(x.v) … })", summary: "a running or windowed aggregate", stateful: true, eventTime: null },
  { name: "reduce", form: "reduce((acc, x) => value)", summary: "a running reduction per key", stateful: true, eventTime: null },
  { name: "process", form: "process(x) { state …  emit … }", summary: "per-key state, timers", stateful: true, eventTime: null },
  { name: "union", form: "union(b, c)", summary: "merges streams of one type", stateful: false, eventTime: null },
  { name: "dedup", form: "dedup(x => id, within: d)", summary: "drops repeated ids", stateful: true, eventTime: "dedup" },
];

export const STAGE_NAMES: readonly StageName[] = STAGES.map((s) => s.name);

const BY_NAME = new Map<string, StageSpec>(STAGES.map((s) => [s.name, s]));

/** The stage called `name`, if there is one. */
export function stageSpec(name: string): StageSpec | undefined {
  return BY_NAME.get(name);
}

/** What completion and hover show for a stage. */
export function stageDetail(s: StageSpec): string {
  return `${s.form}: ${s.summary}`;
}
