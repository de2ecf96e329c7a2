/** What every HTTP sub-app shares: its dependencies, its context variables, and two helpers. */
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { z } from "zod";
import type { ActorClient } from "../../actors/index.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Topology } from "../../nats/index.ts";
import type { PiiCipher } from "../../pii/index.ts";
import type { Role, TokenClaims } from "../../protocol/index.ts";
import { bearerToken, verifyToken } from "../auth.ts";
import { ApiError, AuthError } from "../errors.ts";
import type { LiveHub } from "../live/hub.ts";
import type { GatewayMetrics } from "../metrics.ts";
import type { GatewayLimits, GatewayOptions, StaticApp } from "../types.ts";
import type { ProofStore } from "./proof-store.ts";

export interface HttpDeps {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly hub: LiveHub;
  readonly auth: {
    readonly secret: string;
    readonly issuer?: string;
    readonly trackingTokenTtlSeconds: number;
  };
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly limits: GatewayLimits;
  readonly clock: () => number;
  readonly apps: {
    readonly driver?: StaticApp;
    readonly console?: StaticApp;
    readonly tracking?: StaticApp;
  };
  /** Where proof-of-delivery photos are kept; without one, photo uploads answer 503. */
  readonly proofs?: ProofStore;
  /** History and certificate keys; without them, the cold-chain routes answer 503. */
  readonly coldChain?: GatewayOptions["coldChain"];
  /**
   * Encrypts shoppers' contacts on order creation and decrypts them for views. Without one, an
   * order with a contact is refused (503) and stored contacts show as unavailable.
   */
  readonly pii?: PiiCipher;
  /** Whether the gateway is ready to serve live traffic. */
  readonly ready: () => { ok: boolean; reason: string };
}

export interface Env {
  Variables: {
    requestId: string;
    log: Logger;
    claims: TokenClaims;
  };
}

/**
 * Requires a valid `Authorization: Bearer` token and puts its claims in the context. With
 * `queryToken`, a `?token=` is taken when no header is sent (a printable page opened by a link).
 */
export function authenticate(
  deps: HttpDeps,
  options: { queryToken?: boolean } = {},
): MiddlewareHandler<Env> {
  return async (c, next) => {
    const token =
      bearerToken(c.req.header("authorization")) ??
      (options.queryToken ? (c.req.query("token") ?? null) : null);
    if (!token) {
      throw new ApiError(
        401,
        "missing_token",
        options.queryToken
          ? "send Authorization: Bearer <token>, or ?token=<token> for the printable page"
          : "send Authorization: Bearer <token>",
      );
    }
    try {
      c.set(
        "claims",
        await verifyToken(token, deps.auth.secret, {
          now: deps.clock(),
          ...(deps.auth.issuer ? { issuer: deps.auth.issuer } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof AuthError) throw new ApiError(401, err.code, err.message, { cause: err });
      throw err;
    }
    await next();
  };
}

/** The caller's claims if its role is one of `roles`; a 403 with the reason otherwise. */
export function requireRole(c: Context<Env>, roles: readonly Role[]): TokenClaims {
  const claims = c.get("claims");
  if (!roles.includes(claims.role)) {
    throw new ApiError(
      403,
      "forbidden",
      `${c.req.method} ${c.req.routePath} is for ${roles.join(" or ")}; this token is a ${claims.role}'s`,
    );
  }
  return claims;
}

/** The JSON body, checked against `schema`; a 400 with zod's reason otherwise. */
export async function readBody<S extends z.ZodType>(
  c: Context<Env>,
  schema: S,
): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (err) {
    if (err instanceof ApiError) throw err; // the body stalled (body-timeout.ts)
    throw new ApiError(400, "invalid_json", `the body is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new ApiError(400, "invalid_body", `${at}${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}
