// The operator of a windowed aggregate: sessions (window.ts), or tumbling and sliding
// windows (fixed.ts).

import type { EmitFn, StateObject, WindowAggregateCode, WindowSpec } from "../api.js";
import type { OperatorFactories } from "../operator.js";
import { FixedWindowOperator } from "./fixed.js";
import { SessionWindowOperator, type WindowAggregate } from "./window.js";

export const factory: NonNullable<OperatorFactories["window"]> = <S extends StateObject>(uid: string, spec: WindowSpec, agg: WindowAggregateCode<S>, emit: EmitFn, late: EmitFn | null) => {
  // The generated functions take typed elements and keys; the operator passes them on as it got them.
  const code = agg as unknown as WindowAggregate<S>;
  return spec.kind === "session" ? new SessionWindowOperator<S>(uid, spec, code, emit, late) : new FixedWindowOperator<S>(uid, spec, code, emit, late);
};
