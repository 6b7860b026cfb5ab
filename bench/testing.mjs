// `flowc test`: 50 tests against 5 jobs, against the way to test a job without it, in the
// same run. Run alone with `node bench/testing.mjs`; `npm run bench` runs it too.
//
// The jobs are five examples (fraud_alert, hot_items, new_sellers, sessions, word_count),
// each with ten tests whose inputs are slices of the example's own data. The expected
// records are what the compiled job prints for those inputs (computed first, untimed), so
// every test passes on both sides.
//
// - flowc test: one process, `flowc test <folder>` as a user runs it: it checks the test
//   files, compiles each job once and runs the 50 tests in-process.
// - baseline: what a careful person scripts without it: `flowc compile` of each job, then
//   per test a folder with the input files, `node job.mjs` there, and its output compared.
// Both are whole processes, run interleaved, best of N.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, root } from "./common.mjs";

const TESTS_PER_JOB = 10;
const flowcBin = join(root, "bin", "flowc");
const data = join(root, "dsl-examples", "data");
const lines = (f) => readFileSync(join(data, f), "utf8").split("\n").filter((l) => l.trim());

/** Per job: its sources' data files and the stream the job sinks (what each test expects). */
const JOBS = [
  { job: "fraud_alert", sources: [{ name: "txns", file: "transactions.jsonl" }], stream: "alerts" },
  { job: "hot_items", sources: [{ name: "bids", file: "bids.jsonl" }], stream: "hottest" },
  { job: "new_sellers", sources: [{ name: "persons", file: "persons.jsonl" }, { name: "auctions", file: "auctions.jsonl" }], stream: "new_sellers" },
  { job: "sessions", sources: [{ name: "clicks", file: "clicks.jsonl" }], stream: "sessions" },
  { job: "word_count", sources: [{ name: "lines", file: "words.txt", text: true }], stream: "counts" },
];

/** Test i's slice of a data file: a window that moves and grows with i. */
function slice(all, i) {
  const size = Math.max(1, Math.ceil((all.length * (i + 3)) / (TESTS_PER_JOB + 3)));
  const start = Math.floor(((all.length - size) * i) / Math.max(1, TESTS_PER_JOB - 1));
  return all.slice(start, start + size);
}

/** Writes the jobs, their bundles and the 50 tests into bench/.build/testing/. */
export function prepare(log = () => {}) {
  const dir = join(build, "testing");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "dist"), { recursive: true });
  const cases = [];
  for (const j of JOBS) {
    cpSync(join(root, "dsl-examples", `${j.job}.flow`), join(dir, `${j.job}.flow`));
    execFileSync(flowcBin, ["compile", join(dir, `${j.job}.flow`), "-o", join(dir, "dist")], { stdio: ["ignore", "ignore", "inherit"] });
    const tests = [];
    for (let i = 0; i < TESTS_PER_JOB; i++) {
      const inputs = j.sources.map((s) => ({ ...s, lines: slice(lines(s.file), (i + j.sources.indexOf(s)) % TESTS_PER_JOB) }));
      // The expected records: what the job prints for these inputs.
      const work = join(dir, "expect", `${j.job}-${i}`);
      for (const s of inputs) {
        mkdirSync(join(work, "dsl-examples", "data"), { recursive: true });
        writeFileSync(join(work, "dsl-examples", "data", s.file), s.lines.join("\n") + "\n");
      }
      const r = spawnSync(process.execPath, [join(dir, "dist", `${j.job}.mjs`)], { cwd: work, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${j.job} test ${i}: ${r.stderr}`);
      const out = r.stdout.split("\n").filter((l) => l.trim());
      cases.push({ job: j.job, work, expected: r.stdout });
      // JSON is a .flow record too (test files take quoted field names), and lines of text are strings.
      const given = inputs.map((s) => `  given ${s.name} [\n${s.lines.map((l) => `    ${s.text ? JSON.stringify(l) : l},`).join("\n")}\n  ]`);
      tests.push(`test "slice ${i}" for "${j.job}.flow" {\n${given.join("\n")}\n  expect ${j.stream} [\n${out.map((l) => `    ${l},`).join("\n")}\n  ]\n}\n`);
    }
    writeFileSync(join(dir, `${j.job}.test.flow`), tests.join("\n"));
  }
  log(`flowc test: ${cases.length} tests against ${JOBS.length} jobs in ${dir}`);
  return { dir, cases };
}

/** The whole of `flowc test <dir>`, as a process (ms); it must pass every test. */
function flowcTest(dir) {
  const t = process.hrtime.bigint();
  const r = spawnSync(flowcBin, ["test", dir], { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`flowc test failed:\n${r.stdout}\n${r.stderr}`);
  const passed = Number(/(\d+) tests: \1 passed/.exec(r.stdout)?.[1]);
  const compile = /(\d+) jobs? compiled in ([\d.]+) (ms|s)/.exec(r.stdout);
  return { ms, passed, compileMs: compile ? Number(compile[2]) * (compile[3] === "s" ? 1000 : 1) : NaN };
}

/** The baseline: compile each job, then one node process per test in its folder, output compared. */
function baseline(dir, cases) {
  const t = process.hrtime.bigint();
  for (const j of JOBS) execFileSync(flowcBin, ["compile", join(dir, `${j.job}.flow`), "-o", join(dir, "dist")], { stdio: "ignore" });
  for (const c of cases) {
    const r = spawnSync(process.execPath, [join(dir, "dist", `${c.job}.mjs`)], { cwd: c.work, encoding: "utf8" });
    if (r.status !== 0 || r.stdout !== c.expected) throw new Error(`baseline: ${c.work} printed something else`);
  }
  return { ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

/** Interleaved runs of both; the best of each. */
export function benchTests({ runs = 5, log = () => {} } = {}) {
  const { dir, cases } = prepare(log);
  let flowc = { ms: Infinity };
  let base = { ms: Infinity };
  for (let i = 0; i < runs; i++) {
    const f = flowcTest(dir);
    if (f.passed !== cases.length) throw new Error(`flowc test passed ${f.passed} of ${cases.length} tests`);
    if (f.ms < flowc.ms) flowc = f;
    const b = baseline(dir, cases);
    if (b.ms < base.ms) base = b;
  }
  return { tests: cases.length, jobs: JOBS.length, runs, flowcMs: flowc.ms, flowcCompileMs: flowc.compileMs, baselineMs: base.ms };
}

export function testingTable(r) {
  return [
    `| ${r.tests} tests against ${r.jobs} jobs | flowc test (one process) | baseline (flowc compile per job, node per test) | baseline/flowc | target |`,
    "|---|---:|---:|---:|---:|",
    `| whole run, best of ${r.runs} | ${(r.flowcMs / 1000).toFixed(2)} s (of which compiling the ${r.jobs} jobs: ${(r.flowcCompileMs / 1000).toFixed(2)} s) | ${(r.baselineMs / 1000).toFixed(2)} s | ${(r.baselineMs / r.flowcMs).toFixed(1)}× | flowc < 3 s |`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = process.argv.includes("--quick") ? 1 : 5;
  const r = benchTests({ runs, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(testingTable(r));
}
