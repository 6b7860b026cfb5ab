// The TextMate grammar of test files (editors/vscode/syntaxes/flow-test.tmLanguage.json), run
// by the engine VS Code uses (vscode-textmate with oniguruma), with the job grammar it takes
// values and comments from: every example's test file is tokenized and snapshotted as
// `token | scope` rows, a test's constructs get their scopes, and in a job `test`, `given`
// and `expect` stay ordinary names.

import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as oniguruma from "vscode-oniguruma";
import { INITIAL, parseRawGrammar, Registry, type IGrammar } from "vscode-textmate";
import { ROOT } from "./helpers.js";

const SYNTAXES = join(ROOT, "editors", "vscode", "syntaxes");
const FILES: Record<string, string> = { "source.flow": join(SYNTAXES, "flow.tmLanguage.json"), "source.flow.test": join(SYNTAXES, "flow-test.tmLanguage.json") };
let tests: IGrammar;
let jobs: IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(join(createRequire(import.meta.url).resolve("vscode-oniguruma"), "..", "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (FILES[scope] ? parseRawGrammar(readFileSync(FILES[scope]!, "utf8"), FILES[scope]) : null),
  });
  tests = (await registry.loadGrammar("source.flow.test"))!;
  jobs = (await registry.loadGrammar("source.flow"))!;
});

function tokens(grammar: IGrammar, text: string): { text: string; scope: string }[] {
  let state = INITIAL;
  const out: { text: string; scope: string }[] = [];
  for (const line of text.split("\n")) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim()) out.push({ text: s.trim(), scope: t.scopes[t.scopes.length - 1]! });
    }
    state = r.ruleStack;
  }
  return out;
}

describe("TextMate grammar of test files", () => {
  it("is registered for *.test.flow by the extension, with scopes that all end in .flow", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "editors", "vscode", "package.json"), "utf8")) as { contributes: { languages: { id: string; filenamePatterns?: string[] }[]; grammars: { language: string; scopeName: string; path: string }[] } };
    expect(manifest.contributes.languages).toContainEqual(expect.objectContaining({ id: "flow-test", filenamePatterns: ["*.test.flow"] }));
    expect(manifest.contributes.grammars).toContainEqual({ language: "flow-test", scopeName: "source.flow.test", path: "./syntaxes/flow-test.tmLanguage.json" });
    const raw = readFileSync(FILES["source.flow.test"]!, "utf8");
    const names = [...raw.matchAll(/"name": "([^"]+)"/g)].map((m) => m[1]!).filter((n) => n !== "flow test");
    for (const n of names) for (const scope of n.split(" ")) expect(scope, n).toMatch(/\.flow$/);
  });

  it("gives each construct of a test its scope, and records their job-file scopes", () => {
    const text = `// a comment
test "big orders" for "shop.flow" {
  given orders [{ id: 1, amount: 2.5, ts: "2024-05-01T12:00:00Z" }, restart]
  given more from "more.jsonl"
  expect big unordered [1, 2]
  expect state totals["ann"] { n: 2, m: { "new york": 1 } }
}
`;
    const t = tokens(tests, text);
    const scope = (token: string, nth = 0): string | undefined => t.filter((x) => x.text === token)[nth]?.scope;
    expect(scope("a comment")).toBe("comment.line.double-slash.flow");
    expect(scope("test")).toBe("keyword.declaration.test.flow");
    expect(scope('"big orders"')).toBe("entity.name.function.test.flow");
    expect(scope("for")).toBe("keyword.other.for.flow");
    expect(scope('"shop.flow"')).toBe("meta.path.job.flow");
    expect(scope("given")).toBe("keyword.other.given.flow");
    expect(scope("orders")).toBe("entity.name.type.stream.flow");
    expect(scope("id")).toBe("variable.other.property.key.flow");
    expect(scope("2.5")).toBe("constant.numeric.float.flow");
    expect(scope("restart")).toBe("keyword.control.restart.flow");
    expect(scope("from")).toBe("keyword.control.from.flow");
    expect(scope("expect")).toBe("keyword.other.expect.flow");
    expect(scope("big")).toBe("entity.name.type.stream.flow");
    expect(scope("unordered")).toBe("keyword.other.unordered.flow");
    expect(scope("state")).toBe("keyword.declaration.state.flow");
    expect(scope("totals")).toBe("entity.name.tag.uid.flow");
    expect(scope("n")).toBe("variable.other.property.key.flow");
    expect(t.filter((x) => x.text === "}").at(-1)!.scope).toBe("punctuation.definition.block.end.flow");
  });

  it("leaves test, given and expect ordinary names in a job", () => {
    const t = tokens(jobs, "job j\nsource given: int = values([1])\nlet expect = given |> map(test => test)\n");
    for (const word of ["given", "expect", "test"]) for (const x of t.filter((y) => y.text === word)) expect(x.scope, word).not.toMatch(/^keyword/);
  });

  const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".test.flow")).sort();
  it.each(examples)("tokenizes %s (snapshot of token | scope rows)", async (file) => {
    const rows = tokens(tests, readFileSync(join(ROOT, "dsl-examples", file), "utf8")).map((x) => `${x.text} | ${x.scope}`);
    await expect(rows.join("\n") + "\n").toMatchFileSnapshot(join(ROOT, "test", "snapshots", "tm", file.replace(/\.flow$/, ".txt")));
  });
});
