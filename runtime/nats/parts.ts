// The NATS part of a bundle, handed to main() by the bundle's entry when the job uses NATS
// (a nats connector, or checkpoints in an object store bucket: runtime/connectors/table.ts
// `usesNats`). The driver reaches the object store and the connections only through this
// object, so a job without NATS carries none of the client.

import type { Log } from "../log.js";
import { closeLinks, configure } from "./connection.js";
import { checkLocks, releaseAll } from "./locks.js";
import { CheckpointBucket, downloadSavepoint, uploadSavepoint } from "./store.js";
import { openReader, openWriter, readerBinding, type ExchangeReader, type ExchangeWriter, type InstanceInfo } from "./exchange.js";
import type { ExchangeManifest, SourceBinding } from "../api.js";
import type { SinkContext } from "../connectors/contract.js";

export interface NatsParts {
  configure(s: { url: string | undefined; timeoutMs: number; job: string; log: Log; replicas?: number }): void;
  /** The checkpoints at `nats:<bucket>`: connected, locked, downloaded into a local folder. */
  checkpoints(where: string): Promise<CheckpointBucket>;
  uploadSavepoint(localDir: string, target: string): Promise<string>;
  downloadSavepoint(where: string): Promise<string>;
  /** Several instances: an exchange's writer and reader (exchange.ts), and the reader's binding. */
  openExchangeWriter(x: ExchangeManifest, index: number, inst: InstanceInfo, ctx: SinkContext, url: string | null): Promise<ExchangeWriter>;
  openExchangeReader(x: ExchangeManifest, inst: InstanceInfo, job: string, url: string | null, log: Log): Promise<ExchangeReader>;
  exchangeBinding(entry: (v: unknown, k: unknown, t: number) => void, wm: ((w: number) => void) | null, status: ((on: boolean) => void) | null): SourceBinding<unknown>;
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
  openExchangeWriter: openWriter,
  openExchangeReader: openReader,
  exchangeBinding: readerBinding,
  check: checkLocks,
  async close() {
    await releaseAll();
    await closeLinks();
  },
};
