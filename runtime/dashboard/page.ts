// The dashboard's script, run in the browser (served as /dashboard.js; scripts/build.mjs
// bundles and minifies it into the admin chunk). It asks the admin endpoint for the job
// graph, lays it out (layout.ts) and draws it as SVG, then polls /status every second for
// the numbers on each node, and /checkpoints and /savepoints when they change. With a
// token (the page is served with data-token="required"), it asks for the token first and
// sends it with every request; nothing of the job is fetched or shown without it.

import type { GraphData, GraphDataNode } from "../graph-data.js";
import { fraction } from "../progress.js";
import { layout } from "./layout.js";

interface SourceStatus {
  name: string;
  records: number;
  bytes: number | null;
  watermark: number | null;
  newestEventTime?: number | null;
  progress?: { done: number; total: number; unit: "bytes" | "records" } | null;
}
interface OperatorStatus {
  uid: string;
  recordsIn: number;
  recordsOut: number;
  keys: number;
  watermark: number | null;
  lateDropped?: number;
}
interface Status {
  job: string;
  state: string;
  uptimeSeconds: number;
  sources: SourceStatus[];
  operators: OperatorStatus[];
  sinks: { index: number; records: number; bytes: number }[];
  lastCheckpoint: { id: number; createdAt: string } | null;
}
interface Checkpoint {
  id: number;
  kind: string;
  status: "completed" | "failed" | "abandoned";
  startedAt: string;
  durationMs: number;
  pauseMs: number;
  bytes: number;
  keys: number;
  reason?: string;
}
interface Savepoint {
  path: string;
  createdAt: string | null;
  trigger: "request" | "stop" | "restored";
  durationMs: number | null;
}

const TOKEN_KEY = "flowc-admin-token";
const POLL_MS = 1000;
const CHART_LAST = 60;
const HISTORY_EVERY = 3;
const SVG_NS = "http://www.w3.org/2000/svg";

class NeedToken extends Error {}

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let token: string | null = sessionStorage.getItem(TOKEN_KEY);
let stopped = false;

// ---- formatting ---------------------------------------------------------------------------

const int = (n: number): string => Math.round(n).toLocaleString("en-US");
const rate = (r: number | null): string => (r === null ? "–" : `${r < 10 ? r.toFixed(1) : int(r)}/s`);
function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) (n /= 1024), u++;
  return `${u === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[u]}`;
}
function duration(ms: number): string {
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
/** An event time (ms since the epoch) as UTC, without its milliseconds when they are 0. */
const time = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace(".000Z", "Z");
const clock = (iso: string): string => new Date(iso).toLocaleTimeString("en-GB");

// ---- requests -----------------------------------------------------------------------------

async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method: init.method ?? "GET", headers, cache: "no-store", ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  if (res.status === 401) throw new NeedToken();
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

// ---- the token ----------------------------------------------------------------------------

function askToken(wrong: boolean): void {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  byId("main").hidden = true;
  byId("actions").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = wrong ? "That token was refused." : "";
  byId<HTMLInputElement>("token").focus();
}

byId("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>("token");
  token = input.value.trim();
  input.value = "";
  sessionStorage.setItem(TOKEN_KEY, token);
  byId("login").hidden = true;
  void start();
});

// ---- the graph ----------------------------------------------------------------------------

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** The live rows of each kind of node: [label, metric]. */
function metricRows(n: GraphDataNode, eventTime: boolean): [string, string][] {
  const wm: [string, string][] = eventTime ? [["wm", "watermark"], ["lag", "lag"]] : [];
  switch (n.kind) {
    case "source":
      return [["out", "out"], ["read", "read"], ...wm];
    case "chain":
      return [["in", "in"], ["out", "out"]];
    case "operator":
    case "join":
      return [["in", "in"], ["out", "out"], ["state", "state"], ...wm];
    case "sink":
      return [["in", "in"], ["bytes", "bytes"]];
  }
}

const ROW = 16;
const PAD = 8;
const MAX_CHARS = 44;
const clip = (s: string): string => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);

/** Each drawn node's value cells, by node id and metric. */
const cells = new Map<string, Map<string, SVGTSpanElement>>();

function drawGraph(g: GraphData): void {
  const host = byId("graph");
  host.textContent = "";
  cells.clear();
  const canvas = document.createElement("canvas").getContext("2d")!;
  canvas.font = "12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
  const charWidth = canvas.measureText("0".repeat(20)).width / 20 || 7.2;
  const boxes = g.nodes.map((n) => {
    const rows = metricRows(n, g.eventTime);
    const lines = n.lines.map(clip);
    // Wide enough for the numbers too: `wm 2026-11-28 00:41:08.165Z`, `in 12,345,678 · 12,345/s`.
    const chars = Math.max(clip(n.title).length, ...lines.map((l) => l.length), 30);
    return { n, rows, lines, width: Math.ceil(chars * charWidth) + 2 * PAD, height: (1 + lines.length + rows.length) * ROW + 2 * PAD };
  });
  const placed = layout({ nodes: boxes.map((b) => ({ id: b.n.id, width: b.width, height: b.height })), edges: g.edges });
  const root = svg("svg", { width: placed.width, height: placed.height, viewBox: `0 0 ${placed.width} ${placed.height}`, role: "img", "aria-label": `job graph of ${g.job}` }, host);
  const defs = svg("defs", {}, root);
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
  g.edges.forEach((e, k) => {
    const pts = placed.edges[k]!;
    if (pts.length < 2) return;
    let d = `M${pts[0]!.x},${pts[0]!.y}`;
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      const dx = (b.x - a.x) / 2;
      d += ` C${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
    }
    const path = svg("path", { d, class: e.late ? "edge late" : "edge", "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to }, root);
    if (e.late) svg("title", {}, path).textContent = "elements too late for every window";
  });
  for (const b of boxes) {
    const at = placed.nodes.get(b.n.id)!;
    const group = svg("g", { class: `node ${b.n.kind}`, transform: `translate(${at.x},${at.y})`, "data-id": b.n.id, "data-kind": b.n.kind, ...(b.n.uid !== undefined ? { "data-uid": b.n.uid } : {}) }, root);
    svg("title", {}, group).textContent = [b.n.title, ...b.n.lines].join("\n");
    svg("rect", { width: b.width, height: b.height, rx: b.n.kind === "chain" ? 12 : 4 }, group);
    let y = PAD + ROW - 4;
    svg("text", { x: PAD, y, class: "title" }, group).textContent = clip(b.n.title);
    for (const l of b.lines) {
      y += ROW;
      svg("text", { x: PAD, y, class: "detail" }, group).textContent = l;
    }
    const own = new Map<string, SVGTSpanElement>();
    for (const [label, metric] of b.rows) {
      y += ROW;
      const t = svg("text", { x: PAD, y, class: "metric" }, group);
      svg("tspan", { class: "label" }, t).textContent = `${label} `;
      const v = svg("tspan", { class: "value", "data-metric": metric }, t);
      v.textContent = "–";
      own.set(metric, v);
    }
    cells.set(b.n.id, own);
  }
}

// ---- live numbers -------------------------------------------------------------------------

let graph: GraphData | null = null;
/** The previous sample of each counter, for rates. */
let previous: { at: number; values: Map<string, number> } | null = null;

/** Records in and out of every node: counted ones, and for chains what their neighbours tell. */
function flows(g: GraphData, st: Status): Map<string, { in: number | null; out: number | null }> {
  const f = new Map<string, { in: number | null; out: number | null }>();
  const preds = new Map<string, { id: string; late: boolean }[]>(g.nodes.map((n) => [n.id, []]));
  const succs = new Map<string, string[]>(g.nodes.map((n) => [n.id, []]));
  for (const e of g.edges) {
    preds.get(e.to)?.push({ id: e.from, late: e.late });
    succs.get(e.from)?.push(e.to);
  }
  for (const n of g.nodes) {
    if (n.kind === "source") f.set(n.id, { in: null, out: st.sources[n.source!]?.records ?? null });
    else if (n.kind === "sink") f.set(n.id, { in: st.sinks[n.sink!]?.records ?? null, out: null });
    else if (n.kind === "operator" || n.kind === "join") {
      const op = st.operators.find((o) => o.uid === n.uid);
      f.set(n.id, { in: op?.recordsIn ?? null, out: op?.recordsOut ?? null });
    }
  }
  // Chains are not counted (that would cost every record): a chain gets what its inputs put
  // out, and puts out what a node fed by it alone takes in. Nodes come in topological order.
  for (const n of g.nodes) {
    if (n.kind !== "chain") continue;
    let total: number | null = 0;
    for (const p of preds.get(n.id)!) {
      const out = p.late ? null : (f.get(p.id)?.out ?? null);
      total = out === null || total === null ? null : total + out;
    }
    let out: number | null = null;
    for (const s of succs.get(n.id)!) {
      const only = preds.get(s)!.length === 1;
      const taken = f.get(s)?.in;
      if (only && taken !== undefined && taken !== null && g.nodes.find((x) => x.id === s)?.kind !== "chain") out = taken;
    }
    f.set(n.id, { in: total, out });
  }
  return f;
}

function update(st: Status): void {
  const g = graph!;
  byId("state").textContent = st.state;
  byId("state").className = `state ${st.state}`;
  byId("uptime").textContent = duration(st.uptimeSeconds * 1000);
  byId("last-checkpoint").textContent = st.lastCheckpoint ? `#${st.lastCheckpoint.id} at ${clock(st.lastCheckpoint.createdAt)}` : "none yet";
  for (const b of document.querySelectorAll<HTMLButtonElement>("#actions button")) b.disabled = st.state !== "running" || stopped;
  // Rates from the change since the last sample (a restart starts the counts again).
  const values = new Map<string, number>();
  const dt = previous ? st.uptimeSeconds - previous.at : 0;
  const perSecond = (key: string, v: number | null): number | null => {
    if (v === null) return null;
    values.set(key, v);
    const before = previous?.values.get(key);
    return before === undefined || dt <= 0 ? null : Math.max(0, v - before) / dt;
  };
  const counted = (key: string, v: number | null): string => (v === null ? "–" : `${int(v)} · ${rate(perSecond(key, v))}`);
  const f = flows(g, st);
  // Each node's lag: the newest event time of the sources upstream of it, less its watermark.
  const newest = new Map<string, number>();
  for (const n of g.nodes) {
    let t = n.kind === "source" ? (st.sources[n.source!]?.newestEventTime ?? null) : null;
    for (const e of g.edges) if (e.to === n.id && newest.has(e.from)) t = Math.max(t ?? -Infinity, newest.get(e.from)!);
    if (t !== null) newest.set(n.id, t);
  }
  const lag = (id: string, w: number | null | undefined): string => {
    const t = newest.get(id);
    return w === null || w === undefined || t === undefined ? "–" : duration(Math.max(0, t - w));
  };
  const wmText = (w: number | null | undefined): string => (w === null || w === undefined ? "–" : time(w));
  for (const n of g.nodes) {
    const c = cells.get(n.id)!;
    const set = (metric: string, text: string) => {
      const cell = c.get(metric);
      if (cell && cell.textContent !== text) cell.textContent = text;
    };
    const flow = f.get(n.id)!;
    set("in", counted(`${n.id}:in`, flow.in));
    set("out", counted(`${n.id}:out`, flow.out));
    if (n.kind === "source") {
      const s = st.sources[n.source!];
      const p = s?.progress;
      set("read", p ? fraction(p) : s?.bytes !== null && s?.bytes !== undefined ? bytes(s.bytes) : "live");
      set("watermark", wmText(s?.watermark));
      set("lag", lag(n.id, s?.watermark));
    } else if (n.kind === "operator" || n.kind === "join") {
      const op = st.operators.find((o) => o.uid === n.uid);
      set("state", op ? `${int(op.keys)} keys · ${int(op.lateDropped ?? 0)} late` : "–");
      set("watermark", wmText(op?.watermark));
      set("lag", lag(n.id, op?.watermark));
    } else if (n.kind === "sink") {
      const s = st.sinks[n.sink!];
      set("bytes", s ? bytes(s.bytes) : "–");
    }
  }
  previous = { at: st.uptimeSeconds, values };
}

// ---- checkpoints and savepoints -----------------------------------------------------------

function drawCheckpoints(unordered: Checkpoint[]): void {
  // The history is in the order they ended (an abandoned one before an earlier one that
  // completed), and a checkpoint abandoned at its timeout can still complete after it: one
  // bar per checkpoint, by id, as it ended last.
  const last = new Map(unordered.map((c) => [c.id, c]));
  const list = [...last.values()].sort((a, b) => a.id - b.id);
  const host = byId("checkpoints");
  host.textContent = "";
  const count = (s: Checkpoint["status"]) => list.filter((c) => c.status === s).length;
  byId("checkpoint-summary").textContent = list.length
    ? `${count("completed")} completed, ${count("failed")} failed, ${count("abandoned")} abandoned (the last ${list.length})`
    : "No checkpoints yet (a job without a checkpoint block takes none).";
  if (!list.length) return;
  const W = 640;
  const H = 170;
  const left = 56;
  const right = 64;
  const top = 12;
  const bottom = 22;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const slot = plotW / Math.max(list.length, 20);
  // Scaled to the completed ones: the others are marked over the whole height.
  const done = list.filter((c) => c.status === "completed");
  const maxMs = Math.max(1, ...done.map((c) => c.durationMs));
  const maxBytes = Math.max(1, ...done.map((c) => c.bytes));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "checkpoint durations, pauses and sizes" }, host);
  svg("line", { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, class: "axis" }, root);
  const label = (x: number, y: number, text: string, anchor: string, cls = "tick") => (svg("text", { x, y, "text-anchor": anchor, class: cls }, root).textContent = text);
  label(left - 6, top + 8, duration(maxMs), "end");
  label(left - 6, top + plotH, "0", "end");
  label(left + plotW + 6, top + 8, bytes(maxBytes), "start", "tick size");
  const sizePts: string[] = [];
  list.forEach((c, i) => {
    const x = left + i * slot;
    const bar = svg("g", { class: `checkpoint ${c.status}`, "data-id": c.id }, root);
    svg("title", {}, bar).textContent =
      `#${c.id} ${c.kind} ${c.status} at ${clock(c.startedAt)}: ${duration(c.durationMs)}, pause ${duration(c.pauseMs)}, ${bytes(c.bytes)}, ${int(c.keys)} keys` + (c.reason ? `\n${c.reason}` : "");
    if (c.status !== "completed") {
      // Failed or abandoned: the whole slot marked, with a cross on top.
      svg("rect", { x, y: top, width: Math.max(1, slot - 2), height: plotH, class: "failed-band" }, bar);
      svg("text", { x: x + slot / 2 - 1, y: top + 10, "text-anchor": "middle", class: "cross" }, bar).textContent = "✕";
      return;
    }
    const h = (c.durationMs / maxMs) * plotH;
    const p = (Math.min(c.pauseMs, c.durationMs) / maxMs) * plotH;
    svg("rect", { x, y: top + plotH - h, width: Math.max(1, slot - 2), height: h, class: "duration" }, bar);
    svg("rect", { x, y: top + plotH - p, width: Math.max(1, slot - 2), height: p, class: "pause" }, bar);
    sizePts.push(`${x + slot / 2 - 1},${top + plotH - (c.bytes / maxBytes) * plotH}`);
  });
  if (sizePts.length) svg("polyline", { points: sizePts.join(" "), class: "size" }, root);
  label(left, H - 6, `#${list[0]!.id}`, "start");
  label(left + (list.length - 1) * slot + slot / 2, H - 6, `#${list[list.length - 1]!.id}`, "middle");
}

function drawSavepoints(list: Savepoint[]): void {
  const host = byId("savepoints");
  host.textContent = "";
  if (!list.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "None taken by this run of the job.";
    host.appendChild(li);
  }
  for (const s of list) {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = s.path;
    const what = document.createElement("span");
    const when = s.createdAt ? clock(s.createdAt) : "";
    what.textContent = s.trigger === "restored" ? `started from it (taken ${s.createdAt ?? "?"})` : `${s.trigger === "stop" ? "stop with savepoint" : "taken"} at ${when}${s.durationMs !== null ? ` in ${duration(s.durationMs)}` : ""}`;
    li.append(code, what);
    host.appendChild(li);
  }
}

async function refreshHistory(): Promise<void> {
  const [cps, sps] = await Promise.all([api<{ checkpoints: Checkpoint[] }>(`/checkpoints?last=${CHART_LAST}`), api<{ savepoints: Savepoint[] }>("/savepoints")]);
  drawCheckpoints(cps.checkpoints);
  drawSavepoints(sps.savepoints);
}

// ---- actions ------------------------------------------------------------------------------

function confirmAction(text: string, ok: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>("confirm");
  byId("confirm-text").textContent = text;
  byId("confirm-ok").textContent = ok;
  dialog.showModal();
  return new Promise((resolve) => {
    const done = (answer: boolean) => () => {
      byId("confirm-ok").onclick = byId("confirm-cancel").onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    byId("confirm-ok").onclick = done(true);
    byId("confirm-cancel").onclick = done(false);
    dialog.oncancel = done(false);
  });
}

function notice(text: string, error = false): void {
  const n = byId("notice");
  n.textContent = text;
  n.className = error ? "error" : "ok";
  n.hidden = false;
}

async function act(stop: boolean): Promise<void> {
  const job = graph?.job ?? "the job";
  const ok = stop
    ? await confirmAction(`Stop ${job} after a savepoint? The job takes a savepoint, a final checkpoint, and exits.`, "Stop with savepoint")
    : await confirmAction(`Take a savepoint of ${job} now? It is written under the job's savepoint root.`, "Take savepoint");
  if (!ok) return;
  for (const b of document.querySelectorAll<HTMLButtonElement>("#actions button")) b.disabled = true;
  notice(stop ? "Taking a savepoint, then stopping…" : "Taking a savepoint…");
  try {
    const r = stop ? await api<{ path: string }>("/stop", { method: "POST", body: { savepoint: true } }) : await api<{ path: string }>("/savepoints", { method: "POST", body: {} });
    if (stop) {
      stopped = true;
      notice(`The job is stopping. Savepoint: ${r.path}`);
      byId("state").textContent = "stopping";
      byId("state").className = "state stopping";
    } else notice(`Savepoint taken: ${r.path}`);
    if (!stop) await refreshHistory();
  } catch (e) {
    if (e instanceof NeedToken) return askToken(true);
    notice(`${stop ? "Stop" : "Savepoint"} failed: ${(e as Error).message}`, true);
  }
}

byId("savepoint").addEventListener("click", () => void act(false));
byId("stop").addEventListener("click", () => void act(true));

// ---- the loop -----------------------------------------------------------------------------

let timer: number | undefined;
let polls = 0;
let lastCheckpointId: number | null = null;

async function poll(): Promise<void> {
  if (stopped) return;
  try {
    const st = await api<Status>("/status");
    byId("banner").hidden = true;
    update(st);
    const id = st.lastCheckpoint?.id ?? null;
    // A new completed checkpoint shows at once; abandoned and failed ones, and savepoints
    // taken with curl, within HISTORY_EVERY polls.
    if (id !== lastCheckpointId || polls % HISTORY_EVERY === 0) {
      lastCheckpointId = id;
      await refreshHistory();
    }
    polls++;
  } catch (e) {
    if (e instanceof NeedToken) return askToken(true);
    const banner = byId("banner");
    banner.textContent = `The job does not answer (${(e as Error).message}): it has stopped, or is busy.`;
    banner.hidden = false;
  }
  timer = window.setTimeout(() => void poll(), POLL_MS);
}

async function start(): Promise<void> {
  window.clearTimeout(timer);
  try {
    graph = await api<GraphData>("/graph");
  } catch (e) {
    if (e instanceof NeedToken) return askToken(token !== null);
    notice(`Cannot read the job graph: ${(e as Error).message}`, true);
    return;
  }
  document.title = `${graph.job} · flowc`;
  byId("job").textContent = graph.job;
  byId("main").hidden = false;
  byId("actions").hidden = false;
  drawGraph(graph);
  previous = null;
  polls = 0;
  await poll();
}

// With a token and none kept from before in this tab: ask first, fetch nothing.
if (document.body.dataset.token === "required" && token === null) askToken(false);
else void start();
