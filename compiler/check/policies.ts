// The `checkpoint`, `restart` and `state` blocks (LANGUAGE.md sections 7 and 7.1): their
// options, each checked against its kind, their defaults, exactly-once's need for sources
// that can replay (FLOW4005, asked of the connector table), and the disk backend's options
// given to the memory backend (FLOW4018).

import type { CheckpointManifest, RestartManifest } from "../../runtime/api.js";
import type * as A from "../ast.js";
import { sourceEntry } from "../connectors/index.js";
import { didYouMean } from "../suggest.js";
import type { CheckContext } from "./context.js";

/** Options of the `checkpoint` and `restart` blocks (section 7). */
export type OptionKind =
  | { kind: "duration"; min: number; minInclusive: boolean }
  | { kind: "int"; min: number; max?: number }
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

/** The most key groups: a key group is a 16-bit number in checkpoints and the disk store (as Flink's max parallelism, 32768). */
export const MAX_KEY_GROUPS = 32768;
export const DEFAULT_KEY_GROUPS = 128;
export const DEFAULT_STATE_CACHE = 100_000;

export const STATE_OPTIONS: Record<string, OptionKind> = {
  backend: { kind: "name", values: ["memory", "disk"] },
  dir: { kind: "string" },
  cache: { kind: "int", min: 1 },
  key_groups: { kind: "int", min: 1, max: MAX_KEY_GROUPS },
};

const BLOCKS: Record<string, Record<string, OptionKind>> = { checkpoint: CHECKPOINT_OPTIONS, restart: RESTART_OPTIONS, state: STATE_OPTIONS };

/** The policies as the manifest carries them to the runtime (declared in runtime/api.ts). */
export type CheckpointPolicy = CheckpointManifest;
export type RestartPolicy = RestartManifest;

export function defaultCheckpoint(job: string): CheckpointPolicy {
  return { every: 10_000, mode: "exactly_once", storage: `./checkpoints/${job}`, retain: 1, timeout: 600_000, minPause: 0, incremental: false };
}

export function defaultRestart(): RestartPolicy {
  return { strategy: "fixed_delay", attempts: 3, delay: 1000, maxDelay: 60_000, multiplier: 2 };
}

export function checkPolicies(cx: CheckContext): void {
  const blocks = { Checkpoint: [] as A.PolicyDecl[], Restart: [] as A.PolicyDecl[], State: [] as A.PolicyDecl[] };
  for (const d of cx.program.decls) if (d.kind === "Checkpoint" || d.kind === "Restart" || d.kind === "State") blocks[d.kind].push(d);
  for (const kind of ["Checkpoint", "Restart", "State"] as const) {
    for (const extra of blocks[kind].slice(1)) {
      cx.diags.error("FLOW2002", extra.keyword, `a job has one \`${kind.toLowerCase()}\` block`, { notes: [{ message: "the first one", span: blocks[kind][0]!.keyword }] });
    }
  }
  const cp = blocks.Checkpoint[0];
  if (cp) {
    const values = policyOptions(cx, cp, CHECKPOINT_OPTIONS, "checkpoint");
    const policy = defaultCheckpoint(cx.out.job);
    if (values.has("every")) policy.every = values.get("every")!.value as number;
    if (values.has("mode")) policy.mode = values.get("mode")!.value as CheckpointPolicy["mode"];
    if (values.has("storage")) {
      policy.storage = values.get("storage")!.value as string;
      // A NATS object store bucket: nats:<bucket> (docs/operations.md).
      if (policy.storage.startsWith("nats:") && !/^nats:[A-Za-z0-9_-]+$/.test(policy.storage)) {
        cx.diags.error("FLOW4003", values.get("storage")!.span, `${JSON.stringify(policy.storage)} does not name a NATS object store bucket`, { hints: ['the form is "nats:<bucket>", a bucket name of letters, digits, - and _ (e.g. "nats:checkpoints")'] });
      }
    }
    if (values.has("retain")) policy.retain = values.get("retain")!.value as number;
    if (values.has("timeout")) policy.timeout = values.get("timeout")!.value as number;
    if (values.has("min_pause")) policy.minPause = values.get("min_pause")!.value as number;
    if (values.has("incremental")) policy.incremental = values.get("incremental")!.value as boolean;
    cx.out.checkpoint = policy;
    if (policy.mode === "exactly_once") {
      for (const s of cx.out.sources) {
        const spec = sourceEntry(s.decl.connector.name.name);
        if (spec && spec.replayable === false) {
          const modeOpt = values.get("mode");
          cx.diags.error("FLOW4005", s.decl.connector.span, `\`mode exactly_once\` needs sources that can replay, and \`${spec.name}()\` cannot`, {
            notes: modeOpt ? [{ message: "exactly-once is chosen here", span: modeOpt.span }] : [{ message: "exactly_once is the default mode", span: cp.keyword }],
            hints: ["use `mode at_least_once`, or read the input from a file"],
          });
        }
      }
    }
  }
  const rs = blocks.Restart[0];
  if (rs) {
    const values = policyOptions(cx, rs, RESTART_OPTIONS, "restart");
    const policy = defaultRestart();
    if (values.has("strategy")) policy.strategy = values.get("strategy")!.value as RestartPolicy["strategy"];
    if (values.has("attempts")) policy.attempts = values.get("attempts")!.value as number;
    if (values.has("delay")) policy.delay = values.get("delay")!.value as number;
    if (values.has("max_delay")) policy.maxDelay = values.get("max_delay")!.value as number;
    if (values.has("multiplier")) policy.multiplier = values.get("multiplier")!.value as number;
    if (values.has("max_delay") && policy.maxDelay < policy.delay) {
      cx.diags.error("FLOW4003", values.get("max_delay")!.span, "max_delay is shorter than delay");
    }
    cx.out.restart = policy;
  }
  const st = blocks.State[0];
  if (st) {
    const values = policyOptions(cx, st, STATE_OPTIONS, "state");
    if (values.has("key_groups")) cx.out.keyGroups = values.get("key_groups")!.value as number;
    if (values.get("backend")?.value === "disk") {
      cx.out.state = {
        backend: "disk",
        dir: values.has("dir") ? (values.get("dir")!.value as string) : `./state/${cx.out.job}`,
        cache: values.has("cache") ? (values.get("cache")!.value as number) : DEFAULT_STATE_CACHE,
      };
    } else {
      // `dir` and `cache` belong to the disk backend: given to the memory backend they would do nothing.
      const backend = values.get("backend");
      for (const name of ["dir", "cache"]) {
        const v = values.get(name);
        if (!v) continue;
        cx.diags.error("FLOW4018", v.span, `\`${name}\` applies to \`backend disk\` only, and this job keeps its state in memory`, {
          notes: [{ message: backend ? "the memory backend is chosen here" : "memory is the default backend", span: backend ? backend.span : st.keyword }],
          hints: ["add `backend disk` to keep state in an embedded store on local disk, or remove the line"],
        });
      }
    }
  }
}

function policyOptions(cx: CheckContext, block: A.PolicyDecl, schema: Record<string, OptionKind>, what: string): Map<string, { value: unknown; span: A.Span }> {
  const values = new Map<string, { value: unknown; span: A.Span }>();
  for (const opt of block.options) {
    const name = opt.name.name;
    const kind = schema[name];
    if (!kind) {
      const other = Object.keys(BLOCKS).find((b) => b !== what && name in BLOCKS[b]!);
      cx.diags.error("FLOW4001", opt.name.span, `unknown ${what} option \`${name}\``, {
        hints: [
          didYouMean(name, Object.keys(schema)),
          other ? `\`${name}\` belongs in the ${other} block` : undefined,
          `${what} options: ${Object.keys(schema).join(", ")}`,
        ],
      });
      continue;
    }
    if (values.has(name)) {
      cx.diags.error("FLOW4004", opt.name.span, `\`${name}\` is given twice`, { notes: [{ message: "first given here", span: values.get(name)!.span }] });
      continue;
    }
    const v = optionValue(cx, opt, kind);
    if (v !== undefined) values.set(name, { value: v, span: opt.span });
  }
  return values;
}

function optionValue(cx: CheckContext, opt: A.PolicyOption, kind: OptionKind): unknown {
  const name = opt.name.name;
  const v = opt.value;
  const lit = v.kind === "OptionLiteral" ? v.literal : null;
  const sign = v.kind === "OptionLiteral" && v.negative ? -1 : 1;
  const found = v.kind === "OptionName" ? `\`${v.name}\`` : lit ? describeLiteral(lit, sign) : "?";
  const bad = (expected: string, hint?: string): undefined => {
    cx.diags.error("FLOW4002", v.span, `\`${name}\` expects ${expected}, found ${found}`, { hints: [hint] });
    return undefined;
  };
  const impossible = (why: string): undefined => {
    cx.diags.error("FLOW4003", v.span, `\`${name} ${found.replace(/`/g, "")}\` ${why}`);
    return undefined;
  };
  switch (kind.kind) {
    case "duration": {
      if (lit?.kind !== "Duration") return bad("a duration such as 10s", lit?.kind === "Int" ? `write a unit: \`${name} ${lit.text}s\` or \`${name} ${lit.text}ms\`` : undefined);
      const ms = sign * lit.ms;
      if (ms < kind.min || (ms === kind.min && !kind.minInclusive)) return impossible(kind.minInclusive ? "cannot be negative" : "must be longer than zero");
      return ms;
    }
    case "int": {
      if (lit?.kind !== "Int") return bad("an integer");
      const n = sign * lit.value;
      if (n < kind.min) return impossible(`must be at least ${kind.min}`);
      if (kind.max !== undefined && n > kind.max) return impossible(`must be at most ${kind.max}`);
      return n;
    }
    case "float": {
      if (lit?.kind !== "Int" && lit?.kind !== "Float") return bad("a number");
      const n = sign * lit.value;
      if (n < kind.min) return impossible(`must be at least ${kind.min}`);
      return n;
    }
    case "bool":
      return lit?.kind === "Bool" && sign === 1 ? lit.value : bad("true or false");
    case "string":
      return lit?.kind === "String" && sign === 1 ? lit.value : bad("a string");
    case "name": {
      const given = v.kind === "OptionName" ? v.name : lit?.kind === "String" ? lit.value : null;
      if (given !== null && kind.values.includes(given)) {
        if (v.kind !== "OptionName") return bad(`one of ${kind.values.join(", ")} (without quotes)`, `write \`${name} ${given}\``);
        return given;
      }
      return bad(`one of ${kind.values.join(", ")}`, given !== null ? didYouMean(given, kind.values) : undefined);
    }
  }
}

function describeLiteral(lit: A.Literal, sign: number): string {
  const minus = sign < 0 ? "-" : "";
  switch (lit.kind) {
    case "Int":
    case "Float":
    case "Duration":
      return `\`${minus}${lit.text}\``;
    case "String":
      return JSON.stringify(lit.value);
    case "Bool":
      return String(lit.value);
    case "Null":
      return "null";
  }
}
