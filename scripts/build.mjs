// Builds the compiler: the grammar bundle (Ohm recipe + typed semantics),
// build/flowc.mjs (the CLI, with its small dependencies bundled; lazily loaded parts in
// build/chunks/), and build/admin-chunk.txt (the admin endpoint that every job bundle
// embeds: runtime/admin.ts with prom-client as one minified CommonJS chunk, Brotli, base64).
// Run by `npm install` (prepare) and `npm test`; bin/flowc also runs it when a source is newer.
import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants } from "node:zlib";
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
  await buildAdminChunk(quiet);
}

/**
 * The admin endpoint of every job bundle (compiler/bundle.ts embeds it; runtime/admin-embedded.ts
 * evaluates it). Minified but for names, so that its stack traces name functions.
 */
async function buildAdminChunk(quiet) {
  const r = await esbuild.build({
    entryPoints: [join(root, "runtime", "admin.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    write: false,
    logLevel: quiet ? "error" : "warning",
  });
  const code = r.outputFiles[0].contents;
  const packed = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length } });
  // Written whole or not at all: compiles running meanwhile read the old one or the new one.
  const out = join(root, "build", "admin-chunk.txt");
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, packed.toString("base64"));
  renameSync(tmp, out);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await build();
}
