// The savepoint format, version 1 (docs/savepoints.md). A savepoint is a folder that holds
// everything needed to start a job again, possibly a changed one:
//
//   savepoint-<job>-<time>/
//     _savepoint.json                  metadata: sources and their positions, operators,
//                                      their states with types, parts, checksums
//     <uid>/<state>.jsonl              one line per key: {"key": …, "value": …} in the
//                                      canonical encoding (canonical.ts)
//     <uid>/_<part>.jsonl              runtime structures (windows, timers, join and dedup
//                                      buffers), same line shape
//
// _savepoint.json is written last, atomically, with the sha256 of every file and of
// itself; a folder without it is not a savepoint.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TypeDesc } from "../api.js";
import { writeDurable, writeFileAtomic } from "../checkpoint/storage.js";
import type { SinkAt, SourcePosition } from "../connectors/contract.js";
import { decodeCanonical } from "./canonical.js";

export const SAVEPOINT_FORMAT = "flowc-savepoint";
export const SAVEPOINT_VERSION = 1;
export const SAVEPOINT_METADATA = "_savepoint.json";

export interface SavepointPart {
  /** A state's name, or (internal) the name of a runtime structure: windows, timers, join, dedup. */
  name: string;
  internal: boolean;
  /** Relative to the savepoint folder. */
  file: string;
  keys: number;
  bytes: number;
  sha256: string;
}

export interface SavepointOperator {
  uid: string;
  kind: string;
  key: TypeDesc | null;
  states: { name: string; type: TypeDesc }[];
  spec: string | null;
  timers: boolean;
  ttl: string[];
  parts: SavepointPart[];
  /** Operator-wide values (watermark, counters). */
  meta: unknown;
}

export interface SavepointSource {
  name: string;
  connector: string;
  /** The file a file source reads. */
  path: string | null;
  position: SourcePosition;
}

/** A file sink's (or dead-letter file's) length at the savepoint. */
export type SavepointSink = SinkAt;

export interface SavepointMetadata {
  format: typeof SAVEPOINT_FORMAT;
  version: typeof SAVEPOINT_VERSION;
  job: string;
  createdAt: string;
  compiler: string;
  flowFile: string;
  sources: SavepointSource[];
  operators: SavepointOperator[];
  sinks: SavepointSink[];
  /** The job's key-group count (absent: 128, savepoints written before it was a setting). */
  keyGroups?: number;
  /** sha256 of this object's JSON without this field. */
  checksum: string;
}

/** One line of a part file. `written`: when a ttl state was last written (event time). */
export interface SavepointRow {
  key: unknown;
  value: unknown;
  written?: number;
}

export class SavepointError extends Error {}

function digest(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Writes a captured savepoint's files, then its metadata, durably, into `dir`, a new empty
 * folder (savepoint/root.ts makes it). The operators' subfolders are made with a plain
 * mkdir each: a recursive mkdir can loop for ever on some file systems (see root.ts).
 */
export async function writeSavepoint(dir: string, meta: Omit<SavepointMetadata, "checksum" | "operators"> & { operators: (Omit<SavepointOperator, "parts"> & { parts: (Omit<SavepointPart, "bytes" | "sha256"> & { text: string })[] })[] }): Promise<SavepointMetadata> {
  const operators: SavepointOperator[] = [];
  for (const op of meta.operators) {
    const parts: SavepointPart[] = [];
    for (const p of op.parts) {
      const sub = dirname(join(dir, p.file));
      if (sub !== dir && !existsSync(sub)) mkdirSync(sub);
      const buf = Buffer.from(p.text);
      await writeDurable(join(dir, p.file), [buf]);
      parts.push({ name: p.name, internal: p.internal, file: p.file, keys: p.keys, bytes: buf.length, sha256: digest(buf) });
    }
    operators.push({ ...op, parts });
  }
  const body: Omit<SavepointMetadata, "checksum"> = { ...meta, operators };
  const full: SavepointMetadata = { ...body, checksum: digest(JSON.stringify(body)) };
  writeFileAtomic(join(dir, SAVEPOINT_METADATA), JSON.stringify(full, null, 2) + "\n");
  return full;
}

/**
 * Reads a savepoint's metadata and checks it (and, with `verifyFiles`, every file's
 * checksum). Messages name paths as `shown` (the folder as the user gave it).
 */
export function readSavepoint(dir: string, verifyFiles = true, shown = dir): SavepointMetadata {
  const metaPath = join(dir, SAVEPOINT_METADATA);
  const shownMeta = join(shown, SAVEPOINT_METADATA);
  if (!existsSync(dir)) throw new SavepointError(`${shown} does not exist`);
  if (!existsSync(metaPath)) throw new SavepointError(`${shown} is not a savepoint (it has no ${SAVEPOINT_METADATA}; a savepoint still being written has none yet)`);
  let meta: SavepointMetadata;
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8")) as SavepointMetadata;
  } catch (e) {
    throw new SavepointError(`${shownMeta} is not valid JSON (${(e as Error).message})`);
  }
  if (meta.format !== SAVEPOINT_FORMAT) throw new SavepointError(`${shownMeta} is not a flowc savepoint`);
  if (meta.version !== SAVEPOINT_VERSION) throw new SavepointError(`${shown} is savepoint format version ${meta.version}; this runtime reads version ${SAVEPOINT_VERSION}`);
  const { checksum, ...body } = meta;
  if (digest(JSON.stringify(body)) !== checksum) throw new SavepointError(`${shownMeta} does not match its checksum (the file was changed or damaged)`);
  if (verifyFiles) {
    for (const op of meta.operators) {
      for (const p of op.parts) {
        const path = join(dir, p.file);
        if (!existsSync(path)) throw new SavepointError(`${join(shown, p.file)} is missing`);
        if (digest(readFileSync(path)) !== p.sha256) throw new SavepointError(`${join(shown, p.file)} does not match its checksum (the file was changed or damaged)`);
      }
    }
  }
  return meta;
}

/** The rows of one part file, decoded (one JSON.parse for the whole file: much faster than per line). */
export function readPartRows(dir: string, part: SavepointPart): SavepointRow[] {
  const text = readFileSync(join(dir, part.file), "utf8").trimEnd();
  if (text === "") return [];
  return decodeCanonical(`[${text.replace(/\n/g, ",")}]`) as SavepointRow[];
}
