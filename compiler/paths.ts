// Where the compiler's own files live, from the source tree or from build/flowc.mjs alike.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "runtime", "api.ts"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("internal: cannot find the flowc installation (package.json beside runtime/)");
}

export const ROOT = findRoot();
export const RUNTIME_DIR = join(ROOT, "runtime");
export const TEMPLATES_DIR = join(ROOT, "templates");
