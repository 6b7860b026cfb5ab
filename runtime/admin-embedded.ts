// The admin endpoint inside a bundle. scripts/build.mjs builds admin.ts with prom-client
// into one minified CommonJS chunk, compressed; compiler/bundle.ts embeds it in every bundle
// as FLOWC_ADMIN_CHUNK (base64), in place of admin-load.ts. It is inflated and evaluated
// only when the job is started with --admin-port: a job without the endpoint does not load
// it, and the bundle stays one file that runs without node_modules.

import { createRequire } from "node:module";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { runInThisContext } from "node:vm";
import { brotliDecompressSync } from "node:zlib";
import type { AdminModule } from "./admin-load.js";

declare const FLOWC_ADMIN_CHUNK: string;

export async function loadAdmin(): Promise<AdminModule> {
  const code = brotliDecompressSync(Buffer.from(FLOWC_ADMIN_CHUNK, "base64")).toString("utf8");
  const bundle = fileURLToPath(import.meta.url);
  // The CommonJS wrapper, as Node's own loader writes it; the file name shows in stack traces.
  const wrapper = runInThisContext(`(function (exports, require, module) {${code}\n})`, { filename: `admin.cjs (embedded in ${basename(bundle)})` }) as (exports: object, require: NodeJS.Require, module: { exports: object }) => void;
  const module = { exports: {} };
  wrapper(module.exports, createRequire(bundle), module);
  return module.exports as AdminModule;
}
