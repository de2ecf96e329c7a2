/**
 * The pure side of an actor: what every actor type implements. The runtime (actors/runtime)
 * consumes commands, runs `transition` one message at a time, commits the new state with the
 * expected revision, then performs the effects. Nothing here does I/O.
 */
import type { z } from "zod";

/** A logical actor: `order/o-123`. Ids are subject-token safe (see protocol `ActorId`). */
export interface ActorRef {
  readonly type: string;
  readonly id: string;
}

/** Who issued a command, for authorization checks inside a transition and for the audit log. */
export interface Principal {
  readonly role: "courier" | "dispatcher" | "store" | "shopper" | "admin" | "system";
  readonly id: string;
}

/** Where a message came from: a client through the edge, another actor, or one of our timers. */
export type Origin = "client" | "actor" | "timer";

export interface TurnContext {
  readonly self: ActorRef;
  /**
   * The time the command was accepted, in ms since the epoch. It travels with the command, so a
   * replay of the log reproduces every transition exactly (never read the wall clock in logic).
   */
  readonly now: number;
  readonly commandId: string;
  /** The command's sequence in the log; strictly increasing per actor. */
  readonly seq: number;
  readonly origin: Origin;
  readonly by?: Principal;
}

/** A machine-readable reason for refusing a message: `code` is stable, `message` is for people. */
export interface Refusal {
  readonly code: string;
  readonly message: string;
}

/** A command for another actor (or for this one), sent after this turn commits. */
export interface OutboundCommand {
  readonly to: ActorRef;
  readonly msg: { readonly type: string } & Record<string, unknown>;
  /**
   * Sent on the actor's own authority, without the principal of the message that caused the
   * turn: for decisions that are the actor's own (the market's dispatch offers a courier's
   * decline happened to trigger), which the receiver must not judge as that person's.
   */
  readonly asSelf?: boolean;
}

export type Effect =
  /** An event published on `evt.<type>.<id>.<name>` after the turn commits. */
  | { readonly kind: "emit"; readonly name: string; readonly data: unknown }
  /** A command to another actor, published after the turn commits (deduplicated on retry). */
  | { readonly kind: "send"; readonly command: OutboundCommand }
  /**
   * A durable reminder: at `at` (ms epoch) the runtime delivers `msg` to this actor with origin
   * "timer". Scheduling a name again replaces the earlier schedule; each schedule fires at most
   * once, also across host restarts.
   */
  | {
      readonly kind: "schedule";
      readonly timer: string;
      readonly at: number;
      readonly msg: { readonly type: string } & Record<string, unknown>;
    }
  | { readonly kind: "cancel"; readonly timer: string };

export type TurnResult<S> =
  | { readonly ok: true; readonly state: S; readonly effects: readonly Effect[] }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * One actor type's behaviour. `S` must survive `persist` → JSON → `restore` unchanged.
 * `M` is a discriminated union on `type`, validated by `messages` before `transition` sees it.
 */
export interface ActorLogic<S, M extends { type: string }> {
  readonly type: string;
  /** Validates every incoming message; a message that fails is refused as `invalid_message`. */
  readonly messages: z.ZodType<M>;
  /** The state of an actor that has never received a message. */
  initial(self: ActorRef): S;
  transition(state: S, msg: M, ctx: TurnContext): TurnResult<S>;
  /** The persisted form's version; bump it when `persist`'s output changes shape. */
  readonly version: number;
  /** To a JSON-safe value. Defaults to the state itself. */
  persist?(state: S): unknown;
  /** From a persisted value of `version` (older versions are migrated here). */
  restore?(data: unknown, version: number): S;
  /** What a query returns (e.g. without secrets). Defaults to the state itself. */
  view?(state: S): unknown;
}

/**
 * Any actor logic, as the runtime's registry holds them. The registry is heterogeneous and each
 * logic only ever sees its own state and messages, so the type parameters are erased here.
 */
export type AnyActorLogic = ActorLogic<any, any>;
