// The one catalogue of diagnostic codes. Codes are stable: a code, once released, keeps its
// meaning. FLOW1xxx syntax, 2xxx names, 3xxx types, 4xxx plan and policy, 5xxx runtime,
// 9xxx not supported yet. test/golden/errors/ holds one case per code.

export interface CatalogueEntry {
  /** A short name for the class of mistake. */
  title: string;
  /** What it means, in one or two sentences, for docs/errors.md. */
  summary: string;
  /** How to fix it, for docs/errors.md. */
  fix: string;
}

export const catalogue = {
  FLOW1001: { title: "syntax error", summary: "The text does not follow the grammar at this point; the message says what was expected.", fix: "Look at the place the caret points to: a missing bracket, comma or `|>`, a keyword used as a name, or `=` where `==` was meant. A note points at an unclosed bracket when that is the cause." },
  FLOW1002: { title: "invalid escape", summary: "A string holds a backslash escape that the language does not define.", fix: "Use one of `\\n \\t \\r \\\" \\\\ \\u{…}`; write `\\\\` for a backslash." },
  FLOW1003: { title: "number out of range", summary: "An integer or duration literal is larger than the largest exact integer (2^53 - 1), or a float literal is too large to be a finite number (above about 1.8e308).", fix: "Use a smaller number, or a float if an inexact value is fine." },
  FLOW1004: { title: "nesting too deep", summary: "The program nests deeper than flowc takes: more than 1000 brackets, more than 800 levels of expressions and statements (each `else if` branch is one level), or a type with more than 16 levels of records, lists, maps and optionals inside each other.", fix: "Split the deep part up: compute parts in `fn` helpers or in `let`s of a process block, replace a long `else if` chain by a lookup in a map, or flatten deeply nested data." },

  FLOW2001: { title: "unknown name", summary: "A name is used that no declaration, parameter, local or state defines.", fix: "Fix the spelling (the hint suggests the closest name), declare the name, or move the code where the name is visible (`key` after `key_by`, `window` in a windowed aggregate)." },
  FLOW2002: { title: "duplicate name", summary: "Two declarations (or fields, parameters, states) share one name.", fix: "Rename one of the two declarations." },
  FLOW2003: { title: "unknown type", summary: "A type name is neither a built-in type nor a declared `type`.", fix: "Use a built-in type (`int`, `float`, `bool`, `string`, `timestamp`, `duration`) or declare the type with `type Name = { … }`." },
  FLOW2004: { title: "unknown function", summary: "A call names no built-in, `fn` helper or imported function.", fix: "Fix the spelling, or declare the function with `fn` or import it from a TypeScript file." },
  FLOW2005: { title: "unknown stage", summary: "A pipeline stage name is not one of the stages of the language.", fix: "Use one of the stages: filter, map, flat_map, key_by, window, aggregate, reduce, process, union, dedup." },
  FLOW2006: { title: "unknown connector", summary: "A source or sink names a connector that does not exist, or exists only on the other side.", fix: "Use a source connector (values, sequence, file, stdin, nexmark and its one-kind variants) after `source … =`, and a sink connector (stdout, file) after `->`." },
  FLOW2007: { title: "unknown field", summary: "A record has no field of that name.", fix: "Use a field the record has (the hint lists them), or add the field to its type." },
  FLOW2008: { title: "cycle between streams", summary: "Streams are defined in terms of each other; a job graph must be acyclic.", fix: "Break the cycle: a stream must be built from sources and streams that do not depend on it." },
  FLOW2009: { title: "recursive function", summary: "`fn` helpers may not call themselves, directly or through other helpers.", fix: "Write the helper without calling itself (helpers are not recursive), or compute the value in a process block." },
  FLOW2010: { title: "cannot import", summary: "An `import` names a file that does not exist or is not TypeScript, or a function the file does not export.", fix: "Check the path (relative to the .flow file, with its `.ts` extension) and the exported name." },

  FLOW3001: { title: "type mismatch", summary: "An expression has a different type from the one its position needs.", fix: "Change the expression to produce the expected type, or convert it (`to_string`, `parse_int`, `round`, a comparison for bool)." },
  FLOW3002: { title: "invalid operands", summary: "An operator is applied to types it does not accept.", fix: "Convert one side so that the operator applies (`to_string(n)` to join text; a duration with a unit for time arithmetic)." },
  FLOW3003: { title: "wrong number of arguments", summary: "A call passes more or fewer arguments than the function takes.", fix: "Pass the number of arguments the function takes (the hint shows its signature)." },
  FLOW3004: { title: "value may be null", summary: "An optional value (`T?`) is used where a value is required; narrow it or give a default with `??`.", fix: "Give a default with `x ?? default`, check it first with `if x != null { … }`, or read a field with `x?.field`." },
  FLOW3005: { title: "not a function", summary: "A lambda or function was expected here, or something that is not a function is called.", fix: "Call functions by name with arguments, `f(x)`; lambdas go only in stage arguments such as `map(x => …)`." },
  FLOW3006: { title: "element outside an aggregate function", summary: "In `aggregate`, the element may only be used inside aggregate functions such as `sum(…)`.", fix: "Wrap the element in an aggregate function (`last(x.page)`, `collect(x.page)`), or group by it with `key_by` and use `key`." },
  FLOW3007: { title: "aggregate function out of place", summary: "Aggregate functions (`count`, `sum`, …) are only allowed directly in an `aggregate` stage.", fix: "Use aggregate functions only directly inside `aggregate(x => …)`, one level deep; outside, `min` and `max` take two values." },
  FLOW3008: { title: "emit types disagree", summary: "All `emit` statements of a process block must produce the same type.", fix: "Make every `emit` of the block produce the same type (the same record fields)." },
  FLOW3009: { title: "cannot assign", summary: "Only state, map entries of state and locals declared with `let` can be assigned.", fix: "Assign only `state`, entries of a map state (`m[k] = v`) and locals declared with `let`." },
  FLOW3010: { title: "process block never emits", summary: "A process block needs at least one `emit` so that its output has a type.", fix: "Add `emit <value>` where the block should produce output." },
  FLOW3011: { title: "invalid key", summary: "A key must be a primitive or a record of primitives.", fix: "Key by a primitive field or a record of primitive fields, e.g. `key_by(x => { a: x.a, b: x.b })`; give optional keys a default." },
  FLOW3012: { title: "missing field", summary: "A record is missing a field its type requires.", fix: "Add the missing fields, or make them optional (`T?`) in the type." },
  FLOW3013: { title: "unsupported format for type", summary: "The chosen format cannot carry this type (csv needs a flat record of primitives).", fix: "Use format \"jsonl\" for nested data, or map to a flat record before a csv sink; format \"text\" reads `string` lines." },
  FLOW3014: { title: "statement has no effect", summary: "An expression used as a statement does nothing; only calls such as `list.push(x)` may stand alone.", fix: "Use the value: `emit` it, keep it with `let`, or assign it with `=`." },
  FLOW3016: { title: "invalid join condition", summary: "A join's `on` condition must be equalities between a field of one side and a field of the other, joined with `and`.", fix: "Write the condition as equalities `a.field == b.field`, joined with `and`; filter the joined stream for anything else." },
  FLOW3017: { title: "TypeScript function cannot be used", summary: "An imported function's parameters or result have no .flow type (any, Date, Promise, functions, unions other than T | null, …), or it is generic or overloaded.", fix: "Give the function parameters and a result of number, string, boolean, `T | null`, arrays or plain objects; no overloads, generics or async." },
  FLOW3015: { title: "type cannot be compared", summary: "Only primitives (and their optionals) can be compared or used as min/max.", fix: "Compare primitive values (or fields of records); `==` and `!=` compare records and lists by content." },

  FLOW4001: { title: "unknown option", summary: "A `checkpoint` or `restart` block names an option it does not have.", fix: "Fix the option's name (the hint suggests the closest); the hint lists the block's options." },
  FLOW4002: { title: "invalid option value", summary: "An option is given a value of the wrong kind or outside its allowed set.", fix: "Give the option a value of its kind: a duration with a unit (`10s`), an integer, `true`/`false`, a string, or one of the listed names." },
  FLOW4003: { title: "impossible option value", summary: "An option value is of the right kind but cannot work (a zero interval, a negative count).", fix: "Use a value that can work: intervals longer than zero, counts of at least one." },
  FLOW4004: { title: "duplicate option", summary: "An option is given twice in one block.", fix: "Keep one of the two lines." },
  FLOW4005: { title: "source cannot replay", summary: "`mode exactly_once` needs every source to be replayable; this one (`stdin`) is not.", fix: "Use `mode at_least_once`, or read the input from a replayable source such as `file(…)`." },
  FLOW4006: { title: "uid needed", summary: "Two stateful stages would get the same uid; give one of them its own with `as name`.", fix: "Give the second stateful stage its own uid with `as name`, or split the pipeline into two `let`s." },
  FLOW4007: { title: "duplicate uid", summary: "Two stateful stages were given the same uid.", fix: "Give each stateful stage a different uid." },
  FLOW4008: { title: "invalid connector argument", summary: "A connector argument is unknown, missing, repeated or has the wrong type or value.", fix: "Fix the argument's name or value (the hint lists the connector's arguments and allowed values)." },
  FLOW4009: { title: "stage needs a keyed stream", summary: "`process` works per key: put a `key_by` before it.", fix: "Put `|> key_by(x => …)` before the stage." },
  FLOW4010: { title: "invalid stage arguments", summary: "A stage is given the wrong arguments (a lambda of the wrong arity, an unknown named argument).", fix: "Pass the arguments the stage takes: one lambda for filter, map, flat_map, key_by, aggregate; `(acc, x) => …` for reduce; a window spec for window." },
  FLOW4012: { title: "needs event time", summary: "Windows, timers, state ttl, interval joins and dedup work in event time; the stream's source needs `event_time(…) watermark …`.", fix: "Declare event time on the source: `source s: T = file(…) event_time(x => x.ts) watermark 5s`." },
  FLOW4013: { title: "unbounded join", summary: "A join without `within` or a window keeps every element of both sides forever (a warning).", fix: "Bound the join with `within <duration>` or a window, so that its state can be freed." },
  FLOW4011: { title: "duplicate declaration in block", summary: "A process block declares `on timer` twice, or a state after statements that use it.", fix: "Keep one `on timer` block per process block." },

  FLOW5001: { title: "bad input record", summary: "A record read by a source does not parse or does not match the declared type (`on_error: \"fail\"`).", fix: "Fix the record in the input (the message names its line and field), or choose `on_error: \"skip\"` or `\"dead_letter\"` on the source." },
  FLOW5002: { title: "cannot read input", summary: "A source's file cannot be opened or read.", fix: "Check the path: it is resolved against the folder the job runs in." },
  FLOW5003: { title: "runtime error", summary: "An expression failed while the job ran (for example `%` by zero).", fix: "Guard the expression, e.g. `if d != 0 then n % d else 0`." },
  FLOW5005: { title: "imported function failed", summary: "An imported TypeScript function threw, or returned a value that does not fit its declared type.", fix: "Fix the function, or guard its input; run the job with `--log-level debug` (and `node --enable-source-maps`) to see where it failed." },
  FLOW5006: { title: "checkpoint of another job", summary: "The checkpoint folder holds a checkpoint taken by a different version of the job (other operators or state); it is not loaded.", fix: "Start from the beginning with `--fresh`, use another `--checkpoint-dir`, or carry state across versions with a savepoint." },
  FLOW5007: { title: "savepoint state not restored", summary: "Starting from a savepoint, some of its state has no place in this job: an operator's uid or a state's name changed, the operator or state was removed, or a source was renamed or reads another input. The job refuses to start rather than lose that state; the message names each uid and state.", fix: "Keep the operator's old uid with `as old_uid` (and the state's name), or start with `--allow-non-restored-state` to drop that state. `flowc check job.flow --against-savepoint <dir>` shows the mapping before you deploy." },
  FLOW5008: { title: "savepoint state does not fit", summary: "A state in the savepoint has a type this job cannot take over (both types are named): a changed key type, a state of another type, or a record that gained a field that is not optional. A window, join or dedup restores only when unchanged.", fix: "Keep the state's type (a record may gain optional fields and lose fields; a value may become optional), or give the changed operator a new uid (`as new_uid`) and start it empty with `--allow-non-restored-state`." },
  FLOW5009: { title: "cannot read savepoint", summary: "The folder given to `--from-savepoint` is not a complete savepoint (no `_savepoint.json`), was taken by another job, or its files do not match their checksums.", fix: "Give the savepoint's own folder (the path `flowc savepoint` printed); `flowc savepoint inspect <dir>` reads it." },
  FLOW5004: { title: "cannot write output", summary: "A sink or dead-letter file cannot be written.", fix: "Check that the output path is a file in a writable folder, with space left." },

  FLOW9001: { title: "not supported yet", summary: "The construct is part of the language but this version of flowc does not implement it yet.", fix: "Leave the construct out for now; the message says what the job can do instead where there is an alternative." },
} as const satisfies Record<string, CatalogueEntry>;

export type Code = keyof typeof catalogue;
