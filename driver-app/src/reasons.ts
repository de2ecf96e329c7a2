/** The reasons a courier can give, as the protocol names them (the screen translates them). */
import type { DeclineReason } from "../../protocol/actors/offers.ts";
import type { DeliveryFailureReason } from "../../protocol/actors/order.ts";

export type { DeclineReason, DeliveryFailureReason };

export const DECLINE_REASONS: readonly DeclineReason[] = [
  "too_far",
  "busy",
  "vehicle_unsuitable",
  "other",
];

/** The failures a courier reports at the door, most common first. */
export const FAILURE_REASONS: readonly DeliveryFailureReason[] = [
  "no_answer",
  "wrong_address",
  "refused",
  "unsafe_location",
  "damaged",
  "temperature_excursion",
  "locker_full",
  "other",
];
