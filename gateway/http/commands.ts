/**
 * What the command routes (stores, couriers, dispatchers) share: reading ids and bodies,
 * command ids from `Idempotency-Key`, sending a command to an actor and turning its outcome
 * into an answer. One mapping of actor outcomes to HTTP statuses, used by every such route.
 */
import { createHash } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { ActorTimeoutError, CommandRejectedError } from "../../actors/index.ts";
import type { ActorRef, Principal } from "../../actors/index.ts";
import { ActorId, CommandId } from "../../protocol/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import type { CommandApplied } from "../../protocol/http.ts";
import { fetchOrder } from "../access.ts";
import type { Order } from "../access.ts";
import { ApiError } from "../errors.ts";
import { authenticate } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";

/** How long a route waits for an actor's outcome before answering 504. */
export const COMMAND_TIMEOUT_MS = 5_000;

/** Refusal codes that mean "not yours" (403); every other refusal is a wrong state (409). */
const FORBIDDEN_REFUSALS: ReadonlySet<string> = new Set([
  "forbidden",
  "not_own_order",
  "not_own_store",
  "wrong_courier",
  "not_assigned_courier",
  "not_offered_courier",
]);

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,80}$/;

/**
 * `authenticate` for one route, skipped when an earlier middleware already did it (the courier
 * routes share the `/v1/couriers` prefix with a sub-app that authenticates all of it).
 */
export function authenticated(deps: HttpDeps): MiddlewareHandler<Env> {
  const auth = authenticate(deps);
  return async (c, next) => {
    if (c.get("claims") !== undefined) return next();
    return auth(c, next);
  };
}

/** The caller as actors see it. */
export function principalOf(claims: TokenClaims): Principal {
  return { role: claims.role, id: claims.sub };
}

/** A path parameter that must be an actor id; a 400 otherwise. */
export function idParam(c: Context<Env>, name: string): string {
  const value = c.req.param(name) ?? "";
  if (!ActorId.safeParse(value).success) {
    throw new ApiError(400, "invalid_param", `${name}: not an id: ${value.slice(0, 80)}`);
  }
  return value;
}

/** The `Idempotency-Key` header if sent (1-80 of A-Z a-z 0-9 _ . : -); a 400 if malformed. */
export function idempotencyKey(c: Context<Env>): string | null {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      "invalid_idempotency_key",
      "Idempotency-Key: 1-80 of A-Z a-z 0-9 _ . : -",
    );
  }
  return key;
}

/**
 * The command id for a client's key: the same caller, action, actor and key give the same id,
 * so a retry is applied once. Readable when it fits the 128 characters of a command id.
 */
export function commandIdFor(parts: readonly string[], key: string): string {
  const readable = `http.${parts.join(".")}.${key}`;
  if (readable.length <= 128 && CommandId.safeParse(readable).success) return readable;
  const digest = createHash("sha256")
    .update(`${parts.join("\n")}\n${key}`)
    .digest("hex");
  return `http.${digest.slice(0, 48)}`;
}

function invalid(issues: readonly z.core.$ZodIssue[]): ApiError {
  const issue = issues[0];
  const at = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return new ApiError(400, "invalid_body", `${at}${issue?.message ?? "invalid"}`);
}

/**
 * The JSON body checked against `schema`; an empty body reads as `{}` (for actions that need no
 * fields). A 400 with zod's first issue (path and message) otherwise.
 */
export async function readOptionalBody<S extends z.ZodType>(
  c: Context<Env>,
  schema: S,
): Promise<z.infer<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, "invalid_json", `the body is not JSON: ${(err as Error).message}`);
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return parsed.data;
}

/** The order's view; 404 when there is none, 503 when its actor cannot be asked. */
export async function existingOrder(deps: HttpDeps, orderId: string): Promise<Order> {
  let order: Order | null;
  try {
    order = await fetchOrder(deps.actors, orderId);
  } catch (err) {
    if (err instanceof ActorTimeoutError) {
      throw new ApiError(503, "unavailable", `order ${orderId} cannot be read now; try again`, {
        cause: err,
      });
    }
    throw err;
  }
  if (!order) throw new ApiError(404, "unknown_order", `no order ${orderId}`);
  return order;
}

/** An actor's view; 503 when it cannot be asked. */
export async function actorView<V>(
  deps: HttpDeps,
  to: ActorRef,
): Promise<{ seq: number; view: V }> {
  try {
    return await deps.actors.state<V>(to, COMMAND_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof ActorTimeoutError) {
      throw new ApiError(503, "unavailable", `${to.type} ${to.id} cannot be read now; try again`, {
        cause: err,
      });
    }
    throw err;
  }
}

export interface CommandOptions {
  readonly by: Principal;
  /** Names the action in the command id (`accept`, `hand_off`, ...). */
  readonly action: string;
  /** A fixed command id (a create keyed by the shop's order id); else from Idempotency-Key. */
  readonly commandId?: string;
  /** The actor hands the action on to this one (the answer is then 202). */
  readonly forwardTo?: ActorRef;
  readonly at?: number;
}

/**
 * Sends `msg` to `to` and waits for the outcome: the applied command, or an ApiError (409 for a
 * wrong state, 403 for a wrong actor, 400 for a command the log refused, 504 on a time-out).
 */
export async function sendCommand(
  deps: HttpDeps,
  c: Context<Env>,
  to: ActorRef,
  msg: { type: string } & Record<string, unknown>,
  options: CommandOptions,
): Promise<CommandApplied> {
  const key = options.commandId === undefined ? idempotencyKey(c) : null;
  const id =
    options.commandId ??
    (key === null
      ? undefined
      : commandIdFor([options.by.role, options.by.id, options.action, to.type, to.id], key));
  let outcome;
  try {
    outcome = await deps.actors.call(to, msg, {
      by: options.by,
      timeoutMs: COMMAND_TIMEOUT_MS,
      ...(id !== undefined ? { id } : {}),
      at: options.at ?? deps.clock(),
    });
  } catch (err) {
    if (err instanceof ActorTimeoutError) {
      throw new ApiError(
        504,
        "timeout",
        `${msg.type} is stored and will be applied, but its outcome did not come in time`,
        { cause: err },
      );
    }
    if (err instanceof CommandRejectedError) {
      throw new ApiError(400, err.code, err.message, { cause: err });
    }
    throw err;
  }
  if (!outcome.ok) {
    const { code, message } = outcome.refusal;
    throw new ApiError(FORBIDDEN_REFUSALS.has(code) ? 403 : 409, code, message);
  }
  c.get("log").info(
    { by: `${options.by.role}:${options.by.id}`, to: `${to.type}/${to.id}`, type: msg.type },
    "command applied",
  );
  return {
    ok: true,
    commandId: outcome.commandId,
    actor: { type: to.type, id: to.id },
    events: outcome.events,
    ...(options.forwardTo ? { forwardedTo: options.forwardTo } : {}),
  };
}

/** The answer for an applied command: 202 when another actor applies it next, else 200. */
export function applied(c: Context<Env>, result: CommandApplied): Response {
  return c.json(result, result.forwardedTo ? 202 : 200);
}
