// `npm run package:vscode`: bundles the VS Code extension (editors/vscode/src/extension.ts
// with vscode-languageclient) into out/extension.js and packs editors/vscode into an
// installable .vsix with @vscode/vsce. No network is needed.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ext = join(root, "editors", "vscode");
const { name, version } = JSON.parse(readFileSync(join(ext, "package.json"), "utf8"));
mkdirSync(join(ext, "out"), { recursive: true });
await esbuild.build({
  entryPoints: [join(ext, "src", "extension.ts")],
  outfile: join(ext, "out", "extension.js"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  minify: true,
  external: ["vscode"],
  logLevel: "warning",
});
const vsce = join(dirname(createRequire(import.meta.url).resolve("@vscode/vsce/package.json")), "vsce");
const out = join(ext, `${name}-${version}.vsix`);
execFileSync(process.execPath, [vsce, "package", "--no-dependencies", "--no-rewrite-relative-links", "--allow-missing-repository", "--out", out], { cwd: ext, stdio: ["ignore", "inherit", "inherit"] });
console.log(out);
