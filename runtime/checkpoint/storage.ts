// The checkpoint storage layout (docs/operations.md), version 1:
//
//   <storage>/
//     FORMAT                      "flowc-checkpoints 1"
//     history.jsonl               one line per checkpoint (id, kind, duration, pause, bytes, keys)
//     chk-000012/
//       _metadata                 JSON, written last and atomically; lists every file it needs
//       <uid>.full | <uid>.delta  operator state written by this checkpoint (snapshot.ts)
//     sinks/<n>/seg-000012-0      output staged for file sink n, committed by checkpoint 12
//
// A checkpoint exists once its _metadata exists (temp file, fsync, rename, fsync of the
// folder). The metadata holds a checksum of itself and of every file it references (state
// files of earlier checkpoints too, for incremental chains); recovery loads only a
// checkpoint whose checksums all verify.

import { createHash } from "node:crypto";
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { OperatorManifest } from "../api.js";
import { describeFsError, JobError } from "../errors.js";
import { makeFolders, writeFileSynced } from "../files.js";
import type { FileRef, SinkTransaction, SourcePosition } from "../connectors/contract.js";

export const FORMAT = "flowc-checkpoints 1";
export const METADATA = "_metadata";

export interface CheckpointMetadata {
  formatVersion: 1;
  job: string;
  id: number;
  createdAt: string;
  mode: string;
  /** The operators and their state layout, to refuse a checkpoint of a different job. */
  layout: OperatorManifest[];
  sources: { name: string; position: SourcePosition }[];
  /** Per operator: its state files, a full snapshot first, then deltas in order. */
  operators: { uid: string; files: string[] }[];
  sinks: SinkTransaction[];
  /** The checksum of the savepoint this run of the job started from, if any. */
  fromSavepoint?: string | null;
  /** hash(key) mod keyGroups split its state (absent: 128, checkpoints written before it was a setting). */
  keyGroups?: number;
  /** "disk" when the job kept its state on disk (its timers and dedup have files of their own): absent for memory. */
  stateBackend?: "disk";
  /** Every file this checkpoint needs, relative to the storage folder. */
  files: Record<string, FileRef>;
  /** sha256 of this object's JSON without this field. */
  checksum: string;
}

/** A checkpoint folder without _metadata: the job stopped while taking it (not damage). */
export class IncompleteCheckpoint extends Error {}

export function checkpointDirName(id: number): string {
  return `chk-${String(id).padStart(6, "0")}`;
}

export function sha256(buffers: readonly Buffer[]): string {
  const h = createHash("sha256");
  for (const b of buffers) h.update(b);
  return h.digest("hex");
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes buffers to a new file and fsyncs it, without blocking the batch loop. */
export async function writeDurable(path: string, buffers: readonly Buffer[]): Promise<void> {
  makeFolders(dirname(path));
  const fh = await open(path, "w");
  try {
    await fh.writev(buffers as Buffer[]);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function metadataChecksum(meta: Omit<CheckpointMetadata, "checksum">): string {
  return sha256([Buffer.from(JSON.stringify({ ...meta, checksum: undefined }))]);
}

/**
 * Writes _metadata atomically (temp file, fsync, rename, fsync of the folder), without
 * blocking the batch loop. `proceed` is asked right before the rename; when it says no, the
 * temp file is removed and nothing is written (null).
 */
export async function writeMetadataInBackground(root: string, meta: Omit<CheckpointMetadata, "checksum">, proceed: () => boolean = () => true): Promise<CheckpointMetadata | null> {
  const full: CheckpointMetadata = { ...meta, checksum: metadataChecksum(meta) };
  const path = join(root, checkpointDirName(meta.id), METADATA);
  const dir = dirname(path);
  makeFolders(dir);
  const tmp = `${path}.tmp`;
  await writeDurable(tmp, [Buffer.from(JSON.stringify(full, null, 1))]);
  // The rename is the checkpoint's point of no return: asked once more, synchronously, right
  // before it (a checkpoint abandoned meanwhile must not become complete).
  if (!proceed()) {
    await unlink(tmp).catch(() => undefined);
    return null;
  }
  await rename(tmp, path);
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return full;
}

/** Writes a file so that it exists whole or not at all: a temp file, fsync, rename, fsync of the folder. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  makeFolders(dir);
  const tmp = `${path}.tmp`;
  writeFileSynced(tmp, text, "w");
  renameSync(tmp, path);
  fsyncDir(dir);
}

export function ensureRoot(root: string): void {
  makeFolders(root);
  const marker = join(root, "FORMAT");
  let text: string | null = null;
  try {
    text = readFileSync(marker, "utf8");
  } catch {
    // a new folder
  }
  // Atomically, so that a crash never leaves a FORMAT file that checkStorage would refuse.
  if (text?.trim() !== FORMAT) writeFileAtomic(marker, FORMAT + "\n");
}

/** Names flowc writes in a storage folder (runtime/locks.ts writes LOCK and its temporary files). */
const OURS = /^(FORMAT(\.tmp)?|LOCK(\..+)?|history\.jsonl|sinks|chk-\d+)$/;

function listed(names: string[]): string {
  const shown = names.sort().slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Refuses (FLOW5012) a storage folder that flowc cannot have written in this format, before
 * anything in it is changed: a FORMAT file with another version or anything else in it, or
 * none where checkpoints exist; a folder of other files altogether is refused even with
 * --fresh (which would delete its `chk-*` and `sinks` entries).
 */
export function checkStorage(root: string, shown: string, fresh: boolean): void {
  let names: string[];
  try {
    if (!statSync(root).isDirectory()) throw new JobError("FLOW5012", `the checkpoint folder ${shown} is not a folder`, "point --checkpoint-dir (or `storage` in the checkpoint block) at a folder of its own");
    names = readdirSync(root);
  } catch (e) {
    if (e instanceof JobError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new JobError("FLOW5012", `cannot read the checkpoint folder ${shown}: ${describeFsError(e)}`);
  }
  const foreign = names.filter((n) => !OURS.test(n));
  const fix = "start over with --fresh (its checkpoints are deleted and its file sinks replaced), or point --checkpoint-dir at another folder";
  let text: string;
  try {
    text = readFileSync(join(root, "FORMAT"), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new JobError("FLOW5012", `cannot read ${join(shown, "FORMAT")}: ${describeFsError(e)}`);
    if (foreign.length) {
      throw new JobError("FLOW5012", `${shown} is not a checkpoint folder: it has no FORMAT file and holds ${listed(foreign)}`, "point --checkpoint-dir (or `storage` in the checkpoint block) at an empty or new folder: flowc does not write into a folder of other files");
    }
    const found = names.filter((n) => /^(chk-\d+|sinks|history\.jsonl)$/.test(n));
    if (found.length && !fresh) throw new JobError("FLOW5012", `the checkpoint folder ${shown} holds ${listed(found)} but no FORMAT file, so what it holds cannot be trusted`, fix);
    return;
  }
  const line = text.trim();
  if (line === FORMAT || fresh) return;
  const version = /^flowc-checkpoints (\d+)$/.exec(line);
  if (version) throw new JobError("FLOW5012", `the checkpoint folder ${shown} is in checkpoint format ${version[1]}, and this job reads format ${FORMAT.slice(FORMAT.lastIndexOf(" ") + 1)}`, `run the flowc that wrote it, or ${fix}`);
  const found = line.length > 40 ? `${JSON.stringify(line.slice(0, 40))}…` : JSON.stringify(line);
  throw new JobError("FLOW5012", `the FORMAT file of checkpoint folder ${shown} does not hold "${FORMAT}" but ${line ? found : "nothing"}`, fix);
}

/** Checkpoint ids that have a folder, newest first. */
export function listCheckpoints(root: string): number[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((n) => /^chk-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/** Reads and verifies a checkpoint: its metadata's checksum and every file it references. */
export function loadVerified(root: string, id: number): CheckpointMetadata {
  const path = join(root, checkpointDirName(id), METADATA);
  if (!existsSync(path)) throw new IncompleteCheckpoint("it has no _metadata");
  let meta: CheckpointMetadata;
  try {
    meta = JSON.parse(readFileSync(path, "utf8")) as CheckpointMetadata;
  } catch {
    throw new Error("its _metadata is not valid JSON");
  }
  if (meta.formatVersion !== 1) throw new Error(`its format version ${String(meta.formatVersion)} is not supported`);
  const { checksum, ...rest } = meta;
  if (metadataChecksum(rest) !== checksum) throw new Error("its _metadata does not match its checksum");
  for (const [file, ref] of Object.entries(meta.files)) {
    const p = join(root, file);
    if (!existsSync(p)) throw new Error(`${file} is missing`);
    const bytes = readFileSync(p);
    if (bytes.length !== ref.bytes || sha256([bytes]) !== ref.sha256) throw new Error(`${file} does not match its checksum`);
  }
  return meta;
}

/**
 * Keeps what the given checkpoints need and deletes the rest: other checkpoints' metadata,
 * state files and staged sink segments that no kept checkpoint references.
 */
export function retain(root: string, keep: CheckpointMetadata[], inProgress: Set<string> = new Set()): void {
  const needed = new Set<string>(inProgress);
  for (const m of keep) {
    needed.add(join(checkpointDirName(m.id), METADATA));
    for (const f of Object.keys(m.files)) needed.add(f);
  }
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
        try {
          rmdirSync(p);
        } catch {
          // not empty: something in it is still needed
        }
      } else if (!needed.has(relative(root, p))) rmSync(p, { force: true });
    }
  };
  for (const id of listCheckpoints(root)) {
    const dir = join(root, checkpointDirName(id));
    walk(dir);
    try {
      rmdirSync(dir);
    } catch {
      // not empty: a kept checkpoint, or files a kept one references
    }
  }
  walk(join(root, "sinks"));
}

/** Removes every checkpoint and staged segment (a job that finished, or --fresh). */
export function removeAll(root: string): void {
  for (const id of listCheckpoints(root)) rmSync(join(root, checkpointDirName(id)), { recursive: true, force: true });
  rmSync(join(root, "sinks"), { recursive: true, force: true });
}

export interface HistoryEntry {
  id: number;
  kind: "full" | "incremental";
  status: "completed" | "abandoned" | "failed";
  startedAt: string;
  durationMs: number;
  pauseMs: number;
  bytes: number;
  keys: number;
  reason?: string;
}

export function appendHistory(root: string, entry: HistoryEntry): void {
  appendFileSync(join(root, "history.jsonl"), JSON.stringify(entry) + "\n");
}
