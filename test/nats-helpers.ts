// Real nats-server processes for the NATS tests: each on a free loopback port with a
// temporary store folder, stopped by pid. Also a small client: streams made, messages
// published and read back (subject and payload, in stream order).

import { execa, type ResultPromise } from "execa";
import { createServer } from "node:net";
import { connect as connectTcp } from "node:net";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import { tempDir } from "./helpers.js";

/** A port nothing listens on now: a server bound to port 0, read, closed. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connectTcp(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export class NatsServer {
  private proc: ResultPromise | null = null;
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly store: string,
    private readonly args: string[],
    scheme: string,
  ) {
    this.url = `${scheme}://127.0.0.1:${port}`;
  }

  /**
   * Starts nats-server with JetStream on a free port, and waits until it accepts connections;
   * `args` are more of the server's flags (`--auth`, `--tls` …), `scheme` the URL's.
   */
  static async start(opts: { args?: string[]; scheme?: "nats" | "tls" } = {}): Promise<NatsServer> {
    const s = new NatsServer(await freePort(), tempDir("flowc-nats-store-"), opts.args ?? [], opts.scheme ?? "nats");
    await s.restart();
    return s;
  }

  /** Starts the server (again) on the same port with the same store. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error("the server runs already");
    this.proc = execa("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.store, ...this.args], { reject: false, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 200; i++) {
      if (await accepts(this.port)) return;
      if (this.proc.exitCode !== null) throw new Error(`nats-server exited with ${this.proc.exitCode}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("nats-server did not start");
  }

  /** Stops the server (SIGTERM: a clean shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    if (p.pid !== undefined) process.kill(p.pid, "SIGTERM");
    const timer = setTimeout(() => p.pid !== undefined && p.exitCode === null && process.kill(p.pid, "SIGKILL"), 10_000);
    await p;
    clearTimeout(timer);
  }
}

export async function client(url: string): Promise<NatsConnection> {
  return connect({ servers: url });
}

/** Makes (or makes again, empty) a stream. */
export async function makeStream(url: string, name: string, subjects: string[], more: Partial<StreamConfig> = {}): Promise<void> {
  const nc = await client(url);
  try {
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.delete(name);
    } catch {
      // none yet
    }
    await jsm.streams.add({ name, subjects, ...more });
  } finally {
    await nc.close();
  }
}

/**
 * Publishes messages (subject, payload) into the stream that captures them, in order: small
 * sets with JetStream's acknowledgements, large ones as plain messages on one connection
 * (in order), then waiting until the stream holds them all.
 */
export async function publish(url: string, messages: [string, string][], stream?: string): Promise<void> {
  const nc = await client(url);
  try {
    if (messages.length <= 2000 || !stream) {
      const js = jetstream(nc);
      for (let i = 0; i < messages.length; i += 1000) {
        await Promise.all(messages.slice(i, i + 1000).map(([s, p]) => js.publish(s, p)));
      }
      return;
    }
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info(stream)).state.messages;
    for (let i = 0; i < messages.length; i++) {
      nc.publish(messages[i]![0], messages[i]![1]);
      if (i % 5000 === 4999) await nc.flush();
    }
    await nc.flush();
    for (let i = 0; i < 600; i++) {
      if ((await jsm.streams.info(stream)).state.messages >= before + messages.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`stream ${stream} did not take the messages`);
  } finally {
    await nc.close();
  }
}

/** Every message a stream holds, in order, as "subject payload" lines. */
export async function readStream(url: string, stream: string): Promise<string[]> {
  const nc = await client(url);
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const info = await jsm.streams.info(stream);
    const out: string[] = [];
    if (info.state.messages === 0) return out;
    const c = await js.consumers.get(stream, { opt_start_seq: info.state.first_seq });
    const msgs = await c.consume({ max_messages: 5000 });
    for await (const m of msgs) {
      out.push(`${m.subject} ${m.string()}`);
      if (m.info.pending === 0) break;
    }
    await msgs.close();
    return out;
  } finally {
    await nc.close();
  }
}

export async function streamInfo(url: string, stream: string): Promise<{ messages: number; lastSeq: number }> {
  const nc = await client(url);
  try {
    const jsm = await jetstreamManager(nc);
    const i = await jsm.streams.info(stream);
    return { messages: i.state.messages, lastSeq: i.state.last_seq };
  } finally {
    await nc.close();
  }
}

/**
 * A JetStream cluster on loopback: `size` nats-server processes with routes to each other,
 * each with its own port, cluster port and store folder. Servers are stopped (or killed)
 * one by one by pid.
 */
export class NatsCluster {
  private procs: (ResultPromise | null)[] = [];

  private constructor(
    readonly ports: number[],
    private readonly clusterPorts: number[],
    private readonly stores: string[],
  ) {}

  get urls(): string[] {
    return this.ports.map((p) => `nats://127.0.0.1:${p}`);
  }

  static async start(size = 3): Promise<NatsCluster> {
    const ports: number[] = [];
    const clusterPorts: number[] = [];
    for (let i = 0; i < size; i++) {
      ports.push(await freePort());
      clusterPorts.push(await freePort());
    }
    const c = new NatsCluster(ports, clusterPorts, ports.map(() => tempDir("flowc-nats-cluster-")));
    for (let i = 0; i < size; i++) c.startOne(i);
    for (let i = 0; i < size; i++) {
      for (let k = 0; k < 200 && !(await accepts(ports[i]!)); k++) await new Promise((r) => setTimeout(r, 50));
    }
    // JetStream is ready when the cluster has a meta leader: a stream with 3 replicas can be made.
    const nc = await client(c.urls[0]!);
    try {
      for (let k = 0; ; k++) {
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2000 });
          await jsm.streams.add({ name: "READY", subjects: ["ready"], num_replicas: size });
          await jsm.streams.delete("READY");
          break;
        } catch (e) {
          if (k > 150) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await nc.close();
    }
    return c;
  }

  private startOne(i: number): void {
    const routes = this.clusterPorts.filter((_, k) => k !== i).map((p) => `nats://127.0.0.1:${p}`).join(",");
    this.procs[i] = execa("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(this.ports[i]), "-sd", this.stores[i]!, "-n", `s${i}`, "--cluster_name", "flowc", "--cluster", `nats://127.0.0.1:${this.clusterPorts[i]}`, "--routes", routes], { reject: false, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  }

  /** Kills server i (SIGKILL) and waits for it to be gone. */
  async kill(i: number): Promise<void> {
    const p = this.procs[i];
    if (!p) return;
    this.procs[i] = null;
    if (p.pid !== undefined) process.kill(p.pid, "SIGKILL");
    await p;
  }

  async restart(i: number): Promise<void> {
    this.startOne(i);
    for (let k = 0; k < 200 && !(await accepts(this.ports[i]!)); k++) await new Promise((r) => setTimeout(r, 50));
  }

  async stop(): Promise<void> {
    for (const [i, p] of this.procs.entries()) {
      if (!p) continue;
      this.procs[i] = null;
      if (p.pid !== undefined) process.kill(p.pid, "SIGTERM");
      const timer = setTimeout(() => p.pid !== undefined && p.exitCode === null && process.kill(p.pid, "SIGKILL"), 10_000);
      await p;
      clearTimeout(timer);
    }
  }
}
