// `flowc lsp` on test files (`*.test.flow`), driven as an editor drives it (a real process,
// JSON-RPC over stdio): the test checker's diagnostics with their spans, hover and go to
// definition into the job's file, and completion of sources, streams, uids and states.

import { execa, type ResultPromise } from "execa";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from "vscode-jsonrpc/node.js";
import { FLOWC, tempDir, writeFiles } from "./helpers.js";

interface Diag {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number;
  code: string;
  message: string;
}

let server: ResultPromise;
let rpc: MessageConnection;
const published = new Map<string, Diag[][]>();
const dir = tempDir("flowc-lsp-tests-");
const jobUri = pathToFileURL(join(dir, "fraud.flow")).href;
const testUri = pathToFileURL(join(dir, "fraud.test.flow")).href;

const JOB = `job fraud
type Txn = { account: string, amount: float, ts: timestamp }
source txns: Txn = file("txns.jsonl")
let alerts = txns
  |> key_by(t => t.account)
  |> process(t) as check {
       state purchases: int = 0
       purchases += 1
       if t.amount > 500.0 { emit { account: key, amount: t.amount } }
     }
sink alerts -> stdout()
`;

const TEST = `test "a large charge" for "fraud.flow" {
  given txns [{ account: "a", amount: 600.0, ts: 1000 }]
  expect alerts [{ account: "a", amount: 600.0 }]
  expect state check["a"] { purchases: 1 }
}
`;

async function diagnostics(doc: string, count: number): Promise<Diag[]> {
  for (let i = 0; i < 400; i++) {
    const list = published.get(doc) ?? [];
    if (list.length > count) return list[count]!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no diagnostics published for ${doc}`);
}

beforeAll(async () => {
  writeFiles(dir, { "fraud.flow": JOB });
  server = execa(FLOWC, ["lsp"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", reject: false, env: { NO_COLOR: "1" } });
  rpc = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  rpc.onNotification("textDocument/publishDiagnostics", (p: { uri: string; diagnostics: Diag[] }) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p.diagnostics]);
  });
  rpc.listen();
  await rpc.sendRequest("initialize", { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {} });
  await rpc.sendNotification("initialized", {});
});

afterAll(async () => {
  await rpc.sendRequest("shutdown");
  await rpc.sendNotification("exit");
  expect((await server).exitCode).toBe(0);
  rpc.dispose();
});

describe("flowc lsp on test files", () => {
  it("publishes a fixture's type error at its span in the test file, and clears it when fixed", async () => {
    const bad = TEST.replace("amount: 600.0, ts: 1000", 'amount: "600", ts: 1000');
    await rpc.sendNotification("textDocument/didOpen", { textDocument: { uri: testUri, languageId: "flow-test", version: 1, text: bad } });
    const [d, ...rest] = await diagnostics(testUri, 0);
    expect(rest).toEqual([]);
    expect(d!.code).toBe("FLOW3001");
    expect(d!.message).toBe("expected float, found string (this is string)");
    expect(d!.range).toEqual({ start: { line: 1, character: 38 }, end: { line: 1, character: 43 } });
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: testUri, version: 2 }, contentChanges: [{ text: TEST }] });
    expect(await diagnostics(testUri, 1)).toEqual([]);
  });

  it("checks a test file again when its job changes on disk", async () => {
    const before = published.get(testUri)?.length ?? 0;
    const hover = async (): Promise<unknown> => rpc.sendRequest("textDocument/hover", { textDocument: { uri: testUri }, position: { line: 2, character: 10 } });
    expect(await hover()).not.toBeNull();
    writeFiles(dir, { "fraud.flow": JOB.replace("let alerts", "let warnings").replace("sink alerts", "sink warnings") });
    // The test file's text is the same: the job's change alone makes a new analysis.
    expect(await hover()).toBeNull();
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: testUri, version: 3 }, contentChanges: [{ text: TEST + "\n" }] });
    const [d] = await diagnostics(testUri, before);
    expect(d!.code).toBe("FLOW2001");
    expect(d!.message).toMatch(/^job `fraud` has no stream `alerts`/);
    writeFiles(dir, { "fraud.flow": JOB });
    await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: testUri, version: 4 }, contentChanges: [{ text: TEST }] });
    expect(await diagnostics(testUri, before + 1)).toEqual([]);
  });

  it("answers hover with a source's, a stream's, an operator's and a fixture field's type", async () => {
    const hover = async (line: number, character: number): Promise<string> => {
      const r = (await rpc.sendRequest("textDocument/hover", { textDocument: { uri: testUri }, position: { line, character } })) as { contents: { value: string } } | null;
      return r?.contents.value.replace(/^```flow\n|\n```$/g, "") ?? "";
    };
    expect(await hover(1, 9)).toBe("source txns: Txn = { account: string, amount: float, ts: timestamp }");
    expect(await hover(2, 10)).toBe("stream alerts: { account: string, amount: float }");
    expect(await hover(3, 16)).toBe("process as check, keyed by string\nstate purchases: int");
    expect(await hover(3, 29)).toBe("(state) purchases: int");
    expect(await hover(1, 30)).toBe("(field) amount: float");
    expect(await hover(0, 30)).toMatch(/^job fraud \(.*fraud\.flow\): sources txns; streams txns, alerts$/);
  });

  it("goes from a stream, an operator and a state to their declarations in the job's file", async () => {
    const definition = async (line: number, character: number) =>
      (await rpc.sendRequest("textDocument/definition", { textDocument: { uri: testUri }, position: { line, character } })) as { uri: string; range: { start: { line: number; character: number } } } | null;
    const txns = await definition(1, 9);
    expect(txns!.uri).toBe(jobUri);
    expect(txns!.range.start).toEqual({ line: 2, character: 7 });
    expect((await definition(2, 10))!.range.start).toEqual({ line: 3, character: 4 });
    expect((await definition(3, 16))!.range.start).toEqual({ line: 5, character: 19 });
    expect((await definition(3, 29))!.range.start).toEqual({ line: 6, character: 13 });
    expect((await definition(0, 30))!.uri).toBe(jobUri);
  });

  it("completes sources after given, streams after expect, uids after expect state, and a state's names", async () => {
    let version = 10;
    const complete = async (text: string, line: number, character: number): Promise<string[]> => {
      await rpc.sendNotification("textDocument/didChange", { textDocument: { uri: testUri, version: ++version }, contentChanges: [{ text }] });
      const r = (await rpc.sendRequest("textDocument/completion", { textDocument: { uri: testUri }, position: { line, character } })) as { label: string }[];
      return r.map((i) => i.label);
    };
    const head = 'test "t" for "fraud.flow" {\n';
    expect(await complete(`${head}  given \n}\n`, 1, 8)).toEqual(["txns"]);
    expect(await complete(`${head}  expect \n}\n`, 1, 9)).toEqual(["txns", "alerts", "state"]);
    expect(await complete(`${head}  expect state \n}\n`, 1, 15)).toEqual(["check"]);
    expect(await complete(`${head}  expect state check["a"] {  }\n}\n`, 1, 28)).toEqual(["purchases"]);
    expect(await complete(`${head}  \n}\n`, 1, 2)).toEqual(["given", "expect"]);
    expect(await complete(`${head}  given txns [{ account: "a", amount: 1.0, ts: 1 },  ]\n}\n`, 1, 52)).toEqual(["restart"]);
    expect(await complete("\n", 0, 0)).toEqual(["test"]);
  });
});
