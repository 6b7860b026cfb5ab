// `nats(subject, stream: …)`: NATS JetStream (LANGUAGE.md section 9.1), as a source (a
// stream read from a sequence, replayable) and as a sink (a stream written exactly once under
// checkpoints; the subject may be computed per record by a lambda). The runtime side is
// runtime/connectors/nats-source.ts and nats-sink.ts.

import type * as A from "../ast.js";
import type { LocalBinding } from "../check/model.js";
import type { Diagnostics } from "../diagnostics/diagnostic.js";
import { isPrim, recordShape, stripOptional, T, typeToString, type Type } from "../types.js";
import type { Args, SinkConnectorDef, SourceConnectorDef } from "./connector.js";
import { deadLetterFiles, ON_ERROR_ARGS, onErrorPolicy, type OnErrorPolicy } from "./records.js";

export const NATS_FORMATS = ["json", "text"] as const;
export type NatsFormat = (typeof NATS_FORMATS)[number];

export interface NatsSource {
  kind: "nats";
  subject: string;
  stream: string;
  format: NatsFormat;
  until: "end" | null;
  onError: OnErrorPolicy;
  create: boolean;
  url: string | null;
  subjectField: string | null;
  sequenceField: string | null;
  /** `partitions: P` (LANGUAGE.md 10.1), or null. */
  partitions: number | null;
  /** `partition_key: x => …`: the key function the producer partitioned by, or null. */
  partitionKey: { param: LocalBinding; body: A.Expr } | null;
}

export interface NatsSink {
  kind: "nats";
  /** A fixed subject, or null when `route` computes one per record. */
  subject: string | null;
  route: { param: LocalBinding; body: A.Expr } | null;
  stream: string;
  format: NatsFormat;
  create: boolean;
  url: string | null;
}

/** JetStream stream names: no spaces, dots, `*`, `>`, path separators. */
const STREAM_NAME = /^[^\s.*>/\\]+$/;

const COMMON_ARGS = [
  { name: "stream", arg: { kind: "string" }, required: true },
  { name: "format", arg: { kind: "enum", values: NATS_FORMATS } },
  { name: "create", arg: { kind: "bool" } },
  { name: "url", arg: { kind: "string" } },
] as const;

function checkStream(diags: Diagnostics, args: Args): string {
  const arg = args.get("stream")!;
  const stream = arg.lit as string;
  if (!STREAM_NAME.test(stream)) {
    diags.error("FLOW4008", arg.value.span, `${JSON.stringify(stream)} is not a JetStream stream name`, { hints: ["a stream name has no spaces, dots, `*`, `>` or slashes, e.g. \"ORDERS\""] });
  }
  return stream;
}

function checkSubject(diags: Diagnostics, args: Args, wildcards: boolean): string {
  const arg = args.get("subject")!;
  const subject = arg.lit as string;
  const tokens = subject.split(".");
  const bad = subject === "" || /\s/.test(subject) || tokens.some((t, i) => t === "" || (!wildcards && (t === "*" || t === ">")) || (t === ">" && i !== tokens.length - 1) || (t !== "*" && t !== ">" && /[*>]/.test(t)));
  if (bad) {
    diags.error("FLOW4008", arg.value.span, `${JSON.stringify(subject)} is not a NATS subject${wildcards ? " filter" : " to publish to"}`, {
      hints: [wildcards ? 'tokens separated by dots, `*` for one token and `>` for the rest at the end, e.g. "orders.>"' : 'tokens separated by dots, without wildcards, e.g. "alerts.eu"'],
    });
  }
  return subject;
}

function checkUrl(diags: Diagnostics, args: Args): string | null {
  const arg = args.get("url");
  if (!arg) return null;
  const url = arg.lit as string;
  if (!/^(nats|tls|ws|wss):\/\/[^\s/]+\/?$/.test(url)) {
    diags.error("FLOW4008", arg.value.span, `${JSON.stringify(url)} is not a NATS server URL`, { hints: ['e.g. "nats://127.0.0.1:4222" (credentials never go in a .flow file: NATS_CREDS, NATS_TOKEN, NATS_USER/NATS_PASSWORD)'] });
  }
  if (/^[a-z]+:\/\/[^/]*@/.test(url)) {
    diags.error("FLOW4008", arg.value.span, "credentials do not go in a .flow file", { hints: ["give them to the job in NATS_CREDS, NATS_TOKEN or NATS_USER and NATS_PASSWORD"] });
  }
  return url;
}

/** format "text" carries strings; "json" anything. */
function checkNatsFormat(diags: Diagnostics, format: NatsFormat, type: Type, args: Args, call: A.ConnectorCall, typeSpan: A.Span): void {
  if (format === "text" && type.kind !== "error" && !isPrim(type, "string")) {
    diags.error("FLOW3013", typeSpan, `format "text" carries each message as a string, but the type is ${typeToString(type)}${type.kind === "record" ? ` = ${recordShape(type)}` : ""}`, {
      notes: [{ message: "the format is chosen here", span: args.get("format")?.value.span ?? call.span }],
      hints: ['use format "json" (the default) for records'],
    });
  }
}

/** `subject_field:` / `sequence_field:`: a field of the record type, of the given type. */
function metaField(diags: Diagnostics, args: Args, name: string, type: Type, want: Type, typeSpan: A.Span): string | null {
  const arg = args.get(name);
  if (!arg) return null;
  const field = arg.lit as string;
  if (type.kind === "error") return field;
  if (type.kind !== "record") {
    diags.error("FLOW4008", arg.value.span, `\`${name}:\` names a field of the record the source reads, but its type is ${typeToString(type)}`, { hints: ["declare the source with a record type that has the field"] });
    return null;
  }
  const f = type.fields.find((x) => x.name === field);
  if (!f) {
    diags.error("FLOW4008", arg.value.span, `the record type has no field \`${field}\` for \`${name}:\``, { notes: [{ message: "the type is declared here", span: typeSpan }], hints: [`add \`${field}: ${typeToString(want)}\` to the record type`] });
    return null;
  }
  if (!isPrim(stripOptional(f.type), (want as { name: "string" | "int" }).name)) {
    diags.error("FLOW3001", arg.value.span, `\`${name}:\` fills field \`${field}\` with ${want === T.int ? "the message's stream sequence, an int" : "the message's subject, a string"}, but the field is ${typeToString(f.type)}`, { hints: [`declare it as \`${field}: ${typeToString(want)}\``] });
    return null;
  }
  return field;
}

export const natsSource: SourceConnectorDef<NatsSource> = {
  side: "source",
  name: "nats",
  kind: "nats",
  replayable: true,
  args: [
    { name: "subject", arg: { kind: "string" }, position: 0, required: true },
    ...COMMON_ARGS,
    { name: "until", arg: { kind: "enum", values: ["end"] } },
    ...ON_ERROR_ARGS,
    { name: "subject_field", arg: { kind: "string" } },
    { name: "sequence_field", arg: { kind: "string" } },
    { name: "partitions", arg: { kind: "int" } },
    { name: "partition_key", arg: { kind: "lambda" } },
  ],
  summary: 'nats(subject, stream: "S", format: "json" | "text", until: "end"): a NATS JetStream stream, read from a stream sequence',
  check({ diags, decl, type, args, keyFn }) {
    const subject = checkSubject(diags, args, true);
    const partitionsArg = args.get("partitions");
    let partitions: number | null = null;
    if (partitionsArg) {
      const p = partitionsArg.lit as number;
      const last = subject.split(".").pop();
      if (!Number.isInteger(p) || p < 1 || p > 65536) {
        diags.error("FLOW4030", partitionsArg.value.span, `\`partitions:\` must be a count from 1 to 65536, not ${p}`, { hints: ["give the number of partition subjects the stream holds (`partitions: 8` reads orders.0 … orders.7)"] });
      } else if (last !== "*") {
        diags.error("FLOW4030", args.get("subject")!.value.span, `a partitioned source reads subjects whose last token is a partition number, so its subject must end in \`.*\`; \`${subject}\` does not`, { hints: [`write the subject with \`*\` for the partition, e.g. \`${subject.replace(/\.[^.]*$/, "")}.*\``] });
      } else partitions = p;
    }
    // `partition_key: f`: the producer put each record into partition group(f(x)) mod P
    // (operations.md, "Running several instances"): a key_by with the same function right
    // after the source needs no exchange when N divides P.
    const keyArg = args.get("partition_key");
    let partitionKey: NatsSource["partitionKey"] = null;
    if (keyArg) {
      if (!partitionsArg) diags.error("FLOW4030", keyArg.span, "`partition_key:` says how a partitioned source's records were put into partitions, and this source has no `partitions:`", { hints: ["add `partitions: P` (the subject ending in `.*`), or leave `partition_key:` out"] });
      const k = keyFn(keyArg.value, "`partition_key:`");
      if (k && partitionsArg) partitionKey = { param: k.param, body: k.body };
    }
    const stream = checkStream(diags, args);
    const format = (args.get("format")?.lit as NatsFormat | undefined) ?? "json";
    checkNatsFormat(diags, format, type, args, decl.connector, decl.type.span);
    const subjectField = metaField(diags, args, "subject_field", type, T.string, decl.type.span);
    const sequenceField = metaField(diags, args, "sequence_field", type, T.int, decl.type.span);
    if (subjectField !== null && subjectField === sequenceField) {
      diags.error("FLOW4008", args.get("sequence_field")!.value.span, `\`subject_field:\` and \`sequence_field:\` name one field, \`${subjectField}\``, { hints: ["give each its own field"] });
    }
    return {
      kind: "nats",
      subject,
      stream,
      format,
      until: (args.get("until")?.lit as "end" | undefined) ?? null,
      onError: onErrorPolicy(diags, args),
      create: args.get("create")?.lit === true,
      url: checkUrl(diags, args),
      subjectField,
      sequenceField,
      partitions,
      partitionKey,
    };
  },
  files: (c, source) => deadLetterFiles(c.onError, source),
  manifest: (c, base) => ({
    name: base.name,
    connector: "nats",
    type: base.type,
    subject: c.subject,
    stream: c.stream,
    format: c.format,
    until: c.until,
    onError: c.onError,
    create: c.create,
    url: c.url,
    subjectField: c.subjectField,
    sequenceField: c.sequenceField,
    ...(c.partitions !== null ? { partitions: c.partitions } : {}),
    eventTime: base.eventTime,
  }),
  generated: (c) => ({ fromJson: c.format === "json", values: null }),
};

export const natsSink: SinkConnectorDef<NatsSink> = {
  side: "sink",
  name: "nats",
  kind: "nats",
  args: [{ name: "subject", arg: { kind: "string_or_lambda" }, position: 0, required: true }, ...COMMON_ARGS],
  summary: 'nats(subject or x => subject, stream: "S", format: "json" | "text"): a NATS JetStream stream, written exactly once under checkpoints',
  check({ diags, decl, elem, args, lambda }) {
    const subjectArg = args.get("subject")!;
    let subject: string | null = null;
    let route: NatsSink["route"] = null;
    if (subjectArg.lit === null) {
      const checked = lambda(subjectArg.value, elem, T.string, "a subject");
      if (!checked) return null;
      route = checked;
    } else subject = checkSubject(diags, args, false);
    const stream = checkStream(diags, args);
    const format = (args.get("format")?.lit as NatsFormat | undefined) ?? "json";
    checkNatsFormat(diags, format, elem, args, decl.connector, decl.pipeline.span);
    const create = args.get("create");
    if (route && create?.lit === true) {
      diags.error("FLOW4008", create.span, "`create: true` needs a fixed subject (the stream is created to capture it), and this sink computes one per record", { hints: [`create stream ${stream} by hand with the subjects the lambda computes`] });
    }
    return { kind: "nats", subject, route, stream, format, create: args.get("create")?.lit === true, url: checkUrl(diags, args) };
  },
  files: () => [],
  manifest: (c) => ({ connector: "nats", subject: c.subject, stream: c.stream, format: c.format, create: c.create, url: c.url, columns: null }),
  generated: (c) => ({ format: "jsonl", barePrimitives: c.format === "text", route: c.route }),
};
