/**
 * A pure, in-memory world of actors on a manual clock, for cross-actor tests and (later) replay
 * on a simulated clock. It applies commands with the same code the hosts run (`applyBatch`, one
 * delivery per command), routes each turn's outbound commands to their targets breadth-first and
 * in order, and fires reminders when the clock is advanced past them, with the envelope the
 * partition's timer loop publishes.
 *
 * What it does not model: partitions, batching several queued commands into one turn, message
 * loss, and reordering between different senders. Delivery here is one deterministic
 * interleaving (breadth-first) of what production may interleave otherwise; scenario tests
 * should not rely on more than "each sender's commands arrive in the order it sent them".
 *
 * Differences from a host that make the world stricter, on purpose:
 * - every envelope is round-tripped through JSON and `CommandEnvelope` (as the wire does), and
 *   every committed state through `persist` → JSON → `restore` (a host only restores on
 *   activation), so a state or message that does not survive the wire fails here first;
 * - a refused cascaded command is recorded in `refusals` (a host only counts it in a metric).
 */
import { fnv1a32 } from "../../nats/index.ts";
import { CommandEnvelope } from "../../protocol/index.ts";
import type { EventEnvelope, Outcome } from "../../protocol/index.ts";
import { applyBatch, freshActor, restoreActor } from "../runtime/turn.ts";
import type { BatchResult, Delivery, Routing } from "../runtime/turn.ts";
import type { StoredActor, StoredTimer } from "../runtime/stored.ts";
import type { ActorRef, AnyActorLogic, Principal, Refusal } from "../types.ts";

export interface WorldOptions {
  /** The actor types the world runs. */
  readonly logics: readonly AnyActorLogic[];
  /** The clock's start, ms since the epoch. Default 2025-06-02T02:00:00Z (10:00 in Shanghai). */
  readonly start?: number;
  /** Commands one `send` or one reminder may cascade into before the world gives up. Default 10 000. */
  readonly maxCascade?: number;
}

export const DEFAULT_WORLD_START = Date.UTC(2025, 5, 2, 2, 0, 0);

export type Message = { readonly type: string } & Record<string, unknown>;

export interface SendOptions {
  readonly by?: Principal;
  /** The command id (a retry reuses it). Default: a fresh `cmd-<n>`. */
  readonly id?: string;
}

/** One command the world delivered, and what came of it. */
export interface LogEntry {
  /** The command's sequence in the world's log (the actor's `ctx.seq`). */
  readonly seq: number;
  readonly to: ActorRef;
  readonly envelope: CommandEnvelope | null;
  readonly outcome: Outcome | null;
  /** True when the actor had applied this command before (same id or sequence). */
  readonly replayed: boolean;
  /** The command whose turn sent this one (null for `send` and reminders). */
  readonly causedBy: string | null;
  /** 0 for `send` and reminders, 1 for what their turn sent, and so on. */
  readonly depth: number;
}

/** A command sent by an actor or a reminder that its target refused. */
export interface CascadeRefusal {
  readonly to: ActorRef;
  readonly from: ActorRef | null;
  readonly origin: "actor" | "timer";
  readonly msg: Message | null;
  readonly commandId: string;
  readonly refusal: Refusal;
}

export interface PendingReminder {
  readonly ref: ActorRef;
  readonly name: string;
  readonly timer: StoredTimer;
}

export interface EventFilter {
  readonly type?: string;
  readonly id?: string;
  readonly name?: string;
}

interface Slot {
  readonly ref: ActorRef;
  readonly logic: AnyActorLogic;
  stored: StoredActor;
  state: unknown;
}

interface Queued {
  readonly to: ActorRef;
  readonly envelope: CommandEnvelope | null;
  readonly unreadable?: string;
  readonly causedBy: string | null;
  readonly depth: number;
}

const keyOf = (ref: ActorRef) => `${ref.type}/${ref.id}`;

/** The routing the hosts use, with subjects that name the actor plainly. */
export const worldRouting: Routing = {
  command: (ref) => `${ref.type}/${ref.id}`,
  event: (ref, name) => `${ref.type}/${ref.id}/${name}`,
};

function refFromSubject(subject: string): ActorRef {
  const slash = subject.indexOf("/");
  return { type: subject.slice(0, slash), id: subject.slice(slash + 1) };
}

export class World {
  readonly #logics: ReadonlyMap<string, AnyActorLogic>;
  readonly #maxCascade: number;
  readonly #actors = new Map<string, Slot>();
  /** Live reminders by `type/id/name`, as a host's timer index holds them. */
  readonly #reminders = new Map<string, PendingReminder & { readonly n: number }>();
  readonly #log: LogEntry[] = [];
  readonly #events: EventEnvelope[] = [];
  readonly #refusals: CascadeRefusal[] = [];
  #now: number;
  #seq = 0;
  #commands = 0;
  #scheduled = 0;

  constructor(options: WorldOptions) {
    this.#logics = new Map(options.logics.map((l) => [l.type, l]));
    this.#now = options.start ?? DEFAULT_WORLD_START;
    this.#maxCascade = options.maxCascade ?? 10_000;
  }

  /** The world's clock, ms since the epoch. */
  get now(): number {
    return this.#now;
  }

  /** Every command delivered, in delivery order. */
  get log(): readonly LogEntry[] {
    return this.#log;
  }

  /** Every event emitted, in order. */
  get events(): readonly EventEnvelope[] {
    return this.#events;
  }

  /** Every refused command that an actor sent or a reminder delivered. */
  get refusals(): readonly CascadeRefusal[] {
    return this.#refusals;
  }

  /** Events matching the filter (by actor type, id and event name), in order. */
  eventsOf(filter: EventFilter = {}): EventEnvelope[] {
    return this.#events.filter(
      (e) =>
        (filter.type === undefined || e.actor.type === filter.type) &&
        (filter.id === undefined || e.actor.id === filter.id) &&
        (filter.name === undefined || e.name === filter.name),
    );
  }

  /** Event names of one actor, in order (handy in assertions). */
  eventNames(ref: ActorRef): string[] {
    return this.eventsOf({ type: ref.type, id: ref.id }).map((e) => e.name);
  }

  /** Log entries for commands delivered to `ref`, optionally of one message type. */
  delivered(ref: ActorRef, type?: string): LogEntry[] {
    return this.#log.filter(
      (e) =>
        e.to.type === ref.type &&
        e.to.id === ref.id &&
        (type === undefined || e.envelope?.msg.type === type),
    );
  }

  /** The actor's state (its initial state when it never received a command). */
  state<S = unknown>(ref: ActorRef): S {
    return this.#slot(ref).state as S;
  }

  /** What a query of the actor returns. */
  view<V = unknown>(ref: ActorRef): V {
    const slot = this.#slot(ref);
    return (slot.logic.view ? slot.logic.view(slot.state) : slot.state) as V;
  }

  /** The actor's stored record, as a host would write it. */
  stored(ref: ActorRef): StoredActor {
    return this.#slot(ref).stored;
  }

  /** Live reminders, soonest first. */
  reminders(ref?: ActorRef): PendingReminder[] {
    return [...this.#reminders.values()]
      .filter((r) => ref === undefined || (r.ref.type === ref.type && r.ref.id === ref.id))
      .sort(byDue)
      .map(({ ref, name, timer }) => ({ ref, name, timer }));
  }

  /**
   * Delivers `msg` to `ref` as a client command accepted now, then every command it cascades
   * into. Returns the outcome of `msg` itself; the cascade is in `log` and `refusals`.
   */
  send(ref: ActorRef, msg: Message, options: SendOptions = {}): Outcome {
    const envelope: CommandEnvelope = {
      id: options.id ?? `cmd-${++this.#commands}`,
      at: this.#now,
      origin: "client",
      ...(options.by ? { by: options.by } : {}),
      msg,
    };
    const first = this.#run({ to: ref, ...wire(envelope), causedBy: null, depth: 0 });
    if (first.outcome === null) throw new Error("a fresh command has an outcome");
    return first.outcome;
  }

  /**
   * Moves the clock forward by `ms`, firing every reminder due by then in due order (ties in
   * the order they were scheduled), each with its full cascade, the clock set to its due time.
   * A reminder scheduled in the past fires on the next advance (`advance(0)` included).
   */
  advance(ms: number): LogEntry[] {
    if (ms < 0) throw new RangeError("time only moves forward");
    return this.advanceTo(this.#now + ms);
  }

  /** Like `advance`, to an absolute time (not before now). */
  advanceTo(at: number): LogEntry[] {
    if (at < this.#now) throw new RangeError("time only moves forward");
    const fired: LogEntry[] = [];
    for (;;) {
      const next = [...this.#reminders.values()].sort(byDue)[0];
      if (next === undefined || next.timer.at > at) break;
      this.#reminders.delete(`${keyOf(next.ref)}/${next.name}`);
      this.#now = Math.max(this.#now, next.timer.at);
      const { ref, name, timer } = next;
      // The envelope the partition's timer loop publishes (actors/runtime/partition.ts).
      const envelope: CommandEnvelope = {
        id: `timer.${ref.type}.${ref.id}.${timer.sid}.${fnv1a32(name).toString(36)}`,
        at: timer.at,
        origin: "timer",
        timer: { name, sid: timer.sid },
        msg: timer.msg,
      };
      fired.push(this.#run({ to: ref, ...wire(envelope), causedBy: null, depth: 0 }));
    }
    this.#now = at;
    return fired;
  }

  #slot(ref: ActorRef): Slot {
    const key = keyOf(ref);
    let slot = this.#actors.get(key);
    if (slot === undefined) {
      const logic = this.#logics.get(ref.type);
      if (logic === undefined) throw new Error(`the world runs no actor type "${ref.type}"`);
      const fresh = freshActor(logic, ref);
      slot = { ref: { type: ref.type, id: ref.id }, logic, ...fresh };
      this.#actors.set(key, slot);
    }
    return slot;
  }

  /** Delivers one command and, breadth-first, everything it causes. Returns its own entry. */
  #run(first: Queued): LogEntry {
    const queue: Queued[] = [first];
    let head: LogEntry | null = null;
    let delivered = 0;
    while (queue.length > 0) {
      if (++delivered > this.#maxCascade) {
        throw new Error(`more than ${this.#maxCascade} cascaded commands: a message loop?`);
      }
      const item = queue.shift()!;
      const entry = this.#deliver(item, queue);
      head ??= entry;
    }
    return head!;
  }

  #deliver(item: Queued, queue: Queued[]): LogEntry {
    const seq = ++this.#seq;
    const logic = this.#logics.get(item.to.type);
    if (logic === undefined) {
      // A host dead-letters it; here it is a refusal like any other.
      const refusal = { code: "unknown_actor_type", message: `no actor type "${item.to.type}"` };
      const outcome: Outcome = {
        ok: false,
        commandId: item.envelope?.id ?? `seq-${seq}`,
        seq,
        refusal,
      };
      return this.#record(item, seq, outcome, false);
    }
    const slot = this.#slot(item.to);
    const delivery: Delivery = {
      seq,
      envelope: item.envelope,
      ...(item.unreadable !== undefined ? { unreadable: item.unreadable } : {}),
    };
    const result = applyBatch(logic, slot.ref, slot, [delivery], worldRouting);
    const applied = result.applied[0]!;
    if (result.changed) this.#commit(slot, result);
    const entry = this.#record(item, seq, applied.outcome, applied.replayed);
    if (!result.changed || applied.replayed) return entry;
    for (const out of result.stored.outbox) {
      if (out.kind === "event") this.#events.push(out.event);
      else {
        queue.push({
          to: refFromSubject(out.subject),
          ...wire(out.command),
          causedBy: item.envelope?.id ?? null,
          depth: item.depth + 1,
        });
      }
    }
    return entry;
  }

  #commit(slot: Slot, result: BatchResult): void {
    // Persisted as a host writes it to KV, and read back as a fresh activation would.
    const stored = JSON.parse(JSON.stringify(result.stored)) as StoredActor;
    slot.stored = stored;
    slot.state = restoreActor(slot.logic, stored);
    const prefix = keyOf(slot.ref);
    for (const name of result.cleared) this.#reminders.delete(`${prefix}/${name}`);
    for (const [name, timer] of result.scheduled) {
      const n = ++this.#scheduled;
      this.#reminders.set(`${prefix}/${name}`, { ref: slot.ref, name, timer, n });
    }
    // The index must agree with the actor's own record of its reminders.
    const indexed = [...this.#reminders.values()].filter((r) => keyOf(r.ref) === prefix);
    const recorded = Object.entries(stored.timers);
    const agrees =
      indexed.length === recorded.length &&
      recorded.every(([name, t]) =>
        indexed.some((r) => r.name === name && r.timer.sid === t.sid && r.timer.at === t.at),
      );
    if (!agrees) throw new Error(`reminder index of ${prefix} disagrees with its stored timers`);
  }

  #record(item: Queued, seq: number, outcome: Outcome | null, replayed: boolean): LogEntry {
    const entry: LogEntry = {
      seq,
      to: item.to,
      envelope: item.envelope,
      outcome,
      replayed,
      causedBy: item.causedBy,
      depth: item.depth,
    };
    this.#log.push(entry);
    const origin = item.envelope?.origin;
    if (outcome !== null && !outcome.ok && (item.depth > 0 || origin === "timer")) {
      this.#refusals.push({
        to: item.to,
        from: item.envelope?.from ?? null,
        origin: origin === "timer" ? "timer" : "actor",
        msg: item.envelope?.msg ?? null,
        commandId: outcome.commandId,
        refusal: outcome.refusal,
      });
    }
    return entry;
  }
}

/** The envelope as the receiving host reads it off the wire. */
function wire(envelope: CommandEnvelope): {
  envelope: CommandEnvelope | null;
  unreadable?: string;
} {
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(envelope));
  } catch (err) {
    return { envelope: null, unreadable: `command is not JSON: ${(err as Error).message}` };
  }
  const parsed = CommandEnvelope.safeParse(json);
  if (parsed.success) return { envelope: parsed.data };
  return {
    envelope: null,
    unreadable: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
  };
}

/** Due order; reminders due at the same time fire in the order they were scheduled. */
function byDue(a: { timer: StoredTimer; n: number }, b: { timer: StoredTimer; n: number }): number {
  return a.timer.at - b.timer.at || a.n - b.n;
}

/** `{ type, id }` in one call: `ref("order", "o-1")`. */
export function ref(type: string, id: string): ActorRef {
  return { type, id };
}
