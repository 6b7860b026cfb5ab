// bundle: the generated module + the runtime -> one self-contained dist/<job>.mjs (with a
// source map), via esbuild. The result runs with plain `node`, without node_modules.
//
// Only the runtime the job uses is bundled: the entry (templates/entry.ts.hbs) imports the
// connectors its manifest names and the operators it has (the tables in
// runtime/connectors/table.ts and runtime/time/table.ts), so esbuild leaves the others out.
// The admin endpoint and prom-client, which every job can serve (--admin-port), are one
// minified, compressed chunk built with the compiler (scripts/build.mjs), embedded as a
// string and evaluated only when the endpoint is asked for (runtime/admin-embedded.ts).
// The job graph, for the endpoint's dashboard, is JSON text in the entry (compiler/graph.ts).
// A job with `state { backend disk }` also gets the disk backend (runtime/state/disk/), whose
// store, lmdb, has a native part: it stays out of the bundle and is copied, with the packages
// it needs, into node_modules/ beside it (native-deps.ts).

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Manifest } from "../runtime/api.js";
import type { GraphData } from "../runtime/graph-data.js";
import { connectorsOf, SINK_CONNECTORS, SOURCE_CONNECTORS, usesNats } from "../runtime/connectors/table.js";
import { OPERATOR_MODULES, operatorsOf } from "../runtime/time/table.js";
import { copyNativeDeps, NATIVE_PACKAGES } from "./native-deps.js";
import { ROOT, RUNTIME_DIR, TEMPLATES_DIR } from "./paths.js";

/** The admin endpoint's chunk (scripts/build.mjs writes it). */
export const ADMIN_CHUNK = join(ROOT, "build", "admin-chunk.txt");

export interface BundleOptions {
  job: string;
  /** The generated TypeScript. */
  code: string;
  outFile: string;
  /** Where the generated module is said to live (for the source map). */
  modulePath: string;
  /** The .flow file's folder: imports of TypeScript files resolve from here. */
  sourceDir: string;
  /** The job's manifest: which connectors and operators to bundle. */
  manifest: Manifest;
  /** The job graph for the admin endpoint's dashboard (`GET /graph`). */
  graph: GraphData;
  /** Bundle the NATS client (object store checkpoints and savepoints) even when the job uses no NATS. */
  nats?: boolean;
}

/** An esbuild failure on generated code: a compiler bug. */
export class BundleError extends Error {}

/** A part of the runtime the entry imports: `import { name as local } from "@flowc/runtime/<module>"`, registered under `key`. */
interface EntryPart {
  key: string;
  name: string;
  local: string;
  module: string;
}

/** The entry's imports: the connectors the manifest names and the operators it has. */
function entryParts(m: Manifest): { sources: EntryPart[]; sinks: EntryPart[]; operators: EntryPart[] } {
  const used = connectorsOf(m);
  const part = (kind: string, key: string, module: string | undefined, name: string, i: number): EntryPart => {
    if (module === undefined) throw new BundleError(`the runtime has no ${kind} ${JSON.stringify(key)} (runtime/connectors/table.ts)`);
    return { key: JSON.stringify(key), name, local: `${kind}${i}`, module };
  };
  const sourceModules: Record<string, string> = SOURCE_CONNECTORS;
  const sinkModules: Record<string, string> = SINK_CONNECTORS;
  return {
    sources: used.sources.map((c, i) => part("source", c, sourceModules[c] && `connectors/${sourceModules[c]}`, "connector", i)),
    sinks: used.sinks.map((c, i) => part("sink", c, sinkModules[c] && `connectors/${sinkModules[c]}`, "connector", i)),
    operators: operatorsOf(m).map((o, i) => part("operator", o, OPERATOR_MODULES[o], "factory", i)),
  };
}

function adminChunk(): string {
  try {
    return readFileSync(ADMIN_CHUNK, "utf8");
  } catch {
    throw new BundleError(`${ADMIN_CHUNK} is missing: build flowc first (npm run build)`);
  }
}

export async function bundle(opts: BundleOptions): Promise<void> {
  const esbuild = await import("esbuild");
  const Handlebars = (await import("handlebars")).default;
  const hb = Handlebars.create();
  hb.registerHelper("comment", (s: unknown) => String(s).replace(/[\r\n\u2028\u2029]+/g, " "));
  const parts = entryParts(opts.manifest);
  // The NATS client (with the object store and the locks) only for jobs that use NATS.
  const nats = usesNats(opts.manifest) || opts.nats === true ? [{ key: "nats", name: "parts", local: "natsParts", module: "nats/parts" }] : [];
  const entry = hb.compile(readFileSync(join(TEMPLATES_DIR, "entry.ts.hbs"), "utf8"), { strict: true, noEscape: true, knownHelpers: { comment: true }, knownHelpersOnly: true })({
    job: opts.job,
    imports: [...parts.sources, ...parts.sinks, ...parts.operators, ...nats],
    ...parts,
    // JSON text in a string literal: parsed only when the dashboard asks for it.
    graph: JSON.stringify(JSON.stringify(opts.graph)),
    nats,
    diskState: opts.manifest.state !== null && opts.manifest.state !== undefined,
  });
  const chunk = adminChunk();
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
      define: { FLOWC_ADMIN_CHUNK: JSON.stringify(chunk) },
      // The disk backend's store has a native part: it is loaded at run time from
      // node_modules beside the bundle (copyNativeDeps), never bundled.
      external: NATIVE_PACKAGES,
      // CommonJS dependencies bundled into ESM (a user's imports may have some) require Node's modules: give them `require`.
      banner: { js: `// ${opts.job}: compiled by flowc. Run with: node ${opts.job}.mjs --help\nimport { createRequire as __flowcCreateRequire } from "node:module";\nconst require = __flowcCreateRequire(import.meta.url);` },
      plugins: [
        {
          name: "flowc-job",
          setup(build) {
            build.onResolve({ filter: /^flowc:job$/ }, () => ({ path: opts.modulePath, namespace: "flowc-job" }));
            // The admin endpoint and the savepoint code: the embedded chunk in place of the plain import.
            const load = join(RUNTIME_DIR, "admin-load.js");
            build.onResolve({ filter: /\/admin-load\.js$/ }, (args) => (resolve(args.resolveDir, args.path) === load ? { path: join(RUNTIME_DIR, "admin-embedded.ts") } : undefined));
            build.onLoad({ filter: /.*/, namespace: "flowc-job" }, () => ({ contents: opts.code, loader: "ts", resolveDir: opts.sourceDir }));
          },
        },
      ],
    });
  } catch (e) {
    throw new BundleError(`esbuild could not bundle the job: ${(e as Error).message}`);
  }
  if (opts.manifest.state) copyNativeDeps(dirname(opts.outFile));
}
