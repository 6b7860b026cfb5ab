// Checkpoints and savepoints in a JetStream object store bucket (LANGUAGE.md 9.1,
// docs/operations.md "Checkpoints in a NATS object store"). The bucket holds the same files
// as a checkpoint folder, one object per file under the same relative name (FORMAT,
// history.jsonl, chk-000012/_metadata, chk-000012/<uid>.full, sinks/…), so the format,
// the checksums, retention and the checks of damage are the checkpoint folder's own: a run
// downloads the bucket into a private local folder, works there with the code every job
// uses (runtime/checkpoint/), and puts every file into the bucket as it is written, a
// checkpoint's _metadata last, after all the files it lists. A checkpoint is complete in
// the bucket once its _metadata object is there; sinks commit only after that. Deletions
// (retention, --fresh, the end of a finite job) are made in the bucket afterwards.
//
// A savepoint in a bucket (`--dir nats:<bucket>/<name>`, `--from-savepoint nats:<bucket>/<path>`)
// is written to a local folder first and then put there, _savepoint.json last; reading one
// downloads it to a local folder, where it is checked as on disk.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { JobError } from "../errors.js";
import { currentSettings, link, resolveUrl, shownUrl, type NatsLink } from "./connection.js";
import { acquire, checkLocks, lockKey } from "./locks.js";

/** A bucket name: letters, digits, `-` and `_`. */
const BUCKET = /^[A-Za-z0-9_-]+$/;

/** `nats:<bucket>` or `nats:<bucket>/<path>`: the bucket and the path in it. */
export function parseLocation(where: string): { bucket: string; path: string } {
  const rest = where.slice("nats:".length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1).replace(/^\/+|\/+$/g, "");
  if (!BUCKET.test(bucket)) throw new JobError("FLOW5012", `${JSON.stringify(where)} does not name an object store bucket: the form is nats:<bucket>${"" }, a bucket name of letters, digits, - and _`, 'e.g. --checkpoint-dir nats:checkpoints');
  if (path.split("/").some((p) => p === ".." || p === ".")) throw new JobError("FLOW5009", `${JSON.stringify(where)}: a path in a bucket has no \`.\` or \`..\` parts`);
  return { bucket, path };
}

async function openBucket(l: NatsLink, bucket: string): Promise<ObjectStore> {
  const objm = new Objm(l.nc);
  return l.retry(`open object store bucket ${bucket}`, () => objm.create(bucket));
}

/** Every file under `root`, as relative paths with `/`. */
function walk(root: string, dir = root, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(root, p, out);
    else if (e.isFile()) out.push(relative(root, p).split("\\").join("/"));
  }
  return out;
}

/** History lines kept in the bucket (the local copy of a run keeps all of its own). */
const HISTORY_KEPT = 500;

/** The checkpoints of one job in a bucket, worked on in a private local folder. */
export class CheckpointBucket {
  /** Names in the bucket, and their sizes. */
  private readonly remote = new Map<string, number>();

  private constructor(
    readonly where: string,
    private readonly l: NatsLink,
    private readonly os: ObjectStore,
    /** The local working copy. */
    readonly localDir: string,
  ) {}

  /** Connects, locks the bucket for this process, and downloads it into a new local folder. */
  static async open(where: string): Promise<CheckpointBucket> {
    const { bucket } = parseLocation(where);
    const s = currentSettings();
    const l = await link(resolveUrl(null));
    await acquire(l, lockKey("checkpoints", bucket), `the checkpoint bucket ${where} (on ${shownUrl(l.url)})`);
    const os = await openBucket(l, bucket);
    const localDir = mkdtempSync(join(tmpdir(), `flowc-${s.job}-${bucket}-`));
    const b = new CheckpointBucket(where, l, os, localDir);
    await b.download();
    return b;
  }

  private async download(): Promise<void> {
    const list = await this.l.retry(`list bucket ${this.where}`, () => this.os.list());
    for (const info of list) {
      if (info.deleted) continue;
      const name = info.name;
      if (name.split("/").some((p) => p === ".." || p === "." || p === "")) continue;
      let data: Uint8Array | null = null;
      try {
        data = await this.l.retry(`read ${name} from bucket ${this.where}`, () => this.os.getBlob(name));
      } catch (e) {
        if (e instanceof JobError) throw e;
        // A damaged object (its digest does not match): left out, so the checkpoint that
        // needs it does not verify and an older one is used.
        currentSettings().log.warn(`object ${name} in ${this.where} cannot be read (${(e as Error).message}); it is left out`);
        continue;
      }
      if (data === null) continue;
      const path = join(this.localDir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
      this.remote.set(name, data.length);
    }
  }

  /** Puts local files into the bucket (a checkpoint's files, then its _metadata). */
  async put(rels: string[]): Promise<void> {
    checkLocks();
    for (const rel of rels) {
      const name = rel.split("\\").join("/");
      let data: Buffer = readFileSync(join(this.localDir, rel));
      if (name === "history.jsonl") {
        const lines = data.toString("utf8").split("\n").filter((x) => x);
        data = Buffer.from(lines.slice(-HISTORY_KEPT).join("\n") + "\n");
      }
      await this.l.retry(`write ${name} to bucket ${this.where}`, () => this.os.putBlob({ name }, data));
      this.remote.set(name, data.length);
    }
  }

  /**
   * Makes the bucket hold what the local folder holds: deletes what it no longer has
   * (retention, a fresh start, the end of a finite job), puts FORMAT and the history, and
   * with `all` every other file it lacks (after the start of a run).
   */
  async sync(all = false): Promise<void> {
    const local = walk(this.localDir).filter((n) => !/(^|\/)LOCK|\.tmp$/.test(n));
    const have = new Set(local);
    const missing = local.filter((n) => (all || n === "FORMAT") && n !== "history.jsonl" && this.remote.get(n) !== statSize(join(this.localDir, n)));
    // Files before metadata: a checkpoint becomes complete in the bucket last.
    missing.sort((a, b) => Number(a.endsWith("_metadata")) - Number(b.endsWith("_metadata")));
    await this.put(missing);
    if (have.has("history.jsonl")) await this.put(["history.jsonl"]);
    for (const name of [...this.remote.keys()]) {
      if (have.has(name)) continue;
      await this.l.retry(`delete ${name} from bucket ${this.where}`, () => this.os.delete(name));
      this.remote.delete(name);
    }
  }

  /** Removes the local working copy (the bucket stays). */
  dispose(): void {
    rmSync(this.localDir, { recursive: true, force: true });
  }
}

function statSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return -1;
  }
}

/** Puts a savepoint folder into a bucket under `<path>/<folder name>`; its location. */
export async function uploadSavepoint(localDir: string, target: string): Promise<string> {
  const { bucket, path } = parseLocation(target);
  const l = await link(resolveUrl(null));
  const os = await openBucket(l, bucket);
  const folder = localDir.split(/[\\/]/).pop()!;
  const prefix = path ? `${path}/${folder}` : folder;
  const files = walk(localDir);
  // The metadata last: a savepoint without it is not one.
  files.sort((a, b) => Number(a === "_savepoint.json") - Number(b === "_savepoint.json"));
  for (const f of files) {
    const data = readFileSync(join(localDir, f));
    await l.retry(`write a savepoint to bucket ${bucket}`, () => os.putBlob({ name: `${prefix}/${f}` }, data));
  }
  return `nats:${bucket}/${prefix}`;
}

/** Downloads the savepoint at `nats:<bucket>/<path>` into a new local folder; its path. */
export async function downloadSavepoint(where: string): Promise<string> {
  const { bucket, path } = parseLocation(where);
  const l = await link(resolveUrl(null));
  const objm = new Objm(l.nc);
  let os: ObjectStore;
  try {
    os = await l.retry(`open object store bucket ${bucket}`, () => objm.open(bucket));
  } catch (e) {
    if (e instanceof JobError) throw e;
    throw new JobError("FLOW5009", `cannot restore savepoint ${where}: there is no object store bucket ${bucket} on ${shownUrl(l.url)}`, "give the location flowc savepoint printed (nats:<bucket>/<path>)");
  }
  const dir = mkdtempSync(join(tmpdir(), "flowc-savepoint-"));
  const list = await l.retry(`list bucket ${bucket}`, () => os.list());
  const prefix = path ? `${path}/` : "";
  for (const info of list) {
    if (info.deleted || !info.name.startsWith(prefix)) continue;
    const rel = info.name.slice(prefix.length);
    if (rel.split("/").some((p) => p === ".." || p === "." || p === "")) continue;
    const data = await l.retry(`read a savepoint from bucket ${bucket}`, () => os.getBlob(info.name)).catch((e: unknown) => {
      if (e instanceof JobError) throw e;
      return null;
    });
    if (data === null) continue;
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
  return dir;
}
