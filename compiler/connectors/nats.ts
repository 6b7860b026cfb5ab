// `nats(subject)`: NATS JetStream, as a source and as a sink. The language names it; this
// version does not run it yet, so a call is FLOW9001 (after which nothing else is checked).

import type { PlannedConnector } from "./connector.js";

const NOT_YET = "the nats connector is not supported yet";
const SUBJECT = [{ name: "subject", arg: { kind: "string" }, position: 0, required: true }] as const;

export const natsSource: PlannedConnector = {
  side: "source",
  name: "nats",
  replayable: true,
  notYet: NOT_YET,
  args: SUBJECT,
  summary: "nats(subject): NATS JetStream",
};

export const natsSink: PlannedConnector = {
  side: "sink",
  name: "nats",
  notYet: NOT_YET,
  args: SUBJECT,
  summary: "nats(subject): NATS JetStream",
};
