/**
 * Scheduled waves (社区集单) over HTTP:
 *
 * - dispatchers of the market (and admins): open a wave, read its plan, move a drop-off stop to
 *   another van (re-checked by the wave; refused with the reason, or answered with the new cost),
 *   lock or unlock a van's route, ask for a re-plan (`/v1/markets/:marketId/waves/...`);
 * - a pickup point's staff (a store principal the point lists) or a dispatcher: confirm a van's
 *   arrival at the point (its orders are then at the point and their shoppers notified) and hand
 *   goods to a shopper who shows the pickup code (`/v1/waves/:waveId/...`);
 * - a van's driver: the route of their van (`GET /v1/waves/:waveId/route`).
 *
 * The wave actor decides; these routes check who is asking and shape the answers.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ActorRef } from "../../actors/index.ts";
import type { WaveView } from "../../actors/index.ts";
import {
  ArrivalBody,
  CollectBody,
  LockRouteBody,
  MoveStopBody,
  OpenWaveBody,
  WaveId,
  marketOfWave,
  waveIdOf,
} from "../../protocol/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { CommandApplied } from "../../protocol/http.ts";
import { ApiError } from "../errors.ts";
import {
  actorView,
  applied,
  authenticated,
  idParam,
  principalOf,
  sendCommand,
} from "./commands.ts";
import { readBody, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";
import type { ErrorStatus, RouteSpec } from "./spec.ts";

const MARKET = "/v1/markets/:marketId/waves";
const WAVE = "/v1/waves/:waveId";
const OPERATORS = ["dispatcher", "admin"] as const;
const STAFF = ["store", "dispatcher", "admin"] as const;
const ERRORS: readonly ErrorStatus[] = [400, 401, 403, 404, 409, 413, 503, 504];

const waveRef = (id: string): ActorRef => ({ type: "wave", id });

function waveParam(c: Context<Env>): string {
  const value = c.req.param("waveId") ?? "";
  if (!WaveId.safeParse(value).success) {
    throw new ApiError(
      400,
      "invalid_param",
      `waveId: not <market>-<yyyymmdd>-<slot>: ${value.slice(0, 80)}`,
    );
  }
  return value;
}

/** A dispatcher acts in its own market (`mkt`), an admin in any. */
function checkMarket(claims: TokenClaims, marketId: string): void {
  if (claims.role === "dispatcher" && claims.mkt !== marketId) {
    throw new ApiError(403, "forbidden", `market ${marketId} is not yours (${claims.mkt})`);
  }
}

/** Who may act on the market's wave, and its id; checks nothing stored yet. */
function marketWaveId(c: Context<Env>): string {
  const claims = requireRole(c, OPERATORS);
  const marketId = idParam(c, "marketId");
  checkMarket(claims, marketId);
  const waveId = waveParam(c);
  if (marketOfWave(waveId) !== marketId) {
    throw new ApiError(404, "unknown_wave", `wave ${waveId} is not in market ${marketId}`);
  }
  return waveId;
}

/** The wave of the market named in the path; 404 when it was never opened or is another's. */
async function marketWave(
  deps: HttpDeps,
  c: Context<Env>,
): Promise<{ waveId: string; view: WaveView }> {
  const waveId = marketWaveId(c);
  const { seq, view } = await actorView<WaveView>(deps, waveRef(waveId));
  if (seq === 0 || view.config === null)
    throw new ApiError(404, "unknown_wave", `no wave ${waveId}`);
  return { waveId, view };
}

/** What the console draws: the plan, the points, and each order's place and status. */
function planAnswer(waveId: string, view: WaveView) {
  return {
    waveId,
    status: view.status,
    config: view.config,
    pickupPoints: Object.values(view.pickupPoints),
    orders: Object.values(view.orders).map((o) => ({
      orderId: o.orderId,
      storeId: o.storeId,
      status: o.status,
      temperatureClass: o.temperatureClass,
      destination: o.destination,
    })),
    plan: view.plan,
    planning: view.pending,
    locked: view.locked,
  };
}

/**
 * Before an order is created with a wave: the wave takes orders now, the point is the wave's and
 * can hold it. The wave checks again when the order joins; this answers the shop at once (a
 * refused join would otherwise leave an order waiting for a wave it is not in).
 */
export async function checkWaveJoin(
  deps: HttpDeps,
  waveId: string,
  dropoff: { kind: "door" } | { kind: "pickup_point"; pickupPointId: string },
  temperatureClass: "ambient" | "chilled" | "frozen",
): Promise<void> {
  const { seq, view } = await actorView<WaveView>(deps, waveRef(waveId));
  if (seq === 0 || view.config === null)
    throw new ApiError(404, "unknown_wave", `no wave ${waveId}`);
  if (view.status !== "open" && view.status !== "cut_off") {
    throw new ApiError(409, "wave_departed", `the vans of wave ${waveId} have left`);
  }
  if (dropoff.kind !== "pickup_point") return;
  const point = view.pickupPoints[dropoff.pickupPointId];
  if (point === undefined) {
    throw new ApiError(
      409,
      "unknown_pickup_point",
      `pickup point ${dropoff.pickupPointId} is not in wave ${waveId}`,
    );
  }
  if (temperatureClass !== "ambient" && !point.chilledShelf) {
    throw new ApiError(
      409,
      "no_chilled_shelf",
      `${point.name} has no chilled shelf for ${temperatureClass} goods`,
    );
  }
  const there = Object.values(view.orders).filter(
    (o) => o.destination.kind === "pickup_point" && o.destination.pickupPointId === point.id,
  ).length;
  if (there >= point.capacity) {
    throw new ApiError(
      409,
      "pickup_point_full",
      `${point.name} holds ${point.capacity} orders of this wave and is full`,
    );
  }
}

export const WAVE_ROUTES: readonly RouteSpec[] = [
  {
    method: "post",
    path: MARKET,
    operationId: "openWave",
    summary:
      "Open a scheduled wave (社区集单) for a day and slot: cut-off, departure, vans, pickup points",
    description:
      "The wave `<market>-<day>-<slot>` plans its vans at `cutoffAt` (and again on a late order or a cancellation before `departAt`); orders join it by `wave` on create.",
    tag: "dispatch",
    roles: OPERATORS,
    idempotencyKey: true,
    body: { schema: OpenWaveBody },
    responses: { 200: { description: "the wave opened", schema: CommandApplied } },
    errors: ERRORS,
  },
  {
    method: "get",
    path: `${MARKET}/:waveId`,
    operationId: "getWave",
    summary: "The wave's plan: routes per van with planned times, its points and orders",
    tag: "dispatch",
    roles: OPERATORS,
    responses: { 200: { description: "the wave" } },
    errors: [400, 401, 403, 404, 503],
  },
  {
    method: "post",
    path: `${MARKET}/:waveId/moves`,
    operationId: "moveWaveStop",
    summary: "Move a drop-off stop (its orders, their pickups with them) to another van",
    description:
      "Re-checked (windows, capacity, compartments, shift end): refused with 409 `infeasible_move` and the reason, `stale_plan` when the plan changed, `route_locked`; answered with the new plan and its cost.",
    tag: "dispatch",
    roles: OPERATORS,
    idempotencyKey: true,
    body: { schema: MoveStopBody },
    responses: { 200: { description: "the new plan, with `previousCost` and `cost`" } },
    errors: ERRORS,
  },
  {
    method: "post",
    path: `${MARKET}/:waveId/locks`,
    operationId: "lockWaveRoute",
    summary: "Lock (or unlock) a van's route: re-plans and moves keep it as it is",
    tag: "dispatch",
    roles: OPERATORS,
    idempotencyKey: true,
    body: { schema: LockRouteBody },
    responses: { 200: { description: "the wave applied it", schema: CommandApplied } },
    errors: ERRORS,
  },
  {
    method: "post",
    path: `${MARKET}/:waveId/replan`,
    operationId: "replanWave",
    summary: "Plan the wave again now (before departure); locked routes are kept",
    tag: "dispatch",
    roles: OPERATORS,
    idempotencyKey: true,
    responses: { 200: { description: "the planner was asked", schema: CommandApplied } },
    errors: ERRORS,
  },
  {
    method: "post",
    path: `${WAVE}/points/:pickupPointId/arrivals`,
    operationId: "confirmWaveArrival",
    summary: "The point's staff confirm a van's arrival: its orders are at the point",
    description:
      "Each order's shopper gets `at_pickup_point` on the order's channel; the code shows on their page. For the staff the point lists (store tokens) or a dispatcher of the market.",
    tag: "stores",
    roles: STAFF,
    idempotencyKey: true,
    body: { schema: ArrivalBody },
    responses: { 200: { description: "the wave applied it", schema: CommandApplied } },
    errors: ERRORS,
  },
  {
    method: "post",
    path: `${WAVE}/orders/:orderId/collect`,
    operationId: "collectWaveOrder",
    summary: "Hand a wave order to its shopper, who shows the pickup code",
    description:
      "Refused with 409 `wrong_pickup_code`, `not_at_pickup_point` or `already_collected`.",
    tag: "stores",
    roles: STAFF,
    idempotencyKey: true,
    body: { schema: CollectBody },
    responses: {
      200: { description: "the wave applied it; the order is delivered", schema: CommandApplied },
    },
    errors: ERRORS,
  },
  {
    method: "get",
    path: `${WAVE}/route`,
    operationId: "getWaveRoute",
    summary: "The driver's van route in the wave: stops in order with planned times",
    tag: "couriers",
    roles: ["courier"],
    responses: { 200: { description: "the van, its stops and the wave's status" } },
    errors: [400, 401, 403, 404, 503],
  },
];

export function waveRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const auth = authenticated(deps);

  app.post(MARKET, auth, async (c) => {
    const claims = requireRole(c, OPERATORS);
    const marketId = idParam(c, "marketId");
    checkMarket(claims, marketId);
    const body = await readBody(c, OpenWaveBody);
    const waveId = waveIdOf(marketId, body.day, body.slot);
    if (!WaveId.safeParse(waveId).success) {
      throw new ApiError(400, "invalid_body", `wave id ${waveId} is too long: shorten the slot`);
    }
    const { day: _day, slot: _slot, ...rest } = body;
    const result = await sendCommand(
      deps,
      c,
      waveRef(waveId),
      { type: "open", marketId, ...rest },
      { by: principalOf(claims), action: "open_wave" },
    );
    return c.json({ ...result, waveId });
  });

  app.get(`${MARKET}/:waveId`, auth, async (c) => {
    const { waveId, view } = await marketWave(deps, c);
    return c.json(planAnswer(waveId, view));
  });

  // Authorization, then the body, then the wave: a bad body is a 400 whether the wave exists.
  app.post(`${MARKET}/:waveId/moves`, auth, async (c) => {
    marketWaveId(c);
    const body = await readBody(c, MoveStopBody);
    const { waveId, view } = await marketWave(deps, c);
    await sendCommand(
      deps,
      c,
      waveRef(waveId),
      { type: "move_stop", ...body },
      { by: principalOf(c.get("claims")), action: "move_stop" },
    );
    const after = await actorView<WaveView>(deps, waveRef(waveId));
    return c.json({
      ...planAnswer(waveId, after.view),
      previousCost: view.plan?.cost ?? null,
      cost: after.view.plan?.cost ?? null,
    });
  });

  app.post(`${MARKET}/:waveId/locks`, auth, async (c) => {
    marketWaveId(c);
    const body = await readBody(c, LockRouteBody);
    const { waveId } = await marketWave(deps, c);
    const result = await sendCommand(
      deps,
      c,
      waveRef(waveId),
      { type: "lock_route", ...body },
      { by: principalOf(c.get("claims")), action: "lock_route" },
    );
    return applied(c, result);
  });

  app.post(`${MARKET}/:waveId/replan`, auth, async (c) => {
    const { waveId } = await marketWave(deps, c);
    const result = await sendCommand(
      deps,
      c,
      waveRef(waveId),
      { type: "replan" },
      { by: principalOf(c.get("claims")), action: "replan" },
    );
    return applied(c, result);
  });

  /** Staff of a point, or an operator of the wave's market. The wave checks the point's list. */
  const staff = (c: Context<Env>): { waveId: string; claims: TokenClaims } => {
    const claims = requireRole(c, STAFF);
    const waveId = waveParam(c);
    if (claims.role === "dispatcher") checkMarket(claims, marketOfWave(waveId));
    return { waveId, claims };
  };

  app.post(`${WAVE}/points/:pickupPointId/arrivals`, auth, async (c) => {
    const { waveId, claims } = staff(c);
    const pickupPointId = idParam(c, "pickupPointId");
    const body = await readBody(c, ArrivalBody);
    const result = await sendCommand(
      deps,
      c,
      waveRef(waveId),
      { type: "arrive_at_point", pickupPointId, vehicleId: body.vehicleId },
      { by: principalOf(claims), action: "arrive_at_point" },
    );
    return applied(c, result);
  });

  app.post(`${WAVE}/orders/:orderId/collect`, auth, async (c) => {
    const { waveId, claims } = staff(c);
    const orderId = idParam(c, "orderId");
    const body = await readBody(c, CollectBody);
    const result = await sendCommand(
      deps,
      c,
      waveRef(waveId),
      { type: "collect", orderId, pickupCode: body.pickupCode },
      { by: principalOf(claims), action: "collect" },
    );
    return applied(c, result);
  });

  app.get(`${WAVE}/route`, auth, async (c) => {
    const claims = requireRole(c, ["courier"]);
    const waveId = waveParam(c);
    const { seq, view } = await actorView<WaveView>(deps, waveRef(waveId));
    if (seq === 0 || view.config === null)
      throw new ApiError(404, "unknown_wave", `no wave ${waveId}`);
    const route = view.plan?.routes.find((r) => r.courierId === claims.sub);
    if (route === undefined) {
      throw new ApiError(404, "no_route", `courier ${claims.sub} drives no van in wave ${waveId}`);
    }
    const points = view.pickupPoints;
    return c.json({
      waveId,
      status: view.status,
      vehicleId: route.vehicleId,
      locked: route.locked,
      returnAt: route.returnAt,
      stops: route.stops.map((s) => {
        const pointId = s.place.startsWith("point:") ? s.place.slice("point:".length) : null;
        return {
          ...s,
          name: pointId !== null ? (points[pointId]?.name ?? pointId) : s.place,
          // Done once every order of the stop has moved past it.
          done: s.orderIds.every((id) => {
            const status = view.orders[id]?.status;
            return s.kind === "pickup"
              ? status !== undefined && status !== "joined"
              : status === "at_pickup_point" || status === "collected" || status === "uncollected";
          }),
        };
      }),
    });
  });

  return app;
}
