// The TextMate grammar of editors/vscode, run by the same engine VS Code uses
// (vscode-textmate with the oniguruma regex library): every example is tokenized and its
// `token | scope` rows are snapshotted; every keyword of flow.ohm is highlighted as one; and
// a small program gets the scopes its constructs should have.

import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as oniguruma from "vscode-oniguruma";
import { INITIAL, parseRawGrammar, Registry, type IGrammar } from "vscode-textmate";
import { ROOT } from "./helpers.js";

const GRAMMAR = join(ROOT, "editors", "vscode", "syntaxes", "flow.tmLanguage.json");
let grammar: IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(join(createRequire(import.meta.url).resolve("vscode-oniguruma"), "..", "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === "source.flow" ? parseRawGrammar(readFileSync(GRAMMAR, "utf8"), GRAMMAR) : null),
  });
  grammar = (await registry.loadGrammar("source.flow"))!;
});

/** Each non-blank token of the text with its innermost scope. */
function tokens(text: string): { text: string; scope: string; scopes: string[] }[] {
  let state = INITIAL;
  const out: { text: string; scope: string; scopes: string[] }[] = [];
  for (const line of text.split("\n")) {
    const r = grammar.tokenizeLine(line, state);
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim()) out.push({ text: s.trim(), scope: t.scopes[t.scopes.length - 1]!, scopes: t.scopes });
    }
    state = r.ruleStack;
  }
  return out;
}

const scopeOf = (text: string, token: string): string | undefined => tokens(text).find((t) => t.text === token)?.scope;

describe("TextMate grammar", () => {
  it("has a $schema line, the scope source.flow, and scopes that all end in .flow", () => {
    const raw = readFileSync(GRAMMAR, "utf8");
    expect(raw.split("\n")[1]).toMatch(/^\s+"\$schema": "https:\/\/.*tmlanguage\.json",$/);
    const json = JSON.parse(raw) as { scopeName: string };
    expect(json.scopeName).toBe("source.flow");
    const names = [...raw.matchAll(/"name": "([^"]+)"/g)].map((m) => m[1]!).filter((n) => n !== "flow");
    expect(names.length).toBeGreaterThan(40);
    for (const n of names) expect(n, n).toMatch(/\.flow$/);
  });

  it("highlights every keyword of flow.ohm as a keyword", () => {
    const ohm = readFileSync(join(ROOT, "compiler", "grammar", "flow.ohm"), "utf8");
    const rule = /keyword = \(([^)]*)\) ~identPart/.exec(ohm)![1]!;
    const keywords = [...rule.matchAll(/"(\w+)"/g)].map((m) => m[1]!);
    expect(keywords).toContain("checkpoint");
    expect(keywords.length).toBeGreaterThanOrEqual(34);
    for (const k of keywords) expect(scopeOf(k, k), k).toMatch(/^(keyword|constant\.language)(\.[\w-]+)*\.flow$/);
  });

  it("gives each construct its scope", () => {
    const text = `job demo // the job
/* block */
type Bid = { auction: int, price: float?, tags: list<string> }
fn cents(p: float): int = round(p * 100.0)
source bids: Bid = file("bids.jsonl", format: "jsonl") event_time(b => b.ts) watermark 5s
let hot = bids
  |> key_by(b => b.auction)
  |> window(sliding(10s, every: 2s))
  |> aggregate(b => { auction: key, n: count(), end: window.end })
let q = join hot as h, bids as b on h.auction == b.auction within 1h select { a: h.n ?? 0 }
sink q -> stdout(format: "csv")
`;
    const t = (token: string) => scopeOf(text, token);
    expect(t("the job")).toBe("comment.line.double-slash.flow");
    expect(t("//")).toBe("punctuation.definition.comment.flow");
    expect(t("block")).toBe("comment.block.flow");
    expect(t("job")).toBe("keyword.declaration.job.flow");
    expect(tokens(text).find((x) => x.text === "job")!.scopes).toContain("storage.type.job.flow");
    expect(t("demo")).toBe("entity.name.type.job.flow");
    expect(t("Bid")).toBe("entity.name.type.flow");
    expect(t("cents")).toBe("entity.name.type.function.flow");
    expect(t("hot")).toBe("entity.name.type.stream.flow");
    expect(t("int")).toBe("support.type.builtin.flow");
    expect(t("list")).toBe("support.type.builtin.flow");
    expect(t("5s")).toBe("constant.numeric.duration.flow");
    expect(t("100.0")).toBe("constant.numeric.float.flow");
    expect(t("1h")).toBe("constant.numeric.duration.flow");
    expect(t("|>")).toBe("keyword.operator.pipe.flow");
    expect(t("=>")).toBe("keyword.operator.arrow.flow");
    expect(t("->")).toBe("keyword.operator.sink.flow");
    expect(t("??")).toBe("keyword.operator.coalescing.flow");
    expect(t("key_by")).toBe("support.function.stage.flow");
    expect(t("aggregate")).toBe("support.function.stage.flow");
    expect(t("sliding")).toBe("support.function.window.flow");
    expect(t("file")).toBe("support.function.connector.flow");
    expect(t("stdout")).toBe("support.function.connector.flow");
    expect(t("count")).toBe("support.function.builtin.flow");
    expect(t("auction")).toBe("variable.other.property.key.flow");
    expect(t("every")).toBe("variable.parameter.named.flow");
    expect(t("within")).toBe("keyword.other.flow");
    expect(t("watermark")).toBe("keyword.other.event-time.flow");
    expect(t("key")).toBe("variable.language.key.flow");
    const strings = tokens('let s = "a\\n\\u{1F600}\\q"');
    expect(strings.map((x) => `${x.text} | ${x.scope}`)).toEqual([
      "let | keyword.declaration.let.flow",
      "s | entity.name.type.stream.flow",
      "= | keyword.operator.assignment.flow",
      '" | punctuation.definition.string.begin.flow',
      "a | string.quoted.double.flow",
      "\\n | constant.character.escape.flow",
      "\\u{1F600} | constant.character.escape.flow",
      "\\q | invalid.illegal.escape.flow",
      '" | punctuation.definition.string.end.flow',
    ]);
    expect(scopeOf("let x = true ?? null", "true")).toBe("constant.language.boolean.flow");
    expect(scopeOf("let x = true ?? null", "null")).toBe("constant.language.null.flow");
  });

  it("scopes the state block like the policy blocks: its options as options, `disk` as an option's value; `state` in a process block stays a declaration", () => {
    const text = `state {
  backend disk
  dir "./state"
  cache 100000
}`;
    const rows = tokens(text).map((t) => `${t.text} | ${t.scope}`);
    expect(rows).toEqual(expect.arrayContaining(["state | keyword.declaration.state.flow", "backend | variable.other.option.flow", "disk | constant.other.option-value.flow", "cache | variable.other.option.flow"]));
    expect(scopeOf("  |> process(x) {\n    state n: int = 0", "n")).not.toBe("variable.other.option.flow");
  });

  it("highlights every built-in function of compiler/builtins.ts, the math functions included", async () => {
    const { AGGREGATES, BUILTINS } = await import("../compiler/builtins.js");
    for (const f of [...BUILTINS, ...AGGREGATES]) expect(scopeOf(`let x = ${f}(y)`, f), f).toBe("support.function.builtin.flow");
    expect(scopeOf("let x = sqrt(pow(a, 2))", "pow")).toBe("support.function.builtin.flow");
    // A name that is only a math function's prefix is not one.
    expect(scopeOf("let x = lnx(1)", "lnx")).toBe("entity.name.function.call.flow");
  });

  it("scopes v0.2's joins and count windows: `?` on a side, `as of`, `count(n)` as a window", () => {
    const text = `let j = join orders as o, customers? as c on o.cust == c.id as of o select { n: c?.name }
let w = xs |> window(count(100, every: 10)) |> aggregate(x => { n: count() })
let k = join a as of, b as y on of.k == y.k within 1s select { k: of.k }`;
    const rows = tokens(text).map((t) => `${t.text} | ${t.scope}`);
    expect(rows).toEqual(expect.arrayContaining(["? | keyword.operator.optional.flow", "as | keyword.other.as.flow", "of | keyword.other.of.flow", "count | support.function.window.flow", "count | support.function.builtin.flow", "every | variable.parameter.named.flow"]));
    // `as of o`: the probe side is a name, not a uid.
    const line1 = tokens(text.split("\n")[0]!);
    const of = line1.findIndex((t) => t.text === "of");
    expect(line1.slice(of - 1, of + 2).map((t) => t.scope)).toEqual(["keyword.other.as.flow", "keyword.other.of.flow", "variable.other.flow"]);
    // An alias called `of` is an alias (of is not reserved).
    const line3 = tokens(text.split("\n")[2]!);
    expect(line3.find((t) => t.text === "of")!.scope).toBe("entity.name.tag.uid.flow");
  });

  const examples = readdirSync(join(ROOT, "dsl-examples")).filter((f) => f.endsWith(".flow") && !f.endsWith(".test.flow")).sort();
  it.each(examples)("tokenizes %s (snapshot of token | scope rows)", async (file) => {
    const rows = tokens(readFileSync(join(ROOT, "dsl-examples", file), "utf8")).map((t) => `${t.text} | ${t.scope}`);
    await expect(rows.join("\n") + "\n").toMatchFileSnapshot(join(ROOT, "test", "snapshots", "tm", file.replace(/\.flow$/, ".txt")));
  });
});
