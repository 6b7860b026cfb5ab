// The grammar's own examples: every `//+` line must match its rule and every `//-` line
// must not; every rule of flow.ohm carries at least one example.

import * as ohm from "ohm-js";
import { extractExamples } from "ohm-js/extras";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

const source = readFileSync(join(ROOT, "compiler", "grammar", "flow.ohm"), "utf8");
const grammar = ohm.grammar(source);
const examples = extractExamples(source);

/**
 * Rules defined (not extended) in flow.ohm. Parameterized rules (kw<w>, ctx<w>, CommaList<e>)
 * cannot be matched on their own: the examples of the rules that apply them cover them.
 */
const defined = [...source.matchAll(/^\s{2}([A-Za-z_]\w*)(<[^>]*>)?\s*(?:\([^)]*\))?\s*\n?\s*=(?!=)/gm)].filter((m) => !m[2]).map((m) => m[1]!);

describe("grammar examples in flow.ohm", () => {
  it("has examples to check", () => {
    expect(examples.length).toBeGreaterThan(300);
    expect(defined.length).toBeGreaterThan(60);
  });

  it.each(defined)("rule %s has at least one example that must match", (rule) => {
    expect(examples.some((e) => e.rule === rule && e.shouldMatch)).toBe(true);
  });

  for (const ex of examples) {
    const verb = ex.shouldMatch ? "matches" : "rejects";
    it(`${ex.rule} ${verb} ${JSON.stringify(ex.example)}`, () => {
      const m = grammar.match(ex.example, ex.rule);
      expect(m.succeeded(), m.failed() ? m.shortMessage : "matched").toBe(ex.shouldMatch);
    });
  }
});

// The grammar of test files extends flow.ohm: its own rules carry examples too, matched by
// the extended grammar (which holds flow.ohm's rules as they are).
const testSource = readFileSync(join(ROOT, "compiler", "grammar", "flow-test.ohm"), "utf8");
const testGrammar = ohm.grammar(testSource, ohm.grammars(source));
const testExamples = extractExamples(testSource);
const testDefined = [...testSource.matchAll(/^\s{2}([A-Za-z_]\w*)\s*(\+?=)(?!=)/gm)].map((m) => m[1]!);

describe("grammar examples in flow-test.ohm", () => {
  it("has examples to check, and names the job's keywords only in its own rules", () => {
    expect(testExamples.length).toBeGreaterThan(40);
    // `test`, `given`, `expect`, `unordered` stay ordinary names in jobs: flow.ohm does not reserve them.
    for (const word of ["test", "given", "expect", "unordered"]) expect(grammar.match(`job j\nlet ${word} = x\nsink ${word} -> stdout()`).succeeded(), word).toBe(true);
  });

  it.each(testDefined)("rule %s has at least one example that must match", (rule) => {
    expect(testExamples.some((e) => e.rule === rule && e.shouldMatch)).toBe(true);
  });

  for (const ex of testExamples) {
    const verb = ex.shouldMatch ? "matches" : "rejects";
    it(`${ex.rule} ${verb} ${JSON.stringify(ex.example)}`, () => {
      const m = testGrammar.match(ex.example, ex.rule);
      expect(m.succeeded(), m.failed() ? m.shortMessage : "matched").toBe(ex.shouldMatch);
    });
  }
});
