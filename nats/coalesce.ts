/**
 * Core publishes gathered over one turn of the event loop and handed to the client together.
 *
 * nats.js flushes its outbound buffer in a microtask after a publish, so a publish made from
 * each websocket message (each its own task) costs one socket write: at tens of thousands of
 * courier fixes per second the writes dominate the gateway's CPU. Queuing them and publishing
 * the batch from `setImmediate` puts them in one buffer and one write, for at most one loop turn
 * of delay.
 */
import type { NatsConnection } from "@nats-io/transport-node";

export class CoalescingPublisher {
  readonly #nc: NatsConnection;
  #subjects: string[] = [];
  #payloads: Uint8Array[] = [];
  #scheduled = false;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  publish(subject: string, data: Uint8Array): void {
    this.#subjects.push(subject);
    this.#payloads.push(data);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands everything queued to the client now. */
  flush(): void {
    this.#scheduled = false;
    const subjects = this.#subjects;
    const payloads = this.#payloads;
    this.#subjects = [];
    this.#payloads = [];
    for (let i = 0; i < subjects.length; i++) this.#nc.publish(subjects[i]!, payloads[i]!);
  }
}

/**
 * Values gathered over one turn of the event loop and published as one JSON array on one
 * subject (in chunks of `maxPerMessage`), for consumers that take them in bulk.
 */
export class BatchingPublisher<T> {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #max: number;
  #items: T[] = [];

  constructor(nc: NatsConnection, subject: string, maxPerMessage = 500) {
    this.#nc = nc;
    this.#subject = subject;
    this.#max = maxPerMessage;
  }

  publish(item: T): void {
    if (this.#items.length === 0) setImmediate(() => this.flush());
    this.#items.push(item);
  }

  flush(): void {
    const items = this.#items;
    this.#items = [];
    for (let i = 0; i < items.length; i += this.#max) {
      this.#nc.publish(
        this.#subject,
        encoder.encode(JSON.stringify(items.slice(i, i + this.#max))),
      );
    }
  }
}

const encoder = new TextEncoder();
