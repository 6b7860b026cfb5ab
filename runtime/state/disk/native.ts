// The store's library: lmdb (lmdb-js) and its prebuilt native part, which cannot be put into
// a bundle. A bundle leaves `lmdb` out (compiler/bundle.ts) and `flowc compile` copies it,
// with what it needs, into `node_modules/` beside the bundle (compiler/native-deps.ts), where
// Node finds it from the bundle's own folder; from the source tree it comes from the
// project's node_modules. It is loaded only when a job keeps its state on disk.

import type { RootDatabase } from "lmdb";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { JobError } from "../../errors.js";

export type Lmdb = RootDatabase<Buffer, Buffer>;

type LmdbModule = typeof import("lmdb");

let loaded: LmdbModule | null = null;

/** Loads lmdb, or stops the job with FLOW5021 (no stack trace) when it is not there. */
export async function loadLmdb(): Promise<LmdbModule> {
  if (loaded) return loaded;
  try {
    loaded = (await import("lmdb")) as LmdbModule;
    // The native part loads on first use: open nothing, but make sure it is there.
    if (typeof loaded.open !== "function") throw new Error("it has no open()");
    return loaded;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const here = dirname(fileURLToPath(import.meta.url));
    const shown = relative(process.cwd(), join(here, "node_modules", "lmdb")) || ".";
    const why =
      err.code === "ERR_MODULE_NOT_FOUND" && /'lmdb'/.test(String(err.message))
        ? `${shown} is missing`
        : String(err.message ?? e).split("\n")[0]!.replaceAll(here + sep, "");
    throw new JobError(
      "FLOW5021",
      `the disk state backend's store (lmdb) cannot be loaded: ${why}`,
      "keep the node_modules folder that `flowc compile` wrote beside the bundle together with it, or compile the job again on the platform it runs on",
    );
  }
}

/**
 * Opens the working copy. Its durability does not matter (it is rebuilt from a checkpoint at
 * every start), so it is written without fsync.
 */
export function openLmdb(lib: LmdbModule, path: string): Lmdb {
  try {
    return lib.open<Buffer, Buffer>({ path, keyEncoding: "binary", encoding: "binary", noSync: true, cache: false, mapSize: 2 ** 36 });
  } catch (e) {
    throw new JobError("FLOW5021", `the disk state backend's store (lmdb) cannot be opened in ${path}: ${String((e as Error).message).split("\n")[0]}`, "compile the job again on the platform it runs on");
  }
}
