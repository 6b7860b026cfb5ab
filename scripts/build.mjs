// Builds the compiler: the grammar bundle (Ohm recipe + typed semantics),
// build/flowc.mjs (the CLI, with its small dependencies bundled; lazily loaded parts in
// build/chunks/), and build/admin-chunk.txt (the admin endpoint that every job bundle
// embeds: runtime/admin.ts with prom-client, the status line and the dashboard's page as
// one minified CommonJS chunk, Brotli, in Z85 text).
// Run by `npm install` (prepare) and `npm test`; bin/flowc also runs it when a source is newer.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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
 * The dashboard's page (runtime/dashboard/): its script bundled with the layout and
 * minified for browsers, its stylesheet minified, its HTML with the whitespace between tags
 * taken out. They go into the admin chunk as FLOWC_DASHBOARD (runtime/dashboard/serve.ts).
 */
export async function dashboardAssets(quiet = true) {
  const dir = join(root, "runtime", "dashboard");
  const common = { bundle: true, minify: true, legalComments: "none", write: false, logLevel: quiet ? "error" : "warning" };
  const js = await esbuild.build({ ...common, entryPoints: [join(dir, "page.ts")], format: "iife", target: ["chrome109", "firefox115", "safari16"], platform: "browser" });
  const css = await esbuild.build({ ...common, entryPoints: [join(dir, "page.css")], target: ["chrome109", "firefox115", "safari16"] });
  const html = readFileSync(join(dir, "page.html"), "utf8").replace(/>\s*\n\s*</g, "><").trim();
  return { html, js: js.outputFiles[0].text, css: css.outputFiles[0].text };
}

/**
 * The admin endpoint of every job bundle (compiler/bundle.ts embeds it; runtime/admin-embedded.ts
 * evaluates it), with the status line and the dashboard's assets. Minified but for names,
 * so that its stack traces name functions. Returns the chunk as Z85 text; `dashboard:
 * false` leaves the dashboard's assets out (bench/startup.mjs compares the two).
 */
export async function adminChunk({ quiet = true, dashboard = true } = {}) {
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
    define: dashboard ? { FLOWC_DASHBOARD: JSON.stringify(await dashboardAssets(quiet)) } : {},
    logLevel: quiet ? "error" : "warning",
  });
  const code = r.outputFiles[0].contents;
  const packed = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length } });
  return z85(packed);
}

/**
 * Z85 (ZeroMQ's base 85): 5 characters for 4 bytes, where base64 takes 5.33, and none of
 * them needs escaping in a JavaScript string. The first character is the number of zero
 * bytes added to make the length a multiple of 4. runtime/admin-embedded.ts decodes it.
 */
export const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
export function z85(bytes) {
  const pad = (4 - (bytes.length % 4)) % 4;
  const data = Buffer.concat([bytes, Buffer.alloc(pad)]);
  let out = String(pad);
  for (let i = 0; i < data.length; i += 4) {
    let v = data.readUInt32BE(i);
    let five = "";
    for (let j = 0; j < 5; j++) {
      five = Z85[v % 85] + five;
      v = Math.floor(v / 85);
    }
    out += five;
  }
  return out;
}

async function buildAdminChunk(quiet) {
  const chunk = await adminChunk({ quiet });
  // Written whole or not at all: compiles running meanwhile read the old one or the new one.
  const out = join(root, "build", "admin-chunk.txt");
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, chunk);
  renameSync(tmp, out);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await build();
}
