// What a bundle cannot hold: the disk state backend's store, lmdb, loads a native library
// (prebuilt, one per platform, in an optional package such as @lmdb/lmdb-linux-x64). A job
// with `state { backend disk }` leaves `lmdb` out of its bundle and `flowc compile` copies it,
// with every package it needs at run time, into `node_modules/` beside the bundle, where
// Node's resolution finds it from the bundle's own folder (runtime/state/disk/native.ts).
// Only the packages installed here are copied: the platform's prebuilt binary, not all of
// them. Packages needed only to build from source (node-addon-api) are left out.

import { cpSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "./paths.js";

export const NATIVE_PACKAGES = ["lmdb"];

/** Needed to build a native part from source only: never at run time. */
const BUILD_ONLY = new Set(["node-addon-api", "node-gyp", "node-gyp-build"]);

/** The folder of an installed package, as resolved from `from` (a package folder), or null. */
function packageDir(name: string, from: string): string | null {
  // Walk up node_modules folders as Node does (a package's package.json may not be exported).
  let dir = from;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The packages lmdb needs at run time, installed here: name -> folder. */
export function nativeClosure(): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (name: string, from: string, optional: boolean): void => {
    if (out.has(name) || BUILD_ONLY.has(name)) return;
    const dir = packageDir(name, from);
    if (!dir) {
      if (optional) return;
      throw new Error(`${name} is not installed (needed by the disk state backend): run npm install`);
    }
    out.set(name, dir);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(d, dir, false);
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) visit(d, dir, true);
  };
  for (const p of NATIVE_PACKAGES) visit(p, ROOT, false);
  return out;
}

/** A build-only package nested in a copied one (lmdb/node_modules/node-addon-api). */
function buildOnlyInside(path: string): boolean {
  const m = /[\\/]node_modules[\\/]([^\\/]+)[\\/]?$/.exec(path);
  return m !== null && BUILD_ONLY.has(m[1]!);
}

/** Copies lmdb and what it needs into `<outDir>/node_modules/` (replacing older copies). */
export function copyNativeDeps(outDir: string): void {
  for (const [name, dir] of nativeClosure()) {
    cpSync(dir, join(outDir, "node_modules", name), { recursive: true, force: true, dereference: true, filter: (src) => !buildOnlyInside(src) });
  }
}
