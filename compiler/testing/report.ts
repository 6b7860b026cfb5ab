// What `flowc test` prints: one line per test (✓ or ✗, its name, its time), under each
// failing test what differs (which expectation, which record, which field), then a summary;
// and the same results as JUnit XML for CI (`--reporter junit`), in the form Jenkins,
// GitLab and GitHub's test reporters read (one <testsuite> per test file).

import pc from "picocolors";
import { renderDiagnostics } from "../diagnostics/render.js";
import type { CheckedTestFile } from "./check.js";
import type { Failure, FileResult, TestResult } from "./run.js";

type Colors = ReturnType<typeof pc.createColors>;

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.max(ms, 0).toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The lines saying why a test failed, indented under it. */
export function failureLines(file: string, failures: Failure[], c: Colors = pc.createColors(false)): string[] {
  const out: string[] = [];
  for (const f of failures) {
    switch (f.kind) {
      case "job":
        out.push(`the job failed: ${c.red(`error[${f.code}]`)}: ${f.message}${f.location ? `\n  --> ${f.location}` : ""}`);
        break;
      case "stream": {
        const d = f.diff;
        const counts = d.expectedCount === d.foundCount ? `${d.expectedCount} record${d.expectedCount === 1 ? "" : "s"} expected and found, ${d.lines.filter((l) => l.op === "-").length} differ` : `${d.expectedCount} record${d.expectedCount === 1 ? "" : "s"} expected, ${d.foundCount} found`;
        out.push(`expect ${f.stream}${f.unordered ? " unordered" : ""} (${file}:${f.line}:${f.col}): ${counts}`);
        out.push(`  ${c.red("- expected")}  ${c.green("+ found")}`);
        const width = String(Math.max(d.expectedCount, d.foundCount)).length;
        // Long runs of equal records are shortened to their ends.
        const lines = d.lines;
        for (let i = 0; i < lines.length; i++) {
          const l = lines[i]!;
          if (l.op === " ") {
            let j = i;
            while (j < lines.length && lines[j]!.op === " ") j++;
            if (j - i > 5) {
              const keepStart = i === 0 ? 0 : 2;
              const keepEnd = j === lines.length ? 0 : 2;
              for (let k = i; k < i + keepStart; k++) out.push(`    #${String(lines[k]!.index).padStart(width)} ${c.dim(lines[k]!.text)}`);
              out.push(`    ${c.dim(`… ${j - i - keepStart - keepEnd} equal record${j - i - keepStart - keepEnd === 1 ? "" : "s"} …`)}`);
              for (let k = j - keepEnd; k < j; k++) out.push(`    #${String(lines[k]!.index).padStart(width)} ${c.dim(lines[k]!.text)}`);
              i = j - 1;
              continue;
            }
            out.push(`    #${String(l.index).padStart(width)} ${c.dim(l.text)}`);
            continue;
          }
          const color = l.op === "-" ? c.red : c.green;
          out.push(color(`  ${l.op} #${String(l.index).padStart(width)} ${l.text}`));
          for (const fd of l.fields ?? []) out.push(`      ${fd.path ? `${fd.path}: ` : ""}expected ${c.red(fd.expected)}, found ${c.green(fd.found)}`);
        }
        break;
      }
      case "state":
        out.push(`expect state ${f.uid}${f.key !== null ? `[${f.key}]` : ""} (${file}:${f.line}:${f.col})${f.missing ? `: ${f.missing}` : ""}`);
        for (const fd of f.fields) out.push(`    ${fd.path}: expected ${c.red(fd.expected)}, found ${c.green(fd.found)}`);
        break;
    }
  }
  return out;
}

/** A test file's diagnostics (errors and warnings in it and its jobs), rendered as `flowc check` does. */
export function diagnosticsText(f: CheckedTestFile, color: boolean): string {
  return f.diagnostics.length ? renderDiagnostics(f.diagnostics, f.sources, color) + "\n" : "";
}

/** The console reporter: writes as results come. */
export class ConsoleReporter {
  private readonly c: Colors;
  private lastFile: string | null = null;

  constructor(
    private readonly write: (text: string) => void,
    color: boolean,
  ) {
    this.c = pc.createColors(color);
  }

  result(file: string, r: TestResult): void {
    const { c } = this;
    if (file !== this.lastFile) {
      this.write(`${c.bold(file)}\n`);
      this.lastFile = file;
    }
    const time = c.dim(`(${formatMs(r.ms)})`);
    if (r.status === "passed") this.write(`  ${c.green("✓")} ${r.name} ${time}\n`);
    else if (r.status === "error") this.write(`  ${c.red("✗")} ${r.name} ${c.dim(`(not run: ${r.error})`)}\n`);
    else {
      this.write(`  ${c.red("✗")} ${r.name} ${time}\n`);
      for (const l of failureLines(file, r.failures, c)) this.write(`      ${l.replace(/\n/g, "\n      ")}\n`);
    }
  }

  summary(files: FileResult[], ms: number, compileMs: number, jobs: number): void {
    const { c } = this;
    const all = files.flatMap((f) => f.results);
    const passed = all.filter((r) => r.status === "passed").length;
    const failed = all.filter((r) => r.status === "failed").length;
    const errors = all.filter((r) => r.status === "error").length;
    const parts = [passed ? c.green(`${passed} passed`) : null, failed ? c.red(`${failed} failed`) : null, errors ? c.red(`${errors} not run`) : null].filter((x) => x !== null);
    this.write(`\n${all.length} test${all.length === 1 ? "" : "s"}${parts.length ? `: ${parts.join(", ")}` : ""} ${c.dim(`(${formatMs(ms)}; ${jobs} job${jobs === 1 ? "" : "s"} compiled in ${formatMs(compileMs)})`)}\n`);
  }
}

// ---- JUnit XML -------------------------------------------------------------------------------

/** Text for XML: the five entities escaped, and characters XML 1.0 cannot hold left out. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** One <testcase>: a test's result, or a test file that does not parse (an error). */
interface Case {
  name: string;
  classname: string;
  file: string;
  line: number | null;
  ms: number;
  status: TestResult["status"];
  /** failure or error: its message attribute and its text. */
  message?: string;
  text?: string;
}

function casesOf(f: FileResult): Case[] {
  const file = f.checked.file;
  const classname = file.replace(/\.test\.flow$/, "");
  const diagnostics = f.checked.diagnostics.length ? renderDiagnostics(f.checked.diagnostics, f.checked.sources, false) : "";
  const cases: Case[] = f.results.map((r) => {
    const c: Case = { name: r.name, classname, file, line: r.line, ms: r.ms, status: r.status };
    if (r.status === "error") {
      c.message = `not run: ${r.error}`;
      c.text = diagnostics;
    } else if (r.status === "failed") {
      const lines = failureLines(file, r.failures);
      c.message = lines[0] ?? "failed";
      c.text = lines.join("\n");
    }
    return c;
  });
  // A test file that does not parse has no tests: its diagnostics as one error.
  if (cases.length === 0 && !f.checked.ok) cases.push({ name: file, classname, file, line: null, ms: 0, status: "error", message: "the test file does not compile", text: diagnostics });
  return cases;
}

/** The run as JUnit XML: a <testsuite> per test file, a <testcase> per test. */
export function junitXml(files: FileResult[], ms: number, timestamp: Date): string {
  const suites = files.map((f) => ({ file: f.checked.file, cases: casesOf(f) }));
  const count = (cs: Case[], s: Case["status"]): number => cs.filter((c) => c.status === s).length;
  const all = suites.flatMap((s) => s.cases);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="flowc test" tests="${all.length}" failures="${count(all, "failed")}" errors="${count(all, "error")}" time="${seconds(ms)}">`);
  for (const { file, cases } of suites) {
    const time = cases.reduce((t, c) => t + c.ms, 0);
    out.push(`  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${count(cases, "failed")}" errors="${count(cases, "error")}" skipped="0" time="${seconds(time)}" timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, "")}" file="${xml(file)}">`);
    for (const c of cases) {
      const head = `    <testcase name="${xml(c.name)}" classname="${xml(c.classname)}" file="${xml(c.file)}"${c.line !== null ? ` line="${c.line}"` : ""} time="${seconds(c.ms)}"`;
      if (c.status === "passed") {
        out.push(`${head}/>`);
        continue;
      }
      const tag = c.status === "failed" ? "failure" : "error";
      out.push(`${head}>`);
      out.push(`      <${tag} message="${xml(c.message ?? "")}" type="${c.status === "failed" ? "AssertionError" : "CompileError"}">${xml(c.text ?? "")}</${tag}>`);
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
