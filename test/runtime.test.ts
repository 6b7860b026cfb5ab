// Runtime pieces on their own: line splitting with byte offsets, typed conversion of input,
// keyed state, and the generated-code helpers.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvRowConverter, jsonConverter, parseTimestamp, textConverter } from "../runtime/convert.js";
import { ConversionError } from "../runtime/errors.js";
import { csvRow, equals, imod, jsonNumber, jsonString, substr, topInsert } from "../runtime/lib.js";
import { LineBuffer } from "../runtime/connectors/lines.js";
import type { RowState } from "../runtime/operator.js";
import { KeyedStateStore } from "../runtime/state.js";

/** A count per key: the shape of a generated state class. */
class Counter {
  $dirty = false;
  n = 0;
  constructor(readonly $key: unknown) {}
  $saveTo(c: unknown[][]): void {
    c[0]!.push(this.n);
  }
  $loadFrom(c: readonly unknown[][], i: number): void {
    this.n = c[0]![i] as number;
  }
}

function feed(chunks: Buffer[], decodeChunks = false): { lines: string[]; offsets: number[]; numbers: number[] } {
  const lb = new LineBuffer(decodeChunks);
  const lines: string[] = [];
  const offsets: number[] = [];
  const numbers: number[] = [];
  const take = (): void => {
    let l: string | null;
    while ((l = lb.nextLine()) !== null) {
      lines.push(l);
      offsets.push(lb.offset);
      numbers.push(lb.lineNo);
    }
  };
  for (const c of chunks) {
    lb.append(c);
    take();
  }
  lb.wrote(0);
  take();
  return { lines, offsets, numbers };
}

describe("LineBuffer", () => {
  it("splits lines across chunk boundaries, including inside a multi-byte character", () => {
    const bytes = Buffer.from("héllo\nwörld\r\nlast");
    const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)];
    const r = feed(chunks);
    expect(r.lines).toEqual(["héllo", "wörld", "last"]);
    expect(r.numbers).toEqual([1, 2, 3]);
    expect(r.offsets).toEqual([7, 15, bytes.length]);
  });

  it("keeps lines longer than its buffer whole", () => {
    const long = "x".repeat(3 << 20);
    const r = feed([Buffer.from(long.slice(0, 1 << 20)), Buffer.from(long.slice(1 << 20) + "\nshort\n")]);
    expect(r.lines.map((l) => l.length)).toEqual([3 << 20, 5]);
  });

  it("skips a UTF-8 byte order mark and counts it in the offsets", () => {
    for (const decodeChunks of [false, true]) {
      const r = feed([Buffer.from("\uFEFFa\nb\n")], decodeChunks);
      expect(r.lines).toEqual(["a", "b"]);
      expect(r.offsets).toEqual([5, 7]);
    }
  });

  it("decoding whole chunks (jsonl) gives the lines, offsets and numbers of decoding line by line", () => {
    // Lines of ASCII, multi-byte characters, \r\n endings and invalid UTF-8, cut into chunks
    // at any byte (inside a character too).
    const piece = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 6 }), fc.constantFrom("\r", "é", "€", "😀", '{"a":1}'));
    const line = fc.array(piece, { maxLength: 5 }).map((xs) => xs.join("").replaceAll("\n", ""));
    const text = fc.tuple(fc.array(fc.tuple(line, fc.constantFrom("\n", "\r\n")), { maxLength: 30 }), line, fc.boolean(), fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 6 }));
    fc.assert(
      fc.property(text, ([lines, last, invalid, cuts]) => {
        let bytes = Buffer.from(lines.map(([l, nl]) => l + nl).join("") + last);
        if (invalid && bytes.length > 2) bytes = Buffer.concat([bytes.subarray(0, 2), Buffer.from([0xff, 0xc3]), bytes.subarray(2)]);
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i, all) => bytes.subarray(from, all[i + 1] ?? bytes.length)).filter((c) => c.length > 0);
        expect(feed(chunks, true)).toEqual(feed(chunks, false));
      }),
      { numRuns: 300 },
    );
  });
});

describe("JSON output of sinks", () => {
  it("jsonString and jsonNumber write what JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: fc.constantFrom("\ud800", "\udfff", '"', "\\", "\u0000", "\u001f", "\u2028", "a") })), (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e21, 5e-7)), (x) => {
        expect(jsonNumber(x)).toBe(JSON.stringify(x));
      }),
    );
  });
});

describe("conversion of input records", () => {
  const rec = jsonConverter({
    t: "record",
    name: "R",
    fields: [
      { name: "id", type: { t: "int" } },
      { name: "at", type: { t: "timestamp" } },
      { name: "tags", type: { t: "list", of: { t: "string" } } },
      { name: "scores", type: { t: "map", key: { t: "int" }, value: { t: "float" } } },
      { name: "note", type: { t: "optional", of: { t: "string" } } },
    ],
  });

  it("builds a record in declared order, ignoring extra fields and reading missing optionals as null", () => {
    const v = rec({ extra: 1, scores: { "1": 2.5 }, tags: ["a"], at: "2024-05-01T12:00:00.5+02:00", id: 7 }, "") as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(["id", "at", "tags", "scores", "note"]);
    expect(v).toMatchObject({ id: 7, at: Date.UTC(2024, 4, 1, 10, 0, 0, 500), tags: ["a"], note: null });
    expect(v.scores).toEqual(new Map([[1, 2.5]]));
  });

  it("names the field and what was found when a record does not fit", () => {
    const problem = (raw: unknown): [string, string] => {
      try {
        rec(raw, "");
      } catch (e) {
        if (e instanceof ConversionError) return [e.path, e.problem];
        throw e;
      }
      return ["", "no error"];
    };
    expect(problem({ id: 1.5, at: 0, tags: [], scores: {} })).toEqual(["id", "expected int, found number 1.5"]);
    expect(problem({ id: 1, at: "yesterday", tags: [], scores: {} })[0]).toBe("at");
    expect(problem({ id: 1, at: 0, tags: ["a", 2], scores: {} })).toEqual(["tags[1]", "expected string, found number 2"]);
    expect(problem({ id: 1, at: 0, tags: [] })).toEqual(["scores", "the field is missing (expected map<int, float>)"]);
    expect(problem({ id: 1, at: 0, tags: [], scores: { x: 1 } })[0]).toBe("scores.x (key)");
    expect(problem([1])).toEqual(["", "expected R, found a list"]);
  });

  it("cannot be steered into another prototype by a __proto__ key", () => {
    const conv = jsonConverter({ t: "record", fields: [{ name: "__proto__", type: { t: "string" } }, { name: "a", type: { t: "int" } }] });
    const v = conv(JSON.parse('{"__proto__":"x","a":1}'), "") as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(v, "__proto__")).toBe(true);
    expect(JSON.stringify(v)).toBe('{"__proto__":"x","a":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reads csv cells as typed values by header name", () => {
    const conv = csvRowConverter(
      { t: "record", fields: [{ name: "b", type: { t: "bool" } }, { name: "n", type: { t: "optional", of: { t: "float" } } }, { name: "d", type: { t: "duration" } }] },
      ["n", "d", "b"],
    );
    expect(conv(["", "5s", "TRUE"], 2)).toEqual({ b: true, n: null, d: 5000 });
    expect(conv(["1e3", "250", "false"], 3)).toEqual({ b: false, n: 1000, d: 250 });
    expect(() => textConverter({ t: "int" })("3.5", "n")).toThrow(/expected int/);
  });

  it("parses RFC 3339 timestamps and rejects other date text", () => {
    expect(parseTimestamp("2024-05-01T00:00:00Z")).toBe(Date.UTC(2024, 4, 1));
    expect(parseTimestamp("2024-05-01")).toBe(Date.UTC(2024, 4, 1));
    expect(Number.isNaN(parseTimestamp("May 1, 2024"))).toBe(true);
  });
});

describe("keyed state", () => {

  it("creates one state object per key, once", () => {
    let created = 0;
    const store = new KeyedStateStore("u", 1, (k) => (created++, new Counter(k)));
    store.get("a", "a").n++;
    store.get("b", "b").n++;
    store.get("a", "a").n++;
    expect(created).toBe(2);
    expect(store.size).toBe(2);
    expect(store.get("a", "a").n).toBe(2);
  });

  it("snapshots all keys or only the changed ones, and restores them", () => {
    const store = new KeyedStateStore("u", 1, (k) => new Counter(k));
    for (let i = 0; i < 1000; i++) store.get(i, i).n = i * 2;
    const full = store.snapshot("full");
    expect(full.keys).toBe(1000);
    expect(store.changed).toBe(0);
    store.get(7, 7).n = -1;
    store.get(1000, 1000).n = 5;
    const delta = store.snapshot("delta");
    expect(delta.keys).toBe(2);
    const copy = new KeyedStateStore("u", 1, (k) => new Counter(k));
    copy.restore(Buffer.concat(full.buffers));
    copy.restore(Buffer.concat(delta.buffers));
    expect(copy.size).toBe(1001);
    expect([copy.map.get(7)!.n, copy.map.get(8)!.n, copy.map.get(1000)!.n]).toEqual([-1, 16, 5]);
    expect(copy.changed).toBe(0);
  });
});

describe("helpers for generated code", () => {
  it("compare by content, keep top-n stable, quote csv, slice strings", () => {
    expect(equals({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(equals(new Map([[1, "a"]]), new Map([[1, "b"]]))).toBe(false);
    const top: { v: string; r: number }[] = [];
    for (const [v, r] of [["a", 1], ["b", 3], ["c", 3], ["d", 2]] as const) topInsert(top, 2, v, r);
    expect(top.map((x) => x.v)).toEqual(["b", "c"]);
    // Any input: the n largest by rank, largest first, the earlier first on ties.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 40 }), fc.integer({ min: 1, max: 5 }), (ranks, n) => {
        const list: { v: number; r: number }[] = [];
        ranks.forEach((r, v) => topInsert(list, n, v, r));
        const expected = ranks.map((r, v) => ({ v, r })).sort((a, b) => b.r - a.r || a.v - b.v).slice(0, n);
        expect(list).toEqual(expected);
      }),
    );
    expect(csvRow(["a,b", 'say "x"', 3, null, " pad"])).toBe('"a,b","say ""x""",3,," pad"');
    expect(substr("hello", -3)).toBe("llo");
    expect(substr("hello", 1, 100)).toBe("ello");
    expect(() => imod(1, 0, "job.flow:1:1")).toThrow(/division by zero/);
  });
});

describe("the transactional file sink", () => {
  it("re-commits a checkpoint whose commit was interrupted half way: nothing lost, nothing doubled", async () => {
    const { TransactionalFileSink } = await import("../runtime/connectors/transactional-file.js");
    const { mkdtempSync, readFileSync, writeFileSync, appendFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "flowc-2pc-"));
    const target = join(dir, "out.jsonl");
    const a = new TransactionalFileSink(0, "sink", target, null, dir);
    a.startFresh();
    a.write("one");
    a.write("two");
    const first = a.preCommit();
    a.commit(first.txn);
    a.write("three");
    a.write("four");
    const second = a.preCommit();
    expect(readFileSync(target, "utf8")).toBe("one\ntwo\n"); // staged, not visible yet
    // The process dies while committing the second checkpoint: half its output is appended.
    appendFileSync(target, "thr");
    a.abort();
    const b = new TransactionalFileSink(0, "sink", target, null, dir);
    b.restore(second.txn);
    expect(readFileSync(target, "utf8")).toBe("one\ntwo\nthree\nfour\n");
    // Restoring again (a crash right after the repair) changes nothing.
    b.abort();
    const c = new TransactionalFileSink(0, "sink", target, null, dir);
    c.restore(second.txn);
    expect(readFileSync(target, "utf8")).toBe("one\ntwo\nthree\nfour\n");
    // Output written after the checkpoint and not committed is cut away on resume.
    appendFileSync(target, "five\n");
    c.abort();
    const d = new TransactionalFileSink(0, "sink", target, null, dir);
    d.restore(second.txn);
    expect(readFileSync(target, "utf8")).toBe("one\ntwo\nthree\nfour\n");
    d.close();
    // A file shorter than what was committed before the checkpoint was changed by someone else.
    writeFileSync(target, "o");
    expect(() => new TransactionalFileSink(0, "sink", target, null, dir).restore(second.txn)).toThrow(/shorter .* than the output committed/);
  });
});

/**
 * Runs `steps` on an operator once through, then once more for every step restoring it
 * from its exported rows (through JSON, as a savepoint would) just before that step: each
 * run must give the output of the uninterrupted one, which is returned.
 */
function expectRestoresAtEveryStep<Op extends RowState>(make: (out: unknown[]) => Op, steps: number, step: (op: NoInfer<Op>, i: number) => void, finish: (op: NoInfer<Op>) => void): unknown[] {
  const run = (cut: number | null): unknown[] => {
    const out: unknown[] = [];
    let op = make(out);
    for (let i = 0; i < steps; i++) {
      if (i === cut) {
        const { rows, meta } = op.exportRows();
        op = make(out);
        op.importRows(JSON.parse(JSON.stringify(rows)), JSON.parse(JSON.stringify(meta)));
      }
      step(op, i);
    }
    finish(op);
    return out;
  };
  const whole = run(null);
  for (let cut = 1; cut < steps; cut++) expect(run(cut)).toEqual(whole);
  return whole;
}

describe("session windows in checkpoints", () => {
  // A count per session, as generated code would give it, with and without `merge`.
  const agg = (merge: boolean) => ({
    create: (k: unknown) => new Counter(k),
    add: (s: Counter) => void (s.n += 1),
    result: (s: Counter, k: unknown, start: number, end: number) => ({ k, start, end, n: s.n }),
    fields: 1,
    ...(merge ? { merge: (a: Counter, b: Counter) => void (a.n += b.n) } : {}),
  });
  const spec = { kind: "session" as const, size: 5000, every: 5000, allowedLateness: 0 };
  // Out of order, so that sessions merge: [k, time] pairs, then the watermark after each.
  const input: [string, number][] = [["a", 1000], ["b", 1500], ["a", 20000], ["a", 12000], ["b", 30000], ["a", 16000], ["b", 9000], ["a", 40000]];

  it("restore merged and open sessions, with or without their elements, to the output of an uninterrupted run", async () => {
    const { SessionWindowOperator } = await import("../runtime/time/window.js");
    for (const merge of [true, false]) {
      const whole = expectRestoresAtEveryStep(
        (out) => new SessionWindowOperator("s", spec, agg(merge), (v) => out.push(v), null),
        input.length,
        (op, i) => {
          const [k, t] = input[i]!;
          op.element({ k, t }, k, k, t);
          op.watermark(t - 20000);
        },
        (op) => op.watermark(Infinity),
      );
      expect(whole).toContainEqual({ k: "a", start: 12000, end: 25000, n: 3 });
    }
  });
});

describe("window joins in checkpoints", () => {
  it("restore the groups of open windows, in first-element order, to the pairs of an uninterrupted run", async () => {
    const { JoinOperator } = await import("../runtime/time/join.js");
    for (const window of [{ kind: "tumbling" as const, size: 10000, every: 10000 }, { kind: "sliding" as const, size: 10000, every: 5000 }]) {
      const spec = { kind: "window" as const, within: 0, window };
      // [side, key, time]: both sides of several keys, several windows, the watermark after each.
      const input: [number, string, number][] = [[0, "a", 1000], [1, "b", 2000], [1, "a", 3000], [0, "b", 9000], [0, "a", 12000], [1, "a", 14000], [1, "b", 16000], [0, "b", 17000], [1, "a", 26000]];
      const whole = expectRestoresAtEveryStep(
        (out) => new JoinOperator("j", spec, (l, r) => ({ l, r }), (v, k, t) => out.push({ v, k, t })),
        input.length,
        (op, i) => {
          const [side, k, t] = input[i]!;
          op.element(side, `${side}${k}@${t}`, k, k, t);
          op.watermark(t - 1000, 0);
          op.watermark(t - 1000, 1);
        },
        (op) => {
          op.watermark(Infinity, 0);
          op.watermark(Infinity, 1);
        },
      );
      expect(whole.length).toBeGreaterThan(3);
    }
  });
});

describe("tumbling and sliding windows in checkpoints", () => {
  class Sum {
    $dirty = false;
    n = 0;
    total = 0;
    constructor(readonly $key: unknown) {}
    $saveTo(c: unknown[][]): void {
      c[0]!.push(this.n);
      c[1]!.push(this.total);
    }
    $loadFrom(c: readonly unknown[][], i: number): void {
      this.n = c[0]![i] as number;
      this.total = c[1]![i] as number;
    }
  }
  const agg = {
    create: (k: unknown) => new Sum(k),
    add: (s: Sum, x: unknown) => void ((s.n += 1), (s.total += (x as { v: number }).v)),
    result: (s: Sum, k: unknown, start: number, end: number) => ({ k, start, end, n: s.n, total: s.total }),
    fields: 2,
  };
  const input: [string, number, number][] = [["a", 1000, 1], ["b", 1500, 2], ["a", 4000, 3], ["b", 2500, 4], ["c", 6500, 5], ["a", 9000, 6], ["b", 7000, 7], ["c", 12000, 8]];

  it("restore open windows (fired and allowed-late too) to the output of an uninterrupted run", async () => {
    const { FixedWindowOperator } = await import("../runtime/time/fixed.js");
    for (const spec of [{ kind: "sliding" as const, size: 4000, every: 2000, allowedLateness: 1000 }, { kind: "tumbling" as const, size: 5000, every: 5000, allowedLateness: 0 }]) {
      const whole = expectRestoresAtEveryStep(
        (out) => new FixedWindowOperator("w", spec, agg, (v) => out.push(v), null),
        input.length,
        (op, i) => {
          const [k, t, v] = input[i]!;
          op.element({ v }, k, k, t);
          op.watermark(t - 1500);
        },
        (op) => op.watermark(Infinity),
      );
      expect(whole.length).toBeGreaterThan(5);
    }
  });

  it("read rows of the older layout (a list of [start, end, fired, order, fields, null] per key)", async () => {
    const { FixedWindowOperator } = await import("../runtime/time/fixed.js");
    const out: unknown[] = [];
    const op = new FixedWindowOperator("w", { kind: "tumbling", size: 5000, every: 5000, allowedLateness: 0 }, agg, (v) => out.push(v), null);
    op.importRows(
      [
        ["b", "b", [[[0, 5000, false, 1, [2, 30], null]], []]],
        ["a", "a", [[[0, 5000, false, 0, [1, 10], null], [5000, 10000, false, 2, [1, 7], null]], []]],
      ],
      { wm: 4000, seq: 3, dropped: 0 },
    );
    op.watermark(Infinity);
    expect(out).toEqual([
      { k: "a", start: 0, end: 5000, n: 1, total: 10 },
      { k: "b", start: 0, end: 5000, n: 2, total: 30 },
      { k: "a", start: 5000, end: 10000, n: 1, total: 7 },
    ]);
  });
});
