/**
 * The wire contract of the store actor (`store/<id>`): commands from store staff (through the
 * console or API), from admins, notices from order actors, and its own "pause" timer. Who may
 * send which is checked in the transition (actors/store/logic.ts).
 */
import { z } from "zod";
import { ActorId, LatLng, TemperatureClass } from "../ids.ts";
import { CancelReason, EpochMs, PickupCode, ReadyAtSource } from "./order.ts";

/** Local wall-clock time `HH:MM` (Asia/Shanghai); `24:00` only as a closing time. */
export const LocalTime = z
  .string()
  .regex(/^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, "local time: HH:MM, 00:00-24:00");

/** One opening interval; a `close` at or before `open` runs past midnight into the next day. */
export const OpenInterval = z.object({ open: LocalTime, close: LocalTime });
export type OpenInterval = z.infer<typeof OpenInterval>;

/** ISO weekday ("1" = Monday ... "7" = Sunday) → intervals; a missing day is closed all day. */
export const OpenHours = z.object({
  "1": z.array(OpenInterval).max(8).optional(),
  "2": z.array(OpenInterval).max(8).optional(),
  "3": z.array(OpenInterval).max(8).optional(),
  "4": z.array(OpenInterval).max(8).optional(),
  "5": z.array(OpenInterval).max(8).optional(),
  "6": z.array(OpenInterval).max(8).optional(),
  "7": z.array(OpenInterval).max(8).optional(),
});
export type OpenHours = z.infer<typeof OpenHours>;

export const StoreProblemKind = z.enum(["out_of_stock", "delay", "damaged", "other"]);
export type StoreProblemKind = z.infer<typeof StoreProblemKind>;

/** Why an order actor tells the store an order has left it. */
export const OrderClosedReason = z.enum(["cancelled", "picked_up"]);
export type OrderClosedReason = z.infer<typeof OrderClosedReason>;

const ItemsText = z.string().min(1).max(500);
const Note = z.string().max(500);

/** order → store: a new order for this store (sent by the order actor on `create`). */
export const OrderPlaced = z.object({
  type: z.literal("order_placed"),
  orderId: ActorId,
  shopOrderId: z.string().min(1).max(64),
  pickupCode: PickupCode,
  promisedAt: EpochMs,
  temperatureClass: TemperatureClass,
  itemsSummary: ItemsText,
});
export type OrderPlaced = z.infer<typeof OrderPlaced>;

/**
 * order → store: the order was accepted without going through this store actor (a dispatcher
 * override at the order), so the store still learns of the hand-off it owes.
 */
export const OrderAccepted = z.object({
  type: z.literal("order_accepted"),
  orderId: ActorId,
  shopOrderId: z.string().min(1).max(64),
  acceptedAt: EpochMs,
  readyAt: EpochMs,
  readyAtSource: ReadyAtSource,
  pickupCode: PickupCode,
  promisedAt: EpochMs,
  temperatureClass: TemperatureClass,
  itemsSummary: ItemsText,
});
export type OrderAccepted = z.infer<typeof OrderAccepted>;

/** order → store: who will collect the order (`null`: nobody any more). */
export const CourierAssigned = z.object({
  type: z.literal("courier_assigned"),
  orderId: ActorId,
  courierId: ActorId.nullable(),
});
export type CourierAssigned = z.infer<typeof CourierAssigned>;

/** order → store: the order no longer waits at the store (cancelled, or picked up elsewhere). */
export const OrderClosed = z.object({
  type: z.literal("order_closed"),
  orderId: ActorId,
  reason: OrderClosedReason,
});
export type OrderClosed = z.infer<typeof OrderClosed>;

export const StoreMessage = z.discriminatedUnion("type", [
  /** admin/system: the store exists from here on. */
  z.object({
    type: z.literal("register"),
    name: z.string().min(1).max(100),
    marketId: ActorId,
    location: LatLng,
    openHours: OpenHours,
  }),
  z.object({
    type: z.literal("update_profile"),
    name: z.string().min(1).max(100).optional(),
    location: LatLng.optional(),
    openHours: OpenHours.optional(),
  }),
  /** A manual pause (busy, out of staff); with `until`, the store resumes by itself then. */
  z.object({
    type: z.literal("pause"),
    reason: z.string().min(1).max(200).optional(),
    until: EpochMs.optional(),
  }),
  z.object({ type: z.literal("resume") }),
  /** Delivered by the "resume" timer; `pausedAt` ties it to the pause that scheduled it. */
  z.object({ type: z.literal("pause_expired"), pausedAt: EpochMs }),
  OrderPlaced,
  OrderAccepted,
  CourierAssigned,
  OrderClosed,
  /** Store staff take an order on; without `readyAt` the learned prep time predicts it. */
  z.object({ type: z.literal("accept_order"), orderId: ActorId, readyAt: EpochMs.optional() }),
  z.object({
    type: z.literal("reject_order"),
    orderId: ActorId,
    reason: CancelReason,
    note: Note.optional(),
  }),
  z.object({ type: z.literal("start_preparing"), orderId: ActorId }),
  z.object({ type: z.literal("mark_ready"), orderId: ActorId }),
  z.object({ type: z.literal("set_ready_at"), orderId: ActorId, readyAt: EpochMs }),
  z.object({
    type: z.literal("report_problem"),
    orderId: ActorId,
    kind: StoreProblemKind,
    note: Note.optional(),
    /** For a delay: how much later than the current ready-at the order will be ready. */
    delayMinutes: z.number().int().positive().max(240).optional(),
  }),
  /**
   * The store types in the code the courier shows; `courierId` when the console knows it.
   * `vehicleId` + `compartmentId` (both or neither): the van compartment the goods went into,
   * after the vehicle accepted the `load` (the gateway loads first, see gateway/http/stores.ts).
   */
  z
    .object({
      type: z.literal("hand_off"),
      orderId: ActorId,
      pickupCode: PickupCode,
      courierId: ActorId.optional(),
      vehicleId: ActorId.optional(),
      compartmentId: ActorId.optional(),
    })
    .refine((m) => (m.vehicleId === undefined) === (m.compartmentId === undefined), {
      message: "vehicleId and compartmentId go together",
      path: ["compartmentId"],
    }),
]);
export type StoreMessage = z.infer<typeof StoreMessage>;
export type StoreMessageType = StoreMessage["type"];
