/**
 * The HTTP API's bodies and answers (`/v1/...`, served by the gateway): zod schemas shared by the
 * gateway, its OpenAPI document and any client (a shop's back end, the apps). Actor messages stay
 * in `protocol/actors/`; these are what a caller sends over HTTP, before the gateway adds what
 * it knows itself (the caller's principal, the store's market and location, ids).
 */
import { z } from "zod";
import { StopRef } from "./actors/courier.ts";
import { DeclineReason } from "./actors/offers.ts";
import {
  CancelReason,
  DeliveryFailureReason,
  DeliveryPin,
  EpochMs,
  ItemsSummary,
  OrderAmounts,
  PickupCode,
} from "./actors/order.ts";
import { StoreProblemKind } from "./actors/store.ts";
import { WaveId, WaveLoad } from "./actors/wave.ts";
import { ActorId, LatLng, TemperatureClass } from "./ids.ts";
import { CoordSystem } from "./live.ts";

/** Every error: `{"error":{"code","message"}}`; `code` is stable, `message` is for people. */
export const ErrorBody = z.object({
  error: z.object({
    code: z
      .string()
      .meta({ description: "machine-readable: an actor's refusal code or an HTTP-level code" }),
    message: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Why a dispatcher overrides: required, kept in the audit trail. */
export const OverrideReason = z.string().trim().min(1).max(200);

/** Where a door or pickup point is; in `coord` coordinates (WGS-84 unless told otherwise). */
export const HttpDropoff = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("door"), location: LatLng }),
  z.strictObject({ kind: z.literal("pickup_point"), pickupPointId: ActorId, location: LatLng }),
]);

// ---- stores ----

/** No control or format characters (line breaks, zero-width, bidi overrides) in a contact field. */
const PLAIN_TEXT = /^[^\p{Cc}\p{Cf}]*$/u;

/**
 * The shopper's contact: personal data. The gateway encrypts each field (AES-256-GCM, key from
 * the configuration) before anything else sees it; the order actor, the event stream and
 * Postgres hold ciphertext only, and views mask it by role (see README, "Personal data").
 */
export const ShopperContact = z.strictObject({
  /** 收货人: as the shopper gave it, 1-50 characters. */
  name: z
    .string()
    .trim()
    .min(1, "required")
    .max(50, "at most 50 characters")
    .regex(PLAIN_TEXT, "no control characters"),
  /** A mainland China mobile number: 11 digits starting 13-19, without +86, spaces or dashes. */
  phone: z
    .string()
    .regex(
      /^1[3-9][0-9]{9}$/,
      "a mainland China mobile number, 11 digits starting 13-19 (no +86, spaces or dashes)",
    ),
  /** The door's address as written (省市区 + street + building + door). Required for a door drop-off. */
  address: z
    .string()
    .trim()
    .min(4, "at least 4 characters")
    .max(200, "at most 200 characters")
    .regex(PLAIN_TEXT, "no control characters")
    .optional(),
  /** 门口备注: how to find the door or where to leave the goods, up to 200 characters. */
  doorNote: z
    .string()
    .trim()
    .max(200, "at most 200 characters")
    .regex(PLAIN_TEXT, "no control characters")
    .optional(),
});
export type ShopperContact = z.infer<typeof ShopperContact>;

/**
 * A shop's back end places an order at one of its stores. The gateway adds the store's market
 * and location (from the store's profile); the order's id follows from the store and
 * `shopOrderId`, so sending the same order twice creates it once.
 */
export const CreateOrderBody = z.strictObject({
  /** The shop's own order number: unique per store, the idempotency key of this call. */
  shopOrderId: z.string().min(1).max(64),
  shopperId: z.string().min(1).max(128).optional(),
  temperatureClass: TemperatureClass,
  items: ItemsSummary,
  amounts: OrderAmounts,
  dropoff: HttpDropoff,
  promisedAt: EpochMs,
  /** Shown by the courier at the store. Default: one derived from the order id (6 characters). */
  pickupCode: PickupCode.optional(),
  /** The shopper's delivery PIN, if the shop gives its shoppers one. */
  deliveryPin: DeliveryPin.optional(),
  /** The coordinate system of `dropoff.location`; WeChat maps give GCJ-02. Default wgs84. */
  coord: CoordSystem.optional(),
  /** The shopper's name, phone and address (a door drop-off needs the address): encrypted at the edge. */
  contact: ShopperContact.optional(),
  /** A scheduled-wave order (社区集单): the wave `<market>-<yyyymmdd>-<slot>` and the goods' size. */
  wave: z.strictObject({ waveId: WaveId, load: WaveLoad }).optional(),
});
export type CreateOrderBody = z.infer<typeof CreateOrderBody>;

/** The answer to a create: the order as the system knows it now. */
export const CreatedOrder = z.object({
  orderId: ActorId,
  shopOrderId: z.string(),
  storeId: ActorId,
  marketId: ActorId,
  status: z.string(),
  placedAt: EpochMs,
});
export type CreatedOrder = z.infer<typeof CreatedOrder>;

export const AcceptOrderBody = z.strictObject({
  /** When the order will be ready; default: predicted from the store's learned prep time. */
  readyAt: EpochMs.optional(),
});
export const ReadyAtBody = z.strictObject({ readyAt: EpochMs });
export const RejectOrderBody = z.strictObject({
  reason: CancelReason,
  note: z.string().max(500).optional(),
});
export const CancelOrderBody = RejectOrderBody;
export const ReportProblemBody = z.strictObject({
  kind: StoreProblemKind,
  note: z.string().max(500).optional(),
  /** For a delay: how much later than the current ready-at time the order will be ready. */
  delayMinutes: z.number().int().positive().max(240).optional(),
});
export const HandOffBody = z.strictObject({
  /** The code the courier shows. */
  pickupCode: PickupCode,
  /** The courier at the counter, when the store's screen knows it (checked if given). */
  courierId: ActorId.optional(),
});
export const ReturnedBody = z.strictObject({ note: z.string().max(500).optional() });
/** Actions without fields take an empty object (or no body at all). */
export const EmptyBody = z.strictObject({});

// ---- couriers ----

export const DeclineOfferBody = z.strictObject({
  reason: DeclineReason,
  note: z.string().max(500).optional(),
});
/** Proof of delivery: the shopper's PIN, an uploaded photo's reference, or both. */
export const DeliverBody = z
  .strictObject({
    pin: DeliveryPin.optional(),
    /** `sha256:<hex>` as returned by the photo upload. */
    photoRef: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "photoRef: sha256:<64 hex> from the photo upload")
      .optional(),
  })
  .refine((b) => b.pin !== undefined || b.photoRef !== undefined, {
    message: "a delivery needs the shopper's PIN or a photo (photoRef), or both",
  });
export const FailDeliveryBody = z.strictObject({
  reason: DeliveryFailureReason,
  note: z.string().max(500).optional(),
});
export const PhotoStored = z.object({
  photoRef: z.string(),
  contentType: z.string(),
  bytes: z.number().int(),
});

// ---- dispatchers ----

export const ReassignBody = z.strictObject({
  reason: OverrideReason,
  /** To this courier (without an offer); omitted: back to the pool for dispatch. */
  courierId: ActorId.optional(),
});
export const ReorderStopsBody = z.strictObject({
  reason: OverrideReason,
  /** Every remaining stop of the courier's route, in the new order. */
  stops: z.array(StopRef).min(1).max(200),
});
export const LockBody = z.strictObject({
  reason: OverrideReason,
  /**
   * Required while the order waits for a courier (dispatch may then offer it only to this one);
   * for an assigned order, the assignment is locked and a given id must be its courier.
   */
  courierId: ActorId.optional(),
});
export const ReasonBody = z.strictObject({ reason: OverrideReason });
export const CourierReasonBody = z.strictObject({ courierId: ActorId, reason: OverrideReason });

// ---- answers ----

/** A command the actor applied. `events`: the names of the events it emitted. */
export const CommandApplied = z.object({
  ok: z.literal(true),
  commandId: z.string(),
  /** The actor that applied it. */
  actor: z.object({ type: z.string(), id: z.string() }),
  events: z.array(z.string()),
  /**
   * Set when the actor hands the action on to another (a store's staff action goes on to the
   * order, a dispatcher's to the order through the market): that actor applies it next, and the
   * order's webhooks and live frames say when.
   */
  forwardedTo: z.object({ type: z.string(), id: z.string() }).optional(),
});
export type CommandApplied = z.infer<typeof CommandApplied>;
