/**
 * The webhook service: follows order events on the EVT stream with a durable pull consumer, and
 * POSTs each status change to its store's endpoint, signed, retried, in order per endpoint.
 *
 * Durability: an event is acknowledged only once its delivery succeeded or was given up into a
 * dead letter. Until then its message stays pending (kept alive with `working()`), so a crash or
 * restart redelivers it and the durable consumer resumes from there. Every event keeps its
 * delivery id across redeliveries and retries (the event id), so receivers drop repeats.
 *
 * Ordering: one queue per endpoint URL, delivered one at a time in stream order; a slow or
 * failing endpoint holds back only its own events. Run one service per deployment: two processes
 * pulling from the same consumer would split an endpoint's events between them.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { OrderView } from "../../actors/index.ts";
import { EventEnvelope } from "../../protocol/index.ts";
import { deadLetterBucket, kvDeadLetters } from "./dead-letters.ts";
import { deliverWebhook, retryPolicy, sleep } from "./deliver.ts";
import type { DeliveryDeps } from "./deliver.ts";
import { definiteStatus, statusFromView, WEBHOOK_EVENTS, webhookPayload } from "./payload.ts";
import type {
  RetryPolicy,
  WebhookDeadLetters,
  WebhookEndpoint,
  WebhookPayload,
  WebhookServiceOptions,
} from "./types.ts";

const decoder = new TextDecoder();
/** Orders whose store is remembered (the `created` event names it; later ones do not). */
const STORE_CACHE_SIZE = 50_000;
/** How often an order's state is asked for before the event is put back for later. */
const LOOKUP_TRIES = 5;

interface Pending {
  msg: JsMsg;
  readonly payload: WebhookPayload;
  readonly endpoint: WebhookEndpoint;
}

export interface WebhookStats {
  /** Deliveries that got a 2xx. */
  readonly delivered: number;
  /** Deliveries given up into a dead letter. */
  readonly deadLettered: number;
  /** Events waiting or being delivered. */
  readonly pending: number;
}

export class WebhookService {
  readonly #o: WebhookServiceOptions;
  readonly #log: Logger;
  readonly #policy: RetryPolicy;
  readonly #deps: DeliveryDeps;
  readonly #deadLetters: WebhookDeadLetters;
  readonly #consumerName: string;
  readonly #ackWaitMs: number;
  readonly #stores = new Map<string, string>();
  /** By stream sequence: each event once, however often it is redelivered. */
  readonly #pending = new Map<number, Pending>();
  readonly #queues = new Map<string, number[]>();
  readonly #workers = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  #messages: ConsumerMessages | null = null;
  #reader: Promise<void> | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #delivered = 0;
  #deadLettered = 0;

  constructor(options: WebhookServiceOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "webhooks" });
    this.#policy = retryPolicy(options.retry);
    this.#deps = {
      fetch: options.fetch ?? fetch,
      clock: options.clock ?? Date.now,
      random: options.random ?? Math.random,
      sleep: options.sleep ?? sleep,
    };
    this.#deadLetters =
      options.deadLetters ??
      kvDeadLetters(
        options.nc,
        deadLetterBucket(options.topology),
        options.topology.options.replicas,
      );
    this.#consumerName = options.consumerName ?? "webhooks";
    this.#ackWaitMs = options.ackWaitMs ?? 60_000;
    for (const [storeId, endpoint] of options.endpoints) {
      if (!/^https?:\/\//.test(endpoint.url)) {
        throw new TypeError(`webhook URL of store ${storeId} must be http(s): ${endpoint.url}`);
      }
      if (endpoint.secret.length < 16) {
        throw new TypeError(`webhook secret of store ${storeId} must be at least 16 characters`);
      }
    }
  }

  stats(): WebhookStats {
    return {
      delivered: this.#delivered,
      deadLettered: this.#deadLettered,
      pending: this.#pending.size,
    };
  }

  /** Creates the durable consumer if missing and starts delivering. */
  async start(): Promise<void> {
    if (this.#reader) throw new Error("the webhook service is already started");
    const { nc, topology } = this.#o;
    const stream = topology.streams.events;
    const jsm = await jetstreamManager(nc);
    const existing = await jsm.consumers.info(stream, this.#consumerName).catch(() => null);
    if (!existing) {
      await jsm.consumers.add(stream, {
        durable_name: this.#consumerName,
        description: "xianda: order events to the shops' webhooks",
        ack_policy: AckPolicy.Explicit,
        deliver_policy: this.#o.startAt === "all" ? DeliverPolicy.All : DeliverPolicy.New,
        filter_subject: topology.subjects.eventFilter("order"),
        ack_wait: nanos(this.#ackWaitMs),
        max_ack_pending: 10_000,
        max_deliver: -1,
      });
    }
    const consumer = await jetstream(nc).consumers.get(stream, this.#consumerName);
    const messages = await consumer.consume({ max_messages: 256 });
    this.#messages = messages;
    this.#heartbeat = setInterval(
      () => {
        for (const p of this.#pending.values()) p.msg.working();
      },
      Math.max(1_000, Math.floor(this.#ackWaitMs / 3)),
    );
    this.#heartbeat.unref();
    this.#reader = (async () => {
      for await (const msg of messages) {
        if (this.#abort.signal.aborted) break;
        try {
          await this.#accept(msg);
        } catch (err) {
          // Not delivered, not acknowledged: it comes back after a pause.
          this.#log.warn({ err, seq: msg.seq }, "order event not handled; retried later");
          msg.nak(5_000);
        }
      }
    })().catch((err: unknown) => this.#log.error({ err }, "webhook reader ended"));
    this.#log.info(
      { consumer: this.#consumerName, stores: this.#o.endpoints.size },
      "webhooks started",
    );
  }

  /** Stops reading; deliveries in progress end, and what was not delivered is put back at once. */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await this.#messages?.close().catch(() => {});
    await this.#reader;
    await Promise.all(this.#workers.values());
    for (const p of this.#pending.values()) p.msg.nak();
    this.#pending.clear();
    this.#queues.clear();
  }

  async #accept(msg: JsMsg): Promise<void> {
    const again = this.#pending.get(msg.seq);
    if (again) {
      // Redelivered while still here: answer the newest delivery.
      again.msg = msg;
      return;
    }
    const parsed = EventEnvelope.safeParse(JSON.parse(decoder.decode(msg.data)));
    if (!parsed.success) {
      this.#log.error({ seq: msg.seq, subject: msg.subject }, "unreadable order event dropped");
      msg.term("unreadable event");
      return;
    }
    const event = parsed.data;
    if (!WEBHOOK_EVENTS.has(event.name)) return msg.ack();
    const orderId = event.actor.id;
    const data = (event.data ?? {}) as { storeId?: unknown };
    let storeId =
      event.name === "created" && typeof data.storeId === "string"
        ? data.storeId
        : (this.#stores.get(orderId) ?? null);
    if (storeId !== null && !this.#o.endpoints.has(storeId)) return msg.ack();
    let status = definiteStatus(event);
    if (storeId === null || status === null) {
      const { seq, view } = await this.#lookup(orderId, msg);
      if (view.status === "none") {
        this.#log.warn({ orderId, event: event.id }, "event of an order without state; skipped");
        return msg.ack();
      }
      storeId = view.storeId;
      status ??= statusFromView(event, seq, view);
    }
    this.#remember(orderId, storeId);
    const endpoint = this.#o.endpoints.get(storeId);
    if (!endpoint) return msg.ack();
    this.#pending.set(msg.seq, { msg, endpoint, payload: webhookPayload(event, storeId, status) });
    let queue = this.#queues.get(endpoint.url);
    if (!queue) {
      queue = [];
      this.#queues.set(endpoint.url, queue);
    }
    queue.push(msg.seq);
    if (!this.#workers.has(endpoint.url)) {
      // Registered before it runs: `#drain` removes it, synchronously with its last check.
      let finished!: () => void;
      this.#workers.set(endpoint.url, new Promise<void>((resolve) => (finished = resolve)));
      void this.#drain(endpoint.url, queue)
        .catch((err: unknown) =>
          this.#log.error({ err, url: endpoint.url }, "webhook worker failed"),
        )
        .finally(finished);
    }
  }

  #remember(orderId: string, storeId: string): void {
    if (this.#stores.has(orderId)) return;
    if (this.#stores.size >= STORE_CACHE_SIZE) {
      const oldest = this.#stores.keys().next().value;
      if (oldest !== undefined) this.#stores.delete(oldest);
    }
    this.#stores.set(orderId, storeId);
  }

  async #lookup(orderId: string, msg: JsMsg): Promise<{ seq: number; view: OrderView }> {
    let last: unknown;
    for (let attempt = 1; attempt <= LOOKUP_TRIES; attempt++) {
      try {
        return await this.#o.actors.state<OrderView>({ type: "order", id: orderId }, 2_000);
      } catch (err) {
        last = err;
        msg.working();
        await this.#deps.sleep(200 * attempt, this.#abort.signal);
      }
    }
    throw new Error(`order ${orderId} could not be asked`, { cause: last });
  }

  /** Delivers an endpoint's events one by one, in the order they came. */
  async #drain(url: string, queue: number[]): Promise<void> {
    const signal = this.#abort.signal;
    while (queue.length > 0 && !signal.aborted) {
      const seq = queue[0]!;
      const pending = this.#pending.get(seq);
      if (pending) {
        const { payload, endpoint } = pending;
        const result = await deliverWebhook(endpoint, payload, this.#policy, this.#deps, signal);
        if (signal.aborted) break;
        if (result.ok) {
          this.#delivered++;
          this.#log.debug({ id: payload.id, url, attempts: result.attempts }, "webhook delivered");
        } else {
          try {
            await this.#deadLetters.record({
              deliveryId: payload.id,
              storeId: payload.storeId,
              url,
              payload,
              attempts: result.attempts,
              lastError: result.lastError,
              at: this.#deps.clock(),
            });
          } catch (err) {
            // Not recorded: keep the event and try it all again later rather than lose it.
            this.#log.error({ err, id: payload.id }, "dead letter not recorded; event put back");
            pending.msg.nak(30_000);
            this.#pending.delete(seq);
            queue.shift();
            continue;
          }
          this.#deadLettered++;
          this.#log.warn(
            { id: payload.id, url, attempts: result.attempts, lastError: result.lastError },
            "webhook given up: dead letter recorded",
          );
        }
        pending.msg.ack();
        this.#pending.delete(seq);
      }
      queue.shift();
    }
    if (queue.length === 0) this.#queues.delete(url);
    this.#workers.delete(url);
  }
}
