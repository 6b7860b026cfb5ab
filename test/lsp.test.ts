// `flowc lsp` driven as an editor drives it: a real process, real JSON-RPC messages over
// stdio (initialize, didOpen, didChange, hover, definition, completion, shutdown, exit).

import { execa, type ResultPromise } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";
import { FLOWC, tempDir } from "./helpers.js";

interface Diag {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number;
  code: string;
  source: string;
  message: string;
  relatedInformation?: { message: string }[];
}

let server: ResultPromise;
let rpc: MessageConnection;
const published = new Map<string, Diag[][]>();
const dir = tempDir("flowc-lsp-");
const uri = pathToFileURL(join(dir, "job.flow")).href;

/** The next diagnostics published for a document (after `count` earlier ones). */
async function diagnostics(doc: string, count: number): Promise<Diag[]> {
  for (let i = 0; i < 200; i++) {
    const list = published.get(doc) ?? [];
    if (list.length > count) return list[count]!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no diagnostics published for ${doc}`);
}

const JOB = `job clicks
type Click = { user: string, page: string, ts: timestamp }
source clicks: Click = file("clicks.jsonl") event_time(c => c.ts) watermark 5s
let per_user = clicks
  |> key_by(c => c.user)
  |> window(tumbling(1m))
  |> aggregate(c => { user: key, n: count() })
sink per_user -> stdout()
`;

beforeAll(async () => {
  server = execa(FLOWC, ["lsp"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false, env: { NO_COLOR: "1" } });
  rpc = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  rpc.onNotification("textDocument/publishDiagnostics", (p: { uri: string; diagnostics: Diag[] }) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p.diagnostics]);
  });
  rpc.listen();
});

afterAll(async () => {
  await rpc.sendRequest("shutdown");
  await rpc.sendNotification("exit");
  const r = await server;
  expect(r.exitCode).toBe(0);
  rpc.dispose();
});

describe("flowc lsp", () => {
  it("answers initialize with its capabilities", async () => {
    const r = (await rpc.sendRequest("initialize", { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {} })) as {
      capabilities: { hoverProvider: boolean; definitionProvider: boolean; completionProvider: { triggerCharacters: string[] }; textDocumentSync: number };
      serverInfo: { name: string };
    };
    expect(r.serverInfo.name).toBe("flowc");
    expect(r.capabilities.hoverProvider).toBe(true);
    expect(r.capabilities.definitionProvider).toBe(true);
    expect(r.capabilities.completionProvider.triggerCharacters).toContain(".");
    await rpc.sendNotification("initialized", {});
  });

  it("publishes the compiler's diagnostic on the right line for a type error, and clears it when fixed", async () => {
    const bad = JOB.replace("|> key_by(c => c.user)", "|> filter(c => c.page + 1)\n  |> key_by(c => c.user)");
    // What the CLI says about the same text: code, line and column.
    writeFileSync(join(dir, "job.flow"), bad);
    const cli = await execa(FLOWC, ["check", "job.flow"], { cwd: dir, reject: false, env: { NO_COLOR: "1" } });
    const [, code, line, col] = /error\[(FLOW\d{4})\]: .*\n --> job\.flow:(\d+):(\d+)/.exec(cli.stderr)!;
    expect(line).toBe("5");
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "flow", version: 1, text: bad } });
    const [d, ...rest] = await diagnostics(uri, 0);
    expect(rest).toEqual([]);
    expect(d!.code).toBe(code);
    expect(d!.source).toBe("flowc");
    expect(d!.severity).toBe(1);
    expect(d!.range.start).toEqual({ line: Number(line) - 1, character: Number(col) - 1 });
    expect(cli.stderr).toContain(`error[${code}]: ${d!.message.split("\n")[0]!.replace(/ \(.*\)$/, "")}`);

    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri, version: 2 }, contentChanges: [{ text: JOB }] });
    expect(await diagnostics(uri, 1)).toEqual([]);
  });

  it("answers hover with the type of names, fields, streams and stages", async () => {
    const hover = async (line: number, character: number): Promise<string> => {
      const r = (await rpc.sendRequest("textDocument/hover", { textDocument: { uri }, position: { line, character } })) as { contents: { value: string } } | null;
      return r?.contents.value.replace(/^```flow\n|\n```$/g, "") ?? "";
    };
    expect(await hover(4, 17)).toBe("(parameter) c: Click = { user: string, page: string, ts: timestamp }");
    expect(await hover(4, 20)).toBe("(field) user: string");
    expect(await hover(3, 6)).toBe("stream per_user: { user: string, n: int }, keyed by string, event time");
    expect(await hover(4, 8)).toBe("key_by: Click, event time  →  Click, keyed by string, event time");
    expect(await hover(6, 8)).toBe("aggregate as per_user: Click, keyed by string, event time  →  { user: string, n: int }, keyed by string, event time");
    expect(await hover(6, 29)).toBe("key: string");
    expect(await hover(2, 16)).toBe("type Click = { user: string, page: string, ts: timestamp }");
    expect(await hover(7, 6)).toBe("stream per_user: { user: string, n: int }, keyed by string, event time");
  });

  it("goes to the definition of streams, types and lambda parameters", async () => {
    const definition = async (line: number, character: number) =>
      (await rpc.sendRequest("textDocument/definition", { textDocument: { uri }, position: { line, character } })) as { uri: string; range: { start: { line: number; character: number } } } | null;
    expect((await definition(7, 7))!.range.start).toEqual({ line: 3, character: 4 }); // sink per_user -> let per_user
    expect((await definition(3, 16))!.range.start).toEqual({ line: 2, character: 7 }); // clicks -> source clicks
    expect((await definition(2, 16))!.range.start).toEqual({ line: 1, character: 5 }); // Click -> type Click
    const param = await definition(4, 17); // c in c.user
    expect(param!.uri).toBe(uri);
    expect(param!.range.start).toEqual({ line: 4, character: 12 });
  });

  it("goes to a function's definition and shows its signature; completes source connectors", async () => {
    const other = pathToFileURL(join(dir, "fns.flow")).href;
    const text = `job fns
fn twice(x: int): int = x * 2
source n: int = values([1, 2])
let d = n |> map(x => twice(x))
sink d -> stdout()
`;
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: other, languageId: "flow", version: 1, text } });
    expect(await diagnostics(other, 0)).toEqual([]);
    const def = (await rpc.sendRequest("textDocument/definition", { textDocument: { uri: other }, position: { line: 3, character: 23 } })) as { range: { start: unknown } };
    expect(def.range.start).toEqual({ line: 1, character: 3 });
    const hover = (await rpc.sendRequest("textDocument/hover", { textDocument: { uri: other }, position: { line: 1, character: 4 } })) as { contents: { value: string } };
    expect(hover.contents.value).toContain("fn twice(x: int): int");
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: other, version: 2 }, contentChanges: [{ text: text.replace("values([1, 2])", "") }] });
    const r = (await rpc.sendRequest("textDocument/completion", { textDocument: { uri: other }, position: { line: 2, character: 16 } })) as { label: string }[];
    expect(r.map((i) => i.label)).toEqual(expect.arrayContaining(["values", "sequence", "file", "stdin"]));
    await rpc.sendNotification("textDocument/didClose", { textDocument: { uri: other } });
  });

  it("sees an imported TypeScript file's new signature after the file changes", async () => {
    const doc = pathToFileURL(join(dir, "imports.flow")).href;
    writeFileSync(join(dir, "udf.ts"), "export function twice(x: number): number {\n  return x * 2;\n}\n");
    const text = 'job imports\nimport { twice } from "./udf.ts"\nsource n: float = values([1.0])\nsink n |> map(x => twice(x)) -> stdout()\n';
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: doc, languageId: "flow", version: 1, text } });
    expect(await diagnostics(doc, 0)).toEqual([]);
    writeFileSync(join(dir, "udf.ts"), "export function twice(x: string): string {\n  return x + x;\n}\n");
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: doc, version: 2 }, contentChanges: [{ text: text + "\n" }] });
    const [d, ...rest] = await diagnostics(doc, 1);
    expect(rest).toEqual([]);
    expect(d!.code).toBe("FLOW3001");
    expect(d!.message).toMatch(/^expected string, found float/);
    await rpc.sendNotification("textDocument/didClose", { textDocument: { uri: doc } });
  });

  it("reports FLOW1004 for a document nested too deep instead of crashing, and checks one nested 300 deep", async () => {
    const deep = pathToFileURL(join(dir, "deep.flow")).href;
    const body = (depth: number) => `job deep\nsource n: int = values([1])\nsink n |> map(x => ${"(".repeat(depth)}x + 1${")".repeat(depth)}) -> stdout()\n`;
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: deep, languageId: "flow", version: 1, text: body(1000) } });
    const [d, ...rest] = await diagnostics(deep, 0);
    expect(rest).toEqual([]);
    expect(d!.code).toBe("FLOW1004");
    expect(d!.message).toMatch(/^nesting too deep: more than 1000 brackets are open here/);
    // `map(` is bracket 1; the 1000th parenthesis (bracket 1001) is at character 1018.
    expect(d!.range.start).toEqual({ line: 2, character: 1018 });
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: deep, version: 2 }, contentChanges: [{ text: body(300) }] });
    expect(await diagnostics(deep, 1)).toEqual([]);
    const hover = (await rpc.sendRequest("textDocument/hover", { textDocument: { uri: deep }, position: { line: 2, character: 319 } })) as { contents: { value: string } };
    expect(hover.contents.value).toContain("x: int");
    await rpc.sendNotification("textDocument/didClose", { textDocument: { uri: deep } });
  });

  it("accepts a byte order mark and shows an invisible character in a message escaped", async () => {
    const bom = pathToFileURL(join(dir, "bom.flow")).href;
    // The document as the client has it starts with the mark: positions count it on line 0.
    const text = "\uFEFFjob 1x\nsource n: int = values([1])\nsink n -> stdout()\n";
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: bom, languageId: "flow", version: 1, text } });
    const [d] = await diagnostics(bom, 0);
    expect(d!.message).toMatch(/^expected an identifier, found `1x`/);
    expect(d!.range.start).toEqual({ line: 0, character: 5 });
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: bom, version: 2 }, contentChanges: [{ text: "\uFEFFjob ok\nsource n: int = values([1])\nsink n |> map(x => x \u200B+ 1) -> stdout()\n" }] });
    const [z] = await diagnostics(bom, 1);
    expect(z!.message).toMatch(/found `\\u\{200B\}`/);
    expect(z!.range.start).toEqual({ line: 2, character: 21 });
    await rpc.sendNotification("textDocument/didClose", { textDocument: { uri: bom } });
  });

  it("completes stage names after |>, connectors, record fields after a dot, and keywords", async () => {
    const complete = async (text: string, line: number, character: number): Promise<string[]> => {
      await rpc.sendNotification("textDocument/didChange", { textDocument: { uri, version: Date.now() }, contentChanges: [{ text }] });
      const r = (await rpc.sendRequest("textDocument/completion", { textDocument: { uri }, position: { line, character } })) as { label: string }[];
      return r.map((i) => i.label);
    };
    const stages = await complete(JOB.replace("  |> window(tumbling(1m))\n", "  |> \n"), 5, 5);
    expect(stages).toEqual(expect.arrayContaining(["filter", "map", "key_by", "window", "aggregate", "process", "dedup"]));
    expect(stages).not.toContain("job");
    const fields = await complete(JOB.replace("key_by(c => c.user)", "key_by(c => c.)"), 4, 19);
    expect(fields).toEqual(["user", "page", "ts"]);
    const sinks = await complete(JOB.replace("-> stdout()", "-> "), 7, 17);
    expect(sinks).toEqual(expect.arrayContaining(["stdout", "file"]));
    const general = await complete(JOB, 8, 0);
    expect(general).toEqual(expect.arrayContaining(["let", "sink", "clicks", "per_user", "Click", "count", "len"]));
  });

  it("completes from the parse tree: what the place at the cursor takes, and the names the checker's scope holds there", async () => {
    const doc = pathToFileURL(join(dir, "complete.flow")).href;
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: doc, languageId: "flow", version: 1, text: "job c\n" } });
    let version = 1;
    const complete = async (text: string, line: number, character: number): Promise<{ label: string; detail?: string }[]> => {
      await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: doc, version: ++version }, contentChanges: [{ text }] });
      return (await rpc.sendRequest("textDocument/completion", { textDocument: { uri: doc }, position: { line, character } })) as { label: string; detail?: string }[];
    };
    const labels = async (text: string, line: number, character: number): Promise<string[]> => (await complete(text, line, character)).map((i) => i.label);
    const job = (lines: string[]): string => ["job c", "type Inner = { x: int, y: string }", "type Row = { id: int, inner: Inner, ts: timestamp }", ...lines, ""].join("\n");

    // After `|>`, a partly typed stage name: the stages, and nothing else.
    const stages = await complete(job(['source rows: Row = file("rows.jsonl")', "sink rows |> fil -> stdout()"]), 4, 16);
    expect(stages.map((i) => i.label)).toEqual(["filter", "map", "flat_map", "key_by", "window", "aggregate", "reduce", "process", "union", "dedup"]);
    expect(stages.find((i) => i.label === "filter")!.detail).toBe("filter(x => cond): keeps the elements for which cond is true");

    // After `source x: T =` and after `->`: that side's connectors only.
    const sources = await labels(job(["source rows: Row = ", "sink rows -> stdout()"]), 3, 19);
    expect(sources).toEqual(expect.arrayContaining(["values", "sequence", "file", "stdin", "nexmark", "nexmark_bids"]));
    expect(sources).not.toContain("stdout");
    const sinks = await labels(job(['source rows: Row = file("rows.jsonl")', "sink rows -> "]), 4, 13);
    expect(sinks).toEqual(expect.arrayContaining(["stdout", "file"]));
    expect(sinks).not.toContain("stdin");

    // After `.`: the fields of that record, also one reached through another field.
    expect(await labels(job(['source rows: Row = file("rows.jsonl")', "sink rows |> map(r => r.) -> stdout()"]), 4, 24)).toEqual(["id", "inner", "ts"]);
    expect(await labels(job(['source rows: Row = file("rows.jsonl")', "sink rows |> map(r => r.inner.) -> stdout()"]), 4, 30)).toEqual(["x", "y"]);

    // In an expression: the names in scope there (not a lambda parameter of another stage),
    // `key` on a keyed stream, a process block's states; helpers and built-ins; no streams.
    const inFilter = await labels(job(['source rows: Row = file("rows.jsonl")', "sink rows |> map(a => a.id) |> key_by(k => k) |> filter(b => b > ) -> stdout()"]), 4, 65);
    expect(inFilter).toEqual(expect.arrayContaining(["b", "key", "len", "if"]));
    expect(inFilter).not.toContain("a");
    expect(inFilter).not.toContain("k");
    expect(inFilter).not.toContain("rows");
    const inProcess = await labels(job(['source rows: Row = file("rows.jsonl")', "let seen = rows |> key_by(r => r.id) |> process(r) {", "  state total: int = 0", "  total += 1", "  emit ", "}", "sink seen -> stdout()"]), 7, 7);
    expect(inProcess).toEqual(expect.arrayContaining(["r", "total", "key"]));

    // Where a stream is read: the streams; where a type is written: the types.
    const streams = await labels(job(['source rows: Row = file("rows.jsonl")', "let ids = rows |> map(r => r.id)", "sink  -> stdout()"]), 5, 5);
    expect(streams).toEqual(["rows", "ids"]);
    const types = await labels(job(["source rows:  = values([])", "sink rows -> stdout()"]), 3, 13);
    expect(types).toEqual(expect.arrayContaining(["int", "string", "Row", "Inner"]));
    expect(types).not.toContain("rows");

    // Elsewhere (between declarations): keywords and the file's names.
    const elsewhere = await labels(job(['source rows: Row = file("rows.jsonl")', "", "sink rows -> stdout()"]), 4, 0);
    expect(elsewhere).toEqual(expect.arrayContaining(["let", "sink", "source", "rows", "Row"]));
    await rpc.sendNotification("textDocument/didClose", { textDocument: { uri: doc } });
  });
  it("knows the math built-ins, outer and temporal joins and count windows: hover types, completion, silenced warnings not shown", async () => {
    const doc = pathToFileURL(join(dir, "v02.flow")).href;
    const text = `job v02
type Order = { id: int, cust: int, amount: float, ts: timestamp }
type Customer = { id: int, name: string, ts: timestamp }
source orders: Order = file("orders.jsonl") event_time(o => o.ts)
source customers: Customer = file("customers.jsonl") event_time(c => c.ts)
let named = join orders as o, customers? as c on o.cust == c.id as of o select { id: o.id, name: c?.name, root: sqrt(o.amount) }
let batches = orders |> key_by(o => o.cust) |> window(count(3)) |> aggregate(o => { cust: key, n: count() })
// allow FLOW4013: the customers table is small
let everything = join orders as o, customers as c on o.cust == c.id select { id: o.id }
sink named -> stdout()
sink batches -> stdout()
sink everything -> stdout()
`;
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: doc, languageId: "flow", version: 1, text } });
    // The unbounded join's FLOW4013 is silenced by the comment: nothing is published.
    expect(await diagnostics(doc, 0)).toEqual([]);
    const hover = async (line: number, character: number): Promise<string> => {
      const r = (await rpc.sendRequest("textDocument/hover", { textDocument: { uri: doc }, position: { line, character } })) as { contents: { value: string } } | null;
      return r?.contents.value.replace(/^```flow\n|\n```$/g, "") ?? "";
    };
    const line5 = text.split("\n")[5]!;
    // In select, the optional side is `Customer?`; in `on`, its element.
    expect(await hover(5, line5.indexOf("c?.name"))).toBe("(parameter) c: Customer? = { id: int, name: string, ts: timestamp }");
    expect(await hover(5, line5.indexOf("c.id") )).toBe("(parameter) c: Customer = { id: int, name: string, ts: timestamp }");
    expect(await hover(5, line5.indexOf("sqrt") + 1)).toBe("sqrt(float): float  →  float");
    expect(await hover(6, text.split("\n")[6]!.indexOf("aggregate") + 1)).toBe("aggregate as batches: Order, keyed by int, event time  →  { cust: int, n: int }, keyed by int, event time");
    // Completion in an expression offers the new built-ins with their signatures.
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: doc, version: 2 }, contentChanges: [{ text: text.replace("sqrt(o.amount)", "sq") }] });
    const items = (await rpc.sendRequest("textDocument/completion", { textDocument: { uri: doc }, position: { line: 5, character: line5.indexOf("sqrt") + 2 } })) as { label: string; detail?: string }[];
    for (const f of ["sqrt", "pow", "exp", "ln", "log10", "sign"]) expect(items.map((i) => i.label)).toContain(f);
    expect(items.find((i) => i.label === "pow")!.detail).toBe("pow(x: float, y: float): float");
    await rpc.sendNotification("textDocument/didClose", { textDocument: { uri: doc } });
  });
});
