/**
 * The store API (`/v1/stores/:storeId/...`): a shop's back end or the store's screen places
 * orders, takes them on, says when they are ready, reports problems and hands them to couriers
 * with the courier's pickup code. A store token acts for its own store (`sub`); an admin for any.
 *
 * Staff actions go to the store actor, which checks them against what it holds and hands them
 * on to the order (answered 202); cancel and returned go to the order itself (200).
 */
import { createHash, createHmac } from "node:crypto";
import { jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Hono } from "hono";
import type { Context } from "hono";
import type { z } from "zod";
import type { ActorRef, Principal, StoreView } from "../../actors/index.ts";
import { toWgs84 } from "../../geo/index.ts";
import { EventEnvelope } from "../../protocol/index.ts";
import {
  AcceptOrderBody,
  CancelOrderBody,
  CommandApplied,
  CreatedOrder,
  CreateOrderBody,
  EmptyBody,
  HandOffBody,
  ReadyAtBody,
  RejectOrderBody,
  ReportProblemBody,
  ReturnedBody,
} from "../../protocol/http.ts";
import type { Order } from "../access.ts";
import { ApiError } from "../errors.ts";
import {
  actorView,
  applied,
  authenticated,
  existingOrder,
  idParam,
  principalOf,
  readOptionalBody,
  sendCommand,
} from "./commands.ts";
import { readBody, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";
import type { ErrorStatus, RouteSpec } from "./spec.ts";

const BASE = "/v1/stores/:storeId";
const ROLES = ["store", "admin"] as const;
const PICKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/**
 * The order id of a shop's order: a digest of the store and the shop's order number, so the
 * same shop order always names the same order actor (and a resubmission finds it).
 */
export function orderIdFor(storeId: string, shopOrderId: string): string {
  const digest = createHash("sha256").update(`${storeId}\n${shopOrderId}`).digest("hex");
  return `o-${digest.slice(0, 24)}`;
}

/** A digest of what the shop sent, to tell a resubmission from another order under the same number. */
export function fingerprintOf(storeId: string, body: CreateOrderBody): string {
  return createHash("sha256")
    .update(canonicalJson({ storeId, ...body }))
    .digest("hex")
    .slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A pickup code for an order the shop gave none: derived, so a resubmission gets the same one. */
export function derivedPickupCode(secret: string, orderId: string): string {
  const digest = createHmac("sha256", secret).update(`pickup-code\n${orderId}`).digest();
  let code = "";
  for (let i = 0; i < 6; i++) code += PICKUP_ALPHABET[digest[i]! % PICKUP_ALPHABET.length];
  return code;
}

const createCommandId = (orderId: string, fingerprint: string) =>
  `create.${orderId}.${fingerprint}`;

/** The caller's store and principal: a store token for its own store only, an admin for any. */
function storeCaller(c: Context<Env>): { storeId: string; by: Principal } {
  const claims = requireRole(c, ROLES);
  const storeId = idParam(c, "storeId");
  if (claims.role === "store" && claims.sub !== storeId) {
    throw new ApiError(403, "forbidden", `this token is store ${claims.sub}'s, not ${storeId}'s`);
  }
  return { storeId, by: principalOf(claims) };
}

const jsms = new WeakMap<HttpDeps, Promise<JetStreamManager>>();

/** The id of the command that created the order, from its `created` event; null if gone. */
async function creatingCommandId(deps: HttpDeps, orderId: string): Promise<string | null> {
  let jsm = jsms.get(deps);
  if (!jsm) {
    jsm = jetstreamManager(deps.nc);
    jsms.set(deps, jsm);
  }
  try {
    const msg = await (
      await jsm
    ).streams.getMessage(deps.topology.streams.events, {
      last_by_subj: deps.topology.subjects.event({ type: "order", id: orderId }, "created"),
    });
    if (!msg) return null;
    const event = EventEnvelope.safeParse(msg.json());
    return event.success ? event.data.commandId : null;
  } catch (err) {
    // "no message found": the event aged out of the stream.
    if (err instanceof JetStreamApiError && err.code === 10037) return null;
    throw err;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The order as the shop would have created it, in what the order's view shows. */
function matchesVisible(order: Order, body: CreateOrderBody, dropoff: Order["dropoff"]): boolean {
  return (
    order.shopOrderId === body.shopOrderId &&
    order.shopperId === (body.shopperId ?? null) &&
    order.temperatureClass === body.temperatureClass &&
    order.promisedAt === body.promisedAt &&
    order.hasDeliveryPin === (body.deliveryPin !== undefined) &&
    sameJson(order.items, body.items) &&
    sameJson(order.amounts, body.amounts) &&
    sameJson(order.dropoff, dropoff)
  );
}

function summary(order: Order): CreatedOrder {
  return {
    orderId: order.id,
    shopOrderId: order.shopOrderId,
    storeId: order.storeId,
    marketId: order.marketId,
    status: order.status,
    placedAt: order.placedAt,
  };
}

/** POST /orders: create the order once; the same body again is answered 200, another 409. */
async function createOrder(deps: HttpDeps, c: Context<Env>): Promise<Response> {
  const { storeId, by } = storeCaller(c);
  const body = await readBody(c, CreateOrderBody);
  const orderId = orderIdFor(storeId, body.shopOrderId);
  const fingerprint = fingerprintOf(storeId, body);
  const dropoff =
    body.coord === "gcj02"
      ? { ...body.dropoff, location: toWgs84(body.dropoff.location) }
      : body.dropoff;

  const replay = async (): Promise<Response> => {
    const order = await existingOrder(deps, orderId);
    const createdBy = await creatingCommandId(deps, orderId);
    const same =
      order.storeId === storeId &&
      (createdBy !== null
        ? createdBy === createCommandId(orderId, fingerprint)
        : matchesVisible(order, body, dropoff));
    if (!same) {
      throw new ApiError(
        409,
        "idempotency_conflict",
        `order ${body.shopOrderId} of store ${storeId} was already created with another body`,
      );
    }
    c.header("Idempotent-Replayed", "true");
    return c.json(summary(order), 200);
  };

  const { view: existing } = await actorView<{ status: string }>(deps, {
    type: "order",
    id: orderId,
  });
  if (existing.status !== "none") return replay();

  const { view: store } = await actorView<StoreView>(deps, { type: "store", id: storeId });
  if (store.status === "none") {
    throw new ApiError(404, "unknown_store", `store ${storeId} is not registered`);
  }
  const placedAt = deps.clock();
  try {
    await sendCommand(
      deps,
      c,
      { type: "order", id: orderId },
      {
        type: "create",
        storeId,
        marketId: store.profile.marketId,
        shopOrderId: body.shopOrderId,
        ...(body.shopperId !== undefined ? { shopperId: body.shopperId } : {}),
        temperatureClass: body.temperatureClass,
        items: body.items,
        amounts: body.amounts,
        pickup: store.profile.location,
        dropoff,
        promisedAt: body.promisedAt,
        pickupCode: body.pickupCode ?? derivedPickupCode(deps.auth.secret, orderId),
        ...(body.deliveryPin !== undefined ? { deliveryPin: body.deliveryPin } : {}),
      },
      { by, action: "create", commandId: createCommandId(orderId, fingerprint), at: placedAt },
    );
  } catch (err) {
    // Created meanwhile by a concurrent request: answer as for a resubmission.
    if (err instanceof ApiError && err.code === "already_exists") return replay();
    throw err;
  }
  const created: CreatedOrder = {
    orderId,
    shopOrderId: body.shopOrderId,
    storeId,
    marketId: store.profile.marketId,
    status: "created",
    placedAt,
  };
  c.header("Location", `/v1/stores/${storeId}/orders/${orderId}`);
  return c.json(created, 201);
}

/** A staff action on one order: its path, body and the actor message it becomes. */
interface OrderAction<S extends z.ZodType> {
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly body: S;
  /** An empty body is fine (every field optional). */
  readonly optionalBody?: boolean;
  /** To the store actor (handed on to the order), or to the order itself. */
  readonly to: "store" | "order";
  readonly message: (
    orderId: string,
    body: z.infer<S>,
  ) => { type: string } & Record<string, unknown>;
  /** Whether the store actor hands this body's action on to the order (default: yes). */
  readonly forwards?: (body: z.infer<S>) => boolean;
}

function action<S extends z.ZodType>(a: OrderAction<S>): OrderAction<z.ZodType> {
  return a as unknown as OrderAction<z.ZodType>;
}

const ORDER_ACTIONS: readonly OrderAction<z.ZodType>[] = [
  action({
    path: "accept",
    operationId: "acceptOrder",
    summary: "Take the order on, saying when it will be ready",
    description:
      "Without `readyAt` the store's learned preparation time predicts it. Refused while the store is closed (`store_closed`).",
    body: AcceptOrderBody,
    optionalBody: true,
    to: "store",
    message: (orderId, b) => ({
      type: "accept_order",
      orderId,
      ...(b.readyAt !== undefined ? { readyAt: b.readyAt } : {}),
    }),
  }),
  action({
    path: "reject",
    operationId: "rejectOrder",
    summary: "Turn the order down (it is cancelled with the reason)",
    body: RejectOrderBody,
    to: "store",
    message: (orderId, b) => ({ type: "reject_order", orderId, ...b }),
  }),
  action({
    path: "preparing",
    operationId: "startPreparing",
    summary: "The kitchen started on the order",
    body: EmptyBody,
    optionalBody: true,
    to: "store",
    message: (orderId) => ({ type: "start_preparing", orderId }),
  }),
  action({
    path: "ready",
    operationId: "markReady",
    summary: "The order is ready for its courier",
    body: EmptyBody,
    optionalBody: true,
    to: "store",
    message: (orderId) => ({ type: "mark_ready", orderId }),
  }),
  action({
    path: "ready-at",
    operationId: "setReadyAt",
    summary: "A new time the order will be ready",
    body: ReadyAtBody,
    to: "store",
    message: (orderId, b) => ({ type: "set_ready_at", orderId, readyAt: b.readyAt }),
  }),
  action({
    path: "problems",
    operationId: "reportProblem",
    summary: "Report a problem with the order (out of stock, delay, ...)",
    description:
      "A `delay` needs `delayMinutes` and moves the ready-at time that much later; the other kinds are recorded for the dispatcher.",
    body: ReportProblemBody,
    to: "store",
    message: (orderId, b) => ({ type: "report_problem", orderId, ...b }),
    forwards: (b) => b.kind === "delay",
  }),
  action({
    path: "hand-off",
    operationId: "handOff",
    summary: "Hand the order to its courier, with the code the courier shows",
    description:
      "Refused with `wrong_pickup_code`, `no_courier_assigned` or `not_accepted` (409), or `not_assigned_courier` (403) when `courierId` is not the order's courier.",
    body: HandOffBody,
    to: "store",
    message: (orderId, b) => ({ type: "hand_off", orderId, ...b }),
  }),
  action({
    path: "cancel",
    operationId: "cancelOrder",
    summary: "Cancel the order (before pickup), e.g. at the shopper's request",
    body: CancelOrderBody,
    to: "order",
    message: (_orderId, b) => ({ type: "cancel", ...b }),
  }),
  action({
    path: "returned",
    operationId: "markReturned",
    summary: "The goods of a failed delivery are back at the store",
    body: ReturnedBody,
    optionalBody: true,
    to: "order",
    message: (_orderId, b) => ({ type: "mark_returned", ...b }),
  }),
];

const COMMAND_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 409, 413, 504];

export const STORE_ROUTES: readonly RouteSpec[] = [
  {
    method: "post",
    path: `${BASE}/orders`,
    operationId: "createOrder",
    summary: "Place an order at the store (from the shop's back end)",
    description:
      "Idempotent by `shopOrderId`: the order's id is derived from the store and `shopOrderId`. The same body again answers 200 with the order as it is now (header `Idempotent-Replayed: true`); another body under the same `shopOrderId` answers 409 `idempotency_conflict`. The order's market and pickup location come from the store's profile.",
    tag: "stores",
    roles: ROLES,
    body: { schema: CreateOrderBody },
    responses: {
      201: { description: "created", schema: CreatedOrder },
      200: {
        description: "already created with this body: the order as it is now",
        schema: CreatedOrder,
      },
    },
    errors: [400, 401, 403, 404, 409, 413, 503, 504],
  },
  {
    method: "get",
    path: `${BASE}/orders`,
    operationId: "listStoreOrders",
    summary:
      "The orders at the store: waiting to be accepted (`incoming`) and to be handed off (`pending`)",
    tag: "stores",
    roles: ROLES,
    responses: { 200: { description: "the store's view (pickup codes left out)" } },
    errors: [400, 401, 403, 404, 503],
  },
  {
    method: "get",
    path: `${BASE}/orders/:orderId`,
    operationId: "getStoreOrder",
    summary: "One of the store's orders, as the order actor holds it",
    tag: "stores",
    roles: ROLES,
    responses: { 200: { description: "the order's view (pickup code and PIN left out)" } },
    errors: [400, 401, 403, 404, 503],
  },
  ...ORDER_ACTIONS.map((a): RouteSpec => ({
    method: "post",
    path: `${BASE}/orders/:orderId/${a.path}`,
    operationId: a.operationId,
    summary: a.summary,
    ...(a.description ? { description: a.description } : {}),
    tag: "stores",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: a.body, ...(a.optionalBody ? { optional: true } : {}) },
    responses:
      a.to === "store"
        ? {
            202: {
              description: "the store applied it and hands it on to the order",
              schema: CommandApplied,
            },
            200: {
              description: "the store applied it; nothing for the order",
              schema: CommandApplied,
            },
          }
        : { 200: { description: "the order applied it", schema: CommandApplied } },
    errors: COMMAND_ERRORS,
  })),
];

export function storeRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const auth = authenticated(deps);

  app.post(`${BASE}/orders`, auth, (c) => createOrder(deps, c));

  app.get(`${BASE}/orders`, auth, async (c) => {
    const { storeId } = storeCaller(c);
    const { view } = await actorView<StoreView>(deps, { type: "store", id: storeId });
    if (view.status === "none") {
      throw new ApiError(404, "unknown_store", `store ${storeId} is not registered`);
    }
    return c.json({
      storeId,
      name: view.profile.name,
      marketId: view.profile.marketId,
      pause: view.pause,
      incoming: view.incoming,
      pending: view.pending,
      problems: view.problems,
    });
  });

  app.get(`${BASE}/orders/:orderId`, auth, async (c) => {
    const { storeId } = storeCaller(c);
    const order = await existingOrder(deps, idParam(c, "orderId"));
    if (order.storeId !== storeId) {
      throw new ApiError(404, "unknown_order", `store ${storeId} has no order ${order.id}`);
    }
    return c.json(order);
  });

  for (const a of ORDER_ACTIONS) {
    app.post(`${BASE}/orders/:orderId/${a.path}`, auth, async (c) => {
      const { storeId, by } = storeCaller(c);
      const orderId = idParam(c, "orderId");
      const body = a.optionalBody ? await readOptionalBody(c, a.body) : await readBody(c, a.body);
      const orderRef: ActorRef = { type: "order", id: orderId };
      if (a.to === "order") {
        // Straight to the order, which checks that it is this store's (`not_own_order`).
        const result = await sendCommand(deps, c, orderRef, a.message(orderId, body), {
          by,
          action: a.path,
        });
        return applied(c, result);
      }
      const forwards = a.forwards?.(body) ?? true;
      const result = await sendCommand(
        deps,
        c,
        { type: "store", id: storeId },
        a.message(orderId, body),
        { by, action: a.path, ...(forwards ? { forwardTo: orderRef } : {}) },
      );
      return applied(c, result);
    });
  }
  return app;
}
