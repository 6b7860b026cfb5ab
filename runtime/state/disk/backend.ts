// The disk state backend, as a bundle holds it: only the bundles of jobs with
// `state { backend disk }` import this module (templates/entry.ts.hbs, compiler/bundle.ts),
// so that no other job carries it. The driver opens the store once per run (run.ts) and the
// JobContext creates each keyed operator's table in it (driver/context.ts).

import type { StateManifest, StateObject, TimersHandle } from "../../api.js";
import type { WindowAggregate } from "../../time/window.js";
import type { StateStoreStatus } from "../../admin.js";
import type { OperatorFactories, StatefulOperator } from "../../operator.js";
import { DiskKeyedState } from "./keyed.js";
import { DiskDedup } from "./dedup.js";
import { DiskTimerService } from "./timers.js";
import { DiskFixedWindows } from "./windows.js";
import { DiskSessionWindows } from "./sessions.js";
import { DiskCountWindows } from "./count-windows.js";
import { DiskJoin } from "./joins.js";
import { DiskWindowJoin } from "./window-join.js";
import { DiskSessionJoin } from "./session-join.js";
import { DiskTemporalJoin } from "./temporal-join.js";
import { loadLmdb } from "./native.js";
import { checkStateFolder, DiskStore } from "./store.js";

/** One run's store, and the keyed state it backs. */
export interface StateBackendRun {
  readonly store: DiskStore;
  /** The store, for /status and /metrics. */
  status(): StateStoreStatus;
  keyedState<S extends StateObject>(uid: string, fields: number, create: (key: unknown) => S, typedKeys: boolean): DiskKeyedState<S> & StatefulOperator;
  /** A process block's timers (and ttl expiry times), as runtime/time/timers.ts's but in the store. */
  timers(uid: string, typedKeys: boolean): TimersHandle & StatefulOperator;
  /**
   * The operators whose state is in the store, in place of the bundle's (runtime/time/):
   * dedup, windows (tumbling, sliding, session, count) and joins (interval, unbounded,
   * window, session window, temporal).
   */
  readonly operators: OperatorFactories;
}

export interface StateBackend {
  /** Refuses a folder that is not a state folder (FLOW5022), before anything is written or locked. */
  check(dir: { path: string; shown: string }): void;
  /** Opens the store, empty (FLOW5021 when lmdb cannot be loaded). */
  open(state: StateManifest, dir: { path: string; shown: string }, checkpoints: boolean): Promise<StateBackendRun>;
}

export const backend: StateBackend = {
  check(dir) {
    checkStateFolder(dir.path, dir.shown);
  },
  async open(state, dir, checkpoints) {
    const lib = await loadLmdb();
    const store = new DiskStore(lib, { dir: dir.path, shown: dir.shown, cache: state.cache, checkpoints });
    return {
      store,
      status() {
        const { hits, misses } = store.cacheStats();
        return { backend: "disk", dir: dir.shown, keys: store.keys(), cacheHits: hits, cacheMisses: misses, sizeOnDiskBytes: store.sizeOnDisk(), writtenBytes: store.written };
      },
      keyedState: (uid, fields, create, typedKeys) => new DiskKeyedState(store, uid, fields, create, typedKeys),
      timers: (uid, typedKeys) => new DiskTimerService(store, `${uid}$timers`, typedKeys),
      operators: {
        dedup: (uid, within) => new DiskDedup(store, uid, within),
        join: (uid, spec, select, emit) => {
          if (spec.kind !== "window") return new DiskJoin(store, uid, spec, select, emit);
          return spec.window?.kind === "session" ? new DiskSessionJoin(store, uid, spec, select, emit) : new DiskWindowJoin(store, uid, spec, select, emit);
        },
        temporalJoin: (uid, spec, select, emit) => new DiskTemporalJoin(store, uid, spec, select, emit),
        countWindow: (uid, spec, agg, emit) => new DiskCountWindows(store, uid, spec, agg as unknown as WindowAggregate<never>, emit),
        window: (uid, spec, agg, emit, late) => {
          const code = agg as unknown as WindowAggregate<never>;
          return spec.kind === "session" ? new DiskSessionWindows(store, uid, spec, code, emit, late) : new DiskFixedWindows(store, uid, spec, code, emit, late);
        },
      },
    };
  },
};
