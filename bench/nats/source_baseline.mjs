// bench/nats: the source row's hand-written side, with the same client (@nats-io/jetstream):
// an ordered consumer reads the stream to the last sequence it had at start, each message is
// parsed as JSON, a Map counts per customer, and every update is written to a file as a
// JSON line, in 64 KiB chunks. No checkpoints (the flowc job keeps none either).
import { closeSync, openSync, writeSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

const [url, stream, out] = process.argv.slice(2);
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);
const last = (await jsm.streams.info(stream)).state.last_seq;
const js = jetstream(nc);
const consumer = await js.consumers.get(stream);
const counts = new Map();
const fd = openSync(out, "w");
let buf = "";
const messages = await consumer.consume({ max_messages: 4096 });
for await (const m of messages) {
  const o = m.json();
  const n = (counts.get(o.customer) ?? 0) + 1;
  counts.set(o.customer, n);
  buf += `{"customer":${JSON.stringify(o.customer)},"n":${n}}\n`;
  if (buf.length > 65536) {
    writeSync(fd, buf);
    buf = "";
  }
  if (m.seq >= last) break;
}
writeSync(fd, buf);
closeSync(fd);
await messages.close();
await nc.close();
