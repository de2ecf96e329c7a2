/**
 * The wire contract of the actor runtime: the command envelope stored on `cmd.<p>.<type>.<id>`,
 * the outcome a sender gets back, the event envelope on `evt.<type>.<id>.<name>`, and queries.
 */
import { z } from "zod";
import { ActorRefSchema, CommandId, PrincipalSchema } from "./ids.ts";

/** Any actor message: a `type` plus fields the actor's own schema validates. */
export const AnyMessage = z.looseObject({ type: z.string().min(1).max(64) });

export const CommandEnvelope = z.object({
  id: CommandId,
  /** When the command was accepted (ms since the epoch, sender's clock); the actor's "now". */
  at: z.number().int().nonnegative(),
  origin: z.enum(["client", "actor", "timer"]),
  by: PrincipalSchema.optional(),
  /** The actor that sent it, when origin is "actor". */
  from: ActorRefSchema.optional(),
  /** Set by the runtime on reminders: which schedule fired. */
  timer: z.object({ name: z.string().min(1).max(200), sid: z.string().min(1).max(64) }).optional(),
  msg: AnyMessage,
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

export const RefusalSchema = z.object({ code: z.string(), message: z.string() });

/** What happened to a command, sent to its `Xd-Reply` inbox and kept in the actor's state. */
export const Outcome = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    commandId: z.string(),
    seq: z.number().int(),
    events: z.array(z.string()),
  }),
  z.object({
    ok: z.literal(false),
    commandId: z.string(),
    seq: z.number().int().optional(),
    refusal: RefusalSchema,
  }),
]);
export type Outcome = z.infer<typeof Outcome>;

/** One event as stored on `evt.<type>.<id>.<name>`; `id` is also its `Nats-Msg-Id`. */
export const EventEnvelope = z.object({
  id: z.string(),
  actor: ActorRefSchema,
  name: z.string(),
  /** Sequence of the command that caused it, and that command's id and time. */
  seq: z.number().int(),
  commandId: z.string(),
  at: z.number().int(),
  by: PrincipalSchema.optional(),
  data: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

export const QueryRequest = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("state") }),
  z.object({ kind: z.literal("outcome"), commandId: CommandId }),
]);
export type QueryRequest = z.infer<typeof QueryRequest>;

export const QueryReply = z.discriminatedUnion("status", [
  /** The actor's view and the sequence of the last command applied to it (0: never). */
  z.object({ status: z.literal("state"), seq: z.number().int(), view: z.unknown() }),
  z.object({ status: z.literal("outcome"), outcome: Outcome }),
  /** The command is in the log but not applied yet. */
  z.object({ status: z.literal("pending") }),
  /** No such command among the actor's recent outcomes. */
  z.object({ status: z.literal("unknown") }),
  z.object({ status: z.literal("error"), refusal: RefusalSchema }),
]);
export type QueryReply = z.infer<typeof QueryReply>;

/** Header carrying the inbox a command's outcome is sent to. */
export const REPLY_HEADER = "Xd-Reply";
