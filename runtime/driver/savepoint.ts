// Taking a savepoint, between two batches: the state and positions at that boundary,
// written to a new folder (runtime/savepoint/). Under checkpoints, a checkpoint taken at the
// same cut commits the output the savepoint covers, so its sink lengths are committed ones.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Manifest } from "../api.js";
import type { Coordinator } from "../checkpoint/coordinator.js";
import { localPath, type SourcePosition } from "../connectors/contract.js";
import { JobError } from "../errors.js";
import { FlowRuntimeError } from "../lib.js";
import type { Log } from "../log.js";
import type { NatsParts } from "../nats/parts.js";
import type { StatefulOperator } from "../operator.js";
import { loadAdmin } from "../admin-load.js";
import { newSavepointFolder } from "../savepoint/root.js";
import type { Live } from "./live.js";
import type { Outputs } from "./open.js";

/** What a savepoint is taken of. */
export interface SavepointParts {
  m: Manifest;
  operators: StatefulOperator[];
  /** Each source's position (and watermark) at this boundary. */
  positions: () => { name: string; position: SourcePosition }[];
  outputs: Outputs;
  coordinator: Coordinator | null;
  /** The savepoint root (--savepoint-dir). */
  root: string;
  log: Log;
  /** The bundle's NATS part, for savepoints into an object store bucket (`nats:<bucket>/<name>`). */
  nats: NatsParts | null;
  /** Several instances: which one took the savepoint (driver/rescale.ts reads it). */
  instance?: { index: number; count: number; groups: number; run: string };
}

/** Takes a savepoint into a new folder under `dir` (in the savepoint root); its path. */
export async function takeSavepoint(p: SavepointParts, dir: string): Promise<string> {
  const { m, coordinator } = p;
  const ops = (await loadAdmin()).savepoints;
  let committed: Promise<void> | null = null;
  if (coordinator) {
    await coordinator.settle();
    committed = coordinator.start("savepoint");
  }
  const operators = m.operators.map((op) => ({ op, ...ops.captureOperator(op, p.operators) }));
  const at = p.positions();
  if (committed) {
    await committed;
    coordinator!.check();
  }
  for (const w of p.outputs.all) await w.flush();
  // Into a bucket: written to a local folder first, then put there (_savepoint.json last).
  const local = dir.startsWith("nats:") ? mkdtempSync(join(tmpdir(), "flowc-savepoint-")) : null;
  // An instance's savepoint says which it is in its name: the savepoints of all instances go
  // into one folder (or bucket path) side by side.
  const path = newSavepointFolder(local ?? p.root, local ?? dir, p.instance ? `${m.job}-i${p.instance.index}` : m.job);
  await ops.writeSavepoint(path, {
    format: "flowc-savepoint",
    version: 1,
    job: m.job,
    createdAt: new Date().toISOString(),
    compiler: m.compiler,
    flowFile: m.flowFile,
    sources: at.map((pos, i) => {
      // Past the job's sources: the readers of exchanges (several instances).
      const s = m.sources[i];
      return { name: pos.name, connector: s ? s.connector : "exchange", path: s ? localPath(s) : null, position: pos.position };
    }),
    operators: operators.map(({ op, parts, meta }) => ({
      uid: op.uid,
      kind: op.kind,
      key: op.key,
      states: op.states,
      spec: op.spec,
      timers: op.timers,
      ttl: op.ttl,
      meta,
      parts: parts.map((part) => ({ name: part.name, internal: part.internal, file: join(op.uid, `${part.internal ? "_" : ""}${part.name}.jsonl`), keys: part.keys, text: part.text })),
    })),
    sinks: p.outputs.all.flatMap((w) => w.savepointAt() ?? []),
    ...(m.keyGroups !== 128 ? { keyGroups: m.keyGroups } : {}),
    ...(p.instance ? { instance: p.instance } : {}),
  } as Parameters<typeof ops.writeSavepoint>[1]);
  if (local) {
    try {
      const where = await p.nats!.uploadSavepoint(path, dir);
      p.log.info(`savepoint taken: ${where}`);
      return where;
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  }
  p.log.info(`savepoint taken: ${path}`);
  return path;
}

/** Takes the savepoints asked for over the admin endpoint since the last batch. */
export async function serveRequests(p: SavepointParts, live: Live): Promise<void> {
  while (live.requests.length) {
    const r = live.requests.shift()!;
    try {
      const started = Date.now();
      const path = await takeSavepoint(p, r.dir);
      r.taken?.();
      live.onSavepoint({ path, createdAt: new Date(started).toISOString(), trigger: r.trigger, durationMs: Date.now() - started });
      r.resolve(path);
    } catch (e) {
      r.reject(e as Error);
      if (e instanceof JobError || e instanceof FlowRuntimeError) throw e;
      p.log.warn(`savepoint failed: ${(e as Error).message}`);
    }
  }
}
