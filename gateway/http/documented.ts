/**
 * Every `/v1` route of the API for the OpenAPI document: the store, courier, dispatcher and
 * cold-chain routes bring their own specs; the earlier routes (tokens, tracking, shift) are described here,
 * with their bodies restated from tokens.ts and couriers.ts. gateway/test/openapi.test.ts checks
 * that this list and the app's routes are the same set.
 */
import { z } from "zod";
import { CourierCapacity, CourierVehicle } from "../../protocol/actors/courier.ts";
import { ActorId, Role } from "../../protocol/index.ts";
import { AUDIT_ROUTES } from "./audit.ts";
import { COLD_CHAIN_ROUTES } from "./cold-chain.ts";
import { COURIER_ROUTES } from "./courier-jobs.ts";
import { DISPATCH_ROUTES } from "./dispatch.ts";
import { CONTACT_ROUTES } from "./orders.ts";
import type { RouteSpec } from "./spec.ts";
import { STORE_ROUTES } from "./stores.ts";
import { WAVE_ROUTES } from "./waves.ts";

/** As in tokens.ts. */
const MintTokenBody = z.strictObject({
  role: Role,
  sub: z.string().min(1).max(128),
  mkt: ActorId.optional(),
  ord: ActorId.optional(),
  ttlSeconds: z
    .number()
    .int()
    .positive()
    .max(30 * 24 * 3600),
});
/** As in couriers.ts. */
const ShiftBody = z.strictObject({
  on: z.boolean(),
  vehicle: CourierVehicle.optional(),
  capacity: CourierCapacity.optional(),
});

const EARLIER_ROUTES: readonly RouteSpec[] = [
  {
    method: "post",
    path: "/v1/tokens",
    operationId: "mintToken",
    summary: "Mint an access token for any role",
    description: "A courier or dispatcher token needs `mkt`; a shopper token needs `ord`.",
    tag: "tokens",
    roles: ["admin"],
    body: { schema: MintTokenBody },
    responses: {
      201: {
        description: "the token",
        schema: z.object({ token: z.string(), expiresAt: z.number().int() }),
      },
    },
    errors: [400, 401, 403, 413],
  },
  {
    method: "post",
    path: "/v1/orders/:id/tracking-token",
    operationId: "mintTrackingToken",
    summary: "A shopper's tracking link for the order",
    description:
      "Stores for their own orders, dispatchers for their market's. The token lasts a day (`trackingTokenTtlSeconds`) and stops working 2 hours after the order is delivered, cancelled or returned (403 `tracking_expired`); for an order that has already ended it expires then, and 2 hours after the end it is refused (409 `tracking_expired`).",
    tag: "tracking",
    roles: ["store", "dispatcher", "admin"],
    responses: {
      201: {
        description: "the shopper's token and its page",
        schema: z.object({ token: z.string(), url: z.string(), expiresAt: z.number().int() }),
      },
    },
    errors: [400, 401, 403, 404, 409, 503],
  },
  {
    method: "get",
    path: "/v1/orders/:id/track",
    operationId: "trackOrder",
    summary: "First paint of the tracking page: status, timeline, courier, ETA, live channel",
    description:
      "Before pickup a shopper sees the courier only to the centre of its H3 cell (`coarse`). `contact`: for the shopper its own name, address and door note, the phone masked (a tracking link gets forwarded); masked (张*, 138****1234, address to the district) for dispatchers and admins; null when the shop sent none; `{unavailable}` when this gateway cannot decrypt it.",
    tag: "tracking",
    roles: ["shopper", "dispatcher", "admin"],
    query: z.object({ coord: z.enum(["wgs84", "gcj02"]).optional() }),
    responses: { 200: { description: "the snapshot" } },
    errors: [400, 401, 403, 404, 503],
  },
  {
    method: "post",
    path: "/v1/couriers/me/shift",
    operationId: "setShift",
    summary: "Go on or off shift, in the token's market",
    tag: "couriers",
    roles: ["courier"],
    idempotencyKey: true,
    body: { schema: ShiftBody },
    responses: {
      200: {
        description: "done",
        schema: z.object({ ok: z.literal(true), courierId: z.string(), onShift: z.boolean() }),
      },
    },
    errors: [400, 401, 403, 409, 504],
  },
];

export const API_ROUTES: readonly RouteSpec[] = [
  ...EARLIER_ROUTES,
  ...CONTACT_ROUTES,
  ...STORE_ROUTES,
  ...COURIER_ROUTES,
  ...DISPATCH_ROUTES,
  ...COLD_CHAIN_ROUTES,
  ...WAVE_ROUTES,
  ...AUDIT_ROUTES,
];
