#!/usr/bin/env node
// Tries dsl-examples/nats_orders.flow against a NATS server of its own, from the repository
// (after `npm install`): starts nats-server with JetStream on a free loopback port and a
// temporary store, creates the ORDERS and TOTALS streams, publishes the orders of
// dsl-examples/data/nats_orders.jsonl (subject orders.<region>), compiles the job with flowc,
// runs it (it reads the stream to its end, commits and exits), prints the TOTALS stream,
// and stops the server. Needs nats-server on the PATH (Debian: apt-get install nats-server)
// or its path in NATS_SERVER.
//
//   node dsl-examples/nats_orders.mjs

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect as tcp } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

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

function accepts(port) {
  return new Promise((resolve) => {
    const s = tcp(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

const serverBin = process.env.NATS_SERVER ?? (existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server");
const work = mkdtempSync(join(tmpdir(), "nats-orders-"));
const port = await freePort();
const url = `nats://127.0.0.1:${port}`;
const server = spawn(serverBin, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", join(work, "store")], { stdio: "ignore" });
server.on("error", (e) => {
  console.error(`cannot start ${serverBin}: ${e.message} (install it: apt-get install nats-server, or set NATS_SERVER)`);
  process.exit(1);
});
try {
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 200) throw new Error("nats-server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] });
  await jsm.streams.add({ name: "TOTALS", subjects: ["totals.>"] });
  const js = jetstream(nc);
  const lines = readFileSync(join(here, "data", "nats_orders.jsonl"), "utf8").split("\n").filter((l) => l.trim());
  for (const line of lines) {
    const { region, order } = JSON.parse(line);
    await js.publish(`orders.${region}`, JSON.stringify(order));
  }
  console.error(`published ${lines.length} orders to stream ORDERS on ${url}`);

  execFileSync(process.execPath, [join(root, "bin", "flowc"), "compile", join(here, "nats_orders.flow"), "-o", join(work, "dist")], { stdio: ["ignore", "ignore", "inherit"] });
  execFileSync(process.execPath, [join(work, "dist", "nats_orders.mjs"), "--nats-url", url], { cwd: work, stdio: ["ignore", "inherit", "inherit"] });

  // What the job published: the TOTALS stream, in order.
  const info = await jsm.streams.info("TOTALS");
  if (info.state.messages > 0) {
    const consumer = await js.consumers.get("TOTALS");
    const messages = await consumer.consume();
    for await (const m of messages) {
      console.log(`${m.subject} ${m.string()}`);
      if (m.info.pending === 0) break;
    }
    await messages.close();
  }
  await nc.close();
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  rmSync(work, { recursive: true, force: true });
}
