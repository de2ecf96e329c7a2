import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import { Hono } from "hono";
import { cellToLatLng, latLngToCell } from "h3-js";
import { z } from "zod";
import { ActorTimeoutError } from "../../actors/index.ts";
import { toGcj02 } from "../../geo/index.ts";
import { ActorId, CoordSystem } from "../../protocol/index.ts";
import type { LatLng } from "../../protocol/index.ts";
import { endedAt, fetchOrder, orderAccess, trackable } from "../access.ts";
import type { Order } from "../access.ts";
import { signToken } from "../auth.ts";
import { ApiError } from "../errors.ts";
import { TRACKING_GRACE_MS } from "../options.ts";
import { CommandApplied } from "../../protocol/http.ts";
import { principalOf, sendCommand } from "./commands.ts";
import { contactFor, revealedContact } from "./contact.ts";
import { authenticate, readBody, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";
import type { RouteSpec } from "./spec.ts";

/** Until pickup a shopper sees the courier only to the centre of its H3 res-7 cell (~1.2 km edge). */
const COARSE_RESOLUTION = 7;
const PICKED_UP: ReadonlySet<string> = new Set(["picked_up", "at_customer"]);
const ENDED: ReadonlySet<string> = new Set([
  "delivered",
  "delivery_failed",
  "returned",
  "cancelled",
]);

/** Why an admin reads a shopper's contact unmasked: required, kept in the order's audit trail. */
export const RevealContactBody = z.strictObject({ reason: z.string().trim().min(1).max(200) });

export const CONTACT_ROUTES: readonly RouteSpec[] = [
  {
    method: "post",
    path: "/v1/orders/:id/contact/reveal",
    operationId: "revealShopperContact",
    summary: "Read the shopper's contact unmasked (admins; recorded with who and why)",
    description:
      "The order first records `contact_revealed` (admin, reason, fields) in its events, which the projector also writes to the audit log; only then does the gateway decrypt. Everyone else sees the contact masked. 409 `no_contact` when the order has none; 503 `pii_not_configured` / `pii_key_unknown` when this gateway cannot decrypt it.",
    tag: "tracking",
    roles: ["admin"],
    idempotencyKey: true,
    body: { schema: RevealContactBody },
    responses: {
      200: {
        description: "the contact, unmasked, and the command that recorded the reveal",
        schema: z.object({
          orderId: z.string(),
          contact: z.object({
            name: z.string(),
            phone: z.string(),
            address: z.string().nullable(),
            doorNote: z.string().nullable(),
            masked: z.literal(false),
            fullAddress: z.boolean(),
          }),
          recorded: CommandApplied,
        }),
      },
    },
    errors: [400, 401, 403, 404, 409, 413, 503, 504],
  },
];

export function coarsen(p: LatLng): LatLng {
  const [lat, lng] = cellToLatLng(latLngToCell(p.lat, p.lng, COARSE_RESOLUTION));
  return { lat, lng };
}

/**
 * POST /v1/orders/:id/tracking-token (store for its own orders, dispatcher of its market, admin)
 * GET  /v1/orders/:id/track          (the order's shopper, dispatcher of its market, admin)
 * POST /v1/orders/:id/contact/reveal (admin: the shopper's contact unmasked, audited first)
 */
export function orderRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use("*", authenticate(deps));

  const loadOrder = async (id: string): Promise<Order> => {
    if (!ActorId.safeParse(id).success)
      throw new ApiError(400, "invalid_order_id", `not an order id: ${id}`);
    let order: Order | null;
    try {
      order = await fetchOrder(deps.actors, id);
    } catch (err) {
      if (err instanceof ActorTimeoutError) {
        throw new ApiError(503, "unavailable", `order ${id} cannot be read now; try again`, {
          cause: err,
        });
      }
      throw err;
    }
    if (!order) throw new ApiError(404, "unknown_order", `no order ${id}`);
    return order;
  };

  app.post("/:id/tracking-token", async (c) => {
    requireRole(c, ["store", "dispatcher", "admin"]);
    const order = await loadOrder(c.req.param("id"));
    const now = deps.clock();
    const decision = orderAccess(c.get("claims"), order, "tracking_link", now);
    if (!decision.ok) throw new ApiError(403, decision.code, decision.message);
    // A link for an order that ended more than the grace period ago would never open: say so.
    const open = trackable(order, now);
    if (!open.ok) throw new ApiError(409, open.code, open.message);
    // For an ended order the token itself ends with the grace period, not a day later.
    const ended = endedAt(order);
    const exp = Math.min(
      Math.floor(now / 1000) + deps.auth.trackingTokenTtlSeconds,
      ended === null ? Number.MAX_SAFE_INTEGER : Math.floor((ended + TRACKING_GRACE_MS) / 1000),
    );
    const token = await signToken(
      { role: "shopper", sub: order.shopperId ?? `order-${order.id}`, ord: order.id, exp },
      deps.auth.secret,
      { now: deps.clock(), ...(deps.auth.issuer ? { issuer: deps.auth.issuer } : {}) },
    );
    return c.json({ token, url: `/t/${token}`, expiresAt: exp * 1000 }, 201);
  });

  app.get("/:id/track", async (c) => {
    const claims = requireRole(c, ["shopper", "dispatcher", "admin"]);
    // A shopper's token names its order: refuse another before asking any actor.
    if (claims.role === "shopper" && claims.ord !== c.req.param("id")) {
      throw new ApiError(403, "forbidden", "this tracking token is for another order");
    }
    const coord = CoordSystem.safeParse(c.req.query("coord") ?? "wgs84");
    if (!coord.success) throw new ApiError(400, "invalid_coord", "coord: wgs84 or gcj02");
    const order = await loadOrder(c.req.param("id"));
    const decision = orderAccess(claims, order, "snapshot", deps.clock());
    if (!decision.ok) throw new ApiError(403, decision.code, decision.message);

    const channel = `order:${order.id}`;
    const [last, position] = await Promise.all([
      deps.hub.stream.last(channel).catch(() => null),
      courierPosition(deps, order),
    ]);
    let courier: { lat: number; lng: number; at: number; coarse: boolean } | null = null;
    if (position && !ENDED.has(order.status)) {
      const coarse = claims.role === "shopper" && !PICKED_UP.has(order.status);
      const shown = coarse ? coarsen(position) : { lat: position.lat, lng: position.lng };
      const out = coord.data === "gcj02" ? toGcj02(shown) : shown;
      courier = { lat: out.lat, lng: out.lng, at: position.at, coarse };
    }
    const eta = deps.hub.latestEta.get(order.id);
    // The shopper sees its own contact; dispatchers and admins see it masked.
    const contact = contactFor(deps, order, claims.role === "shopper" ? "shopper" : "operator");
    return c.json({
      orderId: order.id,
      status: order.status,
      timeline: order.timeline,
      promisedAt: order.promisedAt,
      temperatureClass: order.temperatureClass,
      // The van compartment it rides in and the excursions it saw (null when not in a van).
      coldChain: order.coldChain ?? null,
      courier,
      // Where the order goes: the shopper's own door or pickup point (the courier's view of an
      // address is another matter), in the client's coordinates.
      destination:
        coord.data === "gcj02" ? toGcj02(order.dropoff.location) : order.dropoff.location,
      eta: eta ? { leg: eta.leg, p50: eta.p50, p90: eta.p90, at: eta.at } : null,
      contact,
      // A wave order at its pickup point: the code is the shopper's to show there.
      pickupPointId: order.dropoff.kind === "pickup_point" ? order.dropoff.pickupPointId : null,
      collectCode: claims.role === "shopper" ? (order.collectCode ?? null) : null,
      channel,
      offset: last?.seq ?? 0,
      coord: coord.data,
    });
  });

  app.post("/:id/contact/reveal", async (c) => {
    const claims = requireRole(c, ["admin"]);
    const body = await readBody(c, RevealContactBody);
    const order = await loadOrder(c.req.param("id"));
    if (order.contact === null) {
      throw new ApiError(409, "no_contact", `order ${order.id} has no shopper contact`);
    }
    // The reveal is recorded (and acknowledged by the order) before anything is decrypted.
    const recorded = await sendCommand(
      deps,
      c,
      { type: "order", id: order.id },
      { type: "reveal_contact", reason: body.reason },
      { by: principalOf(claims), action: "reveal_contact" },
    );
    const contact = revealedContact(deps, order);
    c.get("log").info({ orderId: order.id, by: claims.sub }, "shopper contact revealed");
    return c.json({ orderId: order.id, contact, recorded });
  });
  return app;
}

const positionBuckets = new WeakMap<HttpDeps, Promise<KV>>();

/** The tracker's saved last position of a courier (every few seconds), or null. */
async function savedPosition(
  deps: HttpDeps,
  courierId: string,
): Promise<{ lat: number; lng: number; at: number } | null> {
  let bucket = positionBuckets.get(deps);
  if (!bucket) {
    bucket = new Kvm(deps.nc).open(deps.topology.buckets.positions);
    positionBuckets.set(deps, bucket);
  }
  try {
    const entry = await (await bucket).get(courierId);
    return entry?.operation === "PUT"
      ? entry.json<{ lat: number; lng: number; at: number }>()
      : null;
  } catch (err) {
    deps.log.warn({ err, courierId }, "saved position unavailable");
    return null;
  }
}

/** The newest of the courier actor's last position, the tracker's saved one and the last exact one pushed here. */
async function courierPosition(
  deps: HttpDeps,
  order: Order,
): Promise<{ lat: number; lng: number; at: number } | null> {
  if (!order.courierId) return null;
  let fromActor: { lat: number; lng: number; at: number } | null = null;
  try {
    const { view } = await deps.actors.state<{
      position?: { lat: number; lng: number; at: number } | null;
    }>({ type: "courier", id: order.courierId }, 2_000);
    fromActor = view?.position ?? null;
  } catch (err) {
    if (!(err instanceof ActorTimeoutError)) throw err;
  }
  const saved = await savedPosition(deps, order.courierId);
  const pushed = deps.hub.latestPosition.get(order.courierId) ?? null;
  const candidates = [
    fromActor,
    saved,
    pushed ? { lat: pushed.lat, lng: pushed.lng, at: pushed.at } : null,
  ];
  let newest: { lat: number; lng: number; at: number } | null = null;
  for (const c of candidates) if (c && (!newest || c.at > newest.at)) newest = c;
  return newest;
}
