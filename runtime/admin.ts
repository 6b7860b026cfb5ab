// The admin endpoint of a running job (`--admin-port N`, docs/operations.md): HTTP on
// 127.0.0.1 only, optionally behind a bearer token (admin-token.ts).
//
//   GET  /status        job, uptime, records in and out per operator, watermarks, last checkpoint
//   GET  /checkpoints   the checkpoint history (history.jsonl)
//   GET  /metrics       Prometheus text format (prom-client)
//   POST /savepoints    takes a savepoint; body {"dir": "…"} optional; 201 {"path": "…"}
//   POST /stop          stops the job like SIGTERM; body {"savepoint": true, "dir": "…"} optional
//
// Requests are answered between two batches of the job's loop (a savepoint is a consistent
// cut), so an answer can wait for the batch in progress.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tokenChecker } from "./admin-token.js";
import type { Log } from "./log.js";

export interface OperatorStatus {
  uid: string;
  kind: string;
  recordsIn: number;
  recordsOut: number;
  keys: number;
  watermark: number | null;
}

export interface JobStatus {
  job: string;
  state: "running" | "restarting" | "stopping";
  startedAt: string;
  uptimeSeconds: number;
  sources: { name: string; connector: string; records: number; bytes: number | null; watermark: number | null }[];
  operators: OperatorStatus[];
  sinks: { index: number; connector: string; path: string | null; records: number; bytes: number }[];
  lastCheckpoint: unknown;
}

export interface CheckpointStats {
  completed: number;
  failed: number;
  abandoned: number;
  lastDurationSeconds: number | null;
  lastBytes: number | null;
}

/** What the endpoint asks of the job. */
export interface AdminJob {
  status(): JobStatus;
  history(): unknown[];
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

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
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
  gauge("flowc_watermark_milliseconds", "Event-time watermark of each source and operator (absent before the first).", ["of"], (set) => {
    const st = job.status();
    for (const s of st.sources) if (s.watermark !== null) set({ of: `source:${s.name}` }, s.watermark);
    for (const o of st.operators) if (o.watermark !== null) set({ of: `operator:${o.uid}` }, o.watermark);
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
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (!authorized(req.headers.authorization)) {
          res.setHeader("www-authenticate", "Bearer");
          throw new HttpError(401, "this endpoint needs `Authorization: Bearer <token>` (the job's --admin-token, --admin-token-file or FLOWC_ADMIN_TOKEN)");
        }
        const path = (req.url ?? "/").split("?")[0];
        const route = `${req.method} ${path}`;
        switch (route) {
          case "GET /status":
            return send(res, 200, job.status());
          case "GET /checkpoints":
            return send(res, 200, { checkpoints: job.history() });
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
        if (["/status", "/checkpoints", "/metrics", "/savepoints", "/stop"].includes(path ?? "")) throw new HttpError(405, `${req.method} is not allowed on ${path}`);
        throw new HttpError(404, `no such endpoint: ${path} (try GET /status, /checkpoints, /metrics; POST /savepoints, /stop)`);
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
