// The admin endpoint's /metrics is valid Prometheus text: a real job (a followed file, a
// window in event time, checkpoints) serves it, and Prometheus's own linter, `promtool check
// metrics`, reads it as a real process. promtool comes with Debian's `prometheus` package;
// CI installs it (.ci/run). Without promtool the test fails, saying how to install it: it
// never passes without having checked.

import type { ResultPromise } from "execa";
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compileIn, startWithAdmin, tempDir } from "./helpers.js";

const PROMTOOL = process.env.PROMTOOL ?? "promtool";

const children: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

// Checkpoints in the default storage folder (./checkpoints/metered).
const JOB = `job metered
checkpoint {
  every 100ms
}
source clicks: { user: string, ts: timestamp } = file("clicks.jsonl", follow: true) event_time(c => c.ts) watermark 1s
let counts = clicks
  |> key_by(c => c.user)
  |> window(tumbling(10s))
  |> aggregate(c => { user: key, n: count() })
sink counts -> file("counts.jsonl")
`;

describe("/metrics", () => {
  it("passes promtool check metrics, with the job's own metrics and prom-client's process metrics", async () => {
    const found = await execa(PROMTOOL, ["--version"], { reject: false });
    if (found.failed) {
      throw new Error(`this test needs promtool (Prometheus's linter), and \`${PROMTOOL}\` cannot be run: install it with \`apt-get install -y prometheus\` (Debian, Ubuntu), or set PROMTOOL to its path`);
    }
    const dir = tempDir("flowc-metrics-");
    writeFileSync(join(dir, "clicks.jsonl"), ['{"user":"a","ts":1000}', '{"user":"b","ts":2000}', '{"user":"a","ts":30000}'].join("\n") + "\n");
    const bundle = await compileIn(dir, JOB);
    const job = await startWithAdmin(bundle, dir, { started: children });
    // A completed checkpoint, so that every metric has a value.
    for (let i = 0; i < 200 && !/"status": "completed"/.test(await (await fetch(`${job.url}/checkpoints`)).text()); i++) await new Promise((r) => setTimeout(r, 50));
    const metrics = await (await fetch(`${job.url}/metrics`)).text();
    expect(metrics).toMatch(/^flowc_source_records_total\{source="clicks",job="metered"\} 3$/m);
    expect(metrics).toMatch(/^flowc_watermark_seconds\{of="operator:counts",job="metered"\} [\d.]+$/m);
    expect(metrics).toMatch(/^flowc_checkpoint_last_duration_seconds\{job="metered"\} [\d.e-]+$/m);
    expect(metrics).toMatch(/^nodejs_active_handles\{type="\w+",job="metered"\} \d+$/m);
    const lint = await execa(PROMTOOL, ["check", "metrics"], { input: metrics, reject: false });
    expect({ exitCode: lint.exitCode, problems: `${lint.stdout}${lint.stderr}` }).toEqual({ exitCode: 0, problems: "" });
    await fetch(`${job.url}/stop`, { method: "POST" });
    expect((await job.child).exitCode).toBe(0);
  });
});
