/**
 * One partition held by this host: reads its commands in log order from the checkpoint, hands
 * each to its actor's mailbox, runs turns (one actor one batch at a time, many actors at once),
 * commits with the expected revision, then answers senders and publishes the outbox.
 *
 * The checkpoint is the highest sequence below which every command of the partition has been
 * committed. A host taking the partition over starts just after it; whatever it sees again is
 * skipped per actor by the actor's own `seq` (see turn.ts), so the checkpoint only needs to be
 * conservative, never exact.
 */
import type { JetStreamClient, ConsumerMessages } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { TimeoutError } from "@nats-io/transport-node";
import type { NatsConnection, Msg, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { AckedPublisher, fnv1a32, partitionOf, PublishRefusedError } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import {
  ActorId,
  ActorType,
  CommandEnvelope,
  QueryRequest,
  REPLY_HEADER,
} from "../../protocol/index.ts";
import type { QueryReply } from "../../protocol/index.ts";
import type { ActorRef, AnyActorLogic } from "../types.ts";
import type { Clock } from "./clock.ts";
import { StaleWriteError } from "./errors.ts";
import type { RuntimeMetrics } from "./metrics.ts";
import type { OutboxItem, StoredActor, StoredTimer } from "./stored.ts";
import { applyBatch, freshActor, restoreActor } from "./turn.ts";
import type { Delivery, Routing } from "./turn.ts";
import { TimerQueue } from "./timers.ts";

export interface PartitionOptions {
  /** Most commands applied to one actor before a commit. Default 64. */
  maxBatch: number;
  /** Commands read but not yet committed before reading pauses. Default 4096. */
  maxInFlight: number;
  /** An actor idle this long (ms) is passivated. Default 60 s. */
  idleMs: number;
  /** How often due reminders are looked for (ms). Default 50. */
  timerPollMs: number;
}

export interface PartitionDeps {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly topology: Topology;
  readonly actorsKv: KV;
  readonly timersKv: KV;
  readonly publisher: AckedPublisher;
  readonly logics: ReadonlyMap<string, AnyActorLogic>;
  readonly metrics: RuntimeMetrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly options: PartitionOptions;
  /**
   * The command reader stopped on its own (consumer lost for good): the host must let the
   * partition go, so that it is taken up again from its checkpoint.
   */
  readonly onFailed: (partition: number, err: unknown) => void;
}

interface Queued extends Delivery {
  readonly arrivedAt: number;
}

interface Activation {
  readonly ref: ActorRef;
  readonly key: string;
  readonly logic: AnyActorLogic;
  stored: StoredActor | null;
  state: unknown;
  revision: number;
  readonly mailbox: Queued[];
  running: boolean;
  lastUsed: number;
  /** The last commit's outbox while it is being published; the next commit waits for it. */
  flushing: Promise<void> | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A command reader silent this long (no command, no heartbeat) is taken for dead. */
const READER_STALL_MS = 6_000;

/**
 * nats-server 2.9.10, while a member of its cluster is down, places about a third of new R1
 * ephemeral consumers (ordered consumers, KV key listings) on the missing member and never
 * answers the request (measured; later servers skip offline peers). A few more attempts get past
 * it, where failing the partition start would wait for the next lease cycle each time.
 */
async function creatingConsumer<T>(create: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create();
    } catch (err) {
      if (!(err instanceof TimeoutError) || attempt >= attempts) throw err;
    }
  }
}

export class PartitionWorker {
  readonly partition: number;
  readonly #d: PartitionDeps;
  readonly #routing: Routing;
  readonly #activations = new Map<string, Activation>();
  readonly #timers: TimerQueue;
  // Sequences read from the log, in order, and which of them are done.
  readonly #seqs: number[] = [];
  #head = 0;
  readonly #done = new Set<number>();
  #checkpoint: number;
  #stopped = false;
  /** Set as soon as `stop` begins, so the reader's end is not taken for a failure. */
  #closing = false;
  #messages: ConsumerMessages | null = null;
  #readerAlive = 0;
  #readerWatch: NodeJS.Timeout | null = null;
  #reading: Promise<void> = Promise.resolve();
  #querySub: Subscription | null = null;
  #sweeper: NodeJS.Timeout | null = null;
  #timerLoop: NodeJS.Timeout | null = null;
  #capacityWaiter: (() => void) | null = null;
  #idleWaiter: (() => void) | null = null;

  constructor(partition: number, checkpoint: number, deps: PartitionDeps) {
    this.partition = partition;
    this.#checkpoint = checkpoint;
    this.#d = deps;
    const subjects = deps.topology.subjects;
    const partitions = deps.topology.partitions;
    this.#routing = {
      event: (ref, name) => subjects.event(ref, name),
      command: (ref) => subjects.command(partitionOf(ref, partitions), ref),
    };
    this.#timers = new TimerQueue();
  }

  get checkpoint(): number {
    return this.#checkpoint;
  }

  get activeActors(): number {
    return this.#activations.size;
  }

  async start(): Promise<void> {
    const { js, topology, log, options } = this.#d;
    await this.#loadTimers();
    this.#querySub = this.#d.nc.subscribe(topology.subjects.queryFilter(this.partition), {
      callback: (err, msg) => {
        if (!err) void this.#answerQuery(msg);
      },
    });
    const consumer = await creatingConsumer(() =>
      js.consumers.get(topology.streams.commands, {
        filter_subjects: topology.subjects.commandFilter(this.partition),
        ...(this.#checkpoint > 0
          ? { deliver_policy: "by_start_sequence" as const, opt_start_seq: this.#checkpoint + 1 }
          : { deliver_policy: "all" as const }),
      }),
    );
    // Small pulls keep bursts short: a burst is routed in one go before any ack is handled.
    // A server sends an idle heartbeat every second while a pull waits.
    this.#messages = await consumer.consume({
      max_messages: 256,
      expires: 5_000,
      idle_heartbeat: 1_000,
    });
    this.#watchReader(this.#messages);
    this.#reading = this.#read(this.#messages).then(
      () => {
        if (!this.#closing) this.#d.onFailed(this.partition, new Error("command reader ended"));
      },
      (err) => {
        if (this.#closing) return;
        log.error({ err, partition: this.partition }, "command reader failed");
        this.#d.onFailed(this.partition, err);
      },
    );
    this.#sweeper = setInterval(() => this.#passivate(), Math.max(1000, options.idleMs / 4));
    this.#sweeper.unref();
    this.#timerLoop = setInterval(() => void this.#fireDueTimers(), options.timerPollMs);
    this.#timerLoop.unref();
  }

  /**
   * Stops the partition. "drain": read nothing more, finish every command already read, then
   * return the final checkpoint (a graceful hand-over). "abandon": the lease is gone; stop at
   * once (any write still in flight is protected by its expected revision).
   */
  async stop(mode: "drain" | "abandon", drainTimeoutMs = 10_000): Promise<number> {
    if (this.#stopped || this.#closing) return this.#checkpoint;
    this.#closing = true;
    this.#messages?.stop();
    if (this.#readerWatch) clearInterval(this.#readerWatch);
    if (this.#sweeper) clearInterval(this.#sweeper);
    if (this.#timerLoop) clearInterval(this.#timerLoop);
    this.#querySub?.unsubscribe();
    if (mode === "drain") {
      await this.#reading;
      const deadline = Date.now() + drainTimeoutMs;
      while (this.#inFlight() > 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          this.#idleWaiter = resolve;
          setTimeout(resolve, 100);
        });
      }
    }
    this.#stopped = true;
    this.#capacityWaiter?.();
    this.#activations.clear();
    this.#d.metrics.activeActors.set(0);
    return this.#checkpoint;
  }

  #inFlight(): number {
    return this.#seqs.length - this.#head;
  }

  /**
   * The ordered consumer is an R1 ephemeral on one server. When that server dies (a member of a
   * cluster), nats.js 3.4 keeps asking for the lost consumer's info instead of recreating it,
   * until the server forgets it (5 minutes). A reader that has seen neither a command nor a
   * heartbeat for READER_STALL_MS is stopped, so the partition fails over from its checkpoint.
   */
  #watchReader(messages: ConsumerMessages): void {
    this.#readerAlive = performance.now();
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === "heartbeat") this.#readerAlive = performance.now();
      }
    })().catch(() => undefined);
    let lastTick = performance.now();
    this.#readerWatch = setInterval(() => {
      const now = performance.now();
      // A reader waiting for room (its actors busy) asks for nothing and hears nothing: not dead.
      // Nor is one whose process was busy (this tick came late, say behind a long synchronous
      // start-up): the heartbeats that came meanwhile are still queued behind this timer.
      if (this.#capacityWaiter !== null || now - lastTick > 2000) this.#readerAlive = now;
      lastTick = now;
      if (this.#closing || performance.now() - this.#readerAlive < READER_STALL_MS) return;
      this.#d.log.warn(
        { partition: this.partition, silentMs: Math.round(performance.now() - this.#readerAlive) },
        "command reader stalled (its consumer's server is gone?); failing the partition over",
      );
      if (this.#readerWatch) clearInterval(this.#readerWatch);
      messages.stop();
    }, 1000);
    this.#readerWatch.unref();
  }

  async #read(messages: ConsumerMessages): Promise<void> {
    const { options } = this.#d;
    for await (const m of messages) {
      this.#readerAlive = performance.now();
      if (this.#stopped) break;
      this.#seqs.push(m.seq);
      const replyTo = m.headers?.get(REPLY_HEADER) || undefined;
      this.#route(m.seq, m.subject, m.data, replyTo);
      if (this.#inFlight() >= options.maxInFlight) {
        await new Promise<void>((resolve) => (this.#capacityWaiter = resolve));
        this.#capacityWaiter = null;
        this.#readerAlive = performance.now();
      }
    }
  }

  #route(seq: number, subject: string, data: Uint8Array, replyTo: string | undefined): void {
    const { topology, logics } = this.#d;
    const address = topology.subjects.parseCommand(subject);
    if (
      !address ||
      !ActorType.safeParse(address.ref.type).success ||
      !ActorId.safeParse(address.ref.id).success
    ) {
      this.#deadLetter(seq, subject, data, "invalid_address", "not a valid actor address", replyTo);
      return;
    }
    const logic = logics.get(address.ref.type);
    if (!logic) {
      this.#deadLetter(
        seq,
        subject,
        data,
        "unknown_actor_type",
        `no actor type "${address.ref.type}"`,
        replyTo,
      );
      return;
    }
    let envelope: CommandEnvelope | null = null;
    let unreadable: string | undefined;
    try {
      const parsed = CommandEnvelope.safeParse(JSON.parse(decoder.decode(data)));
      if (parsed.success) envelope = parsed.data;
      else
        unreadable = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    } catch {
      unreadable = "command is not JSON";
    }
    const key = topology.subjects.actorStateKey(this.partition, address.ref);
    let act = this.#activations.get(key);
    if (!act) {
      act = {
        ref: address.ref,
        key,
        logic,
        stored: null,
        state: undefined,
        revision: 0,
        mailbox: [],
        running: false,
        lastUsed: performance.now(),
        flushing: null,
      };
      this.#activations.set(key, act);
      this.#d.metrics.activeActors.inc();
    }
    act.mailbox.push({
      seq,
      envelope,
      ...(unreadable !== undefined ? { unreadable } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
      arrivedAt: performance.now(),
    });
    if (!act.running) void this.#run(act);
  }

  #markDone(seq: number): void {
    this.#done.add(seq);
    while (this.#head < this.#seqs.length && this.#done.has(this.#seqs[this.#head]!)) {
      const s = this.#seqs[this.#head]!;
      this.#done.delete(s);
      this.#checkpoint = s;
      this.#head++;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#seqs.length) {
      this.#seqs.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#capacityWaiter && this.#inFlight() < this.#d.options.maxInFlight / 2) {
      this.#capacityWaiter();
    }
    if (this.#idleWaiter && this.#inFlight() === 0) this.#idleWaiter();
  }

  async #run(act: Activation): Promise<void> {
    const { log, metrics, options } = this.#d;
    act.running = true;
    let failures = 0;
    try {
      while (act.mailbox.length > 0 && !this.#stopped) {
        try {
          if (!act.stored) await this.#activate(act);
          const batch = act.mailbox.slice(0, options.maxBatch);
          const current = { stored: act.stored!, state: act.state };
          const result = applyBatch(act.logic, act.ref, current, batch, this.#routing);
          if (result.changed) {
            if (this.#stopped) return;
            // Index new reminders first: an index entry without a commit fires a stale reminder
            // that the actor ignores; a commit without an index entry would never fire.
            if (result.scheduled.size > 0) {
              await Promise.all(
                [...result.scheduled].map(([name, timer]) =>
                  this.#indexTimer(act.ref, name, timer),
                ),
              );
            }
            // The record about to be written replaces the previous outbox: it must be out.
            if (act.flushing) await act.flushing;
            try {
              act.revision = await this.#commit(act.key, result.stored, act.revision);
            } catch (err) {
              if (err instanceof StaleWriteError) {
                metrics.conflicts.inc({ type: act.ref.type });
                log.warn({ actor: act.key, partition: this.partition }, "stale state; reloading");
                act.stored = null; // drop the activation and reload: never patch
                continue;
              }
              throw err;
            }
            act.stored = result.stored;
            act.state = result.state;
            for (const [name, timer] of result.scheduled) {
              this.#timers.schedule(act.ref, name, timer);
            }
            for (const name of result.cleared) this.#unindexTimer(act.ref, name);
          }
          act.mailbox.splice(0, batch.length);
          // Committed: the senders may know. The checkpoint passes these commands only once
          // their outbox is stored, so a takeover re-reads them and re-publishes it.
          const now = performance.now();
          const seqs: number[] = [];
          for (const { delivery, outcome } of result.applied) {
            if (delivery.replyTo && outcome) {
              this.#d.nc.publish(delivery.replyTo, encoder.encode(JSON.stringify(outcome)));
            }
            metrics.turnSeconds.observe(
              { type: act.ref.type },
              (now - (delivery as Queued).arrivedAt) / 1000,
            );
            seqs.push(delivery.seq);
          }
          if (result.changed && result.stored.outbox.length > 0) {
            act.flushing = this.#flush(act, result.stored.outbox, seqs);
          } else {
            for (const seq of seqs) this.#markDone(seq);
          }
          if (result.accepted)
            metrics.commands.inc({ type: act.ref.type, outcome: "accepted" }, result.accepted);
          if (result.refused)
            metrics.commands.inc({ type: act.ref.type, outcome: "refused" }, result.refused);
          if (result.redelivered)
            metrics.redeliveries.inc({ type: act.ref.type }, result.redelivered);
          failures = 0;
        } catch (err) {
          // Transient (NATS unreachable, time-out): keep the mailbox, back off, try again.
          failures++;
          log.warn({ err, actor: act.key, failures }, "turn failed; retrying");
          act.stored = null;
          await sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)));
        }
      }
    } finally {
      act.running = false;
      act.lastUsed = performance.now();
    }
  }

  /** Publishes a committed outbox until it is stored (or the partition stops), then marks its
   * commands done. Never rejects. */
  async #flush(act: Activation, outbox: readonly OutboxItem[], seqs: number[]): Promise<void> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      try {
        await this.#publishOutbox(outbox);
        for (const seq of seqs) this.#markDone(seq);
        break;
      } catch (err) {
        this.#d.log.warn({ err, actor: act.key, attempt }, "outbox not stored; retrying");
        await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)));
      }
    }
    act.flushing = null;
  }

  async #activate(act: Activation): Promise<void> {
    const entry = await this.#d.actorsKv.get(act.key);
    if (!entry || entry.operation !== "PUT") {
      const fresh = freshActor(act.logic, act.ref);
      act.stored = fresh.stored;
      act.state = fresh.state;
      act.revision = entry?.revision ?? 0;
      return;
    }
    const stored = entry.json<StoredActor>();
    act.state = restoreActor(act.logic, stored);
    act.revision = entry.revision;
    // The previous holder may have died between its commit and its outbox: publish it again,
    // unless the checkpoint has passed the command that produced it (the checkpoint passes a
    // command only once its outbox is stored). An actor woken after passivation must not: its
    // last outbox went out long ago, beyond the duplicate window, and its commands would be
    // stored, and applied, a second time.
    if (stored.outbox.length > 0 && stored.seq > this.#checkpoint) {
      await this.#publishOutbox(stored.outbox);
    }
    act.stored = stored;
  }

  async #commit(key: string, stored: StoredActor, revision: number): Promise<number> {
    try {
      const ack = await this.#d.publisher.publish(
        `$KV.${this.#d.topology.buckets.actors}.${key}`,
        encoder.encode(JSON.stringify(stored)),
        { expectedLastSubjectSequence: revision },
      );
      return ack.seq;
    } catch (err) {
      if (err instanceof PublishRefusedError && err.isWrongLastSequence) {
        throw new StaleWriteError(key, revision, { cause: err });
      }
      throw err;
    }
  }

  async #publishOutbox(outbox: readonly OutboxItem[]): Promise<void> {
    if (outbox.length === 0) return;
    await Promise.all(
      outbox.map((item) =>
        item.kind === "event"
          ? this.#d.publisher.publish(item.subject, encoder.encode(JSON.stringify(item.event)), {
              msgId: item.event.id,
            })
          : this.#d.publisher.publish(item.subject, encoder.encode(JSON.stringify(item.command)), {
              msgId: item.command.id,
            }),
      ),
    );
  }

  #deadLetter(
    seq: number,
    subject: string,
    data: Uint8Array,
    code: string,
    message: string,
    replyTo: string | undefined,
  ): void {
    const { metrics, log, publisher, topology, nc } = this.#d;
    metrics.deadLetters.inc({ reason: code });
    log.warn({ seq, subject, code }, "dead letter: %s", message);
    const record = {
      seq,
      subject,
      code,
      message,
      at: this.#d.clock.now(),
      payload: decoder.decode(data.subarray(0, 4096)),
    };
    void (async () => {
      // Keep trying: the checkpoint cannot pass this sequence until the dead letter is recorded.
      for (let attempt = 0; !this.#stopped; attempt++) {
        try {
          await publisher.publish(
            topology.subjects.dlq(this.partition),
            encoder.encode(JSON.stringify(record)),
            { msgId: `dlq.${topology.streams.commands}.${seq}` },
          );
          break;
        } catch (err) {
          log.error({ err, seq }, "could not record a dead letter; retrying");
          await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)));
        }
      }
      if (this.#stopped) return;
      if (replyTo) {
        const outcome = { ok: false, commandId: `seq-${seq}`, seq, refusal: { code, message } };
        nc.publish(replyTo, encoder.encode(JSON.stringify(outcome)));
      }
      this.#markDone(seq);
    })();
  }

  // --- reminders -------------------------------------------------------------------------

  async #loadTimers(): Promise<void> {
    const kv = this.#d.timersKv;
    const keys = await creatingConsumer(async () => {
      const listed: string[] = [];
      for await (const key of await kv.keys(
        this.#d.topology.subjects.timerPartitionFilter(this.partition),
      )) {
        listed.push(key);
      }
      return listed;
    });
    for (const key of keys) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== "PUT") continue;
      const indexed = entry.json<{ ref: ActorRef; name: string; timer: StoredTimer }>();
      this.#timers.schedule(indexed.ref, indexed.name, indexed.timer);
    }
  }

  async #indexTimer(ref: ActorRef, name: string, timer: StoredTimer): Promise<void> {
    const key = this.#d.topology.subjects.timerKey(this.partition, ref, name);
    await this.#d.publisher.publish(
      `$KV.${this.#d.topology.buckets.timers}.${key}`,
      encoder.encode(JSON.stringify({ ref, name, timer })),
    );
  }

  #unindexTimer(ref: ActorRef, name: string): void {
    this.#timers.cancel(ref, name);
    const key = this.#d.topology.subjects.timerKey(this.partition, ref, name);
    // Losing this delete is harmless: the stale entry fires a reminder the actor ignores.
    this.#d.timersKv.delete(key).catch((err) => {
      this.#d.log.warn({ err, key }, "could not unindex a reminder");
    });
  }

  async #fireDueTimers(): Promise<void> {
    if (this.#stopped) return;
    const due = this.#timers.takeDue(this.#d.clock.now());
    if (due.length === 0) return;
    const { topology, publisher, metrics, log } = this.#d;
    await Promise.all(
      due.map(async ({ ref, name, timer }) => {
        const envelope: CommandEnvelope = {
          id: `timer.${ref.type}.${ref.id}.${timer.sid}.${fnv1a32(name).toString(36)}`,
          at: timer.at,
          origin: "timer",
          timer: { name, sid: timer.sid },
          msg: timer.msg,
        };
        try {
          await publisher.publish(
            topology.subjects.command(this.partition, ref),
            encoder.encode(JSON.stringify(envelope)),
            { msgId: envelope.id },
          );
          metrics.timersFired.inc();
        } catch (err) {
          log.warn(
            { err, actor: `${ref.type}/${ref.id}`, timer: name },
            "reminder not sent; retrying",
          );
          this.#timers.schedule(ref, name, timer);
        }
      }),
    );
  }

  // --- queries ---------------------------------------------------------------------------

  async #answerQuery(msg: Msg): Promise<void> {
    const reply = (body: QueryReply) => msg.respond(encoder.encode(JSON.stringify(body)));
    try {
      const address = this.#d.topology.subjects.parseCommand(
        msg.subject.replace(/(^|\.)qry\./, "$1cmd."),
      );
      const logic = address ? this.#d.logics.get(address.ref.type) : undefined;
      if (!address || !logic) {
        reply({ status: "error", refusal: { code: "unknown_actor_type", message: msg.subject } });
        return;
      }
      const parsed = QueryRequest.safeParse(JSON.parse(decoder.decode(msg.data)));
      if (!parsed.success) {
        reply({
          status: "error",
          refusal: { code: "invalid_query", message: parsed.error.message },
        });
        return;
      }
      const key = this.#d.topology.subjects.actorStateKey(this.partition, address.ref);
      const act = this.#activations.get(key);
      let stored = act?.stored ?? null;
      let state = act?.state;
      if (!stored) {
        const entry = await this.#d.actorsKv.get(key);
        if (entry && entry.operation === "PUT") {
          stored = entry.json<StoredActor>();
          state = restoreActor(logic, stored);
        } else {
          const fresh = freshActor(logic, address.ref);
          stored = fresh.stored;
          state = fresh.state;
        }
      }
      if (parsed.data.kind === "state") {
        reply({ status: "state", seq: stored.seq, view: logic.view ? logic.view(state) : state });
        return;
      }
      const { commandId } = parsed.data;
      const outcome = stored.recent.find((o) => o.commandId === commandId);
      if (outcome) reply({ status: "outcome", outcome });
      else if (act?.mailbox.some((d) => d.envelope?.id === commandId)) reply({ status: "pending" });
      else reply({ status: "unknown" });
    } catch (err) {
      this.#d.log.warn({ err, subject: msg.subject }, "query failed");
      reply({ status: "error", refusal: { code: "internal_error", message: String(err) } });
    }
  }

  #passivate(): void {
    const cutoff = performance.now() - this.#d.options.idleMs;
    for (const [key, act] of this.#activations) {
      if (!act.running && !act.flushing && act.mailbox.length === 0 && act.lastUsed < cutoff) {
        this.#activations.delete(key);
        this.#d.metrics.activeActors.dec();
      }
    }
  }
}
