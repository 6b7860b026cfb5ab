// Rescaling (LANGUAGE.md 10.1; docs/operations.md, "Rescaling"): `flowc savepoint URL… --stop
// --dir D` leaves one savepoint of every instance in D (each records its instance number, N
// and run). An instance started with `--instance j/M --from-savepoint D` gets one savepoint
// made from them here, in the ordinary format, which the ordinary restore then reads:
//   - keyed state: the rows of the key groups it now owns (g mod M = j), from every old instance;
//   - unkeyed state (it ran on instance 0): old instance 0's, for new instance 0;
//   - partitioned NATS sources and exchanges: per partition or key group it owns, the position
//     of the instance that owned it before (cursor.ts `merged`), the smallest watermark; and
//     the messages of those key groups an old owner had read ahead of their turn and held;
//   - other sources (read by instance 0): old instance 0's position, for new instance 0;
//   - file sinks: instance j's files are old instance j's (`out/x.j.jsonl`), cut back to the
//     savepoint's length and appended to; old instances' files past M keep what they hold.
// The result is written to a temporary folder; it is the same for the same D and instance, so
// a restart that finds a checkpoint taken since restoring it resumes from that checkpoint.

import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Manifest } from "../api.js";
import type { SourcePosition } from "../connectors/contract.js";
import { JobError } from "../errors.js";
import { merged, type PartsPosition } from "./cursor.js";
import { heldMessages, type ExchangePosition } from "./exchange.js";
import { decodeCanonical, encodeCanonical } from "../savepoint/canonical.js";
import { readSavepoint, SAVEPOINT_METADATA, SavepointError, writeSavepoint, type SavepointMetadata } from "../savepoint/format.js";
import { groupOf } from "../keygroups.js";

/** What a savepoint of one instance records about it. */
export interface SavepointInstance {
  index: number;
  count: number;
  groups: number;
  run: string;
}

/** Reads every instance's savepoint in `dir`, checked to be one complete set (FLOW5032). */
function readSet(dir: string, shown: string, m: Manifest): { meta: SavepointMetadata; inst: SavepointInstance; dir: string }[] {
  const found = readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isDirectory() && existsSync(join(dir, f, SAVEPOINT_METADATA)))
    .map((f) => {
      let meta: SavepointMetadata;
      try {
        meta = readSavepoint(join(dir, f), true, join(shown, f));
      } catch (e) {
        if (e instanceof SavepointError) throw new JobError("FLOW5009", `cannot restore savepoint ${join(shown, f)}: ${e.message}`);
        throw e;
      }
      const inst = (meta as SavepointMetadata & { instance?: SavepointInstance }).instance;
      if (!inst) throw new JobError("FLOW5032", `${join(shown, f)} is a savepoint of a job that ran as one process, in a folder of savepoints of several instances`, "a folder of savepoints of several instances holds what `flowc savepoint URL… --stop --dir D` wrote, nothing else");
      if (meta.job !== m.job) throw new JobError("FLOW5009", `savepoint ${join(shown, f)} was taken by job \`${meta.job}\`, not \`${m.job}\``);
      return { meta, inst, dir: join(dir, f) };
    });
  const n = found[0]?.inst.count ?? 0;
  const have = new Set(found.map((x) => x.inst.index));
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !have.has(i));
  if (found.some((x) => x.inst.count !== n) || missing.length || found.length !== n || new Set(found.map((x) => x.inst.run)).size !== 1) {
    throw new JobError(
      "FLOW5032",
      `${shown} does not hold one savepoint of each instance of one run of job \`${m.job}\`: ${found.length} savepoint(s)${n ? ` of a job of ${n} instance(s)` : ""}${missing.length ? `, instance(s) ${missing.join(", ")} missing` : ""}`,
      "take them again with `flowc savepoint URL1 URL2 … --stop --dir D`, naming the admin URL of every instance",
    );
  }
  return found.sort((a, b) => a.inst.index - b.inst.index);
}

/**
 * The savepoint instance `j` of `count` starts from, made from the set in `dir`: a new folder
 * (temporary), and the run the instances' exchanges belong to.
 */
export async function savepointForInstance(dir: string, shown: string, m: Manifest, j: number, count: number): Promise<{ path: string; run: string }> {
  const set = readSet(dir, shown, m);
  const old = set.length;
  const groups = set[0]!.inst.groups;
  if (groups !== (m.keyGroups ?? 128)) throw new JobError("FLOW5032", `the savepoints in ${shown} have ${groups} key groups, this job ${m.keyGroups ?? 128}: key groups are fixed for a job's life`);
  const mine = (g: number): boolean => g % count === j;
  const first = set[0]!.meta;
  const operators = first.operators.map((op) => {
    const parts = op.parts.map((p) => {
      const lines: string[] = [];
      for (const s of set) {
        // Unkeyed state lives on instance 0.
        if (op.key === null && (s.inst.index !== 0 || j !== 0)) continue;
        const theirs = s.meta.operators.find((o) => o.uid === op.uid)?.parts.find((x) => x.name === p.name);
        if (!theirs) continue;
        const text = readFileSync(join(s.dir, theirs.file), "utf8");
        for (const line of text.split("\n")) {
          if (line === "") continue;
          if (op.key !== null) {
            const row = decodeCanonical(line) as { key: unknown };
            if (!mine(groupOf(row.key, groups))) continue;
          }
          lines.push(line);
        }
      }
      return { name: p.name, internal: p.internal, file: p.file, keys: lines.length, text: lines.length ? lines.join("\n") + "\n" : "" };
    });
    // Operator-wide values (a window's watermark): those of the instance furthest behind.
    const metas = set.map((s) => s.meta.operators.find((o) => o.uid === op.uid)?.meta as Record<string, unknown> | undefined);
    // Per part (`windows`, `timers`, …) its values: the smallest `wm` of them.
    const wm = (x: Record<string, unknown> | undefined): number => {
      let min = Infinity;
      for (const part of Object.values(x ?? {})) {
        // In the canonical encoding (±infinity tagged).
        const v = (decodeCanonical(JSON.stringify(part ?? null)) as { wm?: unknown } | null)?.wm;
        if (typeof v === "number" && v < min) min = v;
      }
      return min;
    };
    const meta = withLargestSeq(metas.reduce((a, b) => (wm(b) < wm(a) ? b : a), metas[0]), metas);
    return { uid: op.uid, kind: op.kind, key: op.key, states: op.states, spec: op.spec, timers: op.timers, ttl: op.ttl, meta: meta ?? null, parts };
  });
  const positionOf = (i: number, name: string): SourcePosition | null => set[i]!.meta.sources.find((s) => s.name === name)?.position ?? null;
  const minWatermark = (name: string): number | null | undefined => {
    const ws = set.map((s) => s.meta.sources.find((x) => x.name === name)?.position.watermark);
    if (ws.every((w) => w === undefined)) return undefined;
    if (ws.some((w) => w === null || w === undefined)) return null;
    return Math.min(...(ws as number[]));
  };
  const byParts = (name: string, parts: number): SourcePosition => {
    // A position in the middle of a batch (replayed from its start, skipping what was taken)
    // holds only for the parts of the instance that took it. Instances take savepoints
    // between batches (driver/loop.ts); one in the middle of a batch comes from copies of
    // checkpoints, or from an instance asked for it right after it resumed from such a
    // checkpoint, before its first read of that source.
    set.forEach((s, i) => {
      if ((positionOf(i, name)?.skip ?? 0) > 0) throw new JobError("FLOW5032", `the savepoint of instance ${s.inst.index} in ${shown} was taken in the middle of a batch of \`${name}\`: its position cannot be split among other instances`, "take the savepoints again with `flowc savepoint URL… --stop --dir D` (instances take them between batches), not from copies of checkpoints");
    });
    const own = Array.from({ length: parts }, (_, p) => p).filter((p) => p % count === j);
    const pos = merged(own, (p) => positionOf(p % old, name) as (SourcePosition & PartsPosition) | null);
    const w = minWatermark(name);
    return { records: 0, ...pos, ...(w !== undefined ? { watermark: w } : {}) };
  };
  const sources = first.sources.map((s) => {
    const ms = m.sources.find((x) => x.name === s.name);
    if (ms && ms.connector === "nats" && ms.partitions !== undefined) return { ...s, position: byParts(s.name, ms.partitions) };
    if (s.connector === "exchange") {
      // Messages an old owner of a key group read ahead of their turn and held go to its new owner.
      const carried = set.flatMap((_, i) => {
        const p = positionOf(i, s.name);
        return p ? heldMessages(p as SourcePosition & ExchangePosition, (g) => g % count === j && g % old === i) : [];
      });
      return { ...s, position: { ...byParts(s.name, groups), ...(carried.length ? { carried } : {}) } };
    }
    return s;
  });
  const path = mkdtempSync(join(tmpdir(), `flowc-rescale-${m.job}-${j}-`));
  const run = set[0]!.inst.run;
  await writeSavepoint(path, {
    format: "flowc-savepoint",
    version: 1,
    job: m.job,
    // The same for the same set and instance (see the top of this file).
    createdAt: first.createdAt,
    compiler: first.compiler,
    flowFile: first.flowFile,
    sources,
    operators,
    // Instance j writes the files old instance j wrote (`out/x.j.jsonl`): it goes on after
    // their savepointed length. Files of old instances past the new count keep what they hold.
    sinks: j < old ? set[j]!.meta.sinks : [],
    ...{ instance: { index: j, count, groups, run }, rescaledFrom: set.map((s) => s.meta.checksum) },
  } as Parameters<typeof writeSavepoint>[1]);
  return { path, run };
}

/**
 * A join numbers its elements (`seq`: the order of matches, and which items are one in
 * several windows): the merged state's counter is the largest of the old instances', so the
 * elements a new instance numbers come after every one it took over; its watermark per side
 * (`wms`; null: none yet) is the smallest of theirs.
 */
function withLargestSeq(meta: Record<string, unknown> | undefined, metas: (Record<string, unknown> | undefined)[]): Record<string, unknown> | undefined {
  if (!meta) return meta;
  const out: Record<string, unknown> = { ...meta };
  for (const [name, part] of Object.entries(meta)) {
    const v = decodeCanonical(JSON.stringify(part ?? null)) as { seq?: unknown; wms?: unknown } | null;
    if (!v || typeof v !== "object" || typeof v.seq !== "number") continue;
    let seq = v.seq;
    // A join's watermark per side: the smallest of the old instances'.
    const wms = Array.isArray(v.wms) ? [...(v.wms as unknown[])] : null;
    for (const m of metas) {
      const o = decodeCanonical(JSON.stringify(m?.[name] ?? null)) as { seq?: unknown; wms?: unknown } | null;
      if (o && typeof o.seq === "number" && o.seq > seq) seq = o.seq;
      if (wms && o && Array.isArray(o.wms)) {
        o.wms.forEach((w: unknown, i: number) => {
          const mine = wms[i];
          if (mine === null) return;
          if (w === null || (typeof w === "number" && typeof mine === "number" && w < mine)) wms[i] = w;
        });
      }
    }
    out[name] = JSON.parse(encodeCanonical({ ...v, seq, ...(wms ? { wms } : {}) }));
  }
  return out;
}
