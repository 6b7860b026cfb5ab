// Scopes: the names an expression sees (lambda parameters, locals, states, `key`), the null
// checks that narrow `T?` to `T` there, and where aggregate functions may be called.

import type * as A from "../ast.js";
import type { Type } from "../types.js";
import { newBindingId, type CheckContext } from "./context.js";
import type { AggCall, Binding, KeyBinding, StreamType } from "./model.js";

/** `top`: in an aggregate's result (aggregate functions allowed); `arg`: inside one's argument. */
export type AggMode = "none" | "top" | "arg";

/** An aggregate function call before the stage names its accumulator. */
export type PendingAgg = Omit<AggCall, "stateName">;

export interface ProcessCtx {
  emits: { type: Type; span: A.Span }[];
  /** Whether the block's input has event time (timers need it). */
  time: boolean;
}

export class Scope {
  readonly vars = new Map<string, Binding>();
  /** Narrowed types by path ("12" or "12.field"); null = narrowing undone here. */
  readonly narrow = new Map<string, Type | null>();
  aggMode: AggMode;
  aggCalls: PendingAgg[] | null;
  aggElement: Binding | null;
  /** The aggregate's result, when it is a record literal: its fields name the accumulators. */
  aggRecord: A.Expr | null;
  /** The field of that record being checked. */
  aggField: string | null;
  process: ProcessCtx | null;
  /** In the aggregate of a count window: `window` names nothing (FLOW3018). */
  countWindow: boolean;

  constructor(readonly parent: Scope | null) {
    this.aggMode = parent?.aggMode ?? "none";
    this.aggCalls = parent?.aggCalls ?? null;
    this.aggElement = parent?.aggElement ?? null;
    this.aggRecord = parent?.aggRecord ?? null;
    this.aggField = parent?.aggField ?? null;
    this.process = parent?.process ?? null;
    this.countWindow = parent?.countWindow ?? false;
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
    }
    return undefined;
  }

  narrowed(path: string): Type | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.narrow.has(path)) return s.narrow.get(path) ?? undefined;
    }
    return undefined;
  }

  visibleNames(): string[] {
    const names: string[] = [];
    for (let s: Scope | null = this; s; s = s.parent) names.push(...s.vars.keys());
    return names;
  }

  /** The bindings seen here, innermost first, without the ones shadowed. */
  visibleBindings(): Binding[] {
    const seen = new Map<string, Binding>();
    for (let s: Scope | null = this; s; s = s.parent) for (const [name, b] of s.vars) if (!seen.has(name)) seen.set(name, b);
    return [...seen.values()];
  }

  child(): Scope {
    return new Scope(this);
  }
}

/** The scope a stage's lambda sees, with `key` when the stream is keyed. */
export function stageScope(cx: CheckContext, input: StreamType): { scope: Scope; key: KeyBinding | null } {
  const scope = new Scope(null);
  const key: KeyBinding | null = input.key ? { kind: "key", id: newBindingId(cx), name: "key", type: input.key } : null;
  if (key) scope.vars.set("key", key);
  return { scope, key };
}
