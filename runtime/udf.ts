// Calls into imported TypeScript functions (section 8): their results are checked against
// the declared .flow type at run time (TypeScript types can be bypassed), and what they
// throw becomes a runtime error naming the function and the import. No Node APIs here.

import type { TypeDesc } from "./api.js";
import { jsonConverter } from "./convert.js";
import { ConversionError } from "./errors.js";
import { FlowRuntimeError } from "./lib.js";

/** A checker for an imported function's result: returns the value as a .flow value. */
export function importResult(fn: string, type: TypeDesc, location: string): (value: unknown) => unknown {
  const convert = jsonConverter(type, false);
  return (value) => {
    try {
      return convert(value, "");
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      throw new FlowRuntimeError(`imported function \`${fn}\` returned a value that does not fit its type${e.path ? ` (at ${e.path})` : ""}: ${e.problem}`, location, "FLOW5005");
    }
  };
}

/** What an imported function threw, as a runtime error. */
export function importFailed(fn: string, location: string, thrown: unknown): FlowRuntimeError {
  const message = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
  const err = new FlowRuntimeError(`imported function \`${fn}\` threw ${message}`, location, "FLOW5005");
  if (thrown instanceof Error && thrown.stack) err.userStack = thrown.stack;
  return err;
}
