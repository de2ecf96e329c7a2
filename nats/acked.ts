/**
 * Pipelined JetStream publishing with acknowledgements.
 *
 * `js.publish()` in @nats-io/jetstream costs ~40 µs of client CPU per message, mostly a request
 * inbox, a promise and a timer per call; measured here it caps one process at ~30k acked
 * publishes/s. This publisher sends plain core publishes with a reply subject under one
 * wildcard inbox subscription, resolves acks from a map and sweeps time-outs with a single
 * timer: ~6 µs per message and ~150k/s on the same machine (see BENCHMARKS.md). The server's
 * semantics are unchanged: the PubAck still means "stored", and expectations
 * (`Nats-Expected-Last-Subject-Sequence`, `Nats-Msg-Id`) are enforced by the server.
 */
import { createInbox, headers as natsHeaders } from "@nats-io/transport-node";
import type { MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { PublishInterruptedError, PublishRefusedError, PublishTimeoutError } from "./errors.ts";
import type { PubAck } from "./types.ts";

export interface PublishOptions {
  /** Deduplication id (`Nats-Msg-Id`): a second publish with it inside the window is a no-op. */
  msgId?: string;
  /** Compare-and-set on the subject: the last stored sequence for this subject (0: none yet). */
  expectedLastSubjectSequence?: number;
  /** Extra headers. */
  headers?: Record<string, string>;
}

export interface AckedPublisherOptions {
  /** How long to wait for a PubAck. Default 5000 ms. */
  timeoutMs?: number;
}

interface Pending {
  readonly subject: string;
  readonly sentAt: number;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
}

const decoder = new TextDecoder();

/** After a reconnect, publishes still unacknowledged this long are failed (retried). */
const RECONNECT_GRACE_MS = 1000;

export class AckedPublisher {
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  readonly #sweeper: NodeJS.Timeout;
  #next = 0;

  constructor(nc: NatsConnection, options: AckedPublisherOptions = {}) {
    this.#nc = nc;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#inbox = createInbox();
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const id = Number(msg.subject.slice(this.#inbox.length + 1));
        const pending = this.#pending.get(id);
        if (!pending) return; // late ack after a time-out
        this.#pending.delete(id);
        const status = msg.headers?.code ?? 0;
        if (status === 503) {
          pending.reject(new PublishRefusedError(pending.subject, 503, "no stream for subject"));
          return;
        }
        settle(pending, decoder.decode(msg.data));
      },
    });
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(250, this.#timeoutMs / 4));
    this.#sweeper.unref();
    // An ack travels on the connection its publish went out on: when that connection drops, the
    // acks still awaited can never come. Fail them now (callers retry with the same message id)
    // rather than after the time-out. Publishes made while reconnecting go out on the new
    // connection, but a server that has just restarted drops what reaches its streams before
    // JetStream is up, without an answer: whatever of those is still unacknowledged a moment
    // after the reconnect fails too, so a restart costs about a second, not the time-out.
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") this.#interrupt([...this.#pending.keys()]);
        if (s.type === "reconnect") {
          const sent = [...this.#pending.keys()];
          setTimeout(() => this.#interrupt(sent), RECONNECT_GRACE_MS).unref();
        }
      }
    })().catch(() => undefined);
  }

  #interrupt(ids: readonly number[]): void {
    for (const id of ids) {
      const pending = this.#pending.get(id);
      if (!pending) continue;
      this.#pending.delete(id);
      pending.reject(new PublishInterruptedError(pending.subject));
    }
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PubAck> {
    const id = ++this.#next;
    const hdrs = toHeaders(options);
    return new Promise<PubAck>((resolve, reject) => {
      this.#pending.set(id, { subject, sentAt: performance.now(), resolve, reject });
      try {
        this.#nc.publish(subject, data, {
          reply: `${this.#inbox}.${id}`,
          ...(hdrs ? { headers: hdrs } : {}),
        });
      } catch (err) {
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#sub.unsubscribe();
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.reject(new PublishTimeoutError(pending.subject, 0));
    }
  }

  #sweep(): void {
    const cutoff = performance.now() - this.#timeoutMs;
    // Map iterates in insertion order, which is send order: stop at the first young entry.
    for (const [id, pending] of this.#pending) {
      if (pending.sentAt > cutoff) break;
      this.#pending.delete(id);
      pending.reject(new PublishTimeoutError(pending.subject, this.#timeoutMs));
    }
  }
}

function toHeaders(options: PublishOptions): MsgHdrs | undefined {
  if (
    options.msgId === undefined &&
    options.expectedLastSubjectSequence === undefined &&
    options.headers === undefined
  ) {
    return undefined;
  }
  const h = natsHeaders();
  if (options.msgId !== undefined) h.set("Nats-Msg-Id", options.msgId);
  if (options.expectedLastSubjectSequence !== undefined) {
    h.set("Nats-Expected-Last-Subject-Sequence", String(options.expectedLastSubjectSequence));
  }
  for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
  return h;
}

function settle(pending: Pending, body: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    pending.reject(new PublishRefusedError(pending.subject, 0, `unreadable ack: ${body}`));
    return;
  }
  const ack = parsed as {
    stream?: string;
    seq?: number;
    duplicate?: boolean;
    error?: { code?: number; err_code?: number; description?: string };
  };
  if (ack.error) {
    pending.reject(
      new PublishRefusedError(
        pending.subject,
        ack.error.err_code ?? ack.error.code ?? 0,
        ack.error.description ?? "refused",
      ),
    );
    return;
  }
  if (typeof ack.stream !== "string" || typeof ack.seq !== "number") {
    pending.reject(new PublishRefusedError(pending.subject, 0, `unexpected ack: ${body}`));
    return;
  }
  pending.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
}
