/**
 * The persisted form of an order (version 1): the state itself, which is plain JSON. It is
 * validated on restore because the KV bucket is a boundary: a corrupted or foreign value must
 * fail loudly at activation, not deep inside a later transition. Fields added since version 1
 * was first written have defaults, so older records restore (`coldChain`, `contact`: null).
 */
import { z } from "zod";
import { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import {
  CancelReason,
  ColdChainExcursionKind,
  DeliveryFailureReason,
  Dropoff,
  EncryptedContact,
  ItemsSummary,
  OrderAmounts,
  ReadyAtSource,
} from "../../protocol/actors/order.ts";
import type { OrderState } from "./types.ts";

const Time = z.number();
const Status = z.enum([
  "created",
  "accepted",
  "preparing",
  "ready",
  "offered",
  "assigned",
  "at_store",
  "picked_up",
  "at_customer",
  "at_pickup_point",
  "delivered",
  "delivery_failed",
  "returned",
  "cancelled",
]);

const ColdChain = z.object({
  vehicleId: z.string(),
  compartmentId: z.string(),
  loadedAt: Time,
  excursions: z.array(
    z.object({
      kind: ColdChainExcursionKind,
      startedAt: Time,
      detectedAt: Time,
      endedAt: Time.nullable(),
      celsius: z.number().nullable(),
    }),
  ),
});

const PersistedOrder = z.object({
  id: z.string(),
  status: Status,
  storeId: z.string(),
  marketId: z.string(),
  shopOrderId: z.string(),
  shopperId: z.string().nullable(),
  temperatureClass: TemperatureClass,
  items: ItemsSummary,
  amounts: OrderAmounts,
  pickup: LatLng,
  dropoff: Dropoff,
  contact: EncryptedContact.nullable().default(null),
  placedAt: Time,
  promisedAt: Time,
  acceptedAt: Time.nullable(),
  prep: z.enum(["waiting", "preparing", "ready"]),
  readyAt: Time.nullable(),
  readyAtSource: z.union([ReadyAtSource, z.literal("actual")]).nullable(),
  pickupCode: z.string(),
  deliveryPin: z.string().nullable(),
  courierId: z.string().nullable(),
  offer: z
    .object({ courierId: z.string(), offeredAt: Time, expiresAt: Time, seq: z.number() })
    .nullable(),
  offerCount: z.number(),
  hold: z.object({ reason: z.string(), by: z.string(), at: Time }).nullable(),
  lock: z.object({ reason: z.string().nullable(), by: z.string(), at: Time }).nullable(),
  pickedUpAt: Time.nullable(),
  deliveredAt: Time.nullable(),
  proof: z.object({ photoRef: z.string().nullable(), pinVerified: z.boolean() }).nullable(),
  failure: z
    .object({ reason: DeliveryFailureReason, note: z.string().nullable(), at: Time })
    .nullable(),
  cancellation: z
    .object({ reason: CancelReason, note: z.string().nullable(), by: z.string(), at: Time })
    .nullable(),
  coldChain: ColdChain.nullable().default(null),
  wave: z.object({ waveId: z.string() }).nullable().default(null),
  timeline: z.array(z.object({ status: Status, at: Time, by: z.string() })),
});

const PersistedState = z.union([
  z.object({ id: z.string(), status: z.literal("none") }),
  PersistedOrder,
]);

/**
 * A field missing from the schema would be stripped silently by zod; the round-trip tests
 * (persist → JSON → restore equals the original) catch that.
 */
export function parsePersistedOrder(data: unknown, version: number): OrderState {
  if (version !== 1) throw new Error(`order state version ${version} is not supported`);
  return PersistedState.parse(data);
}
