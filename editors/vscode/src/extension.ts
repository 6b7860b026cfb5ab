// The VS Code side of flowc: starts `flowc lsp` (the compiler's own language server, over
// stdio) for .flow files and test files (.test.flow). Highlighting comes from
// syntaxes/flow.tmLanguage.json and, for test files, syntaxes/flow-test.tmLanguage.json.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { workspace, type ExtensionContext } from "vscode";
import { LanguageClient, TransportKind, type Executable, type LanguageClientOptions } from "vscode-languageclient/node";

let client: LanguageClient | undefined;

/** The flowc command: the setting, else the workspace's own flowc, else flowc on the PATH. */
function flowcCommand(): string {
  const configured = workspace.getConfiguration("flowc").get<string>("server.path");
  if (configured) return configured;
  for (const folder of workspace.workspaceFolders ?? []) {
    const local = join(folder.uri.fsPath, "node_modules", ".bin", process.platform === "win32" ? "flowc.cmd" : "flowc");
    if (existsSync(local)) return local;
  }
  return "flowc";
}

export async function activate(context: ExtensionContext): Promise<void> {
  const run: Executable = { command: flowcCommand(), args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    // Jobs, and their tests (`*.test.flow`, the language flow-test): the server tells them apart by name.
    documentSelector: [{ scheme: "file", language: "flow" }, { scheme: "untitled", language: "flow" }, { scheme: "file", language: "flow-test" }],
    synchronize: { fileEvents: workspace.createFileSystemWatcher("**/*.{flow,ts}") },
  };
  client = new LanguageClient("flowc", "flowc language server", { run, debug: run }, clientOptions);
  context.subscriptions.push({ dispose: () => void client?.stop() });
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
