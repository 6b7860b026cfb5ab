// Publishing to a JetStream stream without a promise per message: every message's reply
// subject is `<inbox>.<n>`, one subscription counts the server's acknowledgements, and the
// publisher waits only when WINDOW messages are unacknowledged. A negative acknowledgement
// (a stream limit, a subject no stream captures) fails it; so does silence for STALL_MS
// while messages are outstanding, or a reconnection (`disrupted`): the caller then finds
// out what the stream holds (nats-sink.ts) and goes on from there.

import { createInbox, headers, type Msg, type Subscription } from "@nats-io/transport-node";
import { JobError } from "../errors.js";
import { shownUrl, type NatsLink } from "./connection.js";

/** Messages published and not acknowledged yet, at most. */
export const WINDOW = 4096;
/** No acknowledgement for this long while messages are outstanding: something is wrong. */
const STALL_MS = 5000;

export class Publisher {
  private readonly sub: Subscription;
  private readonly inbox: string;
  /** Messages published, and acknowledged (in order: the server stores a stream's messages in order). */
  sent = 0;
  acked = 0;
  /** A refusal by the server (FLOW5016), or null. */
  failure: JobError | null = null;
  /** The connection was lost and made again since this publisher started. */
  disrupted = false;
  /**
   * The server answered "no responders" (503) for a stream it has: JetStream is not available
   * for a moment (a cluster electing a stream leader after a server went away). The caller
   * finds out what the stream holds and tries again; `unavailableError` is what it reports if
   * that goes on.
   */
  unavailable = false;
  unavailableError: JobError | null = null;
  private waiter: (() => void) | null = null;
  private readonly offEvent: () => void;
  private lastProgress = Date.now();

  constructor(
    private readonly link: NatsLink,
    private readonly stream: string,
  ) {
    this.inbox = createInbox();
    this.sub = link.nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.onAck(msg) });
    this.offEvent = link.onEvent(() => {
      this.disrupted = true;
      this.wake();
    });
  }

  get outstanding(): number {
    return this.sent - this.acked;
  }

  /** Publishes one message; `id` is its Nats-Msg-Id (duplicates within the server's window are dropped). */
  publish(subject: string, payload: string, id: string | null): void {
    const n = this.sent++;
    if (id === null) this.link.nc.publish(subject, payload, { reply: `${this.inbox}.${n}` });
    else {
      const h = headers();
      h.set("Nats-Msg-Id", id);
      this.link.nc.publish(subject, payload, { reply: `${this.inbox}.${n}`, headers: h });
    }
  }

  private onAck(msg: Msg): void {
    const data = msg.data;
    if (data.length === 0) {
      // A status, not an acknowledgement: 503, no stream captures the subject (or JetStream is not ready).
      const code = (msg.headers as unknown as { code?: number } | undefined)?.code ?? 0;
      if (code === 503 && this.link.connected) {
        this.unavailable = true;
        this.unavailableError ??= new JobError("FLOW5016", `the NATS server at ${shownUrl(this.link.url)} has no stream for a message of stream ${this.stream}'s sink (no responders): the stream does not capture its subject, or JetStream is not available`, `check the stream's subjects (nats stream info ${this.stream}) against the sink's subject`);
      }
      this.wake();
      return;
    }
    // {"stream":…} or {"error":…}: look at the third byte before parsing anything.
    if (data[2] === 0x65 /* e */) {
      let description = new TextDecoder().decode(data);
      try {
        const o = JSON.parse(description) as { error?: { description?: string; err_code?: number } };
        description = o.error?.description ?? description;
      } catch {
        // as it is
      }
      this.failure ??= new JobError("FLOW5016", `the NATS server refused a message for stream ${this.stream}: ${description}`, `check the stream's limits and subjects (nats stream info ${this.stream})`);
      this.wake();
      return;
    }
    this.acked++;
    this.lastProgress = Date.now();
    if (this.waiter && this.outstanding < WINDOW / 2) this.wake();
    else if (this.waiter && this.outstanding === 0) this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Whether publishing should stop and the caller find out what the stream holds. */
  get troubled(): boolean {
    return this.failure !== null || this.disrupted || this.unavailable || this.link.failure !== null || (this.outstanding > 0 && Date.now() - this.lastProgress > STALL_MS);
  }

  /** Waits until fewer than WINDOW / 2 are outstanding (or none, with `all`), or trouble. */
  async settle(all = false): Promise<void> {
    this.lastProgress = Date.now();
    while (!this.troubled && (all ? this.outstanding > 0 : this.outstanding >= WINDOW / 2)) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.waiter = r;
        timer = setTimeout(r, 1000);
      });
      clearTimeout(timer);
    }
  }

  close(): void {
    this.offEvent();
    this.sub.unsubscribe();
    this.wake();
  }
}
