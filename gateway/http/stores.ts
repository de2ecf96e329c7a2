/**
 * The store API (`/v1/stores/:storeId/...`): a shop's back end or the store's screen places
 * orders, takes them on, says when they are ready, reports problems and hands them to couriers
 * with the courier's pickup code. A store token acts for its own store (`sub`); an admin for any.
 *
 * Staff actions go to the store actor, which checks them against what it holds and hands them
 * on to the order (answered 202); cancel and returned go to the order itself (200).
 *
 * A chilled or frozen order handed to a courier driving a refrigerated van goes into one of the
 * van's compartments: the vehicle must take it (`load`, awaited) before the store hands it off,
 * so a compartment of the wrong class or out of range refuses the hand-off with its reason. A
 * hand-off the store then refuses undoes the load (`unload`). See `handOffIntoVehicle`.
 */
import { createHash, createHmac } from "node:crypto";
import { jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Hono } from "hono";
import type { Context } from "hono";
import type { z } from "zod";
import type { ActorRef, Principal, StoreView } from "../../actors/index.ts";
import { toWgs84 } from "../../geo/index.ts";
import { ActorId, EventEnvelope } from "../../protocol/index.ts";
import type { TemperatureClass } from "../../protocol/index.ts";
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
import { decryptContact, encryptContact, PiiError } from "../../pii/index.ts";
import type { EncryptedContact } from "../../pii/index.ts";
import type { Order } from "../access.ts";
import { ApiError } from "../errors.ts";
import { contactDigest, contactFor, withContact } from "./contact.ts";
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
import { checkWaveJoin } from "./waves.ts";

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

/**
 * A digest of what the shop sent, to tell a resubmission from another order under the same
 * number. The shopper's contact enters as a keyed digest (`contactDigest`), never as itself: the
 * fingerprint is part of the create's command id, which the stream and the order keep.
 */
export function fingerprintOf(storeId: string, body: CreateOrderBody, secret: string): string {
  const { contact, ...rest } = body;
  const keyed = contact === undefined ? rest : { ...rest, contact: contactDigest(secret, contact) };
  return createHash("sha256")
    .update(canonicalJson({ storeId, ...keyed }))
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

/** Whether the order's stored contact is the one in `body` (false when it cannot be told). */
function sameContact(deps: HttpDeps, order: Order, body: CreateOrderBody): boolean {
  if (body.contact === undefined || order.contact === null) {
    return body.contact === undefined && order.contact === null;
  }
  if (!deps.pii) return false;
  try {
    const stored = decryptContact(deps.pii, order.id, order.contact);
    const sent = body.contact;
    return (
      stored.name === sent.name &&
      stored.phone === sent.phone &&
      stored.address === (sent.address ?? null) &&
      stored.doorNote === (sent.doorNote ?? null)
    );
  } catch (err) {
    if (err instanceof PiiError) return false;
    throw err;
  }
}

/** The order as the shop would have created it, in what the order's view shows. */
function matchesVisible(
  deps: HttpDeps,
  order: Order,
  body: CreateOrderBody,
  dropoff: Order["dropoff"],
): boolean {
  return (
    sameContact(deps, order, body) &&
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
  const fingerprint = fingerprintOf(storeId, body, deps.auth.secret);
  if (body.contact && body.dropoff.kind === "door" && body.contact.address === undefined) {
    throw new ApiError(
      400,
      "address_required",
      "contact.address: a door drop-off needs the shopper's address",
    );
  }
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
        : matchesVisible(deps, order, body, dropoff));
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
  if (body.wave !== undefined) {
    await checkWaveJoin(deps, body.wave.waveId, body.dropoff, body.temperatureClass);
  }
  const placedAt = deps.clock();
  let contact: EncryptedContact | null = null;
  if (body.contact) {
    if (!deps.pii) {
      throw new ApiError(
        503,
        "pii_not_configured",
        "this gateway has no personal-data key (XIANDA_PII_KEYS) to encrypt the shopper's contact with",
      );
    }
    // Encrypted here, bound to the order: the order actor, the stream and Postgres get ciphertext.
    contact = encryptContact(deps.pii, orderId, body.contact);
  }
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
        ...(contact ? { contact } : {}),
        ...(body.wave !== undefined ? { wave: body.wave } : {}),
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

/**
 * The hand-off body: the courier's code, and where the goods go when the courier drives a
 * refrigerated van. `vehicleId` defaults to the van of the order's courier's shift;
 * `compartmentId` to the van's only compartment of the order's class.
 */
// The wire schema (protocol/http.ts HandOffBody) is extended here, where the van step lives.
export const HandOffIntoVehicleBody = HandOffBody.extend({
  /** The van the goods go into; default: the one the order's courier drives on this shift. */
  vehicleId: ActorId.optional(),
  /** The van compartment; default: the van's only compartment of the order's class. */
  compartmentId: ActorId.optional(),
});
export type HandOffIntoVehicleBody = z.infer<typeof HandOffIntoVehicleBody>;

/** What a route handler of a staff action gets (`OrderAction.run`). */
interface ActionCall<B> {
  readonly storeId: string;
  readonly by: Principal;
  readonly orderId: string;
  readonly body: B;
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
  /** Error statuses, when more than the command routes' usual ones (`COMMAND_ERRORS`). */
  readonly errors?: readonly ErrorStatus[];
  /** A flow of its own instead of the one command (the hand-off into a van). */
  readonly run?: (
    deps: HttpDeps,
    c: Context<Env>,
    call: ActionCall<z.infer<S>>,
  ) => Promise<CommandApplied>;
}

function action<S extends z.ZodType>(a: OrderAction<S>): OrderAction<z.ZodType> {
  return a as unknown as OrderAction<z.ZodType>;
}

const COMMAND_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 409, 413, 504];

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
    description: [
      "Refused with `wrong_pickup_code`, `no_courier_assigned` or `not_accepted` (409), or `not_assigned_courier` (403) when `courierId` is not the order's courier.",
      "A chilled or frozen order for a courier who drives a refrigerated van goes into a compartment of the van: `vehicleId` (default: the van of the courier's shift) and `compartmentId` (default: the van's only compartment of the order's class; several or none answer 400 `compartment_required`). `compartmentId` without any van answers 400 `vehicle_required`. An ambient order goes into a van only when `compartmentId` is named; a chilled or frozen order for a courier without a van travels in an insulated bag, as before.",
      "The vehicle takes the goods first (`load`); if it refuses, so is the hand-off (409, nothing handed off) with the vehicle's code: `compartment_out_of_range` (out of range, an excursion on or pending), `no_recent_reading` (no reading yet, or the sensor is silent), `wrong_temperature_class`, `unknown_compartment`, `already_loaded` (in another compartment). If the store then refuses the hand-off, the load is undone. The same `Idempotency-Key` gives the load, the hand-off and the undo the same command ids, so a retry loads once.",
    ].join("\n\n"),
    body: HandOffIntoVehicleBody,
    to: "store",
    message: (orderId, b) => ({ type: "hand_off", orderId, ...b }),
    run: (deps, c, call) => handOffIntoVehicle(deps, c, call),
    // The van step reads the order, the courier and the vehicle first.
    errors: [...COMMAND_ERRORS, 503],
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

export const STORE_ROUTES: readonly RouteSpec[] = [
  {
    method: "post",
    path: `${BASE}/orders`,
    operationId: "createOrder",
    summary: "Place an order at the store (from the shop's back end)",
    description:
      "Idempotent by `shopOrderId`: the order's id is derived from the store and `shopOrderId`. The same body again answers 200 with the order as it is now (header `Idempotent-Replayed: true`); another body under the same `shopOrderId` answers 409 `idempotency_conflict`. The order's market and pickup location come from the store's profile. The shopper's `contact` (name, mainland mobile, address — required for a door drop-off (400 `address_required`) — and door note) is encrypted by the gateway before anything stores it; without a personal-data key the gateway answers 503 `pii_not_configured`.",
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
    responses: {
      200: {
        description:
          "the order's view (pickup code and PIN left out; the shopper's `contact` masked: name 张*, phone 138****1234, address to the district, no door note)",
      },
    },
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
    errors: a.errors ?? COMMAND_ERRORS,
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
    // The store recognises its shopper (张*, 138****1234, the district) but does not get the data.
    return c.json(withContact(order, contactFor(deps, order, "store")));
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
      if (a.run) return applied(c, await a.run(deps, c, { storeId, by, orderId, body }));
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

// ---- the hand-off into a refrigerated van ----

/** Where the goods go: a compartment of a van. */
interface Placement {
  readonly vehicleId: string;
  readonly compartmentId: string;
  readonly temperatureClass: TemperatureClass;
}

/** The part of the vehicle actor's view read here (see actors/vehicle/logic.ts `view`). */
interface VehicleView {
  readonly compartments?: readonly {
    readonly id: string;
    readonly class: string;
    readonly orderIds: readonly string[];
  }[];
}

/** Statuses in which the store can still hand the order to its courier. */
const AWAITING_HAND_OFF: ReadonlySet<string> = new Set(["assigned", "at_store"]);
const COLD: ReadonlySet<TemperatureClass> = new Set(["chilled", "frozen"]);

/** The van the courier drives on this shift, or null (no shift, or not a van with a vehicle). */
async function courierVehicleId(deps: HttpDeps, courierId: string): Promise<string | null> {
  const { view } = await actorView<{ shift?: { vehicle?: { vehicleId?: string | null } } | null }>(
    deps,
    { type: "courier", id: courierId },
  );
  return view?.shift?.vehicle?.vehicleId ?? null;
}

/**
 * The compartment the order goes into, or null when there is no van step: the hand-off goes to
 * the store as before (which also refuses what is wrong with it: no courier, another courier,
 * an order it does not hold). A 400 when a compartment is needed and cannot be told.
 */
async function placementFor(
  deps: HttpDeps,
  storeId: string,
  orderId: string,
  body: HandOffIntoVehicleBody,
): Promise<Placement | null> {
  const { view: order } = await actorView<Order | { status: "none" }>(deps, {
    type: "order",
    id: orderId,
  });
  if (order.status === "none") return null;
  const o = order as Order;
  if (o.storeId !== storeId || o.courierId === null || !AWAITING_HAND_OFF.has(o.status)) {
    return null;
  }
  if (body.courierId !== undefined && body.courierId !== o.courierId) return null;
  const vehicleId = body.vehicleId ?? (await courierVehicleId(deps, o.courierId));
  if (vehicleId === null) {
    if (body.compartmentId === undefined) return null; // an insulated bag, as before vans
    throw new ApiError(
      400,
      "vehicle_required",
      `courier ${o.courierId} drives no van on this shift: name the vehicleId of compartment ${body.compartmentId}`,
    );
  }
  const temperatureClass = o.temperatureClass;
  if (body.compartmentId !== undefined) {
    return { vehicleId, compartmentId: body.compartmentId, temperatureClass };
  }
  if (!COLD.has(o.temperatureClass)) return null; // ambient goods need no compartment
  const { view: vehicle } = await actorView<VehicleView>(deps, { type: "vehicle", id: vehicleId });
  const fitting = (vehicle?.compartments ?? []).filter((c) => c.class === o.temperatureClass);
  if (fitting.length !== 1) {
    throw new ApiError(
      400,
      "compartment_required",
      `vehicle ${vehicleId} has ${fitting.length === 0 ? "no" : fitting.length} ${o.temperatureClass} compartment${fitting.length === 1 ? "" : "s"}: name the compartmentId`,
    );
  }
  return { vehicleId, compartmentId: fitting[0]!.id, temperatureClass };
}

/**
 * POST .../hand-off. Without a van step it is the store's `hand_off` as for every staff action.
 * With one: (1) the vehicle `load`s the goods, awaited, and a refusal is the answer (409 with
 * the vehicle's code; nothing is handed off); (2) the store's `hand_off` names the compartment,
 * and the order records it at pickup; (3) if the store refuses, the vehicle `unload`s what (1)
 * loaded. The three command ids derive from the request's `Idempotency-Key`, so a retry applies
 * each once. A hand-off whose outcome did not come in time (504) is not undone: it is stored
 * and will be applied.
 */
async function handOffIntoVehicle(
  deps: HttpDeps,
  c: Context<Env>,
  call: ActionCall<HandOffIntoVehicleBody>,
): Promise<CommandApplied> {
  const { storeId, by, orderId, body } = call;
  const { vehicleId: _v, compartmentId: _c, ...handOff } = body;
  const store: ActorRef = { type: "store", id: storeId };
  const orderRef: ActorRef = { type: "order", id: orderId };
  const placement = await placementFor(deps, storeId, orderId, body);
  if (placement === null) {
    return sendCommand(
      deps,
      c,
      store,
      { type: "hand_off", orderId, ...handOff },
      { by, action: "hand-off", forwardTo: orderRef },
    );
  }

  const { vehicleId, compartmentId, temperatureClass } = placement;
  const vehicle: ActorRef = { type: "vehicle", id: vehicleId };
  let loadedHere = false;
  try {
    await sendCommand(
      deps,
      c,
      vehicle,
      { type: "load", compartmentId, orderId, temperatureClass },
      { by, action: `hand-off-load:${orderId}` },
    );
    loadedHere = true;
  } catch (err) {
    // Already in this compartment (an earlier attempt that did not finish): hand it off, but
    // it is not this request's load to undo.
    if (!(err instanceof ApiError && err.code === "already_loaded")) throw err;
    const { view } = await actorView<VehicleView>(deps, vehicle);
    const inside = view?.compartments?.find((k) => k.id === compartmentId);
    if (!inside?.orderIds.includes(orderId)) throw err;
  }

  try {
    return await sendCommand(
      deps,
      c,
      store,
      { type: "hand_off", orderId, ...handOff, vehicleId, compartmentId },
      { by, action: "hand-off", forwardTo: orderRef },
    );
  } catch (err) {
    const refused = err instanceof ApiError && err.status !== 504;
    if (loadedHere && refused) await undoLoad(deps, c, vehicle, orderId, by);
    throw err;
  }
}

/** Takes back a load whose hand-off was refused; a failure is logged, the refusal still answered. */
async function undoLoad(
  deps: HttpDeps,
  c: Context<Env>,
  vehicle: ActorRef,
  orderId: string,
  by: Principal,
): Promise<void> {
  try {
    await sendCommand(
      deps,
      c,
      vehicle,
      { type: "unload", orderId },
      { by, action: `hand-off-unload:${orderId}` },
    );
  } catch (err) {
    c.get("log").warn(
      { err, vehicle: vehicle.id, orderId },
      "a refused hand-off left the order loaded in the van",
    );
  }
}
