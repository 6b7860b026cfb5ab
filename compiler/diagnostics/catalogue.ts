// The one catalogue of diagnostic codes. Codes are stable: a code, once released, keeps its
// meaning. FLOW1xxx syntax, 2xxx names, 3xxx types, 4xxx plan and policy, 5xxx runtime,
// 9xxx not supported yet. test/golden/errors/ holds one case per code.

export interface CatalogueEntry {
  /** A short name for the class of mistake. */
  title: string;
  /** What it means, in one or two sentences, for docs/errors.md. */
  summary: string;
}

export const catalogue = {
  FLOW1001: { title: "syntax error", summary: "The text does not follow the grammar at this point; the message says what was expected." },
  FLOW1002: { title: "invalid escape", summary: "A string holds a backslash escape that the language does not define." },
  FLOW1003: { title: "number out of range", summary: "An integer or duration literal is larger than the largest exact integer (2^53 - 1)." },

  FLOW2001: { title: "unknown name", summary: "A name is used that no declaration, parameter, local or state defines." },
  FLOW2002: { title: "duplicate name", summary: "Two declarations (or fields, parameters, states) share one name." },
  FLOW2003: { title: "unknown type", summary: "A type name is neither a built-in type nor a declared `type`." },
  FLOW2004: { title: "unknown function", summary: "A call names no built-in, `fn` helper or imported function." },
  FLOW2005: { title: "unknown stage", summary: "A pipeline stage name is not one of the stages of the language." },
  FLOW2006: { title: "unknown connector", summary: "A source or sink names a connector that does not exist, or exists only on the other side." },
  FLOW2007: { title: "unknown field", summary: "A record has no field of that name." },
  FLOW2008: { title: "cycle between streams", summary: "Streams are defined in terms of each other; a job graph must be acyclic." },
  FLOW2009: { title: "recursive function", summary: "`fn` helpers may not call themselves, directly or through other helpers." },
  FLOW2010: { title: "cannot import", summary: "An `import` names a file that does not exist or is not TypeScript, or a function the file does not export." },

  FLOW3001: { title: "type mismatch", summary: "An expression has a different type from the one its position needs." },
  FLOW3002: { title: "invalid operands", summary: "An operator is applied to types it does not accept." },
  FLOW3003: { title: "wrong number of arguments", summary: "A call passes more or fewer arguments than the function takes." },
  FLOW3004: { title: "value may be null", summary: "An optional value (`T?`) is used where a value is required; narrow it or give a default with `??`." },
  FLOW3005: { title: "not a function", summary: "A lambda or function was expected here, or something that is not a function is called." },
  FLOW3006: { title: "element outside an aggregate function", summary: "In `aggregate`, the element may only be used inside aggregate functions such as `sum(…)`." },
  FLOW3007: { title: "aggregate function out of place", summary: "Aggregate functions (`count`, `sum`, …) are only allowed directly in an `aggregate` stage." },
  FLOW3008: { title: "emit types disagree", summary: "All `emit` statements of a process block must produce the same type." },
  FLOW3009: { title: "cannot assign", summary: "Only state, map entries of state and locals declared with `let` can be assigned." },
  FLOW3010: { title: "process block never emits", summary: "A process block needs at least one `emit` so that its output has a type." },
  FLOW3011: { title: "invalid key", summary: "A key must be a primitive or a record of primitives." },
  FLOW3012: { title: "missing field", summary: "A record is missing a field its type requires." },
  FLOW3013: { title: "unsupported format for type", summary: "The chosen format cannot carry this type (csv needs a flat record of primitives)." },
  FLOW3014: { title: "statement has no effect", summary: "An expression used as a statement does nothing; only calls such as `list.push(x)` may stand alone." },
  FLOW3016: { title: "invalid join condition", summary: "A join's `on` condition must be equalities between a field of one side and a field of the other, joined with `and`." },
  FLOW3017: { title: "TypeScript function cannot be used", summary: "An imported function's parameters or result have no .flow type (any, Date, Promise, functions, unions other than T | null, …), or it is generic or overloaded." },
  FLOW3015: { title: "type cannot be compared", summary: "Only primitives (and their optionals) can be compared or used as min/max." },

  FLOW4001: { title: "unknown option", summary: "A `checkpoint` or `restart` block names an option it does not have." },
  FLOW4002: { title: "invalid option value", summary: "An option is given a value of the wrong kind or outside its allowed set." },
  FLOW4003: { title: "impossible option value", summary: "An option value is of the right kind but cannot work (a zero interval, a negative count)." },
  FLOW4004: { title: "duplicate option", summary: "An option is given twice in one block." },
  FLOW4005: { title: "source cannot replay", summary: "`mode exactly_once` needs every source to be replayable; this one (`stdin`) is not." },
  FLOW4006: { title: "uid needed", summary: "Two stateful stages would get the same uid; give one of them its own with `as name`." },
  FLOW4007: { title: "duplicate uid", summary: "Two stateful stages were given the same uid." },
  FLOW4008: { title: "invalid connector argument", summary: "A connector argument is unknown, missing, repeated or has the wrong type or value." },
  FLOW4009: { title: "stage needs a keyed stream", summary: "`process` works per key: put a `key_by` before it." },
  FLOW4010: { title: "invalid stage arguments", summary: "A stage is given the wrong arguments (a lambda of the wrong arity, an unknown named argument)." },
  FLOW4012: { title: "needs event time", summary: "Windows, timers, state ttl, interval joins and dedup work in event time; the stream's source needs `event_time(…) watermark …`." },
  FLOW4013: { title: "unbounded join", summary: "A join without `within` or a window keeps every element of both sides forever (a warning)." },
  FLOW4011: { title: "duplicate declaration in block", summary: "A process block declares `on timer` twice, or a state after statements that use it." },

  FLOW5001: { title: "bad input record", summary: "A record read by a source does not parse or does not match the declared type (`on_error: \"fail\"`)." },
  FLOW5002: { title: "cannot read input", summary: "A source's file cannot be opened or read." },
  FLOW5003: { title: "runtime error", summary: "An expression failed while the job ran (for example `%` by zero)." },
  FLOW5005: { title: "imported function failed", summary: "An imported TypeScript function threw, or returned a value that does not fit its declared type." },
  FLOW5004: { title: "cannot write output", summary: "A sink or dead-letter file cannot be written." },

  FLOW9001: { title: "not supported yet", summary: "The construct is part of the language but this version of flowc does not implement it yet." },
} as const satisfies Record<string, CatalogueEntry>;

export type Code = keyof typeof catalogue;
