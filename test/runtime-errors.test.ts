// Golden runtime errors: one case per FLOW5xxx code under test/golden/runtime/<code>-*/,
// compiled and run in a copy of its folder (with the arguments of its `// args:` line, after
// deleting what its `// remove:` line names, relative to that folder); the job's stderr is
// snapshotted beside it.
// A user's mistake at run time gets a message naming the place, never a stack trace.

import { cpSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogue } from "../compiler/diagnostics/catalogue.js";
import { compileIn, ROOT, runBundle, STACK_LINE, tempDir } from "./helpers.js";
import { makeStream, NatsServer } from "./nats-helpers.js";

const dir = join(ROOT, "test", "golden", "runtime");
const cases = readdirSync(dir).filter((f) => /^FLOW5\d{3}-/.test(f)).sort();

describe("golden runtime errors", () => {
  it.each(cases)("%s fails with its code and the snapshotted message", async (name) => {
    const work = tempDir(`flowc-rt-${name}-`);
    cpSync(join(dir, name), work, { recursive: true });
    const text = readFileSync(join(work, "job.flow"), "utf8");
    const code = /^\/\/ fail: (FLOW5\d{3})/.exec(text)?.[1];
    expect(code).toBeDefined();
    const args = /^\/\/ args: (.*)$/m.exec(text)?.[1]?.split(" ") ?? [];
    const bundle = await compileIn(work, text, { file: join(work, "job.flow") });
    for (const p of /^\/\/ remove: (.*)$/m.exec(text)?.[1]?.split(" ") ?? []) rmSync(join(work, p), { recursive: true, force: true });
    // `// nats-server`: a nats-server of its own (NATS_URL), with the streams of `// nats-stream: NAME subject` lines.
    const server = /^\/\/ nats-server$/m.test(text) ? await NatsServer.start() : null;
    let r;
    try {
      for (const m of text.matchAll(/^\/\/ nats-stream: (\S+) (\S+)$/gm)) await makeStream(server!.url, m[1]!, [m[2]!]);
      r = await runBundle(bundle, { cwd: work, args, ...(server ? { env: { NATS_URL: server.url } } : {}) });
    } finally {
      await server?.stop();
    }
    if (server) r.stderr = r.stderr.replaceAll(server.url, "nats://127.0.0.1:PORT");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`error[${code}]`);
    expect(r.stderr).not.toMatch(STACK_LINE);
    await expect(`$ node dist/job.mjs${args.length ? ` ${args.join(" ")}` : ""}\n${r.stdout ? r.stdout + "\n" : ""}${r.stderr}\n(exit ${r.exitCode})\n`).toMatchFileSnapshot(join(dir, name, "expected.txt"));
  });

  it("every runtime code in the catalogue has a golden case", () => {
    const covered = new Set(cases.map((c) => c.slice(0, 8)));
    expect(Object.keys(catalogue).filter((c) => c.startsWith("FLOW5") && !covered.has(c))).toEqual([]);
  });
});
