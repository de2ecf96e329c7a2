import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { ActorClient } from "../../actors/index.ts";
import type { Topology } from "../../nats/index.ts";

/** Where a store's back end takes its webhooks, and the secret they are signed with. */
export interface WebhookEndpoint {
  /** http(s) URL the shop's back end listens at. */
  readonly url: string;
  /** HMAC-SHA256 key shared with the shop; at least 16 characters. */
  readonly secret: string;
}

/** What a shop's back end receives: one order event, with the order's status after it. */
export interface WebhookPayload {
  /** The event's id (`order.<orderId>.<seq>.<i>`): also `X-Xianda-Delivery`, the same on every retry. */
  readonly id: string;
  /** `order.<event name>`: `order.created`, `order.accepted`, `order.picked_up`, ... */
  readonly type: string;
  readonly orderId: string;
  readonly storeId: string;
  /** The order's status once the event happened (`created`, `accepted`, ..., `delivered`). */
  readonly status: string;
  /** When it happened, ms since the epoch. */
  readonly at: number;
  /** The event's own fields. */
  readonly data: unknown;
}

export interface RetryPolicy {
  /** Attempts before giving up into a dead letter. Default 8. */
  maxAttempts: number;
  /** Wait after the first failure; doubles after each. Default 1 s. */
  baseDelayMs: number;
  /** The longest wait between attempts. Default 5 minutes. */
  maxDelayMs: number;
  /** How long one attempt may take. Default 10 s. */
  timeoutMs: number;
}

/** A delivery given up on: kept for someone to look at and replay. */
export interface DeadLetter {
  readonly deliveryId: string;
  readonly storeId: string;
  readonly url: string;
  readonly payload: WebhookPayload;
  readonly attempts: number;
  readonly lastError: string;
  /** When it was given up on, ms since the epoch. */
  readonly at: number;
}

export interface WebhookDeadLetters {
  record(letter: DeadLetter): Promise<void>;
  list(): Promise<DeadLetter[]>;
}

export interface WebhookServiceOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  /** For the order's status and store when an event does not carry them. */
  readonly actors: ActorClient;
  /** Store id → its endpoint. A store without one gets no webhooks. */
  readonly endpoints: ReadonlyMap<string, WebhookEndpoint>;
  readonly log: Logger;
  /** Default: a KV bucket (`kvDeadLetters`) named after the topology's namespace. */
  readonly deadLetters?: WebhookDeadLetters;
  readonly retry?: Partial<RetryPolicy>;
  /** The durable consumer's name on the EVT stream. Default "webhooks". */
  readonly consumerName?: string;
  /**
   * Where a new durable consumer starts: "new" events only (default), or "all" still in the
   * stream. An existing consumer resumes where it stopped either way.
   */
  readonly startAt?: "new" | "all";
  /** The consumer's ack wait; in-flight deliveries are kept alive with `working()`. Default 60 s. */
  readonly ackWaitMs?: number;
  /** ms since the epoch (signature times). Default Date.now. */
  readonly clock?: () => number;
  readonly fetch?: typeof fetch;
  /** In [0, 1), for jitter. Default Math.random. */
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}
