// The NATS part of a bundle, handed to main() by the bundle's entry when the job uses NATS
// (a nats connector, or checkpoints in an object store bucket: runtime/connectors/table.ts
// `usesNats`). The driver reaches the object store and the connections only through this
// object, so a job without NATS carries none of the client.

import type { Log } from "../log.js";
import { closeLinks, configure } from "./connection.js";
import { checkLocks, releaseAll } from "./locks.js";
import { CheckpointBucket, downloadSavepoint, uploadSavepoint } from "./store.js";
import type { Manifest } from "../api.js";
import { Exchanges } from "./instances.js";
import * as instanceRun from "./instance-run.js";
import { savepointForInstance } from "./rescale.js";

export interface NatsParts {
  configure(s: { url: string | undefined; timeoutMs: number; job: string; log: Log; replicas?: number }): void;
  /** The checkpoints at `nats:<bucket>`: connected, locked, downloaded into a local folder. */
  checkpoints(where: string): Promise<CheckpointBucket>;
  uploadSavepoint(localDir: string, target: string): Promise<string>;
  downloadSavepoint(where: string): Promise<string>;
  /** Several instances: sources, storage, files and checkpoint records of an instance (instance-run.ts). */
  instance: typeof instanceRun;
  /** Several instances: the exchanges of a run (instances.ts, exchange.ts). */
  exchanges(m: Manifest, sourceCount: number): Exchanges;
  /** Rescaling: the savepoint an instance starts from, made from a folder of every old instance's (rescale.ts). */
  savepointForInstance(dir: string, shown: string, m: Manifest, j: number, count: number): Promise<{ path: string; run: string }>;
  /** Raises a lock lost to another copy of the job. */
  check(): void;
  /** Releases the locks and closes the connections (the process is ending). */
  close(): Promise<void>;
}

export const parts: NatsParts = {
  configure,
  checkpoints: (where) => CheckpointBucket.open(where),
  uploadSavepoint,
  downloadSavepoint,
  instance: instanceRun,
  exchanges: (m, sourceCount) => new Exchanges(m, sourceCount),
  savepointForInstance,
  check: checkLocks,
  async close() {
    await releaseAll();
    await closeLinks();
  },
};
