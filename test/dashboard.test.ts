// The dashboard (GET / on the admin endpoint, runtime/dashboard/), in a real browser: Debian's
// chromium-headless-shell (.ci/run installs it; FLOWC_CHROMIUM names another binary) driven
// by playwright-core, which never downloads a browser of its own. Real jobs, real HTTP, a
// real savepoint read back by `flowc savepoint inspect`. The layout is checked in Node.

import type { ResultPromise } from "execa";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { layout } from "../runtime/dashboard/layout.js";
import { compileIn, flowc, startWithAdmin, tempDir, type RunningJob } from "./helpers.js";

/** Debian's package puts it here; FLOWC_CHROMIUM points to another build of chrome-headless-shell. */
const CHROMIUM = process.env.FLOWC_CHROMIUM ?? "/usr/bin/chromium-headless-shell";

const children: ResultPromise[] = [];
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium-headless-shell (apt-get install chromium-headless-shell; .ci/run does), or set FLOWC_CHROMIUM`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // No network of its own: no sync, updates, field trials or QUIC probes.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps"],
  });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

const JOB = `job clicks
checkpoint {
  every 500ms
  storage "./chk"
}
type Click = { user: string, page: string, ts: timestamp }
source clicks: Click = file("clicks.jsonl", follow: true) event_time(c => c.ts) watermark 2s
let per_user = clicks
  |> key_by(c => c.user)
  |> window(tumbling(5s))
  |> aggregate(c => { user: key, n: count() })
let pages = clicks
  |> filter(c => c.page != "/")
  |> key_by(c => c.page)
  |> aggregate(c => { page: key, n: count() })
sink per_user -> file("out/users.jsonl")
sink pages -> stdout()
`;

let next = 0;
/** `n` more clicks, a tenth of a second apart in event time. */
function clicks(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++, next++) s += JSON.stringify({ user: `u${next % 7}`, page: `/p${next % 3}`, ts: next * 100 }) + "\n";
  return s;
}

async function startJob(args: string[] = [], text = JOB): Promise<{ dir: string; job: RunningJob }> {
  const dir = tempDir("flowc-dashboard-");
  next = 0;
  writeFileSync(join(dir, "clicks.jsonl"), clicks(100));
  const bundle = await compileIn(dir, text);
  const job = await startWithAdmin(bundle, dir, { args, started: children });
  return { dir, job };
}

/** A page that records what it logs, what fails in it, and every request it makes. */
async function open(url: string): Promise<{ page: Page; console: string[]; requests: { url: string; auth: string | undefined }[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const seen = { page, console: [] as string[], requests: [] as { url: string; auth: string | undefined }[] };
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") seen.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => seen.console.push(`pageerror: ${e.message}`));
  page.on("request", (r) => seen.requests.push({ url: r.url(), auth: r.headers()["authorization"] }));
  await page.goto(`${url}/`);
  return seen;
}

/** How long to wait for the page to show what the job did (it polls every second). */
const WAIT = { timeout: 30_000, interval: 100 };

/** The text of one node's value cell. */
const cell = (page: Page, uid: string, metric: string) => page.locator(`g.node[data-uid="${uid}"] [data-metric="${metric}"]`).textContent();

describe("the dashboard in a browser", () => {
  it("loads with no console errors and no requests elsewhere, draws one node per operator, and shows numbers that change while the job runs", async () => {
    const { dir, job } = await startJob();
    const { page, console: logged, requests } = await open(job.url);
    await page.waitForSelector("g.node");
    const status = (await (await fetch(`${job.url}/status`)).json()) as { operators: { uid: string }[]; sources: unknown[]; sinks: unknown[] };
    const uids = await page.locator('g.node[data-kind="operator"], g.node[data-kind="join"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-uid")));
    expect(uids.sort()).toEqual(status.operators.map((o) => o.uid).sort());
    expect(uids).toHaveLength(2);
    expect(await page.locator('g.node[data-kind="source"]').count()).toBe(status.sources.length);
    expect(await page.locator('g.node[data-kind="sink"]').count()).toBe(status.sinks.length);
    // An edge for every one of the graph's.
    const graph = (await (await fetch(`${job.url}/graph`)).json()) as { edges: unknown[] };
    expect(await page.locator("path.edge").count()).toBe(graph.edges.length);
    expect(await page.locator("#job").textContent()).toBe("clicks");

    // The numbers follow the job: more input, more records into the window.
    await expect.poll(() => cell(page, "per_user", "in"), WAIT).toMatch(/^100 ·/);
    appendFileSync(join(dir, "clicks.jsonl"), clicks(250));
    await expect.poll(() => cell(page, "per_user", "in"), WAIT).toMatch(/^350 ·/);
    expect(await cell(page, "per_user", "state")).toBe("7 keys · 0 late");
    // The newest click is at 34.9 s, the watermark 2 s behind it.
    expect(await cell(page, "per_user", "watermark")).toBe("1970-01-01 00:00:32.900Z");
    expect(await page.locator('g.node[data-kind="source"] [data-metric="lag"]').textContent()).toBe("2.00 s");
    // Clicks from the first second, long after its window closed: dropped as late.
    appendFileSync(join(dir, "clicks.jsonl"), Array.from({ length: 5 }, (_, i) => JSON.stringify({ user: `u${i}`, page: "/late", ts: 100 * i }) + "\n").join(""));
    await expect.poll(() => cell(page, "per_user", "state"), WAIT).toBe("7 keys · 5 late");
    expect(await cell(page, "per_user", "in")).toMatch(/^355 ·/);
    // Checkpoints every 500 ms: the chart fills.
    await page.waitForSelector("#checkpoints g.checkpoint.completed");
    await page.screenshot({ path: join(dir, "dashboard.png") });

    expect(logged).toEqual([]);
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((r) => !r.url.startsWith(`${job.url}/`))).toEqual([]);
    await page.close();
  });

  it("marks the checkpoints that were abandoned or failed in the chart", async () => {
    // Checkpoints that must be complete within a millisecond: those taken while the job runs
    // are abandoned (writing and syncing their files takes longer).
    const { job } = await startJob([], JOB.replace("every 500ms", "every 200ms\n  timeout 1ms"));
    const { page, console: logged } = await open(job.url);
    await page.waitForSelector("#checkpoints g.checkpoint.abandoned text.cross");
    const history = ((await (await fetch(`${job.url}/checkpoints?last=60`)).json()) as { checkpoints: { id: number; status: string }[] }).checkpoints;
    expect(history.some((c) => c.status === "abandoned")).toBe(true);
    // Each one in the chart as it is in the history, with its reason in its tooltip.
    const drawn = await page.locator("#checkpoints g.checkpoint").evaluateAll((els) => els.map((e) => ({ id: Number(e.getAttribute("data-id")), status: e.getAttribute("class")!.split(" ")[1], title: e.querySelector("title")!.textContent! })));
    // One bar per checkpoint, as it ended last (one abandoned at its timeout may complete after it).
    expect(new Set(drawn.map((d) => d.id)).size).toBe(drawn.length);
    for (const d of drawn) expect([...history].reverse().find((c) => c.id === d.id)?.status ?? d.status).toBe(d.status);
    const abandoned = drawn.find((d) => d.status === "abandoned")!;
    expect(abandoned.title).toMatch(new RegExp(`^#${abandoned.id} full abandoned at .*\nnot complete after 1 ms$`));
    expect(await page.locator("#checkpoint-summary").textContent()).toMatch(/^\d+ completed, 0 failed, [1-9]\d* abandoned \(the last \d+\)$/);
    expect(logged).toEqual([]);
    await page.close();
  });

  it("takes a savepoint with the button, after asking, that flowc savepoint inspect reads; Cancel takes none", async () => {
    const { dir, job } = await startJob();
    const { page, console: logged } = await open(job.url);
    await page.waitForSelector("g.node");
    await expect.poll(() => page.locator("#savepoint").isEnabled(), WAIT).toBe(true);

    await page.click("#savepoint");
    await expect.poll(() => page.locator("#confirm").isVisible(), WAIT).toBe(true);
    expect(await page.locator("#confirm-text").textContent()).toMatch(/Take a savepoint of clicks now\?/);
    await page.click("#confirm-cancel");
    expect(await page.locator("#confirm").isVisible()).toBe(false);
    expect(((await (await fetch(`${job.url}/savepoints`)).json()) as { savepoints: unknown[] }).savepoints).toEqual([]);

    await page.click("#savepoint");
    const answer = page.waitForResponse((r) => r.url().endsWith("/savepoints") && r.request().method() === "POST");
    await page.click("#confirm-ok");
    const res = await answer;
    expect(res.status()).toBe(201);
    const path = ((await res.json()) as { path: string }).path;
    expect(path.startsWith(join(dir, "savepoints", "clicks"))).toBe(true);
    await expect.poll(() => page.locator("#notice").textContent(), WAIT).toBe(`Savepoint taken: ${path}`);
    await expect.poll(() => page.locator("#savepoints code").first().textContent(), WAIT).toBe(path);

    const inspected = await flowc(["savepoint", "inspect", path]);
    expect(inspected.exitCode).toBe(0);
    expect(inspected.stdout).toMatch(/^savepoint of job `clicks`/);
    expect(inspected.stdout).toMatch(/per_user/);
    expect(inspected.stdout).toMatch(/pages/);
    expect(logged).toEqual([]);
    await page.close();
  });

  it("stops the job with a savepoint from the button, after asking", async () => {
    const { job } = await startJob();
    const { page } = await open(job.url);
    await expect.poll(() => page.locator("#stop").isEnabled(), WAIT).toBe(true);
    await page.click("#stop");
    expect(await page.locator("#confirm-text").textContent()).toMatch(/Stop clicks after a savepoint\?/);
    const answer = page.waitForResponse((r) => r.url().endsWith("/stop"));
    await page.click("#confirm-ok");
    const body = (await (await answer).json()) as { stopping: boolean; path: string };
    expect(body.stopping).toBe(true);
    const done = await job.child;
    expect(done.exitCode).toBe(0);
    await expect.poll(() => page.locator("#notice").textContent(), WAIT).toBe(`The job is stopping. Savepoint: ${body.path}`);
    const inspected = await flowc(["savepoint", "inspect", body.path]);
    expect(inspected.exitCode).toBe(0);
    expect(inspected.stdout).toMatch(/per_user/);
    await page.close();
  });

  it("with a token, asks for it and shows no job data without it, then sends it with every request", async () => {
    const { job } = await startJob(["--admin-token", "s3cret-token"]);
    const { page, console: logged, requests } = await open(job.url);
    await expect.poll(() => page.locator("#login").isVisible(), WAIT).toBe(true);
    // Nothing of the job: no name, no graph, no numbers, and no request for them.
    const shown = await page.locator("body").innerText();
    expect(shown).not.toMatch(/clicks|per_user|pages/);
    expect(await page.locator("g.node").count()).toBe(0);
    expect(await page.locator("#main").isVisible()).toBe(false);
    expect(requests.map((r) => new URL(r.url).pathname).sort()).toEqual(["/", "/dashboard.css", "/dashboard.js"]);
    expect(logged).toEqual([]);

    // A wrong token is refused, and still shows nothing.
    await page.fill("#token", "wrong");
    await page.press("#token", "Enter");
    await expect.poll(() => page.locator("#login-error").textContent(), WAIT).toBe("That token was refused.");
    expect(await page.locator("body").innerText()).not.toMatch(/clicks|per_user/);

    await page.fill("#token", "s3cret-token");
    await page.click("#login button[type=submit]");
    await page.waitForSelector('g.node[data-uid="per_user"]');
    await expect.poll(() => cell(page, "per_user", "in"), WAIT).toMatch(/^100 ·/);
    expect(await page.locator("#job").textContent()).toBe("clicks");
    const data = requests.filter((r) => !["/", "/dashboard.css", "/dashboard.js"].includes(new URL(r.url).pathname));
    const afterLogin = data.slice(data.findIndex((r) => r.auth === "Bearer s3cret-token"));
    expect(afterLogin.length).toBeGreaterThan(2);
    expect(afterLogin.every((r) => r.auth === "Bearer s3cret-token")).toBe(true);
    await page.close();
  });
});

describe("the dashboard over HTTP", () => {
  it("serves the page and its assets without the token but no job data, with a policy that allows nothing from elsewhere", async () => {
    const { job } = await startJob(["--admin-token", "s3cret-token"]);
    const page = await fetch(`${job.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
    const html = await page.text();
    expect(html).toContain('data-token="required"');
    expect(html).not.toMatch(/clicks|per_user/);
    expect((await fetch(`${job.url}/dashboard.js`)).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await fetch(`${job.url}/dashboard.css`)).status).toBe(200);
    for (const path of ["/graph", "/savepoints", "/checkpoints?last=5", "/status"]) expect((await fetch(`${job.url}${path}`)).status).toBe(401);
    // Another site's page cannot frame or fetch it.
    expect((await fetch(`${job.url}/`, { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(403);
  });

  it("answers /graph with the planned graph, /checkpoints?last=N with the newest N, and /savepoints with the ones taken", async () => {
    const { job } = await startJob();
    const graph = (await (await fetch(`${job.url}/graph`)).json()) as { job: string; eventTime: boolean; nodes: { id: string; kind: string; title: string; uid?: string; source?: number; sink?: number }[]; edges: { from: string; to: string; late: boolean }[] };
    expect(graph.job).toBe("clicks");
    expect(graph.eventTime).toBe(true);
    expect(graph.nodes.map((n) => `${n.kind} ${n.title}`)).toEqual([
      "source source clicks: Click",
      "chain filter → key_by",
      "operator aggregate pages",
      "sink sink 1: stdout()",
      "chain key_by",
      "operator window aggregate per_user",
      "sink sink 0: file(\"out/users.jsonl\")",
    ]);
    expect(graph.nodes.filter((n) => n.uid).map((n) => n.uid)).toEqual(["pages", "per_user"]);
    expect(graph.edges).toHaveLength(6);

    // Wait for three checkpoints, then ask for the newest two.
    let all: { id: number }[] = [];
    while (all.length < 3) {
      all = ((await (await fetch(`${job.url}/checkpoints`)).json()) as { checkpoints: { id: number }[] }).checkpoints;
      await new Promise((r) => setTimeout(r, 100));
    }
    const last = ((await (await fetch(`${job.url}/checkpoints?last=2`)).json()) as { checkpoints: { id: number }[] }).checkpoints;
    const now = ((await (await fetch(`${job.url}/checkpoints`)).json()) as { checkpoints: { id: number }[] }).checkpoints;
    expect(last).toHaveLength(2);
    expect(last[1]!.id).toBe(last[0]!.id + 1);
    expect(now.map((c) => c.id)).toContain(last[0]!.id);
    const bad = await fetch(`${job.url}/checkpoints?last=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/"last" must be a whole number/);

    const taken = (await (await fetch(`${job.url}/savepoints`, { method: "POST" })).json()) as { path: string };
    const list = (await (await fetch(`${job.url}/savepoints`)).json()) as { savepoints: { path: string; trigger: string; durationMs: number }[] };
    expect(list.savepoints).toHaveLength(1);
    expect(list.savepoints[0]).toMatchObject({ path: taken.path, trigger: "request" });
    expect(list.savepoints[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe("the dashboard's layout", () => {
  it("puts every node right of the nodes feeding it, with no two boxes overlapping", () => {
    const nodes = ["a", "b", "c", "d", "e", "f", "g"].map((id, i) => ({ id, width: 100 + 10 * i, height: 40 + 8 * (i % 3) }));
    const edges = [
      { from: "a", to: "c" },
      { from: "b", to: "c" },
      { from: "a", to: "d" },
      { from: "c", to: "e" },
      { from: "d", to: "e" },
      { from: "a", to: "f" },
      { from: "f", to: "g" },
      { from: "e", to: "g" },
    ];
    const l = layout({ nodes, edges });
    for (const e of edges) expect(l.nodes.get(e.from)!.x + l.nodes.get(e.from)!.width).toBeLessThan(l.nodes.get(e.to)!.x);
    const boxes = [...l.nodes.values()];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [p, q] = [boxes[i]!, boxes[j]!];
        const apart = p.x + p.width <= q.x || q.x + q.width <= p.x || p.y + p.height <= q.y || q.y + q.height <= p.y;
        expect(apart).toBe(true);
      }
    for (const b of boxes) {
      expect(b.x + b.width).toBeLessThanOrEqual(l.width);
      expect(b.y + b.height).toBeLessThanOrEqual(l.height);
      expect(b.y).toBeGreaterThanOrEqual(0);
    }
    // Each edge starts at its source's right side and ends at its target's left side.
    l.edges.forEach((pts, k) => {
      const from = l.nodes.get(edges[k]!.from)!;
      const to = l.nodes.get(edges[k]!.to)!;
      expect(pts[0]!.x).toBe(from.x + from.width);
      expect(pts[pts.length - 1]!.x).toBe(to.x);
    });
  });
});
