// The admin endpoint inside a bundle. scripts/build.mjs builds admin.ts with prom-client
// (and the status line and the dashboard's page) into one minified CommonJS chunk,
// compressed; compiler/bundle.ts embeds it in every bundle as FLOWC_ADMIN_CHUNK (Z85 text),
// in place of admin-load.ts. The chunk also holds the savepoint code (runtime/savepoint/ops.ts).
// It is inflated and evaluated only when the job is started with --admin-port or
// --status-line, or takes or restores a savepoint: a job without them does not load it, and
// the bundle stays one file that runs without node_modules.

import { createRequire } from "node:module";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { runInThisContext } from "node:vm";
import { brotliDecompressSync } from "node:zlib";
import type { AdminModule } from "./admin-load.js";

declare const FLOWC_ADMIN_CHUNK: string;

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** The chunk's bytes from its Z85 text, whose first character is the number of padding bytes (scripts/build.mjs). */
function fromZ85(text: string): Buffer {
  const value = new Uint8Array(128);
  for (let i = 0; i < 85; i++) value[Z85.charCodeAt(i)] = i;
  const out = Buffer.alloc(((text.length - 1) / 5) * 4);
  for (let i = 1, o = 0; i < text.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 85 + value[text.charCodeAt(i + j)]!;
    out.writeUInt32BE(v, o);
  }
  return out.subarray(0, out.length - Number(text[0]));
}

let loaded: Promise<AdminModule> | null = null;

/** The chunk's exports; it is inflated and evaluated once, on the first call. */
export function loadAdmin(): Promise<AdminModule> {
  return (loaded ??= Promise.resolve().then(inflate));
}

function inflate(): AdminModule {
  const code = brotliDecompressSync(fromZ85(FLOWC_ADMIN_CHUNK)).toString("utf8");
  const bundle = fileURLToPath(import.meta.url);
  // The CommonJS wrapper, as Node's own loader writes it; the file name shows in stack traces.
  const wrapper = runInThisContext(`(function (exports, require, module) {${code}\n})`, { filename: `admin.cjs (embedded in ${basename(bundle)})` }) as (exports: object, require: NodeJS.Require, module: { exports: object }) => void;
  const module = { exports: {} };
  wrapper(module.exports, createRequire(bundle), module);
  return module.exports as AdminModule;
}
