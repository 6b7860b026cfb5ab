// bench/nats: the sink row's hand-written side, with the same client: the same 1M records
// published to the stream, each with a Nats-Msg-Id (the server drops a duplicate within its
// window), waiting for every acknowledgement (4096 in flight at most): JetStream's usual way
// to publish exactly once. (It keeps no record of its progress: after a crash it could not
// tell which records to publish again; flowc's sink does.)
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";

const [url, subject, countText] = process.argv.slice(2);
const count = Number(countText);
const nc = await connect({ servers: url });
const js = jetstream(nc);
let inflight = [];
for (let i = 1; i <= count; i++) {
  const payload = JSON.stringify({ id: i, customer: "c" + (i % 1000), amount: i % 97 });
  inflight.push(js.publish(subject, payload, { msgID: `bench-${i}` }));
  if (inflight.length >= 4096) {
    await Promise.all(inflight);
    inflight = [];
  }
}
await Promise.all(inflight);
await nc.close();
