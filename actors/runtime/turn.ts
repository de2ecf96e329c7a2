/**
 * Applying a batch of commands to one actor: pure, so "effectively once", refusals, reminders and
 * the outbox are unit-tested without a server, and a replay of the log reproduces state exactly.
 *
 * The runtime hands an actor every queued command at once; they are applied one at a time, in
 * log order, and committed together (group commit). For each command:
 *   seq ≤ stored.seq        a redelivery (replay after a crash or a takeover): skipped
 *   id among recent         a client retry beyond JetStream's duplicate window: same outcome
 *   stale reminder          a schedule that was replaced, cancelled or already fired: ignored
 *   invalid message         refused `invalid_message` with zod's reason
 *   transition throws       refused `internal_error` (a bug must not block the partition)
 *   otherwise               the transition's result: new state and effects, or its refusal
 */
import type { CommandEnvelope, EventEnvelope, Outcome } from "../../protocol/index.ts";
import type { ActorRef, AnyActorLogic, Effect, TurnContext } from "../types.ts";
import { RECENT_OUTCOMES } from "./stored.ts";
import type { OutboxItem, StoredActor, StoredTimer } from "./stored.ts";

/** A command as taken from the log: its sequence, and the envelope or why it could not be read. */
export interface Delivery {
  readonly seq: number;
  readonly envelope: CommandEnvelope | null;
  /** Why `envelope` is null. */
  readonly unreadable?: string;
  readonly replyTo?: string;
}

export interface Routing {
  event(ref: ActorRef, name: string): string;
  command(ref: ActorRef): string;
}

export interface AppliedCommand {
  readonly delivery: Delivery;
  readonly outcome: Outcome | null;
  /** True when the command had been applied before (redelivery or retry). */
  readonly replayed: boolean;
}

export interface BatchResult {
  readonly stored: StoredActor;
  /** The restored state after the batch (kept by the activation to avoid a restore per turn). */
  readonly state: unknown;
  /** False when every command was a redelivery: nothing to write. */
  readonly changed: boolean;
  readonly applied: readonly AppliedCommand[];
  /** Reminders scheduled by this batch: index them before the commit. */
  readonly scheduled: ReadonlyMap<string, StoredTimer>;
  /** Reminders cancelled or fired by this batch: unindex them after the commit. */
  readonly cleared: ReadonlySet<string>;
  readonly accepted: number;
  readonly refused: number;
  readonly redelivered: number;
}

export function freshActor(
  logic: AnyActorLogic,
  ref: ActorRef,
): { stored: StoredActor; state: unknown } {
  const state = logic.initial(ref);
  return {
    state,
    stored: {
      v: logic.version,
      state: persist(logic, state),
      seq: 0,
      recent: [],
      timers: {},
      outbox: [],
    },
  };
}

export function restoreActor(logic: AnyActorLogic, stored: StoredActor): unknown {
  return logic.restore ? logic.restore(stored.state, stored.v) : stored.state;
}

function persist(logic: AnyActorLogic, state: unknown): unknown {
  return logic.persist ? logic.persist(state) : state;
}

export function applyBatch(
  logic: AnyActorLogic,
  ref: ActorRef,
  current: { stored: StoredActor; state: unknown },
  deliveries: readonly Delivery[],
  routing: Routing,
): BatchResult {
  let state = current.state;
  let seq = current.stored.seq;
  const recent = [...current.stored.recent];
  const timers: Record<string, StoredTimer> = { ...current.stored.timers };
  const outbox: OutboxItem[] = [];
  const scheduled = new Map<string, StoredTimer>();
  const cleared = new Set<string>();
  const applied: AppliedCommand[] = [];
  let accepted = 0;
  let refused = 0;
  let redelivered = 0;
  let stateChanged = false;

  const record = (delivery: Delivery, outcome: Outcome) => {
    seq = delivery.seq;
    recent.push(outcome);
    if (recent.length > RECENT_OUTCOMES) recent.splice(0, recent.length - RECENT_OUTCOMES);
    applied.push({ delivery, outcome, replayed: false });
    if (outcome.ok) accepted++;
    else refused++;
  };
  const refuseWith = (delivery: Delivery, code: string, message: string) =>
    record(delivery, {
      ok: false,
      commandId: delivery.envelope?.id ?? `seq-${delivery.seq}`,
      seq: delivery.seq,
      refusal: { code, message },
    });

  for (const delivery of deliveries) {
    if (delivery.seq <= seq) {
      redelivered++;
      const previous = recent.find((o) => o.seq === delivery.seq) ?? null;
      applied.push({ delivery, outcome: previous, replayed: true });
      continue;
    }
    const envelope = delivery.envelope;
    if (envelope === null) {
      refuseWith(delivery, "invalid_envelope", delivery.unreadable ?? "unreadable command");
      continue;
    }
    const retried = recent.find((o) => o.commandId === envelope.id);
    if (retried) {
      // Same command id again, past JetStream's duplicate window: answer as before, change nothing.
      seq = delivery.seq;
      redelivered++;
      applied.push({ delivery, outcome: retried, replayed: true });
      continue;
    }
    let msg: { type: string } & Record<string, unknown> = envelope.msg;
    if (envelope.origin === "timer" || envelope.timer) {
      const timer = envelope.timer;
      const current = timer ? timers[timer.name] : undefined;
      if (envelope.origin !== "timer" || !timer) {
        refuseWith(
          delivery,
          "invalid_envelope",
          "a reminder needs origin 'timer' and its schedule",
        );
        continue;
      }
      if (!current || current.sid !== timer.sid) {
        refuseWith(
          delivery,
          "timer_stale",
          `reminder ${timer.name} was replaced, cancelled or fired`,
        );
        continue;
      }
      delete timers[timer.name];
      scheduled.delete(timer.name);
      cleared.add(timer.name);
      msg = current.msg;
    }
    const parsed = logic.messages.safeParse(msg);
    if (!parsed.success) {
      refuseWith(delivery, "invalid_message", summarizeZodError(parsed.error));
      continue;
    }
    const ctx: TurnContext = {
      self: ref,
      now: envelope.at,
      commandId: envelope.id,
      seq: delivery.seq,
      origin: envelope.origin,
      ...(envelope.by ? { by: envelope.by } : {}),
    };
    let result;
    try {
      result = logic.transition(state, parsed.data, ctx);
    } catch (err) {
      refuseWith(delivery, "internal_error", `transition failed: ${(err as Error).message}`);
      continue;
    }
    if (!result.ok) {
      refuseWith(delivery, result.refusal.code, result.refusal.message);
      continue;
    }
    state = result.state;
    stateChanged = true;
    const events: string[] = [];
    result.effects.forEach((effect: Effect, i: number) => {
      switch (effect.kind) {
        case "emit": {
          const event: EventEnvelope = {
            id: `${ref.type}.${ref.id}.${delivery.seq}.${i}`,
            actor: { type: ref.type, id: ref.id },
            name: effect.name,
            seq: delivery.seq,
            commandId: envelope.id,
            at: envelope.at,
            ...(envelope.by ? { by: envelope.by } : {}),
            data: effect.data,
          };
          events.push(effect.name);
          outbox.push({ kind: "event", subject: routing.event(ref, effect.name), event });
          break;
        }
        case "send": {
          const command: CommandEnvelope = {
            id: `${ref.type}.${ref.id}.${delivery.seq}.s${i}`,
            at: envelope.at,
            origin: "actor",
            from: { type: ref.type, id: ref.id },
            ...(envelope.by && effect.command.asSelf !== true ? { by: envelope.by } : {}),
            msg: effect.command.msg,
          };
          outbox.push({ kind: "command", subject: routing.command(effect.command.to), command });
          break;
        }
        case "schedule": {
          const timer: StoredTimer = { at: effect.at, sid: String(delivery.seq), msg: effect.msg };
          timers[effect.timer] = timer;
          scheduled.set(effect.timer, timer);
          cleared.delete(effect.timer);
          break;
        }
        case "cancel": {
          if (timers[effect.timer]) {
            delete timers[effect.timer];
            scheduled.delete(effect.timer);
            cleared.add(effect.timer);
          }
          break;
        }
      }
    });
    record(delivery, { ok: true, commandId: envelope.id, seq: delivery.seq, events });
  }

  const changed = seq !== current.stored.seq;
  const stored: StoredActor = changed
    ? {
        v: logic.version,
        state: stateChanged ? persist(logic, state) : current.stored.state,
        seq,
        recent,
        timers,
        outbox,
      }
    : current.stored;
  return {
    stored,
    state,
    changed,
    applied,
    scheduled,
    cleared,
    accepted,
    refused,
    redelivered,
  };
}

function summarizeZodError(error: { issues: readonly { path: PropertyKey[]; message: string }[] }) {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message))
    .join("; ");
}
