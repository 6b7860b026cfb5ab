// The admin endpoint is safe by default, end to end with real job processes and real HTTP
// requests: requests a web page could make (a foreign Host or Origin, a cross-site fetch,
// a form or text/plain body) are refused while curl and `flowc savepoint` keep working;
// a request's savepoint folder stays inside the job's savepoint root, and no path can hang
// the job; the token can come from FLOWC_ADMIN_TOKEN or a file, and an empty one is a
// usage error.

import type { ResultPromise } from "execa";
import { appendFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compileIn, flowc, lines, runBundle, STACK_LINE, startWithAdmin, tempDir, type RunningJob } from "./helpers.js";


/** Jobs still running when a test ends (it failed): killed, so none is left behind. */
const children: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Starts a bundle with the admin endpoint on a free port; resolves once it serves. */
function start(bundle: string, cwd: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunningJob> {
  return startWithAdmin(bundle, cwd, { args, env, started: children });
}

interface Answer {
  status: number;
  headers: string;
  body: { error?: string; path?: string; state?: string; stopping?: boolean; sources?: { records: number }[] };
}

/**
 * One HTTP/1.1 request written byte for byte on a socket, so every header is exactly the
 * one given (no Content-Length unless given: what `curl -X POST <url>` sends).
 */
function raw(port: number, requestLine: string, headers: Record<string, string>, body = ""): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = text.slice(0, split);
      try {
        resolve({ status: Number(/^HTTP\/1\.[01] (\d+)/.exec(head)?.[1]), headers: head, body: JSON.parse(text.slice(split + 4)) as Answer["body"] });
      } catch (e) {
        reject(new Error(`${requestLine} ${JSON.stringify(headers)}: not an HTTP answer with a JSON body (${(e as Error).message}):\n${text}`));
      }
    });
    const lines = [requestLine, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "Connection: close", "", ""];
    // Not end(): the server would take the half-close for an abandoned request.
    socket.write(lines.join("\r\n") + body);
  });
}

/** The headers curl 7.88 sends for `curl -X POST http://127.0.0.1:<port>/<path>`. */
const curl = (port: number) => ({ Host: `127.0.0.1:${port}`, "User-Agent": "curl/7.88.1", Accept: "*/*" });

async function status(url: string, token?: string): Promise<{ status: number; body: Answer["body"] }> {
  const res = await fetch(`${url}/status`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

/** Waits until the job has read `n` records. */
async function waitForRecords(url: string, n: number, token?: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const s = await status(url, token);
    if ((s.body.sources?.[0]?.records ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the job did not read ${n} records`);
}

const JOB = `job clicks
type Click = { user: string, page: string }
source clicks: Click = file("clicks.jsonl", follow: true)
let counts = clicks
  |> key_by(c => c.user)
  |> aggregate(c => { user: key, n: count() })
sink counts -> file("out/counts.jsonl")
`;
const click = (user: string) => JSON.stringify({ user, page: "/" }) + "\n";

describe("the admin endpoint", () => {
  it("refuses a foreign Host or Origin, cross-site fetches and browser content types, and still serves curl and flowc savepoint", async () => {
    const dir = tempDir("flowc-admin-csrf-");
    writeFileSync(join(dir, "clicks.jsonl"), click("ann"));
    const job = await start(await compileIn(dir, JOB), dir);
    const p = job.port;
    await waitForRecords(job.url, 1);

    // DNS rebinding: a name other than the bound address.
    const rebound = await raw(p, "GET /status HTTP/1.1", { Host: `evil.example:${p}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error).toMatch(/Host header "evil\.example:\d+" is not this endpoint's address \(127\.0\.0\.1:\d+ or localhost:\d+\)/);
    expect((await raw(p, "POST /stop HTTP/1.1", { Host: `evil.example:${p}` })).status).toBe(403);
    expect((await raw(p, "GET /status HTTP/1.1", { Host: `[::1]:${p}` })).status).toBe(403);
    expect((await raw(p, "GET /status HTTP/1.0", {})).status).toBe(403);
    expect((await raw(p, "GET /status HTTP/1.1", { Host: `localhost:${p}` })).status).toBe(200);

    // A web page's form or fetch: a foreign Origin, or a cross-site fetch without one.
    const csrf = await raw(p, "POST /stop HTTP/1.1", { Host: `127.0.0.1:${p}`, Origin: "http://evil.example", "Content-Type": "text/plain", "Content-Length": "2" }, "{}");
    expect(csrf.status).toBe(403);
    expect(csrf.body.error).toMatch(/Origin http:\/\/evil\.example is not this endpoint's \(http:\/\/127\.0\.0\.1:\d+ or http:\/\/localhost:\d+\)/);
    expect((await raw(p, "POST /savepoints HTTP/1.1", { Host: `localhost:${p}`, Origin: "null" })).status).toBe(403);
    expect((await raw(p, "POST /savepoints HTTP/1.1", { Host: `localhost:${p}`, Origin: `http://localhost:${p + 1}` })).status).toBe(403);
    expect((await raw(p, "GET /status HTTP/1.1", { Host: `localhost:${p}`, Origin: "http://evil.example" })).status).toBe(403);
    const crossSite = await raw(p, "POST /stop HTTP/1.1", { Host: `localhost:${p}`, "Sec-Fetch-Site": "cross-site" });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error).toMatch(/Sec-Fetch-Site: cross-site/);

    // Bodies a browser can send without asking first (text/plain, forms), or no type at all.
    const plain = await raw(p, "POST /stop HTTP/1.1", { ...curl(p), "Content-Type": "text/plain", "Content-Length": "2" }, "{}");
    expect(plain.status).toBe(415);
    expect(plain.body.error).toMatch(/must have Content-Type: application\/json, not text\/plain/);
    expect((await raw(p, "POST /savepoints HTTP/1.1", { ...curl(p), "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "5" }, "dir=x")).status).toBe(415);
    expect((await raw(p, "POST /savepoints HTTP/1.1", { ...curl(p), "Content-Type": "multipart/form-data; boundary=b", "Content-Length": "0" })).status).toBe(415);
    expect((await raw(p, "POST /stop HTTP/1.1", { ...curl(p), "Content-Length": "2" }, "{}")).status).toBe(415);
    expect((await raw(p, "POST /stop HTTP/1.1", { ...curl(p), "Transfer-Encoding": "chunked" }, "2\r\n{}\r\n0\r\n\r\n")).status).toBe(415);

    // None of it stopped the job or took a savepoint.
    appendFileSync(join(dir, "clicks.jsonl"), click("bo"));
    await waitForRecords(job.url, 2);
    expect((await status(job.url)).body.state).toBe("running");
    expect(existsSync(join(dir, "savepoints"))).toBe(false);

    // The endpoint's own page (either name), JSON with a charset, and flowc savepoint are served.
    const own = await raw(p, "POST /savepoints HTTP/1.1", { Host: `localhost:${p}`, Origin: `http://localhost:${p}`, "Content-Type": "application/json; charset=utf-8", "Content-Length": "2" }, "{}");
    expect(own.status, own.body.error).toBe(201);
    expect(own.body.path).toMatch(/savepoints\/clicks\/savepoint-clicks-/);
    const sp = await flowc(["savepoint", job.url], { cwd: dir });
    expect(sp.exitCode, sp.stderr).toBe(0);

    // curl -X POST http://127.0.0.1:<port>/stop: no body, no Content-Type, no Origin.
    const stopped = await raw(p, "POST /stop HTTP/1.1", curl(p));
    expect(stopped.status, stopped.body.error).toBe(200);
    expect(stopped.body).toEqual({ stopping: true });
    expect((await job.child).exitCode).toBe(0);
  });

  it("refuses savepoint folders outside the job's savepoint root with 400, and the job goes on", async () => {
    const dir = tempDir("flowc-admin-root-");
    writeFileSync(join(dir, "clicks.jsonl"), click("ann"));
    mkdirSync(join(dir, "elsewhere"));
    mkdirSync(join(dir, "savepoints/clicks"), { recursive: true });
    symlinkSync(join(dir, "elsewhere"), join(dir, "savepoints/clicks/out"));
    symlinkSync(join(dir, "nowhere"), join(dir, "savepoints/clicks/dangling"));
    const job = await start(await compileIn(dir, JOB), dir);
    await waitForRecords(job.url, 1);
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${job.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Answer["body"] };
    };

    // This one used to freeze the job for good (Node's recursive mkdir loops on /proc).
    const proc = await post("/savepoints", { dir: "/proc/self/x" });
    expect(proc.status).toBe(400);
    expect(proc.body.error).toMatch(/"dir" "\/proc\/self\/x" is outside the job's savepoint root .*savepoints\/clicks/);
    for (const outside of ["../../elsewhere", "a/../../x", "..", join(dir, "elsewhere"), "/tmp", "out", "out/deeper", "dangling/x"]) {
      const r = await post("/savepoints", { dir: outside });
      expect(r.status, `${outside}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error).toMatch(/savepoint root/);
    }
    const stopOutside = await post("/stop", { savepoint: true, dir: "/tmp" });
    expect(stopOutside.status).toBe(400);

    // The job is still running and reading.
    appendFileSync(join(dir, "clicks.jsonl"), click("bo"));
    await waitForRecords(job.url, 2);
    expect((await status(job.url)).body.state).toBe("running");
    expect(readdirSync(join(dir, "elsewhere"))).toEqual([]);
    expect(existsSync(join(dir, "x"))).toBe(false);

    // Inside the root: relative to it (flowc savepoint --dir), or absolute within it.
    const nested = await flowc(["savepoint", job.url, "--dir", "nested/deeper"], { cwd: dir });
    expect(nested.exitCode, nested.stderr).toBe(0);
    const nestedPath = lines(nested.stdout).at(-1)!;
    expect(nestedPath.startsWith(join(dir, "savepoints/clicks/nested/deeper/savepoint-clicks-"))).toBe(true);
    expect((await flowc(["savepoint", "inspect", nestedPath], { cwd: dir })).exitCode).toBe(0);
    const absolute = await post("/savepoints", { dir: join(dir, "savepoints/clicks/abs") });
    expect(absolute.status, absolute.body.error).toBe(201);
    expect(absolute.body.path!.startsWith(join(dir, "savepoints/clicks/abs/savepoint-clicks-"))).toBe(true);
    const climbsBack = await post("/savepoints", { dir: "abs/../back" });
    expect(climbsBack.status, climbsBack.body.error).toBe(201);
    expect(climbsBack.body.path!.startsWith(join(dir, "savepoints/clicks/back/savepoint-clicks-"))).toBe(true);

    const stopped = await flowc(["savepoint", job.url, "--stop", "--dir", "last"], { cwd: dir });
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(lines(stopped.stdout).at(-1)!.startsWith(join(dir, "savepoints/clicks/last/savepoint-clicks-"))).toBe(true);
    expect((await job.child).exitCode).toBe(0);
  });

  it("answers a savepoint request with an error, and keeps running, when its savepoint root cannot be made", async () => {
    const dir = tempDir("flowc-admin-badroot-");
    writeFileSync(join(dir, "clicks.jsonl"), click("ann"));
    writeFileSync(join(dir, "a-file"), "");
    const bundle = await compileIn(dir, JOB);
    for (const [root, why] of [
      ["/proc/self/x", /^cannot create the folder \/proc\/self\/x: ENOENT/],
      ["a-file/sp", /^\/.*\/a-file is not a folder$/],
    ] as const) {
      const job = await start(bundle, dir, ["--savepoint-dir", root]);
      await waitForRecords(job.url, 1);
      const res = await fetch(`${job.url}/savepoints`, { method: "POST" });
      expect(res.status).toBe(500);
      expect(((await res.json()) as Answer["body"]).error).toMatch(why);
      expect((await status(job.url)).body.state).toBe("running");
      job.child.kill("SIGTERM");
      const ended = await job.child;
      expect(ended.exitCode).toBe(0);
      expect(ended.stderr).not.toMatch(STACK_LINE);
    }
  });

  it("takes its token from FLOWC_ADMIN_TOKEN or --admin-token-file, and flowc savepoint reads FLOWC_ADMIN_TOKEN", async () => {
    const dir = tempDir("flowc-admin-token-");
    writeFileSync(join(dir, "clicks.jsonl"), click("ann"));
    const bundle = await compileIn(dir, JOB);

    const fromEnv = await start(bundle, dir, [], { FLOWC_ADMIN_TOKEN: "from-env" });
    expect((await status(fromEnv.url)).status).toBe(401);
    expect((await status(fromEnv.url, "from-en")).status).toBe(401);
    expect((await status(fromEnv.url, "from-env")).status).toBe(200);
    expect((await flowc(["savepoint", fromEnv.url], { cwd: dir })).exitCode).toBe(1);
    const sp = await flowc(["savepoint", fromEnv.url], { cwd: dir, env: { FLOWC_ADMIN_TOKEN: "from-env" } });
    expect(sp.exitCode, sp.stderr).toBe(0);
    fromEnv.child.kill("SIGTERM");
    expect((await fromEnv.child).exitCode).toBe(0);

    // The file's first line, trimmed; the file wins over the environment.
    writeFileSync(join(dir, "token"), "  from-file \nsecond line\n");
    const fromFile = await start(bundle, dir, ["--admin-token-file", "token"], { FLOWC_ADMIN_TOKEN: "from-env" });
    expect((await status(fromFile.url, "from-env")).status).toBe(401);
    expect((await status(fromFile.url, "from-file")).status).toBe(200);
    const lower = await fetch(`${fromFile.url}/status`, { headers: { authorization: "bearer from-file" } });
    expect(lower.status).toBe(200);
    const byFile = await flowc(["savepoint", fromFile.url, "--token-file", "token"], { cwd: dir, env: { FLOWC_ADMIN_TOKEN: "from-env" } });
    expect(byFile.exitCode, byFile.stderr).toBe(0);
    fromFile.child.kill("SIGTERM");
    expect((await fromFile.child).exitCode).toBe(0);

    // The flag wins over the environment too.
    const fromFlag = await start(bundle, dir, ["--admin-token", "from-flag"], { FLOWC_ADMIN_TOKEN: "from-env" });
    expect((await status(fromFlag.url, "from-env")).status).toBe(401);
    expect((await status(fromFlag.url, "from-flag")).status).toBe(200);
    fromFlag.child.kill("SIGTERM");
    expect((await fromFlag.child).exitCode).toBe(0);
  });

  it("makes an empty token, an unreadable token file or two token flags at once a usage error (exit 2)", async () => {
    const dir = tempDir("flowc-admin-badtoken-");
    writeFileSync(join(dir, "clicks.jsonl"), click("ann"));
    writeFileSync(join(dir, "empty"), "\n  \nsecond\n");
    writeFileSync(join(dir, "token"), "t0ken\n");
    // Not followed: a job that starts would read the file and exit 0.
    const bundle = await compileIn(dir, JOB.replace(", follow: true", ""));
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--admin-token", ""], {}, /error: --admin-token is empty/],
      [["--admin-token-file", "empty"], {}, /error: the first line of --admin-token-file empty is empty/],
      [["--admin-token-file", "missing"], {}, /error: cannot read --admin-token-file missing: no such file/],
      [["--admin-token-file", "."], {}, /error: cannot read --admin-token-file \.: it is not a file/],
      [[], { FLOWC_ADMIN_TOKEN: "" }, /error: FLOWC_ADMIN_TOKEN is set but empty/],
      [["--admin-token", "a\tb"], {}, /error: --admin-token must be printable ASCII/],
      [["--admin-token", "t0ken", "--admin-token-file", "token"], {}, /error: give the token once: --admin-token or --admin-token-file, not both/],
    ];
    for (const [args, env, message] of cases) {
      const r = await runBundle(bundle, { cwd: dir, args: ["--admin-port", "0", ...args], env });
      expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    const emptyFlag = await flowc(["savepoint", "http://127.0.0.1:9", "--token", ""], { cwd: dir });
    expect(emptyFlag.exitCode).toBe(2);
    expect(emptyFlag.stderr).toMatch(/error: --token is empty/);
    const emptyEnv = await flowc(["savepoint", "http://127.0.0.1:9"], { cwd: dir, env: { FLOWC_ADMIN_TOKEN: "" } });
    expect(emptyEnv.exitCode).toBe(2);
    expect(emptyEnv.stderr).toMatch(/error: FLOWC_ADMIN_TOKEN is set but empty/);
  });
});
