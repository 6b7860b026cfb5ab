// A snapshot file written one key group at a time (checkpoint/snapshot.ts's format): the disk
// backend's full checkpoint.

import { serialize } from "node:v8";
import type { MapKey } from "../../api.js";
import { keyGroupCount, MAGIC, SNAPSHOT_VERSION, DEFAULT_KEY_GROUPS, type SnapshotIndex } from "../../checkpoint/snapshot.js";

/** One key group's keys and columns, as a snapshot file holds them. */
export interface GroupRows {
  kg: number;
  mapKeys: MapKey[];
  typedKeys: unknown[] | null;
  columns: unknown[][];
}

/**
 * Encodes a snapshot file from key groups given one at a time, in increasing order (the disk
 * backend reads its store group by group): each group is serialised as it comes, so that
 * only the encoded bytes are held, never every key's state at once. The same format as
 * encodeSnapshot's (kept here, so that memory-backed bundles do not carry it).
 */
export function encodeGroupedSnapshot(uid: string, kind: "full" | "delta", fields: number, typedKeys: boolean, groups: Iterable<GroupRows>, meta?: unknown): { buffers: Buffer[]; keys: number; bytes: number } {
  const blobs: Buffer[] = [];
  const index: SnapshotIndex = { uid, kind, fields, typedKeys, keyGroups: [] };
  if (keyGroupCount() !== DEFAULT_KEY_GROUPS) index.groups = keyGroupCount();
  if (meta !== undefined) index.meta = meta;
  let offset = 0;
  let keys = 0;
  for (const g of groups) {
    const blob = serialize([g.mapKeys, g.typedKeys, g.columns]);
    index.keyGroups.push({ kg: g.kg, offset, length: blob.length, keys: g.mapKeys.length });
    blobs.push(blob);
    offset += blob.length;
    keys += g.mapKeys.length;
  }
  const json = Buffer.from(JSON.stringify(index));
  const head = Buffer.alloc(16);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(SNAPSHOT_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  return { buffers: [head, json, ...blobs], keys, bytes: 16 + json.length + offset };
}
