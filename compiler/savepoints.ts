// `flowc savepoint …`: trigger a savepoint over a running job's admin endpoint, inspect
// one (a read-side State Processor API: operators, states, keys, sizes, positions, and the
// keys and values of one state as JSON lines), and check a .flow file against one before
// deploying it (`flowc check --against-savepoint`).

import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { decodeCanonical, showType } from "../runtime/savepoint/canonical.js";
import { describePlan, planRestore, refusal } from "../runtime/savepoint/compat.js";
import { readSavepoint, SavepointError, type SavepointMetadata } from "../runtime/savepoint/format.js";
import { Log } from "../runtime/log.js";
import { buildManifest } from "./manifest.js";
import type { JobGraph } from "./plan.js";
import { VERSION } from "./version.js";

/** A mistake of the user's (a bad URL, a savepoint that is not one): a message, exit 1. */
export class UserError extends Error {}

function openSavepoint(dir: string, shown: string): SavepointMetadata {
  try {
    return readSavepoint(dir, true, shown);
  } catch (e) {
    if (e instanceof SavepointError) throw new UserError(`cannot read savepoint ${shown}: ${e.message}`);
    throw e;
  }
}

/** How long `flowc savepoint inspect` and `check --against-savepoint` wait for a NATS server. */
const NATS_TIMEOUT_MS = 10_000;

/**
 * Runs `fn` on a savepoint's folder: `where` itself, or for `nats:<bucket>/<path>` a local
 * copy of the savepoint in that object store bucket (the server: `natsUrl`, else
 * `NATS_URL`, else nats://127.0.0.1:4222), removed afterwards.
 */
export async function withSavepoint<T>(where: string, natsUrl: string | undefined, fn: (dir: string) => T): Promise<T> {
  if (!where.startsWith("nats:")) return fn(where);
  // The NATS client loads only for a savepoint in a bucket.
  const [connection, store, { JobError }] = await Promise.all([import("../runtime/nats/connection.js"), import("../runtime/nats/store.js"), import("../runtime/errors.js")]);
  connection.configure({ url: natsUrl, timeoutMs: NATS_TIMEOUT_MS, job: "flowc", log: new Log("flowc", "warn") });
  let dir: string | null = null;
  try {
    dir = await store.downloadSavepoint(where);
    return fn(dir);
  } catch (e) {
    if (e instanceof JobError) throw new UserError(e.message.replace(/^cannot restore savepoint/, "cannot read savepoint"));
    throw e;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await connection.closeLinks();
  }
}

/** POSTs to the job's admin endpoint; prints the savepoint's path as the last line of stdout. */
export async function triggerSavepoint(url: string, opts: { stop: boolean; dir: string | null; token: string | null }): Promise<void> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UserError(`${JSON.stringify(url)} is not a URL; give the job's admin endpoint, e.g. http://127.0.0.1:9249`);
  }
  const target = new URL(opts.stop ? "stop" : "savepoints", base.href.endsWith("/") ? base.href : `${base.href}/`);
  const body = opts.stop ? { savepoint: true, ...(opts.dir ? { dir: opts.dir } : {}) } : opts.dir ? { dir: opts.dir } : {};
  let res: Response;
  try {
    res = await fetch(target, { method: "POST", headers: { "content-type": "application/json", ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) }, body: JSON.stringify(body) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(`cannot reach the job's admin endpoint at ${base.origin}: ${cause?.code === "ECONNREFUSED" ? "connection refused (is the job running with --admin-port?)" : (cause?.message ?? (e as Error).message)}`);
  }
  const text = await res.text();
  let json: { path?: string; error?: string } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok || !json.path) throw new UserError(`the job did not take a savepoint: ${json.error ?? `HTTP ${res.status} ${text.slice(0, 200)}`}`);
  if (opts.stop) process.stderr.write("the job is stopping\n");
  process.stdout.write(`${json.path}\n`);
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** `flowc savepoint inspect <dir> [--json] [--dump uid.state]`. */
export function inspect(dir: string, opts: { json: boolean; dump: string | null }, shownDir = dir): void {
  const sp = openSavepoint(dir, shownDir);
  if (opts.dump !== null) {
    const dot = opts.dump.indexOf(".");
    const uid = dot < 0 ? opts.dump : opts.dump.slice(0, dot);
    const name = dot < 0 ? null : opts.dump.slice(dot + 1);
    const op = sp.operators.find((o) => o.uid === uid);
    if (!op) throw new UserError(`the savepoint has no operator \`${uid}\`; it has ${sp.operators.map((o) => `\`${o.uid}\``).join(", ") || "none"}`);
    const part = name === null ? (op.parts.length === 1 ? op.parts[0] : undefined) : op.parts.find((p) => p.name === name);
    if (!part) throw new UserError(`operator \`${uid}\` has no state ${name === null ? "(name one)" : `\`${name}\``} in the savepoint; it has ${op.parts.map((p) => `${uid}.${p.name}`).join(", ") || "none"}`);
    // Each line as plain JSON (maps as objects of their entries, sets as lists).
    for (const line of readFileSync(join(dir, part.file), "utf8").split("\n")) {
      if (!line) continue;
      process.stdout.write(`${JSON.stringify(decodeCanonical(line), (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}\n`);
    }
    return;
  }
  if (opts.json) {
    // The metadata without its own checksum.
    const shown: Partial<typeof sp> = { ...sp };
    delete shown.checksum;
    process.stdout.write(JSON.stringify(shown, null, 2) + "\n");
    return;
  }
  const out: string[] = [];
  out.push(`savepoint of job \`${sp.job}\` (format ${sp.format} ${sp.version}), taken ${sp.createdAt} by ${sp.compiler} from ${sp.flowFile}`);
  out.push("", "sources:");
  for (const s of sp.sources) {
    const p = s.position;
    out.push(`  ${s.name}  ${s.connector}${s.path !== null ? ` ${JSON.stringify(s.path)}` : ""}  after record ${p.records}${p.offset !== undefined ? `, byte ${p.offset}, line ${p.line}` : ""}${p.watermark !== undefined && p.watermark !== null ? `, watermark ${p.watermark}` : ""}`);
  }
  out.push("", "operators:");
  for (const op of sp.operators) {
    out.push(`  ${op.uid} (${op.kind}${op.spec ? ` ${op.spec}` : ""}), ${op.key ? `keyed by ${showType(op.key)}` : "one group"}`);
    for (const p of op.parts) {
      const st = op.states.find((s) => s.name === p.name);
      const type = p.internal ? "(runtime)" : st ? showType(st.type) : "";
      out.push(`    ${`${op.uid}.${p.name}`.padEnd(24)} ${type.padEnd(28)} ${String(p.keys).padStart(8)} keys  ${size(p.bytes).padStart(10)}`);
    }
    if (op.parts.length === 0) out.push("    (no state)");
  }
  if (sp.sinks.length) {
    out.push("", "file sinks (their length at the savepoint):");
    for (const s of sp.sinks) out.push(`  ${s.role === "sink" ? `sink ${s.index}` : `dead letters of source ${s.index}`}  ${JSON.stringify(s.path)}  ${s.length} bytes`);
  }
  out.push("", `dump one state as JSON lines: flowc savepoint inspect ${shownDir} --dump <uid>.<state>`);
  process.stdout.write(out.join("\n") + "\n");
}

/** `flowc check <file> --against-savepoint <dir>`: what a restore would do. Returns whether it would start. */
export function againstSavepoint(graph: JobGraph, file: string, dir: string, allowNonRestored: boolean, shownDir = dir): boolean {
  const sp = openSavepoint(dir, shownDir);
  const m = buildManifest(graph, { sourceName: file, version: VERSION });
  const out: string[] = [];
  if (sp.job !== m.job) {
    process.stdout.write(`${file} (job \`${m.job}\`) against savepoint ${shownDir} (job \`${sp.job}\`): refused: the savepoint belongs to another job\n`);
    return false;
  }
  const groups = sp.keyGroups ?? 128;
  if (groups !== m.keyGroups) {
    process.stdout.write(`${file} (job \`${m.job}\`) against savepoint ${dir}: refused (FLOW5023): the savepoint was taken with ${groups} key groups, and this job has ${m.keyGroups} (\`key_groups\` in the state block)\n`);
    return false;
  }
  const plan = planRestore(sp, m);
  out.push(`${file} (job \`${m.job}\`) against savepoint ${shownDir} (taken ${sp.createdAt}):`);
  out.push(...describePlan(plan));
  const refused = refusal(plan, allowNonRestored);
  if (refused) out.push(`result: refused (${refused.code}): ${refused.message}`, `  hint: ${refused.hint}`);
  else out.push(plan.dropped.length ? `result: restores, dropping ${plan.dropped.map((l) => l.what).join(", ")} (--allow-non-restored-state)` : "result: restores");
  process.stdout.write(out.join("\n") + "\n");
  return refused === null;
}
