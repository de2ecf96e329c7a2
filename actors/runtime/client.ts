/**
 * Sending commands to actors and asking them questions, from any process (gateway, simulator,
 * tests, other services). A command is acknowledged once JetStream has stored it: from then on it
 * will be applied, whatever happens to the hosts.
 */
import { createInbox, nuid } from "@nats-io/transport-node";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  AckedPublisher,
  partitionOf,
  PublishRefusedError,
  JS_MESSAGE_TOO_LARGE,
} from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import {
  ActorRefSchema,
  CommandEnvelope,
  Outcome,
  QueryReply,
  REPLY_HEADER,
} from "../../protocol/index.ts";
import type { QueryRequest } from "../../protocol/index.ts";
import type { ActorRef, Principal } from "../types.ts";
import { systemClock } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { ActorTimeoutError, CommandRejectedError } from "./errors.ts";

export interface SendOptions {
  /** The command id: the deduplication key. Give the same id when retrying. Default: a nuid. */
  id?: string;
  by?: Principal;
  /** The command's time; default the client's clock. */
  at?: number;
}

export interface Sent {
  readonly commandId: string;
  /** The command's sequence in the log. */
  readonly seq: number;
  /** True when this id had been sent before: nothing new was stored. */
  readonly duplicate: boolean;
}

export interface ActorClientOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly clock?: Clock;
  /** How long `call` waits for an outcome (ms). Default 5000. */
  readonly callTimeoutMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ActorClient {
  readonly #nc: NatsConnection;
  readonly #topology: Topology;
  readonly #clock: Clock;
  readonly #publisher: AckedPublisher;
  readonly #timeoutMs: number;
  readonly #inbox = createInbox();
  readonly #waiting = new Map<string, (outcome: Outcome | null) => void>();
  /**
   * Deadlines of waiting calls, one queue per time-out value (so each queue is in deadline
   * order), swept by one timer rather than a timer per call.
   */
  readonly #deadlines = new Map<number, { tokens: string[]; at: number[]; head: number }>();
  #sweeper: NodeJS.Timeout | null = null;
  readonly #sub: Subscription;

  constructor(options: ActorClientOptions) {
    this.#nc = options.nc;
    this.#topology = options.topology;
    this.#clock = options.clock ?? systemClock;
    this.#timeoutMs = options.callTimeoutMs ?? 5000;
    this.#publisher = new AckedPublisher(options.nc);
    this.#sub = options.nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(this.#inbox.length + 1);
        const waiter = this.#waiting.get(token);
        if (!waiter) return;
        const parsed = Outcome.safeParse(JSON.parse(decoder.decode(msg.data)));
        if (parsed.success) {
          this.#waiting.delete(token);
          waiter(parsed.data);
        }
      },
    });
  }

  /** Stores a command in the log. Resolves when it is durable; it is applied later. */
  send(
    to: ActorRef,
    msg: { type: string } & Record<string, unknown>,
    options: SendOptions = {},
  ): Promise<Sent> {
    return this.#send(to, msg, options, undefined);
  }

  /** Sends a command and waits for its outcome (accepted with events, or refused with a reason). */
  async call(
    to: ActorRef,
    msg: { type: string } & Record<string, unknown>,
    options: SendOptions & { timeoutMs?: number } = {},
  ): Promise<Outcome> {
    const token = nuid.next();
    const outcome = new Promise<Outcome | null>((resolve) => this.#waiting.set(token, resolve));
    let sent: Sent;
    try {
      sent = await this.#send(to, msg, options, `${this.#inbox}.${token}`);
    } catch (err) {
      this.#waiting.delete(token);
      throw err;
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const first = sent.duplicate ? null : await this.#expire(token, outcome, timeoutMs);
    this.#waiting.delete(token);
    if (first) return first;
    // A duplicate, or the reply was lost (the host died after committing): ask the actor.
    return this.#awaitOutcome(to, sent.commandId, timeoutMs);
  }

  /** The actor's current view and the sequence of the last command applied to it. */
  async state<V = unknown>(
    to: ActorRef,
    timeoutMs = this.#timeoutMs,
  ): Promise<{ seq: number; view: V }> {
    const reply = await this.#query(to, { kind: "state" }, timeoutMs);
    if (reply.status !== "state") throw new ActorTimeoutError(`unexpected reply ${reply.status}`);
    return { seq: reply.seq, view: reply.view as V };
  }

  /** The outcome of a command if the actor has applied it, else null. */
  async outcome(
    to: ActorRef,
    commandId: string,
    timeoutMs = this.#timeoutMs,
  ): Promise<Outcome | null> {
    const reply = await this.#query(to, { kind: "outcome", commandId }, timeoutMs);
    return reply.status === "outcome" ? reply.outcome : null;
  }

  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const resolve of this.#waiting.values()) resolve(null);
    this.#waiting.clear();
    this.#sub.unsubscribe();
    this.#publisher.close();
  }

  /** Resolves with the outcome, or null once `timeoutMs` has passed. */
  #expire(
    token: string,
    outcome: Promise<Outcome | null>,
    timeoutMs: number,
  ): Promise<Outcome | null> {
    let queue = this.#deadlines.get(timeoutMs);
    if (!queue) {
      queue = { tokens: [], at: [], head: 0 };
      this.#deadlines.set(timeoutMs, queue);
    }
    queue.tokens.push(token);
    queue.at.push(performance.now() + timeoutMs);
    if (!this.#sweeper) {
      this.#sweeper = setInterval(() => this.#sweep(), 50);
      this.#sweeper.unref();
    }
    return outcome;
  }

  #sweep(): void {
    const now = performance.now();
    for (const queue of this.#deadlines.values()) {
      while (queue.head < queue.at.length && queue.at[queue.head]! <= now) {
        const token = queue.tokens[queue.head++]!;
        const waiter = this.#waiting.get(token);
        this.#waiting.delete(token);
        waiter?.(null);
      }
      if (queue.head > 1024 && queue.head * 2 > queue.at.length) {
        queue.tokens.splice(0, queue.head);
        queue.at.splice(0, queue.head);
        queue.head = 0;
      }
    }
  }

  async #send(
    to: ActorRef,
    msg: { type: string } & Record<string, unknown>,
    options: SendOptions,
    replyTo: string | undefined,
  ): Promise<Sent> {
    const envelope = CommandEnvelope.safeParse({
      id: options.id ?? nuid.next(),
      at: options.at ?? this.#clock.now(),
      origin: "client",
      ...(options.by ? { by: options.by } : {}),
      msg,
    });
    const ref = ActorRefSchema.safeParse(to);
    if (!envelope.success || !ref.success) {
      const issues = [...(envelope.error?.issues ?? []), ...(ref.error?.issues ?? [])];
      throw new CommandRejectedError(
        "invalid_command",
        issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    }
    const subject = this.#topology.subjects.command(partitionOf(to, this.#topology.partitions), to);
    try {
      const ack = await this.#publisher.publish(
        subject,
        encoder.encode(JSON.stringify(envelope.data)),
        {
          msgId: envelope.data.id,
          ...(replyTo ? { headers: { [REPLY_HEADER]: replyTo } } : {}),
        },
      );
      return { commandId: envelope.data.id, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      if (err instanceof PublishRefusedError) {
        if (err.errCode === JS_MESSAGE_TOO_LARGE) {
          throw new CommandRejectedError("too_large", err.description, { cause: err });
        }
        throw new CommandRejectedError(
          err.errCode === 503 ? "no_stream" : "refused",
          err.description,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  async #awaitOutcome(to: ActorRef, commandId: string, timeoutMs: number): Promise<Outcome> {
    const deadline = performance.now() + timeoutMs;
    for (let wait = 20; performance.now() < deadline; wait = Math.min(wait * 2, 500)) {
      try {
        const outcome = await this.outcome(
          to,
          commandId,
          Math.max(100, deadline - performance.now()),
        );
        if (outcome) return outcome;
      } catch (err) {
        if (!(err instanceof ActorTimeoutError)) throw err;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
    throw new ActorTimeoutError(
      `no outcome for ${commandId} within ${timeoutMs} ms (it is in the log)`,
    );
  }

  async #query(to: ActorRef, request: QueryRequest, timeoutMs: number): Promise<QueryReply> {
    const subject = this.#topology.subjects.query(partitionOf(to, this.#topology.partitions), to);
    const deadline = performance.now() + timeoutMs;
    // No responder while a partition changes hands: try again until the deadline.
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      try {
        const msg = await this.#nc.request(subject, encoder.encode(JSON.stringify(request)), {
          timeout: Math.max(50, Math.min(2000, deadline - performance.now())),
        });
        return QueryReply.parse(JSON.parse(decoder.decode(msg.data)));
      } catch (err) {
        if (performance.now() + wait >= deadline) {
          throw new ActorTimeoutError(
            `no answer from ${to.type}/${to.id}: ${(err as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}
