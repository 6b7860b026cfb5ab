// Reading csv (docs/language.md, section 9): a record is one line, or more while a quoted
// field is open, up to 1 MiB; a record that is not valid csv, or whose quote is never
// closed, is a bad record made of its first line alone, through the source's on_error
// policy, and reading goes on with the next line. Compiled bundles run with node on real
// files (and stdin), including SIGKILLed runs resumed from checkpoints.

import { execa } from "execa";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SourcePosition } from "../runtime/connectors/contract.js";
import { FileSource } from "../runtime/connectors/file-source.js";
import { RecordErrors } from "../runtime/connectors/on-error.js";
import { compileAndRun, compileIn, lines, runBundle, STACK_LINE, tempDir, writeFiles } from "./helpers.js";

const job = (body: string): string => `job t\n${body}\n`;
const type = "type R = { id: int, name: string }";

interface DeadLetter {
  source: string;
  file: string;
  line: number;
  field: string | null;
  error: string;
  record: string;
}

/** The id of the newest completed checkpoint in a checkpoint folder (0: none). */
function newestCheckpoint(dir: string): number {
  if (!existsSync(dir)) return 0;
  const ids = readdirSync(dir).flatMap((n) => (/^chk-\d+$/.test(n) && existsSync(join(dir, n, "_metadata")) ? [Number(n.slice(4))] : []));
  return ids.length ? Math.max(...ids) : 0;
}

const deadLetters = (dir: string, file = "bad.jsonl"): DeadLetter[] => lines(readFileSync(join(dir, file), "utf8")).map((l) => JSON.parse(l) as DeadLetter);

/** The header, five good rows, a row whose quote is never closed (line 7), then `after` good rows. */
function unclosed(after: number): { text: string; ids: number[] } {
  const rows = ["id,name"];
  const ids: number[] = [];
  for (let i = 1; i <= 5; i++) {
    rows.push(`${i},"name ${i}"`);
    ids.push(i);
  }
  rows.push('6,"Smith, J');
  for (let i = 7; i < 7 + after; i++) {
    // Some with quoted fields (balanced on their line), some without.
    rows.push(i % 3 === 0 ? `${i},"q ${i}, quoted"` : `${i},plain ${i}`);
    ids.push(i);
  }
  return { text: rows.join("\n") + "\n", ids };
}

const NEVER_CLOSED = "not valid csv: the quote that opens field 2 is never closed (a quoted field may span lines, but this one reaches the end of the input); the record is taken to be this line alone";

describe("a csv line with an unclosed quote is one bad record", () => {
  const { text, ids } = unclosed(1000);

  it('on_error "fail": the rows before it go through, then FLOW5001 names the file and line', async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv")\nsink rs |> map(r => r.id) -> stdout()`), { "r.csv": text });
    expect(r.exitCode).toBe(1);
    expect(lines(r.stdout)).toEqual(["1", "2", "3", "4", "5"]);
    expect(r.stderr).toContain(`error[FLOW5001]: bad input in r.csv, line 7: ${NEVER_CLOSED}`);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('on_error "skip": counted and reported at the end; the 1,000 good rows after it come out', async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "skip")\nsink rs |> map(r => r.id) -> stdout()`), { "r.csv": text });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout).map(Number)).toEqual(ids);
    expect(ids.length).toBe(1005);
    expect(r.stderr).toMatch(/source `rs`: 1 bad record skipped/);
  });

  it('on_error "dead_letter": the dead-letter file holds the line, its number and the reason; the 1,000 good rows after it come out', async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs -> stdout()`), { "r.csv": text });
    expect(r.exitCode).toBe(0);
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { id: number; name: string });
    expect(out.map((o) => o.id)).toEqual(ids);
    expect(out[5]).toEqual({ id: 7, name: "plain 7" });
    expect(out[7]).toEqual({ id: 9, name: "q 9, quoted" });
    expect(r.stderr).toMatch(/source `rs`: 1 bad record written to the dead-letter file/);
    expect(deadLetters(r.dir)).toEqual([{ source: "rs", file: "r.csv", line: 7, field: null, error: NEVER_CLOSED, record: '6,"Smith, J' }]);
  });

  it("from stdin too", async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = stdin(format: "csv", on_error: "skip")\nsink rs |> map(r => r.id) -> stdout()`), {}, { input: text });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout).map(Number)).toEqual(ids);
    expect(r.stderr).toMatch(/1 bad record skipped/);
  });

  it("when a later quote would close it, the text up to there is no valid record: still its first line alone", async () => {
    const csv = ["id,name", '1,"open', "2,b", '3,"multi', 'line",', "4,d", ""].join("\n");
    // Line 2's quote closes on line 4 (`3,"`), where `multi` follows: not valid. Line 2 is
    // bad; lines 3 on are read again: `3,"multi\nline",` is a record of 3 cells (bad too).
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs -> stdout()`), { "r.csv": csv });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"id":2,"name":"b"}', '{"id":4,"name":"d"}']);
    const dead = deadLetters(r.dir);
    expect(dead.map((d) => [d.line, d.record])).toEqual([[2, '1,"open'], [4, '3,"multi\nline",']]);
    expect(dead[0]!.error).toBe("not valid csv: the quote that opens field 2 is not closed on this line, and the lines after it do not complete the record (line 4: field 2 goes on after its closing quote (a quoted field ends at a comma or the end of the line)); the record is taken to be this line alone");
    expect(dead[1]!.error).toBe("expected 2 columns like the header, found 3");
  });

  it("a quote still open 1 MiB after its record's start ends it there; the rows after come out", async () => {
    const { text: big, ids: bigIds } = unclosed(80_000);
    expect(big.length).toBeGreaterThan(1.2 * (1 << 20));
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs |> map(r => r.id) -> stdout()`), { "r.csv": big });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout).map(Number)).toEqual(bigIds);
    const dead = deadLetters(r.dir);
    expect(dead.map((d) => [d.line, d.record])).toEqual([[7, '6,"Smith, J']]);
    expect(dead[0]!.error).toBe("not valid csv: the quote that opens field 2 is not closed within 1 MiB (a quoted field may span lines, up to 1 MiB from the start of its record); the record is taken to be this line alone");
  });
});

describe("csv records", () => {
  it("a quoted field may span lines: its line breaks (LF or CRLF) are kept, and lines are counted right after it", async () => {
    const csv = 'id,name\r\n1,"two\r\nlines"\r\n2,"three\nlines\n"\r\n3,x"y\r\n4,""\r\n5,"a ""quoted"" word, and a comma"\r\n';
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs -> stdout()`), { "r.csv": csv });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"id":1,"name":"two\\r\\nlines"}', '{"id":2,"name":"three\\nlines\\n"}', '{"id":4,"name":""}', '{"id":5,"name":"a \\"quoted\\" word, and a comma"}']);
    expect(deadLetters(r.dir).map((d) => [d.line, d.error, d.record])).toEqual([[7, 'not valid csv: field 2 has a quote but does not start with one (quote the whole field and double its quotes: "a""b" for a"b)', '3,x"y']]);
  });

  it("a quote in the middle of a field, or text after a closing quote, is a bad line; the next line is read as usual", async () => {
    const csv = 'id,name\n1,a"b\n2,"x"y\n3,ok\n4,""""\n';
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs -> stdout()`), { "r.csv": csv });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"id":3,"name":"ok"}', '{"id":4,"name":"\\""}']);
    expect(deadLetters(r.dir).map((d) => [d.line, d.error])).toEqual([
      [2, 'not valid csv: field 2 has a quote but does not start with one (quote the whole field and double its quotes: "a""b" for a"b)'],
      [3, "not valid csv: field 2 goes on after its closing quote (a quoted field ends at a comma or the end of the line)"],
    ]);
  });

  it("a bad record that spans lines (valid csv, wrong columns) is dead-lettered whole, with its first line's number", async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "bad.jsonl")\nsink rs |> map(r => r.id) -> stdout()`), { "r.csv": 'id,name\n1,"a\nb",extra\n2,c\n' });
    expect(lines(r.stdout)).toEqual(["2"]);
    expect(deadLetters(r.dir).map((d) => [d.line, d.error, d.record])).toEqual([[2, "expected 2 columns like the header, found 3", '1,"a\nb",extra']]);
  });

  it("a header with an unclosed quote stops the job whatever on_error says", async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv", on_error: "skip")\nsink rs -> stdout()`), { "r.csv": 'id,"name\n1,a\n' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error\[FLOW5001\]: bad csv header in r\.csv, line 1: not valid csv: the quote that opens field 2 is never closed/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("a source killed and resumed from checkpoints reads multi-line records and bad lines exactly once", async () => {
    const rows = ["id,name"];
    for (let i = 0; i < 400_000; i++) {
      if (i % 997 === 0) rows.push(`${i},"unclosed ${i}`);
      else if (i % 101 === 0) rows.push(`${i},"two\nlines ${i}"`);
      else rows.push(`${i},"n ${i % 97}"`);
    }
    const text = job(`checkpoint {
  every 20ms
  storage "./chk"
}
${type}
source rs: R = file("r.csv", on_error: "dead_letter", dead_letter: "out/bad.jsonl")
let counts = rs |> key_by(r => r.id % 100) |> aggregate(r => { k: key, n: count(), s: sum(r.id), l: sum(len(r.name)) })
sink counts |> filter(c => c.n % 50 == 0) -> file("out/c.jsonl")`);
    const base = tempDir();
    writeFiles(base, { "r.csv": rows.join("\n") + "\n" });
    const bundle = await compileIn(base, text);
    const clean = tempDir();
    cpSync(join(base, "r.csv"), join(clean, "r.csv"));
    expect((await runBundle(bundle, { cwd: clean })).exitCode).toBe(0);
    const want = readFileSync(join(clean, "out/c.jsonl"), "utf8");
    const wantDead = readFileSync(join(clean, "out/bad.jsonl"), "utf8");
    expect(lines(wantDead).length).toBe(Math.ceil(400_000 / 997));
    const work = tempDir();
    cpSync(join(base, "r.csv"), join(work, "r.csv"));
    // Each run is killed right after it completes a checkpoint past the last one seen.
    let seen = 0;
    for (let i = 0; i < 4; i++) {
      const child = execa(process.execPath, [bundle], { cwd: work, reject: false, stdin: "ignore" });
      let exited = false;
      void child.finally(() => (exited = true));
      while (!exited && newestCheckpoint(join(work, "chk")) <= seen) await new Promise((r) => setTimeout(r, 5));
      const finished = exited;
      child.kill("SIGKILL");
      await child;
      if (finished) break;
      seen = newestCheckpoint(join(work, "chk"));
    }
    expect(seen).toBeGreaterThan(0);
    const last = await runBundle(bundle, { cwd: work, args: ["--log-level", "info"] });
    expect(last.exitCode, last.stderr).toBe(0);
    expect(last.stderr).toMatch(/resuming from checkpoint/);
    expect(readFileSync(join(work, "out/c.jsonl"), "utf8")).toBe(want);
    expect(readFileSync(join(work, "out/bad.jsonl"), "utf8")).toBe(wantDead);
  });
});

describe("csv positions", () => {
  it("a source resumed at the position after any batch reads the same records and bad lines as one that was not stopped", () => {
    // Records that span lines, unclosed quotes closed by a later line, empty lines, and at
    // the end an unclosed quote read to the end of the input, then 3,000 lines read again.
    const rows = ["id,name"];
    for (let i = 0; i < 6000; i++) {
      if (i % 7 === 3) rows.push(`${i},"unclosed ${i}`);
      else if (i % 5 === 1) rows.push(`${i},"two\r\nlines ${i}"`);
      else if (i % 11 === 0) rows.push("");
      else rows.push(`${i},n ${i}`);
    }
    rows.push('6000,"the last unclosed');
    for (let i = 6001; i < 9001; i++) rows.push(`${i},after ${i}`);
    const dir = tempDir();
    writeFiles(dir, { "r.csv": rows.join("\n") + "\n" });
    const m = { name: "rs", connector: "file" as const, type: { t: "record" as const, name: "R", fields: [{ name: "id", type: { t: "int" as const } }, { name: "name", type: { t: "string" as const } }] }, path: join(dir, "r.csv"), format: "csv" as const, onError: { policy: "dead_letter" as const, deadLetter: "bad" }, follow: false, eventTime: null };
    const reader = () => {
      const dead: string[] = [];
      const sink = { write: (l: string) => void dead.push(l) };
      return { src: new FileSource("rs", m, new RecordErrors(m.onError, sink)), dead };
    };
    // One run to the end, keeping the position and the dead letters after each batch.
    const full = reader();
    const records: unknown[] = [];
    const steps: { position: SourcePosition; records: number; dead: number }[] = [{ position: full.src.position(), records: 0, dead: 0 }];
    for (let b = full.src.next() as unknown[] | null; b !== null; b = full.src.next() as unknown[] | null) {
      records.push(...b);
      steps.push({ position: full.src.position(), records: records.length, dead: full.dead.length });
    }
    full.src.close();
    expect(steps.length).toBeGreaterThan(8);
    const want: number[] = [];
    for (let i = 0; i < 9001; i++) if (i !== 6000 && (i > 6000 || (i % 7 !== 3 && (i % 5 === 1 || i % 11 !== 0)))) want.push(i);
    expect(records.map((r) => (r as { id: number }).id)).toEqual(want);
    expect(full.dead.length).toBe(Math.ceil((6000 - 3) / 7) + 1);
    for (const step of steps) {
      const resumed = reader();
      resumed.src.seek(JSON.parse(JSON.stringify(step.position)) as SourcePosition);
      const rest: unknown[] = [];
      for (let b = resumed.src.next() as unknown[] | null; b !== null; b = resumed.src.next() as unknown[] | null) rest.push(...b);
      resumed.src.close();
      expect([...records.slice(0, step.records), ...rest]).toEqual(records);
      expect([...full.dead.slice(0, step.dead), ...resumed.dead]).toEqual(full.dead);
    }
  });
});

describe("csv headers", () => {
  it("a column named twice: a warning naming the file and column, once at the start; the first column is read", async () => {
    const r = await compileAndRun(job(`${type}\nsource rs: R = file("r.csv")\nsink rs -> stdout()`), { "r.csv": "id,name,other,name,other\n1,first,x,second,y\n2,a,x,b,y\n" });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual(['{"id":1,"name":"first"}', '{"id":2,"name":"a"}']);
    // `other` is not read by the type: no warning for it.
    expect(r.stderr).toBe("[t] warn: source `rs`: the header of r.csv has the column `name` 2 times (columns 2, 4); field `name` reads the first, column 2");
  });
});
