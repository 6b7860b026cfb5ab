// bench/nats: the sink row's second hand-written side, as fast as this client goes: the same
// records published with a Nats-Msg-Id each on the core connection, every acknowledgement
// counted by one subscription on a reply inbox (no promise per message), 4096 in flight at
// most, until all are acknowledged. The same technique flowc's sink uses for a commit.
import { connect, createInbox, headers } from "@nats-io/transport-node";

const [url, subject, countText] = process.argv.slice(2);
const count = Number(countText);
const nc = await connect({ servers: url });
const inbox = createInbox();
let acked = 0;
let wake = null;
nc.subscribe(`${inbox}.*`, {
  callback: (_err, msg) => {
    if (msg.data.length === 0 || msg.data[2] === 0x65) throw new Error(`refused: ${msg.string()}`);
    acked++;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  },
});
for (let i = 1; i <= count; i++) {
  while (i - 1 - acked >= 4096) await new Promise((r) => (wake = r));
  const h = headers();
  h.set("Nats-Msg-Id", `bench-${i}`);
  nc.publish(subject, JSON.stringify({ id: i, customer: "c" + (i % 1000), amount: i % 97 }), { reply: `${inbox}.${i}`, headers: h });
}
while (acked < count) await new Promise((r) => (wake = r));
await nc.close();
