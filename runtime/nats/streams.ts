// Streams a job reads or writes: a missing one stops the job at start with a message naming
// it (FLOW5015), unless the connector says `create: true`, which creates it with default
// limits, capturing the connector's subject.

import type { StreamInfo } from "@nats-io/jetstream";
import { JobError } from "../errors.js";
import type { Log } from "../log.js";
import { shownUrl, type NatsLink } from "./connection.js";

function notFound(e: unknown): boolean {
  const err = e as Error & { code?: number; api_error?: { err_code?: number } };
  return err?.name === "StreamNotFoundError" || /stream not found/i.test(err?.message ?? "");
}

/** The stream's info; created first when missing and `create`. */
export async function ensureStream(link: NatsLink, stream: string, subject: string, create: boolean, who: string, log: Log): Promise<StreamInfo> {
  try {
    return await link.retry(`look up stream ${stream}`, () => link.jsm.streams.info(stream));
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  if (!create) {
    throw new JobError(
      "FLOW5015",
      `the NATS stream ${stream} that ${who} uses does not exist on ${shownUrl(link.url)}`,
      `create it (e.g. \`nats stream add ${stream} --subjects "${subject}"\`), or add \`create: true\` to the connector to create it with default limits`,
    );
  }
  log.info(`creating NATS stream ${stream} (subjects ${subject}) for ${who}`);
  try {
    return await link.retry(`create stream ${stream}`, () => link.jsm.streams.add({ name: stream, subjects: [subject] }));
  } catch (e) {
    if (e instanceof JobError) throw e;
    // Created meanwhile by another job.
    try {
      return await link.jsm.streams.info(stream);
    } catch {
      throw new JobError("FLOW5016", `cannot create the NATS stream ${stream} for ${who} on ${shownUrl(link.url)}: ${(e as Error).message}`, "another stream may capture the same subjects; create the stream by hand");
    }
  }
}

/** Whether a subject matches a filter with `*` and `>` wildcards. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Whether the stream captures messages published to `subject`. */
export function captures(info: StreamInfo, subject: string): boolean {
  return (info.config.subjects ?? []).some((f) => subjectMatches(f, subject));
}
