// Credentials and TLS for NATS, from the environment only (docs/operations.md, "NATS
// JetStream"): NATS_TOKEN, NATS_USER and NATS_PASSWORD, tls:// with NATS_CA. Each case runs
// against a real nats-server that demands them: one job publishes through an exactly-once
// sink, another reads the stream back; without the credentials the job is refused with a
// message, not a stack trace.

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { afterAll, describe, expect, it } from "vitest";
import { compileIn, runBundle, STACK_LINE, tempDir, writeFiles } from "./helpers.js";
import { NatsServer } from "./nats-helpers.js";

const servers: NatsServer[] = [];
afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

const WRITER = `job writer
source n: int = sequence(from: 1, to: 3)
let msgs = n |> map(i => { id: i })
sink msgs -> nats("a.n", stream: "A", create: true)
checkpoint { every 1s  mode exactly_once }
`;
const READER = `job reader
type M = { id: int }
source m: M = nats("a.>", stream: "A", until: "end")
sink m -> stdout()
`;

/** Writes three messages and reads them back with `env` as the only credentials. */
async function roundTrip(server: NatsServer, env: Record<string, string>): Promise<void> {
  const dir = tempDir("flowc-nats-auth-");
  const writer = await runBundle(await compileIn(dir, WRITER, { file: "writer.flow" }), { cwd: dir, args: ["--nats-url", server.url], env });
  expect(writer.stderr).toBe("");
  expect(writer.exitCode).toBe(0);
  const reader = await runBundle(await compileIn(dir, READER, { file: "reader.flow" }), { cwd: dir, args: ["--nats-url", server.url], env });
  expect(reader.stderr).toBe("");
  expect(reader.stdout).toBe('{"id":1}\n{"id":2}\n{"id":3}');
  expect(reader.exitCode).toBe(0);
}

/** The job without (or with wrong) credentials: refused at start, with a message. */
async function refused(server: NatsServer, env: Record<string, string>): Promise<string> {
  const dir = tempDir("flowc-nats-noauth-");
  const r = await runBundle(await compileIn(dir, READER, { file: "reader.flow" }), { cwd: dir, args: ["--nats-url", server.url, "--nats-timeout", "2s"], env });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).not.toMatch(STACK_LINE);
  return r.stderr;
}

describe("NATS credentials from the environment", () => {
  it("NATS_TOKEN: a server started with a token lets the job in with it, and refuses it without or with another", async () => {
    const server = await NatsServer.start({ args: ["--auth", "s3cret-token"] });
    servers.push(server);
    await roundTrip(server, { NATS_TOKEN: "s3cret-token" });
    expect(await refused(server, {})).toMatch(/error\[FLOW5016\]: the NATS server at nats:\/\/127\.0\.0\.1:\d+ refused the job's credentials/);
    const wrong = await refused(server, { NATS_TOKEN: "another" });
    expect(wrong).toMatch(/error\[FLOW5016\]: the NATS server at nats:\/\/127\.0\.0\.1:\d+ refused the job's credentials/);
    expect(wrong).not.toContain("another");
  });

  it("NATS_USER and NATS_PASSWORD: a user's server lets the job in as that user", async () => {
    const server = await NatsServer.start({ args: ["--user", "ann", "--pass", "pa55word"] });
    servers.push(server);
    await roundTrip(server, { NATS_USER: "ann", NATS_PASSWORD: "pa55word" });
    const wrong = await refused(server, { NATS_USER: "ann", NATS_PASSWORD: "guess" });
    expect(wrong).toMatch(/error\[FLOW5016\]: the NATS server at nats:\/\/127\.0\.0\.1:\d+ refused the job's credentials/);
    expect(wrong).not.toContain("guess");
  });

  it("NATS_CREDS: the key in a .creds file answers the server's challenge (a server with an nkey user)", async () => {
    const dir = tempDir("flowc-nats-creds-");
    const user = createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    writeFiles(dir, {
      "server.conf": `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`,
      // A .creds file as nsc writes it: a JWT (the server, not in operator mode, checks only
      // the key's signature) and the user's seed.
      "user.creds": `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
      "other.creds": `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(createUser().getSeed())}\n------END USER NKEY SEED------\n`,
    });
    const server = await NatsServer.start({ args: ["-c", join(dir, "server.conf")] });
    servers.push(server);
    await roundTrip(server, { NATS_CREDS: join(dir, "user.creds") });
    const wrong = await refused(server, { NATS_CREDS: join(dir, "other.creds") });
    expect(wrong).toMatch(/error\[FLOW5016\]: the NATS server at nats:\/\/127\.0\.0\.1:\d+ refused the job's credentials/);
    expect(wrong).not.toContain(seed);
    const missing = await refused(server, { NATS_CREDS: join(dir, "none.creds") });
    expect(missing).toContain(`cannot read the NATS credentials file ${join(dir, "none.creds")} (NATS_CREDS)`);
  });

  it("tls:// with NATS_CA: the job trusts the server's certificate through the given CA, and not without it", async () => {
    const dir = tempDir("flowc-nats-tls-");
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    // A CA, and a certificate for 127.0.0.1 signed by it.
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=flowc test CA");
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    writeFiles(dir, { "san.ext": "subjectAltName=IP:127.0.0.1\n" });
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
    const server = await NatsServer.start({ args: ["--tls", "--tlscert", join(dir, "server.pem"), "--tlskey", join(dir, "server.key")], scheme: "tls" });
    servers.push(server);
    expect(server.url).toMatch(/^tls:\/\//);
    await roundTrip(server, { NATS_CA: join(dir, "ca.pem") });
    // Without the CA the certificate is not trusted: refused at once, not tried again.
    const untrusted = await refused(server, {});
    expect(untrusted).toMatch(/^error\[FLOW5016\]: the TLS connection to the NATS server at tls:\/\/127\.0\.0\.1:\d+ was refused: .*certificate/m);
    expect(untrusted).not.toContain("trying again");
  });
});
