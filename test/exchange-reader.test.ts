// The reader side of an exchange, fed the messages of a stream directly: a writer's
// transaction can land in the stream out of order (a publish sent again after a timeout, a
// server that lost a message and kept later ones; the writer then publishes the later ones
// again under other ids). The reader hands each writer's records on in the order they were
// sent, once each, holds a watermark until the records sent before it are through, keeps
// what it holds in its position (checkpoints), and a rescale gives held records to the key
// group's new owner. The whole path, with real servers, is in instances.test.ts.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ExchangeManifest, Manifest } from "../runtime/api.js";
import type { BatchResult, SourcePosition } from "../runtime/connectors/contract.js";
import { Log } from "../runtime/log.js";
import type { NatsLink } from "../runtime/nats/connection.js";
import { ExchangeReader, heldMessages, readerBinding, type ExchangePosition } from "../runtime/nats/exchange.js";
import { savepointForInstance } from "../runtime/nats/rescale.js";
import { writeSavepoint } from "../runtime/savepoint/format.js";
import { tempDir } from "./helpers.js";

const manifest: ExchangeManifest = { uid: "sums", input: 0, keyed: true, sources: [0], upstream: [], codec: "json" };
const base = "flowc.job.sums";

/** A message of the stream: records for key group g (or a watermark), with the writer's id for it. */
interface Msg {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: { get(k: string): string | undefined };
}

let seq = 0;
function records(w: number, txn: string, idx: number, g: number, values: string[], suffix = ""): Msg {
  const r = values.flatMap((v) => [v, v, 0]);
  return message(`${base}.${g}`, JSON.stringify({ run: "r", w, r }), `job/1000/i${w}/${txn}/${idx}${suffix}`);
}
function watermark(w: number, n: number, txn: string, idx: number, wm: number): Msg {
  return message(`${base}.wm`, JSON.stringify({ run: "r", w, n, wm, idle: false, end: false }), `job/1000/i${w}/${txn}/${idx}`);
}
function message(subject: string, text: string, id: string): Msg {
  return { seq: ++seq, subject, data: new TextEncoder().encode(text), headers: { get: (k) => (k === "Nats-Msg-Id" ? id : undefined) } };
}

/** A reader of instance `index` of `count`, reading `msgs` (a stream reader's part, in memory). */
function reader(index: number, count: number, msgs: Msg[]): ExchangeReader {
  const r = new ExchangeReader(manifest, { index, count, groups: 4, run: "r", replicas: 1 }, {} as NatsLink, "job", new Log("job", "error"));
  let at = 0;
  const stream = {
    failure: null,
    get available() {
      return msgs.length - at;
    },
    peekSeq: () => msgs[at]!.seq,
    take: () => msgs[at++]!,
    wait: () => new Promise<void>(() => undefined),
  };
  (r as unknown as { reader: typeof stream }).reader = stream;
  return r;
}

/** What the operator gets from a reader's next batch: record values and `wm:<w>`, in order. */
function read(r: ExchangeReader): string[] {
  const got: string[] = [];
  const b = r.next() as BatchResult;
  if (b instanceof Promise || b === null) return got;
  readerBinding((v) => got.push(v as string), (w) => got.push(`wm:${w}`), null).push(b);
  return got;
}

describe("an exchange's reader", () => {
  it("hands a transaction's records on in the order they were sent, once each, however they land", () => {
    const msgs = [
      records(0, "e/1", 0, 1, ["a"]),
      // Index 1 was lost in flight; 2 and a watermark (3) landed, then 1 sent again, then
      // 2 and 3 published again under other ids.
      records(0, "e/1", 2, 1, ["c"]),
      watermark(0, 1, "e/1", 3, 100),
      records(0, "e/1", 1, 1, ["b"], "~1"),
      records(0, "e/1", 2, 1, ["c"], "~1"),
      watermark(0, 1, "e/1", 3, 100),
      records(0, "e/2", 0, 1, ["d"]),
    ];
    expect(read(reader(0, 1, msgs))).toEqual(["a", "b", "c", "wm:100", "d"]);
  });

  it("counts the messages of other instances' key groups without holding them, and holds its own", () => {
    const msgs = [
      // Instance 0 of 2 owns groups 0 and 2.
      records(0, "e/1", 0, 1, ["x"]),
      records(0, "e/1", 2, 0, ["c"]),
      records(0, "e/1", 3, 3, ["y"]),
      records(0, "e/1", 1, 2, ["b"]),
      records(0, "e/1", 4, 0, ["d"]),
    ];
    expect(read(reader(0, 2, msgs))).toEqual(["b", "c", "d"]);
  });

  it("keeps what it holds in its position: a restore hands it on when its turn comes", () => {
    const first = [records(0, "e/1", 0, 1, ["a"]), records(0, "e/1", 2, 1, ["c"]), watermark(0, 1, "e/1", 3, 100)];
    const r = reader(0, 1, first);
    expect(read(r)).toEqual(["a"]);
    const p = JSON.parse(JSON.stringify(r.position())) as SourcePosition & ExchangePosition;
    expect(p.seq).toBe(first[2]!.seq);
    // A new process from that position: the stream goes on after it.
    const again = reader(0, 1, [records(0, "e/1", 1, 1, ["b"]), records(0, "e/1", 4, 1, ["e"])]);
    again.seek(p);
    expect(read(again)).toEqual(["b", "c", "wm:100", "e"]);
  });

  it("after a rescale, passes over a key group's messages up to and including the last its previous owner read", () => {
    // Instance 0 of 1 takes group 1 from an owner that read up to the third message, group 2 from one that read the second.
    const msgs = [records(0, "e/1", 0, 1, ["a"]), records(0, "e/1", 1, 2, ["b"]), records(0, "e/1", 2, 1, ["c"]), records(0, "e/1", 3, 2, ["d"]), records(0, "e/1", 4, 1, ["e"])];
    const r = reader(0, 1, msgs.slice(1));
    r.seek({ records: 0, seq: msgs[0]!.seq, ahead: { "1": msgs[2]!.seq, "2": msgs[1]!.seq } } as SourcePosition);
    (r as unknown as { writers: { lax: number } }).writers.lax = seq;
    expect(read(r)).toEqual(["d", "e"]);
  });

  it("gives the records a key group's old owner held to the group's new owner (rescale)", () => {
    const r = reader(1, 2, [records(0, "e/1", 0, 0, ["x"]), records(0, "e/1", 2, 1, ["c"]), records(0, "e/1", 3, 3, ["d"])]);
    expect(read(r)).toEqual([]);
    const p = r.position() as SourcePosition & ExchangePosition;
    // Group 1 goes to instance 1 of 3, group 3 to instance 0 of 3.
    expect(heldMessages(p, (g) => g % 3 === 1).map((t) => (JSON.parse(t) as { r: string[] }).r[0])).toEqual(["c"]);
    expect(heldMessages(p, (g) => g % 3 === 0).map((t) => (JSON.parse(t) as { r: string[] }).r[0])).toEqual(["d"]);
    // The new owner hands them on first; the old instances' transactions it reads from the
    // middle (up to the stream's end when it started) are taken as they come.
    // A transaction seen from its start there is read in order all the same.
    const next = reader(1, 3, [records(0, "e/1", 1, 1, ["b"]), records(0, "e/2", 0, 1, ["f"]), records(0, "e/2", 2, 1, ["h"]), records(0, "e/2", 1, 1, ["g"])]);
    next.seek({ records: 0, seq: 0, carried: heldMessages(p, (g) => g % 3 === 1) } as SourcePosition);
    (next as unknown as { writers: { lax: number } }).writers.lax = seq;
    expect(read(next)).toEqual(["c", "b", "f", "g", "h"]);
  });

  describe("a rescale from the instances' savepoints", () => {
    const m = { formatVersion: 1, job: "job", flowFile: "job.flow", compiler: "test", sources: [], sinks: [], operators: [], checkpoint: null, restart: null, state: null, keyGroups: 4 } as unknown as Manifest;
    /** Savepoints of 2 instances whose exchange readers stood at `positions`. */
    async function set(positions: SourcePosition[]): Promise<string> {
      const dir = tempDir("flowc-rescale-held-");
      for (const [i, position] of positions.entries()) {
        await writeSavepoint(join(dir, `i${i}`), { format: "flowc-savepoint", version: 1, job: "job", createdAt: "2026-12-02T00:00:00.000Z", compiler: "test", flowFile: "job.flow", sources: [{ name: "exchange into `sums`", connector: "exchange", path: null, position }], operators: [], sinks: [], ...{ instance: { index: i, count: 2, groups: 4, run: "r" } } } as Parameters<typeof writeSavepoint>[1]);
      }
      return dir;
    }
    const sourceOf = (path: string): SourcePosition & ExchangePosition => (JSON.parse(readFileSync(join(path, "_savepoint.json"), "utf8")) as { sources: { position: SourcePosition & ExchangePosition }[] }).sources[0]!.position;

    it("gives each held message to its key group's new owner", async () => {
      const r = reader(1, 2, [records(0, "e/1", 0, 0, ["x"]), records(0, "e/1", 2, 1, ["c"]), records(0, "e/1", 3, 3, ["d"])]);
      read(r);
      const dir = await set([{ records: 0, seq: 3 }, r.position()]);
      const texts = async (j: number): Promise<string[]> => (sourceOf((await savepointForInstance(dir, "set", m, j, 3)).path).carried ?? []).map((t) => (JSON.parse(t) as { r: string[] }).r[0]!);
      expect(await texts(0)).toEqual(["d"]);
      expect(await texts(1)).toEqual(["c"]);
      expect(await texts(2)).toEqual([]);
    });

    it("refuses a position in the middle of a batch, saying how to take the savepoints", async () => {
      const dir = await set([{ records: 0, seq: 3 }, { records: 10, seq: 5, skip: 2 }]);
      await expect(savepointForInstance(dir, "set", m, 0, 3)).rejects.toMatchObject({ code: "FLOW5032", message: expect.stringContaining("the savepoint of instance 1 in set was taken in the middle of a batch of `exchange into `sums``"), hint: expect.stringContaining("--stop --dir D") });
    });
  });
});
