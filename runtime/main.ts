// The job driver: parses the bundle's flags, starts the admin endpoint if asked, then runs
// the job under a supervisor that restarts it from its last checkpoint when user code fails
// (the `restart` policy). One run is driver/run.ts.

import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadAdmin } from "./admin-load.js";
import type { AdminServer } from "./admin.js";
import { TOKEN_ENV } from "./admin-token.js";
import type { JobModule, Manifest, RestartManifest } from "./api.js";
import { StdoutSink } from "./connectors/stdout.js";
import { parseInstance } from "./driver/instances.js";
import { Live, Stop, type Flags } from "./driver/live.js";
import { runOnce, type Failure, type JobParts } from "./driver/run.js";
import { JobError } from "./errors.js";
import { FlowRuntimeError } from "./lib.js";
import { LockSet } from "./locks.js";
import { Log, type Level } from "./log.js";


/** Runs a bundle's job with the runtime parts the bundle holds (the bundle's entry calls this). */
export function main(job: JobModule, parts: JobParts): void {
  run(job, parts, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      process.stdin.destroy();
    },
    (e: unknown) => {
      process.stderr.write(`internal error in job ${job.manifest.job}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\nThis is a bug in flowc's runtime; please report it with the .flow file and the input.\n`);
      process.exitCode = 70;
      process.stdin.destroy();
    },
  );
}

function printError(e: Failure, log: Log): void {
  if (e instanceof FlowRuntimeError) {
    process.stderr.write(`error[${e.code}]: ${e.message}\n  --> ${e.location}\n`);
    if (e.userStack) {
      if (log.enabled("debug")) process.stderr.write(`${e.userStack}\n`);
      else process.stderr.write("  = hint: run with --log-level debug to see where it was thrown (and node --enable-source-maps for TypeScript line numbers)\n");
    }
    return;
  }
  process.stderr.write(`error[${e.code}]: ${e.message}\n${e.hint ? `  = hint: ${e.hint}\n` : ""}`);
}

/** Failures of user code and of sink writes restart the job; bad input does not. */
function restartable(e: Failure): boolean {
  return e instanceof FlowRuntimeError || (e instanceof JobError && e.code === "FLOW5004");
}

function restartDelay(p: RestartManifest, attempt: number): number {
  return p.strategy === "exponential_delay" ? Math.min(p.maxDelay, p.delay * p.multiplier ** attempt) : p.delay;
}

export async function run(job: JobModule, parts: JobParts, argv: string[]): Promise<number> {
  const m: Manifest = job.manifest;
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
        "log-level": { type: "string" },
        "checkpoint-dir": { type: "string" },
        fresh: { type: "boolean" },
        "from-savepoint": { type: "string" },
        "allow-non-restored-state": { type: "boolean" },
        "savepoint-dir": { type: "string" },
        "admin-port": { type: "string" },
        "admin-token": { type: "string" },
        "admin-token-file": { type: "string" },
        "status-line": { type: "boolean" },
        "nats-url": { type: "string" },
        "nats-timeout": { type: "string" },
        instance: { type: "string" },
        "run-id": { type: "string" },
        "exchange-replicas": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${(await loadAdmin()).usage(m.job)}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write((await loadAdmin()).usage(m.job));
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${m.job} (compiled by ${m.compiler} from ${m.flowFile})\n`);
    return 0;
  }
  const level = (values["log-level"] ?? "warn") as Level;
  if (!["error", "warn", "info", "debug"].includes(level)) {
    process.stderr.write(`error: --log-level must be error, warn, info or debug, not ${JSON.stringify(level)}\n`);
    return 2;
  }
  const log = new Log(m.job, level);
  // Several instances: each one's log lines say which it is.
  const inst = values.instance !== undefined ? parseInstance(values.instance) : null;
  if (inst && inst.count > 1) log.prefix = `[${inst.index}/${inst.count}] `;
  const natsTimeout = values["nats-timeout"] === undefined ? 60_000 : parseDuration(values["nats-timeout"]);
  if (natsTimeout === null) {
    process.stderr.write(`error: --nats-timeout must be a duration such as 30s, 2m or 500ms, not ${JSON.stringify(values["nats-timeout"])}\n`);
    return 2;
  }
  const natsUrl = values["nats-url"];
  if (natsUrl !== undefined && !/^(nats|tls|ws|wss):\/\/[^\s/]+\/?$/.test(natsUrl)) {
    process.stderr.write(`error: --nats-url must be a server URL such as nats://127.0.0.1:4222, not ${JSON.stringify(natsUrl)}\n`);
    return 2;
  }
  let instance: Flags["instance"] = null;
  if (values.instance !== undefined) {
    const parsed = parseInstance(values.instance);
    if (!parsed) {
      process.stderr.write(`error: --instance must be i/N with 0 ≤ i < N ≤ 1024 (e.g. 0/3), not ${JSON.stringify(values.instance)}\n`);
      return 2;
    }
    const replicas = values["exchange-replicas"] === undefined ? 1 : Number(values["exchange-replicas"]);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
      process.stderr.write(`error: --exchange-replicas must be 1 to 5, not ${JSON.stringify(values["exchange-replicas"])}\n`);
      return 2;
    }
    const run = values["run-id"] ?? null;
    if (run !== null && !/^[\w-]{1,64}$/.test(run)) {
      process.stderr.write(`error: --run-id must be letters, digits, - and _ (at most 64), not ${JSON.stringify(run)}\n`);
      return 2;
    }
    instance = { ...parsed, run, replicas };
  } else if (values["run-id"] !== undefined || values["exchange-replicas"] !== undefined) log.warn("--run-id and --exchange-replicas have no effect without --instance");
  const flags: Flags = {
    logLevel: level,
    checkpointDir: values["checkpoint-dir"],
    fresh: values.fresh ?? false,
    fromSavepoint: values["from-savepoint"],
    allowNonRestored: values["allow-non-restored-state"] ?? false,
    savepointDir: resolve(values["savepoint-dir"] ?? join("savepoints", m.job)),
    natsUrl,
    natsTimeoutMs: natsTimeout,
    instance,
  };
  // Checkpoints and savepoints in an object store need the NATS client, which a bundle holds
  // only when its job uses NATS (or was compiled with --nats).
  const natsPlaces = [flags.checkpointDir, flags.fromSavepoint].filter((x) => x?.startsWith("nats:"));
  if (natsPlaces.length && !parts.nats) {
    process.stderr.write(`error: ${natsPlaces[0]} is in a NATS object store, and this bundle has no NATS client (its job uses no nats connector or storage); compile it with \`flowc compile --nats\`\n`);
    return 2;
  }
  if (!parts.nats && (natsUrl !== undefined || values["nats-timeout"] !== undefined)) log.warn("the job uses no NATS: --nats-url and --nats-timeout have no effect");
  parts.nats?.configure({ url: natsUrl, timeoutMs: natsTimeout, job: m.job, log, replicas: instance?.replicas ?? 1 });
  if (!m.checkpoint && (flags.checkpointDir || flags.fresh)) log.warn("the job has no checkpoint block: --checkpoint-dir and --fresh have no effect");
  if (flags.fresh && flags.fromSavepoint) {
    process.stderr.write("error: --fresh and --from-savepoint cannot be used together (a savepoint is a start of its own)\n");
    return 2;
  }
  if (flags.allowNonRestored && !flags.fromSavepoint) log.warn("--allow-non-restored-state has no effect without --from-savepoint");
  const adminPort = values["admin-port"];
  if (adminPort !== undefined && !/^\d{1,5}$/.test(adminPort)) {
    process.stderr.write(`error: --admin-port must be a port number (0 to 65535), not ${JSON.stringify(adminPort)}\n`);
    return 2;
  }
  let token: string | null = null;
  // The environment variable only matters when there is an endpoint to protect.
  const tokenEnv = adminPort === undefined ? undefined : process.env[TOKEN_ENV];
  if (values["admin-token"] !== undefined || values["admin-token-file"] !== undefined || tokenEnv !== undefined) {
    const { resolveToken, TokenError } = await loadAdmin();
    try {
      token = resolveToken({ flag: values["admin-token"], flagName: "--admin-token", file: values["admin-token-file"], fileFlagName: "--admin-token-file", env: tokenEnv });
    } catch (e) {
      if (!(e instanceof TokenError)) throw e;
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
  }
  for (const flag of ["admin-token", "admin-token-file"] as const) if (values[flag] !== undefined && adminPort === undefined) log.warn(`--${flag} has no effect without --admin-port`);

  const stop = new Stop();
  const live = new Live(parts.graph ?? null);
  // The checkpoint folder and output files, locked for the process's life (runtime/locks.ts).
  const locks = new LockSet(m.job);
  let admin: AdminServer | null = null;
  // The admin chunk (the endpoint, the status line), inflated once if at all.
  let chunk: ReturnType<typeof loadAdmin> | null = null;
  if (adminPort !== undefined) {
    const port = Number(adminPort);
    if (port > 65535) {
      process.stderr.write(`error: --admin-port must be a port number (0 to 65535), not ${port}\n`);
      return 2;
    }
    try {
      const endpoint = await (chunk ??= loadAdmin());
      admin = await endpoint.startAdmin(port, token, endpoint.adminJob(live, m, flags, stop, (message) => new endpoint.HttpError(400, message), parts.nats !== undefined), m.job, log);
    } catch (e) {
      process.stderr.write(`error: cannot serve the admin endpoint on 127.0.0.1:${port}: ${(e as NodeJS.ErrnoException).code === "EADDRINUSE" ? "the port is in use" : (e as Error).message}\n`);
      return 1;
    }
    log.info(`admin endpoint on ${admin.url}`);
  }
  const onSignal = (sig: string) => () => {
    if (stop.requested) return;
    log.info(`${sig}: finishing the batch, then a final checkpoint`);
    stop.request();
  };
  const onTerm = onSignal("SIGTERM");
  const onInt = onSignal("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  // The reader of stdout went away (`… | head`): stop like SIGTERM, quietly.
  const onStdoutError = (e: NodeJS.ErrnoException): void => {
    if (e.code !== "EPIPE") throw e;
    StdoutSink.closed = true;
    if (!stop.requested) stop.request();
  };
  process.stdout.on("error", onStdoutError);
  // Only on a terminal: piped or redirected, stderr gets the log and nothing else.
  let line: InstanceType<Awaited<ReturnType<typeof loadAdmin>>["StatusLine"]> | null = null;
  if (values["status-line"] && process.stderr.isTTY) {
    const c = await (chunk ??= loadAdmin());
    line = new c.StatusLine(c.adminJob(live, m, flags, stop, (message) => new Error(message), parts.nats !== undefined).status, m, process.stderr);
  }
  const endLine = (): void => {
    line?.stop();
    Log.line = StdoutSink.line = null;
  };
  if (line) {
    Log.line = line;
    if (process.stdout.isTTY) StdoutSink.line = line;
    line.start();
  }
  try {
    const policy = m.restart;
    for (let attempt = 0; ; attempt++) {
      const outcome = await runOnce({ job, parts, flags, fresh: attempt === 0 && flags.fresh, log, stop, live, locks });
      if (outcome.kind !== "failed") return 0;
      const e = outcome.error;
      const canRestart = policy && policy.strategy !== "none" && attempt < policy.attempts && restartable(e) && !stop.requested;
      if (!canRestart) {
        endLine();
        printError(e, log);
        if (policy && policy.strategy !== "none" && restartable(e) && attempt >= policy.attempts) {
          process.stderr.write(`  = note: gave up after ${attempt} restart${attempt === 1 ? "" : "s"} (restart policy: ${policy.attempts} attempts)\n`);
        }
        return 1;
      }
      const delay = restartDelay(policy, attempt);
      log.warn(`${e.message} — restarting from the last checkpoint in ${delay} ms (restart ${attempt + 1} of ${policy.attempts})`);
      // SIGTERM ends the wait (and its timer, which would otherwise keep the process alive).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, delay))), stop.promise]);
      clearTimeout(timer);
    }
  } finally {
    endLine();
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
    process.stdout.off("error", onStdoutError);
    live.dropRequests("the job ended before the savepoint could be taken");
    await admin?.close();
    locks.releaseAll();
    await parts.nats?.close();
  }
}

/** A duration flag: `30s`, `2m`, `500ms`, or seconds as a plain number; null when it is none. */
function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const ms = m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
  return ms > 0 ? ms : null;
}
