// The admin endpoint of a running job (`--admin-port N`, docs/operations.md): HTTP on
// 127.0.0.1 only, optionally behind a bearer token (admin-token.ts).
//
//   GET  /status        job, uptime, records in and out per operator, watermarks, last checkpoint
//   GET  /checkpoints   the checkpoint history (history.jsonl)
//   GET  /metrics       Prometheus text format (prom-client)
//   POST /savepoints    takes a savepoint; body {"dir": "…"} optional; 201 {"path": "…"}
//   POST /stop          stops the job like SIGTERM; body {"savepoint": true, "dir": "…"} optional
//   GET  /graph         the job graph (nodes, edges) as the compiler planned it
//   GET  /savepoints    the savepoints this process took (newest first) and the one it started from
//   GET  /              the dashboard: a page that shows all of the above (dashboard/serve.ts);
//                       its page and assets are served without the token, and hold no job data
//
// Safe without a token against what a web page in the operator's browser can do
// (docs/operations.md, "The admin endpoint" under "Safety"): a request whose Host is not
// 127.0.0.1:<port> or localhost:<port> is refused (DNS rebinding), so is one with an
// Origin other than the endpoint's own or a cross-site Sec-Fetch-Site (403); a POST with a
// body or a Content-Type must be `application/json` (415), which a page cannot send to
// another origin without asking first. A bare POST (curl -X POST …) is served.
//
// Requests are answered between two batches of the job's loop (a savepoint is a consistent
// cut), so an answer can wait for the batch in progress.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tokenChecker } from "./admin-token.js";
import type { SourceProgress } from "./connectors/contract.js";
import { lastLines } from "./dashboard/history.js";
import { serveDashboard } from "./dashboard/serve.js";
import type { Log } from "./log.js";
// The savepoint code rides in the same chunk (runtime/savepoint/ops.ts).
export * as savepoints from "./savepoint/ops.js";
// And the bundle's --help text, the admin token's resolution and the job's view for the endpoint.
export { usage } from "./usage.js";
export { resolveToken, TokenError } from "./admin-token.js";
export { adminJob } from "./driver/admin-job.js";

// The terminal's status line (--status-line) rides in this chunk too: like the endpoint,
// it is code a job loads only when asked for (compiler/bundle.ts, "Lean bundles").
export { StatusLine } from "./status-line.js";

export interface OperatorStatus {
  uid: string;
  kind: string;
  recordsIn: number;
  recordsOut: number;
  keys: number;
  /** Elements or versions held, for operators that keep several per key (joins, count windows); absent for others. */
  entries?: number;
  watermark: number | null;
  /** Elements dropped as too late (windows, joins, timers). */
  lateDropped: number;
}

export interface JobStatus {
  job: string;
  state: "running" | "restarting" | "stopping";
  startedAt: string;
  uptimeSeconds: number;
  sources: { name: string; connector: string; records: number; bytes: number | null; watermark: number | null; newestEventTime: number | null; progress: SourceProgress | null; nats?: { stream: string; lastSequence: number; streamLastSequence: number | null; lag: number | null } }[];
  operators: OperatorStatus[];
  sinks: { index: number; connector: string; path: string | null; records: number; bytes: number; nats?: { stream: string; published: number; pending: number } }[];
  lastCheckpoint: unknown;
  /** Jobs with `state { backend disk }`: the store behind the keyed state (absent otherwise). */
  stateStore?: StateStoreStatus;
}

/** The disk state backend's store (docs/operations.md, "State on disk"). */
export interface StateStoreStatus {
  backend: "disk";
  /** The state folder, as the state block gives it. */
  dir: string;
  /** Keys of keyed state, in the store or only in a cache so far. */
  keys: number;
  /** Lookups of a key's state answered by the cache, and those that read the store. */
  cacheHits: number;
  cacheMisses: number;
  /** Bytes the store's files take on disk. */
  sizeOnDiskBytes: number;
  /** Bytes of keys and values written to the store since the run started. */
  writtenBytes: number;
}

export interface CheckpointStats {
  completed: number;
  failed: number;
  abandoned: number;
  lastDurationSeconds: number | null;
  lastBytes: number | null;
}

/** A savepoint this process took, or the one it started from. */
export interface SavepointRecord {
  path: string;
  /** When it was taken (ISO 8601); for the one started from, when it was taken then. */
  createdAt: string | null;
  /** `request`: POST /savepoints; `stop`: POST /stop with a savepoint; `restored`: --from-savepoint. */
  trigger: "request" | "stop" | "restored";
  /** How long it took (ms), null for the one started from. */
  durationMs: number | null;
}

/** What the endpoint asks of the job. */
export interface AdminJob {
  status(): JobStatus;
  history(): unknown[];
  /** The checkpoint history's file (history.jsonl), null without checkpoints. */
  historyFile(): string | null;
  /** The job graph as JSON text (runtime/graph-data.ts), null when the bundle has none. */
  graph(): string | null;
  /** Savepoints, newest first. */
  savepoints(): SavepointRecord[];
  checkpointStats(): CheckpointStats;
  /** Takes a savepoint (between batches); resolves to its path. */
  savepoint(dir: string | null): Promise<string>;
  /** Stops the job like SIGTERM, after a savepoint when `dir` is not undefined. */
  stop(savepoint: { dir: string | null } | null): Promise<string | null>;
}

/** A request refused or failed: answered with `status` and `{"error": message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = type === "application/json" ? JSON.stringify(body, null, 2) + "\n" : String(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/**
 * Refuses (403) what a web page could send: a Host other than this endpoint's address (a
 * page's own name rebound to 127.0.0.1), an Origin other than the endpoint's own, a
 * Sec-Fetch-Site other than same-origin or none. Programs (curl, flowc, Prometheus) send
 * the address they connected to and no Origin.
 */
function refuseForeign(req: IncomingMessage, port: number): void {
  const names = [`127.0.0.1:${port}`, `localhost:${port}`];
  const host = req.headers.host?.toLowerCase();
  // Browsers leave out the default port.
  if (host === undefined || !(names.includes(host) || (port === 80 && (host === "127.0.0.1" || host === "localhost")))) {
    throw new HttpError(403, `the Host header ${JSON.stringify(req.headers.host ?? "")} is not this endpoint's address (${names.join(" or ")}); requests for other names are refused (they can come from a web page through DNS rebinding)`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = names.map((n) => `http://${n}`);
    const o = origin.toLowerCase();
    if (!(own.includes(o) || (port === 80 && (o === "http://127.0.0.1" || o === "http://localhost")))) {
      throw new HttpError(403, `requests from other web pages are refused: Origin ${origin} is not this endpoint's (${own.join(" or ")})`);
    }
  }
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new HttpError(403, `requests from other web pages are refused (Sec-Fetch-Site: ${site})`);
  }
}

/**
 * A POST's body must be JSON, said so by `Content-Type: application/json`, when it has a
 * body or a Content-Type at all (415 otherwise): the types a page can send to another
 * origin without asking first (text/plain, forms) are refused. No body and no type (curl
 * -X POST) is an empty request.
 */
function requireJson(req: IncomingMessage): void {
  const type = req.headers["content-type"];
  const length = req.headers["content-length"];
  const hasBody = (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
  if (!hasBody && type === undefined) return;
  if (type?.split(";")[0]!.trim().toLowerCase() === "application/json") return;
  throw new HttpError(415, `a request with a body must have Content-Type: application/json, not ${type === undefined ? "none" : type} (form and text/plain posts, which web pages can send, are refused)`);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  requireJson(req);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 65536) throw new HttpError(413, "the request body is too large");
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HttpError(400, `the request body must be a JSON object (${(e as Error).message})`);
  }
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v === "") throw new HttpError(400, `"${name}" must be a non-empty string`);
  return v;
}

async function metricsRegistry(job: AdminJob, name: string): Promise<{ metrics(): Promise<string>; contentType: string }> {
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  registry.setDefaultLabels({ job: name });
  prom.collectDefaultMetrics({ register: registry });
  // prom-client's totals of active handles, requests and resources are gauges named
  // `…_total`, a suffix Prometheus keeps for counters (`promtool check metrics` refuses
  // them). Their per-type gauges (`nodejs_active_handles{type="…"}`, …) stay and sum to them.
  for (const metric of registry.getMetricsAsArray()) {
    if (!(metric instanceof prom.Counter) && metric.name.endsWith("_total")) registry.removeSingleMetric(metric.name);
  }
  type Read = (set: (labels: Record<string, string | number>, v: number) => void) => void;
  // Values are read from the job when scraped: each metric is reset, then set from `read`.
  const counter = (metric: string, help: string, labels: string[], read: Read) =>
    new prom.Counter({ name: metric, help, labelNames: labels, registers: [registry], collect() { this.reset(); read((l, v) => this.inc(l, v)); } });
  const gauge = (metric: string, help: string, labels: string[], read: Read) =>
    new prom.Gauge({ name: metric, help, labelNames: labels, registers: [registry], collect() { this.reset(); read((l, v) => this.set(l, v)); } });
  counter("flowc_source_records_total", "Records read from each source.", ["source"], (set) => job.status().sources.forEach((s) => set({ source: s.name }, s.records)));
  counter("flowc_source_bytes_total", "Bytes read from each file source.", ["source"], (set) => job.status().sources.forEach((s) => s.bytes !== null && set({ source: s.name }, s.bytes)));
  counter("flowc_operator_records_in_total", "Records into each stateful operator.", ["operator"], (set) => job.status().operators.forEach((o) => set({ operator: o.uid }, o.recordsIn)));
  counter("flowc_operator_records_out_total", "Records out of each stateful operator.", ["operator"], (set) => job.status().operators.forEach((o) => set({ operator: o.uid }, o.recordsOut)));
  counter("flowc_sink_records_total", "Records written to each sink.", ["sink"], (set) => job.status().sinks.forEach((s) => set({ sink: String(s.index) }, s.records)));
  counter("flowc_sink_bytes_total", "Bytes written to each sink (stdout: all stdout sinks together).", ["sink"], (set) => job.status().sinks.forEach((s) => set({ sink: String(s.index) }, s.bytes)));
  gauge("flowc_state_keys", "Keys held in each stateful operator's state.", ["operator"], (set) => job.status().operators.forEach((o) => set({ operator: o.uid }, o.keys)));
  gauge("flowc_state_entries", "Elements or versions held by joins and count windows (over all their keys).", ["operator"], (set) => job.status().operators.forEach((o) => o.entries !== undefined && set({ operator: o.uid }, o.entries)));
  // In seconds since the epoch: Prometheus's base unit of time (promtool refuses milliseconds).
  gauge("flowc_watermark_seconds", "Event-time watermark of each source and operator, in seconds since the epoch (absent before the first).", ["of"], (set) => {
    const st = job.status();
    for (const s of st.sources) if (s.watermark !== null) set({ of: `source:${s.name}` }, s.watermark / 1000);
    for (const o of st.operators) if (o.watermark !== null) set({ of: `operator:${o.uid}` }, o.watermark / 1000);
  });
  counter("flowc_checkpoints_total", "Checkpoints by outcome.", ["status"], (set) => {
    const c = job.checkpointStats();
    set({ status: "completed" }, c.completed);
    set({ status: "failed" }, c.failed);
    set({ status: "abandoned" }, c.abandoned);
  });
  gauge("flowc_checkpoint_last_duration_seconds", "Duration of the last completed checkpoint.", [], (set) => {
    const c = job.checkpointStats();
    if (c.lastDurationSeconds !== null) set({}, c.lastDurationSeconds);
  });
  gauge("flowc_checkpoint_last_size_bytes", "Bytes written by the last completed checkpoint.", [], (set) => {
    const c = job.checkpointStats();
    if (c.lastBytes !== null) set({}, c.lastBytes);
  });
  // NATS sources and sinks (LANGUAGE.md 9.1).
  gauge("flowc_nats_source_last_sequence", "Stream sequence of the last message each NATS source handed out.", ["source", "stream"], (set) => job.status().sources.forEach((s) => s.nats && set({ source: s.name, stream: s.nats.stream }, s.nats.lastSequence)));
  gauge("flowc_nats_source_lag_messages", "Messages of the stream after the last one each NATS source handed out.", ["source", "stream"], (set) => job.status().sources.forEach((s) => s.nats && s.nats.lag !== null && set({ source: s.name, stream: s.nats.stream }, s.nats.lag)));
  counter("flowc_nats_sink_published_total", "Messages each NATS sink published and the server acknowledged.", ["sink", "stream"], (set) => job.status().sinks.forEach((s) => s.nats && set({ sink: String(s.index), stream: s.nats.stream }, s.nats.published)));
  gauge("flowc_nats_sink_pending_messages", "Records each NATS sink holds that are not published yet (staged until a checkpoint completes, or waiting for the server).", ["sink", "stream"], (set) => job.status().sinks.forEach((s) => s.nats && set({ sink: String(s.index), stream: s.nats.stream }, s.nats.pending)));
  // The disk state backend (absent for jobs whose state is on the heap).
  gauge("flowc_state_store_keys", "Keys of keyed state in the disk backend's store (those only cached so far included).", [], (set) => {
    const s = job.status().stateStore;
    if (s) set({}, s.keys);
  });
  counter("flowc_state_cache_hits_total", "Lookups of a key's state answered by the disk backend's cache.", [], (set) => {
    const s = job.status().stateStore;
    if (s) set({}, s.cacheHits);
  });
  counter("flowc_state_cache_misses_total", "Lookups of a key's state that read the disk backend's store.", [], (set) => {
    const s = job.status().stateStore;
    if (s) set({}, s.cacheMisses);
  });
  gauge("flowc_state_store_size_bytes", "Bytes the disk backend's store takes on disk.", [], (set) => {
    const s = job.status().stateStore;
    if (s) set({}, s.sizeOnDiskBytes);
  });
  counter("flowc_state_store_written_bytes_total", "Bytes of keys and values written to the disk backend's store.", [], (set) => {
    const s = job.status().stateStore;
    if (s) set({}, s.writtenBytes);
  });
  gauge("flowc_uptime_seconds", "Seconds since the job started.", [], (set) => set({}, job.status().uptimeSeconds));
  return registry;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdmin(port: number, token: string | null, job: AdminJob, jobName: string, log: Log): Promise<AdminServer> {
  let registry: Awaited<ReturnType<typeof metricsRegistry>> | null = null;
  const authorized = token === null ? () => true : tokenChecker(token);
  let bound = port;
  const server = createServer((req, res) => {
    void (async () => {
      try {
        refuseForeign(req, bound);
        // The dashboard's page and assets: no job data, so no token (the page asks for it).
        if (serveDashboard(req, res, token !== null)) return;
        if (!authorized(req.headers.authorization)) {
          res.setHeader("www-authenticate", "Bearer");
          throw new HttpError(401, "this endpoint needs `Authorization: Bearer <token>` (the job's --admin-token, --admin-token-file or FLOWC_ADMIN_TOKEN)");
        }
        const [path, query] = (req.url ?? "/").split("?") as [string, string | undefined];
        const route = `${req.method} ${path}`;
        switch (route) {
          case "GET /status":
            return send(res, 200, job.status());
          case "GET /checkpoints": {
            // `?last=N`: the newest N (the dashboard's chart), not the whole history.
            const last = new URLSearchParams(query ?? "").get("last");
            if (last !== null && !/^[1-9]\d{0,5}$/.test(last)) throw new HttpError(400, `"last" must be a whole number from 1 to 999999, not ${JSON.stringify(last)}`);
            return send(res, 200, { checkpoints: last === null ? job.history() : lastLines(job.historyFile(), Number(last)) });
          }
          case "GET /graph": {
            const graph = job.graph();
            if (graph === null) throw new HttpError(404, "this job was built without its graph (compile it with flowc)");
            return send(res, 200, JSON.parse(graph) as unknown);
          }
          case "GET /savepoints":
            return send(res, 200, { savepoints: job.savepoints() });
          case "GET /metrics":
            registry ??= await metricsRegistry(job, jobName);
            return send(res, 200, await registry.metrics(), registry.contentType);
          case "POST /savepoints": {
            const body = await readBody(req);
            const where = await job.savepoint(optionalString(body, "dir"));
            return send(res, 201, { path: where });
          }
          case "POST /stop": {
            const body = await readBody(req);
            if (body.savepoint !== undefined && typeof body.savepoint !== "boolean") throw new HttpError(400, '"savepoint" must be true or false');
            const where = await job.stop(body.savepoint === true ? { dir: optionalString(body, "dir") } : null);
            return send(res, 200, where === null ? { stopping: true } : { stopping: true, path: where });
          }
        }
        if (["/status", "/checkpoints", "/metrics", "/savepoints", "/stop", "/graph"].includes(path)) throw new HttpError(405, `${req.method} is not allowed on ${path}`);
        throw new HttpError(404, `no such endpoint: ${path} (try GET /, /status, /checkpoints, /metrics, /graph, /savepoints; POST /savepoints, /stop)`);
      } catch (e) {
        if (e instanceof HttpError) return send(res, e.status, { error: e.message });
        log.warn(`admin request ${req.method} ${req.url} failed: ${(e as Error).message}`);
        return send(res, 500, { error: (e as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  bound = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${bound}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
