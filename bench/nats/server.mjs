// A nats-server of the NATS benchmarks' own (bench/nats/run.mjs, instances.mjs): JetStream
// with a temporary store on a free loopback port; NATS_SERVER names another binary.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const serverBin = process.env.NATS_SERVER ?? (existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server");

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const accepts = (port) =>
  new Promise((resolve) => {
    const s = tcp(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

/** Starts the server and waits until it accepts connections: its process, URL, and stop(). */
export async function startNatsServer(prefix) {
  const store = mkdtempSync(join(tmpdir(), prefix));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const server = spawn(serverBin, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], { stdio: "ignore" });
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 200) throw new Error("nats-server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
    rmSync(store, { recursive: true, force: true });
  };
  return { server, url, stop };
}
