// `flowc types job.flow`: the TypeScript declaration of a job's shape for the JavaScript API
// (`loadJob<Shape>(…)`, testing/public.d.ts): each source's input records, each stream's
// records as the job writes them, and each stateful operator's key and states. Written from
// the checked program, so it says exactly what flowc knows of the job's types.

import type { CheckedProgram } from "../check/index.js";
import type { Uids } from "../plan.js";
import { accumulatorType } from "../plan.js";
import { T, type Type } from "../types.js";

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function prop(name: string): string {
  return IDENT.test(name) && name !== "__proto__" ? name : JSON.stringify(name);
}

/** `fraud_alert` -> `FraudAlertJob`. */
export function shapeName(job: string): string {
  return `${job.split("_").filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("")}Job`;
}

class Printer {
  /** Declared record types used as outputs, written as interfaces. */
  readonly named = new Map<string, Type>();

  constructor(private readonly declared: Map<string, Type>) {}

  /** A type as the job writes it (`input`: as a source takes it). */
  ts(t: Type, input = false): string {
    switch (t.kind) {
      case "prim":
        switch (t.name) {
          case "int":
          case "float":
            return "number";
          case "bool":
            return "boolean";
          case "string":
            return "string";
          case "timestamp":
          case "duration":
            return input ? "number | string" : "number";
        }
        break;
      case "optional":
        return `${this.ts(t.inner, input)} | null`;
      case "list": {
        const e = this.ts(t.elem, input);
        return /[|&]/.test(e) ? `(${e})[]` : `${e}[]`;
      }
      case "map":
        return `{ [key: string]: ${this.ts(t.value, input)} }`;
      case "record": {
        if (!input && t.name && this.declared.get(t.name) === t) {
          this.named.set(t.name, t);
          return t.name;
        }
        if (t.fields.length === 0) return "{}";
        return `{ ${t.fields.map((f) => `${prop(f.name)}${input && f.type.kind === "optional" ? "?" : ""}: ${this.ts(f.type, input)}`).join("; ")} }`;
      }
      default:
        return "unknown";
    }
    return "unknown";
  }
}

/** The declaration text for a checked job. */
export function jobTypesText(checked: CheckedProgram, uids: Uids, shown: string): string {
  const p = new Printer(checked.types);
  const sources = checked.sources.map((s) => `    ${prop(s.name)}: ${p.ts(s.type, true)};`);
  const streams = [
    ...checked.sources.map((s) => `    ${prop(s.name)}: ${p.ts(s.type)};`),
    ...checked.lets.map((l) => `    ${prop(l.name)}: ${p.ts(l.output.elem)};`),
    ...[...checked.lets, ...checked.sinks].flatMap((x) => x.stages.flatMap((st) => (st.kind === "window" && st.window.late ? [`    ${prop(st.window.late)}: ${p.ts(st.input.elem)};`] : []))),
  ];
  const state: string[] = [];
  for (const [st, uid] of uids) {
    if ("leftAlias" in st) continue;
    let states: { name: string; type: Type }[];
    if (st.kind === "process") states = st.states.map((s) => ({ name: s.name, type: s.type }));
    else if (st.kind === "reduce") states = [{ name: "acc", type: T.optional(st.input.elem) }];
    else if (st.kind === "aggregate" && !st.window) states = st.aggs.map((a) => ({ name: a.stateName, type: accumulatorType(a) }));
    else continue;
    const key = st.input.key ? p.ts(st.input.key) : "undefined";
    state.push(`    ${prop(uid)}: { key: ${key}; value: { ${states.map((s) => `${prop(s.name)}: ${p.ts(s.type)}`).join("; ")} } };`);
  }
  const name = shapeName(checked.job);
  // Declared record types, each as an interface (printing one may name more).
  const interfaces: string[] = [];
  const written = new Set<string>();
  for (let more = true; more; ) {
    more = false;
    for (const [n, t] of [...p.named]) {
      if (written.has(n) || t.kind !== "record") continue;
      written.add(n);
      more = true;
      interfaces.push(`export interface ${n} {\n${t.fields.map((f) => `  ${prop(f.name)}: ${p.ts(f.type)};\n`).join("")}}\n`);
    }
  }
  return [
    `// The shape of job ${checked.job} (${shown}) for flowc/testing: loadJob<${name}>("${shown}").`,
    "// Written by `flowc types`; write it again when the job changes.",
    'import type { JobShape } from "flowc/testing";',
    "",
    ...interfaces,
    `export interface ${name} extends JobShape {`,
    "  sources: {",
    ...sources,
    "  };",
    "  streams: {",
    ...streams,
    "  };",
    "  state: {",
    ...state,
    "  };",
    "}",
    "",
  ].join("\n");
}
