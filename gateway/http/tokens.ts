import { Hono } from "hono";
import { z } from "zod";
import { ActorId, Role } from "../../protocol/index.ts";
import { claimsProblem, signToken } from "../auth.ts";
import { ApiError } from "../errors.ts";
import { authenticate, readBody, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";

const MintToken = z.strictObject({
  role: Role,
  sub: z.string().min(1).max(128),
  mkt: ActorId.optional(),
  ord: ActorId.optional(),
  /** Up to 30 days. */
  ttlSeconds: z
    .number()
    .int()
    .positive()
    .max(30 * 24 * 3600),
});

/** POST /v1/tokens (admin): mints a token for any role. */
export function tokenRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use("*", authenticate(deps));
  app.post("/", async (c) => {
    requireRole(c, ["admin"]);
    const body = await readBody(c, MintToken);
    const problem = claimsProblem(body);
    if (problem) throw new ApiError(400, "invalid_body", problem);
    const exp = Math.floor(deps.clock() / 1000) + body.ttlSeconds;
    const { ttlSeconds: _ttl, ...claims } = body;
    const token = await signToken({ ...claims, exp }, deps.auth.secret, {
      now: deps.clock(),
      ...(deps.auth.issuer ? { issuer: deps.auth.issuer } : {}),
    });
    c.get("log").info(
      { role: body.role, sub: body.sub, ttlSeconds: body.ttlSeconds },
      "token minted",
    );
    return c.json({ token, expiresAt: exp * 1000 }, 201);
  });
  return app;
}
