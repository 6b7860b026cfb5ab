// bundle: the generated module + the runtime -> one self-contained dist/<job>.mjs (with a
// source map), via esbuild. The result runs with plain `node`, without node_modules.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RUNTIME_DIR, TEMPLATES_DIR } from "./paths.js";

export interface BundleOptions {
  job: string;
  /** The generated TypeScript. */
  code: string;
  outFile: string;
  /** Where the generated module is said to live (for the source map). */
  modulePath: string;
  /** The .flow file's folder: imports of TypeScript files resolve from here. */
  sourceDir: string;
}

/** An esbuild failure on generated code: a compiler bug. */
export class BundleError extends Error {}

export async function bundle(opts: BundleOptions): Promise<void> {
  const esbuild = await import("esbuild");
  const Handlebars = (await import("handlebars")).default;
  const hb = Handlebars.create();
  hb.registerHelper("comment", (s: unknown) => String(s).replace(/[\r\n\u2028\u2029]+/g, " "));
  const entry = hb.compile(readFileSync(join(TEMPLATES_DIR, "entry.ts.hbs"), "utf8"), { strict: true, noEscape: true, knownHelpers: { comment: true }, knownHelpersOnly: true })({ job: opts.job });
  try {
    await esbuild.build({
      stdin: { contents: entry, loader: "ts", resolveDir: RUNTIME_DIR, sourcefile: `${opts.job}.entry.ts` },
      outfile: opts.outFile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: true,
      legalComments: "none",
      logLevel: "silent",
      alias: { "@flowc/runtime": RUNTIME_DIR },
      // CommonJS dependencies bundled into ESM (prom-client) require Node's modules: give them `require`.
      banner: { js: `// ${opts.job}: compiled by flowc. Run with: node ${opts.job}.mjs --help\nimport { createRequire as __flowcCreateRequire } from "node:module";\nconst require = __flowcCreateRequire(import.meta.url);` },
      plugins: [
        {
          name: "flowc-job",
          setup(build) {
            build.onResolve({ filter: /^flowc:job$/ }, () => ({ path: opts.modulePath, namespace: "flowc-job" }));
            build.onLoad({ filter: /.*/, namespace: "flowc-job" }, () => ({ contents: opts.code, loader: "ts", resolveDir: opts.sourceDir }));
          },
        },
      ],
    });
  } catch (e) {
    throw new BundleError(`esbuild could not bundle the job: ${(e as Error).message}`);
  }
}
