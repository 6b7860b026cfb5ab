// The bundle's --help text. It rides in the embedded chunk (runtime/admin.ts exports it), so
// that every bundle does not carry it as plain text: `--help` and a usage error inflate the
// chunk, which costs a few milliseconds.

import { TOKEN_ENV } from "./admin-token.js";

export const usage = (job: string): string => `Usage: node ${job}.mjs [options]

Runs the compiled flowc job \`${job}\` until its input ends (or SIGTERM / SIGINT, which
finish the batch, take a final checkpoint, commit the sinks and exit 0).

Options:
  --checkpoint-dir <dir>        where checkpoints are kept (overrides the job's \`storage\`)
  --fresh                       ignore (and delete) existing checkpoints: start from the beginning
  --from-savepoint <dir>        start from a savepoint (state by operator uid and state name)
  --allow-non-restored-state    start even when some of the savepoint's state has no place in this job
  --savepoint-dir <dir>         the savepoint root: savepoints go here, or to a folder a request
                                names inside it (default ./savepoints/<job>)
  --admin-port <port>           serve the admin endpoint on 127.0.0.1:<port> (0: any free port)
  --admin-token <token>         require \`Authorization: Bearer <token>\` on the admin endpoint
  --admin-token-file <path>     the same, the token being the file's first line (not shown by ps)
  --nats-url <url>              the NATS server (overrides NATS_URL and the connectors' url:;
                                default nats://127.0.0.1:4222); credentials from NATS_CREDS,
                                NATS_TOKEN or NATS_USER/NATS_PASSWORD, TLS (tls://) with NATS_CA
  --nats-timeout <duration>     how long a NATS server may be away before the job fails
                                (default 60s; e.g. 30s, 2m)
  --instance <i/N>              run instance i (0 ≤ i < N) of N: it owns the key groups g with
                                g mod N = i; records move between instances through NATS
                                JetStream exchanges (docs/operations.md, "Running several instances")
  --run-id <id>                 several instances: the run the exchanges' messages belong to
                                (default: the bundle's hash; a fresh start of the same bundle
                                again needs a new one)
  --exchange-replicas <n>       several instances: replicas of the exchange streams (default 1;
                                3 on a three-server JetStream cluster)
  --log-level <level>           error, warn (default), info or debug; the log goes to stderr
  --status-line                 on a terminal, a live status line on stderr: records/s per
                                source, progress, watermark, last checkpoint (flowc run sets it)
  -h, --help                    show this help
  --version                     show the compiler that built this job

With a checkpoint block, the job resumes from its newest complete checkpoint.
Admin endpoint: GET / (a dashboard), /status, /checkpoints, /metrics, /graph, /savepoints;
POST /savepoints, /stop. Without a
token flag, ${TOKEN_ENV} is the token if set. Requests from web pages are refused.
Exit codes: 0 done or stopped, 1 bad input or a failing job, 2 usage error, 70 internal error.
`;
