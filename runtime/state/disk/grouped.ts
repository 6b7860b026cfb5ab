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

/** A snapshot file's bytes made one key group at a time, in increasing order. */
class GroupedEncoder {
  private readonly blobs: Buffer[] = [];
  private readonly index: SnapshotIndex;
  private offset = 0;
  keys = 0;

  constructor(uid: string, kind: "full" | "delta", fields: number, typedKeys: boolean, meta: unknown) {
    this.index = { uid, kind, fields, typedKeys, keyGroups: [] };
    if (keyGroupCount() !== DEFAULT_KEY_GROUPS) this.index.groups = keyGroupCount();
    if (meta !== undefined) this.index.meta = meta;
  }

  add(g: GroupRows): void {
    const blob = serialize([g.mapKeys, g.typedKeys, g.columns]);
    this.index.keyGroups.push({ kg: g.kg, offset: this.offset, length: blob.length, keys: g.mapKeys.length });
    this.blobs.push(blob);
    this.offset += blob.length;
    this.keys += g.mapKeys.length;
  }

  finish(): { buffers: Buffer[]; keys: number; bytes: number } {
    const json = Buffer.from(JSON.stringify(this.index));
    const head = Buffer.alloc(16);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(SNAPSHOT_VERSION, 8);
    head.writeUInt32LE(json.length, 12);
    return { buffers: [head, json, ...this.blobs], keys: this.keys, bytes: 16 + json.length + this.offset };
  }
}

/**
 * Encodes a snapshot file from key groups given one at a time, in increasing order (the disk
 * backend reads its store group by group): each group is serialised as it comes, so that
 * only the encoded bytes are held, never every key's state at once. The same format as
 * encodeSnapshot's (kept here, so that memory-backed bundles do not carry it).
 */
export function encodeGroupedSnapshot(uid: string, kind: "full" | "delta", fields: number, typedKeys: boolean, groups: Iterable<GroupRows>, meta?: unknown): { buffers: Buffer[]; keys: number; bytes: number } {
  const e = new GroupedEncoder(uid, kind, fields, typedKeys, meta);
  for (const g of groups) e.add(g);
  return e.finish();
}

/**
 * encodeGroupedSnapshot, giving the event loop a turn after each key group (a full
 * checkpoint made after the pause, while the job goes on). `intact` is asked at the end:
 * a scan cut short (its store closed) must not pass for a whole snapshot.
 */
export async function encodeGroupedSnapshotLater(uid: string, kind: "full" | "delta", fields: number, typedKeys: boolean, groups: Iterator<GroupRows>, meta: unknown, intact: () => boolean): Promise<{ buffers: Buffer[]; keys: number; bytes: number }> {
  const e = new GroupedEncoder(uid, kind, fields, typedKeys, meta);
  for (let g = groups.next(); !g.done; g = groups.next()) {
    e.add(g.value);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!intact()) throw new Error("the disk state backend's store was closed while a full checkpoint was read from it");
  return e.finish();
}
