/**
 * The reliability issue's invariants, checked over what a run left behind: the event history
 * (every event of the deployment's EVT stream), the actors' final states and Postgres. Pure: the
 * collector (collect.ts) gathers the inputs, this judges them, so each rule is unit-tested on
 * hand-made histories (audit.test.ts).
 *
 * - **No order lost.** Every order the gateway acknowledged (201) has its `created` event and a
 *   state, and is either finished (delivered, returned, cancelled), with exactly one courier, or
 *   known to its market (waiting for one).
 * - **No order held by two couriers.** In the history, the couriers that picked an order up are
 *   at most one and are the one the order's own `picked_up` names; at the end, the couriers whose
 *   routes hold the order are at most one, and the one the order names.
 * - **Applied once.** One command's events all carry the same sequence (a command applied twice
 *   would have two); an actor's sequences never go back in stream order (two writers would
 *   interleave theirs). An event published again by a host that died before recording it keeps
 *   its id: counted, not a violation (consumers key on it).
 * - **Every accepted reading stored.** Each reading a vehicle recorded (its TELEMETRY sequence
 *   and part) is a row in Postgres.
 * - **Certified.** Each delivered chilled or frozen order that travelled in a van has its
 *   certificate.
 */
import type { EventEnvelope } from "../../protocol/index.ts";

export interface OrderFinal {
  readonly status: string;
  readonly courierId: string | null;
}

export interface AuditInput {
  /** Every event of the run as stored (duplicates by id included), in stream order. */
  readonly events: readonly EventEnvelope[];
  /** Orders the gateway acknowledged. */
  readonly placed: readonly string[];
  /** Final order states (missing: the actor has none). */
  readonly orders: ReadonlyMap<string, OrderFinal>;
  /** Final courier routes: the order ids each courier holds. */
  readonly couriers: ReadonlyMap<string, readonly string[]>;
  /** Order ids the market(s) still hold (waiting for a courier, or on offer to one). */
  readonly waiting: ReadonlySet<string>;
  /** `seq.part` keys of the readings rows in Postgres. */
  readonly storedReadings: ReadonlySet<string>;
  /** Order ids with a certificate in Postgres. */
  readonly certificates: ReadonlySet<string>;
  /**
   * Whether the run has quiesced (no command in flight): only then are the end-state rules
   * (one holder, known to the market) judged. Default true.
   */
  readonly quiesced?: boolean;
}

export type ViolationKind =
  | "order_lost"
  | "order_unaccounted"
  | "picked_up_by_two"
  | "pickup_mismatch"
  | "held_by_two"
  | "holder_mismatch"
  | "applied_twice"
  | "sequence_regressed"
  | "reading_not_stored"
  | "certificate_missing";

export interface Violation {
  readonly kind: ViolationKind;
  readonly subject: string;
  readonly detail: string;
}

export interface AuditFigures {
  readonly events: number;
  /** Events stored more than once under one id (a host died between publishing and recording). */
  readonly republished: number;
  readonly placed: number;
  readonly delivered: number;
  readonly cancelled: number;
  readonly inFlight: number;
  readonly readingsAccepted: number;
  readonly readingsStored: number;
  readonly coldDelivered: number;
  readonly certified: number;
}

export interface AuditReport {
  readonly figures: AuditFigures;
  readonly violations: readonly Violation[];
}

const FINISHED = new Set(["delivered", "returned", "cancelled"]);
/** Order statuses in which the order names its courier. */
const WITH_COURIER = new Set([
  "assigned",
  "at_store",
  "picked_up",
  "at_customer",
  "delivery_failed",
]);

interface PickedUp {
  readonly orderId: string;
  readonly courierId: string;
}

export function audit(input: AuditInput): AuditReport {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, subject: string, detail: string) =>
    violations.push({ kind, subject, detail });
  const quiesced = input.quiesced ?? true;

  // One pass over the history, each event once.
  const seen = new Set<string>();
  let republished = 0;
  const created = new Set<string>();
  const orderPickedUpBy = new Map<string, string>();
  const courierPickups: PickedUp[] = [];
  const commandSeq = new Map<string, number>();
  const lastSeq = new Map<string, number>();
  const recorded = new Set<string>();
  const coldDelivered = new Set<string>();
  for (const e of input.events) {
    if (seen.has(e.id)) {
      republished++;
      continue;
    }
    seen.add(e.id);
    const actor = `${e.actor.type}/${e.actor.id}`;
    const key = `${actor} ${e.commandId}`;
    const before = commandSeq.get(key);
    if (before === undefined) commandSeq.set(key, e.seq);
    else if (before !== e.seq) {
      add(
        "applied_twice",
        actor,
        `command ${e.commandId} has events at seq ${before} and ${e.seq}`,
      );
    }
    const last = lastSeq.get(actor);
    if (last !== undefined && e.seq < last) {
      add("sequence_regressed", actor, `event ${e.id} at seq ${e.seq} after seq ${last}`);
    }
    lastSeq.set(actor, Math.max(last ?? 0, e.seq));
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.actor.type === "order") {
      if (e.name === "created") created.add(e.actor.id);
      else if (e.name === "picked_up" && typeof data.courierId === "string") {
        orderPickedUpBy.set(e.actor.id, data.courierId);
      } else if (e.name === "delivered") {
        const cold = data.coldChain as { vehicleId?: string } | null | undefined;
        if (data.temperatureClass !== "ambient" && cold?.vehicleId) coldDelivered.add(e.actor.id);
      }
    } else if (e.actor.type === "courier") {
      if (e.name === "stop_completed" && data.kind === "pickup") {
        courierPickups.push({ orderId: String(data.orderId), courierId: e.actor.id });
      }
    } else if (e.actor.type === "vehicle" && e.name === "readings_recorded") {
      for (const r of (data.readings ?? []) as { seq: number; part?: number }[]) {
        recorded.add(`${r.seq}.${r.part ?? 0}`);
      }
    }
  }

  // Pick-ups: one courier per order, the one the order names.
  const pickers = new Map<string, Set<string>>();
  for (const p of courierPickups) {
    const set = pickers.get(p.orderId) ?? new Set<string>();
    set.add(p.courierId);
    pickers.set(p.orderId, set);
  }
  for (const [orderId, set] of pickers) {
    if (set.size > 1) add("picked_up_by_two", orderId, `picked up by ${[...set].join(" and ")}`);
    const named = orderPickedUpBy.get(orderId);
    if (named !== undefined && !set.has(named)) {
      add("pickup_mismatch", orderId, `the order says ${named}, couriers say ${[...set]}`);
    }
  }

  // Every acknowledged order exists and is accounted for.
  let delivered = 0;
  let cancelled = 0;
  let inFlight = 0;
  const holders = new Map<string, string[]>();
  for (const [courierId, jobs] of input.couriers) {
    for (const orderId of jobs) holders.set(orderId, [...(holders.get(orderId) ?? []), courierId]);
  }
  for (const orderId of input.placed) {
    const order = input.orders.get(orderId);
    if (!created.has(orderId) || order === undefined) {
      add("order_lost", orderId, created.has(orderId) ? "no state" : "no created event");
      continue;
    }
    if (order.status === "delivered") delivered++;
    else if (order.status === "cancelled" || order.status === "returned") cancelled++;
    else inFlight++;
    if (!quiesced) continue;
    const held = holders.get(orderId) ?? [];
    if (held.length > 1) add("held_by_two", orderId, `on the routes of ${held.join(" and ")}`);
    if (WITH_COURIER.has(order.status)) {
      if (order.courierId === null || (held.length > 0 && !held.includes(order.courierId))) {
        add(
          "holder_mismatch",
          orderId,
          `${order.status} with ${order.courierId}, on the route of ${held.join(", ") || "nobody"}`,
        );
      }
    } else if (!FINISHED.has(order.status)) {
      if (held.length > 0) {
        add("holder_mismatch", orderId, `${order.status} yet on the route of ${held.join(", ")}`);
      }
      if (!input.waiting.has(orderId) && order.status !== "created") {
        add("order_unaccounted", orderId, `${order.status}, unknown to its market`);
      }
    }
  }
  // Couriers holding an order that names someone else (or nobody).
  if (quiesced) {
    const placed = new Set(input.placed);
    for (const [orderId, held] of holders) {
      const order = input.orders.get(orderId);
      if (order === undefined || placed.has(orderId)) continue;
      if (!held.includes(order.courierId ?? "")) {
        add("holder_mismatch", orderId, `on the route of ${held.join(", ")}, not its courier's`);
      }
    }
  }

  let storedCount = 0;
  for (const key of recorded) {
    if (input.storedReadings.has(key)) storedCount++;
    else add("reading_not_stored", key, "accepted by its vehicle, not in Postgres");
  }
  let certified = 0;
  for (const orderId of coldDelivered) {
    if (input.certificates.has(orderId)) certified++;
    else add("certificate_missing", orderId, "delivered cold from a van, no certificate");
  }

  return {
    figures: {
      events: seen.size,
      republished,
      placed: input.placed.length,
      delivered,
      cancelled,
      inFlight,
      readingsAccepted: recorded.size,
      readingsStored: storedCount,
      coldDelivered: coldDelivered.size,
      certified,
    },
    violations,
  };
}

/** One line per kind, with the first few subjects: for a failing assertion's message. */
export function describeViolations(violations: readonly Violation[], perKind = 3): string {
  const byKind = new Map<string, Violation[]>();
  for (const v of violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v]);
  return [...byKind]
    .map(
      ([kind, list]) =>
        `${kind} ×${list.length}: ${list
          .slice(0, perKind)
          .map((v) => `${v.subject} (${v.detail})`)
          .join("; ")}`,
    )
    .join("\n");
}
