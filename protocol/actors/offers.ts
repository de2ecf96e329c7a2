/**
 * The offer vocabulary shared by the order, courier and market contracts: one enum each, so a
 * decline reason means the same thing in every actor, every event and every report.
 */
import { z } from "zod";

/** Why a courier turned an offer down; counted per reason for fairness reports. */
export const DeclineReason = z.enum(["too_far", "busy", "vehicle_unsuitable", "other"]);
export type DeclineReason = z.infer<typeof DeclineReason>;

/** How an offer ended without an assignment, as the market records it. */
export const OfferOutcome = z.enum([...DeclineReason.options, "expired"]);
export type OfferOutcome = z.infer<typeof OfferOutcome>;

/** Why the market took an offer back before its courier answered. */
export const WithdrawReason = z.enum([
  "order_cancelled",
  "order_held",
  "order_locked",
  "order_forced",
  "assigned_elsewhere",
  "reassigned",
  /** The courier declined at the order (not through its courier actor). */
  "declined",
]);
export type WithdrawReason = z.infer<typeof WithdrawReason>;
