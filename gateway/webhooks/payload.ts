/**
 * Which order events a shop hears of, and the order's status after each. Offers (made,
 * declined, expired, withdrawn), locks and turned-away acceptances are dispatch's business
 * and are not sent; every change a shop acts on is, cold-chain excursions of its goods too.
 */
import type { OrderView } from "../../actors/index.ts";
import type { EventEnvelope } from "../../protocol/index.ts";
import type { WebhookPayload } from "./types.ts";

/** Events sent to shops. */
export const WEBHOOK_EVENTS: ReadonlySet<string> = new Set([
  "created",
  "accepted",
  "preparing",
  "ready",
  "ready_at_changed",
  "assigned",
  "reassigned",
  "courier_released",
  "held",
  "hold_released",
  "courier_arrived_at_store",
  "picked_up",
  "courier_arrived_at_customer",
  "delivered",
  "delivery_failed",
  "returned",
  "cancelled",
  // The van compartment carrying the order went out of range (or silent), and came back.
  "cold_chain_excursion_marked",
  "cold_chain_excursion_cleared",
]);

/** Events after which the order's status is always the same. */
const STATUS_AFTER: Readonly<Record<string, string>> = {
  created: "created",
  accepted: "accepted",
  assigned: "assigned",
  courier_arrived_at_store: "at_store",
  picked_up: "picked_up",
  courier_arrived_at_customer: "at_customer",
  delivered: "delivered",
  delivery_failed: "delivery_failed",
  returned: "returned",
  cancelled: "cancelled",
};

/** The status after `event` when its name alone says it; null when the order's state must. */
export function definiteStatus(event: EventEnvelope): string | null {
  return STATUS_AFTER[event.name] ?? null;
}

/**
 * The status after `event`, from the order's view: exact when the view is at the event's
 * command; else the timeline's last change at or before the event (the order's timeline keeps
 * the command time of each change); else the status now.
 */
export function statusFromView(event: EventEnvelope, seq: number, view: OrderView): string {
  if (view.status === "none") return "unknown";
  if (seq === event.seq) return view.status;
  let status: string | null = null;
  for (const entry of view.timeline) if (entry.at <= event.at) status = entry.status;
  return status ?? view.status;
}

export function webhookPayload(
  event: EventEnvelope,
  storeId: string,
  status: string,
): WebhookPayload {
  return {
    id: event.id,
    type: `order.${event.name}`,
    orderId: event.actor.id,
    storeId,
    status,
    at: event.at,
    data: withoutContact(event.data ?? null),
  };
}

/**
 * `created` carries the shopper's contact as ciphertext for the projector; the shop sent the
 * contact itself and has no key, so it is left out rather than sent as noise.
 */
function withoutContact(data: unknown): unknown {
  if (data === null || typeof data !== "object" || !("contact" in data)) return data;
  const { contact: _ciphertext, ...rest } = data as Record<string, unknown>;
  return rest;
}
