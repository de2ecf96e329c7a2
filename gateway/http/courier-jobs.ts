/**
 * The courier API (`/v1/couriers/me/...`, courier tokens only, each courier for itself): answer
 * offers, report arrival at the store and at the customer, prove a delivery with the shopper's
 * PIN and/or a photo, report a failed delivery, and read its own state.
 *
 * Offers are answered at the courier's own actor (it holds the capacity; the order confirms);
 * stops are reported straight to the order, which checks that the caller is its courier.
 *
 * `GET /v1/couriers/me/orders/:orderId` is the courier's view of one of its orders: where it goes
 * and the shopper's contact, masked (张*, 138****1234), with the full address and door note only
 * while the order is theirs and on its way (gateway/http/contact.ts).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import type { Principal } from "../../actors/index.ts";
import {
  CommandApplied,
  DeclineOfferBody,
  DeliverBody,
  EmptyBody,
  FailDeliveryBody,
  PhotoStored,
} from "../../protocol/http.ts";
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
import { contactFor, courierSeesAddress } from "./contact.ts";
import { IMAGE_TYPES, sniffImage } from "./proof-store.ts";
import type { ImageType } from "./proof-store.ts";
import type { RouteSpec } from "./spec.ts";

const ME = "/v1/couriers/me";
const ROLES = ["courier"] as const;
/** Orders a photo may be taken for: with the goods, or just failed at the door. */
const PHOTO_STATUSES: ReadonlySet<string> = new Set([
  "picked_up",
  "at_customer",
  "delivery_failed",
]);

function courier(c: Context<Env>): { courierId: string; by: Principal } {
  const claims = requireRole(c, ROLES);
  return { courierId: claims.sub, by: principalOf(claims) };
}

const applies = (to: "courier" | "order"): RouteSpec["responses"] =>
  to === "courier"
    ? {
        202: {
          description: "your courier actor applied it and tells the order, which confirms",
          schema: CommandApplied,
        },
      }
    : { 200: { description: "the order applied it", schema: CommandApplied } };

export const COURIER_ROUTES: readonly RouteSpec[] = [
  {
    method: "get",
    path: ME,
    operationId: "getMyCourierState",
    summary: "Your state: shift, pending offers, jobs (with their pickup codes), route, status",
    tag: "couriers",
    roles: ROLES,
    responses: { 200: { description: "the courier actor's view" } },
    errors: [401, 403, 503],
  },
  {
    method: "get",
    path: `${ME}/orders/:orderId`,
    operationId: "getMyOrder",
    summary: "One of your orders: where it goes and the shopper's contact, masked",
    description:
      "For the courier the order is offered or assigned to (else 403 `not_assigned_courier`). `contact`: name and phone masked (张*, 138****1234); the full `address` and `doorNote` only while the order is yours and on its way (assigned, at the store, picked up, at the door), null before (an offer) and after (delivered, failed, cancelled, reassigned).",
    tag: "couriers",
    roles: ROLES,
    responses: { 200: { description: "the order as its courier sees it" } },
    errors: [400, 401, 403, 404, 503],
  },
  {
    method: "post",
    path: `${ME}/offers/:orderId/accept`,
    operationId: "acceptOffer",
    summary: "Take the offered order",
    description: "Refused with `offer_not_found` or `offer_expired` (409).",
    tag: "couriers",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: EmptyBody, optional: true },
    responses: applies("courier"),
    errors: [400, 401, 403, 409, 504],
  },
  {
    method: "post",
    path: `${ME}/offers/:orderId/decline`,
    operationId: "declineOffer",
    summary: "Turn the offered order down, with a reason",
    tag: "couriers",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: DeclineOfferBody },
    responses: applies("courier"),
    errors: [400, 401, 403, 409, 504],
  },
  {
    method: "post",
    path: `${ME}/orders/:orderId/arrived-at-store`,
    operationId: "arrivedAtStore",
    summary: "You are at the store (the store then hands the order over with your pickup code)",
    tag: "couriers",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: EmptyBody, optional: true },
    responses: applies("order"),
    errors: [400, 401, 403, 409, 504],
  },
  {
    method: "post",
    path: `${ME}/orders/:orderId/arrived-at-customer`,
    operationId: "arrivedAtCustomer",
    summary: "You are at the customer's door or pickup point",
    tag: "couriers",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: EmptyBody, optional: true },
    responses: applies("order"),
    errors: [400, 401, 403, 409, 504],
  },
  {
    method: "post",
    path: `${ME}/orders/:orderId/photo`,
    operationId: "uploadProofPhoto",
    summary: "Upload a proof-of-delivery photo (the body is the image)",
    description:
      "JPEG, PNG or WebP, checked by its first bytes. Answers the `photoRef` to send with `deliver` (or keep as evidence of a failed delivery). Only for an order you carry.",
    tag: "couriers",
    roles: ROLES,
    upload: { contentTypes: IMAGE_TYPES },
    responses: { 201: { description: "stored", schema: PhotoStored } },
    errors: [400, 401, 403, 404, 408, 409, 413, 415, 503],
  },
  {
    method: "post",
    path: `${ME}/orders/:orderId/deliver`,
    operationId: "deliver",
    summary: "Delivered, with the shopper's PIN and/or a photo you uploaded",
    description:
      "Refused with `wrong_delivery_pin` (409); a `photoRef` that was never uploaded is a 400 `unknown_photo`.",
    tag: "couriers",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: DeliverBody },
    responses: applies("order"),
    errors: [400, 401, 403, 409, 504],
  },
  {
    method: "post",
    path: `${ME}/orders/:orderId/fail`,
    operationId: "failDelivery",
    summary: "The delivery failed (no answer, wrong address, refused, ...)",
    tag: "couriers",
    roles: ROLES,
    idempotencyKey: true,
    body: { schema: FailDeliveryBody },
    responses: applies("order"),
    errors: [400, 401, 403, 409, 504],
  },
];

export function courierJobRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const auth = authenticated(deps);

  app.get(ME, auth, async (c) => {
    const { courierId } = courier(c);
    const { view } = await actorView(deps, { type: "courier", id: courierId });
    return c.json(view as object);
  });

  app.get(`${ME}/orders/:orderId`, auth, async (c) => {
    const { courierId } = courier(c);
    const order = await existingOrder(deps, idParam(c, "orderId"));
    const offered = order.status === "offered" && order.offer?.courierId === courierId;
    if (order.courierId !== courierId && !offered) {
      throw new ApiError(403, "not_assigned_courier", `order ${order.id} is not yours`);
    }
    return c.json({
      orderId: order.id,
      status: order.status,
      storeId: order.storeId,
      temperatureClass: order.temperatureClass,
      items: order.items,
      pickup: order.pickup,
      dropoff: order.dropoff,
      promisedAt: order.promisedAt,
      hasDeliveryPin: order.hasDeliveryPin,
      addressShown: courierSeesAddress(order, courierId),
      contact: contactFor(deps, order, "courier", courierId),
    });
  });

  app.post(`${ME}/offers/:orderId/accept`, auth, async (c) => {
    const { courierId, by } = courier(c);
    const orderId = idParam(c, "orderId");
    await readOptionalBody(c, EmptyBody);
    const result = await sendCommand(
      deps,
      c,
      { type: "courier", id: courierId },
      { type: "accept_offer", orderId },
      { by, action: "accept_offer", forwardTo: { type: "order", id: orderId } },
    );
    return applied(c, result);
  });

  app.post(`${ME}/offers/:orderId/decline`, auth, async (c) => {
    const { courierId, by } = courier(c);
    const orderId = idParam(c, "orderId");
    const body = await readBody(c, DeclineOfferBody);
    const result = await sendCommand(
      deps,
      c,
      { type: "courier", id: courierId },
      { type: "decline_offer", orderId, ...body },
      { by, action: "decline_offer", forwardTo: { type: "order", id: orderId } },
    );
    return applied(c, result);
  });

  const stop = (path: string, type: "arrive_at_store" | "arrive_at_customer") =>
    app.post(`${ME}/orders/:orderId/${path}`, auth, async (c) => {
      const { courierId, by } = courier(c);
      const orderId = idParam(c, "orderId");
      await readOptionalBody(c, EmptyBody);
      const result = await sendCommand(
        deps,
        c,
        { type: "order", id: orderId },
        { type, courierId },
        { by, action: type },
      );
      return applied(c, result);
    });
  stop("arrived-at-store", "arrive_at_store");
  stop("arrived-at-customer", "arrive_at_customer");

  app.post(`${ME}/orders/:orderId/deliver`, auth, async (c) => {
    const { courierId, by } = courier(c);
    const orderId = idParam(c, "orderId");
    const body = await readBody(c, DeliverBody);
    if (body.photoRef !== undefined) {
      if (!deps.proofs) {
        throw new ApiError(
          503,
          "unavailable",
          "photo proofs are not configured here; send the PIN",
        );
      }
      if (!(await deps.proofs.has(body.photoRef))) {
        throw new ApiError(400, "unknown_photo", `no photo ${body.photoRef}: upload it first`);
      }
    }
    const result = await sendCommand(
      deps,
      c,
      { type: "order", id: orderId },
      { type: "deliver", courierId, ...body },
      { by, action: "deliver" },
    );
    return applied(c, result);
  });

  app.post(`${ME}/orders/:orderId/fail`, auth, async (c) => {
    const { courierId, by } = courier(c);
    const orderId = idParam(c, "orderId");
    const body = await readBody(c, FailDeliveryBody);
    const result = await sendCommand(
      deps,
      c,
      { type: "order", id: orderId },
      { type: "fail_delivery", courierId, ...body },
      { by, action: "fail_delivery" },
    );
    return applied(c, result);
  });
  return app;
}

/**
 * The photo upload, apart from the other routes: its body is an image of up to
 * `limits.maxPhotoBytes`, so it is mounted before the API's small JSON body limit.
 */
export function proofUploadRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const max = deps.limits.maxPhotoBytes;
  app.post(
    `${ME}/orders/:orderId/photo`,
    authenticated(deps),
    bodyLimit({
      maxSize: max,
      onError: (c) =>
        c.json(
          { error: { code: "too_large", message: `a photo may be ${max} bytes at most` } },
          413,
        ),
    }),
    async (c) => {
      const { courierId } = courier(c);
      const orderId = idParam(c, "orderId");
      const declared = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (!IMAGE_TYPES.includes(declared as ImageType)) {
        throw new ApiError(
          415,
          "unsupported_media_type",
          `Content-Type must be one of ${IMAGE_TYPES.join(", ")}`,
        );
      }
      if (!deps.proofs)
        throw new ApiError(503, "unavailable", "photo proofs are not configured here");
      const order = await existingOrder(deps, orderId);
      if (order.courierId !== courierId) {
        throw new ApiError(403, "not_assigned_courier", `order ${orderId} is not yours`);
      }
      if (!PHOTO_STATUSES.has(order.status)) {
        throw new ApiError(
          409,
          "invalid_transition",
          `no delivery photo for order ${orderId} while it is ${order.status}`,
        );
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.length === 0) throw new ApiError(400, "invalid_body", "the photo is empty");
      const sniffed = sniffImage(bytes);
      if (sniffed !== declared) {
        throw new ApiError(
          415,
          "unsupported_media_type",
          sniffed === null
            ? "the body is not a JPEG, PNG or WebP image"
            : `the body is ${sniffed}, not ${declared}`,
        );
      }
      const stored = await deps.proofs.put(bytes, sniffed);
      c.get("log").info(
        { courierId, orderId, photoRef: stored.ref, bytes: stored.bytes },
        "proof photo stored",
      );
      return c.json(
        { photoRef: stored.ref, contentType: stored.contentType, bytes: stored.bytes },
        201,
      );
    },
  );
  return app;
}
