// Keyed state: one state object per key, created on first use by the operator's generated
// state class. All of an operator's state for a key lives in that one object.

import type { KeyedState, MapKey } from "./api.js";

export class KeyedStateStore<S> implements KeyedState<S> {
  readonly map = new Map<MapKey, S>();

  constructor(
    readonly uid: string,
    private readonly create: (key: unknown) => S,
  ) {}

  get(mapKey: MapKey, key: unknown): S {
    let s = this.map.get(mapKey);
    if (s === undefined) {
      s = this.create(key);
      this.map.set(mapKey, s);
    }
    return s;
  }

  get size(): number {
    return this.map.size;
  }
}

/** The state of an operator on an unkeyed stream: a single object. */
export class GlobalState<S> {
  constructor(
    readonly uid: string,
    readonly value: S,
  ) {}
}
