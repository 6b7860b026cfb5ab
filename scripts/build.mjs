// Builds the compiler: the grammar bundle (Ohm recipe + typed semantics) and
// build/flowc.mjs (the CLI, with its small dependencies bundled; lazily loaded parts in
// build/chunks/).
// Run by `npm install` (prepare) and `npm test`; bin/flowc also runs it when a source is newer.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function build({ quiet = false } = {}) {
  const ohmCli = join(root, "node_modules", "@ohm-js", "cli", "index.js");
  execFileSync(process.execPath, [ohmCli, "generateBundles", "--withTypes", "--esm", "compiler/grammar/flow.ohm"], { cwd: root, stdio: quiet ? "ignore" : "inherit" });
  mkdirSync(join(root, "build"), { recursive: true });
  await esbuild.build({
    entryPoints: { flowc: join(root, "compiler", "cli.ts") },
    outdir: join(root, "build"),
    outExtension: { ".js": ".mjs" },
    // Code behind a dynamic import (the language server and its dependencies) goes into
    // chunks of its own, loaded only when used: a compile does not pay for them.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Small dependencies are bundled (one file loads faster than forty); the big ones,
    // loaded only when compiling, stay in node_modules.
    external: ["ts-morph", "esbuild", "handlebars", "execa", "v8-compile-cache", "vscode-languageserver", "vscode-languageserver-textdocument"],
    sourcemap: true,
    logLevel: quiet ? "error" : "warning",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await build();
}
