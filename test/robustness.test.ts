// No input makes the front end throw: mutated examples (characters deleted, inserted,
// swapped; lines dropped or duplicated) always come back as diagnostics.

import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frontEnd } from "../compiler/compile.js";
import { emit } from "../compiler/emit.js";
import { plan } from "../compiler/plan.js";
import { renderDiagnostics } from "../compiler/diagnostics/render.js";
import { ROOT } from "./helpers.js";

const sources = [
  ...readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow") && !f.endsWith(".test.flow")).map((f) => readFileSync(join(ROOT, "dsl-examples", f), "utf8")),
  ...readdirSync(join(ROOT, "test", "golden", "errors")).filter((f) => f.endsWith(".flow")).map((f) => readFileSync(join(ROOT, "test", "golden", "errors", f), "utf8")),
];

const PIECES = ["{", "}", "(", ")", "[", "]", ",", ":", "|>", "=>", "->", "?", "??", "?.", ".", "=", "+=", "null", "key", "window.end", "emit x", "state s: int = 0", '"', "0", "1.5", "10s", "and", "not", "if", "then", "else", "let", "sink", "source", "process(x)", "aggregate(x => count())", "\n", " "];

type Mutation = { at: number; kind: "delete" | "insert" | "dropLine" | "dupLine" | "swap"; len: number; piece: number };

function mutate(text: string, muts: Mutation[]): string {
  let t = text;
  for (const m of muts) {
    const at = t.length ? m.at % t.length : 0;
    switch (m.kind) {
      case "delete":
        t = t.slice(0, at) + t.slice(at + m.len);
        break;
      case "insert":
        t = t.slice(0, at) + PIECES[m.piece % PIECES.length] + t.slice(at);
        break;
      case "swap": {
        const b = Math.min(t.length, at + m.len);
        t = t.slice(0, at) + t.slice(at, b).split("").reverse().join("") + t.slice(b);
        break;
      }
      case "dropLine":
      case "dupLine": {
        const lines = t.split("\n");
        const i = m.at % lines.length;
        if (m.kind === "dropLine") lines.splice(i, 1);
        else lines.splice(i, 0, lines[i]!);
        t = lines.join("\n");
        break;
      }
    }
  }
  return t;
}

const mutation = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("delete", "insert", "dropLine", "dupLine", "swap"),
  len: fc.integer({ min: 1, max: 12 }),
  piece: fc.nat(),
}) as fc.Arbitrary<Mutation>;

describe("robustness", () => {
  it("check returns diagnostics, never throws, for mutated programs", () => {
    fc.assert(
      fc.property(fc.nat({ max: sources.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, muts) => {
        const text = mutate(sources[which]!, muts);
        const fe = frontEnd(text, "mutant.flow");
        const rendered = renderDiagnostics(fe.diagnostics, () => fe.source);
        expect(typeof rendered).toBe("string");
        for (const d of fe.diagnostics) {
          expect(d.span.line).toBeGreaterThanOrEqual(1);
          expect(d.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: Number(process.env.FLOWC_FC_RUNS ?? 300), seed: process.env.FLOWC_FC_SEED ? Number(process.env.FLOWC_FC_SEED) : undefined },
    );
  });

  it("mutated programs that check cleanly also plan and emit type-correct code", async () => {
    let compiled = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: sources.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 2 }), async (which, muts) => {
        const fe = frontEnd(mutate(sources[which]!, muts), "mutant.flow");
        if (!fe.ok || !fe.checked) return;
        compiled++;
        // emit type-checks the generated module and throws if it is wrong.
        const r = await emit(plan(fe.checked, "mutant.flow"), { sourceName: "mutant.flow", version: "test" });
        expect(r.code).toMatch(/export function build/);
      }),
      { numRuns: Number(process.env.FLOWC_FC_RUNS ?? 150) },
    );
    expect(compiled).toBeGreaterThan(0);
  });
});
