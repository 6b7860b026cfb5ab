// Checkpoint benchmarks on the runtime's own code paths (the coordinator, snapshot encoding,
// storage), against `v8.serialize` + write + fsync of the same data in the same process.
// Prints one JSON object; bench/run.mjs turns it into table rows.

import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serialize } from "node:v8";
import type { Manifest } from "../runtime/api.js";
import { Coordinator } from "../runtime/checkpoint/coordinator.js";
import { listCheckpoints, loadVerified } from "../runtime/checkpoint/storage.js";
import { Log } from "../runtime/log.js";
import { KeyedStateStore } from "../runtime/state.js";

const KEYS = Number(process.argv[2] ?? 1_000_000);
const CHANGED = Number(process.argv[3] ?? 10_000);

/** The shape of a generated state class: a running count and sum per key. */
class CountState {
  $dirty = false;
  n = 0;
  sum = 0;
  constructor(readonly $key: number) {}
  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.n);
    c[1]!.push(this.sum);
  }
  $loadFrom(c: readonly unknown[][], i: number): void {
    this.n = c[0]![i] as number;
    this.sum = c[1]![i] as number;
  }
}

function fill(): KeyedStateStore<CountState> {
  const store = new KeyedStateStore<CountState>("counts", 2, (k) => new CountState(k as number));
  for (let k = 0; k < KEYS; k++) {
    const s = store.get(k, k);
    s.n = (k % 97) + 1;
    s.sum = k * 3;
  }
  return store;
}

const manifest: Manifest = {
  formatVersion: 1,
  job: "bench",
  flowFile: "bench.flow",
  compiler: "bench",
  sources: [],
  sinks: [],
  operators: [{ uid: "counts", kind: "aggregate", key: { t: "int" }, states: [{ name: "n", type: { t: "int" } }, { name: "sum", type: { t: "int" } }], spec: null, timers: false, ttl: [] }],
  checkpoint: null,
  restart: null,
  state: null,
  keyGroups: 128,
};

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "flowc-bench-chk-"));
  const log = new Log("bench", "error");
  const store = fill();
  const policy = { every: 1, mode: "exactly_once" as const, storage: root, retain: 2, timeout: 600_000, minPause: 0, incremental: true };
  const coord = new Coordinator(policy, root, manifest, { operators: [store], positions: () => [], sinks: [] }, log, null, 1);

  // Full checkpoint of all keys (capture, write, checksums, metadata): the first one is full.
  let t = performance.now();
  await coord.start("final");
  const fullMs = performance.now() - t;
  const fullPause = coord.lastPauseMs;

  // The baseline: v8.serialize of the same data, written and fsynced.
  t = performance.now();
  const bytes = serialize(store.map);
  const fd = openSync(join(root, "baseline.bin"), "w");
  writeSync(fd, bytes);
  fsyncSync(fd);
  closeSync(fd);
  const baselineMs = performance.now() - t;

  // Incremental checkpoints, each after CHANGED keys changed: their pause (the capture).
  // The median of five, so that one collection of a 1M-object heap does not decide it.
  const pauses: number[] = [];
  const durations: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < CHANGED; i++) {
      const k = (i * 97 + round * 7919) % KEYS;
      store.get(k, k).n++;
    }
    t = performance.now();
    await coord.start("final");
    durations.push(performance.now() - t);
    pauses.push(coord.lastPauseMs);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const incrementalMs = median(durations);
  const incrementalPause = median(pauses);

  // Restore: verify the newest checkpoint (all checksums) and load its chain into a new store.
  t = performance.now();
  const id = listCheckpoints(root)[0]!;
  const meta = loadVerified(root, id);
  const restored = new KeyedStateStore<CountState>("counts", 2, (k) => new CountState(k as number));
  for (const f of meta.operators[0]!.files) restored.restore(readFileSync(join(root, f)));
  const restoreMs = performance.now() - t;
  if (restored.size !== KEYS) throw new Error(`restored ${restored.size} keys, expected ${KEYS}`);

  rmSync(root, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ keys: KEYS, changed: CHANGED, fullMs, fullPause, baselineMs, baselineBytes: bytes.length, incrementalMs, incrementalPause, restoreMs }) + "\n");
}

void main();
