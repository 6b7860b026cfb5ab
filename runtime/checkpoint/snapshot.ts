// Operator state <-> bytes. A snapshot file holds one operator's state, organised by key
// group (hash(key) mod the job's key groups, `key_groups` in the state block, default 128, so
// that state can be split across instances) and stored
// column-wise per key group (one array per state field), each key group serialised with
// v8.serialize (which keeps maps, sets, lists and records). A full snapshot holds every key;
// a delta only the keys changed since the previous checkpoint.
//
// File layout (version 1):
//   "FLOWSNAP" | uint32 version | uint32 index length | index (JSON) | key-group blobs
// The index says which key groups are in the file, where, and how many keys each holds.

import { deserialize, serialize } from "node:v8";
import type { MapKey } from "../api.js";

export const DEFAULT_KEY_GROUPS = 128;
/** The job's key-group count (manifest.keyGroups): set once per run, before any state is touched. */
let KEY_GROUPS = DEFAULT_KEY_GROUPS;

export function setKeyGroups(n: number): void {
  KEY_GROUPS = n;
}

export function keyGroupCount(): number {
  return KEY_GROUPS;
}
export const MAGIC = Buffer.from("FLOWSNAP");
export const SNAPSHOT_VERSION = 1;

/** What the generated state classes provide (see runtime/api.ts StateObject). */
export interface Snapshottable {
  $dirty: boolean;
  $saveTo(columns: unknown[][]): void;
  $loadFrom(columns: readonly unknown[][], index: number): void;
}

export interface SnapshotIndex {
  uid: string;
  kind: "full" | "delta";
  /** The number of state columns (fields) per key. */
  fields: number;
  /** Whether keys are records (typed keys stored beside their encoded map keys). */
  typedKeys: boolean;
  keyGroups: { kg: number; offset: number; length: number; keys: number }[];
  /** The key-group count the keys were split by (absent: 128, files written before it was a setting). */
  groups?: number;
  /** Keys removed since the previous snapshot (deltas only). */
  deleted?: MapKey[];
  /** Operator-wide values (a window operator's watermark and counters). */
  meta?: unknown;
}

/** The key group of a map key: a stable hash, the same in every process. */
export function keyGroup(k: MapKey): number {
  if (typeof k === "number") {
    if (Number.isInteger(k) && Math.abs(k) < 2 ** 31) return ((k % KEY_GROUPS) + KEY_GROUPS) % KEY_GROUPS;
    k = String(k);
  } else if (typeof k === "boolean") return k ? 1 % KEY_GROUPS : 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) {
    h ^= k.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % KEY_GROUPS;
}

interface Group {
  mapKeys: MapKey[];
  typedKeys: unknown[] | null;
  columns: unknown[][];
}

function newGroup(fields: number, typed: boolean): Group {
  const columns: unknown[][] = [];
  for (let i = 0; i < fields; i++) columns.push([]);
  return { mapKeys: [], typedKeys: typed ? [] : null, columns };
}

/**
 * Encodes keys and their state objects (two parallel iterators) into one snapshot file's
 * bytes; resets each object's changed flag (when changes are tracked).
 */
export function encodeSnapshot(uid: string, kind: "full" | "delta", fields: number, typedKeys: boolean, keys: Iterator<MapKey>, objects: Iterator<Snapshottable & { $key?: unknown }>, count: number, resetChanged = true, meta?: unknown, deleted?: MapKey[]): { buffers: Buffer[]; keys: number; bytes: number } {
  const groups: (Group | undefined)[] = new Array(KEY_GROUPS);
  for (let i = 0; i < count; i++) {
    const mk = keys.next().value as MapKey;
    const s = objects.next().value as Snapshottable & { $key?: unknown };
    const kg = keyGroup(mk);
    let g = groups[kg];
    if (g === undefined) g = groups[kg] = newGroup(fields, typedKeys);
    g.mapKeys.push(mk);
    if (g.typedKeys) g.typedKeys.push(s.$key);
    s.$saveTo(g.columns);
    if (resetChanged) s.$dirty = false;
  }
  const blobs: Buffer[] = [];
  const index: SnapshotIndex = { uid, kind, fields, typedKeys, keyGroups: [] };
  if (KEY_GROUPS !== DEFAULT_KEY_GROUPS) index.groups = KEY_GROUPS;
  if (meta !== undefined) index.meta = meta;
  if (deleted && deleted.length) index.deleted = deleted;
  let offset = 0;
  for (let kg = 0; kg < KEY_GROUPS; kg++) {
    const g = groups[kg];
    if (g === undefined) continue;
    const blob = serialize([g.mapKeys, g.typedKeys, g.columns]);
    index.keyGroups.push({ kg, offset, length: blob.length, keys: g.mapKeys.length });
    blobs.push(blob);
    offset += blob.length;
  }
  const json = Buffer.from(JSON.stringify(index));
  const head = Buffer.alloc(16);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(SNAPSHOT_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  return { buffers: [head, json, ...blobs], keys: count, bytes: 16 + json.length + offset };
}

/** Reads a snapshot file; calls `remove` for deleted keys, then `apply` with every key and its columns. */
export function decodeSnapshot(bytes: Buffer, apply: (mapKey: MapKey, typedKey: unknown, columns: readonly unknown[][], index: number) => void, remove?: (mapKey: MapKey) => void): SnapshotIndex {
  if (bytes.length < 16 || !bytes.subarray(0, 8).equals(MAGIC)) throw new Error("not a flowc snapshot file");
  const version = bytes.readUInt32LE(8);
  if (version !== SNAPSHOT_VERSION) throw new Error(`snapshot format version ${version} is not supported (this runtime reads version ${SNAPSHOT_VERSION})`);
  const len = bytes.readUInt32LE(12);
  const index = JSON.parse(bytes.subarray(16, 16 + len).toString("utf8")) as SnapshotIndex;
  const base = 16 + len;
  if (index.deleted && remove) for (const k of index.deleted) remove(k);
  for (const g of index.keyGroups) {
    const [mapKeys, typedKeys, columns] = deserialize(bytes.subarray(base + g.offset, base + g.offset + g.length)) as [MapKey[], unknown[] | null, unknown[][]];
    for (let i = 0; i < mapKeys.length; i++) apply(mapKeys[i]!, typedKeys ? typedKeys[i] : mapKeys[i], columns, i);
  }
  return index;
}
