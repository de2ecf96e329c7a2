/** The persisted record of one actor in the `actors` KV bucket. */
import type { CommandEnvelope, EventEnvelope, Outcome } from "../../protocol/index.ts";

export interface StoredTimer {
  readonly at: number;
  /** Schedule id: the sequence of the command that scheduled it. Fires at most once. */
  readonly sid: string;
  readonly msg: { readonly type: string } & Record<string, unknown>;
}

/** Something to publish once the turn that produced it has committed. */
export type OutboxItem =
  | { readonly kind: "event"; readonly subject: string; readonly event: EventEnvelope }
  | { readonly kind: "command"; readonly subject: string; readonly command: CommandEnvelope };

export interface StoredActor {
  /** The actor logic's persisted-form version. */
  readonly v: number;
  readonly state: unknown;
  /** Sequence of the last command applied; anything at or below it is a redelivery. */
  readonly seq: number;
  /** Outcomes of the most recent commands, newest last (bounded): retries get the same answer. */
  readonly recent: readonly Outcome[];
  readonly timers: Readonly<Record<string, StoredTimer>>;
  /**
   * Effects of the last committed batch. They are published after the commit, and again when the
   * actor is activated from storage while its partition's checkpoint is still below `seq` (a
   * crash may have come in between); the `Nats-Msg-Id` of each makes that second publish a no-op
   * inside the duplicate window. Past the checkpoint the outbox is known to be out and is not
   * published again (an actor woken from passivation minutes later would otherwise store its
   * last commands a second time).
   */
  readonly outbox: readonly OutboxItem[];
}

export const RECENT_OUTCOMES = 16;
