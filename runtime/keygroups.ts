// Key groups (LANGUAGE.md 7.1, 10.1): hash(key) mod the job's key-group count. The unit of
// ownership when a job runs as several instances (instance i owns the groups g with
// g mod N = i) and of rescaling. The hash is the checkpoints' (checkpoint/snapshot.ts):
// FNV-1a of the key's map key; small ints are their own hash.

import { keyOf } from "./lib.js";

/** The key group of a typed key (a record key by its map key, as generated code makes it). */
export function groupOf(key: unknown, groups: number): number {
  let k: unknown = key;
  if (typeof k === "number") {
    if (Number.isInteger(k) && Math.abs(k) < 2 ** 31) return ((k % groups) + groups) % groups;
    k = String(k);
  } else if (typeof k === "boolean") return k ? 1 % groups : 0;
  else if (typeof k !== "string") k = keyOf(k);
  const s = k as string;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % groups;
}
