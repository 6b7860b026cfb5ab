// Which state of a savepoint a job can take over (docs/savepoints.md, "Restoring into a
// changed job"). State maps by operator uid and state name; source positions by source name.
// Shared by the running job (`--from-savepoint`) and the compiler
// (`flowc check --against-savepoint`), so both say the same thing.

import type { OperatorManifest, SourceManifest } from "../api.js";
import { localPath } from "../connectors/contract.js";
import { evolution, sameType, showType } from "./canonical.js";
import type { SavepointMetadata, SavepointOperator } from "./format.js";

export type Verdict = "restore" | "new" | "dropped" | "incompatible";

export interface PlanLine {
  verdict: Verdict;
  /** `uid.state`, `uid` or `source name`. */
  what: string;
  detail: string;
}

export interface RestorePlan {
  lines: PlanLine[];
  /** Per restored operator uid: each restored state's savepoint type and this job's type. */
  operators: Map<string, { saved: SavepointOperator; states: Map<string, { from: SavepointOperator["states"][number]["type"]; to: SavepointOperator["states"][number]["type"] }>; timers: boolean; internal: boolean }>;
  /** Sources whose position is restored, by name. */
  sources: Set<string>;
  /** Whether the job must refuse to start: incompatible state, always; dropped state, unless allowed. */
  incompatible: PlanLine[];
  dropped: PlanLine[];
}

/** Operators whose whole state is one runtime structure (restored as a whole or not at all). */
const INTERNAL = new Set(["window", "count_window", "join", "temporal_join", "dedup"]);

function keysOf(op: SavepointOperator, part: string): number {
  return op.parts.find((p) => p.name === part)?.keys ?? 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function statesText(op: { states: { name: string; type: SavepointOperator["states"][number]["type"] }[] }): string {
  return op.states.map((s) => `${s.name}: ${showType(s.type)}`).join(", ") || "no state";
}

export function planRestore(sp: SavepointMetadata, job: { operators: OperatorManifest[]; sources: SourceManifest[] }): RestorePlan {
  const plan: RestorePlan = { lines: [], operators: new Map(), sources: new Set(), incompatible: [], dropped: [] };
  const add = (verdict: Verdict, what: string, detail: string): void => {
    const line = { verdict, what, detail };
    plan.lines.push(line);
    if (verdict === "incompatible") plan.incompatible.push(line);
    if (verdict === "dropped") plan.dropped.push(line);
  };

  for (const saved of sp.operators) {
    const op = job.operators.find((o) => o.uid === saved.uid);
    const keyed = saved.key ? ` per key` : "";
    if (!op) {
      if (INTERNAL.has(saved.kind)) add("dropped", saved.uid, `${saved.kind} \`${saved.uid}\` is not in this job (${plural(keysOf(saved, saved.parts[0]?.name ?? ""), "key")} of state)`);
      else {
        for (const s of saved.states) add("dropped", `${saved.uid}.${s.name}`, `operator \`${saved.uid}\` is not in this job (${showType(s.type)}${keyed}, ${plural(keysOf(saved, s.name), "key")})`);
        if (keysOf(saved, "timers") > 0) add("dropped", `${saved.uid}.timers`, `operator \`${saved.uid}\` is not in this job (${plural(keysOf(saved, "timers"), "key")} with timers)`);
      }
      continue;
    }
    if (op.kind !== saved.kind) {
      add("incompatible", saved.uid, `\`${saved.uid}\` is a ${saved.kind} in the savepoint and a ${op.kind} in this job`);
      continue;
    }
    if (!sameType(saved.key, op.key)) {
      add("incompatible", saved.uid, `\`${saved.uid}\` is keyed by ${showType(saved.key)} in the savepoint and by ${showType(op.key)} in this job`);
      continue;
    }
    if (INTERNAL.has(saved.kind)) {
      const same = saved.spec === op.spec && saved.states.length === op.states.length && saved.states.every((s, i) => s.name === op.states[i]!.name && sameType(s.type, op.states[i]!.type));
      if (!same) {
        add("incompatible", saved.uid, `${saved.kind} \`${saved.uid}\` keeps { ${statesText(saved)} } over ${saved.spec} in the savepoint and { ${statesText(op)} } over ${op.spec} in this job; a ${saved.kind}'s state restores only unchanged`);
        continue;
      }
      plan.operators.set(saved.uid, { saved, states: new Map(), timers: false, internal: true });
      add("restore", saved.uid, `${saved.kind} over ${saved.spec}, ${plural(keysOf(saved, saved.parts[0]?.name ?? ""), "key")}`);
      continue;
    }
    const states = new Map<string, { from: SavepointOperator["states"][number]["type"]; to: SavepointOperator["states"][number]["type"] }>();
    let bad = false;
    for (const s of saved.states) {
      const now = op.states.find((x) => x.name === s.name);
      if (!now) {
        add("dropped", `${saved.uid}.${s.name}`, `\`${saved.uid}\` has no state \`${s.name}\` any more (${showType(s.type)}, ${plural(keysOf(saved, s.name), "key")})`);
        continue;
      }
      const ev = evolution(s.type, now.type);
      if (!ev.ok) {
        add("incompatible", `${saved.uid}.${s.name}`, `the savepoint keeps ${showType(s.type)}, this job keeps ${showType(now.type)}`);
        bad = true;
        continue;
      }
      states.set(s.name, { from: s.type, to: now.type });
      add("restore", `${saved.uid}.${s.name}`, `${showType(now.type)}, ${plural(keysOf(saved, s.name), "key")}${ev.changes.length ? ` (${ev.changes.join("; ")})` : ""}`);
    }
    for (const s of op.states) if (!saved.states.some((x) => x.name === s.name)) add("new", `${saved.uid}.${s.name}`, `${showType(s.type)}, starts with its initial value`);
    const savedTimers = keysOf(saved, "timers");
    if (savedTimers > 0 && !op.timers) add("dropped", `${saved.uid}.timers`, `\`${saved.uid}\` sets no timers any more (${plural(savedTimers, "key")} with timers pending)`);
    else if (savedTimers > 0) add("restore", `${saved.uid}.timers`, `${plural(savedTimers, "key")} with timers pending`);
    if (!bad) plan.operators.set(saved.uid, { saved, states, timers: savedTimers > 0 && op.timers, internal: false });
  }
  for (const op of job.operators) {
    if (!sp.operators.some((s) => s.uid === op.uid)) add("new", op.uid, `${op.kind} \`${op.uid}\` is new: it starts empty`);
  }

  for (const s of sp.sources) {
    const src = job.sources.find((x) => x.name === s.name);
    const where = s.path !== null ? `${s.connector} ${JSON.stringify(s.path)}` : s.connector;
    if (s.connector === "exchange") {
      // The reader of an exchange (several instances): restored by the instance that runs it.
      add("restore", s.name, `goes on after stream sequence ${s.position.seq ?? 0}`);
      continue;
    }
    if (!src) {
      add("dropped", `source ${s.name}`, `source \`${s.name}\` (${where}, at record ${s.position.records}) is not in this job`);
      continue;
    }
    const path = localPath(src);
    if (src.connector !== s.connector || path !== s.path) {
      add("dropped", `source ${s.name}`, `source \`${s.name}\` read ${where} and reads ${src.connector}${path !== null ? ` ${JSON.stringify(path)}` : ""} now: its position does not apply`);
      continue;
    }
    plan.sources.add(s.name);
    add("restore", `source ${s.name}`, `goes on after record ${s.position.records}${s.position.line !== undefined ? ` (line ${s.position.line})` : ""}`);
  }
  for (const src of job.sources) {
    if (!sp.sources.some((s) => s.name === src.name)) add("new", `source ${src.name}`, "is new: it starts from the beginning");
  }
  return plan;
}

/** The plan as text: one line per state, then the verdict. */
export function describePlan(plan: RestorePlan): string[] {
  const label: Record<Verdict, string> = { restore: "restore", new: "new", dropped: "drop", incompatible: "refuse" };
  const lines = plan.lines.map((l) => `  ${label[l.verdict].padEnd(8)}${l.what}: ${l.detail}`);
  return lines;
}

/** Why a restore is refused, or null when it goes ahead. */
export function refusal(plan: RestorePlan, allowNonRestored: boolean): { code: "FLOW5007" | "FLOW5008"; message: string; hint: string } | null {
  if (plan.incompatible.length) {
    return {
      code: "FLOW5008",
      message: `the savepoint's state does not fit this job: ${plan.incompatible.map((l) => l.what).join(", ")}`,
      hint: "keep the state's type (a record may gain optional fields), or give the changed operator a new uid (`as new_uid`) and start it empty with --allow-non-restored-state",
    };
  }
  if (plan.dropped.length && !allowNonRestored) {
    return {
      code: "FLOW5007",
      message: `the savepoint has state this job would not restore: ${plan.dropped.map((l) => l.what).join(", ")}`,
      hint: "a renamed operator needs its old uid (`as old_uid`); to start without that state, add --allow-non-restored-state",
    };
  }
  return null;
}
