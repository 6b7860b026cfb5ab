// The language server's side of test files (`*.test.flow`; compiler/lsp.ts hands them here):
// diagnostics from the test checker (testing/check.ts), hover (a given source's or an
// expected stream's type, an operator's states, the type a fixture value is read as), go to
// definition (a stream, an operator or a state in the job's file; the job itself) and
// completion (sources after `given`, streams after `expect`, uids after `expect state`,
// a state's names in its braces, and the words of a test).

import { statSync } from "node:fs";
import type * as A from "../ast.js";
import type { JoinInfo, StatefulStage } from "../check/index.js";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { TypeScriptFiles } from "../imports.js";
import { recordShape, stripOptional, typeToString, type Type } from "../types.js";
import { checkTestFile, jobPaths, Jobs, statesOf, streamNames, streamType, type CheckedTestFile, type JobUnderTest } from "./check.js";
import type * as TA from "./ast.js";

/** A place in a job's file, for go to definition: 0-based lines and characters, as LSP counts. */
export interface Place {
  path: string;
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** A span of a job's file as a Place (null span: the file's start). */
function place(job: JobUnderTest, span: A.Span | null): Place {
  const at = (offset: number) => {
    const p = job.fe.source.position(offset);
    return { line: p.line - 1, character: p.col - 1 };
  };
  return { path: job.path, start: span ? at(span.start) : { line: 0, character: 0 }, end: span ? at(span.end) : { line: 0, character: 0 } };
}

export interface TestCompletion {
  label: string;
  kind: "source" | "stream" | "operator" | "state" | "keyword";
  detail?: string;
}

function detail(t: Type): string {
  const base = stripOptional(t);
  return base.kind === "record" && base.name ? `${typeToString(t)} = ${recordShape(base)}` : typeToString(t);
}

const within = (s: A.Span, offset: number): boolean => s.start <= offset && offset <= s.end;

/** One analysis of a test file's text. */
export class TestFileAnalysis {
  readonly checked: CheckedTestFile;
  private readonly jobs: Jobs;

  constructor(
    readonly text: string,
    readonly path: string,
    typeScriptFiles: TypeScriptFiles,
  ) {
    this.jobs = new Jobs(typeScriptFiles);
    this.checked = checkTestFile(text, path, this.jobs);
  }

  /** The diagnostics in this file (the jobs' own errors are in theirs: FLOW6001 points at them). */
  get diagnostics(): Diagnostic[] {
    return this.checked.diagnostics.filter((d) => d.span.file === this.path);
  }

  private job(test: TA.TestDecl): JobUnderTest | null {
    const { path, shown } = jobPaths(this.path, test.job.value);
    const j = this.jobs.get(path, shown);
    return "fe" in j && j.fe.checked ? j : null;
  }

  private testAt(offset: number): TA.TestDecl | null {
    return this.checked.tree?.tests.find((t) => within(t.span, offset)) ?? null;
  }

  private stageOf(job: JobUnderTest, uid: string): StatefulStage | JoinInfo | null {
    for (const [st, u] of job.fe.uids ?? []) if (u === uid) return st;
    return null;
  }

  /** Hover text (.flow code), or null. */
  hover(offset: number): string | null {
    const test = this.testAt(offset);
    if (!test) return null;
    const job = this.job(test);
    if (within(test.job.span, offset)) {
      if (!job) return null;
      const c = job.fe.checked!;
      return `job ${c.job} (${job.shown}): sources ${c.sources.map((s) => s.name).join(", ")}; streams ${streamNames(job.fe).join(", ")}`;
    }
    if (!job) return null;
    for (const item of test.items) {
      if (!within(item.span, offset)) continue;
      if (item.kind === "Given" && within(item.source.span, offset)) {
        const t = streamType(job.fe, item.source.name);
        return t ? `source ${item.source.name}: ${detail(t)}` : null;
      }
      if (item.kind === "Expect" && within(item.stream.span, offset)) {
        const t = streamType(job.fe, item.stream.name);
        return t ? `stream ${item.stream.name}: ${detail(t)}` : null;
      }
      if (item.kind === "ExpectState") {
        const st = this.stageOf(job, item.uid.name);
        const info = st ? statesOf(st) : null;
        if (within(item.uid.span, offset)) {
          if (!st || !info) return null;
          const kind = "leftAlias" in st ? "join" : st.kind;
          if ("not" in info) return `${kind} as ${item.uid.name}`;
          return `${kind} as ${item.uid.name}${info.key ? `, keyed by ${typeToString(info.key)}` : ""}\n${info.states.map((s) => `state ${s.name}: ${typeToString(s.type)}`).join("\n")}`;
        }
        const field = item.fields.find((f) => within(f.name.span, offset));
        if (field && info && !("not" in info)) {
          const s = info.states.find((x) => x.name === field.name.name);
          if (s) return `(state) ${s.name}: ${detail(s.type)}`;
        }
      }
      // A fixture value: the innermost one the checker read with a type.
      let best: { node: A.Expr | A.Ident; type: Type } | null = null;
      for (const [node, type] of this.checked.valueTypes) {
        if (!within(node.span, offset) || !within(item.span, node.span.start)) continue;
        if (!best || node.span.end - node.span.start < best.node.span.end - best.node.span.start) best = { node, type };
      }
      if (best) return best.node.kind === "Ident" ? `(field) ${best.node.name}: ${detail(best.type)}` : detail(best.type);
    }
    return null;
  }

  /** Where the name at `offset` is declared: in the job's file, or the job itself. */
  definition(offset: number): Place | null {
    const test = this.testAt(offset);
    if (!test) return null;
    const job = this.job(test);
    if (!job) return null;
    if (within(test.job.span, offset)) return place(job, null);
    const c = job.fe.checked!;
    const streamDecl = (name: string): A.Span | null => {
      const src = c.sources.find((s) => s.name === name);
      if (src) return src.decl.name.span;
      const l = c.lets.find((x) => x.name === name);
      if (l) return l.decl.name.span;
      for (const p of [...c.lets, ...c.sinks]) {
        for (const st of p.stages) {
          if (st.kind !== "window" || st.window.late !== name || st.stage.kind !== "CallStage") continue;
          const arg = st.stage.args.find((a) => a.name?.name === "late");
          if (arg) return arg.value.span;
        }
      }
      return null;
    };
    for (const item of test.items) {
      if (item.kind === "Given" && within(item.source.span, offset)) return place(job, streamDecl(item.source.name));
      if (item.kind === "Expect" && within(item.stream.span, offset)) return place(job, streamDecl(item.stream.name));
      if (item.kind !== "ExpectState") continue;
      const st = this.stageOf(job, item.uid.name);
      if (!st) continue;
      if (within(item.uid.span, offset)) {
        if ("leftAlias" in st) return place(job, st.join.span);
        const stage = st.stage;
        if (stage.uid) return place(job, stage.uid.span);
        const owner = c.lets.find((l) => l.stages.includes(st));
        return place(job, owner ? owner.decl.name.span : stage.span);
      }
      const field = item.fields.find((f) => within(f.name.span, offset));
      if (field && !("leftAlias" in st) && st.kind === "process") {
        const s = st.states.find((x) => x.name === field.name.name);
        if (s) return place(job, s.decl.name.span);
      }
    }
    return null;
  }

  /** Completion at `offset`, from the text before it (which need not parse). */
  complete(offset: number): TestCompletion[] {
    const before = this.text.slice(0, offset);
    const tests = [...before.matchAll(/\btest\s+"(?:[^"\\\n]|\\.)*"\s+for\s+"((?:[^"\\\n]|\\.)*)"\s*\{/g)];
    const last = tests[tests.length - 1];
    const open = last ? this.text.slice(last.index! + last[0].length, offset) : null;
    // Inside a test when its braces are not closed yet.
    const depth = open === null ? -1 : [...open].reduce((d, ch) => d + (ch === "{" ? 1 : ch === "}" ? -1 : 0), 0);
    if (!last || depth < 0) return [{ label: "test", kind: "keyword", detail: 'test "name" for "job.flow" { given … expect … }' }];
    const { path, shown } = jobPaths(this.path, last[1]!);
    const j = this.jobs.get(path, shown);
    const job = "fe" in j && j.fe.checked ? j : null;
    if (!job) return [];
    const c = job.fe.checked!;
    const uids = [...(job.fe.uids ?? [])].flatMap(([st, uid]) => {
      const info = statesOf(st);
      return "not" in info ? [] : [{ uid, info }];
    });
    const stateBraces = /\bexpect\s+state\s+(\w+)\s*(?:\[[^\]]*\])?\s*\{[^}]*$/.exec(before);
    if (stateBraces) {
      const found = uids.find((u) => u.uid === stateBraces[1]);
      return found && !("not" in found.info) ? found.info.states.map((s) => ({ label: s.name, kind: "state" as const, detail: typeToString(s.type) })) : [];
    }
    if (/\bexpect\s+state\s+\w*$/.test(before)) return uids.map((u) => ({ label: u.uid, kind: "operator" as const, detail: "not" in u.info ? undefined : u.info.states.map((s) => s.name).join(", ") }));
    if (/\bgiven\s+\w*$/.test(before)) return c.sources.map((s) => ({ label: s.name, kind: "source" as const, detail: detail(s.type) }));
    if (/\bexpect\s+\w*$/.test(before)) {
      return [...streamNames(job.fe).map((s) => ({ label: s, kind: "stream" as const, detail: detail(streamType(job.fe, s)!) })), { label: "state", kind: "keyword" as const, detail: "expect state <uid>[<key>] { state: value }" }];
    }
    // In a list of given records: `restart` between two of them.
    if (/\bgiven\s+\w+\s*\[[^\]]*$/.test(before) && depth === 0) return [{ label: "restart", kind: "keyword", detail: "a checkpoint here, then a restore from it" }];
    if (depth === 0) {
      return [
        { label: "given", kind: "keyword", detail: "given <source> [ records ] | from \"file\"" },
        { label: "expect", kind: "keyword", detail: "expect <stream> [unordered] [ records ] | from \"file\"; expect state <uid>[<key>] { … }" },
      ];
    }
    return [];
  }
}

/** When each file was last changed (0: it cannot be read). */
function stamps(paths: string[]): number[] {
  return paths.map((p) => {
    try {
      return statSync(p).mtimeMs;
    } catch {
      return 0;
    }
  });
}

/** The analyses of open test files, by document: made again when the text or a file it read (a job, a fixture) changes. */
export class TestFiles {
  private readonly byUri = new Map<string, { a: TestFileAnalysis; stamps: number[] }>();

  constructor(private readonly typeScriptFiles: TypeScriptFiles) {}

  analysis(uri: string, path: string, text: string): TestFileAnalysis {
    const known = this.byUri.get(uri);
    if (known && known.a.text === text && stamps(known.a.checked.inputs).every((t, i) => t === known.stamps[i])) return known.a;
    const a = new TestFileAnalysis(text, path, this.typeScriptFiles);
    this.byUri.set(uri, { a, stamps: stamps(a.checked.inputs) });
    return a;
  }

  close(uri: string): void {
    this.byUri.delete(uri);
  }
}
