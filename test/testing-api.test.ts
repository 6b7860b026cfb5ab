// flowc/testing, the JavaScript API for testing jobs from vitest or jest, used as a user uses
// it: the built module (build/testing.mjs, what the package exports), a real project that
// imports "flowc/testing" by name, and TypeScript checking a test against the declarations
// `flowc types` writes for a job.

import { execa } from "execa";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type * as Api from "../compiler/testing/public.js";
import { flowc, ROOT, tempDir, writeFiles } from "./helpers.js";

let api: typeof Api & { FlowCompileError: new (...a: never[]) => Error; FlowInputError: new (...a: never[]) => Error };

beforeAll(async () => {
  // npm test builds first; the module is what `import … from "flowc/testing"` loads.
  api = (await import(pathToFileURL(join(ROOT, "build", "testing.mjs")).href)) as typeof api;
});

describe("flowc/testing", () => {
  it("runs a job on given records and returns each stream's records and a key's state", async () => {
    const job = await api.loadJob(join(ROOT, "dsl-examples", "fraud_alert.flow"));
    expect(job.name).toBe("fraud_alert");
    expect(job.sources).toEqual(["txns"]);
    expect(job.streams).toEqual(["alerts", "txns"]);
    expect(job.operators).toEqual(["fraud_check"]);
    const run = await job.run({
      txns: [
        { account: "a", amount: 0.5, merchant: "m1", ts: 1000 },
        { account: "a", amount: 600, merchant: "m1", ts: "1970-01-01T00:00:02Z" },
      ],
    });
    expect(run.failure).toBeNull();
    expect(run.streams.alerts).toEqual([{ account: "a", reason: "small charge then large charge", amount: 600, ts: 2000 }]);
    expect(run.streams.txns).toHaveLength(2);
    expect(run.state("fraud_check", "a")).toEqual({ small_seen: false, recent: [0.5, 600], merchants: { m1: 2 }, purchases: 2 });
    expect(run.state("fraud_check", "nobody")).toBeNull();
    // Each run starts from nothing.
    const again = await job.run({ txns: [{ account: "a", amount: 600, merchant: "m1", ts: 3000 }] });
    expect(again.streams.alerts).toEqual([]);
    expect(again.state("fraud_check", "a")).toMatchObject({ purchases: 1 });
  });

  it("takes a checkpoint and restores from it at a restart marker", async () => {
    const job = await api.loadJob(join(ROOT, "dsl-examples", "running_sum.flow"));
    const run = await job.run({ numbers: [1, 2, api.restart, 3, api.restart] });
    expect(run.restarts).toBe(2);
    expect(run.streams.totals).toEqual([1, 3, 6]);
    expect(run.state("totals")).toEqual({ a0_sum: 6 });
  });

  it("returns only the streams asked for, and counts late elements", async () => {
    const dir = tempDir("flowc-api-");
    writeFiles(dir, {
      "w.flow": "job w\nsource s: int = values([1]) event_time(x => x) watermark 0ms\nlet c = s |> window(tumbling(10ms)) |> aggregate(x => count())\nsink c -> stdout()\n",
    });
    const job = await api.loadJob(join(dir, "w.flow"), { streams: ["c"] });
    expect(job.streams).toEqual(["c"]);
    const run = await job.run({ s: [1, 2, 15, 3] });
    expect(run.streams).toEqual({ c: [2, 1] });
    expect(run.late).toEqual({ c: 1 });
  });

  it("rejects a job with errors with its diagnostics, and a record that does not fit with its source and field", async () => {
    const dir = tempDir("flowc-api-");
    writeFiles(dir, { "bad.flow": "job bad\nsource n: int = values([1])\nsink n |> filter(x => x + 1) -> stdout()\n" });
    const err = await api.loadJob(join(dir, "bad.flow")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(api.FlowCompileError);
    expect((err as Api.FlowCompileError).diagnostics).toEqual([expect.objectContaining({ code: "FLOW3001", severity: "error", line: 3, col: 23 })]);
    expect((err as Error).message).toContain("error[FLOW3001]: expected bool, found int");
    const job = await api.loadJob(join(ROOT, "dsl-examples", "fraud_alert.flow"));
    const bad = await job.run({ txns: [{ account: "a", amount: 1, merchant: "m", ts: 1 }, { account: "a", amount: "1", merchant: "m", ts: 1 }] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(api.FlowInputError);
    expect(bad).toMatchObject({ source: "txns", index: 1, field: "amount", message: 'record 1 of source `txns`, field `amount`: expected float, found string "1"' });
  });

  it("reports the job's own failure with its code and .flow location", async () => {
    const dir = tempDir("flowc-api-");
    writeFiles(dir, { "div.flow": "job div\nsource n: int = values([1])\nlet r = n |> map(x => 10 % x)\nsink r -> stdout()\n" });
    const run = await (await api.loadJob(join(dir, "div.flow"))).run({ n: [5, 0, 1] });
    expect(run.streams.r).toEqual([0]);
    expect(run.failure).toEqual({ code: "FLOW5003", message: "remainder of a division by zero (`% 0`)", location: "div.flow:3:26" });
  });

  it("is the package's flowc/testing export, and `flowc types` makes its results typed for TypeScript", async () => {
    const project = tempDir("flowc-api-project-");
    mkdirSync(join(project, "node_modules"));
    symlinkSync(ROOT, join(project, "node_modules", "flowc"), "dir");
    writeFiles(project, {
      "package.json": JSON.stringify({ type: "module", private: true }),
      "jobs/fraud_alert.flow": (await import("node:fs")).readFileSync(join(ROOT, "dsl-examples", "fraud_alert.flow"), "utf8"),
      "tsconfig.json": JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ["*.ts"] }),
      "good.ts": `import { loadJob, restart } from "flowc/testing";
import type { FraudAlertJob } from "./fraud_alert.types.js";
const job = await loadJob<FraudAlertJob>("jobs/fraud_alert.flow");
const run = await job.run({ txns: [{ account: "a", amount: 0.5, merchant: "m1", ts: "2024-05-01T12:00:00Z" }, restart] });
const amount: number = run.streams.alerts[0]!.amount;
const purchases: number | undefined = run.state("fraud_check", "a")?.purchases;
export { amount, purchases };
`,
      "bad.ts": `import { loadJob } from "flowc/testing";
import type { FraudAlertJob } from "./fraud_alert.types.js";
const job = await loadJob<FraudAlertJob>("jobs/fraud_alert.flow");
const run = await job.run({ txns: [{ account: "a", amount: "0.5", merchant: "m1", ts: 1 }] });
const reason: number = run.streams.alerts[0]!.reason;
run.state("fraud_check", 42);
export { reason };
`,
      "run.mjs": `import { loadJob } from "flowc/testing";
const run = await (await loadJob("jobs/fraud_alert.flow")).run({ txns: [{ account: "a", amount: 0.5, merchant: "m1", ts: 1 }, { account: "a", amount: 700, merchant: "m1", ts: 2 }] });
console.log(JSON.stringify(run.streams.alerts));
`,
    });
    const types = await flowc(["types", "jobs/fraud_alert.flow", "-o", "fraud_alert.types.ts"], { cwd: project });
    expect(types.exitCode, types.stderr).toBe(0);

    // Plain node, importing the package by name.
    const node = await execa(process.execPath, ["run.mjs"], { cwd: project, reject: false });
    expect(node.stderr).toBe("");
    expect(JSON.parse(node.stdout)).toEqual([{ account: "a", reason: "small charge then large charge", amount: 700, ts: 2 }]);

    // TypeScript: the good test checks; the bad one fails where the job's types say.
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["good.ts", "fraud_alert.types.ts"] }));
    const good = await execa(process.execPath, [tsc, "-p", "."], { cwd: project, reject: false });
    expect(good.stdout + good.stderr).toBe("");
    expect(good.exitCode).toBe(0);
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["bad.ts", "fraud_alert.types.ts"] }));
    const bad = await execa(process.execPath, [tsc, "-p", "."], { cwd: project, reject: false });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.ts\(4,52\): error TS2322: Type 'string' is not assignable to type 'number'/);
    expect(bad.stdout).toMatch(/bad\.ts\(5,7\): error TS2322: Type 'string' is not assignable to type 'number'/);
    expect(bad.stdout).toMatch(/bad\.ts\(6,26\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
  });
});
