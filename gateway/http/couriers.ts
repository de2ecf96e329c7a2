import { Hono } from "hono";
import { z } from "zod";
import { ActorTimeoutError, CommandRejectedError } from "../../actors/index.ts";
import { CourierCapacity, CourierVehicle } from "../../protocol/actors/courier.ts";
import { ApiError } from "../errors.ts";
import { authenticate, readBody, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";

const ShiftBody = z.strictObject({
  on: z.boolean(),
  /** Default: an e-bike. */
  vehicle: CourierVehicle.optional(),
  /** Default: three orders at once. */
  capacity: CourierCapacity.optional(),
});

const IdempotencyKey = z.string().regex(/^[A-Za-z0-9_.:-]{1,80}$/);

/** POST /v1/couriers/me/shift (courier): on or off shift, in the token's market. */
export function courierRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use("*", authenticate(deps));
  app.post("/me/shift", async (c) => {
    const claims = requireRole(c, ["courier"]);
    const body = await readBody(c, ShiftBody);
    const key = c.req.header("idempotency-key");
    if (key !== undefined && !IdempotencyKey.safeParse(key).success) {
      throw new ApiError(
        400,
        "invalid_idempotency_key",
        "Idempotency-Key: 1-80 of A-Z a-z 0-9 _ . : -",
      );
    }
    const msg = body.on
      ? {
          type: "go_on_shift",
          marketId: claims.mkt!,
          vehicle: body.vehicle ?? { mode: "ebike" },
          capacity: body.capacity ?? { maxOrders: 3 },
        }
      : { type: "go_off_shift" };
    let outcome;
    try {
      outcome = await deps.actors.call({ type: "courier", id: claims.sub }, msg, {
        by: { role: "courier", id: claims.sub },
        ...(key ? { id: `shift-${claims.sub}-${key}` } : {}),
        timeoutMs: 5_000,
      });
    } catch (err) {
      if (err instanceof ActorTimeoutError) {
        throw new ApiError(504, "timeout", "the shift change is stored but not confirmed yet", {
          cause: err,
        });
      }
      if (err instanceof CommandRejectedError) {
        throw new ApiError(400, err.code, err.message, { cause: err });
      }
      throw err;
    }
    if (!outcome.ok) throw new ApiError(409, outcome.refusal.code, outcome.refusal.message);
    // From what was applied, not from this body: a retry with the key of an earlier request
    // gets that request's outcome, whatever it asks.
    const onShift = outcome.events.includes("went_on_shift");
    return c.json({ ok: true, courierId: claims.sub, onShift });
  });
  return app;
}
