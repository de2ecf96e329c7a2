/**
 * The dispatcher API (`/v1/markets/:marketId/...`): overrides of what dispatch decided. A
 * dispatcher token acts in its own market (`mkt`), an admin in any. Every override needs a
 * `reason`. Where the market actor owns the override (force-assign, lock of a waiting order,
 * hold, release) it goes there, which records it in its audit trail (who, when, why) and hands
 * it on to the order (202); where only the order can do it (send an assigned order back to the
 * pool, lock an assignment, hold an order not yet accepted) it goes to the order, whose event
 * carries the dispatcher as its principal (200).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ActorRef, Principal } from "../../actors/index.ts";
import {
  CommandApplied,
  CourierReasonBody,
  LockBody,
  ReasonBody,
  ReassignBody,
  ReorderStopsBody,
} from "../../protocol/http.ts";
import { courierMarket } from "../access.ts";
import type { Order } from "../access.ts";
import { ApiError } from "../errors.ts";
import {
  actorView,
  applied,
  authenticated,
  existingOrder,
  idParam,
  principalOf,
  sendCommand,
} from "./commands.ts";
import { readBody, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";
import type { ErrorStatus, RouteSpec } from "./spec.ts";

const BASE = "/v1/markets/:marketId";
const ROLES = ["dispatcher", "admin"] as const;
/** Statuses in which the order has a courier: its assignment (not the market) can be locked. */
const ASSIGNED: ReadonlySet<string> = new Set(["assigned", "at_store", "picked_up", "at_customer"]);

function dispatcher(c: Context<Env>): { marketId: string; by: Principal } {
  const claims = requireRole(c, ROLES);
  const marketId = idParam(c, "marketId");
  if (claims.role === "dispatcher" && claims.mkt !== marketId) {
    throw new ApiError(403, "forbidden", `market ${marketId} is not yours (${claims.mkt})`);
  }
  return { marketId, by: principalOf(claims) };
}

/** The order, if it is in this market; 404 otherwise. */
async function marketOrder(deps: HttpDeps, c: Context<Env>, marketId: string): Promise<Order> {
  const order = await existingOrder(deps, idParam(c, "orderId"));
  if (order.marketId !== marketId) {
    throw new ApiError(404, "unknown_order", `order ${order.id} is not in market ${marketId}`);
  }
  return order;
}

const ERRORS: readonly ErrorStatus[] = [400, 401, 403, 404, 409, 413, 503, 504];
const viaMarket = {
  description: "the market applied and audited it, and hands it on to the order",
  schema: CommandApplied,
};
const atOrder = { description: "the order applied it", schema: CommandApplied };

function override(
  path: string,
  operationId: string,
  summary: string,
  description: string,
  schema: RouteSpec["body"] & object,
  responses: RouteSpec["responses"],
): RouteSpec {
  return {
    method: "post",
    path: `${BASE}/orders/:orderId/${path}`,
    operationId,
    summary,
    description,
    tag: "dispatch",
    roles: ROLES,
    idempotencyKey: true,
    body: schema,
    responses,
    errors: ERRORS,
  };
}

export const DISPATCH_ROUTES: readonly RouteSpec[] = [
  {
    method: "get",
    path: BASE,
    operationId: "getMarket",
    summary: "The market: open orders, couriers on shift, pending offers and the audit trail",
    tag: "dispatch",
    roles: ROLES,
    responses: { 200: { description: "the market actor's view" } },
    errors: [400, 401, 403, 503],
  },
  override(
    "reassign",
    "reassignOrder",
    "Take the order from its courier: to another courier, or back to the pool",
    "With `courierId`: a force-assignment through the market (audited there as `reassign` or `force`). Without: the order goes back to the pool for dispatch (the order's `reassigned` event records the dispatcher and reason). Refused once picked up (`already_picked_up`).",
    { schema: ReassignBody },
    { 202: viaMarket, 200: atOrder },
  ),
  override(
    "lock",
    "lockOrder",
    "Lock the order: dispatch never re-plans it",
    "A waiting order is locked in the market to `courierId` (required): it may be offered to that courier only. An assigned order has its assignment locked at the order (a given `courierId` must be its courier).",
    { schema: LockBody },
    { 200: { ...atOrder, description: "the market (audited) or the order applied it" } },
  ),
  override(
    "unlock",
    "unlockOrder",
    "Undo a lock",
    "An assignment lock is undone at the order; a market lock through the market's `release`, which would also release a hold: an order both held and locked answers 409 `held` (use `release`).",
    { schema: ReasonBody },
    { 200: { ...atOrder, description: "the market (audited) or the order applied it" } },
  ),
  override(
    "hold",
    "holdOrder",
    "Hold the order: it is not offered or assigned until released",
    "Through the market (audited), or at the order while the market does not know it yet (not accepted).",
    { schema: ReasonBody },
    { 202: viaMarket, 200: atOrder },
  ),
  override(
    "release",
    "releaseOrder",
    "Release a hold (and a market lock): the order goes back to normal dispatch",
    "Through the market (audited), or at the order while the market does not know it yet.",
    { schema: ReasonBody },
    { 202: viaMarket, 200: atOrder },
  ),
  override(
    "force-assign",
    "forceAssignOrder",
    "Give the order to a courier without an offer",
    "Through the market (audited); wins over holds and locks; a reassignment when the order already has a courier.",
    { schema: CourierReasonBody },
    { 202: viaMarket },
  ),
  override(
    "offer",
    "offerOrder",
    "Offer the order to a courier now",
    "The market offers it with its time-out (refused when held, locked to another courier, already offered, or the courier has no capacity or passed on it).",
    { schema: CourierReasonBody },
    { 202: { ...viaMarket, description: "the market made the offer and sends it to the courier" } },
  ),
  {
    method: "post",
    path: `${BASE}/couriers/:courierId/stops`,
    operationId: "reorderStops",
    summary: "Reorder a courier's remaining stops",
    description:
      "`stops` must list exactly the stops on the courier's route (`route_mismatch`), each pickup before its drop-off (`precedence_violation`).",
    tag: "dispatch",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: ReorderStopsBody },
    responses: { 200: { description: "the courier applied it", schema: CommandApplied } },
    errors: ERRORS,
  },
];

export function dispatchRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const auth = authenticated(deps);
  const market = (id: string): ActorRef => ({ type: "market", id });
  const orderRef = (order: Order): ActorRef => ({ type: "order", id: order.id });
  const log = (c: Context<Env>, action: string, fields: Record<string, unknown>) =>
    c.get("log").info({ action, ...fields }, "dispatcher override");

  app.get(BASE, auth, async (c) => {
    const { marketId } = dispatcher(c);
    const { seq, view } = await actorView(deps, market(marketId));
    if (seq === 0) throw new ApiError(404, "unknown_market", `market ${marketId} has no state`);
    return c.json(view as object);
  });

  app.post(`${BASE}/orders/:orderId/reassign`, auth, async (c) => {
    const { marketId, by } = dispatcher(c);
    const body = await readBody(c, ReassignBody);
    const order = await marketOrder(deps, c, marketId);
    log(c, "reassign", { orderId: order.id, ...body });
    if (body.courierId !== undefined) {
      const result = await sendCommand(
        deps,
        c,
        market(marketId),
        { type: "force_assign", orderId: order.id, courierId: body.courierId, reason: body.reason },
        { by, action: "reassign", forwardTo: orderRef(order) },
      );
      return applied(c, result);
    }
    const result = await sendCommand(
      deps,
      c,
      orderRef(order),
      { type: "reassign", reason: body.reason },
      { by, action: "reassign" },
    );
    return applied(c, result);
  });

  app.post(`${BASE}/orders/:orderId/lock`, auth, async (c) => {
    const { marketId, by } = dispatcher(c);
    const body = await readBody(c, LockBody);
    const order = await marketOrder(deps, c, marketId);
    log(c, "lock", { orderId: order.id, ...body });
    if (ASSIGNED.has(order.status)) {
      if (body.courierId !== undefined && body.courierId !== order.courierId) {
        throw new ApiError(
          409,
          "courier_mismatch",
          `order ${order.id} is assigned to ${order.courierId}, not ${body.courierId}`,
        );
      }
      const result = await sendCommand(
        deps,
        c,
        orderRef(order),
        { type: "lock", reason: body.reason },
        { by, action: "lock" },
      );
      return applied(c, result);
    }
    if (body.courierId === undefined) {
      throw new ApiError(
        400,
        "invalid_body",
        "courierId: required to lock an order that waits for a courier",
      );
    }
    const result = await sendCommand(
      deps,
      c,
      market(marketId),
      { type: "lock", orderId: order.id, courierId: body.courierId, reason: body.reason },
      { by, action: "lock" },
    );
    return applied(c, result);
  });

  app.post(`${BASE}/orders/:orderId/unlock`, auth, async (c) => {
    const { marketId, by } = dispatcher(c);
    const body = await readBody(c, ReasonBody);
    const order = await marketOrder(deps, c, marketId);
    log(c, "unlock", { orderId: order.id, ...body });
    if (order.lock !== null) {
      const result = await sendCommand(
        deps,
        c,
        orderRef(order),
        { type: "unlock" },
        {
          by,
          action: "unlock",
        },
      );
      return applied(c, result);
    }
    if (order.hold !== null) {
      throw new ApiError(
        409,
        "held",
        `order ${order.id} is also held; the market's release would undo both: use release`,
      );
    }
    const result = await sendCommand(
      deps,
      c,
      market(marketId),
      { type: "release", orderId: order.id, reason: body.reason },
      { by, action: "unlock" },
    );
    return applied(c, result);
  });

  // Hold and release go through the market once it knows the order (from acceptance on);
  // before that only the order can hold it.
  for (const [path, marketType, orderType] of [
    ["hold", "hold", "hold"],
    ["release", "release", "release_hold"],
  ] as const) {
    app.post(`${BASE}/orders/:orderId/${path}`, auth, async (c) => {
      const { marketId, by } = dispatcher(c);
      const body = await readBody(c, ReasonBody);
      const order = await marketOrder(deps, c, marketId);
      log(c, path, { orderId: order.id, ...body });
      if (order.acceptedAt === null) {
        const msg =
          orderType === "hold" ? { type: "hold", reason: body.reason } : { type: orderType };
        const result = await sendCommand(deps, c, orderRef(order), msg, { by, action: path });
        return applied(c, result);
      }
      const result = await sendCommand(
        deps,
        c,
        market(marketId),
        { type: marketType, orderId: order.id, reason: body.reason },
        { by, action: path, forwardTo: orderRef(order) },
      );
      return applied(c, result);
    });
  }

  for (const [path, type] of [
    ["force-assign", "force_assign"],
    ["offer", "offer"],
  ] as const) {
    app.post(`${BASE}/orders/:orderId/${path}`, auth, async (c) => {
      const { marketId, by } = dispatcher(c);
      const body = await readBody(c, CourierReasonBody);
      const order = await marketOrder(deps, c, marketId);
      log(c, path, { orderId: order.id, ...body });
      // The market's offer carries no reason (dispatch makes offers too): it is logged here.
      const msg =
        type === "offer"
          ? { type, orderId: order.id, courierId: body.courierId }
          : { type, orderId: order.id, courierId: body.courierId, reason: body.reason };
      const result = await sendCommand(deps, c, market(marketId), msg, {
        by,
        action: path,
        forwardTo: type === "offer" ? { type: "courier", id: body.courierId } : orderRef(order),
      });
      return applied(c, result);
    });
  }

  app.post(`${BASE}/couriers/:courierId/stops`, auth, async (c) => {
    const { marketId, by } = dispatcher(c);
    const courierId = idParam(c, "courierId");
    const body = await readBody(c, ReorderStopsBody);
    let courierMkt: string | null;
    try {
      courierMkt = await courierMarket(deps.actors, courierId);
    } catch (err) {
      throw new ApiError(503, "unavailable", `courier ${courierId} cannot be read now`, {
        cause: err,
      });
    }
    if (courierMkt !== marketId) {
      throw new ApiError(
        404,
        "unknown_courier",
        `courier ${courierId} is not on shift in market ${marketId}`,
      );
    }
    log(c, "reorder_stops", { courierId, reason: body.reason, stops: body.stops.length });
    // The courier's message carries no reason: it is logged here with the dispatcher.
    const result = await sendCommand(
      deps,
      c,
      { type: "courier", id: courierId },
      { type: "reorder_stops", stops: body.stops },
      { by, action: "reorder_stops" },
    );
    return applied(c, result);
  });
  return app;
}
