// The job's connections to NATS servers (LANGUAGE.md 9.1, docs/operations.md "NATS"): one
// per server URL, shared by the job's NATS sources, sinks and checkpoint storage, kept for
// the process's life (across restarts of the job) and closed when it ends.
//
// The URL: the job's --nats-url, else NATS_URL, else the connector's `url:`, else
// nats://127.0.0.1:4222. Credentials come only from the environment: NATS_CREDS (a creds
// file), NATS_TOKEN, NATS_USER and NATS_PASSWORD; a tls:// URL connects with TLS, trusting
// NATS_CA when given. A server that cannot be reached, or goes away, is tried again with
// backoff (logged); after --nats-timeout without it the job fails with FLOW5014, naming the
// URL. Operations that fail because the server is away are retried the same way (`retry`).

import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { JobError } from "../errors.js";
import type { Log } from "../log.js";

export const DEFAULT_URL = "nats://127.0.0.1:4222";
export const DEFAULT_TIMEOUT_MS = 60_000;

/** What the job's flags say about NATS (main.ts sets them through nats/parts.ts). */
export interface NatsSettings {
  /** --nats-url. */
  url: string | undefined;
  /** --nats-timeout (ms). */
  timeoutMs: number;
  job: string;
  log: Log;
  /** Replicas of the buckets and streams the runtime makes (the lock bucket; --exchange-replicas). */
  replicas?: number;
}

let settings: NatsSettings | null = null;

export function configure(s: NatsSettings): void {
  settings = s;
}

export function currentSettings(): NatsSettings {
  if (!settings) throw new Error("internal: NATS used before main configured it");
  return settings;
}

/** The URL a connector (or the checkpoint storage, with null) connects to. */
export function resolveUrl(connectorUrl: string | null): string {
  const s = currentSettings();
  return s.url ?? (process.env.NATS_URL || undefined) ?? connectorUrl ?? DEFAULT_URL;
}

/** The URL without credentials, for messages. */
export function shownUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/, "$1");
}

/** Errors of the NATS client that mean "the server is not there (now)": worth trying again. */
export function isTransient(e: unknown): boolean {
  const name = (e as Error | null)?.name ?? "";
  const message = (e as Error | null)?.message ?? "";
  if (["TimeoutError", "ConnectionError", "NoRespondersError", "RequestError", "DrainingConnectionError"].includes(name)) return true;
  if (name === "JetStreamApiError" || name === "StreamNotFoundError" || name === "ConsumerNotFoundError") {
    // JetStream is there but not ready (a server starting, a stream recovering).
    return /temporarily unavailable|not (yet )?ready|no suitable peers|jetstream not (enabled|ready)/i.test(message);
  }
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|disconnect|timeout|503|no responders/i.test(message);
}

/** What is wrong with the server's certificate, if that is why a connection failed. */
function certificateProblem(e: unknown): string | null {
  for (let x = e as (Error & { code?: string; cause?: unknown }) | undefined, depth = 0; x && depth < 4; x = x.cause as typeof x, depth++) {
    if (/^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_\w+)$/.test(x.code ?? "")) return x.message;
    if (/certificate|altnames|self[- ]signed/i.test(x.message ?? "")) return x.message;
  }
  return null;
}

function authOptions(url: string): Partial<NodeConnectionOptions> {
  const o: Partial<NodeConnectionOptions> = {};
  const env = process.env;
  if (env.NATS_CREDS) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(env.NATS_CREDS);
    } catch (e) {
      throw new JobError("FLOW5014", `cannot read the NATS credentials file ${env.NATS_CREDS} (NATS_CREDS): ${(e as Error).message}`);
    }
    o.authenticator = credsAuthenticator(creds);
  } else if (env.NATS_TOKEN) o.token = env.NATS_TOKEN;
  else if (env.NATS_USER) {
    o.user = env.NATS_USER;
    o.pass = env.NATS_PASSWORD ?? "";
  }
  if (url.startsWith("tls://")) {
    const tls: NonNullable<NodeConnectionOptions["tls"]> & Pick<ConnectionOptions, "checkServerIdentity"> = env.NATS_CA ? { caFile: env.NATS_CA } : {};
    o.tls = tls;
    // The client names no TLS server for an IP address (Node then checks the certificate
    // against "localhost"): check it against the URL's address instead.
    const host = url.replace(/^tls:\/\/([^@/]*@)?/, "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    if (isIP(host)) tls.checkServerIdentity = (_name, cert) => checkServerIdentity(host, cert);
  }
  return o;
}

/** One connection to one server URL, with JetStream. */
export class NatsLink {
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  /** Since when the connection is down (ms), or null. */
  private downSince: number | null = null;
  private downTimer: NodeJS.Timeout | null = null;
  /** Set when the server was away longer than --nats-timeout: the job stops with it. */
  failure: JobError | null = null;
  private readonly listeners = new Set<(event: "reconnect" | "failed") => void>();
  private closing = false;

  private constructor(readonly url: string) {}

  get connected(): boolean {
    return this.downSince === null && !this.nc.isClosed();
  }

  /** Connects, trying again with backoff until --nats-timeout. */
  static async open(url: string): Promise<NatsLink> {
    const link = new NatsLink(url);
    const s = currentSettings();
    const started = Date.now();
    let attempt = 0;
    let warned = 0;
    // Several servers of a cluster: `nats://a:4222,nats://b:4222` (the client fails over between them).
    const list = url.split(",").map((u) => u.trim().replace(/^tls:\/\//, ""));
    const servers = list.length === 1 ? list[0]! : list;
    for (;;) {
      try {
        link.nc = await connect({
          servers,
          name: `flowc ${s.job}`,
          ...authOptions(url),
          timeout: Math.max(1000, Math.min(5000, s.timeoutMs)),
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          reconnectJitter: 100,
          pingInterval: 5_000,
          maxPingOut: 2,
        });
        break;
      } catch (e) {
        if (e instanceof JobError) throw e;
        const name = (e as Error).name;
        if (name === "AuthorizationError" || /authorization|authentication/i.test((e as Error).message)) {
          throw new JobError("FLOW5016", `the NATS server at ${shownUrl(url)} refused the job's credentials: ${(e as Error).message}`, "check NATS_CREDS, NATS_TOKEN or NATS_USER and NATS_PASSWORD");
        }
        // A certificate that is not trusted does not become trusted by waiting.
        const tlsProblem = certificateProblem(e);
        if (tlsProblem) {
          throw new JobError("FLOW5016", `the TLS connection to the NATS server at ${shownUrl(url)} was refused: ${tlsProblem}`, "give the CA that signed the server's certificate in NATS_CA; the certificate must name the URL's host");
        }
        const waited = Date.now() - started;
        if (waited >= s.timeoutMs) throw link.unreachable(`cannot connect: ${describe(e)}`);
        const delay = Math.min(backoff(attempt++), s.timeoutMs - waited);
        // Once, then every 10 s while it goes on.
        if (warned === 0 || Date.now() - warned >= 10_000) {
          s.log.warn(`NATS server ${shownUrl(url)} cannot be reached (${describe(e)}); trying again with backoff for up to ${s.timeoutMs / 1000} s (--nats-timeout)`);
          warned = Date.now();
        }
        await sleep(delay);
      }
    }
    link.js = jetstream(link.nc);
    link.jsm = await link.retry("reach JetStream", () => jetstreamManager(link.nc));
    link.watch();
    s.log.info(`connected to NATS at ${shownUrl(url)}`);
    return link;
  }

  /** FLOW5014: the server was not there for --nats-timeout. */
  unreachable(what: string): JobError {
    const s = currentSettings();
    return new JobError(
      "FLOW5014",
      `no NATS server at ${shownUrl(this.url)} for ${s.timeoutMs / 1000} s (--nats-timeout): ${what}`,
      "start the server (or point --nats-url or NATS_URL at it); the job resumes from its last checkpoint when started again",
    );
  }

  /** Called on reconnection (consumers are made again) and when the server is given up on. */
  onEvent(f: (event: "reconnect" | "failed") => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private watch(): void {
    const s = currentSettings();
    void (async () => {
      for await (const st of this.nc.status()) {
        if (st.type === "disconnect" && this.downSince === null && !this.closing) {
          this.downSince = Date.now();
          s.log.warn(`NATS server ${shownUrl(this.url)} went away; reconnecting (for up to ${s.timeoutMs / 1000} s, --nats-timeout)`);
          this.downTimer = setTimeout(() => {
            this.failure ??= this.unreachable("the connection was lost and not made again");
            for (const l of this.listeners) l("failed");
          }, s.timeoutMs);
          this.downTimer.unref();
        } else if (st.type === "reconnect") {
          const was = this.downSince;
          this.downSince = null;
          if (this.downTimer) clearTimeout(this.downTimer);
          this.downTimer = null;
          s.log.warn(`NATS server ${shownUrl(this.url)} is back${was !== null ? ` after ${((Date.now() - was) / 1000).toFixed(1)} s` : ""}`);
          for (const l of this.listeners) l("reconnect");
        }
      }
    })().catch(() => undefined);
  }

  /**
   * Runs `op`, trying again with backoff while it fails because the server is away, until
   * --nats-timeout has passed since the first failure (then FLOW5014). Other errors go through.
   */
  async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const s = currentSettings();
    let first: number | null = null;
    for (let attempt = 0; ; attempt++) {
      if (this.failure) throw this.failure;
      try {
        return await op();
      } catch (e) {
        if (!isTransient(e) || this.closing) throw e;
        const now = Date.now();
        first ??= now;
        if (now - first >= s.timeoutMs) throw this.unreachable(`cannot ${what}: ${describe(e)}`);
        const delay = Math.min(backoff(attempt), s.timeoutMs - (now - first));
        if (attempt === 0 || attempt % 10 === 0) s.log.warn(`NATS: cannot ${what} (${describe(e)}); trying again`);
        await sleep(delay);
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.downTimer) clearTimeout(this.downTimer);
    try {
      let timer: NodeJS.Timeout | undefined;
      if (!this.nc.isClosed()) await Promise.race([this.nc.close(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
      clearTimeout(timer);
    } catch {
      // closed
    }
  }
}

const links = new Map<string, Promise<NatsLink>>();

/** The connection to `url`, made on first use. */
export function link(url: string): Promise<NatsLink> {
  let l = links.get(url);
  if (!l) {
    l = NatsLink.open(url);
    links.set(url, l);
    // A failed first connection is tried again by the next run, not remembered.
    l.catch(() => links.delete(url));
  }
  return l;
}

/** Closes every connection (the process is ending). */
export async function closeLinks(): Promise<void> {
  const all = [...links.values()];
  links.clear();
  for (const l of all) {
    try {
      await (await l).close();
    } catch {
      // never connected
    }
  }
}

export function describe(e: unknown): string {
  const err = e as Error & { code?: string };
  const m = err?.message ?? String(e);
  if (/ECONNREFUSED/.test(m) || err?.code === "ECONNREFUSED") return "connection refused";
  return m.length > 200 ? `${m.slice(0, 200)}…` : m;
}

/** 250 ms, doubling, at most 5 s. */
export function backoff(attempt: number): number {
  return Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
