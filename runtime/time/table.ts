// The operators a bundle holds only when its job has them, by the name the generated code
// asks the JobContext for them with: the module under runtime/ that exports each one's
// `factory` (OperatorFactories in operator.ts), and which manifest entries need it.
// compiler/bundle.ts reads this table.

import type { Manifest, OperatorManifest } from "../api.js";
import type { OperatorFactories } from "../operator.js";

export const OPERATOR_MODULES = {
  window: "time/windows",
  countWindow: "time/count-window",
  timers: "time/timers",
  join: "time/join",
  temporalJoin: "time/temporal-join",
  dedup: "time/dedup",
} as const satisfies Record<keyof OperatorFactories, string>;

const NEEDS: Record<keyof OperatorFactories, (op: OperatorManifest) => boolean> = {
  window: (op) => op.kind === "window",
  countWindow: (op) => op.kind === "count_window",
  // A process block with `timer at` or a state ttl (the manifest's `timers`).
  timers: (op) => op.timers,
  join: (op) => op.kind === "join",
  temporalJoin: (op) => op.kind === "temporal_join",
  dedup: (op) => op.kind === "dedup",
};

/** The operators a job's manifest needs, by name. */
export function operatorsOf(m: Manifest): (keyof OperatorFactories)[] {
  return (Object.keys(NEEDS) as (keyof OperatorFactories)[]).filter((k) => m.operators.some(NEEDS[k]));
}
