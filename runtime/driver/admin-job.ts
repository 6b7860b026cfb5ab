// The job as the admin endpoint and the status line see it (runtime/admin.ts): status,
// history, savepoint and stop requests. It rides in the embedded chunk with them
// (admin.ts exports it), so a job started without --admin-port or --status-line carries
// it only there.

import { existsSync, readFileSync } from "node:fs";
import type { AdminJob } from "../admin.js";
import type { Manifest } from "../api.js";
import { SavepointDirError, savepointTarget } from "../savepoint/root.js";
import type { Flags, Live, Stop } from "./live.js";

/** A refused savepoint folder, from this chunk's code or the bundle's (two copies of the class). */
function isDirError(e: unknown): e is Error {
  return e instanceof SavepointDirError || (e instanceof Error && e.name === "SavepointDirError");
}

/** The job as the admin endpoint asks it; `refused` makes the endpoint's 400 answers. */
export function adminJob(live: Live, m: Manifest, flags: Flags, stop: Stop, refused: (message: string) => Error, nats: boolean): AdminJob {
  const savepoint = async (dir: string | null, trigger: "request" | "stop" = "request", taken?: () => void): Promise<string> => {
    if (stop.requested) throw new Error("the job is stopping");
    let target: string;
    try {
      // Checked now, so a refused folder is answered at once (400), not after the batch.
      if (dir?.startsWith("nats:")) {
        if (!nats) throw new SavepointDirError(`"dir" ${JSON.stringify(dir)} is in a NATS object store, and this job's bundle has no NATS client (its job uses no nats connector or storage); compile it with \`flowc compile --nats\``);
        if (!/^nats:[A-Za-z0-9_-]+(\/[^\0]*)?$/.test(dir) || dir.split("/").some((p) => p === ".." || p === ".")) throw new SavepointDirError(`"dir" ${JSON.stringify(dir)} is not nats:<bucket>/<name> (a bucket of letters, digits, - and _; no . or .. in the name)`);
        target = dir;
      } else target = savepointTarget(flags.savepointDir, dir);
    } catch (e) {
      if (isDirError(e)) throw refused(e.message);
      throw e;
    }
    try {
      return await new Promise<string>((resolveP, reject) => live.requests.push({ dir: target, trigger, resolve: resolveP, reject, ...(taken ? { taken } : {}) }));
    } catch (e) {
      if (isDirError(e)) throw refused(e.message);
      throw e;
    }
  };
  return {
    status: () => {
      const now = Date.now();
      const base = { job: m.job, state: stop.requested ? "stopping" : live.state, startedAt: new Date(live.startedAt).toISOString(), uptimeSeconds: (now - live.startedAt) / 1000 } as const;
      return { ...base, ...(live.status?.() ?? { sources: [], operators: [], sinks: [], lastCheckpoint: null }) };
    },
    history: () => {
      if (!live.historyFile || !existsSync(live.historyFile)) return [];
      return readFileSync(live.historyFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
    },
    historyFile: () => live.historyFile,
    graph: () => live.graph,
    savepoints: () => [...live.savepoints, ...(live.restoredFrom ? [live.restoredFrom] : [])],
    checkpointStats: () => live.stats,
    savepoint,
    stop: async (sp) => {
      // The stop is asked for the moment the savepoint is taken, before the loop reads on:
      // what the final checkpoint commits is then what the savepoint holds.
      const path = sp ? await savepoint(sp.dir, "stop", () => stop.request()) : null;
      stop.request();
      return path;
    },
  };
}
